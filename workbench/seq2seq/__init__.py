"""Sequence to sequence: an encoder–decoder transformer from the classifier's blocks.

``Translator`` is the estimator (fit, translate, evaluate, save, load);
``Seq2SeqTransformer`` the network; ``greedy_decode`` and ``beam_search`` the decoders.
"""

from workbench.seq2seq.decode import Hypothesis, beam_search, greedy_decode
from workbench.seq2seq.metrics import corpus_scores, exact_match
from workbench.seq2seq.network import Seq2SeqOutput, Seq2SeqTransformer
from workbench.seq2seq.translator import Translation, Translator, as_pairs

__all__ = [
    "Hypothesis",
    "Seq2SeqOutput",
    "Seq2SeqTransformer",
    "Translation",
    "Translator",
    "as_pairs",
    "beam_search",
    "corpus_scores",
    "exact_match",
    "greedy_decode",
]
