"""The pull-request comment upsert, run as the workflow runs it, against a fake GitHub REST API.

The fake serves the three endpoints the script uses on 127.0.0.1, the way api.github.com does:
issue comments listed oldest first in pages with an RFC 8288 `Link` header of absolute URLs,
`Bearer` authentication, JSON error bodies with a `message`.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / ".github" / "scripts" / "pr_comment.py"
TOKEN = "ghs_fakeTOKEN0123456789abcdef"
REPO = "solidarity/campaigns"
PR = 7
MARKER = "<!-- crosspost-preview -->"
BOT = "github-actions[bot]"


def load_module():
    spec = importlib.util.spec_from_file_location("pr_comment", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("pr_comment", module)
    spec.loader.exec_module(module)
    return module


class FakeGitHub:
    """Issue comments of one repository, and a log of the requests made."""

    def __init__(self, page_size: int = 100) -> None:
        self.comments: list[dict] = []
        self.requests: list[tuple[str, str]] = []
        self.page_size = page_size
        self.fail_next: list[int] = []
        self.next_link_override: str | None = None
        self._next_id = 1000
        self._lock = threading.Lock()
        handler = type("Handler", (_Handler,), {"fake": self})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    def add(self, login: str, body: str) -> dict:
        with self._lock:
            self._next_id += 1
            comment = {
                "id": self._next_id,
                "body": body,
                "user": {"login": login, "type": "Bot" if login.endswith("[bot]") else "User"},
                "html_url": f"https://github.com/{REPO}/pull/{PR}#issuecomment-{self._next_id}",
            }
            self.comments.append(comment)
            return comment

    def ours(self) -> list[dict]:
        return [c for c in self.comments if c["user"]["login"] == BOT]


class _Handler(BaseHTTPRequestHandler):
    fake: FakeGitHub

    def log_message(self, *args) -> None:
        pass

    def _send(self, status: int, payload, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _handle(self, method: str) -> None:
        fake = self.fake
        url = urlsplit(self.path)
        fake.requests.append((method, self.path))
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            self._send(401, {"message": "Bad credentials", "status": "401"})
            return
        if fake.fail_next:
            self._send(fake.fail_next.pop(0), {"message": "Server Error"})
            return
        length = int(self.headers.get("Content-Length") or 0)
        payload = json.loads(self.rfile.read(length)) if length else None

        listing = re.fullmatch(rf"/repos/{REPO}/issues/(\d+)/comments", url.path)
        single = re.fullmatch(rf"/repos/{REPO}/issues/comments/(\d+)", url.path)
        if listing and int(listing[1]) == PR and method == "GET":
            query = parse_qs(url.query)
            per_page = min(int(query.get("per_page", ["30"])[0]), fake.page_size)
            page = int(query.get("page", ["1"])[0])
            items = fake.comments[(page - 1) * per_page : page * per_page]
            headers = {}
            if page * per_page < len(fake.comments):
                nxt = fake.next_link_override or (
                    f"{fake.url}{url.path}?per_page={per_page}&page={page + 1}"
                )
                headers["Link"] = f'<{nxt}>; rel="next", <{fake.url}{url.path}?page=99>; rel="last"'
            self._send(200, items, headers)
        elif listing and int(listing[1]) == PR and method == "POST":
            self._send(201, fake.add(BOT, payload["body"]))
        elif single and method == "PATCH":
            for comment in fake.comments:
                if comment["id"] == int(single[1]):
                    if comment["user"]["login"] != BOT:
                        self._send(403, {"message": "Resource not accessible by integration"})
                        return
                    comment["body"] = payload["body"]
                    self._send(200, comment)
                    return
            self._send(404, {"message": "Not Found"})
        else:
            self._send(404, {"message": "Not Found"})

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PATCH(self) -> None:
        self._handle("PATCH")


@pytest.fixture
def github():
    fake = FakeGitHub()
    fake.thread.start()
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


def upsert(github: FakeGitHub, tmp_path: Path, text: str, *args: str, token: str = TOKEN):
    body = tmp_path / "preview.md"
    body.write_text(text, encoding="utf-8")
    env = {
        "PATH": os.environ.get("PATH", ""),
        "GITHUB_API_URL": github.url,
        "GITHUB_REPOSITORY": REPO,
        "GITHUB_TOKEN": token,
    }
    if "--no-pr" not in args:
        args = ("--pr", str(PR), *args)
    else:
        args = tuple(a for a in args if a != "--no-pr")
    done = subprocess.run(
        [sys.executable, str(SCRIPT), str(body), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert TOKEN not in done.stdout + done.stderr
    return done


def test_creates_the_comment_once(github, tmp_path):
    done = upsert(github, tmp_path, "## 3 posts changed\n")
    assert done.returncode == 0, done.stderr
    assert "created comment" in done.stdout
    [comment] = github.comments
    assert comment["body"].startswith(MARKER + "\n")
    assert "## 3 posts changed" in comment["body"]


def test_second_call_updates_the_same_comment(github, tmp_path):
    assert upsert(github, tmp_path, "first version").returncode == 0
    [first] = github.comments
    done = upsert(github, tmp_path, "second version")
    assert done.returncode == 0, done.stderr
    assert "updated comment" in done.stdout
    assert github.comments == [first]
    assert "second version" in first["body"]
    assert "first version" not in first["body"]
    assert [m for m, _ in github.requests].count("POST") == 1
    assert [m for m, _ in github.requests].count("PATCH") == 1


def test_identical_body_is_left_alone(github, tmp_path):
    upsert(github, tmp_path, "same")
    done = upsert(github, tmp_path, "same")
    assert done.returncode == 0
    assert "unchanged comment" in done.stdout
    assert "PATCH" not in [m for m, _ in github.requests]


def test_other_peoples_comments_are_ignored(github, tmp_path):
    alice = github.add("alice", f"{MARKER}\nquoting the bot, marker and all")
    other_bot = github.add(BOT, "a comment from another workflow")
    github.add("bob", "looks good")

    assert upsert(github, tmp_path, "preview one").returncode == 0
    assert upsert(github, tmp_path, "preview two").returncode == 0

    ours = [c for c in github.ours() if c["body"].startswith(MARKER)]
    assert len(ours) == 1
    assert "preview two" in ours[0]["body"]
    assert alice["body"] == f"{MARKER}\nquoting the bot, marker and all"
    assert other_bot["body"] == "a comment from another workflow"
    assert len(github.comments) == 4


def test_finds_its_comment_on_a_later_page(github, tmp_path):
    for i in range(250):
        github.add("reviewer", f"comment {i}")
    ours = github.add(BOT, f"{MARKER}\nold preview\n")
    github.add("reviewer", "after the preview")

    done = upsert(github, tmp_path, "new preview")
    assert done.returncode == 0, done.stderr
    assert "updated comment" in done.stdout
    assert "new preview" in ours["body"]
    assert len(github.comments) == 252
    assert [m for m, _ in github.requests] == ["GET", "GET", "GET", "PATCH"]


def test_small_pages_are_followed_to_the_end(github, tmp_path):
    github.page_size = 30
    for i in range(95):
        github.add("reviewer", f"comment {i}")
    done = upsert(github, tmp_path, "preview")
    assert done.returncode == 0, done.stderr
    assert "created comment" in done.stdout
    assert [m for m, _ in github.requests] == ["GET"] * 4 + ["POST"]


def test_pagination_never_leaves_the_api_host(github, tmp_path):
    github.page_size = 1
    github.add("reviewer", "one")
    github.add("reviewer", "two")
    github.next_link_override = "http://127.0.0.2:1/steal?page=2"
    done = upsert(github, tmp_path, "preview")
    assert done.returncode == 1
    assert "refusing to follow" in done.stderr
    assert "POST" not in [m for m, _ in github.requests]


def test_api_errors_are_reported_without_the_token(github, tmp_path):
    done = upsert(github, tmp_path, "preview", token=TOKEN + "-wrong")
    assert done.returncode == 1
    assert "HTTP 401: Bad credentials" in done.stderr
    assert TOKEN + "-wrong" not in done.stdout + done.stderr
    assert github.comments == []


def test_server_errors_are_retried(github, tmp_path):
    github.fail_next = [502]
    done = upsert(github, tmp_path, "preview")
    assert done.returncode == 0, done.stderr
    assert len(github.ours()) == 1


def test_pr_number_comes_from_the_event(github, tmp_path):
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": PR}}))
    body = tmp_path / "preview.md"
    body.write_text("from the event")
    done = subprocess.run(
        [sys.executable, str(SCRIPT), str(body)],
        env={
            "PATH": os.environ.get("PATH", ""),
            "GITHUB_API_URL": github.url,
            "GITHUB_REPOSITORY": REPO,
            "GITHUB_TOKEN": TOKEN,
            "GITHUB_EVENT_PATH": str(event),
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "from the event" in github.ours()[0]["body"]


def test_missing_settings_are_usage_errors(tmp_path):
    body = tmp_path / "preview.md"
    body.write_text("x")
    done = subprocess.run(
        [sys.executable, str(SCRIPT), str(body), "--pr", "1"],
        env={"PATH": os.environ.get("PATH", "")},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "GITHUB_TOKEN" in done.stderr


def test_footer_and_empty_preview(github, tmp_path):
    done = upsert(github, tmp_path, "   \n", "--footer", "_Updated for abc123._")
    assert done.returncode == 0, done.stderr
    body = github.ours()[0]["body"]
    assert body.startswith(MARKER)
    assert "produced no preview" in body
    assert body.rstrip().endswith("_Updated for abc123._")


def test_marker_is_not_doubled_when_the_preview_has_it():
    module = load_module()
    body = module.compose(f"{MARKER}\n## crosspost: what this change does\n")
    assert body == f"{MARKER}\n## crosspost: what this change does\n"


def test_long_previews_are_cut_to_fit_a_comment():
    module = load_module()
    text = "\n".join(f"| post {i} | {'x' * 80} |" for i in range(2000))
    body = module.compose(text, footer="footer")
    assert len(body) <= 65_536
    assert body.startswith(MARKER + "\n")
    assert "job summary" in body
    assert body.rstrip().endswith("footer")
    assert "| post 0 |" in body


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (
            '<https://api.github.com/x?page=2>; rel="next", <https://api.github.com/x?page=5>; '
            'rel="last"',
            "https://api.github.com/x?page=2",
        ),
        ('<https://api.github.com/x?page=1>; rel="prev"', None),
        ("", None),
    ],
)
def test_next_link(header, expected):
    assert load_module()._next_link(header) == expected
