"""The rules xtext.py counts with are exactly those of the installed twitter-text-parser.

pipeline/platforms/xtext_data.py is generated from the library so that counting never imports
it (its regexes take ~0.2 s to compile). After an upgrade of the pinned version this fails until
the data is generated again: `python -m pipeline.platforms.xtext_generate >
pipeline/platforms/xtext_data.py` (the generator also refuses a library whose regexes are no
longer built the way xtext.py relies on).
"""

from __future__ import annotations

from pipeline.platforms import xtext_data
from pipeline.platforms.xtext_generate import rules


def test_committed_rules_equal_the_installed_library():
    expected = rules()
    committed = {name: getattr(xtext_data, name) for name in dir(xtext_data) if name.isupper()}
    assert committed.keys() == expected.keys()
    for name, value in expected.items():
        assert committed[name] == value, f"{name} differs: regenerate xtext_data.py"
