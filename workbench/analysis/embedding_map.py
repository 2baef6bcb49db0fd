"""How a model arranges texts: a 2-D map of its representations, and nearest neighbours.

The **representation** of a text is the vector the model's classification head reads:

- the from-scratch :class:`~workbench.classifier.TextClassifier` (transformer or bag of
  embeddings, the distilled student too) and the fine-tuned encoders of
  :mod:`workbench.pretrained`: the input of the network's final linear layer (``head``),
  caught by a forward pre-hook while the model runs its own tokenization and batching, so
  ``head(representation) == logits`` (checked on the first batch of every run);
- the frozen-encoder probe: the mean-pooled encoder output its logistic regression reads;
- TF-IDF + logistic regression (:class:`~workbench.baselines.TfidfLogisticRegression`, or a
  scikit-learn ``Pipeline`` whose last step classifies): the TF-IDF vectors, reduced by
  ``TruncatedSVD`` fitted on the texts given (the head reads the sparse vectors themselves;
  the reduction makes them a space to map and search). The ``space`` of a map or an index
  says which of these it is.

:func:`embedding_map` projects the representations of a set of examples to two dimensions
(PCA always, with its explained variance; UMAP when ``umap-learn`` is installed) and
:meth:`EmbeddingMap.figure` draws them as a plotly scatter coloured by label, prediction,
error, a column or a :class:`~workbench.analysis.Slice`, with each text on hover and its
example index as the point's ``customdata`` (a panel reads it to explain the picked point).
:func:`nearest_neighbours` finds the training texts closest to a query by cosine
similarity in the representation space; a :class:`RepresentationIndex` keeps the training
matrix, so repeated queries encode only the queries::

    emap = embedding_map(model, Examples.from_model(model, test_texts, test_labels))
    emap.figure(color_by="error")
    index = RepresentationIndex.build(model, train_texts, train_labels)
    index.query(["not good at all"], k=5)

**Cost.** One forward pass per text, in batches of ``batch_size`` (memory stays bounded by
one batch's activations plus the ``(n, d)`` float32 matrix: 100,000 texts of a 384-wide
encoder are 150 MB). From 5,000 texts on, a progress bar runs and, after the first texts,
an estimate of the whole run is printed. Measured on a shared CPU, one thread: 100,000
short reviews through the default 128-wide, 2-layer transformer, map from plain texts in
89 s (one pass: the probabilities come from the same logits), peak memory +100 MB over
the loaded model; 100 neighbour queries against those 100,000 in 1.4 s; TF-IDF + SVD in 25 s.
"""

from __future__ import annotations

import html
import importlib.util
import textwrap
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
import torch
from scipy import sparse

from workbench.analysis.examples import PROGRESS_FROM, Examples
from workbench.analysis.slices import Slice
from workbench.batching import batched_logits
from workbench.calibration import scaled_softmax
from workbench.data import as_text_list, check_count, plain
from workbench.errors import InputError
from workbench.estimators import TextModel, check_fitted
from workbench.explain.render import BLUE, GREY, RED
from workbench.progress import announce, duration, plural, progress_bar, timed_pieces

if TYPE_CHECKING:
    import plotly.graph_objects as go

__all__ = [
    "EmbeddingMap",
    "RepresentationIndex",
    "embedding_map",
    "nearest_neighbours",
    "representations",
    "umap_available",
]

Method = Literal["pca", "umap", "auto"]

# Texts per model call: a small first piece, timed for the estimate, then larger ones.
FIRST_PIECE = 32
PIECE_TEXTS = 512
# TF-IDF vectors are reduced to at most this many SVD components (latent semantic analysis).
SVD_COMPONENTS = 100
# Query rows x training rows of cosine similarities held at once (float32: 64 MB).
_SIMILARITY_CELLS = 1 << 24
# Figures show at most this many points by default; beyond, a seeded random sample (a
# notebook with 100,000 hover texts weighs tens of megabytes and scrolls badly).
MAX_POINTS = 20_000
# From this many points on, the figure draws with WebGL (Scattergl).
_WEBGL_FROM = 5_000
# Hover text: at most this many characters of a text, wrapped at this width.
HOVER_CHARS = 240
_HOVER_WIDTH = 60
# Categorical colourings: more distinct values than this are cut to the most frequent.
_MAX_GROUPS = 12
# Colours of the categories after BLUE and RED (plotly's "Safe" palette, colour-blind safe).
_MORE_COLOURS = (
    "#DDCC77",
    "#117733",
    "#332288",
    "#AA4499",
    "#44AA99",
    "#999933",
    "#882255",
    "#661100",
    "#6699CC",
    "#888888",
)
_SUPPORTED = (
    "workbench TextClassifier (transformer, bag of embeddings, distilled students), "
    "PretrainedEncoderClassifier (fine-tuned or probe), HFSequenceClassifier, "
    "TfidfLogisticRegression, or a scikit-learn Pipeline ending in a classifier"
)


def _hex(rgb: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def umap_available() -> bool:
    """Whether UMAP (the ``umap-learn`` package) is installed."""
    return importlib.util.find_spec("umap") is not None


# ------------------------------------------------------------------ representations
class _Encoder:
    """How one model turns texts into representation vectors; ``space`` says which."""

    space: str
    # The logits of the last encode() when they came with it (a network's head), else None.
    last_logits: np.ndarray | None = None

    def encode(self, texts: list[str], batch_size: int, progress: bool) -> np.ndarray:
        raise NotImplementedError


class _HeadInputEncoder(_Encoder):
    """The input of a network's final linear layer, caught by a forward pre-hook while the
    model's own :func:`workbench.batching.batched_logits` runs its batches."""

    def __init__(
        self,
        network: torch.nn.Module,
        head: torch.nn.Linear,
        encode_ids: Callable[[list[str]], list[list[int]]],
        pad_id: int,
        device: torch.device,
        space: str,
    ) -> None:
        self.network, self.head, self.encode_ids = network, head, encode_ids
        self.pad_id, self.device, self.space = pad_id, device, space

    @torch.inference_mode()
    def encode(self, texts: list[str], batch_size: int, progress: bool) -> np.ndarray:
        batch_size = check_count("batch_size", batch_size, 1)
        if self.network.training:  # dropout off: the head reads what predict_proba's does
            self.network.eval()
        out = np.empty((len(texts), self.head.in_features), dtype=np.float32)
        all_logits = np.empty((len(texts), self.head.out_features), dtype=np.float64)
        caught: list[torch.Tensor] = []

        def catch(module: torch.nn.Module, args: tuple) -> None:
            caught.append(args[0].detach().float().cpu())

        checked = False  # the first piece is checked: head(representation) == logits

        def run(piece: list[str]) -> np.ndarray:
            nonlocal checked
            caught.clear()
            ids = self.encode_ids(piece)
            logits = batched_logits(
                self.network, ids, self.pad_id, self.head.out_features, self.device, batch_size
            )
            if sum(len(t) for t in caught) != len(piece) or any(t.ndim != 2 for t in caught):
                raise InputError(
                    f"{type(self.network).__name__}: its head was not called once per text "
                    f"({len(caught)} calls for {len(piece)} texts); the representation is "
                    "defined as the input of a head that reads one vector per text"
                )
            # batched_logits sorts by length (stable) before batching: undo that order.
            order = np.argsort([len(i) for i in ids], kind="stable")
            vectors = np.empty((len(piece), self.head.in_features), dtype=np.float32)
            vectors[order] = torch.cat(caught).numpy()
            if not checked:
                self._check(vectors[:8], logits[:8])
                checked = True
            all_logits[len(done) : len(done) + len(piece)] = logits
            done.extend(piece)
            return vectors

        done: list[str] = []
        handle = self.head.register_forward_pre_hook(catch)
        try:
            for vectors, begin, end in _in_pieces(texts, run, progress, "representations"):
                out[begin:end] = vectors
        finally:
            handle.remove()
        self.last_logits = all_logits
        return out

    def _check(self, vectors: np.ndarray, logits: np.ndarray) -> None:
        """The head applied to the caught vectors must give the logits; else the network
        does more after its head, and the caught input is not what the prediction reads."""
        again = vectors @ self.head.weight.detach().float().cpu().numpy().T
        if self.head.bias is not None:
            again = again + self.head.bias.detach().float().cpu().numpy()
        if not np.allclose(again, logits, rtol=1e-3, atol=1e-3):
            raise InputError(
                f"{type(self.network).__name__}: its logits are not its head applied to the "
                "head's input, so that input is not the representation the prediction reads; "
                "maps and neighbours support networks whose last step is the head"
            )


class _ProbeEncoder(_Encoder):
    """A frozen encoder's mean-pooled output, the features a probe's regression reads."""

    def __init__(self, model: Any) -> None:
        self.model = model
        hidden = model.encoder_.config.hidden_size
        self.space = (
            f"the mean-pooled output of the frozen encoder ({hidden} dimensions) that the "
            "probe's logistic regression reads"
        )

    def encode(self, texts: list[str], batch_size: int, progress: bool) -> np.ndarray:
        def run(piece: list[str]) -> np.ndarray:
            return self.model._embed(piece).astype(np.float32)

        out = np.empty((len(texts), self.model.encoder_.config.hidden_size), dtype=np.float32)
        for vectors, begin, end in _in_pieces(texts, run, progress, "representations"):
            out[begin:end] = vectors
        return out


class _SparseFeatureEncoder(_Encoder):
    """Sparse features (TF-IDF) reduced by a TruncatedSVD fitted on the first texts given."""

    def __init__(self, features: Callable[[list[str]], Any], name: str, components: int) -> None:
        self.features, self.name = features, name
        self.components = check_count("svd_components", components, 2)
        self.svd: Any = None
        self.space = f"{name} vectors (an SVD is fitted on the first texts encoded)"

    def encode(self, texts: list[str], batch_size: int, progress: bool) -> np.ndarray:
        # in pieces, for the bar (and the estimate) on a large set; the SVD sees them all
        pieces = [part for part, _, _ in _in_pieces(texts, self.features, progress, "features")]
        matrix: Any = sparse.vstack(pieces, format="csr") if sparse.issparse(pieces[0]) else None
        if matrix is None:
            matrix = np.vstack([np.asarray(part) for part in pieces])
        n_terms = int(matrix.shape[1])
        if not sparse.issparse(matrix):  # dense features are a space as they are
            self.space = f"{self.name} ({n_terms} dimensions), as the classifier reads them"
            return np.asarray(matrix, dtype=np.float32)
        if self.svd is None:
            from sklearn.decomposition import TruncatedSVD

            # TruncatedSVD needs fewer components than terms; two points need only one.
            size = min(self.components, n_terms - 1, max(len(texts) - 1, 1))
            if size < 1:
                raise InputError(
                    f"{self.name}: {n_terms} term(s); a map of TF-IDF vectors needs at least "
                    "two terms in the vocabulary"
                )
            self.svd = TruncatedSVD(n_components=size, random_state=0).fit(matrix)
            kept = float(self.svd.explained_variance_ratio_.sum())
            self.space = (
                f"{self.name} vectors ({n_terms} terms) reduced to {size} dimensions by "
                f"TruncatedSVD fitted on {plural(len(texts), 'text')} ({kept:.0%} of the "
                "variance kept); the model's regression reads the full vectors"
            )
        return self.svd.transform(matrix).astype(np.float32)


def _in_pieces(texts: list[str], run: Callable[[list[str]], Any], progress: bool, desc: str):
    """``(run(piece), begin, end)`` over pieces of the texts (32, then 512 each), so memory
    holds one piece's token ids and the bar moves. From :data:`PROGRESS_FROM` texts on, an
    estimate of the whole run is said after the second piece, extrapolated from that
    piece's time per character (the first piece also pays for warming up)."""
    show = progress and len(texts) >= PROGRESS_FROM
    bar = progress_bar(total=len(texts), show=show, desc=desc, unit="text")
    started = time.perf_counter()
    try:
        for number, (begin, end) in enumerate(timed_pieces(len(texts), FIRST_PIECE, PIECE_TEXTS)):
            piece_started = time.perf_counter()
            yield run(texts[begin:end]), begin, end
            bar.update(end - begin)
            if number == 1 and len(texts) >= PROGRESS_FROM:
                now = time.perf_counter()
                rate = (now - piece_started) / max(sum(map(len, texts[begin:end])), 1)
                left = rate * sum(map(len, texts[end:]))
                announce(
                    f"{desc} of {plural(len(texts), 'text')}: about "
                    f"{duration(now - started + left)} in all (the first {end} took "
                    f"{now - started:.2f} s; extrapolated by their length)",
                    bar,
                    show,
                )
    finally:
        bar.close()


def _final_linear(network: torch.nn.Module, num_classes: int) -> torch.nn.Linear | None:
    """The network's classification head: ``network.head`` when it is a linear layer (the
    workbench's own networks), else its last linear layer with one output per class (a
    Hugging Face sequence classifier's ``classifier`` or ``out_proj``)."""
    head = getattr(network, "head", None)
    if isinstance(head, torch.nn.Linear):
        return head
    linears = [
        m
        for m in network.modules()
        if isinstance(m, torch.nn.Linear) and m.out_features == num_classes
    ]
    return linears[-1] if linears else None


def _head_description(network: torch.nn.Module, head: torch.nn.Linear) -> str:
    pooling = getattr(getattr(network, "config", None), "pooling", None)
    pooling = getattr(network, "pooling", pooling)
    kind = type(network).__name__
    how = {
        "BagOfEmbeddingsClassifier": "the mean of the token embeddings",
        "MeanPooledEncoder": "the mean of the encoder's last hidden states",
        "SequenceClassificationNetwork": "the pooled [CLS] vector its classifier reads",
    }.get(kind)
    if how is None:
        how = "the final layer's [CLS] vector" if pooling == "cls" else "the final layer's mean"
    return f"the {head.in_features}-dimensional input of {kind}'s head: {how}"


def _encoder_for(model: Any, svd_components: int = SVD_COMPONENTS) -> _Encoder:
    """The way ``model``'s representations are read; an InputError for other models."""
    name = type(model).__name__
    from sklearn.pipeline import Pipeline

    if isinstance(model, Pipeline):
        if len(model.steps) < 2:
            raise InputError(
                f"a Pipeline of one step has no features before its classifier; {_SUPPORTED}"
            )
        features = model[:-1]
        return _SparseFeatureEncoder(features.transform, "the pipeline's features", svd_components)
    if hasattr(model, "vectorizer_") and hasattr(model, "classifier_"):
        return _SparseFeatureEncoder(model.vectorizer_.transform, "TF-IDF", svd_components)
    network = getattr(model, "model_", None)
    classes = getattr(model, "classes_", None)
    if network is None and hasattr(model, "encoder_") and hasattr(model, "_embed"):
        return _ProbeEncoder(model)
    if isinstance(network, torch.nn.Module) and classes is not None:
        head = _final_linear(network, len(classes))
        tokenizer, hf_tokenizer = getattr(model, "tokenizer_", None), None
        if tokenizer is None:
            hf_tokenizer = getattr(model, "hf_tokenizer_", None)
        if head is not None and (tokenizer is not None or hf_tokenizer is not None):
            device = getattr(model, "device_", torch.device("cpu"))
            space = _head_description(network, head)
            if tokenizer is not None:
                config: Any = network.config
                max_length = int(config.max_length)

                def encode_ids(texts: list[str]) -> list[list[int]]:
                    return tokenizer.encode_ids(texts, max_length)

                return _HeadInputEncoder(network, head, encode_ids, tokenizer.pad_id, device, space)
            pad_id = int(getattr(hf_tokenizer, "pad_token_id", 0) or 0)
            return _HeadInputEncoder(network, head, model._encode_ids, pad_id, device, space)
    if hasattr(model, "fit"):  # a known model before fit(): say so, not "unsupported"
        check_fitted(model, "classes_")
    raise InputError(
        f"{name} has no representation that maps and neighbours can read (no network with "
        f"a linear head, no TF-IDF features); supported: {_SUPPORTED}"
    )


def representations(
    model: TextModel,
    texts: Sequence[str],
    *,
    batch_size: int = 256,
    progress: bool = True,
    svd_components: int = SVD_COMPONENTS,
) -> np.ndarray:
    """The vector the model's head reads for each text, ``(n, d)`` float32, in input order.

    See the module's docstring for what it is per kind of model; for TF-IDF pipelines it is
    the TF-IDF vectors reduced by a TruncatedSVD (``svd_components`` at most) fitted on
    ``texts``. :func:`embedding_map` and :class:`RepresentationIndex` also say it in words
    (their ``space``).

    Raises:
        InputError: for a model with no representation (naming its type and what is
            supported), an unfitted model, or no texts.
    """
    text_list = as_text_list(texts, "texts")
    if not text_list:
        raise InputError("texts is empty; give at least one text")
    return _encoder_for(model, svd_components).encode(text_list, batch_size, progress)


# ------------------------------------------------------------------ neighbours
@dataclass
class RepresentationIndex:
    """Training texts' representations, kept so that queries encode only themselves.

    Build with :meth:`build` (or :meth:`EmbeddingMap.index`); :meth:`query` returns each
    query's ``k`` most similar texts by cosine similarity.

    Attributes:
        model: the model whose representations these are (queries go through it).
        texts: the indexed texts; ``labels`` their labels (or None).
        vectors: ``(n, d)`` float32 representations, in text order.
        space: what the vectors are, in words.
    """

    model: Any
    texts: list[str]
    labels: list | None
    vectors: np.ndarray
    space: str
    _encoder: _Encoder = field(repr=False)
    _unit: np.ndarray | None = field(default=None, repr=False)

    @classmethod
    def build(
        cls,
        model: TextModel,
        texts: Sequence[str],
        labels: Sequence | None = None,
        *,
        batch_size: int = 256,
        progress: bool = True,
        svd_components: int = SVD_COMPONENTS,
    ) -> RepresentationIndex:
        """Encode ``texts`` once (a TF-IDF model's SVD is fitted on them)."""
        text_list = as_text_list(texts, "train_texts")
        if not text_list:
            raise InputError("train_texts is empty; give at least one text to search")
        label_list = None
        if labels is not None:
            label_list = [plain(v) for v in labels]
            if len(label_list) != len(text_list):
                raise InputError(
                    f"there are {len(text_list)} train_texts but {len(label_list)} labels; "
                    "give one label per text"
                )
        encoder = _encoder_for(model, svd_components)
        vectors = encoder.encode(text_list, batch_size, progress)
        return cls(model, text_list, label_list, vectors, encoder.space, encoder)

    def __len__(self) -> int:
        return len(self.texts)

    def query(
        self,
        query_texts: Sequence[str] | str,
        k: int = 5,
        *,
        batch_size: int = 256,
        progress: bool = True,
    ) -> pd.DataFrame:
        """The ``k`` indexed texts most similar to each query (fewer if the index is smaller).

        Returns one row per (query, neighbour), most similar first: ``query`` (the query's
        position), ``query_text``, ``rank`` (1 = nearest), ``index`` (the neighbour's
        position in the indexed texts), ``text``, ``label`` (None without labels) and
        ``similarity`` (cosine, in [-1, 1]). Ties go to the earlier text.
        """
        queries = [query_texts] if isinstance(query_texts, str) else as_text_list(query_texts)
        if not queries:
            raise InputError("query_texts is empty; give at least one text")
        vectors = self._encoder.encode(queries, batch_size, progress)
        return self.query_vectors(vectors, k, queries)

    def query_vectors(
        self, vectors: np.ndarray, k: int = 5, query_texts: Sequence[str] | None = None
    ) -> pd.DataFrame:
        """As :meth:`query`, for representations already computed (``(m, d)``)."""
        k = min(check_count("k", k, 1), len(self.texts))
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[1] != self.vectors.shape[1]:
            raise InputError(
                f"query vectors must have shape (m, {self.vectors.shape[1]}), got {vectors.shape}"
            )
        if self._unit is None:
            self._unit = _unit_rows(self.vectors)
        queries = _unit_rows(vectors)
        step = max(1, _SIMILARITY_CELLS // max(len(self.texts), 1))
        rows = []
        for begin in range(0, len(queries), step):
            similarity = queries[begin : begin + step] @ self._unit.T  # (m, n)
            for offset, row in enumerate(similarity):
                # highest first; among equals the earlier text (lexsort's last key is primary)
                candidates = np.argpartition(-row, k - 1)[:k] if k < len(row) else np.arange(k)
                threshold = row[candidates].min()
                candidates = np.flatnonzero(row >= threshold)
                best = candidates[np.lexsort((candidates, -row[candidates]))][:k]
                q = begin + offset
                for rank, j in enumerate(best, start=1):
                    rows.append(
                        {
                            "query": q,
                            "query_text": None if query_texts is None else query_texts[q],
                            "rank": rank,
                            "index": int(j),
                            "text": self.texts[j],
                            "label": None if self.labels is None else self.labels[j],
                            "similarity": float(row[j]),
                        }
                    )
        return pd.DataFrame(
            rows, columns=["query", "query_text", "rank", "index", "text", "label", "similarity"]
        )


def _unit_rows(matrix: np.ndarray) -> np.ndarray:
    """Rows scaled to length 1 (a zero row stays zero: similarity 0 to everything)."""
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return (matrix / np.maximum(norms, 1e-12)).astype(np.float32)


def nearest_neighbours(
    model: TextModel,
    query_texts: Sequence[str] | str,
    train: Sequence[str] | Examples | EmbeddingMap | RepresentationIndex,
    *,
    k: int = 5,
    train_labels: Sequence | None = None,
    space: str = "representation",
    batch_size: int = 256,
    progress: bool = True,
) -> pd.DataFrame:
    """The ``k`` training texts nearest each query in ``model``'s representation space.

    Args:
        model: the model whose representations are compared.
        query_texts: one text or several.
        train: the training texts (encoded here, once per call), or something that already
            holds their representations, so repeated queries do not encode them again: a
            :class:`RepresentationIndex`, or an :class:`EmbeddingMap` (the map's texts).
            :class:`Examples` bring their labels.
        k: neighbours per query (at most the number of training texts).
        train_labels: labels of plain ``train`` texts, shown beside each neighbour.
        space: ``"representation"``, the only space so far: cosine similarity between the
            vectors the head reads (the 2-D map's distances distort them).

    Returns:
        :meth:`RepresentationIndex.query`'s frame (query, query_text, rank, index, text,
        label, similarity).
    """
    if space != "representation":
        raise InputError(
            f"space must be 'representation' (cosine similarity of the vectors the model's "
            f"head reads), got {space!r}"
        )
    if isinstance(train, EmbeddingMap):
        train = train.index()
    if isinstance(train, RepresentationIndex):
        if train.model is not model:
            raise InputError(
                "the index (or map) was built with another model; its vectors and this "
                "model's queries would be in different spaces. Build it with this model"
            )
        if train_labels is not None:
            raise InputError("train_labels is for plain texts; the index has its labels")
        index = train
    else:
        if isinstance(train, Examples):
            if train_labels is not None:
                raise InputError("train_labels is for plain texts; the examples have labels")
            train_labels, train = train.labels, train.texts
        index = RepresentationIndex.build(
            model, train, train_labels, batch_size=batch_size, progress=progress
        )
    return index.query(query_texts, k, batch_size=batch_size, progress=progress)


# ------------------------------------------------------------------ the map
@dataclass
class EmbeddingMap:
    """Examples placed on a 2-D map of a model's representations.

    Attributes:
        examples: the examples mapped (texts, labels, predictions, columns).
        vectors: ``(n, d)`` float32 representations (:func:`representations`).
        coordinates: ``(n, 2)`` map positions.
        method: ``"pca"`` or ``"umap"``.
        space: what the vectors are, in words.
        explained_variance: PCA's share of the variance along each axis; None for UMAP.
        model: the model mapped (queries and neighbours go through it).
    """

    examples: Examples
    vectors: np.ndarray
    coordinates: np.ndarray
    method: str
    space: str
    explained_variance: tuple[float, float] | None
    model: Any = field(repr=False)
    _encoder: _Encoder = field(repr=False)
    _index: RepresentationIndex | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.examples)

    @property
    def axis_titles(self) -> tuple[str, str]:
        """The axes' names, with PCA's share of the variance."""
        if self.explained_variance is None:
            return ("UMAP 1", "UMAP 2")
        first, second = self.explained_variance
        return (f"PC1 ({first:.0%} of the variance)", f"PC2 ({second:.0%} of the variance)")

    def to_frame(self) -> pd.DataFrame:
        """One row per example: ``x``, ``y``, ``text``, ``label`` and ``prediction`` (None
        when absent), ``correct`` and ``confidence`` when known, then the other columns."""
        ex = self.examples
        frame = pd.DataFrame(
            {
                "x": self.coordinates[:, 0],
                "y": self.coordinates[:, 1],
                "text": ex.texts,
                "label": ex.labels if ex.labels is not None else [None] * len(ex),
                "prediction": ex.predictions if ex.has_predictions else [None] * len(ex),
            }
        )
        if ex.has_labels and ex.has_predictions:
            frame["correct"] = ex.correct("the map")
        if ex.proba is not None:
            frame["confidence"] = ex.confidence("the map")
        for name in ex.columns.columns:
            if name not in frame.columns:
                frame[name] = ex.columns[name].to_numpy()
        return frame

    def index(self) -> RepresentationIndex:
        """The map's representations as a :class:`RepresentationIndex` (made once)."""
        if self._index is None:
            ex = self.examples
            self._index = RepresentationIndex(
                self.model, ex.texts, ex.labels, self.vectors, self.space, self._encoder
            )
        return self._index

    def neighbours(self, query_texts: Sequence[str] | str, k: int = 5) -> pd.DataFrame:
        """The ``k`` mapped texts nearest each query (see :func:`nearest_neighbours`)."""
        return self.index().query(query_texts, k, progress=False)

    def groups(self, color_by: str | Slice = "label") -> tuple[str, pd.Series | np.ndarray]:
        """What a colouring shows, as ``(title, values)``: one group name per example, or
        numbers for a numeric column or ``"confidence"`` (a continuous colour scale)."""
        ex = self.examples
        if isinstance(color_by, Slice):
            inside = color_by.mask(ex)
            values = np.where(inside, f"in {color_by.name}", "rest")
            return color_by.name, pd.Series(values)
        if not isinstance(color_by, str):
            raise InputError(
                "color_by must be 'label', 'prediction', 'error', 'confidence', a column "
                f"name or a Slice, got {type(color_by).__name__}"
            )
        if color_by == "label":
            ex.true_indices("colouring by label")
            return "label", pd.Series([str(v) for v in ex.labels or []])
        if color_by == "prediction":
            ex.predicted_indices("colouring by prediction")
            return "prediction", pd.Series([str(v) for v in ex.predictions or []])
        if color_by == "error":
            right = ex.correct("colouring by error")
            return "error", pd.Series(np.where(right, "right", "wrong"))
        if color_by == "confidence":
            return "confidence", ex.confidence("colouring by confidence")
        column = ex.column(color_by)
        numeric = pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)
        if numeric and column.nunique(dropna=True) > _MAX_GROUPS:
            return color_by, column.to_numpy(dtype=float)
        text = column.map(lambda v: "(missing)" if _missing(v) else str(v))
        return color_by, text.reset_index(drop=True)

    def figure(
        self,
        color_by: str | Slice = "label",
        *,
        max_points: int = MAX_POINTS,
        title: str | None = None,
        seed: int = 0,
    ) -> go.Figure:
        """The map as a plotly scatter, one trace (legend entry) per group.

        Args:
            color_by: ``"label"``, ``"prediction"``, ``"error"`` (right/wrong),
                ``"confidence"`` or a numeric column (a colour scale), another column's
                values, or a :class:`~workbench.analysis.Slice` (in it / the rest). Classes
                keep one colour in the label and prediction views (the first two are
                :mod:`workbench.explain.render`'s BLUE and RED).
            max_points: beyond this many examples, a seeded random sample is drawn (the
                title says so); every point's ``customdata`` is its example index, so a
                click still names the right example.
            title: the figure's title; by default the method and the space.

        Hover shows the text (HTML-escaped, wrapped, cut after 240 characters), the label,
        the prediction and its confidence.

        A panel that explains the picked point wraps the figure in ``go.FigureWidget`` and,
        in a trace's ``on_click(callback)``, reads the example as
        ``i = int(trace.customdata[points.point_inds[0]])``, then
        ``self.examples.texts[i]`` (labels, predictions and columns by the same index).
        """
        import plotly.graph_objects as go

        max_points = check_count("max_points", max_points, 1)
        name, values = self.groups(color_by)
        n = len(self.examples)
        shown = np.arange(n)
        note = ""
        if n > max_points:
            shown = np.sort(np.random.default_rng(seed).choice(n, max_points, replace=False))
            note = f" — a random {max_points:,} of {n:,} points"
        hover = self._hover_texts(shown)
        scatter = go.Scattergl if len(shown) >= _WEBGL_FROM else go.Scatter
        x, y = self.coordinates[shown, 0], self.coordinates[shown, 1]
        marker = {"size": 6, "opacity": 0.8, "line": {"width": 0}}
        traces = []
        if isinstance(values, np.ndarray) and values.dtype.kind == "f":
            traces.append(
                scatter(
                    x=x,
                    y=y,
                    mode="markers",
                    name=name,
                    customdata=shown,
                    hovertext=hover,
                    hovertemplate="%{hovertext}<extra></extra>",
                    marker={
                        **marker,
                        "color": values[shown],
                        "colorscale": "Viridis",
                        "colorbar": {"title": {"text": _esc(name)}},
                    },
                )
            )
        else:
            groups = pd.Series(values).reset_index(drop=True).to_numpy(dtype=object)
            palette = self._palette(groups, color_by)
            groups = np.where(np.isin(groups, list(palette)), groups, _OTHER)
            if (groups == _OTHER).any():
                palette[_OTHER] = _hex(GREY)
            for group, colour in palette.items():
                rows = np.flatnonzero(groups[shown] == group)
                if not len(rows):
                    continue
                traces.append(
                    scatter(
                        x=x[rows],
                        y=y[rows],
                        mode="markers",
                        name=f"{_esc(str(group))} ({len(rows):,})",
                        customdata=shown[rows],
                        hovertext=[hover[i] for i in rows],
                        hovertemplate="%{hovertext}<extra></extra>",
                        marker={**marker, "color": colour},
                    )
                )
        x_title, y_title = self.axis_titles
        heading = title or f"{self.method.upper()} map of the representations{note}"
        figure = go.Figure(traces)
        figure.update_layout(
            title={"text": _esc(heading)},
            xaxis_title=x_title,
            yaxis_title=y_title,
            legend_title_text=_esc(name),
            template="plotly_white",
            height=520,
            hoverlabel={"align": "left"},
        )
        return figure

    def _palette(self, groups: np.ndarray, color_by: str | Slice) -> dict[Any, str]:
        """Group -> colour: the classes in the examples' order, BLUE and RED first (a class
        keeps its colour in the label and the prediction views); right/wrong as BLUE/RED; in
        a slice/the rest as BLUE/GREY; a column's values by frequency in a colour-blind-safe
        palette, past the twelfth folded into a grey "other"."""
        blue, red, grey = _hex(BLUE), _hex(RED), _hex(GREY)
        if isinstance(color_by, Slice):
            return {f"in {color_by.name}": blue, "rest": grey}
        if color_by == "error":
            return {"right": blue, "wrong": red}
        if color_by in ("label", "prediction"):
            order = [str(c) for c in self.examples.classes]
            colours = [blue, red, *_MORE_COLOURS]
        else:  # not classes: BLUE and RED would read as the two sentiments
            order = [str(v) for v in pd.Series(groups).value_counts(sort=True).index]
            colours = list(_MORE_COLOURS)
        return {group: colours[i % len(colours)] for i, group in enumerate(order[:_MAX_GROUPS])}

    def _hover_texts(self, rows: np.ndarray) -> list[str]:
        """Escaped, wrapped, shortened text with the label, the prediction and confidence."""
        ex = self.examples
        labels, predictions = ex.labels, ex.predictions
        confidence = ex.proba.max(axis=1) if ex.proba is not None else None
        hover = []
        for i in rows:
            lines = [f"<b>#{i}</b> " + _hover_text(ex.texts[i])]
            if labels is not None:
                lines.append(f"label: {_esc(str(labels[i]))}")
            if predictions is not None:
                said = f"prediction: {_esc(str(predictions[i]))}"
                if confidence is not None:
                    said += f" ({confidence[i]:.2f})"
                lines.append(said)
            hover.append("<br>".join(lines))
        return hover


_OTHER = "other"


def _esc(value: Any) -> str:
    """Text for plotly, whose labels are a small HTML: ``<``, ``>`` and ``&`` escaped (quotes
    need not be, and plotly would show ``&quot;`` as it is written)."""
    return html.escape(str(value), quote=False)


def _hover_text(text: str) -> str:
    short = text if len(text) <= HOVER_CHARS else text[: HOVER_CHARS - 1].rstrip() + "…"
    lines = textwrap.wrap(short, _HOVER_WIDTH) or [""]
    return "<br>".join(_esc(line) for line in lines)


def _missing(value: Any) -> bool:
    try:
        return value is None or bool(pd.isna(value))
    except (TypeError, ValueError):  # a list or an array in a cell
        return False


def embedding_map(
    model: TextModel,
    examples: Examples | Sequence[str],
    labels: Sequence | None = None,
    *,
    method: Method = "auto",
    batch_size: int = 256,
    progress: bool = True,
    seed: int = 0,
    svd_components: int = SVD_COMPONENTS,
    umap_settings: dict | None = None,
) -> EmbeddingMap:
    """A 2-D map of ``model``'s representations of ``examples``.

    Args:
        model: a fitted model with a representation (see :func:`representations`).
        examples: :class:`Examples` (labels, predictions and columns come from them), or
            plain texts, with ``labels`` if given: the probabilities then come from the
            logits of the same pass (a network's head; the temperature applied, checked
            against ``predict_proba`` on the first texts), else from
            :meth:`Examples.from_model` (a second pass).
        method: ``"pca"`` (scikit-learn's PCA, always available, axes with their share of
            the variance), ``"umap"`` (needs ``pip install umap-learn``; cosine metric,
            keeps neighbourhoods rather than global distances), or ``"auto"``: UMAP when
            installed, else PCA.
        seed: PCA's randomised solver and UMAP's ``random_state``.
        umap_settings: more arguments for ``umap.UMAP`` (``n_neighbors``, ``min_dist``...).

    Raises:
        InputError: for a model without a representation, fewer than two examples, an
            unknown method, or UMAP asked for but not installed.
    """
    if method not in ("pca", "umap", "auto"):
        raise InputError(f"method must be 'pca', 'umap' or 'auto', got {method!r}")
    if method == "umap" and not umap_available():
        raise InputError(
            "method='umap' needs the umap-learn package: pip install umap-learn "
            "(or use method='pca', always available)"
        )
    if umap_settings is not None and method == "pca":
        raise InputError("umap_settings is for method='umap' or 'auto'; PCA takes none")
    encoder = _encoder_for(model, svd_components)  # before any work: a clear error first
    texts = examples.texts if isinstance(examples, Examples) else as_text_list(examples, "texts")
    if isinstance(examples, Examples) and labels is not None:
        raise InputError("labels is for plain texts; the Examples hold their labels")
    if len(texts) < 2:
        raise InputError(f"a map needs at least two examples, got {len(texts)}")
    vectors = encoder.encode(texts, batch_size, progress)
    mapped = examples if isinstance(examples, Examples) else None
    if mapped is None:
        mapped = _examples_from_logits(model, texts, labels, encoder.last_logits)
    if mapped is None:  # no logits on the way: ask the model
        mapped = Examples.from_model(model, texts, labels, progress=progress)
    chosen = "umap" if method == "umap" or (method == "auto" and umap_available()) else "pca"
    if chosen == "umap":
        coordinates, explained = _umap(vectors, seed, umap_settings or {}), None
    else:
        coordinates, explained = _pca(vectors, seed)
    return EmbeddingMap(
        mapped, vectors, coordinates, chosen, encoder.space, explained, model, encoder
    )


def _examples_from_logits(
    model: Any, texts: list[str], labels: Sequence | None, logits: np.ndarray | None
) -> Examples | None:
    """The examples with the probabilities of the logits the representations came with
    (``softmax(logits / temperature_)``, what ``predict_proba`` computes), saving a second
    pass over the texts; None when they cannot be had, or when the model's own
    ``predict_proba`` disagrees on the first texts (a model that computes it otherwise)."""
    temperature = getattr(model, "temperature_", None)
    if logits is None or temperature is None:
        return None
    proba = scaled_softmax(logits, float(temperature))
    first = texts[:8]
    if not np.allclose(np.asarray(model.predict_proba(first)), proba[: len(first)], atol=1e-5):
        return None
    return Examples(texts, labels, proba=proba, classes=list(model.classes_))


def _pca(vectors: np.ndarray, seed: int) -> tuple[np.ndarray, tuple[float, float]]:
    from sklearn.decomposition import PCA

    if vectors.shape[1] < 2:
        coordinates = np.column_stack(
            [vectors[:, 0] - vectors[:, 0].mean(), np.zeros(len(vectors))]
        )
        return coordinates, (1.0, 0.0)
    pca = PCA(n_components=2, random_state=seed)
    coordinates = pca.fit_transform(vectors)
    ratio = np.nan_to_num(pca.explained_variance_ratio_, nan=0.0)
    return coordinates, (float(ratio[0]), float(ratio[1]))


def _umap(vectors: np.ndarray, seed: int, settings: dict) -> np.ndarray:
    import umap  # type: ignore[import-not-found]

    neighbours = min(int(settings.pop("n_neighbors", 15)), max(len(vectors) - 1, 2))
    options = {"n_components": 2, "metric": "cosine", "random_state": seed, **settings}
    reducer = umap.UMAP(n_neighbors=neighbours, **options)
    return np.asarray(reducer.fit_transform(vectors), dtype=np.float64)
