"""Counterfactual states: methods behind one interface, targets, results, the explain run."""

from .base import Method
from .explain import ExplainConfig, run_explain, sample_states, summarise
from .methods import METHOD_NAMES, make_method
from .result import Result, count_edits
from .targets import Target, parse_target

__all__ = [
    "METHOD_NAMES",
    "ExplainConfig",
    "Method",
    "Result",
    "Target",
    "count_edits",
    "make_method",
    "parse_target",
    "run_explain",
    "sample_states",
    "summarise",
]
