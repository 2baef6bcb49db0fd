"""SHAP and LIME over the shared word units, for any model with ``predict_proba``.

Both libraries mask words by writing a placeholder; :class:`ModelPredictor` deletes it,
so their masking is the project's absence convention (deletion, see ``base``). The model
is only ever called through that predictor: batched, cached, counted.

**Owen values, not Shapley values, by default.** ``shap``'s Partition explainer, the
default here as in ``shap`` itself for text, computes Owen values: Shapley values
constrained by a hierarchical clustering of the words (``shap``'s text clustering), which
need far fewer model calls than the 2^n coalitions of exact Shapley values. They are
additive like Shapley values but are not the same numbers: on 7 texts of at most 11 words
the largest per-word difference had a median of 0.116 (probability points), the rank
correlation 0.85, and the top word agreed in 5 of 7. ``algorithm="exact"`` enumerates every
coalition instead and returns exact Shapley values, for short texts.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np
import scipy.sparse

from workbench.data import check_count, plain
from workbench.errors import InputError
from workbench.estimators import TextModel
from workbench.explain.base import (
    MASK_SENTINEL,
    Explanation,
    ModelPredictor,
    check_text,
    remove_words,
    truncation_note,
    visible_word_count,
    word_units,
)
from workbench.tokenizer import Word

SHAP_ALGORITHMS = ("partition", "exact")
# 2^12 = 4,096 coalitions, each a model evaluation: seconds for the default transformer on
# a CPU (benchmarks/inference.py measures its texts per second); each further word doubles
# them.
MAX_EXACT_WORDS = 12
# shap's Partition explainer spends 2 evaluations on the empty and the full text and 2 on
# each split of a group of words; with fewer than 3 it never splits, and every word gets
# the same share of p(text) - p("").
MIN_MAX_EVALS = 3
# A note says when more than this share of the attribution was left on groups of words
# the budget could not split (and so was shared out evenly): at the default 500 on the
# embedded reviews the share stayed under 0.5%, at max_evals=3 it is all of it.
UNSPLIT_SHARE_NOTED = 0.01
# LIME weights each copy of the text by sqrt(exp(-d^2 / width^2)), d its cosine distance to
# the text times 100; 25 is lime's own default, passed explicitly and recorded in settings.
LIME_KERNEL_WIDTH = 25


class _WordUnitTokenizer:
    """The project's word units in the slice of the Hugging Face tokenizer API shap uses."""

    def __init__(self, model: TextModel) -> None:
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
# evaluation took a large share of the explainer's own time (which
# benchmarks/explain_overhead.py measures).
_DENSE_MASKS_UP_TO_WORDS = 1_400


@functools.cache
def _partition_class() -> type:
    """shap's ``Partition`` explainer with a dense mask matrix for texts of usual length."""
    import shap

    class DenseMaskPartition(shap.explainers.Partition):
        def owen(self, *args: Any, **kwargs: Any) -> Any:
            masks = getattr(self, "_mask_matrix", None)  # private in shap: guarded, not assumed
            # scipy-stubs' issparse narrows to SparseABC, which declares neither shape nor
            # toarray (every sparse matrix and array has both)
            if (
                scipy.sparse.issparse(masks) and masks.shape[1] <= _DENSE_MASKS_UP_TO_WORDS  # type: ignore[attr-defined]
            ):
                self._mask_matrix = masks.toarray()  # type: ignore[attr-defined]
            return super().owen(*args, **kwargs)

    return DenseMaskPartition


def _prepare(model: TextModel, text: str):
    """Words, the visible prefix the model reads, and a note when the rest was cut."""
    check_text(text)
    words = word_units(model, text)
    if not words:
        raise InputError(f"no words found in {text!r}; type a sentence with some words in it")
    visible = visible_word_count(model, text, words)
    notes = [truncation_note(words, visible)] if visible < len(words) else []
    return words, visible, text[: words[visible - 1].end], notes


def _pad_to_all_words(values: np.ndarray, num_words: int) -> np.ndarray:
    """Attributions for the visible words, zero rows for the words the model never read."""
    padded = np.zeros((num_words, values.shape[1]))
    padded[: len(values)] = values
    return padded


def coalitions(num_words: int) -> np.ndarray:
    """Every subset of ``num_words`` words as a ``(2**num_words, num_words)`` bool matrix.

    Row ``m`` keeps word ``i`` when bit ``i`` of ``m`` is set: row 0 is the empty text, the
    last row the whole text.
    """
    rows = np.arange(2**num_words)[:, None]  # (2^n, 1)
    return (rows >> np.arange(num_words) & 1).astype(bool)  # (2^n, n)


def shapley_values(values: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """Exact Shapley values from the output of every coalition.

    ``values`` is ``(2**n, k)``: the model's output for each row of ``masks``
    (:func:`coalitions`). Returns ``(n, k)``: φ_i = Σ_S |S|!(n−|S|−1)!/n! · (v(S ∪ {i}) −
    v(S)) over the coalitions S without i. Each v(T) enters φ_i once, with weight
    +w(|T|−1) when i ∈ T (T = S ∪ {i}) and −w(|T|) when i ∉ T (T = S), so the whole sum is
    one matrix product.
    """
    n = masks.shape[1]
    weights = np.array(
        [math.factorial(s) * math.factorial(n - s - 1) for s in range(n)], dtype=np.float64
    ) / math.factorial(n)  # (n,): w(|S|) for |S| = 0 .. n-1
    size = masks.sum(axis=1)  # (2^n,)
    # Clipped so that np.where's unused branch stays a valid index (|T| = 0 or n).
    with_i = weights[np.maximum(size - 1, 0)][:, None]  # (2^n, 1)
    without_i = weights[np.minimum(size, n - 1)][:, None]  # (2^n, 1)
    coefficients = np.where(masks, with_i, -without_i)  # (2^n, n)
    return coefficients.T @ values  # (n, k)


def _exact_shap(
    predictor: ModelPredictor, words: list[Word], visible_text: str
) -> tuple[np.ndarray, np.ndarray]:
    """Exact Shapley values of the words (deletion), and the base value p(empty text)."""
    masks = coalitions(len(words))
    texts = [remove_words(words, keep) for keep in masks]
    # The whole text is the text itself, not its words re-joined with single spaces, so
    # base + Σφ is exactly the prediction being explained.
    texts[-1] = visible_text
    values = predictor(texts)  # (2^n, k)
    return shapley_values(values, masks), values[0]


def _partition_shap(
    model: TextModel,
    predictor: ModelPredictor,
    classes: list,
    visible_text: str,
    max_evals: int,
    masks_per_call: int,
) -> tuple[np.ndarray, np.ndarray, float]:
    """Owen values from shap's Partition explainer, its base value p(empty text), and the
    share of the attribution left on groups of words the budget could not split."""
    import shap

    masker = shap.maskers.Text(
        _WordUnitTokenizer(model), mask_token=MASK_SENTINEL, collapse_mask_token=False
    )
    explainer = _partition_class()(
        lambda batch: predictor(list(batch)), masker, output_names=[str(c) for c in classes]
    )
    values = explainer([visible_text], max_evals=max_evals, batch_size=masks_per_call, silent=True)
    # Rows 0..n-1 of the hierarchy are the words, the rest groups of words; a group holds
    # a value only when the budget ran out before splitting it, and shap then shares that
    # value out evenly over the group's words.
    per_node = np.abs(np.asarray(values.hierarchical_values[0], dtype=float)).max(axis=-1)
    num_words = len(values.values[0])
    unsplit = float(per_node[num_words:].sum() / max(per_node.sum(), 1e-12))
    return (
        np.asarray(values.values[0], dtype=float),
        np.asarray(values.base_values[0], dtype=float),
        unsplit,
    )


def _check_shap_settings(
    algorithm: str, max_evals: int, masks_per_call: int, max_exact_words: int
) -> tuple[int, int, int]:
    """``max_evals``, ``masks_per_call`` and ``max_exact_words``, checked; an unknown
    ``algorithm`` is refused."""
    if algorithm not in SHAP_ALGORITHMS:
        raise InputError(
            f"unknown SHAP algorithm {algorithm!r}; choose 'partition' (Owen values, any "
            "length) or 'exact' (exact Shapley values, short texts)"
        )
    why = (
        ": shap's partition explainer spends 2 model evaluations on the empty and the full "
        "text and 2 on each split of the words, so fewer than 3 give every word the same value"
    )
    return (
        check_count("max_evals", max_evals, MIN_MAX_EVALS, why),
        check_count("masks_per_call", masks_per_call, 1),
        check_count("max_exact_words", max_exact_words, 1),
    )


def _too_long_for_exact(visible: int, max_exact_words: int) -> str:
    return (
        f"exact Shapley values enumerate all 2^n word coalitions; this text has {visible} "
        f"words ({2**visible:,} model evaluations), more than max_exact_words="
        f"{max_exact_words}. Use the default algorithm='partition' (Owen values), or "
        "raise max_exact_words if you can afford the evaluations"
    )


def _unsplit_note(max_evals: int, unsplit: float) -> str:
    return (
        f"max_evals={max_evals} ran out before every word had its own value: "
        f"{unsplit:.0%} of the attribution sits on groups of words the budget could "
        "not split, shared out evenly over their words; raise max_evals"
    )


def shap_explanation(
    model: TextModel,
    text: str,
    *,
    algorithm: str = "partition",
    max_evals: int = 500,
    masks_per_call: int = 64,
    max_exact_words: int = MAX_EXACT_WORDS,
    batch_size: int = 256,
) -> Explanation:
    """Owen values (default) or exact Shapley values of the words, in probability units.

    ``algorithm="partition"``: ``shap``'s Partition explainer over a ``shap.maskers.Text``
    built on the project's word units. It returns **Owen values** over ``shap``'s text
    clustering (Shapley values of a game in which the words first form that hierarchy of
    clusters; approximated when ``max_evals`` does not cover the whole tree), not exact
    Shapley values (the module docstring says how far apart they were), within
    ``max_evals`` model evaluations (identical masked texts are evaluated once).
    ``masks_per_call`` is how many coalitions the explainer expands before calling the
    model (shap's own default is 10). Fewer model calls with more texts each halve the time
    per explanation on CPU; the partition tree is expanded in a slightly different order
    within the same budget, so values move by about 0.01 against shap's default.

    ``max_evals`` must be at least ``MIN_MAX_EVALS`` (3), the least that splits the words
    once; when the budget leaves more than 1% of the attribution on groups of words it
    could not split (their words then share it evenly), a note says so.

    ``algorithm="exact"``: **exact Shapley values** by enumerating all 2^n coalitions of
    the n words (absent words deleted), φ_i = Σ_S |S|!(n−|S|−1)!/n! · (v(S ∪ {i}) − v(S)).
    Costs 2^n model evaluations, so texts of more than ``max_exact_words`` words are
    refused; ``max_evals`` and ``masks_per_call`` do not apply. ``shap``'s own
    ``ExactExplainer`` is not used: with a masker that carries a clustering it computes
    Owen values too, and with ``shap.maskers.Text`` (whose clustering is a function of the
    text) it fails in its constructor (shap 0.51).

    Both are additive: for each class, ``base_values + attributions.sum(0)`` equals the
    probability of the full text, where ``base_values`` is the probability of the empty
    text (every word absent). ``settings["algorithm"]`` and ``settings["values"]`` record
    which values these are.
    """
    max_evals, masks_per_call, max_exact_words = _check_shap_settings(
        algorithm, max_evals, masks_per_call, max_exact_words
    )
    predictor = ModelPredictor(model, batch_size)
    words, visible, visible_text, notes = _prepare(model, text)
    if algorithm == "exact" and visible > max_exact_words:
        raise InputError(_too_long_for_exact(visible, max_exact_words))
    classes = [plain(c) for c in model.classes_]
    settings: dict[str, Any] = {"algorithm": algorithm}
    # shap's Partition explainer cannot cluster a single word (it raises); for one word the
    # Owen and the Shapley value coincide, p(text) - p(""), so enumerate its two coalitions.
    if algorithm == "exact" or visible == 1:
        values, base_values = _exact_shap(predictor, words[:visible], visible_text)
        settings |= {"values": "Shapley (exact)", "coalitions": 2**visible}
    else:
        values, base_values, unsplit = _partition_shap(
            model, predictor, classes, visible_text, max_evals, masks_per_call
        )
        if unsplit > UNSPLIT_SHARE_NOTED:
            notes.append(_unsplit_note(max_evals, unsplit))
        settings |= {
            "values": "Owen (shap's text clustering)",
            "max_evals": max_evals,
            "masks_per_call": masks_per_call,
        }
    return Explanation(
        text=text,
        words=words,
        classes=classes,
        attributions=_pad_to_all_words(values, len(words)),
        probabilities=predictor([visible_text])[0],
        method="shap",
        settings=settings | {"units": "probability", "visible_words": visible},
        evaluations=predictor.evaluations,
        base_values=base_values,
        notes=notes,
    )


def lime_explanation(
    model: TextModel, text: str, *, num_samples: int = 1000, seed: int = 0, batch_size: int = 256
) -> Explanation:
    """LIME weights from ``lime``'s ``LimeTextExplainer`` on the same word units.

    Position-aware (``bow=False``): the same word at two places is two features. Every word
    enters the weighted ridge fit (``feature_selection="none"``) on binary word-presence
    features, in probability units. ``base_values`` holds each class's intercept of that
    fit: the local linear model's estimate of p(class) with every word absent. It is fitted
    on the random deletions, so it need not equal p(""), and intercept + weights is the
    local model's estimate of the prediction, not the prediction itself. The sampling is
    seeded, so the same ``seed`` gives the same explanation. ``num_samples`` counts the
    text itself, so it must be at least 2; a note says when it is not more than the words
    (the fit then has more unknowns than samples).
    """
    from lime.lime_text import LimeTextExplainer

    why = ": LIME fits its weights on the text and at least one copy with words deleted"
    num_samples = check_count("num_samples", num_samples, 2, why)
    seed = check_count("seed", seed, 0)
    predictor = ModelPredictor(model, batch_size)
    words, visible, visible_text, notes = _prepare(model, text)
    if num_samples <= visible:
        notes.append(
            f"num_samples={num_samples} is not more than the {visible} words: LIME's linear "
            "fit has more unknowns than samples, so its weights are mostly its ridge "
            "penalty's guess; raise num_samples"
        )
    classes = [plain(c) for c in model.classes_]
    explainer = LimeTextExplainer(
        class_names=[str(c) for c in classes],
        split_expression=lambda s: [w.text for w in word_units(model, s)],
        bow=False,
        mask_string=MASK_SENTINEL,
        feature_selection="none",
        random_state=seed,
        kernel_width=LIME_KERNEL_WIDTH,
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
            "kernel_width": LIME_KERNEL_WIDTH,
            "units": "probability",
            "visible_words": visible,
        },
        evaluations=predictor.evaluations,
        base_values=np.array([result.intercept[i] for i in range(len(classes))]),
        notes=notes,
    )
