"""The HTML preview in a real headless Chromium: no console error, one card per post,
right-to-left text laid out right to left, images with alt text that load, and a screenshot.

Chromium is driven over the DevTools protocol on `--remote-debugging-pipe` (JSON messages ended
by NUL on file descriptors 3 and 4), so no websocket library is needed. Skipped when Debian's
`chromium` is not installed (`apt-get install chromium`).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import queue
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import REPO, Repo, crosspost
from tests.test_html import big_repository, write_sorani

CHROMIUM = os.environ.get("CROSSPOST_CHROMIUM", "/usr/bin/chromium")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)),
        reason=f"{CHROMIUM} is missing: install Debian's chromium to run the browser tests",
    ),
]

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--remote-debugging-pipe",
]

#: a bound on every wait for the browser
TIMEOUT = 60.0


class Browser:
    """A minimal DevTools protocol client over Chromium's debugging pipe, one page."""

    def __init__(self, profile: Path):
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()
        # Chromium reads commands on fd 3 and writes answers on fd 4; a tiny Python launcher
        # puts the pipes there (dash cannot redirect descriptors above 9).
        launcher = (
            "import fcntl, os, sys; "
            "r, w = (fcntl.fcntl(int(fd), fcntl.F_DUPFD, 5) for fd in sys.argv[1:3]); "
            "os.dup2(r, 3); os.dup2(w, 4); os.execv(sys.argv[3], sys.argv[3:])"
        )
        self.log = profile.with_name(profile.name + "-chromium.log")
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(
                [
                    *(sys.executable, "-c", launcher, str(to_chrome_r), str(from_chrome_w)),
                    *(CHROMIUM, *FLAGS, f"--user-data-dir={profile}"),
                ],
                pass_fds=(to_chrome_r, from_chrome_w),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
            )
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._messages: queue.Queue = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self._next_id = 0
        self.events: list[dict] = []
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)[
            "sessionId"
        ]
        for domain in ("Page", "Runtime", "Log"):
            self.call(f"{domain}.enable", session=True)

    def _read(self) -> None:
        buffer = b""
        while True:
            try:
                chunk = os.read(self._from_chrome, 1 << 16)
            except OSError:
                chunk = b""
            if not chunk:
                self._messages.put(None)
                return
            buffer += chunk
            while b"\0" in buffer:
                message, buffer = buffer.split(b"\0", 1)
                self._messages.put(json.loads(message))

    def _receive(self, deadline: float) -> dict:
        try:
            message = self._messages.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            raise TimeoutError("Chromium did not answer in time") from None
        if message is None:
            raise RuntimeError(f"Chromium exited: {self._stderr()}")
        return message

    def _stderr(self) -> str:
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        text = self.log.read_text(encoding="utf-8", errors="replace")
        return f"code {self.proc.wait()}: {text[-3000:]}"

    def call(self, method: str, session: bool = False, **params) -> dict:
        """Send one command and wait for its answer (events meanwhile are kept)."""
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = self.session
        try:
            os.write(self._to_chrome, json.dumps(message).encode() + b"\0")
        except BrokenPipeError:
            raise RuntimeError(f"Chromium exited: {self._stderr()}") from None
        deadline = time.monotonic() + TIMEOUT
        while True:
            reply = self._receive(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method: str) -> dict:
        """The first event named `method` not yet consumed."""
        deadline = time.monotonic() + TIMEOUT
        while True:
            for i, event in enumerate(self.events):
                if event.get("method") == method:
                    return self.events.pop(i)
            self.events.append(self._receive(deadline))

    def open(self, url: str, width: int = 1280, height: int = 1800) -> float:
        """Load `url`; the seconds until its load event."""
        self.call(
            "Emulation.setDeviceMetricsOverride",
            session=True,
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=False,
        )
        self.events = [e for e in self.events if e.get("method") != "Page.loadEventFired"]
        started = time.monotonic()
        self.call("Page.navigate", session=True, url=url)
        self.wait_for("Page.loadEventFired")
        return time.monotonic() - started

    def js(self, expression: str):
        """The value of a JavaScript expression (promises awaited)."""
        result = self.call(
            "Runtime.evaluate",
            session=True,
            expression=expression,
            returnByValue=True,
            awaitPromise=True,
        )
        if "exceptionDetails" in result:
            raise AssertionError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def errors(self) -> list[str]:
        """Console errors, uncaught exceptions and browser-logged errors seen so far."""
        found = []
        for e in self.events:
            params = e.get("params", {})
            if e.get("method") == "Runtime.exceptionThrown":
                found.append(json.dumps(params["exceptionDetails"])[:500])
            elif e.get("method") == "Runtime.consoleAPICalled" and params["type"] in (
                "error",
                "assert",
            ):
                found.append(" ".join(str(a.get("value", a)) for a in params["args"]))
            elif e.get("method") == "Log.entryAdded" and params["entry"]["level"] == "error":
                found.append(params["entry"]["text"])
        return found

    def screenshot(self, path: Path) -> Path:
        """Save a PNG of the viewport."""
        data = self.call("Page.captureScreenshot", session=True, format="png")["data"]
        path.write_bytes(base64.b64decode(data))
        return path

    def close(self) -> None:
        with contextlib.suppress(RuntimeError, TimeoutError, OSError):
            self.call("Browser.close")
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        os.close(self._to_chrome)
        self._reader.join(timeout=5)
        os.close(self._from_chrome)


@pytest.fixture
def browser(tmp_path):
    b = Browser(tmp_path / "profile")
    try:
        yield b
    finally:
        b.close()


def _preview(root: Path, output: Path) -> list[dict]:
    """Write the HTML preview of `root` with the real command; its posts (from JSON)."""
    html = crosspost("preview", "--root", root, "--format", "html", "--output", output)
    assert output.exists(), html.output
    posts = crosspost("preview", "--root", root, "--format", "json")
    assert posts.stdout, posts.output
    return posts.json()["posts"]


#: every <img> as [alt, naturalWidth, complete], once the images have been decoded
IMAGES = """
Promise.all([...document.images].map(i => i.decode().catch(() => null))).then(() =>
  [...document.images].map(i => [i.alt, i.naturalWidth, i.complete]))
"""


def _check_page(browser: Browser, posts: list[dict]) -> None:
    assert browser.errors() == []
    assert browser.js("document.querySelectorAll('article.card').length") == len(posts)
    keys = browser.js("[...document.querySelectorAll('article.card')].map(c => c.dataset.key)")
    assert sorted(keys) == sorted(p["key"] for p in posts)
    with_image = [p for p in posts if p["image"]]
    images = browser.js(IMAGES)
    assert len(images) == len(with_image)
    for alt, width, complete in images:
        assert alt.strip(), "an image without alt text"
        assert complete and width > 0, "an image did not load"
    # Every post text is on the page, in a platform-shaped card.
    assert browser.js("document.querySelectorAll('.post.fb, .post.x').length") == len(posts)


def test_bundled_campaign_in_chromium(browser, tmp_path):
    output = tmp_path / "preview.html"
    posts = _preview(REPO, output)
    assert posts, "the bundled campaign plans posts"
    seconds = browser.open(output.as_uri())
    _check_page(browser, posts)
    assert browser.js("document.querySelectorAll('.post.x li').length") >= sum(
        len(p["parts"]) for p in posts if p["platform"] == "x"
    )
    # Filtering to one language with the radio chips (pure CSS) leaves only its cards.
    browser.js("document.querySelector('label[for=fl0]').click()")
    shown = browser.js(
        "[...document.querySelectorAll('article.card')].filter(c => c.offsetParent).length"
    )
    first = sorted({p["language"] for p in posts})[0]
    assert shown == sum(1 for p in posts if p["language"] == first)
    browser.js("document.querySelector('label[for=fla]').click()")
    shot = browser.screenshot(tmp_path / "bundled.png")
    # A second look further down: event 2, with the X thread and its reminder.
    browser.js(
        "document.querySelector('article[data-key$=\"aboriya-jin/announce/facebook-en\"]')"
        ".closest('section').scrollIntoView()"
    )
    event2 = browser.screenshot(tmp_path / "bundled-event-2.png")
    print(
        f"\nbundled campaign: {len(posts)} cards, loaded in {seconds:.2f} s; "
        f"screenshots {shot} {event2}"
    )


@pytest.fixture
def sorani(tmp_path) -> Repo:
    """A repository posting in Sorani (ckb, right to left) and English."""
    return write_sorani(tmp_path / "sorani")


def test_right_to_left_in_chromium(browser, sorani, tmp_path):
    output = tmp_path / "sorani.html"
    posts = _preview(sorani.root, output)
    assert {p["language"] for p in posts} == {"ckb", "en"}
    browser.open(output.as_uri())
    _check_page(browser, posts)
    directions = browser.js(
        """[...document.querySelectorAll('article.card')].map(c => {
             const t = c.querySelector('.text');
             return [c.dataset.key, getComputedStyle(t).direction, t.lang];
           })"""
    )
    for key, direction, lang in directions:
        if key.endswith("-ckb"):
            assert (direction, lang) == ("rtl", "ckb"), key
        else:
            assert (direction, lang) == ("ltr", "en"), key
    # The text really runs right to left: its first character sits at the right edge.
    assert browser.js(
        """(() => {
             const t = document.querySelector('article[data-key$="facebook-ckb"] .text');
             const r = document.createRange(); r.setStart(t.firstChild, 0);
             r.setEnd(t.firstChild, 1);
             const c = r.getBoundingClientRect(), b = t.getBoundingClientRect();
             return b.right - c.right < b.width / 4;
           })()"""
    )
    shot = browser.screenshot(tmp_path / "sorani.png")
    print(f"\nSorani preview: {len(posts)} cards; screenshot {shot}")


def test_a_thousand_posts_open_quickly(browser, tmp_path):
    r = big_repository(tmp_path / "big")
    output = tmp_path / "big.html"
    posts = _preview(r.root, output)
    assert len(posts) == 1008
    browser.open((REPO / "README.md").as_uri())  # warm the browser up
    seconds = browser.open(output.as_uri())
    started = time.monotonic()
    height = browser.js("document.body.scrollHeight")  # forces the whole layout
    layout = time.monotonic() - started
    _check_page(browser, posts)
    size = output.stat().st_size / 1e6
    print(
        f"\n1,008 posts, {size:.2f} MB: load event after {seconds:.2f} s, "
        f"full layout {layout:.3f} s more ({height} px)"
    )
    # The issue asks for under 2 s; the bound leaves room for slow CI machines.
    assert seconds + layout < 5
