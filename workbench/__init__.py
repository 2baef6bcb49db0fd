"""workbench: train, compare and explain transformer text classifiers in notebooks.

The public API, re-exported from the modules that own each concern.
"""

from workbench.artifacts import load_model
from workbench.baselines import TfidfLogisticRegression
from workbench.classifier import TextClassifier
from workbench.compare import Comparison, compare, register_model, registered_models
from workbench.config import ModelConfig, TokenizerConfig, TrainConfig
from workbench.data import LabeledTexts, load_reviews, load_sst2, load_table, stratified_split
from workbench.distill import augment, distill
from workbench.errors import InputError
from workbench.estimators import TextModel
from workbench.evaluate import Evaluation, evaluate
from workbench.model import (
    BagOfEmbeddingsClassifier,
    ClassifierOutput,
    TransformerClassifier,
    build_model,
)
from workbench.tokenizer import WordTokenizer
from workbench.train import Callback, History, TrainState, resolve_device, set_seed
from workbench.version import __version__

__all__ = [
    "BagOfEmbeddingsClassifier",
    "Callback",
    "ClassifierOutput",
    "Comparison",
    "Evaluation",
    "History",
    "InputError",
    "LabeledTexts",
    "ModelConfig",
    "TextClassifier",
    "TextModel",
    "TfidfLogisticRegression",
    "TokenizerConfig",
    "TrainConfig",
    "TrainState",
    "TransformerClassifier",
    "WordTokenizer",
    "__version__",
    "augment",
    "build_model",
    "compare",
    "distill",
    "evaluate",
    "load_model",
    "load_reviews",
    "load_sst2",
    "load_table",
    "register_model",
    "registered_models",
    "resolve_device",
    "set_seed",
    "stratified_split",
]
