"""`studio evaluate`: the fidelity report of a folder of generated / edited / anonymized clips.

Judges the folder against a real one (`evaluation.fidelity_report.fidelity_report`) and writes
the JSON and the self-contained HTML page (`evaluation.html_report.write_report`) into an
output folder that must lie outside both inputs.

Under `torchrun` / `accelerate launch` (`studio.jobs.sharding.current_shard`) every process
chooses the same clips, reads and embeds a contiguous block of whole batches of them (the real
folder's batches, then the generated one's) and leaves it in the output folder
(`.embeddings.shard-K-of-N.npz`); the main process gathers the blocks, computes the report as one
process would (the JSON is byte for byte that of one process with the same `batch_clips` and
threads, but for "created" and "timing") and writes both files.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from tqdm.auto import tqdm

from evaluation.fidelity_report import fidelity_report
from evaluation.html_report import HTML_NAME, JSON_NAME, write_report
from gaitdata.atomic import ensure_outside
from studio.jobs.sharding import Shard, current_shard


class _StageBars:
    """One tqdm bar per stage of `fidelity_report`'s progress calls (`label`: which process)."""

    def __init__(self, enabled: bool, label: str = ""):
        self.enabled, self.label = enabled, label
        self.bars: dict[str, tqdm] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        bar = self.bars.get(stage)
        if bar is None:
            desc = f"embedding {stage}{self.label}"
            bar = self.bars[stage] = tqdm(total=total, desc=desc, unit="clip", leave=False)
        bar.update(done - bar.n)

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()


def evaluate_folders(
    real_root: str | os.PathLike,
    generated_root: str | os.PathLike,
    out_dir: str | os.PathLike,
    kind: str = "generated",
    max_clips: int | None = None,
    progress: bool = True,
    shard: Shard | None = None,
    **options,
) -> tuple[dict, Path, Path]:
    """Compute the fidelity report and write it; returns (report, json_path, html_path).

    Args:
        real_root, generated_root, kind, max_clips: as `fidelity_report`.
        out_dir: where `fidelity_report.json` and `fidelity_report.html` go (outside both inputs).
        progress: tqdm bars while embedding.
        shard: this process's share of the clips; default `current_shard()` (all of them when
            run alone). Only the main process writes the files.
        options: the rest of `fidelity_report`'s keywords (judge, covariate_classifier,
            calibration, max_frames, gallery_subjects, bf16, samples, seed, attackers, batch_clips).

    Returns:
        The report as written, in every process once the files are there; under "shard" (not in
        the file) what this process read and embedded: `{"shard", "index", "count", "main",
        "clips", "people"}` (people: the subjects of its clips).
    """
    ensure_outside(out_dir, real_root, generated_root)
    out_dir, shard = Path(out_dir), shard or current_shard()
    bars = _StageBars(progress, f" ({shard})" if shard.count > 1 else "")
    try:
        options.update(max_clips=max_clips, progress=bars, shard=shard, exchange=out_dir)
        report = fidelity_report(real_root, generated_root, kind, **options)
    finally:
        bars.close()
    json_path, html_path = out_dir / JSON_NAME, out_dir / HTML_NAME
    if shard.is_main:
        json_path, html_path = write_report(report, out_dir)
    shard.wait()  # the files are there when any process returns
    if report is None:
        report = json.loads(json_path.read_text())
    mine = report["timing"]["shares"][shard.index]
    share = {"shard": str(shard), "index": shard.index + 1, "count": shard.count, "main": shard.is_main,
             "clips": mine["clips"], "people": mine["subjects"]}  # fmt: skip
    return {**report, "shard": share}, json_path, html_path
