"""Who is in a population: agent references from a list file or a folder, and seed ranges."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from rl_workbench.errors import InvalidArgumentError

AGENT_FILE = "agent.zip"


@dataclass(frozen=True)
class Member:
    """One agent of a population: a unique, file-name-safe name and the reference to load."""

    name: str
    ref: str


def read_population(source: str | Path) -> list[Member]:
    """The agents named by ``source``.

    A folder: every sub-folder holding an ``agent.zip`` (e.g. what ``rlwb train --seeds`` or a
    population benchmark writes) and every ``.zip`` directly in it. A text file: one reference
    per line (a path, relative to the file's folder or absolute, or ``zoo:NAME``); blank lines
    and ``#`` comments are skipped.

    Raises:
        InvalidArgumentError: nothing there, nothing that names an agent, or a line of the file
            naming one that does not exist.
    """
    path = Path(source).expanduser()
    if path.is_dir():
        folder = path.resolve()  # workers may not share our working directory
        refs = [str(p) for p in sorted(folder.iterdir()) if (p / AGENT_FILE).is_file()]
        refs += [str(p) for p in sorted(folder.glob("*.zip")) if p.is_file()]
        where = f"the folder {path}"
        hint = "sub-folders holding an agent.zip, or .zip files"
    elif path.is_file():
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidArgumentError(
                f"Cannot read the population file {path}: {exc}. Give a text file with one agent "
                "reference per line, or a folder of agents."
            ) from exc
        refs = []
        missing = []
        for number, line in enumerate(lines, start=1):
            text = line.split("#", 1)[0].strip()
            if not text:
                continue
            if text.startswith("zoo:"):
                ref = text
            elif Path(text).expanduser().is_absolute():
                ref = str(Path(text).expanduser())
            else:
                ref = str((path.parent / text).resolve())
            if not _names_an_agent(ref):
                missing.append(f"line {number} ({text})")
            refs.append(ref)
        if missing:
            # Refused before any work starts: a typo found hours into a population run is the
            # costly way to learn about it. Agents that exist but fail to load are still
            # reported per task, without stopping the others.
            raise InvalidArgumentError(
                f"The population file {path} names agents that do not exist: "
                f"{', '.join(missing[:5])}{' and more' if len(missing) > 5 else ''}. Fix or "
                "remove those lines (a path to a .zip or to a folder with an agent.zip, relative "
                "to the file's folder, or zoo:NAME)."
            )
        where = f"the file {path}"
        hint = "one agent reference per line (a path or zoo:NAME)"
    else:
        raise InvalidArgumentError(
            f"No population at {source}: give a text file with one agent reference per line, or "
            "a folder of agents."
        )
    if not refs:
        raise InvalidArgumentError(f"No agents in {where}: expected {hint}.")
    return _named(refs)


def _names_an_agent(ref: str) -> bool:
    """Whether ``ref`` leads to an agent file, by the same rule that will load it."""
    from rl_workbench.agents.zoo import resolve_agent_path
    from rl_workbench.errors import AgentLoadError, UnknownNameError

    try:
        resolve_agent_path(ref)
    except (AgentLoadError, UnknownNameError):
        return False
    return True


def _named(refs: list[str]) -> list[Member]:
    """Names that depend on the reference alone (so adding an agent to the list renames none,
    and a resumed run finds its records): the zoo name, or the agent's folder qualified by the
    folder above it (``runs/corner/seed-0`` -> ``corner-seed-0``). A reference listed twice is
    one member; two references that would share a name get a short digest of the reference."""

    def name_of(ref: str) -> str:
        if ref.startswith("zoo:"):
            text = ref[len("zoo:") :]
        else:
            p = Path(ref)
            if p.name == AGENT_FILE:
                p = p.parent
            text = f"{p.parent.name}-{p.stem}" if p.parent.name else p.stem
        return re.sub(r"[^A-Za-z0-9_.=+-]", "_", text).lstrip("._-")[:80] or "agent"

    unique = list(dict.fromkeys(refs))
    names = [name_of(ref) for ref in unique]
    members = []
    for ref, name in zip(unique, names, strict=True):
        if names.count(name) > 1:
            name = f"{name}-{hashlib.sha1(ref.encode()).hexdigest()[:6]}"
        members.append(Member(name, ref))
    return members


def parse_seeds(text: str) -> list[int]:
    """``0-9``, ``3``, ``0,2,5`` or ``0-4,10-12`` as a sorted list of distinct seeds.

    Raises:
        InvalidArgumentError: anything else, or a range that runs backwards.
    """
    seeds: set[int] = set()
    for part in text.replace(" ", "").split(","):
        match = re.fullmatch(r"(\d+)(?:-(\d+))?", part)
        if match is None:
            raise InvalidArgumentError(
                f"--seeds {text!r} is not a seed list: write e.g. 0-9, 3, or 0,2,5 (ranges include "
                "both ends)."
            )
        low = int(match.group(1))
        high = int(match.group(2) or low)
        if high < low:
            raise InvalidArgumentError(f"--seeds range {part} runs backwards: write {high}-{low}.")
        seeds.update(range(low, high + 1))
    if len(seeds) > 10_000:
        raise InvalidArgumentError(f"--seeds {text!r} names {len(seeds):,} seeds; at most 10,000.")
    return sorted(seeds)
