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


def test_imitation_where_no_solver_exists_is_refused_before_any_work(rlwb, tmp_path) -> None:
    out = tmp_path / "pong"
    rlwb(
        "train", "--env", "ALE/Pong-v5", "--imitation-samples", "10", "--out", str(out)
    ).assert_refused("ALE/Pong-v5 has no solver to imitate", "imitation_samples must be 0")


def test_a_reach_target_names_the_landmarks(rlwb, tmp_path) -> None:
    rlwb(
        "explain",
        "--agent",
        "zoo:maze-corner",
        "--method",
        "search",
        "--target",
        "reach:chese",
        "--out",
        str(tmp_path / "cf"),
    ).assert_refused("Unknown landmark 'chese'", "reach:cheese, reach:corner, reach:sign")
