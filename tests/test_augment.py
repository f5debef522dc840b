"""Domain augmentation of training clips: each option does to a silhouette what its name says, and
a config without them draws exactly what it drew before they existed."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from recognizers.augment import ClipAugment

OFF = dict(rotate_prob=0.0, erase_prob=0.0)


def body_clip(n: int = 4, s: int = 12) -> torch.Tensor:
    """`[n, s, 64, 44]` an upright ellipse body, moving its legs a little from frame to frame."""
    yy, xx = np.mgrid[0:64, 0:44].astype(np.float32)
    frames = []
    for t in range(s):
        body = ((xx - 22) / 7) ** 2 + ((yy - 30) / 26) ** 2 <= 1
        legs = (yy > 44) & (np.abs(np.abs(xx - 22) - 2 - (t % 4)) < 2.5)
        frames.append((body | legs).astype(np.float32))
    return torch.from_numpy(np.stack(frames))[None].repeat(n, 1, 1, 1)


def run(clips: torch.Tensor, seed: int = 0, **options) -> torch.Tensor:
    return ClipAugment(**{**OFF, **options})(clips.clone(), torch.Generator().manual_seed(seed))


def width(frames: torch.Tensor) -> float:
    """Mean horizontal extent in pixels of the rows the body fills."""
    return float((frames > 0.5).sum(-1).float()[frames.amax(-1) > 0.5].mean())


def test_domain_options_off_draw_nothing_more():
    clips = body_clip()
    first, second = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    a = ClipAugment()(clips.clone(), first)
    b = ClipAugment(scale_prob=0.0, morph_prob=0.0, blur_prob=0.0, drop_prob=0.0)(clips.clone(), second)
    assert torch.equal(a, b) and torch.equal(first.get_state(), second.get_state())


def test_morphology_grows_or_shrinks_the_whole_outline():
    clips = body_clip(n=16)
    out = run(clips, morph_prob=1.0, morph_px=1)
    changes = (out.sum((1, 2, 3)) - clips.sum((1, 2, 3))) / clips.shape[1]
    assert (changes > 20).any() and (changes < -20).any()  # a 1-px band of a ~140-px outline
    grown = out[changes > 0]
    assert torch.all(grown >= clips[changes > 0])  # dilation only adds


def test_edge_noise_only_touches_the_outline_and_differs_per_frame():
    clips = body_clip(n=1, s=6)
    out = run(clips, edge_noise_prob=1.0, edge_noise_share=0.3)
    changed = (out != clips)[0]
    assert changed.any()
    inner = -torch.nn.functional.max_pool2d(-clips[0][:, None], 5, 1, 2)[:, 0]  # 2 px inside the outline
    outer = torch.nn.functional.max_pool2d(clips[0][:, None], 5, 1, 2)[:, 0]
    assert not changed[(inner > 0.5) | (outer < 0.5)].any()
    per_frame = [frozenset(torch.nonzero(changed[t]).flatten().tolist()) for t in range(6)]
    assert len(set(per_frame)) > 1


def test_jitter_moves_each_frame_by_about_the_sd():
    clips = body_clip(n=1, s=200)
    out = run(clips, jitter_prob=1.0, jitter_px=1.5)
    xx = torch.arange(44).float()
    centre = lambda f: (f.sum(-2) * xx).sum(-1) / f.sum((-1, -2))  # noqa: E731
    shift = centre(out[0]) - centre(clips[0])
    assert 1.0 < float(shift.std()) < 2.0 and abs(float(shift.mean())) < 0.4


def test_scale_and_aspect_change_the_width():
    clips = body_clip(n=1)
    wide = run(clips, scale_prob=1.0, scale_range=(1.0, 1.0), aspect_range=(1.3, 1.3))
    narrow = run(clips, scale_prob=1.0, scale_range=(1.0, 1.0), aspect_range=(0.7, 0.7))
    assert width(wide) > 1.2 * width(clips) > 1.2 * 1.2 * width(narrow)
    assert int((wide > 0.5).amax(-1).sum(-1)[0, 0]) == int((clips > 0.5).amax(-1).sum(-1)[0, 0])  # same height


def test_blur_softens_edges_and_keeps_the_mass():
    clips = body_clip(n=1)
    out = run(clips, blur_prob=1.0, blur_sigma=(0.8, 0.8))
    soft = lambda f: float(((f > 0.05) & (f < 0.95)).float().mean())  # noqa: E731
    assert soft(out) > soft(clips) + 0.02
    assert abs(float(out.sum() / clips.sum()) - 1) < 0.01


def test_dropped_frames_repeat_the_last_one_that_arrived():
    clips = torch.arange(20).float().div(20).view(1, 20, 1, 1).repeat(3, 1, 64, 44)
    out = run(clips, drop_prob=1.0, drop_share=(0.5, 0.5))
    for clip in out:
        values = clip[:, 0, 0]
        assert values[0] == 0 and torch.all(values.diff() >= 0) and len(values.unique()) < 20


def test_feet_cut_clears_the_bottom_rows_only():
    clips = body_clip(n=1)
    out = run(clips, feet_prob=1.0, feet_cut=(0.1, 0.1))
    assert torch.all(out[..., -6:, :] == 0) and torch.equal(out[..., :-7, :], clips[..., :-7, :])


def test_bad_options_are_refused_by_name():
    with pytest.raises(ValueError, match="transform.morph_prob"):
        ClipAugment(morph_prob=1.5)
    with pytest.raises(ValueError, match="transform.morph_px"):
        ClipAugment(morph_px=0)
