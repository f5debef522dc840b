"""Web studio under load: N concurrent users of one endpoint → p50/p95 latency, peak server RSS. Prints JSON.

Each simulated user is its own `gradio_client.Client` (its own session and `gr.State`): it loads
a bundled sample walker (not timed), then makes the timed request, so the requests meet in
Gradio's queue as real users' would. Every answer is checked (no error message, the animation
file there, the user's own clip edited). Before the burst one warm-up request loads the bundled
weights (its time is reported apart). Loopback only, bounded in count and time.

By default the app runs as its own process (`studio app`), so that its peak RSS (VmHWM) is the
server's alone.

    python bench/bench_app.py --endpoint edit                     # 20 users editing at once
    python bench/bench_app.py --endpoint anonymize --requests 10
    python bench/bench_app.py --endpoint edit --url http://127.0.0.1:7860 --pid 1234   # a running app
    python bench/bench_app.py --endpoint largest                  # 20 users, the largest accepted inputs

`--endpoint largest` is the memory test: every user uploads the largest inputs the app accepts
(a zip of `max_clip_frames` frames at the decoded-pixel cap, a zip of frames at the per-frame
pixel cap, a pkl of `max_clip_frames` frames), then edits the longest clip (`max_clip_frames`
frames); the app's peak RSS must stay under `--rss-limit-mb` (1.5 GB), reported as `rss_ok`.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
MAX_REQUESTS = 200
SAMPLES = ("walker-001-nm", "walker-002-bg", "walker-003-cl")  # app.handlers.SAMPLE_NAMES

# endpoint → the request's arguments (after the session's sample is loaded) and a check of its answer
ENDPOINTS = {
    "load_sample": None,
    "edit": ["054", "coat", "keep", 0.6, 0, 20],  # view, clothing, carrying, strength, seed, steps
    "anonymize": [0.8, 0, 20],  # strength, seed, steps
    "largest": ["054", "coat", "keep", 0.6, 0, 20],  # the uploads, then an edit of the longest clip
}
RSS_LIMIT_MB = 1536.0


def largest_inputs(folder: Path) -> dict[str, tuple[Path, int]]:
    """The largest inputs the app accepts by default (`studio.app.AppConfig`): name → (file, frames it loads as)."""
    import cv2

    from gaitdata.safe_pickle import dump_array_pickle
    from studio.app import AppConfig
    from studio.jobs.load_clip import bundled_sample

    config = AppConfig()
    frames_cap, pixel_cap, frame_cap = config.max_clip_frames, config.max_clip_pixels, config.max_frame_pixels
    walker = bundled_sample("walker-001-nm").frames  # [40, 64, 64]
    clip = np.concatenate([walker] * (frames_cap // len(walker) + 1))[:frames_cap]
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    side = int((pixel_cap / frames_cap) ** 0.5)  # square frames: frames_cap of them fill the pixel cap
    path = folder / "most_frames.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for i, frame in enumerate(clip):
            big = cv2.resize(frame, (side, side), interpolation=cv2.INTER_NEAREST)
            zf.writestr(f"{i:04d}.png", cv2.imencode(".png", big)[1].tobytes())
    out["zip_at_pixel_cap"] = (path, frames_cap)
    width = int((frame_cap * 16 / 9) ** 0.5)  # 16:9 frames at the per-frame cap, as many as the pixel cap allows
    height = int(width * 9 / 16)
    count = max(1, pixel_cap // (width * height))
    path = folder / "largest_frames.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for i, frame in enumerate(walker[:count]):
            big = np.zeros((height, width), np.uint8)
            person = cv2.resize(frame, (height, height), interpolation=cv2.INTER_NEAREST)
            big[:, (width - height) // 2 : (width - height) // 2 + height] = person
            zf.writestr(f"{i:04d}.png", cv2.imencode(".png", big)[1].tobytes())
    out["zip_at_frame_cap"] = (path, count)
    path = folder / "longest.pkl"
    with open(path, "wb") as f:
        dump_array_pickle(clip, f)
    out["pkl_at_frame_cap"] = (path, frames_cap)
    sizes = {name: round(p.stat().st_size / 1024**2, 2) for name, (p, _) in out.items()}
    too_big = [n for n, mb in sizes.items() if mb > config.max_upload_mb]
    if too_big:
        raise RuntimeError(f"inputs over the upload limit: {too_big} ({sizes})")
    return out


def check_answer(endpoint: str, answer, subject: str) -> str | None:
    """None when the answer is right for a user who loaded `subject`'s sample; else what is wrong."""
    if endpoint == "load_sample":
        return None if answer[-1] == "" and Path(answer[0]).is_file() else f"load failed: {answer[-1]!r}"
    if endpoint == "largest":
        endpoint, subject = "edit", "longest"  # the pkl's stem is its subject
    animation, _, details, files, status = answer
    if status:
        return f"error in the page: {status[:160]!r}"
    if not animation or not Path(animation).is_file():
        return "no animation file"
    if not files or len(files) != 3:
        return f"expected 3 downloads, got {files!r}"
    got = details["edited" if endpoint == "edit" else "anonymized"]["subject"]
    want = subject if endpoint == "edit" else f"anon-{subject}"
    return None if got == want else f"another session's clip: {got} (expected {want})"


def peak_rss_mb(pid: int | str) -> dict:
    """Peak (VmHWM) and current (VmRSS) resident memory of a process, in MiB."""
    out = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key = {"VmHWM:": "peak", "VmRSS:": "now"}.get(line.split(":")[0] + ":")
            if key:
                out[key] = round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(work: str, concurrency: int, timeout: float) -> tuple[subprocess.Popen, str]:
    """`studio app` in a child process on a free loopback port; returns (process, url) once it answers."""
    port = free_port()
    command = [sys.executable, "-m", "studio.cli", "app", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--work-dir", work, "--concurrency", str(concurrency)]
    log = open(Path(work) / "server.log", "wb")  # noqa: SIM115 (lives as long as the server)
    env = dict(os.environ, GRADIO_ANALYTICS_ENABLED="False")
    server = subprocess.Popen(command, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the app exited with {server.returncode}; see {log.name}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return server, url
        except OSError:
            time.sleep(0.5)
    server.terminate()
    raise RuntimeError(f"the app did not answer within {timeout:g} s; see {log.name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--endpoint", default="edit", choices=sorted(ENDPOINTS), help="what each user does")
    parser.add_argument("--requests", type=int, default=20, help=f"users (requests) in all (at most {MAX_REQUESTS})")
    parser.add_argument("--concurrency", type=int, default=20, help="requests in flight at once")
    parser.add_argument("--steps", type=int, default=None, help="sampler steps of edit / anonymize (default 20)")
    parser.add_argument("--server-concurrency", type=int, default=2, help="the app's --concurrency (default 2)")
    parser.add_argument("--url", default=None, help="a running app on loopback (default: start `studio app`)")
    parser.add_argument("--pid", default=None, help="the running app's process id, for its peak RSS")
    parser.add_argument(
        "--timeout", type=float, default=None, help="give up after this many seconds (600; largest: 3600)"
    )
    parser.add_argument(
        "--rss-limit-mb", type=float, default=RSS_LIMIT_MB, help="the app's peak RSS must stay under this (1536)"
    )
    opts = parser.parse_args()
    if not 1 <= opts.requests <= MAX_REQUESTS:
        parser.error(f"--requests must be within 1–{MAX_REQUESTS}")
    call_args = list(ENDPOINTS[opts.endpoint] or [])
    if opts.steps is not None and call_args:
        call_args[-1] = opts.steps
    if opts.timeout is None:
        opts.timeout = 3600.0 if opts.endpoint == "largest" else 600.0
    inputs = largest_inputs(Path(tempfile.mkdtemp(prefix="bench-app-inputs-"))) if opts.endpoint == "largest" else {}
    upload_s: dict[str, list[float]] = {name: [] for name in inputs}

    started_all = time.monotonic()
    server = None
    if opts.url is None:
        server, url = start_server(tempfile.mkdtemp(prefix="bench-app-"), opts.server_concurrency, 120)
        pid = server.pid
    else:
        url, pid = opts.url, opts.pid
        if urlparse(url).hostname not in LOOPBACK:
            parser.error(f"--url must be on loopback ({', '.join(sorted(LOOPBACK))}): this is a load test")
    from gradio_client import Client, handle_file

    def upload_largest(client) -> str | None:
        """Every largest input in turn (each timed), the pkl last: it is the clip then edited."""
        for name, (path, frames) in inputs.items():
            start = time.perf_counter()
            *_, details, _, status = client.predict(handle_file(str(path)), api_name="/load_upload")
            upload_s[name].append(time.perf_counter() - start)
            if status:
                return f"{name} refused: {status[:160]!r}"
            if details["frames"] != frames:
                return f"{name} loaded as {details['frames']} frames, expected {frames}"
        return None

    def one_user(i: int) -> tuple[float, str | None]:
        """Load a sample (or, `largest`, the largest inputs) in a session of its own (not timed), then
        the timed request; (seconds, problem)."""
        sample = SAMPLES[i % len(SAMPLES)]
        client = Client(url, analytics_enabled=False, verbose=False)
        try:
            start = time.perf_counter()
            if opts.endpoint == "largest":
                problem = upload_largest(client)
                if problem:
                    return time.perf_counter() - start, problem
            else:
                answer = client.predict(sample, api_name="/load_sample")
            if opts.endpoint != "load_sample":
                start = time.perf_counter()
                name = "edit" if opts.endpoint == "largest" else opts.endpoint
                answer = client.predict(*call_args, api_name=f"/{name}")
            return time.perf_counter() - start, check_answer(opts.endpoint, answer, sample.split("-")[1])
        finally:
            client.close()

    latencies, problems, correct = [], [], 0
    try:
        rss_start = peak_rss_mb(pid) if pid else {}
        warm_s, warm_problem = one_user(0)  # loads the bundled weights: not part of the burst
        if warm_problem:
            problems.append(f"warm-up: {warm_problem}")
        rss_warm = peak_rss_mb(pid) if pid else {}
        started = time.perf_counter()
        pool = ThreadPoolExecutor(max_workers=max(1, min(opts.concurrency, opts.requests)))
        futures = [pool.submit(one_user, i) for i in range(opts.requests)]
        try:
            remaining = max(1.0, opts.timeout - (time.monotonic() - started_all))
            for future in as_completed(futures, timeout=remaining):
                try:
                    seconds, problem = future.result()
                    latencies.append(seconds)
                    correct += problem is None
                    if problem:
                        problems.append(problem)
                except Exception as err:  # a failed request is a result of the benchmark, not its end
                    problems.append(f"{type(err).__name__}: {err}"[:200])
        except TimeoutError:
            problems.append(f"timed out after {opts.timeout:g} s with {len(latencies)} requests answered")
        wall = time.perf_counter() - started
        pool.shutdown(wait=False, cancel_futures=True)
        rss_end = peak_rss_mb(pid) if pid else {}
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
    lat = np.asarray(latencies) if latencies else np.asarray([np.nan])
    result = {
        "benchmark": "app_concurrent_requests",
        "endpoint": f"/{opts.endpoint}",
        "arguments": call_args,
        "requests": opts.requests,
        "client_concurrency": opts.concurrency,
        "server_concurrency": opts.server_concurrency if server is not None else "as the running app was started",
        "answered": len(latencies),
        "correct": correct,
        "problems": problems[:5],
        "latency_s": {
            "p50": round(float(np.percentile(lat, 50)), 3),
            "p95": round(float(np.percentile(lat, 95)), 3),
            "min": round(float(lat.min()), 3),
            "max": round(float(lat.max()), 3),
        },
        "warm_up_request_s": round(warm_s, 3),
        "wall_s": round(wall, 2),
        "requests_per_s": round(len(latencies) / wall, 3) if wall > 0 else None,
        "server_rss_mb": {"at_start": rss_start.get("now"), "after_warm_up": rss_warm.get("now"), **rss_end},
        "rss_of": f"the app process (pid {pid}), VmHWM = peak" if pid else "unknown (no --pid)",
        "rss_limit_mb": opts.rss_limit_mb,
        "rss_ok": (rss_end["peak"] < opts.rss_limit_mb) if "peak" in rss_end else None,
        **(
            {
                "inputs": {
                    name: {"frames": frames, "mb": round(path.stat().st_size / 1024**2, 2)}
                    for name, (path, frames) in inputs.items()
                },
                "upload_s_p95": {
                    name: round(float(np.percentile(times, 95)), 3) for name, times in upload_s.items() if times
                },
            }
            if inputs
            else {}
        ),
        "cpu_count": os.cpu_count(),
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
    }
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
