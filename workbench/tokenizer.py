"""A word-level tokenizer with character offsets, built on Hugging Face ``tokenizers``.

It replaces torchtext's ``Field`` + min-frequency vocabulary. Every token is one *word
unit* (a word, or one punctuation mark) with its character span in the original text, so
models see the same units that explanations later colour. Ids 0-3 are the special tokens
``[PAD]``, ``[UNK]``, ``[CLS]`` and ``[MASK]``; every encoding starts with ``[CLS]``.

Text in a script written without spaces (Chinese, Japanese) is cut into words by a
:class:`~workbench.segment.Segmenter` first; the Rust tokenizer then only looks the words
up, and text without such characters keeps the fast all-Rust path.
"""

from __future__ import annotations

import os
import re
import unicodedata
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from tokenizers import Regex, Tokenizer, models, normalizers, pre_tokenizers, processors, trainers

from workbench.artifacts import atomic_write
from workbench.config import TokenizerConfig
from workbench.errors import InputError
from workbench.segment import Segmenter, has_unspaced_script

PAD, UNK, CLS, MASK = "[PAD]", "[UNK]", "[CLS]", "[MASK]"
SPECIAL_TOKENS = (PAD, UNK, CLS, MASK)

# A word keeps inner apostrophes ("didn't", "n't"); any other non-space symbol stands alone.
WORD_PATTERN = r"\w+(?:['’]\w+)*|[^\w\s]"
_WORD_OR_SYMBOL = Regex(WORD_PATTERN)


@dataclass(frozen=True)
class Word:
    """One word unit: its text as written and its span ``text[start:end]`` in the input."""

    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Encoding:
    """Token ids (``[CLS]`` first) and the word units behind ids[1:], one word per id."""

    ids: list[int]
    words: list[Word]
    truncated: bool


def split_words(text: str, segmenter: Segmenter | None = None) -> list[Word]:
    """Word units by the default splitting rule, runs of unspaced scripts cut by
    ``segmenter`` (default: the best one installed). Models that bring no WordTokenizer
    (TF-IDF, pretrained encoders) take their word units from here."""
    spans: list[tuple[int, int]] = []
    for match in re.finditer(WORD_PATTERN, text):
        if spans and match.start() < spans[-1][1]:
            continue  # a combining mark that the previous word already took in
        spans.append((match.start(), _past_combining_marks(text, match.end())))
    if has_unspaced_script(text):
        spans = list((segmenter or Segmenter.best_available()).split(text, spans))
    return [Word(text[start:end], start, end) for start, end in spans]


def _spaced_words(text: str, segmenter: Segmenter) -> str:
    """``text`` with its unspaced runs cut into words and spaces put between the words."""
    if not (segmenter.cuts and has_unspaced_script(text)):
        return text
    return " ".join(word.text for word in split_words(text, segmenter))


def _past_combining_marks(text: str, end: int) -> int:
    # NFC composes "e" + U+0301 into one "é" whose span ends before the accent: keep the
    # accent inside its word, so deleting or colouring the word covers all of it.
    while end < len(text) and unicodedata.combining(text[end]):
        end += 1
    return end


@dataclass(frozen=True)
class WordPieces:
    """A text as a network with its own sub-word tokenizer reads it, tied to word units.

    ``input_ids`` are what the network reads (special tokens included, cut to its maximum
    length); ``piece_words[j]`` is the index in ``words`` of the word that piece ``j``
    belongs to, or -1 for a special token (``[CLS]``, ``[SEP]``). ``visible`` counts the
    leading words the network reads whole; later words are cut off by truncation.
    """

    words: list[Word]
    input_ids: list[int]
    piece_words: list[int]
    visible: int


def align_pieces(words: Sequence[Word], offsets: Sequence[tuple[int, int]]) -> list[int]:
    """For each piece's character span, the index of the word it lies in, or -1.

    A piece belongs to the first word its span overlaps; special tokens carry the empty
    span (0, 0) and overlap nothing. Spans and words are both in text order, so one pass
    suffices.
    """
    owners, w = [], 0
    for start, end in offsets:
        if end <= start:
            owners.append(-1)
            continue
        while w < len(words) and words[w].end <= start:
            w += 1
        owners.append(w if w < len(words) and words[w].start < end else -1)
    return owners


class WordTokenizer:
    """Word-level tokenizer: ``train`` on texts, ``encode`` with offsets, ``save``, ``load``."""

    def __init__(self, tokenizer: Tokenizer, segmenter: Segmenter | None = None) -> None:
        self._tokenizer = tokenizer
        # No segmenter recorded: a model from before segmentation, which kept runs whole.
        self.segmenter = segmenter or Segmenter()
        special = [tokenizer.token_to_id(t) for t in SPECIAL_TOKENS]
        missing = [t for t, i in zip(SPECIAL_TOKENS, special, strict=True) if i is None]
        if missing:
            raise InputError(f"tokenizer lacks the special tokens {missing}; retrain it")
        self.pad_id, self.unk_id, self.cls_id, self.mask_id = (i for i in special if i is not None)
        self._vocab = tokenizer.get_vocab()

    @classmethod
    def train(cls, texts: Iterable[str], config: TokenizerConfig | None = None) -> WordTokenizer:
        """Learn a vocabulary from ``texts`` (the training split only, to avoid leakage)."""
        config = config or TokenizerConfig()
        # Without punctuation splitting a word is whatever lies between spaces; cutting
        # Chinese needs the default rule's words, so the two go together.
        segmenter = Segmenter.from_setting(config.segmenter if config.split_punctuation else "none")
        tokenizer = Tokenizer(models.WordLevel(unk_token=UNK))
        # NFC, not NFKC: NFKC expands "…" to "..." (three tokens sharing one character span).
        steps = [normalizers.NFC()] + ([normalizers.Lowercase()] if config.lowercase else [])
        tokenizer.normalizer = normalizers.Sequence(steps)
        splitters: list[pre_tokenizers.PreTokenizer] = [pre_tokenizers.WhitespaceSplit()]
        if config.split_punctuation:
            splitters.append(pre_tokenizers.Split(_WORD_OR_SYMBOL, behavior="isolated"))
        tokenizer.pre_tokenizer = pre_tokenizers.Sequence(splitters)
        tokenizer.post_processor = processors.TemplateProcessing(
            single=f"{CLS} $A", special_tokens=[(CLS, SPECIAL_TOKENS.index(CLS))]
        )
        trainer = trainers.WordLevelTrainer(
            vocab_size=config.max_vocab_size,
            min_frequency=config.min_frequency,
            special_tokens=list(SPECIAL_TOKENS),
            show_progress=False,
        )
        # Segmented words joined by spaces: the pre-tokenizer then finds exactly those words.
        spaced = (_spaced_words(text, segmenter) for text in texts)
        tokenizer.train_from_iterator(spaced, trainer=trainer)
        if tokenizer.get_vocab_size() <= len(SPECIAL_TOKENS):
            # Every word becomes [UNK]: the model would see the same input for every text.
            warnings.warn(
                f"the vocabulary has no words, only the special tokens: no word occurs "
                f"min_frequency={config.min_frequency} times in the training texts, so every "
                "word is [UNK] and the model can only predict one constant; lower "
                "min_frequency (CLI: --min-frequency)",
                UserWarning,
                stacklevel=2,
            )
        return cls(tokenizer, segmenter)

    @property
    def vocab_size(self) -> int:
        return self._tokenizer.get_vocab_size()

    def encode(self, text: str, max_length: int | None = None) -> Encoding:
        """Encode one text; ``max_length`` counts ``[CLS]`` and cuts the words after it."""
        return self.encode_batch([text], max_length)[0]

    def encode_batch(self, texts: Sequence[str], max_length: int | None = None) -> list[Encoding]:
        """Encode many texts at once (the Rust tokenizer parallelises the batch)."""
        out = []
        for ids, words in self._encode(list(texts), with_words=True):
            truncated = False
            if max_length is not None and len(ids) > max_length:
                truncated = True
                ids, words = ids[:max_length], words[: max_length - 1]
            out.append(Encoding(ids=ids, words=words, truncated=truncated))
        return out

    def encode_ids(self, texts: Sequence[str], max_length: int | None = None) -> list[list[int]]:
        """Token ids only (``[CLS]`` first, cut to ``max_length``): what prediction needs.

        Skips the word spans of :meth:`encode_batch`, whose Python objects cost more than
        the Rust encoding itself on short texts.
        """
        return [ids[:max_length] for ids, _ in self._encode(list(texts), with_words=False)]

    def _encode(self, texts: list[str], with_words: bool) -> list[tuple[list[int], list[Word]]]:
        """``(ids, words)`` per text, in order (words only ``with_words``). Texts in scripts
        without spaces are segmented here and looked up; the rest go through the Rust
        tokenizer in one batch."""
        cut = [self.segmenter.cuts and has_unspaced_script(text) for text in texts]
        plain = [text for text, c in zip(texts, cut, strict=True) if not c]
        if with_words:
            encoded = iter(self._tokenizer.encode_batch(plain))
        else:
            encoded = iter(self._tokenizer.encode_batch_fast(plain))
        out = []
        for text, c in zip(texts, cut, strict=True):
            if c:
                words = split_words(text, self.segmenter)
                ids = [self.cls_id, *(self._lookup(word.text) for word in words)]
            else:
                enc = next(encoded)
                ids, words = enc.ids, []
                if with_words:
                    # offsets[0] belongs to [CLS]; the rest are (start, end) spans of the words.
                    spans = [(s, _past_combining_marks(text, e)) for s, e in enc.offsets[1:]]
                    words = [Word(text[s:e], s, e) for s, e in spans]
            out.append((ids, words))
        return out

    def _lookup(self, word: str) -> int:
        """The id the Rust tokenizer gives ``word`` alone: normalised, then looked up."""
        normalizer = self._tokenizer.normalizer
        token = normalizer.normalize_str(word) if normalizer is not None else word
        return self._vocab.get(token, self.unk_id)

    def words(self, text: str) -> list[Word]:
        """The word units of ``text`` with their character spans (no truncation)."""
        return self.encode(text).words

    def id_to_token(self, token_id: int) -> str | None:
        """The token of ``token_id``; None for an id outside the vocabulary."""
        return self._tokenizer.id_to_token(token_id)

    def unknown_rate(self, texts: Sequence[str]) -> float:
        """Fraction of word units in ``texts`` that map to ``[UNK]``."""
        ids = [i for row in self.encode_ids(texts) for i in row[1:]]
        return sum(i == self.unk_id for i in ids) / max(len(ids), 1)

    def to_json(self) -> str:
        return self._tokenizer.to_str()

    def save(self, path: str | os.PathLike) -> None:
        """Write ``tokenizer.json`` atomically (temporary file, then rename)."""
        atomic_write(path, lambda temporary: temporary.write_text(self.to_json(), "utf-8"))

    @classmethod
    def load(cls, path: str | os.PathLike, segmenter: Segmenter | None = None) -> WordTokenizer:
        """Read ``tokenizer.json``; ``segmenter``: the one it was trained with (the model's
        config.json records it), ``None`` for a model from before segmentation."""
        path = Path(path)
        if not path.is_file():
            raise InputError(f"{path}: tokenizer file not found; is this a workbench artifact?")
        try:
            tokenizer = Tokenizer.from_file(str(path))
        except Exception as exc:  # the Rust side raises a bare Exception on bad JSON
            raise InputError(f"{path}: not a valid tokenizer.json ({exc})") from exc
        return cls(tokenizer, segmenter)
