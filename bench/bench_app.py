"""Web studio under load: N concurrent requests to one endpoint → p50/p95 latency, peak RSS. Prints JSON.

Each simulated user is its own `gradio_client.Client` (its own session and `gr.State`), so the
requests meet in Gradio's queue as real users' would. Loopback only, bounded in count and time.

    python bench/bench_app.py                                   # app started in-process, /load_sample
    python bench/bench_app.py --requests 20 --endpoint /edit --args '[...]'   # once /edit exists
    python bench/bench_app.py --url http://127.0.0.1:7860 --pid $(pgrep -n studio)
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
MAX_REQUESTS = 200


def peak_rss_mb(pid: int | str = "self") -> float | None:
    """Peak resident memory (VmHWM) of a process, in MiB; None where /proc does not say."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def start_in_process(work: str) -> tuple[object, str]:
    from app import AppConfig, prepare_environment

    prepare_environment(work)  # before gradio is imported
    from app.studio_app import launch_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return launch_app(AppConfig(port=port, work_dir=work))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default=None, help="a running app on loopback (default: start one in-process)")
    parser.add_argument("--pid", default=None, help="the running app's process id, for its peak RSS")
    parser.add_argument("--endpoint", default="/load_sample", help="api_name to call (default /load_sample)")
    parser.add_argument("--args", default='["walker-001-nm"]', help="JSON list of the endpoint's arguments")
    parser.add_argument("--requests", type=int, default=20, help=f"requests in all (at most {MAX_REQUESTS})")
    parser.add_argument("--concurrency", type=int, default=20, help="requests in flight at once")
    parser.add_argument("--timeout", type=float, default=180.0, help="give up after this many seconds in all")
    opts = parser.parse_args()
    if not 1 <= opts.requests <= MAX_REQUESTS:
        parser.error(f"--requests must be within 1–{MAX_REQUESTS}")
    call_args = json.loads(opts.args)
    if not isinstance(call_args, list):
        parser.error("--args must be a JSON list")

    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    work = tempfile.mkdtemp(prefix="bench-app-")
    demo = None
    if opts.url is None:
        demo, url = start_in_process(work)
        pid = os.getpid()
    else:
        url, pid = opts.url, opts.pid
        if urlparse(url).hostname not in LOOPBACK:
            parser.error(f"--url must be on loopback ({', '.join(sorted(LOOPBACK))}): this is a load test")
    from gradio_client import Client

    def one_user(i: int) -> float:
        client = Client(url, analytics_enabled=False, verbose=False, download_files=False)
        start = time.perf_counter()
        client.predict(*call_args, api_name=opts.endpoint)
        return time.perf_counter() - start

    latencies, errors = [], []
    started = time.perf_counter()
    pool = ThreadPoolExecutor(max_workers=max(1, min(opts.concurrency, opts.requests)))
    futures = [pool.submit(one_user, i) for i in range(opts.requests)]
    try:
        for future in as_completed(futures, timeout=opts.timeout):
            try:
                latencies.append(future.result())
            except Exception as err:  # a failed request is a result of the benchmark, not its end
                errors.append(f"{type(err).__name__}: {err}"[:200])
    except TimeoutError:
        errors.append(f"timed out after {opts.timeout:g} s with {len(latencies)} requests done")
    wall = time.perf_counter() - started
    pool.shutdown(wait=False, cancel_futures=True)
    lat = np.asarray(latencies) if latencies else np.asarray([np.nan])
    result = {
        "benchmark": "app_concurrent_requests",
        "endpoint": opts.endpoint,
        "requests": opts.requests,
        "concurrency": opts.concurrency,
        "succeeded": len(latencies),
        "errors": errors[:5],
        "latency_s": {
            "p50": round(float(np.percentile(lat, 50)), 3),
            "p95": round(float(np.percentile(lat, 95)), 3),
            "max": round(float(lat.max()), 3),
        },
        "wall_s": round(wall, 2),
        "requests_per_s": round(len(latencies) / wall, 2) if wall > 0 else None,
        "peak_rss_mb": peak_rss_mb(pid) if pid else None,
        "rss_of": "this process (app in-process + clients)" if demo is not None else f"pid {pid}",
        "cpu_count": os.cpu_count(),
    }
    if demo is not None:
        demo.close()
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
