"""Give a generator folder's identity bank the conditioner's covariate means
(`generators.covariate_means`): the mean embedding of the training people per condition type
and view, which conditioner guidance uses to ask for the person under the clip's own covariates.

    python scripts/covariate_means.py --weights generators/weights/walkers --data data/walkers \
        [--conditions nm-01,nm-05,bg-01,cl-01]

Reads the TRAIN_SET of `--data` (never its test subjects), embeds the clips with the
pipeline's conditioner and writes `identity_bank/covariate_means.safetensors` into the folder
(the bank's identities are left as they are). `studio train-generator` writes the means itself.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", required=True, help="generator pipeline folder (its identity_bank/ is updated)")
    parser.add_argument("--data", required=True, help="the dataset the generator trained on (OpenGait layout)")
    parser.add_argument("--partition", help="partition JSON (default DATA/partition.json); TRAIN_SET is used")
    parser.add_argument("--conditions", default="nm-01,nm-05,bg-01,cl-01", help="conditions embedded")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    import torch

    from gaitdata.opengait import load_opengait, read_partition
    from generators import load_generator
    from generators.covariate_means import CovariateMeans
    from generators.identity_bank import IdentityBank

    torch.set_num_threads(args.threads)
    bank_folder = Path(args.weights) / "identity_bank"
    bank = IdentityBank.load(bank_folder)  # refuses a folder without a bank before any work
    partition = read_partition(args.partition or Path(args.data) / "partition.json")
    conditions = [c.strip() for c in args.conditions.split(",") if c.strip()]
    clips, report = load_opengait(args.data, subjects=partition.train, conditions=conditions)
    if not clips:
        raise SystemExit(f"{args.data}: no {', '.join(conditions)} clips of the TRAIN_SET to embed")
    pipeline = load_generator(args.weights)
    embeddings = pipeline.encode_identity(clips)
    bank.covariate_means = CovariateMeans.from_embeddings(
        embeddings.numpy(), [c.condition for c in clips], [c.view for c in clips]
    )
    bank.covariate_means.save(bank_folder)
    counts = bank.covariate_means.counts
    print(
        json.dumps(
            {"clips": len(clips), "skipped": len(report.skipped), "cells": len(counts), "folder": str(bank_folder)}
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
