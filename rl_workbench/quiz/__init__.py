"""The prediction quiz: can people predict, and steer, an agent? Scoring, store, app."""
