"""The EDIT part of `studio eval-editor`: every source edited to BG, CL and VIEW with its own
identity; identity ratio, covariates read and motion kept, judge-scored (`evaluate_editor`)."""

from __future__ import annotations

import time

from evaluation.motion import motion_agreement, summarize_motion
from evaluation.protocols import CASIA_B_PROBES, CasiaBProtocol
from gaitdata import GaitSequence
from studio.jobs.editor_eval_common import (
    EDITS,
    _bar,
    _labels,
    _pair_rows,
    _rank1,
    _RealSplit,
    _round,
    _rounded,
    _subset,
)


def _evaluate_edits(
    split: _RealSplit,
    editor,
    target_of,
    target_pairs,
    strength,
    steps,
    guidance,
    method,
    seed,
    progress,
    per_change: dict | None = None,
):
    """Edit every source to BG, CL and VIEW; identity, requested attribute and motion of each kind.

    `guidance`: (covariate scale, identity scale or None, conditioner guidance toward the source,
    covariate shift of the steering target).
    `per_change`: `EditSettings` by what an edit changes ("carrying", "clothing", "view",
    e.g. `generators.settings.FAITHFUL_EDITS`), used instead of the arguments for that kind."""
    base = (strength, steps, *guidance)  # guidance: covariates, identity, steering, covariate shift
    metric = split.calibration["metric"]
    gal_emb, gal_labels = split.gallery
    sources = split.sources
    edited: dict[str, list[GaitSequence]] = {kind: [] for kind in EDITS}
    motion_rows: dict[str, list[dict]] = {kind: [] for kind in EDITS}
    seconds = 0.0
    used: dict[str, dict] = {}
    seeds = [seed + i for i in range(len(sources))]
    for kind, spec in _bar(list(EDITS.items()), progress, "edit"):
        args = {"view": [target_of[(s.subject, s.view)] for s in sources]} if kind == "VIEW" else spec["args"]
        chosen = None if per_change is None else per_change[spec["change"]]
        strength, steps, guidance, identity_guidance, conditioner_guidance, covariate_shift = (
            base
            if chosen is None
            else (chosen.strength, chosen.steps, chosen.guidance, chosen.identity_guidance,
                  chosen.conditioner_guidance, chosen.covariate_shift)
        )  # fmt: skip
        used[kind] = {"strength": strength, "steps": steps, "guidance": guidance,
                      "identity_guidance": identity_guidance, "conditioner_guidance": conditioner_guidance,
                      "covariate_shift": covariate_shift}  # fmt: skip
        t0 = time.perf_counter()
        outs = editor.edit_many(
            sources,
            strength=strength,
            steps=steps,
            guidance=guidance,
            identity_guidance=identity_guidance,
            seeds=seeds,
            method=method,
            conditioner_guidance=conditioner_guidance,
            covariate_shift=covariate_shift,
            **args,
        )
        seconds += time.perf_counter() - t0
        for src, out in zip(sources, outs, strict=True):
            out.condition = spec["label"]  # never collides with a real condition
            edited[kind].append(out)
            motion_rows[kind].append(motion_agreement(src.frames, out.frames, src.fps))
    source_nm = _pair_rows(split.labels, CASIA_B_PROBES["NM"], split.source_pairs)
    source_rank1 = _rank1(
        CasiaBProtocol(probe_conditions={"NM": CASIA_B_PROBES["NM"]}, metric=metric),
        gal_emb,
        gal_labels,
        split.embeddings[source_nm],
        _subset(split.labels, source_nm),
    )["NM"]
    out = {"source_rank1_nm": _round(source_rank1, 2)}
    pairs_of = {"BG": split.source_pairs, "CL": split.source_pairs, "VIEW": target_pairs}
    for kind, spec in EDITS.items():
        emb = split.judge.embed(edited[kind], bf16=True)
        labels = _labels(edited[kind])
        edit_protocol = CasiaBProtocol(probe_conditions={kind: (spec["label"],)}, metric=metric)
        generated = _rank1(edit_protocol, gal_emb, gal_labels, emb, labels)[kind]
        rows = _pair_rows(split.labels, spec["real"], pairs_of[kind])
        real_protocol = CasiaBProtocol(probe_conditions={kind: spec["real"]}, metric=metric)
        reference = _rank1(real_protocol, gal_emb, gal_labels, split.embeddings[rows], _subset(split.labels, rows))
        covariates = split.covariates(emb, labels["condition"], labels["view"])
        real_covariates = split.covariates(
            split.embeddings[rows], split.labels["condition"][rows], split.labels["view"][rows]
        )
        out[kind] = {
            "clips": len(edited[kind]),
            "settings": used[kind],
            "identity": {
                "edited_rank1": _round(generated, 2),
                "real_rank1": _round(reference[kind], 2),
                "real_probes": int(rows.sum()),
                "ratio": _round(generated / max(reference[kind], 1e-9), 3),
            },
            "requested_attribute": spec["head"],
            "requested_attribute_accuracy": _round(covariates[spec["head"]], 2),
            "covariates": _rounded(covariates),
            "covariates_on_real_probes": _rounded(real_covariates),
            "motion": summarize_motion(motion_rows[kind]),
        }
    count = sum(len(v) for v in edited.values())
    return out, _round(count / max(seconds, 1e-9), 3)
