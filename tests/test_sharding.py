"""Batch jobs shared between processes write what one process writes, and survive `kill -9`.

Real processes: `torchrun --nproc_per_node 2` runs this file as a worker (see `_worker`), which
joins them with accelerate's `PartialState(cpu=True)` (gloo) and runs `studio synthesize`'s and
`studio anonymize`'s library calls on tiny untrained models (behaviour, not quality). One run
in one plain process is the reference: every pkl and every manifest row must come out byte for
byte the same from two processes, and from two processes of which one was killed mid-run and
the job run again.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from studio.jobs.sharding import JobFolder, Shard, person_batches, person_groups

ROOT = Path(__file__).resolve().parents[1]
STEPS = 2
THRESHOLD = 0.00185  # the tiny judge's distances straddle it: some clips leak and are retried, some never pass


# ---- the work is cut the same way whatever the processes --------------------------------------
def test_batches_hold_whole_people_and_groups_keep_a_person_in_one_process():
    tasks = [("a", 1), ("a", 2), ("b", 1), ("c", 1), ("c", 2), ("c", 3), ("c", 4), ("c", 5), ("d", 1)]
    batches = person_batches(tasks, lambda t: t[0], batch_clips=3)
    assert batches == [
        [("a", 1), ("a", 2), ("b", 1)],
        [("c", 1), ("c", 2), ("c", 3)],  # a person with more than batch_clips clips gets batches of their own
        [("c", 4), ("c", 5)],
        [("d", 1)],
    ]
    groups = person_groups(batches, lambda t: t[0])
    assert [len(g) for g in groups] == [1, 2, 1]  # c's two batches go to one process
    assert Shard().take(groups) == groups and str(Shard(1, 2)) == "shard 2/2"
    with pytest.raises(ValueError, match="batch_clips must be a positive"):
        person_batches(tasks, lambda t: t[0], batch_clips=0)


def test_a_resumed_folder_gathers_the_rows_of_every_earlier_process(tmp_path):
    JobFolder(tmp_path / "job", "test job", {"seed": 0}, Shard(), key="path")  # an earlier run's folder
    job_root = tmp_path / "job"
    for name in ("a.pkl", "b.pkl"):
        (job_root / name).write_bytes(b"x")
    rows = [{"path": "a.pkl", "status": "done"}, {"path": "gone.pkl", "status": "done"}]
    (job_root / "manifest.shard-1-of-2.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (job_root / "manifest.shard-2-of-2.jsonl").write_text(json.dumps({"path": "b.pkl", "status": "done"}) + '\n{"pa')
    job = JobFolder(job_root, "test job", {"seed": 0}, Shard(), key="path")
    assert sorted(job.rows) == ["a.pkl", "b.pkl"] and job.resumed == 2  # a row whose file is gone is redone
    assert not list(job_root.glob("manifest.shard-*"))  # merged into manifest.jsonl
    assert len((job_root / "manifest.jsonl").read_text().splitlines()) == 2
    with pytest.raises(ValueError, match="other settings"):
        JobFolder(job_root, "test job", {"seed": 1}, Shard(), key="path")


def test_the_first_batch_a_process_makes_is_encoded_as_every_later_one():
    """A memory format switched on the first decode would move the encodings before it by ~1e-8:
    the pipeline settles it when it is made, so a batch comes out the same whichever came first."""
    import torch
    from diffusers import DDIMScheduler

    from generators import GaitGenerationPipeline, GaitLatentDenoiser, SilhouetteAutoencoder

    torch.manual_seed(0)
    denoiser = GaitLatentDenoiser(latent_dim=16, identity_dim=8, width=32, depth=1, heads=2)
    pipeline = GaitGenerationPipeline(SilhouetteAutoencoder(latent_dim=16, channels=32), denoiser, DDIMScheduler())
    frames = torch.rand(8, 1, 64, 44)
    first = pipeline.autoencoder.encode(frames)
    pipeline.decode_clips(first[None])
    assert torch.equal(first, pipeline.autoencoder.encode(frames))


# ---- real processes ---------------------------------------------------------------------------
def _environment() -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    for name in ("WORLD_SIZE", "RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(name, None)  # a plain run must not think it was launched
    return env


def _run(out: Path, data: Path, processes: int, kill: str | None = None) -> subprocess.CompletedProcess:
    worker = [str(Path(__file__)), str(data), str(out)] + ([f"--kill={kill}"] if kill else [])
    if processes == 1:
        command = [sys.executable, *worker]
    else:
        launcher = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={processes}"]
        command = [*launcher, *worker]
    return subprocess.run(command, env=_environment(), capture_output=True, text=True, timeout=600)


def _files(root: Path) -> dict[str, bytes]:
    """Every file of a finished job but the summaries (which hold timings) → its bytes."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and p.name != "manifest.json"}  # fmt: skip


@pytest.fixture(scope="module")
def walkers(tmp_path_factory):
    """5 subjects × nm-01, cl-01 × 000, 090: 20 clips of 16–20 frames, 4 per person."""
    from gaitdata.walkers.dataset import render_walker_dataset
    from generators.editor import MIN_FRAMES

    root = tmp_path_factory.mktemp("sharding") / "walkers"
    render_walker_dataset(root, 5, ["nm-01", "cl-01"], ["000", "090"], frames=(MIN_FRAMES, 20), seed=4, workers=1)
    return root


@pytest.fixture(scope="module")
def one_process(walkers):
    out = walkers.parent / "one"
    done = _run(out, walkers, 1)
    assert done.returncode == 0, done.stderr[-3000:]
    return out, done.stdout


def test_two_processes_write_byte_for_byte_what_one_writes(walkers, one_process):
    reference, printed = one_process
    assert "shard" not in printed  # a plain run is not sharded
    out = walkers.parent / "two"
    done = _run(out, walkers, 2)
    assert done.returncode == 0, done.stderr[-3000:]
    shares = sorted(re.findall(r"(?:synthesize|anonymize) shard \d/\d: \d+ people, \d+ clips", done.stdout))
    assert shares == [  # (the two processes' lines may interleave)
        "anonymize shard 1/2: 3 people, 12 clips",
        "anonymize shard 2/2: 2 people, 8 clips",
        "synthesize shard 1/2: 2 people, 4 clips",
        "synthesize shard 2/2: 1 people, 2 clips",
    ]
    for job in ("synth", "anon"):
        one, two = _files(reference / job), _files(out / job)
        assert sorted(one) == sorted(two) and one == two, job
        manifest = json.loads((out / job / "manifest.json").read_text())
        assert manifest["status"] == "complete" and manifest["processes"] == 2
        assert manifest["sequences"] == json.loads((reference / job / "manifest.json").read_text())["sequences"]
    anon = json.loads((reference / "anon" / "manifest.json").read_text())
    attempts = [row["attempts"] for row in anon["sequences"]]
    assert anon["counts"]["written"] == 20 and 1 in attempts and max(attempts) > 1  # retries were part of it


def test_a_process_killed_mid_run_loses_and_repeats_nothing(walkers, one_process):
    reference, _ = one_process
    out = walkers.parent / "killed"
    killed = _run(out, walkers, 2, kill="anonymize:1:3")  # process 2 of 2 kill -9s itself after its 3rd clip
    assert killed.returncode != 0
    rows = (out / "anon" / "manifest.shard-2-of-2.jsonl").read_text().splitlines()
    assert len(rows) == 3 and json.loads((out / "anon" / "manifest.json").read_text())["status"] == "running"

    again = _run(out, walkers, 2)
    assert again.returncode == 0, again.stderr[-3000:]
    for job in ("synth", "anon"):
        assert _files(out / job) == _files(reference / job), job
        rows = [json.loads(line) for line in (out / job / "manifest.jsonl").read_text().splitlines()]
        key = "path" if job == "synth" else "output"
        assert len({r[key] for r in rows}) == len(rows)  # nothing twice
    manifest = json.loads((out / "anon" / "manifest.json").read_text())
    assert manifest["counts"]["written"] == 20 and manifest["counts"]["resumed"] >= 3


# ---- the worker that torchrun starts ----------------------------------------------------------
def _tiny_models():
    """A tiny untrained generator, identity bank and judge: the same in every process (seeded)."""
    import numpy as np
    import torch
    from diffusers import DPMSolverMultistepScheduler

    from generators import GaitGenerationPipeline, GaitLatentDenoiser, IdentityBank, SilhouetteAutoencoder
    from generators.editor import GaitEditor
    from recognizers import GaitBase, GaitSet

    torch.manual_seed(0)
    conditioner = GaitBase(channels=(8, 16), strides=(2, 1), stem_channels=8, embedding_dim=16, class_num=4).eval()
    judge = GaitSet(channels=(4, 8, 8), embedding_dim=8, class_num=4).eval()
    dim = int(np.prod(conditioner.embed(np.zeros((2, 64, 64), np.uint8)).shape))
    denoiser = GaitLatentDenoiser(latent_dim=16, identity_dim=dim, width=32, depth=1, heads=2)
    torch.nn.init.normal_(denoiser.proj_out.weight, std=0.02)
    scheduler = DPMSolverMultistepScheduler(beta_schedule="squaredcos_cap_v2", prediction_type="v_prediction")
    bank = IdentityBank(np.random.default_rng(0).normal(size=(6, dim)), [f"{i:03d}" for i in range(6)])
    pipeline = GaitGenerationPipeline(SilhouetteAutoencoder(latent_dim=16, channels=16), denoiser, scheduler)
    pipeline.conditioner, pipeline.identity_bank = conditioner, bank
    calibration = {"metric": "euc", "threshold": THRESHOLD}
    return GaitEditor(pipeline, bank=bank, judge=judge, calibration=calibration)


def _worker(data: str, out: str, kill: str | None) -> None:
    """Synthesize 3 novel people, then anonymize the walkers (batches of one person's 4 clips);
    `kill` = "JOB:RANK:N": that process kill -9s itself once it has written N clips of JOB."""
    import signal

    import torch

    from studio.jobs.edit_dataset import anonymize_dataset
    from studio.jobs.sharding import current_shard
    from studio.jobs.synthesize import synthesize_dataset

    torch.set_num_threads(1)
    editor, shard = _tiny_models(), current_shard()

    def progress_of(job: str):
        def progress(done: int, total: int) -> None:
            if kill and kill.split(":")[:2] == [job, str(shard.index)] and done == int(kill.split(":")[2]):
                os.kill(os.getpid(), signal.SIGKILL)

        return progress

    synth = synthesize_dataset(editor.pipeline, Path(out) / "synth", 3, ["000", "090"], ["nm"], seed=1, steps=STEPS,
                               num_frames=16, progress=progress_of("synthesize"))  # fmt: skip
    anon = anonymize_dataset(editor, data, Path(out) / "anon", steps=STEPS, max_attempts=2, batch_clips=4,
                             covariate_classifier=None, progress=progress_of("anonymize"))  # fmt: skip
    for job, manifest in (("synthesize", synth), ("anonymize", anon)):
        share = manifest["shard"]
        if share["count"] > 1:
            print(f"{job} {share['shard']}: {share['people']} people, {share['clips']} clips", flush=True)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    arguments = [a for a in sys.argv[1:] if not a.startswith("--kill=")]
    kill_option = next((a.split("=", 1)[1] for a in sys.argv[1:] if a.startswith("--kill=")), None)
    _worker(*arguments, kill_option)
