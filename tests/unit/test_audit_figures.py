"""The population audit's detection plot stays legible with long condition names."""

from __future__ import annotations

import numpy as np

from rl_workbench.report.audit_figures import _label_lines, detection_plot


def test_long_condition_labels_break_before_their_arguments_and_fit_their_slot() -> None:
    assert _label_lines("MiniGrid-GoalBallAway[size=8]", 26) == [
        "MiniGrid-GoalBallAway",
        "[size=8]",
    ]
    assert _label_lines("rlwb/Maze-v0", 26) == ["rlwb/Maze-v0"]  # short: one line, untouched
    lines = _label_lines("a-very-long-condition-name-without-arguments", 10)
    assert lines == ["a-very-lon", "g-conditio"] and all(len(x) <= 10 for x in lines)


def test_the_threshold_is_named_in_the_title_not_over_the_dots() -> None:
    groups = [("A", [(0.25, 0.2, 0.3)] * 3), ("B", [(0.0, 0.0, 0.05)] * 3)]
    with_rule = np.asarray(detection_plot(groups, "t", threshold=0.25))
    without = np.asarray(detection_plot(groups, "t"))
    title_band = slice(0, 20)
    # where the old label sat: just above the threshold line (y 169), at the right, over group B
    plot_right = (slice(150, 172), slice(450, 556))
    assert (with_rule[title_band] != without[title_band]).any()  # the title names it
    band = with_rule[plot_right]
    assert (band.max(axis=-1) == 150).any()  # the grey line is drawn there
    assert not (band.max(axis=-1) < 140).any()  # and no text (darker) sits on it


def test_long_arguments_break_after_commas_and_the_plot_grows_to_show_every_line() -> None:
    label = "Maze[max_size=15,sign=independent]"  # the 15x15 sign controls' condition
    lines = _label_lines(label, 28)
    assert lines == ["Maze", "[max_size=15,", "sign=independent]"]
    assert "".join(lines) == label  # nothing cut
    short = detection_plot([("Maze[max_size=15]", [(0.0, 0.0, 0.01)])], "t")
    long = detection_plot([(label, [(0.0, 0.0, 0.01)])] * 3, "t")
    assert short.height == 272  # two label lines: the plot's old size
    assert long.height == short.height + 12  # one more line of label
    pixels = np.asarray(long)
    # the third label line and the n= line below it are drawn (dark pixels) inside the image
    assert (pixels[top_of(3) : top_of(3) + 10, :180].max(axis=-1) < 100).any()
    assert (pixels[top_of(4) - 2 : top_of(4) + 10, :180].min(axis=-1) < 200).any()


def top_of(line: int) -> int:
    """Top y of label line ``line`` (1-based; n= is the line after the last label line)."""
    return 28 + 188 + 8 + 12 * (line - 1) + (2 if line == 4 else 0)
