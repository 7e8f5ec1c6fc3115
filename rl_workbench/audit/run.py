"""``rlwb audit``: every protocol of a suite on one agent, a verdict, and the report folder."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from rl_workbench.agents import Agent, LoadedAgent, library_versions, load_agent
from rl_workbench.domains import make_env
from rl_workbench.domains.base import Domain, ForkDomain
from rl_workbench.domains.registry import domain_for_env
from rl_workbench.envs.maze import MazeState
from rl_workbench.report import ReportWriter, draw_vector_field, maze_image, titled_row
from rl_workbench.report.audit_figures import histogram, rate_bars
from rl_workbench.report.pair_figures import pair_figure

from .colour import ColourVersusPosition, colour_versus_position
from .decision import DecisionSquares, decision_squares
from .landmarks import landmark_decisions, landmark_outcomes, landmark_redirects
from .observe import level_probs
from .outcomes import Outcomes, play_outcomes
from .sensitivity import FIELD_SQUARES, Redirects, Sensitivity, field_probs, sensitivity
from .suite import Suite, check_fits
from .verdict import Verdict, decide

SENSITIVITY_MAZES = 30
"""P3 runs a search per maze: a subset of the test mazes is enough for its counts."""
COLOUR_MAZES = 100
GEOMETRY_KWARGS = ("min_size", "max_size", "world_size", "obs_mode", "size")
"""What the agent's own env keeps in the test env: its world geometry (maze sizes, a goal room's
side) and what it observes (symbolic channels or the RGB view); the suite defines the rest."""


def test_levels(suite: Suite, env: Any, mazes: int, seed: int) -> list[Any]:
    """Level i of the audit is the test env's level for seed ``seed + i``."""
    domain = domain_for_env(env)
    levels = []
    for i in range(mazes):
        obs, _ = env.reset(seed=seed + i)
        levels.append(domain.state_from_env(env, obs))
    return levels


@dataclass
class Measurements:
    """Every protocol's figures for one agent on one suite's test mazes."""

    levels: list[Any]
    outcomes: dict[str, Outcomes] = field(default_factory=dict)
    decisions: dict[str, DecisionSquares] = field(default_factory=dict)
    sensitivities: dict[str, Sensitivity] = field(default_factory=dict)
    colour: ColourVersusPosition | None = None
    domain: Domain | None = None
    """The agent's domain: encodes levels in the observation mode it was trained on."""


def measure(
    agent: Agent,
    suite: Suite,
    env: Any,
    mazes: int,
    seed: int,
    *,
    progress: bool = False,
    name: str = "agent",
) -> Measurements:
    """Run the suite's protocols on ``mazes`` test levels of ``env`` (P1 always: the verdict
    needs behaviour). Mazes get the maze protocols; a domain with landmarks and forks (goal
    rooms) the same three kinds of evidence through :mod:`.landmarks`."""
    domain = domain_for_env(env)  # the agent's observation mode (symbolic or RGB) included
    m = Measurements(test_levels(suite, env, mazes, seed), domain=domain)
    steps = [(p, proto) for p in suite.proxies for proto in ("P1", "P2", "P3")]
    bar = tqdm(total=len(steps) + 1, desc=f"auditing {name}", disable=not progress)
    by_landmarks = isinstance(domain, ForkDomain)
    for proxy, protocol in steps:
        if protocol == "P1" and by_landmarks:
            m.outcomes[proxy.name] = landmark_outcomes(agent, domain, m.levels, proxy, seed=seed)
        elif protocol == "P1":
            m.outcomes[proxy.name] = play_outcomes(
                agent, m.levels, proxy, max_steps=suite.max_steps, seed=seed, domain=domain
            )
        elif protocol not in suite.protocols:
            pass
        elif protocol == "P2" and by_landmarks:
            m.decisions[proxy.name] = landmark_decisions(agent, domain, m.levels, proxy)
        elif protocol == "P2":
            m.decisions[proxy.name] = decision_squares(agent, m.levels, proxy, domain)
        elif by_landmarks:
            m.sensitivities[proxy.name] = landmark_redirects(
                agent, domain, m.levels[:SENSITIVITY_MAZES], proxy, seed=seed
            )
        else:
            m.sensitivities[proxy.name] = sensitivity(
                agent, m.levels[:SENSITIVITY_MAZES], proxy, domain, seed=seed
            )
        bar.update(1)
    if "P7" in suite.protocols and any(p.kind == "sign" for p in suite.proxies):
        m.colour = colour_versus_position(agent, m.levels[:COLOUR_MAZES], domain)
    bar.update(1)
    bar.close()
    return m


def run_audit(
    loaded: LoadedAgent,
    suite: Suite,
    out: Path | None,
    *,
    mazes: int | None = None,
    seed: int | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Audit an agent with a suite; write ``out`` (when given) and return report.json's data."""
    mazes = suite.mazes if mazes is None else mazes
    seed = suite.seed if seed is None else seed
    # The agent's world geometry (sizes) and observation mode carry over; what defines the test
    # comes from the suite.
    geometry = {k: v for k, v in loaded.env_kwargs.items() if k in GEOMETRY_KWARGS}
    if suite.goal == "goal":  # a goal room: the suite's step limit is the env's own
        geometry["max_steps"] = suite.max_steps
    tested = load_agent(
        loaded.path, suite.test_env, geometry | suite.test_env_kwargs, trust=loaded.trusted
    )
    made = make_env(tested.env_id, tested.env_kwargs)
    # Mazes are played by the audit itself on the bare env; goal rooms by the domain, through
    # the agent's observation wrappers.
    env = made if suite.goal == "goal" else made.unwrapped
    check_fits(suite, env.unwrapped)  # with the agent's own sizes, before the first level
    agent = tested.agent
    started = time.perf_counter()
    m = measure(agent, suite, env, mazes, seed, progress=progress, name=loaded.name)
    verdict = decide(suite, loaded.name, m.outcomes, m.decisions, m.sensitivities, m.colour)
    seconds = time.perf_counter() - started
    data: dict[str, Any] = {
        **verdict.to_dict(),
        "agent": {
            "name": loaded.name,
            "path": str(loaded.path),
            "env_id": loaded.env_id,
            "env_kwargs": loaded.env_kwargs,
        },
        "suite": {**asdict(suite), "thresholds": asdict(suite.thresholds)},
        "mazes": mazes,
        "seed": seed,
        "seconds": round(seconds, 2),
        "P1": {k: v.to_dict() for k, v in m.outcomes.items()},
        "P2": {k: v.to_dict() for k, v in m.decisions.items()},
        "P3": {k: v.to_dict() for k, v in m.sensitivities.items()},
        "P7": m.colour.to_dict() if m.colour is not None else None,
    }
    if out is not None:
        _write_report(Path(out), data, verdict, m, agent, tested.agent.action_names)
    return data


def _write_report(
    out: Path,
    data: dict[str, Any],
    verdict: Verdict,
    m: Measurements,
    agent: Any,
    action_names: tuple[str, ...],
) -> None:
    outcomes, decisions, sensitivities = m.outcomes, m.decisions, m.sensitivities
    report = ReportWriter(out, f"Goal-misgeneralization audit: {data['agent']['name']}")
    suite = data["suite"]
    goal = suite["goal"]
    unit = "mazes" if goal == "cheese" else "rooms"
    points = "decision squares" if goal == "cheese" else "decision points"
    family = m.domain.family if m.domain is not None else "maze"
    report.text(
        f"**Verdict: `{verdict.label}`**",
        "",
        verdict.paragraph,
        "",
        f"Suite `{suite['name']}` ({suite['path']}): trained on `{suite['training_env']}`, tested "
        f"on `{suite['test_env']}`, {data['mazes']} {unit} from seed {data['seed']}, "
        f"{data['seconds']:.1f} s. Thresholds: {suite['thresholds']}.",
        "",
        "## P1: outcomes under shift",
        "",
        f"| proxy | restricted {unit} | TRUE ({goal} first) | PROXY first | NEITHER | competence | "
        "median efficiency [95% CI] |",
        "|---|---|---|---|---|---|---|",
    )
    for name, o in outcomes.items():
        report.text(
            f"| {name} | {o.true_rate.n} | {_rate(o.true_rate)} | {_rate(o.proxy_rate)} | "
            f"{_rate(o.neither_rate)} | {_rate(o.competence)} | "
            f"{_rate(o.efficiency)} |"
        )
        bars = rate_bars(
            [
                ("TRUE", o.true_rate.value, o.true_rate.low, o.true_rate.high),
                ("PROXY", o.proxy_rate.value, o.proxy_rate.low, o.proxy_rate.high),
                ("NEITHER", o.neither_rate.value, o.neither_rate.low, o.neither_rate.high),
            ],
            f"P1 outcomes vs {name} (95% Wilson CI)",
        )
        report.text("")
        report.image(f"p1-{name}.png", bars, f"P1 outcomes, {name}")
    if decisions:
        report.text(f"## P2: {points}", "")
        for name, d in decisions.items():
            report.text(
                f"- {name}: {d.n} {points}, proxy move likelier in "
                f"{'n/a' if d.proxy_preference is None else format(d.proxy_preference, '.0%')}.",
                "",
            )
            if d.n:
                row = titled_row(
                    [
                        ("", histogram(d.p_goal, f"P(move toward {goal}) at {points}")),
                        ("", histogram(d.p_proxy, f"P(move toward {name}) at {points}")),
                    ]
                )
                report.image(f"p2-{name}.png", row, f"P2 histograms, {name}")
    if sensitivities:
        report.text("## P3: counterfactual sensitivity", "")
        for name, s in sensitivities.items():
            if s.redirect is not None and not s.cheese_tv:  # landmark domains: the redirect only
                _report_redirect(report, agent, m.domain, name, s.redirect, goal, unit)
                continue
            summary = s.to_dict()
            proxy_tv = summary["mean_tv_proxy_edited"]
            proxy_text = "n/a (a corner cannot move)" if proxy_tv is None else _num(proxy_tv)
            report.text(
                f"- {name}: mean TV change per square (at most {FIELD_SQUARES} squares drawn "
                f"per maze, the same before and after), cheese moved "
                f"{_num(summary['mean_tv_cheese_moved'])}, proxy edited {proxy_text}; "
                f"fewest-edit flips at decision squares by kind: {s.flips}.",
                "",
            )
            for k, (before, after) in enumerate(s.examples[:2]):
                probs = level_probs(agent, [before, after], m.domain)
                fig = pair_figure(
                    family,
                    _picture(m.domain, before),
                    _picture(m.domain, after),
                    probs[0],
                    probs[1],
                    action_names,
                    f"at the decision square: {action_names[int(probs[0].argmax())]}",
                    f"fewest edits: {action_names[int(probs[1].argmax())]}",
                )
                report.image(f"p3-{name}-flip-{k}.png", fig, f"P3 flip {k}")
            if s.redirect is not None:
                _report_redirect(report, agent, m.domain, name, s.redirect, goal, unit)
        if family == "maze":
            report.image(
                "p3-fields.png", _fields_figure(agent, m.levels[0], m.domain), "vector fields"
            )
    if data["P7"] is not None:
        p7 = data["P7"]
        report.text(
            "## P7: colour versus position",
            "",
            f"On {p7['squares']} squares where the sign's way and the cheese's way differ: heads "
            f"for the sign {_num(p7['follows_sign']['rate'])}, for the cheese "
            f"{_num(p7['follows_cheese']['rate'])}; with the sign removed, for the cheese "
            f"{_num(p7['cheese_without_sign']['rate'])}.",
            "",
        )
    report.data.update(data)
    report.write(
        {"suite": suite["path"], "mazes": data["mazes"], "seed": data["seed"]}, library_versions()
    )


def _report_redirect(
    report: ReportWriter,
    agent: Agent,
    domain: Domain | None,
    name: str,
    r: Redirects,
    goal: str = "cheese",
    unit: str = "mazes",
) -> None:
    """P3's behaviour paragraph: what must change before the agent goes for the goal."""
    summary = r.to_dict()
    where = "" if goal == "cheese" else " where the ways part"
    if not r.proxy_first:
        report.text(
            f"- {name}, behaviour: on none of {r.mazes} {unit}{where} does the greedy agent "
            f"reach the {name} before the {goal}, so there is nothing to redirect.",
            "",
        )
        return
    median = summary["median_edits"]
    report.text(
        f"- {name}, behaviour: the greedy agent reaches the {name} before the {goal} on "
        f"{r.proxy_first} of {r.mazes} {unit}{where}. Searching {r.tried} of them for the fewest "
        f"edits (at most 3, the {goal} left where it is) after which its greedy rollout reaches "
        f"the {goal} first: found on {r.redirected} of {r.tried}"
        + ("" if median is None else f", median {median:g} edit(s)")
        + f", by kind {r.kinds}; {r.agent_calls:,} agent calls, rollouts included.",
        "",
    )
    family = domain.family if domain is not None else "maze"
    for k, (before, after) in enumerate(r.examples):
        probs = level_probs(agent, [before, after], domain)
        fig = pair_figure(
            family,
            _picture(domain, before),
            _picture(domain, after),
            probs[0],
            probs[1],
            agent.action_names,
            f"goes for the {name} first",
            f"after the fewest edits: the {goal} first",
        )
        report.image(f"p3-{name}-redirect-{k}.png", fig, f"P3 redirect {k}")


def _picture(domain: Domain | None, state: Any) -> Any:
    """What the family's pair figure draws (a maze level is drawn as itself)."""
    return state if domain is None else domain.picture(state)


def _fields_figure(agent: Any, level: MazeState, domain: Domain | None) -> Any:
    """The vector field of the first test maze, then with the cheese moved, and the sign."""
    px = 28
    panels = []
    far = max(
        (c for c in level.free_cells() if level.in_maze(c) and c not in (level.mouse, level.sign)),
        key=lambda c: abs(c[0] - level.cheese[0]) + abs(c[1] - level.cheese[1]),
    )
    variants = [("original", level), ("cheese moved", level.move_cheese(far))]
    if level.sign is not None:
        variants.append(("sign removed", level.move_sign(None)))
    for title, variant in variants:
        field = field_probs(agent, variant, domain)
        img = draw_vector_field(
            maze_image(variant, px), list(field), np.stack(list(field.values())), px
        )
        panels.append((title, img))
    return titled_row(panels)


def _rate(rate: Any) -> str:
    if rate.value is None:
        return "n/a"
    return f"{rate.value:.2f} [{rate.low:.2f}, {rate.high:.2f}]"


def _num(value: object) -> str:
    """A figure with two decimals, or "n/a" where the protocol had nothing to measure."""
    return "n/a" if value is None else f"{float(value):.2f}"  # type: ignore[arg-type]
