"""SHAP and LIME over the shared word units, for any model with ``predict_proba``.

Both libraries mask words by writing a placeholder; :class:`ModelPredictor` deletes it,
so their masking is the project's absence convention (deletion, see ``base``). The model
is only ever called through that predictor: batched, cached, counted.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import scipy.sparse

from workbench.errors import InputError
from workbench.explain.base import (
    MASK_SENTINEL,
    Explanation,
    ModelPredictor,
    check_text,
    plain,
    visible_word_count,
    word_units,
)


class _WordUnitTokenizer:
    """The project's word units in the slice of the Hugging Face tokenizer API shap uses."""

    def __init__(self, model: Any) -> None:
        self.model = model

    def __call__(self, text: str, return_offsets_mapping: bool = False, **_: Any) -> dict:
        words = word_units(self.model, text)
        # shap only compares these ids with each other; any distinct integers do.
        encoded: dict[str, list] = {"input_ids": list(range(1, len(words) + 1))}
        if return_offsets_mapping:
            encoded["offset_mapping"] = [(w.start, w.end) for w in words]
        return encoded


# Up to this many words the mask matrix of shap's Partition explainer is made dense: its
# (2w - 1) x w bools (4 MB at 1,400 words) are cheap, while a scipy CSR row slice per
# evaluation was a third of the explainer's own time in benchmarks/explain_overhead.py.
_DENSE_MASKS_UP_TO_WORDS = 1_400


@functools.cache
def _partition_class() -> type:
    """shap's ``Partition`` explainer with a dense mask matrix for texts of usual length."""
    import shap

    class DenseMaskPartition(shap.explainers.Partition):
        def owen(self, *args: Any, **kwargs: Any) -> Any:
            masks = getattr(self, "_mask_matrix", None)  # private in shap: guarded, not assumed
            if scipy.sparse.issparse(masks) and masks.shape[1] <= _DENSE_MASKS_UP_TO_WORDS:
                self._mask_matrix = masks.toarray()
            return super().owen(*args, **kwargs)

    return DenseMaskPartition


def _prepare(model: Any, text: str):
    """Words, the visible prefix the model reads, and a note when the rest was cut."""
    check_text(text)
    words = word_units(model, text)
    if not words:
        raise InputError(f"no words found in {text!r}; type a sentence with some words in it")
    visible = visible_word_count(model, words)
    notes = []
    if visible < len(words):
        notes.append(
            f"the model reads only its first {visible} words (max_length); the "
            f"{len(words) - visible} words from '{words[visible].text}' on get no attribution"
        )
    return words, visible, text[: words[visible - 1].end], notes


def _pad_to_all_words(values: np.ndarray, num_words: int) -> np.ndarray:
    """Attributions for the visible words, zero rows for the words the model never read."""
    padded = np.zeros((num_words, values.shape[1]))
    padded[: len(values)] = values
    return padded


def shap_explanation(
    model: Any,
    text: str,
    *,
    max_evals: int = 500,
    masks_per_call: int = 64,
    batch_size: int = 256,
) -> Explanation:
    """SHAP values from ``shap``'s Partition explainer over a ``shap.maskers.Text``.

    The masker is built on the project's word units, so SHAP's features are exactly the
    words other methods report. Values are in probability units and additive: for each
    class, ``base_values + attributions.sum(0)`` equals the probability of the full text,
    where ``base_values`` is the probability with every word absent. ``max_evals`` bounds
    the model evaluations (identical masked texts are evaluated once).

    ``masks_per_call`` is how many coalitions the explainer expands before calling the
    model (shap's own default is 10). Fewer model calls with more texts each halve the
    time per explanation on CPU; the partition tree is expanded in a slightly different
    order within the same budget, so values move by about 0.01 against shap's default.
    """
    import shap

    words, visible, visible_text, notes = _prepare(model, text)
    predictor = ModelPredictor(model, batch_size)
    masker = shap.maskers.Text(
        _WordUnitTokenizer(model), mask_token=MASK_SENTINEL, collapse_mask_token=False
    )
    classes = [plain(c) for c in model.classes_]
    explainer = _partition_class()(
        lambda batch: predictor(list(batch)), masker, output_names=[str(c) for c in classes]
    )
    values = explainer([visible_text], max_evals=max_evals, batch_size=masks_per_call, silent=True)
    return Explanation(
        text=text,
        words=words,
        classes=classes,
        attributions=_pad_to_all_words(np.asarray(values.values[0], dtype=float), len(words)),
        probabilities=predictor([visible_text])[0],
        method="shap",
        settings={
            "max_evals": max_evals,
            "masks_per_call": masks_per_call,
            "explainer": "Partition",
            "units": "probability",
            "visible_words": visible,
        },
        evaluations=predictor.evaluations,
        base_values=np.asarray(values.base_values[0], dtype=float),
        notes=notes,
    )


def lime_explanation(
    model: Any, text: str, *, num_samples: int = 1000, seed: int = 0, batch_size: int = 256
) -> Explanation:
    """LIME weights from ``lime``'s ``LimeTextExplainer`` on the same word units.

    Position-aware (``bow=False``): the same word at two places is two features. Every word
    enters the weighted ridge fit (``feature_selection="none"``); ``base_values`` holds
    each class's intercept. The sampling is seeded, so the same ``seed`` gives the same
    explanation.
    """
    from lime.lime_text import LimeTextExplainer

    words, visible, visible_text, notes = _prepare(model, text)
    predictor = ModelPredictor(model, batch_size)
    classes = [plain(c) for c in model.classes_]
    explainer = LimeTextExplainer(
        class_names=[str(c) for c in classes],
        split_expression=lambda s: [w.text for w in word_units(model, s)],
        bow=False,
        mask_string=MASK_SENTINEL,
        feature_selection="none",
        random_state=seed,
    )
    result = explainer.explain_instance(
        visible_text,
        predictor,
        labels=range(len(classes)),
        num_features=visible,
        num_samples=num_samples,
    )
    seen = result.domain_mapper.indexed_string.num_words()
    if seen != visible:  # lime's own segmentation must line up with the word units
        raise RuntimeError(f"LIME found {seen} words where the tokenizer found {visible}")
    weights = np.zeros((visible, len(classes)))
    for class_index, pairs in result.as_map().items():
        for word_index, weight in pairs:
            weights[word_index, class_index] = weight
    return Explanation(
        text=text,
        words=words,
        classes=classes,
        attributions=_pad_to_all_words(weights, len(words)),
        probabilities=predictor([visible_text])[0],
        method="lime",
        settings={
            "num_samples": num_samples,
            "seed": seed,
            "kernel_width": 25,
            "visible_words": visible,
        },
        evaluations=predictor.evaluations,
        base_values=np.array([result.intercept[i] for i in range(len(classes))]),
        notes=notes,
    )
