"""Counting grapheme clusters without `regex` (pipeline/platforms/graphemes.py) where no
character can join a neighbour: the same counts as `regex`'s \\X."""

from __future__ import annotations

import sys
import unicodedata

import regex
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.platforms import graphemes

CLUSTER = regex.compile(r"\X")
STANDALONE = [
    chr(c)
    for c in range(0x300, sys.maxunicode + 1)
    if graphemes._standalone(chr(c))
]


def clusters(text: str) -> int:
    return sum(1 for _ in CLUSTER.finditer(text))


def test_no_character_taken_as_standalone_joins_a_neighbour():
    # Joined after a letter (Extend, ZWJ, SpacingMark), before one (Prepend), or to itself
    # (regional indicators, Hangul), it would make fewer than four clusters.
    joined = [c for c in STANDALONE if clusters(f"a{c}{c}a") != 4]
    assert joined == [], [f"U+{ord(c):04X} {unicodedata.name(c, '?')}" for c in joined[:20]]


def test_marks_joiners_modifiers_and_flags_are_not_standalone():
    for char in ("\u0301", "\u200d", "\ufe0f", "\U0001f3fd", "\U0001f1f9", "\u0e33", "\u1100",
                 "\uac00", "\u200c", "\U000e0067", "\u0600"):
        assert not graphemes._standalone(char), f"U+{ord(char):04X}"


_PIECES = ["a", " ", "\r\n", "\n", "é", "😷", "🌍", "“", "”", "•", "—", "€", "≤", "Ω", "ж",
           "İ", "ı", "\u2028", "\u0301", "\u200d", "\ufe0f", "🏽", "🇹", "🇷", "한", "ก", "ำ",
           "👩\u200d👩\u200d👧", "1\ufe0f\u20e3", "م", "\u200c"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=40).map("".join))
def test_property_counts_equal_regex_clusters(text):
    assert graphemes.count(text) == clusters(text)
