"""``load_eraser_movies``: token spans to character spans, on a hand-written folder and on
the real ERASER movies data beside the checkout (skipped when that folder is absent)."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from workbench.data import RationaleExample, load_eraser_movies
from workbench.errors import InputError

ERASER_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "eraser_movies"


def write_movies(root: Path, records: list[dict], docs: dict[str, str], split="test") -> Path:
    (root / "docs").mkdir(parents=True)
    for name, text in docs.items():
        (root / "docs" / name).write_text(text, "utf-8")
    lines = [json.dumps(r) if isinstance(r, dict) else r for r in records]
    (root / f"{split}.jsonl").write_text("\n".join(lines) + "\n", "utf-8")
    return root


def evidence(start: int, end: int, doc="d1.txt") -> dict:
    return {"docid": doc, "start_token": start, "end_token": end, "text": "ignored"}


def test_token_spans_become_character_spans(tmp_path):
    root = write_movies(
        tmp_path,
        [
            {
                "annotation_id": "d1.txt",
                "classification": "POS",
                # [1, 3) crosses the line break; [4, 5) is the last token; [0, 1) twice;
                # [2, 2) is empty, as a few ERASER test evidences are.
                "evidences": [[evidence(1, 3), evidence(4, 5)], [evidence(0, 1)]]
                + [[evidence(0, 1), evidence(2, 2)]],
            },
            {"annotation_id": "d2.txt", "classification": "NEG", "evidences": []},
        ],
        {"d1.txt": "a  bb\nccc d\n\neeee\n", "d2.txt": "x y"},
    )
    first, second = load_eraser_movies(root)
    assert first == RationaleExample(
        text="a bb ccc d eeee",
        label="POS",
        rationale_spans=[(2, 8), (11, 15), (0, 1)],
        doc_id="d1.txt",
    )
    assert [first.text[s:e] for s, e in first.rationale_spans] == ["bb ccc", "eeee", "a"]
    assert second == RationaleExample("x y", "NEG", [], "d2.txt")


def test_missing_folder_split_or_document_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match=re.escape(str(tmp_path / "nowhere"))):
        load_eraser_movies(tmp_path / "nowhere")
    root = write_movies(tmp_path / "movies", [], {}, split="val")
    with pytest.raises(InputError, match="test.jsonl"):
        load_eraser_movies(root)  # split="test" is missing
    assert load_eraser_movies(root, split="val") == []

    broken = write_movies(
        tmp_path / "broken",
        [{"annotation_id": "gone.txt", "classification": "NEG", "evidences": []}],
        {},
    )
    with pytest.raises(InputError, match="gone.txt not found"):
        load_eraser_movies(broken)


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ("{not json", "line 1"),
        ({"annotation_id": "d1.txt", "evidences": []}, "classification"),
        (
            {"annotation_id": "d1.txt", "classification": "POS", "evidences": [[evidence(1, 9)]]},
            "fall outside",
        ),
    ],
)
def test_malformed_annotations_name_the_line(tmp_path, record, message):
    root = write_movies(tmp_path, [record], {"d1.txt": "a b c"})
    with pytest.raises(InputError, match=message):
        load_eraser_movies(root)


needs_eraser = pytest.mark.skipif(
    not (ERASER_DIR / "test.jsonl").is_file(), reason=f"ERASER movies not found at {ERASER_DIR}"
)


@needs_eraser
def test_the_real_test_split():
    examples = load_eraser_movies(ERASER_DIR, split="test")
    assert len(examples) == 199
    assert Counter(e.label for e in examples) == {"NEG": 100, "POS": 99}
    records = [json.loads(line) for line in (ERASER_DIR / "test.jsonl").open(encoding="utf-8")]
    assert [e.doc_id for e in examples] == [r["annotation_id"] for r in records]
    for example, record in zip(examples, records, strict=True):
        doc = (ERASER_DIR / "docs" / example.doc_id).read_text("utf-8")
        assert example.text == " ".join(doc.split())
        # Every non-empty evidence, in file order, is a span whose text is its `text`.
        expected = [e["text"] for group in record["evidences"] for e in group if e["text"]]
        assert [example.text[s:e] for s, e in example.rationale_spans] == expected
    assert sum(len(e.rationale_spans) for e in examples) == 2067 - 20  # 20 empty evidences


@needs_eraser
def test_the_real_val_split():
    examples = load_eraser_movies(ERASER_DIR, split="val")
    assert len(examples) == 200
    assert Counter(e.label for e in examples) == {"NEG": 100, "POS": 100}
    assert sum(len(e.rationale_spans) for e in examples) == 1517
