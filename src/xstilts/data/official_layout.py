"""The official XTREME download, re-implemented: raw public files -> the `download/` layout.

An independent re-implementation (for fixtures and for checking xstilts on real files) of what
google-research/xtreme's `scripts/download_data.sh` + `utils_preprocess.py` leave on disk,
including the removal of test labels:

- XQuAD (`xquad/xquad.<l>.json`), MLQA test, TyDiQA-GoldP dev: every question becomes its own
  article `{paragraphs: [{context, qas: [{answers: [{answer_start: 0, text: ""}], question,
  id}]}]}` (no title), written with `json.dump` defaults (ASCII escapes);
- XNLI / PAWS-X: `csv.writer(delimiter='\\t')` rows (`\\r\\n`), test rows without the label;
- UD-POS / PAN-X: `token\\ttag` lines, test files with the tokens only;
- XCOPA: `{train,val,test}-en.jsonl` (COPA) and `{val,test}-<l>.jsonl`, every test label 0;
- TyDiQA-GoldP train split per language (ids keep their last `-` part only), dev renamed to
  `tydiqa.goldp.<l>.dev.json`.

`hub_strip` reproduces the hub loading scripts' `.strip()` of contexts, questions and answer
texts (answer_start kept). Nothing here is used by the workflow itself.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

BLANK_ANSWER = {"answer_start": 0, "text": ""}
TYDIQA_LANG = {"arabic": "ar", "bengali": "bn", "english": "en", "finnish": "fi",
               "indonesian": "id", "korean": "ko", "russian": "ru", "swahili": "sw",
               "telugu": "te"}


def _write(path: Path, text: str) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as handle:
        handle.write(text)
    return path


def _check_offsets(data: dict[str, Any], where: str) -> None:
    for doc in data["data"]:
        for par in doc["paragraphs"]:
            for qa in par["qas"]:
                for ans in qa["answers"]:
                    start, text = ans["answer_start"], ans["text"]
                    if par["context"][start:start + len(text)] != text:
                        raise ValueError(f"{where}: answer {text!r} not at {start}")


def blank_squad(data: dict[str, Any], where: str = "squad") -> dict[str, Any]:
    """A SQuAD dict with its test annotations removed as the official preprocessing does."""
    _check_offsets(data, where)
    docs = [{"paragraphs": [{"context": par["context"],
                             "qas": [{"answers": [dict(BLANK_ANSWER)], "question": qa["question"],
                                      "id": qa["id"]}]}]}
            for doc in data["data"] for par in doc["paragraphs"] for qa in par["qas"]]
    return {"data": docs, "version": data["version"]}


def write_blanked_squad(data: dict[str, Any], path: Path) -> Path:
    return _write(path, json.dumps(blank_squad(data, str(path))))


def write_squad(data: dict[str, Any], path: Path) -> Path:
    """An unblanked original as its publisher ships it (indented, UTF-8)."""
    return _write(path, json.dumps(data, ensure_ascii=False, indent=2))


def xquad(originals: dict[str, dict[str, Any]], root: Path, blank: bool = True) -> list[Path]:
    """`download/xquad/xquad.<l>.json` for every language of `originals` ({lang: squad dict})."""
    write = write_blanked_squad if blank else write_squad
    return [write(data, Path(root) / "xquad" / f"xquad.{lang}.json")
            for lang, data in originals.items()]


def mlqa(originals: dict[tuple[str, str], dict[str, Any]], root: Path, blank: bool = True
         ) -> list[Path]:
    """`download/mlqa/MLQA_V1/{dev,test}/<split>-context-<l>-question-<q>.json`: only test is
    blanked (the script runs the removal on MLQA_V1/test). Keys: (split, lang) -> squad dict."""
    out = []
    for (split, lang), data in originals.items():
        name = f"{split}-context-{lang}-question-{lang}.json"
        path = Path(root) / "mlqa" / "MLQA_V1" / split / name
        out.append(write_blanked_squad(data, path) if blank and split == "test"
                   else write_squad(data, path))
    return out


def tydiqa(train: dict[str, Any], dev: dict[str, dict[str, Any]], root: Path,
           blank: bool = True) -> list[Path]:
    """TyDiQA-GoldP: the multilingual train file split per language (ids `<lang>-...-<n>`
    become `<n>`) and the dev files `tydiqa-goldp-dev-<name>.json` renamed (and blanked)."""
    base = Path(root) / "tydiqa"
    per_lang: dict[str, list[dict[str, Any]]] = defaultdict(list)
    _check_offsets(train, "tydiqa train")
    for doc in train["data"]:
        for par in doc["paragraphs"]:
            for qa in par["qas"]:
                name, short = qa["id"].split("-")[0], qa["id"].split("-")[-1]
                per_lang[name].append({"paragraphs": [{"context": par["context"], "qas": [
                    {"answers": qa["answers"], "question": qa["question"], "id": short}]}]})
    out = [_write(base / "tydiqa-goldp-v1.1-train" / f"tydiqa.goldp.{TYDIQA_LANG[n]}.train.json",
                  json.dumps({"data": docs, "version": train["version"]}))
           for n, docs in per_lang.items()]
    out.append(_write(base / "tydiqa-goldp-v1.1-train" / "tydiqa-goldp-v1.1-train.json",
                      json.dumps(train)))
    for name, data in dev.items():
        path = base / "tydiqa-goldp-v1.1-dev" / f"tydiqa.goldp.{TYDIQA_LANG[name]}.dev.json"
        out.append(write_blanked_squad(data, path) if blank else write_squad(data, path))
    return out


def _tsv(rows: list[list[str]]) -> str:
    lines: list[str] = []

    class _Sink:
        def write(self, text: str) -> None:
            lines.append(text)

    writer = csv.writer(_Sink(), delimiter="\t")  # default '\r\n' line ending, as xtreme's
    for row in rows:
        writer.writerow(row)
    return "".join(lines)


def _norm(sentence: str) -> str:
    return " ".join(sentence.strip().split(" "))


def xnli(train_en: list[tuple[str, str, str]], rows: dict[str, list[tuple[str, str, str]]],
         root: Path, blank: bool = True) -> list[Path]:
    """`xnli/train-en.tsv` (MultiNLI, labelled), `xnli/{dev,test}-<l>.tsv`; `rows` maps
    "dev"/"test" to (lang, gold_label, sentence1, sentence2) per row, in XNLI-1.0's order."""
    fix = {"contradictory": "contradiction"}
    out = [_write(Path(root) / "xnli" / "train-en.tsv",
                  _tsv([[_norm(a), _norm(b), fix.get(y, y)] for a, b, y in train_en]))]
    for split, split_rows in rows.items():
        by_lang: dict[str, list[list[str]]] = defaultdict(list)
        for lang, label, a, b in split_rows:
            cells = [_norm(a), _norm(b)]
            by_lang[lang].append(cells if blank and split == "test"
                                 else [*cells, fix.get(label, label)])
        out += [_write(Path(root) / "xnli" / f"{split}-{lang}.tsv", _tsv(r))
                for lang, r in by_lang.items()]
    return out


def pawsx(files: dict[tuple[str, str], list[tuple[str, str, str]]], root: Path,
          blank: bool = True) -> list[Path]:
    """`pawsx/{train,dev,test}-<l>.tsv` from x-final's `<l>/{train,dev_2k,test_2k}.tsv`
    rows (sentence1, sentence2, label); keys (split, lang) with split train/dev/test."""
    out = []
    for (split, lang), rows in files.items():
        cells = [[_norm(a), _norm(b)] + ([] if blank and split == "test" else [y])
                 for a, b, y in rows]
        out.append(_write(Path(root) / "pawsx" / f"{split}-{lang}.tsv", _tsv(cells)))
    return out


# conllu_to_conll.py's default precedence: a multiword token gets its subtokens' first tag here
POS_PRECEDENCE = ("VERB", "NOUN", "PROPN", "PRON", "ADJ", "NUM", "ADV", "INTJ", "AUX", "ADP",
                  "DET", "PART", "CCONJ", "SCONJ", "X", "PUNCT")


def conllu_words(text: str) -> list[list[tuple[str, str]]]:
    """(word, UPOS) sentences of a CoNLL-U file as XTREME's conversion leaves them: multiword
    tokens replace their subtokens (fused form, highest-precedence UPOS), empty nodes dropped,
    sentences of (almost) only "_" words dropped."""
    sentences: list[list[tuple[str, str]]] = []
    words: list[tuple[str, str]] = []
    fused: dict[int, tuple[int, str]] = {}
    subtags: dict[int, list[str]] = {}
    for line in [*text.split("\n"), ""]:
        cells = line.rstrip("\r").split("\t")
        if len(cells) != 10:
            if words:
                empty = sum(w == "_" for w, _ in words)
                if empty == 0 or empty < len(words) - 1:
                    sentences.append(words)
            words, fused, subtags = [], {}, {}
            continue
        ident = cells[0]
        if "." in ident:
            continue
        if "-" in ident:
            first, last = (int(x) for x in ident.split("-"))
            fused[first] = (last, cells[1])
            subtags[first] = []
            continue
        n = int(ident)
        owner = next((f for f, (last, _) in fused.items() if f <= n <= last), None)
        if owner is None:
            words.append((cells[1], cells[3]))
            continue
        subtags[owner].append(cells[3])
        last, form = fused[owner]
        if n == last:
            tags = subtags[owner]
            rank = {t: i for i, t in enumerate(POS_PRECEDENCE)}
            words.append((form, min(tags, key=lambda t: rank.get(t, len(rank)))))
    return sentences


def udpos(sentences: dict[tuple[str, str], list[list[tuple[str, str]]]], root: Path,
          blank: bool = True) -> list[Path]:
    """`udpos/{train,dev,test}-<l>.tsv` from (word, UPOS) sentences of the CoNLL-U files:
    ZWNJ removed and spaces inside words dropped; test files hold the words only; the last
    word of the file has no newline of its own (one blank line follows every sentence)."""
    out = []
    for (split, lang), sents in sentences.items():
        text = []
        for s, sent in enumerate(sents):
            for w, (word, tag) in enumerate(sent):
                word = "".join(word.replace("\u200c", "").split(" "))
                end = "" if s == len(sents) - 1 and w == len(sent) - 1 else "\n"
                text.append(f"{word}{end}" if blank and split == "test" else f"{word}\t{tag}{end}")
            text.append("\n")
        out.append(_write(Path(root) / "udpos" / f"{split}-{lang}.tsv", "".join(text)))
    return out


def panx(sentences: dict[tuple[str, str], list[list[tuple[str, str]]]], root: Path,
         blank: bool = True) -> list[Path]:
    """`panx/{train,dev,test}-<l>.tsv` from the WikiANN `<l>:token\\ttag` files (tokens only
    on test); sentences separated by one blank line, none after the last."""
    out = []
    for (split, lang), sents in sentences.items():
        lines = []
        for sent in sents:
            lines += [f"{tok}\n" if blank and split == "test" else f"{tok}\t{tag}\n"
                      for tok, tag in sent]
            lines.append("\n")
        out.append(_write(Path(root) / "panx" / f"{split}-{lang}.tsv", "".join(lines[:-1])))
    return out


def xcopa(copa: dict[str, list[dict[str, Any]]], xcopa_rows: dict[tuple[str, str], list[dict]],
          root: Path, blank: bool = True) -> list[Path]:
    """`xcopa/{train,val,test}-en.jsonl` (SuperGLUE COPA) and `xcopa/{val,test}-<l>.jsonl`;
    every test row gets `label: 0` (json.dumps defaults, key order kept)."""
    base = Path(root) / "xcopa"
    files = {f"{split}-en.jsonl": rows for split, rows in copa.items()}
    files.update({f"{split}-{lang}.jsonl": rows for (split, lang), rows in xcopa_rows.items()})
    out = []
    for name, rows in files.items():
        if blank and name.startswith("test"):
            rows = [{**row, "label": 0} for row in rows]
            text = "".join(json.dumps(row) + "\n" for row in rows)
        else:
            text = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
        out.append(_write(base / name, text))
    return out


def hub_strip(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Hub rows of a SQuAD dict as the hub's XQuAD/XTREME loading scripts yield them: context,
    question and answer texts `.strip()`ped, `answer_start` unchanged."""
    rows = []
    for doc in data["data"]:
        for par in doc["paragraphs"]:
            for qa in par["qas"]:
                rows.append({"id": qa["id"], "context": par["context"].strip(),
                             "question": qa["question"].strip(),
                             "answers": {"text": [a["text"].strip() for a in qa["answers"]],
                                         "answer_start": [a["answer_start"]
                                                          for a in qa["answers"]]}})
    return rows
