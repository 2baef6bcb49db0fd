"""The Stanford Sentiment Treebank: GLUE's SST-2 (downloaded, checksum verified) and the
binarised phrase trees."""

from __future__ import annotations

import hashlib
import io
import os
import re
import shutil
import urllib.request
import zipfile
from collections import Counter
from collections.abc import Collection
from functools import partial
from pathlib import Path

from workbench.artifacts import atomic_write
from workbench.data.tables import load_table
from workbench.data.texts import LabeledTexts
from workbench.errors import InputError
from workbench.progress import progress_bar

SST2_URL = "https://dl.fbaipublicfiles.com/glue/data/SST-2.zip"
# SHA-256 of SST-2.zip (7,439,277 bytes) as recorded in Hugging Face datasets,
# datasets/glue/dataset_infos.json ("download_checksums" for this URL); tensorflow-datasets
# url_checksums/glue.txt lists the same size and digest for GLUE's original Firebase copy.
SST2_SHA256 = "d67e16fb55739c1b32cdce9877596db1c127dc322d93c082281f64057c16deaa"
_SST2_FILES = ("train.tsv", "dev.tsv")
_DOWNLOAD_TIMEOUT_S = 60


def _download_sst2(root: Path) -> None:
    """Fetch GLUE's SST-2.zip, check its SHA-256, and place train.tsv and dev.tsv in root."""
    archive = io.BytesIO()  # 7 MB: nothing touches the disk before the checksum passes
    digest = hashlib.sha256()
    try:
        root.mkdir(parents=True, exist_ok=True)
        with urllib.request.urlopen(SST2_URL, timeout=_DOWNLOAD_TIMEOUT_S) as response:
            size = int(response.headers.get("Content-Length") or 0) or None
            with progress_bar(total=size, unit="B", unit_scale=True, desc="SST-2.zip") as progress:
                for chunk in iter(lambda: response.read(1 << 20), b""):
                    archive.write(chunk)
                    digest.update(chunk)
                    progress.update(len(chunk))
    except OSError as err:  # URLError and socket timeouts are OSErrors too
        raise InputError(
            f"downloading SST-2 from {SST2_URL} failed ({err}). If this machine is offline, "
            f"put train.tsv and dev.tsv from GLUE's SST-2 into {root} (or pass root=... / set "
            f"WORKBENCH_SST2_DIR to the folder that holds them)."
        ) from err
    if digest.hexdigest() != SST2_SHA256:
        raise InputError(
            f"the SST-2 archive from {SST2_URL} has SHA-256 {digest.hexdigest()}, expected "
            f"{SST2_SHA256}; it was discarded. Try again later, or put train.tsv and dev.tsv "
            f"from GLUE's SST-2 into {root} yourself."
        )
    with zipfile.ZipFile(archive) as bundle:
        for name in _SST2_FILES:
            # A crash never leaves a half file in root.
            atomic_write(root / name, partial(_extract, bundle, f"SST-2/{name}"))


def _extract(bundle: zipfile.ZipFile, member_name: str, target: Path) -> None:
    with bundle.open(member_name) as member, target.open("wb") as out:
        shutil.copyfileobj(member, out)


def load_sst2(
    root: str | os.PathLike[str] | None = None, *, download: bool = True
) -> tuple[LabeledTexts, LabeledTexts]:
    """Load GLUE's SST-2 sentiment data (labels 0 = negative, 1 = positive).

    Args:
        root: Folder holding ``train.tsv`` and ``dev.tsv``; defaults to the environment
            variable ``WORKBENCH_SST2_DIR``, else ``~/.cache/workbench/sst2``.
        download: Fetch the official GLUE archive into ``root`` (checksum verified) when
            the files are missing.

    Returns:
        ``(train, dev)``: 67,349 and 872 rows for the official files.

    Raises:
        InputError: if the files are missing and cannot be downloaded; the message says
            where to put them.
    """
    if root is None:
        root = os.environ.get("WORKBENCH_SST2_DIR") or Path.home() / ".cache/workbench/sst2"
    root = Path(root).expanduser()
    if not all((root / name).is_file() for name in _SST2_FILES):
        if not download:
            raise InputError(
                f"SST-2 not found: {root} must hold train.tsv and dev.tsv from GLUE's SST-2; "
                f"put them there (or pass root=... / set WORKBENCH_SST2_DIR), or call "
                f"load_sst2(download=True)."
            )
        _download_sst2(root)
    return (
        load_table(root / "train.tsv", "sentence", "label", format="tsv"),
        load_table(root / "dev.tsv", "sentence", "label", format="tsv"),
    )


# PTB escapes in the SST trees, undone to match GLUE's SST-2 text ("( w ) hile", "a/b").
_PTB_BRACKETS = {"-LRB-": "(", "-RRB-": ")"}
_TREE_TOKEN = re.compile(r"\(|\)|[^\s()]+")


def _tree_nodes(line: str, where: str) -> list[tuple[int, list[str]]]:
    """``(label, words)`` of every node of one PTB tree (leaves too), root last."""
    nodes: list[tuple[int, list[str]]] = []
    open_nodes: list[tuple[int, list[str]]] = []  # label and the words seen so far
    tokens = _TREE_TOKEN.findall(line)
    problem = None
    for i, token in enumerate(tokens):
        if i > 0 and tokens[i - 1] == "(":
            continue  # the label, read with its "("
        if token == "(":
            label = tokens[i + 1] if i + 1 < len(tokens) else ""
            if label not in ("0", "1", "2", "3", "4"):
                problem = f"a node label must be 0-4, got {label!r}"
            elif nodes and not open_nodes:
                problem = "more than one tree on the line"
            else:
                open_nodes.append((int(label), []))
        elif token == ")":
            if not open_nodes:
                problem = "a ')' closes no node"
            else:
                label, words = open_nodes.pop()
                if not words:
                    problem = "a node holds no word"
                nodes.append((label, words))
                if open_nodes:
                    open_nodes[-1][1].extend(words)
        elif not open_nodes:
            problem = f"the word {token!r} stands outside the tree"
        else:
            word = _PTB_BRACKETS.get(token, token).replace("\\/", "/").replace("\\*", "*")
            open_nodes[-1][1].append(word.lower())
        if problem is not None:
            break
    if problem is None and (open_nodes or not nodes):
        problem = "the brackets do not balance" if open_nodes else "no tree on it"
    if problem is not None:
        raise InputError(
            f"{where} is not a sentiment tree ({problem}); each line must be one PTB tree "
            f"such as (3 (2 a) (4 (4 fine) (2 film))), as in SST's trees/<split>.txt"
        )
    return nodes


def _tree_lines(path: Path) -> list[str]:
    """The lines of a tree file; a byte that is not UTF-8 is named with its line."""
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8").splitlines()
    except UnicodeDecodeError as err:
        line_number = raw.count(b"\n", 0, err.start) + 1
        raise InputError(
            f"{path}, line {line_number}: byte 0x{raw[err.start]:02x} "
            f"is not UTF-8; SST's tree files are UTF-8, so re-save the file as UTF-8."
        ) from None


def load_sst_trees(
    root: str | os.PathLike[str],
    split: str = "train",
    *,
    phrases: bool = True,
    trees: Collection[int] | None = None,
) -> LabeledTexts:
    """Load the Stanford Sentiment Treebank's binarised trees (0 = negative, 1 = positive).

    ``root`` holds SST's ``{train,dev,test}.txt``: one PTB tree per line, every node
    labelled 0-4. Labels 0-1 become 0 and 3-4 become 1; neutral (2) nodes are dropped.
    Texts take GLUE SST-2's form: words joined by single spaces, lower-cased, brackets and
    slashes unescaped (``-LRB-`` -> ``(``, ``\\/`` -> ``/``). (GLUE's train.tsv also
    respells a few British words, "humour" -> "humor"; the trees keep them as written.)

    Args:
        root: The folder with the tree files.
        split: ``"train"``, ``"dev"`` or ``"test"``.
        phrases: Every distinct non-neutral phrase of the trees (each node, leaves included;
            what GLUE's train.tsv samples from), deduplicated by text. A text labelled both
            ways (by different trees) keeps its majority label, ties going to the label
            seen first. ``False`` gives only the non-neutral root sentences, one row per
            tree, in file order.
        trees: 0-based indices of the trees (non-blank lines) to read; ``None`` reads all.
            Hold out whole sentences this way, so no phrase of a validation sentence is
            trained on.

    Raises:
        InputError: if the file is missing or a line is not a labelled tree (naming the
            file and line), or no non-neutral node remains.
    """
    if split not in ("train", "dev", "test"):
        raise InputError(f"split must be 'train', 'dev' or 'test', got {split!r}")
    path = Path(root).expanduser() / f"{split}.txt"
    if not path.is_file():
        raise InputError(
            f"{path} not found; root must be the folder with SST's {split}.txt (trees/ of "
            f"trainDevTestTrees_PTB.zip from https://nlp.stanford.edu/sentiment/)."
        )
    wanted = None if trees is None else set(trees)
    sentences: list[tuple[str, int]] = []
    votes: dict[str, Counter] = {}
    lines = _tree_lines(path)
    tree_index = -1
    for line_number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        tree_index += 1
        if wanted is not None and tree_index not in wanted:
            continue
        nodes = _tree_nodes(line, f"{path}, line {line_number}")
        root_label, root_words = nodes[-1]
        if not phrases and root_label != 2:
            sentences.append((" ".join(root_words), int(root_label > 2)))
        for label, words in nodes if phrases else ():
            if label != 2:
                votes.setdefault(" ".join(words), Counter())[int(label > 2)] += 1
    if wanted and max(wanted) > tree_index:
        raise InputError(
            f"{path} has {tree_index + 1} trees, but trees= asks for tree {max(wanted)}; "
            f"tree indices count non-blank lines from 0."
        )
    if phrases:
        # most_common keeps insertion order among equal counts: ties go to the first seen.
        sentences = [(text, counts.most_common(1)[0][0]) for text, counts in votes.items()]
    if not sentences:
        raise InputError(
            f"{path}: no positive or negative node in the trees read; check the file "
            f"and the trees= selection."
        )
    texts, labels = zip(*sentences, strict=True)
    return LabeledTexts(list(texts), list(labels), str(path))
