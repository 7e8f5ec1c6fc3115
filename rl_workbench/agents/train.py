"""Train a PPO agent on a registered environment and write it with its model card.

Reads top to bottom like a CleanRL script, but uses stable-baselines3 for the algorithm: config,
environments, model, training with checkpoints, evaluation, card.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shlex
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import torch
from stable_baselines3 import PPO
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.logger import Logger
from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv
from tqdm.auto import tqdm

from rl_workbench.domains import action_names, check_env_id, make_env
from rl_workbench.domains.base import Demonstrator
from rl_workbench.domains.registry import domain_for, family_of, has_domain
from rl_workbench.errors import AgentLoadError, InvalidArgumentError
from rl_workbench.outputs import (
    refuse_changed_settings,
    write_file_atomically,
    write_text_atomically,
)

from .base import UniformRandomAgent
from .card import AGENT_FILE, ModelCard
from .evaluation import evaluate
from .imitation import imitate
from .networks import GridCNN, RecurrentGridCNN
from .sb3 import SB3Agent, load_sb3_model

logger = logging.getLogger(__name__)

EXTRACTORS = ("auto", "grid-cnn", "recurrent-grid", "nature-cnn", "mlp")
"""Feature extractor choices: our GridCNN for small symbolic grids, our RecurrentGridCNN for
grids where the right move depends on cells far away (mazes beyond 7x7), stable-baselines3's
NatureCNN for images, its MLP, or "auto" (GridCNN when the observation is a grid of side <= 32,
else NatureCNN)."""

CHECKPOINT_DIR = "checkpoints"
CHECKPOINT_FILE = "latest.zip"
WARM_START_FILE = "warm_start.json"
"""Beside the checkpoint: the imitation warm start's record and the evaluation right after it."""
SETTINGS_FILE = "settings.json"
"""Beside the checkpoint: the settings it was trained with, compared when a run resumes it."""

DEFAULT_CHECKPOINT_EVERY = 20_000
"""Environment steps between checkpoints. Maze PPO runs at a few thousand steps per second on
CPU, Atari PPO at about 200 (BENCHMARKS.md), so a crash loses seconds on mazes and under two
minutes on Atari; a save takes tens of milliseconds (a few MB zip), so the cost is negligible."""

RANDOM_BASELINE_FAMILIES = ("atari",)
"""Domain families whose scores mean little alone (game points): their cards also record a
uniformly random policy's evaluation."""

RESUME_IGNORES = (
    "total_steps",
    "eval_episodes",
    "eval_seed",
    "checkpoint_every",
    "threads",
    "device",
    "vec_env",
)
"""Settings a resumed run may change: they do not alter the model trained so far, and the card
records the new values honestly (more steps, another evaluation, another cadence)."""

LATER_SETTINGS: dict[str, Any] = {"family_policy": True, "init_from": None}
"""Settings added after runs were first recorded, each with the value those runs had in effect:
a record leaves them out while they hold it, so checkpoints and population ledgers written before
the setting existed still describe the same run (resumed, not refused or re-run)."""


TUNABLE: dict[str, type] = {
    "n_envs": int,
    "n_steps": int,
    "batch_size": int,
    "n_epochs": int,
    "learning_rate": float,
    "gamma": float,
    "gae_lambda": float,
    "ent_coef": float,
    "net_arch": tuple,
}
"""PPO settings a user may override from the command line (``rlwb train --hyperparameter``), as
rl-baselines3-zoo's ``--hyperparams`` does; the rest of :class:`TrainConfig` has its own options."""


def parse_hyperparameters(pairs: Sequence[str]) -> dict[str, Any]:
    """``["learning_rate=1e-4", "net_arch=[64, 64]"]`` -> TrainConfig keyword arguments.

    Raises:
        InvalidArgumentError: not KEY=VALUE, a key outside ``TUNABLE``, or a value of the wrong
            type; one line naming the fix.
    """
    settings: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or key not in TUNABLE:
            raise InvalidArgumentError(
                f"--hyperparameter takes KEY=VALUE with KEY one of {', '.join(TUNABLE)} "
                f"(e.g. learning_rate=1e-4), got {pair!r}."
            )
        kind = TUNABLE[key]
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = None
        if kind is tuple:
            ok = isinstance(value, list) and all(
                isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value
            )
            value = tuple(value) if ok else None
        elif kind is int:
            ok = isinstance(value, int) and not isinstance(value, bool) and value > 0
        else:
            ok = isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0
            ok = ok and (key != "learning_rate" or value > 0)
            ok = ok and (key not in ("gamma", "gae_lambda") or value <= 1)
            value = float(value) if ok else None
        if not ok:
            wanted = {
                int: "a positive integer",
                float: "a number in [0, 1]"
                if key in ("gamma", "gae_lambda")
                else "a positive number"
                if key == "learning_rate"
                else "a non-negative number",
                tuple: "a JSON list of positive integers, e.g. [64, 64]",
            }[kind]
            raise InvalidArgumentError(f"--hyperparameter {key} must be {wanted}, got {raw!r}.")
        settings[key] = value
    return settings


FAMILY_POLICY_KWARGS: dict[str, dict[str, Any]] = {
    "minigrid": {"normalize_images": False, "activation_fn": torch.nn.ReLU},
}
"""What a family's observations need from an SB3 policy. MiniGrid grids hold category codes
(object 0-10, colour 0-5, state 0-3), not pixel intensities: SB3's /255 shrinks them to noise, and
unscaled they saturate the default tanh heads. Measured on 512 solver-labelled 8x8 goal-room
states, 200 full-batch Adam steps of the grid-cnn policy: training accuracy 0.41
(the majority action, nothing learnt) with /255 (tanh or ReLU) and with raw codes and tanh; 0.996
with raw codes and ReLU heads."""


@dataclass(frozen=True)
class TrainConfig:
    """Settings of one PPO training run.

    Attributes:
        env_id: gymnasium id to train on.
        env_kwargs: keyword arguments for the env (e.g. ``{"cheese_region": 1}``).
        total_steps: environment steps of PPO; 0 (only with ``imitation_samples``) keeps the
            imitation warm start as the agent, for recipes where one PPO update would spoil a
            near-perfect imitator (BENCHMARKS.md, the 15x15 probe).
        seed: seeds the model, the envs and the evaluation sampling.
        n_envs: parallel envs.
        n_steps: rollout length per env per update.
        batch_size: minibatch size.
        n_epochs: optimisation epochs per update.
        learning_rate: Adam step size.
        gamma: discount.
        gae_lambda: GAE lambda.
        ent_coef: entropy bonus.
        extractor: one of ``EXTRACTORS``.
        net_arch: hidden sizes of the policy and value heads.
        imitation_samples: solved states the policy imitates before PPO (0: none); needs a
            domain that solves its levels (mazes). See :mod:`rl_workbench.agents.imitation`.
        eval_episodes: episodes of the final evaluation.
        eval_seed: seed of the first evaluation episode (far from training seeds).
        checkpoint_every: environment steps between checkpoints (0: only the end-of-run one);
            see ``DEFAULT_CHECKPOINT_EVERY`` for why the default bounds lost work to minutes.
        threads: torch CPU threads for this run; None leaves torch's setting alone.
        device: where the networks train: "cpu" (the default, what CI and a laptop have) or
            "auto" (CUDA when present). The saved agent always loads on the CPU.
        vec_env: "dummy" steps the envs in this process; "subproc" gives each env a process
            (worth it for Atari on a many-core machine; same results for the same seed).
        family_policy: apply the family's policy settings (``FAMILY_POLICY_KWARGS``); the zoo's
            minigrid-doorkey was trained before they existed and keeps SB3's defaults, so its
            recipe still rebuilds the shipped agent.
        init_from: an agent (.zip, or a folder holding agent.zip) whose weights PPO starts from
            instead of a fresh network: fine-tuning, e.g. PPO after an imitation-only agent
            (rl-baselines3-zoo's ``--trained-agent``). Its network must be the one this config
            builds. None: a fresh network.
    """

    env_id: str
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    total_steps: int = 1_000_000
    seed: int = 0
    n_envs: int = 16
    n_steps: int = 128
    batch_size: int = 256
    n_epochs: int = 8
    learning_rate: float = 5e-4
    gamma: float = 0.95
    gae_lambda: float = 0.95
    ent_coef: float = 0.01
    extractor: Literal["auto", "grid-cnn", "recurrent-grid", "nature-cnn", "mlp"] = "auto"
    net_arch: tuple[int, ...] = (64,)
    imitation_samples: int = 0
    eval_episodes: int = 200
    eval_seed: int = 1_000_000
    checkpoint_every: int = DEFAULT_CHECKPOINT_EVERY
    threads: int | None = None
    device: Literal["cpu", "auto", "cuda"] = "cpu"
    vec_env: Literal["dummy", "subproc"] = "dummy"
    family_policy: bool = True
    init_from: str | None = None

    def __post_init__(self) -> None:
        if self.init_from is not None and self.imitation_samples:
            raise InvalidArgumentError(
                "--init-from and --imitation-samples exclude each other: the agent you start "
                "from already holds its warm start (make it with --imitation-samples N --steps 0)."
            )
        if self.init_from is not None and not self.total_steps:
            raise InvalidArgumentError(
                "--init-from needs --steps > 0: with no PPO the agent would be a copy of it."
            )
        if self.total_steps < 0 or (self.total_steps == 0 and not self.imitation_samples):
            raise InvalidArgumentError(
                f"total_steps must be positive (or 0 with imitation samples: imitation only), "
                f"got {self.total_steps}."
            )
        if self.checkpoint_every < 0:
            raise InvalidArgumentError(
                f"checkpoint_every must be 0 (end of run only) or positive, got "
                f"{self.checkpoint_every}."
            )
        if self.imitation_samples < 0:
            raise InvalidArgumentError(
                f"imitation_samples must be 0 (none) or positive, got {self.imitation_samples}."
            )
        if self.extractor not in EXTRACTORS:
            raise InvalidArgumentError(
                f"extractor must be one of {list(EXTRACTORS)}, got {self.extractor!r}."
            )
        if (self.n_envs * self.n_steps) % self.batch_size:
            raise InvalidArgumentError(
                f"batch_size ({self.batch_size}) must divide n_envs * n_steps "
                f"({self.n_envs} * {self.n_steps} = {self.n_envs * self.n_steps})."
            )

    def hyperparameters(self) -> dict[str, Any]:
        data = asdict(self)
        data["net_arch"] = list(self.net_arch)
        for key in ("env_id", "env_kwargs", "seed", "total_steps", "device", "vec_env"):
            data.pop(key)
        data.pop("init_from")  # the card's own field, with the file's hash
        return data

    def recorded(self, keep: Sequence[str] = ()) -> dict[str, Any]:
        """This config as plain JSON for a record, ``LATER_SETTINGS`` at their old values left
        out (except those in ``keep``, for records that have held them from the start)."""
        data: dict[str, Any] = json.loads(json.dumps(asdict(self)))
        for key, old in LATER_SETTINGS.items():
            if key not in keep and data[key] == old:
                data.pop(key)
        return data

    def resume_settings(self) -> dict[str, Any]:
        """The settings a checkpoint must have been trained with for this run to resume it.

        Everything that shapes the model trained so far (env, env kwargs, seed, network, PPO
        hyperparameters); not ``RESUME_IGNORES``, which a resumed run honours and records.
        """
        data = self.recorded()
        for key in RESUME_IGNORES:
            data.pop(key)
        return data

    def policy(self, obs_shape: tuple[int, ...]) -> tuple[str, dict[str, Any]]:
        """The stable-baselines3 policy name and kwargs for observations of this shape."""
        extractor = self.extractor
        if extractor == "auto":
            if len(obs_shape) != 3:
                extractor = "mlp"
            else:
                extractor = "grid-cnn" if max(obs_shape[1:]) <= 32 else "nature-cnn"
        kwargs: dict[str, Any] = {
            "net_arch": {"pi": list(self.net_arch), "vf": list(self.net_arch)}
        }
        if self.family_policy:
            kwargs |= FAMILY_POLICY_KWARGS.get(family_of(self.env_id), {})
        if extractor == "grid-cnn":
            kwargs["features_extractor_class"] = GridCNN
        elif extractor == "recurrent-grid":
            kwargs["features_extractor_class"] = RecurrentGridCNN
            # SB3's orthogonal init (gain sqrt 2) makes a 45-step residual recurrence explode:
            # measured, the features saturate and imitation stalls at chance.
            kwargs["ortho_init"] = False
        return ("CnnPolicy" if extractor == "nature-cnn" else "MlpPolicy"), kwargs


@dataclass(frozen=True)
class TrainResult:
    """Where the agent went and its card."""

    folder: Path
    card: ModelCard

    @property
    def agent_path(self) -> Path:
        return self.folder / AGENT_FILE


class _Clock:
    """Training wall time summed over every run of a resumed training, kept beside the
    checkpoint so the card reports the whole cost, not just the last run's."""

    FILE = "training_time.json"

    def __init__(self, folder: Path, resumed: bool) -> None:
        path = folder / self.FILE
        self.before = json.loads(path.read_text())["seconds"] if resumed and path.is_file() else 0.0
        self.started = time.perf_counter()

    @property
    def seconds(self) -> float:
        return self.before + time.perf_counter() - self.started

    def save(self, folder: Path) -> None:
        write_text_atomically(folder / self.FILE, json.dumps({"seconds": round(self.seconds, 1)}))


class _ProgressCallback(BaseCallback):
    """A tqdm bar over environment steps, plus periodic checkpoints."""

    def __init__(
        self, total: int, checkpoint: Path | None, every: int, show: bool, clock: _Clock
    ) -> None:
        super().__init__()
        self.total, self.checkpoint, self.every, self.show = total, checkpoint, every, show
        self.clock = clock
        self._last_save = 0
        self.saved_at: int | None = None
        """The step of the last checkpoint this callback wrote (None: none yet)."""
        self.bar: tqdm | None = None

    def _on_training_start(self) -> None:
        self.bar = tqdm(
            total=self.total,
            initial=self.num_timesteps,
            unit="step",
            desc="training",
            disable=not self.show,
            dynamic_ncols=True,
        )
        self._last_save = self.num_timesteps

    def _on_step(self) -> bool:
        assert self.bar is not None
        self.bar.update(self.num_timesteps - self.bar.n)
        episodes = self.model.ep_info_buffer
        if episodes:
            mean_return = sum(e["r"] for e in episodes) / len(episodes)
            self.bar.set_postfix(mean_return=f"{mean_return:.2f}", refresh=False)
        if (
            self.checkpoint is not None
            and self.every
            and (self.num_timesteps - self._last_save >= self.every)
        ):
            self._last_save = self.saved_at = self.num_timesteps
            save_checkpoint(self.model, self.checkpoint, self.clock)
        return True

    def _on_training_end(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _demonstrator(config: TrainConfig) -> Demonstrator:
    """The domain that solves ``config``'s levels for the warm start; refused before any work
    when the family has no solver."""
    domain = domain_for(config.env_id, config.env_kwargs) if has_domain(config.env_id) else None
    if not isinstance(domain, Demonstrator):
        raise InvalidArgumentError(
            f"{config.env_id} has no solver to imitate, so imitation_samples must be 0 "
            "(mazes and open MiniGrid rooms solve their own levels)."
        )
    refusal = domain.solver_refusal()
    if refusal is not None:
        raise InvalidArgumentError(f"{refusal}, so imitation_samples must be 0.")
    return domain


def _evaluate_both(
    agent: SB3Agent,
    config: TrainConfig,
    overrides: Mapping[str, Any],
    label: str,
    progress: bool,
) -> dict[str, dict[str, Any]]:
    """Sampled (as trained) and greedy evaluations on fresh seeds, named "MODE[, LABEL]"."""
    kwargs = {**config.env_kwargs, **overrides}
    return {
        (f"{mode}, {label}" if label else mode): evaluate(
            agent,
            config.env_id,
            kwargs,
            episodes=config.eval_episodes,
            seed=config.eval_seed,
            greedy=mode == "greedy",
            progress=progress,
        ).to_dict()
        for mode in ("sampled", "greedy")
    }


def save_checkpoint(model: BaseAlgorithm, checkpoint: Path, clock: _Clock) -> None:
    """Write ``checkpoint`` whole or not at all (temp file, fsync, rename): a kill during the
    save leaves the previous checkpoint usable. The clock follows it."""
    write_file_atomically(checkpoint, model.save)
    clock.save(checkpoint.parent)


def _load_start(reference: str, trust: bool) -> tuple[Path, BaseAlgorithm]:
    """The agent ``--init-from`` names, loaded without running code from it.

    Raises:
        AgentLoadError: no usable PPO agent there.
    """
    path = Path(reference)
    if path.is_dir():
        path = path / AGENT_FILE
    return path, load_sb3_model(path, "PPO", trust=trust)


def _start_from(
    reference: str, path: Path, source: BaseAlgorithm, model: BaseAlgorithm
) -> dict[str, Any]:
    """Copy ``source``'s weights into ``model``; return what the card keeps.

    Raises:
        InvalidArgumentError: its network is not the one this run builds.
    """
    mine, theirs = model.policy.state_dict(), source.policy.state_dict()
    differs = sorted(
        k
        for k in mine.keys() | theirs.keys()
        if k not in mine or k not in theirs or mine[k].shape != theirs[k].shape
    )
    if differs:
        raise InvalidArgumentError(
            f"--init-from {reference}: its network differs from the one this run builds (first "
            f"difference: {differs[0]}). Pass the --env, --env-arg, --extractor and "
            "--hyperparameter net_arch it was trained with."
        )
    model.policy.load_state_dict(theirs)
    try:
        made = ModelCard.load(path.parent).command
    except AgentLoadError:  # no card, or one we cannot read: the hash still names the file
        made = ""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return {"path": str(reference), "sha256": digest, "command": made}


def _claim_checkpoint(checkpoint: Path, config: TrainConfig, resume: bool) -> bool:
    """Decide whether this run resumes ``checkpoint``, before any work; returns whether it does.

    A resumed checkpoint must have been trained with this run's settings
    (:meth:`TrainConfig.resume_settings`), else the run is refused with each difference named. A
    fresh run first discards the old checkpoint, then records its own settings, so that the
    settings file always describes the checkpoint beside it.
    """
    settings_path = checkpoint.parent / SETTINGS_FILE
    if resume and checkpoint.is_file():
        try:
            saved = json.loads(settings_path.read_text())
        except (OSError, ValueError):  # missing (an older rlwb) or damaged: refused below
            saved = None
        refuse_changed_settings(
            checkpoint, saved, config.resume_settings(), "pass --fresh (it discards the checkpoint)"
        )
        return True
    checkpoint.unlink(missing_ok=True)
    (checkpoint.parent / _Clock.FILE).unlink(missing_ok=True)
    (checkpoint.parent / WARM_START_FILE).unlink(missing_ok=True)
    write_text_atomically(settings_path, json.dumps(config.resume_settings(), indent=2) + "\n")
    return False


def train_ppo(
    config: TrainConfig,
    out: Path,
    *,
    name: str | None = None,
    description: str = "",
    command: str | None = None,
    resume: bool = False,
    progress: bool = True,
    trust: bool = False,
    extra_evaluations: Mapping[str, Mapping[str, Any]] | None = None,
) -> TrainResult:
    """Train PPO, evaluate it (sampled and greedy) and write ``out/agent.zip`` + card.

    With ``config.imitation_samples`` the policy first imitates the domain's solver (and is
    evaluated as it stands then, so the card shows what PPO added). ``extra_evaluations`` maps a
    label to env keyword overrides for further sampled and greedy evaluations (e.g. only the
    largest mazes).

    With ``resume=True`` training continues from ``out/checkpoints/latest.zip`` if present and
    made with the same settings (:meth:`TrainConfig.resume_settings`); otherwise the run is
    refused before any work. Every checkpoint, the end-of-run one and ``agent.zip`` are written
    atomically, the end-of-run checkpoint first, so a kill at any point loses no finished step.

    Raises:
        ResumeMismatchError: the checkpoint was trained with other settings.
    """
    # 1. Setup: threads, envs (validated before any work), names.
    if config.threads is not None:
        torch.set_num_threads(max(1, config.threads))
    check_env_id(config.env_id)
    demonstrator = _demonstrator(config) if config.imitation_samples else None
    out = Path(out)
    checkpoint = out / CHECKPOINT_DIR / CHECKPOINT_FILE
    # The starting agent is read only by a run that will not resume: a checkpoint already holds
    # its weights, so a resumed run does not need the file to exist any more.
    starts_fresh = not (resume and checkpoint.is_file())
    start = None
    if config.init_from is not None and starts_fresh:
        start = _load_start(config.init_from, trust)
    probe = make_env(config.env_id, config.env_kwargs)
    names = action_names(probe)
    env_space = probe.observation_space
    obs_shape = tuple(int(s) for s in env_space.shape or ())
    probe.close()
    command = command or " ".join(shlex.quote(a) for a in ["rlwb", *sys.argv[1:]])
    resumed = _claim_checkpoint(checkpoint, config, resume)

    def env_factory() -> Any:
        return make_env(config.env_id, config.env_kwargs)

    # Subprocesses are forked, before any CUDA context exists: forkserver/spawn would re-import
    # the caller's __main__, which breaks scripts without a main guard.
    subproc = config.vec_env == "subproc"
    vec_env = make_vec_env(
        env_factory,
        n_envs=config.n_envs,
        seed=config.seed,
        vec_env_cls=SubprocVecEnv if subproc else DummyVecEnv,
        vec_env_kwargs={"start_method": "fork"} if subproc else None,
    )

    # 2. Model: fresh, or resumed from the last checkpoint (its settings checked above).
    if resumed:
        model = load_sb3_model(checkpoint, "PPO", trust=trust, env=vec_env, device=config.device)
        logger.info("resuming from %s at %d steps", checkpoint, model.num_timesteps)
    else:
        policy, policy_kwargs = config.policy(tuple(vec_env.observation_space.shape or ()))
        model = PPO(
            policy,
            vec_env,
            n_steps=config.n_steps,
            batch_size=config.batch_size,
            n_epochs=config.n_epochs,
            learning_rate=config.learning_rate,
            gamma=config.gamma,
            gae_lambda=config.gae_lambda,
            ent_coef=config.ent_coef,
            policy_kwargs=policy_kwargs,
            seed=config.seed,
            device=config.device,
            verbose=0,
        )

    # SB3 would otherwise create an empty /tmp/SB3-<date> log folder on every learn(); our
    # progress bar and model card are the record.
    model.set_logger(Logger(folder=None, output_formats=[]))

    clock = _Clock(checkpoint.parent, resumed)
    agent = SB3Agent(model, names, env_space)  # type: ignore[arg-type]

    # 3. Warm start, in a fresh run only (a checkpoint already holds it): imitation of the
    # solver, or the weights of a given agent. Evaluated as it stands (so the card shows what PPO
    # added) and checkpointed at once with its record, so a kill during PPO does not repeat it.
    warm_start_file = checkpoint.parent / WARM_START_FILE
    record: dict[str, Any] = {}
    if demonstrator is not None and not resumed:
        draw_env = make_env(config.env_id, config.env_kwargs)
        imitation = imitate(
            model.policy,  # type: ignore[arg-type]  # PPO's policy is an ActorCriticPolicy
            lambda n, rng: demonstrator.demonstrations(draw_env, n, rng, config.gamma),
            config.imitation_samples,
            seed=config.seed,
            progress=progress,
        )
        draw_env.close()
        record["imitation"] = imitation.to_dict()
    elif config.init_from is not None and start is not None and not resumed:
        record["init_from"] = _start_from(config.init_from, *start, model)
    if record:
        # With no PPO to follow, the final evaluation below is this one; run it once.
        if config.total_steps:
            label = "imitation only" if "imitation" in record else "initial"
            record["evaluation"] = _evaluate_both(agent, config, {}, label, progress)
        write_text_atomically(warm_start_file, json.dumps(record, indent=2) + "\n")
        save_checkpoint(model, checkpoint, clock)
    warm_start = json.loads(warm_start_file.read_text()) if warm_start_file.is_file() else {}

    # 4. Train with a progress bar and atomic checkpoints.
    remaining = max(0, config.total_steps - model.num_timesteps)
    callback = _ProgressCallback(
        config.total_steps, checkpoint, config.checkpoint_every, progress, clock
    )
    if remaining:
        model.learn(remaining, callback=callback, reset_num_timesteps=False)
    seconds = clock.seconds
    # The end-of-run checkpoint first (a later run with more steps resumes from the end, and a
    # kill while agent.zip is written loses nothing), then the agent, each written atomically.
    if remaining and callback.saved_at != model.num_timesteps:
        save_checkpoint(model, checkpoint, clock)
    write_file_atomically(out / AGENT_FILE, model.save)
    vec_env.close()
    model.policy.to("cpu")  # evaluation and every later use run on the CPU
    model.device = torch.device("cpu")

    # 5. Evaluate on fresh seeds, sampled (as trained) and greedy.
    evaluation = dict(warm_start.get("evaluation", {}))
    evaluation.update(_evaluate_both(agent, config, {}, "", progress))
    for label, overrides in (extra_evaluations or {}).items():
        evaluation.update(_evaluate_both(agent, config, overrides, label, progress))
    if family_of(config.env_id) in RANDOM_BASELINE_FAMILIES:
        # Scores mean little alone: the card also records a uniformly random policy's.
        random_agent = UniformRandomAgent(agent.observation_space, names)
        evaluation["random"] = evaluate(
            random_agent,
            config.env_id,
            config.env_kwargs,
            episodes=config.eval_episodes,
            seed=config.eval_seed,
            progress=progress,
        ).to_dict()

    # 6. Card.
    card = ModelCard(
        name=name or out.name,
        algorithm="PPO",
        env_id=config.env_id,
        env_kwargs=dict(config.env_kwargs),
        action_names=names,
        observation_shape=obs_shape,
        seed=config.seed,
        total_steps=int(model.num_timesteps),
        hyperparameters=config.hyperparameters(),
        command=command,
        training_seconds=round(seconds, 1),
        evaluation=evaluation,
        imitation=warm_start.get("imitation", {}),
        init_from=warm_start.get("init_from", {}),
        description=description,
    )
    card.save(out)
    return TrainResult(folder=out, card=card)
