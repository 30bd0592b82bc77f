"""X as it is in 2026: long posts for Premium accounts, replies that may be refused, and the bill.

Each test drives the real CLI (a subprocess, or in-process for validate) against the fake X.
"""

from __future__ import annotations

import pytest

from pipeline.platforms.x import PRICE_POST, PRICE_POST_WITH_URL, PRICES_AS_OF
from tests.publishing import ANNOUNCE_OPEN, wire

LATER = "2030-04-03T15:15:00Z"
KEY = "spring/first/announce/x-en"
#: about 1,000 weighted: over 280, far under 25,000
LONG = (
    "{{ event.title }}. "
    + "Neighbourhoods grow food and share land together. " * 20
    + ("Register: {{ vars.url }}")
)


def channels(repo, x, **keys) -> None:
    extra = "".join(f", {k}: {str(v).lower()}" for k, v in keys.items())
    repo.write(
        "channels.yaml",
        f"""\
        x-en: {{platform: x, language: en, api_base: "{x.base_url}"{extra}}}
        """,
    )
    campaign = (repo.root / "campaigns/spring.yaml").read_text()
    repo.write(
        "campaigns/spring.yaml", campaign.replace("[facebook-en, facebook-tr, x-en]", "[x-en]")
    )


@pytest.fixture
def thread(repo, fake_graph, fake_x):
    """The X announcement is a thread of several parts."""
    live = wire(repo, fake_graph, fake_x)
    channels(repo, fake_x, thread=True)
    repo.write("templates/announce/en.x.j2", LONG)
    return live


def test_long_posts_allow_one_post_up_to_25000_without_a_thread(repo, fake_x, cli):
    channels(repo, fake_x, long_posts=True)
    repo.write("templates/announce/en.x.j2", LONG)
    result = cli("preview", "--root", str(repo.root), "--format", "json", "--channel", "x-en")
    assert result.code == 0, result.output
    [post] = [p for p in result.json()["posts"] if p["moment"] == "announce"]
    assert len(post["parts"]) == 1 and 280 < post["length"] <= 25_000
    assert post["limit"] == 25_000

    repo.write("templates/announce/en.x.j2", "{{ event.title }} " + "word " * 5_100)
    result = cli("validate", "--root", str(repo.root))
    assert result.code == 1
    assert "over the x limit of 25000" in result.output


def test_without_long_posts_the_same_text_is_over_280(repo, fake_x, cli):
    channels(repo, fake_x)
    repo.write("templates/announce/en.x.j2", LONG)
    result = cli("validate", "--root", str(repo.root))
    assert result.code == 1
    assert "over the x limit of 280" in result.output and "thread: true" in result.output


def test_a_refused_reply_holds_the_thread_for_a_person_and_is_never_retried_blindly(thread):
    thread.x.replies_restricted = True
    result = thread.run("--now", ANNOUNCE_OPEN)

    assert result.code == 3
    [first] = thread.tweets()
    parts = int(first["text"].rsplit("/", 1)[-1])
    message = result.stdout
    assert f"part 2/{parts} was refused" in message
    assert "not been mentioned or otherwise engaged" in message, "what X said"
    assert f"1/{parts} https://x.com/i/web/status/{first['id']}" in message, "what is out"
    assert f"crosspost resolve {KEY} --not-sent" in message
    sent = len(thread.x.requests("publish"))

    # Later runs send nothing of it, not even a look: a person decides.
    again = thread.run("--now", LATER)
    assert again.code == 3 and "was refused" in again.stdout
    assert len(thread.x.requests("publish")) == sent
    assert len(thread.tweets()) == 1
    assert thread.states(LATER)[KEY] == "in-doubt"

    # The person gets replies allowed (or decides to try again): the thread goes on from part 2.
    thread.x.replies_restricted = False
    assert thread.cli("resolve", KEY, "--not-sent").code == 0
    done = thread.run("--now", LATER)
    assert done.code == 0, done.output
    tweets = thread.tweets()
    assert len(tweets) == parts and tweets[1]["reply_to"] == first["id"]
    assert thread.states(LATER)[KEY] == "published"


def test_the_run_and_the_plan_show_the_x_bill(thread):
    result = thread.cli("plan", "--now", ANNOUNCE_OPEN)
    assert result.code == 0, result.output
    # Announcement (a thread whose last part has the link) and the live post (with a link).
    preview = thread.cli("preview", "--format", "json", "--channel", "x-en").json()["posts"]
    parts = [p for post in preview for p in post["parts"]]
    with_url = sum("https://" in p for p in parts)
    dollars = with_url * PRICE_POST_WITH_URL + (len(parts) - with_url) * PRICE_POST
    assert f"x: {len(parts)} post(s)/part(s) in all, ${dollars:.2f}" in result.stdout
    assert f"prices of {PRICES_AS_OF}" in result.stdout

    summary = thread.repo.root / "summary.md"
    run = thread.run("--now", ANNOUNCE_OPEN, "--summary", str(summary))
    assert run.code == 0, run.output
    announce = [p for post in preview if post["moment"] == "announce" for p in post["parts"]]
    sent = sum(PRICE_POST_WITH_URL if "https://" in p else PRICE_POST for p in announce)
    bill = f"x: {len(announce)} post(s)/part(s) sent, ${sent:.2f}"
    assert bill in run.stdout
    assert f"Cost: {bill}" in summary.read_text(), "the job summary shows it too"

    still = thread.cli("plan", "--now", LATER)
    live_parts = len(parts) - len(announce)
    assert f"x: {live_parts} post(s)/part(s) still to send" in still.stdout
