"""The web studio through its API, as `gradio_client` sees it: every tab's endpoint, good and bad input.

The app runs in-process on a free loopback port, with a tiny untrained generator so that the
Synthesize tab has weights to run (the clips are noise; the plumbing is what is tested).
"""

from __future__ import annotations

import json
import pickle
import socket
import zipfile

import cv2
import numpy as np
import pytest

from app import AppConfig, prepare_environment


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tiny_generator(folder):
    """An untrained, very small generation pipeline folder (fast on a CPU)."""
    from diffusers import DPMSolverMultistepScheduler

    from generators import GaitGenerationPipeline, GaitLatentDenoiser, SilhouetteAutoencoder

    denoiser = GaitLatentDenoiser(latent_dim=8, identity_dim=16, width=32, depth=1, heads=2)
    scheduler = DPMSolverMultistepScheduler(beta_schedule="squaredcos_cap_v2", prediction_type="v_prediction")
    GaitGenerationPipeline(SilhouetteAutoencoder(latent_dim=8, channels=8), denoiser, scheduler).save_pretrained(folder)
    return folder


def start_app(tmp_path_factory, **config):
    from gradio_client import Client

    work = tmp_path_factory.mktemp("app")
    prepare_environment(work)  # before gradio is imported
    from app.studio_app import launch_app

    demo, url = launch_app(
        AppConfig(port=free_port(), work_dir=str(work), max_upload_mb=12, max_video_frames=120, **config)
    )
    client = Client(url, analytics_enabled=False, verbose=False, download_files=str(work / "downloads"))
    return demo, client


@pytest.fixture(scope="module")
def studio(tmp_path_factory):
    generator = tiny_generator(tmp_path_factory.mktemp("generator") / "tiny")
    demo, client = start_app(tmp_path_factory, generator=str(generator))
    yield client
    demo.close()


def upload(client, path):
    from gradio_client import handle_file

    return client.predict(handle_file(str(path)), api_name="/load_upload")


def test_load_a_bundled_sample(studio):
    from PIL import Image

    preview, summary, details, track, status = studio.predict("walker-003-cl", api_name="/load_sample")
    with Image.open(preview) as gif:
        assert gif.format == "GIF" and gif.n_frames > 10  # an animation, not a still
    assert "**40 frames** of 64×64" in summary and "cl-01" in summary
    assert details["shape"] == [40, 64, 64] and details["subject"] == "003"
    assert status == ""


def _write_bad_inputs(folder):
    """name → (file, text the page must show)."""
    folder.mkdir(exist_ok=True)
    bad = {}
    path = folder / "corrupt.pkl"
    path.write_bytes(b"\x80\x04\x95 this pickle was cut short")
    bad["corrupt pkl"] = (path, "not a readable pickle")

    class Payload:
        def __reduce__(self):
            return (open, (str(folder / "pwned.txt"), "w"))

    path = folder / "evil.pkl"
    path.write_bytes(pickle.dumps(Payload()))
    bad["code-running pickle"] = (path, "only numpy arrays are allowed")

    path = folder / "notes.txt"
    path.write_text("not a clip")
    bad["non-video"] = (path, "not a supported clip")

    path = folder / "traversal.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("../../escape.png", b"x")
    bad["path traversal zip"] = (path, "climbs out of the archive")

    path = folder / "no_images.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("readme.txt", "no frames here")
    bad["zip without images"] = (path, "holds no .png")

    path = folder / "empty_room.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 25.0, (160, 120))
    for _ in range(30):
        writer.write(np.full((120, 160, 3), 90, np.uint8))
    writer.release()
    bad["video with nobody"] = (path, "no walking person")
    return bad


def test_bad_uploads_show_a_message_and_the_app_keeps_serving(studio, tmp_path):
    studio.predict("walker-001-nm", api_name="/load_sample")
    for what, (path, expected) in _write_bad_inputs(tmp_path / "bad").items():
        *_, status = upload(studio, path)
        assert "Could not load" in status and path.name in status, what
        assert expected in status, f"{what}: {status}"
        assert "Traceback" not in status and str(tmp_path) not in status  # no stack, no server paths
    assert not (tmp_path / "bad" / "pwned.txt").exists(), "the pickle's code must never run"
    # the earlier clip is still loaded, and the app still answers
    preview, summary, *_ = studio.predict("walker-002-bg", api_name="/load_sample")
    assert "bg-01" in summary


def test_oversize_upload_is_refused(studio, tmp_path):
    big = tmp_path / "huge.avi"
    big.write_bytes(bytes(13 * 1024**2))  # over the app's 12 MB limit
    with pytest.raises(Exception, match="(?i)size|large|413"):
        upload(studio, big)
    assert "cl-01" in studio.predict("walker-003-cl", api_name="/load_sample")[1]


@pytest.mark.slow
def test_video_with_several_walkers_offers_a_track_picker(studio, shared_data):
    video = shared_data / "video" / "vtest.avi"
    if not video.is_file():
        pytest.skip(f"{video} is absent")
    preview, summary, details, track, status = upload(studio, video)
    assert status == "" and preview.endswith(".gif")
    choices = track["choices"]
    assert len(choices) >= 3 and track["visible"], "vtest.avi shows several people walking"
    assert f"Walker 1 of {len(choices)}" in summary
    preview, summary, details, track, status = studio.predict(2, api_name="/pick_track")
    assert f"Walker 3 of {len(choices)}" in summary and details["track_id"] == 3


def test_synthesize_writes_an_opengait_dataset(studio, tmp_path):
    from studio.data.safe_pickle import load_array_pickle

    gallery, download, status = studio.predict(2, ["000", "090"], ["nm", "cl"], 7, 2, api_name="/synthesize")
    assert "**8 clips** of 2 novel identities" in status
    assert len(gallery) == 8 and gallery[0]["image"].endswith(".gif")
    with zipfile.ZipFile(download) as zf:
        names = set(zf.namelist())
        zf.extractall(tmp_path)
    assert {"manifest.json", "partition.json", "novel-001/cl-01/090/090.pkl", "novel-002/nm-01/000/000.pkl"} <= names
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert len(manifest["sequences"]) == 8 and manifest["settings"]["views"] == ["000", "090"]
    frames = load_array_pickle(tmp_path / "novel-002" / "nm-01" / "000" / "000.pkl")
    assert frames.shape == (30, 64, 64) and frames.dtype == np.uint8


def test_synthesize_asks_for_a_choice(studio):
    gallery, download, status = studio.predict(1, [], ["nm"], 0, 2, api_name="/synthesize")
    assert "choose at least one view" in status and not gallery and download is None


def test_synthesize_without_weights_says_how_to_get_them(tmp_path_factory):
    demo, client = start_app(tmp_path_factory, generator=str(tmp_path_factory.mktemp("none") / "missing"))
    try:
        gallery, download, status = client.predict(1, ["090"], ["nm"], 0, 2, api_name="/synthesize")
        assert "generator weights not installed" in status and "studio train-generator" in status
        assert not gallery and download is None
        # the rest of the app works without a generator
        assert "nm-01" in client.predict("walker-001-nm", api_name="/load_sample")[1]
    finally:
        demo.close()
