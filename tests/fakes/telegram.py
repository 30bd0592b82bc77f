"""A fake Telegram Bot API on loopback, for tests and benchmarks.

`POST /bot<TOKEN>/<method>` with form, multipart or JSON parameters, answering
`{"ok": true, "result": ...}` or `{"ok": false, "error_code", "description"[, "parameters"]}`.
Methods: getMe, getChat, getChatMember, sendMessage, sendPhoto.

Like the real API, and easy to forget:
- the token is part of the URL path; a wrong one answers 401 `Unauthorized` (404 `Not Found`
  for one that is not even shaped like a token);
- text 1-4,096 and captions 0-1,024 code points (after trimming); with `parse_mode` the text is
  parsed as markup (the fake only records that it was asked);
- the bot must be an administrator of a channel with `can_post_messages` to post there
  (403 `Forbidden: bot is not a member of the channel chat` otherwise, 400 `need administrator
  rights` for a member without the right);
- a reply to an unknown message is 400 `message to be replied not found`;
- 429 carries `parameters.retry_after` (seconds);
- nothing here lets a bot read a channel's messages: the fake has no such method either.

Standalone: `python -m tests.fakes.telegram --port 8083 --bot ID:SECRET:USERNAME --chat @name`.
"""

from __future__ import annotations

import argparse
import json
import re
from dataclasses import dataclass, field
from datetime import datetime

from tests.fakes.server import FakeServer, Fault, Request, Response, serve_forever


@dataclass
class Bot:
    id: int
    username: str
    secret: str

    @property
    def token(self) -> str:
        return f"{self.id}:{self.secret}"


@dataclass
class Chat:
    id: int
    username: str | None
    title: str
    type: str = "channel"
    #: bot id -> (status, can_post_messages)
    members: dict[int, tuple[str, bool]] = field(default_factory=dict)


@dataclass
class Message:
    message_id: int
    chat: Chat
    date: datetime
    text: str | None = None
    caption: str | None = None
    photo: bytes | None = None
    reply_to: int | None = None
    options: dict = field(default_factory=dict)


class BotError(Exception):
    def __init__(self, code: int, description: str, retry_after: int | None = None):
        body = {"ok": False, "error_code": code, "description": description}
        if retry_after is not None:
            body["parameters"] = {"retry_after": retry_after}
        self.response = Response(code, body)


class FakeTelegram(FakeServer):
    """The fake Bot API; bots and chats are added with `add_bot` and `add_chat`."""

    def __init__(self, bots: list[Bot] | None = None, port: int = 0):
        super().__init__(port)
        self.bots: dict[str, Bot] = {}
        self.chats: list[Chat] = []
        self._messages: list[Message] = []
        for bot in bots or []:
            self.add_bot(bot)

    # ---- configuration and inspection ------------------------------------------------------
    def add_bot(self, bot: Bot) -> Bot:
        with self.state_lock:
            self.bots[bot.token] = bot
        return bot

    def add_chat(self, chat: Chat, admin: Bot | None = None, can_post: bool = True) -> Chat:
        with self.state_lock:
            if admin is not None:
                chat.members[admin.id] = ("administrator", can_post)
            self.chats.append(chat)
        return chat

    def bot(self) -> Bot:
        return next(iter(self.bots.values()))

    def env(self, prefix: str, bot: Bot | None = None) -> dict[str, str]:
        return {f"{prefix}_BOT_TOKEN": (bot or self.bot()).token}

    def revoke(self, bot: Bot | None = None) -> None:
        """As /revoke in @BotFather: the old token stops working."""
        with self.state_lock:
            bot = bot or self.bot()
            self.bots.pop(bot.token)
            bot.secret = "revoked" + bot.secret
            self.bots[bot.token] = bot

    def messages(self, chat: str | int | None = None) -> list[dict]:
        """The messages of a chat (default: the first), oldest first."""
        with self.state_lock:
            found = self._chat(chat) if chat is not None else self.chats[0]
            return [
                {
                    "message_id": m.message_id,
                    "text": m.text,
                    "caption": m.caption,
                    "photo": m.photo,
                    "reply_to": m.reply_to,
                    "options": m.options,
                    "date": m.date,
                }
                for m in self._messages
                if m.chat is found
            ]

    def add_message(self, chat: str | int, text: str) -> int:
        """A message posted by someone else (an admin by hand)."""
        with self.state_lock:
            found = self._chat(chat)
            message = Message(self._next_id(found), found, self.clock(), text=text)
            self._messages.append(message)
            return message.message_id

    # ---- FakeServer ------------------------------------------------------------------------
    def category(self, req: Request) -> str:
        method = req.path.rsplit("/", 1)[-1]
        return "publish" if method in ("sendMessage", "sendPhoto") else "lookup"

    def fault_response(self, fault: Fault, req: Request) -> Response:
        opts = fault.options
        if fault.kind == "500":
            status = opts.get("status", 500)
            if opts.get("html"):
                return Response(
                    502,
                    "<html><body><h1>502 Bad Gateway</h1></body></html>",
                    content_type="text/html",
                )
            return BotError(status, "Internal Server Error").response
        if fault.kind == "429":
            wait = int(opts.get("reset_in", 5))
            return BotError(429, f"Too Many Requests: retry after {wait}", wait).response
        if fault.kind == "expired":
            return BotError(401, "Unauthorized").response
        return BotError(opts.get("status", 400), opts.get("message", "Bad Request")).response

    def route(self, req: Request) -> Response:
        try:
            return Response(200, {"ok": True, "result": self._route(req)})
        except BotError as error:
            return error.response

    # ---- methods ---------------------------------------------------------------------------
    def _route(self, req: Request):
        match = re.fullmatch(r"/bot([^/]*)/(\w+)", req.path)
        if not match:
            raise BotError(404, "Not Found")
        token, method = match.groups()
        if not re.fullmatch(r"\d+:[A-Za-z0-9_-]+", token):
            raise BotError(404, "Not Found")
        bot = self.bots.get(token)
        if bot is None:
            raise BotError(401, "Unauthorized")
        params = dict(req.json) if isinstance(req.json, dict) else {}
        params.update({k: v[-1] for k, v in req.query.items()})
        params.update(req.form)
        if method == "getMe":
            return {
                "id": bot.id,
                "is_bot": True,
                "first_name": "Crosspost",
                "username": bot.username,
            }
        chat = self._chat(params.get("chat_id"))
        if method == "getChat":
            return self._chat_json(chat)
        if method == "getChatMember":
            user = int(params.get("user_id") or 0)
            status, can_post = chat.members.get(user, ("left", False))
            member = {"user": {"id": user, "is_bot": True}, "status": status}
            if status == "administrator":
                member["can_post_messages"] = can_post
            return member
        if method in ("sendMessage", "sendPhoto"):
            return self._send(req, method, bot, chat, params)
        raise BotError(404, "Not Found")

    def _send(self, req: Request, method: str, bot: Bot, chat: Chat, params: dict) -> dict:
        status, can_post = chat.members.get(bot.id, ("left", False))
        if status not in ("administrator", "creator"):
            raise BotError(403, "Forbidden: bot is not a member of the channel chat")
        if status == "administrator" and chat.type == "channel" and not can_post:
            raise BotError(400, "Bad Request: need administrator rights in the channel chat")
        reply_to = None
        if params.get("reply_parameters"):
            reply = _json(params["reply_parameters"])
            reply_to = int(reply.get("message_id") or 0)
            if not any(m.chat is chat and m.message_id == reply_to for m in self._messages):
                raise BotError(400, "Bad Request: message to be replied not found")
        options = {k: params[k] for k in ("parse_mode", "link_preview_options") if k in params}
        if method == "sendMessage":
            text = (params.get("text") or "").strip()
            if not text:
                raise BotError(400, "Bad Request: message text is empty")
            if len(text) > 4096:
                raise BotError(400, "Bad Request: message is too long")
            message = Message(self._next_id(chat), chat, self.clock(), text=text)
        else:
            if "photo" not in req.files:
                raise BotError(400, "Bad Request: there is no photo in the request")
            caption = (params.get("caption") or "").strip()
            if len(caption) > 1024:
                raise BotError(400, "Bad Request: message caption is too long")
            photo = req.files["photo"][1]
            if len(photo) > 10 * 1000 * 1000:
                raise BotError(400, "Bad Request: file is too big")
            message = Message(self._next_id(chat), chat, self.clock(), caption=caption, photo=photo)
        message.reply_to, message.options = reply_to, options
        self._messages.append(message)
        body = {
            "message_id": message.message_id,
            "sender_chat": self._chat_json(chat),
            "chat": self._chat_json(chat),
            "date": int(message.date.timestamp()),
        }
        if message.text is not None:
            body["text"] = message.text
        else:
            body["photo"] = [{"file_id": f"AgAC{message.message_id}", "width": 1, "height": 1}]
            if message.caption:
                body["caption"] = message.caption
        if reply_to:
            body["reply_to_message"] = {"message_id": reply_to, "chat": self._chat_json(chat)}
        return body

    def _chat(self, chat_id) -> Chat:
        text = str(chat_id or "")
        for chat in self.chats:
            if text in (str(chat.id), f"@{chat.username}"):
                return chat
        raise BotError(400, "Bad Request: chat not found")

    def _next_id(self, chat: Chat) -> int:
        return 1 + max((m.message_id for m in self._messages if m.chat is chat), default=0)

    @staticmethod
    def _chat_json(chat: Chat) -> dict:
        body = {"id": chat.id, "title": chat.title, "type": chat.type}
        if chat.username:
            body["username"] = chat.username
        return body


def _json(value):
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            raise BotError(400, "Bad Request: can't parse reply parameters JSON object") from None
    return value if isinstance(value, dict) else {}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=8083)
    parser.add_argument("--bot", required=True, help="ID:SECRET:USERNAME")
    parser.add_argument("--chat", action="append", default=[], help="@username of a channel")
    args = parser.parse_args()
    bot_id, secret, username = args.bot.split(":", 2)
    bot = Bot(int(bot_id), username, secret)
    fake = FakeTelegram([bot], port=args.port)
    for n, name in enumerate(args.chat):
        fake.add_chat(Chat(-1001000000000 - n, name.lstrip("@"), name.lstrip("@")), admin=bot)
    serve_forever(fake)


if __name__ == "__main__":
    main()
