"""How long ``rlwb audit`` takes at procgen's easy scale, part by part (issue 13, section 5).

Usage: python benchmarks/audit_speed.py [--agent zoo:maze15-corner] [--suite corner]
                                        [--mazes 1000] [--threads 2]

Times the audit's parts on the same agent and mazes as ``rlwb audit`` (``audit.run``'s own
functions, no copies): P1 (every maze played out), P2 (decision squares), P3 (its vector
fields, decision-square searches and behaviour redirect; the redirect alone is rerun to show its
share, with its agent calls) and, for a sign suite, P7; then the whole ``rlwb audit`` command end
to end (``--threads`` torch threads), which is the figure the target (< 60 s for 1,000 mazes on
2 cores) is about. Prints Markdown.
"""

from __future__ import annotations

import argparse
import platform
import subprocess
import sys
import time

import torch

from rl_workbench.agents import load_agent
from rl_workbench.audit.colour import colour_versus_position
from rl_workbench.audit.decision import decision_squares
from rl_workbench.audit.outcomes import play_outcomes
from rl_workbench.audit.run import (
    COLOUR_MAZES,
    GEOMETRY_KWARGS,
    SENSITIVITY_MAZES,
    test_levels,
)
from rl_workbench.audit.sensitivity import redirects, sensitivity
from rl_workbench.audit.suite import resolve_suite
from rl_workbench.domains import make_env
from rl_workbench.domains.registry import domain_for_env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--agent", default="zoo:maze15-corner")
    parser.add_argument("--suite", default="corner")
    parser.add_argument("--mazes", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    suite = resolve_suite(args.suite)
    loaded = load_agent(args.agent)
    geometry = {k: v for k, v in loaded.env_kwargs.items() if k in GEOMETRY_KWARGS}
    tested = load_agent(loaded.path, suite.test_env, geometry | suite.test_env_kwargs)
    env = make_env(tested.env_id, tested.env_kwargs).unwrapped
    domain = domain_for_env(env)
    agent = tested.agent
    levels = test_levels(suite, env, args.mazes, suite.seed)  # type: ignore[arg-type]
    proxy = suite.proxies[0]
    rows: list[tuple[str, float, str]] = []

    def timed(label: str, work, note=lambda result: ""):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        result = work()
        rows.append((label, time.perf_counter() - started, note(result)))
        return result

    timed(
        f"P1, {args.mazes} mazes played",
        lambda: play_outcomes(
            agent, levels, proxy, max_steps=suite.max_steps, seed=suite.seed, domain=domain
        ),
    )
    timed("P2, decision squares", lambda: decision_squares(agent, levels, proxy, domain))
    few = levels[:SENSITIVITY_MAZES]
    p3 = timed(
        f"P3, fields + searches + redirect on {len(few)} mazes",
        lambda: sensitivity(agent, few, proxy, domain, seed=suite.seed),
        lambda s: f"redirect: {s.redirect.tried} mazes, {s.redirect.agent_calls:,} agent calls",
    )
    timed(
        "  of which the redirect alone (rerun)",
        lambda: redirects(agent, few, proxy, domain, seed=suite.seed),
        lambda r: f"{r.redirected} of {r.tried} redirected",
    )
    del p3
    if "P7" in suite.protocols and proxy.kind == "sign":
        timed(
            f"P7, colour versus position on {COLOUR_MAZES} mazes",
            lambda: colour_versus_position(agent, levels[:COLOUR_MAZES], domain),
            lambda c: f"{c.follows_sign.n:,} squares",
        )
    command = [sys.executable, "-m", "rl_workbench", "--quiet", "--threads", str(args.threads)]
    command += ["audit", "--agent", args.agent, "--suite", args.suite, "--mazes", str(args.mazes)]
    command += ["--out", "/tmp/audit-speed"]
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    rows.append(("`rlwb audit` end to end", time.perf_counter() - started, " ".join(command[2:])))
    print(
        f"{args.agent}, suite {args.suite}, {args.threads} threads, {platform.machine()}, "
        f"{time.strftime('%Y-%m-%d')}\n"
    )
    print("| part | seconds | note |\n|---|---|---|")
    for label, seconds, note in rows:
        print(f"| {label} | {seconds:.1f} | {note} |")


if __name__ == "__main__":
    main()
