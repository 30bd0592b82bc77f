"""A fake GitHub REST API (issues, labels, comments of one repository) on loopback.

Shaped like api.github.com: `Bearer`/`token` authentication ("Bad credentials" 401 otherwise),
404 "Not Found" for a repository the token cannot see, 403 "Resource not accessible by
integration" for a token without `issues: write`, 422 "Validation Failed" with an `errors`
list (an existing label, a body over 65,536 characters, a label that does not exist), listings
paginated by `per_page` (default 30, at most 100) and `page` with an RFC 8288 `Link` header of
absolute URLs (`rel="next"`, `rel="last"`), issue listings newest first unless `direction=asc`,
pull requests included in issue listings (with a `pull_request` key), like the real API.

Choice where the real API differs or is unknown: creating an issue with a label that does not
exist is refused (422) here; GitHub may create the label for users with push access, but
`gh issue create` fails (PLATFORMS.md), so a client must create the label first either way.
Faults come from `FakeServer`: writes are category "publish", reads "lookup".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlencode

from tests.fakes.server import FakeServer, Fault, Request, Response

DOCS = "https://docs.github.com/rest"
MAX_BODY = 65_536


@dataclass
class Issue:
    number: int
    title: str
    body: str
    labels: list[str]
    user: str
    state: str = "open"
    state_reason: str | None = None
    comments: list[str] = field(default_factory=list)
    pull_request: bool = False


class FakeGitHub(FakeServer):
    """Issues of `repository`; `tokens` maps token -> True if it may write issues."""

    def __init__(self, repository: str = "solidarity/campaigns", port: int = 0):
        super().__init__(port)
        self.repository = repository
        self.tokens: dict[str, bool] = {}
        self.labels: dict[str, dict] = {}
        self.issues: list[Issue] = []
        self.default_per_page = 30
        #: GitHub's cap on `per_page`; tests lower it to see pagination with a few issues
        self.max_per_page = 100

    # ---- configuration and inspection ------------------------------------------------------
    def add_token(self, token: str, write: bool = True) -> str:
        self.tokens[token] = write
        return token

    def add_issue(self, title: str, body: str = "", labels=(), *, pull_request=False) -> Issue:
        """An issue (or pull request) made elsewhere, e.g. by a person."""
        with self.state_lock:
            issue = Issue(len(self.issues) + 1, title, body, list(labels), "someone",
                          pull_request=pull_request)
            self.issues.append(issue)
            return issue

    def open_issues(self, label: str | None = None) -> list[Issue]:
        with self.state_lock:
            return [i for i in self.issues if i.state == "open" and not i.pull_request
                    and (label is None or label in i.labels)]

    def env(self, token: str) -> dict[str, str]:
        return {"GITHUB_API_URL": self.base_url, "GITHUB_REPOSITORY": self.repository,
                "GITHUB_TOKEN": token}

    def writes(self) -> list[Request]:
        return [r for r in self.requests() if r.method != "GET"]

    # ---- FakeServer ------------------------------------------------------------------------
    def category(self, req: Request) -> str:
        return "lookup" if req.method == "GET" else "publish"

    def fault_response(self, fault: Fault, req: Request) -> Response:
        opts = fault.options
        if fault.kind == "500":
            status = opts.get("status", 502)
            return self.error(status, "Server Error" if status == 500 else "Bad Gateway")
        if fault.kind == "429":
            return self.error(403, "API rate limit exceeded for installation ID 1.",
                              headers={"x-ratelimit-remaining": "0",
                                       "x-ratelimit-reset": "2000000000"})
        if fault.kind == "expired":
            return self.error(401, "Bad credentials")
        return self.error(opts.get("status", 400), opts.get("message", "Problems parsing JSON"))

    def error(self, status: int, message: str, errors=None, headers=None) -> Response:
        body = {"message": message, "documentation_url": DOCS, "status": str(status)}
        if errors:
            body["errors"] = errors
        return Response(status, body, headers or {},
                        content_type="application/json; charset=utf-8")

    def ok(self, status: int, body, headers=None) -> Response:
        return Response(status, body, {"x-ratelimit-remaining": "4999", **(headers or {})},
                        content_type="application/json; charset=utf-8")

    # ---- routes ----------------------------------------------------------------------------
    def route(self, req: Request) -> Response:
        header = req.headers.get("authorization", "")
        token = re.sub(r"^(Bearer|token) ", "", header) if header else ""
        if token not in self.tokens:
            return self.error(401, "Bad credentials")
        match = re.fullmatch(r"/repos/([^/]+/[^/]+)(/.*)", req.path)
        if not match or match.group(1) != self.repository:
            return self.error(404, "Not Found")
        path, method = match.group(2), req.method
        if method != "GET" and not self.tokens[token]:
            return self.error(403, "Resource not accessible by integration")
        if path == "/labels" and method == "POST":
            return self._create_label(req)
        if (m := re.fullmatch(r"/labels/([^/]+)", path)) and method == "GET":
            label = self.labels.get(m.group(1))
            return self.ok(200, label) if label else self.error(404, "Not Found")
        if path == "/issues" and method == "GET":
            return self._list(req)
        if path == "/issues" and method == "POST":
            return self._create_issue(req)
        if (m := re.fullmatch(r"/issues/(\d+)", path)) and method == "PATCH":
            return self._edit(req, int(m.group(1)))
        if (m := re.fullmatch(r"/issues/(\d+)/comments", path)) and method == "POST":
            return self._comment(req, int(m.group(1)))
        return self.error(404, "Not Found")

    def _issue(self, number: int) -> Issue | None:
        return next((i for i in self.issues if i.number == number), None)

    def _as_json(self, issue: Issue) -> dict:
        url = f"https://github.com/{self.repository}/issues/{issue.number}"
        data = {
            "id": 9000 + issue.number, "number": issue.number, "title": issue.title,
            "body": issue.body, "state": issue.state, "state_reason": issue.state_reason,
            "labels": [self.labels.get(n, {"name": n}) for n in issue.labels],
            "user": {"login": issue.user}, "comments": len(issue.comments),
            "html_url": url, "url": f"{self.base_url}/repos/{self.repository}/issues/"
                                    f"{issue.number}",
        }
        if issue.pull_request:
            data["pull_request"] = {"url": url.replace("issues", "pulls")}
        return data

    def _too_long(self, body: str | None, resource: str) -> Response | None:
        if body is not None and len(body) > MAX_BODY:
            return self.error(422, "Validation Failed", [{
                "resource": resource, "code": "custom", "field": "body",
                "message": f"body is too long (maximum is {MAX_BODY} characters)"}])
        return None

    def _create_label(self, req: Request) -> Response:
        data = req.json or {}
        name = data.get("name")
        if not name:
            return self.error(422, "Validation Failed",
                              [{"resource": "Label", "code": "missing_field", "field": "name"}])
        if name in self.labels:
            return self.error(422, "Validation Failed",
                              [{"resource": "Label", "code": "already_exists", "field": "name"}])
        self.labels[name] = {"name": name, "color": data.get("color", "ededed"),
                             "description": data.get("description")}
        return self.ok(201, self.labels[name])

    def _create_issue(self, req: Request) -> Response:
        data = req.json or {}
        if not data.get("title"):
            return self.error(422, "Validation Failed",
                              [{"resource": "Issue", "code": "missing_field", "field": "title"}])
        if bad := self._too_long(data.get("body"), "Issue"):
            return bad
        labels = list(data.get("labels") or [])
        if missing := [n for n in labels if n not in self.labels]:
            return self.error(422, "Validation Failed", [{
                "resource": "Label", "code": "invalid", "field": "labels",
                "message": f"label {missing[0]!r} does not exist"}])
        issue = Issue(len(self.issues) + 1, data["title"], data.get("body") or "", labels,
                      "github-actions[bot]")
        self.issues.append(issue)
        return self.ok(201, self._as_json(issue))

    def _edit(self, req: Request, number: int) -> Response:
        issue, data = self._issue(number), req.json or {}
        if issue is None:
            return self.error(404, "Not Found")
        if bad := self._too_long(data.get("body"), "Issue"):
            return bad
        if "body" in data:
            issue.body = data["body"]
        if "title" in data:
            issue.title = data["title"]
        if data.get("state") in ("open", "closed"):
            issue.state, issue.state_reason = data["state"], data.get("state_reason")
        return self.ok(200, self._as_json(issue))

    def _comment(self, req: Request, number: int) -> Response:
        issue, body = self._issue(number), (req.json or {}).get("body")
        if issue is None:
            return self.error(404, "Not Found")
        if not body:
            return self.error(422, "Validation Failed",
                              [{"resource": "IssueComment", "code": "missing_field",
                                "field": "body"}])
        if bad := self._too_long(body, "IssueComment"):
            return bad
        issue.comments.append(body)
        return self.ok(201, {"id": 7000 + len(issue.comments), "body": body})

    def _list(self, req: Request) -> Response:
        state = req.arg("state") or "open"
        wanted = [n for n in (req.arg("labels") or "").split(",") if n]
        issues = [i for i in self.issues if (state == "all" or i.state == state)
                  and all(n in i.labels for n in wanted)]
        issues.sort(key=lambda i: i.number, reverse=(req.arg("direction") or "desc") == "desc")
        per_page = min(int(req.arg("per_page") or self.default_per_page), self.max_per_page)
        page = int(req.arg("page") or 1)
        chunk = issues[(page - 1) * per_page: page * per_page]
        last = max(1, -(-len(issues) // per_page))
        headers = {}
        if page < last:
            query = {k: v[-1] for k, v in req.query.items()}
            links = []
            for rel, n in (("next", page + 1), ("last", last)):
                url = f"{self.base_url}{req.path}?{urlencode({**query, 'page': n})}"
                links.append(f'<{url}>; rel="{rel}"')
            headers["Link"] = ", ".join(links)
        return self.ok(200, [self._as_json(i) for i in chunk], headers)
