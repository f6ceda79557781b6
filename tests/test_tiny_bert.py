"""A tiny BERT (WordPiece, token_type_ids) through the same engine paths as the tiny XLM-R:
tokenizer, model init, every head format, encoder transfer, retrieval, the pretrain stage, and
the per-model retrieval layer."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import pytest
import torch
from test_engine_common import SIZE, SPECS, _tmpdir, dataset, texts

from xstilts.engine.collate import make_collator
from xstilts.engine.featurize import featurize
from xstilts.engine.modeling import MultiTaskModel, build_model, save_encoder
from xstilts.engine.predict import Predictor
from xstilts.engine.training import TrainTask, train
from xstilts.grid.layers import KNOWN_RETRIEVAL_LAYERS, default_layer, retrieval_layer_for

HP = {"lr": 5e-3, "batch_size": 8, "max_length": 64, "doc_stride": 16, "warmup_ratio": 0.0,
      "logging": 10, "save_every": 1000}
EXTRA = ["Ana lives in Roma.", "Été à Paris, ÉCOLE École.", "我们今天去学校"]


@cache
def bert_encoder() -> Path:
    """A tiny BERT encoder + WordPiece tokenizer dir (built once per test session)."""
    from xstilts.engine.tiny_model import init_encoder
    from xstilts.engine.tokenizer import train_tokenizer_for

    root = _tmpdir()
    tok = train_tokenizer_for("bert", texts() + EXTRA, 500, root / "tok")
    return init_encoder(SIZE, tok, root / "enc", seed=0, architecture="bert")


@cache
def bert_tokenizer():
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(bert_encoder()))


def _train(name: str, root: Path, encoder: Path | None = None, steps: int = 4,
           output: str = "model", n: int = 24) -> Path:
    out = root / f"out-{name}-{output}"
    train([TrainTask(name, SPECS[name], dataset(name, n))], encoder or bert_encoder(), out,
          root / f"scratch-{name}-{output}", {**HP, "max_steps": steps, "output": output},
          seed=0, threads=1)
    return out


# ------------------------------------------------------------------ tokenizer and model
def test_wordpiece_tokenizer_loads_like_mbert():
    from transformers import AutoTokenizer, BertTokenizer

    tok = AutoTokenizer.from_pretrained(str(bert_encoder()))
    assert isinstance(tok, BertTokenizer) and tok.is_fast
    assert [tok.pad_token_id, tok.unk_token_id, tok.cls_token_id, tok.sep_token_id,
            tok.mask_token_id] == [0, 1, 2, 3, 4]
    assert tok.model_max_length == SIZE["max_position"]
    enc = tok("ka to", "mi ra")
    assert enc["input_ids"][0] == 2 and enc["input_ids"].count(3) == 2  # [CLS] A [SEP] B [SEP]
    b = enc["input_ids"].index(3) + 1
    assert set(enc["token_type_ids"][:b]) == {0} and set(enc["token_type_ids"][b:]) == {1}
    # cased, accents kept, CJK split into characters, "##" continuation pieces
    assert tok.tokenize("École") != tok.tokenize("école")
    assert tok.decode(tok("Été à Paris")["input_ids"], skip_special_tokens=True) == "Été à Paris"
    assert tok.tokenize("我们今天") == ["我", "们", "今", "天"]
    assert any(p.startswith("##") for p in tok.tokenize("kasumira tonemi"))
    assert tok.unk_token not in tok.tokenize("kasumira tonemi")


def test_wordpiece_training_is_deterministic(tmp_path):
    """The `tokenizers` trainer alone numbers "##x" pieces in hash-map order (varies per run)."""
    from xstilts.engine.tokenizer import train_wordpiece_tokenizer

    vocabs = [train_wordpiece_tokenizer(texts(400), 250, tmp_path / str(i)).get_vocab()
              for i in range(3)]
    assert vocabs[0] == vocabs[1] == vocabs[2]
    files = [(tmp_path / str(i) / "tokenizer.json").read_bytes() for i in range(3)]
    assert files[0] == files[1] == files[2]


def test_sentencepiece_path_unchanged_and_bad_architecture(tmp_path):
    from xstilts.engine.tokenizer import train_tokenizer, train_tokenizer_for

    train_tokenizer(texts(200, seed=3), 300, tmp_path / "a")
    train_tokenizer_for("xlm-roberta", texts(200, seed=3), 300, tmp_path / "b")
    for name in ("tokenizer.json", "tokenizer_config.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    with pytest.raises(ValueError, match="architecture"):
        train_tokenizer_for("gpt2", ["a b"], 300, tmp_path / "c")
    with pytest.raises(ValueError, match="vocab_size"):
        train_tokenizer_for("bert", ["a b"], 5, tmp_path / "d")


def test_tiny_bert_config_and_full_length(tmp_path):
    from transformers import AutoConfig, AutoModel

    from xstilts.engine.tiny_model import architecture_of, init_encoder

    path = bert_encoder()
    config = AutoConfig.from_pretrained(str(path))
    assert config.model_type == "bert" and config.type_vocab_size == 2
    assert config.max_position_embeddings == SIZE["max_position"]  # no RoBERTa offset
    assert config.vocab_size == len(bert_tokenizer()) and config.pad_token_id == 0
    model = AutoModel.from_pretrained(str(path))
    ids = torch.tensor([[2] + [7] * (SIZE["max_position"] - 2) + [3]])
    types = torch.tensor([[0] * 64 + [1] * (SIZE["max_position"] - 64)])
    out = model(input_ids=ids, token_type_ids=types).last_hidden_state
    assert out.shape == (1, SIZE["max_position"], SIZE["hidden"])
    assert architecture_of({}) == "xlm-roberta" and architecture_of({"architecture": "bert"})
    with pytest.raises(ValueError, match="architecture"):
        architecture_of({"architecture": "roberta"})
    with pytest.raises(ValueError, match="multiple"):
        init_encoder({**SIZE, "heads": 3}, bert_tokenizer(), tmp_path, 0, architecture="bert")


# ------------------------------------------------------------------ featurization
def test_pairs_get_segment_ids_and_the_collator_keeps_them():
    spec = SPECS["cls"]
    feats = featurize(spec, dataset("cls", 4), bert_tokenizer(), max_length=48)
    row = feats[0]
    b = row["input_ids"].index(3) + 1
    assert set(row["token_type_ids"][:b]) == {0} and set(row["token_type_ids"][b:]) == {1}
    batch = make_collator("classification", bert_tokenizer())([feats[i] for i in range(4)])
    assert batch["token_type_ids"].shape == batch["input_ids"].shape
    assert batch["token_type_ids"].max() == 1
    mc = featurize(SPECS["mc"], dataset("mc", 2), bert_tokenizer(), max_length=48)
    mc_batch = make_collator("multiple_choice", bert_tokenizer())([mc[0], mc[1]])
    assert mc_batch["token_type_ids"].shape == mc_batch["input_ids"].shape == (2, 3, mc_batch[
        "input_ids"].shape[-1]) and mc_batch["token_type_ids"].max() == 1


def test_qa_positions_point_at_the_answer_with_wordpiece_offsets():
    tok = bert_tokenizer()
    ds = dataset("qa", 12)
    feats = featurize(SPECS["qa"], ds, tok, max_length=48, doc_stride=16)
    evals = featurize(SPECS["qa"], ds, tok, max_length=48, doc_stride=16, for_training=False)
    found = 0
    for i in range(len(feats)):
        s, e = feats[i]["start_positions"], feats[i]["end_positions"]
        if s == 0:
            continue
        example = ds[[r["id"] for r in ds].index(evals[i]["example_id"])]
        offsets = evals[i]["offset_mapping"]
        span = example["context"][offsets[s][0]:offsets[e][1]]
        assert span == example["answers"]["text"][0]
        assert feats[i]["token_type_ids"][s] == 1  # in the context segment
        found += 1
    assert found >= 6


def test_tagging_labels_only_the_first_wordpiece():
    from datasets import Dataset

    from xstilts.data.schema import features_for

    tok = bert_tokenizer()
    rows = [{**r, "tokens": [*r["tokens"], "kasumiratonefoel"], "tags": [*r["tags"], 1]}
            for r in dataset("tag", 8)]  # an unseen compound word: several "##" pieces
    ds = Dataset.from_list(rows, features=features_for(SPECS["tag"]))
    feats = featurize(SPECS["tag"], ds, tok, max_length=64)
    continuation = 0
    for row, feat in zip(ds, feats, strict=True):
        pieces = tok.convert_ids_to_tokens(feat["input_ids"])
        seen = set()
        for piece, label, word in zip(pieces, feat["labels"], feat["word_ids"], strict=True):
            if word == -1:
                assert label == -100
            elif piece.startswith("##"):
                assert label == -100 and word in seen
                continuation += 1
            else:
                assert word not in seen and label == row["tags"][word]
                seen.add(word)
        assert seen == set(range(len(row["tokens"])))
    assert continuation > 0  # the check above saw "##" pieces


# ------------------------------------------------------------------ training per format
@pytest.mark.parametrize("name", ["cls", "mc", "qa", "qa2", "tag"])
def test_every_format_trains_and_predicts_with_bert(name):
    root = _tmpdir()
    model_dir = _train(name, root)
    ds = dataset(name, 6, seed=7)
    preds = Predictor(SPECS[name], model_dir, threads=1).predict(ds)
    assert len(preds) == len(ds)
    if name == "cls":
        assert set(preds) <= {"no", "yes"}
    elif name == "mc":
        assert all(0 <= p < 3 for p in preds)
    elif name.startswith("qa"):
        assert all(p in row["context"] for p, row in zip(preds, ds, strict=True))
    else:
        for p, row in zip(preds, ds, strict=True):
            assert len(p) == len(row["tokens"]) and set(p) <= {"O", "B-X", "I-X"}


def test_classifier_learns_with_bert():
    """The pooler-based classifier learns the marker word (post-LN BERT needs a lower peak
    learning rate than the tiny XLM-R's 5e-3 in test_engine_predict)."""
    from xstilts.engine.predict import dev_score

    root = _tmpdir()
    out = root / "cls-learn"
    train([TrainTask("cls", SPECS["cls"], dataset("cls", 64))], bert_encoder(), out,
          root / "s-learn", {**HP, "lr": 3e-3, "max_steps": 64}, seed=0, threads=1)
    model_dir = out

    dev = dataset("cls", 40, seed=11)
    preds = Predictor(SPECS["cls"], model_dir, threads=1).predict(dev)
    assert dev_score(SPECS["cls"], dev, preds) >= 0.8


def test_mlm_head_is_tied_and_multitask_shares_the_bert_encoder():
    mlm = build_model(SPECS["mlm"], bert_encoder())
    assert mlm.cls.predictions.decoder.weight is mlm.bert.embeddings.word_embeddings.weight
    names = ["cls", "mc", "qa", "tag", "mlm"]
    model = MultiTaskModel.build({n: (SPECS[n], list(SPECS[n].labels) or None) for n in names},
                                 bert_encoder())
    for name in names:
        feats = featurize(SPECS[name], dataset(name, 4), bert_tokenizer(), 48, 16)
        batch = make_collator(SPECS[name].format, bert_tokenizer())([feats[i] for i in range(4)])
        out = model(task_name=name, **batch)
        assert torch.isfinite(out.loss)
        out.loss.backward()
    assert model.encoder.embeddings.token_type_embeddings.weight.grad[1].abs().sum() > 0
    state = model.state_dict()
    assert not any(".bert." in k for k in state)  # shared encoder stored once


def test_intermediate_encoder_transfers_to_finetuning(tmp_path):
    """Intermediate (multi-task, encoder output) then fine-tuning from that checkpoint."""
    from safetensors.torch import load_file

    root = _tmpdir()
    inter = root / "inter"
    train([TrainTask("mc", SPECS["mc"], dataset("mc", 16)),
           TrainTask("mlm", SPECS["mlm"], dataset("mlm", 16))], bert_encoder(), inter,
          root / "s-inter", {**HP, "max_steps": 4}, seed=0, threads=1)
    saved = load_file(str(inter / "model.safetensors"))
    assert "embeddings.token_type_embeddings.weight" in saved  # AutoModel layout, no prefix
    assert not any(k.startswith(("bert.", "cls.", "classifier")) for k in saved)
    base = load_file(str(bert_encoder() / "model.safetensors"))
    key = "encoder.layer.0.attention.self.query.weight"
    assert not torch.equal(saved[key], base[key])  # intermediate training changed the encoder
    model = build_model(SPECS["tag"], inter)
    assert torch.equal(model.bert.state_dict()[key], saved[key])
    save_encoder(model, tmp_path / "again", bert_tokenizer())
    again = load_file(str(tmp_path / "again" / "model.safetensors"))
    assert set(again) == set(saved) and torch.equal(again[key], saved[key])
    out = _train("tag", root, encoder=inter, steps=4)
    preds = Predictor(SPECS["tag"], out, threads=1).predict(dataset("tag", 3, seed=2))
    assert len(preds) == 3


# ------------------------------------------------------------------ retrieval
def test_retrieval_embeddings_and_tatoeba_with_bert():
    from datasets import Dataset, DatasetDict

    from xstilts.engine.retrieval import embed, load_retrieval_encoder, run_retrieval

    enc = load_retrieval_encoder(bert_encoder())
    assert enc.max_positions == SIZE["max_position"]
    sents = texts(12, seed=5)[:12]
    long = " ".join(["kasumira"] * 400)  # truncated to the model's positions
    vectors = embed([*sents, long], enc, max_length=512)
    assert vectors.shape == (13, SIZE["hidden"]) and torch.isfinite(torch.tensor(vectors)).all()
    ids = [f"s{i}" for i in range(len(sents))]
    ds = DatasetDict({"source": Dataset.from_dict({"id": ids, "text": sents}),
                      "target": Dataset.from_dict({"id": [f"t{i}" for i in ids],
                                                   "text": sents}),
                      "gold": Dataset.from_dict({"source_id": ids,
                                                 "target_id": [f"t{i}" for i in ids]})})
    result = run_retrieval("tatoeba", {"xx": ds}, enc, layer=1, metric="retrieval_accuracy")
    assert result["layer"] == 1 and result["metrics"]["xx"]["accuracy"] == 100.0


def test_retrieval_layer_precedence():
    mbert = {"init": "path", "path": "bert-base-multilingual-cased"}
    xlmr = {"init": "path", "path": "xlm-roberta-large"}
    assert retrieval_layer_for(xlmr, 24, None) == 14
    assert retrieval_layer_for(mbert, 12, None) == 6
    assert retrieval_layer_for({"init": "path", "path": "google-bert/bert-base-multilingual-cased"},
                               12, None) == 6
    assert retrieval_layer_for({"init": "path", "path": "/models/XLM-Roberta-Large/"}, 24,
                               None) == 14
    assert retrieval_layer_for(mbert, 12, 9) == 9  # global beats the known-model default
    assert retrieval_layer_for({**mbert, "retrieval_layer": 7}, 12, 9) == 7  # entry beats global
    assert retrieval_layer_for({**mbert, "retrieval_layer": 0}, 12, 9) == 0  # 0 is a layer
    assert retrieval_layer_for({"init": "pretrain", "architecture": "bert"}, 4, None) == \
        default_layer(4)
    assert retrieval_layer_for({}, 12, None) == default_layer(12)
    assert retrieval_layer_for({"init": "path", "path": "assets/models/tiny"}, 4, None) == \
        default_layer(4)
    assert set(KNOWN_RETRIEVAL_LAYERS) == {"xlm-roberta-large", "bert-base-multilingual-cased"}
    with pytest.raises(ValueError, match=r"models.<model>.retrieval_layer: layer 13 out of range"):
        retrieval_layer_for({**mbert, "retrieval_layer": 13}, 12, None)
    with pytest.raises(ValueError, match="retrieval.layer: layer -1"):
        retrieval_layer_for({}, 12, -1)
    with pytest.raises(ValueError, match="default for 'xlm-roberta-large'"):
        retrieval_layer_for(xlmr, 12, None)  # a 12-layer checkpoint named like XLM-R large
    with pytest.raises(ValueError, match="integer"):
        retrieval_layer_for({"retrieval_layer": "7"}, 12, None)


# ------------------------------------------------------------------ the pretrain stage
@pytest.fixture(scope="module")
def mini(tmp_path_factory) -> Path:
    from test_synthetic import small_config

    from xstilts.data.synthetic import generate

    root = tmp_path_factory.mktemp("mini")
    cfg = small_config()
    cfg["parallel"] = 24
    generate(root, cfg)
    return root


def _stage_spec(mini: Path, out: Path, entry: dict, **extra) -> dict:
    return {"model": entry, "benchmark": {"source": "synthetic", "path": str(mini)},
            "tasks": {}, "seed": 0, "out": str(out),
            "scratch": str(out.parent / f"scratch-{out.name}"), **extra}


def test_pretrain_stage_builds_a_bert_with_mlm_tlm_and_code_switching(mini, tmp_path,
                                                                      monkeypatch):
    from transformers import AutoModel, AutoTokenizer, BertModel, BertTokenizer

    from xstilts.stages import pretrain

    seen: list[str] = []
    original = pretrain._cross_lingual_corpus

    def spy(spec, objectives, sep="</s>"):
        texts_ = original(spec, objectives, sep=sep)
        seen.extend(texts_)
        return texts_

    monkeypatch.setattr(pretrain, "_cross_lingual_corpus", spy)
    size = {"hidden": 32, "layers": 2, "heads": 2, "intermediate": 64, "max_position": 64}
    entry = {"init": "pretrain", "architecture": "bert", "size": size, "vocab_size": 300,
             "objectives": {"tlm": True, "code_switch": 0.5}}
    hp = {**HP, "max_steps": 3, "max_length": 32, "batch_size": 8}
    pretrain.run(_stage_spec(mini, tmp_path / "bert", entry, hparams=hp))
    out = tmp_path / "bert"
    tok = AutoTokenizer.from_pretrained(str(out))
    assert isinstance(tok, BertTokenizer)
    assert isinstance(AutoModel.from_pretrained(str(out)), BertModel)
    record = json.loads((out / "xstilts_base.json").read_text())
    assert record["init"] == "pretrain" and record["architecture"] == "bert"
    assert record["summary"]["steps"] == 3
    tlm = [t for t in seen if " [SEP] " in t]
    assert tlm and not any("</s>" in t for t in seen)
    ids = tok(tlm[0])["input_ids"]
    assert ids.count(tok.sep_token_id) == 2  # the inline separator is the special token
    # the no-pretraining control with this tokenizer
    control = {"init": "random", "architecture": "bert", "size": size}
    pretrain.run(_stage_spec(mini, tmp_path / "ctl", control, tokenizer=str(out)))
    assert isinstance(AutoModel.from_pretrained(str(tmp_path / "ctl")), BertModel)
    ctl_tok = AutoTokenizer.from_pretrained(str(tmp_path / "ctl"))
    assert ctl_tok.get_vocab() == tok.get_vocab()
    assert json.loads((tmp_path / "ctl" / "xstilts_base.json").read_text())["architecture"] == \
        "bert"
    # an XLM-R control with BERT's tokenizer would crash on pairs (one segment type)
    with pytest.raises(ValueError, match="does not fit architecture 'xlm-roberta'"):
        pretrain.run(_stage_spec(mini, tmp_path / "bad", {"init": "random", "size": size},
                                 tokenizer=str(out)))
    assert not (tmp_path / "bad").exists()


def test_retrieve_stage_uses_the_resolved_layer(mini, tmp_path):
    from xstilts.stages import retrieve

    def run(tag: str, entry: dict | None, layer: int | None) -> dict:
        spec = {"benchmark": {"source": "synthetic", "path": str(mini)},
                "tasks": {}, "model_path": str(bert_encoder()),
                "retrieval": {"layer": layer, "pooling": "mean", "max_length": 32,
                              "sweep_layers": False},
                "ids": {"model": "tiny_bert", "recipe": "none", "seed": 1},
                "targets": [{"target": "tatoeba", "out": str(tmp_path / tag / "scores.json"),
                             "predictions": str(tmp_path / tag / "pred" / "tatoeba")}]}
        if entry is not None:
            spec["model"] = entry
        retrieve.run(spec)
        return json.loads((tmp_path / tag / "scores.json").read_text())

    entry = {"init": "pretrain", "architecture": "bert", "retrieval_layer": 1}
    assert run("entry", entry, 2)["retrieval"]["layer"] == 1  # model entry > global
    scores = run("global", None, 0)  # no model entry in the spec: the global layer
    assert scores["retrieval"]["layer"] == 0 and scores["target"] == "tatoeba"
    assert all(0 <= v["accuracy"] <= 100 for v in scores["languages"].values())
