"""Reading and writing the OpenGait layout, with the quirks real datasets have."""

import json
import pickle

import numpy as np
import pytest

from gaitdata import (
    GaitDataError,
    GaitSequence,
    Partition,
    load_opengait,
    read_partition,
    read_sequence,
    scan_opengait,
    write_partition,
    write_pkl_sequence,
)


def _soft_sequence(t, subject="001", condition="nm-01", view="090", seed=0):
    rng = np.random.default_rng(seed)
    frames = np.zeros((t, 64, 64), np.uint8)
    frames[:, 8:60, 22:42] = rng.integers(0, 256, (t, 52, 20), dtype=np.uint8)  # soft, resized-looking values
    return GaitSequence(frames, subject, condition, view)


def test_written_files_are_what_opengaits_loader_reads(tmp_path):
    seq = _soft_sequence(12)
    path = write_pkl_sequence(tmp_path, seq)
    assert path == tmp_path / "001" / "nm-01" / "090" / "090.pkl"
    assert [p.name for p in path.parent.iterdir()] == ["090.pkl"], "OpenGait refuses other files in the folder"
    with open(path, "rb") as f:  # OpenGait's loader is a plain pickle.load of our own file
        array = pickle.load(f)
    assert array.dtype == np.uint8 and array.shape == (12, 64, 64)
    np.testing.assert_array_equal(array, seq.frames)


def test_round_trip_keeps_frames_and_layout_metadata(tmp_path):
    for i, (cond, view) in enumerate([("nm-01", "000"), ("bg-02", "090"), ("cl-01", "180")]):
        write_pkl_sequence(tmp_path, _soft_sequence(5 + i, "007", cond, view, seed=i))
    sequences, report = load_opengait(tmp_path)
    assert report.loaded == 3 and not report.skipped
    assert sorted(s.key for s in sequences) == [
        ("007", "bg-02", "090"),
        ("007", "cl-01", "180"),
        ("007", "nm-01", "000"),
    ]
    assert all(s.frames.max() > 1 and s.frames.dtype == np.uint8 for s in sequences), "soft values kept"


def test_quirks_one_frame_long_sequences_and_corrupt_files(tmp_path, caplog):
    write_pkl_sequence(tmp_path, _soft_sequence(1, "001", "nm-01", "000"))
    write_pkl_sequence(tmp_path, _soft_sequence(400, "001", "nm-02", "000"))
    bad = tmp_path / "002" / "nm-01" / "000"
    bad.mkdir(parents=True)
    (bad / "000.pkl").write_bytes(b"\x80\x04truncated")
    rank = tmp_path / "003" / "nm-01" / "000"
    rank.mkdir(parents=True)
    (rank / "000.pkl").write_bytes(pickle.dumps(np.zeros((2, 3, 64, 64), np.uint8)))
    sequences, report = load_opengait(tmp_path)
    assert sorted(s.num_frames for s in sequences) == [1, 400]
    assert report.loaded == 2 and len(report.skipped) == 2 and len(report.single_frame) == 1
    problems = dict(report.skipped)
    assert "truncated or corrupt" in problems[str(bad / "000.pkl")]
    assert "[T, H, W]" in problems[str(rank / "000.pkl")]
    assert "single frame" in caplog.text


def test_filters_and_condition_prefixes(tmp_path):
    for cond in ["nm-01", "nm-05", "bg-01", "cl-02"]:
        for view in ["000", "090"]:
            write_pkl_sequence(tmp_path, _soft_sequence(2, "010", cond, view))
    assert len(scan_opengait(tmp_path, conditions=["nm"])) == 4
    assert len(scan_opengait(tmp_path, conditions=["nm-05", "cl"], views=["090"])) == 2
    assert scan_opengait(tmp_path, subjects=["999"]) == []


def test_several_modalities_per_folder(tmp_path):
    folder = tmp_path / "001" / "nm-01" / "090"
    folder.mkdir(parents=True)
    (folder / "00-sils.pkl").write_bytes(pickle.dumps(np.full((4, 64, 64), 255, np.uint8)))
    (folder / "01-ratios.pkl").write_bytes(pickle.dumps(np.ones((4, 64, 64), np.uint8)))
    assert read_sequence(folder).frames.max() == 255
    assert read_sequence(folder, modality="ratios").frames.max() == 1
    assert read_sequence(folder / "01-ratios.pkl").key == ("001", "nm-01", "090")


def test_missing_dataset_folder_is_named(tmp_path):
    with pytest.raises(GaitDataError, match="nowhere: dataset folder does not exist"):
        load_opengait(tmp_path / "nowhere")


def test_unsafe_folder_names_are_refused(tmp_path):
    with pytest.raises(GaitDataError, match="subject"):
        write_pkl_sequence(tmp_path, _soft_sequence(2, subject="../escape"))


def test_partition_round_trip_and_errors(tmp_path):
    path = tmp_path / "partition.json"
    write_partition(path, Partition([f"{i:03d}" for i in range(1, 75)], [f"{i:03d}" for i in range(75, 125)]))
    part = read_partition(path)
    assert part.train[0] == "001" and part.test[-1] == "124" and len(part.test) == 50
    assert json.loads(path.read_text())["TRAIN_SET"][:2] == ["001", "002"]
    path.write_text('{"TRAIN_SET": ["001"], "TEST_SET": ["001"]}')
    with pytest.raises(GaitDataError, match="both"):
        read_partition(path)
    path.write_text("{not json")
    with pytest.raises(GaitDataError, match="partition.json: not valid JSON"):
        read_partition(path)


def test_written_files_are_readable_by_others(tmp_path):
    import os
    import stat

    path = write_pkl_sequence(tmp_path, _soft_sequence(2))
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask
