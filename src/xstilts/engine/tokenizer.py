"""Train a SentencePiece-Unigram tokenizer saved in XLM-R's layout.

The tokenizer is trained with SentencePiece (unigram, nmt_nfkc normalisation, "▁" word prefix)
and saved through transformers' `XLMRobertaTokenizer` (the tokenizers-backed class
that transformers 5 uses for `xlm-roberta-large`), so `AutoTokenizer.from_pretrained(out_dir)`
returns the same class with the same behaviour as for XLM-R.

Transformers 5 rebuilds an XLM-R tokenizer from `tokenizer.json` keeping only the vocabulary, the
post-processor and a SentencePiece *precompiled* normalizer; a plain `NFKC` normalizer would be
dropped on reload. We therefore use SentencePiece's own `nmt_nfkc` charsmap (what XLM-R uses),
obtained once from the `sentencepiece` package.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

SPECIAL_TOKENS: tuple[str, ...] = ("<s>", "<pad>", "</s>", "<unk>", "<mask>")


def _proto_fields(data: bytes) -> Iterator[tuple[int, bytes | None]]:
    """Minimal protobuf wire-format reader: yields (field number, bytes for length-delimited)."""

    def varint(i: int) -> tuple[int, int]:
        value, shift = 0, 0
        while True:
            byte = data[i]
            i += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                return value, i

    i = 0
    while i < len(data):
        key, i = varint(i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            _, i = varint(i)
            yield number, None
        elif wire == 2:
            length, i = varint(i)
            yield number, data[i:i + length]
            i += length
        elif wire in (1, 5):
            i += 8 if wire == 1 else 4
            yield number, None
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")


@cache
def nmt_nfkc_charsmap() -> bytes:
    """SentencePiece's precompiled `nmt_nfkc` normalisation map (as in XLM-R's tokenizer)."""
    try:
        import sentencepiece as spm
    except ImportError as exc:  # pragma: no cover - dependency declared in pyproject
        raise ImportError("train_tokenizer needs the 'sentencepiece' package "
                          "(pip install sentencepiece)") from exc
    buf = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(["a b c"] * 4), model_writer=buf, vocab_size=8,
        normalization_rule_name="nmt_nfkc", hard_vocab_limit=False, model_type="char",
        minloglevel=2)
    # ModelProto field 3 = normalizer_spec; NormalizerSpec field 2 = precompiled_charsmap
    spec = next(v for n, v in _proto_fields(buf.getvalue()) if n == 3)
    assert spec is not None
    charsmap = next(v for n, v in _proto_fields(spec) if n == 2)
    assert charsmap
    return charsmap


def _clean(texts: Iterable[str]) -> Iterator[str]:
    for text in texts:
        text = text.strip()
        if text:
            yield text


def train_tokenizer(texts: Iterable[str], vocab_size: int, out_dir: str | Path) -> Any:
    """Train a Unigram tokenizer on `texts` and save it to `out_dir` in XLM-R's layout.

    Trained by SentencePiece itself (as XLM-R's was: unigram, nmt_nfkc, whitespace as a "▁"
    prefix; languages written without spaces are segmented by the model), single-threaded so that
    the same texts always give the same vocabulary, scores and ids. Returns the reloaded tokenizer
    (`AutoTokenizer.from_pretrained(out_dir)`, an `XLMRobertaTokenizer`).
    """
    import sentencepiece as spm
    from transformers import AutoTokenizer, XLMRobertaTokenizer

    if vocab_size <= len(SPECIAL_TOKENS):
        raise ValueError(f"vocab_size must exceed {len(SPECIAL_TOKENS)}, got {vocab_size}")
    lines = list(_clean(texts))
    if not lines:
        raise ValueError("train_tokenizer: no text to train on (all texts empty)")
    buf = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(lines), model_writer=buf, vocab_size=vocab_size,
        model_type="unigram", normalization_rule_name="nmt_nfkc", character_coverage=1.0,
        hard_vocab_limit=False, num_threads=1, max_sentencepiece_length=16,
        bos_id=0, pad_id=1, eos_id=2, unk_id=3, bos_piece="<s>", pad_piece="<pad>",
        eos_piece="</s>", unk_piece="<unk>", user_defined_symbols=["<mask>"], minloglevel=2)
    model = spm.SentencePieceProcessor(model_proto=buf.getvalue())
    vocab = [(model.id_to_piece(i), float(model.get_score(i)))
             for i in range(model.get_piece_size())]
    if [p for p, _ in vocab[:len(SPECIAL_TOKENS)]] != list(SPECIAL_TOKENS):
        raise RuntimeError(f"unexpected special-token order in trained vocab: {vocab[:5]}")
    tokenizer = XLMRobertaTokenizer(vocab=vocab, _spm_precompiled_charsmap=nmt_nfkc_charsmap())
    tokenizer.model_max_length = 512
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tokenizer.save_pretrained(str(out))
    return AutoTokenizer.from_pretrained(str(out))
