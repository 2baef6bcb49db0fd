"""Scores of generated text against references: exact match, and BLEU and chrF through
``sacrebleu`` (the reference implementation, so the numbers compare with published ones).

Both sides are compared as their word units joined by single spaces, so a hypothesis and
a reference that differ only in spacing are the same sentence.
"""

from __future__ import annotations

from collections.abc import Sequence


def exact_match(hypotheses: Sequence[Sequence[str]], references: Sequence[Sequence[str]]) -> float:
    """Share of hypotheses whose word units equal their reference's, one for one."""
    if len(hypotheses) != len(references):
        raise ValueError(f"{len(hypotheses)} hypotheses for {len(references)} references")
    same = sum(list(h) == list(r) for h, r in zip(hypotheses, references, strict=True))
    return same / max(len(references), 1)


def corpus_scores(
    hypotheses: Sequence[Sequence[str]], references: Sequence[Sequence[str]]
) -> dict[str, float]:
    """``exact_match`` (0-1), corpus ``bleu`` and ``chrf`` (0-100, sacrebleu's defaults:
    BLEU-4 with the 13a tokenizer, chrF with character 6-grams and beta 2)."""
    import sacrebleu  # loaded on first use: the package's import stays light

    joined = [" ".join(h) for h in hypotheses]
    gold = [" ".join(r) for r in references]
    return {
        "exact_match": exact_match(hypotheses, references),
        "bleu": float(sacrebleu.corpus_bleu(joined, [gold]).score),
        "chrf": float(sacrebleu.corpus_chrf(joined, [gold]).score),
    }
