"""Small fixtures in the real datasets' schemas (no network).

- `HUB`: rows + features per (hub id, config, split), in the hub datasets' column names and
  features (ClassLabel where the hub has one); `write_hub_parquet` stores them as parquet and
  `fake_load_dataset` serves them to `datasets.load_dataset(id, config, split=...)` (the
  `hub_files` and `fake_hub` fixtures of conftest.py); `HUB_SRC` is the hub source of
  `load_split`, `named_row` a loaded row with label names, `hub_requests` what the hub is asked.
- `write_xtreme_download`: raw files in google-research/xtreme's `download/` layout, written
  byte by byte here (not through xstilts' writers) so the readers are tested independently.
- `write_ccgbank`: CCGbank AUTO files.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import datasets
from datasets import ClassLabel, Features, Sequence, Value

S = Value("string")
NLI = ClassLabel(names=["entailment", "neutral", "contradiction"])
UPOS = ["ADJ", "ADP", "ADV", "AUX", "CCONJ", "DET", "INTJ", "NOUN", "NUM", "PART", "PRON",
        "PROPN", "PUNCT", "SCONJ", "SYM", "VERB", "X"]
NER = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"]
ANSWERS = Sequence({"text": S, "answer_start": Value("int32")})
SQUAD_F = Features({"id": S, "title": S, "context": S, "question": S, "answers": ANSWERS})
XQUAD_F = Features({"id": S, "context": S, "question": S, "answers": ANSWERS})
PAIR_F = Features({"source_sentence": S, "target_sentence": S, "source_lang": S,
                   "target_lang": S})

CTX = "Paris is the capital of France."
HUB_SRC = {"kind": "hub", "path": None, "ccg_path": None}


def _qa(qid: str, question: str, text: str, start: int, title: str = "Paris") -> dict:
    return {"id": qid, "title": title, "context": CTX, "question": question,
            "answers": {"text": [text] if text else [], "answer_start": [start] if text else []}}


def _anli(uid: str, label: int) -> dict:
    return {"uid": uid, "premise": f"premise {uid}", "hypothesis": f"hyp {uid}", "label": label,
            "reason": ""}


ANLI_F = Features({"uid": S, "premise": S, "hypothesis": S, "label": NLI, "reason": S})
SNLI_F = Features({"premise": S, "hypothesis": S, "label": NLI})
MNLI_F = Features({"premise": S, "hypothesis": S, "label": NLI, "idx": Value("int32")})
QQP_F = Features({"question1": S, "question2": S,
                  "label": ClassLabel(names=["not_duplicate", "duplicate"]), "idx": Value("int32")})
HELLA_F = Features({"ind": Value("int32"), "activity_label": S, "ctx_a": S, "ctx_b": S, "ctx": S,
                    "endings": Sequence(S), "source_id": S, "split": S, "split_type": S,
                    "label": S})
COSMOS_F = Features({"id": S, "context": S, "question": S, "answer0": S, "answer1": S,
                     "answer2": S, "answer3": S, "label": Value("int32")})
CSQA_F = Features({"id": S, "question": S, "question_concept": S,
                   "choices": Sequence({"label": S, "text": S}), "answerKey": S})
XNLI_F = Features({"premise": S, "hypothesis": S, "label": NLI})
PAWSX_F = Features({"id": Value("int32"), "sentence1": S, "sentence2": S,
                    "label": ClassLabel(names=["0", "1"])})
UDPOS_F = Features({"tokens": Sequence(S), "pos_tags": Sequence(ClassLabel(names=UPOS))})
PANX_F = Features({"tokens": Sequence(S), "ner_tags": Sequence(ClassLabel(names=NER)),
                   "langs": Sequence(S)})
# XCOPA (cambridgeltl/xcopa), COPA (aps/super_glue copa), tweet_sentiment_multilingual,
# SIB-200 (Davlan/sib200), MasakhaNER 2.0 (masakhane/masakhaner2): their hub features
XCOPA_F = Features({"premise": S, "choice1": S, "choice2": S, "question": S,
                    "label": Value("int32"), "idx": Value("int32"), "changed": Value("bool")})
COPA_F = Features({"premise": S, "choice1": S, "choice2": S, "question": S,
                   "idx": Value("int32"), "label": ClassLabel(names=["choice1", "choice2"])})
TWEET_F = Features({"text": S, "label": ClassLabel(names=["negative", "neutral", "positive"])})
SIB_F = Features({"index_id": Value("int64"), "category": S, "text": S})
MASAKHANER = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-DATE", "I-DATE"]
MASAKHANER_F = Features({"id": S, "tokens": Sequence(S),
                         "ner_tags": Sequence(ClassLabel(names=MASAKHANER))})


def _copa(idx: int, question: str, label: int, premise: str = "The man turned on the faucet.",
          changed: bool | None = None) -> dict:
    row = {"premise": premise, "choice1": "The toilet filled with water.",
           "choice2": "Water flowed from the spout.", "question": question, "label": label,
           "idx": idx}
    if changed is not None:
        row["changed"] = changed
    return row


def _hella(ind: int, label: str) -> dict:
    return {"ind": ind, "activity_label": "Cooking", "ctx_a": f"A man {ind}", "ctx_b": "then he",
            "ctx": f"A man {ind} then he", "endings": ["cooks.", "sleeps.", "runs.", "sings."],
            "source_id": "x", "split": "train", "split_type": "indomain", "label": label}


HUB: dict[tuple[str, str | None, str], tuple[Features, list[dict[str, Any]]]] = {
    ("facebook/anli", "plain_text", "train_r1"): (ANLI_F, [_anli("r1a", 0), _anli("r1b", 2)]),
    ("facebook/anli", "plain_text", "train_r2"): (ANLI_F, [_anli("r2a", 1)]),
    ("facebook/anli", "plain_text", "train_r3"): (ANLI_F, [_anli("r3a", 2)]),
    ("facebook/anli", "plain_text", "dev_r1"): (ANLI_F, [_anli("d1", 0)]),
    ("facebook/anli", "plain_text", "dev_r2"): (ANLI_F, [_anli("d2", 1)]),
    ("facebook/anli", "plain_text", "dev_r3"): (ANLI_F, [_anli("d3", 2)]),
    ("stanfordnlp/snli", "plain_text", "train"): (SNLI_F, [
        {"premise": "A dog runs.", "hypothesis": "An animal moves.", "label": 0},
        {"premise": "A cat.", "hypothesis": "No gold label.", "label": -1},
        {"premise": "A man.", "hypothesis": "A woman.", "label": 2}]),
    ("nyu-mll/glue", "mnli", "train"): (MNLI_F, [
        {"premise": "p0", "hypothesis": "h0", "label": 1, "idx": 0},
        {"premise": "p1", "hypothesis": "h1", "label": 2, "idx": 1}]),
    ("nyu-mll/glue", "mnli", "validation_matched"): (MNLI_F, [
        {"premise": "vp0", "hypothesis": "vh0", "label": 0, "idx": 0}]),
    ("nyu-mll/glue", "qqp", "train"): (QQP_F, [
        {"question1": "How?", "question2": "Why?", "label": 0, "idx": 0},
        {"question1": "What is X?", "question2": "What's X?", "label": 1, "idx": 1}]),
    ("nyu-mll/glue", "qqp", "validation"): (QQP_F, [
        {"question1": "a?", "question2": "b?", "label": 1, "idx": 0}]),
    ("rajpurkar/squad", "plain_text", "train"): (SQUAD_F, [
        _qa("5733be", "What is the capital of France?", "Paris", 0),
        _qa("5733bf", "Of which country?", "France", 24)]),
    ("rajpurkar/squad", "plain_text", "validation"): (SQUAD_F, [_qa("v1", "Capital?", "Paris", 0)]),
    ("rajpurkar/squad_v2", "squad_v2", "train"): (SQUAD_F, [
        _qa("s2a", "What is the capital?", "Paris", 0), _qa("s2b", "Who is king?", "", 0)]),
    ("rajpurkar/squad_v2", "squad_v2", "validation"): (SQUAD_F, [_qa("s2v", "King?", "", 0)]),
    ("Rowan/hellaswag", None, "train"): (HELLA_F, [_hella(4, "3"), _hella(5, "0")]),
    ("Rowan/hellaswag", None, "validation"): (HELLA_F, [_hella(24, "1")]),
    ("allenai/cosmos_qa", None, "train"): (COSMOS_F, [
        {"id": "3Q9", "context": "I woke up late.", "question": "Why?", "answer0": "Tired",
         "answer1": "Happy", "answer2": "Alarm broke", "answer3": "None of the above",
         "label": 2}]),
    ("allenai/cosmos_qa", None, "validation"): (COSMOS_F, [
        {"id": "3V1", "context": "c", "question": "q", "answer0": "a", "answer1": "b",
         "answer2": "c", "answer3": "d", "label": 0}]),
    ("tau/commonsense_qa", None, "train"): (CSQA_F, [
        {"id": "075e", "question": "The sanctions were a slap on the wrist?",
         "question_concept": "punishing",
         "choices": {"label": ["A", "B", "C", "D", "E"],
                     "text": ["ignore", "enforce", "authoritarian", "yell at", "avoid"]},
         "answerKey": "A"}]),
    ("tau/commonsense_qa", None, "validation"): (CSQA_F, [
        {"id": "1afa", "question": "Q?", "question_concept": "c",
         "choices": {"label": ["A", "B", "C", "D", "E"], "text": ["a", "b", "c", "d", "e"]},
         "answerKey": "E"}]),
    ("facebook/xnli", "en", "train"): (XNLI_F, [
        {"premise": "Conceptually cream skimming", "hypothesis": "Product and geography",
         "label": 1}]),
    ("facebook/xnli", "de", "test"): (XNLI_F, [
        {"premise": "Er sagte", "hypothesis": "Er sprach", "label": 0},
        {"premise": "Sie ging", "hypothesis": "Sie blieb", "label": 2}]),
    ("google-research-datasets/paws-x", "de", "test"): (PAWSX_F, [
        {"id": 1, "sentence1": "Satz eins", "sentence2": "Satz zwei", "label": 1}]),
    ("google/xtreme", "udpos.German", "test"): (UDPOS_F, [
        {"tokens": ["Das", "Haus", "."], "pos_tags": [5, 7, 12]}]),
    ("google/xtreme", "PAN-X.de", "test"): (PANX_F, [
        {"tokens": ["Angela", "Merkel", "spricht"], "ner_tags": [1, 2, 0],
         "langs": ["de", "de", "de"]}]),
    ("google/xtreme", "XQuAD.de", "validation"): (XQUAD_F, [
        {"id": "56be", "context": "Berlin ist groß.", "question": "Was ist groß?",
         "answers": {"text": ["Berlin"], "answer_start": [0]}}]),
    ("google/xtreme", "MLQA.de.de", "test"): (SQUAD_F, [
        {"id": "m1", "title": "Berlin", "context": "Berlin ist groß.", "question": "Was?",
         "answers": {"text": ["groß"], "answer_start": [11]}}]),
    ("google/xtreme", "tydiqa", "validation"): (SQUAD_F, [
        {"id": "arabic-111-0", "title": "t", "context": "abc", "question": "q1",
         "answers": {"text": ["b"], "answer_start": [1]}},
        {"id": "english-222-0", "title": "t", "context": "xyz", "question": "q2",
         "answers": {"text": ["z"], "answer_start": [2]}}]),
    ("google/xtreme", "bucc18.de", "test"): (PAIR_F, [
        {"source_sentence": "Hallo Welt", "target_sentence": "Hello world", "source_lang": "de",
         "target_lang": "en"},
        {"source_sentence": "Guten Tag", "target_sentence": "Good day", "source_lang": "de",
         "target_lang": "en"}]),
    ("google/xtreme", "tatoeba.deu", "validation"): (PAIR_F, [
        {"source_sentence": "Ich bin hier.", "target_sentence": "I am here.",
         "source_lang": "deu", "target_lang": "eng"}]),
    ("cambridgeltl/xcopa", "qu", "test"): (XCOPA_F, [
        _copa(1, "effect", 1, "Runakunaqa wasinkuman kutirqanku.", False),
        _copa(2, "cause", 0, "Warmiqa puñurqan.", True)]),
    ("cambridgeltl/xcopa", "qu", "validation"): (XCOPA_F, [_copa(7, "cause", 0, "P.", False)]),
    ("aps/super_glue", "copa", "train"): (COPA_F, [_copa(0, "effect", 1),
                                                   _copa(1, "cause", 0, "My body cast a shadow.")]),
    ("aps/super_glue", "copa", "validation"): (COPA_F, [_copa(400, "cause", 1)]),
    ("cardiffnlp/tweet_sentiment_multilingual", "hindi", "test"): (TWEET_F, [
        {"text": "बहुत अच्छा", "label": 2}, {"text": "ठीक है", "label": 1},
        {"text": "बुरा", "label": 0}]),
    ("cardiffnlp/tweet_sentiment_multilingual", "english", "train"): (TWEET_F, [
        {"text": "I love it @user", "label": 2}]),
    ("Davlan/sib200", "hau_Latn", "train"): (SIB_F, [
        {"index_id": 1476, "category": "science/technology", "text": "Masana kimiyya sun ce."},
        {"index_id": 17, "category": "geography", "text": "Kogin Nilu yana da tsawo."}]),
    ("Davlan/sib200", "eng_Latn", "train"): (SIB_F, [
        {"index_id": 1476, "category": "science/technology", "text": "Scientists say."}]),
    ("masakhane/masakhaner2", "yor", "train"): (MASAKHANER_F, [
        {"id": "0", "tokens": ["Ọ̀gbẹ́ni", "Adé", "lọ", "sí", "Èkó", "ní", "ọjọ́", "Ajé"],
         "ner_tags": [0, 1, 0, 0, 5, 0, 7, 8]}]),
}


def hub_file(root: Path, key: tuple[str, str | None, str]) -> Path:
    path, name, split = key
    return Path(root) / path.replace("/", "__") / (name or "default") / f"{split}.parquet"


def write_hub_parquet(root: Path) -> dict[tuple[str, str | None, str], Path]:
    """Write every HUB fixture as parquet (with its HF features); return key -> file."""
    files = {}
    for key, (features, rows) in HUB.items():
        file = hub_file(root, key)
        file.parent.mkdir(parents=True, exist_ok=True)
        datasets.Dataset.from_list(rows, features=features).to_parquet(str(file))
        files[key] = file
    return files


def fake_load_dataset(files: dict, cache_dir: Path, real=datasets.load_dataset):
    """A stand-in for `datasets.load_dataset(id, config, split=...)` serving parquet fixtures."""

    def load(path: str, name: str | None = None, split: str | None = None, **_: Any):
        key = (path, name, split)
        if key not in files:
            raise FileNotFoundError(f"no fixture for {key}")
        return real("parquet", data_files=str(files[key]), split="train",
                    cache_dir=str(cache_dir))

    return load


def named_row(ds: datasets.Dataset, row: int) -> dict[str, Any]:
    """Row `row` of a loaded dataset with its ClassLabel ids turned back into names."""
    rec = dict(ds[row])
    feats = ds.features
    if "label" in rec and isinstance(feats["label"], ClassLabel) and rec["label"] >= 0:
        rec["label"] = feats["label"].int2str(rec["label"])
    if "tags" in rec:
        rec["tags"] = [feats["tags"].feature.int2str(t) if t >= 0 else t for t in rec["tags"]]
    return rec


def hub_requests(monkeypatch: Any, reads: list[tuple[str, str, str]]) -> list[tuple]:
    """The (hub id, config, split) `datasets.load_dataset` is asked for by each
    `load_split(task, split, lang, HUB_SRC)` of `reads` (offline: each one must fail with a
    `DataError`)."""
    import pytest

    from xstilts.data.load import load_split
    from xstilts.data.schema import DataError
    from xstilts.tasks.registry import get_task

    calls = []

    def spy(path: str, name: str | None = None, split: str | None = None, **_: Any):
        calls.append((path, name, split))
        raise ConnectionError("offline")

    monkeypatch.setattr(datasets, "load_dataset", spy)
    for name, split, lang in reads:
        with pytest.raises(DataError, match="offline"):
            load_split(get_task(name), split, lang, HUB_SRC)
    return calls


# ---------------------------------------------------------------- xtreme download/ layout


def _w(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return path


def squad_json(qas: list[tuple[str, str, list[tuple[str, int]]]], context: str = CTX,
               title: str | None = "Paris") -> str:
    article: dict[str, Any] = {"paragraphs": [{"context": context, "qas": [
        {"id": qid, "question": q, "answers": [{"answer_start": s, "text": t} for t, s in ans]}
        for qid, q, ans in qas]}]}
    if title is not None:
        article["title"] = title
    return json.dumps({"data": [article], "version": "1.1"})


def write_xtreme_download(root: Path) -> Path:
    """Files in download_data.sh's layout with the labels kept on test (the blanked layout the
    official preprocessing really leaves is built by tests/official_layout.py)."""
    root = Path(root)
    # csv.writer(delimiter='\t') with its default '\r\n' line ending and quoting
    _w(root / "xnli/train-en.tsv", "Conceptually cream skimming\tProduct and geography\tneutral"
       "\r\n\"He said \"\"hi\"\"\"\tHe spoke\tentailment\r\n")
    _w(root / "xnli/test-de.tsv", "Er sagte\tEr sprach\tentailment\r\n"
       "\"Sie sagte \"\"nein\"\"\"\tSie blieb\tcontradiction\r\n")
    _w(root / "xnli/dev-de.tsv", "a\tb\tneutral\r\n")
    _w(root / "pawsx/train-en.tsv", "Sentence one .\tSentence two .\t1\r\n")
    _w(root / "pawsx/test-de.tsv", "Satz eins\tSatz zwei\t0\r\nSatz drei\tSatz vier\t1\r\n")
    _w(root / "udpos/train-en.tsv", "The\tDET\ndog\tNOUN\nbarks\tVERB\n\nHi\tINTJ\n")
    _w(root / "udpos/test-de.tsv", "Das\tDET\nHaus\tNOUN\n.\tPUNCT\n")
    _w(root / "panx/train-en.tsv", "Angela\tB-PER\nMerkel\tI-PER\nspoke\tO\n\n")
    _w(root / "panx/test-de.tsv", "Berlin\tB-LOC\nist\tO\n\nSiemens\tB-ORG\n\n")
    _w(root / "squad/train-v1.1.json", squad_json(
        [("5733be", "What is the capital of France?", [("Paris", 0)]),
         ("5733bf", "Of which country?", [("France", 24), ("France", 24)])]))
    _w(root / "squad/dev-v1.1.json", squad_json([("v1", "Capital?", [("Paris", 0)])]))
    _w(root / "xquad/xquad.de.json", squad_json(
        [("56be", "Was ist groß?", [("Berlin", 0)])], context="Berlin ist groß.", title=None))
    mlqa = "mlqa/MLQA_V1/{0}/{0}-context-de-question-de.json"
    _w(root / mlqa.format("test"), squad_json([("m1", "Was?", [("groß", 11)])],
                                              context="Berlin ist groß.", title="Berlin"))
    _w(root / mlqa.format("dev"), squad_json([("m0", "Wer?", [("Berlin", 0)])],
                                             context="Berlin ist groß.", title="Berlin"))
    _w(root / "tydiqa/tydiqa-goldp-v1.1-train/tydiqa.goldp.en.train.json", squad_json(
        [("222", "q", [("z", 2)])], context="xyz", title=None))
    # the unblanked dev set (the official download blanks it: tests/official_layout.py)
    _w(root / "tydiqa/tydiqa-goldp-v1.1-dev/tydiqa.goldp.ar.dev.json", squad_json(
        [("arabic-111-0", "q1", [("b", 1)]), ("arabic-112-0", "q2", [("c", 2)])], context="abc",
        title=None))
    _w(root / "bucc2018/de-en.test.de", "de-000001\tHallo Welt\nde-000002\tGuten Tag\n")
    _w(root / "bucc2018/de-en.test.en", "en-000001\tGood day\nen-000002\tHello world\n"
       "en-000003\tUnrelated\n")
    _w(root / "bucc2018/de-en.test.gold", "de-000001\ten-000002\nde-000002\ten-000001\n")
    _w(root / "tatoeba/tatoeba.deu-eng.deu", "Ich bin hier.\nDanke.\n")
    _w(root / "tatoeba/tatoeba.deu-eng.eng", "I am here.\nThanks.\n")
    # XTREME-R download_xcopa: SuperGLUE COPA as {train,val,test}.en.jsonl (test unlabelled),
    # XCOPA as {val,test}.<lang>.jsonl
    copa = ('{"premise": "My body cast a shadow over the grass.", "choice1": "The sun was '
            'rising.", "choice2": "The grass was cut.", "question": "cause", "idx": 0, '
            '"label": 0}\n')
    _w(root / "xcopa/train.en.jsonl", copa + copa.replace('"idx": 0, "label": 0',
                                                          '"idx": 1, "label": 1'))
    _w(root / "xcopa/val.en.jsonl", copa.replace('"idx": 0', '"idx": 400'))
    _w(root / "xcopa/test.en.jsonl", copa.replace(', "label": 0', "").replace("cause", "effect"))
    _w(root / "xcopa/test.qu.jsonl",
       '{"premise": "Warmiqa puñurqan.", "choice1": "a", "choice2": "b", "question": '
       '"effect", "label": 1, "idx": 1, "changed": false}\n')
    return root


CCG_TREE = ("(<T S[dcl] 0 2> (<T NP 0 1> (<L N NNP NNP Pierre N_73>) ) "
            "(<T S[dcl]\\NP 0 2> (<L (S[dcl]\\NP)/NP VBZ VBZ likes (S[dcl]\\NP_1)/NP_2>) "
            "(<L NP PRP PRP it NP>) ) )")


def write_ccgbank(root: Path) -> Path:
    """A CCGbank folder: data/AUTO/02 (train), 00 (dev) with real AUTO lines."""
    root = Path(root)
    _w(root / "data/AUTO/02/wsj_0201.auto",
       f"ID=wsj_0201.1 PARSER=GOLD NUMPARSE=1\n{CCG_TREE}\n"
       "ID=wsj_0201.2 PARSER=GOLD NUMPARSE=1\n(<L N NN NN Stop N>)\n")
    _w(root / "data/AUTO/00/wsj_0001.auto",
       "ID=wsj_0001.1 PARSER=GOLD NUMPARSE=1\n"
       "(<T S 0 2> (<L N NN NN Vinken N>) (<L S\\N VBD VBD slept S\\N>) )\n")
    return root
