"""A real headless Chromium, driven over its DevTools protocol: it opens a page and hands back the text the page's
websockets received (what textual-serve's page draws on its canvas) and a screenshot. Tests that use it skip
where no Chromium is installed (Debian's `chromium` package; .ci/run installs it)."""

from __future__ import annotations

import asyncio
import base64
import json
import shutil
import socket
import subprocess
import tempfile

import aiohttp

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

# Before the page's own scripts: every websocket's incoming frames, as text, in window.__received.
RECORD_SOCKETS = """
(() => {
  const Original = window.WebSocket;
  window.__received = [];
  const decoder = new TextDecoder();
  window.WebSocket = function (...args) {
    const socket = new Original(...args);
    socket.addEventListener("message", (event) => {
      if (event.data instanceof ArrayBuffer) window.__received.push(decoder.decode(event.data));
      else if (typeof event.data === "string") window.__received.push(event.data);
    });
    return socket;
  };
  window.WebSocket.prototype = Original.prototype;
  Object.assign(window.WebSocket, {CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3});
})();
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def page_text(url: str, until, timeout_s: float = 60) -> tuple[str, bytes]:
    """Open ``url`` and wait until ``until(text)`` holds for the text its websockets received; that text and a
    PNG screenshot. Every host but this machine is unreachable (the page asks for web fonts)."""
    port = _free_port()
    profile = tempfile.mkdtemp(prefix="kvp-dash-test-chromium-")
    chrome = subprocess.Popen([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", f"--remote-debugging-port={port}",
                               f"--user-data-dir={profile}", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
                               "--window-size=1300,820", "about:blank"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        async with aiohttp.ClientSession() as session:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 30
            while True:
                try:
                    async with session.get(f"http://127.0.0.1:{port}/json") as response:
                        pages = [p for p in await response.json() if p["type"] == "page"]
                    if pages:
                        break
                except aiohttp.ClientError:
                    pass
                assert loop.time() < deadline, "chromium did not start"
                await asyncio.sleep(0.2)
            async with session.ws_connect(pages[0]["webSocketDebuggerUrl"], max_msg_size=0) as devtools:
                calls = 0

                async def call(method: str, **params):
                    nonlocal calls
                    calls += 1
                    await devtools.send_json({"id": calls, "method": method, "params": params})
                    while True:
                        message = json.loads((await devtools.receive()).data)
                        if message.get("id") == calls:
                            return message.get("result", {})

                await call("Page.enable")
                await call("Page.addScriptToEvaluateOnNewDocument", source=RECORD_SOCKETS)
                await call("Page.navigate", url=url)
                deadline = loop.time() + timeout_s
                text = ""
                while not until(text) and loop.time() < deadline:
                    await asyncio.sleep(0.5)
                    result = await call("Runtime.evaluate", expression="(window.__received || []).join('')",
                                        returnByValue=True)
                    text = result.get("result", {}).get("value") or ""
                shot = await call("Page.captureScreenshot", format="png")
                return text, base64.b64decode(shot.get("data", ""))
    finally:
        chrome.kill()
        chrome.wait(10)
        shutil.rmtree(profile, ignore_errors=True)
