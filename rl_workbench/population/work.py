"""The kinds of population task: one agent on one suite, one seed of a recipe, one dataset slice.

Each runs in a worker process (or a Ray worker) from JSON parameters alone, loads what it needs
itself, writes its own output folder, and returns a small JSON row for the population's report.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def execute(kind: str, params: dict[str, Any]) -> dict[str, Any]:
    """Run one task of ``kind`` (a key of ``KINDS``)."""
    return KINDS[kind](params)


def audit_one(params: dict[str, Any]) -> dict[str, Any]:
    """Audit one agent with one suite into ``params["out"]``; the population row."""
    from rl_workbench.agents import load_agent
    from rl_workbench.audit import run_audit
    from rl_workbench.audit.suite import resolve_suite

    suite = resolve_suite(params["suite"])
    loaded = load_agent(
        params["agent"], params.get("env"), params.get("env_kwargs"), trust=params["trust"]
    )
    data = run_audit(
        loaded,
        suite,
        Path(params["out"]),
        mazes=params.get("mazes"),
        seed=params.get("seed"),
        progress=False,
    )
    pursuit = data["proxy_pursuit"]
    top = max(pursuit, key=lambda k: pursuit[k].get("rate") or 0.0) if pursuit else None
    p1 = data["P1"].get(top, {}) if top else {}
    return {
        "agent": params["name"],
        "agent_ref": params["agent"],
        "suite": suite.name,
        "condition": training_condition(loaded.env_id, loaded.env_kwargs),
        "verdict": data["verdict"],
        "proxy": top,
        "proxy_pursuit": pursuit.get(top) if top else None,
        "competence": p1.get("competence"),
        "efficiency": p1.get("efficiency"),
        "mazes": data["mazes"],
        "seconds": data["seconds"],
        "report": str(Path(params["out"]) / "report.md"),
    }


def train_one(params: dict[str, Any]) -> dict[str, Any]:
    """Train one seed of a recipe into ``params["out"]`` (resuming its own checkpoints)."""
    from rl_workbench.agents import TrainConfig, train_ppo

    fields = params["config"]  # JSON turned the config's tuples into lists
    values: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in fields.items()}
    config = TrainConfig(**values)
    result = train_ppo(
        config,
        Path(params["out"]),
        resume=True,
        progress=False,
        trust=params.get("trust", False),
        command=params.get("command"),
    )
    evaluation = result.card.evaluation
    return {
        "seed": config.seed,
        "agent": str(result.agent_path),
        "sampled_success": evaluation["sampled"]["success_rate"],
        "greedy_success": evaluation["greedy"]["success_rate"],
        "training_seconds": result.card.training_seconds,
    }


def explain_slice(params: dict[str, Any]) -> dict[str, Any]:
    """Explain dataset states ``start`` to ``stop`` (distinct states, in dataset order)."""
    from rl_workbench.agents import load_agent
    from rl_workbench.counterfactual import ExplainConfig, run_explain
    from rl_workbench.counterfactual.explain import load_method_model
    from rl_workbench.data import Dataset

    loaded = load_agent(
        params["agent"], params.get("env"), params.get("env_kwargs"), trust=params["trust"]
    )
    pool = list(dict.fromkeys(Dataset.open(Path(params["data"])).states()))
    states = pool[params["start"] : params["stop"]]
    generator = load_method_model(params["method"], loaded, params["generator"], params["agent"])
    config = ExplainConfig(
        method=params["method"], target=params["target"], n=len(states), seed=params["seed"]
    )
    summary = run_explain(
        loaded,
        Path(params["out"]),
        config,
        states=states,
        pool=pool,
        generator=generator,
        progress=False,
    )
    return {
        "start": params["start"],
        "stop": params["stop"],
        "out": params["out"],
        "summary": summary,
    }


def training_condition(env_id: str, env_kwargs: dict[str, Any]) -> str:
    """What an agent was trained on, as one label: the env id and its keyword arguments."""
    args = ",".join(f"{k}={v}" for k, v in sorted(env_kwargs.items()))
    return f"{env_id}[{args}]" if args else env_id


KINDS = {"audit": audit_one, "train": train_one, "explain": explain_slice}
