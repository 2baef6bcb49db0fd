"""workbench: train, compare and explain transformer text classifiers in notebooks.

The public API, re-exported from the modules that own each concern. The names load on
first use (PEP 562), so ``import workbench`` and ``workbench --help`` import neither torch
nor shap, scikit-learn or plotly: ``from workbench import TextClassifier`` imports
:mod:`workbench.classifier` then, and ``workbench.plots`` any submodule.
"""

from __future__ import annotations

import sys
import types
from typing import TYPE_CHECKING, Any

from workbench.lazy import lazy_attribute
from workbench.version import __version__

if TYPE_CHECKING:  # what mypy and editors see; at run time __getattr__ imports these
    from workbench.artifacts import load_model
    from workbench.baselines import TfidfLogisticRegression
    from workbench.classifier import TextClassifier
    from workbench.compare import Comparison, compare, register_model, registered_models
    from workbench.config import (
        SEQ2SEQ_PRESETS,
        ModelConfig,
        Seq2SeqConfig,
        TokenizerConfig,
        TrainConfig,
    )
    from workbench.data import (
        LabeledTexts,
        load_reviews,
        load_sst2,
        load_table,
        stratified_split,
    )
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
    from workbench.seq2seq import Translator
    from workbench.tokenizer import WordTokenizer
    from workbench.train import Callback, History, TrainState, resolve_device, set_seed

# Each public name and the module it comes from.
_SOURCES = {
    "load_model": "artifacts",
    "TfidfLogisticRegression": "baselines",
    "TextClassifier": "classifier",
    "Comparison": "compare",
    "compare": "compare",
    "register_model": "compare",
    "registered_models": "compare",
    "ModelConfig": "config",
    "TokenizerConfig": "config",
    "TrainConfig": "config",
    "Seq2SeqConfig": "config",
    "SEQ2SEQ_PRESETS": "config",
    "LabeledTexts": "data",
    "load_reviews": "data",
    "load_sst2": "data",
    "load_table": "data",
    "stratified_split": "data",
    "augment": "distill",
    "distill": "distill",
    "InputError": "errors",
    "TextModel": "estimators",
    "Evaluation": "evaluate",
    "evaluate": "evaluate",
    "BagOfEmbeddingsClassifier": "model",
    "ClassifierOutput": "model",
    "TransformerClassifier": "model",
    "build_model": "model",
    "Translator": "seq2seq",
    "WordTokenizer": "tokenizer",
    "Callback": "train",
    "History": "train",
    "TrainState": "train",
    "resolve_device": "train",
    "set_seed": "train",
}
# The public names: those above and __version__ (tests/test_cli_startup.py checks it).
__all__ = [
    "SEQ2SEQ_PRESETS",
    "BagOfEmbeddingsClassifier",
    "Callback",
    "ClassifierOutput",
    "Comparison",
    "Evaluation",
    "History",
    "InputError",
    "LabeledTexts",
    "ModelConfig",
    "Seq2SeqConfig",
    "TextClassifier",
    "TextModel",
    "TfidfLogisticRegression",
    "TokenizerConfig",
    "TrainConfig",
    "TrainState",
    "TransformerClassifier",
    "Translator",
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
# Functions named after their module: `workbench.evaluate` is the function, as it was when
# this package imported everything; importing the module must not put the module there.
_FUNCTIONS_NAMED_AFTER_MODULES = {name for name, module in _SOURCES.items() if name == module}


def __getattr__(name: str) -> Any:
    """A public name, imported from its module on first use; or a submodule (`workbench.plots`
    after `import workbench`). `compare` is the function above, as it always was."""
    value = lazy_attribute(__name__, _SOURCES, name)
    globals()[name] = value  # once: later uses do not come back here
    return value


def __dir__() -> list[str]:
    """The public names, the submodules loaded so far and the dunders (not the helpers)."""
    loaded = [
        name
        for name, value in globals().items()
        if isinstance(value, types.ModuleType) and value.__name__ == f"{__name__}.{name}"
    ]
    return sorted({*__all__, *loaded, *(name for name in globals() if name.startswith("__"))})


class _Package(types.ModuleType):
    def __setattr__(self, name: str, value: Any) -> None:
        # The import system sets each submodule, once loaded, as an attribute of its
        # package; for these three names the function stays (through __getattr__).
        if name in _FUNCTIONS_NAMED_AFTER_MODULES and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
