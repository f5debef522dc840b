"""`studio evaluate` shared between processes writes the report one process writes.

`torchrun --nproc_per_node 2 -m studio.cli evaluate` (gloo, one thread each) on tiny walker
folders, judged by the bundled judge and attacked by the bundled attacker: anonymized-looking
clips (so the attackers' embeddings and the GEIs are shared too), a random subset of them, an
unreadable real clip and one of another frame size, in batches of 8 clips so that both processes
read real clips and one of them the generated ones as well. The same command in one plain process
is the reference: `fidelity_report.json` must be the same text but for "created" and "timing".
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from gaitdata import GaitSequence, scan_opengait, write_pkl_sequence
from gaitdata.opengait import read_pkl_sequence
from gaitdata.walkers import render_walker_dataset

ROOT = Path(__file__).resolve().parents[1]
TIMED = ("created", "timing")  # the only fields that differ from run to run


def _environment() -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    for name in ("WORLD_SIZE", "RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(name, None)  # a plain run must not think it was launched
    return env


def _evaluate(folders: Path, out: Path, processes: int) -> subprocess.CompletedProcess:
    if processes == 1:
        launcher = [sys.executable]
    else:
        launcher = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={processes}"]
    arguments = ["--real", folders / "real", "--generated", folders / "anon", "--out", out, "--kind", "anonymized"]
    options = ["--max-clips", "6", "--batch-clips", "8", "--seed", "1", "--no-progress"]
    command = [*launcher, "-m", "studio.cli", "evaluate", *map(str, arguments), *options]
    return subprocess.run(command, cwd=ROOT, env=_environment(), capture_output=True, text=True, timeout=600)


def _untimed(path: Path) -> str:
    """The report as written, its timings taken out (key order kept)."""
    report = json.loads(path.read_text())
    return json.dumps({k: v for k, v in report.items() if k not in TIMED}, indent=1)


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    """4 walkers × nm-01…05 × 000, 090 (one clip stored at 128×128, one unreadable), and their
    nm-05 clips with 1% of the pixels flipped as `anon-<subject>`."""
    root = tmp_path_factory.mktemp("evaluate-sharded")
    real, anon = root / "real", root / "anon"
    conditions = ["nm-01", "nm-02", "nm-03", "nm-04", "nm-05"]
    render_walker_dataset(real, 4, conditions, ["000", "090"], frames=(30, 32), seed=3, workers=1)
    rng = np.random.default_rng(0)
    for entry in scan_opengait(real):
        seq = read_pkl_sequence(entry)
        if entry.key == ("001", "nm-01", "000"):
            big = seq.frames.repeat(2, axis=1).repeat(2, axis=2)
            write_pkl_sequence(real, GaitSequence(big, seq.subject, seq.condition, seq.view))
        if seq.condition == "nm-05":
            flipped = np.where(rng.random(seq.frames.shape) < 0.01, 255 - seq.frames, seq.frames).astype(np.uint8)
            write_pkl_sequence(anon, GaitSequence(flipped, f"anon-{seq.subject}", seq.condition, seq.view))
    unreadable = real / "004" / "nm-06" / "000" / "004-nm-06-000.pkl"
    unreadable.parent.mkdir(parents=True)
    unreadable.write_bytes(b"not a pickle")
    return root


def test_two_processes_write_the_report_one_process_writes(folders):
    one = _evaluate(folders, folders / "one", 1)
    assert one.returncode == 0, one.stderr[-3000:]
    assert not re.search(r"shard \d", one.stdout)  # a plain run is not shared
    two = _evaluate(folders, folders / "two", 2)
    assert two.returncode == 0, two.stderr[-3000:]

    reference = folders / "one" / "fidelity_report.json"
    assert _untimed(folders / "two" / "fidelity_report.json") == _untimed(reference)
    assert (folders / "two" / "fidelity_report.html").is_file()
    assert not list((folders / "two").glob(".embeddings.*"))  # the shares are gathered, then removed
    data = json.loads(reference.read_text())
    assert data["data"]["real"]["skipped"] == 1 and data["data"]["real"]["resized"] == 1
    assert data["data"]["generated"]["clips"] == 6 and data["attackers"]["defined"]
    # 40 real clips (+1 unreadable) in 6 batches and 6 generated ones in 1: 4 batches and 3
    timing = json.loads((folders / "two" / "fidelity_report.json").read_text())["timing"]
    assert timing["processes"] == 2 and [s["clips"] for s in timing["shares"]] == [32, 8 + 6]
    shares = sorted(re.findall(r"shard \d/2: \d+ clips of \d+ subjects", two.stdout))
    assert shares == ["shard 1/2: 32 clips of 4 subjects", "shard 2/2: 14 clips of 5 subjects"]
    assert two.stdout.count("JSON: ") == 1 and one.stdout.count("JSON: ") == 1  # the main process's summary
