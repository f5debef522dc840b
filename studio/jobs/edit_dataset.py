"""Batch faces of the editor: edit, anonymize or augment a whole dataset (or one clip).

`studio edit`, `studio anonymize`, `studio augment`, the web app and the augmentation experiment
call these. The three jobs share one way of working:

- input: an OpenGait-layout dataset root (`scan_opengait`), or a single clip (a `.pkl`, `.npz`,
  a sequence folder or a folder of mask images, read by `read_sequence`);
- output: a NEW dataset in the OpenGait layout under `out_root` (refused when it overlaps the
  input), every file written atomically;
- `manifest.jsonl`: one row per finished clip, appended and flushed to disk as soon as the clip's
  pkl is written, so a killed job resumes where it stopped; `manifest.json`: the settings while
  the job runs, the summary (counts, skipped clips with their reason, leaks, every row) at the end;
- unreadable, too-short and empty clips are skipped and counted with the reason, never fatal;
- clips are made a batch at a time (`edit_many` / `anonymize_until_unverified`, which retries only
  the clips the judge still verifies): whole people packed into batches of at most `batch_clips`
  clips, cut from the job's clip list alone (`studio.jobs.sharding.person_batches`);
- each clip's seed is derived from the job's seed and the clip's key and its pixels depend only on
  its batch, so a resumed job writes the same bytes as an uninterrupted one (a batch a kill left
  half-written is made again whole and its missing clips written);
- under `torchrun` / `accelerate launch` every process takes a share of the people and writes
  its own rows (`manifest.shard-K-of-N.jsonl`); the main process merges them, in the job's
  order, into `manifest.jsonl`: the output is byte for byte that of one process.

Generated condition names never collide with real ones: an edit of `nm-01` into a coat is stored
as `cl-gen-nm-01` (its covariates still read off the prefix, as `CasiaBProtocol`, the covariate
classifier and `scan_opengait(conditions=["cl"])` do); an edit that changes the view also names
the source view (`nm-gen-nm-01-000`); anonymized clips belong to subject `anon-<subject>`.

This module is their public import path; each piece lives in a module of its own:

- `studio.jobs.editor_loading`: `load_editor`, `EditorUnavailable`;
- `studio.jobs.clip_inputs`: what a job reads (a dataset root or one clip);
- `studio.jobs.clip_tasks`: what it writes (one task per output clip, named and seeded: `clip_seed`);
- `studio.jobs.clip_runner`: the resumable, batched, sharded runner the three jobs share;
- `studio.jobs.job_summary`: the typed manifest summary (`JobSummary`, `JobCounts`);
- `studio.jobs.edit_job`, `studio.jobs.anonymize_job`, `studio.jobs.augment_job`: the three jobs.
"""

from studio.jobs.anonymize_job import ANONYMOUS_PREFIX, anonymize_dataset
from studio.jobs.augment_job import CONDITION_TYPES, PARTITION, augment_dataset
from studio.jobs.clip_runner import LAYOUT, ProgressArg
from studio.jobs.clip_tasks import GENERATED_TAG, clip_seed
from studio.jobs.edit_job import edit_dataset
from studio.jobs.editor_loading import EditorUnavailable, load_editor
from studio.jobs.job_summary import AnonymizeSummary, AugmentSummary, JobCounts, JobSummary

__all__ = [
    "ANONYMOUS_PREFIX",
    "CONDITION_TYPES",
    "GENERATED_TAG",
    "LAYOUT",
    "PARTITION",
    "AnonymizeSummary",
    "AugmentSummary",
    "EditorUnavailable",
    "JobCounts",
    "JobSummary",
    "ProgressArg",
    "anonymize_dataset",
    "augment_dataset",
    "clip_seed",
    "edit_dataset",
    "load_editor",
]
