"""``rlwb demo``: the first picture. Both zoo maze agents on a few seeded mazes, no training.

For each maze (cheese placed anywhere, the distribution the corner agent never saw) it draws the
level, the path each agent took and each agent's vector field, and writes a report folder; then
counterfactuals of both maze agents and of the Space Invaders agent, from the shipped models.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from rl_workbench.agents import LoadedAgent, library_versions, load_agent
from rl_workbench.data import run_episode, vector_field
from rl_workbench.domains import make_env
from rl_workbench.report import ReportWriter, draw_path, draw_vector_field, maze_image, titled_row


@dataclass(frozen=True)
class DemoConfig:
    """Settings of the demo.

    Attributes:
        mazes: number of seeded test mazes.
        seed: maze i uses seed ``seed + i``; actions are sampled with ``default_rng(seed)``.
        env_id: the test distribution (cheese anywhere by default).
        cell_px: pixels per maze cell in pictures.
        agents: agent references to show side by side.
        counterfactuals: states per agent explained with the diffusion method (0: none).
        generator: the generator for those counterfactuals.
        atari_agent: the Atari agent whose frame stacks are explained.
        atari_env: its game (None: the one on its card).
        atari_counterfactuals: its states explained with the diffusion method (0: none).
        atari_generator: the generator for those.
        more_atari_agents: further Atari agents explained the same way, each with its game's
            shipped generator.
        object_agents: Atari agents explained with ``--method objects`` (edits of game objects
            through the emulator's RAM, drawn by the game itself).
        object_counterfactuals: states per object agent (0: none).
        audit_suite: the goal-misgeneralization suite each maze agent is audited with ("" none).
        audit_mazes: test mazes per audit.
        large_agents: maze agents of procgen's easy scale (15x15 world) shown on their own mazes
            and audited with the same suite (empty: none).
        large_mazes: seeded 15x15 test mazes drawn for them.
        large_audit_mazes: test mazes per audit of a large agent.
    """

    mazes: int = 4
    seed: int = 2024
    env_id: str = "rlwb/Maze-v0"
    cell_px: int = 32
    agents: tuple[str, ...] = ("zoo:maze-corner", "zoo:maze-uniform")
    counterfactuals: int = 3
    generator: str = "zoo:maze-generator"
    atari_agent: str = "zoo:spaceinvaders-ppo"
    atari_env: str | None = None
    atari_counterfactuals: int = 2
    atari_generator: str = "zoo:spaceinvaders-inpainter"
    more_atari_agents: tuple[str, ...] = ("zoo:breakout-ppo",)
    object_agents: tuple[str, ...] = ("zoo:spaceinvaders-ppo", "zoo:breakout-ppo")
    object_counterfactuals: int = 2
    audit_suite: str = "corner"
    audit_mazes: int = 300
    large_agents: tuple[str, ...] = ("zoo:maze15-corner", "zoo:maze15-uniform")
    large_mazes: int = 1
    large_audit_mazes: int = 200


def run_demo(out: Path, config: DemoConfig = DemoConfig(), *, progress: bool = True) -> Path:
    """Write the demo report into ``out`` and return the folder."""
    agents = _load_agents(config.agents)
    report = ReportWriter(Path(out), "RL Workbench demo: two maze agents")
    report.text(
        "Two PPO agents from the zoo on the same seeded mazes, with the cheese placed anywhere.",
        "`maze-corner` only ever saw the cheese in the top-right corner during training;",
        "`maze-uniform` saw it anywhere. Red: the path the agent took (sampled actions).",
        "Blue arrows: the vector field, the agent's expected move with the mouse on each square.",
        "",
    )
    episodes = _maze_section(report, agents, config, config.mazes, progress)
    report.text("## Agents", "")
    for name, loaded in agents.items():
        card = loaded.card
        if card is not None:
            sampled = card.evaluation.get("sampled", {})
            report.text(
                f"- `{name}`: {card.algorithm} on `{card.env_id}` {card.env_kwargs or ''}, "
                f"{card.total_steps:,} steps, "
                f"success {sampled.get('success_rate', float('nan')):.1%}"
                f" over {sampled.get('episodes', 0)} evaluation episodes (model card: "
                f"`{loaded.path.parent / 'README.md'}`)."
            )
    if config.audit_suite:
        _audits(report, agents, config, config.audit_mazes, progress)
    if config.large_agents:
        large = _load_agents(config.large_agents)
        report.text(
            "",
            "## Procgen's easy scale: mazes up to 15x15",
            "",
            "The same pair of distributions at the scale the literature's agents live at "
            "(sizes 3-15 in a 15x15 world), with agents that first imitated the shortest-path "
            "solver on their own training levels, then trained with PPO (see their cards).",
            "",
        )
        episodes += _maze_section(
            report, large, config, config.large_mazes, progress, prefix="large-"
        )
        if config.audit_suite:
            _audits(report, large, config, config.large_audit_mazes, progress, prefix="large-")
    if config.counterfactuals:
        _counterfactuals(report, agents, config, progress)
    if config.atari_counterfactuals:
        _atari_counterfactuals(report, config, progress)
    if config.object_counterfactuals:
        _object_counterfactuals(report, config, progress)
    report.data["episodes"] = episodes
    return report.write(asdict(config), library_versions())


def _load_agents(refs: tuple[str, ...]) -> dict[str, LoadedAgent]:
    """Agents by display name (a repeated name gets its position appended)."""
    agents: dict[str, LoadedAgent] = {}
    for ref in refs:
        loaded = load_agent(ref)
        label = loaded.name if loaded.name not in agents else f"{loaded.name} ({len(agents) + 1})"
        agents[label] = loaded
    return agents


def _maze_section(
    report: ReportWriter,
    agents: dict[str, LoadedAgent],
    config: DemoConfig,
    mazes: int,
    progress: bool,
    prefix: str = "",
) -> list[dict[str, Any]]:
    """Each agent's path and vector field on ``mazes`` seeded test mazes; the episode records.

    Test mazes come from the uniform distribution, in the world the agents were trained on, at
    the largest maze size they saw (small mazes show little).
    """
    first = next(iter(agents.values()))
    trained: Any = make_env(first.env_id, first.env_kwargs).unwrapped
    env: Any = make_env(
        config.env_id, first.env_kwargs | {"min_size": max(trained.sizes)}
    ).unwrapped
    episodes = []
    px = config.cell_px if trained.world_size <= 7 else max(12, config.cell_px * 7 // 15)
    for i in tqdm(range(mazes), desc="demo mazes", disable=not progress):
        seed = config.seed + i
        env.reset(seed=seed)
        state = env.get_state()
        panels = [(f"maze {seed}", maze_image(state, px))]
        report.text(
            f"### Maze {seed} ({state.maze_size}x{state.maze_size})",
            "",
            "| agent | got cheese | steps | optimal steps | visited the corner |",
            "|---|---|---|---|---|",
        )
        for name, loaded in agents.items():
            rng = np.random.default_rng(seed)
            traj = run_episode(loaded.agent, env, state=state, rng=rng)
            field = vector_field(loaded.agent, env, state)
            base = maze_image(state, px)
            panels.append((f"{name}: path", draw_path(base, traj.path, px)))
            panels.append(
                (f"{name}: vector field", draw_vector_field(base, field.cells, field.probs, px))
            )
            episodes.append(
                {
                    "maze_seed": seed,
                    "agent": name,
                    "got_cheese": traj.got_cheese,
                    "steps": traj.steps,
                    "optimal_steps": traj.optimal_steps,
                    "reached_corner": traj.reached_corner,
                    "state": state.to_dict(),
                }
            )
            report.text(
                f"| {name} | {'yes' if traj.got_cheese else 'no'} | {traj.steps} | "
                f"{traj.optimal_steps} | {'yes' if traj.reached_corner else 'no'} |"
            )
        report.text("")
        report.image(f"{prefix}maze-{seed}.png", titled_row(panels), f"maze {seed}")
    return episodes


def _audits(
    report: ReportWriter,
    agents: dict[str, LoadedAgent],
    config: DemoConfig,
    mazes: int,
    progress: bool,
    prefix: str = "",
) -> None:
    """Each maze agent audited for goal misgeneralization, each in its own report folder."""
    from rl_workbench.audit import run_audit
    from rl_workbench.audit.suite import resolve_suite

    suite = resolve_suite(config.audit_suite)
    report.text(
        "",
        f"## Goal-misgeneralization audit (suite `{suite.name}`)",
        "",
        "| agent | verdict | report |",
        "|---|---|---|",
    )
    verdicts = {}
    paragraphs = []
    for i, (name, loaded) in enumerate(agents.items()):
        folder = f"{prefix}audit-{i}-{name.replace(' ', '_')}"
        data = run_audit(loaded, suite, report.folder / folder, mazes=mazes, progress=progress)
        verdicts[name] = data["verdict"]
        report.text(f"| {name} | `{data['verdict']}` | [{folder}/report.md]({folder}/report.md) |")
        paragraphs += [data["summary"], ""]
    report.text("", *paragraphs)
    report.data.setdefault("audits", {}).update(verdicts)


def _counterfactuals(
    report: ReportWriter, agents: dict[str, LoadedAgent], config: DemoConfig, progress: bool
) -> None:
    """A few diffusion counterfactuals per agent, each in its own explain report folder."""
    from rl_workbench.counterfactual import ExplainConfig, run_explain
    from rl_workbench.generative.zoo import load_generator

    generator = load_generator(config.generator)
    report.text(
        "## Counterfactuals",
        "",
        "The smallest legal change to a level that makes the agent act otherwise (diffusion "
        "method, target: any other action), judged on the decoded level. Levels come from the "
        "test distribution (cheese anywhere) for both agents. On mazes the generator is not "
        "what makes these: `--method guided-projection`, the same steps with no generator, "
        "flips as many states or more (README, BENCHMARKS.md).",
        "",
    )
    summaries = {}
    for i, (name, loaded) in enumerate(agents.items()):
        folder = f"counterfactuals-{i}-{name.replace(' ', '_')}"
        # Explain on the test distribution (cheese anywhere), where the agents are studied.
        on_test = load_agent(loaded.path, config.env_id, loaded.env_kwargs)
        summary = run_explain(
            on_test,
            report.folder / folder,
            ExplainConfig(method="diffusion", n=config.counterfactuals, seed=config.seed),
            generator=generator,
            progress=progress,
        )
        summaries[name] = summary
        validity = _validity(summary)
        report.text(
            f"### {name}: validity {validity}, median edits {summary['edits']}",
            "",
            *[
                f"![{name} item {k}]({folder}/items/item-{k:04d}.png)"
                for k in range(summary["n"] + summary["skipped_target_equals_original"])
                if (report.folder / folder / "items" / f"item-{k:04d}.png").is_file()
            ],
            "",
        )
    report.data["counterfactuals"] = summaries


def _atari_counterfactuals(report: ReportWriter, config: DemoConfig, progress: bool) -> None:
    """Diffusion counterfactuals of the shipped Atari agents' own frame stacks: the main Atari
    agent with ``atari_generator``, then each of ``more_atari_agents`` with its game's shipped
    generator."""
    from rl_workbench.counterfactual.explain import load_method_model
    from rl_workbench.generative.zoo import load_generator

    loaded = load_agent(config.atari_agent, config.atari_env)
    summary = _atari_panel(
        report, config, progress, loaded, load_generator(config.atari_generator), "atari"
    )
    report.data["atari_counterfactuals"] = summary
    more = {}
    for ref in config.more_atari_agents:
        other = load_agent(ref)
        generator = load_method_model("diffusion", other, None, ref)
        more[other.name] = _atari_panel(
            report, config, progress, other, generator, f"atari-{other.name}"
        )
    report.data["more_atari_counterfactuals"] = more


def _atari_panel(
    report: ReportWriter,
    config: DemoConfig,
    progress: bool,
    loaded: LoadedAgent,
    generator: Any,
    name: str,
) -> dict[str, Any]:
    from rl_workbench.counterfactual import ExplainConfig, run_explain

    folder = f"counterfactuals-{name}"
    summary = run_explain(
        loaded,
        report.folder / folder,
        ExplainConfig(method="diffusion", n=config.atari_counterfactuals, seed=config.seed),
        generator=generator,
        progress=progress,
    )
    validity = _validity(summary)
    report.text(
        f"## Atari: {loaded.name} on {loaded.env_id}",
        "",
        "The agent's real 4-frame stack (oldest to newest), with a box where the agent looks "
        "redrawn by the inpainting generator, judged on the legal uint8 stack. "
        f"Validity {validity}, median proximity "
        f"{summary['proximity']:.4f}, median sparsity {summary['sparsity']:.4f}. Each item's exact "
        f"inputs are in `{folder}/items/item-NNNN.npz`; the GIFs play the stack in time.",
        "",
    )
    for k in range(summary["n"] + summary["skipped_target_equals_original"]):
        for ext in ("png", "gif"):
            if (report.folder / folder / "items" / f"item-{k:04d}.{ext}").is_file():
                report.text(f"![item {k}]({folder}/items/item-{k:04d}.{ext})", "")
    return summary


def _object_counterfactuals(report: ReportWriter, config: DemoConfig, progress: bool) -> None:
    """Counterfactuals the game itself draws: object edits through the emulator's RAM."""
    from rl_workbench.counterfactual import ExplainConfig, run_explain

    summaries = {}
    for ref in config.object_agents:
        loaded = load_agent(ref)
        folder = f"counterfactuals-objects-{loaded.name}"
        summary = run_explain(
            loaded,
            report.folder / folder,
            ExplainConfig(method="objects", n=config.object_counterfactuals, seed=config.seed),
            progress=progress,
        )
        items = json.loads((report.folder / folder / "report.json").read_text())["items"]
        validity = _validity(summary)
        report.text(
            f"## Objects: {loaded.name} on {loaded.env_id}",
            "",
            "The fewest edits of game objects (through the emulator's RAM) that change the "
            "agent's action; the game replays the agent's recorded actions and draws every "
            f"frame. Validity {validity}.",
            "",
        )
        for k, item in enumerate(items):
            words = "; ".join(item["edits_in_words"]) or "no flip found within 3 edits"
            report.text(f"Item {k}: {words}.", "")
            picture = report.folder / folder / "items" / f"item-{k:04d}.png"
            if picture.is_file():
                report.text(f"![item {k}]({folder}/items/item-{k:04d}.png)", "")
        summaries[loaded.name] = summary
    report.data["object_counterfactuals"] = summaries


def _validity(summary: dict[str, Any]) -> str:
    """A summary's validity as a percentage, or n/a when nothing was explained."""
    return "n/a" if summary["validity"] is None else f"{summary['validity']:.0%}"
