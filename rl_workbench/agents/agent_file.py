"""Read a stable-baselines3 ``.zip`` without letting it run code.

Why this module exists: stable-baselines3 stores every attribute that is not plain JSON as a
cloudpickle (a ``":serialized:"`` field of the ``data`` JSON) and unpickles it on load, so a
``.zip`` with one extra field can run anything (``os.system`` included) the moment it is loaded.
Agent files are files users hand us, so they are untrusted.

What we do instead, before stable-baselines3 sees the file:

1. Read the ``data`` JSON (JSON cannot run code) and, for each pickled field, list the globals its
   pickle would import by walking its opcodes with :mod:`pickletools` (nothing is unpickled).
2. Refuse the file, naming the field and the class, if any global is not on
   :data:`ALLOWED_GLOBALS`: the spaces, schedules, buffers, policies, feature extractors,
   activations, optimizers and numpy reconstructors that PPO, A2C and DQN agents really need.
3. Unpickle each field with an unpickler whose ``find_class`` admits only that allowlist (a
   second, independent guard), and hand the objects to stable-baselines3 as ``custom_objects``,
   so its own cloudpickle call never runs. Weights are read by stable-baselines3 with
   ``torch.load(weights_only=True)``.

Schedules saved by old stable-baselines3 versions are pickled closures (code objects). Inference
never calls them, so such a field is replaced by a constant placeholder, never unpickled.

``trust=True`` (the CLI's ``--trust-agent``) unpickles non-allowlisted fields with cloudpickle,
exactly as stable-baselines3 would: it runs code from the file.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import logging
import pickle
import pickletools
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rl_workbench.errors import (
    AgentLoadError,
    UnsupportedAlgorithmError,
    UntrustedAgentError,
)

logger = logging.getLogger(__name__)

SERIALIZED = ":serialized:"
"""The key stable-baselines3 uses for a cloudpickled attribute in the ``data`` JSON."""

MAX_DATA_BYTES = 64 * 1024 * 1024
"""A ``data`` member larger than this is refused (real ones are a few kB to a few MB)."""


def _names(module: str, *names: str) -> set[tuple[str, str]]:
    return {(module, name) for name in names}


ALLOWED_GLOBALS: frozenset[tuple[str, str]] = frozenset(
    # Spaces (observation and action spaces) and the numpy objects inside them.
    _names("gymnasium.spaces.box", "Box")
    | _names("gymnasium.spaces.discrete", "Discrete")
    | _names("gymnasium.spaces.multi_discrete", "MultiDiscrete")
    | _names("gymnasium.spaces.multi_binary", "MultiBinary")
    | _names("gymnasium.spaces.dict", "Dict")
    | _names("gymnasium.spaces.tuple", "Tuple")
    | _names("collections", "OrderedDict", "deque")
    | _names("numpy", "dtype", "ndarray")
    | _names("numpy._core.multiarray", "_reconstruct", "scalar")
    | _names("numpy.core.multiarray", "_reconstruct", "scalar")
    | _names("numpy._core.numeric", "_frombuffer")
    | _names("numpy.core.numeric", "_frombuffer")
    | _names("numpy.random._pickle", "__generator_ctor", "__bit_generator_ctor")
    | _names("numpy.random._pcg64", "PCG64", "PCG64DXSM")
    | _names("numpy.random._mt19937", "MT19937")
    | _names("numpy.random._philox", "Philox")
    | _names("numpy.random._sfc64", "SFC64")
    | _names("numpy.random.bit_generator", "SeedSequence", "__pyx_unpickle_SeedSequence")
    # Schedules (stable-baselines3 >= 2.4 saves them as small classes, not closures).
    | _names(
        "stable_baselines3.common.utils", "ConstantSchedule", "FloatSchedule", "LinearSchedule"
    )
    # Buffers and training frequency (class references and a NamedTuple of plain values).
    | _names(
        "stable_baselines3.common.buffers",
        "RolloutBuffer",
        "DictRolloutBuffer",
        "ReplayBuffer",
        "DictReplayBuffer",
    )
    | _names("stable_baselines3.common.type_aliases", "TrainFreq", "TrainFrequencyUnit")
    # Policies and feature extractors of the supported algorithms, and ours.
    | _names(
        "stable_baselines3.common.policies",
        "ActorCriticPolicy",
        "ActorCriticCnnPolicy",
        "MultiInputActorCriticPolicy",
    )
    | _names("stable_baselines3.dqn.policies", "DQNPolicy", "CnnPolicy", "MultiInputPolicy")
    | _names(
        "stable_baselines3.common.torch_layers",
        "NatureCNN",
        "FlattenExtractor",
        "CombinedExtractor",
    )
    | _names("rl_workbench.agents.networks", "GridCNN", "RecurrentGridCNN")
    # Activations and optimizers named in policy_kwargs.
    | _names(
        "torch.nn.modules.activation",
        "ReLU",
        "Tanh",
        "ELU",
        "LeakyReLU",
        "GELU",
        "SiLU",
        "Sigmoid",
        "Mish",
        "Softplus",
    )
    | _names("torch.optim.adam", "Adam")
    | _names("torch.optim.adamw", "AdamW")
    | _names("torch.optim.rmsprop", "RMSprop")
    | _names("torch.optim.sgd", "SGD")
    | _names("stable_baselines3.common.sb2_compat.rmsprop_tf_like", "RMSpropTFLike")
)
"""Every ``(module, name)`` a pickled field of a supported agent may import.

Each entry is a class or a numpy reconstructor that is harmless whatever arguments a file gives
it; no entry can reach ``eval``, ``exec``, ``getattr``, the file system or a subprocess.
"""

SCHEDULE_PLACEHOLDERS: dict[str, Any] = {
    "learning_rate": 0.0,
    "lr_schedule": lambda _: 0.0,
    "clip_range": lambda _: 0.0,
    "clip_range_vf": None,
    "exploration_schedule": lambda _: 0.0,
}
"""Stand-ins for schedules stored as pickled closures (old stable-baselines3): never unpickled."""

SUPPORTED_ALGORITHMS = ("PPO", "A2C", "DQN")
"""The algorithms whose agents the workbench reads (discrete actions)."""

_POLICY_MODULES: tuple[tuple[str, str], ...] = (
    ("stable_baselines3.sac", "SAC"),
    ("stable_baselines3.td3", "TD3 (or DDPG)"),
    ("stable_baselines3.ddpg", "DDPG"),
    ("stable_baselines3.dqn", "DQN"),
    ("sb3_contrib.qrdqn", "QR-DQN (sb3-contrib)"),
    ("sb3_contrib.tqc", "TQC (sb3-contrib)"),
    ("sb3_contrib.ars", "ARS (sb3-contrib)"),
    ("sb3_contrib.crossq", "CrossQ (sb3-contrib)"),
    ("sb3_contrib.trpo", "TRPO (sb3-contrib)"),
    ("sb3_contrib.ppo_recurrent", "RecurrentPPO (sb3-contrib)"),
    ("sb3_contrib.common.recurrent", "RecurrentPPO (sb3-contrib)"),
    ("sb3_contrib.ppo_mask", "MaskablePPO (sb3-contrib)"),
    ("sb3_contrib.common.maskable", "MaskablePPO (sb3-contrib)"),
    ("sb3_contrib", "an sb3-contrib algorithm"),
)
"""Which algorithm saved a file, read from the module of its policy class."""


class _RefusedGlobal(Exception):
    def __init__(self, module: str, name: str) -> None:
        super().__init__(f"{module}.{name}")
        self.module, self.name = module, name


class _AllowListUnpickler(pickle.Unpickler):
    """An unpickler that can only import :data:`ALLOWED_GLOBALS` (Python docs' "Restricting
    Globals" pattern); persistent ids are refused by the base class."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in ALLOWED_GLOBALS:
            raise _RefusedGlobal(module, name)
        return super().find_class(module, name)


_STRING_OPS = frozenset(
    {
        "SHORT_BINUNICODE",
        "BINUNICODE",
        "BINUNICODE8",
        "UNICODE",
        "SHORT_BINSTRING",
        "BINSTRING",
        "STRING",
    }
)
_NEUTRAL_OPS = frozenset({"PROTO", "FRAME", "MEMOIZE", "PUT", "BINPUT", "LONG_BINPUT", "STOP"})
_IMPORTING_OPS = frozenset({"EXT1", "EXT2", "EXT4", "PERSID", "BINPERSID"})


def pickle_globals(payload: bytes) -> Iterator[tuple[str, str] | None]:
    """The ``(module, name)`` pairs a pickle would import, read from its opcodes.

    Nothing is unpickled. ``None`` stands for an import whose name cannot be read statically
    (a ``STACK_GLOBAL`` fed by computed values, an extension code, a persistent id): such a
    pickle is refused, since no file stable-baselines3 writes contains one.

    Raises:
        ValueError: the bytes are not a well-formed pickle.
    """
    recent: list[str | None] = []  # what each stack-pushing opcode pushed, when it is a string
    memo: dict[int, str | None] = {}
    for op, arg, _ in pickletools.genops(payload):
        name = op.name
        if name in _STRING_OPS:
            recent.append(arg if isinstance(arg, str) else None)
        elif name == "MEMOIZE":
            memo[len(memo)] = recent[-1] if recent else None
        elif name in ("PUT", "BINPUT", "LONG_BINPUT"):
            memo[int(str(arg))] = recent[-1] if recent else None
        elif name in ("GET", "BINGET", "LONG_BINGET"):
            recent.append(memo.get(int(str(arg))))
        elif name in ("GLOBAL", "INST"):
            module, _, attr = str(arg).partition(" ")
            yield module, attr
            recent.append(None)
        elif name == "STACK_GLOBAL":
            pair = recent[-2:] if len(recent) >= 2 else [None, None]
            yield (pair[0], pair[1]) if None not in pair else None  # type: ignore[misc]
            recent.append(None)
        elif name in _IMPORTING_OPS:
            yield None
            recent.append(None)
        elif name not in _NEUTRAL_OPS:
            recent.append(None)


@dataclass(frozen=True)
class AgentFile:
    """What a stable-baselines3 ``.zip`` holds, read without running any of it.

    Attributes:
        path: the file.
        data: its ``data`` JSON, as parsed (pickled fields still base64 text).
        pickled: the raw pickle bytes of each ``":serialized:"`` field, by field name.
        algorithm: the algorithm that saved it ("PPO", "A2C", "DQN", or the name of an
            unsupported one such as "SAC").
    """

    path: Path
    data: dict[str, Any]
    pickled: dict[str, bytes]
    algorithm: str

    @classmethod
    def read(cls, path: Path) -> AgentFile:
        """Open and parse ``path``.

        Raises:
            AgentLoadError: not a zip, truncated, no ``data`` member, or ``data`` is not a JSON
                object of a stable-baselines3 model.
        """
        path = Path(path)
        fix = (
            "Pass the .zip written by model.save() (copy it again if it was cut short), or "
            "zoo:NAME for a shipped agent (see `rlwb zoo list`)."
        )
        try:
            with zipfile.ZipFile(path) as archive:
                info = archive.getinfo("data")
                if info.file_size > MAX_DATA_BYTES:
                    raise AgentLoadError(
                        f"{path} has a {info.file_size:,}-byte data member, far larger than any "
                        f"stable-baselines3 model's. {fix}"
                    )
                data = json.loads(archive.read(info))
        except AgentLoadError:
            raise
        except KeyError:
            raise AgentLoadError(
                f"{path} is not a stable-baselines3 model file (a zip without a 'data' "
                f"member). {fix}"
            ) from None
        except zipfile.BadZipFile as exc:
            raise AgentLoadError(
                f"{path} is not a stable-baselines3 model file (not a readable zip: {exc}). {fix}"
            ) from None
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
            raise AgentLoadError(
                f"{path}: its 'data' member is not valid JSON ({exc.__class__.__name__}). {fix}"
            ) from None
        except Exception as exc:  # zlib, struct, EOF, OS errors of a damaged archive
            raise AgentLoadError(
                f"{path} is damaged or truncated ({exc.__class__.__name__}: {exc}). {fix}"
            ) from None
        if not isinstance(data, dict) or "policy_class" not in data:
            raise AgentLoadError(
                f"{path} is not a stable-baselines3 model file (its 'data' names no "
                f"policy_class). {fix}"
            )
        pickled: dict[str, bytes] = {}
        for key, value in data.items():
            if isinstance(value, dict) and SERIALIZED in value:
                try:
                    pickled[key] = base64.b64decode(str(value[SERIALIZED]), validate=True)
                except (binascii.Error, ValueError):
                    raise AgentLoadError(
                        f"{path}: field {key!r} is not valid base64, so the file is damaged. {fix}"
                    ) from None
        return cls(path, data, pickled, _detect_algorithm(data, pickled))

    def refused_globals(self) -> dict[str, str]:
        """For each pickled field that imports something off the allowlist: the first such
        import as ``module.name`` (or a description when it cannot be read)."""
        refused: dict[str, str] = {}
        for key, payload in self.pickled.items():
            try:
                for pair in pickle_globals(payload):
                    if pair is None:
                        refused[key] = "an import whose name is computed at load time"
                        break
                    if pair not in ALLOWED_GLOBALS:
                        refused[key] = f"{pair[0]}.{pair[1]}"
                        break
            except Exception as exc:  # malformed opcodes: pickletools raises several types
                refused[key] = f"a malformed pickle ({exc.__class__.__name__})"
        return refused

    def objects(self, *, trust: bool = False) -> dict[str, Any]:
        """Every pickled field as an object, for stable-baselines3's ``custom_objects``.

        Raises:
            UntrustedAgentError: a field needs a class off the allowlist and ``trust`` is False.
            AgentLoadError: a field cannot be unpickled.
        """
        refused = self.refused_globals()
        objects: dict[str, Any] = {}
        for key, payload in self.pickled.items():
            if key in refused and key in SCHEDULE_PLACEHOLDERS and not trust:
                logger.info("%s: %s replaced by a constant (never unpickled)", self.path, key)
                objects[key] = SCHEDULE_PLACEHOLDERS[key]
            elif key in refused and not trust:
                raise UntrustedAgentError(
                    f"{self.path}: field {key!r} holds a pickled {refused[key]}, which is not on "
                    "the allowlist of classes an agent needs; loading it would run code from the "
                    "file. If you made this file yourself, pass --trust-agent."
                )
            elif key in refused:
                objects[key] = _trusted_loads(self.path, key, payload)
            else:
                objects[key] = _restricted_loads(self.path, key, payload)
        return objects


def _restricted_loads(path: Path, key: str, payload: bytes) -> Any:
    try:
        return _AllowListUnpickler(io.BytesIO(payload)).load()
    except _RefusedGlobal as exc:  # the static scan missed it: still refused, never imported
        raise UntrustedAgentError(
            f"{path}: field {key!r} holds a pickled {exc}, which is not on the allowlist of "
            "classes an agent needs; loading it would run code from the file. If you made this "
            "file yourself, pass --trust-agent."
        ) from None
    except Exception as exc:
        raise AgentLoadError(
            f"{path}: field {key!r} cannot be read ({exc.__class__.__name__}: {exc}); the file "
            "is damaged or was saved by an incompatible library version. Re-save it with "
            "model.save()."
        ) from None


def _trusted_loads(path: Path, key: str, payload: bytes) -> Any:
    import cloudpickle  # type: ignore[import-untyped]

    try:
        return cloudpickle.loads(payload)
    except Exception as exc:
        raise AgentLoadError(
            f"{path}: field {key!r} cannot be unpickled even with --trust-agent "
            f"({exc.__class__.__name__}: {exc})."
        ) from None


def _detect_algorithm(data: dict[str, Any], pickled: dict[str, bytes]) -> str:
    """Name the algorithm from the policy class's module and the hyperparameters saved."""
    module = ""
    policy = data.get("policy_class")
    if "policy_class" in pickled:
        try:
            found = next((g for g in pickle_globals(pickled["policy_class"]) if g), None)
        except Exception:
            found = None
        module = found[0] if found else ""
    if not module and isinstance(policy, dict):
        module = str(policy.get("__module__", ""))
    for prefix, name in _POLICY_MODULES:
        if module.startswith(prefix):
            return name
    if "cg_max_steps" in data or "cg_damping" in data:
        return "TRPO (sb3-contrib)"
    if "exploration_rate" in data:
        return "DQN"
    if "clip_range" in data:
        return "PPO"
    if "n_steps" in data and "vf_coef" in data:
        return "A2C"
    if module:
        return f"an unknown algorithm (policy from {module})"
    return "an unknown algorithm"


def check_supported(agent_file: AgentFile) -> str:
    """The file's algorithm when the workbench reads it.

    Raises:
        UnsupportedAlgorithmError: naming the algorithm and the supported list.
    """
    if agent_file.algorithm not in SUPPORTED_ALGORITHMS:
        raise UnsupportedAlgorithmError(
            f"{agent_file.path} was saved by {agent_file.algorithm}; the workbench reads "
            f"{', '.join(SUPPORTED_ALGORITHMS)} agents with discrete actions. Train one of "
            "those, or wrap your model as an rl_workbench.agents.Agent in Python."
        )
    return agent_file.algorithm


__all__ = [
    "ALLOWED_GLOBALS",
    "SUPPORTED_ALGORITHMS",
    "AgentFile",
    "check_supported",
    "pickle_globals",
]
