"""The population audit's report: per-agent rows, each training condition's aggregate score with
a bootstrap interval over agents, verdict counts, and the detection plot.

The unit is the agent: a condition's score is the mean (and the interquartile mean, as rliable
recommends for few runs) of its agents' proxy-pursuit scores, with a percentile bootstrap over
agents, never over the mazes pooled across agents.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from rl_workbench.agents import library_versions
from rl_workbench.report import ReportWriter
from rl_workbench.report.audit_figures import detection_plot

BOOTSTRAP = 2000


def interquartile_mean(values: np.ndarray) -> float:
    """The mean of the middle 50% (rliable's IQM): robust to one odd run, efficient at small n."""
    v = np.sort(values)
    n = len(v)
    cut = int(np.floor(n * 0.25))
    middle = v[cut : n - cut] if n - 2 * cut > 0 else v
    return float(middle.mean())


def aggregate(scores: list[float], seed: int = 0) -> dict[str, Any]:
    """Mean and IQM of per-agent scores with percentile-bootstrap 95% intervals over agents."""
    values = np.asarray(scores, dtype=float)
    out: dict[str, Any] = {"agents": len(values)}
    if len(values) == 0:
        return out | {"mean": None, "iqm": None}
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(values), size=(BOOTSTRAP, len(values)))
    means = values[draws].mean(axis=1)
    iqms = np.array([interquartile_mean(values[d]) for d in draws])
    for name, point, dist in (
        ("mean", float(values.mean()), means),
        ("iqm", interquartile_mean(values), iqms),
    ):
        low, high = (None, None) if len(values) < 2 else np.percentile(dist, [2.5, 97.5])
        out[name] = {
            "value": round(point, 4),
            "low": None if low is None else round(float(low), 4),
            "high": None if high is None else round(float(high), 4),
        }
    return out


def _score(row: dict[str, Any]) -> tuple[float, float, float] | None:
    pursuit = row.get("proxy_pursuit") or {}
    if pursuit.get("rate") is None:
        return None
    return float(pursuit["rate"]), float(pursuit["low"]), float(pursuit["high"])


def short_condition(condition: str) -> str:
    """``rlwb/MazeCorner-v0`` -> ``MazeCorner``: labels that fit under a plot."""
    return condition.removeprefix("rlwb/").replace("-v0", "")


def summarise(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per suite, per training condition: verdict counts and the aggregate proxy-pursuit score."""
    by: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        by[row["suite"]][row["condition"]].append(row)
    result: dict[str, dict[str, Any]] = {}
    for suite, conditions in sorted(by.items()):
        result[suite] = {}
        for condition, members in sorted(conditions.items()):
            scores = [s[0] for s in map(_score, members) if s is not None]
            result[suite][condition] = {
                "verdicts": dict(Counter(m["verdict"] for m in members)),
                "proxy_pursuit": aggregate(scores),
                "no_score": len(members) - len(scores),
            }
    return result


def write_population_report(
    out: Path,
    rows: list[dict[str, Any]],
    failures: dict[str, str],
    config: dict[str, Any],
    *,
    threshold_by_suite: dict[str, float],
) -> dict[str, Any]:
    """Write OUT/report.json, report.md and one detection plot per suite; return the summary."""
    rows = sorted(rows, key=lambda r: (r["suite"], r["condition"], r["agent"]))
    summary = summarise(rows)
    report = ReportWriter(out, "Population audit")
    report.text(
        f"{config['agents']} agents x {len(config['suites'])} suite(s): {len(rows)} audits "
        f"({config['mazes_text']}), {config['engine']}; {len(failures)} failed.",
        "",
        "Each agent's proxy-pursuit score is P1's proxy-first rate on the test levels (mazes or "
        "rooms) where the ways to the goal and to the proxy part (Wilson 95% interval). A "
        "condition's aggregate is over its agents (mean and interquartile mean, percentile "
        "bootstrap over agents).",
        "",
    )
    for suite, conditions in summary.items():
        threshold = threshold_by_suite.get(suite)
        report.text(
            f"## Suite `{suite}`",
            "",
            "| training condition | agents | mean proxy pursuit [95% CI] | IQM [95% CI] | "
            "verdicts |",
            "|---|---|---|---|---|",
        )
        for condition, agg in conditions.items():
            pp = agg["proxy_pursuit"]
            verdicts = ", ".join(f"{k} {v}" for k, v in sorted(agg["verdicts"].items()))
            agents = pp["agents"] + agg["no_score"]
            counted = f"{agents}" + (
                f" ({agg['no_score']} without a score)" if agg["no_score"] else ""
            )
            report.text(
                f"| `{condition}` | {counted} | {format_interval(pp.get('mean'))} | "
                f"{format_interval(pp.get('iqm'))} | {verdicts} |"
            )
        report.text("")
        groups = []
        for condition in conditions:
            points = [
                s
                for r in rows
                if r["suite"] == suite and r["condition"] == condition
                for s in [_score(r)]
                if s is not None
            ]
            groups.append((short_condition(condition), points))
        plot = detection_plot(
            groups, f"suite {suite}: proxy pursuit by training condition", threshold
        )
        report.image(f"detection-{suite}.png", plot, f"detection plot, suite {suite}")
    report.text(
        "## Agents",
        "",
        "| agent | suite | training condition | verdict | proxy pursuit [95% CI] | n | "
        "competence | median efficiency [95% CI] | seconds | report |",
        "|---|---|---|---|---|---|---|---|---|---|",
    )
    for r in rows:
        pursuit = r.get("proxy_pursuit") or {}
        competence = (r.get("competence") or {}).get("rate")
        report.text(
            f"| {r['agent']} | {r['suite']} | `{r['condition']}` | `{r['verdict']}` | "
            f"{format_interval(pursuit)} | {pursuit.get('n', 'n/a')} | "
            f"{'n/a' if competence is None else format(competence, '.2f')} | "
            f"{format_interval(r.get('efficiency'))} | {r['seconds']:.1f} | "
            f"[report]({Path(r['report']).relative_to(out)}) |"
        )
    _finish(report, "tasks", failures, config, {"agents": rows, "conditions": summary})
    return summary


def _finish(
    report: ReportWriter,
    what: str,
    failures: dict[str, str],
    config: dict[str, Any],
    data: dict[str, Any],
) -> None:
    """List the failed tasks (a rerun tries them again), then write report.json and report.md."""
    if failures:
        report.text("", f"## Failed {what} (a rerun tries them again)", "")
        report.text(*[f"- `{key}`: {message}" for key, message in sorted(failures.items())])
    report.data.update({**data, "failures": failures})
    report.write(config, library_versions())


def format_interval(value: dict[str, Any] | None) -> str:
    """The text "0.42 [0.38, 0.46]" from any of our interval dicts (value, rate or median)."""
    if not value:
        return "n/a"
    point = next((value[k] for k in ("value", "rate", "median") if k in value), None)
    if point is None:
        return "n/a"
    if value.get("low") is None:
        return f"{point:.2f}"
    return f"{point:.2f} [{value['low']:.2f}, {value['high']:.2f}]"


def write_explain_report(
    out: Path, slices: list[dict[str, Any]], failures: dict[str, str], config: dict[str, Any]
) -> dict[str, Any]:
    """One summary over every slice's items (pooled exactly, not averaged over slices)."""
    import json
    import statistics

    items: list[dict[str, Any]] = []
    rows = []
    for s in sorted(slices, key=lambda s: s["start"]):
        folder = Path(s["out"])
        data = json.loads((folder / "report.json").read_text(encoding="utf-8"))
        items += data.get("items", [])
        summary = s["summary"]
        link = f"{folder.relative_to(out)}/report.md"
        rows.append(
            f"| {s['start']}-{s['stop'] - 1} | {summary['n']} | "
            f"{_fraction(summary.get('validity'))} | [report]({link}) |"
        )

    def median(values: list[float]) -> float | None:
        return float(statistics.median(values)) if values else None

    pooled = {
        "n": len(items),
        "validity": float(np.mean([bool(i["valid"]) for i in items])) if items else None,
        "edits": median([i["edits"] for i in items if i["valid"] and i.get("edits") is not None]),
        "seconds": median([i["seconds"] for i in items]),
        "agent_calls": median([i["agent_calls"] for i in items]),
    }
    report = ReportWriter(out, "Counterfactuals over a whole dataset")
    report.text(
        f"{pooled['n']} states of {config['data']} in {len(slices)} slices, "
        f"{config['engine']}; {len(failures)} slice(s) failed.",
        "",
        f"Validity {_fraction(pooled['validity'])}, median edits {pooled['edits']}, median "
        f"seconds {pooled['seconds']}, median agent calls {pooled['agent_calls']} (pooled over "
        "every item of every slice).",
        "",
        "| states | n | validity | report |",
        "|---|---|---|---|",
        *rows,
    )
    _finish(report, "slices", failures, config, {"summary": pooled, "slices": slices})
    return pooled


def write_training_report(
    out: Path, runs: list[dict[str, Any]], failures: dict[str, str], config: dict[str, Any]
) -> dict[str, Any]:
    """Per-seed success rates of one recipe and their aggregate over seeds."""
    runs = sorted(runs, key=lambda r: r["seed"])
    summary = {
        "sampled_success": aggregate([r["sampled_success"] for r in runs]),
        "greedy_success": aggregate([r["greedy_success"] for r in runs]),
    }
    report = ReportWriter(out, f"Population: {config['env_id']}, {len(runs)} seeds")
    report.text(
        f"{len(runs)} agents of one recipe ({config['env_id']} {config['env_kwargs']}, "
        f"{config['total_steps']:,} steps each), {config['engine']}; {len(failures)} failed.",
        "",
        "Sampled success over seeds: mean "
        f"{format_interval(summary['sampled_success'].get('mean'))}, "
        f"IQM {format_interval(summary['sampled_success'].get('iqm'))}; greedy: mean "
        f"{format_interval(summary['greedy_success'].get('mean'))}.",
        "",
        "| seed | agent | sampled success | greedy success | training seconds |",
        "|---|---|---|---|---|",
        *[
            f"| {r['seed']} | {Path(r['agent']).parent.name} | {r['sampled_success']:.1%} | "
            f"{r['greedy_success']:.1%} | {r['training_seconds'] or 0:.0f} |"
            for r in runs
        ],
    )
    _finish(report, "seeds", failures, config, {"summary": summary, "runs": runs})
    return summary


def _fraction(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"
