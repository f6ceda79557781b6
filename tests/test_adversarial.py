"""Adversarial intermediate training (FreeLB, FGM): config, perturbation maths, training with
every head format and the multi-task model, fingerprint and cost."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load_file
from test_engine_common import SPECS, dataset, tiny_encoder

from xstilts.engine import adversarial
from xstilts.engine.adversarial import AdversarialConfig, ascend, init_delta
from xstilts.engine.training import TrainTask, train
from xstilts.grid.cost import adversarial_cost_multiplier

FAST = {"lr": 5e-3, "batch_size": 8, "max_length": 48, "doc_stride": 16, "warmup_ratio": 0.0,
        "logging": 2, "save_every": 1000, "max_steps": 4, "output": "encoder"}


def task(name: str, n: int = 32) -> TrainTask:
    return TrainTask(name, SPECS[name], dataset(name, n))


def run(tmp_path, tag: str, tasks, adv=None, **hp):
    out, scratch = tmp_path / f"out-{tag}", tmp_path / f"scratch-{tag}"
    summary = train(tasks, tiny_encoder(), out, scratch, {**FAST, **hp}, seed=0, threads=1,
                    adversarial=adv)
    return load_file(str(out / "model.safetensors")), summary, out


def same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


# ------------------------------------------------------------------ config
def test_config_parse_defaults_and_errors():
    assert AdversarialConfig.parse(None) is None
    cfg = AdversarialConfig.parse({"method": "freelb"})
    assert (cfg.steps, cfg.step_size, cfg.init_mag, cfg.max_norm, cfg.norm) == \
        (2, 0.05, 0.08, 0.0, "l2")
    assert cfg.active and cfg.passes() == 2
    assert not AdversarialConfig.parse({"method": "freelb", "steps": 0}).active
    assert AdversarialConfig.parse({"method": "fgm"}).passes() == 2
    with pytest.raises(ValueError, match=r"adversarial.method: expected one of"):
        AdversarialConfig.parse({"method": "pgd"})
    with pytest.raises(ValueError, match=r"unknown keys \['stpes'\]"):
        AdversarialConfig.parse({"method": "freelb", "stpes": 3})
    with pytest.raises(ValueError, match=r"adversarial.step_size: expected a non-negative"):
        AdversarialConfig.parse({"method": "freelb", "step_size": -1})
    with pytest.raises(ValueError, match=r"adversarial.steps: expected an integer"):
        AdversarialConfig.parse({"method": "freelb", "steps": 1.5})
    with pytest.raises(ValueError, match=r"adversarial.norm"):
        AdversarialConfig.parse({"method": "freelb", "norm": "l1"})


# ------------------------------------------------------------------ perturbation maths
def test_init_delta_masks_pads_and_has_the_reference_magnitude():
    torch.manual_seed(0)
    mask = torch.tensor([[1, 1, 1, 1, 0, 0], [1, 1, 0, 0, 0, 0]])
    cfg = AdversarialConfig(method="freelb", init_mag=0.5)
    delta = init_delta(mask, 16, 2, cfg, torch.float32)
    assert delta.shape == (2, 6, 16)
    assert torch.all(delta[0, 4:] == 0) and torch.all(delta[1, 2:] == 0)
    # uniform(-1, 1) * init_mag / sqrt(n * hidden): each entry within that bound, and the
    # per-example norm about init_mag / sqrt(3) (the l2 norm of n*hidden uniforms)
    assert delta[0].abs().max() <= 0.5 / (4 * 16) ** 0.5
    assert delta[1].abs().max() <= 0.5 / (2 * 16) ** 0.5
    norms = delta.reshape(2, -1).norm(dim=1)
    assert torch.all((norms > 0.15) & (norms < 0.45))
    zero = init_delta(mask, 16, 2, AdversarialConfig(method="freelb", init_mag=0), torch.float32)
    assert torch.count_nonzero(zero) == 0
    linf = init_delta(mask, 4, 2, AdversarialConfig(method="freelb", init_mag=0.1, norm="linf"),
                      torch.float32)
    assert linf.abs().max() <= 0.1 and torch.all(linf[1, 2:] == 0)


def test_ascent_step_normalises_per_example_and_projects():
    mask = torch.tensor([[1, 1, 0], [1, 0, 0]])
    delta = torch.zeros(2, 3, 2)
    grad = torch.tensor([[[3.0, 4.0], [0.0, 0.0], [9.0, 9.0]],  # pad gradient is ignored
                         [[0.0, 2.0], [5.0, 5.0], [1.0, 1.0]]])
    cfg = AdversarialConfig(method="freelb", step_size=0.1)
    out = ascend(delta, grad, mask, 2, cfg)
    assert torch.allclose(out[0], torch.tensor([[0.06, 0.08], [0.0, 0.0], [0.0, 0.0]]))
    assert torch.allclose(out[1], torch.tensor([[0.0, 0.1], [0.0, 0.0], [0.0, 0.0]]))
    big = AdversarialConfig(method="freelb", step_size=10.0, max_norm=0.5)
    norms = ascend(delta, grad, mask, 2, big).reshape(2, -1).norm(dim=1)
    assert torch.allclose(norms, torch.tensor([0.5, 0.5]))
    small = ascend(delta, grad, mask, 2, AdversarialConfig(method="freelb", step_size=0.1,
                                                            max_norm=0.5))
    assert torch.allclose(small, out)  # inside the ball: untouched
    clamp = ascend(delta, grad, mask, 2, AdversarialConfig(
        method="freelb", step_size=1.0, max_norm=0.3, norm="linf"))
    assert clamp.abs().max() == pytest.approx(0.3)
    # multiple choice: sequences of one example (2 choices) share one norm
    mc = ascend(torch.zeros(2, 1, 2), torch.tensor([[[3.0, 0.0]], [[0.0, 4.0]]]),
                torch.ones(2, 1, dtype=torch.long), 1, cfg)
    assert torch.allclose(mc.reshape(-1), torch.tensor([0.06, 0.0, 0.0, 0.08]))


# ------------------------------------------------------------------ training
def test_zero_ascent_steps_is_clean_training(tmp_path):
    clean, s_clean, _ = run(tmp_path, "clean", [task("cls")])
    zero, s_zero, _ = run(tmp_path, "zero", [task("cls")], {"method": "freelb", "steps": 0})
    assert same(clean, zero)
    assert s_zero["final_loss"] == s_clean["final_loss"]
    # one ascent step from delta = 0 is also exactly the clean step (through the hook path)
    one, _, _ = run(tmp_path, "one", [task("cls")],
                    {"method": "freelb", "steps": 1, "init_mag": 0.0})
    assert same(clean, one)


@pytest.mark.parametrize(("name", "method"), [("cls", "freelb"), ("mc", "freelb"),
                                              ("qa", "freelb"), ("tag", "freelb"),
                                              ("qa", "fgm"), ("mc", "fgm")])
def test_adversarial_training_changes_weights_keeps_encoder_layout(tmp_path, name, method):
    clean, _, _ = run(tmp_path, "clean", [task(name)])
    adv_cfg = {"method": method, "steps": 3, "step_size": 0.5, "max_norm": 1.0}
    if method == "fgm":
        adv_cfg = {"method": "fgm", "epsilon": 1.0}
    adv, summary, out = run(tmp_path, "adv", [task(name)], adv_cfg)
    assert adv.keys() == clean.keys()
    assert {k: v.shape for k, v in adv.items()} == {k: v.shape for k, v in clean.items()}
    assert not same(clean, adv)
    assert summary["adversarial"]["method"] == method
    assert summary["final_loss"] is not None and summary["final_loss"] == summary["final_loss"]
    from transformers import AutoModel

    model = AutoModel.from_pretrained(str(out), use_safetensors=True)
    assert type(model).__name__ == "XLMRobertaModel"


def test_multitask_perturbs_task_batches_and_keeps_mlm_clean(tmp_path, monkeypatch):
    seen: list[str] = []
    real = adversarial.training_step

    def spy(trainer, model, inputs, num_items_in_batch, cfg):
        seen.append(inputs["task_name"])
        return real(trainer, model, inputs, num_items_in_batch, cfg)

    monkeypatch.setattr(adversarial, "training_step", spy)
    tasks = [task("mc", 24), task("qa", 24), task("mlm", 48)]
    clean, _, _ = run(tmp_path, "clean", tasks, max_steps=8)
    assert seen == []
    adv, summary, _ = run(tmp_path, "adv", tasks, {"method": "freelb", "steps": 2},
                          max_steps=8)
    assert seen and set(seen) <= {"mc", "qa"}
    assert summary["steps"] == 8 and len(seen) < 8  # some batches were MLM, trained clean
    assert adv.keys() == clean.keys() and not same(adv, clean)


def test_adversarial_config_is_part_of_the_run_fingerprint(tmp_path):
    _, _, _ = run(tmp_path, "a", [task("cls")], keep_checkpoints=True, save_every=2)
    marker = json.loads((tmp_path / "scratch-a" / "xstilts_run.json").read_text())
    assert "adversarial" not in marker["config"]  # clean runs keep their old fingerprint
    _, summary, _ = run(tmp_path, "a", [task("cls")], {"method": "fgm"},
                        keep_checkpoints=True, save_every=2)
    assert summary["resumed_from_step"] is None  # not resumed from the clean checkpoints
    marker = json.loads((tmp_path / "scratch-a" / "xstilts_run.json").read_text())
    assert marker["config"]["adversarial"]["method"] == "fgm"


def test_bad_adversarial_config_fails_before_training(tmp_path):
    with pytest.raises(ValueError, match="adversarial.method"):
        run(tmp_path, "bad", [task("cls")], {"method": "freelbb"})
    assert not (tmp_path / "scratch-bad").exists()


# ------------------------------------------------------------------ cost
def test_cost_multiplier():
    assert adversarial_cost_multiplier({"tasks": ["mnli"]}) == 1.0
    assert adversarial_cost_multiplier({"adversarial": {"method": "freelb"}}) == 2.0
    assert adversarial_cost_multiplier({"adversarial": {"method": "freelb", "steps": 3}}) == 3.0
    assert adversarial_cost_multiplier({"adversarial": {"method": "freelb", "steps": 0}}) == 1.0
    assert adversarial_cost_multiplier({"adversarial": {"method": "fgm"}}) == 2.0


def test_cost_estimate_scales_the_intermediate_stage(repo):
    import yaml

    from xstilts.grid.cost import estimate

    paper = yaml.safe_load((repo / "config" / "paper.yaml").read_text())
    base = {**paper, "seeds": [1], "recipes": {"anli_plus": {"tasks": ["anli_plus"]}}}
    for model in base["models"].values():
        model["recipes"] = ["anli_plus"]
    adv = {**base, "recipes": {"anli_plus": {
        "tasks": ["anli_plus"], "adversarial": {"method": "freelb", "steps": 3}}}}
    fgm = {**base, "recipes": {"anli_plus": {
        "tasks": ["anli_plus"], "adversarial": {"method": "fgm"}}}}
    clean_h, adv_h, fgm_h = estimate(base), estimate(adv), estimate(fgm)
    assert clean_h["intermediate"] > 0
    assert adv_h["intermediate"] == pytest.approx(3 * clean_h["intermediate"])
    assert fgm_h["intermediate"] == pytest.approx(2 * clean_h["intermediate"])
    assert adv_h["finetune"] == pytest.approx(clean_h["finetune"])
