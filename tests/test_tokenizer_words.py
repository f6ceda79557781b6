"""Tokenizer of languages written without spaces: pieces stay inside words."""

from __future__ import annotations

import random

CHARS = "嚙啳媐媥乗垇叏僩冭坹劷劔啺厥冟兵僾劍哵哮垱啥吱"


def _language(stream: int) -> list[list[str]]:
    """Sentences (as word lists) of a small unspaced language with a few frequent phrases;
    `stream` seeds the sentences (the lexicon is always the same)."""
    rng = random.Random(0)
    words = sorted({"".join(rng.choice(CHARS) for _ in range(rng.randint(1, 3)))
                    for _ in range(120)})
    phrases = [[rng.choice(words) for _ in range(3)] for _ in range(5)]
    rng = random.Random(stream)
    sentences = []
    for _ in range(1500):
        sent = [rng.choice(words) for _ in range(rng.randint(1, 4))]
        at = rng.randint(0, len(sent))
        sentences.append(sent[:at] + rng.choice(phrases) + sent[at:])
    return sentences


def _crossing(tokenizer, sentences: list[list[str]]) -> float:
    """Share of pieces that span a word boundary of running (unspaced) text."""
    crossing = total = 0
    for sent in sentences:
        bounds, pos = set(), 0
        for word in sent:
            pos += len(word)
            bounds.add(pos)
        enc = tokenizer("".join(sent), add_special_tokens=False, return_offsets_mapping=True)
        for start, end in enc["offset_mapping"]:
            total += 1
            crossing += any(start < b < end for b in bounds)
    return crossing / total


def test_word_segmented_training_text_keeps_pieces_inside_words(tmp_path):
    """Trained on running text, the unigram vocabulary learns multi-word chunks of frequent
    phrases; trained on the same sentences segmented with WORD_DELIMITER, no piece spans two
    words, while running text is still what gets encoded (no delimiter needed there)."""
    from xstilts.engine.tokenizer import WORD_DELIMITER, train_tokenizer

    sentences = _language(stream=1)
    running = train_tokenizer(["".join(s) for s in sentences], 400, tmp_path / "running")
    segmented = train_tokenizer([WORD_DELIMITER.join(s) for s in sentences], 400,
                                tmp_path / "segmented")
    held_out = _language(stream=2)[:200]
    assert _crossing(running, held_out) > 0.2, _crossing(running, held_out)
    assert _crossing(segmented, held_out) < 0.02, _crossing(segmented, held_out)
    assert not any(WORD_DELIMITER in piece for piece in segmented.get_vocab())
    assert segmented.unk_token_id not in segmented("".join(held_out[0]))["input_ids"]
