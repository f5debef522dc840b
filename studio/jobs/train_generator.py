"""Train the silhouette generator end to end: autoencoder → latents → denoiser → pipeline folder.

The identity condition is the CONDITIONER recognizer's embedding of a reference clip of the
same person (never the judge's). Extra datasets (e.g. more procedural walkers rendered with
another seed) add identities for the generator only; their subjects are namespaced by dataset
so that "001" of one root is not "001" of another.
"""

from __future__ import annotations

import json
import logging
import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from diffusers import DPMSolverMultistepScheduler
from tqdm.auto import tqdm

from gaitdata import ReadReport, iter_opengait, read_partition
from gaitdata.atomic import atomic_open, atomic_write_text
from gaitdata.model_folders import resolve_model_folder
from gaitdata.sequence import crop_to_model_input
from gaitdata.silhouette_stats import gait_motion_signal
from generators.covariate_means import CovariateMeans
from generators.data import ClipConditions, LatentClipDataset
from generators.identity_bank import IdentityBank
from generators.pipeline import GaitGenerationPipeline, normalize_identity
from generators.training import (
    AutoencoderTrainingConfig,
    DenoiserTrainingConfig,
    encode_sequences,
    reconstruction_iou,
    train_autoencoder,
    train_denoiser,
)

logger = logging.getLogger(__name__)


@dataclass
class GeneratorRecipe:
    """One generator experiment (`configs/generators/*.json`)."""

    conditioner: str = "gaitbase-walkers"
    autoencoder: AutoencoderTrainingConfig = field(default_factory=AutoencoderTrainingConfig)
    denoiser: DenoiserTrainingConfig = field(default_factory=DenoiserTrainingConfig)
    autoencoder_frames: int = 200_000  # frames sampled for the autoencoder
    validation_frames: int = 20_000  # frames of held-out subjects for its IoU
    references_per_subject: int = 12  # clips per subject embedded as identity references
    latent_frames_per_clip: int = 40  # central frames of each clip encoded for the denoiser (windows are 30)
    autoencoder_from: str | None = None  # reuse this generator's autoencoder (folder or bundled name): no stage 1
    autoencoder_init: str | None = None  # fine-tune this generator's autoencoder on the data (adapting to it)
    denoiser_from: str | None = None  # start the denoiser from this generator's (folder or bundled name): fine-tuning

    @classmethod
    def from_json(cls, path: str | Path) -> GeneratorRecipe:
        data = json.loads(Path(path).read_text())
        data.pop("_comment", None)
        ae = AutoencoderTrainingConfig(**data.pop("autoencoder", {}))
        dn = DenoiserTrainingConfig(**data.pop("denoiser", {}))
        return cls(autoencoder=ae, denoiser=dn, **data)


@dataclass
class _Clips:
    frames: list = field(default_factory=list)  # uint8 [T, 64, 44] each
    subjects: list = field(default_factory=list)
    conditions: list = field(default_factory=list)


def _load_clips(root: Path, subjects: list[str] | None, tag: str, report: ReadReport | None = None) -> _Clips:
    """Every readable clip of `subjects` of `root` (unreadable ones are skipped, counted in `report`)."""
    clips = _Clips()
    for seq in tqdm(iter_opengait(root, report, subjects=subjects), desc=f"reading {root.name}", unit="seq"):
        clips.frames.append(crop_to_model_input(seq.frames))
        clips.subjects.append(f"{tag}/{seq.subject}")
        clips.conditions.append(ClipConditions.from_sequence(seq))
    return clips


def _reference_identities(conditioner, clips: _Clips, per_subject: int, seed: int):
    """Embed `per_subject` clips of every subject with the conditioner.

    Returns:
        (`float32 [N, E]` each embedded clip's own normalised embedding (zeros elsewhere),
        `bool [N]` which clips are embedded — the references a training window may be given —,
        the bank of every training subject: the mean of its embedded clips).
    """
    rng = np.random.default_rng(seed)
    by_subject = defaultdict(list)
    for i, s in enumerate(clips.subjects):
        by_subject[s].append(i)
    chosen = sorted(int(i) for idx in by_subject.values() for i in rng.permutation(idx)[:per_subject])
    embeddings = normalize_identity(conditioner.embed([clips.frames[i] for i in chosen], bf16=True, progress=True))
    identities = np.zeros((len(clips.frames), embeddings.shape[1]), np.float32)
    identities[chosen] = embeddings.numpy()
    embedded = np.zeros(len(clips.frames), bool)
    embedded[chosen] = True
    bank = IdentityBank.from_embeddings(embeddings.numpy(), [clips.subjects[i] for i in chosen])
    kinds, views = zip(*(_type_and_view(clips.conditions[i]) for i in chosen))
    bank.covariate_means = CovariateMeans.from_embeddings(embeddings.numpy(), kinds, views)
    return identities, embedded, bank


def _type_and_view(conditions: ClipConditions) -> tuple[str, float | None]:
    """A clip's condition type (`nm` / `bg` / `cl`, `unk` when not stated) and view (None: not stated)."""
    view_known, clothing_known, carrying_known, _ = conditions.present
    kind = "cl" if clothing_known and conditions.clothing else "unk"
    if kind == "unk" and clothing_known and carrying_known:
        kind = "bg" if conditions.carrying else "nm"
    return kind, conditions.view_deg if view_known else None


def _cached_references(cache: Path, conditioner, clips: _Clips, per_subject: int, seed: int, resume: bool):
    """`_reference_identities`, read from / written to `cache/` (embedding thousands of clips takes minutes)."""
    if resume and (cache / "identities.npz").exists():
        with np.load(cache / "identities.npz") as stored:
            if "embedded" in stored and len(stored["identities"]) == len(clips.frames):
                return stored["identities"], stored["embedded"], IdentityBank.load(cache)
        logger.warning("%s holds references of other clips; embedding again", cache)
    identities, embedded, bank = _reference_identities(conditioner, clips, per_subject, seed)
    bank.save(cache)
    with atomic_open(cache / "identities.npz", "wb") as f:
        np.savez(f, identities=identities, embedded=embedded)
    return identities, embedded, bank


def _clip_latents(autoencoder, clips: _Clips, cache: Path, keep: int, resume: bool) -> list[np.ndarray]:
    """Latents of each clip's central `keep` frames; read from / written to `cache` (npz)."""
    lengths = np.array([min(len(f), keep) for f in clips.frames])
    if resume and cache.exists():
        with np.load(cache) as stored:
            if np.array_equal(stored["lengths"], lengths):
                return np.split(stored["latents"], np.cumsum(lengths)[:-1])
        logger.warning("%s holds latents of other clips; encoding again", cache)
    latents = encode_sequences(autoencoder, [f[max(0, (len(f) - keep) // 2) :][:keep] for f in clips.frames])
    with atomic_open(cache, "wb") as f:
        np.savez(f, latents=np.concatenate(latents), lengths=lengths)
    return latents


def _clip_motions(clips: _Clips, keep: int) -> list[np.ndarray]:
    """The motion signal of each clip's central `keep` frames (the frames `_clip_latents` encodes)."""
    return [
        gait_motion_signal(f[max(0, (len(f) - keep) // 2) :][:keep])
        for f in tqdm(clips.frames, desc="motion signals", unit="seq")
    ]


def _sample_frames(frames_list: list[np.ndarray], count: int, rng: np.random.Generator) -> np.ndarray:
    """`count` frames drawn uniformly from all clips, without joining them all first."""
    lengths = np.array([len(f) for f in frames_list])
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    picks = np.sort(rng.choice(offsets[-1], size=min(count, int(offsets[-1])), replace=False))
    clip_of = np.searchsorted(offsets, picks, side="right") - 1
    return np.stack([frames_list[c][p - offsets[c]] for c, p in zip(clip_of, picks)])


def _generator_folder(name_or_path: str, part: str, setting: str) -> Path:
    """The folder holding `part/` of a generator named by a bundled name, a pipeline or a run folder."""
    from generators import WEIGHTS_DIR

    try:
        return resolve_model_folder(name_or_path, WEIGHTS_DIR, f"{part}/", f"folder with a {part}/")
    except FileNotFoundError as err:
        raise FileNotFoundError(f"{setting}: {err}") from None


def _init_denoiser(recipe: GeneratorRecipe):
    """The denoiser `recipe.denoiser_from` names (None without one), checked against the recipe's
    architecture as far as it is known before the data is read (`check_denoiser_init` checks the rest)."""
    if recipe.denoiser_from is None:
        return None
    from generators.denoiser import GaitLatentDenoiser
    from generators.training import check_denoiser_init

    folder = _generator_folder(recipe.denoiser_from, "denoiser", "denoiser_from")
    init = GaitLatentDenoiser.from_pretrained(folder / "denoiser", torch_dtype=torch.float32)
    dn = recipe.denoiser
    wanted = {
        "width": dn.width,
        "depth": dn.depth,
        "heads": dn.heads,
        "reference_frames": dn.reference_frames,
        "motion_dim": dn.motion_dim,
        "standardize_identity": dn.standardize_identity,
    }
    check_denoiser_init(wanted, {k: init.config.get(k) for k in wanted})
    return init


def _init_autoencoder(recipe: GeneratorRecipe):
    """The autoencoder `recipe.autoencoder_init` names (None without one), checked against the
    recipe's size before the data is read."""
    if recipe.autoencoder_init is None:
        return None
    if recipe.autoencoder_from is not None:
        raise ValueError(
            f"autoencoder_from ({recipe.autoencoder_from!r}: reuse) and autoencoder_init "
            f"({recipe.autoencoder_init!r}: fine-tune) exclude each other; set one"
        )
    from generators.autoencoder import SilhouetteAutoencoder
    from generators.training import check_autoencoder_init

    folder = _generator_folder(recipe.autoencoder_init, "autoencoder", "autoencoder_init")
    init = SilhouetteAutoencoder.from_pretrained(folder / "autoencoder", torch_dtype=torch.float32)
    check_autoencoder_init(recipe.autoencoder, init)
    return init


def _reuse_autoencoder(name_or_path: str, out_dir: Path, val_frames: np.ndarray) -> None:
    """Copy another generator's autoencoder into this run as stage 1, measured on this run's held-out frames."""
    from generators.autoencoder import SilhouetteAutoencoder

    folder = _generator_folder(name_or_path, "autoencoder", "autoencoder_from")
    model = SilhouetteAutoencoder.from_pretrained(folder / "autoencoder", torch_dtype=torch.float32)
    model.save_pretrained(out_dir / "autoencoder")
    metrics = {"reused_from": str(name_or_path), **reconstruction_iou(model, val_frames)}
    atomic_write_text(out_dir / "autoencoder_metrics.json", json.dumps(metrics, indent=1) + "\n")


def train_generator(
    data: str | Path,
    out_dir: str | Path,
    recipe: GeneratorRecipe | None = None,
    partition: str | Path | None = None,
    extra_data: list[str | Path] = (),
    resume: bool = True,
    stop_after: str | None = None,
) -> dict:
    """Train a generator and write a pipeline folder to `out_dir/pipeline/`.

    Args:
        data: the benchmark dataset (OpenGait layout); its TRAIN_SET trains, its TEST_SET
            subjects give the autoencoder's held-out frames.
        out_dir: run folder (checkpoints, logs, `pipeline/`, `summary.json`).
        recipe: the experiment's settings (default `GeneratorRecipe()`).
        partition: partition JSON (default `<data>/partition.json`).
        extra_data: more OpenGait-layout datasets whose every subject trains the generator.
        resume: continue interrupted stages from their checkpoints (finished stages are reused).
        stop_after: "autoencoder" or "latents" stops after that stage (neither needs the
            conditioner, so both can run while the conditioner trains).

    Returns:
        The summary written to `out_dir/summary.json`.
    """
    import recognizers  # the roof may import every floor

    recipe = recipe or GeneratorRecipe()
    data, out_dir = Path(data), Path(out_dir)
    # a wrong --init fails now, not after minutes of reading and encoding
    init = _init_denoiser(recipe)
    autoencoder_init = _init_autoencoder(recipe)
    out_dir.mkdir(parents=True, exist_ok=True)
    part = read_partition(partition or data / "partition.json")
    started = time.time()
    reports = {str(data): ReadReport()}
    clips = _load_clips(data, part.train, "data", reports[str(data)])
    for k, extra in enumerate(extra_data):
        reports[str(extra)] = ReadReport()
        more = _load_clips(Path(extra), None, f"extra{k}", reports[str(extra)])
        clips.frames += more.frames
        clips.subjects += more.subjects
        clips.conditions += more.conditions
    logger.info("%d training clips of %d subjects", len(clips.frames), len(set(clips.subjects)))
    for root, report in reports.items():
        if report.skipped:
            logger.warning("%s: %s (kept in summary.json)", root, report.summary())

    # 1. the frame autoencoder (reused when a previous run finished it)
    rng = np.random.default_rng(recipe.autoencoder.seed)
    if recipe.autoencoder_from is not None and not (out_dir / "autoencoder" / "config.json").exists():
        held_out = _load_clips(data, part.test, "test")
        _reuse_autoencoder(
            recipe.autoencoder_from, out_dir, _sample_frames(held_out.frames, recipe.validation_frames, rng)
        )
    if resume and (out_dir / "autoencoder" / "config.json").exists():
        from generators.autoencoder import SilhouetteAutoencoder

        autoencoder = SilhouetteAutoencoder.from_pretrained(out_dir / "autoencoder")
        ae_metrics = json.loads((out_dir / "autoencoder_metrics.json").read_text())
    else:
        held_out = _load_clips(data, part.test, "test")
        autoencoder, ae_metrics = train_autoencoder(
            _sample_frames(clips.frames, recipe.autoencoder_frames, rng),
            _sample_frames(held_out.frames, recipe.validation_frames, rng),
            out_dir,
            recipe.autoencoder,
            resume=resume,
            init=autoencoder_init,
        )
    logger.info("autoencoder: held-out foreground IoU %.4f", ae_metrics["mean_iou"])
    if "init" in ae_metrics:
        logger.info("  (%s before fine-tuning: %.4f)", recipe.autoencoder_init, ae_metrics["init"]["mean_iou"])
    if stop_after == "autoencoder":
        return {"autoencoder": {k: v for k, v in ae_metrics.items() if k != "config"}}

    # 2. latents of every clip (cached: encoding a million frames takes minutes)
    latents = _clip_latents(autoencoder, clips, out_dir / "latents.npz", recipe.latent_frames_per_clip, resume)
    if stop_after == "latents":
        return {"latents": len(latents)}
    if stop_after is not None:
        raise ValueError(f"stop_after must be None, 'autoencoder' or 'latents', got {stop_after!r}")

    # 3. identity references from the conditioner
    conditioner = recognizers.load_recognizer(recipe.conditioner)
    identities, embedded, bank = _cached_references(
        out_dir / "references", conditioner, clips, recipe.references_per_subject, recipe.denoiser.seed, resume
    )
    dn = recipe.denoiser
    dataset = LatentClipDataset(
        latents,
        clips.subjects,
        clips.conditions,
        identities,
        dn.clip_frames,
        motions=_clip_motions(clips, recipe.latent_frames_per_clip) if dn.motion_dim else None,
        reference_frames=dn.reference_frames,
        reference_stride=dn.reference_stride,
        embedded=embedded,
    )

    # 4. the denoiser (from scratch, or fine-tuned from `init`, another generator's)
    identity_loss = None
    if dn.identity_loss_weight > 0:
        from generators.identity_loss import ConditionerIdentityLoss

        identity_loss = ConditionerIdentityLoss(autoencoder, conditioner, torch.from_numpy(identities[embedded]))
    denoiser, dn_metrics = train_denoiser(
        dataset, out_dir, recipe.denoiser, resume=resume, init=init, identity_loss=identity_loss
    )

    # 5. the pipeline folder, with a sampler matching the training noise schedule
    scheduler = DPMSolverMultistepScheduler(
        num_train_timesteps=recipe.denoiser.num_train_timesteps,
        beta_schedule=recipe.denoiser.beta_schedule,
        prediction_type=recipe.denoiser.prediction_type,
    )
    pipeline = GaitGenerationPipeline(autoencoder, denoiser, scheduler, identity_bank=bank)
    pipeline.save_pretrained(out_dir / "pipeline")
    summary = {
        "data": str(data),
        "extra_data": [str(e) for e in extra_data],
        "training_clips": len(clips.frames),
        "read": {root: report.to_dict() for root, report in reports.items()},
        "training_subjects": len(set(clips.subjects)),
        "conditioner": recipe.conditioner,
        "autoencoder": {k: v for k, v in ae_metrics.items() if k != "config"},
        "denoiser": {k: v for k, v in dn_metrics.items() if k != "config"},
        "recipe": asdict(recipe),
        "total_seconds": time.time() - started,
    }
    atomic_write_text(out_dir / "summary.json", json.dumps(summary, indent=1) + "\n")
    return summary
