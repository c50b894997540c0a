"""Ring-level features: what makes a cluster of linked accounts look like a ring.

Every feature is a number in [0, 1] (0 = ordinary, 1 = strongly ring-like) computed from
the cluster's members alone plus population baselines, so it can be shown to an analyst
as-is. Legitimate clusters (an organisation on one corporate card, a family sharing a
device) share identifiers too; `org_coherence` measures how well a declared organisation
or company email domain explains the sharing.
"""

from __future__ import annotations

import copy
import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .coregistration import coregistration_feature, crowd_runs
from .frames import is_in, map_values
from .identity import SharingFrequencies, excess_values, identity_evidence, identity_web
from .params import DetectionParams

FEATURES = (
    "burst", "coregistration", "identity", "identity_web", "email_pattern", "output_heavy", "volume",
    "template_exclusive", "synchrony", "even_traffic", "rare_client", "org_coherence",
)

BURST_WINDOW = pd.Timedelta(hours=48)
BURST_MIN_MEMBERS = 3
BURST_MIN_SHARE = 0.1
_DIGITS = re.compile(r"\d+")
# One-sided 95% z for the lower bound of a share seen in a small group (Wilson's interval).
_Z = 1.645


def email_formats(emails: pd.Series) -> pd.Series:
    """Each address's format: its local part with letter runs as ``a`` and digit runs as ``9``, then its domain.

    ``melissapatel2991@gmail.com`` and ``harry77@gmail.com`` are both ``a9@gmail.com``;
    ``megan.davis@uni.ac.uk`` is ``a.a@uni.ac.uk``. Missing or malformed addresses give None.
    Vectorised (Arrow's regular expressions), as it reads every address in the store.
    """
    text = pa.array(emails, type=pa.string(), from_pandas=True)
    parts = pc.extract_regex(text, r"^(?P<local>.+)@(?P<domain>[^@]+)$")
    local = pc.replace_substring_regex(pc.struct_field(parts, "local"), r"\d+", "9")
    shape = pc.replace_substring_regex(local, r"\pL+", "a")
    formats = pc.binary_join_element_wise(shape, pc.struct_field(parts, "domain"), "@")
    return pd.Series(formats.to_pandas().to_numpy(dtype=object), index=emails.index)


def _email_stem(email: str | None) -> str | None:
    if not isinstance(email, str) or "@" not in email:
        return None
    local, domain = email.split("@", 1)
    stem = _DIGITS.sub("#", local)
    return f"{stem}@{domain}" if "#" in stem else None


class Baselines:
    """Population figures the features compare against."""

    def __init__(self, usage: pd.DataFrame, prompts: pd.DataFrame, ua_degree: dict[str, int],
                 identifiers: pd.DataFrame | None = None, degrees: pd.DataFrame | None = None,
                 sharing: SharingFrequencies | None = None, formats: pd.Series | None = None,
                 runs: pd.DataFrame | None = None, crowded_domains: pd.Series | None = None):
        inp = usage["input_tokens"].astype(float).clip(lower=1)
        ratio = usage["output_tokens"].astype(float) / inp
        self.output_ratio = float(np.nanmedian(ratio)) if len(ratio) else 1.0
        per_day = usage["requests"].astype(float) / usage["active_days"].clip(lower=1).astype(float)
        self.requests_per_day = float(np.nanmedian(per_day)) if len(per_day) else 1.0
        self.prompt_accounts = prompts.set_index("prompt_fingerprint")["accounts"]
        self.ua_degree = ua_degree
        # Identity evidence (``identity``): the clustered accounts' identifier rows, how many
        # accounts hold each of those values, and the store's sharing frequencies per kind.
        self.identifiers = identifiers if identifiers is not None else pd.DataFrame(
            columns=["account_id", "kind", "value"])
        self.degrees = degrees if degrees is not None else pd.DataFrame(columns=["kind", "value", "accounts"])
        self.sharing = sharing
        # Address formats (``email_formats``): the share of the store's addresses written in
        # each; and the store's signup runs (``coregistration.signup_runs``, by account id).
        self.formats = formats if formats is not None else pd.Series(dtype=float)
        self.runs = runs
        # Per company email domain, the share of its accounts that signed up in crowds.
        self.crowded_domains = crowded_domains if crowded_domains is not None else pd.Series(dtype=float)

    def of_members(self, identifiers: pd.DataFrame, degrees: pd.DataFrame) -> Baselines:
        """These baselines with one set of clustered accounts' identifier rows and their values' degrees."""
        part = copy.copy(self)
        part.identifiers, part.degrees = identifiers, degrees
        part.ua_degree = degrees[degrees["kind"] == "user_agent"].set_index("value")["accounts"].to_dict()
        return part


def _top_value(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """Per cluster, the most common non-null value of a column and its count (ties: smallest value)."""
    counts = frame.dropna(subset=[column]).groupby(["cluster", column], observed=True).size().rename("n").reset_index()
    counts = counts.sort_values(["cluster", "n", column], ascending=[True, False, True])
    return counts.drop_duplicates("cluster").set_index("cluster")


def all_cluster_features(
    members: pd.DataFrame,
    usage: pd.DataFrame,
    activity: pd.DataFrame,
    base: Baselines,
    params: DetectionParams,
) -> pd.DataFrame:
    """Features of every cluster at once, plus the figures behind them (for explanations).

    Args:
        members: account rows with ``cluster`` (created_at, email, payment_id, device_id,
            org_id, email_domain, user_agent, free_domain).
        usage: per-account usage summary rows with ``cluster``.
        activity: usage per (account, bucket, prompt_fingerprint) with ``cluster``.

    Returns:
        One row per cluster: the FEATURES columns and detail columns (size, cards, ...).
    """
    out = pd.DataFrame({"size": members.groupby("cluster", sort=True).size()})
    _burst(out, members)
    coregistration_feature(out, crowd_runs(members[["account_id", "cluster"]], base.runs))
    _shared_instruments(out, members)
    _org_coherence(out, members, base)
    _email_pattern(out, members, base)
    _traffic(out, usage, base)
    _templates_and_synchrony(out, activity, base, params.rare_template_accounts)
    _rare_client(out, members, base, params.rare_client_max_accounts)
    _identity(out, members, base)
    out[list(FEATURES)] = out[list(FEATURES)].astype(float).round(4)
    return out


def _burst(out: pd.DataFrame, members: pd.DataFrame) -> None:
    """burst: the share of members created in signup bursts.

    A burst is a 48-hour window holding at least BURST_MIN_MEMBERS accounts and
    BURST_MIN_SHARE of the cluster, so a ring created in several waves (it grows week after
    week) counts every wave. Two accounts opened on one day are no burst: a couple or a
    person's second account do that every day.
    """
    n = out["size"].to_numpy()
    code = members["cluster"].map(pd.Series(np.arange(len(out)), index=out.index)).to_numpy(np.int64)
    seconds = members["created_at"].to_numpy("datetime64[s]").astype(np.int64)
    key = code * (1 << 40) + (seconds - seconds.min() if len(seconds) else seconds)
    order = np.argsort(key, kind="stable")
    key, code = key[order], code[order]
    start = np.arange(len(key))
    inside = np.searchsorted(key, key + int(BURST_WINDOW.total_seconds()), side="right") - start
    needed = np.maximum(BURST_MIN_MEMBERS, np.ceil(BURST_MIN_SHARE * n))[code]
    qualifying = inside >= needed
    # Mark the members of every qualifying window: +1 where a window starts, -1 after it ends.
    marks = np.zeros(len(key) + 1, dtype=np.int64)
    np.add.at(marks, start[qualifying], 1)
    np.add.at(marks, (start + inside)[qualifying], -1)
    in_burst = np.cumsum(marks)[:-1] > 0
    out["burst"] = pd.Series(in_burst).groupby(code).sum().reindex(np.arange(len(out)), fill_value=0).to_numpy() / n


def _shared_instruments(out: pd.DataFrame, members: pd.DataFrame) -> None:
    """Details for the words: members with a card and the distinct cards among them, the same for devices.

    How much that sharing counts is the ``identity`` feature's to say, by the sharing
    class of each kind and this data's own frequencies.
    """
    g = members.groupby("cluster", sort=True)
    for column, present, distinct in (("payment_id", "with_card", "cards"), ("device_id", "with_device", "devices")):
        out[present] = g[column].count()
        out[distinct] = g[column].nunique()


def _email_pattern(out: pd.DataFrame, members: pd.DataFrame, base: Baselines) -> None:
    """email_pattern: addresses made by one generator.

    The larger of: the share of members whose address follows a numbered stem three or more
    share (``user017@``, ``user018@``), and how far the group's most common address format
    (``email_formats``) exceeds that format's share among all of this store's addresses:
    ``(lb - p) / (1 - p)`` with ``lb`` the lower bound of the group's share (Wilson, one-sided
    95%), so three accounts alike say less than three hundred, and a format everyone writes
    (``name.surname@`` a popular provider) says little however many share it. A company
    writes its staff's addresses one way: the format part is discounted by ``org_coherence``
    (a numbered stem is not: a farm may declare a workspace too), and a format on the group's
    own company domain is that domain's convention, explained as far as the domain's
    accounts arrived one by one (``coregistration.crowded_share``).
    """
    stems = members.assign(stem=members["email"].map(_email_stem))
    stem_n = stems.groupby(["cluster", "stem"])["stem"].transform("size")
    numbered = (stem_n >= 3).groupby(stems["cluster"]).sum().reindex(out.index, fill_value=0) / out["size"]
    out["email_stem"] = _top_value(stems, "stem")["stem"].reindex(out.index)
    written = members.assign(fmt=email_formats(members["email"]))
    top = _top_value(written, "fmt").reindex(out.index)
    n = written.dropna(subset=["fmt"]).groupby("cluster").size().reindex(out.index, fill_value=0).to_numpy(float)
    k = top["n"].fillna(0).to_numpy(float)
    p = top["fmt"].map(base.formats).fillna(0.0).to_numpy(float)
    share = np.divide(k, n, out=np.zeros(len(n)), where=n > 0)
    z2 = _Z * _Z / np.maximum(n, 1)
    low = (share + z2 / 2 - _Z * np.sqrt(share * (1 - share) / np.maximum(n, 1) + z2 / (4 * np.maximum(n, 1))))
    low = low / (1 + z2)
    alike = np.clip((low - p) / np.maximum(1 - p, 1e-9), 0.0, 1.0) * np.where(k >= 3, n / out["size"], 0.0)
    # The group's own company domain explains its format outright (its convention, as far
    # as its accounts arrived one by one); any other format only as far as org_coherence does.
    own = top["fmt"].astype(object).str.rsplit("@", n=1).str[-1].eq(out["domain"]).to_numpy(bool)
    alike = alike * np.where(own, out["domain_crowded"].to_numpy(float), 1.0 - out["org_coherence"].to_numpy(float))
    out["email_pattern"] = np.maximum(numbered.to_numpy(float), alike)
    out["email_alike"] = np.where(alike > numbered.to_numpy(float), share, np.nan)
    out["email_format_share"] = p
    first = written[written["fmt"].eq(written["cluster"].map(top["fmt"]))].sort_values(["cluster", "email"])
    out["email_example"] = first.drop_duplicates("cluster").set_index("cluster")["email"].reindex(out.index)


def _org_coherence(out: pd.DataFrame, members: pd.DataFrame, base: Baselines) -> None:
    """org_coherence: how much of the group a declared organisation or company email domain explains."""
    org = _top_value(members, "org_id")
    corp = _top_value(members[~members["free_domain"].astype(bool)], "email_domain")
    # A declared organisation explains sharing; a company email domain alone only half does
    # (a farm can register a throwaway domain, but rarely declares a workspace), and only as
    # far as the domain's accounts arrived one by one: a domain whose every account signed
    # up in crowds (``coregistration.crowded_share``) was made for them.
    crowded = (corp["email_domain"].astype(object).map(base.crowded_domains).astype(float).fillna(0.0)
               .reindex(out.index, fill_value=0.0))
    domain = 0.5 * corp["n"].reindex(out.index, fill_value=0) * (1.0 - crowded)
    out["org_coherence"] = np.maximum(org["n"].reindex(out.index, fill_value=0), domain) / out["size"]
    out["org"] = org["org_id"].reindex(out.index)
    out["domain"] = corp["email_domain"].reindex(out.index)
    out["domain_crowded"] = crowded


def _traffic(out: pd.DataFrame, usage: pd.DataFrame, base: Baselines) -> None:
    """output_heavy, volume and even_traffic, against the population's medians."""
    u = usage.assign(per_day=usage["requests"] / usage["active_days"].clip(lower=1))
    gu = u.groupby("cluster")
    sums = gu[["requests", "input_tokens", "output_tokens"]].sum().reindex(out.index, fill_value=0)
    ratio = sums["output_tokens"] / sums["input_tokens"].clip(lower=1)
    per_day = gu["per_day"].median().reindex(out.index)
    used = gu.size().reindex(out.index, fill_value=0)
    out["output_heavy"] = np.where(used > 0, _log_ratio_v(ratio, base.output_ratio), 0.0)
    out["volume"] = np.where(used > 0, _log_ratio_v(per_day, base.requests_per_day), 0.0)
    out["output_x"] = ratio / base.output_ratio if base.output_ratio > 0 else np.nan
    out["volume_x"] = per_day / base.requests_per_day if base.requests_per_day > 0 else np.nan
    out["requests"], out["output_tokens"] = sums["requests"].astype(np.int64), sums["output_tokens"].astype(np.int64)
    req = u["requests"].astype(float)
    mean = req.groupby(u["cluster"]).mean().reindex(out.index)
    cv = (req.groupby(u["cluster"]).std(ddof=0).reindex(out.index) / mean).where(mean > 0, 1.0).fillna(1.0)
    out["even_traffic"] = np.where(used >= 3, np.clip(1.0 - cv, 0.0, 1.0) * used / out["size"], 0.0)


def _templates_and_synchrony(out: pd.DataFrame, activity: pd.DataFrame, base: Baselines,
                             rare_template_accounts: int) -> None:
    """template_exclusive (requests on templates rare outside the group) and synchrony (requests in crowded windows)."""
    if activity.empty:
        out["templates"], out["template_exclusive"], out["synchrony"] = 0, 0.0, 0.0
        out["template_limit"] = np.maximum(rare_template_accounts, 5 * out["size"])
        return
    n = out["size"]
    activity = activity[activity["cluster"].notna()] if activity["cluster"].hasnans else activity
    # Grouped on integer codes, each string column factorized once: they hold millions of rows.
    cluster, clusters = pd.factorize(activity["cluster"])
    template, templates = pd.factorize(activity["prompt_fingerprint"])
    account = pd.factorize(activity["account_id"])[0]
    requests = activity["requests"].to_numpy(dtype=float, na_value=0)
    size = n.reindex(clusters).to_numpy(dtype=float)[cluster]

    def per_cluster(where: np.ndarray) -> pd.Series:
        sums = np.bincount(cluster[where], weights=requests[where], minlength=len(clusters))
        return pd.Series(sums, index=clusters).reindex(out.index, fill_value=0.0)

    total = per_cluster(np.ones(len(cluster), dtype=bool))
    users = pd.Series(account).groupby([cluster, template]).transform("nunique").to_numpy()
    fp_all = base.prompt_accounts.reindex(templates).fillna(0).to_numpy(dtype=float)[template]
    # A ring's templates are shared inside it and rare outside it; a cluster may be only
    # part of a ring, so "rare" is relative to the cluster size, not "exclusive".
    rare = (template >= 0) & (fp_all <= np.maximum(rare_template_accounts, 5 * size)) & (users >= 2)
    used = pd.DataFrame({"cluster": cluster[rare], "template": template[rare]}).drop_duplicates()
    counted = np.bincount(used["cluster"].to_numpy(), minlength=len(clusters))
    out["templates"] = pd.Series(counted, index=clusters).reindex(out.index, fill_value=0)
    out["template_limit"] = np.maximum(rare_template_accounts, 5 * n)
    out["template_exclusive"] = per_cluster(rare) / total.clip(lower=1)
    out["synchrony"] = per_cluster(_crowded(cluster, activity["bucket"], account, size)) / total.clip(lower=1)


def in_crowded_windows(activity: pd.DataFrame, sizes: pd.Series) -> np.ndarray:
    """Per activity row: whether at least max(3, 10%) of its cluster (``sizes``) sent requests in its window."""
    cluster, clusters = pd.factorize(activity["cluster"])
    return _crowded(cluster, activity["bucket"], pd.factorize(activity["account_id"])[0],
                    sizes.reindex(clusters).to_numpy(dtype=float)[cluster])


def _crowded(cluster: np.ndarray, bucket: pd.Series, account: np.ndarray, size: np.ndarray) -> np.ndarray:
    """``in_crowded_windows`` on codes: rows' cluster and account codes, their window, their cluster's size."""
    window = pd.factorize(bucket)[0]
    in_bucket = pd.Series(account).groupby([cluster, window]).transform("nunique").to_numpy()
    return in_bucket >= np.maximum(3, np.ceil(0.1 * size))


def _rare_client(out: pd.DataFrame, members: pd.DataFrame, base: Baselines, max_accounts: int) -> None:
    """rare_client: the share of members sending the group's most common client string, when that string is uncommon."""
    ua = _top_value(members, "user_agent").reindex(out.index)
    ua_degree = ua["user_agent"].map(base.ua_degree).fillna(ua["n"])
    out["client"] = ua["user_agent"]
    out["rare_client"] = np.where((ua_degree <= max_accounts) & (ua["n"] >= 2), ua["n"].fillna(0) / out["size"], 0.0)


def _identity(out: pd.DataFrame, members: pd.DataFrame, base: Baselines) -> None:
    """identity: how improbable the members' shared identifiers are in this store (``identity``)."""
    if base.sharing is None:
        out["identity"], out["identity_nats"], out["identity_kind"] = 0.0, 0.0, None
        for column, values in identity_web(pd.DataFrame(), out["size"]).items():
            out[column] = values
        return
    cluster_of = members.set_index("account_id")["cluster"]
    ids = base.identifiers[is_in(base.identifiers["account_id"], cluster_of.index)]
    ids = ids.assign(cluster=map_values(ids["account_id"], cluster_of))
    excess = excess_values(ids, base.degrees, base.sharing)
    found = identity_evidence(ids, excess, out["size"], base.sharing.total).join(identity_web(excess, out["size"]))
    for column in found.columns:
        out[column] = found[column]


def _log_ratio_v(value: pd.Series, baseline: float) -> np.ndarray:
    """Map value/baseline to [0, 1]: 0 at or below the baseline, 1 at 8x it."""
    if baseline <= 0:
        return np.zeros(len(value))
    x = np.log2(np.maximum(value.to_numpy(dtype=float), 1e-9) / baseline) / 3.0
    return np.nan_to_num(np.clip(x, 0.0, 1.0))
