"""Train, validation and test splits that keep every class in every split."""

from __future__ import annotations

from collections import Counter

import numpy as np
from sklearn.model_selection import train_test_split

from workbench.data.texts import LabeledTexts
from workbench.errors import InputError


def stratified_split(
    data: LabeledTexts, *, val_size: float = 0.1, test_size: float = 0.0, seed: int = 0
) -> tuple[LabeledTexts, LabeledTexts, LabeledTexts | None]:
    """Split ``data`` into train, validation and (optionally) test sets, stratified by label.

    Each split keeps the class proportions of ``data``; rows keep their original order.

    Args:
        data: Labelled rows.
        val_size: Fraction of all rows for validation, in (0, 1).
        test_size: Fraction of all rows for testing, in [0, 1); 0 means no test split.
        seed: Seed of the shuffle; the same seed gives the same split.

    Returns:
        ``(train, val, test)``, with ``test`` ``None`` when ``test_size`` is 0.

    Raises:
        InputError: if ``data`` has no labels, the sizes are out of range, or a class has
            too few rows to appear in every split.
    """
    source = data.source
    if data.labels is None:
        raise InputError(f"{source}: a stratified split needs labels; load it with label_col=.")
    if not 0 < val_size < 1 or not 0 <= test_size < 1 or val_size + test_size >= 1:
        raise InputError(
            f"{source}: cannot split with val_size={val_size}, test_size={test_size}; "
            f"use 0 < val_size < 1, 0 <= test_size < 1 and val_size + test_size < 1."
        )
    labels = data.labels
    counts = Counter(labels)
    needed = 2 if test_size == 0 else 3  # one row per class per split, sklearn needs >= 2
    rare = sorted((count, str(label)) for label, count in counts.items() if count < needed)
    if rare:
        count, label = rare[0]
        raise InputError(
            f"{source}: class {label!r} has only {count} row(s), too few to stratify into "
            f"{needed} splits (each class needs at least {needed}); add rows of that class "
            f"or remove it. Class counts: {dict(counts)}."
        )
    indices = np.arange(len(labels))
    try:
        test_idx = None
        if test_size > 0:
            indices, test_idx = train_test_split(
                indices, test_size=test_size, stratify=labels, random_state=seed
            )
        train_idx, val_idx = train_test_split(
            indices,
            test_size=val_size / (1 - test_size),
            stratify=[labels[i] for i in indices],
            random_state=seed,
        )
    except ValueError as err:
        # e.g. a split smaller than the number of classes
        raise InputError(
            f"{source}: cannot stratify {len(labels)} rows with val_size={val_size}, "
            f"test_size={test_size} ({err}); use larger fractions or more rows. "
            f"Class counts: {dict(counts)}."
        ) from None
    test = None if test_idx is None else data.subset(np.sort(test_idx))
    return data.subset(np.sort(train_idx)), data.subset(np.sort(val_idx)), test
