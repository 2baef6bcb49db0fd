"""Planted data: synthetic texts whose right explanation is known."""

from __future__ import annotations

import numpy as np

from workbench.data.texts import LabeledTexts

# Teaching data whose right explanation is known: the label depends only on these words.
PLANTED_WORDS = {"zork": "positive", "blick": "negative"}
_PLANTED_FILLER = [
    "the",
    "a",
    "movie",
    "film",
    "plot",
    "cast",
    "was",
    "is",
    "on",
    "by",
    "with",
    "and",
    "it",
    "this",
    "very",
    "quite",
]


def planted_dataset(n: int = 450, seed: int = 0) -> LabeledTexts:
    """Filler words plus at most one planted word, which alone decides the label.

    "zork" makes a text positive, "blick" negative, neither neutral (three classes, so a
    model must read both cues). A faithful explanation ranks the planted word first: the
    one case where the right answer is known, used to check explainers.
    """
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    cues = [*PLANTED_WORDS, None]
    for i in range(n):
        cue = cues[i % len(cues)]
        words = list(rng.choice(_PLANTED_FILLER, size=rng.integers(4, 9)))
        if cue is not None:
            words.insert(int(rng.integers(0, len(words) + 1)), cue)
        texts.append(" ".join(words))
        labels.append("neutral" if cue is None else PLANTED_WORDS[cue])
    return LabeledTexts(texts, labels, source=f"planted_dataset(n={n}, seed={seed})")
