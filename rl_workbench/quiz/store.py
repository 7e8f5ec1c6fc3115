"""Every quiz answer, kept: a SQLite file in write-ahead-log mode, one transaction per answer.

A lab's data must survive a crash, a closed laptop lid or a killed terminal: each answer is
committed on its own before the next item is shown, and an unfinished session resumes where it
stopped (the next item is the first without an answer). Tables are plain SQL so the data can be
read without the workbench.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from platformdirs import user_data_dir

from rl_workbench.errors import RLWorkbenchError

SCHEMA_VERSION = 1
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sessions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user TEXT NOT NULL,
    deck TEXT NOT NULL,
    deck_hash TEXT NOT NULL,
    condition TEXT NOT NULL,
    seed INTEGER NOT NULL,
    started_at REAL NOT NULL,
    finished_at REAL
);
CREATE TABLE IF NOT EXISTS answers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id INTEGER NOT NULL REFERENCES sessions(id),
    item_index INTEGER NOT NULL,
    phase TEXT NOT NULL,
    kind TEXT NOT NULL,
    item TEXT NOT NULL,
    answer TEXT NOT NULL,
    agent_probs TEXT,
    score TEXT NOT NULL,
    shown_at REAL NOT NULL,
    answered_at REAL NOT NULL,
    UNIQUE (session_id, item_index)
);
"""


class StoreError(RLWorkbenchError):
    """The answer database cannot be opened or is of another format."""

    title = "Cannot open the quiz database"


def default_db_path() -> Path:
    """The user's data directory (XDG on Linux), so answers outlive the working directory."""
    return Path(user_data_dir("rl-workbench")) / "quiz.sqlite"


@dataclass(frozen=True)
class Session:
    """A person's pass through a deck."""

    id: int
    user: str
    deck: str
    deck_hash: str
    condition: str
    seed: int
    finished: bool


class AnswerStore:
    """The quiz's SQLite file."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else default_db_path()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(SCHEMA)
            version = self._db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
            if version is None:
                self._db.execute("INSERT INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
            elif int(version[0]) != SCHEMA_VERSION:
                raise StoreError(
                    f"{self.path} has quiz schema {version[0]}; this version reads "
                    f"{SCHEMA_VERSION}. Use another --db or upgrade the workbench."
                )
        except sqlite3.DatabaseError as exc:
            raise StoreError(
                f"{self.path} is not a quiz database ({exc}). Pass another --db PATH."
            ) from None

    def close(self) -> None:
        self._db.close()

    # -- sessions ---------------------------------------------------------------------------------
    def open_session(
        self, user: str, deck: str, deck_hash: str, condition: str, seed: int
    ) -> Session:
        """The user's unfinished session of this deck (same contents), or a new one."""
        row = self._db.execute(
            "SELECT id, condition, seed FROM sessions WHERE user=? AND deck=? AND deck_hash=? "
            "AND finished_at IS NULL ORDER BY id DESC LIMIT 1",
            (user, deck, deck_hash),
        ).fetchone()
        if row is not None:
            return Session(row[0], user, deck, deck_hash, row[1], row[2], False)
        with self._db:
            cur = self._db.execute(
                "INSERT INTO sessions (user, deck, deck_hash, condition, seed, started_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (user, deck, deck_hash, condition, seed, time.time()),
            )
        return Session(int(cur.lastrowid), user, deck, deck_hash, condition, seed, False)

    def finish_session(self, session_id: int) -> None:
        with self._db:
            self._db.execute(
                "UPDATE sessions SET finished_at=? WHERE id=?", (time.time(), session_id)
            )

    def answered(self, session_id: int) -> set[int]:
        rows = self._db.execute(
            "SELECT item_index FROM answers WHERE session_id=?", (session_id,)
        ).fetchall()
        return {r[0] for r in rows}

    # -- answers ----------------------------------------------------------------------------------
    def record(
        self,
        session_id: int,
        item_index: int,
        phase: str,
        kind: str,
        item: dict[str, Any],
        answer: dict[str, Any],
        agent_probs: list[float] | None,
        score: dict[str, Any],
        shown_at: float,
    ) -> None:
        """Commit one answer (its own transaction: durable before the next item is shown)."""
        with self._db:
            self._db.execute(
                "INSERT OR REPLACE INTO answers (session_id, item_index, phase, kind, item, "
                "answer, agent_probs, score, shown_at, answered_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (
                    session_id,
                    item_index,
                    phase,
                    kind,
                    json.dumps(item),
                    json.dumps(answer),
                    None if agent_probs is None else json.dumps(agent_probs),
                    json.dumps(score),
                    shown_at,
                    time.time(),
                ),
            )

    def rows(self, user: str | None = None) -> list[dict[str, Any]]:
        """Every answer joined with its session, oldest first (for stats and export)."""
        query = (
            "SELECT s.id, s.user, s.deck, s.condition, a.item_index, a.phase, a.kind, a.item, "
            "a.answer, a.agent_probs, a.score, a.shown_at, a.answered_at FROM answers a "
            "JOIN sessions s ON s.id = a.session_id"
        )
        args: tuple[Any, ...] = ()
        if user is not None:
            query += " WHERE s.user=?"
            args = (user,)
        out = []
        for r in self._db.execute(query + " ORDER BY a.answered_at", args):
            out.append(
                {
                    "session": r[0],
                    "user": r[1],
                    "deck": r[2],
                    "condition": r[3],
                    "item_index": r[4],
                    "phase": r[5],
                    "kind": r[6],
                    "item": json.loads(r[7]),
                    "answer": json.loads(r[8]),
                    "agent_probs": None if r[9] is None else json.loads(r[9]),
                    "score": json.loads(r[10]),
                    "seconds": r[12] - r[11],
                }
            )
        return out
