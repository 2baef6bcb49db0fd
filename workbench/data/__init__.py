"""Labelled texts in, clear errors out: tables, the embedded reviews set, SST-2, SST trees.

Every loader returns a :class:`LabeledTexts`. Anything a person can get wrong in a file
(a misspelt column, an empty text, a wrong encoding) raises :class:`InputError` naming
the file, the column or the data row (counted from 1, header not counted) and what to do.

One module per concern: ``texts`` (the type and its checks), ``tables`` (CSV, TSV, JSON
Lines, Parquet), ``splits``, and one module per dataset (``reviews``, ``sst``,
``eraser``, ``planted``), ``parallel`` (sentence pairs for translation: a synthetic
corpus with gold word alignments, and real parallel files), and ``notebook``: the data a
notebook works on, switched by one line or by environment variables. Import from
``workbench.data``; the names below are its API.
"""

from workbench.data.eraser import RationaleExample, load_eraser_movies
from workbench.data.notebook import DATA_VARIABLES, is_own_data, notebook_data
from workbench.data.parallel import (
    ParallelPair,
    SyntheticCorpus,
    make_synthetic_corpus,
    read_parallel_files,
)
from workbench.data.planted import PLANTED_WORDS, planted_dataset
from workbench.data.reviews import (
    REVIEW_SETS,
    embedded_reviews_folder,
    load_reviews,
    load_reviews_table,
)
from workbench.data.splits import stratified_split
from workbench.data.sst import SST2_SHA256, SST2_URL, load_sst2, load_sst_trees
from workbench.data.tables import load_table
from workbench.data.texts import (
    LabeledTexts,
    as_text_list,
    check_count,
    check_utf8,
    check_validation_labels,
    plain,
    plain_labels,
    shorten,
    validate_labeled,
    validation_data,
)

__all__ = [
    "shorten",
    "DATA_VARIABLES",
    "LabeledTexts",
    "PLANTED_WORDS",
    "ParallelPair",
    "REVIEW_SETS",
    "RationaleExample",
    "SST2_SHA256",
    "SST2_URL",
    "SyntheticCorpus",
    "as_text_list",
    "check_count",
    "check_utf8",
    "check_validation_labels",
    "embedded_reviews_folder",
    "is_own_data",
    "load_eraser_movies",
    "load_reviews",
    "load_reviews_table",
    "load_sst2",
    "load_sst_trees",
    "load_table",
    "make_synthetic_corpus",
    "notebook_data",
    "plain",
    "plain_labels",
    "planted_dataset",
    "read_parallel_files",
    "stratified_split",
    "validate_labeled",
    "validation_data",
]
