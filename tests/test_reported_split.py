"""Scores and tables say which split was reported (test, or validation when test gold is
withheld)."""

from __future__ import annotations

import json

from xstilts.analysis import scores as aggregate


def _score(path, target, langs, split=None):
    raw = {"model": "m", "recipe": "none", "seed": 1, "target": target,
           "task_metric": "accuracy", "languages": {lang: {"accuracy": 50.0} for lang in langs}}
    if split:
        raw["split"] = split
        raw["splits"] = {lang: split for lang in langs}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(raw), "utf-8")
    return path


def test_tables_name_the_reported_split(tmp_path):
    files = [_score(tmp_path / "a.json", "xnli", ["en", "de"], "validation"),
             _score(tmp_path / "b.json", "pawsx", ["en", "de"], "test"),
             _score(tmp_path / "c.json", "tatoeba", ["de"])]  # retrieval: no split key = test
    splits = aggregate.reported_splits(files)
    assert splits.values.tolist() == [["pawsx", "de", "test"], ["pawsx", "en", "test"],
                                      ["tatoeba", "de", "test"], ["xnli", "de", "validation"],
                                      ["xnli", "en", "validation"]]
    out = tmp_path / "tables"
    aggregate.write_tables(aggregate.collect(files), out, splits=splits)
    assert (out / "splits.csv").read_text().splitlines()[0] == "target,language,split"
    assert "Not on the test split (its gold withheld): xnli (validation)." in (
        out / "xtreme.md").read_text()
    assert "Reported on the validation split" in (out / "per_language_xnli.md").read_text()
    assert "Reported on" not in (out / "per_language_pawsx.md").read_text()
