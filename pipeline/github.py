"""The few GitHub REST calls `crosspost alert` needs: issues, labels and comments of one repository.

requests with a timeout on every call, 5xx and dropped connections retried a bounded number of
times, pagination by the `Link` header (never followed to another host: the token goes to the
API host only), and errors that say which setting to fix: GITHUB_TOKEN, GITHUB_REPOSITORY, the
workflow's `permissions: issues: write`.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

from pipeline.errors import CrosspostError

log = logging.getLogger(__name__)

DEFAULT_API_URL = "https://api.github.com"
#: attempts of one call when GitHub answers 5xx or the connection fails
ATTEMPTS = 3
#: pages of a listing read at most (100 items each)
MAX_PAGES = 20


class GitHubError(CrosspostError):
    """GitHub refused a call, or could not be reached. The message names what to fix."""


class GitHub:
    """One repository's issues, labels and comments through the REST API."""

    def __init__(
        self, api_url: str, repository: str, token: str, timeout: float | None = None
    ) -> None:
        import requests

        self.api_url = api_url.rstrip("/")
        self.repository = repository
        self.timeout = timeout or float(os.environ.get("CROSSPOST_HTTP_TIMEOUT", "10"))
        self._origin = urlsplit(self.api_url)[:2]
        self._token = token
        self._session = requests.Session()
        self._session.headers.update(
            {
                "Accept": "application/vnd.github+json",
                "Authorization": f"Bearer {token}",
                "User-Agent": "crosspost-alert",
                "X-GitHub-Api-Version": "2022-11-28",
            }
        )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> GitHub:
        """GITHUB_API_URL (default api.github.com), GITHUB_REPOSITORY, GITHUB_TOKEN."""
        env = os.environ if env is None else env
        token = (env.get("GITHUB_TOKEN") or "").strip()
        repository = (env.get("GITHUB_REPOSITORY") or "").strip()
        missing = [
            n for n, v in (("GITHUB_TOKEN", token), ("GITHUB_REPOSITORY", repository)) if not v
        ]
        if missing:
            raise GitHubError(
                f"set {' and '.join(missing)} (in a workflow: "
                "`GITHUB_TOKEN: ${{ github.token }}` in the step's env; GITHUB_REPOSITORY is "
                "set by Actions, elsewhere write owner/name)"
            )
        if repository.count("/") != 1:
            raise GitHubError(f"GITHUB_REPOSITORY={repository!r}: write it as owner/name")
        return cls(env.get("GITHUB_API_URL") or DEFAULT_API_URL, repository, token)

    def close(self) -> None:
        """Release the connections."""
        self._session.close()

    # --- calls ------------------------------------------------------------------------------

    def request(self, method: str, path: str, *, json: Any = None, params=None, allow: tuple = ()):
        """One call (retried on 5xx and connection failures); the response.

        `path` is relative to the repository (`/issues`) or an absolute URL on the API host.
        Statuses in `allow` are returned instead of raised.
        """
        import requests

        url = path if "://" in path else f"{self.api_url}/repos/{self.repository}{path}"
        if urlsplit(url)[:2] != self._origin:
            raise GitHubError(f"refusing to send the token outside {self.api_url}")
        what = f"{method} {urlsplit(url).path}"
        base = float(os.environ.get("CROSSPOST_RETRY_BASE", "1"))
        for attempt in range(1, ATTEMPTS + 1):
            try:
                response = self._session.request(
                    method, url, json=json, params=params, timeout=self.timeout
                )
            except requests.RequestException as exc:
                if attempt < ATTEMPTS:
                    time.sleep(base * 2 ** (attempt - 1))
                    continue
                raise GitHubError(
                    f"{what}: could not reach GitHub at {self.api_url} ({type(exc).__name__}) "
                    f"after {ATTEMPTS} attempts"
                ) from None
            if response.status_code >= 500 and attempt < ATTEMPTS:
                log.info("%s: HTTP %d; retrying", what, response.status_code)
                time.sleep(base * 2 ** (attempt - 1))
                continue
            if response.status_code < 400 or response.status_code in allow:
                return response
            raise self._error(what, response)
        raise AssertionError("unreachable")

    def _error(self, what: str, response) -> GitHubError:
        status = response.status_code
        try:
            body = response.json()
        except ValueError:
            body = {}
        message = (
            str(body.get("message") or response.reason or "") if isinstance(body, dict) else ""
        )
        details = "; ".join(
            str(e.get("message") or e.get("code") or e)
            for e in (body.get("errors") or [] if isinstance(body, dict) else [])
            if isinstance(e, dict)
        )
        said = f"{what}: GitHub answered {status} {message}" + (f" ({details})" if details else "")
        if status == 401:
            return GitHubError(
                f"{said}. GITHUB_TOKEN is missing, expired or revoked: in a workflow pass "
                "`GITHUB_TOKEN: ${{ github.token }}`; elsewhere make a new token"
            )
        remaining = response.headers.get("x-ratelimit-remaining")
        if status == 429 or (status == 403 and remaining == "0"):
            return GitHubError(f"{said}. GitHub's rate limit: the next run tries again")
        if status == 403:
            return GitHubError(
                f"{said}. GITHUB_TOKEN may not write issues in {self.repository}: give the job "
                "`permissions: issues: write` (a fine-grained token: Issues read and write)"
            )
        if status == 404:
            return GitHubError(
                f"{said}. GITHUB_REPOSITORY={self.repository} does not exist, or GITHUB_TOKEN "
                f"cannot see it (is GITHUB_API_URL={self.api_url} right?)"
            )
        if status >= 500:
            return GitHubError(f"{said}, {ATTEMPTS} attempts; GitHub is having trouble")
        if status == 410:
            return GitHubError(
                f"{said}. Issues are turned off: enable them in {self.repository}'s settings"
            )
        return GitHubError(said)

    def paginate(self, path: str, params: dict) -> Iterator[dict]:
        """Every item of a listing, following `Link: <...>; rel="next"` (bounded)."""
        url, query = path, {"per_page": 100, **params}
        for _ in range(MAX_PAGES):
            response = self.request("GET", url, params=query)
            yield from response.json() or []
            url = response.links.get("next", {}).get("url")
            if not url:
                return
            query = None  # the next link carries the whole query
        raise GitHubError(f"GET {path}: more than {MAX_PAGES} pages")

    # --- issues and labels ------------------------------------------------------------------

    def ensure_label(self, name: str, color: str, description: str) -> None:
        """Create the label unless it exists (creating an issue with a missing label fails)."""
        if self.request("GET", f"/labels/{name}", allow=(404,)).status_code == 200:
            return
        response = self.request(
            "POST",
            "/labels",
            json={"name": name, "color": color, "description": description},
            allow=(422,),
        )
        if response.status_code == 422 and "already_exists" not in response.text:
            raise self._error("POST /labels", response)

    def open_issues(self, label: str) -> list[dict]:
        """Open issues (not pull requests) with the label, oldest first."""
        issues = self.paginate(
            "/issues", {"state": "open", "labels": label, "sort": "created", "direction": "asc"}
        )
        return sorted((i for i in issues if "pull_request" not in i), key=lambda i: i["number"])

    def create_issue(self, title: str, body: str, labels: list[str]) -> dict:
        """A new issue."""
        return self.request(
            "POST", "/issues", json={"title": title, "body": body, "labels": labels}
        ).json()

    def edit_issue(self, number: int, **fields: Any) -> dict:
        """Change an issue's body, title or state."""
        return self.request("PATCH", f"/issues/{number}", json=fields).json()

    def comment(self, number: int, body: str) -> dict:
        """Add a comment to an issue."""
        return self.request("POST", f"/issues/{number}/comments", json={"body": body}).json()
