"""Is a synthetic person nobody we know? Reference templates of known people, in the judge's space.

A judge ships `reference_templates.safetensors`: one unit-norm template per known subject (the
mean of that subject's gallery clips' unit embeddings) and the template-vs-template cosine
threshold at FAR 1% (`evaluation.fidelity.template_threshold`). Embeddings are centred on the
mean of all reference clips first: a judge's raw part features share a large common component
(every template pair had cosine > 0.99), which would squeeze every verdict into the last digits.
With them, a novel identity's clips can be checked anywhere — no dataset needed:

- distinct: the novel template's highest similarity to any known template is below the threshold;
- self-consistent: each of its clips retrieves its own identity at rank 1 among the novel ones.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file, save_file

from evaluation.fidelity import flat_unit, novelty_report, subject_templates, template_threshold
from gaitdata.casia_b import GALLERY

TEMPLATES_FILE = "reference_templates.safetensors"


@dataclass
class ReferenceTemplates:
    """Templates of known people and the threshold above which two templates are one person.

    Attributes:
        templates: `float32 [S, D]` unit vectors (D = the judge's flattened embedding size), of
            centred clip embeddings.
        subjects: the `S` subject ids.
        threshold: template cosine similarity at FAR `far`.
        far: the false-accept rate the threshold was set at.
        source: what the templates were computed from (dataset, conditions).
    """

    templates: np.ndarray
    subjects: list[str]
    threshold: float
    far: float = 0.01
    source: str = ""
    center: np.ndarray | None = None  # float32 [D], subtracted from unit clip embeddings

    def centred(self, embeddings: np.ndarray) -> np.ndarray:
        """Judge embeddings `[N, c, p]` → centred unit vectors `[N, D, 1]` (the shape templates take)."""
        flat = flat_unit(embeddings)
        if self.center is not None:
            flat = flat - self.center
        return flat[:, :, None]

    @classmethod
    def from_embeddings(
        cls,
        embeddings: np.ndarray,
        subjects: np.ndarray,
        calibration_split: np.ndarray,
        far: float = 0.01,
        source: str = "",
    ) -> ReferenceTemplates:
        """Build from judge embeddings `[N, c, p]` of known people's clips.

        Args:
            embeddings, subjects: every known clip and its subject id.
            calibration_split: bool `[N]` cutting each subject's clips into two disjoint sets,
                for the threshold (two templates per subject: genuine pairs; other subjects: impostors).
            far: false-accept rate of the threshold.
        """
        center = flat_unit(embeddings).mean(0).astype(np.float32)
        centred = (flat_unit(embeddings) - center)[:, :, None]
        threshold = template_threshold(centred, subjects, np.asarray(calibration_split, bool), far)
        templates, names = subject_templates(centred, subjects)
        return cls(templates.astype(np.float32), names, float(threshold["threshold"]), far, source, center)

    @classmethod
    def from_dataset(
        cls,
        judge,
        root: str | os.PathLike,
        conditions: tuple[str, ...] = GALLERY,
        max_frames: int = 300,
        far: float = 0.01,
        progress: bool = True,
    ) -> ReferenceTemplates:
        """Templates of every subject of an OpenGait-layout dataset from its `conditions` clips.

        The threshold splits each subject's clips by condition: the first half of `conditions`
        against the second half.
        """
        from recognizers.embedding import embed_dataset

        embeddings, labels, _ = embed_dataset(
            judge, root, None, max_frames, bf16=True, progress=progress, conditions=conditions
        )
        if len(embeddings) == 0:
            raise ValueError(f"{root}: no readable {', '.join(conditions)} clips to build templates from")
        first_half = np.isin(labels["condition"], conditions[: len(conditions) // 2])
        return cls.from_embeddings(embeddings, labels["subject"], first_half, far, f"{root} ({', '.join(conditions)})")

    def save(self, folder: str | os.PathLike) -> Path:
        path = Path(folder) / TEMPLATES_FILE
        metadata = {
            "subjects": json.dumps(self.subjects),
            "threshold": repr(self.threshold),
            "far": repr(self.far),
            "source": self.source,
        }
        tensors = {"templates": self.templates.astype(np.float16)}
        if self.center is not None:
            tensors["center"] = self.center.astype(np.float32)
        save_file(tensors, str(path), metadata=metadata)
        return path

    @classmethod
    def load(cls, folder: str | os.PathLike) -> ReferenceTemplates:
        """Read `<folder>/reference_templates.safetensors`.

        Raises:
            FileNotFoundError: the folder has no reference templates (name of the file in the message).
        """
        path = Path(folder) / TEMPLATES_FILE
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no reference templates (the judge folder ships them)")
        from safetensors import safe_open

        with safe_open(str(path), "numpy") as f:
            metadata = f.metadata()
        tensors = load_file(str(path))
        return cls(
            tensors["templates"].astype(np.float32),
            json.loads(metadata["subjects"]),
            float(metadata["threshold"]),
            float(metadata["far"]),
            metadata.get("source", ""),
            tensors.get("center"),
        )

    def check(self, embeddings: np.ndarray, identities: np.ndarray) -> dict:
        """Novelty of generated people: `embeddings [N, c, p]` of their clips, `identities [N]` their ids.

        Returns:
            `evaluation.fidelity.novelty_report`'s summary plus `per_identity`:
            `{id: {"nearest_known", "similarity", "distinct"}}`.
        """
        identities = np.asarray(identities).astype(str)
        report = novelty_report(
            embeddings, identities, self._as_embeddings(), np.asarray(self.subjects), self.threshold
        )
        templates, names = subject_templates(embeddings, identities)
        sims = templates @ self.templates.T  # [identities, known]
        nearest = sims.argmax(axis=1)
        report["per_identity"] = {
            name: {
                "nearest_known": self.subjects[int(j)],
                "similarity": round(float(sims[i, j]), 4),
                "distinct": bool(sims[i, j] < self.threshold),
            }
            for i, (name, j) in enumerate(zip(names, nearest, strict=True))
        }
        return report

    def _as_embeddings(self) -> np.ndarray:
        # templates are already unit means: as one-clip "subjects" they are their own templates
        return self.templates[:, :, None]
