"""split_thread: how a text too long for one post becomes a numbered thread."""

from __future__ import annotations

import re

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from pipeline.platforms.xtext import MAX_WEIGHTED_LENGTH, weighted_length
from pipeline.threads import split_thread

NUMBERED = re.compile(r"(?s)(.+) (\d+)/(\d+)")


def bodies(parts: list[str]) -> list[str]:
    """The parts without their " i/N" numbering, checking that it runs 1/N..N/N."""
    matches = [NUMBERED.fullmatch(part) for part in parts]
    assert all(matches), parts
    assert [(int(m[2]), int(m[3])) for m in matches] == [
        (i, len(parts)) for i in range(1, len(parts) + 1)
    ]
    return [m[1] for m in matches]


def test_a_text_that_fits_is_one_part_unchanged():
    assert split_thread("Short enough.  ", 280, weighted_length) == ["Short enough.  "]
    assert split_thread("x" * 280, 280, weighted_length) == ["x" * 280]


def test_each_part_ends_with_a_space_and_its_number_of_the_total():
    parts = split_thread("one two three four five six", 12, len)
    assert parts == ["one two 1/4", "three 2/4", "four 3/4", "five six 4/4"]


def test_a_paragraph_break_is_preferred_even_if_more_would_fit():
    text = "Short first paragraph.\n\nThe second paragraph. It has two sentences."
    assert bodies(split_thread(text, 50, len)) == [
        "Short first paragraph.",
        "The second paragraph. It has two sentences.",
    ]


def test_paragraphs_that_fit_together_share_a_part():
    text = "One.\n\nTwo.\n\nThree is much longer than the others, far too long."
    assert bodies(split_thread(text, 40, len))[0] == "One.\n\nTwo."


def test_then_a_sentence_end():
    text = "We meet on Friday. Bring a friend! Will you come? Tickets are free."
    assert bodies(split_thread(text, 45, len)) == [
        "We meet on Friday. Bring a friend!",
        "Will you come? Tickets are free.",
    ]


@pytest.mark.parametrize(
    ("text", "first"),
    [
        ("ئێوە دێن؟ ئێمە لە مەیدانین و چاوەڕێتانین", "ئێوە دێن؟"),  # Arabic question mark
        ("我们明天见面。请大家来参加活动吧", "我们明天见面。"),  # no space after 。 in CJK
        ("First line\nsecond line goes on and on", "First line"),  # a line break
    ],
)
def test_other_sentence_ends(text, first):
    assert bodies(split_thread(text, 20, weighted_length))[0] == first


def test_then_a_word_boundary():
    text = "campaign posts in several languages reach more people every single day"
    parts = bodies(split_thread(text, 30, len))
    assert parts == ["campaign posts in several", "languages reach more", "people every single day"]


def test_a_single_overlong_token_is_cut_hard():
    token = "x" * 400
    parts = split_thread(token, 280, len)
    assert [len(p) for p in parts] == [280, 400 - 276 + 4]
    assert "".join(bodies(parts)) == token


def test_a_hard_cut_avoids_splitting_a_url():
    token = "x" * 30 + "https://example.org/abcdefghij"
    assert bodies(split_thread(token, 50, len)) == ["x" * 30, "https://example.org/abcdefghij"]


@pytest.mark.parametrize(
    "cluster",
    ["👨\u200d👩\u200d👧\u200d👦", "🇹🇷", "e\u0301\u0323", "👋🏽", "क्ष"],
)
def test_a_hard_cut_keeps_emoji_sequences_flags_and_combining_marks_whole(cluster):
    text = cluster * 40
    parts = bodies(split_thread(text, 30, len))
    assert "".join(parts) == text
    assert all(len(p) % len(cluster) == 0 for p in parts)


def test_every_part_fits_by_x_weighted_length_with_urls_and_cjk():
    url = "https://example.org/events/2026/spring-talks?utm_source=x&utm_campaign=gamechangers"
    text = " ".join(
        [f"Sesiya {i}: {url} 日本語のテキストも入ります。" for i in range(12)]
        + ["Rojbaş hevalno! Em ê sibê li meydanê bicivin."] * 5
    )
    assert weighted_length(text) > MAX_WEIGHTED_LENGTH
    parts = split_thread(text, MAX_WEIGHTED_LENGTH, weighted_length)
    assert all(weighted_length(p) <= MAX_WEIGHTED_LENGTH for p in parts)
    assert len(parts) > 1
    assert " ".join(bodies(parts)).split() == text.split()  # URLs whole, words in order
    assert sum(part.count(url) for part in parts) == 12


def test_nine_parts_are_numbered_9_of_9():
    parts = split_thread(" ".join(["a" * 15] * 9), 20, len)
    assert len(parts) == 9
    assert parts[-1] == "a" * 15 + " 9/9"


def test_ten_parts_take_the_wider_numbering_into_account():
    parts = split_thread(" ".join(["b" * 14] * 10), 20, len)
    assert parts[-1] == "b" * 14 + " 10/10"  # exactly 20
    assert all(len(p) <= 20 for p in parts)


def test_when_the_wider_numbering_no_longer_fits_a_word_it_is_cut():
    # 15 + " 9/9" fits 20, but 15 + " 10/11" does not: the tenth word spills over.
    parts = split_thread(" ".join(["a" * 15] * 10), 20, len)
    assert all(len(p) <= 20 for p in parts)
    assert parts[-2:] == ["a" * 14 + " 10/11", "a 11/11"]


def test_a_limit_too_small_for_the_numbering_is_an_error():
    with pytest.raises(ValueError, match="limit is too small"):
        split_thread("word " * 10, 4, len)


words = st.text(
    st.characters(blacklist_categories=("Zs", "Zl", "Zp", "Cc", "Cs")), min_size=1, max_size=20
)
separators = st.sampled_from([" ", "  ", "\n", "\n\n", ". ", "! ", "؟ "])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(words, separators), min_size=10, max_size=80), st.integers(30, 100))
def test_property_parts_fit_and_words_survive_in_order(pairs, limit):
    text = "".join(word + sep for word, sep in pairs)
    parts = split_thread(text, limit, len)
    assert all(len(p) <= limit for p in parts)
    if len(parts) > 1:
        assert " ".join(bodies(parts)).split() == text.split()


weighted_words = st.sampled_from(
    ["Rojbaş", "hevalno", "İstanbul", "سڵاو", "کۆدەبینەوە", "日本語", "中文。", "end.", "why?",
     "😷", "🇹🇷", "https://example.org/a/long/path/for/the/campaign"]
)  # fmt: skip


@settings(max_examples=25, deadline=None)  # URLs and emoji take parse_tweet's ~1.6 ms path
@given(
    st.lists(st.tuples(weighted_words, separators), min_size=30, max_size=120),
    st.integers(40, MAX_WEIGHTED_LENGTH),
)
# Found by hypothesis: "中文。." was split between the two full stops.
@example(pairs=[("Rojbaş", " ")] * 16 + [("中文。", ". ")] + [("Rojbaş", " ")] * 13, limit=40)
def test_property_parts_fit_by_x_weighted_length(pairs, limit):
    text = "".join(word + sep for word, sep in pairs)
    parts = split_thread(text, limit, weighted_length)
    assert all(weighted_length(p) <= limit for p in parts)
    if len(parts) > 1:
        assert " ".join(bodies(parts)).split() == text.split()


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.text("abcé日😷", min_size=1, max_size=90), min_size=1, max_size=20),
    st.integers(12, 40),
)
def test_property_hard_cuts_lose_no_character(tokens, limit):
    text = " ".join(tokens)
    parts = split_thread(text, limit, len)
    assert all(len(p) <= limit for p in parts)
    if len(parts) > 1:
        assert "".join("".join(bodies(parts)).split()) == "".join(tokens)


def _breaks_searching_before_each_gap(text):
    """The boundaries as first written: a sentence end searched for before every gap."""
    import re

    from pipeline.threads import _CJK_STOP, _CLOSERS, _GAP, END, PARAGRAPH, SENTENCE, WORD

    sentence_end = re.compile(rf"[.!?؟。！？۔][{_CLOSERS}]*$")
    found = []
    for gap in _GAP.finditer(text):
        start, end = gap.span()
        if start == 0 or end == len(text):
            continue
        if gap.group().count("\n") >= 2:
            strength = PARAGRAPH
        elif "\n" in gap.group() or sentence_end.search(text, max(0, start - 12), start):
            strength = SENTENCE
        else:
            strength = WORD
        found.append((start, end, strength))
    found += [(m.end(), m.end(), SENTENCE) for m in _CJK_STOP.finditer(text)]
    found.append((len(text.rstrip()), len(text), END))
    return sorted(found)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["a", "bc", " ", "  ", "\n", "\n\n", ".", "!", "?", "。", "؟",
                                 "”", ")", "»", "'", "\"", "]", "」", "x" * 12, ")" * 11,
                                 ")" * 12, "中文"]), max_size=60).map("".join))
def test_property_boundaries_found_in_one_pass_are_the_same(text):
    from pipeline.threads import _breaks

    assert _breaks(text) == _breaks_searching_before_each_gap(text)


_THREAD_PIECES = ["word", "longer words here", "https://example.org/path?q=1", "example.com",
                  "😷", "👨\u200d👩\u200d👧", "日本語の文", "中文。更多", "İstanbul", "e\u0301",
                  "#tag", "1\ufe0f\u20e3", "x" * 40, "©" + "a" * 63 + ".com", "éexample.com",
                  "©example.com", "“example.org”"]
_THREAD_GLUE = [" ", "\n", "\n\n", ". ", "! ", "\u3000", "\t", "\r\n", "\x1c", ", "]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(_THREAD_GLUE), st.sampled_from(_THREAD_PIECES)),
                min_size=5, max_size=60).map(lambda p: "".join(g + t for g, t in p)),
       st.sampled_from([40, 80, 140, 280]))
def test_property_parts_counted_from_the_whole_text_split_the_same(text, limit):
    from pipeline.platforms.xtext import span_counter

    def split(*spans):
        try:
            return split_thread(text, limit, weighted_length, *spans)
        except ValueError as exc:
            return str(exc)

    assert split(span_counter) == split()
