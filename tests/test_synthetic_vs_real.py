"""mini-XTREME and real-schema fixtures go through the same adapters to the same features.

For each of the 18 tasks, a split of the generated synthetic benchmark and the same split of a
fixture in the real schema (hub parquet with the hub's column names and ClassLabel features for
intermediate tasks, google-research/xtreme's download layout for targets, CCGbank AUTO for ccg)
load through `load_split` to identical canonical features.
"""

from __future__ import annotations

import datasets
import pytest
from fixtures_real import fake_load_dataset, write_ccgbank, write_hub_parquet, write_xtreme_download

from xstilts.data import load
from xstilts.data.load import load_split
from xstilts.data.synthetic import generate
from xstilts.data.synthetic.config import DEFAULT_CONFIG
from xstilts.tasks.registry import builtin_tasks, get_task

INTERMEDIATE = [n for n, t in builtin_tasks().items() if t.role == "intermediate"]
TARGETS = [n for n, t in builtin_tasks().items() if t.role == "target"]
# copa has no size of its own: mini-XTREME's copa is XCOPA's English training data
SMALL = {"sizes": {name: {"train": 20, "validation": 8} for name in INTERMEDIATE
                   if name in DEFAULT_CONFIG["sizes"]},
         "translated_train": 5, "mlm": {"high": 30, "mid": 20, "low": 10, "validation": 5},
         "parallel": 10}


@pytest.fixture(scope="module")
def synthetic_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("mini-xtreme")
    generate(root, SMALL)
    return root


@pytest.fixture(scope="module")
def real_roots(tmp_path_factory):
    base = tmp_path_factory.mktemp("real")
    return {"hub": write_hub_parquet(base / "hub"),
            "xtreme": write_xtreme_download(base / "download"),
            "ccg": write_ccgbank(base / "ccgbank")}


def _features(ds):
    if isinstance(ds, datasets.DatasetDict):
        return {key: part.features for key, part in ds.items()}
    return ds.features


@pytest.mark.parametrize("name", INTERMEDIATE + TARGETS)
def test_same_canonical_features(name, synthetic_root, real_roots, tmp_path, monkeypatch):
    load.clear_cache()
    task = get_task(name)
    split = "test" if task.role == "target" else "train"
    lang = "de" if task.role == "target" and name != "tydiqa" else "en"
    # languages the real fixtures have: XCOPA in Quechua, tweets in Hindi, MasakhaNER (no
    # English) in Yoruba; mini-XTREME's multilingual tasks have their low-resource languages
    lang = {"xcopa": "qu", "tweet_sentiment": "hi", "masakhaner": "yo"}.get(name, lang)
    synthetic_lang = {"en": "en", "yo": "vely"}.get(lang, "dano")
    synthetic = load_split(task, split, synthetic_lang,
                           {"kind": "synthetic", "path": str(synthetic_root), "ccg_path": None})
    if name == "ccg":
        source = {"kind": "hub", "path": None, "ccg_path": str(real_roots["ccg"])}
    elif task.role == "intermediate" or name == "tweet_sentiment":  # tweets: no XTREME layout
        monkeypatch.setattr(datasets, "load_dataset",
                            fake_load_dataset(real_roots["hub"], tmp_path / "cache"))
        source = {"kind": "hub", "path": None, "ccg_path": None}
    else:
        source = {"kind": "xtreme_dir", "path": str(real_roots["xtreme"]), "ccg_path": None}
    real = load_split(task, split, "ar" if name == "tydiqa" else lang, source)
    if name == "ccg":  # an open label set: the label names differ, the structure must not
        assert synthetic.features.keys() == real.features.keys()
        assert type(synthetic.features["tags"].feature) is type(real.features["tags"].feature)
    else:
        assert _features(synthetic) == _features(real)
    assert len(synthetic) > 0 and len(real) > 0
