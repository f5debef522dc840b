"""The calibrated walkers' mean-shape correction: fields that warp every frame of a type × view.

What a user relies on: a calibrated render is warped by the bundled fields and says which ones
(ground truth, manifest), a view between the fitted ones blends its neighbours and the far side
mirrors the near one, a warp moves an outline without blurring it, a fields file that is not one
is refused by name, and a folder rendered with one calibration is never finished with another.
"""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from gaitdata.walkers import render_walker_dataset
from gaitdata.walkers.identity import camera_for, identity_for, walk_for
from gaitdata.walkers.render import render_walker_sequence
from gaitdata.walkers.segmentation import SegmentationArtefacts, misaligned_frames
from gaitdata.walkers.shape_correction import (
    SHAPE_FIELDS,
    ShapeCorrection,
    calibrated_shape_correction,
    read_shape_correction,
)

VIEWS = np.array([0.0, 90.0, 180.0])


def _correction(dx_per_view=(0.0, 2.0, 4.0)) -> ShapeCorrection:
    """Constant sideways fields, one value per view (and 10x that for bg, to tell types apart)."""
    fields = np.zeros((2, 3, 2, 64, 64), np.float32)
    for j, dx in enumerate(dx_per_view):
        fields[0, j, 0] = dx
        fields[1, j, 0] = 10 * dx
    fields[0, 1, 0, :, :32] += 1.0  # left half of the side view's field differs: shows a mirror
    return ShapeCorrection(("nm", "bg"), VIEWS, fields)


def test_views_between_blend_and_the_far_side_mirrors():
    c = _correction()
    assert np.allclose(c.field(45.0, "nm")[0, :, 40], 1.0)  # halfway between 0 and 2
    assert np.allclose(c.field(135.0, "bg")[0, :, 40], 30.0)
    assert np.allclose(c.field(-90.0, "nm")[0], c.field(270.0, "nm")[0])
    near, far = c.field(90.0, "nm"), c.field(270.0, "nm")
    # mirrored: the near side's left half is the far side's right half, and dx turns round
    assert np.allclose(far[0], -near[0][:, ::-1]) and np.allclose(far[1], near[1][:, ::-1])
    assert np.allclose(c.field(200.0, "nm")[0], -c.field(160.0, "nm")[0][:, ::-1])
    with pytest.raises(ValueError, match="no shape correction for condition type 'cl'"):
        c.field(90.0, "cl")


def test_a_warp_moves_the_outline_and_keeps_its_edge_sharp():
    frames = np.zeros((2, 64, 64), np.uint8)
    frames[:, 10:50, 20:30] = 255
    moved = _correction((2.0, 2.0, 2.0)).apply(frames, 0.0, "nm")  # out(x) = in(x + 2): moves left
    columns = np.flatnonzero(moved[0].mean(axis=0) > 127)
    assert columns[0] == 18 and columns[-1] == 27
    soft = ((moved > 12) & (moved < 243)).mean()
    assert soft <= ((frames > 12) & (frames < 243)).mean() + 0.02, "a warp must not blur the outline"
    with pytest.raises(ValueError, match=r"needs \[T, 64, 64\] frames"):
        _correction().apply(np.zeros((2, 64, 44), np.uint8), 0.0, "nm")


def test_fields_files_round_trip_and_a_bad_one_is_refused_by_name(tmp_path):
    c = _correction()
    path = tmp_path / "fields.npz"
    c.save(path)
    again = read_shape_correction(path)
    assert again.digest == c.digest and again.types == ("nm", "bg")
    np.save(tmp_path / "evil.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    (tmp_path / "evil.npz").write_bytes((tmp_path / "evil.npy").read_bytes())
    with pytest.raises(ValueError, match="evil.npz: not a walker shape correction"):
        read_shape_correction(tmp_path / "evil.npz")
    np.savez(tmp_path / "short.npz", types=np.array(["nm"]), views_deg=VIEWS, fields=np.zeros((1, 2, 2, 64, 64)))
    with pytest.raises(ValueError, match="short.npz: .*expected \\(1, 3, 2, 64, 64\\)"):
        read_shape_correction(tmp_path / "short.npz")
    with pytest.raises(ValueError, match="missing.npz: not a walker shape correction"):
        read_shape_correction(tmp_path / "missing.npz")


def test_the_bundled_fields_cover_every_type_and_view_with_small_smooth_moves():
    c = calibrated_shape_correction()
    assert SHAPE_FIELDS.is_file() and c.types == ("nm", "bg", "cl")
    assert c.views_deg.tolist() == list(range(0, 181, 18))
    assert 0.5 < np.abs(c.fields).max() < 8.0  # pixels of the 64x64 frame
    # smooth and never folding the image over: the warp's Jacobian stays well above 0
    dx, dy = c.fields[:, :, 0], c.fields[:, :, 1]
    jacobian = (1 + np.gradient(dx, axis=-1)) * (1 + np.gradient(dy, axis=-2)) - np.gradient(dx, axis=-2) * np.gradient(
        dy, axis=-1
    )
    assert jacobian.min() > 0.2


def test_a_calibrated_render_is_warped_by_the_bundled_fields_and_says_so(tmp_path):
    root = tmp_path / "cal"
    settings = {"num_subjects": 2, "conditions": ["nm-01"], "views": ["000"], "frames": (6, 8), "workers": 1}
    render_walker_dataset(root, style="calibrated", **settings)
    digest = calibrated_shape_correction().digest
    truth = json.loads((root / "ground_truth.json").read_text())
    assert truth["shape_correction"] == digest
    assert truth["cameras"]["001/nm-01/000"]["shape_correction"] == digest
    manifest = json.loads((root / "manifest.json").read_text())
    assert len(manifest["settings"]["calibration"]) == 16
    # the warp is the render's last step: without it the frames differ, with another one it refuses
    identity = identity_for(0, "001", "calibrated")
    walk = walk_for(0, identity, "nm-01")
    camera = replace(camera_for(0, "001", "nm-01", "000", style="calibrated"), num_frames=8)
    warped = render_walker_sequence(identity, walk, 0.0, camera=camera).frames
    plain = render_walker_sequence(identity, walk, 0.0, camera=replace(camera, shape_correction=None)).frames
    assert warped.shape == plain.shape and not np.array_equal(warped, plain)
    with pytest.raises(ValueError, match="drawn with shape correction 0000000000000000"):
        render_walker_sequence(identity, walk, 0.0, camera=replace(camera, shape_correction="0" * 16))
    # a folder rendered with another calibration is not finished with this one
    manifest["settings"]["calibration"] = "f" * 16
    (root / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ValueError, match="other settings.*calibration"):
        render_walker_dataset(root, style="calibrated", **settings)


def test_misaligned_frames_move_each_frame_and_none_leaves_them():
    frames = np.zeros((40, 64, 64), np.uint8)
    frames[:, 5:60, 27:37] = 255
    still = SegmentationArtefacts(1.0, 0.5, 0.85, 1.0)
    assert misaligned_frames(frames, still, 3) is frames
    glitchy = replace(still, misalign_px=2.0, misalign_scale=0.02)
    moved = misaligned_frames(frames, glitchy, 3)
    assert np.array_equal(moved, misaligned_frames(frames, glitchy, 3)), "seeded"
    centres = [np.average(np.arange(64), weights=f.sum(axis=0)) for f in moved.astype(float)]
    assert 1.0 < np.std(centres) < 3.0  # sideways, about the sd asked for
    gei_before, gei_after = frames.mean(0) / 255, moved.mean(0) / 255
    assert ((gei_after > 0.05) & (gei_after < 0.95)).sum() > ((gei_before > 0.05) & (gei_before < 0.95)).sum()
