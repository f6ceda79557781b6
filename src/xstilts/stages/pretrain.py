"""Stage: phase (i) for the embedded default — a tiny XLM-R- or BERT-shaped encoder.

`init: pretrain` trains a tokenizer on the benchmark's MLM corpus (SentencePiece for
`architecture: xlm-roberta`, the default; WordPiece for `architecture: bert`), initialises the
encoder and pretrains it with MLM (+ TLM / code-switching from parallel data). `init: random` is
the no-pretraining control: the same tokenizer as another model, random weights.
"""

from __future__ import annotations

from pathlib import Path

from xstilts.data.languages import source_languages
from xstilts.stages.common import (
    atomic_dir,
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
    parts = [load_split(mlm, split, lang, source) for lang in source_languages(source)]
    return concatenate_datasets(parts)


def _retrieval_texts(spec: dict) -> set[str]:
    """Every sentence of the retrieval evaluation sets (kept out of parallel pretraining data)."""
    from xstilts.data.load import load_split

    source, texts = source_of(spec), set()
    for name, splits in (("tatoeba", ("test",)), ("bucc2018", ("validation", "test"))):
        task = task_of(spec, name)
        for lang in source_languages(source):
            if lang == "en":
                continue
            for split in splits:
                data = load_split(task, split, lang, source)
                texts.update(data["source"]["text"])
                texts.update(data["target"]["text"])
    return texts


def _cross_lingual_corpus(spec: dict, objectives: dict, sep: str = "</s>") -> list[str]:
    """TLM and code-switched sentences from the benchmark's parallel data (see data.parallel).

    `sep` joins the two sides of a TLM sequence: the tokenizer's separator token (XLM-R's
    `</s>`, BERT's `[SEP]`), so it is encoded as the special token, not as text.
    """
    from xstilts.data.parallel import cross_lingual_texts, read_parallel

    source = source_of(spec)
    if source["kind"] != "synthetic":
        raise ValueError("models.<model>.objectives: TLM and code-switching need the synthetic "
                         "benchmark's parallel data (parallel/<lang>.tsv)")
    pairs = [pair for lang in source_languages(source) if lang != "en"
             for pair in read_parallel(source["path"], lang)]
    return cross_lingual_texts(pairs, bool(objectives.get("tlm")),
                               float(objectives.get("code_switch", 0.0)),
                               seed=int(spec.get("seed", 0)), sep=sep,
                               exclude=_retrieval_texts(spec))


def run(spec: dict) -> None:
    setup(spec["threads"])
    from xstilts.engine.tiny_model import architecture_of, check_tokenizer, init_encoder
    from xstilts.engine.tokenizer import train_tokenizer_for

    model = spec["model"]
    architecture = architecture_of(model)
    out = Path(spec["out"])
    seed = int(spec.get("seed", 0))
    with atomic_dir(out) as tmp:
        if model["init"] == "random":
            from transformers import AutoTokenizer

            tokenizer = AutoTokenizer.from_pretrained(spec["tokenizer_dir"])
            check_tokenizer(architecture, tokenizer,
                            f"tokenizer_from ({spec['tokenizer_dir']})")
            init_encoder(model["size"], tokenizer, tmp, seed=seed, architecture=architecture)
            record = {"init": "random", "seed": seed, "tokenizer_from": spec["tokenizer_dir"]}
            if architecture != "xlm-roberta":
                record["architecture"] = architecture
            write_json(tmp / "xstilts_base.json", record)
        else:
            from xstilts.engine.training import TrainTask, train

            corpus = _corpus(spec)
            tokenizer = train_tokenizer_for(architecture, corpus["text"],
                                            model.get("vocab_size", 8000), tmp / "tok")
            init_dir = tmp / "init"
            init_encoder(model["size"], tokenizer, init_dir, seed=seed, architecture=architecture)
            mlm = task_of(spec, "mlm")
            objectives = model.get("objectives") or {}
            if objectives.get("tlm") or objectives.get("code_switch"):
                from datasets import Dataset, concatenate_datasets

                extra = _cross_lingual_corpus(spec, objectives, sep=tokenizer.sep_token)
                log.info("pretraining corpus: %d monolingual + %d cross-lingual sentences",
                         len(corpus), len(extra))
                corpus = concatenate_datasets([corpus, Dataset.from_dict(
                    {"id": [f"x{i}" for i in range(len(extra))], "lang": ["mix"] * len(extra),
                     "text": extra}, features=corpus.features)])
            summary = train(
                [TrainTask(name="mlm", spec=mlm, train=corpus, dev=None)],
                encoder_path=str(init_dir),
                out_dir=str(tmp / "encoder"),
                scratch_dir=spec["scratch"],
                hparams=spec["hparams"],
                seed=seed,
                threads=spec["threads"],
                time_budget=spec.get("_time_budget"),
            )
            for item in (tmp / "encoder").iterdir():
                item.rename(tmp / item.name)
            for leftover in ("encoder", "init", "tok"):
                _rmtree(tmp / leftover)
            record = {"init": "pretrain", "seed": seed, "summary": summary}
            if architecture != "xlm-roberta":
                record["architecture"] = architecture
            write_json(tmp / "xstilts_base.json", record)
    log.info("base model written to %s", out)


def _rmtree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)
