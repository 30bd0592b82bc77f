"""Exactly once under crashes, races and interrupted threads; secrets never leak.

Each test drives the real CLI in subprocesses against the fake platforms.
"""

from __future__ import annotations

import json
import signal
import time

import pytest

from tests.fakes.accounts import PAGE_EN, PAGE_TR
from tests.publishing import ANNOUNCE_OPEN, all_secrets, wire

LATER = "2030-04-03T15:15:00Z"
LONG = ("Seeds of change is a conversation about how neighbourhoods grow their own food, "
        "share land and money, and decide together what to do with both. {{ event.title }}.\n\n"
        "Our guests come from three continents and bring stories of co-operatives, land trusts "
        "and community kitchens that outlived the crises that created them.\n\n"
        "We will ask what it takes to start, how to keep going when money is short, and how "
        "to make decisions together without burning out, with time for your questions.\n\n"
        "Join us on {{ event.starts | date }} at {{ event | timerange }}. "
        "Register: {{ vars.url }}")


@pytest.fixture
def live(repo, fake_graph, fake_x):
    return wire(repo, fake_graph, fake_x)


@pytest.fixture
def thread(live):
    """The X announcement is a three-part thread."""
    live.repo.write("templates/announce/en.x.j2", LONG)
    result = live.cli("preview", "--format", "json", "--channel", "x-en", "--event", "first")
    [post] = [p for p in result.json()["posts"] if p["moment"] == "announce"]
    assert len(post["parts"]) == 3, [len(p) for p in post["parts"]]
    return live


def last_record(repo, key: str) -> dict:
    return [r for r in repo.ledger_records() if r["key"] == key][-1]


def test_killed_while_the_platform_holds_the_request_then_resolved_without_duplicate(live):
    live.graph.fail_next("hold", path=f"/{PAGE_EN}/")
    proc = live.start("--now", ANNOUNCE_OPEN)
    assert live.graph.held.wait(30), "the request reached the platform"

    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    live.graph.release()

    key = "spring/first/announce/facebook-en"
    assert last_record(live.repo, key)["state"] == "sending"
    assert live.states(ANNOUNCE_OPEN)[key] == "in-doubt"
    assert len(live.facebook(PAGE_EN)) == 1, "the platform accepted it before the kill"

    result = live.run("--now", LATER)

    assert result.code == 0, result.output
    assert len(live.facebook(PAGE_EN)) == 1
    assert live.states(LATER)[key] == "published"


def test_two_runs_started_together_publish_each_post_once(live):
    live.graph.latency = live.x.latency = 0.2
    first, second = live.start("--now", ANNOUNCE_OPEN), live.start("--now", ANNOUNCE_OPEN)
    outputs = [p.communicate(timeout=60) for p in (first, second)]
    codes = {first.returncode, second.returncode}

    assert len(live.facebook(PAGE_EN)) == 1
    assert len(live.facebook(PAGE_TR)) == 1
    assert len(live.tweets()) == 1
    assert 0 in codes
    for proc, (_, err) in zip((first, second), outputs, strict=True):
        if proc.returncode:
            assert "another crosspost run is using" in err


def test_a_thread_interrupted_after_part_one_resumes_without_resending_it(thread):
    thread.x.fail_next("hold")
    proc = thread.start("--now", ANNOUNCE_OPEN)
    assert thread.x.held.wait(30)
    thread.x.fail_next("500", count=None)  # every later call fails...
    thread.x.release()  # ...but part 1 is answered normally
    proc.communicate(timeout=60)
    assert proc.returncode == 3
    assert len(thread.tweets()) == 1

    thread.x.clear_faults()
    result = thread.run("--now", LATER)

    assert result.code == 0, result.output
    tweets = thread.tweets()
    assert len(tweets) == 3
    assert tweets[1]["reply_to"] == tweets[0]["id"]
    assert tweets[2]["reply_to"] == tweets[1]["id"]
    assert [t["text"].endswith(f"{i}/3") for i, t in enumerate(tweets, 1)] == [True] * 3


def test_a_thread_part_in_doubt_without_timeline_access_is_left_for_a_person(thread):
    thread.x.lookups_forbidden = True
    thread.x.fail_next("hold")
    proc = thread.start("--now", ANNOUNCE_OPEN)
    assert thread.x.held.wait(30)
    thread.x.fail_next("drop_after_accept")  # part 2 goes out, its answer is lost
    thread.x.release()
    proc.communicate(timeout=60)

    result = thread.run("--now", LATER)

    assert result.code == 3
    assert "check whether part 2/3" in result.stdout
    assert len(thread.tweets()) == 2, "nothing re-sent blindly"
    assert thread.states(LATER)["spring/first/announce/x-en"] == "in-doubt"

    # A person looks at the account, finds part 2 and says where it is; the thread goes on.
    part_two = thread.tweets()[1]
    url = f"https://x.com/gamechangers_en/status/{part_two['id']}"
    settled = thread.cli("resolve", "spring/first/announce/x-en", "--published", url)
    assert settled.code == 0, settled.output

    assert thread.run("--now", "2030-04-03T15:25:00Z").code == 0
    tweets = thread.tweets()
    assert len(tweets) == 3 and tweets[2]["reply_to"] == part_two["id"]
    assert thread.states(LATER)["spring/first/announce/x-en"] == "published"


def test_resolving_a_post_that_is_not_in_doubt_is_refused(live):
    assert live.run("--now", ANNOUNCE_OPEN).code == 0

    result = live.cli("resolve", "spring/first/announce/x-en", "--not-sent")

    assert result.code == 1
    assert "only posts in doubt are resolved by hand" in result.stderr


def test_no_secret_appears_in_output_logs_or_ledger_even_on_errors(live, fake_graph):
    live.graph.fail_next("expired", path=f"/{PAGE_EN}/")
    live.x.fail_next("drop_after_accept")
    # A channel pointed at a closed port: facebook-sdk's connection error carries the URL.
    live.repo.write("channels.yaml", (live.repo.root / "channels.yaml").read_text().replace(
        f'page_id: "{PAGE_TR}",\n               api_base: "{fake_graph.base_url}"',
        f'page_id: "{PAGE_TR}",\n               api_base: "http://127.0.0.1:9"'))
    outputs = []
    for args in (["-v", "--now", ANNOUNCE_OPEN], ["-v", "--now", LATER],
                 ["--dry-run", "-v", "--now", LATER]):
        result = live.run(*args, env={"CROSSPOST_LOG_LEVEL": "DEBUG"})
        outputs.append(result.output)
    outputs.append(live.repo.ledger.read_text())
    status = live.cli("status", "--json", "-v", "--now", LATER)
    outputs.append(status.output)
    text = "\n".join(outputs)

    assert "could not connect" in text and "DEBUG" in text  # the errors really happened
    for secret in all_secrets():
        for start in range(0, len(secret) - 8, 4):
            assert secret[start:start + 8] not in text, "a piece of a secret leaked"


def test_daemon_stops_on_sigterm_after_finishing_the_post_in_flight(live):
    from tests.conftest import spawn

    live.graph.fail_next("hold", path=f"/{PAGE_EN}/")
    proc = spawn("daemon", "--every", "1s", "--root", live.repo.root, "--now", ANNOUNCE_OPEN,
                 env=live.env)
    assert live.graph.held.wait(30)

    proc.send_signal(signal.SIGTERM)
    time.sleep(0.5)
    live.graph.release()
    _, err = proc.communicate(timeout=30)

    assert proc.returncode == 0, err
    key = "spring/first/announce/facebook-en"
    assert last_record(live.repo, key)["state"] == "published", "the post in flight is recorded"
    assert "stopped" in err
    assert len(live.facebook(PAGE_EN)) == 1


def test_a_torn_last_ledger_line_is_ignored_with_a_warning_and_hides_nothing(live):
    assert live.run("--now", ANNOUNCE_OPEN).code == 0
    with live.repo.ledger.open("a") as f:
        f.write('{"ts": "2030-04-03T15:06:00Z", "key": "spring/first/announce/x-en", "sta')

    result = live.run("--now", LATER)

    assert result.code == 0
    assert "ignoring a line" in result.stderr
    assert len(live.tweets()) == 1
    lines = live.repo.ledger.read_text().splitlines()
    assert all(json.loads(line) for line in lines[:-1] if '"sta' not in line[-5:])
