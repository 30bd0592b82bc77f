"""`crosspost alert --github-issue`: one open issue labelled `crosspost` while anything needs a
person, against a fake GitHub REST API (and the fake platforms) on 127.0.0.1."""

from __future__ import annotations

import json

import pytest

from pipeline.alert import MARKER, render_body
from pipeline.doctor import NEEDS_PERSON, Finding
from tests.fakes.github import FakeGitHub
from tests.publishing import all_secrets, wire

TOKEN = "ghs_FAKEgithubTOKEN0x1234567890abcdefABCDEF"
DOUBT = "spring/first/announce/x-en"
FAILED = "spring/first/announce/facebook-tr"
MISSED = "spring/teaser/facebook-en"
T1 = "2030-04-03T16:00:00Z"  # after the announcements were due; the live posts are to come
T3 = "2030-04-09T12:00:00Z"  # more than 7 days after the teaser was missed


@pytest.fixture
def github():
    with FakeGitHub() as fake:
        fake.add_token(TOKEN)
        yield fake


@pytest.fixture
def live(repo, fake_graph, fake_x, github):
    live = wire(repo, fake_graph, fake_x)
    live.env.update(github.env(TOKEN))
    # A one-off teaser with a 1-hour window, missed on 2 April.
    text = (repo.root / "campaigns/spring.yaml").read_text()
    repo.write("campaigns/spring.yaml", text.replace("events:", (
        'posts:\n  - {id: teaser, at: "2030-04-02T10:00", template: teaser, expires: 1h}\n'
        "events:")))
    repo.write("templates/teaser/en.j2", "Soon: {{ vars.url }}")
    repo.write("templates/teaser/tr.j2", "Yakında: {{ vars.url }}")
    return live


def record(key: str, state: str, ts: str, **fields) -> str:
    return json.dumps({"ts": ts, "key": key, "state": state, "part": 0, "parts": 1,
                       "channel": key.rsplit("/", 1)[1], **fields}) + "\n"


def troubled_ledger(live) -> None:
    """An in-doubt, a failed and a missed post (and some that are fine).

    Records carry the real time of writing (`--now` only pretends), so these are dated in
    the real past: the runs and resolves of the tests come after them."""
    lines = [
        record(f"spring/teaser/{ch}", "missed", "2025-04-02T11:00:01Z",
               error="its window closed at 2030-04-02T10:00+00:00")
        for ch in ("facebook-en", "facebook-tr", "x-en")
    ]
    lines += [
        record("spring/first/announce/facebook-en", "sending", "2025-04-03T15:00:01Z"),
        record("spring/first/announce/facebook-en", "published", "2025-04-03T15:00:02Z",
               remote_id="1_2", url="https://www.facebook.com/1_2"),
        record(FAILED, "sending", "2025-04-03T15:00:03Z"),
        record(FAILED, "failed", "2025-04-03T15:00:04Z",
               error="temporary: Facebook answered HTTP 500 (retried 3x; retry in a later run)"),
        record(DOUBT, "sending", "2025-04-03T15:00:05Z"),
    ]
    live.repo.ledger.parent.mkdir(parents=True, exist_ok=True)
    live.repo.ledger.write_text("".join(lines))


def alert(live, now: str, *args: str, env=None):
    from tests.conftest import crosspost

    result = crosspost("alert", "--github-issue", *args, "--root", live.repo.root, "--now", now,
                       env={**live.env, **(env or {})})
    for secret in [TOKEN, *all_secrets()]:
        assert secret not in result.output
    return result


def no_secret_on_github(github) -> None:
    texts = [t for i in github.issues for t in (i.title, i.body, *i.comments)]
    for secret in [TOKEN, *all_secrets()]:
        assert not any(secret in t for t in texts), "a secret in the issue"


def test_the_whole_life_of_the_issue(live, github):
    # Nothing needs a person: no issue, no label, not a single write.
    nothing = alert(live, "2030-04-01T00:00:00Z")
    assert nothing.code == 0, nothing.output
    assert "nothing needs a person" in nothing.stdout
    assert github.issues == [] and github.writes() == []

    # An in-doubt, a failed and a missed post: exactly one issue, labelled, listing all three.
    troubled_ledger(live)
    opened = alert(live, T1)
    assert opened.code == 0, opened.output
    assert "opened" in opened.stdout
    [issue] = github.open_issues("crosspost")
    assert "crosspost" in github.labels
    assert issue.body.startswith(MARKER)
    for key in (DOUBT, FAILED, MISSED):
        assert key in issue.body
    assert f"crosspost resolve {DOUBT} --published URL" in issue.body
    assert f"crosspost resolve {DOUBT} --not-sent" in issue.body
    assert "HTTP 500" in issue.body

    # Nothing changed: the issue is left alone.
    writes = len(github.writes())
    unchanged = alert(live, T1)
    assert unchanged.code == 0 and "unchanged" in unchanged.stdout
    assert len(github.writes()) == writes

    # A person settles the post in doubt: the list changes, the body is updated.
    resolved = live.cli("resolve", DOUBT, "--published", "https://x.com/i/web/status/1")
    assert resolved.code == 0, resolved.output
    updated = alert(live, T1)
    assert "updated" in updated.stdout
    [issue] = github.open_issues("crosspost")
    assert DOUBT not in issue.body and FAILED in issue.body
    assert len(github.issues) == 1

    # A clean run publishes the failed post; a week later the missed one is old news: closed.
    run = live.run("--now", "2030-04-03T16:05:00Z")
    assert run.code == 0, run.output
    closed = alert(live, T3)
    assert closed.code == 0 and "closed" in closed.stdout
    assert github.open_issues() == []
    assert "All clear" in github.issues[0].comments[-1]
    assert github.issues[0].state_reason == "completed"

    # And stays closed.
    writes = len(github.writes())
    assert "nothing" in alert(live, T3).stdout
    assert len(github.writes()) == writes
    no_secret_on_github(github)


def test_a_new_trouble_after_closing_opens_a_new_issue(live, github):
    troubled_ledger(live)
    alert(live, T1)
    github.issues[0].state = "closed"  # closed by hand although not settled

    again = alert(live, T1)

    assert "opened" in again.stdout
    assert len(github.open_issues("crosspost")) == 1 and len(github.issues) == 2


def test_never_a_second_open_issue_and_listings_are_followed_page_by_page(live, github):
    github.labels["crosspost"] = {"name": "crosspost"}
    first = github.add_issue("old crosspost issue", "old list", ["crosspost"])
    github.add_issue("unrelated", "", ["bug"])
    github.add_issue("a PR with the label", "", ["crosspost"], pull_request=True)
    github.add_issue("made by hand", "", ["crosspost"])
    github.add_issue("and another", "", ["crosspost"])
    github.default_per_page = 2  # and the client asks for 100: capped below
    github.max_per_page = 2
    troubled_ledger(live)

    result = alert(live, T1)

    assert result.code == 0, result.output
    assert [i.number for i in github.open_issues("crosspost")] == [first.number]
    assert FAILED in first.body
    closed = [i for i in github.issues if i.state == "closed"]
    assert len(closed) == 2
    assert all(f"#{first.number}" in i.comments[-1] for i in closed)
    assert not github.issues[2].comments, "pull requests are not touched"
    listings = [r for r in github.requests("lookup") if r.path.endswith("/issues")]
    assert len(listings) >= 2, "the Link header was followed"


def test_credentials_failed_in_runs_are_listed_per_channel(live, github):
    live.graph.invalidate("104123456789", 463)
    run = live.run("--now", "2030-04-03T15:05:00Z")
    assert run.code == 3

    result = alert(live, "2030-04-03T15:10:00Z")

    [issue] = github.open_issues("crosspost")
    assert "Channels whose credentials failed (1)" in issue.body
    assert "**facebook-en**" in issue.body and "FACEBOOK_EN_PAGE_TOKEN" in issue.body
    assert result.code == 0


def test_check_credentials_adds_what_the_platforms_say_today(live, github):
    live.x.revoke()
    assert "nothing" in alert(live, "2030-04-01T00:00:00Z").stdout

    result = alert(live, "2030-04-01T00:00:00Z", "--check-credentials")

    assert result.code == 0, result.output
    [issue] = github.open_issues("crosspost")
    assert "**x-en**" in issue.body and "X_EN_ACCESS_TOKEN" in issue.body
    assert "facebook-en" not in issue.body, "healthy channels are not listed"
    no_secret_on_github(github)


def test_the_daily_check_stays_listed_until_the_next_check_says_it_is_fixed(live, github):
    live.x.revoke()
    alert(live, "2030-04-01T00:00:00Z", "--check-credentials")

    # The publish runs' alerts (every few minutes) do not check credentials: they keep it.
    kept = alert(live, "2030-04-01T00:10:00Z")
    assert "unchanged" in kept.stdout
    assert "**x-en**" in github.open_issues("crosspost")[0].body

    # A check that cannot reach X does not clear it either.
    live.x.fail_next("500", count=None, on="any")
    unsure = alert(live, "2030-04-01T12:00:00Z", "--check-credentials")
    assert "unchanged" in unsure.stdout, unsure.output
    live.x.clear_faults()

    # Fixed (new tokens): the next daily check clears it, and the issue closes.
    live.x.revoked.clear()
    cleared = alert(live, "2030-04-02T00:00:00Z", "--check-credentials")
    assert "closed" in cleared.stdout, cleared.output
    assert github.open_issues() == []


def test_invalid_campaigns_are_listed(live, github):
    live.repo.write("templates/live/en.j2", "{{ nope }}")

    alert(live, "2030-04-01T00:00:00Z")

    [issue] = github.open_issues("crosspost")
    assert "do not validate" in issue.body and "nope" in issue.body


@pytest.mark.parametrize(
    ("setup", "words"),
    [
        (lambda g, env: env.update(GITHUB_TOKEN="ghs_unknownTOKEN000"), ["401", "GITHUB_TOKEN"]),
        (lambda g, env: g.add_token(TOKEN, write=False), ["403", "issues: write"]),
        (lambda g, env: env.update(GITHUB_REPOSITORY="solidarity/other"),
         ["404", "GITHUB_REPOSITORY=solidarity/other"]),
        (lambda g, env: env.update(GITHUB_TOKEN=""), ["GITHUB_TOKEN"]),
        (lambda g, env: g.fail_next("500", count=None, on="any"), ["502", "3 attempts"]),
    ],
)
def test_github_refusals_say_what_to_fix(live, github, setup, words):
    troubled_ledger(live)
    env = {}
    setup(github, env)

    result = alert(live, T1, env=env)

    assert result.code == 1
    assert "Traceback" not in result.output
    for word in words:
        assert word in result.stderr, result.stderr
    assert github.open_issues() == []


def test_server_errors_are_retried(live, github):
    troubled_ledger(live)
    github.fail_next("500", count=2, on="any")

    result = alert(live, T1)

    assert result.code == 0, result.output
    assert len(github.open_issues("crosspost")) == 1


def test_a_label_created_meanwhile_is_fine(live, github):
    troubled_ledger(live)
    # The label lookup says 404, but by the time we create it someone else has (422).
    github.labels["crosspost"] = {"name": "crosspost"}
    github.fail_next("error", on="lookup", path="/labels/", status=404, message="Not Found")

    result = alert(live, T1)

    assert result.code == 0, result.output
    assert len(github.open_issues("crosspost")) == 1


def test_alert_needs_a_destination(cli, repo):
    result = cli("alert", "--root", repo.root)
    assert result.code == 2 and "--github-issue" in result.output


def test_a_long_list_is_summarised_under_githubs_limit():
    items = [
        Finding("ledger", NEEDS_PERSON, f"spring/event-{i}/announce/x-en",
                "in doubt: " + "x" * 300, {"resolve": "..."})
        for i in range(2000)
    ] + [Finding("ledger", NEEDS_PERSON, f"spring/e{i}/live/x-en", "failed: no") for i in range(50)]

    body = render_body(items, [])

    assert len(body) <= 65_536
    assert "Posts in doubt (2000)" in body and "Failed posts (50)" in body
    assert "more (`crosspost doctor` lists all)" in body
    assert render_body(items, []) == body, "the same list gives the same body"


def test_a_copy_waiting_for_a_removed_channel_is_listed(live, github):
    # A ledger that handed a copy to a Page whose channel (facebook-fr) has since been removed.
    key = "spring/first/announce/facebook-fr"
    live.repo.ledger.parent.mkdir(parents=True, exist_ok=True)
    live.repo.ledger.write_text(
        record(key, "scheduling", "2025-03-14T15:00:01Z", op="hand", at="2030-04-03T15:00:00Z")
        + record(key, "scheduled", "2025-03-14T15:00:02Z", remote_id="1003_77",
                 at="2030-04-03T15:00:00Z", ids=["1003_77"], fp={})
    )

    result = alert(live, "2030-04-01T00:00:00Z")

    assert result.code == 0, result.output
    [issue] = github.open_issues("crosspost")
    assert "removed from channels.yaml" in issue.body
    [line] = [x for x in issue.body.splitlines() if key in x]
    assert "1003_77" in line and "2030-04-03T15:00" in line
    assert "channel facebook-fr is no longer in channels.yaml" in line
