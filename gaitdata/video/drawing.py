"""Drawing: tracks and refused tracks over a video frame, for contact sheets."""

from __future__ import annotations

import cv2
import numpy as np

from gaitdata.video.results import RefusedTrack, Track


def track_colour(track_id: int) -> tuple[int, int, int]:
    """A distinct, bright BGR colour per track (golden-angle hues)."""
    hue = int((track_id * 137.508 / 2) % 180)
    bgr = cv2.cvtColor(np.uint8([[[hue, 220, 255]]]), cv2.COLOR_HSV2BGR)[0, 0]
    return int(bgr[0]), int(bgr[1]), int(bgr[2])


REFUSED_COLOUR = (60, 60, 230)  # BGR red: refused tracks on contact sheets


def draw_tracks(
    frame: np.ndarray,
    tracks: list[Track],
    frame_index: int | None = None,
    refused: list[RefusedTrack] | tuple = (),
) -> np.ndarray:
    """Draw tracks on a copy of a BGR frame `uint8 [H, W, 3]` (original-video size).

    Every track's path (its feet) is a thin line; tracks with a silhouette at `frame_index`
    also get their box, labelled `tNN (frames)`; the others a label at the path's middle.
    Refused tracks are drawn in red, their box crossed out, labelled `rNN refused: <check>`,
    and listed with their reasons in a band added under the frame (so the sheet is taller than
    the frame only when something was refused).
    """
    unit = max(1, round(frame.shape[0] / 400))
    font = 0.4 * unit
    paths = frame.copy()
    drawn = [(tr.boxes, track_colour(tr.track_id)) for tr in tracks] + [(r.boxes, REFUSED_COLOUR) for r in refused]
    for boxes, colour in drawn:
        feet = np.stack([(boxes[:, 0] + boxes[:, 2]) // 2, boxes[:, 3]], axis=1).astype(np.int32)
        cv2.polylines(paths, [feet.reshape(-1, 1, 2)], False, colour, unit, cv2.LINE_AA)
    # Paths half-transparent: with dozens of walkers they would hide the scene.
    out = cv2.addWeighted(paths, 0.55, frame, 0.45, 0.0)
    labelled = [(tr, track_colour(tr.track_id), f"t{tr.track_id:02d} ({tr.num_frames})", False) for tr in tracks]
    labelled += [(r, REFUSED_COLOUR, f"{r.label} refused: {r.verdict.short_reason}", True) for r in refused]
    for tr, colour, label, crossed in labelled:
        feet = np.stack([(tr.boxes[:, 0] + tr.boxes[:, 2]) // 2, tr.boxes[:, 3]], axis=1).astype(np.int32)
        box = tr.box_at(frame_index) if frame_index is not None else None
        if box is None:
            x, y = (int(v) for v in feet[len(feet) // 2])
            cv2.putText(out, label, (x, y), cv2.FONT_HERSHEY_SIMPLEX, font, colour, unit, cv2.LINE_AA)
            continue
        x0, y0, x1, y1 = (int(v) for v in box)
        cv2.rectangle(out, (x0, y0), (x1, y1), colour, 2 * unit)
        if crossed:
            cv2.line(out, (x0, y0), (x1, y1), colour, unit, cv2.LINE_AA)
            cv2.line(out, (x0, y1), (x1, y0), colour, unit, cv2.LINE_AA)
        cv2.putText(out, label, (x0, max(12, y0 - 4)), cv2.FONT_HERSHEY_SIMPLEX, font, colour, unit, cv2.LINE_AA)
    if refused:
        out = np.concatenate([out, _refusal_band(refused, out.shape[1], unit)], axis=0)
    return out


def _refusal_band(refused: list[RefusedTrack], width: int, unit: int) -> np.ndarray:
    """A dark band listing each refused track and its reasons, one line per failed check."""
    font, line_h = 0.35 * unit, 14 * unit
    lines = [f"{len(refused)} track(s) refused as not walking people:"]
    for r in refused:
        first, last = int(r.frame_indices[0]), int(r.frame_indices[-1])
        for k, reason in enumerate(r.verdict.reasons):
            head = f"{r.label} (video frames {first}-{last}): " if k == 0 else "      "
            lines.append(head + reason.split(" (")[0])
    # Cut lines to the sheet's width (about 0.55 * 20 px per character at font 0.35).
    chars = max(20, int(width / (6.2 * unit)))
    lines = [ln if len(ln) <= chars else ln[: chars - 3] + "..." for ln in lines]
    band = np.full((line_h * len(lines) + 6 * unit, width, 3), 30, np.uint8)
    for i, ln in enumerate(lines):
        colour = (230, 230, 230) if i == 0 else REFUSED_COLOUR
        y = line_h * (i + 1)
        cv2.putText(band, ln, (4 * unit, y), cv2.FONT_HERSHEY_SIMPLEX, font, colour, unit, cv2.LINE_AA)
    return band
