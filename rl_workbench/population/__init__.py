"""Populations: many agents audited, trained or explained as independent tasks, on a local
process pool or on Ray, resumable task by task (see :mod:`.engine`)."""

from .engine import Backend, Outcome, Task, run_tasks
from .members import Member, parse_seeds, read_population

__all__ = ["Backend", "Member", "Outcome", "Task", "parse_seeds", "read_population", "run_tasks"]
