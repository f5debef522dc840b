"""`load_clip`: one entry point for every kind of clip a user may bring, and the built-in samples."""

from __future__ import annotations

import pickle
import zipfile

import cv2
import numpy as np
import pytest

from studio.data import GaitDataError, UnsafePickleError, write_pkl_sequence
from studio.data.npz_file import write_npz
from studio.pipelines.load_clip import SAMPLES, bundled_sample, load_clip


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
