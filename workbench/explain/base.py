"""What every explainer shares: word units, the absence convention, the result type and a
cached, batched, counting view of the model.

**Word units.** Every method attributes to the same units: the words of the project's
tokenizer (``TextClassifier.tokenizer_``) with their character spans in the original text,
or, for a model without that tokenizer (a scikit-learn pipeline), the same splitting rule
(:func:`workbench.tokenizer.split_words`). Two methods can then be compared word by word.

**Absence of a word is deletion.** A text "without" some words is the remaining words in
their original order, separated by single spaces (:func:`remove_words`). SHAP, LIME and
every faithfulness metric use this one convention, so their numbers are comparable. It is
ERASER's convention, it works for any model that reads strings, and it never feeds the
model a mask token it was not trained on. Gradient methods cannot delete, so their
baseline is the nearest thing in embedding space: every word replaced by the all-zero
padding embedding.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from workbench.data import check_count, check_utf8, plain
from workbench.errors import InputError
from workbench.estimators import TextModel, check_fitted
from workbench.tokenizer import Word, split_words

# SHAP's and LIME's maskers write a placeholder where a word was removed; the predictor
# deletes it, which turns their masking into the deletion convention. It cannot collide
# with a character of the text: check_text refuses control characters.
MASK_SENTINEL = "\x00"

# Control characters other than tab, line feed, vertical tab, form feed, carriage return
# and next line (whitespace to every tokenizer here). NUL is the mask placeholder, and
# NumPy drops it from the end of strings in the arrays shap and lime build; U+001C-U+001F
# are whitespace to Python's str.split (shap folds whitespace with it) but a word to the
# tokenizer. The rest carry no meaning in text, so one rule covers them all.
_CONTROL_CHARACTER = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f]")


def word_units(model: TextModel, text: str) -> list[Word]:
    """The word units of ``text`` for ``model``: its tokenizer's words, or the default rule."""
    tokenizer = getattr(model, "tokenizer_", None)
    return tokenizer.words(text) if tokenizer is not None else split_words(text)


def visible_word_count(model: TextModel, text: str, words: Sequence[Word]) -> int:
    """How many leading words the model actually reads: all of them, unless the model
    truncates its input (models that do say so through ``word_pieces(text)``)."""
    pieces = getattr(model, "word_pieces", None)
    return pieces(text).visible if callable(pieces) else len(words)


def truncation_note(words: Sequence[Word], visible: int) -> str:
    """The note of an explanation whose model read only the first ``visible`` of ``words``."""
    return (
        f"the model reads only its first {visible} words (max_length); the "
        f"{len(words) - visible} words from '{words[visible].text}' on get no attribution"
    )


def remove_words(words: Sequence[Word], keep: Sequence[bool] | np.ndarray) -> str:
    """The text with every word whose ``keep`` is false deleted (the absence convention)."""
    return " ".join(word.text for word, kept in zip(words, keep, strict=True) if kept)


class ModelPredictor:
    """``predict_proba`` over strings, with a cache and an evaluation counter.

    Identical inputs (after folding runs of whitespace, which the absence convention and
    the tokenizers ignore) are evaluated once; new ones go to the model in batches of
    ``batch_size``, so memory stays bounded however many perturbations an explainer asks
    for. ``evaluations`` counts the texts the model really scored.
    """

    def __init__(self, model: TextModel, batch_size: int = 256) -> None:
        if not hasattr(model, "predict_proba"):
            raise InputError(
                f"{type(model).__name__} has no predict_proba; explainers need a model that "
                "returns class probabilities for a list of texts"
            )
        check_fitted(model, "classes_")  # its classes_ name the output columns
        self.model = model
        self.batch_size = check_count("batch_size", batch_size, 1)
        self.evaluations = 0
        self._cache: dict[str, np.ndarray] = {}

    @property
    def classes_(self) -> np.ndarray:
        return self.model.classes_

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        keys = [" ".join(str(t).replace(MASK_SENTINEL, " ").split()) for t in texts]
        new = list(dict.fromkeys(k for k in keys if k not in self._cache))
        for start in range(0, len(new), self.batch_size):
            chunk = new[start : start + self.batch_size]
            proba = np.asarray(self.model.predict_proba(chunk), dtype=np.float64)
            self._cache.update(zip(chunk, proba, strict=True))
        self.evaluations += len(new)
        if not keys:
            return np.empty((0, len(self.model.classes_)))
        return np.stack([self._cache[k] for k in keys])


@dataclass
class Explanation:
    """One text, its word units, and one attribution per word per class.

    ``attributions[i, c]`` is how much word ``i`` pushes the probability (or, for gradient
    methods, the logit) of ``classes[c]``; positive means towards that class. For
    ``kind="attention"`` the columns are equal and hold attention weights, which describe
    where the model looked, not what changed its decision.

    ``base_values[c]`` is what the attributions of class ``c`` are measured from, in the
    same units (``settings["units"]``), and :meth:`base_value_line` says it in words:

    - **shap**: p(class) of the empty text (every word deleted); ``base_values +
      attributions.sum(0)`` equals ``probabilities`` (efficiency, up to float rounding).
    - **lime**: the intercept of LIME's weighted linear fit on word presence, i.e. the
      local model's estimate of p(class) with every word absent. It is a fitted number,
      not the model's p(""), and intercept + weights is the local model's estimate of the
      prediction, which differs from ``probabilities`` by the fit's error.
    - **integrated-gradients**: the logits at the method's baseline, f(baseline);
      ``base_values + attributions.sum(0)`` equals the text's logits up to the integration
      error (``settings["convergence_delta"]``).
    - **gradient-x-input** and **attention**: ``None``; gradient × input has no reference
      point its scores add up from, and attention weights are not attributions.
    """

    text: str
    words: list[Word]
    classes: list
    attributions: np.ndarray  # (num_words, num_classes)
    probabilities: np.ndarray  # (num_classes,)
    method: str
    settings: dict[str, Any] = field(default_factory=dict)
    evaluations: int = 0
    base_values: np.ndarray | None = None  # (num_classes,): the reference, see above
    kind: Literal["attribution", "attention"] = "attribution"
    notes: list[str] = field(default_factory=list)
    attention: np.ndarray | None = None  # (layers, heads, T, T) incl. [CLS], attention only

    @property
    def predicted_index(self) -> int:
        return int(np.argmax(self.probabilities))

    @property
    def predicted_label(self):
        return self.classes[self.predicted_index]

    def _class_index(self, label) -> int:
        if label is None:
            return self.predicted_index
        if label not in self.classes:
            raise InputError(f"no class {label!r} in this explanation; classes are {self.classes}")
        return self.classes.index(label)

    def for_class(self, label=None) -> np.ndarray:
        """Attributions towards ``label`` (default: the predicted class), one per word."""
        return self.attributions[:, self._class_index(label)]

    def base_value_line(self, label=None) -> str | None:
        """The base value towards ``label`` (default: the predicted class) in one sentence.

        Says what the base value is for this method, its value, and where the word values
        lead from it, e.g. "base value (empty text): p(positive) = 0.420 → prediction
        0.910; the word values add up to the difference (+0.490)". ``None`` when the
        method has no base value (gradient × input, attention). Plain text: escape it
        before it reaches HTML.
        """
        if self.base_values is None:
            return None
        index = self._class_index(label)
        name = self.classes[index]
        base = float(self.base_values[index])
        total = base + float(self.attributions[:, index].sum())
        probability = float(self.probabilities[index])
        if self.method == "shap":
            return (
                f"base value (empty text): p({name}) = {base:.3f} → prediction "
                f"{probability:.3f}; the word values add up to the difference "
                f"({probability - base:+.3f})"
            )
        if self.method == "lime":
            return (
                f"base value (LIME's intercept: its local linear model with every word "
                f"absent): p({name}) ≈ {base:.3f} → {total:.3f} with the word weights added, "
                f"the local model's estimate of the prediction {probability:.3f}"
            )
        if self.method == "integrated-gradients":
            baseline = self.settings.get("baseline", "every word absent")
            return (
                f"base value f(baseline: {baseline}): logit({name}) = {base:+.3f} → "
                f"{total:+.3f} for the text (p = {probability:.3f}); the word values add up "
                "to the difference, up to the integration error"
            )
        units = self.settings.get("units", "model output")
        return (
            f"base value ({units}) for {name}: {base:.4g} → {total:.4g} with the word values "
            f"added (prediction p = {probability:.3f})"
        )

    def top_words(self, k: int = 5, label=None) -> list[tuple[Word, float]]:
        """The ``k`` words with the largest attribution towards ``label``."""
        scores = self.for_class(label)
        order = np.argsort(-scores, kind="stable")[:k]
        return [(self.words[i], float(scores[i])) for i in order]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: words with spans, attributions per class, prediction, method, cost."""
        names = [str(c) for c in self.classes]
        payload: dict[str, Any] = {
            "text": self.text,
            "words": [{"text": w.text, "start": w.start, "end": w.end} for w in self.words],
            "attributions": {n: self.attributions[:, i].tolist() for i, n in enumerate(names)},
            "predicted_label": plain(self.predicted_label),
            "probabilities": {n: float(p) for n, p in zip(names, self.probabilities, strict=True)},
            "method": self.method,
            "kind": self.kind,
            "settings": self.settings,
            "evaluations": self.evaluations,
            "notes": self.notes,
        }
        if self.base_values is not None:
            payload["base_values"] = {
                n: float(v) for n, v in zip(names, self.base_values, strict=True)
            }
        if self.attention is not None:
            payload["attention"] = self.attention.tolist()
        return payload

    def _repr_html_(self) -> str:
        from workbench.explain.render import explanation_html

        return explanation_html([self])

    def to_json(self, path: str | os.PathLike) -> Path:
        path = Path(path)
        path.write_text(json.dumps(self.to_dict(), ensure_ascii=False, indent=1), "utf-8")
        return path

    def to_html(self, path: str | os.PathLike) -> Path:
        """A self-contained HTML page (inline CSS, no scripts) with the highlighted text."""
        from workbench.explain.render import explanation_html

        path = Path(path)
        path.write_text(explanation_html([self], standalone=True), "utf-8")
        return path


@dataclass
class FailedExplanation:
    """A text that could not be explained, and why: what ``explain(model, texts,
    errors="record")`` holds in place of an :class:`Explanation` for it."""

    text: str
    error: str

    def to_dict(self) -> dict[str, str]:
        return {"text": self.text, "error": self.error}


def check_text(text: Any) -> str:
    """Explainers take one non-blank string of valid UTF-8 without control characters
    (tabs and line breaks are fine); anything else gets a message that says so."""
    if not isinstance(text, str):
        raise InputError(f"the text to explain must be a string, got {type(text).__name__}")
    if not text.strip():
        raise InputError("the text to explain is empty; type a sentence with some words in it")
    check_utf8([text], "the text to explain", row="")
    control = _CONTROL_CHARACTER.search(text)
    if control is not None:
        raise InputError(
            f"the text to explain contains the control character "
            f"U+{ord(control.group()):04X} at character {control.start()}, around which "
            "words cannot be masked exactly; remove control characters (other than tabs and "
            "line breaks) from the text"
        )
    return text
