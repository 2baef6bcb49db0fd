"""Parallel text for sequence-to-sequence models: a synthetic corpus whose word alignments
are known by construction, and a reader for real parallel files.

The synthetic language pair (documented in ``docs/data/synthetic_translation.md``) is an
English-like SVO source translated into an invented SOV target: adjectives follow their
noun, case particles mark subject and object, prepositions become postpositions, tense and
negation are words after the verb. Every pair is built together with its gold alignment,
so explanations of a translation model can be *scored* (``workbench.explain.alignment``)
rather than only looked at.

Alignments are ``(source word index, target word index)`` links over the word units of
``workbench.tokenizer.split_words``. The synthetic sentences are lower-case ASCII words
separated by single spaces, so their word units are exactly their whitespace tokens.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import ClassVar

from workbench.data.tables import check_file, decoding
from workbench.data.texts import check_count
from workbench.errors import InputError

Link = tuple[int, int]


@dataclass(frozen=True)
class ParallelPair:
    """One sentence and its translation.

    ``alignment`` holds ``(i, j)`` links: source word ``i`` is translated by target word
    ``j`` (both counted from 0 over the word units of each side). Empty for real files read
    without an alignment file.
    """

    source: str
    target: str
    alignment: tuple[Link, ...] = ()


@dataclass
class SyntheticCorpus:
    """The synthetic pairs, split: ``train``, ``valid`` and ``test`` share one distribution
    (no source sentence twice across them); every ``long`` pair is longer, on both sides,
    than every training pair (length generalisation)."""

    train: list[ParallelPair]
    valid: list[ParallelPair]
    test: list[ParallelPair]
    long: list[ParallelPair]
    seed: int = 0
    SPLITS: ClassVar[tuple[str, ...]] = ("train", "valid", "test", "long")

    def describe(self) -> str:
        """Sizes, sentence lengths (in words) and vocabulary sizes, one line per split."""
        lines = [f"synthetic SVO -> SOV corpus (seed {self.seed})"]
        for name in self.SPLITS:
            pairs: list[ParallelPair] = getattr(self, name)
            if not pairs:
                lines.append(f"  {name:<5}      0 pairs")
                continue
            src = [len(p.source.split()) for p in pairs]
            tgt = [len(p.target.split()) for p in pairs]
            lines.append(
                f"  {name:<5} {len(pairs):>6} pairs  source {min(src)}-{max(src)} words "
                f"(mean {sum(src) / len(src):.1f})  target {min(tgt)}-{max(tgt)} words "
                f"(mean {sum(tgt) / len(tgt):.1f})"
            )
        everything = [p for name in self.SPLITS for p in getattr(self, name)]
        source_types = {w for p in everything for w in p.source.split()}
        target_types = {w for p in everything for w in p.target.split()}
        lines.append(
            f"  vocabulary: {len(source_types)} source word types, "
            f"{len(target_types)} target word types (lexicon: {len(SOURCE_VOCABULARY)} "
            f"and {len(TARGET_VOCABULARY)})"
        )
        return "\n".join(lines)


# ----------------------------------------------------------------------------------------
# The lexicon. Source words are English; target words are invented (ASCII, lower case).

# singular, plural, target, animate (animate nouns can be subjects)
_NOUNS = [
    ("dog", "dogs", "wubo", True),
    ("cat", "cats", "mizi", True),
    ("bird", "birds", "tiko", True),
    ("horse", "horses", "halu", True),
    ("girl", "girls", "nena", True),
    ("boy", "boys", "poka", True),
    ("man", "men", "bado", True),
    ("woman", "women", "luma", True),
    ("child", "children", "kiri", True),
    ("teacher", "teachers", "sensa", True),
    ("farmer", "farmers", "fomu", True),
    ("king", "kings", "reku", True),
    ("apple", "apples", "apu", False),
    ("ball", "balls", "boru", False),
    ("book", "books", "hono", False),
    ("house", "houses", "ieda", False),
    ("tree", "trees", "kisu", False),
    ("river", "rivers", "kawo", False),
    ("garden", "gardens", "niwa", False),
    ("car", "cars", "kuru", False),
]
_ADJECTIVES = {
    "big": "tala",
    "small": "piko",
    "red": "aka",
    "old": "furu",
    "young": "wako",
    "happy": "hapi",
    "green": "midu",
    "tall": "noko",
    "lazy": "nema",
    "brave": "yuki",
}
# bare, third person singular, past, target; a phrasal verb adds its particle word
_TRANSITIVE = [
    ("see", "sees", "saw", "miru"),
    ("like", "likes", "liked", "suki"),
    ("chase", "chases", "chased", "oka"),
    ("follow", "follows", "followed", "tsugu"),
    ("help", "helps", "helped", "tasu"),
    ("find", "finds", "found", "mitsa"),
    ("carry", "carries", "carried", "hako"),
    ("hold", "holds", "held", "moto"),
    ("call", "calls", "called", "yobu"),
    ("wash", "washes", "washed", "arau"),
]
_PHRASAL = [
    ("look", "looks", "looked", "at", "nusa"),
    ("pick", "picks", "picked", "up", "lefa"),
]
_INTRANSITIVE = [
    ("sleep", "sleeps", "slept", "nemu"),
    ("run", "runs", "ran", "hasi"),
    ("sing", "sings", "sang", "utau"),
    ("laugh", "laughs", "laughed", "warau"),
]
_PREPOSITIONS = {"in": "ni", "near": "sopa", "with": "to", "under": "ula"}
_ADVERBS = {
    "quickly": "haya",
    "slowly": "yuru",
    "often": "yoku",
    "today": "kyo",
    "again": "mata",
    "quietly": "shizu",
}
_CONJUNCTIONS = {"and": "pe", "but": "demo"}
# Grammatical words of the target, each aligned to the source word that carries its meaning.
SUBJECT, OBJECT, PLURAL = "ka", "mo", "ri"  # aligned to the noun of their phrase
PAST, FUTURE, NEGATION = "ta", "ke", "na"  # to the past verb or "did"; "will"; "not"
INDEFINITE, DEMONSTRATIVE = "un", "zei"  # to "a" / "an"; to "this" / "these"

SOURCE_VOCABULARY = frozenset(
    [w for n in _NOUNS for w in n[:2]]
    + list(_ADJECTIVES)
    + ["the", "a", "an", "this", "these"]
    + [w for v in _TRANSITIVE + _INTRANSITIVE for w in v[:3]]
    + [w for v in _PHRASAL for w in v[:4]]
    + ["will", "not", "does", "do", "did"]
    + list(_PREPOSITIONS)
    + list(_ADVERBS)
    + list(_CONJUNCTIONS)
)
TARGET_VOCABULARY = frozenset(
    [n[2] for n in _NOUNS]
    + list(_ADJECTIVES.values())
    + [v[-1] for v in _TRANSITIVE + _INTRANSITIVE + _PHRASAL]
    + [SUBJECT, OBJECT, PLURAL, PAST, FUTURE, NEGATION, INDEFINITE, DEMONSTRATIVE]
    + list(_PREPOSITIONS.values())
    + list(_ADVERBS.values())
    + list(_CONJUNCTIONS.values())
)

# Source sentence lengths in words: train, valid and test have at most the first; the long
# split has more than any training pair and at most the second.
MAX_TRAIN_SOURCE_WORDS = 12
MAX_LONG_SOURCE_WORDS = 20


class _Sentence:
    """A pair under construction: source words, and target words with the source indices
    each one is aligned to."""

    def __init__(self) -> None:
        self.source: list[str] = []
        self.target: list[tuple[str, tuple[int, ...]]] = []

    def say(self, word: str) -> int:
        self.source.append(word)
        return len(self.source) - 1

    def write(self, word: str, *aligned_to: int) -> None:
        self.target.append((word, aligned_to))

    def pair(self) -> ParallelPair:
        links = sorted((i, j) for j, (_, sources) in enumerate(self.target) for i in sources)
        return ParallelPair(
            " ".join(self.source), " ".join(w for w, _ in self.target), tuple(links)
        )


@dataclass
class _Phrase:
    noun: tuple[str, str, str, bool]
    plural: bool
    determiner: str | None
    adjective: str | None

    def say(self, s: _Sentence) -> dict[str, int]:
        """Source order: determiner, adjective, noun."""
        at = {}
        if self.determiner == "a":  # "an" before a vowel; both are the target's "un"
            following = self.adjective or self.noun[0]
            at["det"] = s.say("an" if following[0] in "aeiou" else "a")
        elif self.determiner:
            at["det"] = s.say(self.determiner)
        if self.adjective:
            at["adj"] = s.say(self.adjective)
        at["noun"] = s.say(self.noun[1] if self.plural else self.noun[0])
        return at

    def write(self, s: _Sentence, at: dict[str, int], particle: str | None) -> None:
        """Target order: [un] noun [adjective] [ri] [zei] [particle]; "the" has no word."""
        if self.determiner == "a":
            s.write(INDEFINITE, at["det"])
        s.write(self.noun[2], at["noun"])
        if self.adjective:
            s.write(_ADJECTIVES[self.adjective], at["adj"])
        if self.plural:
            s.write(PLURAL, at["noun"])
        if self.determiner in ("this", "these"):
            s.write(DEMONSTRATIVE, at["det"])
        if particle:
            s.write(particle, at["noun"])


class _Grammar:
    """Random clauses from the lexicon; ``rich`` raises the chance of every optional part
    (for the long split)."""

    def __init__(self, rng: random.Random, rich: bool = False) -> None:
        self.rng = rng
        self.p_adjective = 0.6 if rich else 0.35
        self.p_pp = 0.6 if rich else 0.3
        self.p_adverb = 0.5 if rich else 0.3

    def phrase(self, animate: bool) -> _Phrase:
        rng = self.rng
        noun = rng.choice([n for n in _NOUNS if n[3]] if animate else _NOUNS)
        plural = rng.random() < 0.4
        options = [None, "the", "these"] if plural else ["the", "a", "this"]
        weights = [0.4, 0.4, 0.2] if plural else [0.5, 0.3, 0.2]
        determiner = rng.choices(options, weights)[0]
        adjective = rng.choice(sorted(_ADJECTIVES)) if rng.random() < self.p_adjective else None
        return _Phrase(noun, plural, determiner, adjective)

    def clause(self, s: _Sentence) -> None:
        rng = self.rng
        subject = self.phrase(animate=True)
        kind = rng.choices(["transitive", "phrasal", "intransitive"], [0.65, 0.15, 0.2])[0]
        verbs: dict[str, list[tuple[str, ...]]] = {
            "transitive": list(_TRANSITIVE),
            "phrasal": list(_PHRASAL),
            "intransitive": list(_INTRANSITIVE),
        }
        verb = rng.choice(verbs[kind])
        tense = rng.choice(["present", "past", "future"])
        negated = rng.random() < 0.25
        obj = self.phrase(animate=False) if kind != "intransitive" else None
        pp = (
            (rng.choice(sorted(_PREPOSITIONS)), self.phrase(animate=False))
            if rng.random() < self.p_pp
            else None
        )
        adverb = rng.choice(sorted(_ADVERBS)) if rng.random() < self.p_adverb else None

        # Source, SVO: subject, verb group, [object], [preposition + phrase], [adverb].
        at_subject = subject.say(s)
        verb_at = self._say_verb(s, verb, tense, negated, subject.plural)
        at_object = obj.say(s) if obj else {}
        at_pp = (s.say(pp[0]), pp[1].say(s)) if pp else None
        at_adverb = s.say(adverb) if adverb else None

        # Target, SOV: subject ka, [object mo], [phrase postposition], [adverb], verb group.
        subject.write(s, at_subject, SUBJECT)
        if obj:
            obj.write(s, at_object, OBJECT)
        if pp and at_pp:
            pp[1].write(s, at_pp[1], None)
            s.write(_PREPOSITIONS[pp[0]], at_pp[0])
        if adverb and at_adverb is not None:
            s.write(_ADVERBS[adverb], at_adverb)
        self._write_verb(s, verb, tense, verb_at)

    @staticmethod
    def _say_verb(
        s: _Sentence, verb: tuple, tense: str, negated: bool, plural_subject: bool
    ) -> dict[str, int]:
        """Source verb group; the word index of each part by role: "verb", and where present
        "aux" (will, does/do, did), "not", "particle" (of a phrasal verb), and "tense" (the
        word that carries past or future: the past form, "did" or "will")."""
        bare, third, past = verb[0], verb[1], verb[2]
        at: dict[str, int] = {}
        if negated:
            aux = {"present": "do" if plural_subject else "does", "past": "did"}.get(tense, "will")
            at["aux"] = s.say(aux)
            at["not"] = s.say("not")
            at["verb"] = s.say(bare)
        elif tense == "future":
            at["aux"] = s.say("will")
            at["verb"] = s.say(bare)
        else:
            at["verb"] = s.say(past if tense == "past" else bare if plural_subject else third)
        if tense != "present":
            at["tense"] = at.get("aux", at["verb"])
        if len(verb) == 5:  # phrasal: its particle ("at", "up") follows the verb
            at["particle"] = s.say(verb[3])
        return at

    @staticmethod
    def _write_verb(s: _Sentence, verb: tuple, tense: str, at: dict[str, int]) -> None:
        """Target verb group: stem [na] [ta | ke]. "does"/"do" of a negation has no word."""
        stem = (at["verb"], at["particle"]) if "particle" in at else (at["verb"],)
        s.write(verb[-1], *stem)
        if "not" in at:
            s.write(NEGATION, at["not"])
        if tense != "present":
            s.write(FUTURE if tense == "future" else PAST, at["tense"])

    def sentence(self, clauses: int) -> ParallelPair:
        s = _Sentence()
        for k in range(clauses):
            if k:
                conjunction = self.rng.choice(sorted(_CONJUNCTIONS))
                s.write(_CONJUNCTIONS[conjunction], s.say(conjunction))
            self.clause(s)
        return s.pair()


def make_synthetic_corpus(
    n_train: int = 20_000,
    n_valid: int = 1_000,
    n_test: int = 1_000,
    n_long: int = 500,
    seed: int = 0,
) -> SyntheticCorpus:
    """A parallel corpus whose gold word alignments are known by construction.

    ``train``, ``valid`` and ``test`` are drawn from one distribution (one clause, or two
    joined by "and"/"but"; at most ``MAX_TRAIN_SOURCE_WORDS`` source words) and hold no
    source sentence twice, so no test sentence was seen in training. ``long`` holds two
    clauses with more modifiers, each pair longer than every training pair on both sides
    (at most ``MAX_LONG_SOURCE_WORDS`` source words). The same arguments give the same
    corpus (Python's ``random``, seeded per split); the grammar and the alignment
    conventions are in ``docs/data/synthetic_translation.md``.
    """
    n_train = check_count("n_train", n_train, 1)
    n_valid = check_count("n_valid", n_valid, 0)
    n_test = check_count("n_test", n_test, 0)
    n_long = check_count("n_long", n_long, 0)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise InputError(f"seed must be a whole number, got {seed!r}")

    grammar = _Grammar(random.Random(f"{seed}:short"))
    wanted = n_train + n_valid + n_test
    short: dict[str, ParallelPair] = {}  # by source sentence: each sentence once
    for _ in range(wanted * 20):  # ample: ~10^9 distinct sentences, few repeats
        if len(short) == wanted:
            break
        pair = grammar.sentence(clauses=1 if grammar.rng.random() < 0.75 else 2)
        if len(pair.source.split()) <= MAX_TRAIN_SOURCE_WORDS:
            short.setdefault(pair.source, pair)
    pairs = list(short.values())
    train = pairs[:n_train]
    valid = pairs[n_train : n_train + n_valid]
    test = pairs[n_train + n_valid :]

    longest_source = max(len(p.source.split()) for p in train)
    longest_target = max(len(p.target.split()) for p in train)
    rich = _Grammar(random.Random(f"{seed}:long"), rich=True)
    long: dict[str, ParallelPair] = {}
    for _ in range(n_long * 50):
        if len(long) == n_long:
            break
        pair = rich.sentence(clauses=2)
        n_source, n_target = len(pair.source.split()), len(pair.target.split())
        if longest_source < n_source <= MAX_LONG_SOURCE_WORDS and n_target > longest_target:
            long.setdefault(pair.source, pair)
    return SyntheticCorpus(train, valid, test, list(long.values()), seed=seed)


# ----------------------------------------------------------------------------------------
# Real parallel files.

_PHARAOH_LINK = re.compile(r"(\d+)-(\d+)")


def read_parallel_files(
    source_path: str | PathLike[str],
    target_path: str | PathLike[str],
    *,
    alignment_path: str | PathLike[str] | None = None,
    max_pairs: int | None = None,
    encoding: str = "utf-8",
) -> list[ParallelPair]:
    """Pairs from two text files with one sentence per line, line ``k`` of one the
    translation of line ``k`` of the other (Multi30k's ``train.de`` / ``train.en``, WMT's
    plain text, the output of Moses' tools). Nothing is downloaded.

    ``alignment_path`` optionally names gold or aligner links for the same lines, in the
    Pharaoh format of fast_align and awesome-align: per line, space-separated ``i-j`` links
    from source word ``i`` to target word ``j``, counted from 0 over the line's
    *whitespace-separated* tokens. Those tokens are the workbench's word units when the text
    is tokenized (punctuation separated by spaces, as aligners expect); for raw text whose
    words carry punctuation ("dog.") give tokenized files, or no alignments.

    Lines end at ``\\n`` (a ``\\r`` before it is dropped), not at other Unicode line
    breaks, so line numbers agree with ``wc -l`` and the aligners. The files must have the
    same number of lines and no empty line; every error names the file and the line.
    ``max_pairs`` keeps the first pairs only (the files are still checked whole for equal
    line counts: a difference anywhere means the pairing is off).
    """
    limit = None if max_pairs is None else check_count("max_pairs", max_pairs, 1)
    source_path, target_path = Path(source_path), Path(target_path)
    sources = _read_lines(source_path, encoding)
    targets = _read_lines(target_path, encoding)
    _check_parallel(source_path, sources, target_path, targets)
    rows: list[str] | None = None
    if alignment_path is not None:
        alignment_path = Path(alignment_path)
        rows = _read_lines(alignment_path, encoding)
        _check_parallel(source_path, sources, alignment_path, rows)
    if limit is not None:
        sources, targets = sources[:limit], targets[:limit]
    for path, lines in ((source_path, sources), (target_path, targets)):
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                raise InputError(
                    f"{path}, line {number}: the line is empty; every line needs a "
                    f"sentence. Remove line {number} from both files to keep them parallel."
                )
    alignments: list[tuple[Link, ...]] = [()] * len(sources)
    if alignment_path is not None and rows is not None:
        alignments = [
            _parse_pharaoh(alignment_path, number, row, source, target)
            for number, (row, source, target) in enumerate(
                zip(rows, sources, targets, strict=False), start=1
            )
        ]
    return [
        ParallelPair(source.strip(), target.strip(), links)
        for source, target, links in zip(sources, targets, alignments, strict=True)
    ]


def _read_lines(path: Path, encoding: str) -> list[str]:
    check_file(path, "a text file")
    raw = path.read_bytes()
    with decoding(path, encoding):
        text = raw.decode(encoding)
    text = text.removeprefix("\ufeff")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the newline that ends the last line starts no new one
    return [line.removesuffix("\r") for line in lines]


def _check_parallel(first: Path, a: Sequence[str], second: Path, b: Sequence[str]) -> None:
    if len(a) == len(b):
        return
    shorter, longer = (second, first) if len(b) < len(a) else (first, second)
    n = min(len(a), len(b))
    raise InputError(
        f"{first} has {_lines(len(a))} but {second} has {_lines(len(b))}: {shorter} ends "
        f"after line "
        f"{n}, so line {n + 1} of {longer} has no partner. Parallel files need one sentence "
        f"per line in both, in the same order."
    )


def _lines(n: int) -> str:
    return f"{n} line" if n == 1 else f"{n} lines"


def _parse_pharaoh(path: Path, number: int, row: str, source: str, target: str) -> tuple[Link, ...]:
    n_source, n_target = len(source.split()), len(target.split())
    links = set()
    for token in row.split():
        match = _PHARAOH_LINK.fullmatch(token)
        if not match:
            raise InputError(
                f"{path}, line {number}: {token!r} is not a Pharaoh link; write links as "
                f"i-j (source word index, a hyphen, target word index, both from 0), "
                f"separated by spaces."
            )
        i, j = int(match[1]), int(match[2])
        if i >= n_source or j >= n_target:
            raise InputError(
                f"{path}, line {number}: link {token} points past the sentence: the source "
                f"line has {n_source} words (indices 0-{n_source - 1}) and the target line "
                f"{n_target} (0-{n_target - 1}). Check that the alignment file belongs to "
                f"these files and counts words from 0."
            )
        links.add((i, j))
    return tuple(sorted(links))
