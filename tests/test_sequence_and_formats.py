"""GaitSequence's contract and the PNG-folder / npz formats."""

import cv2
import numpy as np
import pytest

from gaitdata import GaitDataError, GaitSequence, read_sequence
from gaitdata.npz_file import read_npz, write_npz
from gaitdata.png_folder import write_png_folder


def test_model_input_crops_ten_columns_from_each_side():
    frames = np.zeros((3, 64, 64), np.uint8)
    frames[:, :, 10] = 255
    frames[:, :, 53] = 255
    frames[:, :, 9] = 255  # falls outside the crop
    x = GaitSequence(frames).model_input()
    assert x.shape == (3, 64, 44) and x.dtype == np.float32
    assert x[:, :, 0].min() == 1.0 and x[:, :, 43].min() == 1.0 and x.sum() == 3 * 64 * 2


def test_other_sizes_are_resized_to_model_input():
    x = GaitSequence(np.full((2, 128, 88), 255, np.uint8)).model_input()
    assert x.shape == (2, 64, 44)


@pytest.mark.parametrize(
    "frames",
    [
        np.ones((2, 16, 16), bool),
        np.ones((2, 16, 16), np.float32),
        np.full((2, 16, 16), 255.0),
        np.ones((2, 16, 16), int),
    ],
)
def test_common_mask_encodings_become_uint8(frames):
    seq = GaitSequence(frames)
    assert seq.frames.dtype == np.uint8 and seq.frames.max() in (1, 255)


@pytest.mark.parametrize(
    "frames, problem",
    [
        (np.zeros((0, 64, 64), np.uint8), "no frames"),
        (np.zeros((2, 3, 64, 64), np.uint8), "[T, H, W]"),
        (np.full((2, 16, 16), 300), "0..255"),
        (np.full((2, 16, 16), np.nan), "NaN"),
        (np.zeros((2, 16, 16), complex), "not silhouettes"),
    ],
)
def test_bad_frames_are_refused_with_the_reason(frames, problem):
    with pytest.raises(GaitDataError) as info:
        GaitSequence(frames, source="clip.pkl")
    assert problem in str(info.value) and "clip.pkl" in str(info.value)


def test_single_frame_is_a_sequence_of_one():
    assert GaitSequence(np.zeros((64, 64), np.uint8)).num_frames == 1


def test_png_folder_with_raw_casia_b_masks_is_pretreated(tmp_path):
    folder = tmp_path / "001" / "bg-01" / "036"
    folder.mkdir(parents=True)
    for i in [1, 2, 10]:  # natural order: 2 before 10
        mask = np.zeros((240, 320), np.uint8)
        mask[30 : 30 + 120, 100 + 3 * i : 140 + 3 * i] = 255
        cv2.imwrite(str(folder / f"001-bg-01-036-{i:d}.png"), mask)
    cv2.imwrite(str(folder / "001-bg-01-036-0.png"), np.zeros((240, 320), np.uint8))  # empty frame is dropped
    seq = read_sequence(folder)
    assert seq.key == ("001", "bg-01", "036")
    assert seq.frames.shape == (3, 64, 64)


def test_png_round_trip(tmp_path):
    frames = np.zeros((4, 64, 64), np.uint8)
    frames[:, 5:60, 25:40] = 255
    write_png_folder(tmp_path / "seq", GaitSequence(frames))
    from gaitdata.png_folder import read_png_folder

    np.testing.assert_array_equal(read_png_folder(tmp_path / "seq", pretreat=False).frames, frames)


def test_png_folder_with_unreadable_or_mismatched_frames(tmp_path):
    (tmp_path / "a.png").write_bytes(b"not a png")
    with pytest.raises(GaitDataError, match="a.png: cannot decode image"):
        read_sequence(tmp_path)
    (tmp_path / "a.png").unlink()
    cv2.imwrite(str(tmp_path / "1.png"), np.zeros((10, 10), np.uint8))
    cv2.imwrite(str(tmp_path / "2.png"), np.zeros((12, 10), np.uint8))
    with pytest.raises(GaitDataError, match="2.png: frame size"):
        read_sequence(tmp_path)


def test_npz_round_trip_keeps_metadata(tmp_path):
    seq = GaitSequence(np.full((3, 64, 64), 7, np.uint8), "042", "cl-02", "144", fps=30.0, extra={"seed": 3})
    back = read_npz(write_npz(tmp_path / "s.npz", seq))
    np.testing.assert_array_equal(back.frames, seq.frames)
    assert back.key == seq.key and back.fps == 30.0 and back.extra == {"seed": 3}


def test_npz_with_pickled_objects_is_refused(tmp_path):
    path = tmp_path / "obj.npz"
    np.savez(path, frames=np.array([{"a": 1}], dtype=object))
    with pytest.raises(GaitDataError, match="obj.npz"):
        read_npz(path)


def test_read_sequence_errors(tmp_path):
    with pytest.raises(GaitDataError, match="does not exist"):
        read_sequence(tmp_path / "missing.pkl")
    (tmp_path / "notes.txt").write_text("hi")
    with pytest.raises(GaitDataError, match="unsupported file type"):
        read_sequence(tmp_path / "notes.txt")
    with pytest.raises(GaitDataError, match="holds no .pkl or image frames"):
        read_sequence(tmp_path)
