"""Counterfactual texts: small, named edits of a text, on the project's word units.

Each generator takes a text and returns its perturbed variants (several, or none when it does
not apply: no negation to remove, no listed name to swap). Every :class:`Perturbation` keeps
the original, the new text and the edits as character spans of the original (``Edit(start,
end, old, new)``), so a diff can be shown, and says what it expects of a model's label:

- ``"same"``: an invariance (a synonym, another name or place, a neutral filler sentence);
- ``"flip"``: the sentiment should turn (negation added or removed, a word by its antonym);
- ``"stronger"``: the sentiment should not weaken (an intensifier before a sentiment word);
- ``"none"``: no claim (deleting a word: used to explore and to search for minimal flips).

The generators edit whole word units (:func:`workbench.tokenizer.split_words`) and leave the
rest of the text, its spacing and punctuation, as it was; replacements keep the case of the
word they replace. Their word lists come from the shipped lexicon
(:mod:`workbench.analysis.lexicon`). Output is deterministic: when ``limit`` keeps only some
variants, they are drawn by a generator seeded with ``seed`` and the text itself, so the same
text gets the same variants wherever it stands in a dataset::

    from workbench.analysis.perturbations import add_negation, swap_name

    add_negation("The film was good.")[0].text       # 'The film was not good.'
    swap_name("Emily loved it.", limit=2, seed=1)    # two names instead of Emily
    print(add_negation("The film was good.")[0].diff())  # The film [-was-]{+was not+} good.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from workbench.analysis.examples import PROGRESS_FROM, is_word
from workbench.analysis.lexicon import SentimentLexicon, load_lexicon, match_case
from workbench.data import as_text_list
from workbench.data.texts import check_count
from workbench.progress import progress_bar
from workbench.tokenizer import Word, split_words

Expectation = Literal["same", "flip", "stronger", "none"]

_POSSESSIVE = ("'s", "’s")

# "do" as a main verb ("it does the job") is negated with a second "do"; it is taken to be
# one when an object follows, which starts with one of these words.
_DO = ("do", "does", "did")
# fmt: off
_OBJECT_STARTS = frozenset((
    "the", "a", "an", "my", "your", "his", "her", "its", "our", "their", "this", "that",
    "these", "those", "it", "everything", "something", "anything", "nothing", "me", "us",
    "them", "him", "what", "all", "so",
))
# fmt: on

# A word that ends a sentence: what follows starts one (and takes a capital).
_SENTENCE_END = re.compile(r"[.!?]\s*$")


@dataclass(frozen=True)
class Edit:
    """One replacement: ``original[start:end]`` (``old``) becomes ``new``."""

    start: int
    end: int
    old: str
    new: str

    def to_dict(self) -> dict:
        return {"start": self.start, "end": self.end, "old": self.old, "new": self.new}


@dataclass(frozen=True)
class Perturbation:
    """A perturbed text: the original, the new text, the edits that lead from one to the
    other (spans of the original, in order), the generator's name and what it expects of
    the label (``"same"``, ``"flip"``, ``"stronger"`` or ``"none"``)."""

    original: str
    text: str
    edits: tuple[Edit, ...]
    generator: str
    expects: Expectation

    def diff(self) -> str:
        """The original with each edit written inline: ``[-old-]{+new+}`` (a deletion has
        no ``{+…+}``, an insertion no ``[-…-]``)."""
        parts, at = [], 0
        for edit in self.edits:
            parts.append(self.original[at : edit.start])
            parts.append(f"[-{edit.old}-]" if edit.old else "")
            parts.append(f"{{+{edit.new}+}}" if edit.new else "")
            at = edit.end
        parts.append(self.original[at:])
        return "".join(parts)

    def to_dict(self) -> dict:
        """JSON-ready: original, text, edits (each start, end, old, new), generator, expects."""
        return {
            "original": self.original,
            "text": self.text,
            "edits": [edit.to_dict() for edit in self.edits],
            "generator": self.generator,
            "expects": self.expects,
        }


def apply_edits(text: str, edits: Sequence[Edit]) -> str:
    """``text`` with ``edits`` (spans of ``text``, in order, not overlapping) applied."""
    parts, at = [], 0
    for edit in edits:
        if edit.start < at or edit.end < edit.start or text[edit.start : edit.end] != edit.old:
            raise ValueError(f"edit {edit} does not fit {text!r} after position {at}")
        parts.append(text[at : edit.start])
        parts.append(edit.new)
        at = edit.end
    parts.append(text[at:])
    return "".join(parts)


# A generator's core: the candidate edit sets of one text (each set makes one variant).
Candidates = Callable[[str, list[Word], SentimentLexicon], list[tuple[Edit, ...]]]


@dataclass(frozen=True)
class Generator:
    """A named perturbation: ``generator(text)`` returns the variants of one text,
    :meth:`apply` those of many. ``expects`` is what the edit should do to a model's label.

    Write your own from a function that lists the candidate edits of a text::

        def shout(text, words, lexicon):
            return [(Edit(w.start, w.end, w.text, w.text.upper()),) for w in words]

        shouting = Generator("shout", "same", "a word in capitals", shout)
    """

    name: str
    expects: Expectation
    description: str
    candidates: Candidates

    def __call__(
        self,
        text: str,
        *,
        limit: int | None = None,
        seed: int = 0,
        lexicon: SentimentLexicon | None = None,
    ) -> list[Perturbation]:
        """The variants of ``text`` (at most ``limit``, drawn with ``seed``; all when None)."""
        if not isinstance(text, str):
            as_text_list([text], "text")  # the package's message for a non-string
        if limit is not None:
            check_count("limit", limit, 1)
        lexicon = lexicon or load_lexicon()
        candidates = self.candidates(text, split_words(text), lexicon)
        if limit is not None and len(candidates) > limit:
            rng = random.Random(f"{seed}\x00{text}")  # str seeds hash the same in every run
            keep = sorted(rng.sample(range(len(candidates)), limit))
            candidates = [candidates[i] for i in keep]
        return [
            Perturbation(text, apply_edits(text, edits), edits, self.name, self.expects)
            for edits in candidates
        ]

    def apply(
        self,
        texts: Sequence[str],
        *,
        limit: int | None = None,
        seed: int = 0,
        lexicon: SentimentLexicon | None = None,
        progress: bool = True,
    ) -> list[list[Perturbation]]:
        """The variants of each text, one list per text (empty where it does not apply)."""
        text_list = as_text_list(texts, "texts")
        lexicon = lexicon or load_lexicon()
        show = progress and len(text_list) >= PROGRESS_FROM
        return [
            self(text, limit=limit, seed=seed, lexicon=lexicon)
            for text in progress_bar(text_list, show=show, desc=self.name, unit="text")
        ]


# ----------------------------------------------------------------------------- helpers
def _lower(word: Word) -> str:
    return word.text.lower().replace("’", "'")


def _starts_sentence(text: str, word: Word) -> bool:
    before = text[: word.start]
    return not before.strip() or _SENTENCE_END.search(before) is not None


def _removal(text: str, words: list[Word], i: int) -> tuple[Edit, ...]:
    """Remove word ``i`` and one run of whitespace beside it (the one before, else after);
    a capitalised word that starts a sentence passes its capital to the next word."""
    word = words[i]
    nxt = words[i + 1] if i + 1 < len(words) else None
    if (
        nxt is not None
        and word.text[:1].isupper()
        and nxt.text[:1].islower()
        and _starts_sentence(text, word)
    ):
        old = text[word.start : nxt.end]
        return (Edit(word.start, nxt.end, old, match_case(nxt.text, word.text)),)
    start, end = word.start, word.end
    while start > 0 and text[start - 1].isspace():
        start -= 1
    if start == word.start or start == 0:
        start = word.start
        while end < len(text) and text[end].isspace():
            end += 1
    return (Edit(start, end, text[start:end], ""),)


def _replace(word: Word, new: str) -> Edit:
    return Edit(word.start, word.end, word.text, match_case(new, word.text))


def _verb_table(lexicon: SentimentLexicon) -> dict[str, tuple[str, str, str]]:
    """Every form of every listed verb -> its forms (base, third person, past)."""
    return {form: forms for forms in lexicon.verb_forms for form in forms}


# -------------------------------------------------------------------------- generators
def _delete_word(text: str, words: list[Word], lexicon: SentimentLexicon) -> list[tuple[Edit, ...]]:
    kept = [i for i, w in enumerate(words) if is_word(w.text)]
    if len(kept) < 2:
        return []  # deleting the only word leaves no text
    return [_removal(text, words, i) for i in kept]


def _add_negation(
    text: str, words: list[Word], lexicon: SentimentLexicon
) -> list[tuple[Edit, ...]]:
    verbs = _verb_table(lexicon)
    auxiliaries = lexicon.negated_auxiliaries
    out: list[tuple[Edit, ...]] = []
    for i, word in enumerate(words):
        lower = _lower(word)
        nxt = _lower(words[i + 1]) if i + 1 < len(words) else ""
        prev = _lower(words[i - 1]) if i > 0 else ""
        if lower in auxiliaries:
            if lexicon.is_negator(nxt) or nxt in auxiliaries or _starts_sentence(text, word):
                continue  # already negated, or a question ("Is it fun?")
            negated = auxiliaries[lower]
            if lower in _DO and nxt in _OBJECT_STARTS:  # "did the job" -> "did not do the job"
                negated += " do"
            out.append((_replace(word, negated),))
        elif lower in verbs and not (
            prev in auxiliaries or lexicon.is_negator(prev) or prev in verbs
        ):
            base, third, past = verbs[lower]
            if lower == past:
                out.append((_replace(word, f"did not {base}"),))
            elif lower == third:
                out.append((_replace(word, f"does not {base}"),))
            elif prev in lexicon.subject_pronouns:
                out.append((_replace(word, f"do not {base}"),))
    return out


# Which verb form follows each auxiliary once its negation is gone ("did" + love -> loved).
_FORM_AFTER = {"do": 0, "does": 1, "did": 2}


def _remove_negation(
    text: str, words: list[Word], lexicon: SentimentLexicon
) -> list[tuple[Edit, ...]]:
    verbs = _verb_table(lexicon)
    out: list[tuple[Edit, ...]] = []
    for i, word in enumerate(words):
        lower = _lower(word)
        prev = _lower(words[i - 1]) if i > 0 else ""
        nxt = words[i + 1] if i + 1 < len(words) else None
        if lower in lexicon.contractions:
            aux = lexicon.contractions[lower]
            out.append(_undo(text, word, word, aux, nxt, verbs))
        elif lower == "not" and prev in lexicon.negated_auxiliaries:
            aux_word = words[i - 1]
            folded = _undo(text, aux_word, word, prev, nxt, verbs)
            if folded[0].end > word.end:  # "did not love" -> "loved"
                out.append(folded)
            else:
                out.append(_removal(text, words, i))
        elif lower in ("not", "never"):
            out.append(_removal(text, words, i))
    return out


def _undo(
    text: str,
    first: Word,
    last: Word,
    aux: str,
    nxt: Word | None,
    verbs: dict[str, tuple[str, str, str]],
) -> tuple[Edit, ...]:
    """Replace ``text[first.start:last.end]`` (a negated auxiliary) by the auxiliary, or,
    before a listed verb's base form after do/does/did, fold both into one verb form
    ("did not love" -> "loved", "does not do" -> "does")."""
    if nxt is not None and aux in _FORM_AFTER and _lower(nxt) == "do":
        span = text[first.start : nxt.end]
        return (Edit(first.start, nxt.end, span, match_case(aux, first.text)),)
    if nxt is not None and aux in _FORM_AFTER and _lower(nxt) in verbs:
        forms = verbs[_lower(nxt)]
        if _lower(nxt) == forms[0]:
            span = text[first.start : nxt.end]
            return (
                Edit(first.start, nxt.end, span, match_case(forms[_FORM_AFTER[aux]], first.text)),
            )
    span = text[first.start : last.end]
    return (Edit(first.start, last.end, span, match_case(aux, first.text)),)


def _antonym(text: str, words: list[Word], lexicon: SentimentLexicon) -> list[tuple[Edit, ...]]:
    return [(_replace(w, other),) for w in words for other in lexicon.antonyms(_lower(w))]


def _synonym(text: str, words: list[Word], lexicon: SentimentLexicon) -> list[tuple[Edit, ...]]:
    return [(_replace(w, other),) for w in words for other in lexicon.synonyms(_lower(w))]


def _swaps(text: str, words: list[Word], groups: Sequence[Sequence[str]]) -> list[tuple[Edit, ...]]:
    """Each listed entry found in ``text`` (its word units as written, one space between
    them; a possessive "'s" may follow) replaced, at every occurrence, by each other entry
    of its group."""
    present = {w.text for w in words} | {w.text[:-2] for w in words if w.text[-2:] in _POSSESSIVE}
    out: list[tuple[Edit, ...]] = []
    for group in groups:
        for entry in group:
            if entry.split(" ", 1)[0] not in present:
                continue  # a quick look first: most texts mention no listed entry
            spans = _occurrences(text, words, entry)
            if spans:
                out.extend(
                    tuple(Edit(start, end, entry, other) for start, end in spans)
                    for other in group
                    if other != entry
                )
    return out


def _occurrences(text: str, words: list[Word], entry: str) -> list[tuple[int, int]]:
    """Spans of ``entry`` in ``text`` that start and end on word-unit boundaries."""
    n = len(split_words(entry))
    spans = []
    for i in range(len(words) - n + 1):
        start, last = words[i].start, words[i + n - 1]
        end = start + len(entry)
        whole = last.end == end or (last.end == end + 2 and text[end : end + 2] in _POSSESSIVE)
        if whole and text[start:end] == entry:
            spans.append((start, end))
    return spans


def _swap_name(text: str, words: list[Word], lexicon: SentimentLexicon) -> list[tuple[Edit, ...]]:
    return _swaps(text, words, [lexicon.all_names])


def _swap_place(text: str, words: list[Word], lexicon: SentimentLexicon) -> list[tuple[Edit, ...]]:
    return _swaps(text, words, list(lexicon.places.values()))


def _add_filler(text: str, words: list[Word], lexicon: SentimentLexicon) -> list[tuple[Edit, ...]]:
    if not text.strip():
        return []
    end = len(text.rstrip())
    # A text without a full stop gets one, so the filler stays a sentence of its own.
    stop = "" if _SENTENCE_END.search(text[:end]) else "."
    out: list[tuple[Edit, ...]] = []
    for filler in lexicon.fillers:
        out.append((Edit(end, end, "", f"{stop} {filler}"),))
    for filler in lexicon.fillers:
        out.append((Edit(0, 0, "", f"{filler} "),))
    return out


def _add_intensifier(
    text: str, words: list[Word], lexicon: SentimentLexicon
) -> list[tuple[Edit, ...]]:
    adjectives = set(lexicon.positive_adjectives) | set(lexicon.negative_adjectives)
    modifiers = set(lexicon.intensifiers) | set(lexicon.downtoners)
    out: list[tuple[Edit, ...]] = []
    for i, word in enumerate(words):
        prev = _lower(words[i - 1]) if i > 0 else ""
        if _lower(word) in adjectives and prev not in modifiers and not lexicon.is_negator(prev):
            for intensifier in lexicon.intensifiers:
                new = f"{intensifier} {word.text.lower()}"
                out.append((_replace(word, new),))
    return out


delete_word = Generator(
    "delete_word", "none", "one word deleted (with the space beside it)", _delete_word
)
add_negation = Generator(
    "add_negation",
    "flip",
    'an auxiliary negated ("is" -> "is not"; not at a question\'s start) or a listed verb '
    '("loved" -> "did not love")',
    _add_negation,
)
remove_negation = Generator(
    "remove_negation",
    "flip",
    'a negation undone ("isn\'t" -> "is", "did not love" -> "loved", "not"/"never" deleted)',
    _remove_negation,
)
antonym = Generator("antonym", "flip", "a sentiment word replaced by its antonym", _antonym)
synonym = Generator("synonym", "same", "a word replaced by a synonym", _synonym)
swap_name = Generator(
    "swap_name", "same", "a person's first name replaced (every occurrence)", _swap_name
)
swap_place = Generator(
    "swap_place", "same", "a city or country replaced by another of its kind", _swap_place
)
add_filler = Generator(
    "add_filler", "same", "a neutral sentence added at the end or the start", _add_filler
)
add_intensifier = Generator(
    "add_intensifier",
    "stronger",
    'an intensifier put before a sentiment adjective ("good" -> "very good")',
    _add_intensifier,
)

GENERATORS: dict[str, Generator] = {
    g.name: g
    for g in (
        delete_word,
        add_negation,
        remove_negation,
        antonym,
        synonym,
        swap_name,
        swap_place,
        add_filler,
        add_intensifier,
    )
}
