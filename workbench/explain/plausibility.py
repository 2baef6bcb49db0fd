"""Plausibility: how well an explanation matches the words people marked as the reason
(ERASER's human rationales, :func:`workbench.data.load_eraser_movies`). Plausibility is
not faithfulness: the model need not use the words people would."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.metrics import average_precision_score, f1_score

from workbench.errors import InputError
from workbench.explain.base import Explanation
from workbench.explain.ranking import _count, _label, _ranking, _scores
from workbench.tokenizer import Word


def rationale_mask(words: Sequence[Word], spans: Sequence[tuple[int, int]]) -> np.ndarray:
    """One bool per word: True when its span ``[start, end)`` overlaps any rationale span.

    Spans are character ranges ``(start, end)``, end exclusive, in the text the words come
    from (as :func:`workbench.data.load_eraser_movies` returns them). A word touched by a
    span only in part counts as rationale; an empty span marks nothing.
    """
    checked = []
    for span in spans:
        try:
            start, end = (_count(v, "span bound") for v in span)
        except (TypeError, ValueError):
            raise InputError(
                f"each rationale span must be a (start, end) pair, got {span!r}"
            ) from None
        if start > end:
            raise InputError(f"rationale span {span!r} ends before it starts; use (start, end)")
        checked.append((start, end))
    return np.array(
        [any(w.start < end and start < w.end for start, end in checked) for w in words],
        dtype=bool,
    )


def plausibility(explanation: Explanation, human: np.ndarray, *, label=None) -> dict[str, float]:
    """How well the explanation matches human rationale words (ERASER's plausibility).

    With ``m`` = the number of human rationale words and attributions towards ``label``
    (default: the predicted class)::

        token_f1 = F1 between the top-m words of the explanation and the human words
        auprc    = average_precision_score(human, attributions)

    Because exactly ``m`` words are predicted, precision, recall and F1 coincide here
    (``|top-m ∩ human| / m``). ERASER's token F1 scores a model's own hard rationale and its
    "AUPRC" integrates the precision-recall curve by the trapezoid rule; average precision
    is the step-wise sum, which does not interpolate optimistically. Plausibility is not
    faithfulness: the model need not use the words people would.

    Only the words the model read are scored (``settings["visible_words"]``, set by every
    explainer): words past its ``max_length`` get no attribution from any method, so a
    human rationale there says nothing about the explanation.

    Raises:
        InputError: if ``human`` has no True entry among the words the model read, or its
            length is not the word count.
    """
    human = np.asarray(human, dtype=bool)
    if human.ndim != 1 or len(human) != len(explanation.words):
        raise InputError(
            f"human rationale mask has shape {human.shape} but the explanation has "
            f"{len(explanation.words)} words; build it with "
            "rationale_mask(explanation.words, spans)"
        )
    seen = int(explanation.settings.get("visible_words", len(human)))
    human = human[:seen]
    if not human.any():
        raise InputError(
            f"the human rationale marks none of the {seen} words the model read; plausibility "
            "needs at least one (check the spans belong to this text)"
        )
    scores = _scores(explanation, _label(explanation, label))[:seen]
    predicted = np.zeros(len(human), dtype=bool)
    predicted[_ranking(scores)[: int(human.sum())]] = True
    return {
        "token_f1": float(f1_score(human, predicted)),
        "auprc": float(average_precision_score(human, scores)),
    }
