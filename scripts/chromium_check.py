"""Render an srpo report in headless Chromium and check it as a person would see it.

Talks to Chromium over the DevTools protocol on a pipe (`--remote-debugging-pipe`: JSON messages
ended by a NUL byte on file descriptors 3 and 4), so nothing but the standard library and
Debian's `chromium` is needed. Opens the file, waits until every `<figure class="srpo-figure">`
says it rendered (or failed, or the time is up), then reports:
- console errors, uncaught exceptions and browser log errors;
- requests for anything but the file itself (`data:`/`blob:` excepted): the page must be self-contained;
- blank figures: no SVG, a tiny SVG, or no data mark with something drawn inside it;
and saves a full-page screenshot (PNG).

Usage: python scripts/chromium_check.py REPORT.html [--screenshot PATH] [--min-figures N]
Prints `key: value` lines; exits 1 when a check fails.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import select
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
    "--remote-debugging-pipe",
)
WIDTH = 1400

# Per figure: its state, its SVG's size, and how many data marks draw something (marks outside
# axes, legends and titles, with at least one child element: a path, a rect, a symbol...).
FIGURE_PROBE = """
Array.from(document.querySelectorAll("figure.srpo-figure")).map((figure) => {
  const svg = figure.querySelector(".chart svg");
  const box = svg ? svg.getBoundingClientRect() : {width: 0, height: 0};
  const marks = svg ? Array.from(svg.querySelectorAll("g.role-mark")).filter((g) =>
      !g.closest(".role-axis, .role-legend, .role-title, .role-axis-grid") && g.childElementCount > 0) : [];
  const drawn = marks.reduce((n, g) => n + g.querySelectorAll("path, rect, line, circle, text").length, 0);
  return {id: figure.id, state: figure.dataset.rendered || "pending", width: box.width,
          height: box.height, marks: marks.length, drawn: drawn};
})
"""


def chromium_binary() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        found = shutil.which(name)
        if found:
            return found
    sys.exit("chromium not found: apt-get install chromium (just report-check installs it)")


class DevTools:
    """A Chromium process and its DevTools pipe."""

    def __init__(self, binary: str, profile: Path, log: Path) -> None:
        to_chrome_read, self._write = os.pipe()
        self._read, from_chrome_write = os.pipe()
        args = [binary, *FLAGS, f"--user-data-dir={profile}", f"--window-size={WIDTH},900", "about:blank"]
        # bash gives the pipe ends the descriptor numbers Chromium expects (3: commands in, 4: out).
        script = f"exec {shlex.join(args)} 3<&{to_chrome_read} 4>&{from_chrome_write}"
        self._log = log.open("w")
        self.process = subprocess.Popen(
            ["bash", "-c", script],
            pass_fds=(to_chrome_read, from_chrome_write),
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=self._log,
        )
        os.close(to_chrome_read)
        os.close(from_chrome_write)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []

    def call(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        *,
        session: str | None = None,
        timeout: float = 60,
    ) -> dict[str, Any]:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._write, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._receive(deadline - time.monotonic())
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def _receive(self, timeout: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            ready, _, _ = select.select([self._read], [], [], max(0.0, timeout))
            if not ready:
                raise TimeoutError("Chromium did not answer in time")
            chunk = os.read(self._read, 1 << 20)
            if not chunk:
                raise EOFError("Chromium closed the DevTools pipe (see its log)")
            self._buffer += chunk
        message, _, self._buffer = self._buffer.partition(b"\0")
        return json.loads(message)

    def close(self) -> None:
        with contextlib.suppress(OSError, RuntimeError, TimeoutError, EOFError):
            self.call("Browser.close", timeout=10)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._write)
        os.close(self._read)
        self._log.close()


@dataclass
class Findings:
    figures: list[dict[str, Any]] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    screenshot: Path | None = None

    @property
    def blank(self) -> list[str]:
        return [
            f["id"]
            for f in self.figures
            if f["state"] != "true"
            or f["width"] < 50
            or f["height"] < 30
            or f["marks"] == 0
            or f["drawn"] == 0
        ]


def _errors(events: list[dict[str, Any]]) -> list[str]:
    found = []
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            found.append(
                " ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", []))
            )
        elif method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            found.append(details.get("exception", {}).get("description") or details.get("text", "exception"))
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            found.append(params["entry"].get("text", ""))
    return found


def _requests(events: list[dict[str, Any]], page: str) -> list[str]:
    urls = [e["params"]["request"]["url"] for e in events if e.get("method") == "Network.requestWillBeSent"]
    return [url for url in urls if url != page and not url.startswith(("data:", "blob:", "about:"))]


def check_report(path: Path, *, screenshot: Path, timeout: float = 90) -> Findings:
    """Open `path` in headless Chromium and collect what `Findings` holds."""
    page = path.resolve().as_uri()
    profile = Path(tempfile.mkdtemp(prefix="srpo-chromium-"))
    chrome = DevTools(chromium_binary(), profile, screenshot.with_suffix(".chromium.log"))
    findings = Findings()
    try:
        target = chrome.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = chrome.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Runtime", "Log", "Network", "Page"):
            chrome.call(f"{domain}.enable", session=session)
        chrome.call(
            "Emulation.setDeviceMetricsOverride",
            {"width": WIDTH, "height": 900, "deviceScaleFactor": 1, "mobile": False},
            session=session,
        )
        chrome.call("Page.navigate", {"url": page}, session=session)
        deadline = time.monotonic() + timeout
        while True:
            probe = chrome.call(
                "Runtime.evaluate", {"expression": FIGURE_PROBE, "returnByValue": True}, session=session
            )
            findings.figures = probe.get("result", {}).get("value") or []
            settled = findings.figures and all(f["state"] != "pending" for f in findings.figures)
            if settled or time.monotonic() > deadline:
                break
            time.sleep(0.25)
        time.sleep(0.5)  # let late console messages arrive
        chrome.call("Runtime.evaluate", {"expression": "1"}, session=session)
        metrics = chrome.call("Page.getLayoutMetrics", session=session)["cssContentSize"]
        shot = chrome.call(
            "Page.captureScreenshot",
            {
                "format": "png",
                "captureBeyondViewport": True,
                "clip": {"x": 0, "y": 0, "width": WIDTH, "height": metrics["height"], "scale": 1},
            },
            session=session,
        )
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        screenshot.write_bytes(base64.b64decode(shot["data"]))
        findings.screenshot = screenshot
        findings.console_errors = _errors(chrome.events)
        findings.requests = _requests(chrome.events, page)
    finally:
        chrome.close()
        shutil.rmtree(profile, ignore_errors=True)
    return findings


def say(key: str, value: object) -> None:
    print(f"{key}: {value}", flush=True)


def report_findings(findings: Findings, *, min_figures: int) -> bool:
    """Print the findings; True when every check passed."""
    say("figures", len(findings.figures))
    say("figures rendered", sum(f["state"] == "true" for f in findings.figures))
    say("blank figures", ", ".join(findings.blank) or "none")
    say("console errors", len(findings.console_errors))
    for error in findings.console_errors[:10]:
        say("  console error", error[:300])
    say("requests outside the file", ", ".join(findings.requests) or "none")
    say("screenshot", findings.screenshot)
    ok = len(findings.figures) >= min_figures and not findings.blank
    ok = ok and not findings.console_errors and not findings.requests
    say("report check", "ok" if ok else "FAILED")
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("report", type=Path)
    parser.add_argument("--screenshot", type=Path, default=None)
    parser.add_argument("--min-figures", type=int, default=1)
    args = parser.parse_args()
    screenshot = args.screenshot or args.report.with_suffix(".png")
    findings = check_report(args.report, screenshot=screenshot)
    sys.exit(0 if report_findings(findings, min_figures=args.min_figures) else 1)


if __name__ == "__main__":
    main()
