"""Synthesize a dataset of novel people: identities × views × conditions, in the OpenGait layout.

The web app's Synthesize tab and `studio synthesize` call `synthesize_dataset`. Identities come from
the generator's identity bank when it ships one (novel mixes of real identities, pushed away
from each of them), else they are random unit vectors in the conditioner's embedding space.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from gaitdata.casia_b import CONDITION_COVARIATES, CONDITION_TYPES
from gaitdata.opengait import Partition, sequence_pkl_path, write_partition, write_pkl_sequence
from studio.jobs.sharding import OPENGAIT_LAYOUT

LAYOUT = OPENGAIT_LAYOUT
MAX_IDENTITIES = 100
# share of the starting noise common to one novel person's clips (`GaitGenerationPipeline.person_noise`).
# Judge self rank-1 of 12 novel people × 22 clips: 24% at 0 (each clip its own noise), 81% at 0.9,
# 90% at 1. At 1 no two clips coincide: a person has one clip per (view, condition type).
IDENTITY_NOISE = 1.0
NOT_INSTALLED = "generator weights not installed: train with `studio train-generator` or pass --generator PATH"


class GeneratorUnavailable(FileNotFoundError):
    """No generator weights where they were looked for; the message says how to get some."""


class _LazyConditioner:
    """Loads the bundled conditioner on first `embed`: synthesis from embeddings never needs it."""

    def __init__(self):
        self._model = None

    def embed(self, *args, **kwargs):
        if self._model is None:
            import recognizers

            self._model = recognizers.load_conditioner()
        return self._model.embed(*args, **kwargs)


def load_synthesis_pipeline(name_or_path: str | os.PathLike | None = None):
    """The generation pipeline for synthesis: a folder, or the bundled one (None).

    Raises:
        GeneratorUnavailable: no generator folder there (message: how to train or pass one).
        GaitDataError: the folder is there but its weights are corrupt.
    """
    import generators  # local: torch and diffusers load only when a generator is wanted

    name = name_or_path if name_or_path is not None else generators.BUNDLED_GENERATOR
    try:
        folder = generators.resolve_generator(name)
    except FileNotFoundError as err:
        raise GeneratorUnavailable(f"{NOT_INSTALLED} ({err})") from None
    return generators.load_generator(folder, conditioner=_LazyConditioner())


def load_novelty_judge():
    """The bundled judge and its reference templates of known people, for `synthesize_dataset`'s check.

    Raises:
        FileNotFoundError: no bundled judge, or it ships no reference templates.
    """
    import recognizers
    from evaluation.novelty import ReferenceTemplates

    judge = recognizers.load_judge()
    return judge, ReferenceTemplates.load(recognizers.resolve_weights(recognizers.JUDGE))


def novel_identities(
    pipeline,
    count: int,
    seed: int = 0,
    bank_folder: str | os.PathLike | None = None,
    push: float | None = None,
    space: str = "standardized",
):
    """`count` identity embeddings for people who do not exist.

    Args:
        pipeline: a `GaitGenerationPipeline` (fixes the embedding size).
        count: how many.
        seed: randomness.
        bank_folder: an `IdentityBank` folder; its novel identities are used when it loads.
            Without one, the pipeline's own bank (shipped in its folder) is used when it has one.
        push, space: how far from the people they resemble, and where (`IdentityBank.novel`):
            "standardized" mixes and pushes where the denoiser reads identities (people differ
            there; more realistic), "raw" in the conditioner's space (a push of ~0.9 there gives
            more distinct but less realistic people; the bundled generator's model card).

    Returns:
        (`float32 [count, E]` unit embeddings, per identity a JSON-ready dict of where it came from).
    """
    bank = getattr(pipeline, "identity_bank", None)
    if bank_folder is not None and (Path(bank_folder) / "identity_bank.safetensors").is_file():
        from generators import IdentityBank

        bank = IdentityBank.load(bank_folder)
    if space not in ("standardized", "raw"):
        raise ValueError(f"space must be 'standardized' or 'raw', got {space!r}")
    if bank is not None:
        statistics = pipeline.identity_statistics() if space == "standardized" else None
        embeddings, info = bank.novel(count, seed=seed, push=push, standardization=statistics)
        return embeddings, [{"source": "identity_bank", **i} for i in info]
    dim = int(pipeline.denoiser.config.identity_dim)
    rng = np.random.default_rng(seed)
    embeddings = rng.standard_normal((count, dim)).astype(np.float32)
    embeddings /= np.linalg.norm(embeddings, axis=1, keepdims=True).clip(min=1e-12)
    return embeddings, [{"source": "random", "seed": seed, "index": i} for i in range(count)]


def _check_request(num_identities: int, views: Sequence[str], conditions: Sequence[str]) -> tuple[list, list]:
    if not 1 <= int(num_identities) <= MAX_IDENTITIES:
        raise ValueError(f"num_identities must be within 1–{MAX_IDENTITIES}, got {num_identities}")
    if not views:
        raise ValueError("choose at least one view (e.g. '090')")
    if not conditions:
        raise ValueError(f"choose at least one condition of {', '.join(CONDITION_TYPES)}")
    view_names = []
    for v in views:
        try:
            deg = float(v)
        except (TypeError, ValueError):
            raise ValueError(f"view {v!r} is not an angle in degrees (e.g. '090')") from None
        if not 0 <= deg <= 180:
            raise ValueError(f"view {v!r} is outside 000–180")
        view_names.append(f"{int(round(deg)):03d}")
    kinds = []
    for c in conditions:
        kind = str(c).split("-")[0].lower()
        if kind not in CONDITION_TYPES:
            raise ValueError(f"condition {c!r} is not one of {', '.join(CONDITION_TYPES)}")
        kinds.append(kind)
    return list(dict.fromkeys(view_names)), list(dict.fromkeys(kinds))


def _clip_path(subject: str, kind: str, view: str) -> str:
    """Where a novel person's clip of one (condition type, view) lies, as the pipeline names it (`nm-01`)."""
    return sequence_pkl_path("", subject, f"{kind}-01", view).as_posix()


def synthesize_dataset(
    pipeline,
    out_root: str | os.PathLike,
    num_identities: int,
    views: Sequence[str],
    conditions: Sequence[str],
    seed: int = 0,
    num_frames: int = 30,
    steps: int = 20,
    guidance: float = 2.0,
    bank_folder: str | os.PathLike | None = None,
    progress: Callable[[int, int], None] | None = None,
    judge=None,
    references=None,
    identity_noise: float = IDENTITY_NOISE,
    shard=None,
    cancel: Callable[[], None] | None = None,
    candidates: int = 1,
    conditioner_guidance: float = 0.0,
    novel_push: float | None = None,
    novel_space: str = "standardized",
) -> dict:
    """Generate every (novel identity, view, condition) clip and write an OpenGait-layout dataset.

    Each novel person's clips are made in one pipeline call, from seeds of the job's `seed` and
    the person's number, so a person comes out the same in any run. The job resumes: rerun it
    with the same settings after an interruption and the people not finished are made (a person
    only partly written is made again whole, the missing clips written). Under `torchrun` /
    `accelerate launch` each process makes a share of the people (`studio.jobs.sharding`)
    and the main one writes the manifest, the partition and the novelty check: the files are
    byte for byte those of a one-process run.

    Args:
        pipeline: a `GaitGenerationPipeline` (e.g. from `load_synthesis_pipeline`).
        out_root: dataset folder to write (`<subject>/<condition>/<view>/<view>.pkl`,
            `partition.json`, `manifest.json`, `manifest.jsonl` with one row per clip as it is
            written); every file is written atomically. A folder holding another job, or files
            but no manifest, is refused.
        num_identities: novel people to make (1–100); subjects are named `novel-001`, ...
        views: views as dataset names (`'000'` ... `'180'`).
        conditions: condition types `nm` / `bg` / `cl` (or names like `nm-01`).
        seed: identities and sampling follow from it.
        num_frames, steps, guidance: passed to the pipeline.
        bank_folder: an identity bank to draw novel identities from (None or missing: random).
        progress: called as `progress(identities_done, identities)` for this process's share.
        judge, references: a judge recognizer (never the conditioner) and the known people's
            `evaluation.novelty.ReferenceTemplates` in its space: when both are given, every
            identity is checked — distinct from every known person (below the template threshold
            at FAR 1%) and consistent with itself across its clips (needs ≥ 2 clips each) — and
            the verdicts go into the manifest.
        identity_noise: share of the starting noise common to all clips of one person (0: every
            clip its own noise, so one "person" varies from clip to clip; 1: identical noise).
        shard: this process's share (default `current_shard()`).
        cancel: called between sampler steps (`GaitGenerationPipeline.__call__`); what it raises
            stops the job, the people already written kept for a rerun.
        candidates: best of that many candidates for each clip, chosen by the conditioner
            (`generators.identity_selection`): each person's first clip the one farthest from every
            person the generator knows (`novel_person`), the others the closest to that person;
            the judge checks novelty.
        conditioner_guidance: steer each clip toward its person along the conditioner's gradient
            (`generators.identity_guidance`; 0 = off).
        novel_push, novel_space: where and how far novel identities are pushed from the people
            they resemble (`novel_identities`).

    Returns:
        The manifest (also written as `manifest.json`): settings, identities and every sequence
        with its pkl path relative to `out_root`, and `novelty` when checked; under "shard",
        what this process made.
    """
    from generators.identity_guidance import check_scale
    from generators.identity_selection import check_candidates
    from studio.jobs.sharding import JobFolder, current_shard

    view_names, kinds = _check_request(num_identities, views, conditions)
    if not 0.0 <= float(identity_noise) <= 1.0:
        raise ValueError(
            f"identity_noise (the shared share of a person's starting noise) must be within 0–1, got {identity_noise}"
        )
    out_root = Path(out_root)
    started = time.time()
    settings = {
        "num_identities": int(num_identities),
        "views": view_names,
        "conditions": kinds,
        "seed": int(seed),
        "num_frames": int(num_frames),
        "steps": int(steps),
        "guidance": float(guidance),
        "identity_noise": float(identity_noise),
        # only when asked: folders made before the option resume under the same settings
        **({"candidates": check_candidates(candidates)} if candidates != 1 else {}),
        **({"conditioner_guidance": check_scale(conditioner_guidance)} if conditioner_guidance else {}),
        # always: folders made when novel people were pushed in the raw space do not resume into these
        "novel_space": novel_space,
        **({"novel_push": float(novel_push)} if novel_push is not None else {}),
    }
    # the identities first: a bad push or space is refused before any folder is made
    embeddings, identity_info = novel_identities(
        pipeline, int(num_identities), seed, bank_folder, novel_push, novel_space
    )
    shard = shard or current_shard()
    job = JobFolder(out_root, "gait-studio synthetic dataset", settings, shard, key="path", layout=LAYOUT)
    # one clip per (view, condition) for each identity, in one pipeline call
    grid = [(v, k) for k in kinds for v in view_names]
    clothing = [CONDITION_COVARIATES[k][0] for _, k in grid]
    carrying = [CONDITION_COVARIATES[k][1] for _, k in grid]
    subjects = [f"novel-{i + 1:03d}" for i in range(len(embeddings))]
    paths = [[_clip_path(subject, k, v) for v, k in grid] for subject in subjects]
    pending = [i for i in range(len(embeddings)) if not all(job.is_done(p) for p in paths[i])]
    mine = shard.take(pending)  # whole people: a person's clips share their noise and reference
    share = {"shard": str(shard), "index": shard.index + 1, "count": shard.count, "people": len(mine),
             "clips": len(mine) * len(grid)}  # fmt: skip
    total = len(mine) + (len(embeddings) - len(pending) if shard.count == 1 else 0)
    if progress:
        progress(total - len(mine), total)
    try:
        for done, i in enumerate(mine, start=total - len(mine) + 1):
            person_seed = seed * 100_003 + i
            clips = pipeline(
                identity=pipeline.novel_person(
                    embeddings[i],
                    person_seed,
                    steps,
                    guidance,
                    cancel=cancel,
                    candidates=candidates,
                    conditioner_guidance=conditioner_guidance,
                ),
                view=[v for v, _ in grid],
                clothing=clothing,
                carrying=carrying,
                num_clips=len(grid),
                num_frames=num_frames,
                steps=steps,
                guidance=guidance,
                seed=person_seed,
                subject=subjects[i],
                latents=pipeline.person_noise(len(grid), num_frames, person_seed, identity_noise),
                cancel=cancel,
                candidates=candidates,
                conditioner_guidance=conditioner_guidance,
            )
            for (view, _), clip, path in zip(grid, clips, paths[i]):
                if job.is_done(path):
                    continue
                clip.view = view  # the requested name, exactly as the dataset will call it
                written = write_pkl_sequence(out_root, clip).relative_to(out_root).as_posix()
                job.append({"subject": subjects[i], "condition": clip.condition, "view": view,
                            "frames": clip.num_frames, "path": written, "status": "done"})  # fmt: skip
            if progress:
                progress(done, total)
    finally:
        job.close()
    this_run = job.gather()
    body, rows = None, None
    if shard.is_main:
        rows = [job.rows[p] for person in paths for p in person if p in job.rows]
        identities = [{"subject": s, **info} for s, info in zip(subjects, identity_info)]
        novelty = None
        if judge is not None and references is not None:
            from gaitdata.readers import read_sequence

            clips_made = [read_sequence(out_root / r["path"]) for r in rows]  # as written, by any process
            novelty = references.check(judge.embed(clips_made, bf16=True), [r["subject"] for r in rows])
            for d in identities:
                d["novelty"] = novelty["per_identity"][d["subject"]]
            novelty = {k: v for k, v in novelty.items() if k != "per_identity"}
        write_partition(out_root / "partition.json", Partition(train=subjects, test=[]))
        body = {
            "counts": {"clips": len(rows), "written_this_run": len(this_run), "resumed": job.resumed},
            "identities": identities,
            "novelty": novelty,
            "sequences": rows,
            "processes": shard.count,
            "seconds": round(time.time() - started, 2),
        }
    manifest = job.finish(body, rows)
    return {**manifest, "shard": {**share, "main": shard.is_main}}
