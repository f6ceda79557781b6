"""Our re-implementation of what google-research/xtreme's download leaves for Tatoeba and BUCC.

Written from reading `scripts/download_data.sh` (`download_tatoeba`, `download_bucc18`) and
`utils_preprocess.py` (`tatoeba_preprocess`); no code is copied. Tests apply it to samples we
wrote ourselves in LASER's and BUCC's own layouts (tests/data/retrieval/), so the files the
readers see are shaped by the official steps, not by our readers' assumptions.

- Tatoeba: for each LASER pair `tatoeba.<l3>-eng.{<l3>,eng}`, the non-English file is copied
  unchanged to `<l>-en.<l>`; the English file is read in text mode (universal newlines), every
  line `.strip()`ped, sorted by that text (Python's stable sort, so equal lines keep LASER's
  order) and written one per line to `<l>-en.en`. The gold XTREME keeps for itself: for line j
  of `<l>-en.en`, its line number in LASER's file (= the line of its translation in `<l>-en.<l>`).
- BUCC: the sample and training archives unpack to `bucc2018/<l>-en/<l>-en.{sample,training}.*`;
  the files are moved up to `bucc2018/`, "training" renamed "test", "sample" renamed "dev", the
  test gold deleted.
"""

from __future__ import annotations

import shutil
from pathlib import Path

# utils_preprocess.py's ISO 639-3 -> 639-1 table (the Tatoeba languages it converts)
LANG3_TO_2 = {
    "afr": "af", "ara": "ar", "bul": "bg", "ben": "bn", "deu": "de", "ell": "el", "spa": "es",
    "est": "et", "eus": "eu", "pes": "fa", "fin": "fi", "fra": "fr", "heb": "he", "hin": "hi",
    "hun": "hu", "ind": "id", "ita": "it", "jpn": "ja", "jav": "jv", "kat": "ka", "kaz": "kk",
    "kor": "ko", "mal": "ml", "mar": "mr", "nld": "nl", "por": "pt", "rus": "ru", "swh": "sw",
    "tam": "ta", "tel": "te", "tha": "th", "tgl": "tl", "tur": "tr", "urd": "ur", "vie": "vi",
    "cmn": "zh", "aze": "az", "lit": "lt", "pol": "pl", "ukr": "uk", "ron": "ro",
}
FIXTURES = Path(__file__).parent / "data" / "retrieval"


def laser_languages(laser_dir: Path) -> list[str]:
    """The 3-letter codes of the LASER pairs in `laser_dir` that XTREME converts."""
    found = {p.name.split(".")[1].split("-")[0] for p in Path(laser_dir).glob("tatoeba.*-eng.eng")}
    return sorted(found & set(LANG3_TO_2))


def tatoeba_preprocess(laser_dir: Path, out_dir: Path,
                       langs3: list[str] | None = None) -> dict[str, list[int]]:
    """Write XTREME's `tatoeba/` files from LASER's; returns XTREME's hidden gold per 2-letter
    language (the official script loops over its whole table; we take the pairs present)."""
    laser_dir, out_dir = Path(laser_dir), Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    gold: dict[str, list[int]] = {}
    for l3 in langs3 or laser_languages(laser_dir):
        l2 = LANG3_TO_2[l3]
        shutil.copy(laser_dir / f"tatoeba.{l3}-eng.{l3}", out_dir / f"{l2}-en.{l2}")
        with open(laser_dir / f"tatoeba.{l3}-eng.eng", encoding="utf-8") as f:
            english = [line.strip() for line in f]
        ranked = sorted(zip(english, range(len(english)), strict=True), key=lambda x: x[0])
        with open(out_dir / f"{l2}-en.en", "w", encoding="utf-8") as f:
            for text, _ in ranked:
                f.write(f"{text}\n")
        gold[l2] = [i for _, i in ranked]
    return gold


def bucc_download_layout(raw_dir: Path, out_dir: Path) -> None:
    """`download_bucc18` on unpacked archives `raw_dir/bucc2018/<l>-en/` -> `out_dir/bucc2018`."""
    base = Path(out_dir) / "bucc2018"
    shutil.copytree(Path(raw_dir) / "bucc2018", base, dirs_exist_ok=True)
    for sub in [p for p in base.iterdir() if p.is_dir()]:
        for f in sub.iterdir():
            f.rename(base / f.name)
        sub.rmdir()
    for f in sorted(base.iterdir()):
        if "training" in f.name:
            f.rename(base / f.name.replace("training", "test"))
        elif "sample" in f.name:
            f.rename(base / f.name.replace("sample", "dev"))
    for f in base.glob("*test.gold"):
        f.unlink()


def build_download(root: Path) -> dict[str, list[int]]:
    """The `download/` folder our samples become (tatoeba/, bucc2018/) + XTREME's hidden
    Tatoeba labels in the submission layout (`labels/tatoeba/test-<l>.tsv`)."""
    root = Path(root)
    gold = tatoeba_preprocess(FIXTURES / "laser", root / "download" / "tatoeba")
    bucc_download_layout(FIXTURES / "bucc_raw", root / "download")
    labels = root / "labels" / "tatoeba"
    labels.mkdir(parents=True, exist_ok=True)
    for lang, rows in gold.items():
        (labels / f"test-{lang}.tsv").write_text("".join(f"{i}\n" for i in rows),
                                                 encoding="utf-8")
    return gold
