"""Renders a report.html in headless Chromium, fails on JavaScript errors, saves a screenshot.

    python scripts/check_report_browser.py RUN/report.html --screenshot report.png

Drives the browser through the DevTools protocol with a small standard-library websocket
client (no extra package): navigates to the file, collects uncaught exceptions, console
errors and log errors, checks that every figure was drawn by plotly, and captures the
page. It also reads back what was drawn, per figure: the title, the tick labels of each
axis with their on-screen boxes, the dashed vertical lines (FLOPs budgets) and the legend
entries; `--json` prints them, and the figure is "readable" when no two tick labels of
an axis overlap and every one lies inside its figure. Exit 0: clean and readable; 1:
JavaScript errors, figures not drawn, or unreadable ticks; 2: no browser found.
Needs Chromium (Debian: `apt-get install -y chromium`).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--remote-debugging-port=0",  # the browser picks a free port and prints it
    "--remote-allow-origins=*",
)
SETTLE_S = 1.5  # after the load event, time for plotly's deferred drawing and resize


class WebSocket:
    """A client websocket (RFC 6455) over a plain TCP socket: text frames only."""

    def __init__(self, url: str, timeout: float) -> None:
        match = re.fullmatch(r"ws://([^/:]+):(\d+)(/.*)", url)
        if match is None:
            raise ValueError(f"not a ws:// URL: {url}")
        host, port, path = match.group(1), int(match.group(2)), match.group(3)
        self.sock = socket.create_connection((host, port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            (
                f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                "Sec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        reply = b""
        while b"\r\n\r\n" not in reply:
            reply += self.sock.recv(4096)
        head, _, self.buffer = reply.partition(b"\r\n\r\n")
        if b" 101 " not in head.split(b"\r\n")[0]:
            raise ConnectionError(f"websocket handshake refused: {head[:200]!r}")

    def send(self, text: str) -> None:
        payload, mask = text.encode(), os.urandom(4)
        size = len(payload)
        if size < 126:
            header = struct.pack("!BB", 0x81, 0x80 | size)
        elif size < 1 << 16:
            header = struct.pack("!BBH", 0x81, 0x80 | 126, size)
        else:
            header = struct.pack("!BBQ", 0x81, 0x80 | 127, size)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))  # clients must mask
        self.sock.sendall(header + mask + masked)

    def _read(self, count: int) -> bytes:
        while len(self.buffer) < count:
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise ConnectionError("the browser closed the connection")
            self.buffer += chunk
        data, self.buffer = self.buffer[:count], self.buffer[count:]
        return data

    def receive(self) -> str:
        message = b""
        while True:
            first, second = self._read(2)
            size = second & 0x7F
            if size == 126:
                size = struct.unpack("!H", self._read(2))[0]
            elif size == 127:
                size = struct.unpack("!Q", self._read(8))[0]
            payload = self._read(size)  # the server never masks
            message += payload
            if first & 0x80:  # FIN: the last fragment
                return message.decode()


class DevTools:
    """Commands and events on one page target."""

    def __init__(self, url: str, timeout: float) -> None:
        self.socket, self.next_id, self.events = WebSocket(url, timeout), 0, []

    def call(self, method: str, **params: object) -> dict:
        self.next_id += 1
        self.socket.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.receive())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)

    def wait_for(self, event: str, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(e.get("method") == event for e in self.events):
                return True
            self.socket.sock.settimeout(max(0.1, deadline - time.monotonic()))
            try:
                self.events.append(json.loads(self.socket.receive()))
            except TimeoutError:
                break
        return any(e.get("method") == event for e in self.events)

    def drain(self, seconds: float) -> None:
        self.wait_for("never.happens", seconds)


def find_browser(explicit: str | None) -> str | None:
    if explicit:
        return explicit if shutil.which(explicit) or Path(explicit).is_file() else None
    return next((shutil.which(name) for name in BROWSERS if shutil.which(name)), None)


def _devtools_port(process: subprocess.Popen, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        match = re.search(r"DevTools listening on ws://[^:]+:(\d+)/", line)
        if match:
            return int(match.group(1))
        if not line and process.poll() is not None:
            break
    raise RuntimeError("the browser did not open its DevTools port")


def _page_target(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as reply:
        targets = json.load(reply)
    return next(t["webSocketDebuggerUrl"] for t in targets if t.get("type") == "page")


def javascript_errors(events: list[dict]) -> list[str]:
    """Uncaught exceptions, console.error calls and error-level log entries."""
    errors = []
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            errors.append(details.get("exception", {}).get("description") or details.get("text"))
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            errors.append(
                " ".join(str(a.get("value", a.get("description"))) for a in params["args"])
            )
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            errors.append(params["entry"].get("text"))
    return [str(e) for e in errors]


_FIGURES_JS = (
    "JSON.stringify({figures: document.querySelectorAll('div.figure').length,"
    " drawn: document.querySelectorAll('div.figure .main-svg').length > 0 ?"
    " Array.from(document.querySelectorAll('div.figure')).filter("
    "d => d.querySelector('.main-svg')).length : 0,"
    " height: document.documentElement.scrollHeight})"
)


# Per figure: its title, tick labels with their boxes, dashed lines, legend entries.
_LAYOUT_JS = """JSON.stringify(Array.from(document.querySelectorAll('div.figure')).map(d => {
  const box = e => { const r = e.getBoundingClientRect();
    return [r.left, r.top, r.right, r.bottom]; };
  const ticks = axis => Array.from(d.querySelectorAll('.' + axis + 'tick text'))
    .filter(t => t.textContent.trim() !== '')
    .map(t => ({text: t.textContent, box: box(t)}));
  const dashed = Array.from(d.querySelectorAll('.shapelayer path')).filter(p => {
    const dash = p.style.strokeDasharray || p.getAttribute('stroke-dasharray') || '';
    return dash !== '' && dash !== 'none'; }).length;
  const title = d.querySelector('.gtitle');
  return {title: title ? title.textContent : '', box: box(d),
          xticks: ticks('x'), yticks: ticks('y'), dashed: dashed,
          legend: Array.from(d.querySelectorAll('.legendtext')).map(t => t.textContent)};
}))"""


def _overlap(a: list[float], b: list[float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def unreadable(figures: list[dict]) -> list[str]:
    """One line per figure whose tick labels overlap or spill outside it."""
    problems = []
    for figure in figures:
        for axis in ("xticks", "yticks"):
            labels = figure[axis]
            for i, first in enumerate(labels):
                inside = figure["box"]
                if not (
                    inside[0] - 1 <= first["box"][0]
                    and first["box"][2] <= inside[2] + 1
                    and inside[1] - 1 <= first["box"][1]
                    and first["box"][3] <= inside[3] + 1
                ):
                    problems.append(f"{figure['title']}: tick {first['text']!r} outside")
                for second in labels[i + 1 :]:
                    if _overlap(first["box"], second["box"]):
                        problems.append(
                            f"{figure['title']}: ticks {first['text']!r} and "
                            f"{second['text']!r} overlap"
                        )
    return problems


def check(page: Path, screenshot: Path, browser: str, timeout: float) -> tuple[list[str], dict]:
    """(JavaScript errors, {"figures", "drawn", "height"}); writes the screenshot."""
    # Chromium's helper processes (renderer, GPU, crash handler) can outlive the main one
    # for a moment and still write to the profile: the browser runs in a process group
    # of its own, which is ended as a whole, and a file they leave behind is no error.
    profile_dir = tempfile.TemporaryDirectory(prefix="report-browser-", ignore_cleanup_errors=True)
    with profile_dir as profile:
        command = [browser, *FLAGS, f"--user-data-dir={profile}", "about:blank"]
        process = subprocess.Popen(
            command,
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
        )
        try:
            tools = DevTools(_page_target(_devtools_port(process, timeout)), timeout)
            for domain in ("Runtime", "Log", "Page"):
                tools.call(f"{domain}.enable")
            tools.call(
                "Emulation.setDeviceMetricsOverride",
                width=1280,
                height=900,
                deviceScaleFactor=1,
                mobile=False,
            )
            tools.call("Page.navigate", url=page.resolve().as_uri())
            if not tools.wait_for("Page.loadEventFired", timeout):
                return ["the page did not finish loading"], {}
            tools.drain(SETTLE_S)
            state = json.loads(
                tools.call("Runtime.evaluate", expression=_FIGURES_JS)["result"]["value"]
            )
            state["layout"] = json.loads(
                tools.call("Runtime.evaluate", expression=_LAYOUT_JS)["result"]["value"]
            )
            shot = tools.call(
                "Page.captureScreenshot",
                format="png",
                captureBeyondViewport=True,
                clip={
                    "x": 0,
                    "y": 0,
                    "width": 1280,
                    "height": min(state["height"], 6000),
                    "scale": 1,
                },
            )
            screenshot.write_bytes(base64.b64decode(shot["data"]))
            return javascript_errors(tools.events), state
        finally:
            _end_group(process)


def _end_group(process: subprocess.Popen) -> None:
    """Ends the browser and every process it started (its own process group)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    deadline = time.monotonic() + 5  # the helpers leave the group a moment later
    while time.monotonic() < deadline and _group_alive(process.pid):
        time.sleep(0.05)


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("page", type=Path, help="the report.html to render")
    parser.add_argument(
        "--screenshot", type=Path, default=None, help="PNG (default: beside the page)"
    )
    parser.add_argument(
        "--browser", default=None, help="browser executable (default: chromium on PATH)"
    )
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds for start and load")
    parser.add_argument(
        "--json", action="store_true", help="also print each figure's ticks, lines and legend"
    )
    args = parser.parse_args(argv)
    browser = find_browser(args.browser)
    if browser is None:
        print(
            "no Chromium found: install it (Debian: apt-get install -y chromium)", file=sys.stderr
        )
        return 2
    if not args.page.is_file():
        print(f"{args.page}: no such file", file=sys.stderr)
        return 2
    screenshot = args.screenshot or args.page.with_suffix(".png")
    errors, state = check(args.page, screenshot, browser, args.timeout)
    for error in errors:
        print(f"JavaScript error: {error}", file=sys.stderr)
    problems = unreadable(state.get("layout", []))
    for problem in problems:
        print(f"unreadable: {problem}", file=sys.stderr)
    drawn = state.get("figures", 0) == state.get("drawn", -1)
    layout = state.pop("layout", [])
    document = {"page": str(args.page), "screenshot": str(screenshot), "errors": len(errors)}
    document.update(state, unreadable=len(problems))
    if args.json:
        document["layout"] = layout
    print(json.dumps(document))
    return 0 if not errors and drawn and not problems else 1


if __name__ == "__main__":
    sys.exit(main())
