"""The prediction quiz: can people predict (and steer) an agent? Scoring, the answer store, the app."""
