"""Quiz decks: declarative YAML files naming the environment, the agent(s), and the phases.

A deck fixes everything a lab needs to compare people: which agent, the seed items are drawn
from (per participant, never a level twice; :mod:`rl_workbench.quiz.design`), which phases in
which order, whether feedback is shown, and the study conditions (one per participant, assigned
in balanced blocks). Every field is checked, and a mistake names the file, the line and the
field.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from rl_workbench.errors import RLWorkbenchError, did_you_mean
from rl_workbench.yamlfile import YamlReader, compose, read_text

PHASE_KINDS = ("study", "predict", "construct", "spot", "attention")
CONDITIONS = ("explain", "control")
COMPLETION_CODE = re.compile(r"[A-Za-z0-9_-]{1,64}")
"""What a completion code may be: what recruiting platforms (Prolific, MTurk) accept."""
FLAWS = ("blind-cheese",)
DECKS_DIR = Path(__file__).resolve().parents[1] / "scenarios"
"""The shipped decks (``*-deck.yaml``): package data, like the suites (``rl_workbench/scenarios/``;
the repository's top-level ``scenarios/`` links to it)."""


class DeckError(RLWorkbenchError):
    """A quiz deck file is missing, is not YAML, or has a field of the wrong kind."""

    title = "Bad quiz deck"


@dataclass(frozen=True)
class Phase:
    """One block of items.

    Attributes:
        kind: study (explanations or plain actions, by condition), predict, construct, spot,
            or attention (one question with a right answer, checking that the person reads).
        items: how many items.
        feedback: show the agent's answer after each item (predict, construct).
        target: construct only: the action the person must make the agent take, or ``corner``
            (make it head for the top-right corner: its first move toward the corner).
        budget: construct only: most edits allowed.
        seconds: study only: the time budget of each item, after which it moves on by itself
            (None: self-paced). The same for both arms, so they differ only in what is shown.
        intro: the card shown before the phase's first item (None: the default for its kind,
            :func:`rl_workbench.quiz.screens.intro.intro_text`); the same in every condition.
        question: attention only: what is asked.
        options: attention only: the answers offered (keys 1-9).
        answer: attention only: the right one, among ``options``.
    """

    kind: Literal["study", "predict", "construct", "spot", "attention"]
    items: int
    feedback: bool = True
    target: str | None = None
    budget: int = 3
    intro: str | None = None
    seconds: int | None = None
    question: str | None = None
    options: tuple[str, ...] = ()
    answer: str | None = None


@dataclass(frozen=True)
class Deck:
    """A quiz deck as loaded.

    ``consent`` (shown before anything is stored or assigned; a participant who declines
    leaves no trace), ``debrief`` (shown with the results) and ``completion_code`` (shown once
    every item is answered, for a recruiting platform) serve studies with remote participants.
    """

    name: str
    env: str
    agent: str
    phases: tuple[Phase, ...]
    description: str = ""
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    flawed_agent: str | None = None
    flaw: str = "blind-cheese"
    seed: int = 0
    conditions: tuple[str, ...] = CONDITIONS
    path: str | None = None
    digest: str = ""
    consent: str | None = None
    debrief: str | None = None
    completion_code: str | None = None

    @property
    def is_maze(self) -> bool:
        return _family(self.env) == "maze"

    @property
    def consent_digest(self) -> str:
        """Names the consent text a participant agreed to (a changed text is asked again)."""
        return hashlib.sha256((self.consent or "").encode()).hexdigest()[:16]


def resolve_deck(ref: str | Path) -> Deck:
    """A deck by path, or by the name of a shipped one (``maze`` -> scenarios/maze-deck.yaml)."""
    path = Path(ref)
    if not path.exists():
        for candidate in (DECKS_DIR / f"{ref}.yaml", DECKS_DIR / f"{ref}-deck.yaml"):
            if candidate.is_file():
                path = candidate
                break
    if not path.is_file():
        shipped = sorted(p.name for p in DECKS_DIR.glob("*-deck.yaml"))
        raise DeckError(f"{ref} does not exist. Shipped decks: {', '.join(shipped) or 'none'}.")
    return parse_deck(read_text(path, DeckError), str(path), check_agents=True)


def parse_deck(text: str, source: str = "<deck>", *, check_agents: bool = False) -> Deck:
    """Parse and check a deck's text; ``source`` names it in errors (``file:line``).

    Args:
        text: the YAML.
        source: the file name shown in errors.
        check_agents: also check that every agent the deck names exists (``resolve_deck`` does,
            so a wrong path is refused with its line before anything loads).

    Raises:
        DeckError: a field is missing or wrong, a construct target is not an action or
            ``corner``, or (``check_agents``) an agent does not exist.
    """
    root = compose(text, source, DeckError)
    r = YamlReader(source, DeckError)
    doc = r.mapping(root, "the deck")
    r.only(
        doc,
        "the deck",
        ("name", "description", "env", "env_kwargs", "agent", "flawed_agent", "seed",
         "conditions", "phases", "consent", "debrief", "completion_code"),
    )  # fmt: skip
    env = r.string(r.get(doc, "env", required=True), "env")
    if not env.startswith(("rlwb/", "ALE/", "MiniGrid-")):
        raise r.fail(
            r.get(doc, "env"),
            "env",
            "a maze (rlwb/...), MiniGrid (MiniGrid-...) or Atari (ALE/...) id",
        )
    flawed = r.get(doc, "flawed_agent")
    flawed_ref, flaw = None, "blind-cheese"
    if flawed is not None:
        fm = r.mapping(flawed, "flawed_agent")
        r.only(fm, "flawed_agent", ("agent", "flaw"))
        flawed_node = r.get(fm, "agent", required=True)
        flawed_ref = r.string(flawed_node, "flawed_agent.agent")
        flaw = r.choice(r.get(fm, "flaw"), "flawed_agent.flaw", FLAWS, default="blind-cheese")
    phases = []
    phases_node = r.get(doc, "phases", required=True)
    for i, node in enumerate(r.sequence(phases_node, "phases")):
        phases.append(_parse_phase(r, node, f"phases[{i}]", env))
    if not phases:
        raise DeckError(r.where(phases_node, "phases", "at least one phase", "an empty list"))
    if env.startswith("ALE/") and any(p.kind in ("construct", "spot") for p in phases):
        raise DeckError(
            r.where(phases_node, "phases", "study or predict phases for Atari decks", "others")
        )
    if _family(env) == "minigrid" and any(p.kind == "spot" for p in phases):
        raise DeckError(
            r.where(
                phases_node,
                "phases",
                "study, predict or construct phases for MiniGrid decks",
                "spot",
            )
        )
    if any(p.kind == "spot" for p in phases) and flawed_ref is None:
        raise DeckError(
            r.where(phases_node, "phases", "a flawed_agent for spot phases", "no flawed_agent")
        )
    conditions_node = r.get(doc, "conditions")
    conditions: tuple[str, ...] = CONDITIONS
    if conditions_node is not None:
        conditions = tuple(
            r.choice(c, f"conditions[{i}]", CONDITIONS)
            for i, c in enumerate(r.sequence(conditions_node, "conditions"))
        )
        if not conditions:
            raise DeckError(r.where(conditions_node, "conditions", "at least one", "none"))

    code_node = r.get(doc, "completion_code")
    code = None if code_node is None else r.string(code_node, "completion_code")
    if code is not None and not COMPLETION_CODE.fullmatch(code):
        raise r.fail(code_node, "completion_code", "1-64 letters, digits, - or _")
    agent_node = r.get(doc, "agent", required=True)
    if check_agents:
        _check_agent(r, agent_node, "agent")
        if flawed is not None:
            _check_agent(r, flawed_node, "flawed_agent.agent")
    return Deck(
        name=r.string(r.get(doc, "name", required=True), "name"),
        description=r.string(r.get(doc, "description"), "description", default=""),
        env=env,
        env_kwargs=r.kwargs(r.get(doc, "env_kwargs"), "env_kwargs"),
        agent=r.string(agent_node, "agent"),
        flawed_agent=flawed_ref,
        flaw=flaw,
        seed=r.integer(r.get(doc, "seed"), "seed", 0, 2**31 - 1, default=0),
        conditions=conditions,
        phases=tuple(phases),
        path=source,
        digest=hashlib.sha256(text.encode()).hexdigest()[:16],
        consent=_optional_text(r, doc, "consent"),
        debrief=_optional_text(r, doc, "debrief"),
        completion_code=code,
    )


def _optional_text(r: YamlReader, doc: dict[str, Any], fieldname: str) -> str | None:
    node = r.get(doc, fieldname)
    if node is None:
        return None
    text = r.string(node, fieldname).strip()
    if not text:
        raise r.fail(node, fieldname, "some text (or leave the field out)")
    return text


def _parse_phase(r: YamlReader, node: Any, name: str, env: str = "rlwb/Maze-v0") -> Phase:
    """One entry of ``phases``, checked field by field (construct targets are ``env``'s)."""
    pm = r.mapping(node, name)
    r.only(
        pm, name,
        ("kind", "items", "feedback", "target", "budget", "intro", "seconds", "question",
         "options", "answer"),
    )  # fmt: skip
    kind = r.choice(r.get(pm, "kind", required=True), f"{name}.kind", PHASE_KINDS)
    if kind == "attention":
        return _parse_attention(r, pm, name)
    for only_attention in ("question", "options", "answer"):
        if (node_ := r.get(pm, only_attention)) is not None:
            raise r.fail(node_, f"{name}.{only_attention}", "only on attention phases")
    feedback_node = r.get(pm, "feedback")
    feedback = True
    if feedback_node is not None:
        value = r.scalar(feedback_node, f"{name}.feedback", "true or false")
        if not isinstance(value, bool):
            raise r.fail(feedback_node, f"{name}.feedback", "true or false")
        feedback = value
    target = None
    if kind == "construct":
        target_node = r.get(pm, "target", required=True)
        target = r.string(target_node, f"{name}.target")
        targets = _construct_targets(env)
        if target not in targets:
            what = "an action" + (" or corner" if "corner" in targets else "")
            raise DeckError(
                r.where(target_node, f"{name}.target", what, repr(target))
                + did_you_mean(target, targets)
            )
    phase = Phase(
        kind=kind,  # type: ignore[arg-type]
        items=r.integer(r.get(pm, "items"), f"{name}.items", 1, 200, default=5),
        feedback=feedback,
        target=target,
        budget=r.integer(r.get(pm, "budget"), f"{name}.budget", 1, 20, default=3),
        intro=(
            None
            if (intro_node := r.get(pm, "intro")) is None
            else r.string(intro_node, f"{name}.intro")
        ),
        seconds=(
            None
            if (seconds_node := r.get(pm, "seconds")) is None
            else r.integer(seconds_node, f"{name}.seconds", 1, 3600, default=1)
        ),
    )
    if phase.seconds is not None and kind != "study":
        raise r.fail(seconds_node, f"{name}.seconds", "only on study phases (a time budget)")
    return phase


def _parse_attention(r: YamlReader, pm: dict[str, Any], name: str) -> Phase:
    """An attention check: one question, 2-9 options, one right answer; nothing else."""
    for other in ("items", "feedback", "target", "budget", "intro", "seconds"):
        if (node := r.get(pm, other)) is not None:
            raise r.fail(node, f"{name}.{other}", "not on attention phases (one question each)")
    question = r.string(r.get(pm, "question", required=True), f"{name}.question")
    options_node = r.get(pm, "options", required=True)
    options = tuple(
        r.string(o, f"{name}.options[{i}]")
        for i, o in enumerate(r.sequence(options_node, f"{name}.options"))
    )
    if not 2 <= len(options) <= 9 or len(set(options)) != len(options):
        raise DeckError(
            r.where(options_node, f"{name}.options", "2 to 9 distinct options", str(list(options)))
        )
    answer_node = r.get(pm, "answer", required=True)
    answer = r.string(answer_node, f"{name}.answer")
    if answer not in options:
        raise DeckError(r.where(answer_node, f"{name}.answer", "one of the options", repr(answer)))
    return Phase(
        kind="attention", items=1, feedback=False, question=question, options=options,
        answer=answer,
    )  # fmt: skip


def _family(env: str) -> str:
    """The registry's family of a deck's env id (imported late: the registry loads torch)."""
    from rl_workbench.domains.registry import family_of

    return family_of(env)


def _construct_targets(env: str) -> tuple[str, ...]:
    """What a construct phase may ask for: a maze action or ``corner``; a MiniGrid action."""
    if _family(env) == "minigrid":
        from minigrid.core.actions import Actions

        return tuple(a.name for a in Actions)
    from rl_workbench.envs.maze import ACTION_NAMES

    return (*ACTION_NAMES, "corner")


def _check_agent(r: YamlReader, node: Any, fieldname: str) -> None:
    """Refuse, with the deck's line, an agent reference that names no file or zoo agent."""
    from rl_workbench.agents.zoo import resolve_agent_path

    ref = r.string(node, fieldname)
    try:
        resolve_agent_path(ref)
    except RLWorkbenchError as exc:
        line = node.start_mark.line + 1
        raise DeckError(f"{r.source}:{line}: field '{fieldname}': {exc}") from None


def item_seed(deck: Deck, phase_index: int, item_index: int) -> int:
    """A deck-wide env seed of an item (the same for everyone), for callers that build items
    outside a participant's session; sessions use :func:`rl_workbench.quiz.design.item_seed`."""
    return deck.seed * 1_000_000 + phase_index * 10_000 + item_index
