"""``rlwb quiz stats``: what a lab reports from the answer store.

Per condition and per person: mean ‖q - π‖² and top-choice accuracy on predict items with
bootstrap 95% intervals, construct success, spot accuracy; the explain-versus-control difference
of the prediction score with its interval (negative: explanations helped, lower distance is
better); and every answer as CSV for anything else.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import Any

from rl_workbench.errors import InvalidArgumentError

from .scoring import bootstrap_difference, bootstrap_mean
from .store import AnswerStore


def summarise(store: AnswerStore) -> dict[str, Any]:
    rows = store.rows()
    predict = [r for r in rows if r["kind"] == "predict"]

    def block(subset: list[dict[str, Any]]) -> dict[str, Any]:
        dist = [r["score"]["squared_distance"] for r in subset]
        acc = [float(r["score"]["top_choice_correct"]) for r in subset]
        return {
            "answers": len(subset),
            "people": len({r["user"] for r in subset}),
            "squared_distance": bootstrap_mean(dist),
            "accuracy": bootstrap_mean(acc),
        }

    by_condition = {
        c: block([r for r in predict if r["condition"] == c])
        for c in sorted({r["condition"] for r in predict})
    }
    by_person = {
        u: block([r for r in predict if r["user"] == u])
        for u in sorted({r["user"] for r in predict})
    }
    explain = [r["score"]["squared_distance"] for r in predict if r["condition"] == "explain"]
    control = [r["score"]["squared_distance"] for r in predict if r["condition"] == "control"]
    construct = [r for r in rows if r["kind"] == "construct"]
    spot = [r for r in rows if r["kind"] == "spot-question"]
    return {
        "answers": len(rows),
        "sessions": len({r["session"] for r in rows}),
        "by_condition": by_condition,
        "by_person": by_person,
        "explain_minus_control": bootstrap_difference(explain, control),
        "construct_success": bootstrap_mean([float(r["score"]["success"]) for r in construct]),
        "spot_correct": bootstrap_mean(
            [float(r["score"]["agent_correct"] and r["score"]["object_correct"]) for r in spot]
        ),
        "spot_agent_correct": bootstrap_mean([float(r["score"]["agent_correct"]) for r in spot]),
        "spot_object_correct": bootstrap_mean([float(r["score"]["object_correct"]) for r in spot]),
    }


def format_summary(s: dict[str, Any]) -> str:
    def ci(triple: tuple[float | None, float | None, float | None]) -> str:
        mean, low, high = triple
        return "n/a" if mean is None else f"{mean:.3f} [{low:.3f}, {high:.3f}]"

    lines = [
        f"{s['answers']} answers in {s['sessions']} sessions",
        "",
        f"{'condition':<12}{'people':>7}{'answers':>9}  {'‖q - π‖² [95% CI]':<26}accuracy [95% CI]",
    ]
    for name, b in s["by_condition"].items():
        lines.append(
            f"{name:<12}{b['people']:>7}{b['answers']:>9}  {ci(b['squared_distance']):<26}"
            f"{ci(b['accuracy'])}"
        )
    lines += ["", f"{'person':<12}{'answers':>16}  {'‖q - π‖² [95% CI]':<26}accuracy [95% CI]"]
    for name, b in s["by_person"].items():
        lines.append(
            f"{name:<12}{b['answers']:>16}  {ci(b['squared_distance']):<26}{ci(b['accuracy'])}"
        )
    lines += [
        "",
        f"explain - control, ‖q - π‖²: {ci(s['explain_minus_control'])} (negative: explanations "
        "helped)",
        f"construct success: {ci(s['construct_success'])}",
        f"spot the flawed agent: named {ci(s['spot_agent_correct'])}, what it ignores "
        f"{ci(s['spot_object_correct'])}, both {ci(s['spot_correct'])}",
    ]
    return "\n".join(lines)


def check_csv_path(path: str | Path, *, force: bool = False) -> None:
    """Refuse, before any work, a CSV target that would overwrite a file (unless ``force``) or
    cannot be a file at all: an export must never destroy data it was not asked to.

    Raises:
        InvalidArgumentError: ``path`` exists (without ``force``), is a folder, or its folder
            does not exist.
    """
    path = Path(path)
    if path.is_dir():
        raise InvalidArgumentError(
            f"--csv {path} is a folder. Pass a file path, e.g. {path / 'answers.csv'}."
        )
    if path.exists() and not force:
        raise InvalidArgumentError(
            f"--csv {path} already exists. Pass --force to overwrite it, or another --csv PATH."
        )
    if not path.parent.is_dir():
        raise InvalidArgumentError(
            f"--csv {path}: the folder {path.parent} does not exist. Create it or pass another "
            "--csv PATH."
        )


def export_csv(store: AnswerStore, path: str | Path) -> int:
    """Every answer, one row each, nested fields as JSON; returns the row count.

    The file is written beside its target and moved into place, so a failed export never leaves
    half a file where a complete one was.

    Raises:
        InvalidArgumentError: the file cannot be written.
    """
    path = Path(path)
    rows = store.rows()
    fields = ["session", "user", "deck", "condition", "item_index", "phase", "kind", "seconds",
              "item", "answer", "agent_probs", "score"]  # fmt: skip
    partial = path.with_name(path.name + ".partial")
    try:
        with open(partial, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=fields)
            writer.writeheader()
            for r in rows:
                writer.writerow(
                    {k: json.dumps(r[k]) if isinstance(r[k], dict | list) else r[k] for k in fields}
                )
        os.replace(partial, path)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise InvalidArgumentError(
            f"Cannot write --csv {path} ({exc.strerror or exc}). Pass a writable --csv PATH."
        ) from None
    return len(rows)
