"""The web studio through its API, as `gradio_client` sees it: every tab's endpoint, good and bad input.

The app runs in-process on a free loopback port, with a tiny untrained generator so that the
Synthesize tab has weights to run (the clips are noise; the plumbing is what is tested).
"""

from __future__ import annotations

import json
import pickle
import socket
import zipfile
from pathlib import Path

import cv2
import numpy as np
import pytest

from gaitdata.safe_pickle import dump_array_pickle
from studio.app import AppConfig, prepare_environment
from studio.jobs.load_clip import bundled_sample


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


class TinyModels:
    """Untrained, very small editor models (conditioner, judge, covariate classifier): fast on a CPU.

    Each factory is called by the app once, on first use (as it loads the bundled weights).
    """

    def __init__(self, generator_folder):
        import torch

        from generators import GaitGenerationPipeline, IdentityBank
        from recognizers import CovariateClassifier, GaitBase, GaitSet

        torch.manual_seed(0)
        # 4 channels × 4 parts = the tiny generator's 16-number identities
        conditioner = GaitBase(
            channels=(8, 16), strides=(2, 1), stem_channels=8, embedding_dim=4, bin_num=(4,), class_num=4
        )
        self.judge = GaitSet(channels=(4, 8, 8), embedding_dim=8, class_num=4).eval()
        c, p = self.judge.embed(np.zeros((16, 64, 64), np.uint8)).shape
        self.classifier = CovariateClassifier(in_channels=c, parts_num=p, part_channels=4, hidden=16).eval()
        self.folder = generator_folder
        pipeline = GaitGenerationPipeline.from_pretrained(generator_folder, conditioner=conditioner.eval())
        dim = pipeline.denoiser.config.identity_dim
        self.bank = IdentityBank(np.random.default_rng(0).normal(size=(6, dim)), [f"{i:03d}" for i in range(6)])
        self.pipeline = pipeline
        self.calls = {"editor": 0, "classifier": 0}

    def load_editor(self):
        from generators.editor import GaitEditor

        self.calls["editor"] += 1
        calibration = {"metric": "euc", "threshold": 0.5, "far": 0.01}
        return GaitEditor(self.pipeline, bank=self.bank, judge=self.judge, calibration=calibration)

    def load_slow_editor(self, seconds: float):
        """An editor whose edits take at least `seconds` (to cancel one while it runs)."""
        import time

        editor = self.load_editor()
        edit = editor.edit

        def slow_edit(*args, **kwargs):
            time.sleep(seconds)
            return edit(*args, **kwargs)

        editor.edit = slow_edit
        return editor

    def load_step_editor(self, steps: int, seconds: float):
        """An editor whose edits first take `steps` steps of `seconds`, asking a `cancel` callable
        between them as the library's denoising loop is to (see `StepEditor`)."""
        self.step_editor = StepEditor(self.load_editor(), steps, seconds)
        return self.step_editor

    def load_covariate_classifier(self):
        self.calls["classifier"] += 1
        return self.classifier

    def config(self) -> dict:
        return dict(
            load_editor=self.load_editor,
            load_covariate_classifier=self.load_covariate_classifier,
            load_judge=lambda: self.judge,
        )


class StepEditor:
    """A `GaitEditor` whose `edit` takes `steps` steps of `seconds` first, calling `cancel()` before
    each (the hook between denoising steps); `done` counts the steps each call ran."""

    def __init__(self, editor, steps: int, seconds: float):
        self._editor, self.steps, self.seconds, self.done = editor, steps, seconds, []

    def __getattr__(self, name):
        return getattr(self._editor, name)

    def edit(self, *args, cancel=None, **kwargs):
        import time

        self.done.append(0)
        for _ in range(self.steps):
            if cancel is not None and cancel():
                raise RuntimeError("cancelled")  # what the library raises; the app's `cancel` raises first
            time.sleep(self.seconds)
            self.done[-1] += 1
        return self._editor.edit(*args, **kwargs)


def start_app(tmp_path_factory, **config):
    from gradio_client import Client

    work = tmp_path_factory.mktemp("app")
    prepare_environment(work)  # before gradio is imported
    from studio.app.studio_app import launch_app

    config = {"max_upload_mb": 12, "max_video_frames": 120, "max_clip_frames": 100, **config}
    demo, url = launch_app(AppConfig(port=free_port(), work_dir=str(work), **config))
    client = Client(url, analytics_enabled=False, verbose=False, download_files=str(work / "downloads"))
    return demo, client


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory):
    return TinyModels(tiny_generator(tmp_path_factory.mktemp("generator") / "tiny"))


@pytest.fixture(scope="module")
def studio_app(tmp_path_factory, tiny_models):
    demo, client = start_app(
        tmp_path_factory, generator=str(tiny_models.folder), sampler_steps=2, **tiny_models.config()
    )
    yield demo, client
    demo.close()


@pytest.fixture(scope="module")
def studio(studio_app):
    return studio_app[1]


def new_client(client):
    """Another user of the same app: a session (and `gr.State`) of its own."""
    from gradio_client import Client

    return Client(client.src, analytics_enabled=False, verbose=False, download_files=client.output_dir)


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


def _zip_of_black_frames(path, size: int, count: int = 30):
    """A zip of `count` black `size`×`size` PNG frames (small files, big decodes)."""
    png = cv2.imencode(".png", np.zeros((size, size), np.uint8))[1].tobytes()
    with zipfile.ZipFile(path, "w") as zf:
        for i in range(count):
            zf.writestr(f"{i:04d}.png", png)
    return path


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

    path = folder / "noise.pkl"
    with open(path, "wb") as f:
        dump_array_pickle(np.random.default_rng(0).integers(0, 256, (30, 64, 64), dtype=np.uint8), f)
    bad["pkl of random noise"] = (path, "mostly grey")

    path = folder / "blank.pkl"
    with open(path, "wb") as f:
        dump_array_pickle(np.zeros((30, 64, 64), np.uint8), f)
    bad["pkl of empty frames"] = (path, "none of its 30 frames holds a silhouette")

    path = folder / "too_long.pkl"
    with open(path, "wb") as f:
        dump_array_pickle(np.tile(bundled_sample("walker-001-nm").frames, (3, 1, 1)), f)
    bad["pkl over the frame cap"] = (path, "has 120 frames, more than the 100 per clip")

    path = _zip_of_black_frames(folder / "huge_frames.zip", 4096)
    bad["zip of 4096² frames"] = (path, "larger than the 8.29 MP per frame")

    path = _zip_of_black_frames(folder / "many_big_frames.zip", 2048)
    bad["zip over the pixel cap"] = (path, "30 frames of 2048×2048 decode to 126 MP, more than the 33.6 MP")
    return bad


def test_bad_uploads_show_a_message_and_the_app_keeps_serving(studio, tmp_path):
    import resource

    studio.predict("walker-001-nm", api_name="/load_sample")
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB; the app runs in this process
    for what, (path, expected) in _write_bad_inputs(tmp_path / "bad").items():
        *_, status = upload(studio, path)
        assert "Could not load" in status and path.name in status, what
        assert expected in status, f"{what}: {status}"
        assert "Traceback" not in status and str(tmp_path) not in status  # no stack, no server paths
        assert "method=" not in status and "min_frames" not in status, "options the page does not offer"
    # 503 MP of frames were refused from their headers, never decoded
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before < 200 * 1024
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
    from gaitdata.safe_pickle import load_array_pickle

    gallery, download, status = studio.predict(2, ["000", "090"], ["nm", "cl"], 7, 2, 1, 0.0, api_name="/synthesize")
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
    gallery, download, status = studio.predict(1, [], ["nm"], 0, 2, 1, 0.0, api_name="/synthesize")
    assert "choose at least one view" in status and not gallery and download is None


def test_synthesize_without_weights_says_how_to_get_them(tmp_path_factory):
    demo, client = start_app(tmp_path_factory, generator=str(tmp_path_factory.mktemp("none") / "missing"))
    try:
        gallery, download, status = client.predict(1, ["090"], ["nm"], 0, 2, 1, 0.0, api_name="/synthesize")
        assert "generator weights not installed" in status and "studio train-generator" in status
        assert not gallery and download is None
        # the rest of the app works without a generator
        assert "nm-01" in client.predict("walker-001-nm", api_name="/load_sample")[1]
    finally:
        demo.close()


# ---- Edit ----------------------------------------------------------------------------------------
EDIT = dict(view="036", clothing="coat", carrying="keep", strength=0.5, seed=3, steps=2)


def edit(client, **overrides):
    args = {**EDIT, **overrides}
    return client.predict(*args.values(), api_name="/edit")


def test_edit_shows_source_and_result_side_by_side_with_scores_and_downloads(studio, tmp_path):
    from PIL import Image

    from gaitdata.safe_pickle import load_array_pickle

    studio.predict("walker-001-nm", api_name="/load_sample")
    animation, scores, details, files, status = edit(studio)
    assert status == ""
    with Image.open(animation) as gif:
        # two 64×64 panels at 3x with a 2-pixel bar between, under a label band; every frame of the clip
        assert gif.format == "GIF" and gif.n_frames > 10 and gif.width == 2 * 192 + 2
    assert "Edited: 001 · `cl-01` · view `036`" in scores
    assert "judge cosine similarity to the source" in scores and "verif" in scores
    assert "clothing **" in scores and "asked coat" in scores  # the covariate classifier's verdict
    identity, covariates = details["identity"], details["covariates"]
    assert -1 <= identity["cosine"] <= 1 and identity["same_person"] == (identity["distance"] <= identity["threshold"])
    assert covariates["clothing"]["expected"] == "coat" and covariates["view"]["expected"] == 36
    assert covariates["clothing"]["match"] == (covariates["clothing"]["predicted"] == "coat")
    names = sorted(Path(f).name for f in files)
    assert names == ["001_cl-01_036_opengait.zip", "001_cl-01_036_side_by_side.gif", "001_cl-01_036_side_by_side.mp4"]
    archive = next(f for f in files if f.endswith(".zip"))
    with zipfile.ZipFile(archive) as zf:
        assert zf.namelist() == ["001/cl-01/036/036.pkl"]  # the OpenGait layout
        zf.extractall(tmp_path)
    frames = load_array_pickle(tmp_path / "001" / "cl-01" / "036" / "036.pkl")
    assert frames.shape == (40, 64, 64) and frames.dtype == np.uint8
    video = cv2.VideoCapture(next(f for f in files if f.endswith(".mp4")))
    assert video.isOpened() and int(video.get(cv2.CAP_PROP_FRAME_COUNT)) == 40
    video.release()


def test_edit_is_reproducible_by_seed(studio):
    studio.predict("walker-002-bg", api_name="/load_sample")
    first = edit(studio, carrying="none", clothing="keep", seed=11)[2]
    again = edit(studio, carrying="none", clothing="keep", seed=11)[2]
    assert first["identity"]["cosine"] == pytest.approx(again["identity"]["cosine"], abs=1e-6)
    assert first["edited"]["condition"] == "nm-01"  # a bag taken off: normal walking


def test_edit_errors_are_messages_in_the_page(studio):
    fresh = new_client(studio)
    *_, status = edit(fresh)
    assert "Cannot edit" in status and "load one in the Load tab first" in status
    studio.predict("walker-001-nm", api_name="/load_sample")
    animation, scores, details, files, status = edit(studio, view="keep", clothing="keep")
    assert "nothing to edit" in status and animation is None and files is None
    assert "Traceback" not in status
    assert "Edited:" in edit(studio)[1], "the app keeps serving after an error"


def test_concurrent_users_share_one_editor(studio, tiny_models):
    from concurrent.futures import ThreadPoolExecutor

    def user(sample):
        client = new_client(studio)
        client.predict(sample, api_name="/load_sample")
        return edit(client)

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(user, ["walker-001-nm", "walker-002-bg", "walker-003-cl", "walker-001-nm"]))
    assert [r[4] for r in results] == [""] * 4
    assert [r[2]["edited"]["subject"] for r in results] == ["001", "002", "003", "001"]  # nobody got another's clip
    assert tiny_models.calls == {"editor": 1, "classifier": 1}, "weights are loaded once and shared"


def test_without_editor_weights_the_page_says_what_is_missing(tmp_path_factory):
    attempts = []

    def missing_editor():
        attempts.append(1)
        raise FileNotFoundError("the judge is not installed; train it with `studio train-recognizer`")

    demo, client = start_app(tmp_path_factory, load_editor=missing_editor)
    try:
        client.predict("walker-001-nm", api_name="/load_sample")
        animation, scores, details, files, status = edit(client)
        assert "Editor not available" in status and "studio train-recognizer" in status and animation is None
        *_, status = client.predict(0.8, 0, 2, api_name="/anonymize")
        assert "Anonymizer not available" in status
        assert len(attempts) == 2, "a failed load is retried: weights installed later are found"
    finally:
        demo.close()


def test_clip_scores_behind_the_edit_tab(tiny_models):
    """`evaluation.clip_scores`: what the Edit and Anonymize tabs show, computed by the library."""
    from evaluation.clip_scores import clip_scores, covariate_verdict, identity_similarity

    a = np.random.default_rng(0).normal(size=(8, 62)).astype(np.float32)
    calibration = {"metric": "euc", "threshold": 0.5, "far": 0.01}
    same = identity_similarity(a, a, calibration)
    assert same["cosine"] == pytest.approx(1.0) and same["distance"] == pytest.approx(0, abs=1e-5)
    assert same["same_person"] and same["far"] == 0.01
    other = identity_similarity(a, -a, calibration)
    assert other["cosine"] == pytest.approx(-1.0) and not other["same_person"]
    assert "same_person" not in identity_similarity(a, a, None)

    verdict = covariate_verdict(tiny_models.classifier, a, {"view": 90, "clothing": "coat", "carrying": None})
    v = verdict["view"]
    assert v["match"] == (min(abs(v["predicted"] - 90), 360 - abs(v["predicted"] - 90)) <= 18)
    assert verdict["clothing"]["match"] == (verdict["clothing"]["predicted"] == "coat")
    assert verdict["carrying"]["match"] is None and 0 < verdict["carrying"]["confidence"] <= 1
    assert verdict["all_match"] == (v["match"] and verdict["clothing"]["match"])
    with pytest.raises(ValueError, match="trained on another judge"):
        covariate_verdict(tiny_models.classifier, a[:4], None)

    from studio.jobs.load_clip import bundled_sample

    clip = bundled_sample("walker-001-nm")
    scores = clip_scores(tiny_models.judge, clip, clip, calibration, tiny_models.classifier, {"clothing": "normal"})
    assert scores["identity"]["same_person"] and scores["covariates"]["clothing"]["expected"] == "normal"
    assert clip_scores(tiny_models.judge, clip, clip)["covariates"] is None


# ---- Anonymize -------------------------------------------------------------------------------------
def test_anonymize_says_pass_or_fail_against_the_judge_threshold(studio_app):
    from PIL import Image

    demo, studio = studio_app
    editor = demo.studio_handlers.editor()
    studio.predict("walker-003-cl", api_name="/load_sample")
    threshold = editor.calibration["threshold"]
    try:
        editor.calibration["threshold"] = -1.0  # nothing verifies: anonymous
        animation, verdict, details, files, status = studio.predict(0.8, 1, 2, api_name="/anonymize")
        assert status == "" and "✓ PASS — not verified as the source" in verdict and "FAIL" not in verdict
        assert details["verdict"] == "PASS" and not details["leaks"] and details["attempts"] == 1
        # the number shown is the one that decides, against its threshold; no similarity that reads like a leak
        distance = f"{details['judge_distance']:.3f}"
        assert f"Judge distance from the source <b>{distance}</b> &gt; threshold <b>-1.000</b>" in verdict
        assert "**What decides**: the judge's Euclidean distance" in verdict and "FAR 1%" in verdict
        assert "cosine" not in verdict.lower() and "similarity" not in verdict.lower()
        assert details["anonymized"]["subject"] == "anon-003" and details["anonymized"]["condition"] == "cl-01"
        with Image.open(animation) as gif:
            assert gif.n_frames > 10
        assert sorted(Path(f).name for f in files)[0] == "anon-003_cl-01_090_opengait.zip"

        editor.calibration["threshold"] = 1e9  # everything verifies: the identity leaks, even after retries
        animation, verdict, details, files, status = studio.predict(0.8, 1, 2, api_name="/anonymize")
        assert "✗ FAIL — identity leaks" in verdict and "Do not share it as anonymous" in verdict
        assert f"<b>{details['judge_distance']:.3f}</b> ≤ threshold" in verdict
        assert details["leaks"] and details["attempts"] == 3 and details["verdict"].startswith("FAIL")
        assert details["judge_distance"] <= details["threshold"]
        assert files, "a leaking result is still shown and downloadable, marked as such"
    finally:
        editor.calibration["threshold"] = threshold


def test_anonymize_refuses_a_clip_that_is_too_short(studio, tmp_path):
    from gaitdata.safe_pickle import dump_array_pickle

    short = tmp_path / "short.pkl"
    with open(short, "wb") as f:
        dump_array_pickle(bundled_sample("walker-001-nm").frames[:8], f)
    assert upload(studio, short)[-1] == ""
    *_, status = studio.predict(0.8, 0, 2, api_name="/anonymize")
    assert "Cannot anonymize" in status and "too short" in status and "at least 16" in status


# ---- Evaluate ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def real_walkers(tmp_path_factory):
    from gaitdata.walkers.dataset import render_walker_dataset

    root = tmp_path_factory.mktemp("real") / "walkers"
    conditions = ["nm-01", "nm-02", "nm-03", "nm-04", "nm-05", "cl-01"]
    render_walker_dataset(root, num_subjects=4, conditions=conditions, views=["000", "090"], frames=(20, 24), workers=1)
    return root


def test_evaluate_the_last_synthesis_against_real_clips(studio, real_walkers):
    from evaluation.fidelity_report import KINDS
    from studio.app.studio_app import REPORT_KINDS

    assert REPORT_KINDS == KINDS
    client = new_client(studio)
    *_, status = client.predict(str(real_walkers), "the last synthesis", "", "generated", api_name="/evaluate")
    assert "nothing synthesized in this session yet" in status
    client.predict(2, ["090"], ["nm", "cl"], 1, 2, 1, 0.0, api_name="/synthesize")
    tables, plots, page, files, summary, status = client.predict(
        str(real_walkers), "the last synthesis", "", "generated", api_name="/evaluate"
    )
    assert status == "", status
    assert "4 generated clips against" in tables and "| Fréchet distance (generated vs real) |" in tables
    assert plots and all(p["image"].endswith(".png") for p in plots)
    assert "<iframe" in page and "srcdoc=" in page
    html_file, json_file = sorted(files, key=lambda f: Path(f).suffix)  # .html, .json
    text = Path(html_file).read_text()
    assert Path(html_file).name == "fidelity_report.html" and "<table" in text and "data:image/png;base64" in text
    report = json.loads(Path(json_file).read_text())
    assert report["kind"] == "generated" and report["data"]["generated"]["clips"] == 4
    assert summary["headline"] and summary["data"]["generated"]["clips"] == 4


def test_evaluate_a_typed_folder_and_bad_folders(studio, real_walkers, tmp_path):
    tables, plots, page, files, summary, status = studio.predict(
        str(real_walkers), "a folder", str(real_walkers), "edited", api_name="/evaluate"
    )
    assert status == "" and summary["kind"] == "edited" and summary["data"]["generated"]["clips"] == 48
    *_, status = studio.predict(
        str(tmp_path / "nowhere"), "a folder", str(real_walkers), "generated", api_name="/evaluate"
    )
    assert "Cannot evaluate" in status and "does not exist on the server" in status
    (tmp_path / "empty").mkdir()
    *_, status = studio.predict(
        str(real_walkers), "a folder", str(tmp_path / "empty"), "generated", api_name="/evaluate"
    )
    assert "Cannot evaluate" in status and "holds no sequences" in status
    *_, status = studio.predict("", "a folder", "", "generated", api_name="/evaluate")
    assert "type the real dataset folder" in status


# ---- queue and cancellation -----------------------------------------------------------------------
def test_long_work_runs_through_the_queue_and_can_be_cancelled(studio_app):
    demo = studio_app[0]
    config = demo.get_config_file()
    cancelled = {c for d in config["dependencies"] for c in d.get("cancels", [])}
    for name in ("edit", "anonymize", "evaluate", "synthesize"):
        dep = next(d for d in config["dependencies"] if d.get("api_name") == name)
        assert dep["queue"] and dep["show_progress"] == "full", name
        assert dep["id"] in cancelled, f"{name} has a Cancel button"
        assert demo.fns[dep["id"]].concurrency_limit in (1, 2), f"{name} runs a bounded number at once"


def test_old_outputs_are_pruned(tmp_path):
    import os

    from studio.app.handlers import StudioHandlers

    handlers = StudioHandlers(AppConfig(work_dir=str(tmp_path), keep_outputs_hours=1))
    old, recent = handlers.outputs / "old-request", handlers.outputs / "recent-request"
    old.mkdir()
    recent.mkdir()
    two_hours_ago = os.path.getmtime(old) - 7200
    os.utime(old, (two_hours_ago, two_hours_ago))
    fresh = handlers._request_dir()
    assert not old.exists() and recent.is_dir() and fresh.is_dir()


# ---- hostile inputs, caps and cancellation (issue 15) ----------------------------------------------
def test_an_upload_with_250_character_names_loads_and_every_file_name_is_short(studio_app, tmp_path):
    demo, studio = studio_app
    frames = bundled_sample("walker-002-bg").frames
    archive = tmp_path / "long_names.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for i, frame in enumerate(frames):  # 500 bytes of UTF-8 for the subject: too long for any file system
            name = f"{'é' * 250}/{'c' * 250}/{'v' * 250}/{i:04d}.png"
            zf.writestr(name, cv2.imencode(".png", frame)[1].tobytes())
    preview, summary, details, track, status = upload(studio, archive)
    assert status == "" and Path(preview).name == "preview.gif" and "**40 frames**" in summary
    assert all(len(details[k]) <= 48 for k in ("subject", "condition", "view"))
    *_, files, status = edit(studio)
    assert status == "" and len(files) == 3
    *_, anon_files, status = studio.predict(0.8, 0, 2, api_name="/anonymize")
    assert status == "" and len(anon_files) == 3
    written = [p for p in demo.studio_handlers.outputs.rglob("*")]
    assert written and max(len(p.name.encode()) for p in written) <= 150
    archive_file = next(f for f in anon_files if f.endswith(".zip"))
    with zipfile.ZipFile(archive_file) as zf:
        (member,) = zf.namelist()
        assert member.startswith("anon-") and all(len(part) <= 48 for part in member.split("/"))


def test_an_edit_takes_no_more_frames_than_the_cap(studio_app):
    from gaitdata import GaitSequence

    handlers = studio_app[0].studio_handlers
    long = GaitSequence(np.tile(bundled_sample("walker-001-nm").frames, (3, 1, 1)), "001", "nm-01", "090")
    with pytest.raises(ValueError, match="has 120 frames, more than the 100 one request may take"):
        handlers._source({"sequences": [long], "index": 0})
    with handlers.work.running("cap-test", "edit") as work:
        *_, status = handlers._edit(work, {"sequences": [long], "index": 0}, *EDIT.values(), lambda *a, **k: None)
    assert "Cannot edit" in status and "more than the 100" in status


class FakeRequest:
    def __init__(self, session_hash):
        self.session_hash = session_hash


def test_cancel_says_what_it_did(studio_app):
    """Nothing running: the results stay (every output skipped) and the status says so; a request
    waiting in the queue is withdrawn; a running one is stopped, its results cleared."""
    import gradio as gr

    from studio.app.handlers import CANCELLED_NOTE, NOTHING_RUNNING_NOTE, WITHDRAWN_NOTE

    handlers = studio_app[0].studio_handlers
    request = FakeRequest("cancel-test")
    cancel = handlers.cancel("edit", 5)
    *kept, status = cancel(request)
    assert status == NOTHING_RUNNING_NOTE and "Nothing is running" in status
    assert kept == [gr.skip()] * 4, "the results shown are left as they are"
    handlers.submitted("edit")(request)
    *cleared, status = cancel(request)
    assert status == WITHDRAWN_NOTE and cleared == [None] * 4
    with handlers.work.running(request.session_hash, "edit") as work:
        *cleared, status = cancel(request)
        assert status == CANCELLED_NOTE and work.cancelled
    assert handlers.work.count() == 0


def _files_under(folder) -> set:
    """The edit results (animations, downloads) under `folder`; load previews aside."""
    return {
        p for p in Path(folder).rglob("*") if p.is_file() and p.name != "preview.gif" and ".preview.gif" not in p.name
    }


def test_work_of_a_client_that_went_away_stops_at_the_next_step(tmp_path_factory, tiny_models, monkeypatch):
    """A client closes while its edit runs: the edit stops between steps (the editor's `cancel`
    hook) and writes nothing; with no hook, it stops at the app's next boundary, still writing nothing."""
    import time

    monkeypatch.setenv("GRADIO_HEARTBEAT_INTERVAL", "0.3")  # the client's heartbeat ends soon after close()
    for hooked in (True, False):
        if hooked:
            factory = lambda: tiny_models.load_step_editor(steps=60, seconds=0.1)  # noqa: E731 (6 s, 60 steps)
        else:
            factory = lambda: tiny_models.load_slow_editor(2.0)  # noqa: E731
        demo, client = start_app(tmp_path_factory, **{**tiny_models.config(), "load_editor": factory})
        try:
            handlers = demo.studio_handlers
            handlers.editor()  # loaded before the request: only the edit itself is timed
            client.predict("walker-001-nm", api_name="/load_sample")
            before = _files_under(handlers.outputs)
            client.submit(*EDIT.values(), api_name="/edit")
            deadline = time.monotonic() + 20
            while handlers.work.count() == 0 and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(0.5)
            client.close()  # the user went away
            while handlers.work.count() and time.monotonic() < deadline:
                time.sleep(0.05)
            assert handlers.work.count() == 0, "the edit should have stopped"
            if hooked:
                steps = tiny_models.step_editor.done[-1]
                assert steps < 40, f"the edit ran {steps} of 60 steps after its client left"
            time.sleep(2.5 if not hooked else 0.2)
            assert _files_under(handlers.outputs) == before, "a cancelled edit writes no files"
        finally:
            demo.close()
