"""Perceptual frame distance between a clip and its source: SSIM, IoU, and LPIPS when it can run.

Clips are `uint8 [T, 64, 44]` (the model crop). Frame i of one clip is compared with frame i of
the other, over the shorter length: an edit or an anonymization regenerates the source frame by
frame, so frames line up; two unrelated clips do not, and are never paired here.

LPIPS needs the `lpips` package AND its backbone's ImageNet weights on disk (torchvision's
AlexNet checkpoint in torch hub's cache). Nothing is downloaded: when either is missing the
result says so (`{"available": False, "reason": ...}`) instead of a number.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import numpy as np
from scipy.ndimage import gaussian_filter

# Wang et al. 2004: Gaussian window sigma 1.5, K1 = 0.01, K2 = 0.03, dynamic range 1
SSIM_SIGMA = 1.5
SSIM_C1 = 0.01**2
SSIM_C2 = 0.03**2
LPIPS_BACKBONE_GLOB = "alexnet-owt-*.pth"  # what `lpips.LPIPS(net="alex")` asks torchvision for


def _aligned(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if a.shape[1:] != b.shape[1:]:
        raise ValueError(f"frames of {a.shape[1:]} and {b.shape[1:]} cannot be compared; crop both to 64x44 first")
    t = min(len(a), len(b))
    return a[:t].astype(np.float64) / 255.0, b[:t].astype(np.float64) / 255.0


def ssim_frames(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Structural similarity of each aligned frame pair, `uint8 [T, H, W]` twice → `float [min T]` in [-1, 1]."""
    x, y = _aligned(a, b)
    sigma = (0, SSIM_SIGMA, SSIM_SIGMA)  # per frame, never across time

    def blur(z):
        return gaussian_filter(z, sigma, mode="reflect", truncate=3.5)

    mu_x, mu_y = blur(x), blur(y)
    var_x = blur(x * x) - mu_x**2
    var_y = blur(y * y) - mu_y**2
    cov = blur(x * y) - mu_x * mu_y
    ssim_map = ((2 * mu_x * mu_y + SSIM_C1) * (2 * cov + SSIM_C2)) / (
        (mu_x**2 + mu_y**2 + SSIM_C1) * (var_x + var_y + SSIM_C2)
    )
    return ssim_map.mean(axis=(1, 2))


def iou_frames(a: np.ndarray, b: np.ndarray, threshold: int = 128) -> np.ndarray:
    """Intersection over union of the body masks (pixels ≥ `threshold`) of each aligned frame pair.

    Returns `float [min T]`; a pair where both frames are empty counts as 1 (they agree).
    """
    t = min(len(a), len(b))
    if a.shape[1:] != b.shape[1:]:
        raise ValueError(f"frames of {a.shape[1:]} and {b.shape[1:]} cannot be compared; crop both to 64x44 first")
    x, y = a[:t] >= threshold, b[:t] >= threshold
    inter = (x & y).sum(axis=(1, 2))
    union = (x | y).sum(axis=(1, 2))
    return np.where(union > 0, inter / np.maximum(union, 1), 1.0)


def lpips_status() -> dict:
    """Can LPIPS run here without downloading anything? `{"available": bool, "reason"?: str, "backbone"?: str}`."""
    try:
        importlib.import_module("lpips")
    except ImportError as err:
        return {
            "available": False,
            "reason": (
                f"the lpips package is not installed ({err}); it needs torchvision, whose only build for this "
                "torch is CUDA and breaks `import diffusers` here, so it is an optional extra (gait-studio[lpips])"
            ),
        }
    import torch

    checkpoints = Path(torch.hub.get_dir()) / "checkpoints"
    found = sorted(checkpoints.glob(LPIPS_BACKBONE_GLOB))
    if not found:
        return {
            "available": False,
            "reason": (
                f"lpips is installed but its AlexNet backbone weights are not on disk ({checkpoints}/"
                f"{LPIPS_BACKBONE_GLOB}); nothing is downloaded, so LPIPS is not computed"
            ),
        }
    return {"available": True, "backbone": str(found[0])}


def lpips_distances(pairs: list[tuple[np.ndarray, np.ndarray]], max_frames: int = 16) -> np.ndarray:
    """Mean LPIPS (AlexNet) per clip pair, over up to `max_frames` aligned frames each; `float [len(pairs)]`.

    Call only when `lpips_status()["available"]`: frames are upscaled ×2 (AlexNet's strides leave
    nothing of a 64×44 frame) and repeated to 3 channels in [-1, 1], as LPIPS expects.
    """
    import lpips
    import torch
    import torch.nn.functional as F

    model = lpips.LPIPS(net="alex", verbose=False).eval()
    out = []
    with torch.inference_mode():
        for a, b in pairs:
            x, y = _aligned(a[:max_frames], b[:max_frames])

            def prepare(z):
                t = torch.as_tensor(z, dtype=torch.float32)[:, None] * 2 - 1  # [T, 1, H, W] in [-1, 1]
                return F.interpolate(t, scale_factor=2, mode="bilinear").repeat(1, 3, 1, 1)

            out.append(float(model(prepare(x), prepare(y)).mean()))
    return np.asarray(out)


def perceptual_report(pairs: list[tuple[np.ndarray, np.ndarray]], paired: str) -> dict:
    """SSIM, IoU (and LPIPS when it can run) over clip pairs `(result, source)`, each `uint8 [T, 64, 44]`.

    Args:
        pairs: the clips to compare, frame i with frame i.
        paired: one sentence saying what was paired with what (shown in the report).

    Returns:
        `{"paired", "pairs", "frames", "ssim": {"mean", "median"}, "iou": {...}, "lpips": {...}}`;
        with no pairs, `{"available": False, "reason": paired, "lpips": ...}`.
    """
    lpips = lpips_status()
    if not pairs:
        return {"available": False, "reason": paired, "lpips": lpips}
    ssim = np.array([ssim_frames(a, b).mean() for a, b in pairs])
    iou = np.array([iou_frames(a, b).mean() for a, b in pairs])
    if lpips["available"]:
        values = lpips_distances(pairs)
        lpips = {**lpips, "mean": float(values.mean()), "median": float(np.median(values))}
    return {
        "available": True,
        "paired": paired,
        "pairs": len(pairs),
        "frames": int(sum(min(len(a), len(b)) for a, b in pairs)),
        "ssim": {"mean": float(ssim.mean()), "median": float(np.median(ssim))},
        "iou": {"mean": float(iou.mean()), "median": float(np.median(iou))},
        "lpips": lpips,
    }
