"""Find the tables of a source: a ledger folder, a workbook, a database or one flat file.

:func:`open_source` tells the kinds apart and returns a :class:`Source` that
lists what it holds and reads a table on demand, so tables nobody asked for
are never read. Table names found in the source are matched to canonical
tables case-insensitively, or through ``tables={canonical: name}``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from rpmkit.io.excel import open_workbook, read_excel, workbook_problem
from rpmkit.io.parts import combine_parts, part_table
from rpmkit.io.readers import (
    RawTable,
    duckdb_tables,
    file_digest,
    file_problem,
    read_csv,
    read_duckdb,
    read_parquet,
    read_sql,
)
from rpmkit.schema import TABLES

__all__ = ["Source", "open_source"]

TEXT_SUFFIXES = (".csv", ".tsv", ".txt")
PARQUET_SUFFIXES = (".parquet", ".pq")
EXCEL_SUFFIXES = (".xlsx", ".xlsm")
DB_SUFFIXES = (".duckdb", ".db", ".ddb", ".sqlite", ".sqlite3")
TABLE_SUFFIXES = TEXT_SUFFIXES + PARQUET_SUFFIXES + EXCEL_SUFFIXES
LEDGER_META = "ledger.json"
_URL = re.compile(r"^[a-z][a-z0-9+.\-]*://", re.IGNORECASE)


@dataclass
class Source:
    """A source's tables by name, read lazily.

    ``kind`` is ``folder``, ``files``, ``excel``, ``duckdb``, ``sql`` or ``file``;
    ``names`` lists the table names in source order; ``read(name)`` returns a
    :class:`RawTable` (cached); ``flat_default`` names the table read as the
    flat form when no canonical table is present (``None``: there is no such
    default); ``meta`` is the folder's ``ledger.json``.
    """

    kind: str
    display: str
    names: list[str]
    reader: Callable[[str], RawTable]
    flat_default: str | None = None
    meta: dict = field(default_factory=dict)
    info: dict = field(default_factory=dict)
    problems: list[dict] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    closers: list[Callable[[], None]] = field(default_factory=list)
    _cache: dict[str, RawTable] = field(default_factory=dict)

    def read(self, name: str) -> RawTable:
        if name not in self._cache:
            self._cache[name] = self.reader(name)
        return self._cache[name]

    def canonical(self, tables: dict[str, str]) -> dict[str, str]:
        """``{canonical table: source table name}`` for the tables present."""
        lower = {n.lower(): n for n in self.names}
        found: dict[str, str] = {}
        for canon, name in (tables or {}).items():
            if canon not in TABLES:
                continue
            if name in self.names:
                found[canon] = name
            elif str(name).lower() in lower:
                found[canon] = lower[str(name).lower()]
        for canon in TABLES:
            if canon not in found and canon in lower and lower[canon] not in found.values():
                found[canon] = lower[canon]
        return found

    def close(self) -> None:
        for c in self.closers:
            c()


def _display(source) -> str:
    return str(source)


def _masked_url(url: str) -> str:
    try:
        import sqlalchemy as sa

        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except Exception:
        return re.sub(r"//[^@/]*@", "//***@", url)


def open_source(
    source, *, encoding=None, delimiter=None, schema=None, sheet=None, grid: bool = False
) -> Source:
    """Open ``source`` (path, list of flat files or SQLAlchemy URL) and list its tables.

    ``grid=True`` reads text files and sheets without a header: every line is
    a row with positional columns ``c0, c1, …`` (for presets of report exports).
    """
    if isinstance(source, str) and _URL.match(source):
        return _sql_source(source, source, schema)
    if isinstance(source, (list, tuple)):
        return _files_source(list(source), encoding, delimiter, grid)
    path = Path(source)
    display = _display(source)
    if not path.exists():
        return Source(
            "file",
            display,
            [],
            _none,
            problems=[
                file_problem(display, "unreadable_file", f"no such file or folder: {display!r}")
            ],
        )
    if path.is_dir():
        return _folder_source(path, display, encoding, delimiter, grid)
    suffix = path.suffix.lower()
    if suffix in DB_SUFFIXES:
        with open(path, "rb") as f:
            head = f.read(16)
        if head.startswith(b"SQLite format 3"):
            import sqlalchemy as sa

            # A URL object, not text: a file named "x.db?mode=ro" stays a file name.
            url = sa.engine.URL.create("sqlite", database=str(path))
            return _sql_source(url, display, None, path=path)
        return _duckdb_source(path, display)
    if suffix in EXCEL_SUFFIXES:
        return _excel_source(path, display, sheet, grid)
    if suffix in TEXT_SUFFIXES + PARQUET_SUFFIXES:

        def reader(_name: str) -> RawTable:
            return _read_file(path, display, "flat", encoding, delimiter, grid)

        return Source("file", display, ["flat"], reader, flat_default="flat")
    if suffix == ".xls":
        msg = "the old .xls format is not supported; save the workbook as .xlsx"
    else:
        msg = (
            f"unknown file type {suffix or '(no extension)'!r}; expected a folder, "
            ".csv/.tsv/.txt, .parquet, .xlsx, .duckdb/.db or a database URL"
        )
    return Source(
        "file", display, [], _none, problems=[file_problem(display, "unreadable_file", msg)]
    )


def _none(name: str) -> RawTable:  # pragma: no cover - never called on a source with no tables
    raise KeyError(name)


def _read_file(path: Path, display: str, name: str, encoding, delimiter, grid=False) -> RawTable:
    suffix = path.suffix.lower()
    if suffix in PARQUET_SUFFIXES:
        return read_parquet(path, source=display, name=name)
    if suffix in EXCEL_SUFFIXES:
        try:
            wb = open_workbook(path)
        except Exception as exc:
            # A damaged workbook raises whatever zipfile or openpyxl meet first.
            return RawTable(name, display, pd.DataFrame(), [], {}, [workbook_problem(display, exc)])
        try:
            if not wb.sheetnames:
                problem = file_problem(display, "empty_file", "the workbook has no sheets")
                return RawTable(name, display, pd.DataFrame(), [], {}, [problem])
            sha, size = file_digest(path)
            return read_excel(
                wb,
                wb.sheetnames[0],
                path_source=display,
                name=name,
                info={"path": display, "sha256": sha, "bytes": size},
                grid=grid,
            )
        finally:
            wb.close()
    return read_csv(
        path, source=display, name=name, encoding=encoding, delimiter=delimiter, grid=grid
    )


def _folder_source(path: Path, display: str, encoding, delimiter, grid) -> Source:
    files: dict[str, Path] = {}
    parts: dict[str, list[Path]] = {}
    problems: list[dict] = []
    ignored: list[str] = []
    meta: dict = {}
    for f in sorted(path.iterdir()):
        if f.name.startswith("."):
            continue
        if f.name == LEDGER_META:
            try:
                meta = json.loads(f.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                problems.append(
                    file_problem(
                        _join(display, f.name),
                        "unreadable_file",
                        f"ledger.json is not valid JSON: {exc}",
                    )
                )
                continue
            if (
                meta.get("format", "rpmkit-ledger") != "rpmkit-ledger"
                or meta.get("version", 1) != 1
            ):
                problems.append(
                    file_problem(
                        _join(display, f.name),
                        "unreadable_file",
                        f"ledger.json declares format {meta.get('format')!r} version "
                        f"{meta.get('version')!r}; this rpmkit reads rpmkit-ledger version 1",
                    )
                )
            continue
        if f.is_file() and f.suffix.lower() in TABLE_SUFFIXES:
            stem = f.stem
            table = part_table(stem)
            if table is not None:
                parts.setdefault(table, []).append(f)
                continue
            if stem in files:
                problems.append(
                    file_problem(
                        _join(display, f.name),
                        "duplicate_table",
                        f"both {files[stem].name} and {f.name} provide table {stem!r}; keep one",
                        table=stem,
                    )
                )
                continue
            files[stem] = f
        else:
            ignored.append(f.name)

    # Parts (invoices_2024-01.csv ...) join the file named like their table, if any.
    groups: dict[str, list[Path]] = {stem: [f] for stem, f in files.items()}
    for table, found in parts.items():
        whole = next((stem for stem in groups if stem.lower() == table), None)
        groups.setdefault(whole or table, []).extend(found)

    def reader(name: str) -> RawTable:
        read = [
            _read_file(f, _join(display, f.name), name, encoding, delimiter, grid)
            for f in groups[name]
        ]
        return combine_parts(read, name=name, source=_join(display, name))

    return Source("folder", display, list(groups), reader, None, meta, {}, problems, ignored)


def _files_source(paths: list, encoding, delimiter, grid) -> Source:
    """A list of flat files: the parts of one flat table (monthly exports, re-sent files)."""
    unique: list[Path] = []
    problems: list[dict] = []
    ignored: list[str] = []
    for p in paths:
        path = Path(p)
        if not path.is_file():
            msg = f"not a file: {str(p)!r}"
            problems.append(file_problem(str(p), "unreadable_file", msg))
        elif path.suffix.lower() not in TEXT_SUFFIXES + PARQUET_SUFFIXES + EXCEL_SUFFIXES:
            msg = f"a list of files takes flat .csv/.tsv/.txt/.parquet/.xlsx files, not {p}"
            problems.append(file_problem(str(p), "unreadable_file", msg))
        elif any(path.resolve() == u.resolve() for u in unique):
            # The same path twice is read once: its rows would only repeat themselves.
            ignored.append(f"{p} (given twice; read once)")
        else:
            unique.append(path)
    display = " + ".join(str(p) for p in unique) or "(no files)"
    if not paths:
        problems.append(file_problem(display, "missing_table", "the list of files is empty"))
    if problems:
        return Source("files", display, [], _none, problems=problems)

    def reader(name: str) -> RawTable:
        read = [_read_file(p, _display(p), name, encoding, delimiter, grid) for p in unique]
        return combine_parts(read, name=name, source=display)

    return Source("files", display, ["flat"], reader, flat_default="flat", ignored=ignored)


def _join(folder: str, name: str) -> str:
    return f"{folder.rstrip('/')}/{name}"


def _excel_source(path: Path, display: str, sheet: str | None, grid: bool) -> Source:
    try:
        wb = open_workbook(path)
    except Exception as exc:
        # A damaged workbook raises whatever zipfile or openpyxl meet first.
        return Source("excel", display, [], _none, problems=[workbook_problem(display, exc)])
    sha, size = file_digest(path)
    info = {"path": display, "sha256": sha, "bytes": size}
    names = list(wb.sheetnames)
    flat = sheet if sheet is not None else (names[0] if names else None)
    problems = []
    if sheet is not None and sheet not in names:
        problems.append(
            file_problem(
                display, "missing_table", f"no sheet {sheet!r}; sheets are: {', '.join(names)}"
            )
        )
        flat = None

    def reader(name: str) -> RawTable:
        return read_excel(wb, name, path_source=display, name=name, info=info, grid=grid)

    return Source(
        "excel", display, names, reader, flat, info=info, problems=problems, closers=[wb.close]
    )


def _duckdb_source(path: Path, display: str) -> Source:
    import duckdb

    try:
        con = duckdb.connect(str(path), read_only=True)
        pairs = duckdb_tables(con)
    except duckdb.Error as exc:
        return Source(
            "duckdb",
            display,
            [],
            _none,
            problems=[file_problem(display, "unreadable_file", f"cannot open as DuckDB: {exc}")],
        )
    sha, size = file_digest(path)
    info = {"path": display, "sha256": sha, "bytes": size}

    # Names as shown (schema.table outside main) to (schema, table) as the database lists them.
    listed = {(t if sch == "main" else f"{sch}.{t}"): (sch, t) for sch, t in pairs}
    names = list(listed)

    def reader(name: str) -> RawTable:
        try:
            return read_duckdb(con, listed[name], db_source=display, name=name, info=info)
        except (duckdb.Error, ValueError) as exc:
            problem = file_problem(
                f"{display}#{name}", "unreadable_file", f"cannot read table {name!r}: {exc}"
            )
            return RawTable(name, f"{display}#{name}", pd.DataFrame(), [], info, [problem])

    meta: dict = {}
    if "ledger_meta" in names:
        # What rpmkit.writers.write_duckdb records beside the tables (reporting currency).
        try:
            rows = con.table('"ledger_meta"').fetchall()
            meta = {str(k): str(v) for k, v in rows}
        except Exception:
            meta = {}
        names = [n for n in names if n != "ledger_meta"]
    flat = names[0] if len(names) == 1 else None
    return Source("duckdb", display, names, reader, flat, meta=meta, info=info, closers=[con.close])


def _sql_source(url, display: str, schema: str | None, path: Path | None = None) -> Source:
    import sqlalchemy as sa

    shown = _masked_url(url) if path is None else display
    try:
        engine = sa.create_engine(url)
        insp = sa.inspect(engine)
        if schema is not None and schema not in insp.get_schema_names():
            # A schema is an identifier from the user: only one the database lists is used.
            schemas = ", ".join(map(repr, insp.get_schema_names()))
            engine.dispose()
            msg = f"the database has no schema {schema!r}; its schemas are: {schemas}"
            return Source(
                "sql", shown, [], _none, problems=[file_problem(shown, "missing_table", msg)]
            )
        names = insp.get_table_names(schema=schema)
    except Exception as exc:
        return Source(
            "sql",
            shown,
            [],
            _none,
            problems=[file_problem(shown, "unreadable_file", f"cannot open the database: {exc}")],
        )
    info: dict = {"url": shown}
    if path is not None:
        sha, size = file_digest(path)
        info.update({"path": display, "sha256": sha, "bytes": size})

    def reader(name: str) -> RawTable:
        try:
            return read_sql(engine, name, schema=schema, db_source=shown, name=name, info=info)
        except (sa.exc.SQLAlchemyError, ValueError) as exc:
            problem = file_problem(
                f"{shown}#{name}", "unreadable_file", f"cannot read table {name!r}: {exc}"
            )
            return RawTable(name, f"{shown}#{name}", pd.DataFrame(), [], info, [problem])

    flat = names[0] if len(names) == 1 else None
    return Source("sql", shown, list(names), reader, flat, info=info, closers=[engine.dispose])
