"""Heads per format, the multi-task model, encoder-only transfer."""

from __future__ import annotations

import pytest
import torch
from test_engine_common import SPECS, dataset, tiny_encoder, tokenizer

from xstilts.engine.collate import make_collator
from xstilts.engine.featurize import featurize
from xstilts.engine.modeling import (
    MultiTaskModel,
    build_model,
    load_for_inference,
    save_encoder,
    save_full_model,
)

HEADS = ["cls", "mc", "qa", "tag", "mlm"]


def batch_for(name: str, n: int = 4) -> dict:
    spec = SPECS[name]
    feats = featurize(spec, dataset(name, n), tokenizer(), max_length=48, doc_stride=16)
    return make_collator(spec.format, tokenizer())([feats[i] for i in range(n)])


@pytest.mark.parametrize("name", HEADS)
def test_head_forward_backward(name):
    torch.manual_seed(0)
    model = build_model(SPECS[name], tiny_encoder())
    batch = batch_for(name)
    out = model(**batch)
    assert torch.isfinite(out.loss)
    out.loss.backward()
    encoder_grad = model.base_model.embeddings.word_embeddings.weight.grad
    assert encoder_grad is not None and encoder_grad.abs().sum() > 0
    if name == "tag":
        assert out.logits.shape[-1] == 3
    if name == "mc":
        assert out.logits.shape == (4, 3)


def test_mlm_head_is_tied_to_the_shared_embeddings():
    model = build_model(SPECS["mlm"], tiny_encoder())
    assert model.lm_head.decoder.weight is model.base_model.embeddings.word_embeddings.weight


def test_multitask_model_shares_one_encoder_and_dedups_state():
    specs = {n: (SPECS[n], list(SPECS[n].labels) or None) for n in HEADS}
    model = MultiTaskModel.build(specs, tiny_encoder())
    for head in model.heads.values():
        assert head.base_model is model.encoder
    for name in HEADS:
        out = model(task_name=name, **batch_for(name))
        out.loss.backward()
    state = model.state_dict()
    assert not any(".roberta." in k for k in state)  # shared encoder stored once
    n_params = sum(p.numel() for p in model.parameters())  # parameters() dedups shared ones
    assert sum(v.numel() for v in state.values()) >= n_params
    clone = MultiTaskModel.build(specs, tiny_encoder())
    clone.load_state_dict(state)
    for key, value in clone.state_dict().items():
        assert torch.equal(value, state[key]), key
    with pytest.raises(KeyError, match="unknown task"):
        model(task_name="nope", **batch_for("cls"))


def test_encoder_transfers_and_head_does_not(tmp_path):
    torch.manual_seed(0)
    trained = build_model(SPECS["cls"], tiny_encoder())
    with torch.no_grad():  # "training": move every weight away from its initial value
        for p in trained.parameters():
            p.add_(0.5)
    save_encoder(trained, tmp_path / "enc", tokenizer())
    assert (tmp_path / "enc" / "model.safetensors").is_file()
    assert (tmp_path / "enc" / "tokenizer.json").is_file()
    torch.manual_seed(0)
    nxt = build_model(SPECS["cls"], tmp_path / "enc")  # same head type: still a fresh head
    for key, value in trained.base_model.state_dict().items():
        assert torch.equal(value, nxt.base_model.state_dict()[key]), key
    for key, value in trained.classifier.state_dict().items():
        assert not torch.equal(value, nxt.classifier.state_dict()[key]), key
    # and a different head on the same encoder
    qa = build_model(SPECS["qa"], tmp_path / "enc")
    emb = "embeddings.word_embeddings.weight"
    assert torch.equal(qa.base_model.state_dict()[emb], trained.base_model.state_dict()[emb])


def test_full_model_roundtrip(tmp_path):
    model = build_model(SPECS["tag"], tiny_encoder())
    model.eval()
    save_full_model(model, tmp_path / "m", tokenizer())
    loaded = load_for_inference(SPECS["tag"], tmp_path / "m")
    loaded.eval()
    batch = batch_for("tag")
    batch.pop("labels")
    with torch.no_grad():
        assert torch.allclose(model(**batch).logits, loaded(**batch).logits)
    assert loaded.config.id2label[1] == "B-X"
