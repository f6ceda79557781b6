"""Stage: BUCC and Tatoeba retrieval straight from an encoder (no training data).

The layer is `retrieval_layer_for(spec["model"], L, spec["retrieval"]["layer"])`: the model
entry's `retrieval_layer` > the global `retrieval.layer` > a known-model default > the middle-ish
`default_layer(L)`. `spec["model"]` (the `models.<model>` entry) is optional. The encoder runs on
`spec["device"]` (default: the job's GPU if it has one, else the CPU) in `spec["precision"]`
(default bf16 autocast on a GPU, fp32 on the CPU), and only up to the retrieval layer.
"""

from __future__ import annotations

from pathlib import Path

from xstilts.stages.common import languages_of, log, setup, source_of, task_of, write_json


def _inputs(task, source):
    from xstilts.data.load import load_split

    by_lang = {}
    for lang in languages_of(task, source):
        if lang == "en":
            continue
        by_lang[lang] = {
            split: load_split(task, split, lang, source)
            for split in ("validation", "test")
            if split in task.splits
        }
    return by_lang


def run(spec: dict) -> None:
    setup(spec["threads"])
    from xstilts.engine.retrieval import load_encoder, retrieval_layer_for, run_retrieval
    from xstilts.submission import write_predictions

    source = source_of(spec)
    settings = spec["retrieval"]
    encoder = load_encoder(spec["encoder"], spec.get("device"), spec.get("precision"))
    layer = retrieval_layer_for(spec.get("model") or {}, encoder.num_layers, settings.get("layer"))
    for target in spec["targets"]:
        task = task_of(spec, target)
        result = run_retrieval(
            task.name,
            _inputs(task, source),
            encoder,
            layer=layer,
            pooling=settings["pooling"],
            max_length=settings["max_length"],
            threads=spec["threads"],
            sweep_layers=settings["sweep_layers"],
            metric=task.metric,
        )
        pred_root = Path(spec["predictions"][target]).parent
        for lang, predictions in result["predictions"].items():
            write_predictions(task.name, lang, predictions, pred_root)
        extra = {k: result[k] for k in ("layer", "pooling", "num_layers", "layers") if k in result}
        write_json(
            spec["out"][target],
            {
                **spec["ids"],
                "target": task.name,
                "task_metric": task.metric,
                "languages": result["metrics"],
                "retrieval": extra,
            },
        )
        log.info("%s: %s", task.name, result["metrics"])
