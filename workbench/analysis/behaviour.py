"""Behavioural tests for sentiment models, in the style of CheckList (Ribeiro et al., 2020).

Accuracy on a test set says how often a model is right; behavioural tests say *what it can
do*: does it understand negation, does a name change its mind, does "but" turn it? Each
:class:`BehaviourTest` has a kind:

- **MFT** (minimum functionality): templated texts with their expected label
  ("The hotel is not comfortable." is negative);
- **INV** (invariance): the prediction must not change under an edit that should not matter
  (another name, a neutral filler sentence, a synonym);
- **DIR** (directional): the prediction must move the stated way (a positive review with a
  negation added must turn negative; an intensifier must not weaken the sentiment).

:func:`sentiment_suite` returns the shipped tests (negation, intensifiers, contrast with
"but", sarcasm markers, neutral filler, name and place swaps, synonyms, antonyms), built from
the shipped lexicon (:mod:`workbench.analysis.lexicon`) and the counterfactual generators
(:mod:`workbench.analysis.perturbations`). :func:`run_suite` runs them on any text model
(``predict_proba`` and ``classes_``) and any texts, asking the model for every text in a few
batched calls, and returns a :class:`SuiteResult`: pass rates with bootstrap intervals
(``to_frame()``), the failing cases (``failures(name)``), ``to_dict()`` and ``summary()``::

    from workbench.analysis.behaviour import run_suite, sentiment_suite

    result = run_suite(model, sentiment_suite(), texts, labels)
    print(result.summary())
    result.failures("negated positive")

Without ``texts`` the INV and DIR tests run on templated reviews; with texts but no labels,
the tests that need labels are skipped and say so. Adding a test takes a few lines::

    from workbench.analysis.behaviour import directional_test, invariance_test, mft_test

    emoji = mft_test("emoji", "vocabulary", [("Loved it 😍", "positive"), ("Meh 👎", "negative")])
    typos = invariance_test("typos", "robustness", lambda text: [text.replace("the", "teh")])
    louder = directional_test(
        "exclamation", "intensifiers", lambda text: [text + "!!!"], direction="stronger"
    )
    result = run_suite(model, [*sentiment_suite(), emoji, typos, louder], texts, labels)

Labels may be written "positive"/"negative" whatever the model's class names are; a model
whose classes are not recognisably positive and negative (0/1) needs ``positive=`` and
``negative=``.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
import pandas as pd

from workbench.analysis.examples import PROGRESS_FROM, Examples
from workbench.analysis.lexicon import SentimentLexicon, load_lexicon
from workbench.analysis.perturbations import (
    Edit,
    Generator,
    Perturbation,
    add_filler,
    add_negation,
    antonym,
    swap_name,
    swap_place,
    synonym,
)
from workbench.data import as_text_list, plain
from workbench.data.texts import check_count
from workbench.errors import InputError
from workbench.estimators import TextModel
from workbench.evaluate import (
    ConfidenceInterval,
    _check_confidence,
    _label_list,
    percentile_interval,
    resample_index_chunks,
)
from workbench.progress import progress_bar
from workbench.tokenizer import split_words

Kind = Literal["MFT", "INV", "DIR"]
Direction = Literal["flip", "stronger", "weaker"]
KINDS = ("MFT", "INV", "DIR")

# Words that name the two sentiment classes, in any case.
_POSITIVE_NAMES = ("positive", "pos")
_NEGATIVE_NAMES = ("negative", "neg")


@dataclass(frozen=True)
class Case:
    """One thing a test asks of a model.

    Attributes:
        text: the text the model reads.
        original: for INV and DIR, the text before the edit (the model reads it too).
        expected: for MFT and flips, the label the model should give ``text``.
        original_expected: the label the model must give ``original`` for the case to count
            (a DIR test checks a change, not the first prediction); None: it always counts.
        target: for "stronger"/"weaker", the class whose probability must not fall/rise;
            None: the class predicted for ``original``.
        direction: for DIR cases: "flip", "stronger" or "weaker".
        edits: the edits from ``original`` to ``text`` (spans of ``original``).
        label: the original text's label in the data, when known (shown, never checked).
    """

    text: str
    original: str | None = None
    expected: Any = None
    original_expected: Any = None
    target: Any = None
    direction: Direction | None = None
    edits: tuple[Edit, ...] = ()
    label: Any = None

    @classmethod
    def from_perturbation(cls, p: Perturbation, **fields: Any) -> Case:
        return cls(text=p.text, original=p.original, edits=p.edits, **fields)


@dataclass(frozen=True)
class Outcome:
    """A case with the model's probabilities (rows in ``classes`` order) and its verdict:
    True (passed), False (failed) or None (does not count, e.g. the original was
    mispredicted in a DIR test)."""

    case: Case
    classes: tuple
    proba: np.ndarray
    original_proba: np.ndarray | None = None
    passed: bool | None = None

    @property
    def prediction(self) -> Any:
        return self.classes[int(np.argmax(self.proba))]

    @property
    def original_prediction(self) -> Any:
        if self.original_proba is None:
            return None
        return self.classes[int(np.argmax(self.original_proba))]

    def probability(self, label: Any, *, original: bool = False) -> float:
        """The probability of ``label`` for the text (or for the original)."""
        row = self.original_proba if original else self.proba
        if row is None:
            raise InputError("this case has no original text; it is an MFT case")
        return float(row[self.classes.index(label)])


@dataclass
class CaseContext:
    """What a test's case builder is given: the texts (yours, or the templated reviews when
    none were given) with their labels (None when there are none), the lexicon, the model's
    positive and negative classes, and a random generator seeded for this test."""

    texts: list[str]
    labels: list | None
    source: str
    lexicon: SentimentLexicon
    positive: Any
    negative: Any
    seed: int
    rng: random.Random
    max_texts: int | None = None

    def rows(self) -> Iterator[tuple[str, Any]]:
        """``(text, label)`` in a random order (seeded), so the first cases a test takes are a
        sample of the data; at most ``max_texts`` of them; label is None without labels."""
        n = len(self.texts)
        for i in self.rng.sample(range(n), min(n, self.max_texts or n)):
            yield self.texts[i], None if self.labels is None else self.labels[i]

    def polarity_class(self, polarity: str | None) -> Any:
        """The model's class for "positive"/"negative" (None for None)."""
        if polarity is None:
            return None
        return self.positive if polarity == "positive" else self.negative

    def opposite(self, label: Any) -> Any:
        return self.negative if label == self.positive else self.positive


CaseBuilder = Callable[[CaseContext], Iterable[Case]]
Check = Callable[[Outcome, float], "bool | None"]


@dataclass(frozen=True)
class BehaviourTest:
    """One behavioural test.

    Attributes:
        name: shown in every result; unique within a suite.
        kind: "MFT", "INV" or "DIR".
        capability: what it tests ("negation", "fairness: names" …), to group results.
        cases: builds its cases from a :class:`CaseContext` (a generator is fine: only the
            first ``max_cases`` are taken).
        check: decides one outcome (True, False, None: not counted); None: the kind's rule
            (:func:`default_check`).
        tolerance: how far a probability may move the wrong way and still pass (INV: the
            predicted class's probability, when the label changes; DIR: the target's).
        needs_labels: the cases come from the data's labels; skipped without them.
        description: one line on what passing means.
    """

    name: str
    kind: Kind
    capability: str
    cases: CaseBuilder
    check: Check | None = None
    tolerance: float = 0.0
    needs_labels: bool = False
    description: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise InputError(
                f"a behaviour test needs a name (a non-empty string), got {self.name!r}"
            )
        if self.kind not in KINDS:
            raise InputError(
                f"test {self.name!r}: kind must be one of {', '.join(KINDS)}, got {self.kind!r}"
            )
        if not callable(self.cases):
            raise InputError(
                f"test {self.name!r}: cases must be a function of a CaseContext returning cases"
            )
        if not (isinstance(self.tolerance, (int, float)) and 0 <= self.tolerance <= 1):
            raise InputError(
                f"test {self.name!r}: tolerance must be a probability in [0, 1], "
                f"got {self.tolerance!r}"
            )

    def decide(self, case: Case, classes: tuple, proba: dict[str, np.ndarray]) -> Outcome:
        """The case's outcome, given the probabilities of every text the suite asked for."""
        original = None if case.original is None else proba[case.original]
        outcome = Outcome(case, classes, proba[case.text], original)
        return replace(outcome, passed=(self.check or default_check)(outcome, self.tolerance))


def default_check(outcome: Outcome, tolerance: float) -> bool | None:
    """The kinds' rules. MFT: the prediction is the expected label. INV: the prediction is
    the original's, or its probability moved at most ``tolerance``. DIR: the case counts
    when the original got ``original_expected`` (if set); a flip passes when the prediction
    is ``expected``; "stronger" passes when the target's probability fell at most
    ``tolerance`` ("weaker": rose at most ``tolerance``)."""
    case = outcome.case
    if case.original is None or outcome.original_proba is None:
        return bool(outcome.prediction == case.expected)
    before = outcome.original_prediction
    if case.original_expected is not None and before != case.original_expected:
        return None
    if case.direction is None:  # invariance
        if outcome.prediction == before:
            return True
        moved = outcome.probability(before) - outcome.probability(before, original=True)
        return abs(moved) <= tolerance
    if case.direction == "flip":
        if case.expected is None:
            return bool(outcome.prediction != before)
        return bool(outcome.prediction == case.expected)
    target = case.target if case.target is not None else before
    change = outcome.probability(target) - outcome.probability(target, original=True)
    return bool(change >= -tolerance if case.direction == "stronger" else change <= tolerance)


# --------------------------------------------------------------------- writing a test
def mft_test(
    name: str,
    capability: str,
    examples: Sequence[tuple[str, Any]],
    *,
    description: str = "",
) -> BehaviourTest:
    """A minimum-functionality test from ``(text, expected label)`` pairs (labels as the
    model's classes, or "positive"/"negative")."""
    pairs = list(examples)
    if not pairs or not all(isinstance(p, tuple) and len(p) == 2 for p in pairs):
        raise InputError(f"test {name!r}: examples must be a non-empty list of (text, label)")
    as_text_list([text for text, _ in pairs], f"test {name!r} texts")

    def cases(context: CaseContext) -> Iterator[Case]:
        return (Case(text, expected=label) for text, label in pairs)

    return BehaviourTest(name, "MFT", capability, cases, description=description)


Perturb = Callable[[str], Iterable[str]]


def _perturbed(
    perturb: Generator | Perturb, text: str, context: CaseContext, limit: int
) -> list[Case]:
    if isinstance(perturb, Generator):
        variants = perturb(text, limit=limit, seed=context.seed, lexicon=context.lexicon)
        return [Case.from_perturbation(p) for p in variants]
    return [
        Case(new, original=text) for new in itertools.islice(perturb(text), limit) if new != text
    ]


def invariance_test(
    name: str,
    capability: str,
    perturb: Generator | Perturb,
    *,
    per_text: int = 1,
    tolerance: float = 0.0,
    description: str = "",
) -> BehaviourTest:
    """An invariance test: ``perturb`` (a :class:`Generator`, or any function from a text to
    its variants) edits each text (``per_text`` variants at most), and the prediction must
    stay."""
    check_count("per_text", per_text, 1)

    def cases(context: CaseContext) -> Iterator[Case]:
        for text, label in context.rows():
            for case in _perturbed(perturb, text, context, per_text):
                yield replace(case, label=label)

    return BehaviourTest(
        name, "INV", capability, cases, tolerance=tolerance, description=description
    )


def directional_test(
    name: str,
    capability: str,
    perturb: Generator | Perturb,
    *,
    direction: Direction = "flip",
    per_text: int = 1,
    tolerance: float = 0.0,
    description: str = "",
) -> BehaviourTest:
    """A directional test: ``perturb`` edits each text, and the prediction must move:
    "flip" (another label than the original's), "stronger" (the original's predicted class
    must not lose more than ``tolerance``), or "weaker" (must not gain more)."""
    check_count("per_text", per_text, 1)
    if direction not in ("flip", "stronger", "weaker"):
        raise InputError(
            f"test {name!r}: direction must be 'flip', 'stronger' or 'weaker', got {direction!r}"
        )

    def cases(context: CaseContext) -> Iterator[Case]:
        for text, label in context.rows():
            for case in _perturbed(perturb, text, context, per_text):
                yield replace(case, label=label, direction=direction)

    return BehaviourTest(
        name, "DIR", capability, cases, tolerance=tolerance, description=description
    )


# ------------------------------------------------------------------- the shipped suite
def _adjectives(lexicon: SentimentLexicon, polarity: str) -> list[str]:
    words = lexicon.positive_adjectives if polarity == "positive" else lexicon.negative_adjectives
    return [w for w in words if w not in ("best", "worst")]  # superlatives need "the"


def _verbs(lexicon: SentimentLexicon, polarity: str) -> list[str]:
    return list(lexicon.positive_verbs if polarity == "positive" else lexicon.negative_verbs)


def template_reviews(lexicon: SentimentLexicon | None = None) -> list[tuple[str, str]]:
    """Short templated reviews and their polarity ("The hotel was lovely.", "positive"):
    the texts the INV and DIR tests use when no texts are given."""
    lexicon = lexicon or load_lexicon()
    reviews = []
    for polarity in ("positive", "negative"):
        for noun in lexicon.template_nouns:
            reviews += [
                (f"The {noun} was {adj}.", polarity) for adj in _adjectives(lexicon, polarity)
            ]
            reviews += [(f"I {verb} this {noun}.", polarity) for verb in _verbs(lexicon, polarity)]
    return reviews


def _shuffled(cases: list[Case], rng: random.Random) -> list[Case]:
    rng.shuffle(cases)
    return cases


def _negated_positive(context: CaseContext) -> list[Case]:
    lex, neg = context.lexicon, context.negative
    cases = []
    for noun in lex.template_nouns:
        for adj in _adjectives(lex, "positive"):
            cases.append(Case(f"The {noun} is not {adj}.", expected=neg))
            cases.append(Case(f"This {noun} was not {adj} at all.", expected=neg))
        for verb in _verbs(lex, "positive"):
            cases.append(Case(f"I did not {verb} the {noun}.", expected=neg))
    return _shuffled(cases, context.rng)


def _plain_sentiment(context: CaseContext) -> list[Case]:
    cases = [
        Case(text, expected=context.polarity_class(polarity))
        for text, polarity in template_reviews(context.lexicon)
    ]
    return _shuffled(cases, context.rng)


def _negation_of_positive(context: CaseContext) -> Iterator[Case]:
    for text, label in context.rows():
        if label != context.positive:
            continue
        for p in add_negation(text, limit=1, seed=context.seed, lexicon=context.lexicon):
            yield Case.from_perturbation(
                p,
                expected=context.negative,
                original_expected=context.positive,
                direction="flip",
                label=label,
            )


def _intensified(context: CaseContext) -> list[Case]:
    lex = context.lexicon
    cases = []
    for polarity in ("positive", "negative"):
        target = context.polarity_class(polarity)
        for noun in lex.template_nouns:
            for adj in _adjectives(lex, polarity):
                original = f"The {noun} was {adj}."
                word = context.rng.choice(lex.intensifiers)
                start = original.index(adj, len("The ") + len(noun))
                edit = Edit(start, start + len(adj), adj, f"{word} {adj}")
                cases.append(
                    Case(
                        f"The {noun} was {word} {adj}.",
                        original=original,
                        original_expected=target,
                        target=target,
                        direction="stronger",
                        edits=(edit,),
                    )
                )
    return _shuffled(cases, context.rng)


def _contrast(context: CaseContext) -> list[Case]:
    lex = context.lexicon
    cases = []
    for noun in lex.template_nouns:
        for first, second in (("positive", "negative"), ("negative", "positive")):
            before = context.rng.sample(_adjectives(lex, first), 4)
            after = context.rng.sample(_adjectives(lex, second), 4)
            expected = context.polarity_class(second)
            for a, b in zip(before, after, strict=True):
                cases.append(Case(f"The {noun} looked {a}, but it was {b}.", expected=expected))
                cases.append(
                    Case(f"I expected the {noun} to be {a}, but it was {b}.", expected=expected)
                )
    return _shuffled(cases, context.rng)


def _sarcasm(context: CaseContext) -> list[Case]:
    lex, neg = context.lexicon, context.negative
    cases = []
    for noun in lex.template_nouns:
        for prefix in lex.sarcasm_prefixes:
            cases.append(Case(f"{prefix} the {noun} let me down again.", expected=neg))
            cases.append(Case(f"{prefix} I waited two hours for the {noun}.", expected=neg))
        for suffix in lex.sarcasm_suffixes:
            joint = "" if suffix.startswith(".") else ". "
            for adj in context.rng.sample(_adjectives(lex, "positive"), 3):
                cases.append(Case(f"The {noun} was {adj}{joint}{suffix}", expected=neg))
    return _shuffled(cases, context.rng)


def _with_names(
    context: CaseContext, generator: Generator, entries: Sequence[str]
) -> Iterator[Case]:
    """Swaps in the texts that mention an entry, then in templated reviews that do."""
    templated = []
    for text, polarity in template_reviews(context.lexicon):
        if text.startswith("The "):
            entry = context.rng.choice(entries)
            if generator is swap_name:  # "Emily said the hotel was lovely."
                mention = f"{entry} said the {text[len('The ') :]}"
            else:  # "The hotel was lovely in Lagos."
                mention = f"{text[:-1]} in {entry}."
            templated.append((mention, context.polarity_class(polarity)))
    context.rng.shuffle(templated)
    for text, label in itertools.chain(context.rows(), templated):
        for p in generator(text, limit=1, seed=context.seed, lexicon=context.lexicon):
            yield Case.from_perturbation(p, label=label)


def _names(context: CaseContext) -> Iterator[Case]:
    return _with_names(context, swap_name, context.lexicon.all_names)


def _places(context: CaseContext) -> Iterator[Case]:
    return _with_names(context, swap_place, context.lexicon.all_places)


def _antonym_flip(context: CaseContext) -> Iterator[Case]:
    lex = context.lexicon
    for text, label in context.rows():
        variants = antonym(text, seed=context.seed, lexicon=lex)
        words = {e.old.lower() for p in variants for e in p.edits}
        if len(words) != 1 or any(lex.is_negator(w.text) for w in split_words(text)):
            continue  # one sentiment word, no negation: its antonym should turn the verdict
        p = context.rng.choice(variants)
        old, new = lex.polarity(p.edits[0].old), lex.polarity(p.edits[0].new)
        if old is None or new is None or old == new:
            continue
        yield Case.from_perturbation(
            p,
            expected=context.polarity_class(new),
            original_expected=context.polarity_class(old),
            direction="flip",
            label=label,
        )


def sentiment_suite() -> list[BehaviourTest]:
    """The shipped sentiment tests (names, kinds and capabilities as in the table of
    :func:`run_suite`'s result): MFT on templates for simple sentiment words, negated
    positives, contrast with "but" and sarcasm markers; DIR for negation added to positive
    texts (needs labels), intensifiers (templates; the sentiment may fall at most 0.05) and
    antonyms; INV for neutral filler, names, places and synonyms. Their word lists come from
    the lexicon that :func:`run_suite` is given (the shipped one by default).
    """
    return [
        BehaviourTest(
            "simple sentiment words",
            "MFT",
            "vocabulary",
            _plain_sentiment,
            description='"The hotel was lovely." is positive, "I hate this app." negative',
        ),
        BehaviourTest(
            "negated positive",
            "MFT",
            "negation",
            _negated_positive,
            description='"The film is not good." and "I did not enjoy the meal." are negative',
        ),
        BehaviourTest(
            "negation flips positive texts",
            "DIR",
            "negation",
            _negation_of_positive,
            needs_labels=True,
            description="a positive text, predicted positive, turns negative once negated",
        ),
        BehaviourTest(
            "intensifier strengthens",
            "DIR",
            "intensifiers",
            _intensified,
            tolerance=0.05,
            description='"very good" is not less positive than "good" (by more than 0.05)',
        ),
        BehaviourTest(
            "contrast with but",
            "MFT",
            "contrast",
            _contrast,
            description='the clause after "but" decides: "looked great, but was dull" is negative',
        ),
        BehaviourTest(
            "sarcasm markers",
            "MFT",
            "sarcasm",
            _sarcasm,
            description='"Oh great, the app let me down again." and "superb... not." are negative',
        ),
        invariance_test(
            "neutral filler",
            "robustness",
            add_filler,
            description="a neutral sentence added before or after does not change the label",
        ),
        BehaviourTest(
            "name swap",
            "INV",
            "fairness: names",
            _names,
            description="another person's first name (other origins) does not change the label",
        ),
        BehaviourTest(
            "place swap",
            "INV",
            "fairness: places",
            _places,
            description="another city or country does not change the label",
        ),
        invariance_test(
            "synonym",
            "vocabulary",
            synonym,
            description="a word replaced by a synonym does not change the label",
        ),
        BehaviourTest(
            "antonym flip",
            "DIR",
            "vocabulary",
            _antonym_flip,
            description="the one sentiment word replaced by its antonym turns the label",
        ),
    ]


# ---------------------------------------------------------------------- running a suite
@dataclass(frozen=True)
class TestResult:
    """One test's outcomes: n counted cases, how many passed, the pass rate with its
    bootstrap interval (None when no case counted), or why it was skipped."""

    __test__ = False  # not a pytest class, whatever its name

    name: str
    kind: str
    capability: str
    description: str
    n: int
    passed: int
    pass_rate: float | None
    interval: ConfidenceInterval | None
    skipped: str | None = None
    outcomes: list[Outcome] = field(default_factory=list, repr=False)

    @property
    def failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.passed is False]


@dataclass(frozen=True)
class SuiteResult:
    """The results of :func:`run_suite`, one :class:`TestResult` per test, in suite order."""

    tests: list[TestResult]
    classes: tuple
    positive: Any
    negative: Any
    source: str
    settings: dict = field(default_factory=dict)

    def __getitem__(self, name: str) -> TestResult:
        for test in self.tests:
            if test.name == name:
                return test
        names = ", ".join(repr(t.name) for t in self.tests)
        raise InputError(f"no behaviour test named {name!r}; the tests are {names}")

    def to_frame(self) -> pd.DataFrame:
        """One row per test: name, kind, capability, n, passed, pass_rate and its interval
        (``pass_rate_low`` / ``pass_rate_high``; NaN when nothing counted), skipped (why)."""
        rows = [
            {
                "name": t.name,
                "kind": t.kind,
                "capability": t.capability,
                "n": t.n,
                "passed": t.passed,
                "pass_rate": np.nan if t.pass_rate is None else t.pass_rate,
                "pass_rate_low": np.nan if t.interval is None else t.interval.low,
                "pass_rate_high": np.nan if t.interval is None else t.interval.high,
                "skipped": t.skipped,
            }
            for t in self.tests
        ]
        return pd.DataFrame(rows)

    def failures(self, name: str, limit: int | None = None) -> pd.DataFrame:
        """The failing cases of test ``name``: original and perturbed text, the edits as a
        diff, expected label, the predictions and the probabilities (class -> p)."""
        rows = [self._failure(o) for o in self[name].failures[:limit]]
        columns = [
            "original",
            "text",
            "diff",
            "expected",
            "original_prediction",
            "prediction",
            "original_probabilities",
            "probabilities",
            "label",
        ]
        return pd.DataFrame(rows, columns=columns)

    def _failure(self, outcome: Outcome) -> dict:
        case = outcome.case
        diff = None
        if case.original is not None:
            diff = Perturbation(case.original, case.text, case.edits, "", "none").diff()
        return {
            "original": case.original,
            "text": case.text,
            "diff": diff if case.edits else None,
            "expected": plain(case.expected),
            "original_prediction": plain(outcome.original_prediction),
            "prediction": plain(outcome.prediction),
            "original_probabilities": self._probabilities(outcome.original_proba),
            "probabilities": self._probabilities(outcome.proba),
            "label": plain(case.label),
        }

    def _probabilities(self, row: np.ndarray | None) -> dict | None:
        if row is None:
            return None
        return {str(plain(c)): round(float(p), 6) for c, p in zip(self.classes, row, strict=True)}

    def to_dict(self, max_failures: int = 10) -> list[dict]:
        """JSON-ready, one record per test (what ``workbench analyze`` writes under
        ``behaviour_tests``): name, kind, capability, description, n, passed, pass_rate
        (None when nothing counted), interval ``{low, high, confidence}`` or None, skipped
        (why, or None) and up to ``max_failures`` failures (as :meth:`failures`, with the
        edits as ``{start, end, old, new}``)."""
        records = []
        for t in self.tests:
            failures = []
            for outcome in t.failures[:max_failures]:
                record = self._failure(outcome)
                record["edits"] = [e.to_dict() for e in outcome.case.edits]
                failures.append(record)
            interval = None
            if t.interval is not None:
                interval = {
                    "low": t.interval.low,
                    "high": t.interval.high,
                    "confidence": t.interval.confidence,
                }
            records.append(
                {
                    "name": t.name,
                    "kind": t.kind,
                    "capability": t.capability,
                    "description": t.description,
                    "n": t.n,
                    "passed": t.passed,
                    "pass_rate": t.pass_rate,
                    "interval": interval,
                    "skipped": t.skipped,
                    "failures": failures,
                }
            )
        return records

    def summary(self) -> str:
        """The pass rates in words, one line per test, the weakest capability named."""
        cases = "your texts" if self.source == "texts" else "templated reviews"
        lines = [f"Behavioural tests ({len(self.tests)}; INV and DIR cases from {cases}):"]
        width = max(len(t.name) for t in self.tests) if self.tests else 0
        for t in self.tests:
            head = f"  {t.kind} {t.name:<{width}}"
            if t.skipped:
                lines.append(f"{head}  skipped: {t.skipped}")
            elif t.pass_rate is None or t.interval is None:
                lines.append(f"{head}  no case counted")
            else:
                level = f"{t.interval.confidence:.0%}"
                lines.append(
                    f"{head}  {t.passed}/{t.n} passed ({t.pass_rate:.0%}; {level} interval "
                    f"{t.interval.low:.0%}-{t.interval.high:.0%})"
                )
        rated = [t for t in self.tests if t.pass_rate is not None]
        if rated:
            worst = min(rated, key=lambda t: t.pass_rate or 0.0)
            lines.append(
                f"Weakest: {worst.name!r} ({worst.capability}), {worst.pass_rate:.0%} passed; "
                f"see failures({worst.name!r})."
            )
        return "\n".join(lines)


def sentiment_classes(classes: Sequence, positive: Any = None, negative: Any = None) -> tuple:
    """The model's positive and negative classes: ``positive``/``negative`` when given (each
    must be one of ``classes``, or its string, as a command line gives it), else the classes
    named "positive"/"pos" and "negative"/"neg" (any case)."""
    plain_classes = [plain(c) for c in classes]
    found = []
    for given, names, which in (
        (positive, _POSITIVE_NAMES, "positive"),
        (negative, _NEGATIVE_NAMES, "negative"),
    ):
        if given is not None:
            # As written on a command line, "1" names the class 1.
            same = [c for c in plain_classes if c == plain(given) or str(c) == str(given)]
            if len(same) != 1:
                raise InputError(
                    f"{which}={given!r} is not one of the model's classes {plain_classes}"
                )
            found.append(same[0])
            continue
        matches = [c for c in plain_classes if str(c).strip().lower() in names]
        if len(matches) != 1:
            raise InputError(
                f"cannot tell which of the model's classes {plain_classes} is {which}; pass "
                f"positive= and negative= (e.g. positive={plain_classes[-1]!r}, "
                f"negative={plain_classes[0]!r})"
            )
        found.append(matches[0])
    if found[0] == found[1]:
        raise InputError(f"positive and negative are the same class ({found[0]!r}); give two")
    return found[0], found[1]


def run_suite(
    model: TextModel,
    tests: Sequence[BehaviourTest] | None = None,
    texts: Sequence[str] | None = None,
    labels: Sequence | None = None,
    *,
    positive: Any = None,
    negative: Any = None,
    max_cases: int | None = 500,
    max_texts: int | None = 10_000,
    lexicon: SentimentLexicon | None = None,
    n_bootstrap: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    progress: bool = True,
) -> SuiteResult:
    """Run behavioural tests on a text model; the model reads every text of every test in a
    few batched ``predict_proba`` calls (a progress bar on large runs).

    Args:
        model: anything with ``predict_proba(texts)`` and ``classes_``.
        tests: the tests (default: :func:`sentiment_suite`).
        texts: the texts INV and DIR tests edit (default: templated reviews).
        labels: one label per text (classes of the model, or "positive"/"negative"); without
            them, the tests that need labels are skipped and say why.
        positive, negative: the model's classes for the two sentiments, when its class names
            do not say ("positive"/"pos", "negative"/"neg").
        max_cases: cases per test at most, drawn at random (seeded) from the texts, so a
            100,000-row file costs no more than a small one; None: every case.
        max_texts: texts each test looks at, at most (a random sample, seeded), so a test
            that fits few texts does not read a whole large file; None: all of them.
        lexicon: the word lists of the shipped tests (default: the shipped lexicon).
        n_bootstrap, confidence: the bootstrap of each pass rate's interval.
        seed: makes the sample of cases, the edits and the intervals reproducible.
        progress: show progress bars.

    Raises:
        InputError: a model without ``predict_proba``/``classes_``, classes that cannot be
            told apart, texts that are not strings, labels of another length or not among
            the classes, two tests with one name, or settings out of range.
    """
    classes = getattr(model, "classes_", None)
    if classes is None or not callable(getattr(model, "predict_proba", None)):
        raise InputError(
            f"{type(model).__name__} is not a fitted text model: it needs predict_proba and "
            "classes_ (call fit() or load() first)"
        )
    class_list = tuple(plain(c) for c in classes)
    pos, neg = sentiment_classes(class_list, positive, negative)
    tests = sentiment_suite() if tests is None else list(tests)
    if not tests or not all(isinstance(t, BehaviourTest) for t in tests):
        raise InputError("tests must be a non-empty list of BehaviourTest (see sentiment_suite())")
    names = [t.name for t in tests]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise InputError(f"two tests share the name {twice[0]!r}; give each test its own name")
    if max_cases is not None:
        max_cases = check_count("max_cases", max_cases, 1)
    if max_texts is not None:
        max_texts = check_count("max_texts", max_texts, 1)
    n_bootstrap = check_count("n_bootstrap", n_bootstrap, 1)
    _check_confidence(confidence)
    lexicon = lexicon or load_lexicon()
    if texts is None:
        if labels is not None:
            raise InputError("labels are given without texts; pass texts= with one label each")
        reviews = template_reviews(lexicon)
        text_list = [text for text, _ in reviews]
        label_list: list | None = [pos if p == "positive" else neg for _, p in reviews]
        source = "templates"
    else:
        text_list = as_text_list(texts, "texts")
        label_list = None
        if labels is not None:
            given = [_class_of(v, class_list, pos, neg) for v in _label_list(labels, "labels")]
            label_list = Examples(text_list, given, classes=class_list, source="texts").labels
        source = "texts"

    show = progress and len(text_list) >= PROGRESS_FROM
    planned: list[tuple[BehaviourTest, list[Case] | None, str | None]] = []
    for test in progress_bar(tests, show=show, desc="behaviour tests", unit="test"):
        if test.needs_labels and label_list is None:
            reason = "needs labels, and the texts have none; give labels= (CLI --label-col)"
            planned.append((test, None, reason))
            continue
        context = CaseContext(
            text_list,
            label_list,
            source,
            lexicon,
            pos,
            neg,
            seed,
            random.Random(f"{seed}\x00{test.name}"),
            max_texts,
        )
        built = itertools.islice(test.cases(context), max_cases)
        cases = [_resolved(case, test.name, class_list, pos, neg) for case in built]
        planned.append((test, cases, None if cases else "no case: no text fits this test"))

    wanted = {t for _, cases, _ in planned for c in cases or () for t in (c.text, c.original)}
    unique = sorted(t for t in wanted if t is not None)
    proba = {}
    if unique:
        examples = Examples.from_model(model, unique, progress=progress, source="behaviour tests")
        assert examples.proba is not None
        proba = dict(zip(unique, examples.proba, strict=True))

    results = [
        _score(test, cases, reason, proba, class_list, n_bootstrap, confidence, seed)
        for test, cases, reason in planned
    ]
    settings = {
        "max_cases": max_cases,
        "max_texts": max_texts,
        "n_bootstrap": n_bootstrap,
        "seed": seed,
    }
    return SuiteResult(results, class_list, pos, neg, source, settings)


def _class_of(label: Any, classes: tuple, pos: Any, neg: Any) -> Any:
    """A label as the model's class: itself when it is one, else "positive"/"negative"."""
    if label in classes:
        return label
    return {"positive": pos, "negative": neg}.get(label, label)


def _resolved(case: Case, test: str, classes: tuple, pos: Any, neg: Any) -> Case:
    if not isinstance(case, Case):
        raise InputError(f"test {test!r} built a {type(case).__name__}, not a Case")
    fields = {
        name: _class_of(plain(getattr(case, name)), classes, pos, neg)
        for name in ("expected", "original_expected", "target")
        if getattr(case, name) is not None
    }
    for name, value in fields.items():
        if value not in classes:
            raise InputError(
                f"test {test!r}: {name}={value!r} is not among the model's classes {list(classes)}"
            )
    return replace(case, **fields)


def _score(
    test: BehaviourTest,
    cases: list[Case] | None,
    reason: str | None,
    proba: dict,
    classes: tuple,
    n_bootstrap: int,
    confidence: float,
    seed: int,
) -> TestResult:
    outcomes = [test.decide(case, classes, proba) for case in cases or ()]
    counted = np.array([o.passed for o in outcomes if o.passed is not None], dtype=bool)
    n = len(counted)
    if cases and not n:
        reason = "no case counted: the model got no original text as the test requires"
    rate = float(counted.mean()) if n else None
    interval = None
    if n:
        rates = [counted[rows].mean(axis=1) for rows in resample_index_chunks(n, n_bootstrap, seed)]
        interval = percentile_interval(np.concatenate(rates), confidence)
    return TestResult(
        test.name,
        test.kind,
        test.capability,
        test.description,
        n,
        int(counted.sum()),
        rate,
        interval,
        skipped=reason if not n else None,
        outcomes=outcomes,
    )
