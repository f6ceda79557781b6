"""Stage: phase (i) for the embedded default — a tiny XLM-R-shaped encoder.

`init: pretrain` trains a tokenizer on the benchmark's MLM corpus, initialises the encoder and
pretrains it with MLM. `init: random` is the no-pretraining control: the same tokenizer as another
model, random weights.
"""

from __future__ import annotations

from pathlib import Path

from xstilts.stages.common import (
    atomic_dir,
    benchmark_languages,
    log,
    setup,
    source_of,
    task_of,
    write_json,
)


def _corpus(spec: dict, split: str = "train"):
    from datasets import concatenate_datasets

    from xstilts.data.load import load_split

    source = source_of(spec)
    mlm = task_of(spec, "mlm")
    parts = [load_split(mlm, split, lang, source) for lang in benchmark_languages(source)]
    return concatenate_datasets(parts)


def run(spec: dict) -> None:
    setup(spec["threads"])
    from xstilts.engine.tiny_model import init_encoder
    from xstilts.engine.tokenizer import train_tokenizer

    model = spec["model"]
    out = Path(spec["out"])
    seed = int(spec.get("seed", 0))
    with atomic_dir(out) as tmp:
        if model["init"] == "random":
            from transformers import AutoTokenizer

            tokenizer = AutoTokenizer.from_pretrained(spec["tokenizer_dir"])
            init_encoder(model["size"], tokenizer, tmp, seed=seed)
            write_json(
                tmp / "xstilts_base.json",
                {"init": "random", "seed": seed, "tokenizer_from": spec["tokenizer_dir"]},
            )
        else:
            from xstilts.engine.training import TrainTask, train

            corpus = _corpus(spec)
            tokenizer = train_tokenizer(corpus["text"], model.get("vocab_size", 8000), tmp / "tok")
            init_dir = tmp / "init"
            init_encoder(model["size"], tokenizer, init_dir, seed=seed)
            mlm = task_of(spec, "mlm")
            summary = train(
                [TrainTask(name="mlm", spec=mlm, train=corpus, dev=None)],
                encoder_path=str(init_dir),
                out_dir=str(tmp / "encoder"),
                scratch_dir=spec["scratch"],
                hparams=spec["hparams"],
                seed=seed,
                threads=spec["threads"],
            )
            for item in (tmp / "encoder").iterdir():
                item.rename(tmp / item.name)
            for leftover in ("encoder", "init", "tok"):
                _rmtree(tmp / leftover)
            write_json(
                tmp / "xstilts_base.json", {"init": "pretrain", "seed": seed, "summary": summary}
            )
    log.info("base model written to %s", out)


def _rmtree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)
