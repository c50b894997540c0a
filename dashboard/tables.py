"""Tables analysts read row by row: tall enough, filterable on every column, linked to the account, with a detail pane.

Every value is shown as text: ``st.dataframe`` escapes what it shows, and the detail
pane writes stored strings with ``st.text``, which reads no Markdown. Links are built
here from a fixed page path and a URL-quoted id, so no stored string can become a
``javascript:`` link.
"""

from __future__ import annotations

from urllib.parse import quote, urljoin

import pandas as pd
import streamlit as st

# Analysts compare rows: a table shows at least this many before it scrolls.
MIN_ROWS = 15
ROW_PX, WRAPPED_ROW_PX = 35, 96


OWN_HELP = ("Each row leads with what the detector counted for that account itself: its own evidence (the head of "
            "its reasons), the ring's shared values it holds and its strong links. The ring's text follows under "
            "ring reasons; account risk is the detector's account score (the ring's, scaled by how much of the "
            "ring's evidence the account shows), which flags and ban lists use.")
OWN_CONFIG = {
    "own_score": st.column_config.ProgressColumn(
        "own evidence score", min_value=0, max_value=1, format="%.3f",
        help="How strongly the account's own shared identifier values tie it to its ring: 1 − Π(1 − kind weight × "
             "rarity) over the ring's shared values it holds, with the weights and rarities the detector counted. "
             "0: it holds none (in the ring by behaviour or through other members). Not the risk score."),
    "own_evidence": st.column_config.TextColumn("own evidence", width="large",
                                                help="What this account itself shows, as the detector wrote it"),
    "shared_values": st.column_config.NumberColumn("shared values", help="The ring's shared values it holds"),
    "strong_links": st.column_config.NumberColumn("strong links", help="Members it is strongly linked to"),
    "risk_score": st.column_config.NumberColumn("account risk", format="%.4f",
                                                help="The detector's account score (flags and ban lists use it)"),
    "ring_reasons": st.column_config.TextColumn("ring reasons", width="medium"),
}


def height(rows: int = MIN_ROWS, row_px: int = ROW_PX) -> int:
    """Pixel height of a table showing ``rows`` rows below its header."""
    return row_px * rows + ROW_PX + 3


def account_url(account_id: str) -> str:
    """The dashboard link that opens an account in lookup (relative to the dashboard's root)."""
    return f"lookup?account={quote(str(account_id), safe='')}"


def ring_url(ring_id: str) -> str:
    """The dashboard link that opens a ring on the Rings page (relative to the dashboard's root)."""
    return f"rings?ring={quote(str(ring_id), safe='')}"


def page_url(relative: str) -> str:
    """``relative`` as a full address when the browser's address is known (to copy into a ticket), else as is."""
    here = st.context.url
    # Pages are siblings under the dashboard's root, so the link resolves as the browser would resolve it.
    return urljoin(here, relative) if here else relative


def with_links(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with an ``open`` column (its account in lookup) right after ``account_id``."""
    out = frame.copy()
    out.insert(1, "open", [account_url(a) for a in out["account_id"]])
    return out


def filter_rows(frame: pd.DataFrame, key: str) -> pd.DataFrame:
    """Widgets to filter ``frame`` on any of its columns (text contains, number range, yes/no); returns the rows kept."""
    with st.expander("Filter rows by column"):
        chosen = st.multiselect("Columns to filter on", [c for c in frame.columns if c != "open"], key=f"{key}_cols")
        for col in chosen:
            values = frame[col]
            if pd.api.types.is_bool_dtype(values):
                pick = st.selectbox(col, ["yes", "no"], key=f"{key}_f_{col}")
                frame = frame[values.fillna(False).astype(bool) == (pick == "yes")]
            elif pd.api.types.is_numeric_dtype(values) and values.notna().any():
                low, high = float(values.min()), float(values.max())
                if low < high:
                    lo, hi = st.slider(col, low, high, (low, high), key=f"{key}_f_{col}")
                    frame = frame[values.between(lo, hi)]
            else:
                text = st.text_input(f"{col} contains", key=f"{key}_f_{col}").strip().lower()
                if text:
                    frame = frame[values.astype(str).str.lower().str.contains(text, regex=False, na=False)]
    return frame


def show(frame: pd.DataFrame, key: str, column_config: dict | None = None, detail: str = "account_id"):
    """A filterable table of at least ``MIN_ROWS`` rows; a clicked row opens in a detail pane below it."""
    shown = filter_rows(frame, key).reset_index(drop=True)
    wrap = st.toggle("Wrap long text (taller rows)", key=f"{key}_wrap")
    config = {"open": st.column_config.LinkColumn("open", display_text="open ↗", width="small",
                                                  help="Open this account in lookup (new tab)")}
    config.update(column_config or {})
    st.caption(f"{len(shown):,} of {len(frame):,} rows. Click a header to sort; click a row for its full text.")
    event = st.dataframe(shown, width="stretch", hide_index=True, key=f"{key}_table", column_config=config,
                         height=height(MIN_ROWS, WRAPPED_ROW_PX if wrap else ROW_PX),
                         row_height=WRAPPED_ROW_PX if wrap else ROW_PX,
                         on_select="rerun", selection_mode="single-row")
    rows = event.selection.rows if event is not None else []
    if rows and rows[0] < len(shown):
        detail_pane(shown.iloc[rows[0]], detail)
    return shown


def follow_row_pick(event, options: list[str], select_key: str) -> None:
    """A row clicked in a single-row-selection table chooses its id in the selectbox ``select_key``.

    Followed once per click: a rerun hands back the same selection, which must not undo a
    choice made in the selectbox since.
    """
    rows = event.selection.rows if event is not None else []
    picked = options[rows[0]] if rows and rows[0] < len(options) else None
    seen = f"_{select_key}_from_table"
    if picked and st.session_state.get(seen) != picked:
        st.session_state[seen] = picked
        st.session_state[select_key] = picked


def _cell(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return f"{int(value):,}"
    return str(value)


def detail_pane(row: pd.Series, title_column: str) -> None:
    """Every field of one row, long text wrapped, as plain text (no Markdown: an email or URL stays inert)."""
    with st.container(border=True):
        lines = [f"{name}: {_cell(value)}" for name, value in row.items()
                 if name != "open" and (isinstance(value, str) or not pd.isna(value))]
        st.text("\n".join(lines), width="stretch")
        if "account_id" in row:
            st.page_link("app_pages/lookup.py", label="Open this account in lookup", icon=":material/search:",
                         query_params={"account": str(row["account_id"])})
