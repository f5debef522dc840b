"""Measure the editor and the anonymizer on the walker benchmark's held-out subjects, scored by the JUDGE.

Sources: for each TEST subject of the partition, one probe clip (`probe_condition`, nm-05 by
default: never in the gallery) at a few views. Views rotate over the subjects so that every view
of the data is covered: subject i gets views `V[(i·k + j) mod |V|]`, j < k = `views_per_subject`.

EDIT — every source is edited to BG (carrying a bag), CL (a coat) and VIEW (the view
`view_shift` degrees away, folded back into 0–180°), with its own identity:
- identity: judge rank-1 of the edited clips against the real gallery (nm-01..04, CASIA-B
  protocol, identical views excluded), over the judge's rank-1 on the CORRESPONDING real probes
  (the same subjects and views: real bg-01/02 for BG, cl-01/02 for CL, nm-05/06 at the new view
  for VIEW) — the ratio is the figure (target ≥ 0.9);
- covariates: the covariate classifier (on judge features) reads the requested attribute
  (carrying for BG, clothing for CL, view within ±18° for VIEW; target ≥ 90%);
- motion: cadence relative error and phase agreement with the source (`evaluation.motion`).

ANONYMIZE — every source is anonymized; arms compared on the same sources: the unmodified
clips (the ceiling), the blur and morphological baselines (`generators.baselines`, at each of
`baseline_strengths`), and the anonymizer:
- leakage (`evaluation.leakage`): rank-1 against the real gallery beside chance (target ≤ 2 ×
  chance), TAR at the judge's FAR-1% threshold (target ≤ 5%), distances;
- leakage by every attacker (`evaluation.attackers`), each at its OWN FAR-1% threshold set on
  real pairs: the judge (which the anonymizer retries against), the GEI template matcher in the
  same view and across views, and the recognizers the anonymizer never consulted (default: the
  bundled GEINet attacker); the targets stay the judge's;
- view kept (covariate classifier within ±18° of the source's view; target ≥ 95%);
- Fréchet distance of judge features over real-vs-real (`frechet_report`, target ≤ 1.5); the
  real set holds ONE clip per source (subject, view), its partner probe (nm-06 for an nm-05
  source), never the source itself — with both twins in the set, each half would hold a near
  copy of the other and real-vs-real would be near zero. Beside it, the same ratio for real
  clips of OTHER people at the same views (training subjects: a rough floor, since the judge
  saw them), what a perfect anonymizer making real-looking strangers would score;
- motion agreement with the source; for the anonymizer also the share it flagged as leaking
  and the attempts it took.

Everything is written as one JSON (`format_editor_report` renders it as a table).
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from evaluation.attackers import (
    bundled_attackers,
    calibrate_recognizer_on_real,
    gait_energy_images,
    gei_leakage,
    own_calibration,
    recognizer_leakage,
)
from evaluation.covariates import covariate_accuracy
from evaluation.fidelity import frechet_report
from evaluation.leakage import leakage_report
from evaluation.motion import motion_agreement, summarize_motion
from evaluation.protocols import CASIA_B_GALLERY, CASIA_B_PROBES, CasiaBProtocol
from gaitdata import GaitDataError, GaitSequence, read_partition
from gaitdata.atomic import atomic_write_text
from gaitdata.casia_b import PROBE_CONDITIONS
from gaitdata.json_values import json_ready
from gaitdata.opengait import read_pkl_sequence, scan_opengait
from generators.baselines import blur_silhouettes, morph_silhouettes
from generators.conditions import parse_view, view_name
from generators.editor import MIN_FRAMES, Pseudonym
from generators.settings import ANONYMIZE, EDIT
from recognizers.covariates import angular_error
from studio.jobs.anonymization import anonymize_until_unverified
from studio.jobs.edit_dataset import clip_seed

logger = logging.getLogger(__name__)

# edit kind → the editor's arguments (VIEW's target is per source), its probe label, the real
# probes it is compared with, and the covariate head that must read the requested attribute
EDITS = {
    "BG": {"args": {"carrying": "bag"}, "label": "bg-edit", "real": CASIA_B_PROBES["BG"], "head": "carrying"},
    "CL": {"args": {"clothing": "coat"}, "label": "cl-edit", "real": CASIA_B_PROBES["CL"], "head": "clothing"},
    "VIEW": {"args": {}, "label": "nm-edit", "real": CASIA_B_PROBES["NM"], "head": "view_within_tolerance"},
}
PARTS = ("edit", "anonymize")
TARGETS = {
    "edit_identity_ratio": 0.9,
    "edit_requested_attribute": 90.0,
    "anonymize_rank1_over_chance": 2.0,
    "anonymize_tar": 5.0,
    "anonymize_view_kept": 95.0,
    "anonymize_frechet_ratio": 1.5,
}


# ---- set-up ---------------------------------------------------------------------------------
def source_views(index: int, views: Sequence[str], per_subject: int) -> list[str]:
    """The views of subject number `index`: `per_subject` consecutive ones, rotating over `views`."""
    k = min(per_subject, len(views))
    return [views[(index * k + j) % len(views)] for j in range(k)]


def shifted_view(view: str, shift: float) -> str:
    """The view `shift` degrees away, folded back into 0–180° (`'036'`, 54 → `'090'`; `'162'` → `'108'`)."""
    deg = parse_view(view)
    target = deg + shift if deg + shift <= 180.0 else deg - shift
    return view_name(max(target, 0.0))


def _labels(sequences: list[GaitSequence]) -> dict[str, np.ndarray]:
    return {
        "subject": np.array([s.subject for s in sequences]),
        "condition": np.array([s.condition for s in sequences]),
        "view": np.array([s.view for s in sequences]),
    }


def _read(entries) -> tuple[list[GaitSequence], list[dict]]:
    """Read sequence folders; unreadable ones are skipped and listed with the reason."""
    sequences, skipped = [], []
    for entry in entries:
        try:
            sequences.append(read_pkl_sequence(entry))
        except GaitDataError as err:
            logger.warning("skipped %s", err)
            skipped.append({"path": str(err.path or entry.folder), "problem": err.problem})
    return sequences, skipped


def _bar(items, progress: bool, desc: str):
    if not progress:
        return items
    from tqdm.auto import tqdm

    return tqdm(items, desc=desc, unit="clip")


def _rank1(protocol: CasiaBProtocol, gallery_emb, gallery_labels, probe_emb, probe_labels) -> dict[str, float]:
    emb = np.concatenate([gallery_emb, probe_emb])
    labels = {k: np.concatenate([gallery_labels[k], probe_labels[k]]) for k in gallery_labels}
    return protocol.evaluate(emb, labels).mean


def _subset(labels: dict, rows: np.ndarray) -> dict:
    return {k: v[rows] for k, v in labels.items()}


def _pair_rows(labels: dict, conditions, pairs: set) -> np.ndarray:
    """Rows of the given conditions whose (subject, view) is among `pairs`."""
    keyed = [(s, v) in pairs for s, v in zip(labels["subject"], labels["view"], strict=True)]
    return np.isin(labels["condition"], conditions) & np.asarray(keyed, bool)


def _rounded(values: dict, digits: int = 2) -> dict:
    return {k: _round(v, digits) if isinstance(v, float) else v for k, v in values.items()}


def _round(value, digits: int = 3):
    return None if value is None or not np.isfinite(value) else round(float(value), digits)


def _check_settings(
    parts,
    probe_condition,
    subjects,
    views_per_subject,
    view_shift,
    baseline_strengths,
    edit_strength,
    anonymize_strength,
):
    if not str(probe_condition).startswith("nm"):
        raise ValueError(f"probe_condition must be a normal-walking clip (nm-..), got {probe_condition!r}")
    if probe_condition in CASIA_B_GALLERY:
        raise ValueError(f"probe_condition {probe_condition!r} is a gallery condition; use a probe (nm-05, nm-06)")
    if not parts or set(parts) - set(PARTS):
        raise ValueError(f"parts must name some of {PARTS}, got {list(parts)}")
    if subjects is not None and subjects < 1:
        raise ValueError(f"subjects must be ≥ 1 (or None for all), got {subjects}")
    if views_per_subject < 1:
        raise ValueError(f"views_per_subject must be ≥ 1, got {views_per_subject}")
    if not 0.0 < view_shift <= 180.0:
        raise ValueError(f"view_shift must lie in (0, 180] degrees, got {view_shift}")
    for name, value in [("edit_strength", edit_strength), ("anonymize_strength", anonymize_strength)] + [
        ("baseline strength", s) for s in baseline_strengths
    ]:
        if not 0.0 < float(value) <= 1.0:
            raise ValueError(f"{name} must lie in (0, 1], got {value}")


# ---- the evaluation -------------------------------------------------------------------------
def evaluate_editor(
    data: str | Path,
    out_path: str | Path,
    editor=None,
    covariate_classifier=None,
    partition: str | Path | None = None,
    subjects: int | None = 50,
    views: Sequence[str] | None = None,
    views_per_subject: int = 3,
    probe_condition: str = "nm-05",
    view_shift: float = 54.0,
    edit_strength: float = EDIT.strength,
    anonymize_strength: float = ANONYMIZE.strength,
    steps: int = EDIT.steps,
    guidance: float = EDIT.guidance,
    identity_guidance: float | None = EDIT.identity_guidance,
    edit_method: str = EDIT.method,
    anonymize_method: str = ANONYMIZE.method,
    max_attempts: int = ANONYMIZE.max_attempts,
    baseline_strengths: Sequence[float] = (0.5, 1.0),
    seed: int = 0,
    parts: Sequence[str] = PARTS,
    progress: bool = True,
    attackers: dict | None = None,
) -> dict:
    """Measure every editor and anonymizer target and write them as JSON to `out_path`.

    Args:
        data: the benchmark dataset (OpenGait layout, CASIA-B condition names).
        out_path: the results JSON (written atomically).
        editor: a `GaitEditor` with a judge and its calibration (default: the bundled one); its
            judge scores everything.
        covariate_classifier: on the judge's features (default: the bundled one).
        partition: partition JSON (default `<data>/partition.json`); TEST_SET subjects are used.
        subjects: how many test subjects (drawn with `seed`; None or more than there are = all).
        views: the views sources are drawn from (default: every view of the data).
        views_per_subject: source clips per subject (one per view).
        probe_condition: the source clips' condition (a normal-walking probe, never gallery).
        view_shift: degrees between a source's view and its VIEW edit's.
        edit_strength, anonymize_strength, steps, guidance, edit_method, anonymize_method,
            max_attempts: editor settings (defaults: `generators.settings`).
        identity_guidance: the identity's own guidance scale (None = `guidance`).
        baseline_strengths: strengths at which both baselines are measured.
        seed: source draw and editor seeds (source i uses `seed + i`).
        parts: which halves to run, "edit" and / or "anonymize" (the other is written as null).
        progress: tqdm bars.
        attackers: name → recognizer the anonymizer never consulted, scored at its own
            `calibration.json` (else one computed on the real NM probes); default: the bundled
            GEINet attacker (`recognizers.load_attacker()`), none when it is not installed.

    Returns:
        The results dict (also written): settings, `"edit"`, `"anonymize"`, `"targets"`, timings.

    Raises:
        ValueError: bad settings, an editor without judge or calibration, no usable source clip.
    """
    import recognizers

    _check_settings(
        parts,
        probe_condition,
        subjects,
        views_per_subject,
        view_shift,
        baseline_strengths,
        edit_strength,
        anonymize_strength,
    )
    started = time.time()
    if editor is None:
        from studio.jobs.edit_dataset import load_editor

        editor = load_editor(with_judge=True)
    if editor.judge is None or editor.calibration is None:
        raise ValueError("the editor needs a judge and its calibration: they score every number here")
    judge, calibration = editor.judge, editor.calibration
    covariate_classifier = covariate_classifier or recognizers.load_covariate_classifier()
    if attackers is None and "anonymize" in parts:
        attackers = bundled_attackers()
    data = Path(data)
    part = read_partition(partition or data / "partition.json")

    # 1. sources: test subjects × rotating views, one probe clip each
    test = sorted(part.test)
    rng = np.random.default_rng(seed)
    if subjects is not None and subjects < len(test):
        test = sorted(rng.choice(test, size=subjects, replace=False).tolist())
    entries = scan_opengait(data, subjects=test)
    if not entries:
        raise ValueError(f"{data}: no clips of the {len(test)} test subjects of the partition")
    data_views = sorted({e.view for e in entries if e.condition == probe_condition})
    pool = [v for v in data_views if views is None or v in {str(x) for x in views}]
    if not pool:
        raise ValueError(f"{data}: no {probe_condition} clips at views {list(views or data_views)}")
    source_pairs = {(s, v) for i, s in enumerate(test) for v in source_views(i, pool, views_per_subject)}
    target_of = {(s, v): shifted_view(v, view_shift) for s, v in source_pairs}
    target_pairs = {(s, target_of[(s, v)]) for s, v in source_pairs}

    # 2. the real clips needed: gallery (all views), and probes at the sources' and targets' views
    wanted = [
        e
        for e in entries
        if e.condition in CASIA_B_GALLERY
        or (e.condition in PROBE_CONDITIONS and (e.subject, e.view) in source_pairs)
        or (e.condition in CASIA_B_PROBES["NM"] and (e.subject, e.view) in target_pairs)
    ]
    real, skipped = _read(wanted)
    real_labels = _labels(real)
    is_source = np.array(
        [
            s.condition == probe_condition and (s.subject, s.view) in source_pairs and s.num_frames >= MIN_FRAMES
            for s in real
        ]
    )
    too_short = sum(
        1
        for s, src in zip(real, is_source, strict=True)
        if not src and s.condition == probe_condition and (s.subject, s.view) in source_pairs
    )
    sources = [s for s, src in zip(real, is_source, strict=True) if src]
    if not sources:
        raise ValueError(f"{data}: no readable {probe_condition} clip of ≥ {MIN_FRAMES} frames among the sources")
    logger.info("%d real clips (%d skipped); %d source clips", len(real), len(skipped), len(sources))
    real_emb = judge.embed(real, bf16=True, progress=progress)

    # 3. EDIT, 4. ANONYMIZE
    split = _RealSplit(judge, calibration, covariate_classifier, real, real_emb, real_labels, is_source, source_pairs)
    edit = edit_speed = anonymize = frechet_reference = anonymize_speed = attacker_info = None
    if "edit" in parts:
        edit, edit_speed = _evaluate_edits(
            split,
            editor,
            target_of,
            target_pairs,
            edit_strength,
            steps,
            (guidance, identity_guidance),
            edit_method,
            seed,
            progress,
        )
    if "anonymize" in parts:
        null = _other_people(data, part.train, pool, views_per_subject, probe_condition, len(test), judge)
        anonymize, frechet_reference, anonymize_speed, arms = _evaluate_anonymization(
            split,
            editor,
            null,
            probe_condition,
            baseline_strengths,
            dict(
                strength=anonymize_strength,
                steps=steps,
                guidance=guidance,
                identity_guidance=identity_guidance,
                method=anonymize_method,
                max_attempts=max_attempts,
            ),
            seed,
            progress,
        )
        attacker_info = _score_attackers(split, arms, anonymize, attackers or {}, progress)

    result = {
        "data": str(data),
        "test_subjects": len({s.subject for s in sources}),
        "source_clips": len(sources),
        "source_condition": probe_condition,
        "source_views": dict(sorted(Counter(s.view for s in sources).items())),
        "view_shift": view_shift,
        "real_clips": len(real),
        "skipped": skipped,
        "too_short_sources": too_short,
        "settings": {
            "edit_strength": edit_strength,
            "anonymize_strength": anonymize_strength,
            "steps": steps,
            "guidance": guidance,
            "identity_guidance": identity_guidance,
            "edit_method": edit_method,
            "anonymize_method": anonymize_method,
            "max_attempts": max_attempts,
            "baseline_strengths": list(baseline_strengths),
            "seed": seed,
            "parts": list(parts),
            "scheduler": type(editor.pipeline.scheduler).__name__,
        },
        "judge_calibration": {k: calibration.get(k) for k in ("metric", "threshold", "far", "tar")},
        "edit": edit,
        "anonymize": anonymize,
        "anonymize_frechet_reference": frechet_reference,
        "anonymize_attackers": attacker_info,
        "targets": _targets(edit, anonymize),
        "edit_clips_per_second": edit_speed,
        "anonymize_clips_per_second": anonymize_speed,
        "seconds": round(time.time() - started, 1),
    }
    result = json_ready(result)  # NaN (undefined: e.g. an accuracy over no clip) → None
    atomic_write_text(out_path, json.dumps(result, indent=1, allow_nan=False) + "\n")
    return result


@dataclass
class _RealSplit:
    """The real test clips read for the evaluation, their judge embeddings, and the scorers."""

    judge: object
    calibration: dict
    classifier: object
    sequences: list[GaitSequence]
    embeddings: np.ndarray
    labels: dict[str, np.ndarray]
    is_source: np.ndarray
    source_pairs: set

    @property
    def sources(self) -> list[GaitSequence]:
        return [s for s, src in zip(self.sequences, self.is_source, strict=True) if src]

    @property
    def gallery(self) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        rows = np.isin(self.labels["condition"], CASIA_B_GALLERY)
        return self.embeddings[rows], _subset(self.labels, rows)

    def covariates(self, embeddings: np.ndarray, conditions, views) -> dict:
        return covariate_accuracy(self.classifier.predict(embeddings), conditions, views, self.classifier.config)


def _evaluate_edits(
    split: _RealSplit, editor, target_of, target_pairs, strength, steps, guidance, method, seed, progress
):
    """Edit every source to BG, CL and VIEW; identity, requested attribute and motion of each kind.

    `guidance`: (covariate scale, identity scale or None)."""
    guidance, identity_guidance = guidance
    metric = split.calibration["metric"]
    gal_emb, gal_labels = split.gallery
    sources = split.sources
    edited: dict[str, list[GaitSequence]] = {kind: [] for kind in EDITS}
    motion_rows: dict[str, list[dict]] = {kind: [] for kind in EDITS}
    seconds = 0.0
    seeds = [seed + i for i in range(len(sources))]
    for kind, spec in _bar(list(EDITS.items()), progress, "edit"):
        args = {"view": [target_of[(s.subject, s.view)] for s in sources]} if kind == "VIEW" else spec["args"]
        t0 = time.perf_counter()
        outs = editor.edit_many(
            sources,
            strength=strength,
            steps=steps,
            guidance=guidance,
            identity_guidance=identity_guidance,
            seeds=seeds,
            method=method,
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


def _other_people(data, train_subjects, views, views_per_subject, condition, count, judge) -> np.ndarray | None:
    """Judge embeddings of real clips of people who are not the sources, at the sources' views: the
    TRAIN subjects' `condition` clips, views assigned as for the sources (the Fréchet null control)."""
    subjects = sorted(train_subjects)[:count]
    pairs = {(s, v) for i, s in enumerate(subjects) for v in source_views(i, views, views_per_subject)}
    entries = [
        e for e in scan_opengait(data, subjects=subjects, conditions=[condition]) if (e.subject, e.view) in pairs
    ]
    clips, _ = _read(entries)
    return judge.embed(clips, bf16=True) if len(clips) >= 2 else None


def _view_kept_by_view(predicted: np.ndarray, views: np.ndarray, tolerance: float = 18) -> dict:
    """Per source view, the share (%) of clips whose predicted view lies within `tolerance` degrees of it."""
    error = angular_error(np.asarray(predicted, float), np.asarray(views).astype(float))
    return {v: _round(100 * float((error[views == v] <= tolerance).mean()), 1) for v in sorted(set(views.tolist()))}


def _evaluate_anonymization(
    split: _RealSplit, editor, null, probe_condition, baseline_strengths, settings, seed, progress
):
    """Anonymize every source; leakage, covariates kept, Fréchet and motion of each arm.

    Returns (arm → its row, the Fréchet reference, anonymizer clips / s, arm → its clips (None: the sources)).
    """
    sources = split.sources
    source_emb = split.embeddings[split.is_source]
    source_labels = _labels(sources)
    gal_emb, gal_labels = split.gallery
    # as `studio anonymize` does: each source person becomes one new person, far from their first clip
    first = {}
    for clip in sources:
        first.setdefault(clip.subject, clip)
    people = [Pseudonym(clip_seed(seed, s.subject), first[s.subject]) for s in sources]
    t0 = time.perf_counter()
    results = anonymize_until_unverified(
        editor,
        split.judge,
        split.calibration,
        sources,
        [seed + i for i in range(len(sources))],
        source_embeddings=source_emb,
        people=people,
        **settings,
    )
    seconds = time.perf_counter() - t0
    arms: dict[str, list[GaitSequence] | None] = {"unmodified": None}
    for strength in baseline_strengths:
        arms[f"blur@{strength:g}"] = [blur_silhouettes(s, strength) for s in sources]
        arms[f"morph@{strength:g}"] = [morph_silhouettes(s, strength) for s in sources]
    arms["anonymizer"] = [r.sequence for r in results]
    # Fréchet reference: ONE real clip per source (subject, view), never the source itself (nm-06 for
    # nm-05): the source's twin in both halves would make real-vs-real near zero
    partners = [c for c in CASIA_B_PROBES["NM"] if c != probe_condition]
    reference = split.embeddings[_pair_rows(split.labels, partners, split.source_pairs)]
    if len(reference) < 4:
        logger.warning("only %d real partner clips (%s): no Fréchet distance", len(reference), partners)
        reference = None

    def frechet(emb):
        return None if reference is None else frechet_report(reference, emb, seed=seed)

    out = {}
    for name, clips in arms.items():
        emb = source_emb if clips is None else split.judge.embed(clips, bf16=True)
        predicted = split.classifier.predict(emb)
        kept = covariate_accuracy(predicted, source_labels["condition"], source_labels["view"], split.classifier.config)
        row = {
            "leakage": leakage_report(
                source_emb, source_labels["subject"], emb, gal_emb, gal_labels["subject"], split.calibration
            ),
            "view_kept": _round(kept["view_within_tolerance"], 2),
            "view_kept_by_view": _view_kept_by_view(predicted["view"], source_labels["view"]),
            "clothing_kept": _round(kept["clothing"], 2),
            "carrying_kept": _round(kept["carrying"], 2),
            "frechet": frechet(emb),
        }
        if clips is not None:
            agreement = [motion_agreement(s.frames, c.frames, s.fps) for s, c in zip(sources, clips, strict=True)]
            row["motion"] = summarize_motion(agreement)
        out[name] = row
    anonymizer = out["anonymizer"]
    anonymizer["flagged_as_leaking"] = _round(100 * np.mean([r.leaks for r in results]), 2)
    anonymizer["attempts"] = dict(sorted(Counter(r.attempts for r in results).items()))
    anonymizer["editor_judge_distance_mean"] = _round(np.mean([r.source_distance for r in results]), 4)
    anonymizer["target_similarity_to_source_mean"] = _round(
        np.nanmean([r.target_similarity_to_source for r in results]), 4
    )
    reference_info = {
        "real": f"{'/'.join(partners)} at the sources' subjects and views",
        "clips": 0 if reference is None else len(reference),
        # what real clips of OTHER people at the same views score (judge-trained subjects: a rough floor)
        "other_people_null": None if null is None or reference is None else frechet(null),
    }
    return out, reference_info, _round(len(results) / max(seconds, 1e-9), 3), arms


def _score_attackers(split: _RealSplit, arms: dict, anonymize: dict, attackers: dict, progress: bool) -> dict:
    """Leakage of every arm (name → clips, None: the sources) by every attacker, each at its own
    real-pair calibration; adds `"attackers"` to each arm's row of `anonymize` and returns what each
    attacker is (name → kind, model, calibration)."""
    labels = _labels(split.sources)
    src_subjects, src_views = labels["subject"], labels["view"]
    gallery = np.isin(split.labels["condition"], CASIA_B_GALLERY)
    # thresholds come from REAL probes against the gallery: the NM probes at the sources' (subject, view)
    real = _pair_rows(split.labels, CASIA_B_PROBES["NM"], split.source_pairs)
    gal_subjects, gal_views = split.labels["subject"][gallery], split.labels["view"][gallery]
    real_subjects, real_views = split.labels["subject"][real], split.labels["view"][real]
    needed = np.flatnonzero(gallery | real | split.is_source)  # the clips any attacker reads
    real_clips = [split.sequences[i] for i in needed]

    def rows_of(mask):  # rows of `needed`-ordered arrays that `mask` selects
        return mask[needed]

    # the judge: the arm's `leakage` row (leakage_report at the calibration the anonymizer retries against)
    judge_calibration = {k: split.calibration.get(k) for k in ("metric", "threshold", "far", "tar")}
    judge_calibration["source"] = "the editor's judge calibration (the anonymizer retries against it)"
    info = {"judge": {"kind": "recognizer", "model": type(split.judge).__name__, "calibration": judge_calibration}}
    rows = {
        name: {"judge": {"attacker": "judge", "views": "all_views", **anonymize[name]["leakage"], "probes_left_out": 0}}
        for name in arms
    }
    for row in rows.values():
        row["judge"]["calibration"] = judge_calibration

    # the GEI template matcher, same view and cross view: no learning, nothing for the anonymizer to fool
    geis = gait_energy_images(real_clips)
    source_geis = geis[rows_of(split.is_source)]
    arm_geis = {name: source_geis if clips is None else gait_energy_images(clips) for name, clips in arms.items()}
    gallery_geis, real_geis = geis[rows_of(gallery)], geis[rows_of(real)]
    gei = gei_leakage(
        source_geis, src_subjects, src_views, arm_geis, gallery_geis, gal_subjects, gal_views,
        real_geis, real_subjects, real_views,
    )  # fmt: skip
    for attacker, per_arm in gei.items():
        for name, report in per_arm.items():
            rows[name][attacker] = report
        first = next(iter(per_arm.values()))
        info[attacker] = {"kind": "GEI template", "views": first["views"], "calibration": first["calibration"]}

    # recognizers the anonymizer never consulted, at their own thresholds
    for attacker, model in attackers.items():
        embeddings = model.embed(real_clips, bf16=True, progress=progress)
        gallery_emb, source_emb = embeddings[rows_of(gallery)], embeddings[rows_of(split.is_source)]
        calibration = own_calibration(model) or calibrate_recognizer_on_real(
            embeddings[rows_of(real)], real_subjects, gallery_emb, gal_subjects
        )
        for name, clips in arms.items():
            emb = source_emb if clips is None else model.embed(clips, bf16=True)
            rows[name][attacker] = recognizer_leakage(
                source_emb, src_subjects, emb, gallery_emb, gal_subjects, calibration, attacker
            )
        info[attacker] = {"kind": "recognizer", "model": type(model).__name__, "calibration": calibration}
    for name, row in rows.items():
        anonymize[name]["attackers"] = row
    return info


def _targets(edit: dict | None, anonymize: dict | None) -> list[dict]:
    """Each issue target of the parts that ran: the measured value, the bound, pass / fail."""

    def row(name, value, bound, at_least):
        ok = None if value is None else (value >= bound if at_least else value <= bound)
        return {"target": name, "value": value, "bound": f"{'≥' if at_least else '≤'} {bound:g}", "pass": ok}

    rows = []
    for kind in EDITS if edit else ():
        r = edit[kind]
        rows.append(row(f"edit {kind}: identity ratio", r["identity"]["ratio"], TARGETS["edit_identity_ratio"], True))
        rows.append(
            row(
                f"edit {kind}: {r['requested_attribute']} %",
                r["requested_attribute_accuracy"],
                TARGETS["edit_requested_attribute"],
                True,
            )
        )
    if anonymize:
        anon = anonymize["anonymizer"]
        leak = anon["leakage"]
        frechet = anon["frechet"]["ratio"] if anon["frechet"] else None
        rows += [
            row("anonymize: rank-1 / chance", leak["rank1_over_chance"], TARGETS["anonymize_rank1_over_chance"], False),
            row("anonymize: TAR vs source clip %", leak["tar_vs_source"], TARGETS["anonymize_tar"], False),
            row("anonymize: TAR vs source gallery %", leak["tar_vs_gallery"], TARGETS["anonymize_tar"], False),
            row("anonymize: view kept %", anon["view_kept"], TARGETS["anonymize_view_kept"], True),
            row("anonymize: Fréchet ratio", frechet, TARGETS["anonymize_frechet_ratio"], False),
        ]
    return rows


def _format_edit(edit: dict) -> list[str]:
    lines = [
        f"EDIT (unedited sources: NM rank-1 {edit['source_rank1_nm']})",
        f"{'edit':<6}{'rank-1':>8}{'real':>8}{'ratio':>7}{'attribute':>16}{'cad.err':>9}{'phase':>7}{'kept%':>7}",
    ]
    for kind in EDITS:
        r = edit[kind]
        m = r["motion"]
        short = {"carrying": "bag", "clothing": "coat", "view_within_tolerance": "view±18°"}[r["requested_attribute"]]
        attribute = f"{short} {_fmt(r['requested_attribute_accuracy'])}%"
        lines.append(
            f"{kind:<6}{_fmt(r['identity']['edited_rank1']):>8}{_fmt(r['identity']['real_rank1']):>8}"
            f"{_fmt(r['identity']['ratio'], 3):>7}{attribute:>16}"
            f"{_fmt(m['cadence_relative_error']['median'], 3):>9}{_fmt(m['phase_error']['median'], 3):>7}"
            f"{_fmt(m['motion_kept']):>7}"
        )
    lines.append("(cadence error and phase error: medians; phase in fractions of a step; kept: both within tolerance)")
    return lines


def _format_anonymize(anonymize: dict, reference: dict) -> list[str]:
    lines = [
        "ANONYMIZE",
        f"{'arm':<13}{'rank-1':>8}{'chance':>8}{'×ch.':>6}{'TAR-src':>9}{'TAR-gal':>9}{'FA-imp':>8}"
        f"{'d-src':>7}{'view%':>7}{'Fréchet':>9}{'motion%':>9}",
    ]
    for name, r in anonymize.items():
        leak = r["leakage"]
        frechet = r["frechet"]["ratio"] if r["frechet"] else None
        lines.append(
            f"{name:<13}{_fmt(leak['rank1']):>8}{_fmt(leak['chance_rank1']):>8}{_fmt(leak['rank1_over_chance']):>6}"
            f"{_fmt(leak['tar_vs_source']):>9}{_fmt(leak['tar_vs_gallery']):>9}"
            f"{_fmt(leak['impostor_accept_vs_gallery']):>8}{_fmt(leak['distance_to_source']['mean'], 3):>7}"
            f"{_fmt(r['view_kept']):>7}{_fmt(frechet, 2):>9}{_fmt(r.get('motion', {}).get('motion_kept')):>9}"
        )
    lines += _format_attackers(anonymize)
    anon = anonymize["anonymizer"]
    null = (reference or {}).get("other_people_null")
    lines += [
        "(rank-1 against the real gallery, all views; TAR at the judge's FAR-1% threshold vs the source clip / "
        "the source's gallery; FA-imp: impostor pairs accepted; d-src: mean distance to the source; motion: "
        "cadence and phase kept)",
        f"Fréchet reference: {(reference or {}).get('real')}; real clips of other people at the same views score "
        f"{_fmt(null['ratio'], 2) if null else '—'}",
        f"anonymizer flagged as leaking: {_fmt(anon['flagged_as_leaking'])}%; attempts {anon['attempts']}; "
        f"view kept by view {anon['view_kept_by_view']}",
    ]
    return lines


def _format_attackers(anonymize: dict) -> list[str]:
    """One row per arm, one column per attacker: rank-1 (× chance) / TAR vs the source's gallery."""
    names = list(next(iter(anonymize.values())).get("attackers") or {})
    if not names:
        return []
    width = max(24, *(len(n) + 2 for n in names))
    lines = [
        "LEAKAGE BY ATTACKER: rank-1 % (× chance) / TAR vs the source's gallery %",
        f"{'arm':<13}" + "".join(f"{n:>{width}}" for n in names),
    ]
    for arm, row in anonymize.items():
        cells = []
        for name in names:
            r = row["attackers"][name]
            cells.append(f"{_fmt(r['rank1'])} ({_fmt(r['rank1_over_chance'])}×) / {_fmt(r['tar_vs_gallery'])}")
        lines.append(f"{arm:<13}" + "".join(f"{c:>{width}}" for c in cells))
    lines.append(
        "(each attacker at its own FAR-1% threshold, set on real probe-vs-gallery pairs; gei_same_view: gallery "
        "clips of the probe's view, gei_cross_view: of every other view; judge and recognizers: all views)"
    )
    return lines


def format_editor_report(result: dict) -> str:
    """The results of `evaluate_editor` as plain-text tables."""
    lines = [
        f"{result['source_clips']} source clips ({result['source_condition']}) of {result['test_subjects']} test "
        f"subjects; judge threshold {result['judge_calibration']['threshold']:.4f} "
        f"({result['judge_calibration']['metric']}, FAR {result['judge_calibration']['far']})",
    ]
    if result["edit"]:
        lines += [""] + _format_edit(result["edit"])
    if result["anonymize"]:
        lines += [""] + _format_anonymize(result["anonymize"], result["anonymize_frechet_reference"])
    lines += ["", "TARGETS"]
    for t in result["targets"]:
        verdict = {True: "pass", False: "MISS", None: "n/a"}[t["pass"]]
        lines.append(f"  {t['target']:<40}{_fmt(t['value'], 3):>9}  {t['bound']:<8}{verdict}")
    lines.append(
        f"speed: edit {result['edit_clips_per_second']} clips/s, anonymize {result['anonymize_clips_per_second']} "
        f"clips/s (retries included); {result['seconds']} s in all"
    )
    return "\n".join(lines)


def _fmt(value, digits: int = 1) -> str:
    return "—" if value is None else f"{value:.{digits}f}"
