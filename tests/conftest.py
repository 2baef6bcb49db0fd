"""Shared fixtures: a synthetic sentiment corpus, tiny configs, one tiny trained classifier.

The corpus is built from a handful of cue words per class mixed into neutral filler, so a
one-layer, 32-wide transformer learns it in a few epochs on a CPU. The trained classifier
and its saved artifact are session-scoped: the train, classifier and CLI suites share them.
"""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest
import torch

from workbench import ModelConfig, TextClassifier, TrainConfig

# The test models are tiny: intra-op threads only add synchronisation, and on a busy
# 2-core machine spinning OpenMP threads make each step tens of times slower.
torch.set_num_threads(1)

POSITIVE_WORDS = ("good", "great", "excellent", "lovely", "superb", "wonderful")
NEGATIVE_WORDS = ("bad", "awful", "terrible", "poor", "dull", "horrible")
FILLER_WORDS = (
    "the",
    "movie",
    "food",
    "service",
    "was",
    "really",
    "quite",
    "a",
    "plot",
    "staff",
    "and",
    "this",
)


def _make_corpus(
    n: int, seed: int = 0, labels: tuple = ("positive", "negative")
) -> tuple[list[str], list]:
    """``n`` texts, alternating ``labels[0]`` (positive cues) and ``labels[1]`` (negative)."""
    rng = random.Random(seed)
    texts, targets = [], []
    for i in range(n):
        label = labels[i % 2]
        cues = POSITIVE_WORDS if label == labels[0] else NEGATIVE_WORDS
        words = [rng.choice(FILLER_WORDS) for _ in range(rng.randint(2, 8))]
        words += [rng.choice(cues) for _ in range(rng.randint(1, 2))]
        rng.shuffle(words)
        texts.append(" ".join(words))
        targets.append(label)
    return texts, targets


def _tiny_model_config(**overrides) -> ModelConfig:
    settings = {
        "d_model": 32,
        "num_heads": 2,
        "num_layers": 1,
        "d_ff": 64,
        "max_length": 32,
        "dropout": 0.0,
    }
    return ModelConfig(**{**settings, **overrides})


def _tiny_train_config(**overrides) -> TrainConfig:
    settings = {
        "num_epochs": 3,
        "batch_size": 16,
        "learning_rate": 5e-3,
        "device": "cpu",
        "seed": 0,
    }
    return TrainConfig(**{**settings, **overrides})


@pytest.fixture(scope="session")
def make_corpus() -> Callable[..., tuple[list[str], list]]:
    """``make_corpus(n, seed=0, labels=("positive", "negative")) -> (texts, labels)``."""
    return _make_corpus


@pytest.fixture(scope="session")
def tiny_model_config() -> Callable[..., ModelConfig]:
    """``tiny_model_config(**overrides)``: d_model 32, 2 heads, 1 layer, max_length 32."""
    return _tiny_model_config


@pytest.fixture(scope="session")
def tiny_train_config() -> Callable[..., TrainConfig]:
    """``tiny_train_config(**overrides)``: 3 epochs of batch 16 on the CPU, seed 0."""
    return _tiny_train_config


@pytest.fixture(scope="session")
def corpus() -> tuple[list[str], list[str]]:
    """128 training texts; labels "positive" first, so appearance order is not sorted."""
    return _make_corpus(128, seed=0)


@pytest.fixture(scope="session")
def heldout() -> tuple[list[str], list[str]]:
    """64 unseen texts from the same distribution, for scoring."""
    return _make_corpus(64, seed=1)


@pytest.fixture(scope="session")
def trained_clf(corpus) -> TextClassifier:
    """One tiny classifier trained on ``corpus``; tests must not refit or mutate it."""
    # TextClassifier builds (initialises) the model before the fit loop seeds torch, so
    # seed here too: the fixture must not depend on which tests ran before it.
    torch.manual_seed(0)
    clf = TextClassifier(
        model_config=_tiny_model_config(),
        train_config=_tiny_train_config(num_epochs=6),
    )
    texts, labels = corpus
    return clf.fit(texts, labels, validation=_make_corpus(32, seed=2), progress=False)


@pytest.fixture(scope="session")
def artifact_dir(trained_clf, tmp_path_factory):
    """``trained_clf`` saved once; tests that modify an artifact copy it first."""
    return trained_clf.save(tmp_path_factory.mktemp("artifact") / "model")
