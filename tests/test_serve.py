"""kvp-dash serve: a browser tab gets a read-only attach viewer; no tab ever starts training."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import time

import aiohttp
import psutil
import pytest

from runners.session.record.replay import SHIPPED


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("stop", ["terminate", "kill"])
async def test_each_browser_tab_runs_a_read_only_viewer_that_ends_with_the_server(stop):
    """Two tabs, two `kvp-dash attach` viewers and not one runner; however the server ends (SIGTERM, or SIGKILL
    where it can do nothing), no viewer is left behind with its tab still open."""
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "tui.cli", "serve", str(SHIPPED), "--port", str(port)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    viewers: list[psutil.Process] = []
    try:
        async with aiohttp.ClientSession() as session:
            deadline = time.monotonic() + 30
            while True:
                try:
                    async with session.get(f"http://127.0.0.1:{port}/") as response:
                        page = await response.text()
                        break
                except aiohttp.ClientConnectionError:
                    assert time.monotonic() < deadline, "the server did not come up"
                    await asyncio.sleep(0.2)
            assert response.status == 200 and "kvp-dash" in page
            sockets = [await session.ws_connect(f"http://127.0.0.1:{port}/ws?width=100&height=30") for _ in range(2)]
            received = [await asyncio.wait_for(ws.receive(), 30) for ws in sockets]
            assert all(message.type in (aiohttp.WSMsgType.BINARY, aiohttp.WSMsgType.TEXT) for message in received)
            children = psutil.Process(server.pid).children(recursive=True)
            viewers = [c for c in children if "tui.cli attach" in " ".join(c.cmdline())]
            assert len(viewers) == 2, [c.cmdline() for c in children]
            assert all(v.ppid() == server.pid for v in viewers)  # exec'd: no shell between server and viewer
            assert not [c for c in children if "runners.child" in " ".join(c.cmdline())]
            getattr(server, stop)()  # the tabs stay open
            server.wait(10)
            _, alive = psutil.wait_procs(viewers, timeout=10)
            assert not alive, [v.cmdline() for v in alive]
            for ws in sockets:
                await ws.close()
    finally:
        server.kill()
        server.wait(10)
        for viewer in viewers:
            if viewer.is_running():
                viewer.kill()


def test_binding_beyond_this_machine_warns_that_there_is_no_authentication():
    result = subprocess.run([sys.executable, "-m", "tui.cli", "serve", "/nonexistent", "--host", "0.0.0.0"],
                            capture_output=True, text=True, timeout=30)
    # The folder is refused first (one line, exit 2)...
    assert result.returncode == 2 and "not a kvp-dash run folder" in result.stderr
    from tui.cli.serve import LOCAL_HOSTS

    assert "0.0.0.0" not in LOCAL_HOSTS  # ...and a valid folder on 0.0.0.0 gets the warning:
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "tui.cli", "serve", str(SHIPPED), "--host", "0.0.0.0",
                               "--port", str(port)], stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    try:
        first = server.stderr.readline()
        assert "warning" in first and "no authentication" in first
    finally:
        server.terminate()
        server.wait(10)


def test_latest_picks_the_newest_run_folder(tmp_path):
    from tui.cli.serve import latest_run

    old = tmp_path / "20260101-000000-mlp"
    new = tmp_path / "20260102-000000-mlp"
    for folder in (old, new):
        folder.mkdir()
        (folder / "run.json").write_text("{}")
        time.sleep(0.01)
    assert latest_run(tmp_path) == new
    assert latest_run(tmp_path / "empty") is None
