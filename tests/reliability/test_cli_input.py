"""Bad command lines: one line on stderr naming the problem and where help is, exit status 2."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["--threads", "0", "envs"], ["--threads", "0 is not in the range", "rlwb --help"]),
        (["--threads", "-3", "envs"], ["--threads", "-3 is not in the range"]),
        (["explain", "--nope"], ["No such option '--nope'", "rlwb explain --help"]),
        (["explain", "--agent", "zoo:maze-corner"], ["Missing option '--out'"]),
        (["nonsense"], ["No such command 'nonsense'"]),
    ],
)
def test_usage_errors_are_one_line(rlwb, args: list[str], fragments: list[str]) -> None:
    rlwb(*args).assert_refused("Usage error", *fragments)


def test_a_bare_group_shows_its_help(rlwb) -> None:
    run = rlwb("zoo")
    assert run.code == 0 and "Commands:" in run.out and "build" in run.out
