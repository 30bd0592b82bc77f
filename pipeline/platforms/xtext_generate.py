"""Write pipeline/platforms/xtext_data.py: twitter-text-parser's counting rules as plain data.

    python -m pipeline.platforms.xtext_generate > pipeline/platforms/xtext_data.py
    ruff format pipeline/platforms/xtext_data.py

`crosspost validate` must start fast, and importing twitter_text compiles its URL and emoji
regexes (~0.2 s: one of ~3,600 alternatives, TLD lists of ~1,500), most of which a campaign's
texts never need. So the rules are taken from the pinned library once, here, and
pipeline/platforms/xtext.py counts with them, compiling only the small regexes a text needs.
tests/platforms/test_xtext_data.py fails when the committed data no longer equals what this
produces from the installed library (after an upgrade of the pin: run the commands above), and
the property tests compare the count with the library's `parse_tweet`.

Every assumption xtext.py makes about the library's regexes is checked here: should a new
version break one, generating fails instead of producing data that counts differently.
"""

from __future__ import annotations

import re
import sys
import types
from typing import Any

GTLD, CCTLD = "<GTLD>", "<CCTLD>"  # where the TLD alternations sit in the URL patterns
TLD_HEAD, TLD_TAIL = "(?:(?:", ")(?=[^0-9a-zA-Z@+-]|$))"


def import_twitter_text() -> types.ModuleType:
    """twitter_text, importable without pkg_resources (gone from setuptools 82+).

    Its emoji module does `import pkg_resources` only to call `resource_string(__name__,
    "emoji-test.txt")`: unless the real one is loaded, a stand-in offering just that function
    sits in sys.modules while twitter_text is imported, and is taken out again afterwards.
    """
    if "twitter_text" in sys.modules or "pkg_resources" in sys.modules:
        import twitter_text

        return twitter_text

    def resource_string(module_name: str, resource: str) -> bytes:
        import importlib.resources

        module = sys.modules[module_name]
        package = module_name if hasattr(module, "__path__") else module.__package__
        return importlib.resources.files(package).joinpath(resource).read_bytes()

    shim = types.ModuleType("pkg_resources", "crosspost stand-in: resource_string only")
    shim.resource_string = resource_string  # type: ignore[attr-defined]
    sys.modules["pkg_resources"] = shim
    try:
        import twitter_text
    finally:
        if sys.modules.get("pkg_resources") is shim:
            del sys.modules["pkg_resources"]
    return twitter_text


def _tlds(pattern: str) -> list[str]:
    if not (pattern.startswith(TLD_HEAD) and pattern.endswith(TLD_TAIL)):
        raise ValueError(f"unexpected TLD pattern {pattern[:40]!r}")
    tlds = pattern[len(TLD_HEAD) : -len(TLD_TAIL)].split("|")
    if not all(t and re.escape(t) == t for t in tlds):
        raise ValueError("a TLD is not a plain word")
    return tlds


def rules() -> dict[str, Any]:
    """The data xtext.py counts with, read from the installed twitter-text-parser."""
    import importlib.metadata

    import_twitter_text()
    extract_module = sys.modules["twitter_text.extract_urls"]
    from twitter_text.config import config
    from twitter_text.regexp import emoji as emoji_module
    from twitter_text.regexp.extract_url import extract_url
    from twitter_text.regexp.invalid_url_without_protocol_preceding_chars import (
        invalid_url_without_protocol_preceding_chars as invalid_preceding,
    )
    from twitter_text.regexp.valid_ascii_domain import valid_ascii_domain
    from twitter_text.regexp.valid_cctld import valid_cctld
    from twitter_text.regexp.valid_gtld import valid_gtld
    from twitter_text.regexp.valid_punycode import valid_punycode
    from twitter_text.regexp.valid_tco_url import valid_tco_url

    options = config["defaults"]
    weights = {r["weight"] for r in options["ranges"]}
    if len(weights) != 1 or not options.get("emoji_parsing_enabled", False):
        raise ValueError("expected one light weight and emoji parsing on")
    gtlds, cctlds = _tlds(valid_gtld.pattern), _tlds(valid_cctld.pattern)
    # A TLD is only ever tried right after a "." (valid_domain_name and valid_ascii_domain end in
    # `\.`): xtext.py looks for URLs only where a dot is followed by a letter or a non-ASCII
    # character, and narrows the alternations to the ASCII TLDs a word holds after a dot.
    for tld in gtlds + cctlds:
        if not tld[0].isalpha():
            raise ValueError(f"TLD {tld!r} does not start with a letter")
        if not tld.isascii() and all(
            any(re.fullmatch(re.escape(c), chr(a), re.I) for a in range(128)) for c in tld
        ):
            raise ValueError(f"TLD {tld!r} matches ASCII text ignoring case")
    if valid_punycode.pattern != r"(?:xn--[\-0-9a-z]+)":
        raise ValueError("unexpected punycode pattern")

    def templated(pattern: re.Pattern) -> str:
        text = pattern.pattern
        if text.count(valid_gtld.pattern) != 1 or text.count(valid_cctld.pattern) != 1:
            raise ValueError("expected each TLD alternation once")
        if GTLD in text or CCTLD in text:
            raise ValueError("marker clash")
        return text.replace(valid_gtld.pattern, GTLD).replace(valid_cctld.pattern, CCTLD)

    # Emoji: the regex is `seq|seq|...|[singles]`; xtext.py tries, at each position holding a
    # sequence's first character, just the sequences starting with it in their order, then the
    # single code point; that finds what `finditer` finds. ASCII text holds no emoji.
    multi = emoji_module.multi_codepoint_emoji_joined
    singles = emoji_module.single_codepoint_emoji_raw
    if emoji_module.emoji.pattern != f"{multi}|[{singles}]" or emoji_module.emoji.flags != re.U:
        raise ValueError("unexpected emoji regex")
    sequences = []
    for alternative in multi.split("|"):
        if not re.fullmatch(r"(?:\\U[0-9A-Fa-f]{8})+", alternative):
            raise ValueError(f"unexpected emoji alternative {alternative!r}")
        codes = re.findall(r"[0-9A-Fa-f]{8}", alternative)
        sequences.append("".join(chr(int(h, 16)) for h in codes))
    single_codes = sorted(set(emoji_module.single_codepoint_emoji_int))
    single_class = re.compile(f"[{singles}]")
    if any(single_class.fullmatch(chr(c)) is None for c in single_codes):
        raise ValueError("single code point emoji class disagrees with its list")
    if any(s.isascii() for s in sequences) or any(c < 128 for c in single_codes):
        raise ValueError("an emoji made of ASCII only")
    if any(c.isspace() for s in sequences for c in s) or any(
        chr(c).isspace() for c in single_codes
    ):
        raise ValueError("an emoji holding whitespace (xtext.span_counter relies on none)")
    if extract_module.default_protocol != "https://":
        raise ValueError("unexpected default protocol")
    return {
        "VERSION": importlib.metadata.version("twitter-text-parser"),
        "SCALE": options["scale"],
        "LIGHT_WEIGHT": weights.pop(),
        "HEAVY_WEIGHT": options["default_weight"],
        "LIGHT_RANGES": tuple((r["start"], r["end"]) for r in options["ranges"]),
        "URL_WEIGHT": options["transformed_url_length"] * options["scale"],
        "MAX_WEIGHTED_LENGTH": options["max_weighted_tweet_length"],
        "TLD_HEAD": TLD_HEAD,
        "TLD_TAIL": TLD_TAIL,
        "GTLD_MARKER": GTLD,
        "CCTLD_MARKER": CCTLD,
        "GTLDS": tuple(gtlds),
        "CCTLDS": tuple(cctlds),
        "EXTRACT_URL": templated(extract_url),
        "EXTRACT_URL_FLAGS": int(extract_url.flags),
        "VALID_ASCII_DOMAIN": templated(valid_ascii_domain),
        "VALID_ASCII_DOMAIN_FLAGS": int(valid_ascii_domain.flags),
        "VALID_TCO_URL": valid_tco_url.pattern,
        "VALID_TCO_URL_FLAGS": int(valid_tco_url.flags),
        "INVALID_PRECEDING": invalid_preceding.pattern,
        "INVALID_PRECEDING_FLAGS": int(invalid_preceding.flags),
        "MAX_URL_LENGTH": extract_module.max_url_length,
        "MAX_TCO_SLUG_LENGTH": extract_module.max_tco_slug_length,
        "EMOJI_SEQUENCES": tuple(sequences),
        "EMOJI_SINGLE_RANGES": _ranges(single_codes),
    }


def _ranges(codes: list[int]) -> tuple[tuple[int, int], ...]:
    found: list[list[int]] = []
    for code in codes:
        if found and code == found[-1][1] + 1:
            found[-1][1] = code
        else:
            found.append([code, code])
    return tuple((a, b) for a, b in found)


def _literal(value: Any, indent: str = "") -> str:
    if isinstance(value, tuple) and value and isinstance(value[0], str | tuple):
        inner = "".join(f"{indent}    {_literal(v)},\n" for v in value)
        return f"(\n{inner}{indent})"
    if isinstance(value, str):
        return repr(value)
    return repr(value)


def main() -> None:
    data = rules()
    out = [
        '"""twitter-text-parser ' + data["VERSION"] + "'s rules for X's weighted length, as data.",
        "",
        "Generated by `python -m pipeline.platforms.xtext_generate` (see there); do not edit.",
        '"""',
        "",
        "# fmt: off",
    ]
    for name, value in data.items():
        out.append(f"{name} = {_literal(value)}")
    out.append("# fmt: on")
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
