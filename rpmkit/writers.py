"""Write a :class:`~rpmkit.ledger.Ledger` as a ledger folder or a DuckDB file.

A ledger folder holds one file per non-empty table (``invoices.csv`` …) and a
``ledger.json`` with the reporting currency. CSV files are UTF-8 with ISO
dates, money as plain decimal text with the currency's decimals and booleans
``true``/``false``; Parquet files keep dates as ``date32`` and money as
``decimal128(38, s)``. :func:`rpmkit.load` reads both back exactly.

Examples
--------
>>> import tempfile, pandas as pd
>>> from rpmkit.ledger import Ledger
>>> ledger = Ledger(
...     invoices=pd.DataFrame(
...         {
...             "invoice_id": ["1"],
...             "customer_id": ["C"],
...             "amount": [1999],
...             "currency": ["USD"],
...             "invoice_date": pd.to_datetime(["2024-01-31"]),
...             "due_date": pd.to_datetime(["2024-03-01"]),
...         }
...     )
... )
>>> folder = write_ledger(ledger, tempfile.mkdtemp())
>>> print((folder / "invoices.csv").read_text().splitlines()[1])
1,C,2024-01-31,2024-03-01,19.99,USD
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from rpmkit import money
from rpmkit._version import __version__
from rpmkit.ledger import Ledger
from rpmkit.schema import TABLES

__all__ = ["money_currencies", "table_as_text", "write_ledger", "write_duckdb"]

LEDGER_META = "ledger.json"


def money_currencies(ledger: Ledger, table: str, column: str) -> pd.Series:
    """The currency each money cell of ``table.column`` is denominated in.

    Invoices and payments carry their own; allocations use the payment's,
    adjustments and disputes the invoice's; a customer's credit limit is in
    the customer's currency; a promise in its invoice's, else its customer's.
    Anything still unknown is in the reporting currency.
    """
    frame = getattr(ledger, table)
    rep = ledger.reporting_currency
    inv_cur = ledger.invoices.set_index("invoice_id")["currency"]
    if table in ("invoices", "payments"):
        cur = frame["currency"]
    elif table == "allocations":
        cur = frame["payment_id"].map(ledger.payments.set_index("payment_id")["currency"])
    elif table in ("adjustments", "disputes"):
        cur = frame["invoice_id"].map(inv_cur)
    elif table == "customers":
        cur = frame["currency"]
    elif table == "activities":
        cust_cur = ledger.customers.set_index("customer_id")["currency"]
        cur = frame["invoice_id"].map(inv_cur).fillna(frame["customer_id"].map(cust_cur))
    else:
        raise ValueError(f"{table} has no money column {column!r}")
    return pd.Series(cur, index=frame.index).astype("string").fillna(rep)


def _written_columns(ledger: Ledger, table: str) -> list[str]:
    """Required columns, plus optional and extra columns that hold at least one value."""
    frame = getattr(ledger, table)
    required = set(TABLES[table].required)
    return [c for c in frame.columns if c in required or frame[c].notna().any()]


def table_as_text(ledger: Ledger, table: str) -> pd.DataFrame:
    """A table rendered as file text (blank = missing); empty optional columns left out."""
    frame = getattr(ledger, table)
    out = {}
    for col in _written_columns(ledger, table):
        s = frame[col]
        kind = TABLES[table].column(col).kind if col in TABLES[table].names else None
        if kind == "money":
            text = money.format_amounts(s, money_currencies(ledger, table, col))
        elif kind == "date" or pd.api.types.is_datetime64_any_dtype(s.dtype):
            text = s.dt.strftime("%Y-%m-%d")
        elif pd.api.types.is_bool_dtype(s.dtype):
            text = s.map({True: "true", False: "false"}, na_action="ignore")
        elif kind == "rate":
            text = s.map(repr, na_action="ignore")
        else:
            text = s.astype("string")
        out[col] = pd.Series(text, index=frame.index).astype("string").fillna("")
    return pd.DataFrame(out, index=frame.index)


def _arrow_table(ledger: Ledger, table: str) -> pa.Table:
    frame = getattr(ledger, table)
    arrays, names = [], []
    for col in _written_columns(ledger, table):
        s = frame[col]
        kind = TABLES[table].column(col).kind if col in TABLES[table].names else None
        if kind == "money":
            cur = money_currencies(ledger, table, col)
            scale = int(money.exponents(cur).max(initial=0))
            text = money.format_amounts(s, cur)
            arr = pa.array(text, type=pa.string()).cast(pa.decimal128(38, scale))
        elif kind == "date" or pd.api.types.is_datetime64_any_dtype(s.dtype):
            arr = pa.array(s, from_pandas=True).cast(pa.date32())
        else:
            arr = pa.array(s, from_pandas=True)
        arrays.append(arr)
        names.append(col)
    return pa.Table.from_arrays(arrays, names=names)


def write_ledger(
    ledger: Ledger,
    path: str | Path,
    *,
    format: Literal["csv", "parquet"] = "csv",
    include_empty: bool = False,
) -> Path:
    """Write ``ledger`` into the folder ``path`` (created if needed); return the folder.

    Existing table files of the other format are removed so a folder never
    holds two versions of one table.
    """
    if format not in ("csv", "parquet"):
        raise ValueError(f"format must be 'csv' or 'parquet', got {format!r}")
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for name, frame in ledger:
        for stale in (folder / f"{name}.csv", folder / f"{name}.parquet"):
            stale.unlink(missing_ok=True)
        if frame.empty and not include_empty:
            continue
        target = folder / f"{name}.{format}"
        if format == "csv":
            table_as_text(ledger, name).to_csv(target, index=False, lineterminator="\n")
        else:
            pq.write_table(_arrow_table(ledger, name), target, compression="zstd")
        written[name] = target.name
    meta = {
        "format": "rpmkit-ledger",
        "version": 1,
        "reporting_currency": ledger.reporting_currency,
        "rpmkit_version": __version__,
        "tables": written,
    }
    (folder / LEDGER_META).write_text(json.dumps(meta, indent=2) + "\n")
    return folder


def write_duckdb(ledger: Ledger, path: str | Path) -> Path:
    """Write every non-empty table into a DuckDB file, replacing tables of the same name.

    Money columns become ``DECIMAL(38, s)`` and dates ``DATE``; a table
    ``ledger_meta`` records the reporting currency.
    """
    import duckdb

    target = Path(path)
    with duckdb.connect(str(target)) as con:
        for name, frame in ledger:
            if frame.empty:
                continue
            con.register("_incoming", _arrow_table(ledger, name))
            con.execute(f'CREATE OR REPLACE TABLE "{name}" AS SELECT * FROM _incoming')
            con.unregister("_incoming")
        meta = pa.table(
            {
                "key": ["format", "version", "reporting_currency", "rpmkit_version"],
                "value": ["rpmkit-ledger", "1", ledger.reporting_currency, __version__],
            }
        )
        con.register("_meta", meta)
        con.execute("CREATE OR REPLACE TABLE ledger_meta AS SELECT * FROM _meta")
        con.unregister("_meta")
    return target
