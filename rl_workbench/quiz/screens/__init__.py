"""The quiz's screens: one per kind of item, plus welcome, results, help and loading."""

from .help import HelpScreen
from .items import (
    ConstructScreen,
    PredictScreen,
    SpotQuestionScreen,
    StudyScreen,
)
from .results import ResultsScreen
from .welcome import LoadingScreen, WelcomeScreen

__all__ = [
    "ConstructScreen",
    "HelpScreen",
    "LoadingScreen",
    "PredictScreen",
    "ResultsScreen",
    "SpotQuestionScreen",
    "StudyScreen",
    "WelcomeScreen",
]
