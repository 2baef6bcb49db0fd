"""Under torchrun on CPU (gloo), two processes match one: training and batch explanation."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from workbench import ModelConfig, TextClassifier, TrainConfig
from workbench.data import planted_dataset
from workbench.explain import explain

JOB = Path(__file__).with_name("ddp_job.py")


def run_job(out: Path, processes: int, batch_size: int) -> TextClassifier:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone",
               f"--nproc_per_node={processes}", str(JOB), str(out), str(batch_size)]  # fmt: skip
    subprocess.run(command, check=True, env=env, capture_output=True, timeout=300)
    return TextClassifier.load(out)


def test_two_cpu_processes_match_single_process_training(tmp_path):
    # Same global batch: 2 ranks x 8 examples against 1 process x 16.
    single = run_job(tmp_path / "single", processes=1, batch_size=16)
    double = run_job(tmp_path / "ddp", processes=2, batch_size=8)
    held_out = planted_dataset(90, seed=11)
    assert single.score(held_out.texts, held_out.labels) == 1.0
    assert double.score(held_out.texts, held_out.labels) == 1.0
    agreement = np.mean(single.predict(held_out.texts) == double.predict(held_out.texts))
    assert agreement == 1.0
    gap = np.abs(single.predict_proba(held_out.texts) - double.predict_proba(held_out.texts))
    assert gap.mean() < 0.05
    # rank 0 alone wrote the artifact, and its history saw the whole validation set
    history = json.loads((tmp_path / "ddp" / "metrics.json").read_text())["history"]
    assert history["epochs"][-1]["val_accuracy"] == 1.0
    assert not list(tmp_path.glob(".ddp.tmp-*"))


def test_two_cpu_processes_share_out_a_batch_explanation(tmp_path):
    data = planted_dataset(200, seed=0)
    clf = TextClassifier(
        ModelConfig(d_model=32, num_heads=2, num_layers=1, d_ff=64, max_length=16, dropout=0.0),
        TrainConfig(num_epochs=3, learning_rate=3e-3, seed=0, device="cpu"),
    ).fit(data.texts, data.labels, val_size=0, progress=False)
    model = clf.save(tmp_path / "model")
    texts = planted_dataset(7, seed=3).texts  # odd: the two shards differ in size
    pd.DataFrame({"text": texts}).to_csv(tmp_path / "texts.csv", index=False)
    out = tmp_path / "explanations.jsonl"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone",
               "--nproc_per_node=2", "-m", "workbench", "explain", "--model", str(model),
               "--method", "lime", "--num-samples", "100", "--data", str(tmp_path / "texts.csv"),
               "--jsonl", str(out)]  # fmt: skip
    subprocess.run(command, check=True, env=env, capture_output=True, timeout=300)

    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["text"] for r in records] == texts  # rank 0 wrote all of them, in order
    for record, alone in zip(records, explain(clf, texts, "lime", num_samples=100), strict=True):
        for i, label in enumerate(alone.classes):
            np.testing.assert_allclose(
                record["attributions"][str(label)], alone.attributions[:, i], atol=1e-6
            )
