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
}


def check_answer(endpoint: str, answer, subject: str) -> str | None:
    """None when the answer is right for a user who loaded `subject`'s sample; else what is wrong."""
    if endpoint == "load_sample":
        return None if answer[-1] == "" and Path(answer[0]).is_file() else f"load failed: {answer[-1]!r}"
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
    parser.add_argument("--timeout", type=float, default=600.0, help="give up after this many seconds in all")
    opts = parser.parse_args()
    if not 1 <= opts.requests <= MAX_REQUESTS:
        parser.error(f"--requests must be within 1–{MAX_REQUESTS}")
    call_args = list(ENDPOINTS[opts.endpoint] or [])
    if opts.steps is not None and call_args:
        call_args[-1] = opts.steps

    started_all = time.monotonic()
    server = None
    if opts.url is None:
        server, url = start_server(tempfile.mkdtemp(prefix="bench-app-"), opts.server_concurrency, 120)
        pid = server.pid
    else:
        url, pid = opts.url, opts.pid
        if urlparse(url).hostname not in LOOPBACK:
            parser.error(f"--url must be on loopback ({', '.join(sorted(LOOPBACK))}): this is a load test")
    from gradio_client import Client

    def one_user(i: int) -> tuple[float, str | None]:
        """Load a sample in a session of its own (not timed), then the timed request; (seconds, problem)."""
        sample = SAMPLES[i % len(SAMPLES)]
        client = Client(url, analytics_enabled=False, verbose=False)
        start = time.perf_counter()
        answer = client.predict(sample, api_name="/load_sample")
        if opts.endpoint != "load_sample":
            start = time.perf_counter()
            answer = client.predict(*call_args, api_name=f"/{opts.endpoint}")
        return time.perf_counter() - start, check_answer(opts.endpoint, answer, sample.split("-")[1])

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
        "cpu_count": os.cpu_count(),
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
    }
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
