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

Everything is written as one JSON (`format_editor_report` renders it as a table). This module
reads the split and runs the parts; each part is a module of its own: `editor_eval_edits`,
`editor_eval_anonymization`, `editor_eval_report` (targets, the table) over `editor_eval_common`.
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from evaluation.attackers import (
    bundled_attackers,
)
from evaluation.protocols import CASIA_B_GALLERY, CASIA_B_PROBES
from gaitdata import read_partition
from gaitdata.atomic import atomic_write_text
from gaitdata.casia_b import PROBE_CONDITIONS
from gaitdata.json_values import json_ready
from gaitdata.opengait import scan_opengait
from generators.editor import MIN_FRAMES
from generators.settings import ANONYMIZE, EDIT
from studio.jobs.editor_eval_anonymization import _evaluate_anonymization, _other_people, _score_attackers
from studio.jobs.editor_eval_common import EDITS, _labels, _read, _RealSplit, shifted_view, source_views
from studio.jobs.editor_eval_edits import _evaluate_edits
from studio.jobs.editor_eval_report import _targets, format_editor_report

logger = logging.getLogger(__name__)

PARTS = ("edit", "anonymize")


# ---- set-up ---------------------------------------------------------------------------------


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
    edit_conditioner_guidance: float = EDIT.conditioner_guidance,
    edit_settings: dict | None = None,
    edit_covariate_shift: float = EDIT.covariate_shift,
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
        edit_conditioner_guidance: steer each edit toward its source person along the
            conditioner's gradient (`generators.identity_guidance`; 0 = off); the judge scores.
        edit_covariate_shift: how far steering moves its target to the edit's covariates.
        edit_settings: `EditSettings` per change ("carrying", "clothing", "view"), each edit kind
            run at its own (e.g. `generators.settings.FAITHFUL_EDITS`); None: the arguments above.

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
            (guidance, identity_guidance, edit_conditioner_guidance, edit_covariate_shift),
            edit_method,
            seed,
            progress,
            edit_settings,
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
            "edit_conditioner_guidance": edit_conditioner_guidance,
            "edit_covariate_shift": edit_covariate_shift,
            "edit_settings_per_change": None
            if edit_settings is None
            else {k: v.to_dict() for k, v in edit_settings.items()},
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


__all__ = ["EDITS", "PARTS", "evaluate_editor", "format_editor_report", "shifted_view", "source_views"]
