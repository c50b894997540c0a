"""Co-activity: accounts that send the same narrow prompt templates in the same time windows.

Synchronized, load-balanced traffic as in SynchroTrap (Cao et al., CCS 2014) and lockstep
behaviour as in CopyCatch (Beutel et al., WWW 2013): each account acts on (prompt
fingerprint, time bucket) nodes, and two accounts are similar by the weighted Jaccard of
their actions (Neo4j GDS Node Similarity semantics, ``engines.policy.SimilarityPolicy``).
Popular templates are left out, so an SDK's default prompt makes no one similar.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..engines import Engine, SimilarityPolicy
from .params import DetectionParams


def similarity_policy(params: DetectionParams) -> SimilarityPolicy:
    """The co-activity question this run asks every engine."""
    return SimilarityPolicy(
        bucket_minutes=params.bucket_minutes,
        max_template_accounts=params.similarity_max_template_accounts,
        top_k=params.similarity_top_k,
        cutoff=params.similarity_cutoff,
        degree_cutoff=params.similarity_degree_cutoff,
    )


def similar_pairs(engine: Engine, params: DetectionParams) -> pd.DataFrame:
    """Account pairs with similar activity: a, b, similarity, common (shared activity nodes)."""
    return engine.node_similarity(similarity_policy(params))


def coactivity_evidence(similar: pd.DataFrame) -> pd.DataFrame:
    """Similar pairs as evidence rows of the ``coactivity`` family: a, b, family, score, shared, similarity.

    The score doubles the similarity (capped at 1), so activity that is half the same counts
    as much as one shared rare identifier.
    """
    return pd.DataFrame({
        "a": similar["a"].to_numpy(), "b": similar["b"].to_numpy(), "family": "coactivity",
        "score": np.minimum(1.0, 2.0 * similar["similarity"].to_numpy()),
        "shared": similar["common"].to_numpy(), "similarity": similar["similarity"].to_numpy(),
    })
