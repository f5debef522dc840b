"""Video → silhouette sequences: background subtraction, person blobs, tracking, pretreatment.

A static-camera clip goes through six steps, each in its own module of this package:

1. **decode** (`decode`: `open_video`), downscaled to at most `max_height` rows;
2. **foreground** (`foreground`: `BackgroundModel`): OpenCV MOG2 or KNN background subtraction,
   primed with a clean plate (the per-pixel median of frames spread over the clip, so people in
   view at the start are not learnt as background) and then updated slowly; shadow pixels
   (marked 127) are dropped; morphology opens away speckle and closes small gaps;
3. **person blobs** (`blobs`: `find_person_blobs`): connected components; fragments of one person
   (head, torso, legs split where clothing matches the background, or halves split by a pole)
   are merged, two people walking side by side are split between their heads; blobs are kept
   when their height, area, aspect and fill look like a standing person;
4. **tracking** (`tracking`: `WalkerTracker`): constant-velocity prediction, Hungarian assignment
   (`scipy.optimize.linear_sum_assignment`) on IoU with a centre-distance fallback, track
   birth for unmatched blobs and death after `max_gap` missed frames. A blob that covers two
   tracks (people crossing) and a blob cut by the frame edge move the track but give it no
   silhouette frame: either would teach a recognizer a wrong shape; `scan` runs steps 1-4
   over every frame of a clip;
5. **sequences** (`assembly`: `extract_walkers`): per track, the crops of its own components
   (small holes filled), frames inconsistent with their neighbours dropped (`consistent_frames`),
   then `pretreat_silhouettes` (OpenGait-compatible, `uint8 [T, 64, 64]`);
6. **walker check** (`gaitdata.walker_check`): a track is kept only if it travels and looks
   like a walking person (person-shaped silhouettes, a gait rhythm at a human step or stride
   period); the others are returned as `RefusedTrack`s with one reason per failed check.

`results` holds what `extract_walkers` returns (`VideoExtraction`, `Track`, `RefusedTrack`);
`drawing` draws tracks on a frame for contact sheets (`draw_tracks`). Import the names from
this package (`from gaitdata.video import extract_walkers`), not from its modules.

Metadata of an extracted sequence: subject `"<video stem>-tNN"` (kept tracks numbered 01, 02, …
in order of first appearance; refused tracks are labelled r01, r02, … apart), condition
`"nm-01"` (a video says nothing about clothing or bags; normal walking is the honest default),
view `"unk"` (the camera angle relative to the walking direction is unknown; pass `view=` when
you know it), source = the video path, fps = the video's. `extra` holds the track's frame
indices, boxes (original-video pixels), shape statistics and the walker check's verdict.
"""

from gaitdata.video.assembly import TRACK_CHOICES, consistent_frames, extract_walkers
from gaitdata.video.blobs import (
    BlobFilter,
    Box,
    PersonBlob,
    fill_small_holes,
    find_person_blobs,
    largest_component_share,
    split_side_by_side,
)
from gaitdata.video.decode import DEFAULT_FPS, VideoInfo, open_video, read_video_frame
from gaitdata.video.drawing import REFUSED_COLOUR, draw_tracks, track_colour
from gaitdata.video.foreground import (
    METHODS,
    SHADOW_VALUE,
    BackgroundModel,
    Morphology,
    estimate_background,
    foreground_mask,
)
from gaitdata.video.results import RefusedTrack, Track, VideoExtraction
from gaitdata.video.tracking import WalkerTracker, box_iou

__all__ = [
    "DEFAULT_FPS",
    "METHODS",
    "REFUSED_COLOUR",
    "SHADOW_VALUE",
    "TRACK_CHOICES",
    "BackgroundModel",
    "BlobFilter",
    "Box",
    "Morphology",
    "PersonBlob",
    "RefusedTrack",
    "Track",
    "VideoExtraction",
    "VideoInfo",
    "WalkerTracker",
    "box_iou",
    "consistent_frames",
    "draw_tracks",
    "estimate_background",
    "extract_walkers",
    "fill_small_holes",
    "find_person_blobs",
    "foreground_mask",
    "largest_component_share",
    "open_video",
    "read_video_frame",
    "split_side_by_side",
    "track_colour",
]
