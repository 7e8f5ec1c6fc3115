"""Agent files are untrusted: nothing in one may run code unless the user passes --trust-agent.

Every malicious file here carries a pickle whose loading would create a marker file. The
controls show the payload is real: stable-baselines3's own loader, and ``--trust-agent``, do
create the marker. Every other path (each pickled field, the weights, every command, the quiz,
a planted training checkpoint) must leave no marker and refuse with one line.
"""

from __future__ import annotations

import base64
import io
import json
import os
import pickle
import shutil
import zipfile
from pathlib import Path

import hypothesis.strategies as st
import pytest
import torch
from hypothesis import HealthCheck, given, settings

from rl_workbench.agents import load_sb3_model, zoo_folder
from rl_workbench.agents.agent_file import AgentFile, pickle_globals
from rl_workbench.errors import AgentLoadError, UnsupportedAlgorithmError, UntrustedAgentError
from tests.helpers import TINY_MAZE, make_tiny_model


class _Touch:
    """Unpickling this runs ``os.system('touch MARKER')``."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


class _Exec:
    """Unpickling this runs Python source through ``builtins.exec``."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (exec, (f"open({str(self.marker)!r}, 'w').close()",))


def _serialized(obj: object, protocol: int = 4) -> dict[str, str]:
    payload = pickle.dumps(obj, protocol=protocol)
    return {":type:": "<class 'int'>", ":serialized:": base64.b64encode(payload).decode()}


def rewrite_zip(source: Path, target: Path, *, data=None, members: dict | None = None) -> Path:
    """Copy a model zip, replacing its ``data`` JSON and/or other members."""
    with zipfile.ZipFile(source) as archive:
        contents = {name: archive.read(name) for name in archive.namelist()}
    if data is not None:
        contents["data"] = json.dumps(data).encode()
    contents.update(members or {})
    with zipfile.ZipFile(target, "w") as archive:
        for name, blob in contents.items():
            archive.writestr(name, blob)
    return target


def read_data(path: Path) -> dict:
    with zipfile.ZipFile(path) as archive:
        return json.loads(archive.read("data"))


@pytest.fixture(scope="module")
def clean_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("clean") / "agent.zip"
    make_tiny_model("PPO").save(path)
    return path


SERIALIZED_FIELDS = (
    "policy_class",
    "observation_space",
    "action_space",
    "rollout_buffer_class",
    "policy_kwargs",
    "_last_obs",
    "ep_info_buffer",
    "an_extra_field",
)
SCHEDULE_FIELDS = ("lr_schedule", "clip_range")


def test_the_payload_is_real(clean_zip: Path, tmp_path: Path) -> None:
    """Control: stable-baselines3's own loader runs it, and so does --trust-agent."""
    from stable_baselines3 import PPO

    marker = tmp_path / "pwned"
    data = read_data(clean_zip) | {"an_extra_field": _serialized(_Touch(marker))}
    evil = rewrite_zip(clean_zip, tmp_path / "evil.zip", data=data)
    PPO.load(evil, device="cpu")
    assert marker.exists()
    marker.unlink()
    load_sb3_model(evil, trust=True)
    assert marker.exists()


@pytest.mark.parametrize("field", SERIALIZED_FIELDS)
@pytest.mark.parametrize("payload", [_Touch, _Exec], ids=["os.system", "exec"])
@pytest.mark.parametrize("protocol", [2, 5])
def test_every_pickled_field_is_refused_before_unpickling(
    clean_zip: Path, tmp_path: Path, field: str, payload: type, protocol: int
) -> None:
    marker = tmp_path / "pwned"
    data = read_data(clean_zip) | {field: _serialized(payload(marker), protocol)}
    evil = rewrite_zip(clean_zip, tmp_path / "evil.zip", data=data)
    with pytest.raises(UntrustedAgentError, match=rf"field '{field}' holds a pickled .*--trust"):
        load_sb3_model(evil)
    assert not marker.exists()


def test_a_payload_nested_inside_allowed_objects_is_refused(clean_zip: Path, tmp_path: Path):
    marker = tmp_path / "pwned"
    kwargs = {"net_arch": [16], "features_extractor_kwargs": {"x": _Touch(marker)}}
    data = read_data(clean_zip) | {"policy_kwargs": _serialized(kwargs)}
    evil = rewrite_zip(clean_zip, tmp_path / "evil.zip", data=data)
    with pytest.raises(UntrustedAgentError, match=r"'policy_kwargs' holds a pickled posix\.system"):
        load_sb3_model(evil)
    assert not marker.exists()


@pytest.mark.parametrize("field", SCHEDULE_FIELDS)
def test_a_schedule_closure_is_replaced_never_unpickled(
    clean_zip: Path, tmp_path: Path, field: str
) -> None:
    """Old stable-baselines3 pickled schedules as closures; inference never calls them."""
    marker = tmp_path / "pwned"
    data = read_data(clean_zip) | {field: _serialized(_Touch(marker))}
    evil = rewrite_zip(clean_zip, tmp_path / "evil.zip", data=data)
    model = load_sb3_model(evil)
    assert not marker.exists()
    obs = torch.zeros((1, *model.observation_space.shape))
    assert model.policy.get_distribution(obs).distribution.probs.shape == (1, 4)


@pytest.mark.parametrize("member", ["policy.pth", "pytorch_variables.pth", "policy.optimizer.pth"])
def test_weights_are_read_weights_only(clean_zip: Path, tmp_path: Path, member: str) -> None:
    marker = tmp_path / "pwned"
    blob = io.BytesIO()
    torch.save({"x": _Touch(marker)}, blob)
    evil = rewrite_zip(clean_zip, tmp_path / "evil.zip", members={member: blob.getvalue()})
    with pytest.raises(AgentLoadError):
        load_sb3_model(evil)
    assert not marker.exists()


def test_computed_import_names_are_refused() -> None:
    """A STACK_GLOBAL fed by anything but two literal strings cannot be read, so it is refused."""
    # PROTO 4, 'posix' MEMOIZE, 'system' MEMOIZE, POP, POP, GET 0, GET 1, STACK_GLOBAL ...
    crafted = b"\x80\x04\x8c\x05posix\x94\x8c\x06system\x9400h\x00h\x01\x93\x8c\x04true\x85R."
    assert list(pickle_globals(crafted)) == [("posix", "system")]
    tricky = b"\x80\x04\x8c\x05posix\x8c\x06system)0\x93."  # EMPTY_TUPLE, POP before import
    assert list(pickle_globals(tricky)) == [None]


def test_the_shipped_agents_load_without_trust() -> None:
    for name in ("maze-corner", "maze-uniform", "spaceinvaders-ppo"):
        agent_file = AgentFile.read(zoo_folder(name) / "agent.zip")
        assert agent_file.refused_globals() == {}, name
        assert agent_file.algorithm == "PPO"


@pytest.mark.parametrize("algorithm", ["PPO", "A2C", "DQN"])
def test_supported_algorithms_load_without_trust(tmp_path: Path, algorithm: str) -> None:
    model = make_tiny_model(algorithm)
    model.save(tmp_path / "m.zip")
    loaded = load_sb3_model(tmp_path / "m.zip")
    assert type(loaded).__name__ == algorithm
    for key, value in model.policy.state_dict().items():
        assert torch.equal(loaded.policy.state_dict()[key], value)


@pytest.mark.parametrize(
    ("module", "extra", "named"),
    [
        ("stable_baselines3.sac.policies", {}, "SAC"),
        ("stable_baselines3.td3.policies", {}, "TD3"),
        ("sb3_contrib.qrdqn.policies", {}, "QR-DQN"),
        ("sb3_contrib.common.recurrent.policies", {}, "RecurrentPPO"),
        ("sb3_contrib.common.maskable.policies", {}, "MaskablePPO"),
        ("stable_baselines3.common.policies", {"cg_max_steps": 15, "cg_damping": 0.1}, "TRPO"),
    ],
)
def test_other_algorithms_are_named_and_refused(
    clean_zip: Path, tmp_path: Path, module: str, extra: dict, named: str
) -> None:
    data = read_data(clean_zip)
    data.pop("policy_class")
    data["policy_class"] = {":type:": "<class 'abc.ABCMeta'>", "__module__": module}
    data.pop("clip_range", None)
    foreign = rewrite_zip(clean_zip, tmp_path / "foreign.zip", data=data | extra)
    with pytest.raises(UnsupportedAlgorithmError, match=rf"saved by {named}.*PPO, A2C, DQN"):
        load_sb3_model(foreign)


def test_truncated_zip_names_the_fix(clean_zip: Path, tmp_path: Path) -> None:
    cut = tmp_path / "cut.zip"
    cut.write_bytes(clean_zip.read_bytes()[: clean_zip.stat().st_size // 2])
    with pytest.raises(AgentLoadError, match=r"not a stable-baselines3 model file.*copy it again"):
        load_sb3_model(cut)


@st.composite
def _mangled(draw, original: bytes) -> bytes:
    kind = draw(st.sampled_from(["truncate", "flip", "splice"]))
    if kind == "truncate":
        return original[: draw(st.integers(0, len(original) - 1))]
    blob = bytearray(original)
    for _ in range(draw(st.integers(1, 8))):
        at = draw(st.integers(0, len(blob) - 1))
        if kind == "flip":
            blob[at] ^= draw(st.integers(1, 255))
        else:
            blob[at : at + 4] = draw(st.binary(min_size=0, max_size=8))
    return bytes(blob)


def _mangled_data_json(draw, data: dict) -> dict:
    key = draw(st.sampled_from(sorted(data)))
    value = draw(
        st.one_of(
            st.none(),
            st.integers(-(10**6), 10**6),
            st.text(max_size=20),
            st.lists(st.integers(), max_size=3),
            st.just({":serialized:": "!!not base64!!"}),
            st.just({":serialized:": base64.b64encode(b"\x80\x04garbage").decode()}),
        )
    )
    return data | {key: value}


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_fuzz_mangled_zips_only_raise_our_error(clean_zip: Path, tmp_path: Path, data) -> None:
    original = clean_zip.read_bytes()
    target = tmp_path / "fuzz.zip"
    if data.draw(st.booleans()):
        target.write_bytes(data.draw(_mangled(original)))
    else:
        rewrite_zip(clean_zip, target, data=_mangled_data_json(data.draw, read_data(clean_zip)))
    try:
        load_sb3_model(target)
    except AgentLoadError:
        pass


# --- Through every command, as a user runs them ---------------------------------------------


@pytest.fixture
def evil_agent_dir(tiny_agent_dir: Path, tmp_path: Path) -> tuple[Path, Path]:
    """A copy of the tiny agent's folder (card included) whose zip plants a marker on load."""
    folder = tmp_path / "evil-agent"
    shutil.copytree(tiny_agent_dir, folder, ignore=shutil.ignore_patterns("checkpoints"))
    marker = tmp_path / "pwned"
    data = read_data(folder / "agent.zip") | {"an_extra_field": _serialized(_Touch(marker))}
    rewrite_zip(tiny_agent_dir / "agent.zip", folder / "agent.zip", data=data)
    return folder, marker


def _commands(agent: Path, out: Path) -> dict[str, list[str]]:
    return {
        "explain": ["explain", "--agent", str(agent), "--method", "search", "--n", "1"],
        "collect": ["collect", "--agent", str(agent), "--n-states", "8"],
        "collect-no-card": [
            "collect",
            "--agent",
            str(agent / "agent.zip"),
            "--env",
            "rlwb/MazeCorner-v0",
            "--env-arg",
            "min_size=3",
            "--env-arg",
            "max_size=5",
            "--n-states",
            "8",
        ],
        "audit": ["audit", "--agent", str(agent), "--suite", "corner", "--mazes", "2"],
    }


@pytest.mark.parametrize("command", ["explain", "collect", "collect-no-card", "audit"])
def test_no_command_runs_an_agent_file(rlwb, evil_agent_dir, tmp_path: Path, command: str):
    folder, marker = evil_agent_dir
    if command == "collect-no-card":
        (folder / "card.json").unlink()
    run = rlwb(*_commands(folder, tmp_path)[command], "--out", str(tmp_path / "out"))
    run.assert_refused("an_extra_field", "posix.system", "--trust-agent")
    assert not marker.exists()


def test_trust_agent_is_the_explicit_way_through(rlwb, evil_agent_dir, tmp_path: Path) -> None:
    folder, marker = evil_agent_dir
    run = rlwb(
        *_commands(folder, tmp_path)["collect"], "--out", str(tmp_path / "o"), "--trust-agent"
    )
    assert run.code == 0, run.err
    assert marker.exists()


def test_train_resume_refuses_a_planted_checkpoint(rlwb, evil_agent_dir, tmp_path: Path):
    """A real run's folder whose checkpoint was swapped for a malicious one."""
    folder, marker = evil_agent_dir
    out = tmp_path / "run"
    args = ["train", "--env", "rlwb/MazeCorner-v0", "--out", str(out), "--eval-episodes", "1"]
    args += [f"--env-arg={k}={v}" for k, v in TINY_MAZE.items()]
    first = rlwb(*args, "--steps", "64")
    assert first.code == 0, first.err
    shutil.copy(folder / "agent.zip", out / "checkpoints" / "latest.zip")
    run = rlwb(*args, "--steps", "128")
    run.assert_refused("latest.zip", "an_extra_field", "--trust-agent")
    assert not marker.exists()


def test_a_quiz_deck_naming_the_file_is_refused_before_the_app(
    rlwb, evil_agent_dir, tmp_path: Path
) -> None:
    folder, marker = evil_agent_dir
    deck = (Path(__file__).resolve().parents[2] / "scenarios" / "maze-deck.yaml").read_text()
    deck = deck.replace("zoo:maze-uniform", str(folder))
    deck = deck.replace(
        "env: rlwb/Maze-v0", "env: rlwb/Maze-v0\nenv_kwargs: {min_size: 3, max_size: 5}"
    )
    (tmp_path / "deck.yaml").write_text(deck)
    run = rlwb("quiz", "--deck", str(tmp_path / "deck.yaml"), "--db", str(tmp_path / "q.sqlite"))
    run.assert_refused("an_extra_field", "--trust-agent")
    assert not marker.exists()
