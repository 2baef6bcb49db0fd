"""Tests for workbench.config: defaults, validation messages and the JSON round trip."""

import json

import pytest

from workbench.config import ModelConfig, TokenizerConfig, TrainConfig
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
