"""Editing and anonymizing a given clip: its motion kept, its covariates or identity changed.

Both are the generation pipeline, started from the source's latents and denoised by the
pipeline's own guided step. The source clip's frame latents are carried toward noise — DDIM
inversion under the source's own conditions (deterministic, keeps phase and cadence), or plain
partial noising (strength 1: fresh noise) — up to `strength` of the schedule, then denoised
under the new conditions:

- `edit`: the same person (the source clip is the identity reference), new view / clothing /
  carrying;
- `anonymize`: the same covariates, the person replaced by a novel one far from the source and
  from every known person (`IdentityBank`): a first clip of that person is generated and
  becomes the reference; the judge measures what identity is left, and a clip that still
  verifies as its source is retried harder and, failing that, flagged.

With a denoiser that has a motion pathway, every window also walks on the source's own timing
(`gait_motion_signal`), so the body can be made anew without losing the walk.

Clips are processed in windows of `WINDOW` frames (what the denoiser was trained on).
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, field

import numpy as np
import torch

from generators.conditions import (
    Covariates,
    carrying_index,
    clothing_index,
    covariates_from_condition,
    parse_view,
    view_name,
)
from generators.identity_bank import IdentityBank
from generators.pipeline import GaitGenerationPipeline, frames_from_model_output, normalize_identity
from recognizers.calibration import verify
from recognizers.distance import pairwise_distance
from studio.data import GaitSequence
from studio.data.silhouette_stats import gait_motion_signal

logger = logging.getLogger(__name__)

MIN_FRAMES = 16  # below ~one gait cycle there is no motion to keep
WINDOW = 30
METHODS = ("invert", "noise")


def source_covariates(seq: GaitSequence) -> dict:
    """The covariates a clip's metadata states (view, clothing, carrying), None where unknown."""
    out = {"view": None, "clothing": None, "carrying": None}
    try:
        out["view"] = parse_view(seq.view)
    except ValueError:
        pass
    try:
        cov = covariates_from_condition(seq.condition)
        out["clothing"], out["carrying"] = cov.clothing, cov.carrying
    except ValueError:
        pass
    return out


def _windows(length: int) -> list[slice]:
    """Cut `length` frames into windows of ~WINDOW frames, none shorter than MIN_FRAMES."""
    count = max(1, round(length / WINDOW))
    bounds = np.linspace(0, length, count + 1).round().astype(int)
    return [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:])]


@dataclass
class AnonymizationResult:
    """An anonymized clip and the identity the judge still finds in it.

    Attributes:
        sequence: the anonymized clip.
        source_distance: judge distance between source and result (the calibration's metric).
        threshold: the judge's verification threshold at its calibrated FAR.
        leaks: True when the judge still verifies the result as the source person.
        attempts: tries made (each retry raises the strength or picks a farther target).
    """

    sequence: GaitSequence
    source_distance: float
    threshold: float
    leaks: bool
    attempts: int
    target_similarity_to_source: float = field(default=float("nan"))


class GaitEditor:
    """Edit or anonymize clips with a generation pipeline.

    Args:
        pipeline: a `GaitGenerationPipeline` whose `conditioner` embeds identities.
        bank: known identities (conditioner space) from which anonymization targets are made.
        judge: a recognizer (`embed`) that is NOT the conditioner, for leakage.
        calibration: the judge's verification calibration (`metric`, `threshold`).
    """

    def __init__(
        self,
        pipeline: GaitGenerationPipeline,
        bank: IdentityBank | None = None,
        judge=None,
        calibration: dict | None = None,
    ):
        if pipeline.conditioner is None:
            raise ValueError("the pipeline needs a conditioner to embed the source's identity")
        if judge is not None and judge is pipeline.conditioner:
            raise ValueError("the judge must not be the conditioner: it would measure nothing")
        self.pipeline = pipeline
        self.bank = bank
        self.judge = judge
        self.calibration = calibration

    # ---- the shared recipe ----------------------------------------------------------------
    def identity_of(self, sequence: GaitSequence) -> dict:
        """A clip as an identity condition: its conditioner embedding `[1, E]` and, for a
        denoiser with a reference pathway, its reference tokens (computed once per clip)."""
        return {
            "embedding": self.pipeline.encode_identity(sequence),
            "reference": self.pipeline.encode_reference(sequence),
        }

    def _conditions(self, identity: dict, covariates: dict, motion: np.ndarray | None) -> dict:
        return self.pipeline.condition_tensors(
            1,
            identity["embedding"],
            covariates["view"],
            covariates["clothing"],
            covariates["carrying"],
            None,
            motion=motion,
            reference=identity["reference"],
        )

    @torch.no_grad()
    def _regenerate(self, seq, source_identity, target_identity, source_cov, target_cov, settings: dict) -> np.ndarray:
        """Carry each window of the source toward noise and denoise it under the target conditions.

        `settings`: strength, steps, guidance, identity_guidance, seed, method.
        """
        pipe = self.pipeline
        x = torch.from_numpy(seq.model_input())[:, None]  # [t, 1, 64, 44]
        motion = gait_motion_signal(seq.frames) if pipe.denoiser.config.motion_dim else None
        generator = torch.Generator().manual_seed(int(settings["seed"]))
        strength, steps = settings["strength"], settings["steps"]
        masks = []
        for window in _windows(seq.num_frames):
            window_motion = None if motion is None else motion[window]
            target = self._conditions(target_identity, target_cov, window_motion)
            clean = pipe.autoencoder.encode(x[window])[None]  # [1, t, d]
            guided = (settings["guidance"], generator, strength, settings["identity_guidance"])
            if settings["method"] == "noise":
                out = pipe.denoise_latents(clean, target, steps, *guided)
            else:
                source = self._conditions(source_identity, source_cov, window_motion)
                noisy = pipe.invert_latents(clean, source, steps, strength)
                out = pipe.denoise_latents(
                    noisy, target, steps, *guided, scheduler=pipe.ddim_scheduler(), start="inverted"
                )
            masks.append(pipe.decode_clips(out)[0])
        return frames_from_model_output(np.concatenate(masks))

    def _check(self, seq: GaitSequence, strength: float, steps: int, method: str) -> None:
        if not isinstance(seq, GaitSequence):
            raise ValueError(f"expected a GaitSequence, got {type(seq).__name__}")
        if seq.num_frames < MIN_FRAMES:
            raise ValueError(
                f"{seq.source or 'clip'}: {seq.num_frames} frames is too short to edit; at least {MIN_FRAMES} "
                "(about one gait cycle) are needed"
            )
        if not 0.0 <= strength <= 1.0:
            raise ValueError(f"strength must lie in [0, 1], got {strength}")
        if not isinstance(steps, int) or steps <= 0:
            raise ValueError(f"steps must be a positive integer, got {steps!r}")
        if method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {method!r}")

    # ---- edit -----------------------------------------------------------------------------
    def edit(
        self,
        sequence: GaitSequence,
        view: float | str | None = None,
        clothing: str | None = None,
        carrying: str | None = None,
        strength: float = 0.7,
        steps: int = 20,
        guidance: float = 2.0,
        seed: int = 0,
        method: str = "invert",
        identity_guidance: float | None = None,
    ) -> GaitSequence:
        """The same person, walking the same way, with new covariates.

        Args:
            sequence: the source clip (≥ `MIN_FRAMES` frames; any person, seen in training or not).
            view, clothing, carrying: the new values; None keeps the source's.
            strength: 0 returns the source unchanged; higher allows bigger changes (1 = regenerate
                from the fully inverted latents).
            steps, guidance, seed: sampler settings (guidance: the covariates' scale).
            method: "invert" (DDIM inversion, keeps the motion best) or "noise" (partial noising).
            identity_guidance: the identity's guidance scale (None = `guidance`).

        Returns:
            The edited clip, `uint8 [T, 64, 64]`, with the new condition / view names.

        Raises:
            ValueError: too short a clip, strength outside [0, 1], nothing to edit, bad values.
        """
        self._check(sequence, strength, steps, method)
        if view is None and clothing is None and carrying is None:
            raise ValueError("nothing to edit: give a view, clothing or carrying")
        source = source_covariates(sequence)
        target = dict(source)
        for key, value in (("view", view), ("clothing", clothing), ("carrying", carrying)):
            if value is not None:
                target[key] = value
        if view is not None:
            target["view"] = parse_view(view)
        for key, index in (("clothing", clothing_index), ("carrying", carrying_index)):
            if target[key] is not None:
                index(target[key])  # validates the name
        if target == source:
            warnings.warn("the requested covariates equal the source's: the edit only re-renders", stacklevel=2)
        if strength == 0.0:
            return sequence.with_frames(sequence.frames.copy())
        identity = self.identity_of(sequence)
        settings = dict(
            strength=strength,
            steps=steps,
            guidance=guidance,
            identity_guidance=identity_guidance,
            seed=seed,
            method=method,
        )
        frames = self._regenerate(sequence, identity, identity, source, target, settings)
        kind = Covariates(clothing=target["clothing"], carrying=target["carrying"]).condition_type()
        index = sequence.condition.split("-")[-1] if "-" in sequence.condition else "01"
        return sequence.with_frames(
            frames,
            condition=f"{kind}-{index}",
            view=sequence.view if target["view"] is None else view_name(target["view"]),
            source=f"edit of {sequence.source or sequence.key}",
            extra={**sequence.extra, "edit": {"strength": strength, "seed": seed, "method": method, "to": target}},
        )

    # ---- anonymize ------------------------------------------------------------------------
    def _target_identity(self, embedding: torch.Tensor, covariates: dict, steps: int, guidance: float, seed: int):
        """The person an anonymized clip becomes, as an identity condition.

        A denoiser with a reference pathway is given a first clip of the novel person (drawn from
        the embedding alone, in the source's view, normal clothes) as the reference, so the new
        body is carried by the same pathway that carries a real person in an edit.
        """
        if not self.pipeline.denoiser.config.reference_frames:
            return {"embedding": embedding, "reference": None}
        view = covariates["view"] if covariates["view"] is not None else 90.0
        return self.identity_of(self.pipeline.novel_person(embedding, seed, steps, guidance, view))

    def anonymize(
        self,
        sequence: GaitSequence,
        strength: float = 0.9,
        target: np.ndarray | None = None,
        steps: int = 20,
        guidance: float = 2.0,
        seed: int = 0,
        method: str = "invert",
        max_attempts: int = 3,
        identity_guidance: float | None = None,
    ) -> AnonymizationResult:
        """The same walk, view and clothing, by somebody else; with the identity the judge still finds.

        Args:
            sequence: the source clip (≥ `MIN_FRAMES` frames).
            strength: how much of the schedule is regenerated (0 would keep the source: refused).
            target: a target identity embedding (conditioner space); default: a novel identity
                from the bank, far from the source and from every known person.
            max_attempts: when the judge still verifies the result as the source, retry with a
                farther target and more strength, up to this many tries; then flag it.
            identity_guidance: the identity's guidance scale (None = `guidance`).

        Raises:
            ValueError: strength 0, a target equal to the source, no bank and no target, bad values.
        """
        self._check(sequence, strength, steps, method)
        if strength == 0.0:
            raise ValueError("strength 0 would return the source itself, which is not anonymous")
        if self.judge is None or self.calibration is None:
            raise ValueError("anonymize needs a judge and its calibration to measure leakage")
        source_identity = self.identity_of(sequence)
        source_embedding_c = source_identity["embedding"]  # [1, E], conditioner space
        if target is not None:
            target_t = normalize_identity(target)
            if float(target_t[0] @ source_embedding_c[0]) > 0.999:
                raise ValueError("the target identity equals the source identity")
        elif self.bank is None:
            raise ValueError("anonymize needs a target identity or an identity bank to make one")
        covariates = source_covariates(sequence)
        source_embedding = self.judge.embed(sequence)
        result = None
        for attempt in range(max_attempts):
            if target is None:
                candidates, _ = self.bank.novel(8, seed=seed + attempt, exclude=source_embedding_c.numpy())
                chosen = normalize_identity(candidates[self.bank.farthest(source_embedding_c.numpy(), candidates)])
            else:
                chosen = normalize_identity(target)
            attempt_strength = min(1.0, strength + 0.1 * attempt)
            target_identity = self._target_identity(chosen, covariates, steps, guidance, seed + attempt)
            settings = dict(
                strength=attempt_strength,
                steps=steps,
                guidance=guidance,
                identity_guidance=identity_guidance,
                seed=seed + attempt,
                method=method,
            )
            frames = self._regenerate(sequence, source_identity, target_identity, covariates, covariates, settings)
            anonymized = sequence.with_frames(
                frames,
                subject=f"anon-{sequence.subject}",
                source=f"anonymized {sequence.source or sequence.key}",
                extra={**sequence.extra, "anonymize": {"strength": attempt_strength, "seed": seed + attempt}},
            )
            embedding = self.judge.embed(anonymized)
            metric = self.calibration["metric"]
            distance = float(pairwise_distance(source_embedding[None], embedding[None], metric)[0, 0])
            leaks = bool(verify(source_embedding, embedding, self.calibration)[0])
            result = AnonymizationResult(
                anonymized,
                distance,
                float(self.calibration["threshold"]),
                leaks,
                attempt + 1,
                float(target_identity["embedding"][0] @ source_embedding_c[0]),
            )
            anonymized.extra["leakage"] = {"judge_distance": distance, "threshold": result.threshold, "leaks": leaks}
            if not leaks:
                break
            logger.info("attempt %d still verifies as the source (distance %.3f); retrying", attempt + 1, distance)
        if result.leaks:
            logger.warning("%s: still verified as its source after %d attempts", sequence.source, max_attempts)
        return result
