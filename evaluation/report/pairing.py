"""Each generated clip beside a real one: the perceptual section (SSIM / IoU / LPIPS against the
source clip, frame by frame, when pairable) and the sample clips the page shows as animated strips."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evaluation.perceptual import perceptual_report
from evaluation.report.clips import EmbeddedClips, model_clip
from evaluation.report.identity import IdentitySection
from evaluation.report.values import Key, Section, condition_group

SOURCE_RELATION = "its source clip"


@dataclass
class PerceptualSection(Section):
    """`evaluation.perceptual.perceptual_report` over (clip, source) pairs: `{"mean", "median"}` of SSIM
    and IoU, and LPIPS's status (with its numbers when it ran); `reason` says why nothing was paired."""

    lpips: dict
    reason: str | None = None
    paired: str | None = None
    pairs: int = 0
    frames: int = 0
    ssim: dict | None = None
    iou: dict | None = None

    @classmethod
    def from_report(cls, report: dict) -> PerceptualSection:
        """From `perceptual_report`'s dict."""
        if not report["available"]:
            return cls(lpips=report["lpips"], reason=report["reason"])
        return cls(**{k: v for k, v in report.items() if k != "available"})

    def fields(self) -> dict:
        if self.reason is not None:
            return {"available": False, "reason": self.reason, "lpips": self.lpips}
        numbers = {"pairs": self.pairs, "frames": self.frames, "ssim": self.ssim, "iou": self.iou}
        return {"available": True, "paired": self.paired, **numbers, "lpips": self.lpips}


def perceptual_section(
    real: EmbeddedClips, gen: EmbeddedClips, paired, how: list[str], kind: str, identity: IdentitySection
) -> PerceptualSection:
    """SSIM / IoU / LPIPS of each clip against its source, the clips re-read whole (frame 0 with frame 0).

    Only edited and anonymized clips follow their source frame by frame; a generated clip's named
    source is an identity reference, and comparing its frames would measure the gait phase.
    """
    if kind == "generated":
        return PerceptualSection.from_report(
            perceptual_report(
                [],
                "generated clips do not follow a source frame by frame (only edited and "
                "anonymized clips do): SSIM / IoU would compare unrelated gait phases",
            )
        )
    if not paired:
        return PerceptualSection.from_report(
            perceptual_report([], f"not pairable: {identity.similarity_to_source.reason}")
        )
    known_by = {"manifest": "the generated folder's manifest", "name": "the anon-<subject> name"}
    text = (
        f"frame i of each {kind} clip with frame i of its source clip in the real folder, over the shorter "
        "length, 64x44 crop; source known by " + " and ".join(sorted({known_by[how[i]] for i, _ in paired}))
    )
    pairs = [(model_clip(gen.paths[i]), model_clip(real.paths[j])) for i, j in paired]
    return PerceptualSection.from_report(perceptual_report(pairs, text))


@dataclass
class Sample(Section):
    """One generated clip shown beside a real partner: its source, or the real clip most like it."""

    real_path: str
    real_label: str
    generated_path: str
    generated_label: str
    relation: str

    @property
    def is_source(self) -> bool:
        return self.relation == SOURCE_RELATION

    def fields(self) -> dict:
        return {
            "real": {"path": self.real_path, "label": self.real_label},
            "generated": {"path": self.generated_path, "label": self.generated_label},
            "relation": self.relation,
            "is_source": self.is_source,
        }


def _closest_real(real_keys: list[Key], subject: str, view: str, group: str) -> tuple[int, str]:
    """The real clip most like a generated one (subject first, then view, then condition type), and how."""
    scores = [4 * (s == subject) + 2 * (v == view) + (condition_group(c) == group) for s, c, v in real_keys]
    best = int(np.argmax(scores))
    s, c, v = real_keys[best]
    relation = ", ".join(
        [
            "same subject" if s == subject else "another subject (none of this one is real)",
            "same view" if v == view else "another view",
            "same condition type" if condition_group(c) == group else "another condition type",
        ]
    )
    return best, relation


def sample_pairs(real: EmbeddedClips, gen: EmbeddedClips, claimed, sources, count: int, kind: str) -> list[Sample]:
    """Up to `count` generated clips (spread over condition types and views), each with a real partner."""
    if not count or not len(gen):
        return []
    order = sorted(range(len(gen)), key=lambda i: (condition_group(gen.keys[i][1]), gen.keys[i][2], gen.keys[i]))
    picks = [order[int(i)] for i in np.unique(np.linspace(0, len(order) - 1, min(count, len(order))).round())]
    real_index = {k: i for i, k in enumerate(real.keys)}
    out = []
    for i in picks:
        subject, condition, view = gen.keys[i]
        source = sources[i]
        # an edit or anonymization follows its source frame by frame; a generated clip's source is
        # an identity reference at other covariates, so a real clip like it says more
        if kind != "generated" and source is not None and source in real_index:
            partner, relation = real_index[source], SOURCE_RELATION
        else:
            partner, relation = _closest_real(real.keys, claimed[i], view, condition_group(condition))
        r = real.keys[partner]
        out.append(
            Sample(
                real_path=real.paths[partner],
                real_label=f"real {r[0]} {r[1]} {r[2]}",
                generated_path=gen.paths[i],
                generated_label=f"{kind} {subject} {condition} {view}",
                relation=relation,
            )
        )
    return out
