"""Parallel data: reading aligned pairs, TLM sequences and code-switching."""

from __future__ import annotations

import random

import pytest

from xstilts.data.parallel import code_switched, cross_lingual_texts, read_parallel, tlm_text
from xstilts.data.schema import DataError

HEADER = "type\ten\txx\talignment\ten_text\ttext\n"
ROWS = [
    "sent\tAna lives in Roma .\tAna Roma xin lofa .\t0-0 1-3 2-2 3-1 4-4\t"
    "Ana lives in Roma.\tAna Roma xin lofa.\n",
    "sent\tBo works .\tnaxi Bo .\t0-1 1-0 2-2\tBo works.\tnaxi Bo.\n",
    "word\tlives\tlofa\t0-0\tlives\tlofa\n",
]


def _write(tmp_path, rows=ROWS, header=HEADER):
    (tmp_path / "parallel").mkdir()
    (tmp_path / "parallel" / "xx.tsv").write_text(header + "".join(rows), encoding="utf-8")
    return tmp_path


def test_read_parallel_keeps_sentences_and_alignments(tmp_path):
    pairs = read_parallel(_write(tmp_path), "xx")
    assert [p.en_text for p in pairs] == ["Ana lives in Roma.", "Bo works."]
    assert pairs[0].alignment[1] == (1, 3)
    assert pairs[1].tokens == ("naxi", "Bo", ".")


@pytest.mark.parametrize("rows, header, message", [
    (["sent\tA b\tx y\t0-5\tA b\tx y\n"], HEADER, "row 2: alignment 0-5 outside"),
    (["sent\tA b\tx y\t0:1\tA b\tx y\n"], HEADER, "row 2: alignment item '0:1'"),
    (ROWS, "type\ten\talignment\ten_text\ttext\n", "missing column(s) ['xx']"),
    (ROWS[2:], HEADER, "no 'sent' rows"),
])
def test_bad_parallel_file_names_file_and_row(tmp_path, rows, header, message):
    root = _write(tmp_path, rows, header)
    with pytest.raises(DataError, match="xx.tsv") as err:
        read_parallel(root, "xx")
    assert message in str(err.value)


def test_code_switching_replaces_aligned_words(tmp_path):
    pair = read_parallel(_write(tmp_path), "xx")[0]
    to_en, to_xx = code_switched(pair, 1.0, random.Random(0))
    # every foreign word replaced by its English counterpart, in foreign word order
    assert to_en == "Ana Roma in lives."
    assert to_xx == "Ana lofa xin Roma."
    # nothing switched: both sentences exactly as written (no space before punctuation)
    assert code_switched(pair, 0.0, random.Random(0)) == (pair.text, pair.en_text)
    mixed = {code_switched(pair, 0.5, random.Random(s))[0] for s in range(30)}
    assert len(mixed) > 2  # partial switching varies with the draw


def test_tlm_joins_both_sides_in_either_order():
    from xstilts.data.parallel import ParallelPair

    pair = ParallelPair("xx", ("a",), ("b",), ((0, 0),), "A.", "B.")
    orders = {tlm_text(pair, random.Random(s), "</s>") for s in range(20)}
    assert orders == {"A. </s> B.", "B. </s> A."}


def test_cross_lingual_texts_excludes_evaluation_sentences(tmp_path):
    pairs = read_parallel(_write(tmp_path), "xx")
    both = cross_lingual_texts(pairs, tlm=True, code_switch=0.3, seed=1)
    assert len(both) == 2 * 3  # one TLM + two code-switched sentences per pair
    assert both == cross_lingual_texts(pairs, tlm=True, code_switch=0.3, seed=1)
    kept = cross_lingual_texts(pairs, tlm=True, code_switch=0.0, seed=1, exclude={"naxi Bo."})
    assert len(kept) == 1 and "Ana lives in Roma." in kept[0]
    with pytest.raises(ValueError, match="code_switch"):
        cross_lingual_texts(pairs, tlm=False, code_switch=1.5, seed=1)


def test_code_switching_writes_unspaced_languages_without_spaces():
    """In a language written without spaces its own words stay joined as in running text (a
    space-joined token list would make a tokenizer cut them into other pieces); switched-in
    English words are set off by a space, and a foreign phrase in English stays unseparated."""
    from xstilts.data.parallel import ParallelPair

    pair = ParallelPair("xx", ("Ana", "lives", "in", "Roma", "."),
                        ("アナ", "ロマ", "ニ", "スム", "。"),
                        ((0, 0), (1, 3), (2, 2), (3, 1), (4, 4)), "Ana lives in Roma.",
                        "アナロマニスム。")
    assert code_switched(pair, 0.0, random.Random(0), spaced=False) == (pair.text, pair.en_text)
    to_en, to_xx = code_switched(pair, 1.0, random.Random(0), spaced=False)
    assert to_en == "Ana Roma in lives."
    assert to_xx == "アナ スム ニ ロマ。"
    texts = {code_switched(pair, 0.5, random.Random(s), spaced=False)[0] for s in range(400)}
    assert "アナロマ inスム。" in texts  # only "in" switched: native words stay unseparated
    joined = ParallelPair("xx", ("Bo", "sleeps", "."), ("ボ", "ネ", "ル", "。"),
                          ((0, 0), (1, 1), (1, 2), (2, 3)), "Bo sleeps.", "ボネル。")
    assert code_switched(joined, 1.0, random.Random(0), spaced=False)[1] == "ボ ネル。"
