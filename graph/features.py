"""Ring-level features: what makes a cluster of linked accounts look like a ring.

Every feature is a number in [0, 1] (0 = ordinary, 1 = strongly ring-like) computed from
the cluster's members alone plus population baselines, so it can be shown to an analyst
as-is. Legitimate clusters (an organisation on one corporate card, a family sharing a
device) share identifiers too; `org_coherence` measures how well a declared organisation
or company email domain explains the sharing.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

FEATURES = (
    "burst", "shared_payment", "shared_device", "email_pattern", "output_heavy", "volume",
    "template_exclusive", "synchrony", "even_traffic", "rare_client", "org_coherence",
)

BURST_WINDOW = pd.Timedelta(hours=48)
_DIGITS = re.compile(r"\d+")


def _max_window_share(times: np.ndarray, window: np.timedelta64) -> float:
    """Largest share of timestamps inside any window of this length."""
    times = np.sort(times[~np.isnat(times)])
    if len(times) == 0:
        return 0.0
    ends = np.searchsorted(times, times + window, side="right")
    return float((ends - np.arange(len(times))).max() / len(times))


def _sharing(values: pd.Series) -> float:
    """1 - distinct/present: 0 when every member has its own value, near 1 when all share one."""
    present = values.dropna()
    if len(present) < 2:
        return 0.0
    return float(1.0 - present.nunique() / len(present))


def _email_stem(email: str | None) -> str | None:
    if not isinstance(email, str) or "@" not in email:
        return None
    local, domain = email.split("@", 1)
    stem = _DIGITS.sub("#", local)
    return f"{stem}@{domain}" if "#" in stem else None


def _log_ratio(value: float, baseline: float) -> float:
    """Map value/baseline to [0, 1]: 0 at or below the baseline, 1 at 8x it."""
    if not np.isfinite(value) or baseline <= 0:
        return 0.0
    return float(np.clip(np.log2(max(value, 1e-9) / baseline) / 3.0, 0.0, 1.0))


class Baselines:
    """Population figures the features compare against."""

    def __init__(self, usage: pd.DataFrame, prompts: pd.DataFrame, ua_degree: dict[str, int]):
        inp = usage["input_tokens"].astype(float).clip(lower=1)
        ratio = usage["output_tokens"].astype(float) / inp
        self.output_ratio = float(np.nanmedian(ratio)) if len(ratio) else 1.0
        per_day = usage["requests"].astype(float) / usage["active_days"].clip(lower=1).astype(float)
        self.requests_per_day = float(np.nanmedian(per_day)) if len(per_day) else 1.0
        self.prompt_accounts = prompts.set_index("prompt_fingerprint")["accounts"].to_dict()
        self.ua_degree = ua_degree


def cluster_features(
    members: pd.DataFrame,
    usage: pd.DataFrame,
    activity: pd.DataFrame,
    base: Baselines,
    hub_cap: int,
    rare_templates: int = 200,
) -> tuple[dict[str, float], dict]:
    """Features of one cluster, and the figures behind them (for explanations).

    Args:
        members: the members' account rows (created_at, email, payment_id, device_id, org_id,
            email_domain, user_agent, free_domain).
        usage: the members' per-account usage summary rows.
        activity: the members' usage per (bucket, prompt_fingerprint).
    """
    n = len(members)
    f: dict[str, float] = {}
    d: dict = {"size": n}
    f["burst"] = _max_window_share(members["created_at"].to_numpy(dtype="datetime64[ns]"),
                                   np.timedelta64(BURST_WINDOW))
    f["shared_payment"] = _sharing(members["payment_id"])
    f["shared_device"] = _sharing(members["device_id"])
    d["cards"], d["with_card"] = members["payment_id"].nunique(), int(members["payment_id"].notna().sum())
    d["devices"], d["with_device"] = members["device_id"].nunique(), int(members["device_id"].notna().sum())

    stems = members["email"].map(_email_stem).dropna()
    counts = stems.value_counts()
    f["email_pattern"] = float(stems.map(counts).ge(3).sum() / n) if n else 0.0
    d["email_stem"] = counts.index[0] if len(counts) else None

    org_share = members["org_id"].value_counts(dropna=True)
    corp = members.loc[~members["free_domain"], "email_domain"].value_counts(dropna=True)
    # A declared organisation explains sharing; a company email domain alone only half does
    # (a farm can register a throwaway domain, but rarely declares a workspace).
    f["org_coherence"] = float(max(org_share.max() if len(org_share) else 0,
                                   0.5 * (corp.max() if len(corp) else 0)) / n)
    d["org"] = org_share.index[0] if len(org_share) else None
    d["domain"] = corp.index[0] if len(corp) else None

    if len(usage):
        ratio = usage["output_tokens"].sum() / max(usage["input_tokens"].sum(), 1)
        f["output_heavy"] = _log_ratio(ratio, base.output_ratio)
        per_day = (usage["requests"] / usage["active_days"].clip(lower=1)).median()
        f["volume"] = _log_ratio(float(per_day), base.requests_per_day)
        d["output_x"] = ratio / base.output_ratio if base.output_ratio > 0 else np.nan
        d["volume_x"] = per_day / base.requests_per_day if base.requests_per_day > 0 else np.nan
        d["requests"], d["output_tokens"] = int(usage["requests"].sum()), int(usage["output_tokens"].sum())
        req = usage["requests"].astype(float)
        cv = req.std(ddof=0) / req.mean() if req.mean() > 0 and len(req) > 1 else 1.0
        active = len(usage) / n
        f["even_traffic"] = float(np.clip(1.0 - cv, 0.0, 1.0) * active) if len(req) >= 3 else 0.0
    else:
        f["output_heavy"] = f["volume"] = f["even_traffic"] = 0.0

    if len(activity):
        total = activity["requests"].sum()
        fp_members = activity.groupby("prompt_fingerprint")["account_id"].nunique()
        fp_all = fp_members.index.map(lambda p: base.prompt_accounts.get(p, 0))
        # A ring's templates are shared inside it and rare outside it; a cluster may be only
        # part of a ring, so "rare" is relative to the cluster size, not "exclusive".
        exclusive = fp_members[(fp_all <= max(rare_templates, 5 * n)) & (fp_members >= 2)].index
        d["templates"] = len(exclusive)
        f["template_exclusive"] = float(
            activity.loc[activity["prompt_fingerprint"].isin(exclusive), "requests"].sum() / total
        ) if total else 0.0
        tok = activity.groupby("bucket")["account_id"].transform("nunique")
        crowd = max(3, int(np.ceil(0.1 * n)))
        f["synchrony"] = float(activity.loc[tok >= crowd, "requests"].sum() / total) if total else 0.0
    else:
        f["template_exclusive"] = f["synchrony"] = 0.0

    ua = members["user_agent"].dropna()
    if len(ua):
        top, top_n = ua.value_counts().index[0], ua.value_counts().iloc[0]
        rare = base.ua_degree.get(top, top_n) <= hub_cap
        f["rare_client"] = float(top_n / n) if rare and top_n >= 2 else 0.0
        d["client"] = top
    else:
        f["rare_client"] = 0.0
    return {k: round(float(f[k]), 4) for k in FEATURES}, d
