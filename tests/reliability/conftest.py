"""The reliability suite: every fault class of issue 10, run as a user runs it.

Commands run in real subprocesses (``python -m rl_workbench``), so exit statuses, stderr and
the files left behind are what a user would see. Every captured stderr is appended to
``$RLWB_RELIABILITY_LOG`` when that variable is set, so ``grep -c Traceback`` can audit the
whole suite's output at once (the README's promise section says how).
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Run:
    """What one ``rlwb`` subprocess left: exit status, stdout and stderr as text."""

    code: int
    out: str
    err: str

    @property
    def message_lines(self) -> list[str]:
        """The non-empty lines of stderr (progress bars and warnings excluded)."""
        return [
            line
            for line in self.err.splitlines()
            if line.strip() and "Warning" not in line and "it/s" not in line
        ]

    def assert_refused(self, *fragments: str) -> None:
        """Exit 2, no traceback, and one stderr line that holds every fragment."""
        assert self.code == 2, (self.code, self.err[-2000:])
        assert "Traceback" not in self.err, self.err[-2000:]
        lines = self.message_lines
        assert len(lines) == 1, lines
        for fragment in fragments:
            assert fragment in lines[0], (fragment, lines[0])


def run_rlwb(
    *args: str, cwd: Path | None = None, timeout: float = 300, env: dict | None = None
) -> Run:
    """Run ``rlwb ARGS`` in a fresh interpreter and return what it left."""
    full_env = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    proc = subprocess.run(
        [sys.executable, "-m", "rl_workbench", "--quiet", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=timeout,
        env=full_env,
    )
    log = os.environ.get("RLWB_RELIABILITY_LOG")
    if log:
        with open(log, "a", encoding="utf-8") as fh:
            fh.write(f"$ rlwb {' '.join(args)}\n{proc.stderr}\n")
    # The promise holds for every run of the suite, whatever its exit status: no traceback ever.
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    return Run(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture
def rlwb():
    """The :func:`run_rlwb` runner as a fixture."""
    return run_rlwb
