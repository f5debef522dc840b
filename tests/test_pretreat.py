"""Pretreatment centres and scales silhouettes exactly as OpenGait does."""

import numpy as np
import pytest

from gaitdata import pretreat_silhouettes
from gaitdata.pretreat import pretreat_frame


def _rectangle(h=240, w=320, top=40, height=128, left=200, width=44):
    mask = np.zeros((h, w), np.uint8)
    mask[top : top + height, left : left + width] = 255
    return mask


def test_known_rectangle_is_scaled_to_64_rows_and_centred():
    # 128 rows → 64 rows is an exact halving; the 44-wide block becomes 22 columns.
    out = pretreat_frame(_rectangle())
    assert out.shape == (64, 64) and out.dtype == np.uint8
    cols = out.astype(float).sum(axis=0) / 255.0 / 64.0  # fraction of each column lit
    assert np.all(out.max(axis=1) == 255), "every row must hold body after the vertical crop"
    assert cols.sum() == pytest.approx(22.0, abs=0.5)
    centre = (cols * np.arange(64)).sum() / cols.sum()
    assert centre == pytest.approx(31.5, abs=0.5)  # mass centre on the 32nd column boundary
    # interior is solid, far columns are empty
    assert np.all(out[:, 24:40] == 255) and np.all(out[:, :18] == 0) and np.all(out[:, 46:] == 0)


def test_position_in_the_frame_does_not_matter():
    a = pretreat_frame(_rectangle(left=10, top=5))
    b = pretreat_frame(_rectangle(left=260, top=100))
    np.testing.assert_array_equal(a, b)


def test_person_at_the_border_is_zero_padded_not_wrapped():
    out = pretreat_frame(_rectangle(left=0, width=30, height=128))
    assert out.shape == (64, 64)
    cols = out.sum(axis=0)
    assert cols[:10].sum() == 0 and cols[54:].sum() == 0


def test_empty_frames_are_dropped_and_indices_reported():
    masks = np.stack([np.zeros((240, 320), np.uint8), _rectangle(), np.zeros((240, 320), np.uint8), _rectangle()])
    masks[2, 0, 0] = 255  # a speck of noise is not a person
    frames, kept = pretreat_silhouettes(masks)
    assert frames.shape == (2, 64, 64)
    assert kept.tolist() == [1, 3]


def test_all_empty_gives_zero_frames():
    frames, kept = pretreat_silhouettes(np.zeros((3, 50, 50), np.uint8))
    assert frames.shape == (0, 64, 64) and kept.size == 0


def test_bool_masks_are_accepted():
    frames, _ = pretreat_silhouettes(_rectangle()[None] > 0)
    assert frames.max() == 255
