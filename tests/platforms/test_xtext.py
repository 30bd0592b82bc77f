"""X's weighted length: twitter-text's own v3 conformance cases, and the cases a user checks."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.platforms.xtext import MAX_WEIGHTED_LENGTH, weighted_length
from pipeline.platforms.xtext_generate import import_twitter_text

REPO = Path(__file__).resolve().parents[2]
CONFORMANCE = REPO.parent / "shared" / "conformance" / "twitter-text-validate.yml"


def _conformance_cases() -> list:
    # Read as data, never copied into the project; CI has shared/ beside the clone.
    if not CONFORMANCE.is_file():
        reason = f"{CONFORMANCE} is absent (CI checks shared/conformance out beside the repo)"
        return [pytest.param(None, marks=pytest.mark.skip(reason=reason), id="absent")]
    tests = yaml.safe_load(CONFORMANCE.read_text(encoding="utf-8"))["tests"]
    return [
        pytest.param(case, id=case["description"])
        for case in tests["WeightedTweetsWithDiscountedEmojiCounterTest"]
    ]


@pytest.mark.parametrize("case", _conformance_cases())
def test_agrees_with_twitter_text_v3_conformance(case):
    assert weighted_length(case["text"]) == case["expected"]["weightedLength"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", 0),
        ("Rojbaş! Em ê sibê li meydanê bicivin.", 37),  # Kurmanji: Latin letters weigh 1
        ("İstanbul'da buluşalım, ığdır", 28),  # Turkish dotted/dotless i weigh 1
        ("سڵاو، ئێمە سبەینێ کۆدەبینەوە؟", 29),  # Sorani (Arabic script) weighs 1
        ("کوردی\u200cیە", 8),  # ZWNJ (U+200C) is in the light range U+2000–200D
        ("日本語", 6),  # CJK weighs 2 each
        ("한국어 中文", 11),
        ("😷", 2),
        ("👨\u200d👩\u200d👧\u200d👦", 2),  # ZWJ family: one emoji sequence
        ("👋🏽", 2),  # skin-tone modifier joins its base
        ("🇹🇷🇮🇶", 4),  # flags: a pair of regional indicators each
        ("1️⃣", 2),  # keycap
        ("©", 2),  # listed as an emoji by twitter-text, though below U+10FF
        ("https://example.org/" + "campaign/" * 30, 23),  # any URL counts 23
        ("Tickets: https://example.org/t?id=1", 9 + 23),
        ("example.org", 23),  # without a protocol too
        ("10:30\u202fAM", 9),  # U+202F, CLDR's space before AM/PM, weighs 2
        ("\u202f", 2),
        ("2026–2027", 9),  # U+2013 en dash weighs 1
        ("“quoted” — ‘too’ …", 19),  # U+2010–201F weigh 1, U+2026 (…) weighs 2: 17 + 2
        ("e\u0301", 1),  # normalised to NFC first: é
        ("a\r\nb", 3),  # CRLF counts as one line break
        ("x" * 280, 280),
    ],
)
def test_weights_a_user_would_check(text, expected):
    assert weighted_length(text) == expected


def test_emoji_newer_than_the_bundled_unicode_12_list_count_as_their_parts():
    # A known limitation of twitter-text-parser 3.0.0; it overcounts, so never lets too much
    # through. Should this start failing, the package's emoji list was updated: check X agrees.
    assert weighted_length("❤\ufe0f\u200d🔥") == 5  # Unicode 13.1
    assert weighted_length("🫠") == 2  # Unicode 14, a single code point: weight 2 anyway


def test_max_weighted_length():
    assert MAX_WEIGHTED_LENGTH == 280


# Fragments chosen to reach both the exact shortcut and parse_tweet: dots before letters, TLDs,
# case-folding letters (ı İ ſ and the Kelvin sign), emoji parts, CJK, combining marks.
_FRAGMENTS = [
    "a", "Z", " ", ".", ". ", "com", "co", "org", "x", "xn--", "ı", "İ", "ſ", "\u212a", "é",
    "e\u0301", "日本", "。", "😷", "\u200d", "\ufe0f", "👩", "🏽", "1", "#", "\u20e3", "©", "\r\n",
    "\n", "http://", "https://", "www", "/", "-", "@", "\u202f", "–", "سڵاو", "پاکستان", "3.5",
    "U.S.", "🇹", "🇷",
]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_FRAGMENTS), max_size=40).map("".join))
def test_shortcut_equals_parse_tweet(text):
    assert weighted_length(text) == import_twitter_text().parse_tweet(text).weightedLength


def test_counts_without_importing_twitter_text_or_pkg_resources():
    # A fresh interpreter, where importing pkg_resources fails as with setuptools 82+.
    script = textwrap.dedent(
        """
        import sys

        class NoPkgResources:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] == "pkg_resources":
                    raise ImportError("no pkg_resources, as with setuptools 82+")

        sys.meta_path.insert(0, NoPkgResources())
        from pipeline.platforms import xtext
        assert xtext.weighted_length("日本 😷 https://example.org") == 4 + 1 + 2 + 1 + 23
        assert "twitter_text" not in sys.modules, "imported (its regexes take ~0.2 s)"
        assert "pkg_resources" not in sys.modules, "stand-in left behind"
        from pipeline.platforms.xtext_generate import import_twitter_text
        assert import_twitter_text().parse_tweet("日本 😷").weightedLength == 7
        assert "pkg_resources" not in sys.modules, "stand-in left behind"
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
