"""Check rendered posts against their platforms' limits, before anything is sent.

Length (X weighted by twitter-text rules; over-long text becomes a thread where the channel
allows it), images (type and size), and duplicate texts on one account, which platforms refuse
and which would break the in-doubt resolution of `run`.
"""

from __future__ import annotations

from dataclasses import replace
from functools import cache
from pathlib import Path

from pipeline.errors import Problem
from pipeline.model import PLATFORM_KEYS
from pipeline.platforms import adapter_class
from pipeline.platforms.media import image_mime
from pipeline.render import RenderedPost
from pipeline.threads import split_thread


def image_type(path: Path) -> str | None:
    """The image's MIME type from its first bytes, or None when it is no image we know."""
    with path.open("rb") as f:
        return image_mime(f.read(16))


def check(posts: list[RenderedPost], root: Path) -> list[RenderedPost]:
    """The posts with `parts`, `length`, `limit` set and every problem found added."""
    images: dict[Path, tuple[str | None, int] | OSError] = {}  # read once, not once a post
    checked = [_check_one(post, root, images) for post in posts]
    _flag_duplicates(checked)
    return checked


@cache
def _adapter(platform: str):
    # adapter_class imports its module by name: ~10 µs, for every one of 10,000 posts.
    return adapter_class(platform)


def _check_one(post: RenderedPost, root: Path, images: dict) -> RenderedPost:
    planned = post.planned
    adapter = _adapter(planned.platform)
    problems = list(post.problems)
    parts = [post.text] if post.text else []
    limit = adapter.limit(planned.channel, image=bool(planned.image))
    if post.text and planned.channel.thread:  # split_thread returns [text] when it fits
        try:
            parts = split_thread(post.text, limit, adapter.fit_count, adapter.span_counter)
        except ValueError as exc:
            problems.append(_problem(post, f"cannot split into a thread: {exc}"))
    length = max((adapter.count(p) for p in parts), default=0)
    image = bool(planned.image)
    too_long = next(
        (why for p in parts if (why := adapter.over_limit(p, planned.channel, image))), None
    )
    if too_long:
        can_thread = planned.platform in PLATFORM_KEYS["thread"] and not planned.channel.thread
        hint = " (or set `thread: true` on the channel)" if can_thread else ""
        problems.append(_problem(post, f"{too_long}: shorten it{hint}"))
    if planned.image:
        path = root / planned.image
        if path not in images:
            try:
                images[path] = (image_type(path), path.stat().st_size)
            except OSError as exc:
                images[path] = exc
        problems.extend(_check_image(post, images[path], adapter))
    return replace(post, parts=parts, length=length, limit=limit, problems=problems)


def _check_image(post: RenderedPost, facts: tuple[str | None, int] | OSError, adapter):
    image, platform = post.planned.image, post.planned.platform
    if isinstance(facts, OSError):
        return [_image_problem(post, f"cannot read image {image}: {facts.strerror}")]
    mime, size = facts
    accepted = adapter.image_types
    if mime is None:  # the same for every platform: one message, not one per post
        return [_image_problem(post, f"{image} is not a GIF, JPEG, PNG or WebP image")]
    if mime not in accepted:
        kinds = ", ".join(sorted(m.removeprefix("image/") for m in accepted))
        return [
            _image_problem(
                post, f"{platform} does not take {mime} images like {image} (it takes {kinds})"
            )
        ]
    if size > accepted[mime]:
        return [
            _image_problem(
                post,
                f"image {image} is {_megabytes(size, accepted[mime])} MB, over the "
                f"{platform} limit of {accepted[mime] / 1e6:g} MB (channel "
                f"{post.planned.channel.name}): make it smaller",
            )
        ]
    alt = (post.planned.image_alt or "").strip()
    if not alt:
        return [_image_problem(post, f"image {image} has no alt text in {post.planned.language!r}")]
    max_alt = getattr(adapter, "max_alt", None)
    if max_alt and len(alt) > max_alt:
        return [
            _image_problem(
                post,
                f"the alt text of {image} in {post.planned.language!r} is {len(alt)} characters, "
                f"over the {platform} limit of {max_alt}: shorten it",
            )
        ]
    return []


def _megabytes(size: int, limit: int) -> str:
    """`size` in MB, with as many decimals as it takes to look larger than `limit`."""
    for digits in (1, 3):
        text = f"{size / 1e6:.{digits}f}"
        if float(text) > limit / 1e6:
            return text
    return f"{size / 1e6:.6f}"


def _flag_duplicates(posts: list[RenderedPost]) -> None:
    seen: dict[tuple[str, str], str] = {}
    for post in posts:
        for part in post.parts:
            key = (post.planned.channel.name, part)
            other = seen.setdefault(key, post.key)
            if other != post.key:
                post.problems.append(
                    _problem(
                        post,
                        f"same text as {other} on channel {key[0]}: platforms refuse "
                        "duplicate posts, make each text unique (e.g. name the event or moment)",
                    )
                )
                break


def _image_problem(post: RenderedPost, message: str) -> Problem:
    """A problem of a post's image, located at the `image` key that names it."""
    planned = post.planned
    model = planned.campaign.model
    if planned.event is not None:
        index = next(i for i, e in enumerate(model.events) if e.id == planned.event.id)
        at: tuple = ("events", index, "image")
    else:
        index = next(i for i, p in enumerate(model.posts) if p.id == planned.moment)
        at = ("posts", index, "image")
    return planned.campaign.doc.problem(at, message)


def _problem(post: RenderedPost, message: str) -> Problem:
    return Problem(post.template, 1, 1, f"{post.key}: {message}")
