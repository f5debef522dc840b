"""Previews: GIF / WebM / MP4 / PNG strips are real, decodable files of the right size."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from PIL import Image

from gaitdata import GaitSequence, write_pkl_sequence
from gaitdata.preview import (
    SEPARATOR_VALUE,
    png_strip,
    side_by_side,
    upscale,
    write_gif,
    write_png_strip,
    write_video,
)
from studio.cli import main


def walking_bar(num_frames: int, height=64, width=44, fps=25.0, subject="001") -> GaitSequence:
    """A bar that sways left and right: every frame differs from the previous one."""
    frames = np.zeros((num_frames, height, width), np.uint8)
    for t in range(num_frames):
        x = width // 2 - 6 + int(round(4 * np.sin(2 * np.pi * t / 12)))
        frames[t, 4 : height - 4, x : x + 12] = 255
        frames[t, height - 10 :, x - 4 + t % 3 : x + 16] = 200  # feet, changing every frame
    return GaitSequence(frames, subject, "nm-01", "090", fps=fps)


def gif_frames(path) -> list[np.ndarray]:
    with Image.open(path) as im:
        out = []
        for i in range(im.n_frames):
            im.seek(i)
            out.append(np.asarray(im.convert("L")))
        return out


def video_frames(path) -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame)
    cap.release()
    return frames


def test_upscale_nearest_keeps_values():
    frames = walking_bar(3).frames
    big = upscale(frames, 3)
    assert big.shape == (3, 192, 132)
    assert set(np.unique(big)) == set(np.unique(frames))
    assert upscale(frames, 1) is frames


def test_gif_has_every_frame_at_the_right_size_and_rate(tmp_path):
    seq = walking_bar(20, fps=25.0)
    path = write_gif(tmp_path / "walk.gif", seq, scale=3)
    with Image.open(path) as im:
        assert im.format == "GIF" and im.n_frames == 20 and im.size == (132, 192)
        assert im.info["duration"] == 40 and im.info.get("loop") == 0
    first = gif_frames(path)[0]
    assert np.array_equal(first, upscale(seq.frames[:1], 3)[0])  # lossless for grey silhouettes
    assert not list(tmp_path.glob(".*tmp"))


def test_gif_of_several_sequences_is_side_by_side(tmp_path):
    path = write_gif(tmp_path / "pair.gif", [walking_bar(12), walking_bar(30)], scale=2, labels=["real", "gen"])
    frames = gif_frames(path)
    assert len(frames) == 30
    assert frames[0].shape[1] == 2 * 88 + 2  # two panels and a 2-px separator


def test_side_by_side_loops_the_shorter_sequence():
    a, b = walking_bar(10), walking_bar(25)
    out = side_by_side(a, b, labels=None, scale=1, separator=2)
    assert out.shape == (25, 64, 44 + 2 + 44) and out.dtype == np.uint8
    assert np.array_equal(out[13, :, :44], a.frames[3])  # frame 13 of the loop = frame 3
    assert np.array_equal(out[13, :, 46:], b.frames[13])
    assert np.all(out[:, :, 44:46] == SEPARATOR_VALUE)


@pytest.mark.parametrize(("pad", "expected"), [("hold", 9), ("blank", None)])
def test_side_by_side_hold_and_blank(pad, expected):
    a, b = walking_bar(10), walking_bar(14)
    out = side_by_side([a, b], labels=None, scale=1, pad=pad)
    if expected is None:
        assert out[12, :, :44].max() == 0
    else:
        assert np.array_equal(out[12, :, :44], a.frames[expected])


def test_side_by_side_labels_and_different_sizes():
    wide = walking_bar(8, width=64)  # OpenGait's stored 64x64 beside a 64x44 model input
    out = side_by_side([wide, walking_bar(5), walking_bar(6)], labels=("real", "generated"), scale=2)
    band = 14
    assert out.shape == (8, 128 + band, 128 + 2 + 88 + 2 + 88)
    assert out[:, :band, :128].max() > 200  # the label is drawn
    assert out[:, :band, -88:].max() == 0  # no third label given


def test_side_by_side_resizes_to_the_tallest():
    small = GaitSequence(np.full((4, 32, 22), 255, np.uint8))
    out = side_by_side([walking_bar(4), small], labels=None, scale=1, separator=0)
    assert out.shape == (4, 64, 88)


@pytest.mark.parametrize("suffix", [".webm", ".mp4", ".avi"])
def test_video_reads_back(tmp_path, suffix):
    seq = walking_bar(15)
    path = write_video(tmp_path / f"walk{suffix}", seq, scale=3)
    frames = video_frames(path)
    assert len(frames) == 15
    assert frames[0].shape == (192, 132, 3)
    # Lossy codecs: the body is still bright where it was, background dark.
    grey = frames[5][:, :, 1].astype(int)
    ref = upscale(seq.frames[5:6], 3)[0].astype(int)
    assert np.abs(grey - ref).mean() < 20
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_video_odd_sizes_are_padded_even(tmp_path):
    seq = GaitSequence(np.full((6, 21, 15), 255, np.uint8))
    frames = video_frames(write_video(tmp_path / "odd.webm", seq, scale=1))
    assert frames[0].shape[:2] == (22, 16)


def test_video_side_by_side(tmp_path):
    frames = video_frames(write_video(tmp_path / "pair.webm", [walking_bar(6), walking_bar(9)], scale=2))
    assert len(frames) == 9 and frames[0].shape[1] == 2 * 88 + 2


def test_video_bad_suffix(tmp_path):
    with pytest.raises(ValueError, match="suffix"):
        write_video(tmp_path / "walk.mkv", walking_bar(3))


def test_png_strip_samples_evenly(tmp_path):
    seq = walking_bar(30)
    strip = png_strip(seq, num_frames=6, scale=2, separator=1)
    assert strip.shape == (128, 6 * 88 + 5)
    assert np.array_equal(strip[:, :88], upscale(seq.frames[:1], 2)[0])
    assert np.array_equal(strip[:, -88:], upscale(seq.frames[-1:], 2)[0])
    short = png_strip(walking_bar(3), num_frames=8, scale=1)
    assert short.shape == (64, 3 * 44 + 2)


def test_png_strip_rows_with_labels(tmp_path):
    path = write_png_strip(tmp_path / "rows.png", [walking_bar(10), walking_bar(4)], num_frames=5, labels=["a", "b"])
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    assert image.ndim == 2 and image.shape[0] == 2 * 128 + 1
    assert image.shape[1] == 48 + 5 * 88 + 4


def test_cli_preview_one_and_two(tmp_path, capsys):
    write_pkl_sequence(tmp_path / "ds", walking_bar(20, width=64, subject="001"))
    write_pkl_sequence(tmp_path / "ds", walking_bar(12, width=64, subject="002"))
    one, two = tmp_path / "ds" / "001" / "nm-01" / "090", tmp_path / "ds" / "002" / "nm-01" / "090" / "090.pkl"
    assert main(["preview", str(one), "--out", str(tmp_path / "one.gif")]) == 0
    with Image.open(tmp_path / "one.gif") as im:
        assert im.n_frames == 20 and im.size == (192, 192)
    assert main(["preview", str(one), str(two), "--out", str(tmp_path / "two.webm"), "--scale", "2"]) == 0
    frames = video_frames(tmp_path / "two.webm")
    assert len(frames) == 20 and frames[0].shape[1] == 2 * 128 + 2
    assert main(["preview", str(one), str(two), "--out", str(tmp_path / "two.png"), "--frames", "4"]) == 0
    assert cv2.imread(str(tmp_path / "two.png")) is not None
    assert "side by side" in capsys.readouterr().out


def test_cli_preview_bad_output_suffix(tmp_path, capsys):
    write_pkl_sequence(tmp_path / "ds", walking_bar(5, width=64))
    seq = tmp_path / "ds" / "001" / "nm-01" / "090"
    assert main(["preview", str(seq), "--out", str(tmp_path / "x.jpg")]) == 2
    assert "x.jpg" in capsys.readouterr().err
