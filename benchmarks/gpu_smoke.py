"""GPU smoke test: one intermediate, one fine-tune, one evaluation and one retrieval job of an
XLM-R-Large-shaped model (random weights) on synthetic data, through xstilts' own engine
(`engine.training.train`, `engine.predict.Predictor`, `engine.retrieval.run_retrieval`).

Prints per job: tokens, seconds, tokens/s, MFU (6N FLOPs per training token, 2N per inference
token, N = non-embedding parameters; against the GPU's bf16 peak), peak memory and seconds per
checkpoint save (resumable: weights + optimizer; best: weights only). Then checks the plumbing:
the jobs ran on the device (bf16 autocast on the GPU), the outputs hold weights only, the
retrieval stopped at its layer. A few minutes on one A100; exit status 1 if a check fails.

    python benchmarks/gpu_smoke.py [--shape large|tiny] [--device auto|cuda|cpu]
                                   [--peak-tflops T] [--workdir DIR]

Without a GPU (or with --shape tiny) it runs a tiny shape on the CPU: numbers are not
meaningful there, the checks are.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TOKENIZER = REPO / "assets" / "models" / "tiny"
SHAPES = {
    # XLM-R Large: 24 x 1024, 16 heads, FFN 4096, 514 positions, 250,002-piece vocabulary
    "large": {"size": {"hidden": 1024, "layers": 24, "heads": 16, "intermediate": 4096,
                       "max_position": 512}, "vocab": 250_002, "layer": 14,
              "intermediate": {"steps": 40, "batch": 32, "length": 256, "save_every": 20},
              "finetune": {"steps": 40, "batch": 32, "length": 128, "eval_every": 20, "dev": 512},
              "evaluate": {"examples": 4096, "length": 128},
              "retrieve": {"sentences": 4096, "length": 32}},
    "tiny": {"size": {"hidden": 64, "layers": 4, "heads": 4, "intermediate": 128,
                      "max_position": 128}, "vocab": None, "layer": 3,
             "intermediate": {"steps": 6, "batch": 8, "length": 32, "save_every": 3},
             "finetune": {"steps": 6, "batch": 8, "length": 32, "eval_every": 3, "dev": 32},
             "evaluate": {"examples": 64, "length": 32},
             "retrieve": {"sentences": 64, "length": 16}},
}
# bf16 dense peak (TFLOP/s) by device name
PEAKS = {"H100": 989.0, "H200": 989.0, "A100": 312.0, "A10": 125.0, "L40S": 362.0, "L4": 121.0,
         "A6000": 155.0, "V100": 125.0, "4090": 165.0}


def _words(tokenizer, n: int = 400) -> list[str]:
    """Words the tokenizer keeps as one piece ("▁word"), so a text of k words is k tokens."""
    out = []
    for piece in sorted(tokenizer.get_vocab()):
        word = piece[1:]
        if piece.startswith("\u2581") and word.isalpha() and word.isascii() and len(word) > 2 \
                and len(tokenizer(word, add_special_tokens=False)["input_ids"]) == 1:
            out.append(word)
        if len(out) >= n:
            break
    if len(out) < 20:
        raise SystemExit(f"gpu_smoke: too few single-piece words in {TOKENIZER}")
    return out


def _text(rng: random.Random, words: list[str], k: int) -> str:
    return " ".join(rng.choice(words) for _ in range(k))


def _dataset(spec, n: int, length: int, words: list[str], seed: int):
    from datasets import Dataset

    from xstilts.data.schema import features_for

    rng = random.Random(seed)
    a = (length - 4) // 2
    return Dataset.from_dict(
        {"id": [str(i) for i in range(n)],
         "text_a": [_text(rng, words, a) for _ in range(n)],
         "text_b": [_text(rng, words, length - 4 - a) for _ in range(n)],
         "label": [rng.randrange(len(spec.labels)) for _ in range(n)]},
        features=features_for(spec))


class Timers:
    """Seconds of each resumable checkpoint save and each best-weights save."""

    def __init__(self) -> None:
        self.saves: dict[str, list[float]] = {"resumable": [], "best": []}

    @contextlib.contextmanager
    def installed(self):
        import transformers

        from xstilts.engine import cadence

        original_ckpt = transformers.Trainer._save_checkpoint
        original_best = cadence.save_weights

        def timed_ckpt(trainer, *a, **k):
            start = time.perf_counter()
            try:
                return original_ckpt(trainer, *a, **k)
            finally:
                _sync()
                self.saves["resumable"].append(time.perf_counter() - start)

        def timed_best(*a, **k):
            start = time.perf_counter()
            try:
                return original_best(*a, **k)
            finally:
                self.saves["best"].append(time.perf_counter() - start)

        transformers.Trainer._save_checkpoint = timed_ckpt
        cadence.save_weights = timed_best
        try:
            yield self
        finally:
            transformers.Trainer._save_checkpoint = original_ckpt
            cadence.save_weights = original_best


def _sync() -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.synchronize()


def _reset_peak() -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()


def _peak_gb(device: str) -> float:
    import torch

    if device == "cuda":
        return torch.cuda.max_memory_allocated() / 1e9
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6  # KiB -> GB (process)


def _runtime(out_dir: Path) -> float:
    log = json.loads((out_dir / "train_log.json").read_text())
    return float(next(h["train_runtime"] for h in reversed(log) if "train_runtime" in h))


def run(shape: str, device: str, peak_tflops: float | None, workdir: Path) -> int:
    import torch
    from transformers import AutoTokenizer

    from xstilts.engine.device import resolve_device
    from xstilts.engine.predict import Predictor
    from xstilts.engine.retrieval import load_retrieval_encoder, run_retrieval
    from xstilts.engine.tiny_model import encoder_config
    from xstilts.engine.training import TrainTask, train
    from xstilts.tasks.registry import get_task

    dev = resolve_device(device).type
    cfg = SHAPES[shape]
    tokenizer = AutoTokenizer.from_pretrained(str(TOKENIZER))
    words = _words(tokenizer)
    size = cfg["size"]
    hidden = size["hidden"]
    n_params = size["layers"] * (4 * hidden**2 + 2 * hidden * size["intermediate"])
    name = torch.cuda.get_device_name() if dev == "cuda" else ""
    peak = peak_tflops or next((v for k, v in PEAKS.items() if name and k in name), None)
    print(f"gpu_smoke: shape {shape} ({size['layers']} x {size['hidden']}, N = "
          f"{n_params / 1e6:,.1f}M non-embedding), device {dev}"
          + (f" ({torch.cuda.get_device_name()}, bf16 peak {peak} TFLOP/s)" if dev == "cuda"
             else ""), flush=True)

    # ---- a random XLM-R of the shape, with the shipped tokenizer
    base = workdir / "base"
    config = encoder_config(size, tokenizer)
    if cfg["vocab"]:
        config.vocab_size = cfg["vocab"]
    from transformers import XLMRobertaModel

    torch.manual_seed(0)
    XLMRobertaModel(config).save_pretrained(str(base))
    tokenizer.save_pretrained(str(base))

    mnli, xnli = get_task("mnli"), get_task("xnli")
    rows, checks = [], []
    sample = _dataset(xnli, 8, cfg["finetune"]["length"], words, 0)
    lengths = {len(x) for x in tokenizer(list(sample["text_a"]),
                                         list(sample["text_b"]))["input_ids"]}
    timers = Timers()

    def record(job: str, tokens: float, seconds: float, flops_per_token: float,
               saves: dict[str, list[float]] | None = None) -> None:
        rate = tokens / seconds if seconds > 0 else float("nan")
        mfu = f"{100 * flops_per_token * rate / (peak * 1e12):.1f}%" if peak else "n/a"
        per_save = " / ".join(f"{k} {sum(v) / len(v):.2f}" for k, v in (saves or {}).items()
                              if v) or "-"
        rows.append(f"| {job} | {tokens:,.0f} | {seconds:.2f} | {rate:,.0f} | {mfu} | "
                    f"{_peak_gb(dev):.2f} | {per_save} |")

    def check(name: str, ok: bool) -> None:
        checks.append((name, bool(ok)))

    check(f"data: every example is {cfg['finetune']['length']} tokens (tokens/s is exact)",
          lengths == {cfg["finetune"]["length"]})

    with timers.installed():
        # ---- intermediate: training only, resumable checkpoints every `save_every` steps
        job = cfg["intermediate"]
        steps, batch, length = job["steps"], job["batch"], job["length"]
        inter = workdir / "intermediate"
        _reset_peak()
        summary = train([TrainTask("mnli", mnli, _dataset(mnli, steps * batch, length, words, 1))],
                        base, inter, workdir / "scratch-i",
                        {"max_steps": steps, "batch_size": batch, "grad_accum": 1, "lr": 1e-5,
                         "max_length": length, "save_every": job["save_every"],
                         "logging": max(1, steps // 4), "output": "encoder",
                         "warmup_ratio": 0.1, "keep_checkpoints": False},
                        seed=1, threads=max(1, torch.get_num_threads()))
        saved = {"resumable": list(timers.saves["resumable"])}
        seconds = _runtime(inter) - sum(saved["resumable"])
        record("intermediate", steps * batch * length, seconds, 6 * n_params, saved)
        check("intermediate: bf16 on the GPU" if dev == "cuda" else "intermediate: fp32 on CPU",
              summary["bf16"] == (dev == "cuda"))
        check("intermediate: output holds weights only (no optimizer state)",
              (inter / "model.safetensors").is_file() and not list(inter.glob("optimizer*")))
        check(f"intermediate: {steps // job['save_every']} resumable saves",
              len(saved["resumable"]) == steps // job["save_every"])

        # ---- fine-tune: dev evaluation every `eval_every` steps, best weights kept
        timers.saves = {"resumable": [], "best": []}
        job = cfg["finetune"]
        steps, batch, length = job["steps"], job["batch"], job["length"]
        fine = workdir / "finetune"
        task = TrainTask("xnli", xnli, _dataset(xnli, steps * batch, length, words, 2),
                         _dataset(xnli, job["dev"], length, words, 3))
        _reset_peak()
        summary = train([task], inter, fine, workdir / "scratch-f",
                        {"max_steps": steps, "batch_size": batch, "grad_accum": 1, "lr": 1e-5,
                         "max_length": length, "eval_every": job["eval_every"],
                         "eval_batch_size": 4 * batch, "logging": max(1, steps // 4),
                         "save_every": 10**9, "warmup_ratio": 0.1},
                        seed=1, threads=max(1, torch.get_num_threads()), eval_task=task)
        saved = {"best": list(timers.saves["best"])}
        seconds = _runtime(fine) - sum(saved["best"])
        evals = steps // job["eval_every"]
        record("finetune (+dev eval)", steps * batch * length + evals * job["dev"] * length,
               seconds, 6 * n_params, saved)
        check("finetune: best weights saved at a dev evaluation", 1 <= len(saved["best"]) <= evals)
        check("finetune: output holds weights only",
              (fine / "model.safetensors").is_file() and not list(fine.glob("optimizer*")))

    # ---- evaluation: predictions on a test set (bf16 autocast on the GPU)
    job = cfg["evaluate"]
    test = _dataset(xnli, job["examples"], job["length"], words, 4)
    predictor = Predictor(xnli, fine, threads=max(1, torch.get_num_threads()),
                          hparams={"eval_batch_size": 128})
    check("evaluate: model on the device",
          next(predictor.model.parameters()).device.type == dev)
    _reset_peak()
    _sync()
    start = time.perf_counter()
    preds = predictor.predict(test)
    _sync()
    record("evaluate", job["examples"] * job["length"], time.perf_counter() - start, 2 * n_params)
    check("evaluate: a prediction per example", len(preds) == len(test))

    # ---- retrieval: Tatoeba-style pairs, embedded up to the retrieval layer only
    job = cfg["retrieve"]
    rng = random.Random(5)
    src = [_text(rng, words, job["length"] - 2) for _ in range(job["sentences"])]
    tgt = [" ".join(s.split()[1:] + s.split()[:1]) for s in src]  # a rotated "translation"
    from datasets import Dataset, DatasetDict

    ids = [str(i) for i in range(len(src))]
    data = {"xx": DatasetDict({
        "source": Dataset.from_dict({"id": ids, "text": src}),
        "target": Dataset.from_dict({"id": [f"t{i}" for i in ids], "text": tgt}),
        "gold": Dataset.from_dict({"source_id": ids, "target_id": [f"t{i}" for i in ids]})})}
    encoder = load_retrieval_encoder(inter, device=dev)
    ran: list[int] = []
    hooks = [layer.register_forward_hook(lambda *a, k=k: ran.append(k))
             for k, layer in enumerate(encoder.model.encoder.layer)]
    _reset_peak()
    _sync()
    start = time.perf_counter()
    result = run_retrieval("tatoeba", data, encoder, layer=cfg["layer"], max_length=job["length"],
                           metric="retrieval_accuracy")
    _sync()
    for hook in hooks:
        hook.remove()
    record(f"retrieve (layer {cfg['layer']}/{size['layers']})", 2 * len(src) * job["length"],
           time.perf_counter() - start, 2 * n_params * cfg["layer"] / size["layers"])
    check(f"retrieve: layers above {cfg['layer']} not computed", max(ran) + 1 == cfg["layer"])
    check("retrieve: precision bf16 on the GPU, fp32 on the CPU",
          encoder.precision == ("bf16" if dev == "cuda" and torch.cuda.is_bf16_supported()
                                else "fp16" if dev == "cuda" else "fp32"))
    check("retrieve: an accuracy", 0.0 <= result["metrics"]["xx"]["accuracy"] <= 100.0)

    print("| job | tokens | seconds | tokens/s | MFU | peak memory (GB) | s per save |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | --- |")
    print("\n".join(rows))
    if dev != "cuda":
        print("(CPU: peak memory is the process's max RSS; MFU needs a GPU's peak)")
    for name, ok in checks:
        print(f"{'ok  ' if ok else 'FAIL'} {name}")
    return 0 if all(ok for _, ok in checks) else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shape", choices=sorted(SHAPES), default=None,
                        help="default: large on a GPU, tiny on the CPU")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--peak-tflops", type=float, default=None)
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(REPO / "src"))
    from xstilts.engine.device import resolve_device
    from xstilts.engine.predict import quiet_progress_bars

    quiet_progress_bars()
    dev = resolve_device(args.device).type
    shape = args.shape or ("large" if dev == "cuda" else "tiny")
    with contextlib.ExitStack() as stack:
        workdir = args.workdir or Path(stack.enter_context(
            tempfile.TemporaryDirectory(prefix="xstilts-gpu-smoke-")))
        workdir.mkdir(parents=True, exist_ok=True)
        return run(shape, args.device, args.peak_tflops, workdir)


if __name__ == "__main__":
    sys.exit(main())
