"""The quiz's screens: one per kind of item, plus welcome, results, help and loading."""

from .consent import ConsentScreen
from .help import HelpScreen
from .items import (
    AttentionScreen,
    ConstructScreen,
    GridConstructScreen,
    PredictScreen,
    SpotQuestionScreen,
    StudyScreen,
)
from .results import ResultsScreen
from .welcome import LoadingScreen, WelcomeScreen

__all__ = [
    "AttentionScreen",
    "ConsentScreen",
    "ConstructScreen",
    "GridConstructScreen",
    "HelpScreen",
    "LoadingScreen",
    "PredictScreen",
    "ResultsScreen",
    "SpotQuestionScreen",
    "StudyScreen",
    "WelcomeScreen",
]
