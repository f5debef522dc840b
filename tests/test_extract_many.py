"""Many videos → one dataset: folders of videos, bad videos skipped, shared between processes.

The clips are the synthetic stick-figure walkers of `test_video.py` (60 frames each), with a
truncated and an empty video among them. One run in this process is the reference: two processes
(`torchrun --nproc_per_node 2 -m studio.cli extract`) must write the same files byte for byte
and the same manifest (timings apart), and so must a rerun after one process kill -9'd itself.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from test_sharding import _environment  # plain runs not told they were launched, one thread each
from test_video import write_walker_clip

from gaitdata import GaitDataError, load_opengait
from gaitdata.job_folder import read_rows  # a killed process's rows, a half-written last one left out
from studio.cli import main
from studio.jobs.extract import MANIFEST_KIND, extract_video_to_dataset, video_entries
from studio.jobs.extract_many import VIDEO_SUFFIXES, extract_videos_to_dataset, video_files

TIMINGS = ("timings_s", "frames_per_s")  # the only fields that differ from run to run (of the rows' entries)


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> Path:
    """a (1 walker), b-cut (truncated), c-empty (0 bytes), d (2 walkers), e.AVI (1 walker), and
    two files a folder scan leaves out: notes.txt and a hidden ._a.avi."""
    folder = tmp_path_factory.mktemp("many") / "clips"
    folder.mkdir()
    data = write_walker_clip(folder / "a.avi", num_frames=60).read_bytes()
    (folder / "b-cut.avi").write_bytes(data[: len(data) // 2])
    (folder / "c-empty.avi").write_bytes(b"")
    write_walker_clip(folder / "d.avi", num_frames=60, walkers=2)
    write_walker_clip(folder / "e.AVI", num_frames=60, scales=[1.2])
    (folder / "notes.txt").write_text("not a video\n")
    (folder / "._a.avi").write_bytes(b"\0" * 64)
    return folder


@pytest.fixture(scope="module")
def one_process(clips) -> tuple[Path, dict]:
    out = clips.parent / "one"
    return out, extract_videos_to_dataset([clips], out)


def _files(root: Path) -> dict[str, bytes]:
    """Every file of the dataset (`manifest.json` among them) but the rows, which hold timings → its bytes."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and p.name != "manifest.jsonl"}  # fmt: skip


def _manifest(root: Path) -> str:
    """The manifest's rows as written, their timings taken out."""
    rows = read_rows(root / "manifest.jsonl")
    for row in rows:
        for key in TIMINGS:
            row.get("entry", {}).pop(key, None)
    return json.dumps(rows, indent=1)


def _launch(arguments: list[str], processes: int) -> subprocess.CompletedProcess:
    launcher = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={processes}"]
    return subprocess.run([*launcher, *arguments], env=_environment(), capture_output=True, text=True, timeout=600)


# ---- one process ------------------------------------------------------------------------------
def test_many_videos_make_one_dataset_and_bad_ones_are_skipped_with_their_reason(clips, one_process):
    out, summary = one_process
    assert summary["counts"] == {"videos": 5, "extracted": 3, "reused": 0, "failed": 2, "tracks_kept": 4,
                                 "tracks_refused": 0, "sequences_written": 4}  # fmt: skip
    status = {r["stem"]: (r["status"], r.get("reason", "")) for r in summary["videos"]}
    assert list(status) == ["a", "b-cut", "c-empty", "d", "e"]  # the folder's videos, sorted
    assert status["b-cut"][0] == status["c-empty"][0] == "failed"
    assert "truncated" in status["b-cut"][1] and "cannot be decoded" in status["c-empty"][1]

    rows = {row["stem"]: row for row in read_rows(out / "manifest.jsonl")}  # one per video, in the job's order
    assert list(rows) == ["a", "b-cut", "c-empty", "d", "e"]
    assert [stem for stem, row in rows.items() if row["status"] == "done"] == ["a", "d", "e"]
    assert list(video_entries(out)) == ["a", "d", "e"] and all(e["complete"] for e in video_entries(out).values())
    assert rows["b-cut"]["status"] == "skipped" and rows["b-cut"]["reason"] == status["b-cut"][1]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["kind"] == MANIFEST_KIND and manifest["status"] == "complete" and manifest["settings"] == {}
    assert {stem: f["reason"] for stem, f in manifest["failed"].items()} == {
        "b-cut": status["b-cut"][1],
        "c-empty": status["c-empty"][1],
    }
    assert manifest["counts"] == {"videos": 3, "sequences": 4, "failed": 2}
    sequences, report = load_opengait(out)
    assert sorted(s.subject for s in sequences) == ["a-t01", "d-t01", "d-t02", "e-t01"] and not report.skipped
    assert (out / "previews" / "d" / "tracks.png").is_file()
    assert summary["shard"]["count"] == 1 and summary["processes"] == 1
    assert not list(out.glob("manifest.shard-*"))  # one process: its rows went straight to manifest.jsonl


def test_a_rerun_keeps_finished_videos_and_tries_the_bad_ones_again(clips, one_process, tmp_path):
    out = tmp_path / "again"
    shutil.copytree(one_process[0], out)
    pkl = out / "d-t01" / "nm-01" / "unk" / "unk.pkl"
    written = pkl.stat().st_mtime_ns
    summary = extract_videos_to_dataset([clips], out)
    assert [r["status"] for r in summary["videos"]] == ["reused", "failed", "failed", "reused", "reused"]
    assert summary["counts"]["sequences_written"] == 0 and summary["counts"]["tracks_kept"] == 4
    assert pkl.stat().st_mtime_ns == written
    assert _files(out) == _files(one_process[0]) and _manifest(out) == _manifest(one_process[0])
    # the one-video function sees the same dataset: the video is already there
    assert extract_video_to_dataset(clips / "a.avi", out).reused


def test_a_run_stopped_midway_is_resumed_where_it_stopped(clips, one_process, tmp_path):
    out, videos = tmp_path / "stopped", [clips / "a.avi", clips / "c-empty.avi", clips / "e.AVI"]

    def stop_after_the_first(done: int, total: int) -> None:
        if done == 1:
            raise KeyboardInterrupt  # Ctrl-C, or a kill: a's result is on disk already

    with pytest.raises(KeyboardInterrupt):
        extract_videos_to_dataset(videos, out, progress=stop_after_the_first)
    assert [row["stem"] for row in read_rows(out / "manifest.jsonl")] == ["a"]
    assert json.loads((out / "manifest.json").read_text())["status"] == "running"
    summary = extract_videos_to_dataset(videos, out)
    assert [r["status"] for r in summary["videos"]] == ["reused", "failed", "extracted"]
    theirs = ("a-", "e-", "previews/a/", "previews/e/")
    files = _files(out)
    manifest = json.loads(files.pop("manifest.json"))
    assert files == {name: data for name, data in _files(one_process[0]).items() if name.startswith(theirs)}
    assert manifest["status"] == "complete" and manifest["counts"] == {"videos": 2, "sequences": 2, "failed": 1}


def test_which_videos_a_job_takes(tmp_path):
    for name in ("x/walk.avi", "y/walk.MP4", "y/run.webm", "z/readme.md"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_bytes(b"")
    x, y = tmp_path / "x", tmp_path / "y"
    assert video_files([y]) == [y / "run.webm", y / "walk.MP4"]
    assert video_files([x / "walk.avi", x, tmp_path / "z" / "readme.md"]) == [x / "walk.avi", tmp_path / "z/readme.md"]
    with pytest.raises(ValueError, match=r"x/walk.avi and .*y/walk.MP4 would both become subjects 'walk-tNN'"):
        video_files([x, y])
    with pytest.raises(GaitDataError, match="folder holds no video file"):
        video_files([tmp_path / "z"])
    with pytest.raises(GaitDataError, match="does not exist"):
        video_files([tmp_path / "nope.avi"])
    # a dataset that already holds another video's walk-tNN, written before the one manifest format
    out = tmp_path / "out"
    out.mkdir()
    manifest = {"kind": MANIFEST_KIND, "version": 1, "videos": {"walk": {"source": "/elsewhere/walk.avi"}},
                "failed": {"run": {"source": "/elsewhere/run.webm", "reason": "cannot be decoded"}}}  # fmt: skip
    (out / "extract_manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ValueError, match="another video named 'walk'"):
        extract_videos_to_dataset([y], out)
    # ... read and converted, not lost: the same refusal from the folder's new manifest
    assert not (out / "extract_manifest.json").exists() and video_entries(out) == {"walk": manifest["videos"]["walk"]}
    assert read_rows(out / "manifest.jsonl")[1] == {"stem": "run", "status": "skipped", **manifest["failed"]["run"]}
    with pytest.raises(ValueError, match="another video named 'walk'"):
        extract_videos_to_dataset([y], out)
    # a folder holding another job is refused; one holding other files is not
    other = tmp_path / "other"
    other.mkdir()
    (other / "manifest.json").write_text(json.dumps({"kind": "gait-studio procedural walkers", "settings": {}}))
    with pytest.raises(ValueError, match="holds a 'gait-studio procedural walkers' job, not a 'gait-studio video"):
        extract_videos_to_dataset([y], other)
    with pytest.raises(TypeError, match=r"unknown extraction options \['min_frame'\]: the options are method, "):
        extract_videos_to_dataset([y], out, min_frame=10)


def test_cli_takes_files_and_says_which_were_skipped(clips, tmp_path, capsys):
    out = tmp_path / "cli"
    assert main(["extract", str(clips / "a.avi"), str(clips / "c-empty.avi"), "--out", str(out), "--no-progress",
                 "--no-previews"]) == 0  # fmt: skip
    captured = capsys.readouterr()
    assert "1 videos extracted, 0 already done, 1 skipped: 1 walker sequences" in captured.out
    assert "c-empty.avi: skipped, " in captured.err and "shard" not in captured.out
    assert (out / "a-t01" / "nm-01" / "unk" / "unk.pkl").is_file() and not (out / "previews").exists()
    # nothing usable at all: exit status 2; a file named explicitly is tried whatever its suffix
    assert main(["extract", str(clips / "notes.txt"), "--out", str(out), "--no-progress", "--no-previews"]) == 2
    assert "notes.txt: skipped, cannot be decoded" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["extract", "--help"])
    shown = " ".join(capsys.readouterr().out.split())
    assert [s for s in VIDEO_SUFFIXES if s not in shown] == [], shown  # says which


# ---- two processes ----------------------------------------------------------------------------
def test_two_processes_write_byte_for_byte_what_one_writes(clips, one_process):
    reference, _ = one_process
    out = clips.parent / "two"
    done = _launch(["-m", "studio.cli", "extract", str(clips), "--out", str(out), "--no-progress"], 2)
    assert done.returncode == 0, done.stderr[-3000:]
    shares = sorted(re.findall(r"shard \d/2: \d+ clips of \d+ videos", done.stdout))
    assert shares == ["shard 1/2: 1 clips of 3 videos", "shard 2/2: 3 clips of 2 videos"]  # a b-cut c-empty | d e
    assert "3 videos extracted, 0 already done, 2 skipped: 4 walker sequences" in done.stdout
    assert _files(out) == _files(reference)
    assert _manifest(out) == _manifest(reference)
    assert not list(out.glob("manifest.shard-*"))


def test_a_killed_process_loses_nothing_and_the_rerun_redoes_only_the_rest(clips, one_process):
    reference, _ = one_process
    out = clips.parent / "killed"
    killed = _launch([str(Path(__file__)), str(clips), str(out), "1:1"], 2)  # process 2 dies after its 1st video
    assert killed.returncode != 0
    parts = sorted(out.glob("manifest.shard-*-of-2.jsonl"))
    finished = {row["stem"] for part in parts for row in read_rows(part) if row["status"] == "done"}
    assert "d" in finished and "e" not in finished  # (how far process 1 got before torchrun stopped it varies)

    summary = extract_videos_to_dataset([clips], out)  # one process now: any number will do
    status = {r["stem"]: r["status"] for r in summary["videos"]}
    assert {s for s, st in status.items() if st == "reused"} == finished
    assert {s for s, st in status.items() if st == "extracted"} == {"a", "d", "e"} - finished
    assert _files(out) == _files(reference) and _manifest(out) == _manifest(reference)
    assert not list(out.glob("manifest.shard-*"))


# ---- the worker that torchrun starts ----------------------------------------------------------
def _worker(clips: str, out: str, kill: str) -> None:
    """Extract every video of `clips`; `kill` = "RANK:N": that process kill -9s itself after its Nth video."""
    import signal

    from studio.jobs.sharding import current_shard

    shard = current_shard()
    rank, after = map(int, kill.split(":"))

    def progress(done: int, total: int) -> None:
        if shard.index == rank and done == after:
            os.kill(os.getpid(), signal.SIGKILL)

    extract_videos_to_dataset([clips], out, shard=shard, progress=progress)


if __name__ == "__main__":
    _worker(*sys.argv[1:])
