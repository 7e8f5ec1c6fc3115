"""Model cards: the sidecar that says how an agent was made and what it sees.

A stable-baselines3 ``.zip`` does not record the environment, its keyword arguments or the
wrappers an agent was trained behind, so every agent we write sits in a folder beside a
``card.json`` (machine-readable) and a ``README.md`` (the same facts for people).
"""

from __future__ import annotations

import json
import math
import platform
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rl_workbench.errors import AgentLoadError, UnknownNameError

CARD_FILE = "card.json"
AGENT_FILE = "agent.zip"
README_FILE = "README.md"


def library_versions() -> dict[str, str]:
    """Versions of python and the libraries whose behaviour the artifacts depend on."""
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for dist in ("rl-workbench", "torch", "stable-baselines3", "gymnasium", "numpy", "minigrid"):
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            out[dist] = "not installed"
    return out


MINIMAL_CARD_KEYS = ("env_id", "env_kwargs", "algorithm", "name", "description")
"""What a hand-written card may hold: ``env_id`` (required) and ``env_kwargs`` say what the agent
sees; the rest is derived (algorithm from the .zip, action names from the environment)."""

ALGORITHM_NAMES = ("PPO", "A2C", "DQN")


@dataclass(frozen=True)
class ModelCard:
    """Everything needed to rebuild, load and judge an agent.

    Cards written by ``rlwb train`` fill every field. A researcher's own agent may carry a
    *minimal* card (``{"env_id": ..., "env_kwargs": {...}}``): its training fields are then
    None or empty, because nobody recorded them, and :attr:`is_minimal` is True.

    Attributes:
        name: short name (zoo name or the agent's folder name).
        env_id: the gymnasium id the agent was trained on.
        env_kwargs: keyword arguments of that env.
        algorithm: "PPO", "A2C" or "DQN"; empty when the card leaves it to the .zip.
        action_names: one name per action (empty: the environment's).
        observation_shape: shape of one observation as the env emits it (empty: unrecorded).
        seed: training seed (None: unrecorded).
        total_steps: environment steps of training (None: unrecorded).
        hyperparameters: the algorithm's settings.
        command: the command that rebuilds the agent.
        training_seconds: wall time of training (None: unrecorded).
        evaluation: results of the evaluation runs, by name ("sampled", "greedy", and e.g.
            "greedy, imitation only" for the policy before PPO).
        init_from: the agent whose weights PPO started from (``rlwb train --init-from``): its
            path, file hash and the command that made it; empty when training started fresh.
        imitation: the solver-imitation warm start before PPO (samples, held-out accuracy,
            seconds); empty when the agent learnt from reward alone.
        versions: library versions at training time.
        created: ISO time of writing.
        description: one paragraph for people.
    """

    name: str
    env_id: str
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    algorithm: str = ""
    action_names: tuple[str, ...] = ()
    observation_shape: tuple[int, ...] = ()
    seed: int | None = None
    total_steps: int | None = None
    hyperparameters: dict[str, Any] = field(default_factory=dict)
    command: str = ""
    training_seconds: float | None = None
    evaluation: dict[str, dict[str, Any]] = field(default_factory=dict)
    imitation: dict[str, Any] = field(default_factory=dict)
    init_from: dict[str, Any] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=library_versions)
    created: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    description: str = ""

    @property
    def is_minimal(self) -> bool:
        """Whether the card only says what the agent sees (no training record)."""
        return self.total_steps is None

    @property
    def _minutes(self) -> float | None:
        return None if self.training_seconds is None else self.training_seconds / 60

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["action_names"] = list(self.action_names)
        data["observation_shape"] = list(self.observation_shape)
        return {"class": "ModelCard", **data}

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, default_name: str = "agent") -> ModelCard:
        """A card from its JSON form: a full card, or a minimal one (see the class docstring).

        Raises:
            ValueError: a key is unknown, or a value has the wrong type (the message names it).
        """
        data = {k: v for k, v in data.items() if k != "class"}
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(
                f"unknown key(s) {', '.join(map(repr, unknown))}; a minimal card holds "
                f"{', '.join(MINIMAL_CARD_KEYS)} (env_id required)"
            )
        if not isinstance(data.get("env_id"), str) or not data["env_id"]:
            raise ValueError('"env_id" (a string such as "rlwb/Maze-v0") is required')
        if not isinstance(data.get("env_kwargs", {}), dict):
            raise ValueError('"env_kwargs" must be an object of keyword arguments')
        algorithm = data.get("algorithm", "")
        if algorithm and algorithm not in ALGORITHM_NAMES:
            raise ValueError(
                f'"algorithm" is {algorithm!r}; use one of {", ".join(ALGORITHM_NAMES)} or leave '
                "it out (it is read from the .zip)"
            )
        data.setdefault("name", default_name)
        data.setdefault("versions", {})  # unrecorded, not today's
        data.setdefault("created", "")
        data["action_names"] = tuple(data.get("action_names", ()))
        data["observation_shape"] = tuple(data.get("observation_shape", ()))
        return cls(**data)

    def save(self, folder: Path) -> None:
        """Write card.json and README.md into ``folder``."""
        folder.mkdir(parents=True, exist_ok=True)
        (folder / CARD_FILE).write_text(json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n")
        (folder / README_FILE).write_text(self.to_markdown())

    @classmethod
    def load(cls, folder: Path) -> ModelCard:
        """Read ``folder/card.json`` (full or minimal).

        Raises:
            AgentLoadError: missing, not JSON, or not a card (naming the problem and the fix).
        """
        path = folder / CARD_FILE
        fix = (
            'A minimal card is {"env_id": "rlwb/Maze-v0", "env_kwargs": {}}; or remove the card '
            "and pass --env ID (and --env-arg KEY=VALUE)."
        )
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise AgentLoadError(f"No model card at {path}.") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise AgentLoadError(
                f"The model card {path} is not JSON ({exc.__class__.__name__}). {fix}"
            ) from None
        if not isinstance(data, dict):
            raise AgentLoadError(f"The model card {path} is not a JSON object. {fix}")
        try:
            return cls.from_dict(data, default_name=folder.resolve().name)
        except (ValueError, TypeError) as exc:
            raise AgentLoadError(f"The model card {path} is not usable: {exc}. {fix}") from None

    def score_summary(self) -> str:
        """The headline score in a few words: success rate (mazes) or points against random
        (Atari), "-" when the card records no evaluation."""
        if "random" in self.evaluation and "greedy" in self.evaluation:
            greedy, rand = self.evaluation["greedy"], self.evaluation["random"]
            ratio = greedy["mean_return"] / rand["mean_return"]
            return f"{greedy['mean_return']:.0f} pts ({ratio:.1f}x random)"
        sampled = self.evaluation.get("sampled")
        if sampled is None:
            return "-"
        return f"{sampled.get('success_rate', float('nan')):.1%} success"

    def to_markdown(self) -> str:
        lines = [
            f"# Model card: {self.name}",
            "",
            self.description or "",
            "",
            "| field | value |",
            "|---|---|",
            f"| algorithm | {self.algorithm} (stable-baselines3) |",
            f"| environment | `{self.env_id}` with `{json.dumps(self.env_kwargs)}` |",
            f"| observation | shape {list(self.observation_shape)} |",
            f"| actions | {', '.join(self.action_names)} |",
            f"| seed | {'unrecorded' if self.seed is None else self.seed} |",
            f"| training steps | {_or_unrecorded(self.total_steps, '{:,}')} |",
            f"| training time | {_or_unrecorded(self._minutes, '{:.1f} min')} |",
            f"| rebuild with | `{self.command}` |",
            *self._imitation_rows(),
            *self._init_rows(),
            "",
            "## Evaluation",
            "",
        ]
        if self.env_id.startswith("ALE/"):
            lines += self._atari_evaluation()
        else:
            lines += self._grid_evaluation()
        lines += [
            "",
            "## Hyperparameters",
            "",
            "```json",
            json.dumps(self.hyperparameters, indent=2, sort_keys=True),
            "```",
            "",
            "## Versions",
            "",
            ", ".join(f"{k} {v}" for k, v in sorted(self.versions.items())),
            "",
        ]
        return "\n".join(lines)

    def _imitation_rows(self) -> list[str]:
        if not self.imitation:
            return []
        im = self.imitation
        then = "then PPO from reward" if self.total_steps else "no PPO: the imitator is the agent"
        return [
            f"| warm start | imitation of the shortest-path solver on {im['samples']:,} solved "
            f"states ({im['seconds'] / 60:.1f} min, held-out action accuracy "
            f"{im['held_out_accuracy']:.3f}), {then} |"
        ]

    def _init_rows(self) -> list[str]:
        if not self.init_from:
            return []
        made = self.init_from.get("command") or "unrecorded"
        return [
            f"| initialised from | `{self.init_from['path']}` (sha256 "
            f"{self.init_from['sha256'][:12]}), made by `{made}` |"
        ]

    def _atari_evaluation(self) -> list[str]:
        lines = [
            "| policy | games | mean score | mean agent steps |",
            "|---|---|---|---|",
        ]
        for name, ev in self.evaluation.items():
            lines.append(
                f"| {name} | {ev['episodes']} | {ev['mean_return']:.1f} | {ev['mean_steps']:.1f} |"
            )
        random = self.evaluation.get("random", {}).get("mean_return")
        if random:
            ratios = ", ".join(
                f"{name} {ev['mean_return'] / random:.2f}x"
                for name, ev in self.evaluation.items()
                if name != "random"
            )
            lines += ["", f"Score relative to the random policy: {ratios}."]
        first = next(iter(self.evaluation.values()))["seed"] if self.evaluation else "n/a"
        lines += [
            "",
            f"Whole games (all lives), unclipped game score from the Monitor, seeds from {first} "
            "upward; greedy = argmax actions (stable-baselines3's deterministic evaluation).",
        ]
        return lines

    def _grid_evaluation(self) -> list[str]:
        lines = [
            "| policy | episodes | success rate | mean return | mean steps | path efficiency |",
            "|---|---|---|---|---|---|",
        ]
        for name, ev in self.evaluation.items():
            eff = ev.get("path_efficiency", float("nan"))
            eff_text = (
                "n/a"
                if eff is None or (isinstance(eff, float) and math.isnan(eff))
                else f"{eff:.3f}"
            )
            lines.append(
                f"| {name} | {ev['episodes']} | {ev['success_rate']:.3f} | "
                f"{ev['mean_return']:.2f} | {ev['mean_steps']:.1f} | {eff_text} |"
            )
        first = next(iter(self.evaluation.values()))["seed"] if self.evaluation else "n/a"
        from rl_workbench.domains.registry import family_of

        try:
            minigrid = family_of(self.env_id) == "minigrid"
        except UnknownNameError:  # a hand-written card may name any env
            minigrid = False
        success = (
            "the goal reached (a positive reward) before the env's step limit"
            if minigrid
            else "cheese reached before the 500-step timeout"
        )
        lines += [
            "",
            f"Evaluation episodes use seeds from {first} upward, disjoint from training seeds; "
            f"success = {success}.",
        ]
        return lines


def _or_unrecorded(value: float | None, spec: str) -> str:
    return "unrecorded" if value is None else spec.format(value)
