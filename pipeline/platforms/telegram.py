"""Telegram channels through the Bot API, over plain requests.

The bot token is part of every URL (`/bot<id>:<secret>/sendMessage`), so it must never reach a
log line or an exception: urllib3's request log lines are rewritten by a filter on its logger,
`base.redact` knows the token's shape, and requests' exceptions (which quote the URL) are never
shown (`Adapter.call` cuts the chain and network errors name no URL).

Exactly once, the hard way: the Bot API has no idempotency key, and a bot can neither read a
channel's history nor see its own messages, so `find` cannot look (`can_look = False`). Only a
request that provably never left (a refused connection) is sent again; any other unknown
outcome is left `in-doubt` for a person (`crosspost resolve`).
"""

from __future__ import annotations

import json
import logging
import mimetypes
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from pipeline.errors import (
    FatalChannelError,
    OutcomeUnknown,
    PublishError,
    RateLimited,
    RejectedPost,
    TemporaryError,
)
from pipeline.platforms.base import (
    BOT_TOKEN,
    Adapter,
    LookupUnavailable,
    OutgoingPost,
    Published,
    unreadable_answer,
)

API_HOST = "https://api.telegram.org"
#: a photo's caption; a text message may have `max_length`
CAPTION_LENGTH = 1_024


class BotAPIError(Exception):
    """An answer with `"ok": false`: Telegram's error code, description and retry_after."""

    def __init__(self, code: int, description: str, retry_after: int | None = None):
        super().__init__(f"{code} {description}")
        self.code, self.description, self.retry_after = code, description, retry_after


class TelegramChannel(Adapter):
    """Posts to one Telegram channel (or group) as a bot that is its administrator."""

    platform = "telegram"
    max_length = 4_096
    # sendPhoto uploads: at most 10 MB, JPEG and PNG (a GIF would become an animation).
    image_types: ClassVar = {m: 10_000_000 for m in ("image/jpeg", "image/png")}
    secret_names = ("BOT_TOKEN",)
    can_look = False

    @classmethod
    def limit(cls, channel, image: bool = False) -> int:
        """4,096 code points for a message, 1,024 for a photo's caption."""
        return CAPTION_LENGTH if image else cls.max_length

    @property
    def base_url(self) -> str:
        return (self.channel.api_base or API_HOST).rstrip("/")

    def _session(self):
        import requests

        _quiet_url_logs()
        return self._once("session", requests.Session)

    def _api(self, method: str, **kwargs) -> Any:
        """One Bot API call; its `result`, or BotAPIError for `"ok": false`."""
        url = f"{self.base_url}/bot{self.secrets['BOT_TOKEN']}/{method}"
        response = self._session().post(url, timeout=self.timeout, **kwargs)
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if not isinstance(answer, dict) or "ok" not in answer:
            raise BotAPIError(response.status_code, f"unreadable answer ({response.reason})")
        if not answer["ok"]:
            retry_after = (answer.get("parameters") or {}).get("retry_after")
            raise BotAPIError(
                int(answer.get("error_code") or response.status_code),
                str(answer.get("description") or response.reason),
                retry_after if isinstance(retry_after, int) else None,
            )
        return answer.get("result")

    # --- publishing ----------------------------------------------------------------------------

    def publish(self, post: OutgoingPost) -> Published:
        """A message, or a photo with its caption; a thread part replies to the previous one.

        Plain text (no parse_mode): nothing in a campaign's text is taken for markup. The link
        preview is shown for the first part only, not once more under every reply.
        """
        fields: dict[str, Any] = {"chat_id": self.channel.chat}
        if post.reply_to:
            if not post.reply_to.isdigit():  # e.g. a link a person recorded by hand
                raise RejectedPost(
                    f"cannot reply to {post.reply_to!r}: a Telegram message id is a number "
                    "(the last part of its t.me link)"
                )
            fields["reply_parameters"] = json.dumps({"message_id": int(post.reply_to)})
        if post.image:
            data = post.image.read_bytes()
            mime = mimetypes.guess_type(str(post.image))[0] or "application/octet-stream"
            message = self.call(
                "publishing",
                True,
                self._api,
                "sendPhoto",
                data={**fields, "caption": post.text},
                files={"photo": (post.image.name, data, mime)},
            )
        else:
            preview = {"is_disabled": post.part > 0}
            message = self.call(
                "publishing",
                True,
                self._api,
                "sendMessage",
                data={**fields, "text": post.text, "link_preview_options": json.dumps(preview)},
            )
        message_id = str(message["message_id"])
        return Published(message_id, _link(message.get("chat") or {}, message_id))

    def find(self, text: str, since: datetime) -> Published | None:
        """Bots cannot read a channel's messages: always LookupUnavailable."""
        raise LookupUnavailable("a Telegram bot cannot read the messages of its channel")

    def check_credentials(self) -> str:
        """getMe (the token), getChat (the chat) and getChatMember (the bot may post there)."""
        me = self.call("checking the bot token", False, self._api, "getMe")
        chat = self.call("finding the chat", False, self._api, "getChat", data=self._chat())
        member = self.call(
            "checking the bot's rights",
            False,
            self._api,
            "getChatMember",
            data={**self._chat(), "user_id": me["id"]},
        )
        name = chat.get("title") or self.channel.chat
        may_post = member.get("status") == "creator" or (
            member.get("status") == "administrator"
            and (chat.get("type") != "channel" or member.get("can_post_messages"))
        )
        if not may_post:
            raise FatalChannelError(
                f"channel {self.channel.name}: the bot @{me.get('username')} may not post in "
                f"{self.channel.chat} ({member.get('status')}): make it an administrator of "
                f"'{name}' with the right to post messages (docs/setup.md)"
            )
        return f"bot @{me.get('username')}, administrator of '{name}' ({self.channel.chat})"

    def _chat(self) -> dict[str, str]:
        return {"chat_id": self.channel.chat or ""}

    # --- errors --------------------------------------------------------------------------------

    def translate(self, exc: Exception, what: str, may_have_arrived: bool) -> PublishError | None:
        """Bot API errors by code; requests' failures are left to the base (which names no URL)."""
        if not isinstance(exc, BotAPIError):
            return None
        variable = self.secret_variables(self.channel)[0]
        said = f"Telegram answered {exc.code}: {exc.description}"
        text = exc.description.lower()
        if exc.code == 429:
            wait = exc.retry_after or 0
            when = datetime.now(UTC) + timedelta(seconds=wait) if wait else None
            return RateLimited(f"{what}: {said}", when)
        if exc.code in (401, 404) and ("unauthorized" in text or text == "not found"):
            return FatalChannelError(
                f"{what}: Telegram refused the bot token in {variable}: renew it with "
                f"@BotFather (docs/setup.md) — {said}"
            )
        if exc.code == 403 or "chat not found" in text or "not enough rights" in text:
            return FatalChannelError(
                f"{what}: the bot may not post in {self.channel.chat}: make it an administrator "
                f"of the channel with the right to post messages (docs/setup.md) — {said}"
            )
        if exc.code >= 500 or exc.description.startswith("unreadable answer"):
            if may_have_arrived:
                return OutcomeUnknown(f"{what}: {said}; the message may be online")
            if exc.description.startswith("unreadable answer"):
                return unreadable_answer(what, exc.description, False)
            return TemporaryError(f"{what}: {said}")
        return RejectedPost(f"{what}: {said}")


def _link(chat: dict, message_id: str) -> str | None:
    """The t.me link of a message: public channels by username, private ones by id."""
    if chat.get("username"):
        return f"https://t.me/{chat['username']}/{message_id}"
    chat_id = str(chat.get("id", ""))
    if chat_id.startswith("-100"):
        return f"https://t.me/c/{chat_id[4:]}/{message_id}"
    return None


class _NoBotToken(logging.Filter):
    """Rewrites log records that show a Bot API URL, whatever handler prints them."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if BOT_TOKEN.search(message):
            record.msg, record.args = BOT_TOKEN.sub("bot***", message), None
        return True


def _quiet_url_logs() -> None:
    # urllib3 logs every request's method and path at DEBUG ("POST /bot<token>/sendMessage").
    for name in ("urllib3.connectionpool", "requests"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, _NoBotToken) for f in logger.filters):
            logger.addFilter(_NoBotToken())
