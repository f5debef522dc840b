"""The whole fidelity report as one typed object: `FidelityReport`, its sections (the modules
beside this one) and what it says about the run — the judge, its calibration, the clips read and
the time taken. `FidelityReport.to_dict()` is the JSON-ready dict the report is written as."""

from __future__ import annotations

from dataclasses import dataclass, field

from evaluation.report.clips import EmbeddedClips
from evaluation.report.identity import Histograms, IdentitySection
from evaluation.report.leakage import AttackersSection, LeakageSection
from evaluation.report.pairing import PerceptualSection, Sample
from evaluation.report.reference import CovariateSection, DiversitySection, NaturalnessSection
from evaluation.report.values import Section, condition_group
from gaitdata.sequence import CANONICAL_HEIGHT, CANONICAL_WIDTH

FRAME_RULE = (
    f"frames of any size are brought to {CANONICAL_HEIGHT}x{CANONICAL_WIDTH} as GaitSequence.model_input "
    "does (resize to height 64, centre-crop or pad to 44 columns)"
)


@dataclass
class JudgeInfo(Section):
    """The recognizer that embedded every clip, and how."""

    class_name: str
    weights: str
    max_frames: int | None
    bf16: bool

    def fields(self) -> dict:
        return {"class": self.class_name, "weights": self.weights, "max_frames": self.max_frames, "bf16": self.bf16}


@dataclass
class CalibrationInfo(Section):
    """The judge's verification threshold (in `metric`) at FAR `far`, and where it came from."""

    metric: str
    threshold: float
    far: float | None
    source: str


@dataclass
class FolderSummary(Section):
    """What was read of one folder (`selection`: which of its subjects, for the real folder)."""

    root: str
    clips: int
    subjects: int
    condition_types: list[str]
    views: list[str]
    frame_sizes: dict[str, int]
    resized: int
    skipped: int
    skipped_examples: list[dict]
    selection: str | None = None

    @classmethod
    def of(cls, clips: EmbeddedClips, selection: str | None = None) -> FolderSummary:
        return cls(
            root=str(clips.root),
            clips=len(clips),
            subjects=len(set(clips.subjects.tolist())),
            condition_types=sorted({condition_group(c) for c in clips.conditions}),
            views=sorted(set(clips.views.tolist())),
            frame_sizes=dict(clips.frame_sizes),
            resized=clips.resized(),
            skipped=len(clips.skipped),
            skipped_examples=clips.skipped[:5],
            selection=selection,
        )

    def fields(self) -> dict:
        out = dict(vars(self))
        if not self.selection:
            del out["selection"]
        return out


@dataclass
class DataSection(Section):
    """The two folders as read, and how many generated clips name a source (and have it in the real folder).

    Attributes:
        found: generated clips found (before `max_clips`), real copies left out.
        real_copies_left_out: clips the manifest marks as unmodified real copies.
    """

    real: FolderSummary
    generated: FolderSummary
    found: int
    max_clips: int | None
    real_copies_left_out: int
    subjects_in_common: int
    sources_named: int
    sources_in_real_folder: int

    def fields(self) -> dict:
        generated = {
            **self.generated.fields(),
            "found": self.found,
            "max_clips": self.max_clips,
            "real_copies_left_out": self.real_copies_left_out,
        }
        return {
            "real": self.real,
            "generated": generated,
            "subjects_in_common": self.subjects_in_common,
            "sources_named": self.sources_named,
            "sources_in_real_folder": self.sources_in_real_folder,
            "frame_rule": FRAME_RULE,
        }


@dataclass
class Timing(Section):
    """How long the report took; `embedding_seconds` is the wall time of reading and embedding
    (every process's share, gathered), `shares` what each process read and embedded
    (`{"clips", "subjects", "embedding_seconds"}`, in process order)."""

    clips_embedded: int
    embedding_seconds: float
    clips_per_second: float
    seconds: float
    processes: int = 1
    shares: list[dict] = field(default_factory=list)


@dataclass
class FidelityReport(Section):
    """A folder of generated / edited / anonymized clips judged against a folder of real ones
    (`evaluation.fidelity_report.build_fidelity_report`); `leakage` and `attackers` are None unless
    the clips are anonymized."""

    kind: str
    real_root: str
    generated_root: str
    created: str
    judge: JudgeInfo
    calibration: CalibrationInfo
    data: DataSection
    identity: IdentitySection
    leakage: LeakageSection | None
    attackers: AttackersSection | None
    naturalness: NaturalnessSection
    covariates: CovariateSection
    diversity: DiversitySection
    perceptual: PerceptualSection
    histograms: Histograms
    samples: list[Sample]
    timing: Timing
