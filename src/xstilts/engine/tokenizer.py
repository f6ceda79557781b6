"""Train a tokenizer for a tiny model: SentencePiece-Unigram (XLM-R) or WordPiece (mBERT).

XLM-R (`train_tokenizer`): trained with SentencePiece (unigram, nmt_nfkc normalisation, "▁"
word prefix) and saved through transformers' `XLMRobertaTokenizer` (the tokenizers-backed class
that transformers 5 uses for `xlm-roberta-large`), so `AutoTokenizer.from_pretrained(out_dir)`
returns the same class with the same behaviour as for XLM-R.

Transformers 5 rebuilds an XLM-R tokenizer from `tokenizer.json` keeping only the vocabulary, the
post-processor and a SentencePiece *precompiled* normalizer; a plain `NFKC` normalizer would be
dropped on reload. We therefore use SentencePiece's own `nmt_nfkc` charsmap (what XLM-R uses),
obtained once from the `sentencepiece` package.

Languages written without spaces (Thai-like, Han-like): trained on running text, a unigram
vocabulary learns pieces spanning several words of a frequent phrase, since nothing marks word
ends (on mini-XTREME's small lexicon 64% of an 8000-piece vocabulary were such multi-word chunks
of two languages, while Greek or Devanagari words fell apart into letters). As XLM did (Lample &
Conneau 2019 segmented Chinese and Thai before learning BPE), such languages can be given as
word-segmented text with `WORD_DELIMITER` between words: SentencePiece's
`pretokenization_delimiter` keeps pieces inside words, and running text is encoded unchanged.

BERT (`train_wordpiece_tokenizer`): a cased WordPiece vocabulary ("##" continuation pieces,
mBERT's BasicTokenizer pre-tokenization: punctuation split, CJK characters split, no lowercasing,
no accent stripping) trained with the `tokenizers` library and saved as transformers 5's
`BertTokenizer`, as `bert-base-multilingual-cased` loads.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

SPECIAL_TOKENS: tuple[str, ...] = ("<s>", "<pad>", "</s>", "<unk>", "<mask>")
BERT_SPECIAL_TOKENS: tuple[str, ...] = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
TOKENIZER_KINDS: dict[str, str] = {"xlm-roberta": "sentencepiece", "bert": "wordpiece"}
# marks word boundaries in word-segmented training text (never part of a piece)
WORD_DELIMITER = "\u2063"


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
    the same texts always give the same vocabulary, scores and ids. `WORD_DELIMITER` in a text
    marks a word boundary that no piece crosses (for languages written without spaces).
    `vocab_size` is an upper bound: a corpus with fewer useful pieces gets a smaller vocabulary.
    Returns the reloaded tokenizer (`AutoTokenizer.from_pretrained(out_dir)`, an
    `XLMRobertaTokenizer`).
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
        pretokenization_delimiter=WORD_DELIMITER,
        bos_id=0, pad_id=1, eos_id=2, unk_id=3, bos_piece="<s>", pad_piece="<pad>",
        eos_piece="</s>", unk_piece="<unk>", user_defined_symbols=["<mask>"], minloglevel=2)
    model = spm.SentencePieceProcessor(model_proto=buf.getvalue())
    vocab = [(model.id_to_piece(i), float(model.get_score(i)))
             for i in range(model.get_piece_size())]
    if [p for p, _ in vocab[:len(SPECIAL_TOKENS)]] != list(SPECIAL_TOKENS):
        raise RuntimeError(f"unexpected special-token order in trained vocab: {vocab[:5]}")
    if any(WORD_DELIMITER in p for p, _ in vocab):
        raise RuntimeError("the word delimiter became part of a vocabulary piece")
    tokenizer = XLMRobertaTokenizer(vocab=vocab, _spm_precompiled_charsmap=nmt_nfkc_charsmap())
    tokenizer.model_max_length = 512
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tokenizer.save_pretrained(str(out))
    return AutoTokenizer.from_pretrained(str(out))


def _bert_pipeline() -> Any:
    """An untrained `tokenizers` WordPiece pipeline with mBERT-cased normalisation."""
    from tokenizers import Tokenizer, normalizers, pre_tokenizers
    from tokenizers.models import WordPiece

    tok = Tokenizer(WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True,
                                                strip_accents=False, lowercase=False)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    return tok


def train_wordpiece_tokenizer(texts: Iterable[str], vocab_size: int, out_dir: str | Path) -> Any:
    """Train a cased WordPiece tokenizer on `texts`; save it to `out_dir` in mBERT's layout.

    Deterministic: the `tokenizers` trainer numbers "##x" continuation characters in hash-map
    order, which changes which of two equally frequent merges wins. Every continuation
    character of the corpus is therefore registered up front (sorted) with the special tokens,
    so ids and merges depend on the texts only. Returns the reloaded tokenizer
    (`AutoTokenizer.from_pretrained(out_dir)`, a fast `BertTokenizer`; special ids [PAD]=0,
    [UNK]=1, [CLS]=2, [SEP]=3, [MASK]=4).
    """
    from tokenizers import trainers
    from transformers import AutoTokenizer, BertTokenizer

    if vocab_size <= len(BERT_SPECIAL_TOKENS):
        raise ValueError(f"vocab_size must exceed {len(BERT_SPECIAL_TOKENS)}, got {vocab_size}")
    lines = list(_clean(texts))
    if not lines:
        raise ValueError("train_wordpiece_tokenizer: no text to train on (all texts empty)")
    pipeline = _bert_pipeline()
    normalize, split = pipeline.normalizer.normalize_str, pipeline.pre_tokenizer.pre_tokenize_str
    continuation: set[str] = set()
    for line in lines:
        for word, _ in split(normalize(line)):
            continuation.update(word[1:])
    specials = [*BERT_SPECIAL_TOKENS, *("##" + c for c in sorted(continuation))]
    trainer = trainers.WordPieceTrainer(vocab_size=max(vocab_size, len(specials)),
                                        special_tokens=specials, show_progress=False,
                                        continuing_subword_prefix="##")
    pipeline.train_from_iterator(lines, trainer)
    vocab = pipeline.get_vocab()
    order = sorted(vocab, key=vocab.__getitem__)
    if order[:len(BERT_SPECIAL_TOKENS)] != list(BERT_SPECIAL_TOKENS):
        raise RuntimeError(f"unexpected special-token order in trained vocab: {order[:5]}")
    # only [PAD] ... [MASK] are special: the "##x" entries are ordinary vocabulary pieces
    tokenizer = BertTokenizer(vocab={t: i for i, t in enumerate(order)}, do_lower_case=False,
                              strip_accents=False, tokenize_chinese_chars=True)
    tokenizer.model_max_length = 512
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tokenizer.save_pretrained(str(out))
    return AutoTokenizer.from_pretrained(str(out))


def train_tokenizer_for(architecture: str, texts: Iterable[str], vocab_size: int,
                        out_dir: str | Path) -> Any:
    """The tokenizer of a tiny `architecture` model ("xlm-roberta": SentencePiece-Unigram,
    "bert": WordPiece), trained on `texts` and saved to `out_dir`."""
    if architecture not in TOKENIZER_KINDS:
        raise ValueError(f"architecture must be one of {sorted(TOKENIZER_KINDS)}, "
                         f"got {architecture!r}")
    if architecture == "bert":
        return train_wordpiece_tokenizer(texts, vocab_size, out_dir)
    return train_tokenizer(texts, vocab_size, out_dir)
