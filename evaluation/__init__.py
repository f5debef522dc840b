"""Evaluation: protocols and metrics as functions of (embeddings, labels, protocol).

Nothing here runs or trains a model; `evaluation` may import `recognizers` (for distances and
covariate names), never the other way round.
"""

from evaluation.covariates import covariate_accuracy
from evaluation.protocols import (
    CasiaBProtocol,
    CasiaBResult,
    ReIDProtocol,
    ReIDResult,
    evaluate_embeddings,
    get_protocol,
)
from evaluation.retrieval import average_precision_stats, rank_k_accuracy

__all__ = [
    "CasiaBProtocol",
    "CasiaBResult",
    "ReIDProtocol",
    "ReIDResult",
    "average_precision_stats",
    "covariate_accuracy",
    "evaluate_embeddings",
    "get_protocol",
    "rank_k_accuracy",
]
