"""The Telegram adapter against the fake Bot API: errors, plain text, replies, rights, the token."""

from __future__ import annotations

import json
import logging
import time

import pytest

from pipeline.errors import (
    FatalChannelError,
    NotSent,
    OutcomeUnknown,
    RateLimited,
    RejectedPost,
    TemporaryError,
)
from pipeline.platforms.base import OutgoingPost, redact
from pipeline.platforms.telegram import TelegramChannel
from tests.conftest import PNG
from tests.fakes.accounts import TELEGRAM_BOT, TELEGRAM_CHAT
from tests.fakes.telegram import Chat
from tests.platforms import targets
from tests.platforms.targets import assert_no_secret, closed_port_url

VARIABLE = "TELEGRAM_KU_BOT_TOKEN"


@pytest.fixture
def target(fake_telegram):
    return targets.telegram(fake_telegram)


@pytest.mark.parametrize(
    ("kind", "options", "error", "words"),
    [
        ("expired", {}, FatalChannelError, [VARIABLE, "BotFather", "401"]),
        (
            "error",
            {"status": 403, "message": "Forbidden: bot was kicked from the channel chat"},
            FatalChannelError,
            ["administrator", TELEGRAM_CHAT],
        ),
        (
            "error",
            {"status": 400, "message": "Bad Request: chat not found"},
            FatalChannelError,
            ["chat not found"],
        ),
        (
            "error",
            {"status": 400, "message": "Bad Request: message is too long"},
            RejectedPost,
            ["too long"],
        ),
        ("429", {"reset_in": 7}, RateLimited, ["retry after 7"]),
        # Any answer but a clear refusal may come after the message went out: a person decides.
        ("500", {}, OutcomeUnknown, ["500", "may be online"]),
        ("500", {"html": True}, OutcomeUnknown, ["502"]),
        ("garbled", {"body": "<html>OK</html>"}, OutcomeUnknown, ["unreadable"]),
        ("drop_after_accept", {}, OutcomeUnknown, ["may be online"]),
    ],
)
def test_errors_are_typed_by_what_to_do(target, kind, options, error, words):
    target.fake.fail_next(kind, **options)
    started = time.time()
    with pytest.raises(error) as caught:
        target.adapter().publish(OutgoingPost("k", "Silav"))
    assert type(caught.value) is error
    for word in words:
        assert word in caught.value.message
    if error is RateLimited:
        assert started + 6 <= caught.value.reset_at.timestamp() <= time.time() + 8
    assert_no_secret(caught.value, target)


def test_only_a_refused_connection_is_safe_to_send_again(target):
    with pytest.raises(TemporaryError) as caught:
        target.adapter(api_base=closed_port_url()).publish(OutgoingPost("k", "Silav"))
    assert type(caught.value) is NotSent  # the one temporary error that provably never left
    assert_no_secret(caught.value, target)


def test_text_is_sent_plain_and_arrives_unchanged(target):
    text = "Li ser *aborî*: <b>ne</b> _markup_ & [link](https://example.org) `code`"
    target.adapter().publish(OutgoingPost("k", text))
    [message] = target.posts()
    assert message["text"] == text
    [request] = target.fake.requests("publish")
    assert "parse_mode" not in request.form


def test_thread_parts_reply_and_show_one_link_preview(target):
    adapter = target.adapter()
    first = adapter.publish(OutgoingPost("k", "1/2 https://example.org"))
    adapter.publish(
        OutgoingPost("k", "2/2 https://example.org/b", reply_to=first.remote_id, part=1)
    )
    one, two = target.posts()
    assert two["reply_to"] == first.remote_id
    previews = [json.loads(p["options"]["link_preview_options"]) for p in (one, two)]
    assert previews == [{"is_disabled": False}, {"is_disabled": True}]


def test_a_photo_goes_with_its_caption_and_a_link(target, tmp_path):
    path = tmp_path / "poster.png"
    path.write_bytes(PNG)
    published = target.adapter().publish(OutgoingPost("k", "Afîş", image=path, image_alt="x"))
    [message] = target.posts()
    assert message["image"] == PNG and message["text"] == "Afîş"
    assert published.url == f"https://t.me/sea_kurdi/{message['id']}"


def test_limits_are_code_points_with_a_shorter_caption(target):
    assert TelegramChannel.limit(target.channel) == 4096
    assert TelegramChannel.limit(target.channel, image=True) == 1024
    assert TelegramChannel.count("👩‍👩‍👧") == 5  # code points, not clusters
    text = "ش" * 4096
    target.adapter().publish(OutgoingPost("k", text))
    with pytest.raises(RejectedPost):
        target.adapter().publish(OutgoingPost("k", text + "ش"))


def test_check_credentials_needs_the_right_to_post(target, fake_telegram):
    assert "administrator of 'SEA Kurdî'" in target.adapter().check_credentials()
    chat = fake_telegram.chats[0]
    chat.members[TELEGRAM_BOT.id] = ("administrator", False)
    with pytest.raises(FatalChannelError, match="right to post messages"):
        target.adapter().check_credentials()
    chat.members.pop(TELEGRAM_BOT.id)
    with pytest.raises(FatalChannelError, match="make it an administrator"):
        target.adapter().check_credentials()
    fake_telegram.add_chat(Chat(-1001111111111, "other", "Other"))
    elsewhere = target.channel.model_copy(update={"chat": "@nowhere"})
    with pytest.raises(FatalChannelError, match="chat not found"):
        TelegramChannel(elsewhere, target.env, timeout=5).check_credentials()
    fake_telegram.revoke()
    with pytest.raises(FatalChannelError, match=VARIABLE):
        target.adapter().check_credentials()


def test_the_token_never_reaches_a_log_line(target, caplog):
    caplog.set_level(logging.DEBUG)
    target.adapter().publish(OutgoingPost("k", "Silav"))
    target.fake.fail_next("500")
    with pytest.raises(OutcomeUnknown):
        target.adapter().publish(OutgoingPost("k", "Silav 2"))
    lines = [r.getMessage() for r in caplog.records]
    assert any("/bot***/sendMessage" in line for line in lines), lines
    assert not any(TELEGRAM_BOT.secret in line for line in lines)


def test_redact_hides_any_bot_token_shape():
    assert redact("GET /bot123456:AA-b_c/getMe", []) == "GET /bot***/getMe"


def test_a_reply_to_something_that_is_no_message_id_is_rejected_unsent(target):
    with pytest.raises(RejectedPost, match="is a number"):
        target.adapter().publish(OutgoingPost("k", "2/2", reply_to="https://t.me/x", part=1))
    assert target.fake.requests("publish") == []
