"""``rlwb``: one command, thin subcommands.

Each subcommand parses its options, builds a config, calls one library function and says where
the result went. Heavy libraries (torch, stable-baselines3) are imported inside the commands so
``rlwb --help`` answers at once. Every :class:`RLWorkbenchError` is caught here, once: a short
titled message on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any

import click

from rl_workbench.errors import InvalidArgumentError, RLWorkbenchError

EXIT_BAD_INPUT = 2


class _NeverRaised(click.UsageError):
    pass


# click >= 8.2 raises this for a bare group; older versions print the help themselves.
_NO_ARGS_IS_HELP: type[click.UsageError] = getattr(
    click.exceptions, "NoArgsIsHelpError", _NeverRaised
)


class _Group(click.Group):
    def main(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        """Usage errors, too, are one line on stderr with the fix, and exit status 2."""
        if kwargs.get("standalone_mode", True) is False:
            return super().main(*args, **kwargs)
        try:
            code = super().main(*args, **{**kwargs, "standalone_mode": False})
        except _NO_ARGS_IS_HELP as exc:  # a bare group: its help, as click would show it
            click.echo(exc.ctx.get_help() if exc.ctx is not None else exc.format_message())
            sys.exit(0)
        except click.UsageError as exc:
            where = exc.ctx.command_path if exc.ctx is not None else "rlwb"
            click.secho("Usage error: ", fg="red", bold=True, err=True, nl=False)
            click.echo(f"{exc.format_message()} (see `{where} --help`)", err=True)
            sys.exit(EXIT_BAD_INPUT)
        except click.exceptions.Exit as exc:
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("Aborted; everything written so far is kept.", err=True)
            sys.exit(1)
        # Without standalone mode click returns ctx.exit()'s status instead of exiting with it.
        sys.exit(code if isinstance(code, int) else 0)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except RLWorkbenchError as exc:
            click.secho(f"{exc.title}: ", fg="red", bold=True, err=True, nl=False)
            click.echo(str(exc), err=True)
            ctx.exit(EXIT_BAD_INPUT)
        except KeyboardInterrupt:
            click.echo("Interrupted; everything written so far is kept.", err=True)
            ctx.exit(130)


def _progress(ctx: click.Context) -> bool:
    return not ctx.find_root().obj.get("quiet", False)


def _parse_env_args(pairs: tuple[str, ...]) -> dict[str, Any]:
    kwargs: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise InvalidArgumentError(
                f"--env-arg takes KEY=VALUE (e.g. cheese_region=5), got {pair!r}."
            )
        try:
            kwargs[key] = json.loads(raw)
        except json.JSONDecodeError:
            kwargs[key] = raw
    return kwargs


DEVICE = click.option(
    "--device",
    type=click.Choice(["cpu", "auto", "cuda"]),
    default="cpu",
    show_default=True,
    help="Where agents' networks train (auto: CUDA when present); the saved agent runs on CPU.",
)

VEC_ENV = click.option(
    "--vec-env",
    type=click.Choice(["dummy", "subproc"]),
    default="dummy",
    show_default=True,
    help="subproc: one process per env (Atari on a many-core machine); same results per seed.",
)


def _checkpoint_every(default: int, help_text: str) -> Any:
    """``--checkpoint-every`` for a long job; the help says what a crash loses at the default."""
    return click.option(
        "--checkpoint-every",
        type=click.IntRange(0),
        default=default,
        show_default=True,
        metavar="STEPS",
        help=help_text,
    )


TRUST_AGENT = click.option(
    "--trust-agent",
    "trust_agent",
    is_flag=True,
    help="Runs code from the file: unpickle every object in the agent .zip, not only the "
    "allow-listed spaces, schedules and network classes. Only for files you made yourself.",
)

ENV_ARG = click.option(
    "--env-arg",
    "env_args",
    multiple=True,
    metavar="KEY=VALUE",
    help="Keyword argument for the environment, repeatable; VALUE is JSON when it parses "
    "(e.g. --env-arg cheese_region=5 --env-arg sign=away).",
)


def agent_options(command: Any = None, *, required: bool = True) -> Any:
    """The one way every command names an agent: --agent REF, --env ID, --env-arg K=V and
    --trust-agent. A card.json beside the zip fills in --env and --env-arg when they are absent
    (a minimal card holding only env_id and env_kwargs is enough). ``required=False`` where the
    command has another way to name agents (audit's --population)."""
    if command is None:
        return lambda c: agent_options(c, required=required)
    for option in reversed(
        (
            click.option(
                "--agent",
                "agent_ref",
                required=required,
                metavar="REF",
                help="zoo:NAME, a stable-baselines3 .zip, or a folder holding agent.zip (and "
                "card.json).",
            ),
            click.option(
                "--env",
                "env_id",
                default=None,
                metavar="ID",
                help="The environment the agent was trained on [default: its card.json's]; "
                "needed for a .zip without a card.",
            ),
            ENV_ARG,
            TRUST_AGENT,
        )
    ):
        command = option(command)
    return command


def engine_options(command: Any) -> Any:
    """Where a population's tasks run: a local process pool by default, Ray with --ray."""
    for option in reversed(
        (
            click.option(
                "--ray",
                "ray_address",
                is_flag=False,
                flag_value="auto",
                default=None,
                metavar="[ADDRESS]",
                help="Run the tasks on Ray: --ray alone (or --ray auto) starts a local Ray; "
                "--ray ADDRESS joins a cluster (e.g. ray://head:10001), whose nodes must see "
                "the agents, datasets and OUT at the same paths (a shared filesystem) and have "
                "rl-workbench installed [default: a local process pool].",
            ),
            click.option(
                "--workers",
                type=click.IntRange(1),
                default=None,
                help="Worker processes (CPUs of a local Ray) [default: every core].",
            ),
            click.option(
                "--serial",
                is_flag=True,
                help="Run the tasks one after another in this process (the speed baseline; "
                "easiest to debug).",
            ),
        )
    ):
        command = option(command)
    return command


def _backend(ray_address: str | None, workers: int | None, serial: bool) -> Any:
    from rl_workbench.population import Backend

    if serial and ray_address is not None:
        raise InvalidArgumentError("--serial and --ray exclude each other: pick one.")
    if serial:
        return Backend("serial", workers or 1)
    if ray_address is not None:
        return Backend("ray", workers or 0, ray_address)
    return Backend("pool", workers or 0)


def _refuse_unused(ctx: click.Context, names: tuple[str, ...], why: str) -> None:
    """An option the user set that this run would ignore is an error, not a silent no-op."""
    from click.core import ParameterSource

    opts = {p.name: p.opts[0] for p in ctx.command.params if p.opts}
    for name in names:
        if ctx.get_parameter_source(name) not in (None, ParameterSource.DEFAULT):
            raise InvalidArgumentError(f"{opts.get(name, name)} {why}")


def _report_failures(outcome: Any, total: int, what: str) -> None:
    """One line on what resumed and what failed; failures make the exit status 1."""
    if outcome.resumed:
        click.echo(f"{outcome.resumed} of {total} {what} were already done (resumed).")
    if outcome.failures:
        click.echo(
            f"{len(outcome.failures)} of {total} {what} failed (listed in the report); run the "
            "same command again to retry them.",
            err=True,
        )


def _load_agent(
    agent_ref: str, env_id: str | None, env_args: tuple[str, ...], trust_agent: bool
) -> Any:
    """Load what ``agent_options`` named (torch and stable-baselines3 are imported here)."""
    from rl_workbench.agents import load_agent

    env_kwargs = _parse_env_args(env_args) if env_args else None
    return load_agent(agent_ref, env_id, env_kwargs, trust=trust_agent)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--quiet", "-q", is_flag=True, help="No progress bars or info messages.")
@click.option(
    "--threads",
    type=click.IntRange(1),
    default=None,
    metavar="N",
    help="torch CPU threads (default: torch's choice). One busy process per core is fastest.",
)
@click.version_option(package_name="rl-workbench", prog_name="rlwb")
@click.pass_context
def cli(ctx: click.Context, quiet: bool, threads: int | None) -> None:
    """RL Workbench: study trained reinforcement-learning agents.

    Start with `rlwb demo`. Agents are referenced as a path to a stable-baselines3 .zip
    (or a folder holding agent.zip) or as zoo:NAME for a shipped agent (`rlwb zoo list`).
    """
    ctx.ensure_object(dict)
    ctx.obj["quiet"] = quiet
    logging.basicConfig(level=logging.WARNING if quiet else logging.INFO, format="%(message)s")
    if threads is not None:
        import torch

        torch.set_num_threads(threads)


@cli.command()
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=Path("demo-report"),
    show_default=True,
    help="Report folder.",
)
@click.option(
    "--mazes",
    type=click.IntRange(1, 100),
    default=4,
    show_default=True,
    help="Number of seeded test mazes.",
)
@click.option("--seed", type=int, default=2024, show_default=True, help="Seed of the first maze.")
@click.pass_context
def demo(ctx: click.Context, out: Path, mazes: int, seed: int) -> None:
    """Show the shipped models at work (no training; a few minutes on 2 cores).

    Both zoo maze agents on seeded mazes (paths, vector fields), a goal-misgeneralization audit of
    each, maze counterfactuals, Space Invaders and Breakout counterfactuals of the agents' own
    frame stacks, and the 15x15 maze agents on a large maze with their audits. Writes
    OUT/report.md, OUT/report.json, pictures and one sub-report per part.
    """
    from rl_workbench.outputs import claim_output_folder

    ctx.with_resource(claim_output_folder(out))  # checked and locked before any work
    from rl_workbench.demo import DemoConfig, run_demo

    folder = run_demo(out, DemoConfig(mazes=mazes, seed=seed), progress=_progress(ctx))
    click.echo(f"Demo report written to {folder.resolve()}/report.md")


@cli.command()
@click.option(
    "--env", "env_id", required=True, help="Registered environment id, e.g. rlwb/MazeCorner-v0."
)
@ENV_ARG
@click.option(
    "--steps",
    type=click.IntRange(0),
    default=1_000_000,
    show_default=True,
    help="Environment steps of PPO. 0 with --imitation-samples: the imitation warm start is the "
    "agent (no PPO update).",
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--seeds",
    default=None,
    metavar="LIST",
    help="Train a population of this recipe instead of one agent: e.g. 0-9 or 0,3,5. Each seed "
    "is one task (a local process pool, or Ray with --ray) writing OUT/seed-N/; OUT/report.md "
    "holds every seed's scores and their spread. A rerun resumes unfinished seeds.",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    required=True,
    help="Folder for agent.zip, card.json, README.md and checkpoints/ (with --seeds: the "
    "population's folder).",
)
@click.option(
    "--resume/--fresh",
    default=True,
    show_default=True,
    help="Continue from OUT/checkpoints/latest.zip when it exists (it must have been trained "
    "with the same env, env args, seed and settings); --fresh discards it and starts over.",
)
@click.option("--eval-episodes", type=click.IntRange(1), default=200, show_default=True)
@click.option(
    "--extractor",
    type=click.Choice(["auto", "grid-cnn", "recurrent-grid", "nature-cnn", "mlp"]),
    default="auto",
    show_default=True,
    help="The policy's feature extractor. recurrent-grid: one conv block repeated 3x the grid's "
    "side, read out at the agent (what the 15x15 zoo agents use); auto: grid-cnn for grids up "
    "to 32 wide, nature-cnn for images.",
)
@click.option(
    "--imitation-samples",
    type=click.IntRange(0),
    default=0,
    show_default=True,
    help="Mazes only: first imitate the shortest-path solver on this many freshly drawn solved "
    "states of the training levels, then train with PPO (the card records both phases).",
)
@click.option(
    "--init-from",
    default=None,
    metavar="AGENT",
    help="Start PPO from this agent's weights (its .zip or folder) instead of a fresh network: "
    "fine-tuning, e.g. PPO after an imitation-only agent. Its network must match this run's "
    "(--env, --extractor, net_arch). With --seeds, {seed} in AGENT is each seed's number. The "
    "card records the agent's path, hash and command.",
)
@click.option(
    "--hyperparameter",
    "hyperparameters",
    multiple=True,
    metavar="KEY=VALUE",
    help="Override a PPO setting, repeatable: learning_rate, ent_coef, gamma, gae_lambda, "
    "n_epochs, n_steps, n_envs, batch_size, net_arch (e.g. --hyperparameter learning_rate=1e-4 "
    "--hyperparameter net_arch=[64,64]). The card records every setting used.",
)
@_checkpoint_every(
    20_000,
    "Env steps between checkpoints (0: only at the end). Maze PPO runs a few thousand "
    "steps/s on CPU and Atari about 200, so a crash loses seconds to under two minutes; a save "
    "takes milliseconds.",
)
@DEVICE
@VEC_ENV
@TRUST_AGENT
@engine_options
@click.pass_context
def train(
    ctx: click.Context,
    env_id: str,
    env_args: tuple[str, ...],
    steps: int,
    seed: int,
    seeds: str | None,
    out: Path,
    resume: bool,
    eval_episodes: int,
    extractor: str,
    imitation_samples: int,
    init_from: str | None,
    hyperparameters: tuple[str, ...],
    checkpoint_every: int,
    trust_agent: bool,
    device: str,
    vec_env: str,
    ray_address: str | None,
    workers: int | None,
    serial: bool,
) -> None:
    """Train a PPO agent and write it with its model card.

    \b
    Examples:
      rlwb train --env rlwb/MazeCorner-v0 --steps 500000 --out runs/corner
      rlwb train --env rlwb/Maze-v0 --env-arg cheese_region=5 --out runs/region5
      rlwb train --env rlwb/Maze-v0 --env-arg max_size=15 --extractor recurrent-grid \\
        --imitation-samples 500000 --steps 100000 --out runs/maze15
      rlwb train --env rlwb/MazeCorner-v0 --seeds 0-9 --out runs/corner-population --ray
    """
    seed_list = None
    if seeds is not None:
        from rl_workbench.population import parse_seeds

        seed_list = parse_seeds(seeds)
        _refuse_unused(ctx, ("seed",), "and --seeds exclude each other: --seeds names them all.")
    else:
        _refuse_unused(
            ctx, ("ray_address", "workers", "serial"), "runs a population's tasks: add --seeds."
        )
    from rl_workbench.outputs import claim_output_folder

    ctx.with_resource(claim_output_folder(out))  # checked and locked before any work
    from rl_workbench.agents import TrainConfig, train_ppo
    from rl_workbench.agents.train import parse_hyperparameters

    config = TrainConfig(
        env_id=env_id,
        env_kwargs=_parse_env_args(env_args),
        total_steps=steps,
        seed=seed if seed_list is None else seed_list[0],
        eval_episodes=eval_episodes,
        checkpoint_every=checkpoint_every,
        extractor=extractor,  # type: ignore[arg-type]
        imitation_samples=imitation_samples,
        device=device,  # type: ignore[arg-type]
        vec_env=vec_env,  # type: ignore[arg-type]
        init_from=init_from,
        **parse_hyperparameters(hyperparameters),
    )
    if seed_list is not None:
        _train_population(
            ctx, config, seed_list, out, resume, trust_agent, _backend(ray_address, workers, serial)
        )
        return
    result = train_ppo(config, out, resume=resume, progress=_progress(ctx), trust=trust_agent)
    sampled = result.card.evaluation["sampled"]
    click.echo(
        f"Agent written to {result.agent_path} (success {sampled['success_rate']:.1%} over "
        f"{sampled['episodes']} episodes; card: {result.folder / 'README.md'})"
    )


def _train_population(
    ctx: click.Context,
    config: Any,
    seeds: list[int],
    out: Path,
    resume: bool,
    trust: bool,
    backend: Any,
) -> None:
    import dataclasses
    import shlex
    import shutil

    from rl_workbench.domains import make_env
    from rl_workbench.domains.environments import check_env_id
    from rl_workbench.population import Task, run_tasks
    from rl_workbench.population.report import write_training_report

    check_env_id(config.env_id)  # one line now, not one failure per seed
    make_env(config.env_id, config.env_kwargs).close()  # bad --env-arg values too
    command = " ".join(shlex.quote(a) for a in ["rlwb", *sys.argv[1:]])
    out = out.resolve()  # workers (Ray's above all) may not share our working directory
    if not resume:
        for s in seeds:
            shutil.rmtree(out / f"seed-{s}", ignore_errors=True)
            (out / "tasks" / f"train--seed-{s}.json").unlink(missing_ok=True)
    tasks = [
        Task(
            f"train--seed-{s}",
            "train",
            {
                "config": _jsonable_config(
                    dataclasses.replace(
                        config,
                        seed=s,
                        threads=1,
                        init_from=None
                        if config.init_from is None
                        else config.init_from.replace("{seed}", str(s)),
                    )
                ),
                "trust": trust,
                "command": f"{command}  # seed {s}",
                "out": str(out / f"seed-{s}"),
            },
            expects=str(out / f"seed-{s}" / "agent.zip"),
        )
        for s in seeds
    ]
    click.echo(f"Training {len(seeds)} seeds {backend.describe()}.", err=True)
    outcome = run_tasks(tasks, out, backend, progress=_progress(ctx), desc="seeds")
    summary = write_training_report(
        out,
        list(outcome.results.values()),
        outcome.failures,
        {
            "env_id": config.env_id,
            "env_kwargs": config.env_kwargs,
            "total_steps": config.total_steps,
            "seeds": seeds,
            "engine": backend.describe(),
            "seconds": round(outcome.seconds, 2),
        },
    )
    mean = summary["sampled_success"].get("mean")
    if mean:
        click.echo(
            f"{len(outcome.results)} agents in {out}/seed-N; sampled success over seeds "
            f"{mean['value']:.1%}."
        )
    _report_failures(outcome, len(tasks), "seeds")
    click.echo(f"Report written to {out / 'report.md'} ({outcome.seconds:.1f} s)")
    if outcome.failures:
        ctx.exit(1)


def _jsonable_config(config: Any) -> dict[str, Any]:
    """A TrainConfig as plain JSON for a task's parameters (``TrainConfig.recorded``).

    ``family_policy`` stays in: ledgers have recorded it since it was added, and leaving it out
    now would make every population trained since then count as new work and train again.
    """
    return config.recorded(keep=("family_policy",))


@cli.group(cls=_Group)
def zoo() -> None:
    """The shipped agents (and generators): list them, find their files, rebuild them."""


@zoo.command("list")
def zoo_list() -> None:
    """Name, environment, algorithm and evaluation score of every zoo agent."""
    from rl_workbench.agents.zoo import zoo_table

    rows = zoo_table()
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


@zoo.command("path")
@click.argument("name")
def zoo_path(name: str) -> None:
    """Print the path of a zoo agent's .zip (its card.json and README.md sit beside it)."""
    from rl_workbench.agents.zoo import resolve_agent_path

    click.echo(str(resolve_agent_path(f"zoo:{name}")))


@zoo.command("build")
@click.argument("name")
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="Write here instead of the package's zoo folder.",
)
@click.option(
    "--steps",
    type=click.IntRange(1),
    default=None,
    help="Override the recipe's step count: environment steps for an agent, fit steps for a "
    "generator (the card records it).",
)
@click.option(
    "--resume/--fresh",
    default=True,
    show_default=True,
    help="Continue from the folder's last checkpoint when it exists (a generator build also "
    "keeps its collected states there until it ends).",
)
@DEVICE
@VEC_ENV
@click.pass_context
def zoo_build(
    ctx: click.Context,
    name: str,
    out: Path | None,
    steps: int | None,
    resume: bool,
    device: str,
    vec_env: str,
) -> None:
    """Retrain a zoo agent or generator from its recipe, same seed and settings.

    Agents: maze-corner, maze-uniform (7x7, minutes), maze15-corner, maze15-uniform, maze15-sign
    (procgen's easy scale; solver imitation then PPO, about an hour each on one core),
    spaceinvaders-ppo, breakout-ppo, minigrid-doorkey (MiniGrid DoorKey, minutes).
    Generators: maze-generator and maze15-generator (minutes),
    spaceinvaders-generator and breakout-generator (whole stacks; also fit the latent method's
    autoencoder; about 80 min on one core), spaceinvaders-inpainter and breakout-inpainter (what
    diffusion edits those games with; about 40 min each on one core).
    """
    from rl_workbench.generative.zoo import ZOO_GENERATORS

    if out is not None:
        from rl_workbench.outputs import claim_output_folder

        ctx.with_resource(claim_output_folder(out))  # checked and locked before any work
    if name in ZOO_GENERATORS:
        from rl_workbench.generative.zoo import GENERATOR_ZOO_DIR, build_zoo_generator

        build_zoo_generator(name, out, steps=steps, resume=resume, progress=_progress(ctx))
        click.echo(f"{name} written to {out or GENERATOR_ZOO_DIR / name} (see its README.md)")
        return
    from rl_workbench.agents.zoo import build_zoo_agent

    result = build_zoo_agent(
        name,
        out,
        progress=_progress(ctx),
        resume=resume,
        total_steps=steps,
        device=device,  # type: ignore[arg-type]
        vec_env=vec_env,  # type: ignore[arg-type]
    )
    sampled = result.card.evaluation["sampled"]
    click.echo(f"{name}: success {sampled['success_rate']:.1%}; written to {result.folder}")


@cli.command()
@agent_options
@click.option("--n-states", type=click.IntRange(1), default=10_000, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--greedy", is_flag=True, help="Act by argmax instead of sampling.")
@click.option(
    "--shard-size",
    type=click.IntRange(1),
    default=5000,
    show_default=True,
    help="States per .npz shard (each shard is saved as soon as it is full).",
)
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Dataset folder (new).")
@click.pass_context
def collect(
    ctx: click.Context,
    agent_ref: str,
    env_id: str | None,
    env_args: tuple[str, ...],
    n_states: int,
    seed: int,
    greedy: bool,
    shard_size: int,
    out: Path,
    trust_agent: bool,
) -> None:
    """Roll an agent out and keep observations, actions, distributions, values and env states.

    Writes OUT/manifest.json and OUT/shard-*.npz (readable with numpy alone; see `rlwb inspect`).
    """
    from rl_workbench.outputs import claim_output_folder

    ctx.with_resource(claim_output_folder(out))  # checked and locked before any work
    from rl_workbench.data import CollectConfig
    from rl_workbench.data import collect as collect_states

    loaded = _load_agent(agent_ref, env_id, env_args, trust_agent)
    dataset = collect_states(
        loaded,
        out,
        CollectConfig(n_states=n_states, seed=seed, greedy=greedy, shard_size=shard_size),
        progress=_progress(ctx),
    )
    click.echo(f"{dataset.n_states} states written to {out}")


def _widths(text: str | None) -> tuple[int, ...] | None:
    """Parse --widths: positive multiples of 8 (the UNet's group norm uses 8 groups)."""
    if text is None:
        return None
    try:
        widths = tuple(int(w) for w in text.split(","))
    except ValueError:
        widths = ()
    if len(widths) < 2 or any(w <= 0 or w % 8 for w in widths):
        raise InvalidArgumentError(
            f"--widths {text!r} is not a list of at least two positive multiples of 8 "
            "(e.g. --widths 16,32,64,64)."
        )
    return widths


@cli.command("fit-generator")
@click.option(
    "--data",
    type=click.Path(path_type=Path),
    required=True,
    help="A dataset folder made by `rlwb collect` (maze levels or Atari frame stacks).",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    required=True,
    help="Generator folder (diffusers format: unet/, scheduler/, generator.json).",
)
@click.option("--steps", type=click.IntRange(1), default=3000, show_default=True)
@click.option(
    "--batch-size",
    type=click.IntRange(1),
    default=None,
    help="States per step [default: 64 for mazes, 16 for Atari stacks, 64 with --inpainting].",
)
@click.option(
    "--widths",
    default=None,
    metavar="W1,W2,...",
    help="UNet channels per resolution, multiples of 8 [default: 64,128,128 for mazes, "
    "16,32,64,64 for Atari, 32,64,64 with --inpainting].",
)
@click.option(
    "--inpainting",
    is_flag=True,
    help="Atari: fit a mask-conditioned inpainting model of 32x32 stack windows (what "
    "`explain --method diffusion` edits regions with) instead of a model of whole stacks.",
)
@click.option(
    "--cosine-decay",
    is_flag=True,
    help="Anneal the step size to zero over --steps (the zoo's maze generators use it: their "
    "samples are read exactly, and the small last steps make them precise).",
)
@click.option(
    "--self-conditioning",
    is_flag=True,
    help="Mazes: the UNet also sees its own previous estimate of the clean level (Analog Bits; "
    "the 15x15 zoo generator uses it). About 1.25x the time per step.",
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--resume/--fresh",
    default=True,
    show_default=True,
    help="Continue from OUT/checkpoint when it exists (made from the same dataset with the same "
    "batch size, widths and seed); --fresh replaces it.",
)
@_checkpoint_every(
    100,
    "Steps between checkpoints (0: only at the end). A maze step takes about 0.1 s on CPU "
    "and an Atari step about 1 s, so a crash loses seconds to under two minutes.",
)
@click.pass_context
def fit_generator_command(
    ctx: click.Context,
    data: Path,
    out: Path,
    steps: int,
    batch_size: int | None,
    widths: str | None,
    seed: int,
    resume: bool,
    checkpoint_every: int,
    inpainting: bool,
    cosine_decay: bool,
    self_conditioning: bool,
) -> None:
    """Fit a diffusion model (diffusers UNet2DModel + DDIM) on a dataset's states.

    Maze datasets give a model of levels, Atari datasets a model of 4-frame stacks. Checkpoints
    go into OUT/checkpoint (atomically); an interrupted fit resumes from there. On CPU an Atari
    fit takes about a second per step.
    """
    from rl_workbench.outputs import claim_output_folder

    ctx.with_resource(claim_output_folder(out))  # checked and locked before any work
    from rl_workbench.generative import FitConfig, fit_generator

    config = FitConfig(
        steps=steps,
        batch_size=batch_size,
        block_out_channels=_widths(widths),
        seed=seed,
        checkpoint_every=checkpoint_every,
        inpainting=inpainting,
        cosine_decay=cosine_decay,
        self_conditioning=self_conditioning,
    )
    generator = fit_generator(data, out, config, progress=_progress(ctx), resume=resume)
    click.echo(f"Generator written to {out}{generator.quality_note()}")


@cli.command("fit-autoencoder")
@click.option(
    "--data",
    type=click.Path(path_type=Path),
    required=True,
    help="An Atari dataset folder made by `rlwb collect`.",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    required=True,
    help="The generator folder; the autoencoder is saved as its vae/ subfolder.",
)
@click.option("--steps", type=click.IntRange(1), default=2000, show_default=True)
@click.option("--batch-size", type=click.IntRange(1), default=16, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--resume/--fresh",
    default=True,
    show_default=True,
    help="Continue from OUT/vae-checkpoint when it exists (made from the same dataset with the "
    "same batch size and seed); --fresh replaces it.",
)
@_checkpoint_every(
    100,
    "Steps between checkpoints (0: only at the end). A step takes about 1 s on CPU, so a "
    "crash loses under two minutes.",
)
@click.pass_context
def fit_autoencoder_command(
    ctx: click.Context,
    data: Path,
    out: Path,
    steps: int,
    batch_size: int,
    seed: int,
    resume: bool,
    checkpoint_every: int,
) -> None:
    """Fit the latent method's autoencoder (diffusers AutoencoderKL) on Atari frame stacks.

    The latent method searches this model's latent space, as Olson et al. and Rupprecht et al.
    did with theirs. Fit it on the same dataset as the generator (it may run beside
    fit-generator: it locks only OUT/vae). Checkpoints atomically; an interrupted fit resumes.
    """
    from rl_workbench.outputs import claim_output_folder

    ctx.with_resource(claim_output_folder(out, part="vae"))  # checked before any work
    from rl_workbench.generative import AutoencoderFitConfig, fit_autoencoder

    config = AutoencoderFitConfig(
        steps=steps, batch_size=batch_size, seed=seed, checkpoint_every=checkpoint_every
    )
    fit_autoencoder(data, out, config, progress=_progress(ctx), resume=resume)
    mse = json.loads((out / "vae" / "fit.json").read_text())["final_mse"]
    click.echo(
        f"Autoencoder written to {out / 'vae'} (final reconstruction MSE {mse:.5f}, "
        "in the model's [-1, 1] units)"
    )


@cli.command()
@agent_options
@click.option(
    "--method",
    type=click.Choice(
        ["diffusion", "guided-projection", "latent", "objects", "search", "nearest", "pixel"]
    ),
    default="diffusion",
    show_default=True,
    help="diffusion: guided edits by a diffusers generator; guided-projection (mazes, MiniGrid): "
    "the same guided steps with no generator, projected onto a perfect maze or a legal room (it "
    "does as well as diffusion there: the generator does not do the work; see README); "
    "latent (Atari): search in an "
    "autoencoder's latent space; objects (Space Invaders, Breakout): fewest edits of game "
    "objects through the emulator's RAM, drawn by the game itself; search (mazes, MiniGrid): "
    "the fewest atomic edits; nearest: closest real state; pixel: gradient attack on the input.",
)
@click.option(
    "--target",
    default="any",
    show_default=True,
    help="any, an action name (up/down/left/right; MiniGrid: left/right/forward/...), value-high, "
    "value-low or uncertain; for maze agents also a behaviour, reach:cheese, reach:corner or "
    "reach:sign (the agent's greedy rollout on the counterfactual must reach it before any other "
    "landmark); for MiniGrid agents reach:goal, reach:corner or reach:ball (reached at all "
    "before the episode ends).",
)
@click.option(
    "--n",
    "n",
    type=click.IntRange(1),
    default=10,
    show_default=True,
    help="States to explain, met by the agent in seeded episodes.",
)
@click.option(
    "--data",
    type=click.Path(path_type=Path),
    default=None,
    help="Explain the first N distinct states of this dataset instead (nearest also "
    "draws its real levels from it).",
)
@click.option(
    "--whole-dataset",
    is_flag=True,
    help="With --data: explain every distinct state of the dataset (--n is ignored), in slices "
    "of --slice states, each an independent task (a local process pool, or Ray with --ray); "
    "each slice's report goes to OUT/slices/, OUT/report.md pools them. A rerun resumes.",
)
@click.option(
    "--slice",
    "slice_size",
    type=click.IntRange(1),
    default=50,
    show_default=True,
    help="States per task with --whole-dataset.",
)
@click.option(
    "--generator",
    "generator_ref",
    default=None,
    help="Generator folder for diffusion and latent [default: zoo:maze-generator for 7x7 mazes, "
    "zoo:maze15-generator for 15x15 ones; "
    "for Space Invaders zoo:spaceinvaders-inpainter (diffusion) and zoo:spaceinvaders-generator "
    "(latent); for Breakout zoo:breakout-inpainter and zoo:breakout-generator; other games "
    "need one made with collect + fit-generator --inpainting (+ fit-autoencoder for latent)].",
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Report folder.")
@engine_options
@click.pass_context
def explain(
    ctx: click.Context,
    agent_ref: str,
    env_id: str | None,
    env_args: tuple[str, ...],
    method: str,
    target: str,
    n: int,
    data: Path | None,
    whole_dataset: bool,
    slice_size: int,
    generator_ref: str | None,
    seed: int,
    out: Path,
    trust_agent: bool,
    ray_address: str | None,
    workers: int | None,
    serial: bool,
) -> None:
    """Find counterfactual levels: the smallest legal change that makes the agent act otherwise.

    Writes OUT/report.json (config, summary, every item with both levels and distributions),
    OUT/report.md and OUT/items/item-NNNN.png. Validity is judged on the decoded, legal level.
    A rerun into the same OUT removes the item files of the last run that this one did not
    rewrite (only files an rlwb report wrote; nothing else in OUT is touched).
    """
    from rl_workbench.outputs import claim_output_folder

    ctx.with_resource(claim_output_folder(out))  # checked and locked before any work
    from rl_workbench.counterfactual import ExplainConfig, run_explain

    if data is not None and method == "objects":
        raise InvalidArgumentError(
            "--method objects lets the game redraw each state from the emulator's memory, and "
            "states read from a dataset carry none. Run without --data: states are then met in "
            "seeded games."
        )
    if whole_dataset and data is None:
        raise InvalidArgumentError(
            "--whole-dataset explains every state of a dataset: name it with --data DATASET."
        )
    if whole_dataset:
        _refuse_unused(ctx, ("n",), "is ignored with --whole-dataset (every state is explained).")
    else:
        _refuse_unused(
            ctx,
            ("slice_size", "ray_address", "workers", "serial"),
            "splits a whole dataset into tasks: add --data DATASET --whole-dataset.",
        )
    loaded = _load_agent(agent_ref, env_id, env_args, trust_agent)
    from rl_workbench.counterfactual.explain import require_supported

    require_supported(loaded.env_id, method)
    if whole_dataset:
        assert data is not None
        _explain_dataset(
            ctx,
            loaded,
            agent_ref,
            env_id,
            env_args,
            trust_agent,
            method,
            target,
            data,
            slice_size,
            generator_ref,
            seed,
            out,
            _backend(ray_address, workers, serial),
        )
        return
    states = pool = None
    if data is not None:
        from rl_workbench.data import Dataset
        from rl_workbench.data.dataset import check_dataset_matches

        dataset = Dataset.open(data)
        check_dataset_matches(dataset, loaded)
        pool = list(dict.fromkeys(dataset.states()))
        states = pool[:n]
    from rl_workbench.counterfactual.explain import load_method_model

    generator = load_method_model(method, loaded, generator_ref, agent_ref)
    config = ExplainConfig(method=method, target=target, n=n, seed=seed)
    summary = run_explain(
        loaded, out, config, states=states, pool=pool, generator=generator, progress=_progress(ctx)
    )
    click.echo(
        f"{summary['n']} counterfactuals, validity "
        f"{'n/a' if summary['validity'] is None else format(summary['validity'], '.1%')}; "
        f"report written to {Path(out) / 'report.md'}"
    )


def _explain_dataset(
    ctx: click.Context,
    loaded: Any,
    agent_ref: str,
    env_id: str | None,
    env_args: tuple[str, ...],
    trust_agent: bool,
    method: str,
    target: str,
    data: Path,
    slice_size: int,
    generator_ref: str | None,
    seed: int,
    out: Path,
    backend: Any,
) -> None:
    from rl_workbench.counterfactual.explain import load_method_model
    from rl_workbench.data import Dataset
    from rl_workbench.data.dataset import check_dataset_matches
    from rl_workbench.population import Task, run_tasks
    from rl_workbench.population.report import write_explain_report

    dataset = Dataset.open(data)
    check_dataset_matches(dataset, loaded)
    total = len(dict.fromkeys(dataset.states()))
    load_method_model(method, loaded, generator_ref, agent_ref)  # a missing generator: now
    out = out.resolve()  # workers (Ray's above all) may not share our working directory
    agent = agent_ref if agent_ref.startswith("zoo:") else str(Path(agent_ref).resolve())
    tasks = [
        Task(
            f"explain--{start:07d}-{min(start + slice_size, total):07d}",
            "explain",
            {
                "agent": agent,
                "env": env_id,
                "env_kwargs": _parse_env_args(env_args) if env_args else None,
                "trust": trust_agent,
                "data": str(Path(data).resolve()),
                "start": start,
                "stop": min(start + slice_size, total),
                "method": method,
                "target": target,
                "generator": generator_ref,
                "seed": seed + start,
                "out": str(out / "slices" / f"{start:07d}-{min(start + slice_size, total):07d}"),
            },
            expects=str(
                out / "slices" / f"{start:07d}-{min(start + slice_size, total):07d}" / "report.json"
            ),
        )
        for start in range(0, total, slice_size)
    ]
    click.echo(
        f"Explaining {total} distinct states in {len(tasks)} slices {backend.describe()}.",
        err=True,
    )
    outcome = run_tasks(tasks, out, backend, progress=_progress(ctx), desc="slices")
    pooled = write_explain_report(
        out,
        list(outcome.results.values()),
        outcome.failures,
        {
            "data": str(data),
            "method": method,
            "target": target,
            "slice": slice_size,
            "seed": seed,
            "engine": backend.describe(),
            "seconds": round(outcome.seconds, 2),
        },
    )
    validity = "n/a" if pooled["validity"] is None else format(pooled["validity"], ".1%")
    click.echo(f"{pooled['n']} counterfactuals, validity {validity}")
    _report_failures(outcome, len(tasks), "slices")
    click.echo(f"Report written to {out / 'report.md'} ({outcome.seconds:.1f} s)")
    if outcome.failures:
        ctx.exit(1)


@cli.command()
@agent_options(required=False)
@click.option(
    "--population",
    type=click.Path(path_type=Path),
    default=None,
    metavar="FILE_OR_DIR",
    help="Audit many agents instead of --agent: a text file with one agent reference per line "
    "(paths or zoo:NAME; # comments), or a folder of agents (sub-folders holding agent.zip). "
    "Each agent x suite is one task; see --ray and --workers.",
)
@click.option(
    "--suite",
    "suite_refs",
    required=True,
    multiple=True,
    help="An audit suite YAML file, or the name of a shipped one (corner, sign: scenarios/); "
    "repeatable with --population.",
)
@click.option(
    "--mazes", type=click.IntRange(1), default=None, help="Test mazes [default: the suite's]."
)
@click.option("--seed", type=int, default=None, help="First maze seed [default: the suite's].")
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Report folder.")
@engine_options
@click.pass_context
def audit(
    ctx: click.Context,
    agent_ref: str | None,
    env_id: str | None,
    env_args: tuple[str, ...],
    population: Path | None,
    suite_refs: tuple[str, ...],
    mazes: int | None,
    seed: int | None,
    out: Path,
    trust_agent: bool,
    ray_address: str | None,
    workers: int | None,
    serial: bool,
) -> None:
    """Goal-misgeneralization audit: does the agent pursue the cheese, or a proxy?

    Runs the suite's protocols (P1 outcomes under shift, P2 decision squares, P3 counterfactual
    sensitivity, P7 colour versus position) on the suite's test mazes, prints the verdict
    (pursues-goal, pursues-proxy:NAME, not-competent, or inconclusive when the mazes are too few
    or an interval straddles a threshold) with its strongest evidence, and writes
    OUT/report.json and OUT/report.md with plots. Thresholds live in the suite file.

    With --population, every agent is audited with every --suite as independent tasks (a local
    process pool, or Ray with --ray); each agent's report goes to OUT/audits/AGENT--SUITE/ and
    OUT/report.md holds per-agent rows, each training condition's score with a bootstrap
    interval over agents, and the detection plot. Finished tasks are recorded in OUT/tasks/, so
    an interrupted run resumes where it stopped; a failing agent is reported, not fatal.

    \b
    Examples:
      rlwb audit --agent zoo:maze-corner --suite corner --out audit/
      rlwb audit --population agents.txt --suite corner --suite sign --out pop-audit/ --ray
    """
    if (agent_ref is None) == (population is None):
        raise InvalidArgumentError(
            "Name the agent with --agent REF, or many agents with --population FILE_OR_DIR "
            "(one of the two)."
        )
    if population is None and len(suite_refs) > 1:
        raise InvalidArgumentError(
            "One agent is audited with one --suite per run; audit several suites at once with "
            "--population (a one-line file naming the agent will do)."
        )
    if population is None:
        _refuse_unused(
            ctx, ("ray_address", "workers", "serial"), "runs a population: add --population."
        )
    from rl_workbench.outputs import claim_output_folder

    ctx.with_resource(claim_output_folder(out))  # checked and locked before any work
    from rl_workbench.audit.suite import resolve_suite

    suites = [resolve_suite(ref) for ref in suite_refs]  # a bad suite stops us before any work
    names = [suite.name for suite in suites]
    for name in names:
        if names.count(name) > 1:
            raise InvalidArgumentError(
                f"Two --suite options name the suite {name!r}: give each suite once (suites with "
                "the same name: rename one in its file)."
            )
    if population is not None:
        _audit_population(
            ctx,
            population,
            suites,
            env_id,
            env_args,
            mazes,
            seed,
            out,
            trust_agent,
            _backend(ray_address, workers, serial),
        )
        return
    from rl_workbench.audit import run_audit

    assert agent_ref is not None
    loaded = _load_agent(agent_ref, env_id, env_args, trust_agent)
    data = run_audit(loaded, suites[0], out, mazes=mazes, seed=seed, progress=_progress(ctx))
    click.echo(f"Verdict: {data['verdict']}")
    click.echo(data["summary"])
    click.echo(f"Report written to {Path(out) / 'report.md'}")


def _file_safe(name: str) -> str:
    import re

    return re.sub(r"[^A-Za-z0-9_.=+-]", "_", name).lstrip("._-")[:60] or "suite"


def _audit_population(
    ctx: click.Context,
    population: Path,
    suites: list[Any],
    env_id: str | None,
    env_args: tuple[str, ...],
    mazes: int | None,
    seed: int | None,
    out: Path,
    trust_agent: bool,
    backend: Any,
) -> None:
    from rl_workbench.population import Task, read_population, run_tasks
    from rl_workbench.population.report import write_population_report

    members = read_population(population)
    out = out.resolve()  # workers (Ray's above all) may not share our working directory
    env_kwargs = _parse_env_args(env_args) if env_args else None
    tasks = [
        Task(
            f"audit--{m.name}--{_file_safe(suite.name)}",
            "audit",
            {
                "name": m.name,
                "agent": m.ref,
                "env": env_id,
                "env_kwargs": env_kwargs,
                "trust": trust_agent,
                "suite": str(Path(suite.path).resolve()),
                "mazes": mazes,
                "seed": seed,
                "out": str(out / "audits" / f"{m.name}--{_file_safe(suite.name)}"),
            },
            expects=str(out / "audits" / f"{m.name}--{_file_safe(suite.name)}" / "report.json"),
        )
        for m in members
        for suite in suites
    ]
    click.echo(
        f"Auditing {len(members)} agents x {len(suites)} suite(s) {backend.describe()}.", err=True
    )
    outcome = run_tasks(tasks, out, backend, progress=_progress(ctx), desc="audits")
    mazes_text = (
        f"{mazes} test levels each" if mazes is not None else "each suite's own number of levels"
    )
    summary = write_population_report(
        out,
        list(outcome.results.values()),
        outcome.failures,
        {
            "population": str(population),
            "agents": len(members),
            "suites": [str(s.path) for s in suites],
            "mazes": mazes,
            "mazes_text": mazes_text,
            "seed": seed,
            "engine": backend.describe(),
            "seconds": round(outcome.seconds, 2),
        },
        threshold_by_suite={s.name: s.thresholds.proxy_rate for s in suites},
    )
    for suite, conditions in summary.items():
        for condition, agg in conditions.items():
            mean = agg["proxy_pursuit"].get("mean")
            value = "n/a" if not mean else f"{mean['value']:.2f}"
            agents = agg["proxy_pursuit"]["agents"] + agg["no_score"]
            click.echo(
                f"{suite}: {condition}: {agents} agents, mean proxy pursuit {value}"
                + (f" (over {agg['proxy_pursuit']['agents']})" if agg["no_score"] else "")
                + f"; verdicts {agg['verdicts']}"
            )
    _report_failures(outcome, len(tasks), "audits")
    click.echo(f"Report written to {out / 'report.md'} ({outcome.seconds:.1f} s)")
    if outcome.failures:
        ctx.exit(1)


DECK = click.option(
    "--deck",
    default="maze",
    show_default=True,
    help="A deck file, or the name of a shipped one (maze, maze15, spaceinvaders, minigrid: "
    "scenarios/).",
)


@cli.group(invoke_without_command=True)
@DECK
@click.option("--user", default=None, help="Your name in the results [default: $USER].")
@click.option(
    "--db",
    type=click.Path(path_type=Path),
    default=None,
    help="The answer database [default: quiz.sqlite in your data directory].",
)
@TRUST_AGENT
@click.option(
    "--web",
    is_flag=True,
    hidden=True,
    help="Run as `rlwb quiz serve` runs each participant: one session per person (a finished "
    "one is shown again), messages on stderr (stdout carries the browser's terminal).",
)
@click.pass_context
def quiz(
    ctx: click.Context,
    deck: str,
    user: str | None,
    db: Path | None,
    trust_agent: bool,
    web: bool,
) -> None:
    """The prediction quiz: predict the agent, steer it, spot a flawed one (a terminal app).

    Every answer is saved the moment it is given; running the same command again resumes an
    unfinished session. An answer the database refuses (locked, read-only) is kept, retried,
    and if still refused at the end written to a JSON file beside it (exit status 2).
    `rlwb quiz stats` summarises the answers.
    """
    if ctx.invoked_subcommand is not None:
        return
    import getpass

    from rl_workbench.quiz.app import create_app
    from rl_workbench.quiz.store import AnswersNotStoredError

    if _progress(ctx):  # the checks and agent loading take seconds before the app appears
        click.echo("Checking the deck and the database, loading the agents...", err=True)
    app = create_app(
        deck, user or getpass.getuser(), db, trust_agent=trust_agent, single_session=web
    )
    app.run()
    if app.declined:
        click.echo("You did not agree to take part: nothing about you was stored.", err=web)
        return
    session = app.session
    report = app.close_report or (session.close() if session is not None else None)
    if report is not None and report.unsaved:
        if report.dump is None and session is not None:  # no folder took the file
            click.echo(session.pending_json(), err=web)
        kept = f"kept in {report.dump}" if report.dump else "printed above as JSON"
        raise AnswersNotStoredError(
            f"{report.unsaved} answer(s) not stored in {app.store.path}. "
            f"{str(report.problem).rstrip('.')}. They are {kept}. Free the database (close the "
            "program that locks it, or make it writable) and run the quiz again with the same "
            "--db and --user: it stores them and resumes."
        )
    if app.failure is not None:
        from rl_workbench.quiz.deck import DeckError

        raise DeckError(f"{app.failure} Every answer given before is stored in {app.store.path}.")
    if app.return_code:  # the app stopped on an error: say so, never "Answers saved"
        click.echo(
            f"The quiz stopped on an error (above). Every answer given before it is stored in "
            f"{app.store.path}; the same command resumes the session.",
            err=True,
        )
        ctx.exit(app.return_code)
    click.echo(f"Answers saved in {app.store.path}", err=web)


@quiz.command("stats")
@click.option(
    "--db",
    type=click.Path(path_type=Path),
    default=None,
    help="The answer database [default: quiz.sqlite in your data directory].",
)
@click.option("--csv", "csv_path", type=click.Path(path_type=Path), help="Also write every answer.")
@click.option("--force", is_flag=True, help="Overwrite an existing --csv file.")
@click.option(
    "--exclude-inattentive",
    is_flag=True,
    help="Leave out every answer of participants who failed an attention check of the deck "
    "(decide before looking at the results; the CSV keeps everyone).",
)
def quiz_stats(
    db: Path | None, csv_path: Path | None, force: bool, exclude_inattentive: bool
) -> None:
    """Participants per arm, person-level means with 95% t intervals, explain minus control with
    Welch's interval and a permutation test, and every answer as a flat CSV.

    The person is the unit: each figure is a mean over participants of their own means. Reads
    the database without writing to it (it may be on read-only media).
    """
    from rl_workbench.quiz.stats import check_csv_path, export_csv, format_summary, summarise
    from rl_workbench.quiz.store import AnswerStore, default_db_path

    path = db or default_db_path()
    if not Path(path).is_file():
        raise InvalidArgumentError(
            f"No answer database at {path}; take the quiz first or pass --db."
        )
    if csv_path is not None:
        check_csv_path(csv_path, force=force)
    store = AnswerStore(path, read_only=True)
    click.echo(format_summary(summarise(store, exclude_inattentive=exclude_inattentive)))
    if csv_path is not None:
        n = export_csv(store, csv_path)
        click.echo(f"{n} answers written to {csv_path}")


@quiz.command("serve")
@DECK
@click.option(
    "--db",
    type=click.Path(path_type=Path),
    required=True,
    help="The study's answer database (required: a served study never writes to a personal "
    "default).",
)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on (0.0.0.0: every interface; put a TLS proxy in front).",
)
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option(
    "--id-param",
    default="participant",
    show_default=True,
    help="The link's query parameter holding the participant id (e.g. PROLIFIC_PID).",
)
@click.option(
    "--max-participants",
    type=click.IntRange(1, 256),
    default=8,
    show_default=True,
    help="Quizzes running at once (each is a process with the agents loaded, ~0.5 GB); "
    "later arrivals see a 'full, reload in a few minutes' page.",
)
@click.option(
    "--public-url",
    default=None,
    help="The address participants use, when a proxy serves it [default: http://HOST:PORT].",
)
@TRUST_AGENT
def quiz_serve(
    deck: str,
    db: Path,
    host: str,
    port: int,
    id_param: str,
    max_participants: int,
    public_url: str | None,
    trust_agent: bool,
) -> None:
    """Serve the quiz to remote participants in their browsers (nothing to install).

    Send each participant a link ending in ?participant=ID (or your platform's --id-param).
    The deck's consent text comes first, attention checks are the deck's `attention` phases,
    and the last screen shows the deck's debrief and completion code. Answers go to --db, the
    same store as terminal sessions; `rlwb quiz stats --db DB` analyses them.
    """
    import re

    from rl_workbench.quiz.deck import resolve_deck
    from rl_workbench.quiz.items import load_quiz_agents
    from rl_workbench.quiz.serve import QuizServer
    from rl_workbench.quiz.store import AnswerStore

    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,63}", id_param):
        raise InvalidArgumentError(
            f"--id-param {id_param!r} is not a query parameter name; use letters, digits and _, "
            "e.g. --id-param PROLIFIC_PID."
        )
    loaded = resolve_deck(deck)
    AnswerStore(db).close()  # refused here (not writable, not a quiz database) before serving
    load_quiz_agents(loaded, trust=trust_agent)  # every participant's process loads them too
    server = QuizServer(
        loaded, db, host=host, port=port, id_param=id_param, max_participants=max_participants,
        public_url=public_url, trust_agent=trust_agent,
    )  # fmt: skip
    try:
        server.serve()
    except OSError as exc:
        raise InvalidArgumentError(
            f"Cannot listen on {host}:{port} ({exc.strerror or exc}). Pass another --port, or "
            "stop what uses it."
        ) from None


@quiz.command("simulate")
@DECK
@click.option(
    "--db",
    type=click.Path(path_type=Path),
    required=True,
    help="The database to write (required, so simulated answers never land in a real study's "
    "database by accident).",
)
@click.option("--participants", type=click.IntRange(1, 10_000), default=10, show_default=True,
              help="Simulated participants of each kind.")  # fmt: skip
@click.option(
    "--kinds",
    default="learner",
    show_default=True,
    help="Comma-separated: guesser (random), learner (remembers the study examples it is shown), "
    "perfect (the agent's own distribution), planted (an explain - control effect of known "
    "size: q mixes π with uniform by a weight drawn lower in the explain arm; checks that your "
    "analysis recovers it).",
)
@click.option("--seed", type=int, default=0, show_default=True)
@TRUST_AGENT
@click.pass_context
def quiz_simulate(
    ctx: click.Context,
    deck: str,
    db: Path,
    participants: int,
    kinds: str,
    seed: int,
    trust_agent: bool,
) -> None:
    """Run simulated participants through a deck into --db, to test a study's pipeline before
    anyone takes part (`rlwb quiz stats --db DB` then analyses them like people)."""
    from tqdm import tqdm

    from rl_workbench.quiz.deck import resolve_deck
    from rl_workbench.quiz.items import load_quiz_agents
    from rl_workbench.quiz.simulate import KINDS, simulate
    from rl_workbench.quiz.store import AnswerStore

    chosen = tuple(k.strip() for k in kinds.split(",") if k.strip())
    wrong = [k for k in chosen if k not in KINDS]
    if wrong or not chosen:
        raise InvalidArgumentError(
            f"--kinds {kinds!r}: choose from {', '.join(KINDS)} (comma-separated)."
        )
    loaded = resolve_deck(deck)
    store = AnswerStore(db)
    agents = load_quiz_agents(loaded, trust=trust_agent)
    total = participants * len(chosen)
    with tqdm(total=total, desc="simulated participants", disable=not _progress(ctx)) as bar:
        users = simulate(
            loaded, agents, store, participants=participants, kinds=chosen, seed=seed,
            on_done=lambda _user: bar.update(1),
        )  # fmt: skip
    click.echo(
        f"{len(users)} simulated participants ({', '.join(chosen)}) written to {db}; "
        f"`rlwb quiz stats --db {db}` analyses them."
    )


@quiz.command("power")
@click.option(
    "--effect",
    type=float,
    required=True,
    help="The explain - control difference in mean ‖q - π‖² to detect (e.g. -0.05: "
    "explanations lower the distance by 0.05).",
)
@click.option(
    "--db",
    type=click.Path(path_type=Path),
    default=None,
    help="A pilot's answer database: how much people and answers vary is estimated from it.",
)
@click.option("--items", type=click.IntRange(1), default=None, help="Predict items per person.")
@click.option("--sd-person", type=click.FloatRange(0), default=None)
@click.option("--sd-item", type=click.FloatRange(0), default=None)
@click.option("--studies", type=click.IntRange(20), default=200, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
def quiz_power(
    effect: float,
    db: Path | None,
    items: int | None,
    sd_person: float | None,
    sd_item: float | None,
    studies: int,
    seed: int,
) -> None:
    """Participants per arm needed to detect --effect with 80% power, by simulated studies.

    Each simulated study is analysed as `rlwb quiz stats` analyses a real one (person means, a
    permutation test of explain - control over participants); power is the share with
    p < 0.05. The spread of people and of answers comes from --db (a pilot), else from
    --sd-person / --sd-item, else from defaults (0.10 and 0.25).
    """
    from rl_workbench.quiz import power as pw

    model_kwargs: dict[str, float | int] = {}
    source = "defaults"
    if db is not None:
        from rl_workbench.quiz.store import AnswerStore

        if not Path(db).is_file():
            raise InvalidArgumentError(f"No answer database at {db}; pass a pilot's --db.")
        found = pw.variance_components(AnswerStore(db, read_only=True).rows())
        if found is None:
            raise InvalidArgumentError(
                f"{db} has fewer than two participants with two or more predict answers; "
                "run a larger pilot, or pass --sd-person and --sd-item."
            )
        model_kwargs = {"sd_person": found[0], "sd_item": found[1], "items": found[2]}
        source = f"the pilot in {db}"
    for key, value in (("sd_person", sd_person), ("sd_item", sd_item), ("items", items)):
        if value is not None:
            model_kwargs[key] = value
    model = pw.PowerModel(effect=effect, **model_kwargs)  # type: ignore[arg-type]
    if effect == 0:
        raise InvalidArgumentError("--effect 0 cannot be detected; pass the smallest effect "
                                   "worth finding, e.g. --effect -0.05.")  # fmt: skip
    needed, tried = pw.people_needed(model, studies=studies, seed=seed)
    click.echo(
        f"effect {model.effect:+.3f}; spread between people {model.sd_person:.3f}, between "
        f"answers {model.sd_item:.3f}, {model.items} predict items each (from {source}); "
        f"{studies} simulated studies per size"
    )
    for people, power in tried:
        click.echo(f"  {people:>4} per arm: power {power:.0%}")
    if needed is None:
        click.echo("80% power is not reached with 400 participants per arm.")
    else:
        click.echo(f"participants per arm for 80% power: {needed}")


@cli.command()
@click.argument("folder", type=click.Path(path_type=Path))
def inspect(folder: Path) -> None:
    """Summarise a dataset folder made by `rlwb collect`."""
    from rl_workbench.data.inspect import summarise

    click.echo(summarise(folder))


@cli.command()
def envs() -> None:
    """List the environment ids the workbench can run."""
    from rl_workbench.domains import known_env_ids

    for env_id in known_env_ids():
        click.echo(env_id)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``rlwb`` script."""
    cli.main(args=argv if argv is not None else sys.argv[1:], prog_name="rlwb")


if __name__ == "__main__":
    main()
