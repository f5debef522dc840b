"""Render a whole CASIA-B-like walker dataset in the OpenGait layout, resumably.

What lands in `out_root`:

- `<subject>/<condition>/<view>/<view>.pkl`: `uint8 [T, 64, 64]` pretreated silhouettes;
- `partition.json`: `{"TRAIN_SET": [...], "TEST_SET": [...]}` (CASIA-B's split: the first 74
  of 124 subjects train, scaled for other sizes);
- `ground_truth.json`: the walker style and every identity, walk and camera parameter, at the
  root because OpenGait refuses any file but a .pkl inside a sequence folder;
- `manifest.json` (the settings, "running" or "complete" and the last run's summary) and
  `manifest.jsonl` (one row per sequence written: path, subject, condition, view, frames), the
  one job-folder format of every batch job (`gaitdata.job_folder`); they mark the folder as a
  walker render. A render made before that format (`walkers_manifest.json`) is resumed too: its
  manifest is converted, its sequences kept.

Every sequence depends only on (style, seed, subject, condition, view), so a killed run resumes by
skipping the sequences already recorded (each pkl is written atomically, its row appended once it
is there), and any subset renders the same bytes as the full set.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from gaitdata.atomic import atomic_write_text
from gaitdata.casia_b import CONDITIONS, VIEWS, condition_kind
from gaitdata.job_folder import OPENGAIT_LAYOUT, JobFolder
from gaitdata.opengait import Partition, sequence_pkl_path, write_partition, write_pkl_sequence
from gaitdata.walkers.identity import camera_for, identity_for, walk_for
from gaitdata.walkers.render import format_view, render_walker_sequence
from gaitdata.walkers.shape_correction import calibrated_shape_correction
from gaitdata.walkers.style import CALIBRATED, check_style

logger = logging.getLogger(__name__)

EARLIER_MANIFEST = "walkers_manifest.json"  # a render's manifest before the one job-folder format
GROUND_TRUTH_NAME = "ground_truth.json"
PARTITION_NAME = "partition.json"
MANIFEST_KIND = "gait-studio procedural walkers"
GENERATOR_VERSION = 1  # bump when the same seed would render different frames
CASIA_B_TRAIN_FRACTION = 74 / 124


def _check_settings(num_subjects, conditions, views, frames) -> tuple[list[str], list[str], tuple[int, int]]:
    if isinstance(num_subjects, bool) or not isinstance(num_subjects, int) or num_subjects < 1:
        raise ValueError(f"num_subjects must be a positive integer, got {num_subjects!r}")
    if num_subjects > 999:
        raise ValueError(f"at most 999 subjects (ids are 3 digits), got {num_subjects}")
    conditions = [str(c) for c in conditions]
    if not conditions:
        raise ValueError("no conditions given; CASIA-B's are " + ", ".join(CONDITIONS))
    for c in conditions:
        condition_kind(c)
    view_names = []
    for v in views:
        try:
            degrees = float(v)
        except (TypeError, ValueError):
            raise ValueError(f"view {v!r} is not a number of degrees (e.g. 000, 090, 45.5)") from None
        if not 0.0 <= degrees <= 360.0:
            raise ValueError(f"view {v!r} must lie in 0..360 degrees")
        view_names.append(format_view(degrees))
    if not view_names:
        raise ValueError("no views given; CASIA-B's are " + ", ".join(VIEWS))
    for name, items in (("condition", conditions), ("view", view_names)):
        if len(set(items)) != len(items):
            raise ValueError(f"a {name} is listed twice: {items}")
    try:
        lo, hi = (int(f) for f in frames)
    except (TypeError, ValueError):
        raise ValueError(f"frames must be (min, max) integers, got {frames!r}") from None
    if lo < 1 or lo > hi:
        raise ValueError(f"frames must satisfy 1 <= min <= max, got min {lo}, max {hi}")
    return conditions, view_names, (lo, hi)


def subject_ids(num_subjects: int) -> list[str]:
    """``"001"``, ``"002"``, ... as CASIA-B names its subjects."""
    return [f"{i:03d}" for i in range(1, num_subjects + 1)]


def casia_b_partition(subjects: Sequence[str]) -> Partition:
    """CASIA-B's split, scaled: the first 74/124 of the subjects train, the rest test (at least one each)."""
    n = len(subjects)
    n_train = n if n == 1 else min(max(1, round(n * CASIA_B_TRAIN_FRACTION)), n - 1)
    return Partition(list(subjects[:n_train]), list(subjects[n_train:]))


def _earlier_render(root: Path, expected: Sequence[str]) -> dict | None:
    """A render made before the one job-folder format (`walkers_manifest.json`), in its terms:
    its settings, a row for each of its sequences there (without frames: not read back)."""
    path = root / EARLIER_MANIFEST
    if not path.is_file():
        return None
    try:
        previous = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"{path}: unreadable manifest ({err}); choose another folder") from None
    if not isinstance(previous, dict) or previous.get("kind") != MANIFEST_KIND:
        raise ValueError(f"{path}: not a walker render; choose another folder")
    rows = []
    for rel in expected:
        if (root / rel).is_file():
            subject, condition, view = rel.split("/")[:3]
            rows.append({"path": rel, "subject": subject, "condition": condition, "view": view, "status": "done"})
    return {"kind": previous["kind"], "settings": previous.get("settings", {}), "rows": rows, "files": [path]}


def calibration_digest() -> str:
    """16 hex digits naming the calibrated style's fit: its look and its mean-shape fields."""
    look = json.dumps(CALIBRATED.to_dict(), sort_keys=True).encode()
    return hashlib.sha256(look + calibrated_shape_correction().digest.encode()).hexdigest()[:16]


def _ground_truth(seed: int, subjects, conditions, views, frames, style: str) -> dict:
    identities, walks, cameras = {}, {}, {}
    for subject in subjects:
        identity = identity_for(seed, subject, style)
        identities[subject] = identity.to_dict()
        for condition in conditions:
            walks[f"{subject}/{condition}"] = walk_for(seed, identity, condition).to_dict()
            for view in views:
                camera = camera_for(seed, subject, condition, view, frames, style)
                cameras[f"{subject}/{condition}/{view}"] = camera.to_dict()
    truth = {"seed": seed, "style": style}
    if style == "calibrated":  # the fitted distributions the people were drawn from, and the shape warp
        truth["calibrated_look"] = CALIBRATED.to_dict()
        truth["shape_correction"] = calibrated_shape_correction().digest
    return {**truth, "identities": identities, "walks": walks, "cameras": cameras}


def _render_task(task: tuple) -> list[dict]:
    """Render the given views of one (subject, condition) → their manifest rows, once written."""
    root, seed, subject, condition, views, frames, style = task
    identity = identity_for(seed, subject, style)
    walk = walk_for(seed, identity, condition)
    rows = []
    for view in views:
        camera = camera_for(seed, subject, condition, view, frames, style)
        seq = render_walker_sequence(identity, walk, camera.view_deg, camera=camera)
        seq.view = view  # the folder name as requested ("090"), whatever its float spelling
        write_pkl_sequence(root, seq)
        path = _sequence_path(subject, condition, view)
        rows.append({"path": path, "subject": subject, "condition": condition, "view": view,
                     "frames": seq.num_frames, "status": "done"})  # fmt: skip
    return rows


def _sequence_path(subject: str, condition: str, view: str) -> str:
    """A sequence's pkl relative to the dataset root, as its manifest row names it."""
    return sequence_pkl_path(Path("."), subject, condition, view).as_posix()


def render_walker_dataset(
    out_root: str | os.PathLike,
    num_subjects: int = 124,
    conditions: Iterable[str] = CONDITIONS,
    views: Iterable[str | float] = VIEWS,
    frames: tuple[int, int] = (30, 60),
    seed: int = 0,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    style: str = "default",
) -> dict:
    """Render (or finish rendering) a walker dataset in the OpenGait layout.

    Args:
        out_root: dataset folder: new, empty, or a previous walker render with the same settings
            (then only missing sequences are rendered).
        num_subjects: subjects ``"001"``..; CASIA-B has 124 (74 train, 50 test).
        conditions: condition names (``nm-NN``, ``bg-NN``, ``cl-NN``); default CASIA-B's ten.
        views: azimuths in degrees (strings like ``"090"`` or numbers, any angle); default
            CASIA-B's eleven, 000..180 by 18.
        frames: (min, max) frames per sequence, inclusive; each sequence draws its length.
        seed: everything is a function of the seed and the sequence's (subject, condition, view).
        workers: processes (default: up to 2, the cores there are); 1 renders in this process.
        progress: called as ``progress(done, total)`` with the sequences finished (written or
            found) after each (subject, condition); the CLI turns it into a progress bar.
        style: ``"default"`` (the walkers the bundled models were trained on) or
            ``"calibrated"`` (re-fitted on real CASIA-B GEI statistics; `style` module). Recorded
            in the manifest's settings and in `ground_truth.json`.

    Returns:
        Summary dict (also in `manifest.json`): root, sequences (total), written, skipped
        (recorded by an earlier run), frames (written now), seconds, frames_per_second,
        partition sizes.

    Raises:
        ValueError: bad settings, or `out_root` is a non-empty folder that is not a walker
            render with these settings.
    """
    conditions, view_names, frames = _check_settings(num_subjects, conditions, views, frames)
    style = check_style(style)
    root = Path(out_root)
    subjects = subject_ids(num_subjects)
    settings = {
        "num_subjects": num_subjects,
        "conditions": conditions,
        "views": view_names,
        "frames": list(frames),
        "seed": int(seed),
        "generator_version": GENERATOR_VERSION,
        "style": style,
    }
    if style == "calibrated":  # a re-fitted calibration draws other walkers: never mixed in one folder
        settings["calibration"] = calibration_digest()
    grid = [(s, c) for s in subjects for c in conditions]
    expected = [_sequence_path(s, c, v) for s, c in grid for v in view_names]
    # renders made before walker styles existed recorded no style: they are default ones
    job = JobFolder(
        root,
        MANIFEST_KIND,
        settings,
        key="path",
        layout=OPENGAIT_LAYOUT,
        settings_defaults={"style": "default"},
        earlier=lambda folder: _earlier_render(folder, expected),
    )
    partition = casia_b_partition(subjects)
    total = len(expected)
    write_partition(root / PARTITION_NAME, partition)
    if not (root / GROUND_TRUTH_NAME).is_file():
        truth = _ground_truth(int(seed), subjects, conditions, view_names, frames, style)
        atomic_write_text(root / GROUND_TRUTH_NAME, json.dumps(truth, separators=(",", ":")) + "\n")

    tasks = [
        (str(root), int(seed), s, c, [v for v in view_names if not job.is_done(_sequence_path(s, c, v))], frames, style)
        for s, c in grid
    ]
    workers = max(1, min(workers or min(2, os.cpu_count() or 1), len(tasks)))
    written = skipped = frame_count = 0
    start = time.perf_counter()
    if workers == 1:
        results = map(_render_task, tasks)
        pool = None
    else:
        import multiprocessing

        pool = multiprocessing.get_context("fork" if os.name == "posix" else "spawn").Pool(workers)
        results = pool.imap_unordered(_render_task, tasks, chunksize=1)
    try:
        for rows in results:  # in any order: `finish` writes the rows in the dataset's
            for row in rows:
                job.append(row)
            written, frame_count = written + len(rows), frame_count + sum(r["frames"] for r in rows)
            skipped += len(view_names) - len(rows)
            if progress is not None:
                progress(written + skipped, total)
        if pool is not None:
            pool.close()
    except BaseException:
        if pool is not None:  # interrupted: finished pkls and their rows are kept, a rerun resumes
            pool.terminate()
        raise
    finally:
        job.close()
        if pool is not None:
            pool.join()
    seconds = time.perf_counter() - start
    summary = {
        "root": str(root),
        "sequences": total,
        "written": written,
        "skipped": skipped,
        "frames": frame_count,
        "seconds": round(seconds, 2),
        "frames_per_second": round(frame_count / seconds, 1) if seconds > 0 else 0.0,
        "style": style,
        "train_subjects": len(partition.train),
        "test_subjects": len(partition.test),
    }
    job.finish(summary, [job.rows[p] for p in expected if p in job.rows])
    logger.info("walkers: %d written, %d already there, %d frames in %.1f s", written, skipped, frame_count, seconds)
    return summary
