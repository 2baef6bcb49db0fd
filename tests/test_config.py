"""Tests for workbench.config: defaults, validation messages and the JSON round trip."""

import json

import numpy as np
import pytest

from workbench.config import MODEL_PRESETS, ModelConfig, TokenizerConfig, TrainConfig
from workbench.errors import InputError


@pytest.mark.parametrize("cls", [ModelConfig, TrainConfig, TokenizerConfig])
def test_json_round_trip(cls):
    config = cls()
    assert cls.from_dict(json.loads(json.dumps(config.to_dict()))) == config


def test_unknown_setting_names_it_and_lists_known_ones():
    with pytest.raises(InputError, match="unknown setting.*'d_modle'.*d_model"):
        ModelConfig.from_dict({"d_modle": 64})


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: ModelConfig(d_model=100, num_heads=3), "divisible by num_heads"),
        (lambda: ModelConfig(dropout=1.0), "dropout"),
        (lambda: ModelConfig(pooling="max"), "pooling"),
        (lambda: ModelConfig(num_layers=0), "num_layers"),
        (lambda: TrainConfig(num_epochs=0), "num_epochs"),
        (lambda: TrainConfig(batch_size=0), "batch_size"),
        (lambda: TrainConfig(learning_rate=0.0), "learning_rate"),
        (lambda: TrainConfig(warmup_ratio=1.0), "warmup_ratio"),
        (lambda: TrainConfig(weight_decay=-0.1), "weight_decay"),
        (lambda: TrainConfig(label_smoothing=1.0), "label_smoothing"),
        (lambda: TrainConfig(monitor="f1"), "monitor"),
        (lambda: TrainConfig(max_steps=0), "max_steps"),
        (lambda: TrainConfig(distill_temperature=0.0), "distill_temperature"),
        (lambda: TrainConfig(distill_temperature=float("inf")), "distill_temperature"),
        (lambda: TrainConfig(distill_alpha=1.5), "distill_alpha"),
        (lambda: TrainConfig(distill_alpha=-0.1), "distill_alpha"),
        (lambda: TokenizerConfig(min_frequency=0), "min_frequency"),
        (lambda: TokenizerConfig(max_vocab_size=5), "max_vocab_size"),
    ],
)
def test_invalid_settings_raise_input_error(make, message):
    with pytest.raises(InputError, match=message):
        make()


def test_training_settings_saved_before_distillation_existed_load_with_defaults():
    old = {k: v for k, v in TrainConfig().to_dict().items() if not k.startswith("distill_")}
    config = TrainConfig.from_dict(old)
    assert (config.distill_temperature, config.distill_alpha) == (1.0, 1.0)


@pytest.mark.parametrize(
    ("cls", "values", "message"),
    [
        (ModelConfig, {"d_model": 32.0}, r"d_model must be an integer, got 32\.0 \(float\)"),
        (ModelConfig, {"num_heads": True}, r"num_heads must be an integer, got True \(bool\)"),
        (ModelConfig, {"vocab_size": -5}, r"vocab_size must be from 0 to 2,000,000, got -5"),
        (
            ModelConfig,
            {"vocab_size": 100, "pad_token_id": 10**6},
            r"pad_token_id must be from 0 to 99, got 1000000",
        ),
        (ModelConfig, {"num_layers": 10**5}, r"num_layers must be from 1 to 128, got 100000"),
        (ModelConfig, {"max_length": 10**8}, r"max_length must be from 2 to 16,384"),
        (ModelConfig, {"d_model": 10**9}, r"d_model must be from 1 to 8,192, got 1000000000"),
        (ModelConfig, {"d_ff": 10**7}, r"d_ff must be from 1 to 65,536"),
        (ModelConfig, {"num_heads": 256, "d_model": 128}, r"num_heads must be from 1 to 128"),
        (ModelConfig, {"dropout": "0.1"}, r"dropout must be a number, got '0.1' \(str\)"),
        (ModelConfig, {"dropout": float("nan")}, r"dropout must be in \[0, 1\), got nan"),
        (ModelConfig, {"pooling": ["mean"]}, r"pooling must be one of 'mean', 'cls'"),
        (
            TrainConfig,
            {"learning_rate": float("nan")},
            r"learning_rate must be positive and finite",
        ),
        (
            TrainConfig,
            {"learning_rate": float("inf")},
            r"learning_rate must be positive and finite",
        ),
        (TrainConfig, {"max_grad_norm": float("nan")}, r"max_grad_norm must be positive"),
        (TrainConfig, {"num_epochs": 10**9}, r"num_epochs must be from 1 to 100,000"),
        (TrainConfig, {"batch_size": 10**8}, r"batch_size must be from 1 to 65,536"),
        (TrainConfig, {"seed": -1}, r"seed must be from 0 to 4,294,967,295, got -1"),
        (TrainConfig, {"patience": 0}, r"patience must be at least 1, got 0"),
        (TrainConfig, {"max_steps": 2.5}, r"max_steps must be an integer"),
        (TrainConfig, {"compile": 1}, r"compile must be true or false, got 1 \(int\)"),
        (TrainConfig, {"device": 0}, r"device must be a string"),
        (TokenizerConfig, {"lowercase": "yes"}, r"lowercase must be true or false"),
        (TokenizerConfig, {"max_vocab_size": 10**9}, r"max_vocab_size must be from 10 to"),
    ],
)
def test_issue14_case10_malformed_values_name_the_setting_value_and_range(cls, values, message):
    """Issue 14 case 10: a malformed value in config.json is an InputError, not a traceback
    (or gigabytes allocated) later in torch."""
    with pytest.raises(InputError, match=message):
        cls.from_dict({**cls().to_dict(), **values})


def test_issue14_case10_settings_must_be_an_object():
    with pytest.raises(InputError, match="ModelConfig settings must be a JSON object"):
        ModelConfig.from_dict(["d_model", 32])


def test_issue14_case10_numbers_of_other_types_become_plain_python_values():
    """NumPy integers (a sweep over np.arange) and ints for float settings are fine, and
    come out as the plain types JSON writes."""
    config = ModelConfig(d_model=np.int64(64), dropout=0)
    assert type(config.d_model) is int and type(config.dropout) is float
    assert TrainConfig(learning_rate=1, max_steps=None).learning_rate == 1.0
    assert json.loads(json.dumps(config.to_dict()))["d_model"] == 64


def test_issue14_case16_max_length_one_is_refused_because_only_cls_would_fit():
    """Issue 14 case 16: max_length 1 trained a constant model without a word of warning."""
    with pytest.raises(InputError, match=r"max_length must be at least 2.*\[CLS\]"):
        ModelConfig(max_length=1)
    assert ModelConfig(max_length=2).max_length == 2


def test_model_presets_are_valid_and_base_is_the_default_model():
    for name, preset in MODEL_PRESETS.items():
        assert ModelConfig(**preset).d_ff == preset["d_ff"], name
    assert ModelConfig(**MODEL_PRESETS["base"]) == ModelConfig()
