"""Every quiz answer, kept: a SQLite file in write-ahead-log mode, one transaction per answer.

A lab's data must survive a crash, a closed laptop lid or a killed terminal: each answer is
committed on its own before the next item is shown, and an unfinished session resumes where it
stopped (the next item is the first without an answer). Tables are plain SQL so the data can be
read without the workbench.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import socket
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from platformdirs import user_data_dir

from rl_workbench.errors import RLWorkbenchError

logger = logging.getLogger(__name__)

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

SCHEMA_VERSION = 2
"""2 (issue 14): the chosen action and stated confidence of a prediction as columns (a uniform
q's argmax had been scored as the person's choice), each item's content digest and whether a
study item showed an explanation, and the participants table (one condition per participant and
deck, kept across sessions). Version-1 files are migrated when opened for writing and read as
they are when opened read-only."""
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
    chosen_action INTEGER,
    stated_confidence REAL,
    state_digest TEXT,
    explanation_shown INTEGER,
    UNIQUE (session_id, item_index)
);
CREATE TABLE IF NOT EXISTS participants (
    deck TEXT NOT NULL,
    user TEXT NOT NULL,
    condition TEXT NOT NULL,
    position INTEGER NOT NULL,
    assigned_at REAL NOT NULL,
    PRIMARY KEY (deck, user)
);
CREATE TABLE IF NOT EXISTS consents (
    deck TEXT NOT NULL,
    user TEXT NOT NULL,
    consent_digest TEXT NOT NULL,
    consented_at REAL NOT NULL,
    PRIMARY KEY (deck, user, consent_digest)
);
"""
V2_ANSWER_COLUMNS = (
    ("chosen_action", "INTEGER"),
    ("stated_confidence", "REAL"),
    ("state_digest", "TEXT"),
    ("explanation_shown", "INTEGER"),
)


def chosen_from_q(q: list[float]) -> tuple[int | None, float | None]:
    """A version-1 prediction's choice: the argmax of q where it is unique, else unknown (a q
    left uniform, or a tie, never said which action the person meant)."""
    top = max(q)
    winners = [i for i, v in enumerate(q) if abs(v - top) < 1e-9]
    return (winners[0], float(top)) if len(winners) == 1 else (None, None)


class StoreError(RLWorkbenchError):
    """The answer database cannot be opened or is of another format."""

    title = "Cannot open the quiz database"


class StoreWriteError(StoreError):
    """An answer could not be written to the database (locked, read-only, disk full...)."""

    title = "Answer not stored"


class SessionLockedError(StoreError):
    """Another quiz process is running the same person's session of the same deck."""

    title = "Quiz already running"


class AnswersNotStoredError(StoreError):
    """The quiz ended with answers the database never accepted (they were kept in a file)."""

    title = "Answers not stored"


SQLITE_HEADER = b"SQLite format 3\x00"
"""The first 16 bytes of every SQLite database file."""

BUSY_TIMEOUT_S = 2.0
"""How long a write waits for another program's lock before the answer is kept as pending."""


def default_db_path() -> Path:
    """The user's data directory (XDG on Linux), so answers outlive the working directory."""
    return Path(user_data_dir("rl-workbench")) / "quiz.sqlite"


def _reason(exc: BaseException) -> str:
    """What went wrong, in the OS's or SQLite's words (``database is locked``, ...)."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


def _is_locked(exc: sqlite3.Error) -> bool:
    return "locked" in str(exc) or "busy" in str(exc)


def check_sqlite_file(path: Path) -> None:
    """Refuse a file that exists but is not a SQLite database, without writing to it.

    Raises:
        StoreError: ``path`` is a folder, cannot be read, or does not start with SQLite's header.
    """
    if path.is_dir():
        raise StoreError(
            f"{path} is a folder. Pass --db PATH naming a file, e.g. {path / 'quiz.sqlite'}."
        )
    try:
        with open(path, "rb") as f:
            head = f.read(len(SQLITE_HEADER))
    except (FileNotFoundError, NotADirectoryError):  # nothing there yet (or a parent is a file)
        return
    except OSError as exc:
        raise StoreError(
            f"{path} cannot be read ({_reason(exc)}). Pass another --db PATH."
        ) from None
    if head and head != SQLITE_HEADER:
        raise StoreError(
            f"{path} is not a quiz database (not a SQLite file: it starts with {head[:8]!r}). "
            "Pass another --db PATH."
        )


def check_writable(path: Path) -> None:
    """Refuse, before any quiz starts, a database the quiz could not write answers to.

    Why: a problem found here is one line and exit status 2; found after the first answer, it
    would cost the person their answers. Writability is tried, not inferred from permission
    bits, so it is also right for root, read-only mounts and immutable files.

    Raises:
        StoreError: a parent is a file, the folder cannot be created or written, or the file
            is read-only or not a SQLite database.
    """
    check_sqlite_file(path)
    parent = path.parent
    ancestor = parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise StoreError(
            f"Cannot create {path}: {ancestor} is a file, not a folder. Pass --db PATH in a "
            "folder (it is created if missing)."
        )
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(
            f"Cannot create the folder {parent} for {path} ({_reason(exc)}). Pass --db PATH "
            "in a writable folder."
        ) from None
    try:
        if path.exists():
            with open(path, "r+b"):
                pass
        # SQLite's write-ahead log and its index live beside the file: the folder must take them.
        with tempfile.NamedTemporaryFile(dir=parent, prefix=".rlwb-probe-"):
            pass
    except OSError as exc:
        where = path if path.exists() else parent
        raise StoreError(
            f"{where} is read-only ({_reason(exc)}); the quiz could not store answers in "
            f"{path}. Make it writable, or pass --db PATH on a writable disk."
        ) from None


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


class SessionLock:
    """Holds one person's session of one deck in one process: a second quiz process for the same
    person and deck is refused instead of writing over the first one's answers.

    Why a lock file with ``flock`` and not a row in the database: the kernel drops the lock
    when the process dies (even by SIGKILL), so a crash never leaves a stale lock behind.
    """

    def __init__(self, db_path: Path, user: str, deck: str) -> None:
        key = hashlib.sha256(f"{user}\0{deck}".encode()).hexdigest()[:16]
        self.path = db_path.with_name(f"{db_path.name}.session-{key}.lock")
        self._file: Any = None
        if fcntl is None:  # no flock (Windows): the lock is advisory only
            return
        for _ in range(5):
            try:
                handle = open(self.path, "a+")
            except OSError as exc:
                raise StoreError(
                    f"Cannot create the session lock {self.path} ({_reason(exc)}). Pass --db "
                    "PATH in a writable folder."
                ) from None
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                handle.seek(0)
                holder = handle.read().strip() or "another process"
                handle.close()
                raise SessionLockedError(
                    f"{user} is already taking the deck {deck!r} with {db_path} ({holder}). "
                    "Finish or quit that quiz first (its answers are kept), or pass another "
                    "--user."
                ) from None
            # The holder before us may have removed the file between our open and our lock.
            try:
                same = os.stat(self.path).st_ino == os.fstat(handle.fileno()).st_ino
            except FileNotFoundError:
                same = False
            if same:
                handle.seek(0)
                handle.truncate()
                handle.write(f"pid {os.getpid()} on {socket.gethostname()}")
                handle.flush()
                self._file = handle
                return
            handle.close()
        raise SessionLockedError(f"Cannot take the session lock {self.path}; try again.")

    def release(self) -> None:
        """Remove the lock file and drop the lock (idempotent)."""
        if self._file is None:
            return
        with contextlib.suppress(OSError):
            os.unlink(self.path)
        self._file.close()
        self._file = None


class AnswerStore:
    """The quiz's SQLite file.

    Args:
        path: the database file (default: ``quiz.sqlite`` in the user's data directory).
        read_only: open for reading only (``rlwb quiz stats``): the file is never written,
            switched to WAL or given tables, and a file on read-only media can be read.
        busy_timeout: seconds a write waits for another program's lock before it fails
            (default :data:`BUSY_TIMEOUT_S`).

    Raises:
        StoreError: the file cannot be written (unless ``read_only``), is not a quiz database,
            or is locked by another program.
    """

    def __init__(
        self,
        path: str | Path | None = None,
        *,
        read_only: bool = False,
        busy_timeout: float | None = None,
    ) -> None:
        self.path = Path(path) if path is not None else default_db_path()
        self.read_only = read_only
        if read_only:
            self._db = self._open_read_only()
            return
        check_writable(self.path)
        try:
            self._db = sqlite3.connect(
                self.path,
                isolation_level=None,
                check_same_thread=False,
                timeout=BUSY_TIMEOUT_S if busy_timeout is None else busy_timeout,
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            # Take the write lock once now: a database another program holds is refused here,
            # before the first answer, not after it.
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute("ROLLBACK")
            self._db.executescript(SCHEMA)
            version = self._db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
            if version is None:
                self._db.execute("INSERT INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
            elif version[0] == "1":
                self._migrate_from_v1()
                version = (str(SCHEMA_VERSION),)
        except sqlite3.OperationalError as exc:
            if _is_locked(exc):
                raise StoreError(
                    f"{self.path} is locked by another program ({exc}). Close the other "
                    "program (another quiz, a SQLite browser) and run again, or pass another "
                    "--db PATH."
                ) from None
            if "readonly" in str(exc):
                raise StoreError(
                    f"{self.path} is read-only ({exc}). Make it writable, or pass --db PATH on "
                    "a writable disk."
                ) from None
            raise StoreError(
                f"{self.path} is not a quiz database ({exc}). Pass another --db PATH."
            ) from None
        except sqlite3.DatabaseError as exc:
            raise StoreError(
                f"{self.path} is not a quiz database ({exc}). Pass another --db PATH."
            ) from None
        self._check_schema(version)

    def _open_read_only(self) -> sqlite3.Connection:
        """A read-only connection; on read-only media (where SQLite cannot create the WAL
        index) the file is opened as immutable, which only a read-only medium makes safe."""
        if not self.path.is_file():
            raise StoreError(
                f"No answer database at {self.path}; take the quiz first or pass --db."
            )
        check_sqlite_file(self.path)
        uri = self.path.resolve().as_uri()
        last: sqlite3.Error | None = None
        for query in ("?mode=ro", "?mode=ro&immutable=1"):
            try:
                db = sqlite3.connect(uri + query, uri=True, check_same_thread=False)
                tables = {
                    r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")
                }
            except sqlite3.DatabaseError as exc:
                last = exc
                continue
            if not {"meta", "sessions", "answers"} <= tables:
                db.close()
                raise StoreError(
                    f"{self.path} is not a quiz database (a SQLite file without the quiz's "
                    "tables). Pass the --db PATH the quiz wrote."
                )
            try:
                version = db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
            except sqlite3.DatabaseError as exc:
                db.close()
                raise StoreError(
                    f"{self.path} is not a quiz database ({exc}). Pass another --db PATH."
                ) from None
            self._db = db
            self._check_schema(version)
            wal = self.path.with_name(self.path.name + "-wal")
            if "immutable" in query and wal.is_file() and wal.stat().st_size:
                logger.warning(
                    "%s is read-only and its write-ahead log %s was not merged (the quiz writing "
                    "it did not close): answers only in the log are not counted.",
                    self.path,
                    wal,
                )
            return db
        raise StoreError(
            f"{self.path} is not a quiz database or cannot be read ({last}). Pass another --db "
            "PATH."
        )

    def _migrate_from_v1(self) -> None:
        """Add version 2's columns and table to a version-1 file, in one transaction.

        Kept answers get a chosen action only where q's argmax was unique (:func:`chosen_from_q`);
        each participant keeps the condition of their first session (version 1 drew one per
        session, so a returning person could hold both; their later sessions stay as recorded).
        """
        with self._writing("The upgrade to quiz schema 2"):
            self._db.execute("BEGIN IMMEDIATE")
            have = {r[1] for r in self._db.execute("PRAGMA table_info(answers)")}
            for name, kind in V2_ANSWER_COLUMNS:
                if name not in have:
                    self._db.execute(f"ALTER TABLE answers ADD COLUMN {name} {kind}")
            rows = self._db.execute(
                "SELECT id, answer FROM answers WHERE kind='predict'"
            ).fetchall()
            for answer_id, answer in rows:
                q = json.loads(answer).get("q")
                if q:
                    chosen, confidence = chosen_from_q(q)
                    self._db.execute(
                        "UPDATE answers SET chosen_action=?, stated_confidence=? WHERE id=?",
                        (chosen, confidence, answer_id),
                    )
            firsts = self._db.execute(
                "SELECT deck, user, condition, started_at FROM sessions s WHERE id = (SELECT "
                "MIN(id) FROM sessions t WHERE t.deck = s.deck AND t.user = s.user) ORDER BY id"
            ).fetchall()
            positions: dict[str, int] = {}
            for deck, user, condition, started in firsts:
                position = positions.get(deck, 0)
                positions[deck] = position + 1
                self._db.execute(
                    "INSERT OR IGNORE INTO participants VALUES (?, ?, ?, ?, ?)",
                    (deck, user, condition, position, started),
                )
            self._db.execute("UPDATE meta SET value=? WHERE key='schema'", (str(SCHEMA_VERSION),))

    def _check_schema(self, version: tuple[str] | None) -> None:
        readable = {str(SCHEMA_VERSION)} | ({"1"} if self.read_only else set())
        if version is not None and version[0] not in readable:
            self._db.close()
            raise StoreError(
                f"{self.path} has quiz schema {version[0]}; this version reads "
                f"{SCHEMA_VERSION}. Use another --db or upgrade the workbench."
            )

    def close(self) -> None:
        self._db.close()

    def lock_session(self, user: str, deck: str) -> SessionLock:
        """Hold ``user``'s session of ``deck`` for this process (see :class:`SessionLock`).

        Raises:
            SessionLockedError: another process holds it.
        """
        return SessionLock(self.path, user, deck)

    @contextlib.contextmanager
    def _writing(self, what: str) -> Iterator[None]:
        """One write transaction; a failure becomes a :class:`StoreWriteError` saying why."""
        try:
            with self._db:
                yield
        except sqlite3.Error as exc:
            why = "another program holds it" if _is_locked(exc) else "the disk refused it"
            raise StoreWriteError(
                f"{what} could not be written to {self.path} ({exc}: {why})."
            ) from None

    # -- sessions ---------------------------------------------------------------------------------
    def open_session(
        self,
        user: str,
        deck: str,
        deck_hash: str,
        condition: str,
        seed: int,
        *,
        single: bool = False,
    ) -> Session:
        """The user's unfinished session of this deck (same contents), or a new one; with
        ``single`` (a study where each person takes the deck once), their latest session even
        when it is finished."""
        finished = "" if single else "AND finished_at IS NULL "
        row = self._db.execute(
            "SELECT id, condition, seed FROM sessions WHERE user=? AND deck=? AND deck_hash=? "
            f"{finished}ORDER BY id DESC LIMIT 1",
            (user, deck, deck_hash),
        ).fetchone()
        if row is not None:
            return Session(row[0], user, deck, deck_hash, row[1], row[2], False)
        with self._writing("The new session"):
            cur = self._db.execute(
                "INSERT INTO sessions (user, deck, deck_hash, condition, seed, started_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (user, deck, deck_hash, condition, seed, time.time()),
            )
        return Session(int(cur.lastrowid or 0), user, deck, deck_hash, condition, seed, False)

    def assign_condition(
        self,
        user: str,
        deck: str,
        draw: Callable[[int], str],
        fixed: str | None = None,
    ) -> str:
        """The participant's condition for ``deck``: the one already assigned, else ``fixed``,
        else ``draw(position)`` with the participant's place among the deck's participants so far
        (:func:`rl_workbench.quiz.design.condition_for`). One write transaction, so two people
        starting at once never take the same place."""
        with self._writing("The participant's condition"):
            self._db.execute("BEGIN IMMEDIATE")
            row = self._db.execute(
                "SELECT condition FROM participants WHERE deck=? AND user=?", (deck, user)
            ).fetchone()
            if row is not None:
                return str(row[0])
            (position,) = self._db.execute(
                "SELECT COUNT(*) FROM participants WHERE deck=?", (deck,)
            ).fetchone()
            condition = fixed or draw(int(position))
            self._db.execute(
                "INSERT INTO participants VALUES (?, ?, ?, ?, ?)",
                (deck, user, condition, int(position), time.time()),
            )
        return condition

    def has_consented(self, user: str, deck: str, consent_digest: str) -> bool:
        """Whether ``user`` agreed to this exact consent text (by digest) for ``deck``."""
        row = self._db.execute(
            "SELECT 1 FROM consents WHERE deck=? AND user=? AND consent_digest=?",
            (deck, user, consent_digest),
        ).fetchone()
        return row is not None

    def record_consent(self, user: str, deck: str, consent_digest: str) -> None:
        """Keep that ``user`` agreed to the consent text with ``consent_digest`` (the consents
        table was added beside schema 2's tables: older files gain it when opened)."""
        with self._writing("The consent"):
            self._db.execute(
                "INSERT OR IGNORE INTO consents VALUES (?, ?, ?, ?)",
                (deck, user, consent_digest, time.time()),
            )

    def session_ordinal(self, session: Session) -> int:
        """How many sessions of the same person and deck came before this one (0 for the first)."""
        (n,) = self._db.execute(
            "SELECT COUNT(*) FROM sessions WHERE user=? AND deck=? AND id<?",
            (session.user, session.deck, session.id),
        ).fetchone()
        return int(n)

    def seen_digests(self, user: str, deck: str) -> set[str]:
        """The content digests of every item this person has answered in this deck."""
        rows = self._db.execute(
            "SELECT a.state_digest FROM answers a JOIN sessions s ON s.id = a.session_id "
            "WHERE s.user=? AND s.deck=? AND a.state_digest IS NOT NULL",
            (user, deck),
        ).fetchall()
        return {r[0] for r in rows}

    def finish_session(self, session_id: int) -> None:
        with self._writing("The end of the session"):
            self._db.execute(
                "UPDATE sessions SET finished_at=? WHERE id=?", (time.time(), session_id)
            )

    def owns_session(self, session_id: int, user: str) -> bool:
        """Whether session ``session_id`` exists and is ``user``'s."""
        row = self._db.execute("SELECT user FROM sessions WHERE id=?", (session_id,)).fetchone()
        return row is not None and row[0] == user

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
        answered_at: float | None = None,
        *,
        keep_existing: bool = False,
        columns: dict[str, Any] | None = None,
    ) -> None:
        """Commit one answer (its own transaction: durable before the next item is shown).

        ``answered_at`` defaults to now; an answer written late (after the database refused it)
        passes the time it was given. ``keep_existing`` leaves an answer already stored for the
        item as it is (recovering kept answers never overwrites a newer one). ``columns`` fills
        version 2's answer columns (``chosen_action``, ``stated_confidence``, ``state_digest``,
        ``explanation_shown``); missing ones stay NULL.

        Raises:
            StoreWriteError: the database did not take it (locked, read-only, disk full...).
        """
        extra = columns or {}
        unknown = set(extra) - {name for name, _ in V2_ANSWER_COLUMNS}
        if unknown:
            raise ValueError(f"unknown answer columns: {sorted(unknown)}")
        with self._writing(f"The answer to item {item_index + 1}"):
            self._db.execute(
                f"INSERT OR {'IGNORE' if keep_existing else 'REPLACE'} INTO answers (session_id, "
                "item_index, phase, kind, item, answer, agent_probs, score, shown_at, "
                "answered_at, chosen_action, stated_confidence, state_digest, explanation_shown) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
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
                    time.time() if answered_at is None else answered_at,
                    *(extra.get(name) for name, _ in V2_ANSWER_COLUMNS),
                ),
            )

    def rows(self, user: str | None = None) -> list[dict[str, Any]]:
        """Every answer joined with its session, oldest first (for stats and export).

        A version-1 file opened read-only has no version-2 columns: its predictions' choices are
        read from q as the migration would (:func:`chosen_from_q`), the rest are None.
        """
        try:
            have = {r[1] for r in self._db.execute("PRAGMA table_info(answers)")}
            extra = [name for name, _ in V2_ANSWER_COLUMNS]
            picked = ", ".join(f"a.{n}" if n in have else f"NULL AS {n}" for n in extra)
            query = (
                "SELECT s.id, s.user, s.deck, s.condition, a.item_index, a.phase, a.kind, a.item, "
                f"a.answer, a.agent_probs, a.score, a.shown_at, a.answered_at, {picked} "
                "FROM answers a JOIN sessions s ON s.id = a.session_id"
            )
            args: tuple[Any, ...] = ()
            if user is not None:
                query += " WHERE s.user=?"
                args = (user,)
            found = self._db.execute(query + " ORDER BY a.answered_at", args).fetchall()
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path} cannot be read ({exc}).") from None
        out = []
        for r in found:
            row = {
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
                **dict(zip(extra, r[13:], strict=True)),
            }
            if "chosen_action" not in have and row["kind"] == "predict" and row["answer"].get("q"):
                row["chosen_action"], row["stated_confidence"] = chosen_from_q(row["answer"]["q"])
            if row["explanation_shown"] is not None:
                row["explanation_shown"] = bool(row["explanation_shown"])
            out.append(row)
        return out
