"""Raw samples in the public datasets' own formats, written for xstilts (not copied): texts in
the real scripts of each language, laid out as their publishers ship them. Passed through
`xstilts.data.official_layout` they give the `download/` folder the official XTREME script
leaves (blanked) or the same files with their labels (unblanked)."""

from __future__ import annotations

from typing import Any

# XQuAD's 12 languages: (context, [(question, answer)]) -- a leading space or newline as some
# real XQuAD contexts have (the hub's loading script strips it and keeps answer_start)
XQUAD_TEXT: dict[str, tuple[str, list[tuple[str, str]]]] = {
    "en": ("The Danube is the second-longest river in Europe. It flows for 2,850 kilometres "
           "through ten countries and reaches the Black Sea in Romania.",
           [("How long is the Danube?", "2,850 kilometres"),
            ("Where does the Danube reach the Black Sea?", "Romania")]),
    "de": (" Die Donau ist der zweitlängste Fluss Europas. Sie fließt 2.850 Kilometer durch zehn "
           "Länder und mündet in Rumänien ins Schwarze Meer.",
           [("Wie lang ist die Donau?", "2.850 Kilometer"),
            ("Wo mündet die Donau ins Schwarze Meer?", "Rumänien")]),
    "es": ("El Danubio es el segundo río más largo de Europa. Recorre 2.850 kilómetros a través "
           "de diez países y desemboca en el mar Negro, en Rumanía.",
           [("¿Qué longitud tiene el Danubio?", "2.850 kilómetros"),
            ("¿Dónde desemboca el Danubio en el mar Negro?", "Rumanía")]),
    "el": ("\nΟ Δούναβης είναι ο δεύτερος μεγαλύτερος ποταμός της Ευρώπης. Διασχίζει 2.850 "
           "χιλιόμετρα μέσα από δέκα χώρες και εκβάλλει στη Μαύρη Θάλασσα στη Ρουμανία.",
           [("Πόσο μακρύς είναι ο Δούναβης;", "2.850 χιλιόμετρα"),
            ("Πού εκβάλλει ο Δούναβης;", "Ρουμανία")]),
    "ru": ("  Дунай — вторая по длине река Европы. Он течёт 2850 километров через десять стран "
           "и впадает в Чёрное море в Румынии.",
           [("Какова длина Дуная?", "2850 километров"),
            ("Где Дунай впадает в Чёрное море?", "Румынии")]),
    "tr": (" Tuna, Avrupa'nın en uzun ikinci nehridir. On ülkeden geçerek 2.850 kilometre akar ve "
           "Romanya'da Karadeniz'e dökülür.",
           [("Tuna ne kadar uzundur?", "2.850 kilometre"),
            ("Tuna Karadeniz'e nerede dökülür?", "Romanya'da")]),
    "ar": (" نهر الدانوب هو ثاني أطول نهر في أوروبا. يجري مسافة 2850 كيلومترًا عبر عشر دول ويصب "
           "في البحر الأسود في رومانيا.",
           [("ما طول نهر الدانوب؟", "2850 كيلومترًا"),
            ("أين يصب نهر الدانوب في البحر الأسود؟", "رومانيا")]),
    "vi": ("Sông Đa Nuýp là con sông dài thứ hai ở châu Âu. Sông chảy 2.850 ki-lô-mét qua mười "
           "quốc gia và đổ ra Biển Đen ở Romania.",
           [("Sông Đa Nuýp dài bao nhiêu?", "2.850 ki-lô-mét"),
            ("Sông Đa Nuýp đổ ra Biển Đen ở đâu?", "Romania")]),
    "th": (" แม่น้ำดานูบเป็นแม่น้ำที่ยาวเป็นอันดับสองของยุโรป ไหลเป็นระยะทาง 2,850 กิโลเมตรผ่านสิบประเทศ"
           "และไหลลงสู่ทะเลดำที่ประเทศโรมาเนีย",
           [("แม่น้ำดานูบยาวเท่าไร", "2,850 กิโลเมตร"),
            ("แม่น้ำดานูบไหลลงสู่ทะเลดำที่ใด", "ประเทศโรมาเนีย")]),
    "zh": ("\n多瑙河是欧洲第二长的河流。它流经十个国家，全长2850公里，在罗马尼亚注入黑海。",
           [("多瑙河有多长？", "2850公里"), ("多瑙河在哪里注入黑海？", "罗马尼亚")]),
    "hi": (" डेन्यूब यूरोप की दूसरी सबसे लंबी नदी है। यह दस देशों से होकर 2,850 किलोमीटर बहती है और "
           "रोमानिया में काला सागर में मिलती है।",
           [("डेन्यूब कितनी लंबी है?", "2,850 किलोमीटर"),
            ("डेन्यूब काला सागर में कहाँ मिलती है?", "रोमानिया")]),
    "ro": ("Dunărea este al doilea cel mai lung fluviu din Europa. Curge 2.850 de kilometri prin "
           "zece țări și se varsă în Marea Neagră, în România.",
           [("Cât de lungă este Dunărea?", "2.850 de kilometri"),
            ("Unde se varsă Dunărea în Marea Neagră?", "România")]),
}
XQUAD_IDS = ["5a7e1c3b8f2d4e6a90b1c2d3", "5a7e1c3b8f2d4e6a90b1c2d4"]


def squad_doc(title: str, paragraphs: list[tuple[str, list[tuple[str, str, str]]]]
              ) -> dict[str, Any]:
    """A SQuAD v1.1 article; answers located by their first occurrence in the context."""
    return {"title": title, "paragraphs": [
        {"context": ctx, "qas": [
            {"answers": [{"answer_start": ctx.index(a), "text": a}], "question": q, "id": qid}
            for qid, q, a in qas]}
        for ctx, qas in paragraphs]}


def xquad_originals() -> dict[str, dict[str, Any]]:
    """deepmind/xquad's `xquad.<l>.json` contents, 2 questions per language."""
    out = {}
    for lang, (ctx, qas) in XQUAD_TEXT.items():
        rows = [(qid, q, a) for qid, (q, a) in zip(XQUAD_IDS, qas, strict=True)]
        out[lang] = {"data": [squad_doc("Danube", [(ctx, rows)])], "version": "1.1"}
    return out


def mlqa_originals() -> dict[tuple[str, str], dict[str, Any]]:
    """MLQA_V1 {dev,test}-context-<l>-question-<l>.json for de and hi."""
    ctx = {"de": "Berlin ist die Hauptstadt Deutschlands und hat 3,7 Millionen Einwohner.",
           "hi": "नई दिल्ली भारत की राजधानी है और यमुना नदी के किनारे बसी है।"}
    qas = {"de": [("Was ist die Hauptstadt Deutschlands?", "Berlin"),
                  ("Wie viele Einwohner hat Berlin?", "3,7 Millionen")],
           "hi": [("भारत की राजधानी क्या है?", "नई दिल्ली"), ("दिल्ली किस नदी के किनारे है?", "यमुना")]}
    out = {}
    for split, off in (("dev", 0), ("test", 1)):
        for lang in ctx:
            rows = [(f"{split}{lang}{i:038x}"[:40], q, a) for i, (q, a) in enumerate(qas[lang])]
            rows = rows[off:] + rows[:off]
            out[split, lang] = {"data": [squad_doc(f"{lang}-{split}", [(ctx[lang], rows)])],
                                "version": "1.0"}
    return out


def tydiqa_originals() -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """tydiqa-goldp-v1.1-train.json (ids `<name>-<n>-<k>`) and the per-language dev files."""
    texts = {"english": ("Mount Kilimanjaro is the highest mountain in Africa.",
                         "What is the highest mountain in Africa?", "Mount Kilimanjaro"),
             "arabic": ("القاهرة هي عاصمة مصر وأكبر مدنها.", "ما هي عاصمة مصر؟", "القاهرة"),
             "swahili": ("Dar es Salaam ni jiji kubwa zaidi nchini Tanzania.",
                         "Jiji kubwa zaidi nchini Tanzania ni lipi?", "Dar es Salaam")}
    train_docs = [squad_doc("", [(c, [(f"{name}-{1000 + i}-{k}", q, a) for k in range(2)])])
                  for i, (name, (c, q, a)) in enumerate(texts.items())]
    for doc in train_docs:
        del doc["title"]
    train = {"data": train_docs, "version": "v1.1"}
    dev = {name: {"data": [squad_doc("", [(c, [(f"{name}-{2000 + i}-0", q, a)])])],
                  "version": "v1.1"}
           for i, (name, (c, q, a)) in enumerate(texts.items())}
    return train, dev


XNLI_TRAIN = [("Conceptually cream skimming has two basic dimensions .",
               "Product and geography are what make cream skimming work .", "neutral"),
              ("He said he would come back .", "He never returned .", "contradictory")]
XNLI_ROWS = {
    "dev": [("en", "entailment", "The man is sleeping.", "A man rests."),
            ("de", "contradiction", "Der Mann schläft.", "Der Mann rennt."),
            ("sw", "neutral", "Mtoto anacheza mpira.", "Mtoto ana furaha."),
            ("ur", "entailment", "لڑکا کتاب پڑھ رہا ہے۔", "لڑکا پڑھ رہا ہے۔")],
    "test": [("en", "neutral", "A woman sings.", "She is happy."),
             ("en", "contradiction", "A woman sings.", "Nobody sings."),
             ("de", "entailment", "Sie sagte \"ja\".", "Sie stimmte zu."),
             ("sw", "contradiction", "Mvua inanyesha.", "Jua linawaka."),
             ("ur", "neutral", "وہ بازار گیا۔", "اس نے سیب خریدے۔")],
}
PAWSX = {("train", "en"): [("The cat sat on the mat .", "On the mat sat the cat .", "1"),
                           ("He moved to Paris in 1990 .", "He moved to 1990 in Paris .", "0")],
         ("dev", "ja"): [("猫がマットの上に座った。", "マットの上に猫が座った。", "1")],
         ("test", "ja"): [("彼は1990年にパリへ引っ越した。", "彼はパリで1990年に引っ越した。", "0"),
                          ("東京は日本の首都です。", "日本の首都は東京です。", "1")],
         ("test", "ko"): [("서울은 한국의 수도이다.", "한국의 수도는 서울이다.", "1")]}
UDPOS = {("train", "en"): [[("The", "DET"), ("dog", "NOUN"), ("barks", "VERB"), (".", "PUNCT")],
                           [("Hi", "INTJ")]],
         ("dev", "hi"): [[("राम", "PROPN"), ("घर", "NOUN"), ("गया", "VERB"), ("।", "PUNCT")]],
         ("test", "hi"): [[("सीता", "PROPN"), ("ने", "ADP"), ("खाना", "NOUN"), ("खाया", "VERB")],
                          [("वह", "PRON"), ("आई", "VERB")]],
         ("test", "ja"): [[("猫", "NOUN"), ("が", "ADP"), ("寝る", "VERB")]]}
PANX = {("train", "en"): [[("Angela", "B-PER"), ("Merkel", "I-PER"), ("spoke", "O")]],
        ("dev", "ar"): [[("زار", "O"), ("محمد", "B-PER"), ("القاهرة", "B-LOC")]],
        ("test", "ar"): [[("تقع", "O"), ("دمشق", "B-LOC"), ("في", "O"), ("سوريا", "B-LOC")],
                         [("شركة", "B-ORG"), ("أرامكو", "I-ORG")]],
        ("test", "ta"): [[("சென்னை", "B-LOC"), ("பெரிய", "O"), ("நகரம்", "O")]]}


def _copa_row(idx: int, premise: str, c1: str, c2: str, question: str, label: int | None,
              changed: bool | None = None) -> dict[str, Any]:
    row: dict[str, Any] = {"premise": premise, "choice1": c1, "choice2": c2,
                           "question": question}
    if label is not None:
        row["label"] = label
    row["idx"] = idx
    if changed is not None:
        row["changed"] = changed
    return row


COPA = {"train": [_copa_row(1, "My body cast a shadow over the grass.", "The sun was rising.",
                            "The grass was cut.", "cause", 0),
                  _copa_row(2, "The woman tolerated her friend's difficult behavior.",
                            "The woman knew her friend was going through a hard time.",
                            "The woman felt that her friend took advantage of her kindness.",
                            "cause", 0)],
        "val": [_copa_row(401, "The man turned on the faucet.", "The toilet filled with water.",
                          "Water flowed from the spout.", "effect", 1)],
        "test": [_copa_row(1001, "The girl ran out of energy.", "She played checkers.",
                           "She jumped rope.", "cause", None)]}
XCOPA = {("val", "qu"): [_copa_row(0, "Warmiqa puñurqan.", "Sayk'usqam karqan.",
                                   "Kusisqam karqan.", "cause", 0, False)],
         ("test", "qu"): [_copa_row(0, "Runakunaqa wasinkuman kutirqanku.", "Tutayarqanña.",
                                    "Intiqa lluqsirqan.", "cause", 0, False),
                          _copa_row(1, "Wawaqa waqarqan.", "Mamanmi hamurqan.",
                                    "Yarqasqam karqan.", "cause", 1, True)],
         ("test", "th"): [_copa_row(0, "ผู้ชายเปิดก๊อกน้ำ", "ชักโครกเต็มไปด้วยน้ำ",
                                    "น้ำไหลออกจากก๊อก", "effect", 1, False),
                          _copa_row(1, "เด็กหญิงหมดแรง", "เธอเล่นหมากรุก", "เธอกระโดดเชือก",
                                    "cause", 1, False)],
         ("test", "zh"): [_copa_row(0, "我的身体在草地上投下了影子。", "太阳正在升起。",
                                    "草被割了。",
                                    "cause", 0, False),
                          _copa_row(1, "那个女孩没有力气了。", "她下了跳棋。", "她跳了绳。",
                                    "cause", 1, False)]}
