"""The cache of X lengths between runs: same answers, nothing counted again when warm."""

from __future__ import annotations

import json
import subprocess
import sys

TEXTS = ["Plain words", "Link https://example.org/a?b=c and 😀 emoji", "中文 and عربی"]

PROBE = f"""
import json
from pipeline.platforms import xtext
counted = []
count = xtext._count
xtext._count = lambda text: counted.append(text) or count(text)
print(json.dumps({{"lengths": [xtext.weighted_length(t) for t in {TEXTS!r}],
                  "counted": len(counted)}}))
"""


def count_in_a_new_process(cache_dir) -> dict:
    env = {"CROSSPOST_CACHE_DIR": str(cache_dir), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True,
                         text=True, check=True, timeout=60)
    return json.loads(out.stdout)


def test_a_second_run_gives_the_same_lengths_without_counting_again(tmp_path):
    cold = count_in_a_new_process(tmp_path)
    warm = count_in_a_new_process(tmp_path)

    assert cold["counted"] == len(TEXTS) and warm["counted"] == 0
    assert warm["lengths"] == cold["lengths"]
    # "Link " 5 + the URL 23 + " and " 5 + the emoji 2 + " emoji" 6
    assert cold["lengths"][1] == 41


def test_a_corrupt_cache_is_ignored(tmp_path):
    count_in_a_new_process(tmp_path)
    [cache] = tmp_path.iterdir()
    cache.write_text("{not json")

    result = count_in_a_new_process(tmp_path)

    assert result["counted"] == len(TEXTS)
    assert json.loads(cache.read_text())  # rewritten whole


def test_an_empty_cache_dir_turns_it_off(tmp_path):
    env = {"CROSSPOST_CACHE_DIR": "", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    subprocess.run([sys.executable, "-c", PROBE], env=env, check=True, timeout=60,
                   capture_output=True)
    assert list(tmp_path.rglob("x-lengths-*")) == []
