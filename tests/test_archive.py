"""Zip archives of mask frames: read in memory, hostile archives refused with a clear message."""

from __future__ import annotations

import io
import stat
import zipfile

import cv2
import numpy as np
import pytest
from PIL import Image

from gaitdata import GaitDataError
from gaitdata.archive import ArchiveLimits, read_frame_archive, write_folder_zip


def walker_mask(i: int, height: int = 120, width: int = 90) -> np.ndarray:
    """A crude walking figure whose stride changes with `i` (enough for pretreatment)."""
    mask = np.zeros((height, width), np.uint8)
    cv2.ellipse(mask, (45, 20), (8, 10), 0, 0, 360, 255, -1)  # head
    cv2.rectangle(mask, (35, 30), (55, 75), 255, -1)  # torso
    swing = 5 + 3 * (i % 8)
    cv2.line(mask, (45, 75), (45 - swing, 115), 255, 8)  # legs
    cv2.line(mask, (45, 75), (45 + swing, 115), 255, 8)
    return mask


def png_bytes(image: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".png", image)
    assert ok
    return buf.tobytes()


def make_zip(path, members: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)


def test_frames_are_read_in_natural_order_and_pretreated(tmp_path):
    # 1..12.png: a plain sort would put 10, 11, 12 before 2
    members = {f"{i}.png": png_bytes(walker_mask(i)) for i in range(1, 13)}
    members["readme.txt"] = b"not a frame"
    members["__MACOSX/._1.png"] = b"resource fork junk"
    path = tmp_path / "clip.zip"
    make_zip(path, members)

    seq = read_frame_archive(path)
    assert seq.frames.shape == (12, 64, 64) and seq.frames.dtype == np.uint8
    assert seq.subject == "clip" and seq.source == str(path)

    # without pretreatment the raw frames come back, in natural order: frame k has value k
    ordered = {f"{i}.png": png_bytes(np.full((8, 8), i * 10, np.uint8)) for i in range(1, 13)}
    make_zip(path, ordered)
    raw = read_frame_archive(path, pretreat=False)
    assert [int(f[0, 0]) for f in raw.frames] == [i * 10 for i in range(1, 13)]


def test_layout_folders_inside_the_archive_name_the_sequence(tmp_path):
    path = tmp_path / "upload.zip"
    make_zip(path, {f"075/cl-01/090/{i:03d}.png": png_bytes(walker_mask(i)) for i in range(6)})
    seq = read_frame_archive(path)
    assert seq.key == ("075", "cl-01", "090")


@pytest.mark.parametrize(
    "name, problem",
    [
        ("../evil.png", "climbs out of the archive"),
        ("frames/../../evil.png", "climbs out of the archive"),
        ("/tmp/evil.png", "absolute path"),
        ("C:/evil.png", "absolute path"),
    ],
)
def test_path_traversal_names_are_refused(tmp_path, name, problem):
    path = tmp_path / "hostile.zip"
    make_zip(path, {"0001.png": png_bytes(walker_mask(0)), name: png_bytes(walker_mask(1))})
    with pytest.raises(GaitDataError, match=problem) as err:
        read_frame_archive(path)
    assert "hostile.zip" in str(err.value)
    assert not (tmp_path.parent / "evil.png").exists()


def test_symlink_members_are_refused(tmp_path):
    path = tmp_path / "link.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("0001.png", png_bytes(walker_mask(0)))
        link = zipfile.ZipInfo("0002.png")
        link.create_system = 3  # unix
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, "/etc/passwd")
    with pytest.raises(GaitDataError, match="symbolic link"):
        read_frame_archive(path)


def test_zip_bombs_are_refused_before_decoding(tmp_path):
    # too many members
    path = tmp_path / "many.zip"
    make_zip(path, {f"{i}.png": b"x" for i in range(11)})
    with pytest.raises(GaitDataError, match="11 members, more than the 10 allowed"):
        read_frame_archive(path, limits=ArchiveLimits(max_members=10))
    # one member that inflates hugely (20 MB of zeros compress to ~20 kB)
    path = tmp_path / "bomb.zip"
    make_zip(path, {"0001.png": bytes(20 * 1024**2)})
    with pytest.raises(GaitDataError, match="inflates to 21.0 MB"):
        read_frame_archive(path)
    # a small, highly compressible member: refused by its compression ratio
    make_zip(path, {"0001.png": bytes(4 * 1024**2)})
    with pytest.raises(GaitDataError, match="compression ratio"):
        read_frame_archive(path)
    # a small PNG that declares a huge image
    buf = io.BytesIO()
    Image.new("L", (5000, 5000)).save(buf, format="PNG")
    path = tmp_path / "pixels.zip"
    make_zip(path, {"0001.png": buf.getvalue()})
    with pytest.raises(GaitDataError, match="declares 5000x5000 pixels"):
        read_frame_archive(path)


@pytest.mark.parametrize(
    "members, problem",
    [
        ({"readme.txt": b"hello", "data.csv": b"1,2"}, "holds no .png"),
        ({"a/1.png": png_bytes(walker_mask(0)), "b/1.png": png_bytes(walker_mask(1))}, "lie in 2 folders"),
        ({f"{i}.png": png_bytes(np.zeros((40, 30), np.uint8)) for i in range(3)}, "none of its 3 frames"),
        ({"1.png": png_bytes(walker_mask(0)), "2.png": png_bytes(walker_mask(1, 100, 80))}, "unlike the first"),
        ({"1.png": b"\x89PNG\r\n\x1a\n broken"}, "not a readable image"),
    ],
)
def test_unusable_archives_say_what_is_wrong(tmp_path, members, problem):
    path = tmp_path / "bad.zip"
    make_zip(path, members)
    with pytest.raises(GaitDataError, match=problem):
        read_frame_archive(path)


def test_a_file_that_is_not_a_zip(tmp_path):
    path = tmp_path / "fake.zip"
    path.write_text("this is not a zip")
    with pytest.raises(GaitDataError, match="not a readable zip"):
        read_frame_archive(path)


def test_write_folder_zip_round_trip(tmp_path):
    folder = tmp_path / "dataset"
    (folder / "001" / "nm-01" / "090").mkdir(parents=True)
    (folder / "001" / "nm-01" / "090" / "090.pkl").write_bytes(b"pkl")
    (folder / "manifest.json").write_text("{}")
    out = write_folder_zip(folder, tmp_path / "dataset.zip")
    with zipfile.ZipFile(out) as zf:
        assert sorted(zf.namelist()) == ["001/nm-01/090/090.pkl", "manifest.json"]
