"""DistributedDataParallel on CPU: two gloo processes under torchrun match one process."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from workbench import TextClassifier
from workbench.data import planted_dataset

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
