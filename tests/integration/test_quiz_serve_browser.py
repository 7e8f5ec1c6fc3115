"""``rlwb quiz serve`` in a real headless Chromium: a participant from the study link agrees,
answers, passes an attention check and reads the completion code; the answers are in the store.

Chromium and its driver come from Debian's packages (``make test`` installs them where it can);
without them the browser test is skipped, except in CI, where it must run.
"""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from rl_workbench.quiz.deck import parse_deck
from rl_workbench.quiz.serve import QuizServer

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")

DECK = textwrap.dedent(
    """\
    name: browser-study
    env: rlwb/Maze-v0
    agent: zoo:maze-uniform
    seed: 0
    consent: This is a test study. We keep your answers, not your name.
    debrief: Thank you. The agent was trained with the cheese anywhere.
    completion_code: C0DE-42
    phases:
      - kind: predict
        items: 1
        feedback: false
      - kind: attention
        question: To show you are reading, choose Blue.
        options: [Red, Green, Blue]
        answer: Blue
    """
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    deck = tmp_path / "deck.yaml"
    deck.write_text(DECK)
    db = tmp_path / "study.sqlite"
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "rl_workbench", "quiz", "serve", "--deck", str(deck), "--db",
         str(db), "--port", str(port), "--max-participants", "2"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(url + "/?participant=probe", timeout=2).close()
                break
            except (urllib.error.URLError, ConnectionError):
                if server.poll() is not None or time.monotonic() > deadline:
                    out = server.stdout.read() if server.stdout else ""
                    raise AssertionError(f"the server did not start:\n{out}") from None
                time.sleep(0.5)
        yield url, db
    finally:
        server.terminate()
        server.wait(timeout=30)


def _status(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_a_link_without_a_usable_participant_id_gets_a_page_saying_so(
    served: tuple[str, Path],
) -> None:
    url, _ = served
    for query in ("", "?participant=", "?participant=a%3Brm%20-rf%20x", "?PROLIFIC_PID=abc"):
        status, page = _status(url + "/" + query)
        assert status == 400, query
        assert "This link has no participant id" in page and "?participant=YOUR-ID" in page
    status, page = _status(url + "/?participant=p-7")
    assert status == 200 and "/ws/p-7" in page
    assert "googleapis" not in page  # nothing is loaded from outside the lab's server


def test_the_participant_command_quotes_a_checked_id() -> None:
    deck = parse_deck(DECK, "/tmp/deck with space.yaml")
    server = QuizServer(deck, Path("/tmp/a b.sqlite"))
    command = server.participant_command("p-7_x.y")
    assert "--user p-7_x.y" in command and "'/tmp/a b.sqlite'" in command
    for bad in ("a;rm -rf /", "$(id)", "", "-rf", "x" * 65, "a b"):
        with pytest.raises(ValueError):
            server.participant_command(bad)


def _browser():  # type: ignore[no-untyped-def]
    if not (CHROMIUM and CHROMEDRIVER):
        message = (
            "headless Chromium and chromedriver are needed: apt-get install chromium "
            "chromium-driver (make test installs them where it can)"
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    os.environ.setdefault("SE_OFFLINE", "true")  # selenium must not look for drivers online
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    # no WebGL: xterm.js then draws the terminal as text in the page, which the test can read
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-webgl",
                 "--disable-dev-shm-usage", "--window-size=1200,800"):  # fmt: skip
        options.add_argument(flag)
    return webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))


class _Keyboard:
    """Keys sent to whatever has the page's focus (the terminal, once clicked)."""

    def __init__(self, browser) -> None:  # type: ignore[no-untyped-def]
        self.browser = browser

    def send_keys(self, text: str) -> None:
        from selenium.webdriver.common.action_chains import ActionChains

        ActionChains(self.browser).send_keys(text).perform()


def test_a_participant_takes_the_quiz_in_a_browser(
    served: tuple[str, Path], tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    url, db = served
    browser = _browser()

    def screen() -> str:
        return str(
            browser.execute_script(
                "const r = document.querySelector('.xterm-rows'); return r ? r.innerText : ''"
            )
        )

    def wait_for(text: str, seconds: float = 60) -> str:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            shown = screen()
            if text in shown:
                return shown
            time.sleep(0.2)
        browser.save_screenshot(str(tmp_path / "failed.png"))
        raise AssertionError(f"{text!r} never appeared; the page shows:\n{screen()}")

    try:
        browser.get(url + "/?participant=p-browser-1")
        wait_for("This is a test study. We keep your answers, not your name.")
        # Typing goes to the page's focus, as a person's would: xterm.js keeps its input textarea
        # out of sight, and newer chromedrivers refuse to type into it directly.
        browser.find_element(By.CSS_SELECTOR, ".xterm-screen").click()
        keys = _Keyboard(browser)
        keys.send_keys("y")
        wait_for("2 items. Press enter to begin")
        keys.send_keys(Keys.ENTER)
        wait_for("Predict: 1 situation.")
        keys.send_keys(Keys.ENTER)
        wait_for("What will the agent do here?")
        keys.send_keys("3")
        wait_for("Your pick: left")
        keys.send_keys(Keys.ENTER)
        wait_for("To show you are reading, choose Blue.")
        keys.send_keys("3")
        keys.send_keys(Keys.ENTER)
        shown = wait_for("Your completion code: C0DE-42")
        assert "Thank you. The agent was trained with the cheese anywhere." in shown
        browser.save_screenshot(str(tmp_path / "finished.png"))
    finally:
        browser.quit()
    with sqlite3.connect(db) as con:
        consents = con.execute("SELECT user FROM consents").fetchall()
        answers = con.execute(
            "SELECT a.kind, a.chosen_action, a.score FROM answers a JOIN sessions s "
            "ON s.id = a.session_id WHERE s.user = 'p-browser-1' ORDER BY a.item_index"
        ).fetchall()
        (finished,) = con.execute(
            "SELECT finished_at FROM sessions WHERE user='p-browser-1'"
        ).fetchone()
    assert consents == [("p-browser-1",)]
    assert [(kind, chosen) for kind, chosen, _ in answers] == [("predict", 2), ("attention", None)]
    assert '"passed": true' in answers[1][2]
    assert finished is not None
