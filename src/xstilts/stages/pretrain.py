"""Stage: phase (i) for the embedded default — a tiny XLM-R- or BERT-shaped encoder.

`init: pretrain` trains a tokenizer on the benchmark's MLM corpus (SentencePiece for
`architecture: xlm-roberta`, the default, where languages written without spaces are given
word-segmented from the parallel data, see `engine.tokenizer`; WordPiece for
`architecture: bert`), initialises the encoder and pretrains it with MLM (+ TLM /
code-switching from parallel data), then optionally with translation ranking on the parallel
pairs (`objectives.translation_ranking`, see engine.translation_ranking). `init: random` is
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
from xstilts.stages.specs import DEFAULT_JOB, Job, PretrainSpec


def _corpus(spec: PretrainSpec, split: str = "train"):
    from datasets import concatenate_datasets

    from xstilts.data.load import load_split

    source = source_of(spec.benchmark)
    mlm = task_of(spec, "mlm")
    parts = [load_split(mlm, split, lang, source) for lang in source_languages(source)]
    return concatenate_datasets(parts)


def _retrieval_texts(spec: PretrainSpec) -> set[str]:
    """Every sentence of the retrieval evaluation sets (kept out of parallel pretraining data)."""
    from xstilts.data.load import load_split

    source, texts = source_of(spec.benchmark), set()
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


def _unspaced(source: dict) -> set[str]:
    """Languages of the synthetic benchmark written without spaces (languages.csv `spaces`)."""
    from xstilts.data.languages import read_language_table

    table = read_language_table(Path(source["path"]) / "languages.csv")
    return {str(lang) for lang, spaces in zip(table["lang"], table["spaces"], strict=True)
            if str(spaces).lower() == "false"}


def _parallel_pairs(spec: PretrainSpec, what: str) -> list:
    from xstilts.data.parallel import read_parallel

    source = source_of(spec.benchmark)
    if source["kind"] != "synthetic":
        raise ValueError(f"models.<model>.{what}: needs the synthetic benchmark's parallel data "
                         "(parallel/<lang>.tsv)")
    return [pair for lang in source_languages(source) if lang != "en"
            for pair in read_parallel(source["path"], lang)]


def _tokenizer_texts(spec: PretrainSpec, corpus) -> list[str]:
    """The SentencePiece training text: the MLM corpus, except that languages written without
    spaces come word-segmented from the parallel data (words joined by `WORD_DELIMITER`), so no
    piece spans words (see engine.tokenizer). Sentences of the retrieval sets are left out."""
    from xstilts.engine.tokenizer import WORD_DELIMITER

    source = source_of(spec.benchmark)
    unspaced = _unspaced(source) if source["kind"] == "synthetic" else set()
    texts = [text for text, lang in zip(corpus["text"], corpus["lang"], strict=True)
             if lang not in unspaced]
    if unspaced:
        banned = _retrieval_texts(spec)
        texts += [WORD_DELIMITER.join(pair.tokens) for pair in _parallel_pairs(spec, "init")
                  if pair.lang in unspaced and pair.text not in banned]
    return texts


def _cross_lingual_corpus(spec: PretrainSpec, objectives: dict, sep: str = "</s>") -> list[str]:
    """TLM and code-switched sentences from the benchmark's parallel data (see data.parallel).

    `sep` joins the two sides of a TLM sequence: the tokenizer's separator token (XLM-R's
    `</s>`, BERT's `[SEP]`), so it is encoded as the special token, not as text.
    """
    from xstilts.data.parallel import cross_lingual_texts

    pairs = _parallel_pairs(spec, "objectives")
    return cross_lingual_texts(pairs, bool(objectives.get("tlm")),
                               float(objectives.get("code_switch", 0.0)),
                               seed=spec.seed, sep=sep,
                               exclude=_retrieval_texts(spec),
                               unspaced=_unspaced(source_of(spec.benchmark)))


def _translation_ranking(spec: PretrainSpec, encoder: Path, options: dict, seed: int) -> dict:
    """The translation-ranking phase (engine.translation_ranking) on the parallel pairs, minus
    the retrieval sets' sentences, at the layer retrieval reads."""
    from transformers import AutoConfig

    from xstilts.engine.translation_ranking import train_translation_ranking
    from xstilts.grid.layers import default_layer

    banned = _retrieval_texts(spec)
    kept = [p for p in _parallel_pairs(spec, "objectives")
            if p.en_text not in banned and p.text not in banned]
    pairs = [(p.en_text, p.text) for p in kept]
    layers = AutoConfig.from_pretrained(str(encoder)).num_hidden_layers
    steps = int(options.pop("steps"))
    return train_translation_ranking(encoder, pairs, steps, default_layer(layers), seed,
                                     groups=[p.lang for p in kept],
                                     words=[(p.en_tokens, p.tokens, p.alignment) for p in kept],
                                     **options)


def run(spec: PretrainSpec | dict, job: Job = DEFAULT_JOB) -> None:
    spec = PretrainSpec.parse(spec)
    setup(job.threads)
    from xstilts.engine.tiny_model import architecture_of, check_tokenizer, init_encoder
    from xstilts.engine.tokenizer import train_tokenizer_for

    model = spec.model
    architecture = architecture_of(model)
    out = Path(spec.out)
    seed = spec.seed
    with atomic_dir(out) as tmp:
        if model["init"] == "random":
            from transformers import AutoTokenizer

            tokenizer = AutoTokenizer.from_pretrained(spec.tokenizer)
            check_tokenizer(architecture, tokenizer, f"tokenizer_from ({spec.tokenizer})")
            init_encoder(model["size"], tokenizer, tmp, seed=seed, architecture=architecture)
            record = {"init": "random", "seed": seed, "tokenizer_from": spec.tokenizer}
            if architecture != "xlm-roberta":
                record["architecture"] = architecture
            write_json(tmp / "xstilts_base.json", record)
        else:
            from xstilts.engine.training import TrainTask, train

            corpus = _corpus(spec)
            texts = (corpus["text"] if architecture == "bert"
                     else _tokenizer_texts(spec, corpus))
            tokenizer = train_tokenizer_for(architecture, texts,
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
                scratch_dir=spec.scratch,
                hparams=spec.hparams,
                seed=seed,
                threads=job.threads,
                time_budget=job.time_budget,
            )
            ranking = objectives.get("translation_ranking")
            if ranking:
                summary["translation_ranking"] = _translation_ranking(
                    spec, tmp / "encoder", dict(ranking), seed)
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
