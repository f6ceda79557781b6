"""Shared builders for the engine tests (tiny tokenizer + encoder, canonical datasets) and the
tokenizer / tiny-model tests."""

from __future__ import annotations

import atexit
import random
import shutil
import tempfile
from functools import cache
from pathlib import Path

import pytest

from xstilts.data.schema import features_for
from xstilts.tasks.registry import TaskSpec

SYL = ["ka", "to", "mi", "ra", "su", "ne", "lo", "pa", "di", "gu", "be", "fo", "an", "el", "is"]
CJK = "我们今天去学校学习中文他们喜欢吃饭"
MARK = "学校"  # a marker word (labels are learnable from it)
SIZE = {"hidden": 32, "layers": 2, "heads": 2, "intermediate": 64, "max_position": 128}

SPECS = {
    "cls": TaskSpec("cls", "classification", "target", "accuracy", labels=("no", "yes")),
    "mc": TaskSpec("mc", "multiple_choice", "intermediate", "accuracy", num_choices=3),
    "qa": TaskSpec("qa", "qa", "target", "squad"),
    "qa2": TaskSpec("qa2", "qa", "intermediate", "squad", unanswerable=True),
    "tag": TaskSpec("tag", "tagging", "target", "seqeval_f1", labels=("O", "B-X", "I-X")),
    "mlm": TaskSpec("mlm", "mlm", "pretrain", "mlm_loss"),
}


def _tmpdir() -> Path:
    path = Path(tempfile.mkdtemp(prefix="xstilts-engine-test-"))
    atexit.register(shutil.rmtree, path, True)
    return path


@cache
def lexicon(seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(SYL) for _ in range(rng.randint(1, 3))) for _ in range(300)]


def sentence(rng: random.Random, lo: int = 4, hi: int = 14) -> list[str]:
    lex = lexicon()
    return [rng.choice(lex) for _ in range(rng.randint(lo, hi))]


def texts(n: int = 400, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    out = [" ".join(sentence(rng)) for _ in range(n)]
    out += ["".join(rng.choice(CJK) for _ in range(15)) for _ in range(n // 8)]
    return out


@cache
def tiny_encoder() -> Path:
    """A tiny XLM-R-shaped encoder + tokenizer dir (built once per test session)."""
    from xstilts.engine.tiny_model import init_encoder
    from xstilts.engine.tokenizer import train_tokenizer

    root = _tmpdir()
    tok = train_tokenizer(texts(), 500, root / "tok")
    return init_encoder(SIZE, tok, root / "enc", seed=0)


@cache
def tokenizer():
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(tiny_encoder()))


def dataset(name: str, n: int = 64, seed: int = 0):
    """A small canonical Dataset for SPECS[name]; labels are learnable from the text."""
    from datasets import Dataset

    spec = SPECS[name]
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        words = sentence(rng)
        if name == "cls":
            label = i % 2
            if label:
                words.insert(rng.randint(0, len(words)), MARK)
            rows.append({"id": f"c{i}", "text_a": " ".join(words),
                         "text_b": " ".join(sentence(rng, 2, 5)), "label": label})
        elif name == "mc":
            choices = [" ".join(sentence(rng, 1, 3)) for _ in range(3)]
            label = i % 3
            choices[label] = MARK + " " + choices[label]
            rows.append({"id": f"m{i}", "context": " ".join(words), "question": "fo ra",
                         "choices": choices, "label": label})
        elif name in ("qa", "qa2"):
            context = " ".join(words + sentence(rng, 20, 60))
            answer = words[1]
            start = len(words[0]) + 1
            unanswerable = name == "qa2" and i % 3 == 0
            rows.append({"id": f"q{i}", "title": "", "context": context,
                         "question": "what is " + words[0],
                         "answers": {"text": [] if unanswerable else [answer],
                                     "answer_start": [] if unanswerable else [start]}})
        elif name == "tag":
            tags = [1 if w.startswith("ka") else (2 if w.startswith("to") else 0) for w in words]
            rows.append({"id": f"t{i}", "tokens": words, "tags": tags})
        elif name == "mlm":
            rows.append({"id": f"l{i}", "lang": "xx", "text": " ".join(words)})
    return Dataset.from_list(rows, features=features_for(spec))


# ------------------------------------------------------------------ tokenizer / tiny model
def test_tokenizer_loads_like_xlmr():
    from transformers import AutoTokenizer, XLMRobertaTokenizer

    tok = AutoTokenizer.from_pretrained(str(tiny_encoder()))
    assert isinstance(tok, XLMRobertaTokenizer) and tok.is_fast
    assert [tok.cls_token_id, tok.pad_token_id, tok.sep_token_id, tok.unk_token_id] == [0, 1, 2, 3]
    assert tok.mask_token == "<mask>" and tok.mask_token_id == 4
    enc = tok("ka to", "mi ra")
    ids = enc["input_ids"]
    assert ids[0] == 0 and ids[-1] == 2 and ids.count(2) == 3  # <s> A </s></s> B </s>
    assert tok.decode(ids, skip_special_tokens=True) == "ka to mi ra"


def test_tokenizer_nfkc_survives_reload():
    from xstilts.engine.tokenizer import train_tokenizer

    out = _tmpdir() / "tok"
    trained = train_tokenizer(texts(200, seed=3), 300, out)
    from transformers import AutoTokenizer

    reloaded = AutoTokenizer.from_pretrained(str(out))
    text = "ＫＡＴＯ ka ﬁ ①"  # full-width letters, ligature, circled digit
    assert reloaded.backend_tokenizer.normalizer.normalize_str(text) == "KATO ka fi 1"
    assert trained(text)["input_ids"] == reloaded(text)["input_ids"]


def test_tokenizer_spaceless_language_segmented():
    tok = tokenizer()
    pieces = tok.tokenize("我们今天去学校")
    assert len(pieces) >= 2  # segmented into sub-words, not one unknown blob
    assert tok.unk_token not in pieces
    enc = tok("我们今天去学校", return_offsets_mapping=True)
    spans = [o for o in enc["offset_mapping"] if o[1] > o[0]]
    assert spans[0][0] == 0 and spans[-1][1] == len("我们今天去学校")


def test_tokenizer_rejects_tiny_vocab(tmp_path):
    from xstilts.engine.tokenizer import train_tokenizer

    with pytest.raises(ValueError, match="vocab_size"):
        train_tokenizer(["a b"], 3, tmp_path)


def test_tiny_encoder_loads_with_auto_model():
    import torch
    from transformers import AutoConfig, AutoModel

    path = tiny_encoder()
    assert (path / "model.safetensors").is_file() and (path / "tokenizer.json").is_file()
    config = AutoConfig.from_pretrained(str(path))
    assert config.model_type == "xlm-roberta" and config.hidden_size == 32
    assert config.num_hidden_layers == 2 and config.vocab_size == len(tokenizer())
    model = AutoModel.from_pretrained(str(path))
    ids = torch.tensor([[0] + [7] * 126 + [2]])  # the full max_position length fits
    assert model(input_ids=ids).last_hidden_state.shape == (1, 128, 32)


def test_tiny_encoder_is_seeded(tmp_path):
    from safetensors.torch import load_file

    from xstilts.engine.tiny_model import init_encoder

    a = init_encoder(SIZE, tokenizer(), tmp_path / "a", seed=5)
    b = init_encoder(SIZE, tokenizer(), tmp_path / "b", seed=5)
    c = init_encoder(SIZE, tokenizer(), tmp_path / "c", seed=6)
    wa, wb, wc = (load_file(str(p / "model.safetensors")) for p in (a, b, c))
    key = "embeddings.word_embeddings.weight"
    assert (wa[key] == wb[key]).all() and not (wa[key] == wc[key]).all()


def test_tiny_encoder_bad_size(tmp_path):
    from xstilts.engine.tiny_model import init_encoder

    with pytest.raises(ValueError, match="missing keys"):
        init_encoder({"hidden": 32}, tokenizer(), tmp_path, seed=0)
    with pytest.raises(ValueError, match="multiple"):
        init_encoder({**SIZE, "heads": 3}, tokenizer(), tmp_path, seed=0)
