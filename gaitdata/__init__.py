"""The ground floor: data model, readers and writers, pretreatment, walkers, previews.

Everything else (recognizers, generators, evaluation, the jobs, the CLI and the app in
`studio`) imports from here; nothing here imports any of them.
"""

from gaitdata.errors import GaitDataError, UnsafePickleError
from gaitdata.opengait import (
    Partition,
    ReadReport,
    SequenceEntry,
    iter_opengait,
    load_opengait,
    read_partition,
    read_pkl_sequence,
    scan_opengait,
    write_partition,
    write_pkl_sequence,
)
from gaitdata.pretreat import pretreat_silhouettes
from gaitdata.readers import read_sequence
from gaitdata.sequence import CANONICAL_HEIGHT, CANONICAL_WIDTH, GaitSequence

__all__ = [
    "CANONICAL_HEIGHT",
    "CANONICAL_WIDTH",
    "GaitDataError",
    "GaitSequence",
    "Partition",
    "ReadReport",
    "SequenceEntry",
    "UnsafePickleError",
    "iter_opengait",
    "load_opengait",
    "pretreat_silhouettes",
    "read_partition",
    "read_pkl_sequence",
    "read_sequence",
    "scan_opengait",
    "write_partition",
    "write_pkl_sequence",
]
