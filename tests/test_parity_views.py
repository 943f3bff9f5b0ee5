"""One run, one parity verdict: live (headless), the summary files, replay, attach and serve all judge the run's
parity with the same context (recorded in run.json) and say the same sentence; resnet18's step tolerance comes
from the noise floor its PyTorch reference measured in the run."""

from __future__ import annotations

import asyncio
import json
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pytest

from runners.session.record.replay import AttachedRun, RecordedRun
from tests.browser import CHROMIUM, page_text
from tests.test_app import wait_until
from tui.cli.replay import viewer

ESCAPES = re.compile(r"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)|\x1b[()][A-Z0-9]|\x1b[=>78]")


@pytest.fixture(scope="module")
def headless_run(tmp_path_factory) -> tuple[str, Path]:
    runs = tmp_path_factory.mktemp("runs")
    result = subprocess.run([sys.executable, "-m", "tui.cli", "--headless", "--workload", "resnet18", "--size", "tiny",
                             "--steps", "6", "--schedule", "parallel", "--runners", "torch,keras/jax", "--output", str(runs)],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    (folder,) = list(runs.glob("*"))
    return result.stdout, folder


def _sentence(headless_stdout: str) -> str:
    (line,) = [line for line in headless_stdout.splitlines() if line.startswith("parity ")]
    return line


def test_headless_and_the_summary_files_say_the_same_parity_verdict_against_the_runs_floor(headless_run):
    stdout, folder = headless_run
    sentence = _sentence(stdout)
    assert sentence.startswith(("parity ✓ verified", "parity ✗ FAILED"))
    assert "against a floor of" in sentence  # judged against the floor measured in this run
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["parity"]["sentence"] == sentence
    assert summary["parity"]["floor_rdiff"] > 0 and summary["parity"]["step_rtol"] >= 4 * summary["parity"]["floor_rdiff"]
    assert f"\n{sentence}\n" in (folder / "summary.md").read_text()
    assert json.loads((folder / "run.json").read_text())["config"]["parity"]["step_rtol"] == 0.15  # the fallback


@pytest.mark.parametrize("attached", [False, True])
async def test_replay_and_attach_show_the_live_parity_verdict(headless_run, attached):
    stdout, folder = headless_run
    source = AttachedRun(folder) if attached else RecordedRun(folder, speed=1000)
    app = viewer(source, attached)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.verdict is not None, 60)
        await pilot.pause(0.5)
        shown = app.main.parity_bar._shown.replace("[b]", "").replace("[/b]", "")
    assert shown == _sentence(stdout)
    recorded_verdict = json.loads((folder / "summary.json").read_text())["verdict"]
    assert app.verdict == recorded_verdict


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_serve_sends_the_browser_the_live_parity_verdict(headless_run):
    """What a browser tab receives from ``serve`` (the terminal stream its page draws), read as text."""
    stdout, folder = headless_run
    sentence = _sentence(stdout)
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "tui.cli", "serve", str(folder), "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        async with aiohttp.ClientSession() as session:
            deadline = time.monotonic() + 30
            while True:
                try:
                    async with session.get(f"http://127.0.0.1:{port}/"):
                        break
                except aiohttp.ClientConnectionError:
                    assert time.monotonic() < deadline, "the server did not come up"
                    await asyncio.sleep(0.2)
            ws = await session.ws_connect(f"http://127.0.0.1:{port}/ws?width=320&height=40")
            received, deadline = "", time.monotonic() + 60
            while sentence not in ESCAPES.sub("", received) and time.monotonic() < deadline:
                message = await asyncio.wait_for(ws.receive(), 60)
                if message.type == aiohttp.WSMsgType.BINARY:
                    received += message.data.decode("utf-8", errors="replace")
            await ws.close()
        assert sentence in ESCAPES.sub("", received)
    finally:
        server.terminate()
        server.wait(10)


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium here (Debian's chromium package; .ci/run installs it)")
async def test_serve_shows_a_real_browser_the_live_parity_verdict(headless_run, tmp_path):
    """A real headless Chromium opens serve's page; what its terminal receives holds the live run's parity
    sentence, and the page was drawn (the screenshot is kept beside the test's files)."""
    stdout, folder = headless_run
    # The parity bar ends in "…" where the page is narrower than the sentence: up to the floor it always shows.
    shown = _sentence(stdout).split(" (tolerances")[0][:110]
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "tui.cli", "serve", str(folder), "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                assert time.monotonic() < deadline, "the server did not come up"
                await asyncio.sleep(0.2)
        text, screenshot = await page_text(f"http://127.0.0.1:{port}/",
                                           lambda received: shown in ESCAPES.sub("", received))
        (tmp_path / "serve.png").write_bytes(screenshot)
        assert shown in ESCAPES.sub("", text) and "against a floor of" in shown
        assert screenshot.startswith(b"\x89PNG") and len(screenshot) > 20_000  # a drawn page, not a blank one
    finally:
        server.terminate()
        server.wait(10)
