"""Model cards: the sidecar that says how an agent was made and what it sees.

A stable-baselines3 ``.zip`` does not record the environment, its keyword arguments or the
wrappers an agent was trained behind, so every agent we write sits in a folder beside a
``card.json`` (machine-readable) and a ``README.md`` (the same facts for people).
"""

from __future__ import annotations

import json
import math
import platform
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rl_workbench.errors import AgentLoadError

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


@dataclass(frozen=True)
class ModelCard:
    """Everything needed to rebuild, load and judge an agent.

    Attributes:
        name: short name (zoo name or the training folder's name).
        algorithm: "PPO", "A2C" or "DQN".
        env_id: the gymnasium id the agent was trained on.
        env_kwargs: keyword arguments of that env.
        action_names: one name per action.
        observation_shape: shape of one observation as the env emits it.
        seed: training seed.
        total_steps: environment steps of training.
        hyperparameters: the algorithm's settings.
        command: the command that rebuilds the agent.
        training_seconds: wall time of training.
        evaluation: results of the evaluation runs, by name ("sampled", "greedy").
        versions: library versions at training time.
        created: ISO time of writing.
        description: one paragraph for people.
    """

    name: str
    algorithm: str
    env_id: str
    env_kwargs: dict[str, Any]
    action_names: tuple[str, ...]
    observation_shape: tuple[int, ...]
    seed: int
    total_steps: int
    hyperparameters: dict[str, Any]
    command: str
    training_seconds: float
    evaluation: dict[str, dict[str, Any]] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=library_versions)
    created: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    description: str = ""

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["action_names"] = list(self.action_names)
        data["observation_shape"] = list(self.observation_shape)
        return {"class": "ModelCard", **data}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelCard:
        data = {k: v for k, v in data.items() if k != "class"}
        data["action_names"] = tuple(data["action_names"])
        data["observation_shape"] = tuple(data["observation_shape"])
        return cls(**data)

    def save(self, folder: Path) -> None:
        """Write card.json and README.md into ``folder``."""
        folder.mkdir(parents=True, exist_ok=True)
        (folder / CARD_FILE).write_text(json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n")
        (folder / README_FILE).write_text(self.to_markdown())

    @classmethod
    def load(cls, folder: Path) -> ModelCard:
        path = folder / CARD_FILE
        try:
            return cls.from_dict(json.loads(path.read_text()))
        except FileNotFoundError:
            raise AgentLoadError(f"No model card at {path}.") from None
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise AgentLoadError(
                f"The model card {path} is damaged ({exc.__class__.__name__}: {exc}); "
                "rebuild the agent with the command in its README.md."
            ) from None

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
            f"| seed | {self.seed} |",
            f"| training steps | {self.total_steps:,} |",
            f"| training time | {self.training_seconds / 60:.1f} min |",
            f"| rebuild with | `{self.command}` |",
            "",
            "## Evaluation",
            "",
        ]
        if self.env_id.startswith("ALE/"):
            lines += self._atari_evaluation()
        else:
            lines += self._maze_evaluation()
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

    def _maze_evaluation(self) -> list[str]:
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
        lines += [
            "",
            f"Evaluation episodes use seeds from {first} upward, disjoint from training seeds; "
            "success = cheese reached before the 500-step timeout.",
        ]
        return lines
