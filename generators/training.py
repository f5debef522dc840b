"""Training of the frame autoencoder and the latent denoiser, through the one training loop.

The optimisation steps, warm-up + cosine LR, the progress bar, the log and checkpoints are
`gaitdata.training_loop.TrainingLoop`'s (on accelerate: one CPU with no set-up, several GPUs under
`accelerate launch`), the same loop the recognizers train with; the models do not know they are
being trained. Here: what each step computes, the EMA of the denoiser, and the final folders.

A run folder (`studio.jobs.train_generator`) holds both trainings, by name:
    log.jsonl                               the records of both ("model": "autoencoder" / "denoiser")
    checkpoints/autoencoder/step-N/         model/ + training_state.pt (optimizer, scheduler, RNGs)
    checkpoints/denoiser/step-N/            model/ + ema/ (the EMA weights, a model folder) +
                                            training_state.pt (… and the EMA state)
    autoencoder/, denoiser/                 the final models (the denoiser: its EMA weights)
    autoencoder_metrics.json, denoiser_metrics.json
A run resumes from its last checkpoints. A checkpoint of the layout before (`checkpoint_<name>/`:
model/, ema/, optimizer.pt) is copied into this layout when resumed; its RNG state was not kept.
"""

from __future__ import annotations

import json
import logging
import math
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from accelerate import Accelerator
from diffusers import DDPMScheduler
from diffusers.training_utils import EMAModel
from torch.utils.data import DataLoader
from tqdm.auto import tqdm

from gaitdata.runtime import fast_bf16, make_accelerator
from gaitdata.training_loop import STATE_FILE, TrainingLoop, append_log, checkpoints_folder, latest_checkpoint
from generators.autoencoder import SilhouetteAutoencoder
from generators.data import FrameDataset, LatentClipDataset
from generators.denoiser import CONDITION_NAMES, COVARIATE_CONDITIONS, IDENTITY_CONDITIONS, GaitLatentDenoiser
from generators.identity_loss import ConditionerIdentityLoss, predicted_clean

logger = logging.getLogger(__name__)


def _cosine_lr(step: int, total: int, warmup: int) -> float:
    if step < warmup:
        return (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))


def _training_loop(
    accelerator: Accelerator,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    name: str,
    config: AutoencoderTrainingConfig | DenoiserTrainingConfig,
    out_dir: Path,
    resume: bool,
    **settings,
) -> TrainingLoop:
    """The loop of model `name` ("autoencoder", "denoiser"): warm-up + cosine LR over `config.steps`,
    a checkpoint every `config.checkpoint_every` steps; resumed from its last checkpoint when asked
    and there is one (`settings`: the loop's `clip_grad`, `state`, `save_extra`)."""
    loop = TrainingLoop(
        accelerator,
        model,
        optimizer,
        out_dir=out_dir,
        name=name,
        total_steps=config.steps,
        lr_factor=lambda step: _cosine_lr(step, config.steps, config.warmup),
        checkpoint_every=config.checkpoint_every,
        keep_checkpoints=1,
        **settings,
    )
    if resume:
        if accelerator.is_main_process:
            _adopt_old_checkpoint(out_dir, name, config)
        accelerator.wait_for_everyone()
        if loop.resume():
            logger.info("resumed %s training at step %d", name, loop.step)
    return loop


def _adopt_old_checkpoint(out_dir: Path, name: str, config) -> None:
    """Copy a checkpoint of the layout before (`checkpoint_<name>/`: model/, ema/, optimizer.pt with
    {"optimizer", "step"}) into the loop's (`checkpoints/<name>/step-N/`), so that such a run resumes.
    Nothing is done when there is none, or when the run has a checkpoint of the loop's already."""
    old = out_dir / f"checkpoint_{name}"
    if not (old / "optimizer.pt").is_file() or latest_checkpoint(out_dir, name) is not None:
        return
    saved = torch.load(old / "optimizer.pt", map_location="cpu", weights_only=True)
    step = int(saved["step"])
    lrs = [group["lr"] for group in saved["optimizer"]["param_groups"]]
    # the LR schedule is a function of the step: its position is all a scheduler state holds
    scheduler = {"last_epoch": step, "_last_lr": lrs, "lr_lambdas": [None] * len(lrs)}
    state = {"step": step, "optimizer": saved["optimizer"], "scheduler": scheduler}
    if name == "denoiser":
        if not (old / "ema").is_dir():
            raise FileNotFoundError(f"{old}: a denoiser checkpoint of the layout before without its ema/ folder")
        ema = EMAModel(GaitLatentDenoiser.from_pretrained(old / "ema").parameters(), decay=config.ema_decay)
        ema.optimization_step = step
        state["ema"] = ema.state_dict()
    folder = checkpoints_folder(out_dir, name) / f"step-{step:06d}"
    tmp = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    for part in ("model", "ema"):
        if (old / part).is_dir():
            shutil.copytree(old / part, tmp / part)
    torch.save(state, tmp / STATE_FILE)
    tmp.rename(folder)
    logger.warning("%s (the checkpoint layout before) copied to %s to resume from; it may be deleted", old, folder)


def _start_run(
    config: AutoencoderTrainingConfig | DenoiserTrainingConfig, out_dir: str | Path
) -> tuple[Path, Accelerator]:
    """The run folder (made) and the accelerator, after seeding torch with `config.seed`."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(config.seed)
    return out_dir, make_accelerator("bf16" if config.bf16 else "no")


def _loader(dataset, config, step: int) -> DataLoader:
    """`config.batch_size` batches, shuffled by `config.seed + step` (a resumed run draws new ones)."""
    return DataLoader(
        dataset,
        batch_size=config.batch_size,
        shuffle=True,
        drop_last=True,
        generator=torch.Generator().manual_seed(config.seed + step),
    )


# ---- autoencoder -------------------------------------------------------------------------


@dataclass
class AutoencoderTrainingConfig:
    latent_dim: int = 128
    channels: int = 96
    steps: int = 3000
    batch_size: int = 128
    bf16: bool = True  # bfloat16 autocast: ~1.4x faster steps on this CPU
    learning_rate: float = 2e-3
    warmup: int = 100
    latent_noise: float = 0.1  # decoder sees noisy latents: robust to the denoiser's small errors
    latent_l2: float = 1e-4
    # fine-tuning from another generator's autoencoder: weight of the squared distance of the
    # encoder's latents to the init encoder's, so the init denoiser's latent space still holds
    latent_anchor: float = 1.0
    checkpoint_every: int = 500
    seed: int = 0


def reconstruction_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """BCE plus soft Dice: BCE alone under-weights thin limbs, which are few pixels."""
    bce = F.binary_cross_entropy_with_logits(logits, target)
    prob = torch.sigmoid(logits)
    inter = (prob * target).sum(dim=(1, 2, 3))
    dice = 1 - (2 * inter + 1) / (prob.sum(dim=(1, 2, 3)) + target.sum(dim=(1, 2, 3)) + 1)
    return bce + dice.mean()


@torch.no_grad()
def reconstruction_iou(model: SilhouetteAutoencoder, frames: np.ndarray, batch_size: int = 512) -> dict:
    """Foreground IoU of reconstructions, per frame, thresholded at 0.5.

    Args:
        frames: `uint8 [N, 64, 44]` held-out frames.
    Returns:
        {"mean_iou", "median_iou", "p05_iou", "frames"}.
    """
    model.eval()
    ious = []
    for start in range(0, len(frames), batch_size):
        x = torch.from_numpy(frames[start : start + batch_size]).float().div(255.0)[:, None]
        rec = model.decode(model.encode(x)) > 0.5
        target = x > 0.5
        inter = (rec & target).sum(dim=(1, 2, 3)).float()
        union = (rec | target).sum(dim=(1, 2, 3)).float().clamp(min=1)
        ious.append((inter / union).numpy())
    ious = np.concatenate(ious)
    return {
        "mean_iou": float(ious.mean()),
        "median_iou": float(np.median(ious)),
        "p05_iou": float(np.percentile(ious, 5)),
        "frames": len(ious),
    }


@torch.no_grad()
def fit_latent_scale(model: SilhouetteAutoencoder, frames: np.ndarray, samples: int = 4096) -> float:
    """1 / std of raw latents over a sample of frames (so scaled latents have unit std)."""
    idx = np.random.default_rng(0).choice(len(frames), size=min(samples, len(frames)), replace=False)
    x = torch.from_numpy(frames[np.sort(idx)]).float().div(255.0)[:, None]
    raw = model.encode(x) / model.config.scaling_factor
    return float(1.0 / raw.std().clamp(min=1e-6))


def check_autoencoder_init(config: AutoencoderTrainingConfig, init: SilhouetteAutoencoder) -> None:
    """Refuse to fine-tune from an autoencoder of another size than the config's, naming both."""
    differ = {k: (getattr(config, k), init.config[k]) for k in ("latent_dim", "channels")}
    differ = {k: v for k, v in differ.items() if v[0] != v[1]}
    if differ:
        described = ", ".join(f"{k}: config {a!r} vs init {b!r}" for k, (a, b) in differ.items())
        raise ValueError(f"the init autoencoder is another architecture than the config's ({described})")


def train_autoencoder(
    train_frames: np.ndarray,
    val_frames: np.ndarray,
    out_dir: str | Path,
    config: AutoencoderTrainingConfig | None = None,
    resume: bool = True,
    init: SilhouetteAutoencoder | None = None,
) -> tuple[SilhouetteAutoencoder, dict]:
    """Train the frame autoencoder; writes `out_dir/autoencoder/` and returns (model, metrics).

    Args:
        train_frames, val_frames: `uint8 [N, 64, 44]` (val frames from held-out subjects).
        out_dir: run folder (checkpoints, log.jsonl, final model; layout in the module docstring).
        resume: continue from the last checkpoint in `out_dir/checkpoints/autoencoder/` when present.
        init: fine-tune this trained autoencoder (its size must be the config's) instead of
            training one from scratch. Its latent scale is kept, not re-fitted, and the encoder is
            tied to the init's by `config.latent_anchor`: a denoiser trained on the init's latents
            stays valid. The metrics then hold the init's held-out IoU beside the fine-tuned one.
    """
    config = config or AutoencoderTrainingConfig()
    if init is not None:
        check_autoencoder_init(config, init)
    out_dir, accelerator = _start_run(config, out_dir)
    model = SilhouetteAutoencoder(latent_dim=config.latent_dim, channels=config.channels)
    if init is not None:
        model.register_to_config(scaling_factor=init.config.scaling_factor)
        model.load_state_dict(init.state_dict())
        anchor = SilhouetteAutoencoder.from_config(init.config).eval().requires_grad_(False)
        anchor.load_state_dict(init.state_dict())
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=1e-4)
    loop = _training_loop(accelerator, model, optimizer, "autoencoder", config, out_dir, resume)

    def compute_loss(_, x):  # the unwrapped model's encode / decode_logits
        with accelerator.autocast():
            z = model.encode(x)
            logits = model.decode_logits(z + config.latent_noise * torch.randn_like(z))
        loss = reconstruction_loss(logits.float(), x) + config.latent_l2 * z.float().pow(2).mean()
        if init is None:
            return loss
        with torch.no_grad(), accelerator.autocast():
            z_init = anchor.encode(x)
        drift = (z.float() - z_init.float()).pow(2).mean()
        return loss + config.latent_anchor * drift, {"latent_drift": drift.item()}

    seconds = loop.run(_loader(FrameDataset(train_frames), config, loop.step), compute_loss)
    model.eval()
    if init is None:
        model.register_to_config(scaling_factor=1.0)
        model.register_to_config(scaling_factor=fit_latent_scale(model, train_frames))
    metrics = reconstruction_iou(model, val_frames)
    if init is not None:
        metrics["init"] = {k: v for k, v in reconstruction_iou(init, val_frames).items() if k != "frames"}
    metrics["train_seconds"] = seconds
    metrics["config"] = asdict(config)
    model.save_pretrained(out_dir / "autoencoder")
    (out_dir / "autoencoder_metrics.json").write_text(json.dumps(metrics, indent=1) + "\n")
    append_log(loop.log_path, {"model": "autoencoder", **{k: v for k, v in metrics.items() if k != "config"}})
    return model, metrics


@torch.no_grad()
def encode_sequences(
    model: SilhouetteAutoencoder, frames_list: list[np.ndarray], batch: int = 1024, bf16: bool = True
) -> list[np.ndarray]:
    """Each `uint8 [T_i, 64, 44]` clip → `float32 [T_i, latent_dim]` latents (bf16 autocast where it
    is native, `fast_bf16`: ~2x faster there; emulated it is 6x slower, measured, so float32 runs)."""
    bf16 = bf16 and fast_bf16("cpu")
    model.eval()
    lengths = [len(f) for f in frames_list]
    flat = np.concatenate(frames_list)
    out = []
    for start in tqdm(range(0, len(flat), batch), desc="encoding frames", unit="batch"):
        x = torch.from_numpy(flat[start : start + batch]).float().div(255.0)[:, None]
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            out.append(model.encode(x).float().numpy())
    latents = np.concatenate(out)
    return np.split(latents, np.cumsum(lengths)[:-1])


# ---- denoiser ----------------------------------------------------------------------------


@dataclass
class DenoiserTrainingConfig:
    width: int = 192
    depth: int = 6
    heads: int = 4
    clip_frames: int = 30
    steps: int = 6000
    batch_size: int = 64
    learning_rate: float = 3e-4
    warmup: int = 200
    condition_dropout: float = 0.15  # each condition dropped independently: CFG and "leave it out"
    all_dropout: float = 0.1  # all conditions but motion dropped together: the unconditional model
    identity_dropout: float = 0.0  # identity and reference dropped together: identity guidance
    covariate_dropout: float = 0.0  # view, clothing, carrying, speed dropped together: covariate guidance
    motion_dropout: float = 0.3  # the motion signal is optional at sampling (novel people have none)
    reference_frames: int = 0  # reference tokens (0: the identity is the pooled embedding only)
    reference_stride: int = 2
    motion_dim: int = 0  # per-frame motion signal (0: none)
    standardize_identity: bool = False
    ema_decay: float = 0.999
    num_train_timesteps: int = 1000
    beta_schedule: str = "squaredcos_cap_v2"
    prediction_type: str = "v_prediction"
    bf16: bool = True  # bfloat16 autocast: ~2x faster on a CPU with AMX, SLOWER on one without
    checkpoint_every: int = 500
    seed: int = 0
    # identity loss through the frozen conditioner (`generators.identity_loss`); 0 = off
    identity_loss_weight: float = 0.0
    identity_loss_clips: int = 8  # clips of a batch that take part at most (decoding costs)
    identity_loss_max_timestep: int = 400  # only lower-noise steps take part


def make_training_scheduler(config: DenoiserTrainingConfig) -> DDPMScheduler:
    return DDPMScheduler(
        num_train_timesteps=config.num_train_timesteps,
        beta_schedule=config.beta_schedule,
        prediction_type=config.prediction_type,
        clip_sample=False,
    )


def _drop_conditions(present: torch.Tensor, config: DenoiserTrainingConfig, generator=None) -> torch.Tensor:
    """`present` `[b, 7]` (columns `CONDITION_NAMES`) → the conditions this step keeps."""
    b, n = present.shape

    def keep_group(p: float, columns: list[int]) -> torch.Tensor:
        keep = torch.ones(b, n, dtype=torch.bool)
        keep[:, columns] = (torch.rand(b, 1, generator=generator) >= p).expand(b, len(columns))
        return keep

    names = list(CONDITION_NAMES)
    pooled = [names.index(c) for c in names if c != "motion"]
    keep = torch.rand(b, n, generator=generator) >= config.condition_dropout
    keep[:, names.index("motion")] = torch.rand(b, generator=generator) >= config.motion_dropout
    keep &= keep_group(config.all_dropout, pooled)
    keep &= keep_group(config.identity_dropout, [names.index(c) for c in IDENTITY_CONDITIONS])
    keep &= keep_group(config.covariate_dropout, [names.index(c) for c in COVARIATE_CONDITIONS])
    return present & keep


def check_denoiser_init(wanted: dict, init: dict) -> None:
    """Refuse to fine-tune from a denoiser of another architecture, naming both."""
    keys = (
        "latent_dim",
        "identity_dim",
        "width",
        "depth",
        "heads",
        "reference_frames",
        "motion_dim",
        "standardize_identity",
        "num_clothing",
        "num_carrying",
    )
    differ = {k: (wanted.get(k), init.get(k)) for k in keys if wanted.get(k) != init.get(k)}
    if differ:
        described = ", ".join(f"{k}: config {a!r} vs init {b!r}" for k, (a, b) in differ.items())
        raise ValueError(f"the init denoiser is another architecture than the config's ({described})")


def _ema_model(ema: EMAModel, net: GaitLatentDenoiser) -> GaitLatentDenoiser:
    """A denoiser holding the EMA weights and the trained one's buffers (identity statistics)."""
    model = GaitLatentDenoiser.from_config(net.config)
    ema.copy_to(model.parameters())
    for name, buffer in net.named_buffers():
        model.get_buffer(name).copy_(buffer)
    return model


def train_denoiser(
    dataset: LatentClipDataset,
    out_dir: str | Path,
    config: DenoiserTrainingConfig | None = None,
    resume: bool = True,
    latent_dim: int | None = None,
    init: GaitLatentDenoiser | None = None,
    identity_loss: ConditionerIdentityLoss | None = None,
) -> tuple[GaitLatentDenoiser, dict]:
    """Train the latent denoiser with DDPM noising; writes `out_dir/denoiser/` (EMA weights).

    Args:
        init: a trained denoiser to start from (fine-tuning); its architecture must be the
            config's (`check_denoiser_init`). The identity statistics are re-measured on `dataset`.
        identity_loss: needed when `config.identity_loss_weight > 0`.

    Returns (EMA model, metrics).
    """
    if config is not None and config.identity_loss_weight > 0 and identity_loss is None:
        raise ValueError("identity_loss_weight > 0 needs an identity_loss (the conditioner and the autoencoder)")
    config = config or DenoiserTrainingConfig()
    out_dir, accelerator = _start_run(config, out_dir)
    latent_dim = latent_dim or dataset.latents[0].shape[1]
    model = GaitLatentDenoiser(
        latent_dim=latent_dim,
        identity_dim=dataset.identities.shape[1],
        width=config.width,
        depth=config.depth,
        heads=config.heads,
        reference_frames=config.reference_frames,
        reference_stride=config.reference_stride,
        motion_dim=config.motion_dim,
        standardize_identity=config.standardize_identity,
    )
    if init is not None:
        check_denoiser_init(model.config, init.config)
        model.load_state_dict(init.state_dict())
    if config.standardize_identity:
        model.set_identity_statistics(
            torch.from_numpy(dataset.identities[np.concatenate(list(dataset.references.values()))])
        )
    ema = EMAModel(model.parameters(), decay=config.ema_decay, model_cls=GaitLatentDenoiser, model_config=model.config)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=0.01)
    loop = _training_loop(
        accelerator,
        model,
        optimizer,
        "denoiser",
        config,
        out_dir,
        resume,
        clip_grad=1.0,
        state={"ema": ema},
        save_extra=lambda folder: _ema_model(ema, model).save_pretrained(folder / "ema"),
    )
    ema.decay = config.ema_decay  # the config's, also for a resumed run
    ema.to(accelerator.device)  # beside the weights it averages once they are prepared
    noise_scheduler = make_training_scheduler(config)
    identity_column = list(CONDITION_NAMES).index("identity")

    def compute_loss(prepared, batch):
        clean = batch["latents"]  # [b, t, d]
        noise = torch.randn_like(clean)
        t = torch.randint(0, config.num_train_timesteps, (clean.shape[0],), device=clean.device)
        noisy = noise_scheduler.add_noise(clean, noise, t)
        target = noise if config.prediction_type == "epsilon" else noise_scheduler.get_velocity(clean, noise, t)
        keep = _drop_conditions(batch["present"], config)
        with accelerator.autocast():
            pred = prepared(
                noisy,
                t,
                identity=batch["identity"],
                view_deg=batch["view_deg"],
                clothing=batch["clothing"],
                carrying=batch["carrying"],
                speed=batch["speed"],
                condition_mask=keep,
                reference=batch.get("reference"),
                motion=batch.get("motion"),
            )
        mse = F.mse_loss(pred.float(), target)
        if not config.identity_loss_weight:
            return mse
        rows = torch.nonzero(keep[:, identity_column] & (t < config.identity_loss_max_timestep)).flatten()
        rows = rows[: config.identity_loss_clips]
        if len(rows) == 0:
            return mse, {"mse": mse.item()}
        clean_pred = predicted_clean(
            noisy[rows], pred[rows].float(), noise_scheduler.alphas_cumprod, t[rows], config.prediction_type
        )
        identity = identity_loss(clean_pred, clean[rows]).mean()
        return mse + config.identity_loss_weight * identity, {"mse": mse.item(), "identity": identity.item()}

    seconds = loop.run(
        _loader(dataset, config, loop.step), compute_loss, after_step=lambda: ema.step(model.parameters())
    )
    final = _ema_model(ema, model)
    final.eval().save_pretrained(out_dir / "denoiser")
    metrics = {
        "train_seconds": seconds,
        "steps": config.steps,
        "config": asdict(config),
        "condition_names": list(CONDITION_NAMES),
    }
    (out_dir / "denoiser_metrics.json").write_text(json.dumps(metrics, indent=1) + "\n")
    return final, metrics
