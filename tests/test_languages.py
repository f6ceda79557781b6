"""Language metadata: URIEL families, scripts, and the synthetic languages.csv."""

from __future__ import annotations

import pandas as pd
import pytest

from xstilts.data.languages import (
    ISOLATE,
    METADATA_COLUMNS,
    UNKNOWN,
    XTREME_LANGUAGES,
    XTREME_R_LANGUAGES,
    family,
    language_metadata,
    read_language_table,
    real_language_table,
    uriel_code,
    write_language_table,
)
from xstilts.data.schema import DataError
from xstilts.tasks.registry import builtin_tasks

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


# ---------------------------------------------------------------------------- language_metadata

def test_benchmark_language_lists():
    assert len(XTREME_LANGUAGES) == 40 and len(set(XTREME_LANGUAGES)) == 40
    assert len(XTREME_R_LANGUAGES) == 50 and set(XTREME_LANGUAGES) < set(XTREME_R_LANGUAGES)
    assert set(XTREME_R_LANGUAGES) - set(XTREME_LANGUAGES) == {
        "az", "gu", "ht", "lt", "pa", "pl", "qu", "ro", "uk", "wo"}


def test_xtreme_r_metadata_complete():
    meta = language_metadata(XTREME_R_LANGUAGES)
    assert list(meta.columns) == list(METADATA_COLUMNS)
    assert list(meta["lang"]) == list(XTREME_R_LANGUAGES)
    assert not (meta["family"] == UNKNOWN).any(), meta[meta["family"] == UNKNOWN]
    assert not (meta["script"] == UNKNOWN).any()
    assert (meta["speakers"] > 1e5).all(), meta[~(meta["speakers"] > 1e5)]
    assert meta.loc[meta["is_english"], "lang"].tolist() == ["en"]
    assert (meta["source"] == "uriel").all()
    # the only isolate left is Basque (Quechua is Quechuan once qu maps to Cusco Quechua)
    assert meta.loc[meta["family"] == ISOLATE, "lang"].tolist() == ["eu"]


def test_overrides_and_macrolanguages_applied():
    meta = language_metadata(["eu", "qu", "ht", "zh", "ar", "fa", "ms", "et", "sw", "az",
                              "tl"]).set_index("lang")
    assert meta.loc["eu", "family"] == ISOLATE
    assert meta.loc["qu", "family"] == "Quechuan" and meta.loc["qu", "uriel"] == "quz"
    assert meta.loc["ht", "family"] == "Creole"  # URIEL: Indo-European; XTREME-R: a Creole
    assert meta.loc[["zh", "ar", "fa", "ms", "et", "sw", "az"], "uriel"].tolist() == [
        "cmn", "arb", "pes", "zsm", "est", "swh", "azj"]
    assert meta.loc["tl", "name"] == "Tagalog"
    assert meta.loc["zh", "speakers"] > 1e9  # the macrolanguage's population, not Mandarin's


def test_metadata_of_script_tagged_and_three_letter_codes():
    meta = language_metadata(["eng_Latn", "hau", "sr-Cyrl"]).set_index("lang")
    assert meta.loc["eng_Latn", "is_english"] and meta.loc["eng_Latn", "script"] == "Latn"
    assert meta.loc["hau", "family"] == "Afro-Asiatic"
    assert meta.loc["sr-Cyrl", "script"] == "Cyrl"


def test_synthetic_metadata_from_languages_csv(tmp_path):
    table = SYNTH.assign(mlm_sentences=["3000", "250"])
    path = write_language_table(table, tmp_path / "languages.csv")
    meta = language_metadata(["xa", "en"], path)
    assert meta["lang"].tolist() == ["xa", "en"]
    assert meta["family"].tolist() == ["fam1", "anchor"]
    assert meta["speakers"].tolist() == [250.0, 3000.0]
    assert meta["is_english"].tolist() == [False, True]
    assert (meta["source"] == "synthetic").all()
    with pytest.raises(DataError, match=r"no row for language\(s\) \['zz'\]"):
        language_metadata(["en", "zz"], path)
