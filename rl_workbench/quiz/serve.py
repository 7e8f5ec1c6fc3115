"""``rlwb quiz serve``: the quiz in remote participants' browsers, through textual-serve.

Why textual-serve: it is the Textual project's own way to put a Textual app in a browser. Every
browser connection runs the app in a process of its own, drawn by xterm.js, so a remote
participant sees what a terminal participant sees and answers go to the same store through the
same code (``rlwb quiz --web``). What this module adds is what a study needs around it:

- the participant id comes from the study link (``?participant=ID``, or a recruiting
  platform's own parameter with ``--id-param``, e.g. ``PROLIFIC_PID``), is checked against
  :data:`PARTICIPANT_ID` before it is used, and reaches the participant's process as one quoted
  argument: a link can never run a command;
- a page naming the problem (and what to do) when a link has no usable id, or when the study is
  at its ``max_participants`` running quizzes (each is a process holding the agents);
- one session per participant: a reload reopens their session, a finished one shows its closing
  screen (debrief and completion code) again.

Consent, attention checks, debrief and the completion code come from the deck and are shown by
the app itself, so a terminal participant sees the same. The page loads nothing from outside the
server (textual-serve's own page asks a font service): participants' browsers talk to the lab
only.
"""

from __future__ import annotations

import asyncio
import logging
import re
import shlex
import sys
from pathlib import Path
from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import web
from textual_serve.app_service import AppService
from textual_serve.server import Server, to_int

from .deck import Deck

logger = logging.getLogger(__name__)

PARTICIPANT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
"""A usable participant id: what Prolific, MTurk and SONA ids are made of, at most 64 long."""
TEMPLATES = Path(__file__).resolve().parent / "web"


class QuizServer(Server):  # type: ignore[misc]  # textual-serve ships no type hints
    """Serves one deck to participants, each in a ``rlwb quiz --web`` process of their own."""

    def __init__(
        self,
        deck: Deck,
        db: Path,
        *,
        host: str = "127.0.0.1",
        port: int = 8000,
        id_param: str = "participant",
        max_participants: int = 8,
        public_url: str | None = None,
        trust_agent: bool = False,
        font_size: int = 16,
    ) -> None:
        if deck.path is None:
            raise ValueError("the served deck must be a file (its path is handed to each quiz)")
        super().__init__(
            command="",
            host=host,
            port=port,
            title=f"{deck.name} quiz",
            public_url=public_url,
            templates_path=TEMPLATES,
        )
        self.deck = deck
        self.db = Path(db).resolve()
        self.id_param = id_param
        self.max_participants = max_participants
        self.trust_agent = trust_agent
        self.font_size = font_size
        self.running: set[str] = set()
        """Participants whose quiz process is running now."""

    def participant_command(self, participant: str) -> str:
        """The shell command of one participant's quiz (the id checked, every part quoted)."""
        if not PARTICIPANT_ID.fullmatch(participant):
            raise ValueError(f"not a participant id: {participant!r}")
        argv = [sys.executable, "-m", "rl_workbench", "--quiet", "--threads", "1", "quiz", "--web",
                "--deck", str(Path(str(self.deck.path)).resolve()), "--user", participant,
                "--db", str(self.db)]  # fmt: skip
        if self.trust_agent:
            argv.append("--trust-agent")
        return shlex.join(argv)

    async def _make_app(self) -> web.Application:
        app = web.Application()
        aiohttp_jinja2.setup(
            app, loader=jinja2.FileSystemLoader(self.templates_path), autoescape=True
        )
        app.add_routes(
            [
                web.get("/", self.handle_index, name="index"),
                web.get("/ws/{participant}", self.handle_websocket, name="websocket"),
                web.static("/static", self.statics_path, name="static"),
            ]
        )
        app.on_startup.append(self.on_startup)
        return app

    async def on_startup(self, app: web.Application) -> None:
        self.console.print(
            f"Serving the {self.deck.name!r} quiz on {self.public_url}/?{self.id_param}=ID "
            f"(answers in {self.db}); Ctrl+C stops it."
        )

    def _message(self, request: web.Request, status: int, heading: str, text: str) -> Any:
        return aiohttp_jinja2.render_template(
            "message.html",
            request,
            {"title": self.title, "heading": heading, "message": text},
            status=status,
        )

    async def handle_index(self, request: web.Request) -> web.StreamResponse:
        participant = request.query.get(self.id_param, "")
        if not PARTICIPANT_ID.fullmatch(participant):
            return self._message(
                request,
                400,
                "This link has no participant id",
                f"Open the study through the link you were given: it ends in "
                f"?{self.id_param}=YOUR-ID (letters, digits, '-', '_' or '.', at most 64).",
            )
        if participant not in self.running and len(self.running) >= self.max_participants:
            return self._message(
                request,
                503,
                "The study is full right now",
                "Every place is taken at the moment. Please reload this page in a few minutes; "
                "nothing about you has been stored.",
            )
        ws = f"{self.public_url}/ws/{participant}"
        websocket_url = ("wss:" if ws.startswith("https") else "ws:") + ws.split(":", 1)[1]
        return aiohttp_jinja2.render_template(
            "quiz.html",
            request,
            {
                "title": self.title,
                "static_url": f"{self.public_url}/static/",
                "websocket_url": websocket_url,
                "font_size": self.font_size,
            },
        )

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        """One participant's quiz process, for as long as their page is open."""
        participant = request.match_info["participant"]
        if not PARTICIPANT_ID.fullmatch(participant):
            raise web.HTTPBadRequest(text="not a participant id")
        if participant in self.running or len(self.running) >= self.max_participants:
            # one quiz per person at a time (a second tab would be refused by the session lock)
            raise web.HTTPConflict(text="this participant's quiz is open elsewhere, or full")
        websocket = web.WebSocketResponse(heartbeat=15)
        width = max(1, min(1000, to_int(request.query.get("width", "80"), 80)))
        height = max(1, min(1000, to_int(request.query.get("height", "24"), 24)))
        self.running.add(participant)
        service: AppService | None = None
        try:
            await websocket.prepare(request)
            service = AppService(
                self.participant_command(participant),
                write_bytes=websocket.send_bytes,
                write_str=websocket.send_str,
                close=websocket.close,  # type: ignore[arg-type]  # as textual-serve does
                download_manager=self.download_manager,
                debug=self.debug,
            )
            await service.start(width, height)
            await self._process_messages(websocket, service)
        except asyncio.CancelledError:
            await websocket.close()
        except Exception:
            logger.exception("The quiz of participant %s failed", participant)
        finally:
            if service is not None:
                await service.stop()
            self.running.discard(participant)
        return websocket
