"""The small English sentiment lexicon behind the counterfactual generators and behavioural tests.

Perturbations need word lists: which words have antonyms ("good" ↔ "bad") or synonyms
("movie" ↔ "film"), how to negate an auxiliary ("is" → "is not") and undo it ("wasn't" →
"was"), intensifiers, neutral filler sentences, person and place names from several origins,
sarcasm markers. They are hand-written for this project and shipped with the package
(``data/lexicon/sentiment_lexicon.json``; its data card, ``DATA_CARD.md``, says how it was made
and what it lacks), so nothing is downloaded at run time.

:func:`load_lexicon` reads it once (or a file of the same shape that you pass), checks it, and
returns a :class:`SentimentLexicon`::

    lexicon = load_lexicon()
    lexicon.antonyms("good")    # ['bad']
    lexicon.synonyms("movie")   # ['film']
    lexicon.polarity("awful")   # 'negative'

Look-ups are by lower-cased word; callers keep the original's capitalisation
(:func:`match_case`).
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from workbench.data.reviews import embedded_folder
from workbench.errors import InputError

LEXICON_FILE = "sentiment_lexicon.json"

Polarity = Literal["positive", "negative"]


def lexicon_path() -> Path:
    """The shipped lexicon: from the installed wheel (``workbench/_data/lexicon``) first, else
    the source checkout's ``data/lexicon`` folder."""
    return embedded_folder("lexicon", (LEXICON_FILE,), "the sentiment lexicon") / LEXICON_FILE


def match_case(new: str, like: str) -> str:
    """``new`` written in the case of ``like``: "BAD" for "GOOD", "Bad" for "Good"."""
    if len(like) > 1 and like.isupper():
        return new.upper()
    if like[:1].isupper():
        return new[:1].upper() + new[1:]
    return new


@dataclass(frozen=True)
class SentimentLexicon:
    """The lexicon's word lists, as read by :func:`load_lexicon`. Words are lower case,
    except names and places, which are written as they are capitalised in text.

    Attributes:
        positive_adjectives, negative_adjectives, positive_verbs, negative_verbs: sentiment
            words by polarity (base forms of verbs), for templates and :meth:`polarity`.
        antonym_pairs: ``(word, antonym)`` pairs; :meth:`antonyms` looks both ways.
        synonym_groups: groups of interchangeable words; :meth:`synonyms`.
        intensifiers: "very", "extremely" … (go before an adjective).
        downtoners: "somewhat", "slightly" …
        negators: words that negate ("not", "never", "n't" …).
        negated_auxiliaries: auxiliary -> its negation ("is" -> "is not", "can" -> "cannot").
        contractions: negative contraction -> its auxiliary ("wasn't" -> "was").
        verb_forms: each verb's forms ``(base, third person, past)``, to negate a verb
            without auxiliary ("loved" -> "did not love") and to undo it.
        subject_pronouns: pronouns after which a base-form verb is a verb ("I love").
        fillers: neutral sentences that say nothing about the thing reviewed.
        names: origin -> first names ("english", "indian", "west_african" …).
        places: kind ("cities", "countries") -> place names.
        sarcasm_prefixes, sarcasm_suffixes: sarcasm markers ("Oh great,", "... not.").
        template_nouns: things a templated review is about ("movie", "hotel" …).
        source: the file it was read from.
    """

    positive_adjectives: tuple[str, ...]
    negative_adjectives: tuple[str, ...]
    positive_verbs: tuple[str, ...]
    negative_verbs: tuple[str, ...]
    antonym_pairs: tuple[tuple[str, str], ...]
    synonym_groups: tuple[tuple[str, ...], ...]
    intensifiers: tuple[str, ...]
    downtoners: tuple[str, ...]
    negators: frozenset[str]
    negated_auxiliaries: Mapping[str, str]
    contractions: Mapping[str, str]
    verb_forms: tuple[tuple[str, str, str], ...]
    subject_pronouns: frozenset[str]
    fillers: tuple[str, ...]
    names: Mapping[str, tuple[str, ...]]
    places: Mapping[str, tuple[str, ...]]
    sarcasm_prefixes: tuple[str, ...]
    sarcasm_suffixes: tuple[str, ...]
    template_nouns: tuple[str, ...]
    source: str = ""
    _antonyms: dict[str, list[str]] = field(default_factory=dict, repr=False, compare=False)
    _synonyms: dict[str, list[str]] = field(default_factory=dict, repr=False, compare=False)
    _polarity: dict[str, Polarity] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        for word, other in self.antonym_pairs:
            _add_once(self._antonyms, word, other)
            _add_once(self._antonyms, other, word)
        for group in self.synonym_groups:
            for word in group:
                for other in group:
                    if other != word:
                        _add_once(self._synonyms, word, other)
        verbs = {forms[0]: forms for forms in self.verb_forms}
        for polarity, words in (
            ("positive", self.positive_adjectives + self.positive_verbs),
            ("negative", self.negative_adjectives + self.negative_verbs),
        ):
            for word in words:
                for form in verbs.get(word, (word,)):
                    self._polarity.setdefault(form, polarity)  # type: ignore[arg-type]
        # A synonym of a sentiment word has its polarity ("solid" is positive, like "good").
        for group in self.synonym_groups:
            known = {self._polarity[w] for w in group if w in self._polarity}
            if len(known) == 1:
                for word in group:
                    self._polarity.setdefault(word, next(iter(known)))

    def antonyms(self, word: str) -> list[str]:
        """The antonyms of ``word`` (any case), lower case; [] when it has none listed."""
        return list(self._antonyms.get(word.lower(), ()))

    def synonyms(self, word: str) -> list[str]:
        """The synonyms of ``word`` (any case), lower case; [] when it has none listed."""
        return list(self._synonyms.get(word.lower(), ()))

    def polarity(self, word: str) -> Polarity | None:
        """ "positive" or "negative" for a listed sentiment word (verbs in any form), else None."""
        return self._polarity.get(word.lower())

    def is_negator(self, word: str) -> bool:
        """Whether ``word`` negates: "not", "never", or a negative contraction ("didn't")."""
        lower = word.lower().replace("’", "'")
        return lower in self.negators or lower in self.contractions

    @property
    def all_names(self) -> tuple[str, ...]:
        """Every first name, all origins, in file order."""
        return tuple(name for group in self.names.values() for name in group)

    @property
    def all_places(self) -> tuple[str, ...]:
        """Every place name, all kinds, in file order."""
        return tuple(place for group in self.places.values() for place in group)


def _add_once(table: dict[str, list[str]], word: str, other: str) -> None:
    entries = table.setdefault(word, [])
    if other not in entries:
        entries.append(other)


def load_lexicon(path: str | os.PathLike | None = None) -> SentimentLexicon:
    """Read and check a sentiment lexicon: the shipped one by default (read once, then
    cached), or ``path``, a JSON file of the same shape (copy the shipped one and edit it).

    Raises:
        InputError: the file is missing, is not JSON, or lacks a field or has one of the
            wrong type (the message names the field).
    """
    if path is None:
        return _shipped_lexicon()
    return _read_lexicon(Path(path))


@functools.lru_cache(maxsize=1)
def _shipped_lexicon() -> SentimentLexicon:
    return _read_lexicon(lexicon_path())


def _read_lexicon(path: Path) -> SentimentLexicon:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"lexicon file {path} does not exist; give a JSON file's path") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise InputError(f"lexicon file {path} cannot be read as UTF-8 JSON: {err}") from None
    reader = _Fields(raw, str(path))
    negation = reader.mapping("negation")
    sarcasm = reader.mapping("sarcasm")
    sentiment = reader.mapping("sentiment_words")
    positive = _Fields(sentiment, str(path), "sentiment_words.").mapping("positive")
    negative = _Fields(sentiment, str(path), "sentiment_words.").mapping("negative")
    pos = _Fields(positive, str(path), "sentiment_words.positive.")
    neg = _Fields(negative, str(path), "sentiment_words.negative.")
    neg_fields = _Fields(negation, str(path), "negation.")
    sarcasm_fields = _Fields(sarcasm, str(path), "sarcasm.")
    verb_forms = tuple(tuple(forms) for forms in neg_fields.groups("verbs", size=3, lower=True))
    return SentimentLexicon(
        positive_adjectives=pos.words("adjectives"),
        negative_adjectives=neg.words("adjectives"),
        positive_verbs=pos.words("verbs"),
        negative_verbs=neg.words("verbs"),
        antonym_pairs=tuple(
            (pair[0], pair[1]) for pair in reader.groups("antonyms", size=2, lower=True)
        ),
        synonym_groups=reader.groups("synonyms", lower=True),
        intensifiers=reader.words("intensifiers"),
        downtoners=reader.words("downtoners"),
        negators=frozenset(neg_fields.words("negators")),
        negated_auxiliaries=neg_fields.table("auxiliaries"),
        contractions=neg_fields.table("contractions"),
        verb_forms=verb_forms,  # type: ignore[arg-type]
        subject_pronouns=frozenset(neg_fields.words("subject_pronouns")),
        fillers=reader.words("fillers", lower=False),
        names=reader.named_lists("names"),
        places=reader.named_lists("places"),
        sarcasm_prefixes=sarcasm_fields.words("prefixes", lower=False),
        sarcasm_suffixes=sarcasm_fields.words("suffixes", lower=False),
        template_nouns=reader.words("template_nouns"),
        source=str(path),
    )


class _Fields:
    """Typed access to a JSON object's fields, with errors naming the file and field."""

    def __init__(self, raw: Any, source: str, prefix: str = "") -> None:
        if not isinstance(raw, dict):
            where = prefix or "the top level"
            raise InputError(f"lexicon file {source}: {where} must be an object")
        self.raw, self.source, self.prefix = raw, source, prefix

    def _get(self, key: str, kind: type, what: str) -> Any:
        if key not in self.raw:
            raise InputError(f"lexicon file {self.source} has no field {self.prefix}{key}")
        value = self.raw[key]
        if not isinstance(value, kind):
            raise InputError(f"lexicon file {self.source}: {self.prefix}{key} must be {what}")
        return value

    def mapping(self, key: str) -> dict:
        return self._get(key, dict, "an object")

    def words(self, key: str, *, lower: bool = True) -> tuple[str, ...]:
        values = self._get(key, list, "a list of strings")
        if not all(isinstance(v, str) and v.strip() for v in values):
            raise InputError(
                f"lexicon file {self.source}: {self.prefix}{key} must hold non-empty strings only"
            )
        return tuple(v.lower() if lower else v for v in values)

    def groups(
        self, key: str, *, size: int | None = None, lower: bool
    ) -> tuple[tuple[str, ...], ...]:
        values = self._get(key, list, "a list of lists of strings")
        for i, group in enumerate(values):
            ok = isinstance(group, list) and all(isinstance(v, str) and v for v in group)
            if not ok or (size is not None and len(group) != size) or len(group) < 2:
                shape = f"{size} strings" if size else "at least two strings"
                raise InputError(
                    f"lexicon file {self.source}: {self.prefix}{key}[{i}] must be a list of {shape}"
                )
        return tuple(tuple(v.lower() if lower else v for v in group) for group in values)

    def table(self, key: str) -> dict[str, str]:
        values = self.mapping(key)
        if not all(isinstance(v, str) and v for v in values.values()):
            raise InputError(
                f"lexicon file {self.source}: {self.prefix}{key} must map words to strings"
            )
        return {k.lower(): v.lower() for k, v in values.items()}

    def named_lists(self, key: str) -> dict[str, tuple[str, ...]]:
        values = self.mapping(key)
        inner = _Fields(values, self.source, f"{self.prefix}{key}.")
        return {name: inner.words(name, lower=False) for name in values}
