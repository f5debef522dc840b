"""Fit the calibrated walker style (`gaitdata.walkers.style.CalibratedLook`) on real CASIA-B GEI statistics.

Reproduce the fit (one core, about 15-25 minutes a sweep; the seed fixes the walkers and so the
whole search, which is deterministic):

    OMP_NUM_THREADS=1 python scripts/fit_walker_realism.py search --seed 0 --subjects 10 \\
        --sweeps 1 --out fitted_look.json

(`--start JSON` resumes from a saved look, `--knobs a,b` searches only those fields; the best
look so far is written to `--out` after every gain, so a search cut short keeps its result.)

Then copy its fields into `CalibratedLook`'s defaults, and re-fit the mean-shape fields for that
look (`gaitdata/walkers/calibrated_shape.npz`, the calibrated style's last step; about 2.5 minutes;
scored on real TRAINING-subject statistics only, `mean_gei`):

    python scripts/fit_walker_realism.py shape --subjects 74

Measure a look on the walker TEST
subjects (075-124, as the README's figures; nm-01, nm-05, bg-01, cl-01 × 11 views, 30-40 frames):

    python scripts/fit_walker_realism.py measure [--look fitted_look.json] [--png mean_gei.png]

How the search works: walkers are rendered in memory exactly as `studio synth-data --style
calibrated` renders them, but with a candidate look; their GEIs are scored by `objective`
(`J = GEI Fréchet + mean per-view squared mean distance + 100 × mean-GEI L1`) from the real
TRAINING subjects' statistics only (`../shared/data/real-gei/casia_b_gei_stats.npz`: their
Gaussian in the PCA basis is N(0, diag(eigenvalues)), their mean GEIs), so the reported figures,
against the real TEST subjects' Gaussians, are not what the search optimised. (The look of the
first two fits was searched with `overall + mean per-view Fréchet` against the test Gaussians;
the mean-shape fit and every search from now on read training statistics only.) The Fréchet term
compares mean AND covariance of the PCA-projected GEIs, so the knobs that set the spread across
people (the `sd` of each `(mean, sd)` pair, the width of each `(lo, hi)` range) are searched too.
The search renders walker TRAINING subjects (001 onwards); the reported figures come from the
test subjects. Coordinate search: each knob in turn is stepped up, then down; a step that lowers J by more than 0.05 is
kept and repeated in the same direction while it helps.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from evaluation.realism import (  # noqa: E402
    GEI_SHAPE,
    condition_type,
    frechet_to_reference,
    gait_energy_image,
    gaussian_frechet,
    load_reference,
    mean_gei_l1,
)
from gaitdata.casia_b import CONDITION_TYPES  # noqa: E402
from gaitdata.silhouette_stats import silhouette_stats  # noqa: E402
from gaitdata.walkers.identity import (  # noqa: E402
    _seed_key,
    calibrate_camera,
    calibrate_identity,
    camera_for,
    identity_for,
    walk_for,
)
from gaitdata.walkers.render import render_walker_sequence  # noqa: E402
from gaitdata.walkers.shape_correction import SHAPE_FIELDS, ShapeCorrection, read_shape_correction  # noqa: E402
from gaitdata.walkers.style import CALIBRATED, CalibratedLook  # noqa: E402

DEFAULT_REFERENCE = Path(__file__).resolve().parents[2] / "shared/data/real-gei/casia_b_gei_stats.npz"
FIT_CONDITIONS = ("nm-01", "nm-02", "nm-03", "bg-01", "cl-01")
MIN_JACOBIAN = 0.5  # the shape warp may halve an area, never fold it
SHAPE_FIT_CONDITIONS = ("nm-01", "nm-02", "bg-01", "bg-02", "cl-01", "cl-02")
MEASURE_CONDITIONS = ("nm-01", "nm-05", "bg-01", "cl-01")
VIEW_GROUPS = {"000/180": ("000", "180"), "036/144": ("036", "144"), "090": ("090",)}

# (field, index into the pair or None for a scalar): additive step, (lowest, highest) allowed.
KNOBS = {  # most telling first: a search cut short still has the big wins
    # the second fit's shapes (front and back views: soft shoulders, arms over the torso, legs merged)
    ("trunk_width", 0): (0.06, (0.7, 1.2)),
    ("arm_inset", 1): (0.006, (0.0, 0.04)),
    ("shoulder_drop", 1): (0.006, (0.0, 0.04)),
    ("leg_inset", 1): (0.005, (0.0, 0.03)),
    ("arm_inset", 0): (0.006, (0.0, 0.04)),
    ("shoulder_drop", 0): (0.006, (0.0, 0.04)),
    ("leg_inset", 0): (0.005, (0.0, 0.03)),
    ("trunk_width", 1): (0.03, (0.0, 0.12)),
    # the spread across people and clips (the Fréchet distance's covariance term: walkers vary
    # 5-35 % more than real people per view after the first sweep)
    ("elevation", 0): (4.0, (0.0, 30.0)),
    ("person_px", 1): (20.0, (60.0, 200.0)),
    ("roll_sd", None): (0.75, (0.0, 4.0)),
    ("coarse_share", None): (0.15, (0.0, 1.0)),
    ("shadow_share", None): (0.2, (0.0, 1.0)),
    ("shoulder_round", 1): (0.04, (0.0, 0.2)),
    ("sway_scale", 1): (0.3, (0.0, 1.5)),
    ("shoulder_round", 0): (0.08, (0.6, 1.3)),
    ("bag_left_share", None): (0.25, (0.0, 1.0)),
    ("arm_swing_scale", 0): (0.1, (0.4, 1.6)),
    ("elbow_flex", 0): (8.0, (0.0, 70.0)),
    ("elevation", 1): (5.0, (0.0, 45.0)),
    ("threshold", 0): (0.05, (0.3, 0.98)),
    ("threshold", 1): (0.05, (0.3, 0.98)),
    ("shoe_scale", 1): (0.2, (0.8, 2.6)),
    ("sway_scale", 0): (0.5, (1.0, 6.0)),
    ("bag_drop", 1): (0.05, (0.0, 0.3)),
    ("backpack_drop", 0): (0.06, (0.0, 0.5)),
    ("backpack_drop", 1): (0.06, (0.0, 0.5)),
    ("arm_abduction", 0): (2.0, (-4.0, 14.0)),
    ("arm_abduction", 1): (1.0, (0.0, 6.0)),
    ("shoulder_scale", 0): (0.04, (0.7, 1.1)),
    ("shoulder_scale", 1): (0.02, (0.0, 0.12)),
    ("head_scale", 0): (0.05, (0.9, 1.4)),
    ("head_scale", 1): (0.03, (0.0, 0.15)),
    ("chest_depth_scale", 0): (0.08, (0.8, 1.4)),
    ("pelvis_scale", 0): (0.06, (0.6, 1.1)),
    ("elbow_flex", 1): (4.0, (0.0, 20.0)),
    ("lean", 0): (2.0, (-2.0, 10.0)),
    ("lean", 1): (1.0, (0.0, 5.0)),
    ("bag_scale", 0): (0.2, (0.2, 1.5)),
    ("bag_scale", 1): (0.2, (0.4, 2.0)),
    ("top_looseness", 1): (0.008, (0.0, 0.04)),
    ("waist_fill", 0): (0.3, (0.0, 1.0)),
    ("trouser_looseness", 1): (0.008, (0.0, 0.04)),
    ("hair_volume", 1): (0.01, (0.0, 0.05)),
    ("person_px", 0): (25.0, (40.0, 140.0)),
    ("closing_px", 1): (1.5, (0.0, 6.0)),
    ("blur_px", 1): (1.0, (0.0, 5.0)),
}


def get_knob(look: CalibratedLook, key) -> float:
    field, index = key
    value = getattr(look, field)
    return float(value if index is None else value[index])


def set_knob(look: CalibratedLook, key, value: float) -> CalibratedLook:
    """`look` with one knob set; a `(lo, hi)` range that would invert is kept ordered."""
    field, index = key
    if index is None:
        return replace(look, **{field: float(value)})
    pair = list(getattr(look, field))
    pair[index] = float(value)
    if _is_range(field) and pair[0] > pair[1]:
        pair = [pair[index], pair[index]]
    return replace(look, **{field: tuple(pair)})


def _is_range(field: str) -> bool:
    """True for `(lo, hi)` uniform ranges, False for `(mean, sd)` normals."""
    return field in {
        "hair_volume", "bag_scale", "bag_drop", "backpack_drop", "top_looseness", "waist_fill", "sleeve_looseness",
        "trouser_looseness", "skirt_hem", "shoe_scale", "elevation", "person_px", "closing_px",
        "blur_px", "threshold", "coarse_px", "shadow_size", "shoulder_drop", "arm_inset", "leg_inset",
    }  # fmt: skip


def render_geis(look: CalibratedLook, subjects, conditions, views, frames, seed: int = 0, shape_correction=True):
    """GEIs of walkers drawn with `look`: list of (type, view, gei `float [64, 44]`, frames `uint8 [T, 64, 64]`).

    `shape_correction`: True warps them by the bundled mean-shape fields (as `synth-data` renders),
    False leaves the warp out (what `fit_shape` starts from), a `ShapeCorrection` warps by it.
    """
    out = []
    for subject in subjects:
        rng = np.random.default_rng(_seed_key("identity-calibrated", seed, subject))
        identity = calibrate_identity(identity_for(seed, subject), rng, look)
        for condition in conditions:
            walk = walk_for(seed, identity, condition)
            for view in views:
                key = _seed_key("camera-calibrated", seed, subject, condition, view)
                camera = calibrate_camera(
                    camera_for(seed, subject, condition, view, frames),
                    np.random.default_rng(key),
                    look,
                    shape_correction=shape_correction is True,
                )
                seq = render_walker_sequence(identity, walk, camera.view_deg, camera=camera)
                frames_out = seq.frames
                if isinstance(shape_correction, ShapeCorrection):
                    frames_out = shape_correction.apply(frames_out, camera.view_deg, condition_type(condition))
                out.append((condition_type(condition), view, gait_energy_image(frames_out), frames_out))
    return out


def score(items, reference, stats: bool = False) -> dict:
    """Overall and per-view GEI Fréchet, mean-GEI L1 per type × view, optionally silhouette stats."""
    z = reference.project(np.stack([gei for _, _, gei, _ in items]))
    views = np.array([view for _, view, _, _ in items])
    per_view = {v: frechet_to_reference(z[views == v], reference, v) for v in reference.views if (views == v).sum() > 1}
    sums = np.zeros((len(reference.types), len(reference.views), *GEI_SHAPE))
    counts = np.zeros((len(reference.types), len(reference.views)), int)
    for kind, view, gei, _ in items:
        i, j = reference.types.index(kind), reference.views.index(view)
        sums[i, j] += gei
        counts[i, j] += 1
    with np.errstate(invalid="ignore"):
        means = (sums / counts[..., None, None]).astype(np.float32)
    # Where each view's distance comes from: the mean's share, and the spread (walker / real variance).
    parts = {
        v: {
            "mean_part": float(np.sum((z[views == v].mean(0) - reference.view_mean[v]) ** 2)),
            "spread_ratio": float(np.trace(np.cov(z[views == v], rowvar=False)) / np.trace(reference.view_cov[v])),
        }
        for v in per_view
    }
    result = {
        "parts": parts,
        "overall": frechet_to_reference(z, reference),
        "per_view": per_view,
        "l1": mean_gei_l1(means, counts, reference),
        "means": means,
        "counts": counts,
    }
    if stats:
        rows = {}
        for group, group_views in VIEW_GROUPS.items():
            for kind in CONDITION_TYPES:
                found = [silhouette_stats(f) for k, v, _, f in items if k == kind and v in group_views]
                rows[f"{group} {kind}"] = {name: float(np.nanmean([s[name] for s in found])) for name in found[0]}
        result["stats"] = rows
    return result


def objective(items, reference, result: dict) -> float:
    """What the search minimises, from real TRAINING-subject statistics only (the reported
    figures are against the real TEST subjects' Gaussians, which no fit reads):

    GEI Fréchet to the training subjects' Gaussian (the PCA basis is theirs: mean 0, covariance
    diag(eigenvalues)) + mean over views of the squared distance between the walkers' mean
    projected GEI and the training subjects' (from `mean_gei`) + 100 x mean-GEI L1 (`mean_gei`).
    """
    z = reference.project(np.stack([gei for _, _, gei, _ in items]))
    views = np.array([view for _, view, _, _ in items])
    overall = gaussian_frechet(
        z.mean(0), np.cov(z, rowvar=False), np.zeros(reference.dims), np.diag(reference.pca_eigenvalues)
    )
    counts = reference.mean_gei_counts
    per_view = []
    for j, view in enumerate(reference.views):
        if (views == view).sum() and counts[:, j].sum():
            real = (reference.mean_gei[:, j] * counts[:, j, None, None]).sum(0) / counts[:, j].sum()
            per_view.append(float(np.sum((z[views == view].mean(0) - reference.project(real[None])[0]) ** 2)))
    return overall + float(np.mean(per_view)) + 100 * result["l1"]["mean"]


def summary(result: dict) -> str:
    pv, l1 = result["per_view"], result["l1"]
    lines = [
        f"GEI Fréchet {result['overall']:.2f} | per view "
        + " ".join(f"{v}:{d:.1f}" for v, d in pv.items())
        + f" | max {max(pv.values()):.1f}",
        f"mean-GEI L1 {l1['mean']:.4f} (range {l1['min']:.4f}-{l1['max']:.4f}, worst {l1['worst']})",
    ]
    for kind, cells in l1["cells"].items():
        lines.append(f"  {kind} " + " ".join("  -  " if c is None else f"{c:.3f}" for c in cells.values()))
    lines.append(
        "  mean part / spread ratio "
        + " ".join(f"{v}:{p['mean_part']:.1f}/{p['spread_ratio']:.2f}" for v, p in result["parts"].items())
    )
    for row, figures in result.get("stats", {}).items():
        lines.append(f"  {row:11s} " + " ".join(f"{k}={v:.3f}" for k, v in figures.items()))
    return "\n".join(lines)


def read_look(path: str | None) -> CalibratedLook:
    if path is None:
        return CALIBRATED
    fields = json.loads(Path(path).read_text())
    return CalibratedLook(
        **{**CALIBRATED.to_dict(), **{k: tuple(v) if isinstance(v, list) else v for k, v in fields.items()}}
    )


def search(
    look: CalibratedLook, reference, subjects, sweeps: int, seed: int, frames, log=print, keep=None
) -> CalibratedLook:
    """Coordinate search from `look` (see the module docstring); returns the best look found."""

    def evaluate(candidate):
        items = render_geis(candidate, subjects, FIT_CONDITIONS, reference.views, frames, seed)
        result = score(items, reference)
        return objective(items, reference, result), result

    best, result = evaluate(look)
    log(f"start J {best:.2f} FD {result['overall']:.2f} L1 {result['l1']['mean']:.4f}")
    for sweep in range(sweeps):
        for key, (step, (low, high)) in KNOBS.items():
            for sign in (1, -1):
                moved = False
                while True:
                    value = get_knob(look, key) + sign * step
                    if not low - 1e-9 <= value <= high + 1e-9:
                        break
                    candidate = set_knob(look, key, value)
                    j, r = evaluate(candidate)
                    if j >= best - 0.05:
                        break
                    best, look, result, moved = j, candidate, r, True
                    if keep is not None:  # best so far, so a search cut short still leaves its result
                        keep(look)
                    figures = f"J {best:.2f} FD {r['overall']:.2f} L1 {r['l1']['mean']:.4f}"
                    log(f"  {key[0]}[{key[1]}] -> {value:.4f}: {figures}")
                if moved:
                    break
        log(f"sweep {sweep} done: J {best:.2f}")
    log(summary(result))
    return look


def fit_shape(
    look: CalibratedLook,
    reference,
    subjects,
    seed: int,
    frames,
    grid: int = 33,
    smoothness: float = 0.002,
    steps: int = 1500,
    log=print,
) -> ShapeCorrection:
    """Mean-shape fields (`gaitdata.walkers.shape_correction`) fitted on walkers of `subjects`.

    Renders the walkers of `look` WITHOUT the warp, takes their full-frame (64x64) mean GEI per
    type × view, and fits one smooth displacement field per cell (a `grid` x `grid` control
    lattice, bicubic in between) so that the warped mean matches the reference's `mean_gei`
    (real TRAINING subjects) over the 64x44 crop, with a squared-difference penalty
    (`smoothness`) between neighbouring control points and, at a third of it, between
    neighbouring views. The warp is linear in the image, so warping the mean GEI is warping every
    frame. Adam, lr 0.05, `steps` steps; deterministic on one thread.
    """
    import torch
    import torch.nn.functional as nnf

    items = render_geis(look, subjects, SHAPE_FIT_CONDITIONS, reference.views, frames, seed, shape_correction=False)
    types, views = reference.types, reference.views
    sums = np.zeros((len(types), len(views), 64, 64))
    counts = np.zeros((len(types), len(views)))
    for kind, view, _, clip in items:
        i, j = types.index(kind), views.index(view)
        sums[i, j] += clip.astype(np.float64).mean(0) / 255.0
        counts[i, j] += 1
    if counts.min() == 0:
        raise ValueError("every type x view needs walkers to fit its field")
    cells = len(types) * len(views)
    source = torch.tensor(sums / counts[..., None, None], dtype=torch.float32).reshape(cells, 1, 64, 64)
    target = torch.tensor(reference.mean_gei, dtype=torch.float32).reshape(cells, 1, *GEI_SHAPE)
    crop = slice(10, 10 + GEI_SHAPE[1])
    torch.manual_seed(0)
    control = torch.zeros(cells, 2, grid, grid, requires_grad=True)
    ys, xs = torch.meshgrid(torch.arange(64.0), torch.arange(64.0), indexing="ij")

    def displacement(c):
        return nnf.interpolate(c, size=(64, 64), mode="bicubic", align_corners=True)

    def jacobian(d):  # of (x, y) -> (x + dx, y + dy): below 0 the warp folds the image over
        ddx_dx, ddy_dy = d[:, 0, :, 1:] - d[:, 0, :, :-1], d[:, 1, 1:] - d[:, 1, :-1]
        ddx_dy, ddy_dx = d[:, 0, 1:] - d[:, 0, :-1], d[:, 1, :, 1:] - d[:, 1, :, :-1]
        return (1 + ddx_dx[:, :-1]) * (1 + ddy_dy[..., :-1]) - ddx_dy[..., :-1] * ddy_dx[:, :-1]

    def warp(img, d):  # out(y, x) = img(y + dy, x + dx): cv2.remap's convention
        grid_xy = torch.stack([(xs + d[:, 0]) / 63 * 2 - 1, (ys + d[:, 1]) / 63 * 2 - 1], dim=-1)
        return nnf.grid_sample(img, grid_xy, mode="bilinear", padding_mode="zeros", align_corners=True)

    optimizer = torch.optim.Adam([control], lr=0.05)
    for step in range(steps):
        data = ((warp(source, displacement(control))[..., crop] - target) ** 2).mean()
        lattice = ((control[..., 1:, :] - control[..., :-1, :]) ** 2).mean() + (
            (control[..., 1:] - control[..., :-1]) ** 2
        ).mean()
        per_view = control.reshape(len(types), len(views), 2, grid, grid)
        across_views = ((per_view[:, 1:] - per_view[:, :-1]) ** 2).mean()
        folds = (torch.relu(MIN_JACOBIAN - jacobian(displacement(control))) ** 2).mean()
        loss = data + smoothness * (lattice + across_views / 3) + folds
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % 500 == 0 or step == steps - 1:
            log(f"  step {step}: mean-GEI MSE {data.item():.5f}, lattice {lattice.item():.4f}")
    with torch.no_grad():
        fields = displacement(control).reshape(len(types), len(views), 2, 64, 64).numpy()
        before = float((source[..., crop] - target).abs().mean())
        after = float((warp(source, displacement(control))[..., crop] - target).abs().mean())
    log(f"training mean-GEI L1 {before:.4f} -> {after:.4f} ({len(items)} walker sequences); "
        f"largest displacement {np.abs(fields).max():.2f} px")  # fmt: skip
    return ShapeCorrection(tuple(types), np.array([float(v) for v in views]), fields.astype(np.float32))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("search", help="fit the look on training subjects")
    s.add_argument("--seed", type=int, default=0, help="walker dataset seed (fixes every draw)")
    s.add_argument("--subjects", type=int, default=10, help="training subjects 001..N")
    s.add_argument("--sweeps", type=int, default=1)
    s.add_argument("--frames", type=int, nargs=2, default=(16, 24))
    s.add_argument("--start", help="JSON of CalibratedLook fields to start from (default: CALIBRATED)")
    s.add_argument("--knobs", help="comma-separated fields to search (default: every knob)")
    s.add_argument("--out", default="fitted_look.json")
    f = sub.add_parser("shape", help="fit the mean-shape fields on training subjects (after the look)")
    f.add_argument("--seed", type=int, default=0)
    f.add_argument("--subjects", type=int, default=74, help="training subjects 001..N")
    f.add_argument("--frames", type=int, nargs=2, default=(30, 40))
    f.add_argument("--grid", type=int, default=33, help="control points per side of the 64x64 frame")
    f.add_argument("--smoothness", type=float, default=0.002)
    f.add_argument("--look", help="JSON of CalibratedLook fields (default: CALIBRATED)")
    f.add_argument("--out", default=str(SHAPE_FIELDS), help="fields file (default: the bundled one)")
    m = sub.add_parser("measure", help="score a look on test subjects 075-124")
    m.add_argument("--seed", type=int, default=0)
    m.add_argument("--look", help="JSON of CalibratedLook fields (default: CALIBRATED)")
    m.add_argument("--subjects", type=int, default=50, help="test subjects 075 onwards")
    m.add_argument("--frames", type=int, nargs=2, default=(30, 40))
    m.add_argument("--shape", help="fields file to warp by instead of the bundled one; 'none': no warp")
    m.add_argument("--png", help="write real vs walker mean GEIs here")
    m.add_argument("--json", help="write the figures here")
    for p in (s, f, m):
        p.add_argument("--reference", default=str(DEFAULT_REFERENCE))
    args = parser.parse_args(argv)
    reference = load_reference(args.reference)
    started = time.time()
    if args.command == "search":
        if args.knobs:
            for key in [k for k in KNOBS if k[0] not in args.knobs.split(",")]:
                del KNOBS[key]
        subjects = [f"{i:03d}" for i in range(1, args.subjects + 1)]
        out = Path(args.out)
        look = search(
            read_look(args.start),
            reference,
            subjects,
            args.sweeps,
            args.seed,
            tuple(args.frames),
            log=lambda line: print(line, flush=True),
            keep=lambda best: out.write_text(json.dumps(best.to_dict(), indent=1)),
        )
        out.write_text(json.dumps(look.to_dict(), indent=1))
        print(f"wrote {args.out} ({time.time() - started:.0f} s)")
        return 0
    if args.command == "shape":
        subjects = [f"{i:03d}" for i in range(1, args.subjects + 1)]
        correction = fit_shape(
            read_look(args.look), reference, subjects, args.seed, tuple(args.frames), args.grid, args.smoothness,
            log=lambda line: print(line, flush=True),
        )  # fmt: skip
        correction.save(args.out)
        print(f"wrote {args.out}: digest {correction.digest} ({time.time() - started:.0f} s)")
        return 0
    subjects = [f"{i:03d}" for i in range(75, 75 + args.subjects)]
    shape = True if args.shape is None else (False if args.shape == "none" else read_shape_correction(args.shape))
    items = render_geis(
        read_look(args.look), subjects, MEASURE_CONDITIONS, reference.views, tuple(args.frames), args.seed, shape
    )
    result = score(items, reference, stats=True)
    print(summary(result))
    print(f"{len(items)} sequences, {time.time() - started:.0f} s")
    if args.png:
        from types import SimpleNamespace

        from evaluation.realism import mean_gei_figure

        shown = SimpleNamespace(
            data="calibrated walkers",
            mean_geis=result["means"],
            mean_gei_counts=result["counts"],
            mean_gei_l1=result["l1"],
            gei_frechet=result["overall"],
        )
        Path(args.png).write_bytes(mean_gei_figure(shown, reference, "calibrated walkers"))
    if args.json:
        keep = {k: result[k] for k in ("overall", "per_view", "parts", "l1", "stats")}
        Path(args.json).write_text(json.dumps(keep, indent=1, default=float))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
