"""Scoring word alignments: does an explanation of a translation point at the right words?

A translation model's explanation for target word ``j`` is a row of scores over the source
words (attention, gradients, occlusion): a *target × source* matrix per sentence.
:func:`alignments_from_matrix` turns it into hard links, and :func:`alignment_scores`
compares links with gold ones (``workbench.data.make_synthetic_corpus`` knows them by
construction) by precision, recall, F1 and the alignment error rate of Och & Ney (2003),
beside :func:`random_baseline`, what links drawn at random score.

Links are ``(i, j)`` pairs: source word ``i`` aligned to target word ``j``, both counted
from 0, the order of the Pharaoh files of fast_align and awesome-align ("i-j") and of
:class:`workbench.data.ParallelPair`. Note the matrix is the other way round: its *rows*
are target words, its columns source words.

Scoring needs no model (pure NumPy) up to :func:`score_explanations`, which scores the
matrices of :class:`workbench.explain.generation.GenerationExplanation` objects.
:func:`alignment_study` runs a translator over a corpus split: it explains each gold pair
(the reference forced through the decoder), scores every method and attention reading
beside the random baseline, and measures comprehensiveness per target step beside random
deletions.
"""

from __future__ import annotations

import numbers
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from workbench.data import check_count
from workbench.errors import InputError

if TYPE_CHECKING:
    from workbench.explain.generation import GenerationExplanation
    from workbench.seq2seq import Translator

Link = tuple[int, int]
MATRIX_METHODS = ("argmax-per-target", "argmax-per-source", "intersection", "threshold")


@dataclass(frozen=True)
class AlignmentScores:
    """Alignment quality, from link counts summed over every sentence scored.

    With ``A`` the predicted links, ``S`` the sure gold links and ``P ⊇ S`` the possible
    ones (``P = S`` when only one gold set is given)::

        precision = |A ∩ P| / |A|        recall = |A ∩ S| / |S|
        f1        = 2 · precision · recall / (precision + recall)
        aer       = 1 − (|A ∩ S| + |A ∩ P|) / (|A| + |S|)

    Lower AER is better; with ``P = S`` it equals ``1 − f1``.
    """

    precision: float
    recall: float
    f1: float
    aer: float
    predicted: int  # |A|
    sure: int  # |S|
    possible: int  # |P|
    sure_hits: int  # |A ∩ S|
    possible_hits: int  # |A ∩ P|
    sentences: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def alignment_scores(
    predicted: Iterable, sure: Iterable, possible: Iterable | None = None
) -> AlignmentScores:
    """Precision, recall, F1 and AER of ``predicted`` links against gold links.

    Each argument is either one sentence's links (a collection of ``(i, j)`` pairs) or a
    corpus (a sequence of such collections, one per sentence, in the same order for every
    argument). A corpus is scored as the alignment literature does (Och & Ney 2003 and
    after): the counts |A|, |S|, |A ∩ S|, |A ∩ P| are summed over sentences and the ratios
    taken once (a micro average), so long sentences weigh more than short ones.

    ``possible`` defaults to ``sure``; sure links always count as possible (``P ∪ S`` is
    used), as the definition requires ``S ⊆ P``. Repeated links count once.

    Empty sets: when nothing was predicted and nothing was to be found, every score is
    perfect (precision, recall, F1 = 1, AER = 0). Otherwise a ratio whose denominator is 0
    is 0: no predicted links gives precision 0, no sure links gives recall 0.
    """
    sentences = _corpora(predicted=predicted, sure=sure, possible=possible)
    n_predicted = n_sure = n_possible = sure_hits = possible_hits = 0
    for a, s, p in sentences:
        p = p | s
        n_predicted += len(a)
        n_sure += len(s)
        n_possible += len(p)
        sure_hits += len(a & s)
        possible_hits += len(a & p)
    if n_predicted == 0 and n_sure == 0:
        precision = recall = f1 = 1.0
        aer = 0.0
    else:
        precision = possible_hits / n_predicted if n_predicted else 0.0
        recall = sure_hits / n_sure if n_sure else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        aer = 1.0 - (sure_hits + possible_hits) / (n_predicted + n_sure)
    return AlignmentScores(
        precision=precision,
        recall=recall,
        f1=f1,
        aer=aer,
        predicted=n_predicted,
        sure=n_sure,
        possible=n_possible,
        sure_hits=sure_hits,
        possible_hits=possible_hits,
        sentences=len(sentences),
    )


def alignment_error_rate(
    predicted: Iterable, sure: Iterable, possible: Iterable | None = None
) -> float:
    """Och & Ney's (2003) alignment error rate, ``1 − (|A∩S| + |A∩P|) / (|A| + |S|)``:
    0 is perfect, lower is better. Arguments and corpus counting as :func:`alignment_scores`
    (a corpus sums the counts over its sentences)."""
    return alignment_scores(predicted, sure, possible).aer


def alignments_from_matrix(
    matrix: Any,
    method: str = "argmax-per-target",
    *,
    threshold: float | None = None,
    absolute: bool = False,
) -> tuple[Link, ...]:
    """Hard links ``(source i, target j)`` from a *target × source* score matrix.

    ``method``:

    - ``"argmax-per-target"`` (default): each target word (row) links to the source word
      with its highest score. The standard reading of attention-derived alignments
      (Garg et al. 2019; Chen et al. 2020, shift-att), and a fair one for every method:
      one link per target word, like most gold links here.
    - ``"argmax-per-source"``: each source word (column) links to its highest-scoring
      target word.
    - ``"intersection"``: links both argmaxes agree on (fewer links, higher precision).
    - ``"threshold"``: every cell with a score of at least ``threshold`` (required).

    Scores are used as given, highest first; ``absolute=True`` ranks by magnitude instead
    (for signed attributions such as gradient × input, where a large negative score also
    means the word mattered). NaN cells never link. A tie goes to the lower index, except
    that a row (or column) whose scores are all equal, over two or more cells, prefers no
    word and gives no link rather than an arbitrary first one.
    """
    scores = np.asarray(matrix, dtype=float)
    if scores.ndim != 2:
        raise InputError(
            f"the score matrix must be 2-D (target words × source words), got shape {scores.shape}"
        )
    if method not in MATRIX_METHODS:
        raise InputError(f"unknown method {method!r}; use one of {', '.join(MATRIX_METHODS)}")
    if absolute:
        scores = np.abs(scores)
    if method == "threshold":
        if threshold is None or isinstance(threshold, bool):
            raise InputError('method="threshold" needs threshold=<the lowest score that links>')
        with np.errstate(invalid="ignore"):
            rows, cols = np.nonzero(scores >= float(threshold))
        return tuple(sorted((int(i), int(j)) for j, i in zip(rows, cols, strict=True)))
    per_target = {(i, j) for j, i in _argmax_rows(scores)}
    if method == "argmax-per-target":
        return tuple(sorted(per_target))
    per_source = {(i, j) for i, j in _argmax_rows(scores.T)}
    if method == "argmax-per-source":
        return tuple(sorted(per_source))
    return tuple(sorted(per_target & per_source))


def random_alignments(
    source_length: int, target_length: int, *, seed: int | np.random.Generator = 0
) -> tuple[Link, ...]:
    """One random link per target word, to a source word drawn uniformly: the chance
    level of ``alignments_from_matrix(..., "argmax-per-target")``, which also makes one
    link per target word. ``seed`` is an int or a ``numpy.random.Generator`` (to draw
    many sentences from one stream)."""
    n_source = check_count("source_length", source_length, 0)
    n_target = check_count("target_length", target_length, 0)
    if n_source == 0:
        return ()
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    drawn = rng.integers(0, n_source, size=n_target)
    return tuple(sorted((int(i), j) for j, i in enumerate(drawn)))


def random_baseline(
    lengths: Sequence[tuple[int, int]],
    sure: Sequence,
    possible: Sequence | None = None,
    *,
    seed: int = 0,
    repeats: int = 10,
) -> AlignmentScores:
    """What random links score against the gold: the floor any explanation must beat.

    ``lengths`` holds ``(source words, target words)`` per sentence of the corpus ``sure``
    (and ``possible``). Each of ``repeats`` rounds draws :func:`random_alignments` for
    every sentence from ``numpy.random.default_rng(seed)``; the rounds' counts are summed
    as one corpus ``repeats`` times as long, which steadies the figure. The same seed gives
    the same scores. ``sentences`` in the result counts the corpus once.
    """
    rounds = check_count("repeats", repeats, 1)
    sizes = [
        (
            check_count(f"lengths[{k}][0]", pair[0], 0),
            check_count(f"lengths[{k}][1]", pair[1], 0),
        )
        for k, pair in enumerate(_as_pairs(lengths))
    ]
    gold = list(sure)
    if len(gold) != len(sizes):
        raise InputError(
            f"lengths has {len(sizes)} sentences but sure has {len(gold)}; give one "
            f"(source length, target length) per gold sentence"
        )
    gold_possible = None if possible is None else list(possible)
    rng = np.random.default_rng(seed)
    drawn = [random_alignments(n, m, seed=rng) for _ in range(rounds) for n, m in sizes]
    scores = alignment_scores(
        drawn,
        gold * rounds,
        None if gold_possible is None else gold_possible * rounds,
    )
    return AlignmentScores(**{**scores.as_dict(), "sentences": len(sizes)})


def _argmax_rows(scores: np.ndarray) -> list[tuple[int, int]]:
    """(row, column of its highest score) for every row that prefers a column."""
    found = []
    for r, row in enumerate(scores):
        finite = ~np.isnan(row)
        if not finite.any():
            continue
        values = row[finite]
        if values.size > 1 and np.all(values == values[0]):
            continue  # no preference: no link
        found.append((r, int(np.nanargmax(row))))
    return found


def _as_pairs(lengths: Sequence) -> list:
    try:
        pairs = [tuple(pair) for pair in lengths]
    except TypeError:
        raise InputError(
            "lengths must be a sequence of (source length, target length) pairs"
        ) from None
    if any(len(pair) != 2 for pair in pairs):
        raise InputError("lengths must be a sequence of (source length, target length) pairs")
    return pairs


def _is_link(item: Any) -> bool:
    if isinstance(item, str | bytes):
        return False
    try:
        return len(item) == 2 and all(
            isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in item
        )
    except TypeError:
        return False


def _links(items: Iterable, name: str) -> frozenset[Link]:
    checked = set()
    for item in items:
        if not _is_link(item):
            raise InputError(
                f"{name}: {item!r} is not a link; a link is a pair of word indices "
                f"(source i, target j), e.g. (0, 2) for Pharaoh's 0-2"
            )
        i, j = (check_count(f"{name}: link {tuple(item)!r} index", v, 0) for v in item)
        checked.add((i, j))
    return frozenset(checked)


def _sentence_or_corpus(links: Iterable, name: str) -> tuple[str, list[frozenset[Link]]]:
    """("sentence", [links]) or ("corpus", [links per sentence]); ("empty", []) for no items,
    which is either."""
    if isinstance(links, str | bytes):
        raise InputError(
            f"{name} must be links as (i, j) pairs, not text; parse Pharaoh lines first"
        )
    items = list(np.asarray(links).tolist() if isinstance(links, np.ndarray) else links)
    if not items:
        return "empty", []
    if _is_link(items[0]):
        return "sentence", [_links(items, name)]
    return "corpus", [_links(sentence, f"{name}[{k}]") for k, sentence in enumerate(items)]


def _corpora(**arguments: Iterable | None) -> list[tuple[frozenset[Link], ...]]:
    """The arguments as parallel per-sentence link sets (a single sentence is a corpus of
    one), checked to hold the same number of sentences."""
    parsed = {
        name: _sentence_or_corpus(value, name)
        for name, value in arguments.items()
        if value is not None
    }
    is_corpus = any(kind == "corpus" for kind, _ in parsed.values())
    columns = {}
    for name, (kind, sentences) in parsed.items():
        if kind == "sentence" and is_corpus:
            raise InputError(
                f"{name} is one sentence's links but another argument is a corpus (one "
                f"collection of links per sentence); give {name} per sentence too"
            )
        columns[name] = sentences if (kind != "empty" or is_corpus) else [frozenset()]
    counts = {name: len(sentences) for name, sentences in columns.items()}
    if len(set(counts.values())) > 1:
        raise InputError(
            "the corpora differ in length: "
            + ", ".join(f"{name} has {n} sentences" for name, n in counts.items())
            + "; give the links of the same sentences, in the same order"
        )
    if "possible" not in columns:
        columns["possible"] = columns["sure"]
    return list(zip(columns["predicted"], columns["sure"], columns["possible"], strict=True))


# --- explanations of a translator, scored ---------------------------------------------------

RANDOM = "random"


def _gold_links(item: Any, k: int) -> Any:
    """A pair's links (a ``ParallelPair`` or anything with ``.alignment``), or links as given."""
    links = getattr(item, "alignment", item)
    if isinstance(links, str | bytes):
        raise InputError(f"gold[{k}] is text; give links as (source i, target j) pairs")
    return links


def score_explanations(
    explanations: Sequence[GenerationExplanation],
    gold: Sequence,
    *,
    per_layer: bool = True,
    absolute: bool = False,
    seed: int = 0,
    repeats: int = 10,
) -> dict[str, AlignmentScores]:
    """Alignment scores of every matrix of ``explanations`` against ``gold`` links, and the
    random baseline under ``"random"``.

    ``gold`` holds, per explanation, its sentence's links (or its ``ParallelPair``); the
    explanations must be of the gold targets (``explain_translation(..., target=gold)``),
    so rows are gold target words. Each matrix gives one link per target word
    (:func:`alignments_from_matrix`, ``"argmax-per-target"``); scores are summed over the
    corpus. ``per_layer`` adds each layer's mean cross-attention in both readings;
    ``absolute`` ranks the attribution methods' scores by magnitude (attention is never
    negative, so it changes nothing there).
    """
    items = list(explanations)
    golds = [_gold_links(g, k) for k, g in enumerate(gold)]
    if len(items) != len(golds):
        raise InputError(
            f"{len(items)} explanations but {len(golds)} gold alignments; give one per sentence"
        )
    if not items:
        raise InputError("there are no explanations to score; give at least one")
    views = [e.views(per_layer=per_layer) for e in items]
    names = list(dict.fromkeys(name for v in views for name in v))
    for k, (e, links) in enumerate(zip(items, golds, strict=True)):
        size = (len(e.target_tokens), len(e.source_words))
        for i, j in _links(links, f"gold[{k}]"):
            if i >= size[1] or j >= size[0]:
                raise InputError(
                    f"gold[{k}] links source word {i} to target word {j}, but explanation {k} "
                    f"has {size[1]} source words and {size[0]} target tokens; explain the "
                    "gold target (target=pair.target) of the same pair"
                )
    out = {}
    for name in names:
        missing = [k for k, v in enumerate(views) if name not in v]
        if missing:
            raise InputError(
                f"explanation {missing[0]} has no {name!r} matrix; explain every sentence "
                "with the same methods"
            )
        predicted = [
            alignments_from_matrix(v[name], absolute=absolute and not name.startswith("attention"))
            for v in views
        ]
        out[name] = alignment_scores(predicted, golds)
    lengths = [(len(e.source_words), len(e.target_tokens)) for e in items]
    out[RANDOM] = random_baseline(lengths, golds, seed=seed, repeats=repeats)
    return out


@dataclass
class AlignmentStudy:
    """What :func:`alignment_study` measured on a corpus split.

    ``alignment``: per matrix (and ``"random"``), its :class:`AlignmentScores`;
    ``alignment_absolute``: the attribution methods ranked by magnitude.
    ``comprehensiveness``: per method, ``mean_drop`` (probability points a target token
    loses, on average over steps, when the ``k`` source words the method ranks highest
    for it are deleted), ``random_drop`` (the same for random words), ``difference`` and
    its bootstrap ``interval`` over sentences, and ``steps`` counted. ``seconds``: time
    spent per method over the whole split.
    """

    n: int
    alignment: dict[str, AlignmentScores]
    alignment_absolute: dict[str, AlignmentScores]
    comprehensiveness: dict[str, dict[str, Any]]
    seconds: dict[str, float]
    settings: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "alignment": {name: s.as_dict() for name, s in self.alignment.items()},
            "alignment_absolute": {
                name: s.as_dict() for name, s in self.alignment_absolute.items()
            },
            "comprehensiveness": self.comprehensiveness,
            "seconds": self.seconds,
            "settings": self.settings,
            "notes": self.notes,
        }

    def rows(self) -> list[dict[str, Any]]:
        """One row per matrix: AER, F1, precision, recall (signed and by magnitude where it
        differs), comprehensiveness beside random, seconds."""
        rows = []
        for name, scores in self.alignment.items():
            row: dict[str, Any] = {
                "method": name,
                "aer": scores.aer,
                "f1": scores.f1,
                "precision": scores.precision,
                "recall": scores.recall,
            }
            if name in self.alignment_absolute:
                row["aer_absolute"] = self.alignment_absolute[name].aer
            if name in self.comprehensiveness:
                c = self.comprehensiveness[name]
                row |= {
                    "comprehensiveness": c["mean_drop"],
                    "random_drop": c["random_drop"],
                    "difference": c["difference"],
                    "low": c["interval"][0],
                    "high": c["interval"][1],
                }
            # every attention view comes from the same forward pass
            row["seconds"] = self.seconds.get("attention" if name.startswith("attention") else name)
            rows.append(row)
        return rows


def alignment_study(
    translator: Translator,
    pairs: Sequence,
    *,
    methods: Sequence[str] | None = None,
    n_steps: int = 32,
    k: int = 1,
    draws: int = 10,
    seed: int = 0,
    confidence: float = 0.95,
    n_resamples: int = 1000,
    progress: bool = True,
) -> AlignmentStudy:
    """Explain each gold pair with ``translator`` and score the explanations.

    Each ``ParallelPair`` (with its gold ``alignment``) is explained with its reference
    forced through the decoder (``explain_translation(..., target=pair.target)``), so the
    rows are the gold target words. Returns an :class:`AlignmentStudy`: AER, F1, precision
    and recall per method, per attention reading and layer, beside random links
    (:func:`score_explanations`); comprehensiveness per target step (deleting the ``k``
    top source words of the row) beside deleting ``k`` random ones (``draws`` per step),
    with a bootstrap interval of the difference over sentences; seconds per method.

    A pair whose words the tokenizers cut differently from its gold links (punctuation
    glued to words) is skipped, with a note.
    """
    from workbench.evaluate import bootstrap_ci
    from workbench.explain.generation import (
        GENERATION_METHODS,
        explain_translation,
        step_comprehensiveness,
    )
    from workbench.progress import progress_bar

    chosen = GENERATION_METHODS if methods is None else tuple(methods)
    items = list(pairs)
    if not items:
        raise InputError("alignment_study needs at least one pair with gold alignments")
    explanations, golds, drops, notes = [], [], [], []
    seconds: dict[str, float] = {}
    for index, pair in enumerate(progress_bar(items, show=progress, desc="explaining")):
        if not hasattr(pair, "alignment") or not pair.alignment:
            raise InputError(
                f"pair {index} has no gold alignment; give ParallelPairs with alignments "
                "(make_synthetic_corpus, or read_parallel_files with alignment_path)"
            )
        explanation = explain_translation(
            translator, pair.source, target=pair.target, methods=chosen, n_steps=n_steps
        )
        sizes = (len(explanation.source_words), len(explanation.target_tokens))
        if sizes != (len(pair.source.split()), len(pair.target.split())):
            notes.append(
                f"pair {index} skipped: the tokenizers cut it into {sizes[0]} source and "
                f"{sizes[1]} target words, its gold links count whitespace tokens"
            )
            continue
        for method, spent in explanation.settings["seconds"].items():
            seconds[method] = seconds.get(method, 0.0) + spent
        started = time.perf_counter()
        drops.append(step_comprehensiveness(translator, explanation, k=k, draws=draws, seed=seed))
        seconds["comprehensiveness"] = (
            seconds.get("comprehensiveness", 0.0) + time.perf_counter() - started
        )
        explanations.append(explanation)
        golds.append(pair.alignment)
    if not explanations:
        raise InputError("no pair could be scored: " + "; ".join(notes[:3]))
    signed = score_explanations(explanations, golds, seed=seed)
    by_magnitude = score_explanations(
        explanations, golds, per_layer=False, absolute=True, seed=seed
    )
    absolute = {
        name: scores
        for name, scores in by_magnitude.items()
        if name != RANDOM and not name.startswith("attention")
    }
    comprehensiveness = {}
    for method in drops[0]:
        if method == RANDOM:
            continue
        totals, counts, method_sum, random_sum = [], [], 0.0, 0.0
        for per_step in drops:
            finite = np.isfinite(per_step[method]) & np.isfinite(per_step[RANDOM])
            method_sum += float(per_step[method][finite].sum())
            random_sum += float(per_step[RANDOM][finite].sum())
            totals.append(float((per_step[method] - per_step[RANDOM])[finite].sum()))
            counts.append(int(finite.sum()))
        steps = sum(counts)
        entry: dict[str, Any] = {
            "mean_drop": method_sum / steps if steps else float("nan"),
            "random_drop": random_sum / steps if steps else float("nan"),
            "difference": (method_sum - random_sum) / steps if steps else float("nan"),
            "steps": steps,
            "interval": [float("nan"), float("nan")],
        }
        if steps:
            interval = bootstrap_ci(
                lambda total, count: float(total.sum() / max(count.sum(), 1)),
                totals,
                counts,
                n_resamples=n_resamples,
                confidence=confidence,
                seed=seed,
            )
            entry["interval"] = [interval.low, interval.high]
        comprehensiveness[method] = entry
    return AlignmentStudy(
        n=len(explanations),
        alignment=signed,
        alignment_absolute=absolute,
        comprehensiveness=comprehensiveness,
        seconds=seconds,
        settings={
            "methods": list(chosen),
            "n_steps": n_steps,
            "k": k,
            "draws": draws,
            "seed": seed,
            "confidence": confidence,
            "links": "argmax per target word",
            "target": "the gold target, forced through the decoder",
        },
        notes=notes,
    )
