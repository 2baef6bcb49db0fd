"""workbench: train, compare and explain transformer text classifiers in notebooks.

The public API, re-exported from the modules that own each concern.
"""

from workbench.classifier import TextClassifier
from workbench.config import ModelConfig, TokenizerConfig, TrainConfig
from workbench.data import LabeledTexts, load_reviews, load_sst2, load_table, stratified_split
from workbench.errors import InputError
from workbench.evaluate import Evaluation, evaluate
from workbench.model import ClassifierOutput, TransformerClassifier
from workbench.tokenizer import WordTokenizer
from workbench.train import Callback, History, TrainState, resolve_device, set_seed
from workbench.version import __version__

__all__ = [
    "Callback",
    "ClassifierOutput",
    "Evaluation",
    "History",
    "InputError",
    "LabeledTexts",
    "ModelConfig",
    "TextClassifier",
    "TokenizerConfig",
    "TrainConfig",
    "TrainState",
    "TransformerClassifier",
    "WordTokenizer",
    "__version__",
    "evaluate",
    "load_reviews",
    "load_sst2",
    "load_table",
    "resolve_device",
    "set_seed",
    "stratified_split",
]
