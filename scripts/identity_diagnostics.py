"""Where a generator loses identity: the autoencoder's ceiling, training vs held-out people, best-of-K.

Three questions, each answered on walker subjects from ONE nm-05 reference clip (a random view),
NM generated at the 10 other views, retrieved against the subjects' real nm-01..04 gallery
(CASIA-B protocol, identical views excluded):

- `ceiling`: the judge's rank-1 of real nm-05 probes after the autoencoder's encode → decode
  (what no denoiser can beat) beside the real probes;
- `train` / `test`: generated rank-1 on subjects the denoiser trained on vs held-out ones, so a
  gap that is memorisation (train high, test low) tells apart from one of capacity (both low);
- best-of-K (`--candidates K`): rank-1 of the plain call (candidate 0) and of the best of the
  first k candidates as the pipeline picks them (the CONDITIONER's choice), scored by the judge,
  the GEINet attacker and a same-view GEI template matcher, none of which chose.

    python scripts/identity_diagnostics.py --data data/walkers --out identity_diagnostics.json \
        [--weights walkers] [--subjects 50] [--candidates 3] [--parts ceiling,train,test] \
        [--conditioner-guidance 0.2]

`--conditioner-guidance` steers every generated clip toward its person along the conditioner's
gradient (`generators.identity_guidance`); the three scorers still never steer.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

GALLERY = ("nm-01", "nm-02", "nm-03", "nm-04")
PROBE = "nm-05"


def _retrieval(gallery, gallery_embeddings, probes, probe_embeddings) -> float:
    from evaluation.protocols import CasiaBProtocol

    labels = {
        key: np.array([getattr(s, key) for s in gallery] + [getattr(s, key) for s in probes])
        for key in ("subject", "condition", "view")
    }
    protocol = CasiaBProtocol(gallery_conditions=GALLERY, probe_conditions={"probe": (probes[0].condition,)})
    return round(protocol.evaluate(np.concatenate([gallery_embeddings, probe_embeddings]), labels).mean["probe"], 1)


def _gei_same_view(gallery, probes) -> float:
    from evaluation.attackers import euclidean_distances, gait_energy_images

    distances = euclidean_distances(gait_energy_images(probes), gait_energy_images(gallery))
    other_view = np.array([p.view for p in probes])[:, None] != np.array([g.view for g in gallery])[None]
    distances[other_view] = np.inf
    found = np.array([g.subject for g in gallery])[distances.argmin(1)]
    return round(100 * float(np.mean(found == np.array([p.subject for p in probes]))), 1)


def _split(data, subjects, seed):
    from gaitdata import load_opengait

    sequences, _ = load_opengait(data, subjects=subjects, conditions=[*GALLERY, PROBE])
    gallery = [s for s in sequences if s.condition in GALLERY]
    probes = [s for s in sequences if s.condition == PROBE]
    rng = np.random.default_rng(seed)
    references = {}
    for subject in subjects:
        candidates = [s for s in probes if s.subject == subject]
        references[subject] = candidates[int(rng.integers(len(candidates)))]
    return gallery, probes, references


def ceiling(pipeline, judge, gallery, probes) -> dict:
    from gaitdata import GaitSequence
    from generators.pipeline import frames_from_model_output

    with torch.no_grad():
        decoded = [
            GaitSequence(
                frames_from_model_output(pipeline.decode_clips(pipeline.encode_clip(p)[None])[0]),
                subject=p.subject,
                condition="nm-decoded",
                view=p.view,
            )
            for p in probes
        ]
    g = judge.embed(gallery)
    return {
        "real_rank1": _retrieval(gallery, g, probes, judge.embed(probes)),
        "encoded_decoded_rank1": _retrieval(gallery, g, decoded, judge.embed(decoded)),
    }


def generated(pipeline, scorers, gallery, probes, references, candidates, seed, conditioner_guidance=0.0) -> dict:
    from generators.identity_selection import identity_similarity

    views = sorted({s.view for s in gallery})
    requests = [(subject, v) for subject, ref in references.items() for v in views if v != ref.view]
    identity = [references[s] for s, _ in requests]
    targets = pipeline.encode_identity(identity)
    gallery_embeddings = {name: model.embed(gallery) for name, model in scorers.items()}

    def score(clips) -> dict:
        for clip in clips:
            clip.condition = "nm-gen"
        row = {
            name: _retrieval(gallery, gallery_embeddings[name], clips, model.embed(clips))
            for name, model in scorers.items()
        }
        return {**row, "gei_same_view": _gei_same_view(gallery, clips)}

    started = time.time()
    drawn, similarities, rows = [], [], {}
    for k in range(candidates):
        # candidate k of the pipeline's own best-of-K, drawn alone from its seed
        noise = None
        if k:
            from generators.identity_selection import candidate_seed

            shape = (len(requests), 30, pipeline.denoiser.config.latent_dim)
            noise = torch.randn(shape, generator=torch.Generator().manual_seed(candidate_seed(seed, k)))
        clips = pipeline(
            identity=identity,
            view=[v for _, v in requests],
            clothing="normal",
            carrying="none",
            num_clips=len(requests),
            seed=seed,
            subject=[s for s, _ in requests],
            latents=noise,
            conditioner_guidance=conditioner_guidance,
        )
        drawn.append(clips)
        similarities.append(identity_similarity(pipeline.conditioner.embed(clips), targets, pipeline.denoiser))
        if k == 0:
            rows["plain"] = score(clips)
        else:
            best = torch.stack(similarities).argmax(0).tolist()
            rows[f"best_of_{k + 1}"] = score([drawn[c][i] for i, c in enumerate(best)])
        print(json.dumps({"candidates": k + 1, **rows}), flush=True)
    real = {
        name: _retrieval(gallery, gallery_embeddings[name], probes, model.embed(probes))
        for name, model in scorers.items()
    }
    return {"clips": len(requests), "real_probes": {**real, "gei_same_view": _gei_same_view(gallery, probes)}, **rows,
            "seconds": round(time.time() - started, 1)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", required=True, help="walker benchmark (OpenGait layout with partition.json)")
    parser.add_argument("--out", required=True, help="JSON to write")
    parser.add_argument("--weights", default="walkers", help="generator folder or bundled name")
    parser.add_argument("--subjects", type=int, default=50, help="subjects per split (default 50)")
    parser.add_argument("--candidates", type=int, default=3, help="best-of-K measured up to K (default 3)")
    parser.add_argument("--parts", default="ceiling,train,test")
    parser.add_argument("--conditioner-guidance", type=float, default=0.0, help="steering scale (default 0: off)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    import recognizers
    from gaitdata import read_partition
    from gaitdata.atomic import atomic_write_text
    from generators import load_generator

    pipeline = load_generator(args.weights)
    judge = recognizers.load_judge()
    scorers = {"judge": judge, "geinet_attacker": recognizers.load_attacker()}
    partition = read_partition(f"{args.data}/partition.json")
    parts = args.parts.split(",")
    result = {"weights": args.weights, "subjects_per_split": args.subjects, "reference": PROBE,
              "conditioner_guidance": args.conditioner_guidance}  # fmt: skip
    for part in ("ceiling", "train", "test"):
        if part not in parts:
            continue
        subjects = (partition.train if part == "train" else partition.test)[: args.subjects]
        gallery, probes, references = _split(args.data, subjects, args.seed)
        if part == "ceiling":
            result[part] = ceiling(pipeline, judge, gallery, probes)
        else:
            k = args.candidates if part == "test" else 1
            result[part] = generated(
                pipeline, scorers, gallery, probes, references, k, args.seed, args.conditioner_guidance
            )
        print(json.dumps({part: result[part]}), flush=True)
        atomic_write_text(args.out, json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
