"""The embedded review sets (English and Chinese), shipped with the package.

They are read from the installed wheel (``workbench/_data``) first, else from the source
checkout's ``data/`` folder; see the data cards there.
"""

from __future__ import annotations

import importlib.resources
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from workbench.data.tables import load_table
from workbench.data.texts import LabeledTexts
from workbench.errors import InputError

# The embedded review sets by language: English (1,680 reviews) and Chinese (480).
REVIEW_SETS = {"en": "reviews", "zh": "reviews_zh"}


def embedded_folder(name: str, files: Sequence[str], what: str) -> Path:
    """A folder of data shipped with the package: ``workbench/_data/<name>`` in the installed
    wheel first, else the source checkout's ``data/<name>``; the first that holds every one
    of ``files``. ``what`` names it in the error when neither does."""
    packaged = Path(str(importlib.resources.files("workbench") / "_data" / name))
    checkout = Path(__file__).resolve().parents[2] / "data" / name
    for folder in (packaged, checkout):
        if all((folder / file).is_file() for file in files):
            return folder
    raise InputError(
        f"{what} is missing: neither {packaged} (installed package) nor {checkout} (source "
        f"checkout) holds {' and '.join(files)}; reinstall workbench."
    )


def embedded_reviews_folder(language: str = "en") -> Path:
    """The folder of an embedded review set (``train.csv``, ``test.csv``, the data card)."""
    if language not in REVIEW_SETS:
        raise InputError(
            f"language must be one of {', '.join(map(repr, REVIEW_SETS))}, got {language!r}"
        )
    name = REVIEW_SETS[language]
    return embedded_folder(name, ("train.csv", "test.csv"), f"the embedded {name} dataset")


def load_reviews(language: str = "en") -> tuple[LabeledTexts, LabeledTexts]:
    """Load an embedded reviews dataset (labels ``"positive"`` / ``"negative"``).

    Args:
        language: ``"en"``, the English reviews, or ``"zh"``, the Chinese teaching set
            (``data/reviews_zh``; see its data card).

    Returns:
        ``(train, test)``.
    """
    folder = embedded_reviews_folder(language)
    return (
        load_table(folder / "train.csv", "text", "label"),
        load_table(folder / "test.csv", "text", "label"),
    )


def load_reviews_table(split: str = "train", language: str = "en") -> pd.DataFrame:
    """The embedded reviews with every column (text, label, domain, phenomenon), for exploring.

    Args:
        split: ``"train"``, ``"test"``, or ``"transfer"`` (English only): the training
            reviews and their augmented copies labelled by a fine-tuned encoder, for
            distillation (see the data card; ``workbench.distill.TransferSet.from_frame``
            reads it).
        language: ``"en"`` or ``"zh"``, as for :func:`load_reviews`.
    """
    splits = ("train", "test", "transfer") if language == "en" else ("train", "test")
    if split not in splits:
        raise InputError(f"split must be one of {', '.join(map(repr, splits))}, got {split!r}")
    return pd.read_csv(embedded_reviews_folder(language) / f"{split}.csv", keep_default_na=False)
