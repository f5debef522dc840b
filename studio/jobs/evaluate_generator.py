"""Measure a generator against the walker benchmark's held-out subjects, scored by the JUDGE.

- identity preservation: from ONE reference clip per test subject (a probe clip, never in the
  gallery), generate that subject at the other views under NM / BG / CL; the judge retrieves the
  generated clips against the real gallery (CASIA-B protocol, identical views excluded); the
  figure is the ratio to the judge's rank-1 on the real probes of the same conditions;
- covariate control: the covariate classifier (on judge features) reads the requested view
  (±18°), clothing and carrying on the generated clips;
- naturalness: Fréchet distance of judge features, generated vs real, beside real vs real;
  silhouette statistics (foreground, height, width, flicker) of generated vs real clips;
- novel identities: made in the conditioner's space (`IdentityBank`), judged as distinct from
  every real subject (template similarity under a FAR-1% template threshold) and consistent with
  themselves across clips and views.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from evaluation.covariates import covariate_accuracy
from evaluation.fidelity import (
    frechet_report,
    novelty_report,
    real_people_distinct,
    statistics_report,
    template_threshold,
)
from evaluation.protocols import CASIA_B_GALLERY, CasiaBProtocol
from gaitdata import GaitSequence, Partition, load_opengait, read_partition
from gaitdata.atomic import atomic_write_text
from gaitdata.casia_b import CONDITIONS
from generators.conditions import CONDITION_COVARIATES
from generators.identity_bank import NOVEL_PUSH, IdentityBank
from generators.pipeline import GaitGenerationPipeline
from studio.jobs.synthesize import IDENTITY_NOISE

logger = logging.getLogger(__name__)

PARTS = ("identity", "novel")
NOVEL_SPACES = ("standardized", "raw")
GENERATED_SUFFIX = "gen"  # generated clips are labelled `nm-gen`, `bg-gen`, `cl-gen`


def _labels(sequences: list[GaitSequence]) -> dict[str, np.ndarray]:
    return {
        "subject": np.array([s.subject for s in sequences]),
        "condition": np.array([s.condition for s in sequences]),
        "view": np.array([s.view for s in sequences]),
    }


@dataclass
class _Sampler:
    """The generator under test and its sampler settings."""

    pipeline: GaitGenerationPipeline
    steps: int
    guidance: float
    identity_guidance: float | None = None
    candidates: int = 1  # best of that many per clip, chosen by the conditioner
    conditioner_guidance: float = 0.0  # steering toward the person along the conditioner's gradient

    def generate(self, requests: list[dict], seed: int, latents=None) -> list[GaitSequence]:
        """One batched call; each request names identity (a clip or an embedding), view, condition
        type (nm/bg/cl), subject."""
        kinds = [r["kind"] for r in requests]
        identities = [r["identity"] for r in requests]
        return self.pipeline(
            identity=identities if isinstance(identities[0], GaitSequence) else np.stack(identities),
            view=[r["view"] for r in requests],
            clothing=[CONDITION_COVARIATES[k][0] for k in kinds],
            carrying=[CONDITION_COVARIATES[k][1] for k in kinds],
            num_clips=len(requests),
            steps=self.steps,
            guidance=self.guidance,
            identity_guidance=self.identity_guidance,
            seed=seed,
            subject=[r["subject"] for r in requests],
            latents=latents,
            candidates=self.candidates,
            conditioner_guidance=self.conditioner_guidance,
        )


@dataclass
class _RealSplit:
    """The benchmark's real test clips (gallery + probes) and their judge embeddings."""

    data: Path
    partition: Partition
    sequences: list[GaitSequence]
    embeddings: np.ndarray
    labels: dict[str, np.ndarray]

    @property
    def is_gallery(self) -> np.ndarray:
        return np.isin(self.labels["condition"], CASIA_B_GALLERY)

    @property
    def views(self) -> list[str]:
        return sorted(set(self.labels["view"].tolist()))


def evaluate_generator(
    pipeline: GaitGenerationPipeline,
    data: str | Path,
    out_path: str | Path,
    conditioner=None,
    judge=None,
    covariate_classifier=None,
    partition: str | Path | None = None,
    reference_condition: str = "nm-05",
    steps: int = 20,
    guidance: float = 2.0,
    identity_guidance: float | None = None,
    novel_identities: int = 100,
    clips_per_novel: int = 4,
    seed: int = 0,
    identity_noise: float = IDENTITY_NOISE,
    candidates: int = 1,
    conditioner_guidance: float = 0.0,
    novel_candidates: int | None = None,
    novel_push: float | None = None,
    novel_space: str = "standardized",
    parts: Sequence[str] = PARTS,
) -> dict:
    """Measure every generator target and write them as JSON to `out_path`.

    Args:
        pipeline: the generator under test.
        data: the benchmark dataset (OpenGait layout, CASIA-B condition names).
        conditioner, judge, covariate_classifier: default to the bundled ones.
        partition: partition JSON (default `<data>/partition.json`); TEST_SET subjects are scored.
        reference_condition: the condition of each subject's single reference clip.
        steps, guidance: sampler settings.
        identity_guidance: the identity's own guidance scale (None = `guidance`).
        novel_identities, clips_per_novel: the novel-identity check's size.
        identity_noise: share of the starting noise common to one novel person's clips, as
            `studio synthesize` makes them.
        seed: generation seed.
        candidates: draw that many candidates of each clip and keep the one the CONDITIONER
            reads as closest to the person (`generators.identity_selection`); the judge scores.
        conditioner_guidance: steer each clip toward the person along the conditioner's gradient
            (`generators.identity_guidance`; 0 = off); the judge scores.
        novel_candidates: first clips drawn per novel person, the one the conditioner reads
            farthest from the people the generator knows kept (`novel_person`; default `candidates`).
        novel_push: how far novel identities are pushed from the people they resemble
            (`IdentityBank.novel`; default the bank's `NOVEL_PUSH` of `novel_space`).
        novel_space: "standardized" (mix and push in the denoiser's standardised identity space,
            as `studio synthesize` does) or "raw" (in the conditioner's own, as before).
        parts: "identity" (identity preservation, covariate control, naturalness) and / or
            "novel" (novel identities).

    The figures measured so far are written to `out_path` after each stage (`"complete": false`
    until the last), so a run stopped late still leaves its identity figures.
    """
    import recognizers

    if novel_space not in NOVEL_SPACES:
        raise ValueError(f"novel_space must be one of {', '.join(NOVEL_SPACES)}, got {novel_space!r}")
    unknown = sorted(set(parts) - set(PARTS))
    if unknown or not parts:
        raise ValueError(f"parts must be some of {', '.join(PARTS)}, got {', '.join(parts) or 'none'}")
    started = time.time()
    conditioner = conditioner or recognizers.load_conditioner()
    judge = judge or recognizers.load_judge()
    covariate_classifier = covariate_classifier or recognizers.load_covariate_classifier()
    pipeline.conditioner = conditioner
    data = Path(data)
    part = read_partition(partition or data / "partition.json")
    rng = np.random.default_rng(seed)

    # 1. the real test split: gallery and probes, embedded by the judge
    real_seqs, report = load_opengait(data, subjects=part.test, conditions=list(CONDITIONS))
    logger.info("real test split: %s", report.summary())
    real = _RealSplit(data, part, real_seqs, judge.embed(real_seqs, bf16=True, progress=True), _labels(real_seqs))
    real_result = CasiaBProtocol().evaluate(real.embeddings, real.labels)
    is_gallery, is_probe = real.is_gallery, ~real.is_gallery
    sampler = _Sampler(pipeline, steps, guidance, identity_guidance, candidates, conditioner_guidance)

    result = {
        "data": str(data),
        "complete": False,
        "parts": list(parts),
        "sampler": {
            "scheduler": type(pipeline.scheduler).__name__,
            "steps": steps,
            "guidance": guidance,
            "identity_guidance": identity_guidance,
            "candidates": candidates,
            "conditioner_guidance": conditioner_guidance,
            "novel_candidates": candidates if novel_candidates is None else novel_candidates,
            "novel_push": NOVEL_PUSH[novel_space] if novel_push is None else novel_push,
            "novel_space": novel_space,
        },
    }
    if "identity" in parts:
        # 2. one reference clip per subject (a random view of `reference_condition`) → generation requests
        references = {}
        for subject in part.test:
            clips = [s for s in real.sequences if s.subject == subject and s.condition == reference_condition]
            if clips:
                references[subject] = clips[int(rng.integers(len(clips)))]
        if pipeline.denoiser.config.reference_frames:
            identities = dict(references)  # the clip itself: embedding and reference tokens
        else:
            identities = dict(zip(references, conditioner.embed(list(references.values()), bf16=True), strict=True))
        requests = [
            {"identity": identities[s], "view": v, "kind": kind, "subject": s}
            for s, ref in references.items()
            for kind in CONDITION_COVARIATES
            for v in real.views
            if v != ref.view
        ]
        t0 = time.time()
        generated = sampler.generate(requests, seed)
        generation_seconds = time.time() - t0
        for seq, r in zip(generated, requests, strict=True):
            seq.condition = f"{r['kind']}-{GENERATED_SUFFIX}"
        gen_emb = judge.embed(generated, bf16=True, progress=True)
        gen_labels = _labels(generated)

        # 3. identity preservation: generated probes against the REAL gallery
        protocol = CasiaBProtocol(
            probe_conditions={k.upper(): (f"{k}-{GENERATED_SUFFIX}",) for k in CONDITION_COVARIATES}
        )
        both = np.concatenate([real.embeddings[is_gallery], gen_emb])
        both_labels = {k: np.concatenate([real.labels[k][is_gallery], gen_labels[k]]) for k in real.labels}
        gen_result = protocol.evaluate(both, both_labels)
        identity = {
            name: {
                "generated_rank1": round(gen_result.mean[name], 2),
                "real_rank1": round(real_result.mean[name], 2),
                "ratio": round(gen_result.mean[name] / max(real_result.mean[name], 1e-9), 3),
            }
            for name in gen_result.mean
        }

        result.update(
            test_subjects=len(references),
            reference_condition=reference_condition,
            generated_clips=len(generated),
            identity_preservation=identity,
            generation_seconds=round(generation_seconds, 1),
            generation_clips_per_second=round(len(generated) / generation_seconds, 2),
        )
        atomic_write_text(out_path, json.dumps(result, indent=1) + "\n")

        # 4. covariate control, 5. naturalness
        covariates = covariate_accuracy(
            covariate_classifier.predict(gen_emb),
            gen_labels["condition"],
            gen_labels["view"],
            covariate_classifier.config,
        )
        real_covariates = covariate_accuracy(
            covariate_classifier.predict(real.embeddings[is_probe]),
            real.labels["condition"][is_probe],
            real.labels["view"][is_probe],
            covariate_classifier.config,
        )
        naturalness = {
            "frechet": frechet_report(real.embeddings[is_probe], gen_emb, seed=seed),
            "statistics": statistics_report(
                [s.frames for s, p in zip(real.sequences, is_probe, strict=True) if p], [s.frames for s in generated]
            ),
        }
        result.update(
            covariate_control=covariates,
            covariate_classifier_on_real_probes=real_covariates,
            naturalness=naturalness,
        )
        atomic_write_text(out_path, json.dumps(result, indent=1) + "\n")

    # 6. novel identities: made in the conditioner's space, judged in the judge's
    if "novel" in parts:
        first_clips = candidates if novel_candidates is None else novel_candidates
        push = NOVEL_PUSH[novel_space] if novel_push is None else novel_push
        result["novel_identities"] = _novel_identity_check(
            sampler,
            conditioner,
            judge,
            real,
            novel_identities,
            clips_per_novel,
            seed,
            identity_noise,
            first_clips,
            (push, novel_space),
        )
    result.update(complete=True, seconds=round(time.time() - started, 1))
    atomic_write_text(out_path, json.dumps(result, indent=1) + "\n")
    return result


def _novel_identity_check(
    sampler: _Sampler,
    conditioner,
    judge,
    real: _RealSplit,
    count: int,
    clips_per_identity: int,
    seed: int,
    identity_noise: float,
    first_clips: int,
    push_and_space: tuple[float, str],
) -> dict:
    rng = np.random.default_rng(seed + 1)
    # the bank holds the TRAINING subjects in the conditioner's space
    train, _ = load_opengait(real.data, subjects=real.partition.train, conditions=list(CASIA_B_GALLERY))
    bank = IdentityBank.from_embeddings(conditioner.embed(train, bf16=True, progress=True), [s.subject for s in train])
    push, space = push_and_space
    pipe = sampler.pipeline
    statistics = pipe.identity_statistics() if space == "standardized" else None
    embeddings, info = bank.novel(count, seed=seed, push=push, standardization=statistics)
    people = pipe.novel_person(
        embeddings,
        seed + 3,
        sampler.steps,
        sampler.guidance,
        candidates=first_clips,
        conditioner_guidance=sampler.conditioner_guidance,
    )  # one per embedding
    requests = [
        {"identity": person, "view": v, "kind": "nm", "subject": f"novel-{i:03d}"}
        for i, person in enumerate(people)
        for v in rng.choice(real.views, size=min(clips_per_identity, len(real.views)), replace=False)
    ]
    # each person's clips share part of their starting noise, as `synthesize_dataset` draws them
    per_person = min(clips_per_identity, len(real.views))
    latents = torch.cat(
        [sampler.pipeline.person_noise(per_person, 30, seed * 100_003 + i, identity_noise) for i in range(count)]
    )
    novel_emb = judge.embed(sampler.generate(requests, seed + 2, latents), bf16=True, progress=True)
    # real templates: every subject's gallery, train and test alike (the generator saw the former)
    gallery = real.is_gallery
    train_emb = judge.embed(train, bf16=True, progress=True)
    all_emb = np.concatenate([train_emb, real.embeddings[gallery]])
    all_subjects = np.concatenate([[s.subject for s in train], real.labels["subject"][gallery]])
    # threshold at FAR 1% between templates shaped like the test: a few probe clips vs a gallery
    subjects, conditions = real.labels["subject"], real.labels["condition"].astype(str)
    probe_rows = np.flatnonzero(~gallery & np.char.startswith(conditions, "nm"))
    chosen = np.concatenate(
        [
            rng.choice(rows, size=min(clips_per_identity, len(rows)), replace=False)
            for rows in (probe_rows[subjects[probe_rows] == s] for s in real.partition.test)
            if len(rows)
        ]
    )
    calib_emb = np.concatenate([real.embeddings[chosen], real.embeddings[gallery]])
    calib_subjects = np.concatenate([subjects[chosen], subjects[gallery]])
    threshold = template_threshold(calib_emb, calib_subjects, np.arange(len(calib_emb)) < len(chosen))
    # the same test for real people: each test subject's probe template against everyone else
    real_baseline = real_people_distinct(
        real.embeddings[chosen], subjects[chosen], all_emb, all_subjects, threshold["threshold"]
    )
    report = novelty_report(
        novel_emb,
        [r["subject"] for r in requests],
        all_emb,
        all_subjects,
        threshold["threshold"],
        more_thresholds={"real_people_95": real_baseline["threshold_95"]},
    )
    report["template_threshold"] = threshold
    report["real_people_distinct"] = real_baseline
    # do novel people look like people? Fréchet of judge features against the test subjects' NM
    # probes, beside the same distance for OTHER real people (the training subjects' NM clips)
    novel_frechet = frechet_report(real.embeddings[probe_rows], novel_emb, seed=seed)
    other_people = frechet_report(real.embeddings[probe_rows], train_emb, seed=seed)
    report["frechet"] = {
        "novel_vs_real": novel_frechet["generated_vs_real"],
        "other_real_people_vs_real": other_people["generated_vs_real"],
        "ratio_to_other_people": round(
            novel_frechet["generated_vs_real"] / max(other_people["generated_vs_real"], 1e-12), 3
        ),
    }
    report["clips_per_identity"] = clips_per_identity
    report["identity_noise"] = identity_noise
    report["bank_nearest_similarity_mean"] = round(float(np.mean([i["nearest_similarity"] for i in info])), 4)
    report["first_clips_drawn"] = first_clips
    known = [
        p.extra["nearest_known_similarity"] for p in people if "nearest_known_similarity" in getattr(p, "extra", {})
    ]
    if known:  # the conditioner's reading of the kept first clips against the people it knows
        report["first_clip_nearest_known_similarity_mean"] = round(float(np.mean(known)), 4)
    return report
