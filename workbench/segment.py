"""Word units for scripts written without spaces: Chinese, Japanese, Thai and their kin.

Splitting on spaces and punctuation makes a whole Chinese clause one "word"
(``这部电影真的很好看``), so a vocabulary fills with clauses that never repeat and an
explanation colours clauses. A :class:`Segmenter` cuts each run of such characters into
words, with spans that are exact character offsets into the original text:

- Chinese (Han characters) with ``jieba``, when the ``chinese`` extra is installed
  (``make lab`` installs it; its dictionary ships inside the package, so it works
  offline); otherwise one unit per character, the unit BERT's Chinese models use.
- Japanese (a text with kana) with ``janome`` when installed, else one unit per character.
- Thai, Lao, Khmer and Myanmar: one unit per character (accents stay with their letter).

Everything else (Latin words, numbers, emoji, URLs) keeps the default splitting rule. A
model records the segmenter it was trained with (:meth:`Segmenter.to_dict`), so a loaded
model reads text exactly as it did in training, or says why it cannot.
"""

from __future__ import annotations

import functools
import importlib.metadata
import importlib.util
import logging
import re
import unicodedata
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from workbench.errors import InputError

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_KANA = "\u3040-\u309f\u30a0-\u30ff\u31f0-\u31ff\uff66-\uff9f"
_SOUTHEAST_ASIAN = "\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff"  # Thai, Lao, Myanmar, Khmer
# A run of characters from scripts written without spaces between words. The iteration
# mark 々 and the prolonged sound mark ー belong to the words around them.
_UNSPACED_RUN = re.compile(f"[{_HAN}{_KANA}{_SOUTHEAST_ASIAN}\u3005\u30fc]+")
_KANA_CHAR = re.compile(f"[{_KANA}]")
_CJK_CHAR = re.compile(f"[{_HAN}{_KANA}\u3005]")

# How a script's runs are cut: by a segmenter package, per character, or not at all (the
# rule of models trained before segmentation existed: a run stays one unit).
SEGMENTERS = {
    "chinese": ("jieba", "characters", "none"),
    "japanese": ("janome", "characters", "none"),
}
_EXTRA_HINT = (
    "install the chinese extra: pip install -c constraints.txt -e '.[chinese]' (make lab does)"
)


def has_unspaced_script(text: str) -> bool:
    """Whether ``text`` holds characters of a script written without spaces."""
    return _UNSPACED_RUN.search(text) is not None


@dataclass(frozen=True)
class Segmenter:
    """How runs of Chinese and Japanese text are cut into words.

    ``chinese`` and ``japanese`` each name a segmenter package (``"jieba"``,
    ``"janome"``), ``"characters"`` (one unit per character) or ``"none"`` (a run stays
    whole: how models trained before segmentation read text). ``versions`` records the
    packages' versions, since a new dictionary can cut the same text differently.
    """

    chinese: str = "none"
    japanese: str = "none"
    versions: tuple[tuple[str, str], ...] = ()

    @property
    def cuts(self) -> bool:
        """Whether this segmenter cuts anything (``"none"`` for both scripts does not)."""
        return (self.chinese, self.japanese) != ("none", "none")

    @classmethod
    def best_available(cls) -> Segmenter:
        """The segmenter packages that are installed, else one unit per character."""
        return _best_available()

    @classmethod
    def from_setting(cls, setting: str) -> Segmenter:
        """``TokenizerConfig.segmenter``: ``"auto"`` (:meth:`best_available`),
        ``"characters"`` or ``"none"``."""
        if setting == "auto":
            return cls.best_available()
        if setting in ("characters", "none"):
            return cls(setting, setting)
        raise InputError(f"segmenter must be 'auto', 'characters' or 'none', got {setting!r}")

    def to_dict(self) -> dict:
        return {"chinese": self.chinese, "japanese": self.japanese, "versions": dict(self.versions)}

    @classmethod
    def from_dict(cls, values: object, where: str) -> Segmenter:
        """The segmenter a saved model was trained with, once it can be used here.

        Raises :class:`InputError` when its package is not installed; warns when the
        installed version differs from the recorded one (its dictionary may cut some
        texts differently from training).
        """
        if not isinstance(values, dict):
            raise InputError(f"{where}: 'segmentation' must be an object, got {values!r}")
        segmenter = cls(
            str(values.get("chinese", "none")),
            str(values.get("japanese", "none")),
            tuple(sorted(dict(values.get("versions") or {}).items())),
        )
        for script, choice in (("chinese", segmenter.chinese), ("japanese", segmenter.japanese)):
            if choice not in SEGMENTERS[script]:
                raise InputError(
                    f"{where}: unknown {script} segmenter {choice!r}; "
                    f"this workbench knows {', '.join(SEGMENTERS[script])}"
                )
            if choice in ("jieba", "janome") and not _installed(choice):
                raise InputError(
                    f"{where}: this model cuts {script} text into words with {choice}, which "
                    f"is not installed; {_EXTRA_HINT}"
                )
        for name, recorded in segmenter.versions:
            if _installed(name) and _version(name) != recorded:
                warnings.warn(
                    f"{where}: the model was trained with {name} {recorded}, this machine has "
                    f"{_version(name)}; a few texts may be cut into words differently",
                    UserWarning,
                    stacklevel=2,
                )
        return segmenter

    def describe(self) -> str:
        """One line for people: which segmenter each script uses."""
        parts = []
        for script, choice in (("Chinese", self.chinese), ("Japanese", self.japanese)):
            version = dict(self.versions).get(choice)
            parts.append(f"{script}: {choice}{' ' + version if version else ''}")
        return "; ".join(parts)

    def split(self, text: str, spans: Iterable[tuple[int, int]]) -> Iterator[tuple[int, int]]:
        """Cut the words of ``text`` (``spans``, by the default rule) into units.

        Only runs of unspaced scripts are cut; the letters and digits around them stay
        together ("用iPhone拍的" -> 用 / iPhone / 拍的).
        """
        japanese = _KANA_CHAR.search(text) is not None  # kanji in a Japanese text too
        choice = self.japanese if japanese else self.chinese
        if choice == "none":
            yield from spans
            return
        for start, end in spans:
            position = start
            for run in _UNSPACED_RUN.finditer(text, start, end):
                if run.start() > position:
                    yield position, run.start()
                yield from _cut(text, run.start(), run.end(), choice)
                position = run.end()
            if position < end:
                yield position, end


def _cut(text: str, start: int, end: int, choice: str) -> Iterator[tuple[int, int]]:
    run = text[start:end]
    if choice == "characters" or not _CJK_CHAR.search(run):
        yield from _characters(text, start, end)  # e.g. a Thai run
    elif choice == "jieba":
        for _, first, last in _jieba().tokenize(run, HMM=True):
            yield start + first, start + last
    else:
        yield from _janome_spans(run, start)


@functools.cache
def _best_available() -> Segmenter:
    chinese = "jieba" if _installed("jieba") else "characters"
    japanese = "janome" if _installed("janome") else "characters"
    used = sorted({chinese, japanese} & {"jieba", "janome"})
    return Segmenter(chinese, japanese, tuple((name, _version(name)) for name in used))


def _characters(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    # One unit per character; a combining mark (a Thai vowel or tone mark) stays with
    # the letter before it, so deleting a unit never leaves a stray accent.
    position = start
    while position < end:
        stop = position + 1
        while stop < end and unicodedata.category(text[stop]).startswith("M"):
            stop += 1
        yield position, stop
        position = stop


def _janome_spans(run: str, offset: int) -> Iterator[tuple[int, int]]:
    surfaces = list(_janome().tokenize(run))
    if "".join(surfaces) != run:  # janome normalises nothing today; if it ever does, be safe
        for start, end in _characters(run, 0, len(run)):
            yield offset + start, offset + end
        return
    position = 0
    for surface in surfaces:
        yield offset + position, offset + position + len(surface)
        position += len(surface)


@functools.cache
def _jieba():
    import jieba

    jieba.setLogLevel(logging.WARNING)  # it announces building its dictionary cache
    return jieba.Tokenizer()


@functools.cache
def _janome():
    from janome.tokenizer import Tokenizer

    return Tokenizer(wakati=True)


@functools.cache
def _installed(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


def _version(name: str) -> str:
    return importlib.metadata.version(name)
