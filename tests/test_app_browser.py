"""The web studio in a real browser: Debian's Chromium driven by Playwright.

A user's session from end to end: load a sample walker, edit it, anonymize it, synthesize novel
people, judge them against real walkers; and a corrupt upload. The app runs the bundled models
when they are installed (the screenshots then show real silhouettes), else tiny untrained ones
(the same page, noise for clips). Screenshots go to `test-artifacts/` (git-ignored) for a person
to look at.
"""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

import pytest

from studio.app import AppConfig, prepare_environment

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
STEPS = 4  # sampler steps: a fast suite; the page is what is tested
UPLOAD_MB = 4  # the browser app's upload limit (small: the over-size test makes a file just over it)

pytestmark = pytest.mark.browser


def bundled_models_installed() -> bool:
    """The bundled generator, judge (with calibration) and covariate classifier, and the editor loader."""
    try:
        import recognizers
        from studio.jobs.edit_dataset import load_editor  # noqa: F401
    except ImportError:
        return False
    names = (recognizers.JUDGE, recognizers.COVARIATE_CLASSIFIER)
    return (
        all((recognizers.WEIGHTS_DIR / n / "config.json").is_file() for n in names)
        and (recognizers.WEIGHTS_DIR / recognizers.JUDGE / "calibration.json").is_file()
    )


def start_app(work: Path):
    """The studio on a free loopback port: bundled models if installed, else tiny ones."""
    prepare_environment(work)  # before gradio is imported
    from studio.app.studio_app import launch_app

    models = {}
    if not bundled_models_installed():
        from test_app import TinyModels, tiny_generator

        tiny = TinyModels(tiny_generator(work / "tiny-generator"))
        models = {"generator": str(tiny.folder), **tiny.config()}
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return launch_app(AppConfig(port=port, work_dir=str(work), sampler_steps=STEPS, max_upload_mb=UPLOAD_MB, **models))


@pytest.fixture(scope="module")
def real_walkers(tmp_path_factory):
    from gaitdata.walkers.dataset import render_walker_dataset

    root = tmp_path_factory.mktemp("real") / "walkers"
    conditions = ["nm-01", "nm-02", "nm-03", "nm-04", "nm-05", "cl-01"]
    render_walker_dataset(root, num_subjects=4, conditions=conditions, views=["090"], frames=(24, 30), workers=1)
    return root


@pytest.fixture(scope="module")
def browser_page(tmp_path_factory):
    if not Path(CHROMIUM).is_file():
        pytest.skip("chromium is not installed (`bash run.sh test` installs it; or apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e .[test])")
    demo, url = start_app(tmp_path_factory.mktemp("app"))
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as p:
        # never `playwright install`: the system's Chromium, sandbox off (containers), no GPU, no calls home
        browser = p.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
        )
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.set_default_timeout(60_000)
        page.goto(url)
        yield page
        browser.close()
    demo.close()


def shows_animation(page, selector: str) -> None:
    """The image at `selector` is a GIF the browser decoded (not a broken image)."""
    image = page.locator(f"{selector} img")
    image.wait_for(state="visible")
    assert ".gif" in image.get_attribute("src")
    page.wait_for_function(f"document.querySelector('{selector} img').naturalWidth > 0")


def screenshot(page, name: str, full_page: bool = True) -> None:
    """Save a screenshot to test-artifacts/, the earlier steps' notification toasts closed first."""
    for close in page.get_by_test_id("toast-close").all():
        if close.is_visible():
            close.click()
    page.get_by_test_id("toast-body").first.wait_for(state="hidden")
    page.screenshot(path=str(ARTIFACTS / name), full_page=full_page)


def test_sample_walker_preview_appears(browser_page):
    page = browser_page
    page.get_by_role("button", name="Load sample").click()
    shows_animation(page, "#preview")
    page.get_by_text("40 frames").wait_for()
    screenshot(page, "app_load_sample.png")


def test_an_oversize_upload_is_explained_in_the_page_until_another_file_is_chosen(browser_page, tmp_path):
    """Gradio refuses it in the browser with a toast that fades; the note next to the upload stays."""
    page = browser_page
    big = tmp_path / "holiday_video.avi"
    big.write_bytes(bytes((UPLOAD_MB + 1) * 1024**2))
    page.locator("#upload input[type=file]").set_input_files(str(big))
    note = page.locator("#upload-note")
    note.get_by_text("holiday_video.avi was not uploaded").wait_for()
    page.wait_for_timeout(6_000)  # longer than a toast lasts
    text = note.inner_text()
    assert "5 MB, over the studio limit of 4 MB" in text and "shorter clip" in text, text
    page.screenshot(path=str(ARTIFACTS / "app_oversize_upload.png"), full_page=True)
    # the next test uploads a file within the limit: the note goes


def test_corrupt_pkl_shows_a_clear_message(browser_page, tmp_path):
    page = browser_page
    bad = tmp_path / "corrupt.pkl"
    bad.write_bytes(b"\x80\x04\x95 this pickle was cut short")
    page.locator("#upload input[type=file]").set_input_files(str(bad))
    status = page.locator("#load-status")
    status.get_by_text("not a readable pickle").wait_for()
    assert "Could not load corrupt.pkl" in status.inner_text()
    assert "was not uploaded" not in page.locator("#upload-note").inner_text(), "the over-size note is gone"
    assert "Traceback" not in page.content()
    page.screenshot(path=str(ARTIFACTS / "app_corrupt_pkl.png"), full_page=True)


def test_edit_shows_source_and_edit_side_by_side_with_scores(browser_page):
    page = browser_page
    page.get_by_role("tab", name="Edit").click()
    # the sample loaded above is still the source (the corrupt upload did not replace it)
    page.locator("#edit-source").get_by_text("001").wait_for()
    page.locator("#edit-view input").click()
    page.get_by_role("option", name="054").click()
    page.locator("#edit-run").click()
    shows_animation(page, "#edit-animation")
    scores = page.locator("#edit-scores")
    scores.get_by_text("judge cosine similarity to the source").wait_for()
    text = scores.inner_text()
    assert "Edited: 001" in text and "cl-01" in text and "054" in text
    assert "clothing" in text and "asked coat" in text, "the covariate classifier's verdict"
    files = page.locator("#edit-files")
    for name in ("001_cl-01_054_opengait.zip", "001_cl-01_054_side_by_side.gif", "001_cl-01_054_side_by_side.mp4"):
        files.get_by_role("cell", name=name).wait_for()
    screenshot(page, "app_edit.png")


def test_an_impossible_edit_says_why(browser_page):
    page = browser_page
    page.locator("#edit-clothing").get_by_text("keep").click()
    page.locator("#edit-view input").click()
    page.get_by_role("option", name="keep").click()
    page.locator("#edit-run").click()
    page.locator("#edit-status").get_by_text("nothing to edit").wait_for()
    assert "Traceback" not in page.content()
    page.locator("#edit-clothing").get_by_text("coat").click()  # leave the tab as a user would find it


def test_anonymize_shows_a_verdict(browser_page):
    page = browser_page
    page.get_by_role("tab", name="Anonymize").click()
    page.locator("#anon-source").get_by_text("001").wait_for()
    page.locator("#anon-run").click()
    shows_animation(page, "#anon-animation")
    verdict = page.locator("#anon-verdict")
    verdict.locator("div.verdict h2").wait_for()
    text = verdict.inner_text()
    assert ("PASS — not verified as the source" in text) != ("FAIL — identity leaks" in text)
    assert "Judge distance from the source" in text and "threshold" in text and "What decides" in text
    assert "cosine" not in text.lower(), "the distance decides; a similarity next to PASS reads like a leak"
    page.locator("#anon-files").get_by_role("cell", name="anon-001_nm-01_090_opengait.zip").wait_for()
    screenshot(page, "app_anonymize.png")


def test_cancel_with_nothing_running_says_so_and_keeps_the_results(browser_page):
    page = browser_page
    verdict = page.locator("#anon-verdict").inner_text()
    page.locator("#anon-cancel").click()
    page.locator("#anon-status").get_by_text("Nothing is running to cancel").wait_for()
    assert page.locator("#anon-verdict").inner_text() == verdict
    shows_animation(page, "#anon-animation")
    page.locator("#anon-files").get_by_role("cell", name="anon-001_nm-01_090_opengait.zip").wait_for()


def test_synthesize_then_evaluate_against_real_walkers(browser_page, real_walkers):
    page = browser_page
    page.get_by_role("tab", name="Synthesize").click()
    page.locator("#synthesize").click()
    page.locator("#synth-status").get_by_text("novel identities").wait_for()
    assert page.locator("#synth-gallery img").count() >= 2
    screenshot(page, "app_synthesize.png")

    page.get_by_role("tab", name="Evaluate").click()
    page.locator("#eval-real textarea").fill(str(real_walkers))
    page.locator("#eval-run").click()
    tables = page.locator("#eval-tables")
    tables.get_by_text("generated clips against").wait_for()
    assert "diversity ratio" in tables.inner_text()
    page.locator("#eval-plots img").first.wait_for(state="visible")
    page.locator("#eval-report").get_by_role("cell", name="fidelity_report.html").wait_for()
    screenshot(page, "app_evaluate.png")
    page.locator("#eval-full").get_by_text("The full report").click()
    report = page.frame_locator("#eval-page iframe")
    report.locator("h1").wait_for()
    assert report.locator("table").count() > 2
    page.locator("#eval-page").scroll_into_view_if_needed()
    screenshot(page, "app_evaluate_full_report.png", full_page=False)


def test_a_missing_folder_is_a_message(browser_page, tmp_path):
    page = browser_page
    page.locator("#eval-real textarea").fill(str(tmp_path / "no-such-folder"))
    page.locator("#eval-run").click()
    page.locator("#eval-status").get_by_text("does not exist on the server").wait_for()


def _wait_idle(handlers, seconds: float) -> None:
    import time

    deadline = time.monotonic() + seconds
    while handlers.work.count() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert handlers.work.count() == 0, "the request should have stopped"


def _files_under(folder) -> set:
    """The edit results (animations, downloads) under `folder`; load previews aside."""
    return {
        p for p in Path(folder).rglob("*") if p.is_file() and p.name != "preview.gif" and ".preview.gif" not in p.name
    }


def test_cancel_stops_a_running_edit_and_a_closed_page_stops_its_edit(browser_page, tmp_path_factory):
    """A second app whose edits take 60 steps of 0.1 s, asking `cancel` between steps (the hook the
    editor is to get): Cancel while one runs stops it within a step or two, shows no result and
    writes no file; so does closing the page while one runs."""
    from test_app import TinyModels, free_port, tiny_generator

    work = tmp_path_factory.mktemp("slow-app")
    tiny = TinyModels(tiny_generator(work / "tiny-generator"))
    models = {**tiny.config(), "load_editor": lambda: tiny.load_step_editor(steps=60, seconds=0.1)}
    from studio.app.studio_app import launch_app

    demo, url = launch_app(AppConfig(port=free_port(), work_dir=str(work), sampler_steps=2, **models))
    handlers = demo.studio_handlers
    handlers.editor()
    browser = browser_page.context.browser
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        page.goto(url)
        page.get_by_role("button", name="Load sample").click()
        shows_animation(page, "#preview")
        before = _files_under(handlers.outputs)
        page.get_by_role("tab", name="Edit").click()
        page.locator("#edit-run").click()
        page.locator("#edit-animation [role=progressbar]").wait_for()  # running: the progress bar shows
        page.wait_for_timeout(500)
        page.locator("#edit-cancel").click()
        page.locator("#edit-status").get_by_text("Cancelled.").wait_for()
        _wait_idle(handlers, 3)
        assert tiny.step_editor.done[-1] < 45, f"ran {tiny.step_editor.done[-1]} of 60 steps after Cancel"
        page.wait_for_timeout(1_000)
        assert page.locator("#edit-animation img").count() == 0, "a cancelled edit shows no result"
        assert _files_under(handlers.outputs) == before, "a cancelled edit writes no files"
        screenshot(page, "app_edit_cancelled.png")
        page.get_by_role("tab", name="Load").click()
        page.get_by_role("button", name="Load sample").click()  # the app keeps serving
        page.locator("#clip-summary").get_by_text("40 frames").wait_for()

        before = _files_under(handlers.outputs)
        page.get_by_role("tab", name="Edit").click()
        page.locator("#edit-run").click()
        page.locator("#edit-animation [role=progressbar]").wait_for()
        page.wait_for_timeout(500)
        page.close()  # the user went away
        _wait_idle(handlers, 5)
        assert tiny.step_editor.done[-1] < 50, f"ran {tiny.step_editor.done[-1]} of 60 steps after the page closed"
        assert _files_under(handlers.outputs) == before, "a closed page's edit writes no files"
    finally:
        if not page.is_closed():
            page.close()
        demo.close()
