"""mini-XTREME: a deterministic synthetic multilingual benchmark (XTREME in miniature).

What it models
--------------
* A small world of typed entities with attributes (people with a home city, employer, job and a
  possession; cities; organisations) and events (visits, purchases, person-person actions with a
  place or a year), expressed as language-independent sentence structures (`grammar`).
* 13 languages: English and 12 synthetic languages in 4 families (`languages.LANGUAGE_SPECS`,
  written to `languages.csv`). They differ in
  - lexicon: each family's words are regular sound changes of a proto-lexicon (cognates); the
    "westic" family descends from English, the helic / sindic / taic families share no
    vocabulary with English (only digits; entity names are adapted to each language's
    phonology and script, `languages.NAME_ADAPTATION`);
  - word order (SVO, SOV, VSO), adposition and adjective placement, articles (free, suffixed,
    none), case particles, tense/negation morphology (suffixes, prefixes, particles),
    wh-movement vs. in-situ questions with a question particle, zero copula;
  - script (Latin, Cyrillic, Greek, Devanagari, Thai-like, Han-like; the last two are written
    without spaces);
  - resource level: MLM corpus sizes (high / mid / low, >= 10x apart by default).
* Every XTREME target and every X-STILTs intermediate task in its real format, with labels that
  follow from the text and the world: NLI from world facts (functional vs. non-functional
  relations, negation, dropped / added adjuncts), QQP question paraphrases, extractive QA with
  and without unanswerable questions, script-continuation (HellaSwag), causal reading
  comprehension (CosmosQA), world knowledge (CommonsenseQA), CCG-like supertags, UD POS tags,
  BIO entity tags, PAWS pairs whose two sentences have the same bag of words, BUCC comparable
  corpora with hidden parallel pairs and Tatoeba parallel pairs, both in minimal-pair groups
  that share names, numbers and length (`retrieval`); the extension tasks (`extension_tasks`, with
  their own random streams and extension words so the other tasks' files are unchanged): XCOPA
  (cause/effect alternatives; English train/dev = `copa`), tweet sentiment, and the
  multilingual intermediate tasks SIB-200 (topics) and MasakhaNER (PER/ORG/LOC/DATE), which
  have native training data in the low-resource languages (`multilingual_train_languages`).
* One "translation" for everything: an example is built once as structure and realized in each
  language by the same `Realizer`, so test sets, translated intermediate data, the MLM corpus
  and parallel/<lang>.tsv (token alignments with English) agree and labels are preserved.

What it does not model
----------------------
Real linguistic phenomena beyond the rules above (agreement, irregular morphology outside
English, ambiguity, idioms, discourse), noisy real-world text, translationese differences
between test languages, domain shift, or open vocabulary: all sentences are short templates over
a vocabulary of ~200 concepts and a few hundred names, so absolute scores are not comparable to
XTREME; only relative comparisons (recipes, languages, families) are meaningful.

Public API: `generate(out_dir, cfg) -> manifest`, `generate_records(cfg)`, `DEFAULT_CONFIG`,
`language_rows(cfg)`, `multilingual_train_languages(cfg)`.
"""

from xstilts.data.synthetic.config import DEFAULT_CONFIG, resolve_config
from xstilts.data.synthetic.generator import (
    generate,
    generate_records,
    language_rows,
    multilingual_train_languages,
    retrieval_records,
)

__all__ = ["DEFAULT_CONFIG", "generate", "generate_records", "language_rows",
           "multilingual_train_languages", "resolve_config", "retrieval_records"]
