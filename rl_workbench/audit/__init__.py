"""Goal-misgeneralization audits of maze agents: suites, protocols P1/P2/P3/P7, the verdict."""

from .run import run_audit
from .suite import Proxy, Suite, SuiteError, Thresholds, load_suite, parse_suite

__all__ = ["Proxy", "Suite", "SuiteError", "Thresholds", "load_suite", "parse_suite", "run_audit"]
