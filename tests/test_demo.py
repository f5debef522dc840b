"""The README's main job works end to end on a small setting."""

import json

from PIL import Image

from gaitdata import load_opengait, read_partition
from studio.cli import main


def test_demo_renders_a_dataset_and_previews(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path / "demo"), "--subjects", "3"]) == 0
    summary = json.loads((tmp_path / "demo" / "demo_summary.json").read_text())
    sequences, report = load_opengait(summary["dataset"])
    assert report.loaded == summary["sequences"] == 3 * 4 * 5 and not report.skipped
    part = read_partition(tmp_path / "demo" / "walkers" / "partition.json")
    assert set(part.train) | set(part.test) == {"001", "002", "003"}
    gif = Image.open(summary["previews"]["side_by_side_gif"])
    assert gif.n_frames >= 30
    generated = Image.open(summary["previews"]["real_vs_generated_gif"])
    assert generated.n_frames >= 30 and generated.size[0] > gif.size[0] // 2
    for path in summary["previews"].values():
        assert (tmp_path / "demo" / "previews").samefile(path.rsplit("/", 1)[0])
    out = capsys.readouterr().out
    assert "summary:" in out
    for kind in ("generated", "edited", "anonymized"):
        paths = summary["reports"][kind]
        report = json.loads(open(paths["json"]).read())
        assert report["kind"] == kind and paths["html"] in out
