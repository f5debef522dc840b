"""The ground floor: data model, readers and writers, pretreatment, walkers, previews.

Everything else (recognizers, generators, evaluation, pipelines, app) imports from here and
never the other way round.
"""

from studio.data.errors import GaitDataError, UnsafePickleError
from studio.data.opengait import (
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
from studio.data.pretreat import pretreat_silhouettes
from studio.data.readers import read_sequence
from studio.data.sequence import CANONICAL_HEIGHT, CANONICAL_WIDTH, GaitSequence

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
