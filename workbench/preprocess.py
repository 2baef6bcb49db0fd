"""The classic text-preprocessing recipe, as switches whose effect can be measured.

Lower-casing, noise removal and stop-word removal are what older pipelines did before
training. :func:`preprocessing_study` trains the same model on each variant and scores it
on the same test set, overall and on chosen groups (e.g. reviews that hinge on negation),
which shows why a stop-word list that contains "not" hurts sentiment models.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence

import pandas as pd
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from workbench.data import LabeledTexts
from workbench.estimators import TextModel
from workbench.tokenizer import split_words

# Stop-word lists usually include these; for sentiment they carry the verdict.
NEGATIONS = frozenset(
    {"not", "no", "nor", "never", "none", "nothing", "nobody", "neither", "nowhere",
     "without", "cannot", "hardly", "barely"}
)  # fmt: skip
_URL = re.compile(r"https?://\S+|www\.\S+")
_TAG = re.compile(r"<[^>]+>")
_NOISE = re.compile(r"[^\w\s'’.,!?]")

VARIANTS: dict[str, dict[str, bool]] = {
    "as written": {},
    "lower-cased": {"lowercase": True},
    "noise removed": {"lowercase": True, "remove_noise": True},
    "stop words removed": {"lowercase": True, "remove_stopwords": True},
    "stop words removed, negations kept": {
        "lowercase": True,
        "remove_stopwords": True,
        "keep_negations": True,
    },
}


def is_negation(word: str) -> bool:
    """True for "not", "never", ... and contractions such as "didn't"."""
    lowered = word.lower()
    return lowered in NEGATIONS or lowered.endswith(("n't", "n’t"))


def preprocess(
    text: str,
    *,
    lowercase: bool = False,
    remove_noise: bool = False,
    remove_stopwords: bool = False,
    keep_negations: bool = False,
) -> str:
    """Apply the chosen steps to one text.

    Args:
        lowercase: fold case.
        remove_noise: drop HTML tags, URLs and symbols other than basic punctuation.
        remove_stopwords: drop scikit-learn's English stop words (318 words, including
            "not", "no" and "never").
        keep_negations: with ``remove_stopwords``, keep negation words and "n't" forms.
    """
    if remove_noise:
        text = _NOISE.sub(" ", _TAG.sub(" ", _URL.sub(" ", text)))
    if lowercase:
        text = text.lower()
    if remove_stopwords:
        kept = [
            w.text
            for w in split_words(text)
            if w.text.lower() not in ENGLISH_STOP_WORDS or (keep_negations and is_negation(w.text))
        ]
        text = " ".join(kept)
    return " ".join(text.split())


def preprocessing_study(
    train: LabeledTexts,
    test: LabeledTexts,
    make_model: Callable[[], TextModel],
    *,
    variants: Mapping[str, Mapping[str, bool]] = VARIANTS,
    groups: Mapping[str, Sequence[bool]] | None = None,
) -> pd.DataFrame:
    """Train ``make_model()`` on each preprocessing variant; score each on the test set.

    Returns one row per variant: overall accuracy, accuracy on each test group
    (``groups`` maps a name to a boolean mask over the test texts), and the share of test
    texts left empty by the preprocessing.
    """
    rows = []
    for name, steps in variants.items():
        test_texts = [preprocess(t, **steps) for t in test.texts]
        # A text that preprocessing empties still needs a prediction (and models refuse
        # blank training texts): it becomes a lone "." that carries no sentiment.
        model = make_model().fit(
            [preprocess(t, **steps) or "." for t in train.texts], train.require_labels()
        )
        predicted = model.predict([t or "." for t in test_texts])
        correct = predicted == pd.Series(test.labels).to_numpy()
        row = {"variant": name, "accuracy": float(correct.mean())}
        for group, mask in (groups or {}).items():
            row[f"accuracy ({group})"] = float(correct[list(mask)].mean())
        row["empty test texts"] = sum(not t for t in test_texts) / len(test_texts)
        rows.append(row)
    return pd.DataFrame(rows).set_index("variant")
