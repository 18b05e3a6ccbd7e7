"""``load``: any source to a checked :class:`~rpmkit.ledger.Ledger`, losing nothing.

The steps, in order:

1. options: preset options, then the mapping's, then keyword arguments (later wins);
2. read every needed table as text with provenance (:mod:`rpmkit.io.readers`;
   typed dates and amounts stay typed and are parsed without text);
3. a preset's ``transform`` (if any) turns the source's tables into canonical ones;
4. columns are mapped (explicitly or by common header names); file-level
   problems of every table are gathered and raised together as :class:`LoadError`;
5. each table is parsed and checked on its own (:func:`rpmkit.validation.check_table`),
   then across tables, parents first (:mod:`rpmkit.io.rules`);
6. accepted rows become the ledger; every other row is in the rejects (or, for
   an exact duplicate, skipped) and the control totals prove it (see :func:`control_totals`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa

from rpmkit import money
from rpmkit.io import rules
from rpmkit.io.mapping import Options, build_options, parse_mapping, resolve_columns
from rpmkit.io.readers import STRING, RawTable, file_problem, is_typed, text_frame
from rpmkit.io.rejects import IGNORED, build_rejects, preset_ignored, repeats_across_files
from rpmkit.io.result import (
    LoadError,
    LoadResult,
    Manifest,
    versions,
)
from rpmkit.io.sources import Source, open_source
from rpmkit.io.totals import FLAT, _Lazy, control_totals, counts, input_tallies
from rpmkit.ledger import Ledger
from rpmkit.memory import give_back_memory as _give_back_memory
from rpmkit.memory import heap_trims
from rpmkit.schema import FLAT_INVOICE, TABLE_ORDER, TABLES, Table
from rpmkit.validation import (
    LINE_COL,
    SOURCE_COL,
    Checked,
    blank_mask,
    check_table,
    parse_ids,
    report_silent_missing,
)

__all__ = ["control_totals", "load"]


@dataclass
class _Table:
    """A table between reading and checking."""

    key: str  # canonical table name or "flat"
    frame: pd.DataFrame
    headers: list[str]
    sources: list[str]
    used: dict[str, str] = field(default_factory=dict)
    unsplit: list[dict] = field(default_factory=list)
    blank: int = 0

    @property
    def spec(self) -> Table:
        return FLAT_INVOICE if self.key == FLAT else TABLES[self.key]

    @property
    def label(self) -> str:
        return "invoices" if self.key == FLAT else self.key


def load(source, preset=None, mapping=None, **options) -> LoadResult:
    """Load a ledger from a folder, workbook, DuckDB file, database URL or flat file.

    Parameters
    ----------
    source
        A ledger folder (one file per canonical table, or its parts such as
        ``invoices_2024-01.csv``; optional ``ledger.json``), an ``.xlsx``
        workbook, a ``.duckdb``/``.db`` file, a SQLAlchemy URL, one flat
        invoice file (``.csv``/``.tsv``/``.txt``/``.parquet``/``.xlsx``) or a
        list of them (the parts of one flat table). Rows repeated exactly in
        another part are skipped once loaded; the same key with other values
        is rejected in every copy.
    preset
        Name of a preset from :mod:`rpmkit.presets` (or a preset object) that
        maps an external format onto the canonical tables.
    mapping
        ``{table: {canonical_column: source_header}}`` (or, for a flat file,
        ``{canonical_column: source_header}``) plus options, as a dict or a YAML file.
    **options
        ``date_format``, ``decimal``, ``delimiter``, ``encoding``,
        ``reporting_currency``, ``currency``, ``tables``, ``sheet``, ``schema``.

    Returns
    -------
    LoadResult
        ``ledger`` (accepted rows), ``rejects`` (one row per input row and
        problem) and ``manifest`` (sources, options, counts, control totals).

    Raises
    ------
    LoadError
        When the source cannot be loaded at all (missing, empty, unreadable,
        missing required columns, duplicate headers...), listing every problem.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "ar.csv").write_text(
    ...     "Invoice No,Customer,Invoice Date,Due Date,Amount,Paid Date\\n"
    ...     "A1,C1,2024-01-05,2024-02-04,100.00,2024-02-01\\n"
    ...     "A2,C1,2024-01-09,2024-01-01,50.00,\\n"
    ... )
    >>> result = load(folder / "ar.csv")
    >>> result.ledger
    Ledger(customers=1, invoices=1, payments=1, allocations=1; reporting USD)
    >>> result.rejects[["line", "reason"]].to_dict("records")
    [{'line': 3, 'reason': 'due_before_invoice'}]
    >>> result.manifest.reconciled
    True
    """
    opts, preset_obj, problems = _options(source, preset, mapping, options)
    if problems:
        raise LoadError(problems)
    src = open_source(
        source,
        encoding=opts.encoding,
        delimiter=opts.delimiter,
        schema=opts.schema,
        sheet=opts.sheet,
        grid=opts.header is None,
    )
    pool = pa.default_memory_pool()
    if heap_trims():
        # glibc's malloc gives freed memory back when trimmed between phases; the
        # default Arrow pool keeps it, which at millions of rows raises the peak.
        pa.set_memory_pool(pa.system_memory_pool())
    try:
        return _load(src, opts, preset_obj)
    finally:
        pa.set_memory_pool(pool)
        src.close()


# --------------------------------------------------------------------------- options
def _options(source, preset, mapping, options) -> tuple[Options, object, list[dict]]:
    where = str(source)
    problems: list[dict] = []
    map_opts, columns, errors = parse_mapping(mapping)
    problems += [file_problem(where, "bad_option", e) for e in errors]
    preset_obj = None
    preset_opts: dict = {}
    if preset is not None:
        if isinstance(preset, str):
            try:
                from rpmkit import presets as registry

                preset_obj = registry.get(preset)
            except ImportError:
                problems.append(file_problem(where, "bad_option", "presets are not available"))
            except KeyError as exc:
                problems.append(file_problem(where, "bad_option", f"unknown preset: {exc.args[0]}"))
        else:
            preset_obj = preset
        if preset_obj is not None:
            preset_opts = dict(getattr(preset_obj, "options", {}) or {})
    opts, errors = build_options([preset_opts, map_opts, options], lenient=1)
    overrides = {k: v for k, v in {**map_opts, **options}.items() if k in preset_opts}
    if overrides and hasattr(preset_obj, "with_options"):
        # the preset reads the source with the same options the loader parses with
        preset_obj = preset_obj.with_options(**overrides)
    opts.columns = columns
    problems += [file_problem(where, "bad_option", e) for e in errors]
    return opts, preset_obj, problems


# --------------------------------------------------------------------------- reading
@dataclass
class _Gathered:
    tables: dict[str, _Table] = field(default_factory=dict)
    raws: dict[str, RawTable] = field(default_factory=dict)
    problems: list[dict] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    preset_ignored: pd.DataFrame | None = None


def _gather(src: Source, opts: Options, preset) -> _Gathered:
    """The tables to check, the raw tables by source name, file problems, ignored names."""
    g = _Gathered(problems=list(src.problems), ignored=list(src.ignored))
    problems, tables, raws, ignored = g.problems, g.tables, g.raws, g.ignored
    if problems and not src.names:
        return g

    def read(name: str) -> RawTable:
        raw = src.read(name)
        for part in raw.parts or [raw]:
            raws[part.source] = part
        problems.extend(raw.problems)
        return raw

    if preset is not None:
        inputs = {name: read(name) for name in src.names}
        if problems:
            return g
        for r in inputs.values():
            # A preset transforms text: typed columns become the text the readers give.
            r.frame = text_frame(r.frame)
        try:
            out = preset.transform({k: r.frame for k, r in inputs.items()})
        except Exception as exc:
            missing = getattr(exc, "missing", None)
            if missing:
                sources = [r.source for r in inputs.values()] or [src.display]
                for col in missing:
                    problems.append(
                        file_problem(
                            sources[0],
                            "missing_column",
                            str(exc),
                            table=getattr(exc, "table", ""),
                            column=col,
                        )
                    )
            else:
                problems.append(
                    file_problem(
                        src.display,
                        "bad_option",
                        f"preset {getattr(preset, 'name', preset)!r} failed: {exc!r}",
                    )
                )
            return g
        for key, frame in out.items():
            if key == IGNORED:
                g.preset_ignored = frame.reset_index(drop=True)
                continue
            if key != FLAT and key not in TABLES:
                problems.append(
                    file_problem(
                        src.display, "bad_option", f"the preset returned an unknown table {key!r}"
                    )
                )
                continue
            if SOURCE_COL not in frame.columns or LINE_COL not in frame.columns:
                problems.append(
                    file_problem(
                        src.display,
                        "bad_option",
                        f"the preset's {key!r} table lost the _source/_line columns",
                    )
                )
                continue
            frame = frame.reset_index(drop=True)
            headers = [c for c in frame.columns if c not in (SOURCE_COL, LINE_COL)]
            srcs = [str(s) for s in pd.unique(frame[SOURCE_COL].astype(str))]
            unsplit = [
                dict(u, source=r.source)
                for r in inputs.values()
                for u in r.row_problems
                if r.source in srcs
            ]
            tables[key] = _Table(key, frame, headers, srcs, unsplit=unsplit)
        return g

    unknown = _unknown_tables(src, opts.tables)
    if unknown:
        problems.extend(unknown)
        return g
    found = src.canonical(opts.tables)
    if found:
        for canon in TABLE_ORDER:
            if canon in found:
                raw = read(found[canon])
                tables[canon] = _Table(
                    canon,
                    raw.frame,
                    raw.headers,
                    raw.sources,
                    unsplit=[{"source": raw.source, **u} for u in raw.row_problems],
                )
        ignored += [n for n in src.names if n not in found.values()]
    else:
        flat = (opts.tables or {}).get(FLAT) or src.flat_default
        if flat is None or flat not in src.names:
            names = ", ".join(src.names) or "(none)"
            problems.append(
                file_problem(
                    src.display,
                    "missing_table",
                    f"no canonical table ({', '.join(TABLES)}) found; the source has: {names}. "
                    "Name them with tables={canonical: name}.",
                )
            )
            return g
        raw = read(flat)
        tables[FLAT] = _Table(
            FLAT,
            raw.frame,
            raw.headers,
            raw.sources,
            unsplit=[{"source": raw.source, **u} for u in raw.row_problems],
        )
        ignored += [n for n in src.names if n != flat]
    return g


def _unknown_tables(src: Source, tables: dict | None) -> list[dict]:
    """A ``tables`` entry naming no table of the source is an error, never a guess.

    Only names the source itself lists are ever read (a database table name
    is an identifier the inspector returned), so a hostile name such as
    ``x; DROP TABLE y`` goes no further than this message.
    """
    lower = {n.lower() for n in src.names}
    have = ", ".join(map(repr, src.names)) or "(none)"
    out = []
    for canon, name in (tables or {}).items():
        if canon != FLAT and canon not in TABLES:
            msg = f"tables: {canon!r} is not a canonical table ({', '.join(TABLES)} or flat)"
            out.append(file_problem(src.display, "bad_option", msg))
        elif str(name).lower() not in lower:
            msg = f"tables: {canon} -> {str(name)!r} is not a table of the source; it has: {have}"
            out.append(file_problem(src.display, "missing_table", msg, table=canon))
    return out


def _map_columns(t: _Table, opts: Options, problems: list[dict], single_file: bool) -> None:
    explicit = opts.columns.get(t.key)
    if explicit is None and t.key == FLAT:
        explicit = opts.columns.get("invoices")
    not_required = frozenset({"currency"}) if opts.currency else frozenset()
    if t.frame.empty and not t.headers:
        return
    used, found = resolve_columns(t.spec, t.key, t.headers, explicit, not_required=not_required)
    for column, reason, message in found:
        for s in t.sources:
            problems.append(
                file_problem(s, reason, f"{t.label}: {message}", table=t.label, column=column)
            )
    t.used = used
    rename = {h: c for c, h in used.items()}
    canon = set(t.spec.names)
    for h in t.headers:
        if h not in rename and h in canon:
            rename[h] = f"{h} (unmapped)"
    t.frame = t.frame.rename(columns=rename)


def _text_unless_parsed(t: _Table) -> None:
    """Typed columns stay typed only where validation parses them directly.

    Dates (``date32``) in date columns and decimals or integers in money
    columns; every other typed column (identifiers, extras...) becomes text
    here, exactly as the readers would have made it.
    """
    if t.frame is None or t.frame.empty and not len(t.frame.columns):
        return
    keep = set()
    for col in t.spec.columns:
        if col.name not in t.frame.columns or not is_typed(t.frame[col.name]):
            continue
        typ = t.frame[col.name].dtype.pyarrow_dtype
        if (col.kind == "date" and pa.types.is_date32(typ)) or (
            col.kind == "money" and (pa.types.is_decimal128(typ) or pa.types.is_integer(typ))
        ):
            keep.add(col.name)
    t.frame = text_frame(t.frame, keep)


def _drop_blank_rows(t: _Table) -> None:
    cols = [c for c in t.frame.columns if c not in (SOURCE_COL, LINE_COL)]
    if not cols or t.frame.empty:
        return
    blank = np.ones(len(t.frame), dtype=bool)
    for c in cols:
        blank &= blank_mask(t.frame[c])
        if not blank.any():
            return
    t.blank = int(blank.sum())
    t.frame = t.frame.loc[~blank].reset_index(drop=True)


# --------------------------------------------------------------------------- loading
def _load(src: Source, opts: Options, preset) -> LoadResult:
    g = _gather(src, opts, preset)
    _give_back_memory()
    tables, raws, problems, ignored = g.tables, g.raws, g.problems, g.ignored
    for t in tables.values():
        _map_columns(t, opts, problems, src.kind == "file")
        _text_unless_parsed(t)
        _drop_blank_rows(t)
        if (
            t.key == FLAT
            and len(t.frame) == 0
            and not t.unsplit
            and not any(p["reason"] == "empty_file" for p in problems)
            and not any(p["source"] in t.sources for p in problems)
        ):
            for s in t.sources:
                problems.append(
                    file_problem(
                        s, "header_only", "the file has a header but no data rows", table=t.label
                    )
                )
    if problems:
        raise LoadError(problems)

    rep, rep_from = _reporting_currency(opts, src, tables)
    for t in tables.values():
        if t.key in (FLAT, "invoices", "payments") and "currency" not in t.frame.columns:
            const = opts.currency or rep
            t.frame["currency"] = pd.Series(const, index=t.frame.index, dtype=STRING)

    systems = _date_systems(raws)
    checked = _check_all(tables, opts, rep, systems)
    rejects = build_rejects(checked, tables, raws)
    extra = None
    if g.preset_ignored is not None and len(g.preset_ignored):
        rejects, *extra = preset_ignored(g.preset_ignored, raws, rejects)
    across = {c.name: repeats_across_files(c) for c in checked.values()}
    tallies = input_tallies(checked, tables, rep)
    infos = _source_infos(raws, tables)
    _release_text(checked, tables, raws, src)
    _give_back_memory()
    ledger, notes = _build_ledger(checked, tables, rep)
    totals = control_totals(checked, tables, ledger, rep, tallies)
    table_counts = counts(checked, tables, ledger)
    if extra:
        totals += extra[0]
        table_counts.update(extra[1])
    for name, n in across.items():
        if name in table_counts and len(_sources_by_label(tables).get(name, ())) > 1:
            table_counts[name]["deduplicated_across_files"] = n
            if n:
                notes.append(
                    f"{name}: {n} row(s) repeated in another file skipped as exact duplicates"
                )
    manifest = Manifest(
        source=src.display,
        kind=src.kind,
        sources=infos,
        ignored=ignored,
        preset=getattr(preset, "name", None) if preset is not None else None,
        options=opts.to_dict(),
        mapping={t.label: dict(t.used) for t in tables.values()},
        reporting_currency=rep,
        reporting_currency_from=rep_from,
        date_formats={
            f"{c.name}.{col}": found for c in checked.values() for col, found in c.dates.items()
        },
        counts=table_counts,
        totals=totals,
        reconciled=all(r["balanced"] for r in totals),
        notes=notes,
        versions=versions(),
    )
    if not manifest.reconciled:
        manifest.notes.append("control totals do not balance: rows were lost; please report this")
    return LoadResult(ledger, rejects, manifest)


def _sources_by_label(tables: dict[str, _Table]) -> dict[str, list[str]]:
    """The sources of each table by its label (the flat form is ``invoices``)."""
    return {t.label: t.sources for t in tables.values()}


def _release_text(checked, tables, raws, src: Source) -> None:
    """Drop the text of canonical columns once rejects and input tallies are made.

    At 10 million rows the text is gigabytes; the ledger needs only the parsed
    values and the extra (attribute) columns.
    """
    for c in checked.values():
        canon = set(c.spec.names)
        keep = [col for col in c.text.columns if col not in canon]
        c.text = c.text[keep]
    for t in tables.values():
        t.frame = None
    for raw in raws.values():
        raw.frame = raw.frame.iloc[:0]
    src._cache.clear()


def _reporting_currency(opts: Options, src: Source, tables: dict[str, _Table]) -> tuple[str, str]:
    if opts.reporting_currency:
        return opts.reporting_currency, "declared"
    meta = (src.meta or {}).get("reporting_currency")
    if meta and money.is_known_currency(str(meta).upper()):
        return str(meta).upper(), "ledger.json"
    if opts.currency:
        return opts.currency, "currency option"
    for key in (FLAT, "invoices"):
        t = tables.get(key)
        if t is not None and "currency" in t.frame.columns and len(t.frame):
            codes = pd.Series(t.frame["currency"]).str.strip().str.upper().dropna().unique()
            codes = [c for c in codes if money.is_known_currency(c)]
            if len(codes) == 1:
                return codes[0], "the only invoice currency"
    return "USD", "default"


def _date_systems(raws: dict[str, RawTable]) -> dict[str, int]:
    out = {}
    for name, raw in raws.items():
        system = raw.info.get("date_system")
        if system:
            out[name] = 2 if system == 1904 else 1
    return out


def _systems_for(frame: pd.DataFrame, systems: dict[str, int]) -> np.ndarray | None:
    if not systems or SOURCE_COL not in frame.columns:
        return None
    src = frame[SOURCE_COL].astype(str)
    return src.map(systems).fillna(0).to_numpy(dtype=np.int64)


def _check_all(tables: dict[str, _Table], opts: Options, rep: str, systems) -> dict[str, Checked]:
    """Check every table on its own, then across tables, parents first."""
    checked: dict[str, Checked] = {}

    def run(key: str, money_currency=None) -> Checked | None:
        t = tables.get(key)
        if t is None:
            return None
        c = check_table(
            t.spec,
            t.frame,
            name=t.label,
            money_currency=money_currency,
            reporting_currency=rep,
            decimal=opts.decimal,
            date_format=opts.date_format,
            systems=_systems_for(t.frame, systems),
        )
        checked[key] = c
        _give_back_memory()
        return c

    def ids_of(key: str, col: str) -> pd.Series:
        frame = tables[key].frame
        if col not in frame.columns:
            return pd.Series([pd.NA] * len(frame), dtype=STRING)
        return parse_ids(frame[col])[0]

    def all_rows(c: Checked) -> np.ndarray:
        return ~c.totals

    customers = run("customers")
    invoices = run(FLAT) or run("invoices")
    if invoices is not None and customers is not None:
        rules.check_reference(
            invoices, "customer_id", customers, "customer_id", "unknown_customer", noun="customer"
        )
    payments = run("payments")
    empty = pd.Series([], dtype=STRING)
    # A child's money is in its parent's currency, whatever became of the parent row.
    lookups = _Lazy(
        customers=lambda: (
            rules.lookup(customers, "customer_id", "currency", all_rows(customers))
            if customers is not None and "currency" in customers.typed
            else None
        ),
        invoices=lambda: (
            rules.lookup(invoices, "invoice_id", "currency", all_rows(invoices))
            if invoices is not None
            else empty
        ),
        payments=lambda: (
            rules.lookup(payments, "payment_id", "currency", all_rows(payments))
            if payments is not None
            else empty
        ),
    )
    inv_currency = pay_currency = cust_currency = None
    if any(k in tables for k in ("allocations", "adjustments", "disputes", "activities")):
        inv_currency = lookups["invoices"]
        pay_currency = lookups["payments"]
        cust_currency = lookups["customers"]

    alloc = None
    if "allocations" in tables:
        pay_ids = ids_of("allocations", "payment_id")
        inv_ids = ids_of("allocations", "invoice_id")
        alloc = run("allocations", money_currency=_map(pay_ids, pay_currency))
        rules.check_reference(
            alloc, "payment_id", payments, "payment_id", "unknown_payment", noun="payment"
        )
        rules.check_reference(
            alloc, "invoice_id", invoices, "invoice_id", "unknown_invoice", noun="invoice"
        )
        rules.check_currency_match(
            alloc,
            _map(pay_ids, pay_currency),
            _map(inv_ids, inv_currency),
            "the payment's and the invoice's currencies differ",
        )
        pay_dates = pd.Series(dtype="datetime64[ns]")
        if payments is not None:
            pay_dates = rules.lookup(payments, "payment_id", "payment_date", payments.accepted())
        paid_on = rules.map_ids(pay_ids, pay_dates)
        rules.check_applied_dates(
            alloc, "applied_date", paid_on, "applied_before_payment", "the payment date"
        )
        applied = pd.Series(
            alloc.typed.get("applied_date", np.full(alloc.n, np.datetime64("NaT", "ns")))
        )
        when = applied.fillna(paid_on)
        if payments is not None:
            rules.settle_payments(alloc, payments, when)
            _give_back_memory()
        inv_dates = (
            rules.lookup(invoices, "invoice_id", "invoice_date", invoices.accepted())
            if invoices is not None
            else pd.Series(dtype="datetime64[ns]")
        )
        issued = rules.map_ids(inv_ids, inv_dates)
        alloc_when = when.where(~(when < issued), issued)
    adjustments = None
    if "adjustments" in tables:
        inv_ids = ids_of("adjustments", "invoice_id")
        adjustments = run("adjustments", money_currency=_map(inv_ids, inv_currency))
        rules.check_reference(
            adjustments, "invoice_id", invoices, "invoice_id", "unknown_invoice", noun="invoice"
        )
        if invoices is not None:
            issued = rules.map_ids(
                inv_ids, rules.lookup(invoices, "invoice_id", "invoice_date", invoices.accepted())
            )
            rules.check_applied_dates(
                adjustments, "date", issued, "dated_before_invoice", "the invoice date"
            )
    if invoices is not None and (alloc is not None or adjustments is not None):
        rules.settle_invoices(
            invoices, alloc, alloc_when if alloc is not None else None, adjustments
        )
        _give_back_memory()

    if "disputes" in tables:
        inv_ids = ids_of("disputes", "invoice_id")
        disputes = run("disputes", money_currency=_map(inv_ids, inv_currency))
        rules.check_reference(
            disputes, "invoice_id", invoices, "invoice_id", "unknown_invoice", noun="invoice"
        )
    if "activities" in tables:
        inv_ids = ids_of("activities", "invoice_id")
        cust_ids = ids_of("activities", "customer_id")
        cur = _activity_currency(inv_ids, cust_ids, inv_currency, cust_currency, customers, rep)
        activities = run("activities", money_currency=cur)
        if customers is not None:
            rules.check_reference(
                activities,
                "customer_id",
                customers,
                "customer_id",
                "unknown_customer",
                noun="customer",
            )
        rules.check_reference(
            activities, "invoice_id", invoices, "invoice_id", "unknown_invoice", noun="invoice"
        )
    run("fx_rates")
    for c in checked.values():
        report_silent_missing(c)
    return checked


def _map(ids: pd.Series, table: pd.Series | None) -> pd.Series:
    """``ids.map(table)`` as Arrow-backed text (missing where unknown)."""
    if table is None or len(table) == 0:
        return pd.Series(pd.array(pa.nulls(len(ids), pa.large_string()), dtype=STRING))
    return rules.map_ids(ids, pd.Series(table, copy=False).astype(STRING))


def _activity_currency(inv_ids, cust_ids, inv_currency, cust_currency, customers, rep) -> pd.Series:
    """promised_amount's currency: the invoice's, else the customer's, else the reporting one.

    A named invoice with no known currency gives no currency (the row is
    rejected as an unknown invoice anyway); so does a customer whose
    currency is not a known code.
    """
    from_invoice = _map(inv_ids, inv_currency)
    if cust_currency is not None:
        from_customer = _map(cust_ids, cust_currency).fillna(rep)
    else:
        from_customer = pd.Series([rep] * len(cust_ids), dtype=STRING)
    return from_invoice.where(inv_ids.notna(), from_customer)


# --------------------------------------------------------------------------- ledger
def _take(values, rows: np.ndarray | None):
    if isinstance(values, np.ndarray):
        return values if rows is None else values[rows]
    s = pd.Series(values, copy=False).reset_index(drop=True)
    return (s if rows is None else s.iloc[rows].reset_index(drop=True)).array


def _typed_frame(c: Checked, rows: np.ndarray | None) -> pd.DataFrame:
    """Accepted rows of one checked table with canonical dtypes, extras kept as text."""
    spec = c.spec
    cols: dict[str, object] = {}
    for col in spec.columns:
        if col.name not in c.typed:
            continue
        v = _take(c.typed[col.name], rows)
        if col.kind == "money":
            v = pd.array(v, dtype="Int64")
            v = v.to_numpy(dtype=np.int64) if col.required else v
        cols[col.name] = v
    n = c.n if rows is None else len(rows)
    for col in spec.columns:
        if col.name not in cols and col.kind in ("id", "text", "enum", "currency"):
            # All-missing optional columns, made cheaply (a list of None costs seconds per 10M).
            cols[col.name] = pd.array(pa.nulls(n, pa.large_string()), dtype=STRING)
    canon = set(spec.names)
    for extra in c.text.columns:
        if extra in canon or extra in (SOURCE_COL, LINE_COL):
            continue
        cols[extra] = pd.array(_take(c.text[extra], rows), dtype=STRING)
    return pd.DataFrame(cols, index=pd.RangeIndex(n))


def _accepted_rows(c: Checked) -> np.ndarray | None:
    acc = c.accepted()
    return None if acc.all() else np.flatnonzero(acc)


def _build_ledger(
    checked: dict[str, Checked], tables: dict[str, _Table], rep: str
) -> tuple[Ledger, list[str]]:
    notes: list[str] = []
    frames = {key: _typed_frame(c, _accepted_rows(c)) for key, c in checked.items()}
    if FLAT in frames:
        flat = frames[FLAT]
        customers = frames.get("customers")
        return Ledger.from_flat(flat, reporting_currency=rep, customers=customers), notes
    if "customers" not in frames:
        ids = [
            frames[k]["customer_id"] for k in ("invoices", "payments", "activities") if k in frames
        ]
        if ids:
            derived = pd.concat(
                [pd.Series(i, dtype=STRING) for i in ids], ignore_index=True
            ).dropna()
            frames["customers"] = pd.DataFrame(
                {"customer_id": derived.drop_duplicates().reset_index(drop=True)}
            )
            notes.append("no customers table: customers derived from the customer ids in use")
    return Ledger(**frames, reporting_currency=rep), notes


def _source_infos(raws: dict[str, RawTable], tables: dict[str, _Table]) -> list[dict]:
    which = {s: t.label for t in tables.values() for s in t.sources}
    out = []
    for name, raw in raws.items():
        info = {"source": name, "name": raw.name, "table": which.get(name), "rows": len(raw.frame)}
        info.update({k: v for k, v in raw.info.items() if k not in ("types",)})
        if raw.info.get("types"):
            info["types"] = raw.info["types"]
        out.append(info)
    return out
