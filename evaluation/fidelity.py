"""Fidelity of generated clips: naturalness, silhouette statistics, novelty and self-consistency.

Functions of (judge embeddings, labels, frames): no model is called here. Embeddings are the
judge's `float [N, c, p]`; they are flattened and L2-normalised where a vector is needed.
"""

from __future__ import annotations

import numpy as np
from scipy import linalg

from gaitdata.silhouette_stats import silhouette_stats

STAT_NAMES = ("foreground", "height_px", "width_px", "flicker")


def flat_unit(embeddings: np.ndarray) -> np.ndarray:
    """Embeddings `[N, c, p]` (or any `[N, ...]`) → `float64 [N, c*p]` rows of unit length."""
    x = np.asarray(embeddings, np.float64).reshape(len(embeddings), -1)
    return x / np.linalg.norm(x, axis=1, keepdims=True).clip(min=1e-12)


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to feature sets `[N, D]` and `[M, D]`."""
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean, _ = linalg.sqrtm(cov_a @ cov_b, disp=False)
    covmean = covmean.real
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(cov_a) + np.trace(cov_b) - 2 * np.trace(covmean))


def frechet_report(real: np.ndarray, generated: np.ndarray, dims: int = 64, seed: int = 0) -> dict:
    """Fréchet distance of judge features, real vs generated, beside real vs real.

    The real clips are split at random into two disjoint halves A and B; generated clips are
    subsampled to the size of A; both distances are measured against B in the same PCA basis
    (`dims` components fitted on all real features, through `principal_axes`), so the two numbers
    are comparable.

    Returns:
        {"generated_vs_real", "real_vs_real", "ratio", "dims", "real_half", "generated"}.
    """
    rng = np.random.default_rng(seed)
    real, generated = flat_unit(real), flat_unit(generated)
    if len(real) < 4 or len(generated) < 2:
        raise ValueError(f"need ≥ 4 real and ≥ 2 generated clips, got {len(real)} and {len(generated)}")
    order = rng.permutation(len(real))
    half_a, half_b = real[order[: len(real) // 2]], real[order[len(real) // 2 :]]
    gen = generated[rng.permutation(len(generated))[: len(half_a)]]
    centre = real.mean(0)
    dims = min(dims, len(gen) - 1, len(half_a) - 1, real.shape[1])
    basis = principal_axes(real - centre, dims)

    def project(x):
        return (x - centre) @ basis

    real_vs_real = frechet_distance(project(half_a), project(half_b))
    gen_vs_real = frechet_distance(project(gen), project(half_b))
    return {
        "generated_vs_real": gen_vs_real,
        "real_vs_real": real_vs_real,
        "ratio": gen_vs_real / max(real_vs_real, 1e-12),
        "dims": dims,
        "real_half": len(half_a),
        "generated": len(gen),
    }


def clip_statistics(frames: np.ndarray) -> dict:
    """Foreground, body height and width (px, 64×44 crop) and flicker of one clip."""
    stats = silhouette_stats(frames)
    rows = (frames > 127).any(axis=2)  # [T, 64]
    top = rows.argmax(axis=1)
    bottom = rows.shape[1] - 1 - rows[:, ::-1].argmax(axis=1)
    height = np.where(rows.any(axis=1), bottom - top + 1, 0)
    return {
        "foreground": stats["foreground"],
        "height_px": float(height.mean()),
        "width_px": stats["width_px"],
        "flicker": stats["flicker"],
    }


def statistics_report(real_clips: list[np.ndarray], generated_clips: list[np.ndarray]) -> dict:
    """Mean silhouette statistics of real and generated clips and the relative difference of each."""
    return statistics_summary([clip_statistics(c) for c in real_clips], [clip_statistics(c) for c in generated_clips])


def subject_templates(embeddings: np.ndarray, subjects: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """One unit-norm template per subject: the mean of its clips' unit embeddings."""
    flat = flat_unit(embeddings)
    subjects = np.asarray(subjects).astype(str)
    names = sorted(set(subjects.tolist()))
    templates = np.stack([flat[subjects == n].mean(0) for n in names])
    return templates / np.linalg.norm(templates, axis=1, keepdims=True), names


def template_threshold(embeddings: np.ndarray, subjects: np.ndarray, split: np.ndarray, far: float = 0.01) -> dict:
    """Cosine-similarity threshold between subject templates at a false-accept rate.

    Each real subject gets two templates from disjoint clip sets (`split` True / False):
    same-subject pairs are genuine, different-subject pairs impostors. A template pair is
    "the same person" when its similarity exceeds the threshold.

    Returns:
        {"threshold", "far", "tar", "genuine", "impostor"}.
    """
    subjects = np.asarray(subjects).astype(str)
    a, names_a = subject_templates(embeddings[split], subjects[split])
    b, names_b = subject_templates(embeddings[~split], subjects[~split])
    common = sorted(set(names_a) & set(names_b))
    if len(common) < 2:
        raise ValueError("need at least two subjects with clips on both sides of the split")
    a = a[[names_a.index(n) for n in common]]
    b = b[[names_b.index(n) for n in common]]
    sims = a @ b.T
    genuine = np.diag(sims)
    impostor = sims[~np.eye(len(common), dtype=bool)]
    threshold = float(np.quantile(impostor, 1 - far))
    return {
        "threshold": round(threshold, 5),
        "far": far,
        "tar": round(float((genuine > threshold).mean()), 4),
        "genuine": len(genuine),
        "impostor": len(impostor),
    }


def real_people_distinct(
    probe_embeddings: np.ndarray,
    probe_subjects: np.ndarray,
    known_embeddings: np.ndarray,
    known_subjects: np.ndarray,
    threshold: float,
) -> dict:
    """The yardstick of `novelty_report`'s "distinct": how many REAL people pass the same test.

    Each real subject's probe template (shaped like a novel person's: a few clips) is compared
    with the templates of every OTHER known subject; it is distinct when none exceeds
    `threshold`. At a FAR-1% threshold against K others, a real newcomer is expected to clash
    with somebody in about 1 − 0.99^K of cases, so this is the rate a generator of people as
    distinct as real ones would reach.

    Also the similarity under which 95% of the real people are distinct (`threshold_95`): the
    like-for-like threshold for asking whether novel people are as distinct as real ones.

    Returns:
        {"subjects", "distinct", "distinct_fraction", "known_subjects", "threshold_95"}.
    """
    probes, probe_names = subject_templates(probe_embeddings, probe_subjects)
    known, known_names = subject_templates(known_embeddings, known_subjects)
    sims = probes @ known.T
    sims[np.asarray(probe_names)[:, None] == np.asarray(known_names)[None, :]] = -np.inf  # not oneself
    distinct = sims.max(axis=1) < threshold
    return {
        "subjects": len(probe_names),
        "distinct": int(distinct.sum()),
        "distinct_fraction": round(float(distinct.mean()), 4),
        "known_subjects": len(known_names),
        "threshold_95": round(float(np.quantile(sims.max(axis=1), 0.95)), 5),
    }


def novelty_report(
    novel_embeddings: np.ndarray,
    novel_ids: np.ndarray,
    real_embeddings: np.ndarray,
    real_subjects: np.ndarray,
    threshold: float,
    more_thresholds: dict[str, float] | None = None,
) -> dict:
    """Are novel identities nobody we know, and each consistently themselves?

    Distinct: the novel identity's template (mean of its clips) is less similar than
    `threshold` (a template threshold at FAR 1%, `template_threshold`) to every real subject's
    template. Self-consistent: each novel clip, matched against the templates of all novel
    identities built from that identity's OTHER clips, retrieves its own identity at rank 1.

    `more_thresholds` (name → similarity) count the distinct identities at other thresholds too
    (`"distinct_at": {name: count}`), e.g. `real_people_distinct`'s `threshold_95`.

    Returns:
        {"identities", "distinct", "distinct_fraction", "self_rank1", "max_similarity_to_real": {...}}.
    """
    novel_ids = np.asarray(novel_ids).astype(str)
    flat = flat_unit(novel_embeddings)
    templates, names = subject_templates(novel_embeddings, novel_ids)
    real_templates, _ = subject_templates(real_embeddings, real_subjects)
    nearest_real = (templates @ real_templates.T).max(axis=1)
    distinct = nearest_real < threshold
    # leave-one-clip-out templates for self-consistency
    sums = np.stack([flat[novel_ids == n].sum(0) for n in names])
    counts = np.array([(novel_ids == n).sum() for n in names])
    hits = []
    for i, n in enumerate(novel_ids):
        k = names.index(n)
        if counts[k] < 2:
            continue
        own = (sums[k] - flat[i]) / (counts[k] - 1)
        gallery = sums / counts[:, None]
        gallery[k] = own
        gallery /= np.linalg.norm(gallery, axis=1, keepdims=True)
        hits.append(int(np.argmax(gallery @ flat[i]) == k))
    return {
        "identities": len(names),
        "distinct": int(distinct.sum()),
        "distinct_fraction": round(float(distinct.mean()), 4),
        "self_rank1": round(float(np.mean(hits)) * 100, 2) if hits else None,
        "threshold": threshold,
        "max_similarity_to_real": {
            "mean": round(float(nearest_real.mean()), 4),
            "max": round(float(nearest_real.max()), 4),
        },
        **(
            {"distinct_at": {k: int((nearest_real < v).sum()) for k, v in more_thresholds.items()}}
            if more_thresholds
            else {}
        ),
    }


def statistics_summary(real_stats: list[dict], generated_stats: list[dict]) -> dict:
    """`statistics_report` from per-clip `clip_statistics` dicts already measured (no frames held).

    Same result shape: per statistic `{"real", "generated", "relative_difference"}`.
    """
    real = {k: float(np.mean([s[k] for s in real_stats])) for k in STAT_NAMES}
    gen = {k: float(np.mean([s[k] for s in generated_stats])) for k in STAT_NAMES}
    return {
        k: {
            "real": round(real[k], 4),
            "generated": round(gen[k], 4),
            "relative_difference": round((gen[k] - real[k]) / max(abs(real[k]), 1e-12), 4),
        }
        for k in STAT_NAMES
    }


def principal_axes(x: np.ndarray, dims: int) -> np.ndarray:
    """The first `dims` principal axes of rows `x [N, D]` (already centred), as columns `[D, dims]`.

    Through the N×N Gram matrix when N < D (one matrix product and a small eigenproblem: judge
    features have D ≈ 8,000, and a full SVD of 2,000 of them takes ~10 s on 2 cores); the same
    subspace as the SVD's leading right singular vectors.
    """
    n, d = x.shape
    if n >= d:
        _, _, vt = np.linalg.svd(x, full_matrices=False)
        return vt[:dims].T
    dims = min(dims, n)
    _, vectors = linalg.eigh(x @ x.T, subset_by_index=[n - dims, n - 1])  # the largest, ascending
    axes = x.T @ vectors[:, ::-1]  # [D, dims], column k has norm sqrt(eigenvalue k)
    return axes / np.linalg.norm(axes, axis=0, keepdims=True).clip(min=1e-12)
