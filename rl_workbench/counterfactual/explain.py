"""``rlwb explain``: counterfactuals for many states of one agent, with pictures and a report."""

from __future__ import annotations

import json
import statistics
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from tqdm.auto import tqdm

from rl_workbench.agents import LoadedAgent, choose_actions, library_versions
from rl_workbench.domains import make_env
from rl_workbench.domains.base import BehaviourDomain, Domain
from rl_workbench.domains.registry import domain_for
from rl_workbench.errors import InvalidArgumentError
from rl_workbench.report import ReportWriter
from rl_workbench.report.pair_figures import pair_animation, pair_figure

from .base import LandmarkMissing, NothingToExplain
from .methods import make_method
from .result import Result
from .targets import Target, parse_target

if TYPE_CHECKING:
    from rl_workbench.generative import (
        AtariAutoencoder,
        AtariGenerator,
        AtariInpainter,
        MazeGenerator,
        RoomGenerator,
    )


@dataclass(frozen=True)
class ExplainConfig:
    """Settings of one explain run.

    Attributes:
        method: a registry name (diffusion, latent, objects, search, nearest, pixel).
        target: any, an action name, value-high, value-low or uncertain.
        n: states to explain.
        seed: seeds the states (games seed, seed + 1, ...; see ``sample_states``) and each
            method's randomness.
        pool_size: real levels collected for ``nearest`` when no dataset is given.
        pictures: write one PNG per item.
    """

    method: str = "diffusion"
    target: str = "any"
    n: int = 10
    seed: int = 0
    pool_size: int = 2000
    pictures: bool = True


def agent_domain(loaded: LoadedAgent) -> Domain:
    """The domain of the agent's environment, in the observation mode it was trained on."""
    return domain_for(loaded.env_id, loaded.env_kwargs)


def require_supported(env_id: str, method: str, env_kwargs: dict[str, Any] | None = None) -> None:
    """Refuse a method the environment's domain has no implementation for, saying what exists.

    Raises:
        InvalidArgumentError: the family has no domain, or the domain does not support ``method``.
    """
    allowed = domain_for(env_id, env_kwargs).methods
    if method not in allowed:
        raise InvalidArgumentError(
            f"--method {method} is not available for {env_id}: edit search and guided "
            "projection are defined for grid levels only, latent search and object edits for "
            f"Atari games. Use one of "
            f"{', '.join(allowed)}."
        )
    if method == "objects":
        from .objects import check_objects_supported

        check_objects_supported(env_id)


def _objects_offer(env_id: str) -> str:
    """ ", or objects, ..." where the game's RAM layout is known (no generator needed)."""
    from rl_workbench.domains.atari_objects import layout_for

    if layout_for(env_id) is None:
        return ""
    return ", or objects, which edits the game's own objects through its RAM"


def generator_commands(
    agent_ref: str,
    env_id: str,
    method: str = "diffusion",
    env_kwargs: dict[str, Any] | None = None,
) -> str:
    """The commands that make a generator (and, for ``latent``, its autoencoder) for a game.

    ``env_kwargs`` are repeated as ``--env-arg`` so the collected states are the agent's own.
    """
    slug = env_id.replace("/", "-")
    env_args = "".join(
        f" --env-arg {key}={json.dumps(value)}" for key, value in sorted((env_kwargs or {}).items())
    )
    # Atari games: the inpainting kind (what diffusion edits frame stacks with; issue 12).
    kind = " --inpainting" if domain_for(env_id, env_kwargs).family == "atari" else ""
    fit = f"`rlwb fit-generator --data data/{slug} --out gens/{slug}{kind}`"
    if method == "latent":
        fit = f"`rlwb fit-autoencoder --data data/{slug} --out gens/{slug}`"
    return (
        f"`rlwb collect --agent {agent_ref} --env {env_id}{env_args} --n-states 20000 "
        f"--out data/{slug}` "
        f"then {fit}, and pass --generator gens/{slug}"
    )


def check_generator(generator: Any, loaded: LoadedAgent, ref: str) -> None:
    """Refuse a generator of the wrong family, game or world size, naming the commands that make
    the right one (the UNet's input side is fixed at fit time: a mismatch would otherwise fail deep
    inside the first denoising step, after the report folder was started)."""
    domain = agent_domain(loaded)
    spec = generator.spec
    if generator.family != domain.family:
        raise InvalidArgumentError(
            f"The generator {ref} was fitted on {spec.env_id}, not {loaded.env_id}: it models "
            f"{generator.family} states, and this agent needs a {domain.family} generator"
            + (f" (the default, {domain.default_generator})." if domain.default_generator else ".")
            + " Make one with "
            + generator_commands(str(loaded.path), loaded.env_id, env_kwargs=loaded.env_kwargs)
            + "."
        )
    world = getattr(domain, "world_size", None)
    fitted = getattr(spec, "world_size", None)
    if world is not None and fitted != world:
        raise InvalidArgumentError(
            f"The generator {ref} was fitted on {fitted}x{fitted} maze worlds, but the "
            f"agent {loaded.path} sees {world}x{world} ones ({loaded.env_id} "
            f"{loaded.env_kwargs or {}}). Make one for this agent with "
            + generator_commands(str(loaded.path), loaded.env_id, env_kwargs=loaded.env_kwargs)
            + "."
        )
    if world is None and spec.env_id != loaded.env_id:  # pixels of another game
        raise InvalidArgumentError(
            f"The generator {ref} was fitted on {spec.env_id}, not {loaded.env_id}. Make one for "
            f"this game with " + generator_commands(str(loaded.path), loaded.env_id) + "."
        )


def load_method_model(
    method: str, loaded: LoadedAgent, generator_ref: str | None, agent_ref: str
) -> MazeGenerator | AtariGenerator | AtariInpainter | AtariAutoencoder | RoomGenerator | None:
    """The generative model a method needs (diffusion: the UNet, latent: the autoencoder)."""
    if method not in ("diffusion", "latent"):
        return None
    from rl_workbench.generative import AtariAutoencoder
    from rl_workbench.generative.zoo import load_generator, resolve_generator

    domain = agent_domain(loaded)
    ref = generator_ref or (
        domain.default_autoencoder if method == "latent" else domain.default_generator
    )
    if ref is None:
        raise InvalidArgumentError(
            f"No generator exists for {loaded.env_id} yet. Make one with "
            + generator_commands(agent_ref, loaded.env_id, method)
            + " (or use --method "
            + " or ".join(m for m in domain.methods if m in ("search", "pixel", "nearest"))
            + ", which need none"
            + _objects_offer(loaded.env_id)
            + ")."
        )
    if method == "latent":
        autoencoder = AtariAutoencoder.from_pretrained(resolve_generator(ref))
        if autoencoder.spec.env_id != loaded.env_id:
            raise InvalidArgumentError(
                f"The autoencoder in {ref} was fitted on {autoencoder.spec.env_id}, not "
                f"{loaded.env_id}. Make one for this game with "
                + generator_commands(agent_ref, loaded.env_id, method)
                + "."
            )
        return autoencoder
    generator = load_generator(ref)
    check_generator(generator, loaded, ref)
    return generator


def sample_states(loaded: LoadedAgent, n: int, seed: int) -> list[Any]:
    """``n`` states the agent meets in play, drawn as its domain documents.

    Mazes: episode i (seed + i) after 0-7 of the agent's own steps. Atari: ``n`` distinct stacks,
    each from a fresh, seeded game (all lives) after a number of agent steps uniform in 0-199,
    across lost lives (see the Atari domain's ``sample_states``). Actions are sampled from the
    agent's distribution with a generator seeded by ``seed``.
    """
    domain = agent_domain(loaded)
    env = make_env(loaded.env_id, loaded.env_kwargs)

    def act(obs: Any, rng: np.random.Generator) -> int:
        probs, _ = loaded.agent.evaluate_batch(obs)
        return int(choose_actions(probs, rng)[0])

    try:
        return domain.sample_states(env, act, n, seed)
    finally:
        env.close()


def summarise(results: list[Result], skipped: int, domain: Domain | None = None) -> dict[str, Any]:
    """The run's figures (medians over items that produced a counterfactual), plus the medians of
    the domain's own pair metrics (Atari: proximity, sparsity and legality violations, with the
    share of counterfactuals that break any rule and the total count) when ``domain`` is given.
    ``distinct_counterfactuals`` counts the different states returned (``nearest`` may return
    one real state for many originals)."""

    def median(values: list[float]) -> float | None:
        return float(statistics.median(values)) if values else None

    made = [r for r in results if r.counterfactual_state is not None]
    extra: dict[str, float | None] = {}
    if domain is not None and results:
        probe = domain.pair_metrics(results[0].original_state, results[0].original_state)
        pairs = [domain.pair_metrics(r.original_state, r.counterfactual_state) for r in made]
        extra = {key: median([p[key] for p in pairs]) for key in probe}
        if "violations" in probe:  # Atari legality: a median of counts hides the share
            extra["violating"] = (
                float(np.mean([p["violations"] > 0 for p in pairs])) if pairs else None
            )
            extra["violations_total"] = float(sum(p["violations"] for p in pairs))
    behaviours = [r.behaviour for r in results if r.behaviour is not None]
    if behaviours:  # behaviour targets: how often sampled play reaches the goal, before and after
        extra["sampled_share_before"] = float(
            np.mean([b["sampled_share_before"] for b in behaviours])
        )
        after = [
            b["sampled_share_after"] for b in behaviours if b["sampled_share_after"] is not None
        ]
        extra["sampled_share_after"] = float(np.mean(after)) if after else None
    return {
        "n": len(results),
        "skipped_target_equals_original": skipped,
        "validity": float(np.mean([r.valid for r in results])) if results else None,
        "edits": median([r.edits for r in made if r.valid]),  # type: ignore[misc]
        "on_distribution": float(np.mean([bool(r.on_distribution) for r in made]))
        if made
        else None,
        "seconds": median([r.seconds for r in results]),
        "generator_calls": median([r.generator_calls for r in results]),
        "agent_calls": median([r.agent_calls for r in results]),
        "distinct_counterfactuals": _distinct([r.counterfactual_state for r in made]),
        **extra,
    }


def run_explain(
    loaded: LoadedAgent,
    out: Path,
    config: ExplainConfig,
    *,
    states: list[Any] | None = None,
    pool: list[Any] | None = None,
    generator: MazeGenerator
    | AtariGenerator
    | AtariInpainter
    | AtariAutoencoder
    | RoomGenerator
    | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Explain ``config.n`` states (or the given ones) and write the report folder.

    ``generator`` is the method's generative model: the diffusion generator, or for ``latent``
    the autoencoder (see ``load_method_model``).
    """
    require_supported(loaded.env_id, config.method, loaded.env_kwargs)
    domain = agent_domain(loaded)
    names = loaded.agent.action_names
    landmarks = domain.landmarks if isinstance(domain, BehaviourDomain) else ()
    target = parse_target(config.target, names, landmarks)
    if config.method == "nearest" and pool is None:
        pool = sample_states(loaded, config.pool_size, config.seed + 10_000_000)
    method = make_method(config.method, generator=generator, pool=pool, family=domain.family)
    given_states = states is not None
    states = states if states is not None else sample_states(loaded, config.n, config.seed)
    report = ReportWriter(Path(out), f"Counterfactuals: {loaded.name}, method {config.method}")
    results: list[Result] = []
    skipped = 0
    lacking = 0
    for i, state in enumerate(
        tqdm(states, desc=f"explaining ({config.method})", disable=not progress)
    ):
        try:
            result = method.explain(state, loaded.agent, domain, target, seed=config.seed + i)
        except LandmarkMissing:
            lacking += 1  # reach:sign on a level without a sign
            continue
        except NothingToExplain:
            skipped += 1  # target already met: never counted, never a success
            continue
        results.append(result)
        if domain.state_arrays(state) is not None:
            # Tracked by the report, so a rerun with a smaller --n clears the stale ones.
            _save_arrays(report.track(f"items/item-{i:04d}.npz"), result, domain)
        if config.pictures:
            figure = pair_figure(
                domain.family,
                domain.picture(result.original_state),
                _picture(domain, result.counterfactual_state),
                result.probs_before,
                result.probs_after,
                names,
                f"original: {names[result.original_action]}",
                "counterfactual: "
                + (
                    "none"
                    if result.counterfactual_action is None
                    else names[result.counterfactual_action]
                )
                + _verdict_words(result, target)
                + (f": {'; '.join(result.edits_in_words)}" if result.edits_in_words else ""),
            )
            report.image(f"items/item-{i:04d}.png", figure, f"item {i}")
            if result.edits_in_words:
                report.text(f"Item {i}, edits: " + "; ".join(result.edits_in_words) + ".", "")
            frames = pair_animation(
                domain.family,
                domain.picture(result.original_state),
                _picture(domain, result.counterfactual_state),
            )
            if frames is not None:
                report.animation(
                    f"items/item-{i:04d}.gif", frames, f"item {i}, the stack as the agent saw it"
                )
    summary = summarise(results, skipped, domain)
    summary["skipped_no_landmark"] = lacking
    realism_lines, realism = matched_realism_section(loaded, domain, results, target, config)
    report.text(
        "",
        "| n | validity | median edits | on-distribution | median seconds | generator calls "
        "| agent calls |",
        "|---|---|---|---|---|---|---|",
        f"| {summary['n']} | {_fmt(summary['validity'])} | {_fmt(summary['edits'])} | "
        f"{_fmt(summary['on_distribution'])} | {_fmt(summary['seconds'], 3)} | "
        f"{_fmt(summary['generator_calls'])} | {_fmt(summary['agent_calls'], 0)} |",
        "",
        *(
            [
                f"Sampled rollouts reaching the {target.goal} first: "
                f"{_fmt(summary['sampled_share_before'])} of them on the originals, "
                f"{_fmt(summary['sampled_share_after'])} on the counterfactuals (mean share of "
                f"{target.rollouts} per level).",
                "",
            ]
            if "sampled_share_before" in summary
            else []
        ),
        *(
            [
                f"Atari: median proximity {_fmt(summary['proximity'], 4)}, median sparsity "
                f"{_fmt(summary['sparsity'], 4)}; each item's exact uint8 inputs are in "
                "`items/item-NNNN.npz` (`original`, `counterfactual`).",
                "",
            ]
            if "proximity" in summary
            else []
        ),
        *(
            [
                f"Legality (issue 12: padding frames black, the game's grey levels, static pixels "
                f"static): {_fmt(summary['violations_total'], 0)} violating value(s) in all, "
                f"{_fmt(summary['violating'])} of the counterfactuals break a rule (each item's "
                "`legality` in report.json).",
                "",
            ]
            if "violating" in summary
            else []
        ),
        f"{summary['distinct_counterfactuals']} distinct counterfactual state(s) among "
        f"{sum(r.counterfactual_state is not None for r in results)} made."
        + ("" if given_states else f" States drawn: {domain.sampling}"),
        "",
        *realism_lines,
        f"Target: `{config.target}`. Validity is judged on the decoded, legal state re-encoded for "
        f"the agent; {skipped} state(s) where the agent already met the target were skipped."
        + (f" {lacking} level(s) without a {target.goal} were skipped." if lacking else "")
        + (
            f" A behaviour target is met when the agent's greedy rollout on the level reaches the "
            f"{target.goal} before any other landmark; the share of {target.rollouts} sampled "
            "rollouts that do is reported beside it."
            if target.is_behaviour
            else ""
        ),
        "",
    )
    report.data["summary"] = summary
    if realism is not None:
        report.data["matched_realism"] = realism
    report.data["items"] = [_item(r, names, domain) for r in results]
    report.data["agent"] = {
        "path": str(loaded.path),
        "env_id": loaded.env_id,
        "env_kwargs": loaded.env_kwargs,
    }
    report.write(asdict(config), library_versions())
    return summary


def matched_realism_section(
    loaded: LoadedAgent,
    domain: Domain,
    results: list[Result],
    target: Target,
    config: ExplainConfig,
) -> tuple[list[str], dict[str, Any] | None]:
    """The report's matched realism paragraph (issue 12) and its figures, for Atari runs.

    The counterfactuals made are told from held-out real stacks on which the agent takes the
    counterfactual's action (``stack_realism``), beside both controls. The real stacks come from
    fresh games (seed + 20,000,000 on), at most ``config.pool_size`` and about 8 per
    counterfactual: even-numbered ones form the reference, odd-numbered ones ``nearest``'s pool
    for its control (unless the run's own method is ``nearest``). Fewer than ``MIN_ITEMS``
    counterfactuals: a sentence saying so, and no figure.
    """
    if domain.family != "atari":
        return [], None
    from .stack_realism import MIN_ITEMS, ReferencePool, matched_realism, realism_controls

    made = [r.counterfactual_state for r in results if r.counterfactual_state is not None]
    if len(made) < MIN_ITEMS:
        return [
            f"Matched realism (issue 12): not computed: {len(made)} counterfactual(s) made, and "
            f"the two-sample test needs at least {MIN_ITEMS}. Run with --n {2 * MIN_ITEMS} or "
            "more to get it.",
            "",
        ], None
    real = sample_states(
        loaded, min(config.pool_size, max(8 * len(made), 200)), config.seed + 20_000_000
    )
    reference = ReferencePool.build(
        loaded.agent, domain, real[0::2], exclude=[r.original_state for r in results]
    )
    if config.method == "nearest":
        nearest_outputs = made
    else:
        nearest = make_method("nearest", pool=real[1::2])
        nearest_outputs = [
            out
            for i, r in enumerate(results)
            if (
                out := nearest.explain(
                    r.original_state, loaded.agent, domain, target, seed=config.seed + i
                ).counterfactual_state
            )
            is not None
        ]
    judged = matched_realism(loaded.agent, domain, made, reference, seed=config.seed)
    controls = realism_controls(loaded.agent, domain, nearest_outputs, reference, seed=config.seed)
    failures = controls.failures()
    lines = [
        f"Matched realism (issue 12): the counterfactuals against {reference.summary}; "
        "out-of-fold ROC AUC with a bootstrap 95% interval (0.5: indistinguishable from real "
        "stacks on which the agent acts the same). Both controls must cover 0.5.",
        "",
        "| compared with the reference | CNN on pixels [95% CI] | probe on agent features "
        "[95% CI] | matched / unmatched |",
        "|---|---|---|---|",
        *(
            f"| {label} | {m.cell('cnn')} | {m.cell('probe')} | {m.n_matched} / {m.n_unmatched} |"
            for label, m in (
                (f"counterfactuals ({config.method})", judged),
                ("control: a disjoint reference draw", controls.reference),
                ("control: nearest's outputs", controls.nearest),
            )
        ),
        "",
        (
            "Both controls cover 0.5: the test can be trusted here."
            if controls.computed and not failures
            else "; ".join(failures) + "."
            if failures
            else f"A control had too few matched items (fewer than {MIN_ITEMS}): the test is "
            "not checked here, read the figure with care."
        ),
        "",
    ]
    data = {"counterfactuals": judged.to_dict(), "controls": controls.to_dict()}
    return lines, data


def _distinct(states: list[Any]) -> int:
    """How many different states (by value where states hash by value, else by identity)."""
    try:
        return len(set(states))
    except TypeError:
        return len({id(s) for s in states})


def _item(result: Result, names: tuple[str, ...], domain: Domain) -> dict[str, Any]:
    """An item of report.json, with the domain's legality check where it has one (Atari)."""
    item = result.to_dict(names, domain)
    check = getattr(domain, "legality_violations", None)
    if check is not None and result.counterfactual_state is not None:
        item["legality"] = check(result.original_state, result.counterfactual_state)
    return item


def _picture(domain: Domain, state: Any | None) -> Any | None:
    return None if state is None else domain.picture(state)


def _save_arrays(path: Path, result: Result, domain: Domain) -> None:
    """The agent's exact inputs (Atari: uint8 stacks), so anyone can feed them back and check
    the flip."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pair = {"original": result.original_state, "counterfactual": result.counterfactual_state}
    arrays: dict[str, np.ndarray] = {}
    for key, state in pair.items():
        array = None if state is None else domain.state_arrays(state)
        if array is not None:
            arrays[key] = array
    np.savez_compressed(path, **arrays)  # type: ignore[arg-type]


def _verdict_words(result: Result, target: Target) -> str:
    """The item's caption tail: valid or not, and for behaviour targets what the agent did."""
    if not target.is_behaviour:
        return " (valid)" if result.valid else " (not valid)"
    reached = "reaches" if result.valid else "does not reach"
    return f" ({reached} the {target.goal} first)"


def _fmt(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"
