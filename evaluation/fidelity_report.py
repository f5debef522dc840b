"""The fidelity report: what a folder of generated, edited or anonymized clips is worth, judged
against a folder of real ones. `build_fidelity_report` computes it as a typed
`evaluation.report.document.FidelityReport`; `fidelity_report` gives that object's JSON-ready dict,
which `evaluation.html_report.write_report` writes as JSON and renders the HTML page from. This
module runs the steps below; each lives in a module of `evaluation.report` (listed there).

Both folders are in the OpenGait layout (`<subject>/<condition>/<view>/*.pkl`). Every clip is
read, brought to the 64×44 model crop (`GaitSequence.model_input`'s rule: other frame sizes are
resized, and counted), capped to a centred window of `max_frames` frames and embedded by the
JUDGE in batches (shared between processes when several run the report: each embeds a block of
whole batches, the main one computes the report; `evaluation.report.clips`). Then, with the
definitions of `evaluation/README.md`:

- identity: judge rank-1 of the generated clips against the real gallery (nm-01…04, CASIA-B
  cross-view, identical views excluded) as the subject each clip claims — its own subject name,
  or its source's when the generated folder's `manifest.json` names one (for anonymized clips,
  `anon-S` claims S) — beside the judge's rank-1 on the real probes of the same subjects; TAR at
  the judge's calibrated FAR against the claimed subject's gallery; cosine similarity to the
  source clip when one is named. For anonymized clips the same numbers are the leakage, with
  chance printed beside them.
- leakage by attacker (anonymized clips only; `evaluation.attackers`): each anonymized clip whose
  source is in the real folder (and not a gallery clip) against the real gallery, by the judge,
  the GEI template matcher (same view, cross view) and the recognizers the anonymizer never
  consulted (default: the bundled GEINet attacker), each at its own FAR-1% threshold set on real
  pairs; beside it, the same for the unmodified source clips (the ceiling) and chance.
- naturalness: Fréchet distance of judge features (generated vs real, beside two real halves of
  the same size) and silhouette statistics (foreground, height, width, flicker);
- covariate fidelity: the covariate classifier's accuracy on the view / clothing / carrying the
  clips' names request, beside its accuracy on real clips;
- diversity: the within-identity spread of generated clips beside real ones;
- perceptual: SSIM / IoU against the source clip (frame by frame) when pairable, LPIPS when it
  can run without downloading anything (it cannot here: reported unavailable, with the reason).

A manifest entry names its source by any of: `"source": {"subject", "condition", "view"}`,
`"source": "<path>/<subject>/<condition>/<view>/<file>.pkl"` (or the sequence folder), or
`"source_subject"`, `"source_condition"`, `"source_view"` (the `"sequences"` rows that
`studio edit / anonymize / augment` write name it as the source's sequence folder, relative to
the input dataset); the entry itself is named by `"subject"`, `"condition"`, `"view"` or by its
`"path"`. Rows with `"action": "copy"` (real clips an augmented dataset carries along) are left out.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np

from evaluation.attackers import bundled_attackers
from evaluation.protocols import CASIA_B_GALLERY
from evaluation.report.clips import BATCH_CLIPS, Progress, read_and_embed_shared, scan_folder, select_real_subjects
from evaluation.report.document import (
    CalibrationInfo,
    DataSection,
    FidelityReport,
    FolderSummary,
    JudgeInfo,
    Timing,
)
from evaluation.report.identity import GalleryDistances, histograms, identity_section, similarity_to_source
from evaluation.report.leakage import attackers_section, leakage_section
from evaluation.report.manifest import MANIFEST_NAME, read_manifest, source_of
from evaluation.report.pairing import perceptual_section, sample_pairs
from evaluation.report.reference import covariate_section, diversity_section, naturalness_section, real_reference
from evaluation.report.text import format_headline, format_value, headline
from evaluation.report.values import calibrated_far, condition_group
from gaitdata.errors import GaitDataError
from recognizers.calibration import calibrate

__all__ = [  # what other modules import from here (the text helpers live in evaluation.report.text)
    "KINDS",
    "FidelityReport",
    "build_fidelity_report",
    "fidelity_report",
    "format_headline",
    "format_value",
    "headline",
]

logger = logging.getLogger(__name__)

KINDS = ("generated", "edited", "anonymized")
CALIBRATION_CLIPS = 1500  # clips used when the calibration has to be computed from the real folder


def _resolve_models(judge, covariate_classifier, calibration):
    import recognizers

    if judge is None:
        try:
            judge = recognizers.load_judge()
        except FileNotFoundError as err:
            raise FileNotFoundError(f"no judge given and the bundled one is not installed: {err}") from None
    if covariate_classifier is None:
        try:
            covariate_classifier = recognizers.load_covariate_classifier()
        except FileNotFoundError as err:
            logger.warning("covariate fidelity skipped: %s", err)
    source = "given"
    if calibration is None:
        folder = judge.config.get("_name_or_path")
        calibration = recognizers.load_calibration(folder) if folder and Path(folder).is_dir() else None
        source = f"{folder}/calibration.json"
    return judge, covariate_classifier, calibration, source


def build_fidelity_report(
    real_root: str | Path,
    generated_root: str | Path,
    kind: str = "generated",
    judge=None,
    covariate_classifier=None,
    calibration: dict | None = None,
    max_clips: int | None = None,
    progress: Progress | None = None,
    *,
    max_frames: int | None = 30,
    gallery_subjects: int = 50,
    bf16: bool = True,
    samples: int = 6,
    seed: int = 0,
    attackers: dict | None = None,
    batch_clips: int = BATCH_CLIPS,
    shard=None,
    exchange: str | Path | None = None,
) -> FidelityReport | None:
    """Judge a folder of generated / edited / anonymized clips against a folder of real ones.

    Args:
        real_root: real clips, OpenGait layout with CASIA-B condition names (gallery nm-01…04).
        generated_root: the clips to judge, OpenGait layout; its `manifest.json` may name each
            clip's source (see the module doc).
        kind: "generated", "edited" or "anonymized" (anonymized: identity numbers are leakage).
        judge: a recognizer with `embed` (default: the bundled judge — never the conditioner).
        covariate_classifier: reads view / clothing / carrying off judge embeddings (default:
            the bundled one; skipped, saying so, when there is none).
        calibration: the judge's verification calibration `{"metric", "threshold", "far"}`
            (default: the judge folder's `calibration.json`; else computed from the real clips).
        max_clips: judge at most this many generated clips (a seeded random subset).
        progress: called as `progress(stage, done, total)` while reading and embedding.
        max_frames: frames per clip embedded and measured (a centred window; None = all).
        gallery_subjects: real subjects read — every subject in common, topped up with others
            to this many (the gallery that rank-1 and chance refer to).
        bf16: judge under bfloat16 autocast.
        samples: generated clips shown as animated strips beside a real partner.
        seed: subsets and splits follow from it.
        attackers: anonymized clips only: name → recognizer the anonymizer never consulted, at its
            own `calibration.json` (else one computed on the real clips); default: the bundled
            GEINet attacker when installed. The GEI template matcher and the judge always attack.
        batch_clips: clips read and embedded together (a clip's embedding may depend on its batch
            by float rounding alone); the unit that processes share.
        shard: this process's place when several share the work (`studio.jobs.sharding.Shard`,
            or anything with its `index`, `count`, `is_main`, `take`, `wait`); None: one process.
            Every process chooses the same clips (the seeded subsets first), reads and embeds
            its share of both folders (`evaluation.report.clips.read_and_embed_shared`), and the
            main one computes the report from all of them, as one process would.
        exchange: the folder the processes' shares meet in (needed with several processes).

    Returns:
        The report; its `to_dict()` is what `fidelity_report` returns. None in the processes of a
        shared run other than the main one.

    Raises:
        GaitDataError: a folder is missing, empty, or holds no readable clip.
        ValueError: an unknown `kind`.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    started = time.perf_counter()
    real_root, generated_root = Path(real_root), Path(generated_root)
    rng = np.random.default_rng(seed)

    # 1. what to read: the generated clips (at most max_clips), the sources they name, and of the
    #    real folder the gallery (every view: matching is cross-view), the generated condition
    #    types and the named sources, for every subject in common (topped up to gallery_subjects)
    gen_entries = scan_folder(generated_root, "generated")
    real_entries = scan_folder(real_root, "real")
    manifest = read_manifest(generated_root)
    gen_entries = [e for e in gen_entries if e.key not in manifest.copies]
    if not gen_entries:
        raise GaitDataError(generated_root, "every clip is an unmodified real copy (manifest.json): nothing to judge")
    found = len(gen_entries)
    if max_clips is not None and len(gen_entries) > max_clips:
        gen_entries = [gen_entries[i] for i in sorted(rng.choice(len(gen_entries), size=max_clips, replace=False))]
    manifest_sources = manifest.sources
    named = [source_of(e.key, manifest_sources, kind)[0] for e in gen_entries]
    claims = {(src[0] if src else e.subject) for e, src in zip(gen_entries, named)}
    all_real = sorted({e.subject for e in real_entries})
    chosen, selection = select_real_subjects(all_real, sorted(claims & set(all_real)), gallery_subjects, rng)
    gen_types = {condition_group(e.condition) for e in gen_entries}
    source_keys = {src for src in named if src}
    real_entries = [
        e
        for e in real_entries
        if e.subject in set(chosen)
        and (e.condition in CASIA_B_GALLERY or condition_group(e.condition) in gen_types or e.key in source_keys)
    ]

    # 2. read, pretreat and embed both folders with the judge, in batches
    judge, covariate_classifier, calibration, calibration_source = _resolve_models(
        judge, covariate_classifier, calibration
    )
    if kind == "anonymized" and attackers is None:
        attackers = bundled_attackers()
    attackers = attackers if kind == "anonymized" else None  # GEIs and attacker embeddings: leakage only
    t0 = time.perf_counter()
    folders = [(real_entries, real_root, "real"), (gen_entries, generated_root, kind)]
    read = read_and_embed_shared(
        folders, judge, max_frames, bf16, batch_clips, progress, attackers, shard=shard, exchange=exchange
    )
    if read is None:
        return None  # another process of a shared run: the main one computes the report
    (real, gen), shares = read
    embedding_seconds = time.perf_counter() - t0
    for clips, root, role in ((real, real_root, "real"), (gen, generated_root, kind)):
        if not len(clips):
            raise GaitDataError(root, f"none of the {role} folder's {len(clips.skipped)} sequences could be read")
    if calibration is None:
        rows = rng.choice(len(real), size=min(len(real), CALIBRATION_CLIPS), replace=False)
        calibration = calibrate(real.embeddings[rows], real.subjects[rows], metric="euc", far=0.01)
        calibration_source = f"computed here from {len(rows)} real clips (all pairs): the judge ships none"
    metric = calibration.get("metric", "euc")

    # 3. identity: which subject each clip claims, retrieval and verification against the gallery
    sources = [source_of(key, manifest_sources, kind) for key in gen.keys]
    claimed = np.asarray([src[0] if src else key[0] for key, (src, _) in zip(gen.keys, sources)], dtype=str)
    common = sorted(set(claimed.tolist()) & set(real.subjects.tolist()))
    distances = GalleryDistances.measure(real, gen, metric, rng)
    real_index = {k: i for i, k in enumerate(real.keys)}
    paired = [(i, real_index[src]) for i, (src, _) in enumerate(sources) if src is not None and src in real_index]
    named_count = sum(src is not None for src, _ in sources)
    similarity = similarity_to_source(real, gen, paired, named_count, str(generated_root / MANIFEST_NAME))
    identity = identity_section(real, gen, claimed, metric, calibration, distances, similarity)

    # 4. naturalness, covariates and diversity, against the real clips of the same types and views;
    #    the sections are computed in the report's order (naturalness draws from rng)
    reference, reference_text = real_reference(real, gen)
    in_common = np.isin(real.subjects, common) if common else np.ones(len(real), bool)
    anonymized = kind == "anonymized"
    judge_calibration = {**calibration, "source": calibration_source}
    clips_embedded = len(real) + len(gen)
    return FidelityReport(
        kind=kind,
        real_root=str(real_root),
        generated_root=str(generated_root),
        created=time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        judge=JudgeInfo(
            class_name=type(judge).__name__,
            weights=judge.config.get("_name_or_path") or "given in memory",
            max_frames=max_frames,
            bf16=bf16,
        ),
        calibration=CalibrationInfo(metric, calibration["threshold"], calibrated_far(calibration), calibration_source),
        data=DataSection(
            real=FolderSummary.of(real, selection),
            generated=FolderSummary.of(gen),
            found=found,
            max_clips=max_clips,
            real_copies_left_out=len(manifest.copies),
            subjects_in_common=len(common),
            sources_named=named_count,
            sources_in_real_folder=len(paired),
        ),
        identity=identity,
        leakage=leakage_section(identity, calibration) if anonymized else None,
        attackers=attackers_section(real, gen, sources, judge_calibration, attackers) if anonymized else None,
        naturalness=naturalness_section(real, gen, reference, reference_text, max_frames, rng, seed),
        covariates=covariate_section(covariate_classifier, gen, real, reference),
        diversity=diversity_section(gen, real, reference & in_common, metric),
        # 5. perceptual distance to the source, frame by frame
        perceptual=perceptual_section(real, gen, paired, [how for _, how in sources], kind, identity),
        histograms=histograms(real, claimed, distances, metric, calibration, kind),
        samples=sample_pairs(real, gen, claimed, [src for src, _ in sources], samples, kind),
        timing=Timing(
            clips_embedded=clips_embedded,
            embedding_seconds=embedding_seconds,
            clips_per_second=clips_embedded / max(embedding_seconds, 1e-9),
            seconds=time.perf_counter() - started,
            processes=len(shares),
            shares=shares,
        ),
    )


def fidelity_report(*args, **options) -> dict | None:
    """`build_fidelity_report` (the same arguments) as its JSON-ready dict: what
    `evaluation.html_report.write_report` writes and renders, the app shows and the CLI prints
    (None, as there, in the processes of a shared run other than the main one)."""
    report = build_fidelity_report(*args, **options)
    return None if report is None else report.to_dict()
