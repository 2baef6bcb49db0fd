"""Tests for workbench.estimators: the workbench's models follow scikit-learn's conventions
(issue 14, case 17), checked with scikit-learn's own tools."""

from __future__ import annotations

import numpy as np
import pytest
import sklearn.utils.estimator_checks as sklearn_checks
from sklearn.base import clone
from sklearn.exceptions import DataConversionWarning, NotFittedError
from sklearn.model_selection import GridSearchCV
from sklearn.utils.estimator_checks import check_estimator
from sklearn.utils.validation import check_is_fitted

from workbench.baselines import TfidfLogisticRegression
from workbench.classifier import TextClassifier
from workbench.config import TrainConfig
from workbench.errors import InputError
from workbench.estimators import NotFittedModelError, check_fitted
from workbench.pretrained import PretrainedEncoderClassifier

UNFITTED = [TextClassifier(), TfidfLogisticRegression(), PretrainedEncoderClassifier()]
IDS = [type(model).__name__ for model in UNFITTED]

# scikit-learn's API checks that need no numeric 2-D data, so they apply to text models.
API_CHECKS = [
    "check_no_attributes_set_in_init",
    "check_parameters_default_constructible",
    "check_get_params_invariance",
    "check_set_params",
    "check_estimator_repr",
    "check_estimator_cloneable",
    "check_estimator_tags_renamed",
    "check_valid_tag_types",
    "check_mixin_order",
    "check_do_not_raise_errors_in_init_or_set_params",
]


@pytest.mark.parametrize("model", UNFITTED, ids=IDS)
def test_an_unfitted_model_raises_sklearns_not_fitted_error(model):
    """NotFittedError, as check_is_fitted callers expect, and still an InputError (exit 2)."""
    with pytest.raises(NotFittedError, match="not trained yet") as info:
        model.predict_proba(["a text"])
    assert isinstance(info.value, InputError)
    with pytest.raises(NotFittedError):
        check_is_fitted(model)


def test_a_fitted_model_passes_check_is_fitted(trained_clf):
    check_is_fitted(trained_clf)


def test_check_fitted_takes_models_that_are_not_sklearn_estimators():
    """A model with predict_proba and classes_ but no fit or tags (which check_is_fitted
    refuses with a TypeError) is checked all the same."""

    class Scorer:
        def predict_proba(self, texts):
            return np.full((len(texts), 2), 0.5)

    model = Scorer()
    with pytest.raises(NotFittedModelError, match="this Scorer is not fitted"):
        check_fitted(model, "classes_")
    model.classes_ = np.array([0, 1])
    check_fitted(model, "classes_")


@pytest.mark.parametrize("model", UNFITTED, ids=IDS)
def test_tags_declare_one_dimensional_string_input(model):
    tags = model.__sklearn_tags__()
    assert tags.input_tags.string and tags.input_tags.one_d_array
    assert not tags.input_tags.two_d_array


# check_estimator warns that its numeric checks cannot feed text models: that is the point.
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.SkipTestWarning")
@pytest.mark.parametrize("model", UNFITTED, ids=IDS)
def test_check_estimator_passes_the_checks_that_apply(model):
    """With string input declared, check_estimator no longer feeds numbers to fit."""
    results = check_estimator(model, on_fail=None)
    assert results and all(result["status"] == "passed" for result in results), results


@pytest.mark.parametrize("check", API_CHECKS)
@pytest.mark.parametrize("model", UNFITTED, ids=IDS)
def test_sklearn_api_checks(model, check):
    getattr(sklearn_checks, check)(type(model).__name__, clone(model))


@pytest.mark.parametrize("model", UNFITTED[:2], ids=IDS[:2])
def test_fit_without_labels_says_so(model):
    with pytest.raises(InputError, match="fit needs labels"):
        model.fit(["good", "bad"], None)


def test_a_column_vector_y_is_ravelled_with_a_warning(make_corpus):
    texts, labels = make_corpus(40)
    column = np.asarray(labels).reshape(-1, 1)
    with pytest.warns(DataConversionWarning, match="column-vector y"):
        model = TfidfLogisticRegression().fit(texts, column)
    assert sorted(model.classes_.tolist()) == sorted(set(labels))


def test_a_two_column_y_is_refused(make_corpus):
    texts, labels = make_corpus(40)
    with pytest.raises(InputError, match="y must be 1-D"):
        TfidfLogisticRegression().fit(texts, np.array([labels, labels]).T)


@pytest.mark.parametrize("labels", [[1, 2.5] * 10, [True, 2] * 10])
def test_labels_mixing_number_kinds_are_refused(labels):
    with pytest.raises(InputError):
        TfidfLogisticRegression().fit(["good film", "bad film"] * 10, labels)


def test_single_settings_are_searchable_parameters(tiny_train_config):
    """set_params(train_config__num_epochs=5) works, and leaves the original config alone."""
    original = tiny_train_config(num_epochs=2)
    model = TextClassifier(train_config=original)
    assert model.get_params()["train_config__num_epochs"] == 2
    changed = clone(model).set_params(train_config__num_epochs=5, model_config__d_model=64)
    assert changed.train_config.num_epochs == 5 and changed.model_config.d_model == 64
    assert original.num_epochs == 2 and model.train_config is original
    with pytest.raises(InputError, match="unknown setting"):
        clone(model).set_params(train_config__epochs=5)
    with pytest.raises(InputError, match="only model_config, train_config, tokenizer_config"):
        clone(model).set_params(calibrate__x=1)


def test_grid_search_over_one_setting(corpus, tiny_model_config, tiny_train_config):
    """A grid written the way scikit-learn users write it, run by GridSearchCV."""
    texts, labels = corpus
    model = TextClassifier(
        model_config=tiny_model_config(), train_config=tiny_train_config(), calibrate=False
    )
    search = GridSearchCV(model, {"train_config__num_epochs": [1, 2]}, cv=2)
    search.fit(texts, labels)
    assert search.best_params_["train_config__num_epochs"] in (1, 2)
    assert isinstance(search.best_estimator_.train_config, TrainConfig)
    assert (
        search.best_estimator_.train_config.num_epochs
        == search.best_params_["train_config__num_epochs"]
    )
