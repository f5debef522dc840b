"""`studio evaluate`: the fidelity report of a folder of generated / edited / anonymized clips.

Judges the folder against a real one (`evaluation.fidelity_report.fidelity_report`) and writes
the JSON and the self-contained HTML page (`evaluation.html_report.write_report`) into an
output folder that must lie outside both inputs.
"""

from __future__ import annotations

import os
from pathlib import Path

from tqdm.auto import tqdm

from evaluation.fidelity_report import fidelity_report
from evaluation.html_report import write_report
from gaitdata.atomic import ensure_outside


class _StageBars:
    """One tqdm bar per stage of `fidelity_report`'s progress calls."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.bars: dict[str, tqdm] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        bar = self.bars.get(stage)
        if bar is None:
            bar = self.bars[stage] = tqdm(total=total, desc=f"embedding {stage}", unit="clip", leave=False)
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
    **options,
) -> tuple[dict, Path, Path]:
    """Compute the fidelity report and write it; returns (report, json_path, html_path).

    Args:
        real_root, generated_root, kind, max_clips: as `fidelity_report`.
        out_dir: where `fidelity_report.json` and `fidelity_report.html` go (outside both inputs).
        progress: tqdm bars while embedding.
        options: the rest of `fidelity_report`'s keywords (judge, covariate_classifier,
            calibration, max_frames, gallery_subjects, bf16, samples, seed).
    """
    ensure_outside(out_dir, real_root, generated_root)
    bars = _StageBars(progress)
    try:
        report = fidelity_report(real_root, generated_root, kind, max_clips=max_clips, progress=bars, **options)
    finally:
        bars.close()
    json_path, html_path = write_report(report, Path(out_dir))
    return report, json_path, html_path
