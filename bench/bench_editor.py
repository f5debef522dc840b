"""Editing and anonymization speed: clips/s for 30-frame clips, one at a time and batched.

An edit = conditioner embedding of the source + (with method "invert") DDIM inversion over
`strength` of the schedule + guided regeneration + decoding; an anonymization = the same with a
novel target person (its first clip generated as the reference, for a denoiser with a reference
pathway), plus the judge's embeddings of source and result (the retry policy's leakage check,
`studio.jobs.anonymization`), timed for ONE attempt (`max_attempts=1`; a leaking clip
retried costs one more attempt each). "one": `edit` / the policy per clip; "batched":
`edit_many` / the policy over all clips at once (their windows denoised together). In fp32 and
under bf16 autocast, on the threads torch has (set OMP_NUM_THREADS). Beside the speed: how much
the bf16 edits differ from the fp32 ones (foreground IoU). Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch
from diffusers import DPMSolverMultistepScheduler

from gaitdata.walkers import identity_for, render_walker_sequence, walk_for
from generators.autoencoder import SilhouetteAutoencoder
from generators.denoiser import GaitLatentDenoiser
from generators.editor import GaitEditor
from generators.identity_bank import IdentityBank
from generators.pipeline import GaitGenerationPipeline
from generators.settings import ANONYMIZE, EDIT, METHODS
from studio.jobs.anonymization import anonymize_until_unverified


def load_editor() -> tuple[GaitEditor, object, dict, dict]:
    """Bundled generator, identity bank, judge and calibration; untrained stand-ins of the same size where absent."""
    import recognizers

    source = {}
    try:
        from generators import load_generator

        pipeline = load_generator()
        source["generator"] = "bundled"
    except (ImportError, FileNotFoundError, OSError):
        scheduler = DPMSolverMultistepScheduler(beta_schedule="squaredcos_cap_v2", prediction_type="v_prediction")
        pipeline = GaitGenerationPipeline(SilhouetteAutoencoder(), GaitLatentDenoiser(), scheduler)
        pipeline.conditioner = recognizers.GaitBase().eval()
        source["generator"] = "untrained (same size)"
    bank = pipeline.identity_bank
    if bank is None:
        dim = pipeline.denoiser.config.identity_dim
        bank = IdentityBank(np.random.default_rng(0).normal(size=(64, dim)), [f"{i:03d}" for i in range(64)])
    try:
        judge = recognizers.load_judge()
        calibration = recognizers.load_calibration(recognizers.resolve_weights(recognizers.JUDGE))
        source["judge"] = "bundled"
    except FileNotFoundError:
        judge = recognizers.GaitSet(stem_stride=2, pool_stage2=False, batch_norm=True).eval()
        calibration = None
        source["judge"] = "untrained gaitset_walkers.json widths"
    if calibration is None:  # timing only: the threshold decides nothing here (one attempt)
        calibration = {"metric": "euc", "threshold": 0.0}
    return GaitEditor(pipeline, bank=bank), judge, calibration, source


def walker_clips(count: int, frames: int = 30) -> list:
    """`count` rendered walker clips of `frames` frames, one per subject, views cycling over CASIA-B's."""
    clips = []
    for i in range(count):
        person = identity_for(11, f"{i + 1:03d}")
        view = (18 * i) % 198
        clips.append(render_walker_sequence(person, walk_for(11, person, "nm-05"), view_deg=view, num_frames=frames))
    return clips


def time_calls(call, clips, bf16: bool) -> tuple[float, list]:
    """Seconds for `call(list_of_clips, seeds)` over every clip (after one warm-up), and the outputs."""
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        call(clips[:1], [0])  # warm-up: first-call allocations, oneDNN kernel selection
        start = time.perf_counter()
        outputs = call(clips, list(range(len(clips))))
    return time.perf_counter() - start, outputs


def foreground_iou(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a > 127, b > 127
    return float((a & b).sum() / max((a | b).sum(), 1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clips", type=int, default=16)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--guidance", type=float, default=2.0)
    parser.add_argument("--edit-strength", type=float, default=EDIT.strength)
    parser.add_argument("--anonymize-strength", type=float, default=ANONYMIZE.strength)
    parser.add_argument("--edit-method", choices=METHODS, default=EDIT.method)
    parser.add_argument("--anonymize-method", choices=METHODS, default=ANONYMIZE.method)
    args = parser.parse_args()
    parser_settings = dict(steps=args.steps, guidance=args.guidance)
    editor, judge, calibration, source = load_editor()
    clips = walker_clips(args.clips)

    def edit_batched(batch, seeds):
        return editor.edit_many(
            batch, clothing="coat", strength=args.edit_strength, seeds=seeds, method=args.edit_method, **parser_settings
        )

    def anonymize_batched(batch, seeds):
        return anonymize_until_unverified(
            editor,
            judge,
            calibration,
            batch,
            seeds,
            args.anonymize_strength,
            max_attempts=1,
            method=args.anonymize_method,
            **parser_settings,
        )

    def one_at_a_time(batched):
        return lambda batch, seeds: [out for clip, seed in zip(batch, seeds) for out in batched([clip], [seed])]

    result = {
        "benchmark": "editor",
        **{f"{k}_weights": v for k, v in source.items()},
        "threads": torch.get_num_threads(),
        "clips": args.clips,
        "frames": 30,
        "steps": args.steps,
        "guidance": args.guidance,
        "edit_method": args.edit_method,
        "anonymize_method": args.anonymize_method,
        "edit_strength": args.edit_strength,
        "anonymize_strength": args.anonymize_strength,
        "anonymize_attempts": 1,
    }
    edits = {}
    for name, bf16 in (("fp32", False), ("bf16", True)):
        for mode, wrap in (("one", one_at_a_time), ("batched", lambda f: f)):
            seconds, edits[name, mode] = time_calls(wrap(edit_batched), clips, bf16)
            result[f"edit_clips_per_s_{name}_{mode}"] = round(args.clips / seconds, 2)
            seconds, _ = time_calls(wrap(anonymize_batched), clips, bf16)
            result[f"anonymize_clips_per_s_{name}_{mode}"] = round(args.clips / seconds, 2)
    pairs = zip(edits["fp32", "batched"], edits["bf16", "batched"], strict=True)
    result["bf16_vs_fp32_edit_iou"] = round(float(np.mean([foreground_iou(a.frames, b.frames) for a, b in pairs])), 4)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
