"""``Translator``: word tokenizers + the encoder–decoder transformer + the fit loop.

``Translator(...)`` stores settings only; ``fit`` learns a word tokenizer for each side
(one token per word unit, as the classifier's), builds the network and trains it with
teacher forcing through :func:`workbench.train.fit` (callbacks, early stopping on the
validation pairs, the stop button, checkpoints: all as for the classifier). ``translate``
decodes greedily or by beam search and returns one :class:`Translation` per text, with
its stop reason and notes on anything the model could not read as given; ``evaluate``
scores translations by exact match, BLEU and chrF. ``save``/``load`` use an artifact
directory of JSON and safetensors (no pickle).

The target's start token is the tokenizer's ``[CLS]`` (every encoding begins with it);
end-of-sequence is one id past the target vocabulary, ``[EOS]``.
"""

from __future__ import annotations

import math
import os
import threading
import time
import unicodedata
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import save_file
from sklearn.base import BaseEstimator

from workbench.artifacts import (
    ARTIFACT_FORMAT,
    check_artifact,
    load_network,
    read_json,
    write_artifact,
    write_json,
)
from workbench.batching import pad_batch
from workbench.config import SEQ2SEQ_RECIPE, Seq2SeqConfig, TokenizerConfig, TrainConfig
from workbench.data import as_text_list, check_count
from workbench.errors import InputError
from workbench.estimators import check_fitted
from workbench.segment import Segmenter
from workbench.seq2seq.batches import PairDataset, Seq2SeqTask
from workbench.seq2seq.decode import LENGTH_REASON, Hypothesis, beam_search, greedy_decode
from workbench.seq2seq.metrics import corpus_scores
from workbench.seq2seq.network import Seq2SeqTransformer
from workbench.tokenizer import Word, WordTokenizer
from workbench.train import Callback, History, fit, resolve_device, set_seed
from workbench.version import __version__

MODEL_TYPE = "seq2seq-translator"
EOS = "[EOS]"
EMPTY_REASON = "empty_source"
_FILES = (
    "config.json",
    "model.safetensors",
    "source_tokenizer.json",
    "target_tokenizer.json",
    "metrics.json",
)


@dataclass(frozen=True)
class Translation:
    """One source text and what the model made of it.

    ``source_words`` are the source's word units with their character spans (all of them;
    the model read the first ``len(source_ids) - 1``); ``source_ids`` what the encoder
    read, ``[CLS]`` first. ``tokens``/``token_ids`` are the generated target word units,
    without the start token and end-of-sequence. ``stop_reason``: ``"eos"`` (the model
    ended the sentence), ``"max_length"`` (cut at the length limit) or ``"empty_source"``
    (nothing to translate). ``score`` is the summed log-probability of the generated
    tokens (end-of-sequence included when emitted). ``notes`` say what the model could not
    read as given (unknown words, truncation) and why the output may be incomplete.
    """

    source: str
    source_words: tuple[Word, ...]
    source_ids: tuple[int, ...]
    tokens: tuple[str, ...]
    token_ids: tuple[int, ...]
    stop_reason: str
    score: float
    notes: tuple[str, ...] = field(default=())

    @property
    def text(self) -> str:
        """The translation: its word units joined by single spaces."""
        return " ".join(self.tokens)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON: the source with word spans, the tokens, stop reason, score, notes."""
        return {
            "source": self.source,
            "source_words": [
                {"text": w.text, "start": w.start, "end": w.end} for w in self.source_words
            ],
            "text": self.text,
            "tokens": list(self.tokens),
            "stop_reason": self.stop_reason,
            "score": self.score,
            "notes": list(self.notes),
        }


def as_pairs(
    data: Any, targets: Sequence[str] | None = None, what: str = "training data"
) -> tuple[list[str], list[str]]:
    """Sources and targets from pairs (``ParallelPair`` or ``(source, target)``) or from
    two sequences of strings; an error names the item that is neither."""
    if targets is not None:
        sources = as_text_list(data, f"{what} sources")
        golds = as_text_list(targets, f"{what} targets")
        if len(sources) != len(golds):
            raise InputError(
                f"{what}: {len(sources)} sources but {len(golds)} targets; give one target "
                "per source"
            )
        return sources, golds
    if isinstance(data, (str, bytes)):
        raise InputError(f"{what} must be a list of (source, target) pairs, not one string")
    sources, golds = [], []
    for i, item in enumerate(data):
        if hasattr(item, "source") and hasattr(item, "target"):
            pair = (item.source, item.target)
        elif isinstance(item, (tuple, list)) and len(item) == 2:
            pair = (item[0], item[1])
        else:
            raise InputError(
                f"{what}, item {i}: expected a (source, target) pair or a ParallelPair, got "
                f"{type(item).__name__}; or pass sources and targets as two lists"
            )
        if not all(isinstance(t, str) for t in pair):
            raise InputError(f"{what}, item {i}: source and target must be strings")
        sources.append(pair[0])
        golds.append(pair[1])
    return sources, golds


def _validation_pairs(validation: Any) -> tuple[list[str], list[str]]:
    """``validation`` as pairs, or as a ``(sources, targets)`` tuple of two lists."""
    is_columns = (
        isinstance(validation, tuple)
        and len(validation) == 2
        and not isinstance(validation[0], str)
        and not hasattr(validation[0], "source")
        and not (isinstance(validation[0], tuple) and len(validation[0]) == 2)
    )
    if is_columns:
        return as_pairs(validation[0], validation[1], "validation data")
    return as_pairs(validation, None, "validation data")


class Translator(BaseEstimator):
    """A from-scratch encoder–decoder transformer that translates word units.

    Args:
        model_config: sizes (vocabularies and special ids are filled in by fit); default
            ``Seq2SeqConfig()``, the ``"synthetic"`` preset.
        train_config: the fit loop's settings; default ``config.SEQ2SEQ_RECIPE``. The
            monitor is ``"accuracy"`` (greedy exact match on the validation pairs) or
            ``"loss"`` (per target token).
        source_tokenizer_config, target_tokenizer_config: how each side is cut into words;
            the target keeps its case by default (the output is shown as generated).

    Example:
        >>> corpus = make_synthetic_corpus()
        >>> model = Translator().fit(corpus.train, validation=corpus.valid)  # doctest: +SKIP
        >>> model.translate(["the cat sees a dog"])[0].text  # doctest: +SKIP
    """

    def __init__(
        self,
        model_config: Seq2SeqConfig | None = None,
        train_config: TrainConfig | None = None,
        source_tokenizer_config: TokenizerConfig | None = None,
        target_tokenizer_config: TokenizerConfig | None = None,
    ) -> None:
        self.model_config = model_config
        self.train_config = train_config
        self.source_tokenizer_config = source_tokenizer_config
        self.target_tokenizer_config = target_tokenizer_config

    def _train_settings(self) -> TrainConfig:
        config = self.train_config or TrainConfig.from_dict(SEQ2SEQ_RECIPE)
        if config.monitor not in ("accuracy", "loss"):
            raise InputError(
                f"a Translator monitors 'accuracy' (exact match) or 'loss', not {config.monitor!r}"
            )
        return config

    def _target_settings(self) -> TokenizerConfig:
        return self.target_tokenizer_config or TokenizerConfig(lowercase=False)

    # ----------------------------------------------------------------- training
    def fit(
        self,
        data: Any,
        targets: Sequence[str] | None = None,
        *,
        validation: Any = None,
        val_size: float = 0.1,
        callbacks: Sequence[Callback] = (),
        stop_event: threading.Event | None = None,
        checkpoint_dir: str | os.PathLike | None = None,
        progress: bool = True,
    ) -> Translator:
        """Learn both vocabularies, build the network and train it; returns ``self``.

        Args:
            data, targets: ``(source, target)`` pairs (or ``ParallelPair``s) alone, or
                source texts and target texts as two lists.
            validation: pairs, or ``(sources, targets)``, for early stopping and the best
                weights. Without it ``val_size`` of the pairs is held out at random
                (seeded); ``val_size=0`` trains on all and keeps the last weights.
            callbacks, stop_event, checkpoint_dir, progress: passed to
                :func:`workbench.train.fit`.
        """
        sources, golds = as_pairs(data, targets)
        if not sources:
            raise InputError("training data needs at least one (source, target) pair")
        train_config = self._train_settings()
        if validation is not None:
            val_sources, val_golds = _validation_pairs(validation)
        elif val_size > 0 and len(sources) > 1:
            if not 0 < val_size < 1:
                raise InputError(f"val_size must be in [0, 1), got {val_size}")
            order = np.random.default_rng(train_config.seed).permutation(len(sources))
            held = set(order[: max(1, round(val_size * len(sources)))].tolist())
            val_sources = [s for i, s in enumerate(sources) if i in held]
            val_golds = [t for i, t in enumerate(golds) if i in held]
            sources = [s for i, s in enumerate(sources) if i not in held]
            golds = [t for i, t in enumerate(golds) if i not in held]
        else:
            val_sources, val_golds = [], []

        self.source_tokenizer_ = WordTokenizer.train(sources, self.source_tokenizer_config)
        self.target_tokenizer_ = WordTokenizer.train(golds, self._target_settings())
        source, target = self.source_tokenizer_, self.target_tokenizer_
        set_seed(train_config.seed)  # before the network exists: its initial weights use it
        config = Seq2SeqConfig.from_dict(
            {
                **(self.model_config or Seq2SeqConfig()).to_dict(),
                "source_vocab_size": source.vocab_size,
                "target_vocab_size": target.vocab_size + 1,  # + [EOS]
                "pad_token_id": target.pad_id,
                "bos_token_id": target.cls_id,
                "eos_token_id": target.vocab_size,
            }
        )
        self.network_ = Seq2SeqTransformer(config)
        train = self._encode_pairs(sources, golds, "training")
        val = self._encode_pairs(val_sources, val_golds, "validation") if val_sources else None
        self.history_: History = fit(
            self.network_,
            train,
            val,
            train_config,
            pad_id=target.pad_id,
            task=Seq2SeqTask(),
            callbacks=callbacks,
            stop_event=stop_event,
            checkpoint_dir=checkpoint_dir,
            progress=progress,
        )
        self.device_ = torch.device(self.history_.device)
        return self

    def _encode_pairs(self, sources: list[str], golds: list[str], split: str) -> PairDataset:
        """Token ids of both sides, cut to the model's lengths (a warning says how many)."""
        config = self.network_.config
        source_ids = self.source_tokenizer_.encode_ids(sources)
        target_ids = self.target_tokenizer_.encode_ids(golds)
        long_sources = sum(len(ids) > config.max_source_length for ids in source_ids)
        long_targets = sum(len(ids) > config.max_target_length for ids in target_ids)
        if long_sources or long_targets:
            warnings.warn(
                f"{split} data: {long_sources} source(s) longer than max_source_length="
                f"{config.max_source_length} and {long_targets} target(s) longer than "
                f"max_target_length={config.max_target_length} tokens (counting the start "
                "token) were cut to fit; raise them in Seq2SeqConfig to keep whole sentences",
                UserWarning,
                stacklevel=3,
            )
        return PairDataset(
            [ids[: config.max_source_length] for ids in source_ids],
            [ids[: config.max_target_length] for ids in target_ids],
            config.eos_token_id,
        )

    def num_parameters(self) -> int:
        """Number of weights in the trained network (embeddings included)."""
        check_fitted(self, "network_")
        return self.network_.num_parameters()

    # ---------------------------------------------------------------- inference
    def _budget(self, max_length: int | None) -> int:
        top = self.network_.config.max_target_length
        if max_length is None:
            return top
        max_length = check_count("max_length", max_length, 1)
        if max_length > top:
            raise InputError(
                f"max_length={max_length} is more than this model can generate: it has "
                f"positions for {top} target tokens (max_target_length); give at most {top}"
            )
        return max_length

    @torch.inference_mode()
    def translate(
        self,
        texts: Sequence[str],
        *,
        beam_size: int = 1,
        max_length: int | None = None,
        length_penalty: float = 1.0,
        batch_size: int = 128,
    ) -> list[Translation]:
        """Translate each text; one :class:`Translation` per text, in order.

        Args:
            texts: source sentences (a list, not one string).
            beam_size: 1 decodes greedily (batched); more runs beam search per text.
            max_length: the most target tokens to generate, end-of-sequence counted
                (default and upper bound: the model's ``max_target_length``). A
                translation that reaches it stops with ``stop_reason="max_length"``.
            length_penalty: beam search ranks finished hypotheses by
                ``log p / length ** length_penalty``.
            batch_size: sources per greedy batch.
        """
        check_fitted(self, "network_")
        texts = as_text_list(texts)
        beam_size = check_count("beam_size", beam_size, 1)
        batch_size = check_count("batch_size", batch_size, 1)
        if not math.isfinite(length_penalty):
            raise InputError(f"length_penalty must be a finite number, got {length_penalty}")
        budget = self._budget(max_length)
        network = self.network_
        if network.training:
            network.eval()
        config = network.config
        encodings = self.source_tokenizer_.encode_batch(texts)
        ids = [e.ids[: config.max_source_length] for e in encodings]
        hypotheses: list[Hypothesis | None] = [None] * len(texts)
        todo = [i for i, e in enumerate(encodings) if e.words]  # an empty source: no call
        if beam_size == 1:
            todo.sort(key=lambda i: len(ids[i]))
            for start in range(0, len(todo), batch_size):
                rows = todo[start : start + batch_size]
                input_ids, mask = pad_batch([ids[i] for i in rows], config.pad_token_id)
                found = greedy_decode(
                    network, input_ids.to(self.device_), mask.to(self.device_), budget
                )
                for i, hypothesis in zip(rows, found, strict=True):
                    hypotheses[i] = hypothesis
        else:
            for i in todo:
                input_ids, mask = pad_batch([ids[i]], config.pad_token_id)
                hypotheses[i] = beam_search(
                    network,
                    input_ids.to(self.device_),
                    mask.to(self.device_),
                    budget,
                    beam_size,
                    length_penalty,
                )
        return [
            self._translation(text, encoding.words, ids[i], hypotheses[i], budget)
            for i, (text, encoding) in enumerate(zip(texts, encodings, strict=True))
        ]

    def _token(self, token_id: int) -> str:
        if token_id == self.network_.config.eos_token_id:
            return EOS
        return self.target_tokenizer_.id_to_token(token_id) or "[UNK]"

    def _translation(
        self,
        text: str,
        words: list[Word],
        source_ids: list[int],
        hypothesis: Hypothesis | None,
        budget: int,
    ) -> Translation:
        notes = []
        config = self.network_.config
        if hypothesis is None:
            notes.append("empty source: it has no words, so there is nothing to translate")
            return Translation(
                text, tuple(words), tuple(source_ids), (), (), EMPTY_REASON, 0.0, tuple(notes)
            )
        read = len(source_ids) - 1
        if read < len(words):
            notes.append(
                f"the source has {len(words)} words but the model reads at most {read} "
                f"(max_source_length={config.max_source_length} counts [CLS]): the words "
                f"from {words[read].text!r} on were not translated"
            )
        unknown = [
            w.text
            for w, i in zip(words, source_ids[1:], strict=False)
            if i == self.source_tokenizer_.unk_id
        ]
        if unknown:
            shown = ", ".join(repr(w) for w in dict.fromkeys(unknown))
            notes.append(
                f"{len(unknown)} source word(s) never seen in training, read as [UNK] "
                f"(unknown): {shown}"
            )
        tokens = tuple(self._token(i) for i in hypothesis.ids)
        if "[UNK]" in tokens:
            notes.append("the translation contains [UNK]: a target word rare in training")
        if hypothesis.stop_reason == LENGTH_REASON:
            notes.append(
                f"no end-of-sequence within {budget} tokens (max_length): the translation "
                "was cut there and may be incomplete"
            )
        return Translation(
            text,
            tuple(words),
            tuple(source_ids),
            tokens,
            hypothesis.ids,
            hypothesis.stop_reason,
            hypothesis.score,
            tuple(notes),
        )

    def forced_inputs(self, translation: Translation) -> dict[str, torch.Tensor]:
        """The network's inputs that reproduce ``translation`` in one teacher-forced pass.

        ``input_ids`` (1, S) are the source as read; ``decoder_input_ids`` (1, T) the start
        token and the generated tokens; ``labels`` (1, T) the token each decoder position
        produced: the generated tokens, then ``[EOS]`` when decoding ended there (a
        translation cut at ``max_length`` has no ``[EOS]``, and its last token is not fed
        back). Explainers run the forward on these and read position ``i``'s logits for
        target token ``i``.
        """
        check_fitted(self, "network_")
        config = self.network_.config
        ids = list(translation.token_ids)
        if translation.stop_reason == LENGTH_REASON:
            decoder, labels = [config.bos_token_id, *ids[:-1]], ids
        else:
            decoder, labels = [config.bos_token_id, *ids], [*ids, config.eos_token_id]
        return {
            "input_ids": torch.tensor([list(translation.source_ids)], device=self.device_),
            "decoder_input_ids": torch.tensor([decoder], device=self.device_),
            "labels": torch.tensor([labels], device=self.device_),
        }

    def reference_tokens(self, text: str) -> list[str]:
        """A reference translation's word units as the model writes them (NFC, and lower
        case when the target tokenizer folds case): what exact match compares with."""
        check_fitted(self, "network_")
        fold = self._target_settings().lowercase
        out = []
        for word in self.target_tokenizer_.words(text):
            token = unicodedata.normalize("NFC", word.text)
            out.append(token.lower() if fold else token)
        return out

    def evaluate(
        self,
        data: Any,
        targets: Sequence[str] | None = None,
        *,
        beam_size: int = 1,
        max_length: int | None = None,
        length_penalty: float = 1.0,
    ) -> dict[str, float]:
        """Translate the sources and score them against the targets.

        Returns ``n``, ``exact_match`` (0-1: every word unit right), corpus ``bleu`` and
        ``chrf`` (0-100, through sacrebleu), ``stopped_at_max_length`` (how many never
        emitted end-of-sequence), ``unknown_source_words`` (the share of source words read
        as [UNK]), ``beam_size`` and ``seconds`` (decoding time).
        """
        sources, golds = as_pairs(data, targets, "evaluation data")
        if not sources:
            raise InputError("evaluation data needs at least one (source, target) pair")
        started = time.perf_counter()
        found = self.translate(
            sources, beam_size=beam_size, max_length=max_length, length_penalty=length_penalty
        )
        seconds = time.perf_counter() - started
        scores = corpus_scores([t.tokens for t in found], [self.reference_tokens(g) for g in golds])
        return {
            "n": len(sources),
            **scores,
            "stopped_at_max_length": sum(t.stop_reason == LENGTH_REASON for t in found),
            "unknown_source_words": self.source_tokenizer_.unknown_rate(sources),
            "beam_size": beam_size,
            "seconds": seconds,
        }

    # ---------------------------------------------------------------- artifacts
    def save(self, directory: str | os.PathLike) -> Path:
        """Write the artifact directory atomically and return its path: ``model.safetensors``
        (weights), ``config.json`` (model, training and both tokenizers' settings, their
        segmenters, versions, artifact format), ``source_tokenizer.json``,
        ``target_tokenizer.json`` and ``metrics.json`` (training history). No pickle."""
        check_fitted(self, "network_")

        def write(staging: Path) -> None:
            state = {
                k: v.detach().cpu().contiguous() for k, v in self.network_.state_dict().items()
            }
            save_file(state, staging / "model.safetensors", metadata={"format": "pt"})
            self.source_tokenizer_.save(staging / "source_tokenizer.json")
            self.target_tokenizer_.save(staging / "target_tokenizer.json")
            config = {
                "model_type": MODEL_TYPE,
                "artifact_format": ARTIFACT_FORMAT,
                "workbench_version": __version__,
                "model": self.network_.config.to_dict(),
                "training": self._train_settings().to_dict(),
                "source_tokenizer": (self.source_tokenizer_config or TokenizerConfig()).to_dict(),
                "target_tokenizer": self._target_settings().to_dict(),
                "source_segmentation": self.source_tokenizer_.segmenter.to_dict(),
                "target_segmentation": self.target_tokenizer_.segmenter.to_dict(),
            }
            write_json(staging / "config.json", config)
            write_json(staging / "metrics.json", {"history": self.history_.to_dict()})

        return write_artifact(directory, write)

    @classmethod
    def load(cls, directory: str | os.PathLike, device: str = "cpu") -> Translator:
        """Rebuild a translator from :meth:`save`'s directory; it translates identically."""
        path = check_artifact(directory, MODEL_TYPE, _FILES)
        where = f"{path}/config.json"
        config = read_json(path / "config.json")
        try:
            model_config = Seq2SeqConfig.from_dict(config["model"])
            translator = cls(
                model_config=model_config,
                train_config=TrainConfig.from_dict(config["training"]),
                source_tokenizer_config=TokenizerConfig.from_dict(config["source_tokenizer"]),
                target_tokenizer_config=TokenizerConfig.from_dict(config["target_tokenizer"]),
            )
            segmenters = [
                Segmenter.from_dict(config[f"{side}_segmentation"], where)
                for side in ("source", "target")
            ]
        except (KeyError, TypeError) as exc:
            raise InputError(f"{where}: missing or malformed entry {exc}") from exc
        except InputError as exc:
            raise InputError(f"{where}: {exc}; save the model again") from exc
        source = WordTokenizer.load(path / "source_tokenizer.json", segmenters[0])
        target = WordTokenizer.load(path / "target_tokenizer.json", segmenters[1])
        if (
            source.vocab_size > model_config.source_vocab_size
            or target.vocab_size + 1 != model_config.target_vocab_size
            or model_config.eos_token_id != target.vocab_size
        ):
            raise InputError(
                f"{path}: the tokenizers' vocabularies ({source.vocab_size} source, "
                f"{target.vocab_size} target words) do not fit the network's "
                f"({model_config.source_vocab_size}, {model_config.target_vocab_size} with "
                "[EOS]); the files do not belong together: save the model again"
            )
        translator.source_tokenizer_, translator.target_tokenizer_ = source, target
        translator.network_ = load_network(path, lambda: Seq2SeqTransformer(model_config))
        translator.device_ = resolve_device(device)
        translator.network_.to(translator.device_).eval()
        translator.history_ = History.from_artifact(path)
        return translator
