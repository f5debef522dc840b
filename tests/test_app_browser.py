"""The web studio in a real browser: Debian's Chromium driven by Playwright.

Screenshots go to `test-artifacts/` (git-ignored) for a person to look at.
"""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

import pytest

from app import AppConfig, prepare_environment

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"

pytestmark = pytest.mark.browser


def start_app(work: Path):
    """The studio on a free loopback port, with no generator weights (as on a fresh install)."""
    prepare_environment(work)  # before gradio is imported
    from app.studio_app import launch_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return launch_app(AppConfig(port=port, work_dir=str(work), generator=str(work / "no-generator")))


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
        page.set_default_timeout(30_000)
        page.goto(url)
        yield page
        browser.close()
    demo.close()


def test_sample_walker_preview_appears(browser_page):
    page = browser_page
    page.get_by_role("button", name="Load sample").click()
    preview = page.locator("#preview img")
    preview.wait_for(state="visible")
    assert ".gif" in preview.get_attribute("src")
    page.wait_for_function("document.querySelector('#preview img').naturalWidth > 0")  # decoded, not broken
    page.get_by_text("40 frames").wait_for()
    page.screenshot(path=str(ARTIFACTS / "app_load_sample.png"), full_page=True)


def test_corrupt_pkl_shows_a_clear_message(browser_page, tmp_path):
    page = browser_page
    bad = tmp_path / "corrupt.pkl"
    bad.write_bytes(b"\x80\x04\x95 this pickle was cut short")
    page.locator("#upload input[type=file]").set_input_files(str(bad))
    status = page.locator("#load-status")
    status.get_by_text("not a readable pickle").wait_for()
    assert "Could not load corrupt.pkl" in status.inner_text()
    assert "Traceback" not in page.content()
    page.screenshot(path=str(ARTIFACTS / "app_corrupt_pkl.png"), full_page=True)


def test_placeholder_tabs_say_what_is_coming(browser_page):
    page = browser_page
    page.get_by_role("tab", name="Edit").click()
    page.get_by_text("Coming with the attribute editor").wait_for()
    page.screenshot(path=str(ARTIFACTS / "app_edit_tab.png"), full_page=True)
    page.get_by_role("tab", name="Synthesize").click()
    page.get_by_role("button", name="Synthesize").click()
    page.locator("#synth-status").get_by_text("generator weights not installed").wait_for()
    page.screenshot(path=str(ARTIFACTS / "app_synthesize_no_weights.png"), full_page=True)
