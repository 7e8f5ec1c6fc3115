"""``rlwb quiz stats``: what a lab reports from the answer store, with the person as the unit.

Why person-level: a person's answers are not independent draws (one person answering 8 items is
one observation of how well that person predicts the agent), so resampling answers gave one
person per arm a confident interval (issue 14: -0.168 [-0.188, -0.147]). Every figure here is a
mean over participants of each participant's mean, its 95% interval a Student t interval on those
person means (Welch's for explain - control: a lab has few people per arm, where t intervals hold
their level and percentile bootstraps do not; see ``MIN_PEOPLE_FOR_INTERVAL``), and explain -
control has a permutation test that shuffles participants between arms. With fewer than three
participants in an arm no interval is given, and with fewer than two no test: "n/a", never a
false precision. The CSV has one flat column per field.
"""

from __future__ import annotations

import csv
import math
import os
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rl_workbench.errors import InvalidArgumentError

from .store import AnswerStore

Estimate = tuple[float | None, float | None, float | None]
"""(estimate, low, high); None where there is nothing (or too little) to estimate from."""

MIN_PEOPLE_FOR_INTERVAL = 3
"""Participants an arm needs before an interval is reported. Intervals are Student t intervals on
person means (Welch's for explain - control): simulated, 600 two-arm studies each with person
means of 8 noisy items, they cover a planted difference 95.7% of the time at 3 per arm, 96.7% at
5 and 94.3% at 8, where the percentile cluster bootstrap of the first version covered 83%, 88%
and 90% (it ignores that a spread estimated from few people is itself uncertain). With 2 people
an interval exists but is too wide to say anything; none is given."""
MIN_PEOPLE_FOR_TEST = 2
"""Participants an arm needs before the permutation test is run (it is exact at any size: with
2 per arm its smallest p is 1/3, so it never claims an effect it cannot see)."""


def person_means(
    rows: Sequence[dict[str, Any]], value: Callable[[dict[str, Any]], float | None]
) -> dict[str, float]:
    """Each participant's mean of ``value`` over their rows (rows where it is None are skipped;
    a participant with none is absent)."""
    by_person: dict[str, list[float]] = defaultdict(list)
    for r in rows:
        v = value(r)
        if v is not None:
            by_person[r["user"]].append(float(v))
    return {user: float(np.mean(vs)) for user, vs in by_person.items()}


def _incomplete_beta(a: float, b: float, x: float) -> float:
    """The regularised incomplete beta I_x(a, b), by its continued fraction (Lentz's method)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    if x > (a + 1) / (a + b + 2):  # the fraction converges fast on this side only
        return 1.0 - _incomplete_beta(b, a, 1.0 - x)
    front = math.exp(
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    tiny = 1e-300
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    f = d
    for m in range(1, 300):
        for numerator in (
            m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1)),
        ):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + numerator / c
            c = c if abs(c) > tiny else tiny
            f *= c * d
        if abs(c * d - 1.0) < 1e-14:
            break
    return front * f / a


def student_t_quantile(p: float, df: float) -> float:
    """The p-quantile of Student's t with ``df`` (real, > 0) degrees of freedom, by bisection on
    its distribution function (numpy has none, and one function does not justify scipy)."""

    def cdf(t: float) -> float:
        tail = 0.5 * _incomplete_beta(df / 2, 0.5, df / (df + t * t))
        return 1.0 - tail if t >= 0 else tail

    low, high = -1e6, 1e6
    for _ in range(200):
        mid = (low + high) / 2
        if cdf(mid) < p:
            low = mid
        else:
            high = mid
        if high - low < 1e-10:
            break
    return (low + high) / 2


def person_mean_interval(means: Sequence[float], *, level: float = 0.95) -> Estimate:
    """The mean over participants and its Student t interval (participants are the unit)."""
    x = np.asarray(means, dtype=float)
    if x.size == 0:
        return None, None, None
    if x.size < MIN_PEOPLE_FOR_INTERVAL:
        return float(x.mean()), None, None
    if x.std() == 0:  # everyone alike: no spread to build an interval on, not a certainty
        return float(x.mean()), None, None
    half = student_t_quantile(0.5 + level / 2, x.size - 1) * x.std(ddof=1) / math.sqrt(x.size)
    return float(x.mean()), float(x.mean() - half), float(x.mean() + half)


def person_difference_interval(
    a: Sequence[float], b: Sequence[float], *, level: float = 0.95
) -> Estimate:
    """mean(a) - mean(b) over participants with Welch's interval (unequal spreads and sizes)."""
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if x.size == 0 or y.size == 0:
        return None, None, None
    diff = float(x.mean() - y.mean())
    if min(x.size, y.size) < MIN_PEOPLE_FOR_INTERVAL:
        return diff, None, None
    va, vb = x.var(ddof=1) / x.size, y.var(ddof=1) / y.size
    if va + vb == 0:  # everyone alike in both arms: no spread to build an interval on
        return diff, None, None
    df = (va + vb) ** 2 / (va**2 / (x.size - 1) + vb**2 / (y.size - 1))
    half = student_t_quantile(0.5 + level / 2, df) * math.sqrt(va + vb)
    return diff, diff - half, diff + half


def permutation_p_value(
    a: Sequence[float], b: Sequence[float], *, reps: int = 10_000, seed: int = 0
) -> float | None:
    """Two-sided p-value of mean(a) - mean(b) under shuffling participants between the arms
    ((1 + extreme) / (1 + reps), never 0); None with fewer than two participants in an arm."""
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if min(x.size, y.size) < MIN_PEOPLE_FOR_TEST:
        return None
    pooled = np.concatenate([x, y])
    observed = abs(x.mean() - y.mean())
    rng = np.random.default_rng(seed)
    keys = rng.random((reps, pooled.size))
    order = np.argsort(keys, axis=1)
    shuffled = pooled[order]
    diffs = np.abs(shuffled[:, : x.size].mean(axis=1) - shuffled[:, x.size :].mean(axis=1))
    extreme = int((diffs >= observed - 1e-12).sum())
    return (1 + extreme) / (1 + reps)


def _predict_correct(r: dict[str, Any]) -> float | None:
    """Whether the chosen action is the agent's top one; None where no choice is on record (a
    version-1 answer whose q named no single action)."""
    chosen = r.get("chosen_action")
    if chosen is None or r["agent_probs"] is None:
        return None
    return float(int(chosen) == int(np.argmax(r["agent_probs"])))


def summarise(store: AnswerStore, *, exclude_inattentive: bool = False) -> dict[str, Any]:
    """Person-level figures per condition and per participant, and explain - control.

    ``exclude_inattentive`` drops every answer of a participant who failed any attention check
    (the deck's ``attention`` phases); either way the failures are counted in ``attention``.
    """
    rows = store.rows()
    checks = [r for r in rows if r["kind"] == "attention"]
    failed = sorted({r["user"] for r in checks if not r["score"]["passed"]})
    if exclude_inattentive:
        rows = [r for r in rows if r["user"] not in failed]
    predict = [r for r in rows if r["kind"] == "predict"]
    construct = [r for r in rows if r["kind"] == "construct"]
    spot = [r for r in rows if r["kind"] == "spot-question"]
    study = [r for r in rows if r["kind"] == "study"]
    conditions = sorted({r["condition"] for r in rows})

    def distance(r: dict[str, Any]) -> float:
        return float(r["score"]["squared_distance"])

    def people_mean(
        subset: list[dict[str, Any]], key: Callable[[dict[str, Any]], float | None]
    ) -> Estimate:
        return person_mean_interval(list(person_means(subset, key).values()))

    def distances_of(condition: str) -> list[float]:
        """Each participant's mean distance in one arm: the unit explain - control compares."""
        return list(
            person_means([r for r in predict if r["condition"] == condition], distance).values()
        )

    def arm(condition: str) -> dict[str, Any]:
        mine = [r for r in rows if r["condition"] == condition]
        p = [r for r in predict if r["condition"] == condition]
        views = [r for r in study if r["condition"] == condition]
        shown = [r for r in views if r.get("explanation_shown")]
        return {
            "people": len({r["user"] for r in mine}),
            "answers": len(p),
            "squared_distance": people_mean(p, distance),
            "accuracy": people_mean(p, _predict_correct),
            "study_items": len(views),
            "explanations_shown": len(shown),
            "explanations_unknown": sum(r.get("explanation_shown") is None for r in views),
        }

    by_condition = {c: arm(c) for c in conditions}
    by_person = {}
    for user in sorted({r["user"] for r in predict}):
        mine = [r for r in predict if r["user"] == user]
        accuracy = [v for v in map(_predict_correct, mine) if v is not None]
        by_person[user] = {
            "conditions": sorted({r["condition"] for r in mine}),
            "answers": len(mine),
            "squared_distance": float(np.mean([distance(r) for r in mine])),
            "accuracy": float(np.mean(accuracy)) if accuracy else None,
        }
    explain, control = distances_of("explain"), distances_of("control")
    arms_of: dict[str, set[str]] = defaultdict(set)
    for r in rows:
        arms_of[r["user"]].add(r["condition"])
    in_both = sorted(u for u, arms in arms_of.items() if len(arms) > 1)
    return {
        "answers": len(rows),
        "sessions": len({r["session"] for r in rows}),
        "people": len({r["user"] for r in rows}),
        "in_both_arms": in_both,
        "by_condition": by_condition,
        "by_person": by_person,
        "explain_minus_control": person_difference_interval(explain, control),
        "explain_minus_control_p": permutation_p_value(explain, control),
        "construct_success": people_mean(construct, lambda r: float(r["score"]["success"])),
        "spot_correct": people_mean(
            spot, lambda r: float(r["score"]["agent_correct"] and r["score"]["object_correct"])
        ),
        "spot_agent_correct": people_mean(spot, lambda r: float(r["score"]["agent_correct"])),
        "spot_object_correct": people_mean(spot, lambda r: float(r["score"]["object_correct"])),
        "attention": {
            "checked": len({r["user"] for r in checks}),
            "failed": failed,
            "excluded": exclude_inattentive,
        },
    }


def _ci(triple: Estimate, pct: bool = False) -> str:
    mean, low, high = triple
    if mean is None:
        return "n/a"
    fmt = (lambda v: f"{v:.0%}") if pct else (lambda v: f"{v:.3f}")
    if low is None or high is None:
        return f"{fmt(mean)} [n/a: < {MIN_PEOPLE_FOR_INTERVAL} people, or no spread]"
    if pct:  # a rate's interval stays within what a rate can be
        low, high = max(0.0, low), min(1.0, high)
    return f"{fmt(mean)} [{fmt(low)}, {fmt(high)}]"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def format_summary(s: dict[str, Any]) -> str:
    arms = s["by_condition"]
    lines = [
        "participants per arm: "
        + (", ".join(f"{name} {b['people']}" for name, b in arms.items()) or "none"),
        f"{_count(s['people'], 'participant')}, {_count(s['sessions'], 'session')}, "
        f"{_count(s['answers'], 'answer')}",
        "every figure is a mean over participants, with a 95% t interval over participants "
        "(Welch's for explain - control)",
    ]
    attention = s["attention"]
    if attention["checked"]:
        failed = attention["failed"]
        what = (
            "excluded from every figure"
            if attention["excluded"]
            else ("kept (--exclude-inattentive drops them)")
        )
        lines.append(
            f"attention checks: {len(failed)} of {attention['checked']} participants failed one"
            + (f", {what}: " + ", ".join(failed) if failed else "")
        )
    if s["in_both_arms"]:
        lines.append(
            f"note: {len(s['in_both_arms'])} participant(s) answered in both arms (sessions "
            "recorded before conditions were kept per participant): " + ", ".join(s["in_both_arms"])
        )
    lines += [
        "",
        f"{'condition':<11}{'people':>7}{'answers':>8}  {'‖q - π‖²':<30}{'accuracy':<24}"
        "explanations shown",
    ]
    for name, b in arms.items():
        shown = f"{b['explanations_shown']} of {b['study_items']} study items"
        if b["explanations_unknown"]:
            shown += f" ({b['explanations_unknown']} not recorded)"
        lines.append(
            f"{name:<11}{b['people']:>7}{b['answers']:>8}  {_ci(b['squared_distance']):<30}"
            f"{_ci(b['accuracy'], True):<24}{shown}"
        )
    lines += ["", f"{'person':<16}{'arm':<10}{'answers':>8}  {'‖q - π‖²':<10}accuracy"]
    for name, b in s["by_person"].items():
        accuracy = "n/a" if b["accuracy"] is None else f"{b['accuracy']:.0%}"
        lines.append(
            f"{name:<16}{'+'.join(b['conditions']):<10}{b['answers']:>8}  "
            f"{b['squared_distance']:<10.3f}{accuracy}"
        )
    p = s["explain_minus_control_p"]
    lines += [
        "",
        f"explain - control, ‖q - π‖²: {_ci(s['explain_minus_control'])}, permutation p = "
        + ("n/a" if p is None else f"{p:.3f}")
        + " (negative: explanations helped)",
        f"construct success: {_ci(s['construct_success'], True)}",
        f"spot the flawed agent: named {_ci(s['spot_agent_correct'], True)}, what it ignores "
        f"{_ci(s['spot_object_correct'], True)}, both {_ci(s['spot_correct'], True)}",
    ]
    return "\n".join(lines)


def check_csv_path(path: str | Path, *, force: bool = False) -> None:
    """Refuse, before any work, a CSV target that would overwrite a file (unless ``force``) or
    cannot be a file at all: an export must never destroy data it was not asked to.

    Raises:
        InvalidArgumentError: ``path`` exists (without ``force``), is a folder, or its folder
            does not exist.
    """
    path = Path(path)
    if path.is_dir():
        raise InvalidArgumentError(
            f"--csv {path} is a folder. Pass a file path, e.g. {path / 'answers.csv'}."
        )
    if path.exists() and not force:
        raise InvalidArgumentError(
            f"--csv {path} already exists. Pass --force to overwrite it, or another --csv PATH."
        )
    if not path.parent.is_dir():
        raise InvalidArgumentError(
            f"--csv {path}: the folder {path.parent} does not exist. Create it or pass another "
            "--csv PATH."
        )


BASE_COLUMNS = (
    "session", "user", "deck", "condition", "item_index", "phase", "kind", "seconds",
    "chosen_action", "stated_confidence", "state_digest", "explanation_shown",
)  # fmt: skip
"""The CSV's leading columns; the item, answer, score and agent distribution follow, flattened."""


def flatten(prefix: str, value: Any, out: dict[str, Any]) -> None:
    """One column per field: ``prefix.key`` for mappings, ``prefix.0``... for lists of numbers,
    a grid (a level's walls) as rows of digits joined by ``/``, None as an empty cell."""
    if isinstance(value, dict):
        for key, v in value.items():
            flatten(f"{prefix}.{key}", v, out)
    elif isinstance(value, list) and value and all(isinstance(v, list) for v in value):
        out[prefix] = "/".join("".join(str(int(c)) for c in row) for row in value)
    elif isinstance(value, list):
        for k, v in enumerate(value):
            flatten(f"{prefix}.{k}", v, out)
    else:
        out[prefix] = "" if value is None else value


def flat_rows(rows: Sequence[dict[str, Any]]) -> tuple[list[str], list[dict[str, Any]]]:
    """The CSV's columns (base first, then in order of first appearance) and its rows."""
    flat = []
    columns: dict[str, None] = dict.fromkeys(BASE_COLUMNS)
    for r in rows:
        row = {k: ("" if r.get(k) is None else r.get(k)) for k in BASE_COLUMNS}
        extra: dict[str, Any] = {}
        for part, name in (("item", "item"), ("answer", "answer"), ("score", "score"),
                           ("agent_probs", "pi")):  # fmt: skip
            flatten(name, r[part], extra)
        columns.update(dict.fromkeys(extra))
        flat.append({**row, **extra})
    return list(columns), flat


def export_csv(store: AnswerStore, path: str | Path) -> int:
    """Every answer, one row each, one column per field; returns the row count.

    The file is written beside its target and moved into place, so a failed export never leaves
    half a file where a complete one was.

    Raises:
        InvalidArgumentError: the file cannot be written.
    """
    path = Path(path)
    columns, rows = flat_rows(store.rows())
    partial = path.with_name(path.name + ".partial")
    try:
        with open(partial, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=columns, restval="")
            writer.writeheader()
            writer.writerows(rows)
        os.replace(partial, path)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise InvalidArgumentError(
            f"Cannot write --csv {path} ({exc.strerror or exc}). Pass a writable --csv PATH."
        ) from None
    return len(rows)
