"""Every knob of a detection run, declared once, each with one meaning."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class DetectionParams:
    """Every knob of a detection run; stored with the results so a run can be reproduced."""

    seed: int = 42
    # Identifier values shared by more accounts than this are hubs (a university NAT, a
    # popular SDK template): listed as suppressed, never used as links.
    hub_cap: int = 2000
    # Values shared by more accounts than this link each account to the value's first
    # `anchors` accounts instead of to every other one (bounds the work for large groups).
    pair_cap: int = 200
    anchors: int = 50
    # A link between two accounts needs this much evidence from at least `min_families`
    # independent families (payment, device, network, behaviour, ...).
    link_threshold: float = 1.2
    min_families: int = 2
    # Co-activity: weighted Jaccard over (prompt fingerprint, time bucket) activity.
    bucket_minutes: int = 30
    similarity_top_k: int = 25
    similarity_cutoff: float = 0.1
    similarity_degree_cutoff: int = 3
    # Templates used by more accounts than this are popular (an SDK's default prompt) and
    # say nothing about co-activity: they are not compared.
    similarity_max_template_accounts: int = 2000
    # Lockstep pairs (very similar activity over many buckets) link on behaviour alone.
    lockstep_similarity: float = 0.5
    lockstep_common: int = 6
    # Co-registration (``coregistration``): signups on one IP or network at most this many
    # minutes apart form a run, judged against that address's own signup rate.
    coregistration_minutes: int = 10
    # Each signup in a run links to this many signups before it (a run stays connected
    # without every pair of it).
    coregistration_neighbours: int = 10
    # Pool co-activity (``pools``): network evidence worth more than one place (a shared
    # address, its network and the request address behind it: 1.2 at most) is a pool of
    # addresses; such pairs are compared by the hours they are active in.
    pool_min_score: float = 2.0
    # Behaviour evidence this strong links on its own (three or four shared rare templates).
    behaviour_alone: float = 1.2
    # A personal identifier (phone, email address, a declared personal column) links two
    # accounts on its own when its rarity weight reaches this: with 0.5, a value shared by
    # at most about sqrt(2N) of N accounts. Honest people do not share one.
    personal_alone: float = 0.5
    # Components at least this large are split by seeded Louvain when the split is clear.
    split_min_size: int = 40
    split_min_modularity: float = 0.35
    # ... and otherwise each community that keeps at least 4/5 of its link weight inside
    # (conductance at most this) still leaves the component as its own group.
    split_max_conductance: float = 0.2
    resolution: float = 1.0
    min_ring_size: int = 3
    # Ring features: a prompt template is rare for a cluster when at most this many
    # accounts use it (or five times the cluster's size, for large clusters) ...
    rare_template_accounts: int = 200
    # ... and a client string is uncommon when at most this many accounts send it.
    rare_client_max_accounts: int = 2000
    # Consolidation (detection/consolidation.py): flagged clusters that share a ring's own rare
    # prompt templates are one operation. Two templates at least, as a strong link needs two
    # independent pieces of evidence: one shared template can be a public prompt that two
    # unrelated operators both copied.
    merge_min_templates: int = 2
    # Weighted Jaccard of the two groups' rare-template profiles: at least half of their
    # rare behaviour must be the same, so two rings that share a template or two among
    # several of their own stay apart.
    merge_min_similarity: float = 0.5
    # A template is ring evidence only if at most this share of its accounts is outside the
    # flagged clusters ("few accounts outside those fragments use it"); popular SDK
    # templates and a legitimate group's internal templates fail this at once. Half, not
    # zero, because part of a ring may sit below the flagging threshold or in no cluster.
    merge_max_outside: float = 0.5
    # A template used by more accounts than this is never ring evidence for a merge.
    merge_max_template_accounts: int = 2000
    ring_threshold: float = 0.5
    account_threshold: float = 0.5

    def as_dict(self) -> dict:
        """Plain dict, for storing with the run."""
        return asdict(self)
