#!/usr/bin/env python3
"""Create or update the single crosspost preview comment of a pull request.

The comment is found again by a hidden marker on its first line and by its author, so each
push to the pull request edits the same comment instead of adding one. Standard library only:
it runs before (or without) installing anything.

Environment: GITHUB_API_URL (default https://api.github.com), GITHUB_REPOSITORY ("owner/name"),
GITHUB_TOKEN; the pull request number comes from --pr or from the event in GITHUB_EVENT_PATH.
The token is sent to the API host only and never printed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

MARKER = "<!-- crosspost-preview -->"
DEFAULT_AUTHOR = "github-actions[bot]"
# GitHub refuses comment bodies over 65,536 characters; leave room for the notice.
MAX_BODY = 65_000
MAX_PAGES = 100
TIMEOUT = 30
ATTEMPTS = 3


class ApiError(Exception):
    """The GitHub API answered with an error, or could not be reached."""


class GitHub:
    """The three REST calls the upsert needs, with a timeout and a bounded retry."""

    def __init__(self, api_url: str, repository: str, token: str) -> None:
        self.api_url = api_url.rstrip("/")
        self.repository = repository
        self.token = token
        self.origin = urllib.parse.urlsplit(self.api_url)[:2]

    def request(self, method: str, url: str, payload: dict | None = None):
        """Return (decoded JSON, response headers) of one API call."""
        if urllib.parse.urlsplit(url)[:2] != self.origin:
            # Never hand the token to another host, whatever a Link header says.
            raise ApiError(f"refusing to follow a URL outside {self.api_url}")
        data = None if payload is None else json.dumps(payload).encode()
        headers = {
            "Accept": "application/vnd.github+json",
            "Authorization": f"Bearer {self.token}",
            "User-Agent": "crosspost-pr-comment",
            "X-GitHub-Api-Version": "2022-11-28",
        }
        if data is not None:
            headers["Content-Type"] = "application/json"
        for attempt in range(1, ATTEMPTS + 1):
            req = urllib.request.Request(url, data=data, headers=headers, method=method)
            try:
                with urllib.request.urlopen(req, timeout=TIMEOUT) as resp:
                    body = resp.read()
                    return (json.loads(body) if body else None), resp.headers
            except urllib.error.HTTPError as exc:
                detail = _message(exc)
                if exc.code >= 500 and attempt < ATTEMPTS:
                    time.sleep(attempt)
                    continue
                raise ApiError(f"{method} {_path(url)}: HTTP {exc.code}: {detail}") from None
            except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
                if attempt < ATTEMPTS:
                    time.sleep(attempt)
                    continue
                reason = getattr(exc, "reason", exc)
                raise ApiError(f"{method} {_path(url)}: {reason}") from None
        raise AssertionError("unreachable")

    def comments(self, pr: int):
        """Yield every comment of the pull request, following the pagination links."""
        url = f"{self.api_url}/repos/{self.repository}/issues/{pr}/comments?per_page=100"
        for _ in range(MAX_PAGES):
            page, headers = self.request("GET", url)
            yield from page or []
            url = _next_link(headers.get("Link", ""))
            if url is None:
                return
        raise ApiError(f"more than {MAX_PAGES} pages of comments")

    def create(self, pr: int, body: str) -> dict:
        url = f"{self.api_url}/repos/{self.repository}/issues/{pr}/comments"
        return self.request("POST", url, {"body": body})[0]

    def update(self, comment_id: int, body: str) -> dict:
        url = f"{self.api_url}/repos/{self.repository}/issues/comments/{comment_id}"
        return self.request("PATCH", url, {"body": body})[0]


def _message(exc: urllib.error.HTTPError) -> str:
    try:
        return str(json.loads(exc.read()).get("message", exc.reason))
    except (ValueError, AttributeError, OSError):
        return str(exc.reason)


def _path(url: str) -> str:
    return urllib.parse.urlsplit(url).path


def _next_link(link_header: str) -> str | None:
    """The rel="next" URL of an RFC 8288 Link header, if any."""
    for part in link_header.split(","):
        section = part.split(";")
        url = section[0].strip()
        if any(p.strip() in ('rel="next"', "rel=next") for p in section[1:]):
            return url.strip("<>")
    return None


def compose(text: str, marker: str = MARKER, footer: str = "") -> str:
    """The comment body: the marker, the preview (cut to GitHub's limit), an optional footer."""
    text = text.strip()
    if text.startswith(marker):  # `crosspost diff --format markdown` starts with it already
        text = text[len(marker) :].strip()
    text = text or "_crosspost produced no preview; see the workflow run._"
    budget = MAX_BODY - len(marker) - len(footer) - 200
    if len(text) > budget:
        cut = text.rfind("\n", 0, budget)
        text = text[: cut if cut > 0 else budget] + (
            "\n\n… _The preview is too long for a comment; the job summary of the workflow run "
            "has all of it._"
        )
    parts = [marker, text]
    if footer:
        parts.append(footer)
    return "\n".join(parts) + "\n"


def is_ours(comment: dict, marker: str, author: str) -> bool:
    login = (comment.get("user") or {}).get("login")
    return login == author and (comment.get("body") or "").startswith(marker)


def upsert(gh: GitHub, pr: int, body: str, marker: str, author: str) -> tuple[str, dict]:
    """Update our earlier comment on the pull request, or create it; say which."""
    for comment in gh.comments(pr):
        if is_ours(comment, marker, author):
            if comment.get("body") == body:
                return "unchanged", comment
            return "updated", gh.update(comment["id"], body)
    return "created", gh.create(pr, body)


def _pr_from_event() -> int | None:
    path = os.environ.get("GITHUB_EVENT_PATH")
    if not path:
        return None
    try:
        event = json.loads(Path(path).read_text(encoding="utf-8"))
        return int(event["pull_request"]["number"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("body_file", type=Path, help="Markdown file with the comment text")
    parser.add_argument("--pr", type=int, help="pull request number (default: from the event)")
    parser.add_argument("--marker", default=MARKER, help="hidden first line that finds it again")
    parser.add_argument(
        "--author",
        default=os.environ.get("CROSSPOST_COMMENT_AUTHOR", DEFAULT_AUTHOR),
        help="login that owns the comment (default: github-actions[bot])",
    )
    parser.add_argument("--footer", default="", help="Markdown appended below the preview")
    args = parser.parse_args(argv)

    token = os.environ.get("GITHUB_TOKEN", "")
    repository = os.environ.get("GITHUB_REPOSITORY", "")
    pr = args.pr if args.pr is not None else _pr_from_event()
    missing = [
        name
        for name, value in (("GITHUB_TOKEN", token), ("GITHUB_REPOSITORY", repository))
        if not value
    ]
    if pr is None:
        missing.append("--pr (or a pull_request event in GITHUB_EVENT_PATH)")
    if missing:
        print(f"pr_comment: missing {', '.join(missing)}", file=sys.stderr)
        return 2
    try:
        text = args.body_file.read_text(encoding="utf-8")
    except OSError as exc:
        print(f"pr_comment: cannot read {args.body_file}: {exc.strerror}", file=sys.stderr)
        return 2

    gh = GitHub(os.environ.get("GITHUB_API_URL", "https://api.github.com"), repository, token)
    body = compose(text, args.marker, args.footer)
    try:
        action, comment = upsert(gh, pr, body, args.marker, args.author)
    except ApiError as exc:
        print(f"pr_comment: {str(exc).replace(token, '***')}", file=sys.stderr)
        return 1
    print(f"pr_comment: {action} comment {comment.get('html_url') or comment.get('id')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
