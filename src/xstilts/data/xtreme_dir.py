"""Readers and writers of google-research/xtreme's `download/` layout (+ CCGbank AUTO files).

`scripts/download_data.sh` + `utils_preprocess.py` produce, under `download/`:

- xnli/{train,dev,test}-<l>.tsv, pawsx/{train,dev,test}-<l>.tsv: csv.writer(delimiter='\\t')
  rows `sentence1, sentence2[, label]` (test files may lack the label column)
- udpos/ and panx/{train,dev,test}-<l>.tsv: one `token\\ttag` (or bare `token`) per line,
  sentences separated by blank lines
- squad/{train,dev}-v1.1.json, xquad/xquad.<l>.json,
  mlqa/MLQA_V1/{dev,test}/{dev,test}-context-<l>-question-<l>.json,
  tydiqa/tydiqa-goldp-v1.1-train/tydiqa.goldp.<l>.train.json and
  tydiqa/tydiqa-goldp-v1.1-dev/tydiqa.goldp.<l>.dev.json: SQuAD v1.1 json
  (answers `{answer_start: 0, text: ""}` = removed test annotation: kept by `read_squad`,
  refused by `xstilts.data.withheld`, never read as "unanswerable")
- bucc2018/<l>-en.{dev,test}.{<l>,en} and <l>-en.dev.gold: `id\\tsentence` lines, gold
  `src_id\\ttgt_id` (BUCC's sample set renamed dev, its training set test; `*test.gold` deleted)
- tatoeba/<l>-en.<l> (LASER's tatoeba.<l3>-eng.<l3>, copied) and tatoeba/<l>-en.en (LASER's
  English lines stripped and SORTED, hiding the gold: recovered from LASER's own unsorted
  tatoeba.<l3>-eng.{<l3>,eng}, line i <-> line i, when given; see `read_tatoeba`)
- xcopa/{train,val,test}-en.jsonl (SuperGLUE COPA) and xcopa/{val,test}-<l>.jsonl (XCOPA),
  written by XTREME-R's `download_xcopa` (every test label set to 0; before 2022 the names were
  {train,val}.en.jsonl and {val,test}.<l>.jsonl, still read): JSON lines in the hub datasets'
  column names (layout `hub_jsonl`, mapped by the task's `sources.hub` first part)

Which layout and file template a task uses is declared in tasks.yaml under
`sources: {xtreme_dir: {layout: ..., files: {split: template}}}` ({lang}, {lang3} placeholders).
Readers return canonical records (labels as names, -1 = no label); writers are the inverse.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

from xstilts.data._readlog import note
from xstilts.data.files import answer_offset, drop_blank_answers, read_text, tsv_rows
from xstilts.data.schema import DataError
from xstilts.metrics.retrieval import tatoeba_xtreme_order
from xstilts.tasks.registry import TaskSpec

Rows = list[dict[str, Any]]

# google-research/xtreme utils_preprocess.py tatoeba_preprocess: ISO 639-3 -> 639-1
TATOEBA_LANG3: dict[str, str] = {
    "afr": "af", "ara": "ar", "bul": "bg", "ben": "bn", "deu": "de", "ell": "el", "spa": "es",
    "est": "et", "eus": "eu", "pes": "fa", "fin": "fi", "fra": "fr", "heb": "he", "hin": "hi",
    "hun": "hu", "ind": "id", "ita": "it", "jpn": "ja", "jav": "jv", "kat": "ka", "kaz": "kk",
    "kor": "ko", "mal": "ml", "mar": "mr", "nld": "nl", "por": "pt", "rus": "ru", "swh": "sw",
    "tam": "ta", "tel": "te", "tha": "th", "tgl": "tl", "tur": "tr", "urd": "ur", "vie": "vi",
    "cmn": "zh", "eng": "en", "aze": "az", "lit": "lt", "pol": "pl", "ukr": "uk", "ron": "ro",
}
LANG2_TO_3: dict[str, str] = {v: k for k, v in TATOEBA_LANG3.items()}
CCG_SECTIONS: dict[str, list[int]] = {"train": list(range(2, 22)), "validation": [0], "test": [23]}
_LEAF = re.compile(r"\(<L (\S+) (\S+) (\S+) (\S+) (\S+)>\)")


def lang3(lang: str) -> str:
    """The 3-letter code xtreme's Tatoeba files use (unknown codes, e.g. synthetic, unchanged)."""
    return LANG2_TO_3.get(lang, lang)


def descriptor(task: TaskSpec) -> dict[str, Any]:
    desc = task.sources.get("xtreme_dir")
    if not isinstance(desc, dict) or "layout" not in desc or "files" not in desc:
        raise DataError(f"task '{task.name}': tasks.yaml has no 'sources.xtreme_dir' "
                        "{layout, files} entry")
    return desc


def split_candidates(task: TaskSpec, split: str, lang: str, root: Path) -> list[Path]:
    """Candidate files (or bucc/tatoeba stems) of `split` in `lang`; [] if the layout has none.

    A `files` entry may be a list of templates: readers take the first that exists, writers
    the first (mini-XTREME keeps e.g. a TyDiQA validation file apart from the dev = test file).
    """
    files = descriptor(task)["files"]
    templates = files.get(split, [])
    templates = [templates] if isinstance(templates, str) else list(templates)
    return [Path(root) / t.format(lang=lang, lang3=lang3(lang)) for t in templates]


def _exists(path: Path, layout: str, lang: str) -> bool:
    if layout == "bucc":
        return Path(f"{path}.{lang}").exists()
    if layout == "tatoeba":
        newer = path.parent / f"{lang}-en.{lang}"
        return Path(f"{path}.{lang3(lang)}").exists() or newer.exists()
    return path.exists()


def has_split(task: TaskSpec, split: str, lang: str, root: Path) -> bool:
    """True when a file of `split` in `lang` exists under `root`."""
    layout = descriptor(task)["layout"]
    return any(_exists(p, layout, lang) for p in split_candidates(task, split, lang, root))


def gold_candidates(task: TaskSpec, split: str, lang: str, gold: Path) -> list[Path]:
    """Where unblanked originals of a split may be under `benchmark.gold_path`: the download
    layout's relative path, or the bare file name (e.g. a deepmind/xquad checkout), plus the
    task's `sources.xtreme_dir.gold_files` templates (e.g. cambridgeltl/xcopa's data/<l>/)."""
    desc = descriptor(task)
    templates = desc["files"].get(split, [])
    templates = [templates] if isinstance(templates, str) else list(templates)
    extra = (desc.get("gold_files") or {}).get(split, [])
    templates += [extra] if isinstance(extra, str) else list(extra)
    out: list[Path] = []
    for t in templates:
        rel = Path(t.format(lang=lang, lang3=lang3(lang)))
        out += [Path(gold) / rel, Path(gold) / rel.name]
    return list(dict.fromkeys(out))


def split_path(task: TaskSpec, split: str, lang: str, root: Path, write: bool = False,
               gold: Path | None = None) -> Path:
    """The file (or, for bucc/tatoeba, the file stem) of `split` in `lang` under `root`;
    a file of the same split under `gold` (unblanked originals) comes first."""
    candidates = split_candidates(task, split, lang, root)
    layout = descriptor(task)["layout"]
    if gold is not None and not write and layout not in ("bucc", "tatoeba"):
        for path in gold_candidates(task, split, lang, gold):
            note(path)
            if path.exists():
                return path
    if not candidates:
        raise DataError(f"task '{task.name}': no '{split}' split in the xtreme layout "
                        f"(has {sorted(descriptor(task)['files'])})")
    if not write:
        layout = descriptor(task)["layout"]
        for path in candidates:
            note(path)
            if _exists(path, layout, lang):
                return path
    return candidates[0]


# ---------------------------------------------------------------- text helpers


def write_text(path: Path, text: str) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8"))
    return path


def _check_cell(value: str, path: Path, row: int, column: str) -> str:
    if "\n" in value or "\r" in value or "\t" in value:
        raise DataError(f"{path}: row {row}: column '{column}' contains a tab or newline")
    return value


def _label_name(label: Any, labels: list[str], path: Path, row: int) -> str | None:
    """Canonical label (id or name) -> its name; None for -1 (unlabelled)."""
    if isinstance(label, int) and not isinstance(label, bool):
        if label == -1:
            return None
        if not 0 <= label < len(labels):
            raise DataError(f"{path}: row {row}: label id {label} outside {labels}")
        return labels[label]
    return str(label)


# ---------------------------------------------------------------- sentence-pair tsv


def read_pair_tsv(path: Path) -> Rows:
    rows: Rows = []
    for i, (line, cells) in enumerate(tsv_rows(path)):
        if not cells:
            continue
        if len(cells) not in (2, 3):
            raise DataError(f"{path}: row {i} (line {line}): expected 2 or 3 tab-separated "
                            f"columns (sentence1, sentence2[, label]), got {len(cells)}")
        label = cells[2] if len(cells) == 3 and cells[2] != "" else -1
        rows.append({"id": str(len(rows)), "text_a": cells[0], "text_b": cells[1], "label": label})
    return rows


def write_pair_tsv(path: Path, records: Rows, labels: list[str]) -> Path:
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter="\t", lineterminator="\n")
    for i, rec in enumerate(records):
        name = _label_name(rec["label"], labels, path, i)
        cells = [_check_cell(str(rec["text_a"]), path, i, "text_a"),
                 _check_cell(str(rec.get("text_b", "")), path, i, "text_b")]
        writer.writerow(cells if name is None else [*cells, name])
    return write_text(path, buf.getvalue())


# ---------------------------------------------------------------- conll-style tagging


def read_conll(path: Path) -> Rows:
    rows: Rows = []
    tokens: list[str] = []
    tags: list[Any] = []

    def flush() -> None:
        if tokens:
            rows.append({"id": str(len(rows)), "tokens": list(tokens), "tags": list(tags)})
            tokens.clear()
            tags.clear()

    text = read_text(path)
    tagged = "\t" in text
    for lineno, line in enumerate(text.split("\n"), start=1):
        line = line.rstrip("\r")
        if not line.strip():
            flush()
            continue
        cells = line.split("\t")
        if len(cells) > 2 or cells[0] == "":
            raise DataError(f"{path}: line {lineno}: expected 'token<TAB>tag' or 'token'")
        _check_untabbed(cells, tagged, path, lineno)
        tokens.append(cells[0])
        tags.append(cells[1] if len(cells) == 2 and cells[1] != "" else -1)
    flush()
    return rows


def _check_untabbed(cells: list[str], tagged: bool, path: Path, lineno: int) -> None:
    """In a tagged file, a line without a tab whose text has a space is 'token tag' with a
    space for the tab (a real token with a space, as in Vietnamese, has its tab and tag)."""
    if tagged and len(cells) == 1 and len(cells[0].split()) > 1:
        raise DataError(f"{path}: line {lineno}: {cells[0]!r} has no tab between token and tag "
                        "(a space instead of a tab?)")


def write_conll(path: Path, records: Rows, labels: list[str]) -> Path:
    lines: list[str] = []
    for i, rec in enumerate(records):
        if len(rec["tokens"]) != len(rec["tags"]) or not rec["tokens"]:
            raise DataError(f"{path}: row {i}: needs as many tags as tokens (and >= 1 token)")
        for token, tag in zip(rec["tokens"], rec["tags"], strict=True):
            token = _check_cell(str(token), path, i, "tokens")
            if token.strip() != token or not token:
                raise DataError(f"{path}: row {i}: token {token!r} is empty or has spaces "
                                "at its ends")
            name = _label_name(tag, labels, path, i)
            lines.append(token if name is None else f"{token}\t{name}")
        lines.append("")
    return write_text(path, "".join(line + "\n" for line in lines))


# ---------------------------------------------------------------- SQuAD json


def read_squad(path: Path) -> Rows:
    text = read_text(path)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise DataError(f"{path}: line {err.lineno}: invalid JSON ({err.msg}, column "
                        f"{err.colno})") from None
    if not isinstance(data, dict) or not isinstance(data.get("data"), list):
        raise DataError(f"{path}: missing key 'data' (SQuAD layout)")
    rows: Rows = []
    for a, article in enumerate(data["data"]):
        article = _json_dict(article, f"{path}: data[{a}]")
        pars = _json_list(article.get("paragraphs", []), f"{path}: data[{a}].paragraphs")
        for p, par in enumerate(pars):
            where = f"{path}: data[{a}].paragraphs[{p}]"
            par = _json_dict(par, where)
            if "context" not in par or "qas" not in par:
                raise DataError(f"{where}: missing key 'context' or 'qas'")
            context = _json_text(par["context"], f"{where}.context")
            for q, qa in enumerate(_json_list(par["qas"], f"{where}.qas")):
                qa = _json_dict(qa, f"{where}.qas[{q}]")
                for key in ("id", "question", "answers"):
                    if key not in qa:
                        raise DataError(f"{where}.qas[{q}]: missing key '{key}'")
                rows.append({
                    "id": str(qa["id"]), "title": str(article.get("title") or ""),
                    "context": context,
                    "question": _json_text(qa["question"], f"{where}.qas[{q}].question"),
                    "answers": squad_answers(qa["answers"], f"{where}.qas[{q}].answers"),
                })
    return rows


def _json_dict(value: Any, where: str) -> dict:
    if not isinstance(value, dict):
        raise DataError(f"{where}: expected an object, got {json.dumps(value)[:40]}")
    return value


def _json_list(value: Any, where: str) -> list:
    if not isinstance(value, list):
        raise DataError(f"{where}: expected a list, got {json.dumps(value)[:40]}")
    return value


def _json_text(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise DataError(f"{where}: expected a string, got {json.dumps(value)[:40]}")
    return value


def squad_answers(answers: Any, where: str) -> dict[str, list]:
    """SQuAD `answers` ([{text, answer_start}]) -> canonical {text, answer_start}; entries with
    an empty text are dropped when the question has a real answer, and kept when all are blank
    (the official download's removed test annotation, which `withheld.check_gold` refuses
    instead of scoring it as unanswerable); DataError naming the entry otherwise."""
    if not isinstance(answers, list):
        raise DataError(f"{where}: expected a list of {{text, answer_start}}, got "
                        f"{json.dumps(answers)[:40]}")
    out: dict[str, list] = {"text": [], "answer_start": []}
    for k, answer in enumerate(answers):
        if not isinstance(answer, dict):
            raise DataError(f"{where}[{k}]: expected {{text, answer_start}}, got "
                            f"{json.dumps(answer)[:40]}")
        text = _json_text(answer.get("text", ""), f"{where}[{k}].text")
        out["text"].append(text)
        out["answer_start"].append(answer_offset(answer.get("answer_start"),
                                                 f"{where}[{k}].answer_start:"))
    return drop_blank_answers(out)



def write_squad(path: Path, records: Rows, version: str = "1.1") -> Path:
    articles: list[dict[str, Any]] = []
    for rec in records:
        answers = rec["answers"]
        qa = {"id": str(rec["id"]), "question": str(rec["question"]),
              "answers": [{"answer_start": int(s), "text": str(t)}
                          for t, s in zip(answers["text"], answers["answer_start"], strict=True)]}
        title = str(rec.get("title", ""))
        if not articles or articles[-1]["title"] != title:
            articles.append({"title": title, "paragraphs": []})
        pars = articles[-1]["paragraphs"]
        if not pars or pars[-1]["context"] != rec["context"]:
            pars.append({"context": str(rec["context"]), "qas": []})
        pars[-1]["qas"].append(qa)
    text = json.dumps({"data": articles, "version": version}, sort_keys=True, ensure_ascii=False)
    return write_text(path, text + "\n")


# ---------------------------------------------------------------- retrieval

TATOEBA_WITHHELD = ("the official download withholds Tatoeba's gold (utils_preprocess.py sorts "
                    "the English side); point benchmark.gold_path at LASER's data/tatoeba/v1 "
                    "files to score locally")


def _text_lines(path: Path) -> list[str]:
    """Lines as Python's text mode reads them (\\n, \\r\\n or \\r end a line), without endings."""
    text = read_text(path)
    lines = re.split(r"\r\n|\r|\n", text)
    return lines[:-1] if lines and lines[-1] == "" else lines


def _nonempty_lines(path: Path) -> list[str]:
    lines = _text_lines(path)
    if not lines:
        raise DataError(f"{path}: empty file (no sentences)")
    return lines


def _parallel(src_path: Path, tgt_path: Path) -> tuple[list[str], list[str]]:
    src, tgt = _nonempty_lines(src_path), _nonempty_lines(tgt_path)
    if len(src) != len(tgt):
        raise DataError(f"{src_path}: {len(src)} lines but {tgt_path} has {len(tgt)}; Tatoeba "
                        "files must be parallel")
    return src, tgt


def _found(paths: list[Path]) -> Path | None:
    for path in paths:
        note(path)
        if path.exists():
            return path
    return None


def _tatoeba_gold(laser_src: Path, laser_eng: Path, src: list[str], eng: list[str],
                  src_path: Path, eng_path: Path) -> list[dict[str, str]]:
    """Gold of XTREME's sorted layout from LASER's unsorted files (checked to be its origin)."""
    l_src, l_eng = _parallel(laser_src, laser_eng)
    if l_src != src:
        row = next((i for i, (a, b) in enumerate(zip(l_src, src, strict=False)) if a != b),
                   min(len(l_src), len(src)))
        raise DataError(f"{laser_src}: line {row + 1} differs from {src_path} ({len(l_src)} vs "
                        f"{len(src)} lines): not the LASER file {src_path} was copied from")
    ids = [str(i) for i in range(len(l_eng))]
    order = tatoeba_xtreme_order(ids, ids, l_eng, list(zip(ids, ids, strict=True)),
                                 str(laser_eng))[0]
    for j, i in enumerate(order):
        if l_eng[i].strip() != eng[j]:
            raise DataError(f"{eng_path}: line {j + 1} is not line {i + 1} of {laser_eng} "
                            "sorted as utils_preprocess.py sorts it: not its English side")
    return [{"source_id": str(i), "target_id": str(j)}
            for i, j in sorted((i, j) for j, i in enumerate(order))]


def _check_sorted(eng: list[str], eng_path: Path, l3: str) -> None:
    """XTREME's `<l>-en.en` is sorted; an unsorted file under that name is not XTREME's."""
    bad = next((j for j in range(1, len(eng)) if eng[j].strip() < eng[j - 1].strip()), None)
    if bad is not None:
        raise DataError(f"{eng_path}: line {bad + 1} breaks the sorted order utils_preprocess.py "
                        "writes: not XTREME's file (LASER's line-aligned originals go by their "
                        f"own names, tatoeba.{l3}-eng.{l3} and tatoeba.{l3}-eng.eng)")


def read_tatoeba(stem: Path, lang: str, gold: Path | None = None) -> dict[str, Rows]:
    """Tatoeba of `lang` from the `tatoeba/` folder (`stem.parent`) of the download.

    XTREME's layout: `<l>-en.<l>` (LASER's `tatoeba.<l3>-eng.<l3>`, copied) and `<l>-en.en`
    (LASER's English lines stripped and sorted by utils_preprocess.py, so line j no longer
    translates line j). Its gold is recovered from LASER's unsorted files, looked for in the
    folder itself, in `<gold>/tatoeba/`, in `<gold>/` (LASER's data/tatoeba/v1) and in
    `<gold>/data/tatoeba/v1` (a LASER checkout); without them gold is empty (withheld) and the
    English file must be sorted. LASER's own layout `tatoeba.<l3>-eng.{<l3>,eng}` pairs line
    i with line i. Ids are line numbers (from 0) of the files read; DataError names the file
    on a missing side, a line-count mismatch, an empty file or an unsorted `<l>-en.en`.
    """
    folder, l3 = Path(stem).parent, lang3(lang)
    src_path, eng_path = folder / f"{lang}-en.{lang}", folder / f"{lang}-en.en"
    laser_dirs = [folder] + ([Path(gold) / "tatoeba", Path(gold),
                              Path(gold) / "data" / "tatoeba" / "v1"] if gold else [])
    laser = _found([d / f"tatoeba.{l3}-eng.{l3}" for d in laser_dirs])
    laser_eng = laser.parent / f"tatoeba.{l3}-eng.eng" if laser else None
    if _found([src_path, eng_path]) is not None:
        src, eng = _parallel(src_path, eng_path)
        if laser is not None:
            pairs = _tatoeba_gold(laser, laser_eng, src, eng, src_path, eng_path)
        else:
            _check_sorted(eng, eng_path, l3)
            pairs = []
    elif laser is not None and laser.parent == folder:
        src, eng = _parallel(laser, laser_eng)
        pairs = [{"source_id": str(i), "target_id": str(i)} for i in range(len(src))]
    else:
        raise DataError(f"{folder}: no Tatoeba files for '{lang}' (XTREME's {src_path.name} + "
                        f"{eng_path.name}, or LASER's tatoeba.{l3}-eng.{l3} + .eng)")
    return {"source": [{"id": str(i), "text": t} for i, t in enumerate(src)],
            "target": [{"id": str(i), "text": t} for i, t in enumerate(eng)],
            "gold": pairs}


def write_tatoeba(stem: Path, lang: str, data: dict[str, Rows]) -> list[Path]:
    """LASER's layout `tatoeba.<l3>-eng.{<l3>,eng}`, one gold pair per line."""
    src_path, tgt_path = Path(f"{stem}.{lang3(lang)}"), Path(f"{stem}.eng")
    tgt_by_id = {str(r["id"]): r for r in data["target"]}
    pairs = [(str(g["source_id"]), str(g["target_id"])) for g in data["gold"]]
    src_by_id = {str(r["id"]): r for r in data["source"]}
    if len(pairs) != len(data["source"]) or len(pairs) != len(data["target"]):
        raise DataError(f"{src_path}: Tatoeba needs one gold pair per source and target sentence")
    src_lines, tgt_lines = [], []
    for i, (s, t) in enumerate(pairs):
        if s not in src_by_id or t not in tgt_by_id:
            raise DataError(f"{src_path}: gold row {i}: unknown id {s!r} or {t!r}")
        src_lines.append(_check_cell(str(src_by_id[s]["text"]), src_path, i, "text"))
        tgt_lines.append(_check_cell(str(tgt_by_id[t]["text"]), tgt_path, i, "text"))
    return [write_text(src_path, "".join(x + "\n" for x in src_lines)),
            write_text(tgt_path, "".join(x + "\n" for x in tgt_lines))]


def _id_lines(path: Path) -> list[tuple[str, str]]:
    """BUCC's `id<TAB>sentence` lines (gold: `src_id<TAB>tgt_id`); ids unique within a file."""
    out, seen = [], set()
    for lineno, line in enumerate(read_text(path).split("\n"), start=1):
        if not line.strip():
            continue
        cells = line.rstrip("\r").split("\t")
        if len(cells) != 2 or not cells[0]:
            raise DataError(f"{path}: line {lineno}: expected 'id<TAB>text', got "
                            f"{len(cells)} column(s)")
        if path.suffix != ".gold" and cells[0] in seen:
            raise DataError(f"{path}: line {lineno}: duplicate id '{cells[0]}'")
        seen.add(cells[0])
        out.append((cells[0], cells[1]))
    if not out:
        what = "pairs" if path.suffix == ".gold" else "sentences"
        raise DataError(f"{path}: empty file (no {what})")
    return out


def read_bucc(stem: Path, lang: str, gold: Path | None = None) -> dict[str, Rows]:
    """BUCC 2018 `<stem>.{<l>,en}` (+ `<stem>.gold`, else `<gold>/bucc2018/<stem name>.gold`).

    download_data.sh renames BUCC's sample set to dev and its training set to test, and
    deletes `*test.gold`: test gold is then empty (withheld) unless `gold` holds it. A gold
    pair naming an id missing from its side is an error naming the gold file and line.
    """
    stem = Path(stem)
    source = [{"id": i, "text": t} for i, t in _id_lines(Path(f"{stem}.{lang}"))]
    target = [{"id": i, "text": t} for i, t in _id_lines(Path(f"{stem}.en"))]
    candidates = [Path(f"{stem}.gold")]
    if gold:
        candidates.append(Path(gold) / "bucc2018" / f"{stem.name}.gold")
    gold_path = _found(candidates)
    pairs: Rows = []
    if gold_path is not None:
        src_ids, tgt_ids = {r["id"] for r in source}, {r["id"] for r in target}
        for row, (s, t) in enumerate(_id_lines(gold_path)):
            if s not in src_ids or t not in tgt_ids:
                raise DataError(f"{gold_path}: pair {row + 1} ('{s}', '{t}') names an id missing "
                                f"from {stem}.{lang} or {stem}.en")
            pairs.append({"source_id": s, "target_id": t})
    return {"source": source, "target": target, "gold": pairs}


def write_bucc(stem: Path, lang: str, data: dict[str, Rows]) -> list[Path]:
    def lines(rows: Rows, a: str, b: str, path: Path) -> str:
        return "".join(f"{_check_cell(str(r[a]), path, i, a)}\t"
                       f"{_check_cell(str(r[b]), path, i, b)}\n" for i, r in enumerate(rows))

    paths = [Path(f"{stem}.{lang}"), Path(f"{stem}.en"), Path(f"{stem}.gold")]
    texts = [lines(data["source"], "id", "text", paths[0]),
             lines(data["target"], "id", "text", paths[1]),
             lines(data["gold"], "source_id", "target_id", paths[2])]
    if not data["gold"]:  # withheld, as download_data.sh leaves BUCC's test set
        paths, texts = paths[:2], texts[:2]
    return [write_text(p, t) for p, t in zip(paths, texts, strict=True)]


# ---------------------------------------------------------------- CCGbank AUTO


def ccg_sections(task: TaskSpec | None = None) -> dict[str, list[int]]:
    """Sections per split from `sources.ccgbank.sections` ({split: [first, last]}) or defaults."""
    spec = (task.sources.get("ccgbank") or {}).get("sections") if task is not None else None
    if not spec:
        return dict(CCG_SECTIONS)
    return {split: list(range(int(a), int(b) + 1)) for split, (a, b) in spec.items()}


def ccg_root(ccg_path: Path, lang: str) -> Path:
    """CCGbank is English; (machine-"translated") copies live in `<ccg_path>/translated-<lang>`."""
    return Path(ccg_path) if lang == "en" else Path(ccg_path) / f"translated-{lang}"


def ccg_files(ccg_path: Path, split: str, sections: dict[str, list[int]] | None = None
              ) -> list[Path]:
    """AUTO files of a CCGbank split (standard: train 02-21, validation 00, test 23)."""
    sections = sections or CCG_SECTIONS
    if split not in sections:
        raise DataError(f"CCGbank: no sections for split '{split}' (has {sorted(sections)})")
    root = Path(ccg_path)
    auto = next((p for p in (root / "data" / "AUTO", root / "AUTO", root) if p.is_dir()), None)
    if auto is None:
        raise DataError(f"{root}: CCGbank folder not found (expected data/AUTO/<section>/)")
    files: list[Path] = []
    for sec in sections[split]:
        note(auto / f"{sec:02d}")  # a file added to the section changes the folder's mtime
        files.extend(sorted((auto / f"{sec:02d}").glob("*.auto")))
    if not files:
        raise DataError(f"{auto}: no *.auto files in sections {sections[split]} ({split})")
    return files


def read_ccg_auto(path: Path) -> Rows:
    """Sentences of one AUTO file: leaves `(<L supertag POS POS word pred-arg>)`."""
    rows: Rows = []
    current_id = None
    for lineno, line in enumerate(read_text(path).split("\n"), start=1):
        line = line.strip()
        if not line:
            continue
        if line.startswith("ID="):
            current_id = line.split()[0][3:]
            continue
        leaves = _LEAF.findall(line)
        if not leaves:
            raise DataError(f"{path}: line {lineno}: no CCG leaves '(<L cat POS POS word ...>)'")
        rows.append({"id": current_id or f"{path.stem}.{len(rows) + 1}",
                     "tokens": [leaf[3] for leaf in leaves],
                     "tags": [leaf[0] for leaf in leaves]})
        current_id = None
    return rows


def read_ccg(ccg_path: Path, split: str, sections: dict[str, list[int]] | None = None) -> Rows:
    rows: Rows = []
    for path in ccg_files(ccg_path, split, sections):
        rows.extend(read_ccg_auto(path))
    return rows


def write_ccg(ccg_path: Path, split: str, records: Rows, labels: list[str],
              sections: dict[str, list[int]] | None = None) -> Path:
    """Write records as one AUTO file in the split's first section (a left-branching tree)."""
    sec = (sections or CCG_SECTIONS)[split][0]
    path = Path(ccg_path) / "data" / "AUTO" / f"{sec:02d}" / f"wsj_{sec:02d}00.auto"
    lines = []
    for i, rec in enumerate(records):
        leaves = []
        for token, tag in zip(rec["tokens"], rec["tags"], strict=True):
            name = _label_name(tag, labels, path, i)
            if name is None or re.search(r"[\s<>]", name + str(token)):
                raise DataError(f"{path}: row {i}: token/supertag {token!r}/{name!r} cannot "
                                "be written as an AUTO leaf")
            leaves.append(f"(<L {name} XX XX {token} {name}>)")
        tree = leaves[0] if len(leaves) == 1 else None
        if tree is None:
            tree = leaves[0]
            for leaf in leaves[1:]:
                tree = f"(<T S 0 2> {tree} {leaf} )"
        lines += [f"ID={rec['id']} PARSER=GOLD NUMPARSE=1", tree]
    return write_text(path, "".join(x + "\n" for x in lines))


# ---------------------------------------------------------------- dispatch


def read_hub_jsonl(task: TaskSpec, path: Path, lang: str) -> Rows:
    """JSON lines in the hub dataset's column names (XCOPA/COPA), mapped like the hub's rows."""
    from xstilts.data import hub  # noqa: PLC0415  (hub imports nothing from here; keep it lazy)

    desc = hub.descriptor(task)
    return hub.rows_to_canonical(task, hub.read_jsonl(path), desc["parts"][0], lang, desc,
                                 str(path))


def write_hub_jsonl(task: TaskSpec, path: Path, records: Rows, labels: list[str]) -> Path:
    """Inverse of `read_hub_jsonl`."""
    from xstilts.data import hub  # noqa: PLC0415

    part = hub.descriptor(task)["parts"][0]
    return hub.write_jsonl(path, hub.from_canonical(task, records, part, labels))


def read_split(task: TaskSpec, split: str, lang: str, root: Path, gold: Path | None = None
               ) -> Rows | dict[str, Rows]:
    """Canonical records of a task's split in `lang` from an xtreme `download/` folder (or, when
    it has the file, from `gold`, a folder of unblanked originals)."""
    layout = descriptor(task)["layout"]
    path = split_path(task, split, lang, root, gold=gold)
    if layout == "pair_tsv":
        return read_pair_tsv(path)
    if layout == "conll":
        return read_conll(path)
    if layout == "squad_json":
        return read_squad(path)
    if layout == "bucc":
        return read_bucc(path, lang, gold)
    if layout == "tatoeba":
        return read_tatoeba(path, lang, gold)
    if layout == "hub_jsonl":
        return read_hub_jsonl(task, path, lang)
    raise DataError(f"task '{task.name}': unknown xtreme_dir layout '{layout}'")


def write_split(task: TaskSpec, split: str, lang: str, records: Any, root: Path,
                labels: list[str] | None = None) -> list[Path]:
    """Write canonical records in the xtreme layout (inverse of `read_split`)."""
    layout = descriptor(task)["layout"]
    path = split_path(task, split, lang, root, write=True)
    names = list(labels if labels is not None else task.labels)
    if layout == "pair_tsv":
        return [write_pair_tsv(path, records, names)]
    if layout == "conll":
        return [write_conll(path, records, names)]
    if layout == "squad_json":
        return [write_squad(path, records)]
    if layout == "bucc":
        return write_bucc(path, lang, records)
    if layout == "tatoeba":
        return write_tatoeba(path, lang, records)
    if layout == "hub_jsonl":
        return [write_hub_jsonl(task, path, records, names)]
    raise DataError(f"task '{task.name}': unknown xtreme_dir layout '{layout}'")
