"""`GaitGenerationPipeline`: conditions in, silhouette clips out.

Wires the frame autoencoder, the latent denoiser and a diffusers scheduler together, in the
manner of diffusers' pipelines: the models know nothing of sampling, the scheduler nothing of
networks; the loop lives here. A pipeline is a folder (`autoencoder/`, `denoiser/`,
`scheduler/`, each written by its own `save_pretrained`), so swapping DDIM for DPM-Solver is
`pipeline.scheduler = DPMSolverMultistepScheduler.from_config(pipeline.scheduler.config)`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from diffusers import DDIMScheduler, DPMSolverMultistepScheduler, SchedulerMixin

from generators.autoencoder import SilhouetteAutoencoder
from generators.conditions import Covariates, carrying_index, clothing_index, parse_view, view_name
from generators.denoiser import CONDITION_NAMES, GaitLatentDenoiser
from studio.data import GaitDataError, GaitSequence

SCHEDULERS = {"ddim": DDIMScheduler, "dpm": DPMSolverMultistepScheduler}


def normalize_identity(embedding: np.ndarray | torch.Tensor) -> torch.Tensor:
    """Flatten and L2-normalise identity embeddings: `[E]` or `[N, ...]` → `float32 [N, E']`."""
    x = torch.as_tensor(np.asarray(embedding), dtype=torch.float32)
    x = x.reshape(1, -1) if x.ndim == 1 else x.reshape(x.shape[0], -1)
    return torch.nn.functional.normalize(x, dim=-1)


def frames_from_model_output(masks: np.ndarray) -> np.ndarray:
    """`float [T, 64, 44]` in [0, 1] → `uint8 [T, 64, 64]` as OpenGait stores frames (10 zero columns each side)."""
    frames = np.clip(np.rint(masks * 255.0), 0, 255).astype(np.uint8)
    return np.pad(frames, ((0, 0), (0, 0), (10, 10)))


class GaitGenerationPipeline:
    """Generate silhouette clips from an identity and covariates.

    Args:
        autoencoder: the per-frame `SilhouetteAutoencoder`.
        denoiser: the `GaitLatentDenoiser`.
        scheduler: a diffusers scheduler (DDIM or DPM-Solver for sampling).
        conditioner: optional recognizer with `embed(list[GaitSequence]) -> np.ndarray`, needed
            only when identities are given as clips rather than embeddings.
        identity_bank: optional `IdentityBank` of the identities the generator was trained on
            (the source of novel identities and anonymization targets); saved with the folder.
    """

    def __init__(
        self,
        autoencoder: SilhouetteAutoencoder,
        denoiser: GaitLatentDenoiser,
        scheduler: SchedulerMixin,
        conditioner=None,
        identity_bank=None,
    ):
        self.autoencoder = autoencoder.eval()
        self.denoiser = denoiser.eval()
        self.scheduler = scheduler
        self.conditioner = conditioner
        self.identity_bank = identity_bank

    # ---- folders -------------------------------------------------------------------------
    def save_pretrained(self, folder: str | os.PathLike, half: bool = False) -> None:
        """Write the pipeline folder; `half` stores weights in float16 (half the size; loads as float32)."""
        import copy

        folder = Path(folder)
        for name, model in (("autoencoder", self.autoencoder), ("denoiser", self.denoiser)):
            (copy.deepcopy(model).half() if half else model).save_pretrained(folder / name)
        self.scheduler.save_pretrained(folder / "scheduler")
        if self.identity_bank is not None:
            self.identity_bank.save(folder / "identity_bank")
        index = {"autoencoder": "SilhouetteAutoencoder", "denoiser": "GaitLatentDenoiser"}
        index["scheduler"] = type(self.scheduler).__name__
        (folder / "pipeline_index.json").write_text(json.dumps(index, indent=1) + "\n")

    @classmethod
    def from_pretrained(cls, folder: str | os.PathLike, conditioner=None, scheduler: str | None = None):
        """Load a pipeline folder; `scheduler` ('ddim' or 'dpm') overrides the saved one.

        Raises:
            GaitDataError: the folder or one of its parts is missing or corrupt.
        """
        folder = Path(folder)
        for part in ("autoencoder", "denoiser", "scheduler"):
            if not (folder / part).is_dir():
                raise GaitDataError(folder, f"not a generator folder: '{part}/' is missing")
        try:
            autoencoder = SilhouetteAutoencoder.from_pretrained(folder / "autoencoder", torch_dtype=torch.float32)
            denoiser = GaitLatentDenoiser.from_pretrained(folder / "denoiser", torch_dtype=torch.float32)
            index = json.loads((folder / "pipeline_index.json").read_text())
        except (OSError, ValueError, RuntimeError, json.JSONDecodeError) as err:
            raise GaitDataError(folder, f"cannot load generator weights: {err}") from None
        name = scheduler or {"DDIMScheduler": "ddim"}.get(index.get("scheduler"), "dpm")
        if name not in SCHEDULERS:
            raise ValueError(f"unknown scheduler {name!r}; allowed: {', '.join(SCHEDULERS)}")
        sched = SCHEDULERS[name].from_pretrained(folder / "scheduler")
        bank = None
        if (folder / "identity_bank").is_dir():
            from generators.identity_bank import IdentityBank  # the bank imports this module

            bank = IdentityBank.load(folder / "identity_bank")
        return cls(autoencoder, denoiser, sched, conditioner, bank)

    # ---- conditions ----------------------------------------------------------------------
    def encode_identity(self, identity) -> torch.Tensor | None:
        """Identity given as clip(s) or embedding(s) → normalised `[N, E]` (None stays None)."""
        if identity is None:
            return None
        if isinstance(identity, GaitSequence):
            identity = [identity]
        if isinstance(identity, list | tuple) and identity and isinstance(identity[0], GaitSequence):
            if self.conditioner is None:
                raise ValueError("identity given as a clip, but the pipeline has no conditioner to embed it")
            identity = self.conditioner.embed(list(identity))
        embedding = normalize_identity(identity)
        expected = self.denoiser.config.identity_dim
        if embedding.shape[1] != expected:
            raise ValueError(f"identity embedding has {embedding.shape[1]} numbers, the denoiser expects {expected}")
        return embedding

    @staticmethod
    def _broadcast(value, n: int, name: str) -> list:
        values = list(value) if isinstance(value, list | tuple | np.ndarray) else [value] * n
        if len(values) == 1:
            values = values * n
        if len(values) != n:
            raise ValueError(f"{name} has {len(values)} entries for {n} clips")
        return values

    def condition_tensors(self, n, identity, view, clothing, carrying, speed) -> dict:
        """Validated condition values (one or one per clip) → the denoiser's condition tensors for `n` clips."""
        mask = torch.ones(n, len(CONDITION_NAMES), dtype=torch.bool)
        ident = self.encode_identity(identity)
        if ident is not None:
            if ident.shape[0] not in (1, n):
                raise ValueError(f"{ident.shape[0]} identities for {n} clips")
            ident = ident.expand(n, -1)
        views = self._broadcast(view, n, "view")
        cloth = self._broadcast(clothing, n, "clothing")
        carry = self._broadcast(carrying, n, "carrying")
        speeds = self._broadcast(speed, n, "speed")
        for column, values in ((1, views), (2, cloth), (3, carry), (4, speeds)):
            mask[:, column] = torch.tensor([v is not None for v in values])
        view_t = torch.tensor([parse_view(v) if v is not None else 0.0 for v in views])
        cloth_t = torch.tensor([clothing_index(v) if v is not None else 0 for v in cloth])
        carry_t = torch.tensor([carrying_index(v) if v is not None else 0 for v in carry])
        speed_t = torch.tensor([float(v) if v is not None else 1.0 for v in speeds])
        if (speed_t <= 0).any():
            raise ValueError("speed must be positive (1.0 = normal pace)")
        if ident is None:
            mask[:, 0] = False
        return {
            "identity": ident,
            "view_deg": view_t,
            "clothing": cloth_t,
            "carrying": carry_t,
            "speed": speed_t,
            "condition_mask": mask,
        }

    def person_noise(self, num_clips: int, num_frames: int = 30, seed: int = 0, share: float = 1.0) -> torch.Tensor:
        """Starting noise for the clips of one generated person: `share` of its variance is
        common to every clip, the rest each clip's own (still unit-variance Gaussian noise).

        The bundled denoiser carries a person's build and gait mostly through its starting
        noise rather than through the identity embedding, so clips of one novel person drawn
        from shared noise are one person to the judge (measured in `studio eval-generator`).

        Returns:
            `float [num_clips, num_frames, latent_dim]`, for the pipeline's `latents=`.
        """
        if not 0.0 <= share <= 1.0:
            raise ValueError(f"share must be within 0–1, got {share}")
        generator = torch.Generator().manual_seed(int(seed))
        dim = self.denoiser.config.latent_dim
        common = torch.randn((1, num_frames, dim), generator=generator)
        own = torch.randn((num_clips, num_frames, dim), generator=generator)
        return share**0.5 * common + (1.0 - share) ** 0.5 * own

    # ---- sampling ------------------------------------------------------------------------
    @torch.no_grad()
    def denoise_latents(
        self,
        latents: torch.Tensor,
        conditions: dict,
        steps: int,
        guidance: float,
        generator: torch.Generator,
        strength: float = 1.0,
    ) -> torch.Tensor:
        """Run the sampler from `latents` (`[b, t, d]`).

        With strength 1 the latents are pure noise. With strength < 1 they are clean latents of
        a source clip, noised to the matching timestep first (img2img-style editing).
        """
        # a scheduler of this call's own: `set_timesteps` and multistep state must not be shared
        # between concurrent callers of one pipeline (e.g. app requests)
        scheduler = type(self.scheduler).from_config(self.scheduler.config)
        scheduler.set_timesteps(steps)
        timesteps = scheduler.timesteps
        if strength < 1.0:
            start = steps - int(round(steps * strength))
            timesteps = timesteps[start:]
            if len(timesteps) == 0:
                return latents
            noise = torch.randn(latents.shape, generator=generator)
            latents = scheduler.add_noise(latents, noise, timesteps[:1])
            if hasattr(scheduler, "set_begin_index"):
                scheduler.set_begin_index(start)
        else:
            latents = latents * scheduler.init_noise_sigma
        unconditional = dict(conditions, condition_mask=torch.zeros_like(conditions["condition_mask"]))
        for t in timesteps:
            # 1. predict: conditional and unconditional in one batch (classifier-free guidance)
            model_in = scheduler.scale_model_input(latents, t)
            if guidance != 1.0:
                both = {k: None if v is None else torch.cat([v, unconditional[k]]) for k, v in conditions.items()}
                pred_cond, pred_uncond = self.denoiser(torch.cat([model_in, model_in]), t, **both).chunk(2)
                pred = pred_uncond + guidance * (pred_cond - pred_uncond)
            else:
                pred = self.denoiser(model_in, t, **conditions)
            # 2. step: the scheduler turns the prediction into the next, less noisy latents
            latents = scheduler.step(pred, t, latents, generator=generator).prev_sample
        return latents

    @torch.no_grad()
    def decode_clips(self, latents: torch.Tensor) -> np.ndarray:
        """`[b, t, d]` latents → `float32 [b, t, 64, 44]` masks in [0, 1]."""
        b, t, d = latents.shape
        if latents.device.type == "cpu":
            self.autoencoder.to(memory_format=torch.channels_last)  # oneDNN convs: 2x faster, same numbers
        masks = self.autoencoder.decode(latents.reshape(b * t, d))  # [b*t, 1, 64, 44]
        return masks.reshape(b, t, *masks.shape[-2:]).float().numpy()  # float: bf16 autocast has no numpy type

    @torch.no_grad()
    def encode_clip(self, sequence: GaitSequence) -> torch.Tensor:
        """A clip → its frame latents `[t, d]`."""
        frames = torch.from_numpy(sequence.model_input())[:, None]  # [t, 1, 64, 44]
        return self.autoencoder.encode(frames)

    def __call__(
        self,
        identity=None,
        view: float | str | Sequence | None = None,
        clothing: str | Sequence | None = None,
        carrying: str | Sequence | None = None,
        speed: float | Sequence | None = None,
        num_clips: int = 1,
        num_frames: int = 30,
        steps: int = 20,
        guidance: float = 2.0,
        seed: int = 0,
        batch_size: int = 64,
        subject: str | Sequence[str] = "generated",
        condition_index: int = 1,
        latents: torch.Tensor | None = None,
    ) -> list[GaitSequence]:
        """Generate `num_clips` clips.

        Args:
            identity: None (any person), a `GaitSequence` of the person (embedded by the
                conditioner), or an embedding `[E]`; or one per clip (a list / `[num_clips, E]`).
            view: degrees (0 = walking toward the camera, 90 = side, 180 = away; any angle
                0–360) or a dataset name like `'090'`; None leaves it free. One value or one per clip.
            clothing: `'normal'` or `'coat'` (None = free). One value or one per clip.
            carrying: `'none'` or `'bag'` (None = free). One value or one per clip.
            speed: walking pace relative to normal (1.0); None = free.
            num_clips: how many clips.
            num_frames: frames per clip (1–128; trained on 30).
            steps: sampler steps (> 0).
            guidance: classifier-free guidance scale (1 = none; ~2 strengthens the conditions).
            seed: all randomness comes from `torch.Generator().manual_seed(seed)`.
            batch_size: clips denoised together (memory vs speed).
            subject: subject id written into each output sequence's metadata.
            condition_index: the `-NN` of the condition name written into the metadata.
            latents: the starting noise `[num_clips, num_frames, latent_dim]` (default: drawn from
                `seed`), e.g. noise shared between the clips of one novel person.

        Returns:
            `num_clips` `GaitSequence`s of `uint8 [num_frames, 64, 64]` (OpenGait storage size),
            with view / condition names derived from the requested covariates.
        """
        # 0. check the arguments
        if not isinstance(steps, int) or steps <= 0:
            raise ValueError(f"steps must be a positive integer, got {steps!r}")
        if not 1 <= num_frames <= 128:
            raise ValueError(f"num_frames must be within 1–128, got {num_frames}")
        if num_clips <= 0:
            raise ValueError(f"num_clips must be positive, got {num_clips}")
        conditions = self.condition_tensors(num_clips, identity, view, clothing, carrying, speed)
        subjects = self._broadcast(subject, num_clips, "subject")
        generator = torch.Generator().manual_seed(int(seed))
        # 1. draw all the noise first, so a clip does not depend on the batch size
        shape = (num_clips, num_frames, self.denoiser.config.latent_dim)
        if latents is None:
            latents = torch.randn(shape, generator=generator)
        elif tuple(latents.shape) != shape:
            raise ValueError(f"latents must have shape {list(shape)}, got {list(latents.shape)}")
        masks = []
        for start in range(0, num_clips, batch_size):
            part = slice(start, start + batch_size)
            conds = {k: None if v is None else v[part] for k, v in conditions.items()}
            # 2. denoise, 3. decode
            clean = self.denoise_latents(latents[part], conds, steps, guidance, generator)
            masks.append(self.decode_clips(clean))
        masks = np.concatenate(masks)
        # 4. wrap as sequences with the metadata a dataset writer needs
        out = []
        views, cloth, carry = (
            self._broadcast(v, num_clips, n) for v, n in ((view, "view"), (clothing, "c"), (carrying, "c"))
        )
        for i in range(num_clips):
            cov = Covariates(
                view_deg=None if views[i] is None else parse_view(views[i]),
                clothing=None if cloth[i] is None else ("coat" if clothing_index(cloth[i]) else "normal"),
                carrying=None if carry[i] is None else ("bag" if carrying_index(carry[i]) else "none"),
            )
            out.append(
                GaitSequence(
                    frames_from_model_output(masks[i]),
                    subject=str(subjects[i]),
                    condition=f"{cov.condition_type()}-{condition_index:02d}",
                    view="unk" if cov.view_deg is None else view_name(cov.view_deg),
                    source="generated",
                    fps=25.0,
                    extra={"seed": int(seed), "steps": steps, "guidance": guidance, "clip_index": i},
                )
            )
        return out
