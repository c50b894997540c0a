"""Evidence parts of different kinds join into one frame whose family is a category of the families present."""

from __future__ import annotations

import numpy as np
import pandas as pd
from ringwatch.graph.detection.linking import _joined


def test_parts_with_categories_and_text_join_as_the_families_present_in_order():
    shared = pd.DataFrame({"a": [0, 0, 1], "b": [1, 2, 2], "score": [0.5, 0.2, 0.9], "shared": [1, 1, 2],
                           "family": pd.Categorical(["network", "payment", "network"],
                                                    categories=["device", "network", "payment"])})
    coactivity = pd.DataFrame({"a": [3], "b": [4], "score": [0.7], "shared": [6], "family": ["coactivity"]})
    empty = pd.DataFrame({"a": pd.Series(dtype="int32"), "b": pd.Series(dtype="int32"),
                          "score": pd.Series(dtype=float), "shared": pd.Series(dtype="int64"),
                          "family": pd.Series(dtype=object)})
    out = _joined([shared, coactivity, empty])
    plain = pd.concat([p.assign(family=p["family"].astype(object)) for p in (shared, coactivity, empty)],
                      ignore_index=True)
    assert isinstance(out["family"].dtype, pd.CategoricalDtype)
    # Only families some row holds, sorted: "device" is a category of a part but no row's family.
    assert list(out["family"].cat.categories) == ["coactivity", "network", "payment"]
    assert out["family"].astype(object).tolist() == plain["family"].tolist()
    assert np.array_equal(out["score"].to_numpy(), plain["score"].to_numpy())
    assert out[["a", "b", "shared"]].astype("int64").equals(plain[["a", "b", "shared"]].astype("int64"))
