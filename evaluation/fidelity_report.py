"""The fidelity report: what a folder of generated, edited or anonymized clips is worth, judged
against a folder of real ones. `fidelity_report` computes one JSON-ready dict;
`evaluation.html_report.write_report` writes it as JSON and renders the HTML page from it.

Both folders are in the OpenGait layout (`<subject>/<condition>/<view>/*.pkl`). Every clip is
read, brought to the 64×44 model crop (`GaitSequence.model_input`'s rule: other frame sizes are
resized, and counted), capped to a centred window of `max_frames` frames and embedded by the
JUDGE in batches. Then, with definitions from DESIGN.md "Evaluation: definitions":

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

import json
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePath

import numpy as np
import torch

from evaluation.attackers import (
    bundled_attackers,
    calibrate_recognizer_on_real,
    gait_energy_image,
    gei_leakage,
    own_calibration,
    recognizer_leakage,
)
from evaluation.covariates import covariate_accuracy
from evaluation.diversity import diversity_report
from evaluation.fidelity import clip_statistics, frechet_report, statistics_summary
from evaluation.perceptual import perceptual_report
from evaluation.protocols import CASIA_B_GALLERY, CASIA_B_PROBES, CasiaBProtocol
from recognizers.calibration import calibrate
from recognizers.distance import pairwise_distance
from recognizers.embedding import cap_frames
from studio.data.errors import GaitDataError
from studio.data.opengait import SequenceEntry, read_pkl_sequence, scan_opengait
from studio.data.readers import read_sequence
from studio.data.sequence import CANONICAL_HEIGHT, CANONICAL_WIDTH, crop_to_model_input

logger = logging.getLogger(__name__)

KINDS = ("generated", "edited", "anonymized")
MANIFEST_NAME = "manifest.json"
ANONYMIZED_PREFIX = "anon-"  # the anonymizer names its results `anon-<source subject>`
HISTOGRAM_BINS = 60
SOURCE_RELATION = "its source clip"
CALIBRATION_CLIPS = 1500  # clips used when the calibration has to be computed from the real folder
MAX_REAL_PROBES = 4000  # real non-gallery clips measured against the gallery at most (bounds the cost)

Progress = Callable[[str, int, int], None]
Key = tuple[str, str, str]


# ---- reading and embedding -------------------------------------------------------------------
@dataclass
class EmbeddedClips:
    """The readable clips of one folder, embedded by the judge.

    Attributes:
        root: the folder.
        keys: (subject, condition, view) of each clip, `N` of them.
        paths: the pkl each clip was read from.
        embeddings: judge embeddings `float32 [N, c, p]`.
        stats: per clip, `evaluation.fidelity.clip_statistics` of the embedded window.
        geis: gait energy images of the embedded windows `float32 [N, 2816]` (when asked for).
        attacker_embeddings: attacker name → its embeddings `float32 [N, c', p']` (when asked for).
        frame_sizes: "HxW" of the stored frames → clips (anything but 64x64 / 64x44 was resized).
        skipped: `{"path", "problem"}` of each unreadable clip.
    """

    root: Path
    keys: list[Key] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    embeddings: np.ndarray = field(default_factory=lambda: np.zeros((0,), np.float32))
    stats: list[dict] = field(default_factory=list)
    geis: np.ndarray | None = None
    attacker_embeddings: dict[str, np.ndarray] = field(default_factory=dict)
    frame_sizes: Counter = field(default_factory=Counter)
    skipped: list[dict] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.keys)

    def column(self, i: int) -> np.ndarray:
        return np.asarray([k[i] for k in self.keys], dtype=str)

    @property
    def subjects(self) -> np.ndarray:
        return self.column(0)

    @property
    def conditions(self) -> np.ndarray:
        return self.column(1)

    @property
    def views(self) -> np.ndarray:
        return self.column(2)

    def resized(self) -> int:
        return sum(n for size, n in self.frame_sizes.items() if size not in ("64x64", "64x44"))


def scan_folder(root: str | Path, role: str) -> list[SequenceEntry]:
    """The sequence folders under `root`; an empty or non-OpenGait folder is an error naming it."""
    entries = [e for e in scan_opengait(root) if e.files]
    if not entries:
        raise GaitDataError(
            root, f"the {role} folder holds no sequences (<subject>/<condition>/<view>/*.pkl): empty or not OpenGait"
        )
    return entries


def read_and_embed(
    entries: list[SequenceEntry],
    root: Path,
    judge,
    max_frames: int | None,
    bf16: bool,
    batch_clips: int = 256,
    progress: Progress | None = None,
    stage: str = "",
    attackers: dict | None = None,
) -> EmbeddedClips:
    """Read, crop to 64×44, cap and embed `entries` in batches; unreadable clips are skipped and counted.

    With `attackers` (name → recognizer), each also embeds every clip, and the clips' GEIs are kept.
    Frames are not kept: memory stays bounded by one batch whatever the folder's size.
    """
    out = EmbeddedClips(Path(root))
    chunks, geis, attacker_chunks = [], [], {name: [] for name in attackers or {}}
    for start in range(0, len(entries), batch_clips):
        frames = []
        for entry in entries[start : start + batch_clips]:
            try:
                seq = read_pkl_sequence(entry)
            except GaitDataError as err:
                out.skipped.append({"path": err.path or str(entry.folder), "problem": err.problem})
                continue
            out.frame_sizes[f"{seq.frames.shape[1]}x{seq.frames.shape[2]}"] += 1
            clip = cap_frames(crop_to_model_input(seq.frames), max_frames)  # uint8 [T, 64, 44]
            frames.append(clip)
            out.keys.append(entry.key)
            out.paths.append(seq.source)
            out.stats.append(clip_statistics(clip))
            if attackers is not None:
                geis.append(gait_energy_image(clip))
        if frames:
            with torch.inference_mode():
                chunks.append(judge.embed(frames, max_frames=None, bf16=bf16))
                for name, model in (attackers or {}).items():
                    attacker_chunks[name].append(model.embed(frames, max_frames=None, bf16=bf16))
        if progress:
            progress(stage, min(start + batch_clips, len(entries)), len(entries))
    if chunks:
        out.embeddings = np.concatenate(chunks).astype(np.float32)
        out.attacker_embeddings = {k: np.concatenate(v).astype(np.float32) for k, v in attacker_chunks.items()}
    if attackers is not None:
        out.geis = np.stack(geis) if geis else np.zeros((0, 64 * 44), np.float32)
    return out


def _model_clip(path: str) -> np.ndarray:
    """A clip re-read whole from its pkl, as `uint8 [T, 64, 44]`."""
    return crop_to_model_input(read_sequence(path).frames)


# ---- which real clip each generated clip came from ------------------------------------------
def _key_from_path(text: str) -> Key | None:
    path = PurePath(str(text))
    parts = path.parts[-4:-1] if path.suffix == ".pkl" else path.parts[-3:]
    return tuple(parts) if len(parts) == 3 else None


def _entry_key(entry: dict) -> Key | None:
    if all(entry.get(k) for k in ("subject", "condition", "view")):
        return (str(entry["subject"]), str(entry["condition"]), str(entry["view"]))
    return _key_from_path(entry["path"]) if entry.get("path") else None


def _source_key(entry: dict) -> Key | None:
    source = entry.get("source", entry.get("source_path"))
    if isinstance(source, dict) and all(source.get(k) for k in ("subject", "condition", "view")):
        return (str(source["subject"]), str(source["condition"]), str(source["view"]))
    if isinstance(source, str) and source:
        return _key_from_path(source)
    if all(entry.get(f"source_{k}") for k in ("subject", "condition", "view")):
        return (str(entry["source_subject"]), str(entry["source_condition"]), str(entry["source_view"]))
    return None


@dataclass
class GeneratedManifest:
    """What the generated folder's `manifest.json` says about its clips.

    Attributes:
        sources: (subject, condition, view) of a clip → its source clip's.
        copies: clips the manifest marks as unmodified real copies (`"action": "copy"`, as an
            augmented dataset holds): they are left out of the report.
    """

    sources: dict[Key, Key] = field(default_factory=dict)
    copies: set[Key] = field(default_factory=set)


def read_manifest(generated_root: str | Path) -> GeneratedManifest:
    """Read `<generated_root>/manifest.json` if there is one (its `"sequences"` rows; see the module doc)."""
    path = Path(generated_root) / MANIFEST_NAME
    out = GeneratedManifest()
    if not path.is_file():
        return out
    try:
        manifest = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise GaitDataError(path, f"not valid JSON: {err}") from None
    entries = manifest.get("sequences", manifest.get("clips", [])) if isinstance(manifest, dict) else []
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict) or not (key := _entry_key(entry)):
            continue
        if entry.get("action") == "copy":
            out.copies.add(key)
        elif source := _source_key(entry):
            out.sources[key] = source
    return out


def _source_of(key: Key, sources: dict[Key, Key], kind: str) -> tuple[Key | None, str]:
    """The source clip a generated clip claims, and how that is known ("manifest", "name" or "")."""
    if key in sources:
        return sources[key], "manifest"
    subject, condition, view = key
    if kind == "anonymized" and subject.startswith(ANONYMIZED_PREFIX):
        # the anonymizer keeps condition and view, and names the subject anon-<source>
        return (subject[len(ANONYMIZED_PREFIX) :], condition, view), "name"
    return None, ""


# ---- helpers ----------------------------------------------------------------------------------
def _unit(embeddings: np.ndarray) -> np.ndarray:
    x = np.asarray(embeddings, np.float64).reshape(len(embeddings), -1)
    return x / np.linalg.norm(x, axis=1, keepdims=True).clip(min=1e-12)


def condition_group(condition: str) -> str:
    """`"cl-01"` → `"CL"`: the probe set a condition belongs to (its type)."""
    return str(condition).split("-")[0].upper()


def _percent(fraction: float | None) -> float | None:
    return None if fraction is None else 100 * fraction


def _calibrated_far(calibration: dict) -> float | None:
    """The FAR the threshold was set for (`target_far`), else the one it achieved (`far`)."""
    return calibration.get("target_far", calibration.get("far"))


def _summary(values) -> dict:
    values = np.asarray(values, np.float64)
    if not len(values):
        return {"mean": None, "median": None, "count": 0}
    return {"mean": float(values.mean()), "median": float(np.median(values)), "count": int(len(values))}


def _json_ready(value):
    """numpy → Python, NaN / inf → None, floats to 6 significant digits: what JSON (and the page) holds."""
    if isinstance(value, dict):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_ready(v) for v in value]
    if isinstance(value, np.ndarray):
        return [_json_ready(v) for v in value.tolist()]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(f"{float(value):.6g}") if np.isfinite(value) else None
    if isinstance(value, PurePath):
        return str(value)
    return value


def _select_real_subjects(all_subjects: list[str], common: list[str], size: int, rng) -> tuple[list[str], str]:
    """The real subjects to read: every subject in common, topped up with others to `size`."""
    others = [s for s in all_subjects if s not in set(common)]
    extra = max(0, size - len(common))
    picked = sorted(rng.choice(others, size=min(extra, len(others)), replace=False).tolist()) if extra else []
    chosen = sorted(set(common) | set(picked))
    if common and picked:
        text = f"the {len(common)} subjects in common with the generated clips, plus {len(picked)} others"
    elif common:
        text = f"the {len(common)} subjects in common with the generated clips"
    else:
        text = f"{len(chosen)} real subjects at random (none in common with the generated clips)"
    return chosen, text + f" (of {len(all_subjects)} in the real folder)"


# ---- the sections -----------------------------------------------------------------------------
@dataclass
class GalleryDistances:
    """Judge distances (the calibration's metric) of clips to every real gallery clip, computed once.

    Attributes:
        gallery: bool `[N_real]`, the real clips forming the gallery (nm-01…04; every real clip when none).
        gallery_subjects: `[G]` subject of each gallery clip.
        real_rows: indices of the real non-gallery clips measured (at most `MAX_REAL_PROBES`).
        real: `float32 [len(real_rows), G]`.
        generated: `float32 [N_gen, G]`, every generated clip.
    """

    gallery: np.ndarray
    gallery_subjects: np.ndarray
    real_rows: np.ndarray
    real: np.ndarray
    generated: np.ndarray

    @classmethod
    def measure(cls, real: EmbeddedClips, gen: EmbeddedClips, metric: str, rng) -> GalleryDistances:
        gallery = np.isin(real.conditions, CASIA_B_GALLERY)
        if not gallery.any():
            gallery = np.ones(len(real), bool)  # no gallery: every real clip stands in (histograms only)
        rows = np.flatnonzero(~gallery)
        if len(rows) > MAX_REAL_PROBES:
            rows = np.sort(rng.choice(rows, size=MAX_REAL_PROBES, replace=False))
        g_emb = real.embeddings[gallery]
        return cls(
            gallery,
            real.subjects[gallery],
            rows,
            pairwise_distance(real.embeddings[rows], g_emb, metric),
            pairwise_distance(gen.embeddings, g_emb, metric),
        )


def _mean_row(per_condition: dict) -> dict:
    """The mean over condition types (over those with a real rank-1 too, so the ratio compares like with like)."""
    rows = [r for r in per_condition.values() if r["generated_rank1"] is not None and np.isfinite(r["generated_rank1"])]
    paired = [r for r in rows if r["real_rank1"] is not None and np.isfinite(r["real_rank1"])]
    used = paired or rows
    gen = float(np.mean([r["generated_rank1"] for r in used])) if used else None
    ref = float(np.mean([r["real_rank1"] for r in paired])) if paired else None
    return {
        "generated_rank1": gen,
        "real_rank1": ref,
        "ratio": gen / ref if gen is not None and ref else None,
        "types": [g for g, r in per_condition.items() if r in used],
        "generated_probes": int(sum(r["generated_probes"] for r in used)),
        "real_probes": int(sum(r["real_probes"] for r in paired)),
    }


def _identity_section(
    real: EmbeddedClips, gen: EmbeddedClips, claimed: np.ndarray, metric: str, cal: dict, dist: GalleryDistances
) -> dict:
    """Retrieval and verification of generated clips as the subject they claim (see the module doc)."""
    r_subject, r_condition = real.subjects, real.conditions
    gallery = np.isin(r_condition, CASIA_B_GALLERY)
    gallery_subjects = sorted(set(r_subject[gallery].tolist()))
    common = sorted(set(claimed.tolist()) & set(gallery_subjects))
    base = {"gallery_subjects": len(gallery_subjects), "gallery_clips": int(gallery.sum())}
    if not gallery.any():
        reason = f"the real folder has no gallery clips ({', '.join(CASIA_B_GALLERY)}): nothing to retrieve from"
        return {"defined": False, "reason": reason, **base}
    if not common:
        return {
            "defined": False,
            "reason": (
                "no generated clip claims a subject of the real gallery (no subject in common, and no source in "
                "common named by a manifest): identity preservation is undefined; for novel people see the "
                "acceptance against real subjects below"
            ),
            **base,
        }
    probe = np.isin(claimed, common)
    gen_groups = np.asarray([condition_group(c) for c in gen.conditions])
    groups = sorted(set(gen_groups[probe].tolist()))
    # generated clips get condition labels of their own, so they never mix with real ones
    gen_labels = np.asarray([f"gen:{g}" for g in gen_groups])
    both = np.concatenate([real.embeddings[gallery], gen.embeddings[probe]])
    both_labels = {
        "subject": np.concatenate([r_subject[gallery], claimed[probe]]),
        "condition": np.concatenate([r_condition[gallery], gen_labels[probe]]),
        "view": np.concatenate([real.views[gallery], gen.views[probe]]),
    }
    protocol = CasiaBProtocol(probe_conditions={g: (f"gen:{g}",) for g in groups}, metric=metric)
    gen_result = protocol.evaluate(both, both_labels)
    # the judge on real probes of the same subjects and condition types: the ceiling
    real_groups = {g: CASIA_B_PROBES[g] for g in groups if g in CASIA_B_PROBES}
    real_probe = np.isin(r_subject, common) & np.isin(r_condition, [c for cs in real_groups.values() for c in cs])
    real_result = None
    if real_probe.any():
        rows = gallery | real_probe
        labels = {"subject": r_subject[rows], "condition": r_condition[rows], "view": real.views[rows]}
        protocol = CasiaBProtocol(probe_conditions=real_groups, metric=metric)
        real_result = protocol.evaluate(real.embeddings[rows], labels)
    per_condition, per_view = {}, {}
    gen_dict = gen_result.to_dict()
    real_dict = real_result.to_dict() if real_result else {"per_view": {}}
    for g in groups:
        gen_r1 = gen_result.mean[g]
        real_r1 = real_result.mean.get(g) if real_result else None
        per_condition[g] = {
            "generated_rank1": gen_r1,
            "real_rank1": real_r1,
            "ratio": gen_r1 / real_r1 if real_r1 and np.isfinite(gen_r1) and np.isfinite(real_r1) else None,
            "generated_probes": int((probe & (gen_groups == g)).sum()),
            "real_probes": int((real_probe & np.isin(r_condition, CASIA_B_PROBES.get(g, ()))).sum()),
        }
        per_view[g] = {
            "views": gen_dict["views"],
            "generated": [gen_dict["per_view"][g].get(v) for v in gen_dict["views"]],
            "real": [real_dict["per_view"].get(g, {}).get(v) for v in gen_dict["views"]],
        }

    # verification at the judge's threshold: every (clip, gallery clip of the claimed subject) pair
    threshold = cal["threshold"]
    d_gen = dist.generated[probe]
    same_gen = claimed[probe][:, None] == dist.gallery_subjects[None, :]
    scored_real = real_probe[dist.real_rows]  # the measured real rows that are probes of these subjects and types
    d_real = dist.real[scored_real]
    same_real = r_subject[dist.real_rows[scored_real]][:, None] == dist.gallery_subjects[None, :]
    verification = {
        "threshold": threshold,
        "metric": metric,
        "far_percent": _percent(_calibrated_far(cal)),
        "generated_tar_percent": 100 * float((d_gen[same_gen] <= threshold).mean()),
        "generated_pairs": int(same_gen.sum()),
        "real_tar_percent": 100 * float((d_real[same_real] <= threshold).mean()) if same_real.any() else None,
        "real_far_measured_percent": (
            100 * float((d_real[~same_real] <= threshold).mean()) if (~same_real).any() else None
        ),
        "real_pairs": int(same_real.sum()),
    }
    return {
        "defined": True,
        **base,
        "subjects_in_common": len(common),
        "clips_scored": int(probe.sum()),
        "clips_not_in_gallery": int((~probe).sum()),
        "chance_rank1": 100.0 / len(gallery_subjects),
        "mean": _mean_row(per_condition),
        "per_condition": per_condition,
        "per_view": per_view,
        "verification": verification,
        "real_note": None if real_result else "the real folder has no probe clips of these subjects and types",
    }


def _histograms(
    real: EmbeddedClips, claimed: np.ndarray, dist: GalleryDistances, metric: str, cal: dict, kind: str
) -> dict:
    """Distance histograms (the calibration's metric) of clip-to-gallery pairs: real same / other subject,
    generated against the subject it claims / against others."""
    real_same = real.subjects[dist.real_rows][:, None] == dist.gallery_subjects[None, :]
    gen_same = claimed[:, None] == dist.gallery_subjects[None, :]
    groups = {
        "real, same subject": dist.real[real_same],
        "real, other subjects": dist.real[~real_same],
        f"{kind}, claimed subject": dist.generated[gen_same],
        f"{kind}, other subjects": dist.generated[~gen_same],
    }
    groups = {name: values for name, values in groups.items() if len(values)}
    top = max([float(np.quantile(v, 0.999)) for v in groups.values()] + [cal["threshold"] * 1.2])
    edges = np.linspace(0.0, top, HISTOGRAM_BINS + 1)
    return {
        "metric": metric,
        "threshold": cal["threshold"],
        "edges": edges,
        "counts": {name: np.histogram(np.clip(v, 0, top), edges)[0] for name, v in groups.items()},
        "accepted_percent": {name: 100 * float((v <= cal["threshold"]).mean()) for name, v in groups.items()},
    }


def _real_reference(real: EmbeddedClips, gen: EmbeddedClips) -> tuple[np.ndarray, str]:
    """bool `[N_real]`: the real clips to compare the generated ones with — those of the same condition
    types and views (a coat changes a silhouette more than a generator might); every real clip when
    fewer than 4 match."""
    types = {condition_group(c) for c in gen.conditions}
    views = set(gen.views.tolist())
    keep = np.isin([condition_group(c) for c in real.conditions], list(types)) & np.isin(real.views, list(views))
    if keep.sum() >= 4:
        return keep, "the real clips of the generated clips' condition types and views"
    return np.ones(len(real), bool), "every real clip read (fewer than 4 share the generated clips' types and views)"


def _covariate_section(classifier, gen: EmbeddedClips, real: EmbeddedClips, reference: np.ndarray) -> dict:
    if classifier is None:
        return {"available": False, "reason": "no covariate classifier given and none bundled"}
    cfg = classifier.config
    shape = tuple(gen.embeddings.shape[1:])
    if shape != (cfg.in_channels, cfg.parts_num):
        return {
            "available": False,
            "reason": f"the classifier reads embeddings of {(cfg.in_channels, cfg.parts_num)}, the judge gives {shape}",
        }
    generated = covariate_accuracy(classifier.predict(gen.embeddings), gen.conditions, gen.views, cfg)
    real_accuracy = covariate_accuracy(
        classifier.predict(real.embeddings[reference]), real.conditions[reference], real.views[reference], cfg
    )
    return {
        "available": True,
        "requested": "each clip's condition name (clothing, carrying) and view name",
        "generated": generated,
        "real": real_accuracy,
    }


def _diversity_section(gen: EmbeddedClips, real: EmbeddedClips, keep: np.ndarray, metric: str) -> dict:
    compared = (
        f"{int(keep.sum())} real clips of {len(set(real.subjects[keep].tolist()))} subjects (those in common "
        "when there are any), in the generated clips' condition types and views"
    )
    return diversity_report(gen.embeddings, gen.subjects, real.embeddings[keep], real.subjects[keep], metric, compared)


def _closest_real(real_keys: list[Key], subject: str, view: str, group: str) -> tuple[int, str]:
    """The real clip most like a generated one (subject first, then view, then condition type), and how."""
    scores = [4 * (s == subject) + 2 * (v == view) + (condition_group(c) == group) for s, c, v in real_keys]
    best = int(np.argmax(scores))
    s, c, v = real_keys[best]
    relation = ", ".join(
        [
            "same subject" if s == subject else "another subject (none of this one is real)",
            "same view" if v == view else "another view",
            "same condition type" if condition_group(c) == group else "another condition type",
        ]
    )
    return best, relation


def _samples(real: EmbeddedClips, gen: EmbeddedClips, claimed, sources, count: int, kind: str) -> list[dict]:
    """Up to `count` generated clips (spread over condition types and views), each with a real partner."""
    if not count or not len(gen):
        return []
    order = sorted(range(len(gen)), key=lambda i: (condition_group(gen.keys[i][1]), gen.keys[i][2], gen.keys[i]))
    picks = [order[int(i)] for i in np.unique(np.linspace(0, len(order) - 1, min(count, len(order))).round())]
    real_index = {k: i for i, k in enumerate(real.keys)}
    out = []
    for i in picks:
        subject, condition, view = gen.keys[i]
        source = sources[i]
        # an edit or anonymization follows its source frame by frame; a generated clip's source is
        # an identity reference at other covariates, so a real clip like it says more
        if kind != "generated" and source is not None and source in real_index:
            partner, relation = real_index[source], SOURCE_RELATION
        else:
            partner, relation = _closest_real(real.keys, claimed[i], view, condition_group(condition))
        r = real.keys[partner]
        out.append(
            {
                "real": {"path": real.paths[partner], "label": f"real {r[0]} {r[1]} {r[2]}"},
                "generated": {"path": gen.paths[i], "label": f"{kind} {subject} {condition} {view}"},
                "relation": relation,
                "is_source": relation == SOURCE_RELATION,
            }
        )
    return out


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


def fidelity_report(
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
) -> dict:
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

    Returns:
        A JSON-ready dict (see `evaluation.html_report.write_report`).

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
    named = [_source_of(e.key, manifest_sources, kind)[0] for e in gen_entries]
    claims = {(src[0] if src else e.subject) for e, src in zip(gen_entries, named)}
    all_real = sorted({e.subject for e in real_entries})
    chosen, selection = _select_real_subjects(all_real, sorted(claims & set(all_real)), gallery_subjects, rng)
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
    read = dict(progress=progress, attackers=attackers)
    real = read_and_embed(real_entries, real_root, judge, max_frames, bf16, stage="real", **read)
    gen = read_and_embed(gen_entries, generated_root, judge, max_frames, bf16, stage=kind, **read)
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
    sources = [_source_of(key, manifest_sources, kind) for key in gen.keys]
    claimed = np.asarray([src[0] if src else key[0] for key, (src, _) in zip(gen.keys, sources)], dtype=str)
    common = sorted(set(claimed.tolist()) & set(real.subjects.tolist()))
    distances = GalleryDistances.measure(real, gen, metric, rng)
    identity = _identity_section(real, gen, claimed, metric, calibration, distances)
    real_index = {k: i for i, k in enumerate(real.keys)}
    paired = [(i, real_index[src]) for i, (src, _) in enumerate(sources) if src is not None and src in real_index]
    named_count = sum(src is not None for src, _ in sources)
    identity["similarity_to_source"] = _similarity_to_source(real, gen, paired, named_count, generated_root)

    # 4. naturalness, covariates and diversity, against the real clips of the same types and views
    reference, reference_text = _real_reference(real, gen)
    in_common = np.isin(real.subjects, common) if common else np.ones(len(real), bool)

    report = {
        "kind": kind,
        "real_root": str(real_root),
        "generated_root": str(generated_root),
        "created": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        "judge": {
            "class": type(judge).__name__,
            "weights": judge.config.get("_name_or_path") or "given in memory",
            "max_frames": max_frames,
            "bf16": bf16,
        },
        "calibration": {
            "metric": metric,
            "threshold": calibration["threshold"],
            "far": _calibrated_far(calibration),
            "source": calibration_source,
        },
        "data": {
            "real": _data_summary(real, selection),
            "generated": {
                **_data_summary(gen, None),
                "found": found,
                "max_clips": max_clips,
                "real_copies_left_out": len(manifest.copies),
            },
            "subjects_in_common": len(common),
            "sources_named": named_count,
            "sources_in_real_folder": len(paired),
            "frame_rule": (
                f"frames of any size are brought to {CANONICAL_HEIGHT}x{CANONICAL_WIDTH} as GaitSequence.model_input "
                "does (resize to height 64, centre-crop or pad to 44 columns)"
            ),
        },
        "identity": identity,
        "leakage": _leakage_section(identity, calibration) if kind == "anonymized" else None,
        "attackers": (
            _attackers_section(real, gen, sources, {**calibration, "source": calibration_source}, attackers)
            if kind == "anonymized"
            else None
        ),
        "naturalness": _naturalness_section(real, gen, reference, reference_text, max_frames, rng, seed),
        "covariates": _covariate_section(covariate_classifier, gen, real, reference),
        "diversity": _diversity_section(gen, real, reference & in_common, metric),
        # 5. perceptual distance to the source, frame by frame
        "perceptual": _perceptual_section(real, gen, paired, [how for _, how in sources], kind, identity),
        "histograms": _histograms(real, claimed, distances, metric, calibration, kind),
        "samples": _samples(real, gen, claimed, [src for src, _ in sources], samples, kind),
        "timing": {
            "clips_embedded": len(real) + len(gen),
            "embedding_seconds": embedding_seconds,
            "clips_per_second": (len(real) + len(gen)) / max(embedding_seconds, 1e-9),
            "seconds": time.perf_counter() - started,
        },
    }
    return _json_ready(report)


def _similarity_to_source(real: EmbeddedClips, gen: EmbeddedClips, paired, named: int, generated_root: Path) -> dict:
    """Cosine similarity (flattened judge embeddings) of each clip to its source, beside the similarity of
    each source to the other real clips of its subject (what "the same person" looks like)."""
    if not paired:
        reason = (
            f"{named} clips name a source but none of those is in the real folder"
            if named
            else f"no source is named ({generated_root / MANIFEST_NAME} names none, or is absent)"
        )
        return {"available": False, "reason": reason}
    g_unit, r_unit = _unit(gen.embeddings), _unit(real.embeddings)
    subjects = real.subjects
    to_source = [float(g_unit[i] @ r_unit[j]) for i, j in paired]
    same_subject = []
    for j in sorted({j for _, j in paired}):
        others = np.flatnonzero(subjects == subjects[j])
        others = others[others != j]
        if len(others):
            same_subject.append(float((r_unit[others] @ r_unit[j]).mean()))
    return {
        "available": True,
        **_summary(to_source),
        "named": named,
        "real_same_subject_mean": float(np.mean(same_subject)) if same_subject else None,
    }


def _naturalness_section(real, gen, reference: np.ndarray, reference_text: str, max_frames, rng, seed: int) -> dict:
    """Fréchet distance of judge features and silhouette statistics, generated vs the real reference.

    The real side is subsampled to two halves the size of the generated set: the Fréchet estimate
    depends on the sample size, and both distances must be measured at the same one.
    """
    rows = np.flatnonzero(reference)
    picked = rng.choice(rows, size=min(len(rows), 2 * len(gen)), replace=False)
    try:
        frechet = {"available": True, **frechet_report(real.embeddings[picked], gen.embeddings, seed=seed)}
    except ValueError as err:
        frechet = {"available": False, "reason": str(err)}
    return {
        "real_reference": reference_text,
        "real_reference_clips": len(rows),
        "frechet": frechet,
        "statistics": statistics_summary([real.stats[i] for i in rows], gen.stats),
        "statistics_window": f"the same centred window of at most {max_frames} frames that is embedded",
    }


def _perceptual_section(real, gen, paired, how: list[str], kind: str, identity: dict) -> dict:
    """SSIM / IoU / LPIPS of each clip against its source, the clips re-read whole (frame 0 with frame 0).

    Only edited and anonymized clips follow their source frame by frame; a generated clip's named
    source is an identity reference, and comparing its frames would measure the gait phase.
    """
    if kind == "generated":
        return perceptual_report(
            [],
            "generated clips do not follow a source frame by frame (only edited and "
            "anonymized clips do): SSIM / IoU would compare unrelated gait phases",
        )
    if not paired:
        return perceptual_report([], f"not pairable: {identity['similarity_to_source']['reason']}")
    known_by = {"manifest": "the generated folder's manifest", "name": "the anon-<subject> name"}
    text = (
        f"frame i of each {kind} clip with frame i of its source clip in the real folder, over the shorter "
        "length, 64x44 crop; source known by " + " and ".join(sorted({known_by[how[i]] for i, _ in paired}))
    )
    pairs = [(_model_clip(gen.paths[i]), _model_clip(real.paths[j])) for i, j in paired]
    return perceptual_report(pairs, text)


def _data_summary(clips: EmbeddedClips, selection: str | None) -> dict:
    out = {
        "root": str(clips.root),
        "clips": len(clips),
        "subjects": len(set(clips.subjects.tolist())),
        "condition_types": sorted({condition_group(c) for c in clips.conditions}),
        "views": sorted(set(clips.views.tolist())),
        "frame_sizes": dict(clips.frame_sizes),
        "resized": clips.resized(),
        "skipped": len(clips.skipped),
        "skipped_examples": clips.skipped[:5],
    }
    if selection:
        out["selection"] = selection
    return out


def _leakage_section(identity: dict, calibration: dict) -> dict:
    """Anonymization: how much identity is left — rank-1 and TAR, beside chance and the unmodified ceiling."""
    far = _calibrated_far(calibration)
    if not identity.get("defined"):
        return {"defined": False, "reason": identity["reason"]}
    row, ver = identity["mean"], identity["verification"]
    return {
        "defined": True,
        "rank1": row["generated_rank1"],
        "chance_rank1": identity["chance_rank1"],
        "rank1_over_chance": row["generated_rank1"] / identity["chance_rank1"]
        if row["generated_rank1"] is not None
        else None,
        "tar_percent": ver["generated_tar_percent"],
        "far_percent": _percent(far),
        "chance_tar_percent": _percent(far),
        "unmodified_rank1": row["real_rank1"],
        "unmodified_tar_percent": ver["real_tar_percent"],
        "note": "chance: rank-1 = 100 / gallery subjects; TAR = the FAR itself (an impostor is accepted that often)",
    }


ATTACKERS_NOTE = (
    "Each anonymized clip against the real gallery (nm-01…04); a hit is its source subject at rank 1. Every "
    "attacker uses its own threshold at FAR 1%, set on real probe clips against the real gallery (never on "
    "anonymized clips): the judge its calibration (the one the anonymizer retries against), the GEI template "
    "matcher (mean silhouette, Euclidean) the real pairs of its view relation — gei_same_view: gallery clips of "
    "the probe's view; gei_cross_view: of every other view — and each other recognizer its own calibration.json. "
    "Judge and recognizers match across all views. Unmodified: the source clips themselves (the ceiling)."
)


def _attackers_section(real: EmbeddedClips, gen: EmbeddedClips, sources, judge_calibration: dict, attackers) -> dict:
    """Leakage of anonymized clips and of their unmodified sources by every attacker (see `ATTACKERS_NOTE`)."""
    gallery = np.isin(real.conditions, CASIA_B_GALLERY)
    if not gallery.any():
        return {"defined": False, "reason": "the real folder has no gallery clips (nm-01…04)"}
    real_index = {k: i for i, k in enumerate(real.keys)}
    gallery_subjects = set(real.subjects[gallery].tolist())
    # a source that is itself a gallery clip would be found as itself: such clips are left out
    pairs = [
        (i, real_index[src])
        for i, (src, _) in enumerate(sources)
        if src in real_index and not gallery[real_index[src]] and src[0] in gallery_subjects
    ]
    if not pairs:
        reason = "no anonymized clip names a source in the real folder (outside the gallery) of a gallery subject"
        return {"defined": False, "reason": reason}
    gen_rows, src_rows = (np.asarray(rows) for rows in zip(*pairs, strict=True))
    probes = ~gallery  # the real clips the thresholds are calibrated on, against the gallery
    subjects, views = real.subjects[src_rows], real.views[src_rows]
    g_subjects = real.subjects[gallery]
    rows: dict[str, dict] = {"unmodified": {}, "anonymized": {}}
    info: dict[str, dict] = {}

    def add_recognizer(name, own, generated, calibration):
        for arm, protected in (("unmodified", own[src_rows]), ("anonymized", generated[gen_rows])):
            rows[arm][name] = recognizer_leakage(
                own[src_rows], subjects, protected, own[gallery], g_subjects, calibration, name
            )
        info[name] = {"available": True, "kind": "recognizer", "views": "all_views", "calibration": calibration}

    add_recognizer("judge", real.embeddings, gen.embeddings, judge_calibration)
    try:
        gei = gei_leakage(
            real.geis[src_rows], subjects, views, {"unmodified": real.geis[src_rows], "anonymized": gen.geis[gen_rows]},
            real.geis[gallery], g_subjects, real.views[gallery], real.geis[probes], real.subjects[probes],
            real.views[probes],
        )  # fmt: skip
        for name, per_arm in gei.items():
            for arm, report in per_arm.items():
                rows[arm][name] = report
            first = per_arm["anonymized"]
            info[name] = {"available": True, "kind": "GEI template", "views": first["views"]}
            info[name]["calibration"] = first["calibration"]
    except ValueError as err:  # e.g. no real genuine pair in one view relation
        info["gei"] = {"available": False, "reason": str(err)}
    for name, model in (attackers or {}).items():
        own, generated = real.attacker_embeddings[name], gen.attacker_embeddings[name]
        calibration = own_calibration(model)
        try:
            if calibration is None:
                calibration = calibrate_recognizer_on_real(own[probes], real.subjects[probes], own[gallery], g_subjects)
            add_recognizer(name, own, generated, calibration)
        except ValueError as err:
            info[name] = {"available": False, "reason": str(err)}
    return {
        "defined": True,
        "probes": len(pairs),
        "left_out": len(gen) - len(pairs),
        "gallery_clips": int(gallery.sum()),
        "gallery_subjects": len(gallery_subjects),
        "calibration_probes": int(probes.sum()),
        "attackers": info,
        "rows": rows,
        "note": ATTACKERS_NOTE,
    }


def headline(report: dict) -> list[dict]:
    """The report's key numbers: `{"label", "path", "value", "unit"}` rows (JSON paths into `report`).

    The CLI prints these and the HTML page shows them, both from the same dict.
    """
    rows = []

    def add(label, path, unit=""):
        value = report
        for part in path.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        rows.append({"label": label, "path": path, "value": value, "unit": unit})

    kind = report["kind"]
    identity = report["identity"]
    if kind == "anonymized" and report.get("leakage", {}).get("defined"):
        add("leakage rank-1 (anonymized)", "leakage.rank1", "%")
        add("chance rank-1", "leakage.chance_rank1", "%")
        add("leakage rank-1 of the unmodified clips", "leakage.unmodified_rank1", "%")
        add("leakage TAR at the judge's FAR", "leakage.tar_percent", "%")
        add("chance TAR (= FAR)", "leakage.chance_tar_percent", "%")
        attackers = report.get("attackers") or {}
        for name in attackers.get("rows", {}).get("anonymized", {}):
            if name != "judge":
                add(f"leakage rank-1, attacker {name}", f"attackers.rows.anonymized.{name}.rank1", "%")
                add(f"leakage TAR at FAR 1%, attacker {name}", f"attackers.rows.anonymized.{name}.tar_vs_gallery", "%")
    elif identity.get("defined"):
        add(f"identity rank-1 ({kind}, mean over types)", "identity.mean.generated_rank1", "%")
        add("identity rank-1 (real probes, same types)", "identity.mean.real_rank1", "%")
        add("ratio", "identity.mean.ratio")
        add("TAR at the judge's FAR", "identity.verification.generated_tar_percent", "%")
    else:
        rows.append({"label": "identity", "path": "identity.reason", "value": identity["reason"], "unit": ""})
    if identity.get("similarity_to_source", {}).get("available"):
        add("cosine similarity to source (mean)", "identity.similarity_to_source.mean")
    if report["naturalness"]["frechet"].get("available"):
        add(f"Fréchet distance ({kind} vs real)", "naturalness.frechet.generated_vs_real")
        add("Fréchet distance (real vs real)", "naturalness.frechet.real_vs_real")
    if report["covariates"].get("available"):
        add("covariates: view within ±18°", "covariates.generated.view_within_tolerance", "%")
        add("covariates: clothing", "covariates.generated.clothing", "%")
        add("covariates: carrying", "covariates.generated.carrying", "%")
    add(f"diversity ratio ({kind} / real spread)", "diversity.ratio")
    if report["perceptual"].get("available"):
        add("SSIM to source (mean)", "perceptual.ssim.mean")
        add("IoU to source (mean)", "perceptual.iou.mean")
    return rows


def format_value(value, unit: str = "") -> str:
    """How a number is shown everywhere (page and terminal): ≥ 100 → 1 decimal, ≥ 1 → 2, else 4 significant."""
    if value is None:
        return "n/a"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, int):
        return f"{value}{unit}"
    if abs(value) >= 100:
        text = f"{value:.1f}"
    elif abs(value) >= 1:
        text = f"{value:.2f}"
    else:
        text = f"{value:.4g}" if value else "0"
        if "e" in text:
            text = f"{value:.6f}"
    return text + unit


def format_headline(report: dict) -> str:
    """The headline rows as an aligned text table."""
    rows = headline(report)
    width = max(len(r["label"]) for r in rows)
    return "\n".join(f"{r['label']:<{width}}  {format_value(r['value'], r['unit'])}" for r in rows)
