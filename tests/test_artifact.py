"""Shipped base models: export with provenance, hash verification, loading like a hub model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from xstilts.io.artifact import SHIPPED_FILES, ArtifactError, export_model, verify_model

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "assets" / "models" / "tiny"


def _fake_model(path: Path) -> Path:
    path.mkdir()
    for name in SHIPPED_FILES:
        (path / name).write_text(f"content of {name}", encoding="utf-8")
    return path


def test_export_records_hashes_and_verify_detects_changes(tmp_path):
    record = export_model(_fake_model(tmp_path / "base"), tmp_path / "out", {"seed": 3})
    assert record["seed"] == 3 and set(record["files"]) == set(SHIPPED_FILES)
    assert verify_model(tmp_path / "out")["files"] == record["files"]
    (tmp_path / "out" / "model.safetensors").write_bytes(b"tampered")
    with pytest.raises(ArtifactError, match="model.safetensors: sha256"):
        verify_model(tmp_path / "out")


def test_export_refuses_an_unfinished_model(tmp_path):
    base = _fake_model(tmp_path / "base")
    (base / "model.safetensors").unlink()
    with pytest.raises(ArtifactError, match="missing \\['model.safetensors'\\]"):
        export_model(base, tmp_path / "out", {})
    assert not (tmp_path / "out").exists()


SHIPPED_MODELS = [("tiny", "xlm-roberta"), ("tiny_bert", "bert")]


@pytest.mark.parametrize(("name", "model_type"), SHIPPED_MODELS)
def test_shipped_tiny_model_matches_its_provenance_and_loads(name, model_type):
    """The committed model is what its recorded command produced, and loads like a hub model."""
    import torch
    from transformers import AutoTokenizer

    from xstilts.engine.modeling import load_encoder

    shipped = ROOT / "assets" / "models" / name
    record = verify_model(shipped)
    assert record["model"] == name and record["entry"]["init"] == "pretrain"
    assert record["code"]["git_commit"], "export records the commit it was produced from"
    assert record["code"]["git_dirty"] is False
    size = sum(p.stat().st_size for p in shipped.iterdir())
    assert size < 10 * 2**20, f"shipped model is {size / 2**20:.1f} MB"
    tokenizer = AutoTokenizer.from_pretrained(str(shipped))
    encoder = load_encoder(shipped)  # the same from_pretrained call as for hub models
    assert encoder.config.model_type == model_type
    batch = tokenizer(["Ana lives in Roma.", "Γιζα Κογον λο λοφαναρμα."], padding=True,
                      return_tensors="pt")
    with torch.no_grad():
        out = encoder(**batch).last_hidden_state
    assert out.shape[-1] == record["entry"]["size"]["hidden"]
    assert torch.isfinite(out).all()


def _merged(base: dict, overlay: dict) -> dict:
    out = dict(base)
    for key, value in overlay.items():
        out[key] = _merged(out[key], value) if isinstance(value, dict) and isinstance(
            out.get(key), dict) else value
    return out


# tiny_bert was pretrained with the earlier recipe (4 layers, 4000 MLM steps, the v1 corpus) and
# has not been re-exported with the current one (only tiny was re-pretrained): strict, so
# this turns into a failure to remove once it is.
STALE_RECIPE = pytest.mark.xfail(strict=True, reason="tiny_bert not re-exported with the "
                                 "current pretraining recipe")


@pytest.mark.parametrize("name", [pytest.param(name, marks=STALE_RECIPE) if name == "tiny_bert"
                                  else name for name, _ in SHIPPED_MODELS])
def test_default_config_uses_the_shipped_model_with_its_recipe(name):
    """config.yaml (tiny_bert: with config/studies.yaml) starts from assets/models/<name> and
    keeps the recipe that produced it: the documented regeneration command (config.yaml +
    config/studies.yaml + config/pretrain-tiny.yaml) rebuilds it."""
    import yaml

    from xstilts.grid.config import hparams

    config = _merged(yaml.safe_load((ROOT / "config.yaml").read_text("utf-8")),
                     yaml.safe_load((ROOT / "config" / "studies.yaml").read_text("utf-8")))
    entry = config["models"][name]
    assert entry["init"] == "path" and entry["path"] == f"assets/models/{name}"
    overlay = yaml.safe_load((ROOT / "config" / "pretrain-tiny.yaml").read_text("utf-8"))
    regenerate = _merged(config, overlay)
    assert regenerate["models"][name]["init"] == "pretrain"
    record = json.loads((ROOT / "assets" / "models" / name / "provenance.json").read_text("utf-8"))
    for key in ("size", "vocab_size", "objectives"):
        assert regenerate["models"][name][key] == record["entry"][key], key
    assert regenerate["models"][name].get("architecture", "xlm-roberta") == record["entry"].get(
        "architecture", "xlm-roberta")
    assert hparams(regenerate, "pretrain") == record["hparams"]
    assert regenerate["benchmark"]["synthetic"] == record["benchmark"]["synthetic"]
    assert record["threads"] == regenerate["resources"]["pretrain"]["threads"]
    assert "config/pretrain-tiny.yaml" in record["command"]
