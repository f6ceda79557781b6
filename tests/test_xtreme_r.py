"""XTREME-R: task and language lists, task/group/overall scores as the official evaluate.py."""

from __future__ import annotations

import pytest

from xstilts.analysis.scoring import main, score_folder
from xstilts.analysis.submission import write_labels, write_predictions
from xstilts.data.schema import DataError
from xstilts.tasks.benchmark import (
    XTREME_R_IMPLEMENTED,
    XTREME_R_TASKS,
    xtreme_r_group_scores,
    xtreme_r_overall_scores,
    xtreme_r_score,
    xtreme_r_task_score,
)
from xstilts.tasks.registry import (
    RegistryError,
    benchmark_languages,
    benchmark_tasks,
    builtin_tasks,
    get_task,
)

# google-research/xtreme evaluate.py (commit da430dd): XTREME_R_TASK2LANGS and XTREME_TASK2LANGS
OFFICIAL_XTREME_R = {
    "xnli": "ar,bg,de,el,en,es,fr,hi,ru,sw,th,tr,ur,vi,zh",
    "panx": "ar,he,vi,id,jv,ms,tl,eu,ml,ta,te,af,nl,en,de,el,bn,hi,mr,ur,fa,fr,it,pt,es,bg,ru,ja,"
            "ka,ko,th,sw,yo,my,zh,kk,tr,et,fi,hu,qu,pl,uk,az,lt,pa,gu,ro",
    "udpos": "af,ar,bg,de,el,en,es,et,eu,fa,fi,fr,he,hi,hu,id,it,ja,kk,ko,mr,nl,pt,ru,ta,te,th,"
             "tl,tr,ur,vi,yo,zh,lt,pl,uk,wo,ro",
    "tatoeba": "ar,he,vi,id,jv,tl,eu,ml,ta,te,af,nl,de,el,bn,hi,mr,ur,fa,fr,it,pt,es,bg,ru,ja,ka,"
               "ko,th,sw,zh,kk,tr,et,fi,hu,az,lt,pl,uk,ro",
    "xcopa": "et,ht,id,it,qu,sw,ta,th,tr,vi,zh",
    "xquad": "en,es,de,el,ru,tr,ar,vi,th,zh,hi,ro",
    "mlqa": "en,es,de,ar,hi,vi,zh",
    "tydiqa": "en,ar,bn,fi,id,ko,ru,sw,te",
}
OFFICIAL_XTREME = {
    "pawsx": "de,en,es,fr,ja,ko,zh",
    "xnli": "ar,bg,de,el,en,es,fr,hi,ru,sw,th,tr,ur,vi,zh",
    "panx": "ar,he,vi,id,jv,ms,tl,eu,ml,ta,te,af,nl,en,de,el,bn,hi,mr,ur,fa,fr,it,pt,es,bg,ru,ja,"
            "ka,ko,th,sw,yo,my,zh,kk,tr,et,fi,hu",
    "udpos": "af,ar,bg,de,el,en,es,et,eu,fa,fi,fr,he,hi,hu,id,it,ja,kk,ko,mr,nl,pt,ru,ta,te,th,"
             "tl,tr,ur,vi,yo,zh",
    "bucc2018": "de,fr,ru,zh",
    "tatoeba": "ar,he,vi,id,jv,tl,eu,ml,ta,te,af,nl,de,el,bn,hi,mr,ur,fa,fr,it,pt,es,bg,ru,ja,ka,"
               "ko,th,sw,zh,kk,tr,et,fi,hu",
    "xquad": "en,es,de,el,ru,tr,ar,vi,th,zh,hi",
    "mlqa": "en,es,de,ar,hi,vi,zh",
    "tydiqa": "en,ar,bn,fi,id,ko,ru,sw,te",
}


# ---------------------------------------------------------------- tasks and languages


def test_xtreme_r_tasks_and_languages_are_the_official_lists():
    assert XTREME_R_TASKS == ("xnli", "panx", "udpos", "tatoeba", "xcopa", "lareqa", "mewslix",
                              "xquad", "mlqa", "tydiqa")
    assert benchmark_tasks("xtreme_r") == list(OFFICIAL_XTREME_R) == list(XTREME_R_IMPLEMENTED)
    assert benchmark_tasks("xtreme_r", implemented=False) == list(XTREME_R_TASKS)
    for task, langs in OFFICIAL_XTREME_R.items():
        assert benchmark_languages(task, "xtreme_r") == tuple(langs.split(",")), task
    # 50 languages (Mewsli-X's are all among them)
    union = {lang for langs in OFFICIAL_XTREME_R.values() for lang in langs.split(",")}
    assert len(union) == 50 and set(OFFICIAL_XTREME["xquad"].split(",")) <= union
    assert {"ar", "de", "en", "es", "fa", "ja", "pl", "ro", "ta", "tr", "uk"} <= union
    # only XTREME-R tasks carry a list
    assert {n for n, t in builtin_tasks().items() if t.languages_xtreme_r} == set(OFFICIAL_XTREME_R)


def test_xtreme_lists_are_unchanged():
    assert benchmark_tasks("xtreme") == list(OFFICIAL_XTREME)
    for task, langs in OFFICIAL_XTREME.items():
        assert get_task(task).languages == tuple(langs.split(","))
        assert benchmark_languages(task, "xtreme") == tuple(langs.split(","))


def test_benchmark_errors():
    with pytest.raises(RegistryError, match="not part of benchmark 'xtreme_r'"):
        benchmark_languages("pawsx", "xtreme_r")
    with pytest.raises(RegistryError, match="not part of benchmark 'xtreme'"):
        benchmark_languages("xcopa", "xtreme")
    with pytest.raises(RegistryError, match="unknown benchmark"):
        benchmark_tasks("xglue")
    with pytest.raises(RegistryError, match="languages_xtreme_r"):
        get_task("xnli", {"xnli": {"languages_xtreme_r": ["EN"]}})


# ---------------------------------------------------------------- scores


def test_task_score_rules():
    # QA group: mean of the language-averaged EM and F1
    assert xtreme_r_task_score("xquad", {"exact_match": 60.0, "f1": 75.0}) == 67.5
    assert xtreme_r_task_score("mlqa", {"exact_match": 50.0, "f1": 71.0}) == 60.5
    # F1 before accuracy; accuracy otherwise
    assert xtreme_r_task_score("panx", {"f1": 61.0, "precision": 1.0, "recall": 2.0}) == 61.0
    assert xtreme_r_task_score("xcopa", {"accuracy": 55.5}) == 55.5
    with pytest.raises(ValueError, match="exact_match"):
        xtreme_r_task_score("tydiqa", {"f1": 70.0})
    with pytest.raises(ValueError, match="neither"):
        xtreme_r_task_score("mewslix", {"map@20": 40.0})


SCORES = {"xnli": 79.0, "xcopa": 69.0, "udpos": 74.0, "panx": 64.0, "tatoeba": 58.0,
          "xquad": 76.5, "mlqa": 65.5, "tydiqa": 60.0, "lareqa": 40.0, "mewslix": 42.0}


def test_xtreme_r_score_hand_computed():
    # all 10 tasks: (79+69+74+64+58+76.5+65.5+60+40+42) / 10 = 628 / 10
    assert xtreme_r_score(SCORES) == pytest.approx(62.8)
    # the 8 implemented: (79+69+74+64+58+76.5+65.5+60) / 8 = 546 / 8
    assert xtreme_r_score(SCORES, XTREME_R_IMPLEMENTED) == pytest.approx(68.25)
    partial = {k: v for k, v in SCORES.items() if k not in ("lareqa", "mewslix")}
    with pytest.raises(ValueError, match=r"missing \['lareqa', 'mewslix'\]"):
        xtreme_r_score(partial)
    with pytest.raises(ValueError, match="not XTREME-R tasks"):
        xtreme_r_score({**SCORES, "pawsx": 1.0}, ["pawsx", "xnli"])


def test_group_and_overall_scores_hand_computed():
    groups = xtreme_r_group_scores(SCORES)
    assert groups == pytest.approx({
        "classification": (79 + 69) / 2, "tagging": (74 + 64) / 2,
        "qa": (76.5 + 65.5 + 60) / 3, "retrieval": (58 + 42) / 2, "multi_choice": 69.0})
    partial = {k: v for k, v in SCORES.items() if k != "mewslix"}
    overall = xtreme_r_overall_scores(partial)
    assert "all_task" not in overall and "retrieval" not in overall
    assert overall["classification"] == 74.0
    assert xtreme_r_overall_scores(SCORES)["all_task"] == pytest.approx(62.8)


# ---------------------------------------------------------------- scoring a folder


def _submission(root, task, lang, preds, gold):
    write_predictions(task, lang, preds, root / "pred")
    write_labels(task, lang, gold, root / "gold")


def test_score_folder_xtreme_r(tmp_path):
    _submission(tmp_path, "xnli", "de", ["entailment", "neutral", "neutral", "contradiction"],
                ["entailment", "neutral", "contradiction", "contradiction"])   # 75
    _submission(tmp_path, "xnli", "sw", ["neutral", "neutral"], ["neutral", "entailment"])  # 50
    _submission(tmp_path, "xcopa", "qu", [0, 1, 1, 0, 1], [0, 1, 0, 0, 0])   # 60
    _submission(tmp_path, "pawsx", "de", ["1"], ["1"])   # not an XTREME-R task: ignored
    langs = {"xnli": ["de", "sw"], "xcopa": ["qu"]}
    per_lang, overall = score_folder(tmp_path / "pred", tmp_path / "gold", languages=langs,
                                     benchmark="xtreme_r")
    assert sorted(set(per_lang["task"])) == ["xcopa", "xnli"]
    rows = {(r.scope, r.name): r.value for r in overall.itertuples()}
    assert rows[("task_score", "xnli")] == pytest.approx(62.5)
    assert rows[("task_score", "xcopa")] == pytest.approx(60.0)
    assert rows[("group", "classification")] == pytest.approx(61.25)
    assert rows[("group", "multi_choice")] == pytest.approx(60.0)
    assert ("xtreme_r", "all_task") not in rows and ("xtreme", "all_task") not in rows


def test_score_folder_uses_xtreme_r_languages(tmp_path):
    """Without overrides the XTREME-R lists are used: XQuAD needs Romanian."""
    squad = {"data": [{"title": "t", "paragraphs": [{"context": "abc", "qas": [
        {"id": "q", "question": "?", "answers": [{"text": "b", "answer_start": 1}]}]}]}]}
    for lang in OFFICIAL_XTREME["xquad"].split(","):
        _submission(tmp_path, "xquad", lang, {"q": "b"}, squad)
    _, overall = score_folder(tmp_path / "pred", tmp_path / "gold")   # XTREME: 11 languages
    assert overall.query("name == 'xquad' and scope == 'task_score'")["value"].item() == 100.0
    with pytest.raises(DataError, match="test-ro.json"):
        score_folder(tmp_path / "pred", tmp_path / "gold", benchmark="xtreme_r")
    _submission(tmp_path, "xquad", "ro", {"q": "x"}, squad)
    _, overall = score_folder(tmp_path / "pred", tmp_path / "gold", benchmark="xtreme_r")
    assert overall.query("name == 'xquad' and scope == 'task_score'")["value"].item() == (
        pytest.approx(100 * 11 / 12))


def test_cli_xtreme_version(tmp_path, capsys):
    _submission(tmp_path, "xcopa", "qu", [0, 1], [0, 0])
    code = main(["--predictions_folder", str(tmp_path / "pred"), "--gold_folder",
                 str(tmp_path / "gold"), "--xtreme_version", "xtreme-r", "--tasks", "xcopa"])
    assert code == 2   # the other 10 XCOPA languages are missing
    assert "test-et.tsv" in capsys.readouterr().err
    with pytest.raises(ValueError, match="unknown benchmark"):
        score_folder(tmp_path / "pred", tmp_path / "gold", benchmark="xtreme-r")
