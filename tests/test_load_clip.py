"""`load_clip`: one entry point for every kind of clip a user may bring, and the built-in samples."""

from __future__ import annotations

import pickle
import zipfile

import cv2
import numpy as np
import pytest

from gaitdata import GaitDataError, UnsafePickleError, write_pkl_sequence
from gaitdata.npz_file import write_npz
from gaitdata.safe_pickle import dump_array_pickle
from studio.jobs.load_clip import SAMPLES, ClipLimits, bundled_sample, load_clip, safe_label, silhouette_problem


class CreatesAFile:
    """A pickle payload: unpickling it with `pickle.load` would create `marker`."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.mark.parametrize("name", list(SAMPLES))
def test_bundled_samples_are_procedural_walkers(name):
    seq = bundled_sample(name)
    subject, condition = SAMPLES[name]
    assert seq.frames.shape == (40, 64, 64) and seq.frames.dtype == np.uint8
    assert seq.key == (subject, condition, "090")
    seq.frames[:] = 0  # a caller's copy: the cached sample stays intact
    assert bundled_sample(name).frames.any()


def test_unknown_sample_lists_the_choices():
    with pytest.raises(ValueError, match="walker-001-nm"):
        bundled_sample("nobody")


def test_opengait_pkl_npz_and_zip_dispatch(tmp_path):
    seq = bundled_sample("walker-003-cl")
    pkl = write_pkl_sequence(tmp_path / "data", seq)
    (loaded,) = load_clip(pkl)
    assert loaded.key == ("003", "cl-01", "090") and np.array_equal(loaded.frames, seq.frames)
    # an upload is outside any dataset: the layout says nothing, the file name is the subject
    (upload,) = load_clip(pkl, trust_layout=False)
    assert upload.key == ("090", "unknown", "unknown")

    (from_npz,) = load_clip(write_npz(tmp_path / "clip.npz", seq))
    assert from_npz.key == seq.key

    archive = tmp_path / "frames.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for i, frame in enumerate(seq.frames):
            zf.writestr(f"{i:04d}.png", cv2.imencode(".png", frame)[1].tobytes())
    (from_zip,) = load_clip(archive)
    assert from_zip.num_frames == seq.num_frames

    (from_folder,) = load_clip(pkl.parent)
    assert from_folder.key == seq.key


def test_a_pickle_that_would_run_code_is_refused_and_never_runs(tmp_path):
    marker = tmp_path / "pwned.txt"
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps(CreatesAFile(marker), protocol=4))
    with pytest.raises(UnsafePickleError, match="only numpy arrays are allowed"):
        load_clip(path, trust_layout=False)
    assert not marker.exists()
    # the same payload disguised with another suffix is still recognised as a pickle
    disguised = tmp_path / "walk.bin"
    disguised.write_bytes(path.read_bytes())
    with pytest.raises(UnsafePickleError):
        load_clip(disguised)
    assert not marker.exists()


@pytest.mark.parametrize(
    "name, content, problem",
    [
        ("corrupt.pkl", b"\x80\x04\x95garbage", "not a readable pickle"),
        ("notes.txt", b"hello, this is text", "not a supported clip"),
        ("fake.mp4", b"this is not a video at all", "cannot be decoded as a video"),
        ("empty.avi", b"", "file is empty"),
    ],
)
def test_bad_files_name_the_file_and_the_problem(tmp_path, name, content, problem):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(GaitDataError, match=problem) as err:
        load_clip(path)
    assert name in str(err.value)


def test_oversize_files_are_refused_before_reading(tmp_path):
    path = tmp_path / "big.pkl"
    path.write_bytes(b"\x80\x04" + bytes(3 * 512 * 1024))
    with pytest.raises(GaitDataError, match=r"file is 1.5 MB, over the 1 MB size limit"):
        load_clip(path, max_bytes=1024**2)


def test_a_video_with_nobody_in_it(tmp_path):
    path = tmp_path / "empty_room.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 25.0, (160, 120))
    rng = np.random.default_rng(0)
    room = rng.integers(60, 120, (120, 160, 3), dtype=np.uint8)
    for _ in range(40):
        writer.write(room)
    writer.release()
    with pytest.raises(GaitDataError, match="no walking person"):
        load_clip(path)


@pytest.mark.slow
def test_real_video_gives_one_sequence_per_walker(shared_data):
    video = shared_data / "video" / "vtest.avi"
    if not video.is_file():
        pytest.skip(f"{video} is absent")
    seen = []
    seqs = load_clip(video, max_video_frames=150, progress=lambda done, total: seen.append(done))
    assert len(seqs) >= 3, "vtest.avi shows several people walking"
    assert all(s.frames.shape[1:] == (64, 64) for s in seqs)
    assert len({s.subject for s in seqs}) == len(seqs)  # vtest-t01, vtest-t02, ...
    assert seen and max(seen) <= 150


# ---- limits, names and what is not a silhouette (issue 15) ------------------------------------------


def _zip_of(path, frame, count, folder=""):
    data = cv2.imencode(".png", frame)[1].tobytes()
    with zipfile.ZipFile(path, "w") as zf:
        for i in range(count):
            zf.writestr(f"{folder}{i:04d}.png", data)
    return path


def _pkl_of(path, frames):
    with open(path, "wb") as f:
        dump_array_pickle(frames, f)
    return path


def test_safe_label_is_a_short_file_name_derived_from_any_text():
    assert safe_label("075") == "075" and safe_label("nm-01") == "nm-01"
    assert safe_label("../../etc") == "etc" and safe_label("..") == "clip" and safe_label("") == "clip"
    assert safe_label("a b/c\\d:é") == "a_b_c_d"
    long_a, long_b = "s" * 250, "s" * 249 + "t"
    assert len(safe_label(long_a)) == 48 and safe_label(long_a) != safe_label(long_b)  # cut, still distinct
    assert len(safe_label("é" * 250)) <= 48


def test_an_upload_with_a_250_character_folder_gets_short_names(tmp_path):
    frames = bundled_sample("walker-001-nm").frames
    archive = tmp_path / "long.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for i, frame in enumerate(frames):
            zf.writestr(f"{'p' * 250}/{'c' * 250}/{'v' * 250}/{i:04d}.png", cv2.imencode(".png", frame)[1].tobytes())
    (seq,) = load_clip(archive, trust_layout=False)
    assert all(len(name) <= 48 for name in seq.key) and seq.subject.startswith("ppp")
    (kept,) = load_clip(archive)  # a trusted layout (the CLI on a dataset) keeps its names
    assert kept.subject == "p" * 250


def test_a_zip_of_huge_frames_is_refused_from_its_headers_before_decoding(tmp_path, monkeypatch):
    archive = _zip_of(tmp_path / "huge.zip", np.zeros((4096, 4096), np.uint8), 30)
    assert archive.stat().st_size < 2 * 1024**2  # small on disk, 503 MP decoded

    def no_decoding(*args, **kwargs):
        raise AssertionError("a frame was decoded")

    monkeypatch.setattr(cv2, "imdecode", no_decoding)
    with pytest.raises(GaitDataError, match=r"frames are 4096×4096 \(16.8 MP\), larger than the 8.29 MP per frame"):
        load_clip(archive, limits=ClipLimits())
    with pytest.raises(GaitDataError, match=r"30 frames of 4096×4096 decode to 503 MP, more than the 33.6 MP"):
        load_clip(archive, limits=ClipLimits(max_frame_pixels=None))


def test_clips_over_the_frame_cap_are_refused_with_the_cap(tmp_path):
    frames = np.tile(bundled_sample("walker-001-nm").frames, (3, 1, 1))  # 120 frames
    limits = ClipLimits(max_frames=100)
    with pytest.raises(GaitDataError, match="has 120 frames, more than the 100 per clip this studio takes"):
        load_clip(_pkl_of(tmp_path / "long.pkl", frames), limits=limits)
    archive = tmp_path / "long.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for i, frame in enumerate(frames):
            zf.writestr(f"{i:04d}.png", cv2.imencode(".png", frame)[1].tobytes())
    with pytest.raises(GaitDataError, match="has 120 frames, more than the 100"):
        load_clip(archive, limits=limits)
    (seq,) = load_clip(_pkl_of(tmp_path / "ok.pkl", frames[:100]), limits=limits)
    assert seq.num_frames == 100


@pytest.mark.parametrize(
    "name, make, problem",
    [
        ("empty", lambda rng: np.zeros((30, 64, 64), np.uint8), "none of its 30 frames holds a silhouette"),
        ("grey noise", lambda rng: rng.integers(0, 256, (30, 64, 64), dtype=np.uint8), "mostly grey"),
        (
            "speckle noise",
            lambda rng: (rng.random((30, 64, 64)) < 0.5).astype(np.uint8) * 255,
            "look like random noise, not silhouettes",
        ),
        ("all white", lambda rng: np.full((30, 64, 64), 255, np.uint8), "100% foreground"),
    ],
)
def test_a_pkl_that_is_not_silhouettes_says_what_is_wrong(tmp_path, name, make, problem):
    path = _pkl_of(tmp_path / "clip.pkl", make(np.random.default_rng(0)))
    with pytest.raises(GaitDataError, match=problem) as err:
        load_clip(path, trust_layout=False)
    assert "clip.pkl" in str(err.value)


def test_real_silhouettes_pass_the_silhouette_check():
    for name in SAMPLES:
        frames = bundled_sample(name).frames
        assert silhouette_problem(frames) is None
        assert silhouette_problem(np.concatenate([frames, np.zeros((5, 64, 64), np.uint8)])) is None  # a few empty


def test_a_video_without_walkers_gives_advice_a_user_can_act_on(tmp_path):
    path = tmp_path / "empty_room.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 25.0, (160, 120))
    for _ in range(30):
        writer.write(np.full((120, 160, 3), 90, np.uint8))
    writer.release()
    with pytest.raises(GaitDataError) as err:
        load_clip(path)
    text = str(err.value)
    assert "no walking person found" in text and "camera that does not move" in text
    assert "method=" not in text and "min_frames" not in text  # no options a page user does not have
    with pytest.raises(GaitDataError, match="video frames are 160×120"):
        load_clip(path, limits=ClipLimits(max_frame_pixels=100 * 100))
