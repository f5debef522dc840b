"""Procedural walkers: the project's embedded default dataset, CASIA-B-like, with known ground truth.

An articulated 3-D body (`body`) walks a cycle calibrated on real motion capture
(`gait_cycle`); each identity fixes proportions and gait style, each walk and camera adds
natural variation (`identity`), coats and bags change the outline (`covariates`); clips are
projected, rasterized, spoiled like real segmentation and pretreated like real data (`render`),
and whole datasets are written in the OpenGait layout (`dataset`). `realism` measures how close
all this comes to CASIA-B silhouettes and to the motion capture.

Two walker styles (`style`): ``"default"``, what the bundled models were trained on, and the
opt-in ``"calibrated"``, re-fitted on real CASIA-B GEI statistics: everyday clothes and hair
(`outfit`), re-fitted posture and camera, real segmentation artefacts (`segmentation`).

    from gaitdata.walkers import identity_for, walk_for, render_walker_sequence
    person = identity_for(seed=0, subject_id="001")
    seq = render_walker_sequence(person, walk_for(0, person, "cl-01"), view_deg=45.5, num_frames=40)
    real_looking = identity_for(seed=0, subject_id="001", style="calibrated")
"""

from gaitdata.casia_b import CONDITIONS as CASIA_B_CONDITIONS
from gaitdata.casia_b import VIEWS as CASIA_B_VIEWS
from gaitdata.walkers.dataset import casia_b_partition, render_walker_dataset
from gaitdata.walkers.identity import (
    CameraParams,
    WalkerIdentity,
    WalkParams,
    calibrate_camera,
    calibrate_identity,
    camera_for,
    identity_for,
    sample_camera,
    sample_identity,
    sample_walk,
    walk_for,
)
from gaitdata.walkers.render import render_walker_masks, render_walker_sequence
from gaitdata.walkers.style import WALKER_STYLES

__all__ = [
    "CASIA_B_CONDITIONS",
    "CASIA_B_VIEWS",
    "WALKER_STYLES",
    "CameraParams",
    "WalkParams",
    "WalkerIdentity",
    "calibrate_camera",
    "calibrate_identity",
    "camera_for",
    "casia_b_partition",
    "identity_for",
    "render_walker_dataset",
    "render_walker_masks",
    "render_walker_sequence",
    "sample_camera",
    "sample_identity",
    "sample_walk",
    "walk_for",
]
