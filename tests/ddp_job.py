"""Run by tests/test_distributed.py under torchrun: train a tiny model, save it (rank 0)."""

import sys

import torch

from workbench import ModelConfig, TextClassifier, TrainConfig
from workbench.data import planted_dataset

torch.set_num_threads(1)
data = planted_dataset(300, seed=0)
batch_size = int(sys.argv[2])
clf = TextClassifier(
    ModelConfig(d_model=32, num_heads=2, num_layers=1, d_ff=64, max_length=16, dropout=0.0),
    TrainConfig(num_epochs=6, batch_size=batch_size, learning_rate=3e-3, seed=0, device="cpu"),
)
clf.fit(data.texts, data.labels, val_size=0.2, progress=False)
clf.save(sys.argv[1])
