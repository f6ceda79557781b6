"""Retrieval embeddings on the job's device: precision, autocast, length batches, truncation."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch
from datasets import Dataset, DatasetDict

from xstilts.engine.device import enable_tf32, resolve_device, resolve_precision
from xstilts.engine.retrieval import (
    Encoder,
    embed_all_layers,
    length_batches,
    load_retrieval_encoder,
    run_retrieval,
    truncated,
)

WORDS = ["the", "a", "cat", "dog", "sat", "ran", "on", "under", "mat", "table", "red", "blue",
         "green", "big", "small", "house", "tree", "river", "city", "road", "old", "new", "quick",
         "slow", "bird", "fish", "sun", "moon", "star"]


@pytest.fixture(scope="module")
def deep_encoder(tmp_path_factory):
    """A 4-layer XLM-R-shaped encoder with a word-level tokenizer (random weights)."""
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast, XLMRobertaConfig, XLMRobertaModel

    vocab = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3}
    for w in WORDS:
        vocab[w] = len(vocab)
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", special_tokens=[("<s>", 0), ("</s>", 2)])
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>",
                                   pad_token="<pad>", unk_token="<unk>", cls_token="<s>",
                                   sep_token="</s>")
    config = XLMRobertaConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=4,
                              num_attention_heads=2, intermediate_size=64,
                              max_position_embeddings=64, pad_token_id=1)
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("deep_xlmr")
    XLMRobertaModel(config).save_pretrained(path)
    fast.save_pretrained(path)
    return path


def _sentences(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    out: list[str] = []
    while len(out) < n:
        s = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 12)))
        if s not in out:
            out.append(s)
    return out


def _noisy(texts: list[str], seed: int) -> list[str]:
    """Each sentence with one word dropped (a translation that is close, not identical)."""
    rng = random.Random(seed)
    out = []
    for t in texts:
        words = t.split()
        del words[rng.randrange(len(words))]
        out.append(" ".join(words))
    return out


def test_truncation_gives_the_full_models_layer_and_skips_the_layers_above(deep_encoder):
    enc = load_retrieval_encoder(deep_encoder, device="cpu")
    texts = _sentences(9, seed=3)
    ran: list[int] = []
    hooks = [layer.register_forward_hook(lambda m, i, o, k=k: ran.append(k))
             for k, layer in enumerate(enc.model.encoder.layer)]
    try:
        at_2 = embed_all_layers(texts, enc, layers=[2], batch_size=4)[0]
    finally:
        for h in hooks:
            h.remove()
    assert set(ran) == {0, 1}  # layers 3 and 4 never ran
    assert len(enc.model.encoder.layer) == 4  # restored afterwards
    # the full model's hidden_states[2], mean-pooled by hand, one sentence at a time
    for row, text in enumerate(texts):
        ids = enc.tokenizer(text, return_tensors="pt")
        with torch.no_grad():
            hidden = enc.model(**ids, output_hidden_states=True).hidden_states
        assert len(hidden) == 5
        np.testing.assert_allclose(at_2[row], hidden[2][0].mean(0).numpy(), atol=1e-5)
    every = embed_all_layers(texts, enc, batch_size=4)
    np.testing.assert_allclose(every[2], at_2, atol=1e-6)
    np.testing.assert_allclose(embed_all_layers(texts, enc, layers=[3, 0])[1], every[0],
                               atol=1e-6)
    with truncated(enc.model, 1) as depth:
        assert depth == 1 and len(enc.model.encoder.layer) == 1
    assert len(enc.model.encoder.layer) == 4


def test_accelerator_path_bf16_autocast_gives_the_cpu_ranking(deep_encoder):
    """The accelerator path (bf16 autocast, accelerator batch sizes) exercised on the CPU:
    the same Tatoeba ranking as the fp32 CPU path."""
    cpu = load_retrieval_encoder(deep_encoder, device="cpu")
    assert cpu.precision == "fp32"
    accel = load_retrieval_encoder(cpu, precision="bf16")
    assert accel.precision == "bf16" and accel.device.type == "cpu"
    seen: list[tuple[str, bool, torch.dtype]] = []

    def spy(module, args, kwargs, output):
        seen.append((kwargs["input_ids"].device.type, torch.is_autocast_enabled("cpu"),
                     torch.get_autocast_dtype("cpu")))

    handle = accel.model.register_forward_hook(spy, with_kwargs=True)
    src = _sentences(24, seed=4)
    data = {"xx": DatasetDict({
        "source": Dataset.from_dict({"id": [f"s{i}" for i in range(24)], "text": src}),
        "target": Dataset.from_dict({"id": [f"t{i}" for i in range(24)],
                                     "text": _noisy(src, 5)}),
        "gold": Dataset.from_dict({"source_id": [f"s{i}" for i in range(24)],
                                   "target_id": [f"t{i}" for i in range(24)]})})}
    try:
        fast = run_retrieval("tatoeba", data, accel, layer=3, max_length=32, threads=1,
                             batch_size=256, max_tokens=64)
    finally:
        handle.remove()
    assert seen and all(dev == "cpu" and on and dtype == torch.bfloat16
                        for dev, on, dtype in seen)
    exact = run_retrieval("tatoeba", data, cpu, layer=3, max_length=32, threads=1)
    assert fast["predictions"]["xx"] == exact["predictions"]["xx"]
    assert exact["metrics"]["xx"]["accuracy"] > 50  # a real ranking, not all ties
    # the vectors themselves agree to bf16 precision
    a = embed_all_layers(src, accel, layers=[3])[0]
    b = embed_all_layers(src, cpu, layers=[3])[0]
    cos = np.sum(a * b, axis=1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    assert cos.min() > 0.99


def test_length_batches_respect_rows_and_token_budget():
    lengths = [5, 30, 7, 30, 12, 3, 3, 9]
    batches = length_batches(lengths, batch_size=3, max_tokens=64)
    assert sorted(i for b in batches for i in b) == list(range(8))
    for b in batches:
        assert len(b) <= 3
        assert len(b) == 1 or len(b) * max(lengths[i] for i in b) <= 64
        assert [lengths[i] for i in b] == sorted((lengths[i] for i in b), reverse=True)
    assert batches[0] == [1, 3]  # the longest first, two of 30 fit in 64 tokens
    assert length_batches([100], 8, max_tokens=10) == [[0]]  # too long alone: its own batch
    assert length_batches(lengths, 8) == [sorted(range(8), key=lambda i: (-lengths[i], i))]


def test_device_and_precision_resolution(monkeypatch):
    assert resolve_device("cpu").type == "cpu"
    if not torch.cuda.is_available():
        assert resolve_device(None).type == "cpu"
        with pytest.raises(ValueError, match="CUDA is not available"):
            resolve_device("cuda")
    assert resolve_precision(torch.device("cpu")) == "fp32"
    assert resolve_precision(torch.device("cpu"), "bf16") == "bf16"
    with pytest.raises(ValueError, match="precision must be one of"):
        resolve_precision(torch.device("cpu"), "fp8")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)
    assert resolve_device(None) == torch.device("cuda")
    assert resolve_device("auto") == torch.device("cuda")
    assert resolve_precision(torch.device("cuda")) == "bf16"
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: False)
    assert resolve_precision(torch.device("cuda")) == "fp16"
    monkeypatch.setattr(torch.backends.cuda.matmul, "allow_tf32", False)
    monkeypatch.setattr(torch.backends.cudnn, "allow_tf32", False)
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda *a: (7, 0))
    assert not enable_tf32() and not torch.backends.cuda.matmul.allow_tf32  # V100: no TF32
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda *a: (8, 0))
    assert enable_tf32() and torch.backends.cuda.matmul.allow_tf32  # A100
    assert torch.backends.cudnn.allow_tf32


def test_encoder_defaults_to_the_cpu_in_fp32():
    enc = Encoder(model=None, tokenizer=None, name="x")
    assert enc.device == torch.device("cpu") and enc.precision == "fp32"
