"""Language metadata: URIEL families, scripts, and the synthetic languages.csv."""

from __future__ import annotations

import pandas as pd
import pytest

from xstilts.data.languages import (
    ISOLATE,
    UNKNOWN,
    family,
    read_language_table,
    real_language_table,
    uriel_code,
    write_language_table,
)
from xstilts.data.schema import DataError
from xstilts.registry import builtin_tasks

XTREME_LANGS = sorted({lang for t in builtin_tasks().values() if t.role == "target"
                       for lang in t.languages})


def test_every_xtreme_language_has_family_and_script():
    table = real_language_table(XTREME_LANGS)
    assert list(table.columns) == ["lang", "name", "family", "script"]
    assert len(XTREME_LANGS) >= 40 and list(table["lang"]) == XTREME_LANGS
    assert not (table["family"] == UNKNOWN).any(), table[table["family"] == UNKNOWN]
    assert not (table["script"] == UNKNOWN).any()


@pytest.mark.parametrize("lang,fam", [
    ("en", "Indo-European"), ("eu", ISOLATE), ("zh", "Sino-Tibetan"), ("ar", "Afro-Asiatic"),
    ("fa", "Indo-European"), ("ms", "Austronesian"), ("et", "Uralic"), ("sw", "Atlantic-Congo"),
    ("ja", "Japonic"), ("ta", "Dravidian"), ("tr", "Turkic"), ("vi", "Austroasiatic"),
])
def test_families(lang, fam):
    assert family(lang) == fam


def test_macrolanguages_map_to_uriel_codes():
    assert [uriel_code(c) for c in ("zh", "ar", "fa", "ms", "sw", "en")] == [
        "cmn", "arb", "pes", "zsm", "swh", "eng"]
    assert uriel_code("qqq") is None and family("qqq") == UNKNOWN


def test_scripts():
    table = real_language_table(["ja", "ru", "hi", "zh"]).set_index("lang")
    assert table.loc[["ja", "ru", "hi", "zh"], "script"].tolist() == [
        "Jpan", "Cyrl", "Deva", "Hans"]


SYNTH = pd.DataFrame([
    {"lang": "en", "name": "English", "family": "anchor", "script": "Latn", "word_order": "SVO",
     "resource_level": "high", "lexical_distance": "0.0"},
    {"lang": "xa", "name": "Synth A", "family": "fam1", "script": "Cyrl", "word_order": "SOV",
     "resource_level": "low", "lexical_distance": "0.5"},
])


def test_language_table_round_trip(tmp_path):
    path = write_language_table(SYNTH, tmp_path / "languages.csv")
    again = read_language_table(path)
    pd.testing.assert_frame_equal(again, SYNTH)
    assert write_language_table(again, tmp_path / "b.csv").read_bytes() == path.read_bytes()


@pytest.mark.parametrize("mutate,match", [
    (lambda df: df.drop(columns=["script"]), r"missing column 'script'"),
    (lambda df: pd.concat([df, df.iloc[[1]]]), r"row 2: duplicate lang 'xa'"),
    (lambda df: df.assign(family=["anchor", ""]), r"row 1: column 'family' is empty"),
    (lambda df: df.iloc[0:0], r"no languages"),
])
def test_language_table_errors(tmp_path, mutate, match):
    path = write_language_table(mutate(SYNTH), tmp_path / "languages.csv")
    with pytest.raises(DataError, match=match):
        read_language_table(path)
