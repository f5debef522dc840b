"""The page's downloads and previews, written into a request's folder (`StudioRequests.folder`).

Every file name is fixed or derived and bounded (`safe_name`), never an upload's text as it
came; a request cancelled between the files keeps none (`removed_if_cancelled`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from gaitdata import GaitSequence, read_sequence
from gaitdata.archive import write_folder_zip
from gaitdata.opengait import write_pkl_sequence
from gaitdata.preview import write_gif, write_video
from studio.app.work import removed_if_cancelled
from studio.jobs.load_clip import safe_label

MAX_GALLERY = 24  # previews shown after synthesis; the download holds every clip


def safe_name(text: str) -> str:
    """A short name fit for a download's file name (uploads may name their subject anything)."""
    return safe_label(text, max_length=40)


def write_preview(out: Path, seq: GaitSequence) -> str:
    """The Load tab's animated preview of `seq`."""
    return str(write_gif(out / "preview.gif", seq))  # a fixed name: never the upload's


def write_side_by_side(
    out: Path, source: GaitSequence, result: GaitSequence, labels: tuple[str, str], check: Callable[[], object]
) -> tuple[str, list[str]]:
    """Side-by-side GIF (shown and offered), MP4, and the result's pkl in the OpenGait layout (zipped),
    `check` asked between the files. Returns (the GIF, [zip, GIF, MP4])."""
    named = result.with_frames(
        result.frames, **{k: safe_name(v) for k, v in zip(("subject", "condition", "view"), result.key)}
    )
    stem = "_".join(named.key)
    pair = [source, result]
    with removed_if_cancelled(out):
        gif = write_gif(out / f"{stem}_side_by_side.gif", pair, labels=labels)
        check()
        mp4 = write_video(out / f"{stem}_side_by_side.mp4", pair, labels=labels)
        check()
        write_pkl_sequence(out / "opengait", named)
        archive = write_folder_zip(out / "opengait", out / f"{stem}_opengait.zip")
        check()
    return str(gif), [str(archive), str(gif), str(mp4)]


def write_dataset_download(out: Path, manifest: dict, check: Callable[[], object]) -> tuple[list, str]:
    """A synthesized dataset under `out / "dataset"` (`manifest`: its `manifest.json`) → (previews of
    its first `MAX_GALLERY` clips as (GIF, caption), the dataset zipped); `check` asked between previews."""
    download = write_folder_zip(out / "dataset", out / "synthetic_gait_dataset.zip")
    gallery = []
    for i, entry in enumerate(manifest["sequences"][:MAX_GALLERY]):
        check()
        seq = read_sequence(out / "dataset" / entry["path"])
        caption = f"{entry['subject']} {entry['condition']} {entry['view']}"
        gallery.append((str(write_gif(out / "previews" / f"{i:03d}_{safe_name(caption)}.gif", seq)), caption))
    return gallery, str(download)


def write_plots(out: Path, figures: list[tuple[bytes | None, str]]) -> list[tuple[str, str]]:
    """(PNG bytes or None, caption) → the gallery's (file, caption), numbered; a missing plot is left out."""
    gallery = []
    for i, (png, caption) in enumerate(figures):
        if png is not None:
            path = out / "plots" / f"{i}.png"
            path.parent.mkdir(exist_ok=True)
            path.write_bytes(png)
            gallery.append((str(path), caption))
    return gallery
