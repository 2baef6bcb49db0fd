"""TF-IDF + logistic regression: the linear baseline, with the ``TextClassifier`` interface.

Word uni- and bigrams (and, in scripts without spaces, character uni- and bigrams)
weighted by TF-IDF, then a logistic regression: minutes of work and
seconds of CPU, and still a strong reference on sentiment and topic tasks. Whatever a
transformer costs beyond it has to be paid for in accuracy; :func:`workbench.compare.compare`
puts both on one leaderboard.

The artifact has no pickle in it: ``config.json`` (settings, labels, library version),
``vocabulary.json`` (the terms in column order) and ``weights.safetensors`` (idf, coef,
intercept). :meth:`TfidfLogisticRegression.load` rebuilds the fitted vectorizer and model
from them, so probabilities after a round trip are identical.

The class deliberately has no ``tokenizer_`` attribute: explainers look for one to find the
project's word units and fall back to the default word splitting without it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from safetensors import SafetensorError
from safetensors.numpy import load_file, save_file
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from workbench.artifacts import (
    ARTIFACT_FORMAT,
    check_artifact,
    check_labels,
    read_json,
    write_artifact,
    write_json,
)
from workbench.data import LabeledTexts, as_text_list, validate_labeled
from workbench.errors import InputError
from workbench.estimators import TextEstimatorMixin, check_fitted, fit_labels
from workbench.segment import Segmenter, has_unspaced_script
from workbench.tokenizer import split_words
from workbench.version import __version__

MODEL_TYPE = "tfidf-logreg"

# Vectorizer settings that change what transform() computes; all are stored in the artifact,
# so a later scikit-learn with other defaults still rebuilds the same features.
_VECTORIZER_SETTINGS = (
    "analyzer",
    "binary",
    "lowercase",
    "max_df",
    "min_df",
    "max_features",
    "ngram_range",
    "norm",
    "smooth_idf",
    "strip_accents",
    "sublinear_tf",
    "token_pattern",
    "use_idf",
)


# scikit-learn's default rule: words of two or more letters or digits.
_SKLEARN_TERMS = re.compile(r"(?u)\b\w\w+\b")
_WORD_CHARACTER = re.compile(r"\w")


class SegmentedTerms:
    """A ``TfidfVectorizer`` analyzer for text in scripts without spaces as well as with.

    Text with spaces gets exactly scikit-learn's word n-grams. Text in a script without
    spaces gets n-grams of the workbench's word units (one-character words included: 不
    and 很 carry sentiment) and, with ``character_ngrams``, character n-grams on top:
    segmentation makes mistakes on unseen words and loses the bigrams that cross a word
    boundary, and the characters put that back (measured in benchmarks/chinese.py). A
    class, not a closure, so its settings are visible.
    """

    def __init__(
        self,
        segmenter: Segmenter,
        ngram_range: tuple[int, int],
        lowercase: bool,
        character_ngrams: tuple[int, int] | None,
    ) -> None:
        self.segmenter = segmenter
        self.ngram_range = tuple(ngram_range)
        self.lowercase = lowercase
        self.character_ngrams = None if character_ngrams is None else tuple(character_ngrams)

    def __call__(self, text: str) -> list[str]:
        if self.lowercase:
            text = text.lower()
        if not has_unspaced_script(text):
            return _ngrams(_SKLEARN_TERMS.findall(text), self.ngram_range, " ")
        words = [
            w.text for w in split_words(text, self.segmenter) if _WORD_CHARACTER.search(w.text)
        ]
        terms = _ngrams(words, self.ngram_range, " ")
        if self.character_ngrams:
            # Marked, so a character never shares a column with the one-character word.
            characters = [c for c in text if not c.isspace()]
            terms += [_CHARACTER_MARK + t for t in _ngrams(characters, self.character_ngrams, "")]
        return terms


_CHARACTER_MARK = "char:"


def _ngrams(tokens: list[str], ngram_range: tuple[int, ...], joiner: str) -> list[str]:
    """Every n-gram of ``tokens`` for n in ``ngram_range``, as scikit-learn counts them."""
    low, high = ngram_range
    return [
        joiner.join(tokens[i : i + n])
        for n in range(low, high + 1)
        for i in range(len(tokens) - n + 1)
    ]


def _term_splitting(segmenter: Segmenter, model: TfidfLogisticRegression) -> dict:
    """Vectorizer settings for ``segmenter``: none to change when it cuts nothing."""
    if not segmenter.cuts:
        return {}
    terms = SegmentedTerms(segmenter, model.ngram_range, model.lowercase, model.character_ngrams)
    # The analyzer makes the n-grams itself; scikit-learn's own settings for them go unused.
    return {"analyzer": terms, "ngram_range": (1, 1), "token_pattern": None}


class TfidfLogisticRegression(TextEstimatorMixin, ClassifierMixin, BaseEstimator):
    """Word n-gram TF-IDF features and a logistic regression, scikit-learn style.

    Args:
        ngram_range: smallest and largest n-gram; (1, 2) adds bigrams such as "not good".
        min_df: drop terms seen in fewer documents than this (an int) or this share.
        max_features: keep only the most frequent terms; None keeps all.
        sublinear_tf: use 1 + log(tf), so a word repeated ten times is not ten times louder.
        lowercase: fold case before counting.
        C: inverse regularisation strength; larger fits the training data more closely.
        max_iter: iterations of the lbfgs solver.
        segmenter: how text without spaces between words (Chinese, Japanese) is cut into
            terms, as ``TokenizerConfig.segmenter``: ``"auto"``, ``"characters"`` or
            ``"none"`` (a run stays one term). Other text keeps scikit-learn's own rule.
        character_ngrams: for text in a script without spaces, also count character
            n-grams in this range beside the word n-grams; None counts words only.
            Explanations still take words away whole, characters included.
    """

    def __init__(
        self,
        ngram_range: tuple[int, int] = (1, 2),
        min_df: int | float = 1,
        max_features: int | None = None,
        sublinear_tf: bool = True,
        lowercase: bool = True,
        C: float = 4.0,
        max_iter: int = 2000,
        segmenter: str = "auto",
        character_ngrams: tuple[int, int] | None = (1, 2),
    ) -> None:
        self.ngram_range = ngram_range
        self.min_df = min_df
        self.max_features = max_features
        self.sublinear_tf = sublinear_tf
        self.lowercase = lowercase
        self.C = C
        self.max_iter = max_iter
        self.segmenter = segmenter
        self.character_ngrams = character_ngrams

    # ----------------------------------------------------------------- training
    def fit(
        self, texts: Sequence[str], labels: Sequence, **ignored: Any
    ) -> TfidfLogisticRegression:
        """Learn the vocabulary, the idf weights and the regression; returns ``self``.

        Keyword arguments meant for other models (``progress=``, ``validation=``) are
        accepted and ignored, so one call trains any model of a comparison.
        """
        data = LabeledTexts(as_text_list(texts), fit_labels(labels), source="training data")
        validate_labeled(data)
        self._check_character_ngrams()
        self.segmenter_ = Segmenter.from_setting(self.segmenter)
        settings = {
            "ngram_range": tuple(self.ngram_range),
            "min_df": self.min_df,
            "max_features": self.max_features,
            "sublinear_tf": self.sublinear_tf,
            "lowercase": self.lowercase,
        }
        self.vectorizer_ = TfidfVectorizer(**{**settings, **_term_splitting(self.segmenter_, self)})
        try:
            features = self.vectorizer_.fit_transform(data.texts)
        except ValueError as exc:  # e.g. "empty vocabulary" when min_df removes every term
            raise InputError(
                f"TF-IDF found no usable terms in the training texts ({exc}); lower min_df "
                "or check that the text column holds words"
            ) from exc
        self.classifier_ = LogisticRegression(C=self.C, max_iter=self.max_iter)
        self.classifier_.fit(features, np.asarray(data.labels))
        self.classes_ = self.classifier_.classes_
        return self

    def _check_character_ngrams(self) -> None:
        grams = self.character_ngrams
        if grams is None:
            return
        if not (
            isinstance(grams, (tuple, list))
            and len(grams) == 2
            and all(isinstance(n, int) and not isinstance(n, bool) for n in grams)
            and 1 <= grams[0] <= grams[1]
        ):
            raise InputError(
                f"character_ngrams must be None or (low, high) with 1 <= low <= high, got "
                f"{grams!r}; for example (1, 2) counts characters and character pairs"
            )

    def num_parameters(self) -> int:
        """Learned weights: one coefficient per term and class, plus the intercepts."""
        check_fitted(self, "classifier_")
        return int(self.classifier_.coef_.size + self.classifier_.intercept_.size)

    # ---------------------------------------------------------------- inference
    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Class probabilities ``(n, k)``, columns in ``classes_`` order, rows summing to 1."""
        check_fitted(self, "classifier_")
        features = self.vectorizer_.transform(as_text_list(texts))
        return self.classifier_.predict_proba(features)

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        """The most probable label of each text, as found in ``classes_``."""
        return self.classes_[self.predict_proba(texts).argmax(axis=1)]

    # ---------------------------------------------------------------- artifacts
    def save(self, directory: str | os.PathLike) -> Path:
        """Write ``config.json``, ``vocabulary.json`` and ``weights.safetensors`` atomically."""
        check_fitted(self, "classifier_")
        vocabulary = sorted(self.vectorizer_.vocabulary_, key=self.vectorizer_.vocabulary_.get)
        vectorizer_params = self.vectorizer_.get_params()
        settings = {name: vectorizer_params[name] for name in _VECTORIZER_SETTINGS}
        settings["ngram_range"] = list(settings["ngram_range"])
        if callable(settings["analyzer"]):  # rebuilt from the segmentation on load
            settings["analyzer"] = "word"
        params = self.get_params()
        params["ngram_range"] = list(self.ngram_range)
        if self.character_ngrams is not None:
            params["character_ngrams"] = list(self.character_ngrams)
        config = {
            "model_type": MODEL_TYPE,
            "artifact_format": ARTIFACT_FORMAT,
            "workbench_version": __version__,
            "labels": self.classes_.tolist(),
            "params": params,
            "vectorizer": settings,
            "segmentation": self.segmenter_.to_dict(),
            "classifier": {"C": self.C, "max_iter": self.max_iter},
        }
        weights = {
            "idf": np.ascontiguousarray(self.vectorizer_.idf_, dtype=np.float64),
            "coef": np.ascontiguousarray(self.classifier_.coef_, dtype=np.float64),
            "intercept": np.ascontiguousarray(self.classifier_.intercept_, dtype=np.float64),
        }

        def write(staging: Path) -> None:
            write_json(staging / "config.json", config)
            write_json(staging / "vocabulary.json", {"terms": vocabulary})
            save_file(weights, str(staging / "weights.safetensors"))

        return write_artifact(directory, write)

    @classmethod
    def load(cls, directory: str | os.PathLike) -> TfidfLogisticRegression:
        """Rebuild the fitted model from :meth:`save`'s directory; identical probabilities."""
        path = check_artifact(
            directory, MODEL_TYPE, ("config.json", "vocabulary.json", "weights.safetensors")
        )
        config = read_json(path / "config.json")
        try:
            params = dict(config["params"])
            params["ngram_range"] = tuple(params["ngram_range"])
            # Artifacts from before character n-grams counted words only.
            characters = params.get("character_ngrams")
            params["character_ngrams"] = None if characters is None else tuple(characters)
            model = cls(**params)
            settings = dict(config["vectorizer"])
            settings["ngram_range"] = tuple(settings["ngram_range"])
            labels = config["labels"]
            terms = read_json(path / "vocabulary.json")["terms"]
            # Terms as in training; artifacts from before segmentation kept runs whole.
            segmenter = Segmenter()
            if "segmentation" in config:
                segmenter = Segmenter.from_dict(config["segmentation"], f"{path}/config.json")
        except (KeyError, TypeError) as exc:
            raise InputError(
                f"{path}: missing or malformed entry {exc}; save the model again"
            ) from exc
        try:
            weights = load_file(str(path / "weights.safetensors"))
        except (SafetensorError, OSError) as exc:
            raise InputError(f"{path}/weights.safetensors: corrupt ({exc}); save again") from exc
        coef, idf = weights.get("coef"), weights.get("idf")
        if coef is None or idf is None or "intercept" not in weights:
            raise InputError(f"{path}/weights.safetensors: missing idf, coef or intercept")
        if coef.shape[1] != len(terms) or idf.shape != (len(terms),):
            raise InputError(
                f"{path}: weights.safetensors does not match vocabulary.json "
                f"({coef.shape[1]} columns, {len(terms)} terms); save the model again"
            )
        # scikit-learn keeps one row of coefficients for two classes.
        check_labels(labels, max(coef.shape[0], 2), f"{path}/config.json")
        # A fixed vocabulary plus the stored idf is exactly the fitted vectorizer's state.
        model.segmenter_ = segmenter
        settings.update(_term_splitting(segmenter, model))
        model.vectorizer_ = TfidfVectorizer(**settings, vocabulary=terms)
        model.vectorizer_.idf_ = idf
        model.classifier_ = LogisticRegression(C=model.C, max_iter=model.max_iter)
        model.classifier_.classes_ = np.array(labels)
        model.classifier_.coef_ = coef
        model.classifier_.intercept_ = weights["intercept"]
        model.classifier_.n_features_in_ = coef.shape[1]
        model.classes_ = model.classifier_.classes_
        return model
