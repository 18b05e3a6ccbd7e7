"""Control totals: every input row is loaded, rejected or skipped, and the sums prove it.

Per table and currency, in rows, minor units and unreadable amounts:
``input = loaded + rejected + skipped``. *Input*, *rejected* and *skipped* are
tallied from the checked text (:func:`input_tallies`, before the text is
released); *loaded* is tallied from the final ledger (:func:`control_totals`),
never from the masks that chose the rows, so the identity really checks that
nothing was lost or counted twice. See ``docs/loading.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa

from rpmkit.io import rules
from rpmkit.io.readers import STRING
from rpmkit.ledger import Ledger
from rpmkit.schema import TABLES
from rpmkit.validation import Checked, blank_mask

if TYPE_CHECKING:
    from rpmkit.io.loader import _Table

__all__ = ["FLAT", "control_totals", "counts", "input_tallies"]

FLAT = "flat"


class _Lazy(dict):
    """A dict whose values are computed on first use (lookups only some tables need)."""

    def __init__(self, **factories):
        super().__init__()
        self._factories = factories

    def __missing__(self, key):
        factory = self._factories.get(key)
        if factory is None:
            raise KeyError(key)
        self[key] = value = factory()
        return value

    def get(self, key, default=None):
        try:
            return self[key]
        except KeyError:
            return default


def _row_keys(c: Checked, t: _Table, rep: str, lookups: dict) -> pd.DataFrame:
    """Per input row: ``currency`` ("?" if unknown), ``amount`` (0 unless parsed), ``unparsed``."""
    spec = c.spec
    n = c.n
    money_col = spec.money
    cur = _currency_key(c.name, c.typed, rep, lookups, n, ids=True)
    if money_col and money_col in c.typed:
        amount = pd.Series(c.typed[money_col], copy=False).reset_index(drop=True)
        parsed = amount.notna().to_numpy()
        text_blank = (
            blank_mask(c.text[money_col]) if money_col in c.text.columns else np.ones(n, bool)
        )
        required = spec.column(money_col).required
        unparsed = ~parsed & (required | ~text_blank)
        amt = amount.fillna(0).to_numpy(dtype=np.int64)
    else:
        unparsed = np.zeros(n, dtype=bool)
        amt = np.zeros(n, dtype=np.int64)
    cur = _currency_codes(cur)
    amt = np.where((cur == "?").to_numpy(), 0, amt)
    return pd.DataFrame({"currency": cur, "amount": amt, "unparsed": unparsed.astype(np.int64)})


def _currency_codes(cur: pd.Series) -> pd.Series:
    """Currency keys as a categorical ("?" for unknown): cheap to group 10M rows by."""
    cur = pd.Series(cur, copy=False).reset_index(drop=True).astype(STRING).fillna("?")
    return cur.astype("category")


def _currency_key(table: str, cols: dict, rep: str, lookups: dict, n: int, ids: bool) -> pd.Series:
    """The currency of a table's money, resolved the same way for input rows and loaded rows."""

    def col(name):
        v = cols.get(name)
        if v is None:
            return pd.Series([pd.NA] * n, dtype=STRING)
        return pd.Series(v, copy=False).reset_index(drop=True).astype(STRING)

    if table in ("invoices", "payments", "fx_rates"):
        return col("currency")
    if table == "customers":
        own = col("currency")
        text_blank = lookups.get("customers_blank_currency")
        own = own.mask(text_blank, rep) if text_blank is not None and ids else own.fillna(rep)
        return own
    if table == "allocations":
        return _map(col("payment_id"), lookups["payments"])
    if table in ("adjustments", "disputes"):
        return _map(col("invoice_id"), lookups["invoices"])
    if table == "activities":
        cust = lookups.get("customers")
        inv = col("invoice_id")
        from_inv = _map(inv, lookups["invoices"])
        if cust is not None:
            from_cust = _map(col("customer_id"), cust).fillna(rep)
        else:
            from_cust = pd.Series([rep] * n, dtype=STRING)
        return from_inv.where(inv.notna(), from_cust)
    return pd.Series(pd.array(pa.nulls(n, pa.large_string()), dtype=STRING))


def _map(ids: pd.Series, table: pd.Series | None) -> pd.Series:
    """``ids.map(table)`` as Arrow-backed text, through Arrow's hash kernels."""
    if table is None or len(table) == 0:
        return pd.Series(pd.array(pa.nulls(len(ids), pa.large_string()), dtype=STRING))
    return rules.map_ids(ids, pd.Series(table, copy=False).astype(STRING))


def _lookup_series(frame: pd.DataFrame, key: str, value: str) -> pd.Series:
    if frame is None or key not in frame.columns or value not in frame.columns:
        return pd.Series([], dtype=STRING)
    return rules.unique_map(frame[key], frame[value])


def control_totals(
    checked: dict[str, Checked],
    tables: dict[str, _Table],
    ledger: Ledger,
    rep: str,
    tallies: dict[str, dict[str, pd.DataFrame]] | None = None,
) -> list[dict]:
    """Rows and minor-unit amounts per table and currency: input, loaded, rejected, skipped.

    *Input* is every data row read (blank rows are not rows; rows that could
    not be split into fields count, under currency ``"?"``). *Loaded* is
    computed from the final ledger tables, not from the masks that chose
    them, so ``input = loaded + rejected + skipped`` is a real check that
    nothing was lost or double-counted. A row's currency is the currency of
    its amount (see ``docs/loading.md``); rows whose currency is unknown go
    under ``"?"`` and add no amount; rows with a known currency whose amount
    could not be read add no amount and count in ``unparsed``.
    """
    if tallies is None:
        tallies = input_tallies(checked, tables, rep)
    loaded_lookups = _Lazy(
        payments=lambda: _lookup_series(ledger.payments, "payment_id", "currency"),
        invoices=lambda: _lookup_series(ledger.invoices, "invoice_id", "currency"),
        customers=lambda: (
            _lookup_series(
                ledger.customers.assign(currency=ledger.customers["currency"].fillna(rep)),
                "customer_id",
                "currency",
            )
            if "customers" in checked
            else None
        ),
    )
    out = []
    for key, c in checked.items():
        label = c.name
        summed = {
            **tallies[key],
            "loaded": _sum_by_currency(_loaded_keys(label, ledger, rep, loaded_lookups)),
        }
        currencies = sorted(
            set().union(*[set(s.index) for s in summed.values()]), key=lambda x: (x == "?", x)
        )
        for cur in currencies:
            row: dict = {"table": label, "currency": cur}
            for stage in ("input", "loaded", "rejected", "skipped"):
                s = summed[stage]
                for m in ("rows", "amount", "unparsed"):
                    row[f"{stage}_{m}"] = int(s.at[cur, m]) if cur in s.index else 0
            row["balanced"] = all(
                row[f"input_{m}"] == row[f"loaded_{m}"] + row[f"rejected_{m}"] + row[f"skipped_{m}"]
                for m in ("rows", "amount", "unparsed")
            )
            out.append(row)
    return out


def input_tallies(
    checked: dict[str, Checked], tables: dict[str, _Table], rep: str
) -> dict[str, dict[str, pd.DataFrame]]:
    """Per table: ``input``, ``rejected`` and ``skipped`` rows, amounts, unparsed per currency.

    Computed from the checked text tables, before the ledger is built, so the
    text can be released early; :func:`control_totals` adds ``loaded`` from the ledger.
    """
    cc = checked.get("customers")
    has_cust_currency = cc is not None and "currency" in cc.typed

    def raw_customers():
        if not has_cust_currency:
            return None
        cust = pd.Series(cc.typed["currency"]).astype(STRING)
        keys = pd.Series(cc.typed["customer_id"]).astype(STRING)
        return rules.unique_map(keys, cust.mask(blank_mask(cc.text["currency"]), rep), ~cc.totals)

    raw_lookups = _Lazy(
        payments=lambda: (
            rules.lookup(checked["payments"], "payment_id", "currency", ~checked["payments"].totals)
            if "payments" in checked
            else pd.Series([], dtype=STRING)
        ),
        invoices=lambda: _invoice_lookup(checked),
        customers=raw_customers,
        customers_blank_currency=lambda: (
            blank_mask(cc.text["currency"]) if has_cust_currency else None
        ),
    )
    out: dict[str, dict[str, pd.DataFrame]] = {}
    for key, c in checked.items():
        t = tables[key]
        keys = _row_keys(c, t, rep, raw_lookups)
        unsplit = pd.DataFrame(
            {
                "currency": ["?"] * len(t.unsplit),
                "amount": np.zeros(len(t.unsplit), dtype=np.int64),
                "unparsed": np.full(
                    len(t.unsplit),
                    int(bool(c.spec.money and c.spec.column(c.spec.money).required)),
                    dtype=np.int64,
                ),
            }
        )
        out[key] = {
            "input": _add(_sum_by_currency(keys), _sum_by_currency(unsplit)),
            "rejected": _add(_sum_by_currency(keys[c.rejected()]), _sum_by_currency(unsplit)),
            "skipped": _sum_by_currency(keys[c.skipped]),
        }
    return out


def _sum_by_currency(frame: pd.DataFrame) -> pd.DataFrame:
    """``rows, amount, unparsed`` per currency (index: currency code as text)."""
    groups = frame.groupby("currency", observed=True, sort=False)
    out = groups[["amount", "unparsed"]].sum()
    out.insert(0, "rows", groups.size())
    out.index = pd.Index([str(i) for i in out.index], name="currency")
    return out.astype("int64")


def _add(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    """Exact sum of two per-currency tallies (no trip through floats)."""
    idx = a.index.union(b.index)
    return a.reindex(idx, fill_value=0) + b.reindex(idx, fill_value=0)


def _invoice_lookup(checked: dict[str, Checked]) -> pd.Series:
    c = checked.get(FLAT) or checked.get("invoices")
    if c is None:
        return pd.Series([], dtype=STRING)
    return rules.lookup(c, "invoice_id", "currency", ~c.totals)


def _loaded_keys(table: str, ledger: Ledger, rep: str, lookups: dict) -> pd.DataFrame:
    frame = getattr(ledger, table)
    n = len(frame)
    cols = {c: frame[c] for c in frame.columns}
    cur = _currency_key(table, cols, rep, lookups, n, ids=False)
    spec = TABLES[table]
    if spec.money:
        amt = pd.Series(frame[spec.money]).fillna(0).to_numpy(dtype=np.int64)
    else:
        amt = np.zeros(n, dtype=np.int64)
    return pd.DataFrame(
        {"currency": _currency_codes(cur), "amount": amt, "unparsed": np.zeros(n, dtype=np.int64)}
    )


def counts(checked, tables, ledger) -> dict:
    """Rows per table: input, loaded, rejected, skipped, and blank rows left out."""
    out = {}
    for key, c in checked.items():
        t = tables[key]
        out[c.name] = {
            "input": int(c.n + len(t.unsplit)),
            "loaded": int(len(getattr(ledger, c.name))),
            "rejected": int(c.rejected().sum() + len(t.unsplit)),
            "skipped": int(c.skipped.sum()),
            "blank_rows": int(t.blank),
        }
    return out
