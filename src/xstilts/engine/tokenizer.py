"""Train a SentencePiece-Unigram tokenizer saved in XLM-R's layout.

The tokenizer is trained with HF `tokenizers` (Unigram model, NFKC normalisation, Metaspace
pre-tokenizer) and saved through transformers' `XLMRobertaTokenizer` (the tokenizers-backed class
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

    Languages written without spaces are segmented by the Unigram model itself (SentencePiece
    style: a whole space-less sentence is one pre-token). Returns the reloaded tokenizer
    (`AutoTokenizer.from_pretrained(out_dir)`, an `XLMRobertaTokenizer`).
    """
    from tokenizers import Tokenizer, decoders, normalizers, pre_tokenizers, trainers
    from tokenizers.models import Unigram
    from transformers import AutoTokenizer, XLMRobertaTokenizer

    if vocab_size <= len(SPECIAL_TOKENS):
        raise ValueError(f"vocab_size must exceed {len(SPECIAL_TOKENS)}, got {vocab_size}")
    charsmap = nmt_nfkc_charsmap()
    backend = Tokenizer(Unigram())
    backend.normalizer = normalizers.Precompiled(charsmap)
    backend.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.WhitespaceSplit(),
        pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always"),
    ])
    backend.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    trainer = trainers.UnigramTrainer(
        vocab_size=vocab_size, special_tokens=list(SPECIAL_TOKENS), unk_token="<unk>",
        max_piece_length=16, show_progress=False)
    backend.train_from_iterator(_clean(texts), trainer=trainer)
    vocab = _unigram_vocab(backend)
    if [p for p, _ in vocab[:len(SPECIAL_TOKENS)]] != list(SPECIAL_TOKENS):
        raise RuntimeError(f"unexpected special-token order in trained vocab: {vocab[:5]}")
    if len(vocab) <= len(SPECIAL_TOKENS):
        raise ValueError("train_tokenizer: no text to train on (all texts empty)")
    tokenizer = XLMRobertaTokenizer(vocab=vocab, _spm_precompiled_charsmap=charsmap)
    tokenizer.model_max_length = 512
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tokenizer.save_pretrained(str(out))
    return AutoTokenizer.from_pretrained(str(out))


def _unigram_vocab(backend: Any) -> list[tuple[str, float]]:
    import json

    model = json.loads(backend.to_str())["model"]
    return [(str(piece), float(score)) for piece, score in model["vocab"]]
