"""ERASER's movie reviews with the evidence people marked (DeYoung et al., 2020)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from workbench.errors import InputError


@dataclass(frozen=True)
class RationaleExample:
    """One ERASER movie review with the character spans people marked as evidence."""

    text: str  # the review's whitespace tokens joined by single spaces (lines joined too)
    label: str  # "NEG" / "POS"
    rationale_spans: list[tuple[int, int]]  # (start, end) in ``text``, end exclusive
    doc_id: str


def load_eraser_movies(root: str | os.PathLike[str], split: str = "test") -> list[RationaleExample]:
    """Load ERASER's movie reviews with human rationales (DeYoung et al., 2020).

    ``root`` is the unpacked ``movies`` folder: ``docs/<docid>`` (whitespace-tokenised
    reviews, one sentence per line) and ``<split>.jsonl`` (``annotation_id``,
    ``classification``, ``evidences`` with ``start_token``/``end_token`` counted over the
    whole document's whitespace tokens, end exclusive). The token spans become character
    spans in ``text``, in file order, repeats and empty evidences (``text == ""``, 20 in
    the test split) dropped; pair them with
    :func:`workbench.explain.plausibility.rationale_mask`.

    Returns:
        One example per annotated document (the standard test split has 199).

    Raises:
        InputError: if the folder, the split file or a document is missing or malformed.
    """
    root = Path(root).expanduser()
    path, docs = root / f"{split}.jsonl", root / "docs"
    if not path.is_file() or not docs.is_dir():
        raise InputError(
            f"ERASER movies not found: {path} and {docs}/ must exist; unpack movies.tar.gz "
            f"from eraserbenchmark.com and pass its folder as root (split is one of "
            f"'train', 'val', 'test')."
        )
    examples = []
    for line_number, line in enumerate(path.read_text("utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}, line {line_number}"
        try:
            record = json.loads(line)
            doc_id, label = str(record["annotation_id"]), str(record["classification"])
            evidences = [span for group in record["evidences"] or [] for span in group]
            token_spans = [(int(e["start_token"]), int(e["end_token"])) for e in evidences]
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as err:
            raise InputError(
                f"{where}: not an ERASER annotation ({err!r}); each line must be a JSON "
                "object with annotation_id, classification and evidences"
            ) from None
        doc_path = docs / doc_id
        if not doc_path.is_file():
            raise InputError(f"{where}: document {doc_path} not found; is docs/ complete?")
        tokens = doc_path.read_text("utf-8").split()
        starts = np.cumsum([0] + [len(t) + 1 for t in tokens[:-1]]).tolist()
        spans = []
        for start, end in dict.fromkeys(token_spans):
            if not 0 <= start <= end <= len(tokens):
                raise InputError(
                    f"{where}: evidence tokens [{start}, {end}) fall outside {doc_path} "
                    f"({len(tokens)} tokens); the annotation does not match the document"
                )
            if start == end:
                continue  # ERASER's test split has a few empty evidences (text ""): no words
            spans.append((starts[start], starts[end - 1] + len(tokens[end - 1])))
        examples.append(RationaleExample(" ".join(tokens), label, spans, doc_id))
    return examples
