"""Warnings: located `path:line:col: warning: message` lines that never change an exit code.

Short windows on channels without native scheduling (GitHub starts scheduled runs hours late)
and threads on X (since 2026 X may refuse a reply with 403).
"""

from __future__ import annotations

import re

import pytest

WARNING = re.compile(r"^(?P<path>[^:\s]+):(?P<line>\d+):(?P<col>\d+): warning: (?P<message>.+)$")


def warnings(text: str) -> list[tuple[str, int, str]]:
    """(path, line, message) of every warning line in `text`."""
    out = []
    for line in text.splitlines():
        m = WARNING.match(line)
        if m:
            out.append((m["path"], int(m["line"]), m["message"]))
    return out


def line_of(repo, path: str, fragment: str) -> int:
    lines = (repo.root / path).read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if fragment in line)


def test_a_30_minute_window_on_x_gets_a_located_warning_and_exit_0(cli, repo):
    result = cli("validate", "--root", repo.root)

    assert result.code == 0, result.output
    found = [w for w in warnings(result.stdout) if w[0] == "campaigns/spring.yaml"]
    assert len(found) == 1, result.stdout
    path, line, message = found[0]
    assert line == line_of(repo, path, "{id: live")
    assert "'live'" in message and "30m" in message and "x-en" in message
    assert "`expires`" in message and "from outside" in message, "the two remedies"
    # Facebook schedules natively by default: its posts are handed over days ahead.
    assert "facebook" not in message


def test_no_window_warning_on_a_natively_scheduled_facebook_channel(cli, repo):
    text = (repo.root / "campaigns/spring.yaml").read_text()
    repo.write("campaigns/spring.yaml", text.replace(
        "channels: [facebook-en, facebook-tr, x-en]", "channels: [facebook-en, facebook-tr]"))

    result = cli("validate", "--root", repo.root)

    assert result.code == 0, result.output
    assert [w for w in warnings(result.output) if w[0].startswith("campaigns/")] == []


def test_facebook_without_native_scheduling_is_warned_about_too(cli, repo):
    repo.write("channels.yaml", """\
        facebook-en: {platform: facebook, language: en, page_id: "1001", native_scheduling: false}
        facebook-tr: {platform: facebook, language: tr, page_id: "1002"}
        x-en: {platform: x, language: en}
        """)
    result = cli("validate", "--root", repo.root)

    [(_, _, message)] = [w for w in warnings(result.stdout) if w[0] == "campaigns/spring.yaml"]
    assert "facebook-en, x-en" in message and "facebook-tr" not in message


def test_the_threshold_comes_from_the_environment(cli, repo):
    quiet = cli("validate", "--root", repo.root, env={"CROSSPOST_WINDOW_WARNING": "30m"})
    assert not [w for w in warnings(quiet.stdout) if w[0].startswith("campaigns/")]

    # With a threshold above a week, the announcement (7 days until the live post) is short too.
    loud = cli("validate", "--root", repo.root, env={"CROSSPOST_WINDOW_WARNING": "8d"})
    found = [w for w in warnings(loud.stdout) if w[0].startswith("campaigns/")]
    assert [line for _, line, _ in found] == [
        line_of(repo, "campaigns/spring.yaml", "{id: announce"),
        line_of(repo, "campaigns/spring.yaml", "{id: live"),
    ]
    assert loud.code == 0

    bad = cli("validate", "--root", repo.root, env={"CROSSPOST_WINDOW_WARNING": "soon"})
    assert bad.code == 2 and "CROSSPOST_WINDOW_WARNING" in bad.output


def test_a_one_off_post_is_warned_about_at_its_own_line(cli, repo):
    repo.write("templates/launch/en.j2", "We launch!")
    repo.write("templates/launch/tr.j2", "Başlıyoruz!")
    text = (repo.root / "campaigns/spring.yaml").read_text()
    repo.write("campaigns/spring.yaml", text.replace(
        "events:",
        'posts:\n  - {id: launch, at: "2030-03-01T10:00", template: launch, expires: 1h}\n'
        "events:"))

    result = cli("validate", "--root", repo.root)

    assert result.code == 0, result.output
    lines = {line: message for path, line, message in warnings(result.stdout)
             if path == "campaigns/spring.yaml"}
    launch = line_of(repo, "campaigns/spring.yaml", "{id: launch")
    assert "post 'launch' has a window of 1h on x-en (1 post)" in lines[launch]


@pytest.mark.parametrize("command", [["preview"], ["plan"], ["plan", "--format", "json"]])
def test_preview_and_plan_print_the_warnings_and_keep_exit_0(cli, repo, command):
    result = cli(*command, "--root", repo.root, "--now", "2030-04-01T00:00Z")

    assert result.code == 0, result.output
    assert any(w[0] == "campaigns/spring.yaml" for w in warnings(result.stderr)), result.stderr
    if "json" in command:
        result.json()  # stdout stays pure JSON


def test_warnings_do_not_hide_or_replace_problems(cli, repo):
    repo.write("templates/live/en.j2", "Starting in 15 minutes: {{ event.nope }}")

    result = cli("validate", "--root", repo.root)

    assert result.code == 1
    assert "warning:" in result.stdout and "nope" in result.stdout


def test_each_x_channel_with_thread_true_is_warned_once_about_replies(cli, repo):
    repo.write("channels.yaml", """\
        facebook-en: {platform: facebook, language: en, page_id: "1001"}
        facebook-tr: {platform: facebook, language: tr, page_id: "1002"}
        x-en: {platform: x, language: en, thread: true}
        x-two: {platform: x, language: en, thread: false}
        """)
    result = cli("validate", "--root", repo.root)

    found = [w for w in warnings(result.stdout) if w[0] == "channels.yaml"]
    assert len(found) == 1, result.stdout
    _, line, message = found[0]
    assert line == line_of(repo, "channels.yaml", "x-en:")
    assert "403" in message and "2026" in message and "x-en" in message
