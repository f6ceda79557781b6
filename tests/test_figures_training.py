"""Training/dev curves per job group from train_log.json."""

from __future__ import annotations

import json

from xstilts.analysis.training_curves import main, read_log


def _log(path, shift: float, dev: bool):
    history = [{"loss": 2.0 - shift - 0.1 * i, "step": 10 * i, "learning_rate": 1e-5}
               for i in range(1, 8)]
    if dev:
        history += [{"eval_score": 0.5 + shift + 0.05 * i, "step": 20 * i} for i in range(1, 4)]
    history.append({"train_runtime": 1.0, "step": 70})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(history))
    return str(path)


def test_curves_are_read_and_drawn_per_group(tmp_path):
    a = _log(tmp_path / "none" / "train_log.json", 0.0, True)
    b = _log(tmp_path / "mnli" / "train_log.json", 0.2, True)
    c = _log(tmp_path / "i" / "train_log.json", 0.1, False)
    curves = read_log(a)
    assert curves["loss"][0] == (10, 2.0 - 0.1) and len(curves["loss"]) == 7
    assert [s for s, _ in curves["eval_score"]] == [20, 40, 60]
    groups = {"finetune_tiny_xnli": {"none": [a], "mnli": [b]},
              "intermediate_tiny": {"mnli": [c]}}
    out = tmp_path / "fig"
    assert main(["--out", str(out), "--groups", json.dumps(groups)]) == 0
    for name in groups:
        png = out / f"{name}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000


def test_a_missing_log_is_one_clear_error(tmp_path, capsys):
    groups = {"g": {"r": [str(tmp_path / "absent" / "train_log.json")]}}
    assert main(["--out", str(tmp_path), "--groups", json.dumps(groups)]) == 1
    assert "absent/train_log.json: no training log" in capsys.readouterr().err
