"""Shipped base models: a pretrained model folder exported with its provenance and hashes.

`export_model` copies the files a model needs to load (`from_pretrained`: config, safetensors
weights, tokenizer) plus its training record into a folder and writes `provenance.json`: the
config slice that produced it, seed, code version, library versions and the sha256 of every
file. `verify_model` recomputes the hashes, so a test can check that the committed artifact is
the one its recorded command produced.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

from xstilts.io.atomic import atomic_dir, sha256, write_json

PROVENANCE = "provenance.json"
# what a model folder needs to load, plus how it was trained
SHIPPED_FILES = ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
                 "xstilts_base.json", "train_log.json")


class ArtifactError(ValueError):
    """A shipped model folder is incomplete or does not match its provenance."""


def code_version(checkout: str | Path) -> dict[str, Any]:
    """xstilts version and, when `checkout` is a git work tree, its commit and dirty flag."""
    from xstilts import __version__

    info: dict[str, Any] = {"xstilts": __version__}
    try:
        def git(*args: str) -> str:
            return subprocess.run(["git", "-C", str(checkout), *args], check=True,
                                  capture_output=True, text=True, timeout=30).stdout.strip()

        info["git_commit"] = git("rev-parse", "HEAD")
        info["git_dirty"] = bool(git("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.SubprocessError):
        info["git_commit"] = None
    return info


def library_versions() -> dict[str, str]:
    import tokenizers
    import torch
    import transformers

    return {"torch": torch.__version__, "transformers": transformers.__version__,
            "tokenizers": tokenizers.__version__}


def export_model(model_dir: str | Path, out_dir: str | Path, provenance: dict[str, Any]
                 ) -> dict[str, Any]:
    """Copy the shipped files of `model_dir` to `out_dir` (atomically) with provenance.json."""
    model_dir = Path(model_dir)
    missing = [name for name in SHIPPED_FILES if not (model_dir / name).is_file()]
    if missing:
        raise ArtifactError(f"{model_dir}: missing {missing}; is it a finished base model?")
    with atomic_dir(out_dir) as tmp:
        for name in SHIPPED_FILES:
            shutil.copyfile(model_dir / name, tmp / name)
        record = {**provenance, "libraries": library_versions(),
                  "files": {name: sha256(tmp / name) for name in SHIPPED_FILES}}
        write_json(tmp / PROVENANCE, record)
    return record


def verify_model(model_dir: str | Path) -> dict[str, Any]:
    """The provenance of `model_dir` after checking every recorded file's sha256."""
    import json

    model_dir = Path(model_dir)
    path = model_dir / PROVENANCE
    if not path.is_file():
        raise ArtifactError(f"{path}: missing (not an exported model folder)")
    record = json.loads(path.read_text("utf-8"))
    for name, expected in sorted(record.get("files", {}).items()):
        file = model_dir / name
        if not file.is_file():
            raise ArtifactError(f"{file}: recorded in {PROVENANCE} but missing")
        actual = sha256(file)
        if actual != expected:
            raise ArtifactError(f"{file}: sha256 {actual} does not match {PROVENANCE} "
                                f"({expected})")
    return record
