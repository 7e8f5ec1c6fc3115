"""Does the audit detect? Audit the population of ``audit_population.py`` and score it.

Usage: python benchmarks/audit_detection.py [--population runs/population] [--mazes 1000]
                                            [--out runs/population-audit] [--workers 2] [--ray]
                                            [--plan maze|minigrid]

``--plan minigrid`` scores the goal-room population of ``minigrid_population.py`` instead (its
suites ``minigrid-corner`` and ``minigrid-ball``, no dose levels; defaults
``runs/minigrid-population`` and ``runs/minigrid-population-audit``, 500 rooms per audit).

Runs ``rlwb audit --population`` once per suite on the groups ``audit_population.py`` fixed
before the run (``SUITE_GROUPS``), then prints Markdown for BENCHMARKS.md:

- per suite: verdict accuracy on the groups with an expected verdict, the share ``inconclusive``,
  and the AUROC of the proxy-pursuit score (P1's proxy-first rate) between the agents trained on
  the proxy and their controls, with a 95% bootstrap interval over agents (both groups
  resampled);
- the corner suite's dose-response: Spearman's rank correlation between the training region's
  side (1, 2, 3, 5, anywhere = 7) and each agent's proxy-pursuit score (expected negative), with a
  bootstrap interval over agents;
- every agent's row.

What the agents learned is reported as measured: a mismatch is a row in the table, not something
to tune away. Thresholds are the suites' committed YAML files.
"""

from __future__ import annotations

import argparse
import importlib
import json
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from rl_workbench.population.report import format_interval

sys.path.insert(0, str(Path(__file__).parent))
PLANS = {"maze": "audit_population", "minigrid": "minigrid_population"}
"""Each plan's module fixes SUITE_GROUPS, EXPECTED, POSITIVE (and DOSE) before its run."""

BOOT = 4000


def auroc(pos: np.ndarray, neg: np.ndarray) -> float:
    """Probability a random positive scores above a random negative (ties count half)."""
    wins = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return float(wins / (len(pos) * len(neg)))


def auroc_interval(pos: np.ndarray, neg: np.ndarray, seed: int = 0) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    draws = [auroc(rng.choice(pos, len(pos)), rng.choice(neg, len(neg))) for _ in range(BOOT)]
    low, high = np.percentile(draws, [2.5, 97.5])
    return float(low), float(high)


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    def ranks(v: np.ndarray) -> np.ndarray:
        order = v.argsort(kind="stable")
        r = np.empty(len(v))
        r[order] = np.arange(len(v))
        for value in np.unique(v):  # ties share their mean rank
            r[v == value] = r[v == value].mean()
        return r

    rx, ry = ranks(x), ranks(y)
    if rx.std() == 0 or ry.std() == 0:
        return float("nan")
    return float(np.corrcoef(rx, ry)[0, 1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--plan", choices=PLANS, default="maze")
    parser.add_argument("--population", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--mazes", type=int, default=None)
    parser.add_argument("--workers", default="2")
    parser.add_argument("--ray", action="store_true")
    parser.add_argument("--suites", nargs="+", default=None, help="only these of the plan's suites")
    args = parser.parse_args()
    plan = importlib.import_module(PLANS[args.plan])
    SUITE_GROUPS, EXPECTED, POSITIVE = plan.SUITE_GROUPS, plan.EXPECTED, plan.POSITIVE
    if args.suites:
        SUITE_GROUPS = {k: v for k, v in SUITE_GROUPS.items() if k in args.suites}
    DOSE = getattr(plan, "DOSE", {})
    stem = "population" if args.plan == "maze" else "minigrid-population"
    args.population = args.population or Path(f"runs/{stem}")
    args.out = args.out or Path(f"runs/{stem}-audit")
    args.mazes = args.mazes or (1000 if args.plan == "maze" else 500)
    print(
        f"Population {args.population}, {args.mazes} "
        f"{'mazes' if args.plan == 'maze' else 'rooms'} per audit, {platform.machine()}, "
        f"{args.workers} workers{' on Ray' if args.ray else ''}, {time.strftime('%Y-%m-%d')}"
    )
    print()
    rows_by_suite = {}
    for suite, groups in SUITE_GROUPS.items():
        listing = args.out / f"{suite}-agents.txt"
        listing.parent.mkdir(parents=True, exist_ok=True)
        folders = [
            p for g in groups for p in sorted((args.population / g).glob("seed-*"))
            if (p / "agent.zip").is_file()
        ]  # fmt: skip
        listing.write_text("".join(f"{p.resolve()}\n" for p in folders))
        out = args.out / suite
        command = [
            sys.executable, "-m", "rl_workbench", "--quiet", "audit", "--population",
            str(listing), "--suite", suite, "--mazes", str(args.mazes), "--out", str(out),
            "--workers", args.workers, *(["--ray"] if args.ray else []),
        ]  # fmt: skip
        started = time.perf_counter()
        subprocess.run(command, check=False, stdout=subprocess.DEVNULL)
        seconds = time.perf_counter() - started
        data = json.loads((out / "report.json").read_text())
        group_of = {str(p.resolve()): p.parent.name for p in folders}
        rows = []
        for r in data["agents"]:
            r["group"] = group_of[r["agent_ref"]]
            rows.append(r)
        rows_by_suite[suite] = rows
        print(f"Suite {suite}: {len(rows)} audits in {seconds:.0f} s; report {out}/report.md")
    print()
    print(
        "| suite | positives / controls | verdict accuracy (expected groups) | inconclusive | "
        "AUROC of proxy pursuit [95% CI] | positives' scores | controls' scores |"
    )
    print("|---|---|---|---|---|---|---|")
    for suite, rows in rows_by_suite.items():
        expected = [
            (r, EXPECTED[(suite, r["group"])]) for r in rows if (suite, r["group"]) in EXPECTED
        ]
        accuracy = np.mean([r["verdict"] == want for r, want in expected])
        inconclusive = np.mean([r["verdict"] == "inconclusive" for r, _ in expected])
        score = {id(r): (r["proxy_pursuit"] or {}).get("rate") or 0.0 for r in rows}
        pos = np.array([score[id(r)] for r, _ in expected if r["group"] == POSITIVE[suite]])
        neg = np.array([score[id(r)] for r, w in expected if w == "pursues-goal"])
        low, high = auroc_interval(pos, neg)
        print(
            f"| {suite} | {len(pos)} / {len(neg)} | {accuracy:.0%} ({len(expected)}) | "
            f"{inconclusive:.0%} | {auroc(pos, neg):.2f} [{low:.2f}, {high:.2f}] | "
            f"{_spread(pos)} | {_spread(neg)} |"
        )
    corner = rows_by_suite.get("corner", [])
    if corner:
        x = np.array([DOSE[r["group"]] for r in corner], dtype=float)
        y = np.array([(r["proxy_pursuit"] or {}).get("rate") or 0.0 for r in corner])
        rng = np.random.default_rng(0)
        boots = []
        for _ in range(BOOT):
            i = rng.integers(0, len(x), len(x))
            boots.append(spearman(x[i], y[i]))
        low, high = np.nanpercentile(boots, [2.5, 97.5])
        print()
        print(
            f"Dose-response (corner suite): Spearman rho between training region side and proxy "
            f"pursuit = {spearman(x, y):.2f} [{low:.2f}, {high:.2f}] over {len(x)} agents."
        )
        print()
        print("| training region | agents | mean proxy pursuit | min | max | verdicts |")
        print("|---|---|---|---|---|---|")
        for group, side in sorted(DOSE.items(), key=lambda kv: kv[1]):
            g = [r for r in corner if r["group"] == group]
            if not g:
                continue
            s = np.array([(r["proxy_pursuit"] or {}).get("rate") or 0.0 for r in g])
            verdicts: dict[str, int] = {}
            for r in g:
                verdicts[r["verdict"]] = verdicts.get(r["verdict"], 0) + 1
            label = "anywhere" if group == "uniform" else f"{side}x{side}"
            print(
                f"| {label} ({group}) | {len(g)} | {s.mean():.2f} | {s.min():.2f} | "
                f"{s.max():.2f} | {verdicts} |"
            )
    print()
    print(
        "| agent | group | suite | expected | verdict | proxy pursuit [95% CI] | n | competence "
        "| median efficiency [95% CI] |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for suite, rows in rows_by_suite.items():
        for r in sorted(rows, key=lambda r: (r["group"], r["agent"])):
            p = r["proxy_pursuit"] or {}
            rate = format_interval(p)
            competence = (r.get("competence") or {}).get("rate")
            print(
                f"| {r['group']}/{Path(r['agent_ref']).name} | {r['group']} | {suite} | "
                f"{EXPECTED.get((suite, r['group']), '-')} | {r['verdict']} | {rate} | "
                f"{p.get('n', 'n/a')} | {'n/a' if competence is None else f'{competence:.2f}'} | "
                f"{format_interval(r.get('efficiency'))} |"
            )


def _spread(values: np.ndarray) -> str:
    if len(values) == 0:
        return "n/a"
    return f"mean {values.mean():.2f} (min {values.min():.2f}, max {values.max():.2f})"


if __name__ == "__main__":
    main()
