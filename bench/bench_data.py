"""Dataset read throughput: sequences/s and frames/s through the safe OpenGait reader.

Writes a synthetic OpenGait-layout dataset (soft 64x64 frames, 30–60 frames per sequence) to a
temporary folder, then times `load_opengait` over it. Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time

import numpy as np

from gaitdata import GaitSequence, load_opengait, write_pkl_sequence


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sequences", type=int, default=1100)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as root:
        frames_total = 0
        for i in range(args.sequences):
            t = int(rng.integers(30, 61))
            frames = np.zeros((t, 64, 64), np.uint8)
            frames[:, 4:60, 22:42] = rng.integers(0, 256, (t, 56, 20), dtype=np.uint8)
            subject, cond, view = f"{i // 110:03d}", f"nm-{i // 11 % 10 + 1:02d}", f"{i % 11 * 18:03d}"
            write_pkl_sequence(root, GaitSequence(frames, subject, cond, view))
            frames_total += t
        start = time.perf_counter()
        sequences, report = load_opengait(root)
        elapsed = time.perf_counter() - start
    assert report.loaded == args.sequences
    print(
        json.dumps(
            {
                "benchmark": "dataset_read",
                "sequences": args.sequences,
                "frames": frames_total,
                "seconds": round(elapsed, 3),
                "sequences_per_s": round(args.sequences / elapsed, 1),
                "frames_per_s": round(frames_total / elapsed, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
