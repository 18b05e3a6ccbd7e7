"""Byte-fuzz the CSV, Excel and Parquet loaders: only ``LoadError`` or a result may come out.

Valid seed files (built here, deterministic) are damaged by Hypothesis-drawn
mutations: bit flips, truncation, inserted and deleted bytes, swapped
delimiters and quotes, re-encoding, zip-level damage for ``.xlsx`` (members
dropped, duplicated, stored, their XML mutated, the central directory cut)
and footer damage for Parquet. Each damaged file is loaded with
:func:`rpmkit.io.load` in a worker thread with a deadline: anything but a
:class:`~rpmkit.io.LoadError` or a :class:`~rpmkit.io.LoadResult` is a
crash, a load using more than 5 s of CPU (or still running a minute later)
a hang. Failing inputs are written to
``--save`` (default: a new temporary folder) so they can become regression files.

The short run is ``tests/test_fuzz_loaders.py`` (part of the normal suite);
the long run is one command::

    python fuzz/loaders.py --minutes 10

It prints, per format, the examples run, the slowest load and any failures,
and exits non-zero when it found one.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import sys
import tempfile
import threading
import time
import traceback
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import strategies as st

DEADLINE = 5.0
FORMATS = ("csv", "xlsx", "parquet")
HEADER = "invoice_id,customer_id,invoice_date,due_date,amount,currency,paid_date"


# --------------------------------------------------------------------------- seeds
def csv_seed() -> bytes:
    rows = [
        HEADER + ",note",
        "A1,C1,2024-01-05,2024-02-04,100.00,USD,2024-02-01,plain",
        'A2,C1,2024-01-09,2024-02-08,"1,250.50",USD,,"quoted, ""comma"""',
        "A3,C2,05/02/2024,2024-03-02,1000,EUR,2024-03-10,Müller",
        "A3,C2,05/02/2024,2024-03-02,1000,EUR,2024-03-10,Müller",
        "1234567890123456,C3,2024-02-01,2024-01-02,12,JPY,,=SUM(A1)",
        "Total,,,,2362.50,,,",
    ]
    return ("\r\n".join(rows) + "\r\n").encode("utf-8")


def xlsx_seed() -> bytes:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "AR"
    ws.append(HEADER.split(","))
    ws.append(["A1", "C1", dt.date(2024, 1, 5), dt.date(2024, 2, 4), 100.5, "USD", None])
    ws.append(["A2", 777, 45296, dt.date(2024, 2, 4), 10, "USD", dt.date(2024, 2, 1)])
    ws.append(["A3", "C2", dt.datetime(2024, 1, 5, 9), "x", "#N/A", "EUR", None])
    ws.append(["Grand total", None, None, None, 110.5, None, None])
    wb.create_sheet("Notes").append(["free text", 1.5])
    wb.properties.created = wb.properties.modified = dt.datetime(2024, 1, 1)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def parquet_seed() -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table(
        {
            "invoice_id": ["A1", "A2", "A3", None],
            "customer_id": pa.array([1, 2, 2, 3], pa.int64()),
            "invoice_date": pa.array([dt.date(2024, 1, d) for d in (5, 6, 7, 8)], pa.date32()),
            "due_date": pa.array(
                [dt.datetime(2024, 2, d) for d in (4, 5, 1, 9)], pa.timestamp("us")
            ),
            "amount": pa.array([10.5, 0.1, -3.0, 1e20], pa.float64()),
            "currency": pa.array(["USD", "USD", "EUR", "XXX"]).dictionary_encode(),
            "paid_date": pa.array([None, dt.date(2024, 2, 1), None, None], pa.date32()),
        }
    )
    buf = io.BytesIO()
    pq.write_table(table, buf, row_group_size=2)
    return buf.getvalue()


SEEDS = {"csv": csv_seed, "xlsx": xlsx_seed, "parquet": parquet_seed}


# --------------------------------------------------------------------------- mutations
def _at(data: bytes, pos: int) -> int:
    return pos % (len(data) + 1)


def bit_flip(data: bytes, pos: int, bit: int) -> bytes:
    if not data:
        return data
    i = pos % len(data)
    return data[:i] + bytes([data[i] ^ (1 << bit)]) + data[i + 1 :]


def truncate(data: bytes, pos: int) -> bytes:
    return data[: _at(data, pos)]


def insert(data: bytes, pos: int, chunk: bytes) -> bytes:
    i = _at(data, pos)
    return data[:i] + chunk + data[i:]


def delete(data: bytes, pos: int, n: int) -> bytes:
    i = _at(data, pos)
    return data[:i] + data[i + n :]


def repeat(data: bytes, pos: int, n: int, times: int) -> bytes:
    i = _at(data, pos)
    return data[:i] + data[i : i + n] * times + data[i:]


def swap(data: bytes, old: bytes, new: bytes) -> bytes:
    return data.replace(old, new)


def reencode(data: bytes, encoding: str) -> bytes:
    text = data.decode("utf-8", errors="replace")
    return text.encode(encoding, errors="replace")


# Interesting bytes for text formats: separators, quotes, line ends, BOMs, NULs, broken UTF-8.
TOKENS = [
    b",", b";", b"\t", b"|", b'"', b"'", b"\r", b"\n", b"\r\n", b"\x00", b"\xef\xbb\xbf",
    b"\xff\xfe", b"\xfe\xff", b"\xc3", b"\xe2\x82", b"\x80", b"=", b"1e308", b"-0", b"NaN",
    b"9" * 40, b"31/12/9999", b"0000-00-00", b"#REF!", b"Total", b'"' * 3, b"\\",
]  # fmt: skip
SWAPS = [(b",", b";"), (b",", b"\t"), (b'"', b"'"), (b"\n", b"\r"), (b"\r\n", b"\n"),
         (b".", b","), (b"-", b"/"), (b",", b""), (b'"', b"")]  # fmt: skip
ENCODINGS = ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "cp1252", "latin-1", "utf-7", "cp500"]


def _byte_ops(max_pos: int = 1 << 16):
    pos = st.integers(0, max_pos)
    return st.one_of(
        st.tuples(st.just("bit_flip"), pos, st.integers(0, 7)),
        st.tuples(st.just("truncate"), pos),
        st.tuples(
            st.just("insert"),
            pos,
            st.one_of(st.sampled_from(TOKENS), st.binary(min_size=1, max_size=16)),
        ),
        st.tuples(st.just("delete"), pos, st.integers(1, 64)),
        st.tuples(st.just("repeat"), pos, st.integers(1, 64), st.integers(2, 50)),
    )


def _text_ops():
    return st.one_of(
        _byte_ops(),
        st.tuples(st.just("swap"), st.sampled_from(SWAPS)),
        st.tuples(st.just("reencode"), st.sampled_from(ENCODINGS)),
    )


def apply_op(data: bytes, op: tuple) -> bytes:
    kind, *args = op
    if kind == "swap":
        return swap(data, *args[0])
    if kind == "reencode":
        return reencode(data, args[0])
    return globals()[kind](data, *args)


def _zip_members(data: bytes) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return [(i.filename, z.read(i.filename)) for i in z.infolist()]


def _zip(members: list[tuple[str, bytes]], stored: bool = False) -> bytes:
    buf = io.BytesIO()
    method = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    with warnings.catch_warnings(), zipfile.ZipFile(buf, "w", method) as z:
        warnings.simplefilter("ignore")  # duplicate member names are the point
        for name, body in members:
            z.writestr(zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0)), body, method)
    return buf.getvalue()


def zip_op(data: bytes, op: tuple) -> bytes:
    """Zip-level damage of a workbook: members dropped, duplicated, mutated, or the archive cut."""
    kind, *args = op
    if kind == "raw":
        return apply_op(data, args[0])
    members = _zip_members(data)
    i = args[0] % len(members)
    if kind == "drop":
        del members[i]
    elif kind == "duplicate":
        members.insert(i, members[i])
    elif kind == "member":
        name, body = members[i]
        members[i] = (name, apply_op(body, args[1]))
    elif kind == "rename":
        name, body = members[i]
        members[i] = (args[1] + name, body)
    elif kind == "stored":
        return _zip(members, stored=True)
    elif kind == "cut_directory":
        return data[: max(0, len(data) - 22 - args[0] % 200)] + data[-22:]
    return _zip(members)


def _xlsx_ops():
    member = st.integers(0, 20)
    xml = st.one_of(
        _byte_ops(1 << 12),
        st.tuples(
            st.just("insert"),
            st.integers(0, 1 << 12),
            st.sampled_from(
                [
                    b'<dimension ref="A1:XFD1048576"/>',
                    b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>',
                    b'<c r="B2" t="s"><v>999999</v></c>',
                    b'<c r="C2" t="e"><v>#DIV/0!</v></c>',
                    b'<c r="C2" s="99"><v>1e308</v></c>',
                    b'<c r="C2" t="d"><v>not a date</v></c>',
                    b'<c r="C2"><f>A1+1</f></c>',
                    b'<mergeCell ref="A1:C1"/>',
                    b'<workbookPr date1904="1"/>',
                    b'<!DOCTYPE x [<!ENTITY a "aaaa">]>',
                ]
            ),
        ),
    )
    return st.one_of(
        st.tuples(st.just("raw"), _byte_ops()),
        st.tuples(st.just("drop"), member),
        st.tuples(st.just("duplicate"), member),
        st.tuples(st.just("member"), member, xml),
        st.tuples(st.just("rename"), member, st.sampled_from(["/", "../", "x", "xl/../"])),
        st.tuples(st.just("stored")),
        st.tuples(st.just("cut_directory"), st.integers(0, 400)),
    )


def footer_op(data: bytes, op: tuple) -> bytes:
    """Parquet damage aimed at the footer (metadata length, thrift, magic) or anywhere."""
    kind, *args = op
    if kind == "footer":
        # The footer is the last few hundred bytes: flip inside it.
        back = args[0] % min(len(data), 1024) + 1
        return bit_flip(data, len(data) - back, args[1])
    if kind == "footer_len":
        n = args[0].to_bytes(4, "little", signed=False)
        return data[:-8] + n + data[-4:]
    if kind == "magic":
        return data[:-4] + args[0]
    return apply_op(data, args[0])


def _parquet_ops():
    return st.one_of(
        st.tuples(st.just("footer"), st.integers(0, 1 << 12), st.integers(0, 7)),
        st.tuples(st.just("footer_len"), st.integers(0, 2**32 - 1)),
        st.tuples(st.just("magic"), st.sampled_from([b"PAR1", b"PARE", b"\x00\x00\x00\x00"])),
        st.tuples(st.just("any"), _byte_ops()),
    )


OPS = {
    "csv": (_text_ops, apply_op),
    "xlsx": (_xlsx_ops, zip_op),
    "parquet": (_parquet_ops, footer_op),
}


def mutations(fmt: str, max_ops: int = 4):
    """A strategy of mutation lists for ``fmt`` (``csv``, ``xlsx``, ``parquet``)."""
    return st.lists(OPS[fmt][0](), min_size=1, max_size=max_ops)


def mutate(fmt: str, seed: bytes, ops: list[tuple]) -> bytes:
    """``seed`` with every op of ``ops`` applied in turn (a damaged zip stays damaged)."""
    data = seed
    apply = OPS[fmt][1]
    for op in ops:
        try:
            data = apply(data, op)
        except Exception:
            # A zip op on an archive an earlier op broke: fall back to byte damage.
            data = apply_op(data, ("bit_flip", len(ops), 1))
    return data


# --------------------------------------------------------------------------- checking
@dataclass
class Outcome:
    """One load: ``kind`` is ``result``, ``load_error``, ``crash`` or ``hang``; CPU and wall s."""

    kind: str
    seconds: float
    detail: str = ""
    wall: float = 0.0


def load_bytes(
    data: bytes, suffix: str, deadline: float = DEADLINE, grace: float = 12.0
) -> Outcome:
    """Load ``data`` written to a file with ``suffix`` in a worker thread, against ``deadline``.

    A load is a hang when it uses more than ``deadline`` seconds of CPU, or is
    still running ``grace`` times the deadline later. CPU time (of the loading
    thread) rather than wall time decides, so a loaded shared machine does not
    turn slow-but-finite loads into findings; ``Outcome.seconds`` is that CPU
    time and ``Outcome.wall`` the elapsed time.
    """
    from rpmkit.io import LoadError, LoadResult, load

    box: dict = {}
    folder = Path(tempfile.mkdtemp(prefix="rpmkit-fuzz-"))
    path = folder / f"input{suffix}"
    path.write_bytes(data)

    def run() -> None:
        cpu = time.thread_time()
        try:
            box["value"] = load(path)
        except LoadError as exc:
            box["error"] = exc
        except BaseException as exc:
            box["crash"] = "".join(traceback.format_exception(exc))
        finally:
            box["cpu"] = time.thread_time() - cpu

    start = time.perf_counter()
    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(deadline)
    if worker.is_alive():
        worker.join(deadline * grace)
    wall = time.perf_counter() - start
    try:
        if worker.is_alive():
            return Outcome("hang", wall, f"still running after {wall:.0f} s", wall)
        cpu = box["cpu"]
        if cpu > deadline:
            return Outcome("hang", cpu, f"took {cpu:.1f} s of CPU (deadline {deadline} s)", wall)
        if "crash" in box:
            return Outcome("crash", cpu, box["crash"], wall)
        if "error" in box:
            problems = box["error"].problems
            if not problems or not all(p.get("reason") and p.get("message") for p in problems):
                return Outcome("crash", cpu, f"LoadError without reasons: {problems!r}", wall)
            reasons = ",".join(sorted(set(box["error"].reasons)))
            return Outcome("load_error", cpu, reasons, wall)
        result = box["value"]
        if not isinstance(result, LoadResult) or not result.manifest.reconciled:
            return Outcome("crash", cpu, "result does not reconcile", wall)
        return Outcome("result", cpu, f"{len(result.rejects)} rejects", wall)
    finally:
        if not worker.is_alive():
            path.unlink(missing_ok=True)
            folder.rmdir()


# --------------------------------------------------------------------------- long run
@dataclass
class Tally:
    examples: int = 0
    kinds: dict = field(default_factory=dict)
    slowest: float = 0.0
    slowest_ops: list = field(default_factory=list)
    slowest_wall: float = 0.0
    failures: list = field(default_factory=list)


def fuzz(fmt: str, seconds: float, save: Path | None, tally: Tally) -> None:
    """Draw and load mutated ``fmt`` files for ``seconds``, recording into ``tally``."""
    from hypothesis import HealthCheck, given, settings

    seed = SEEDS[fmt]()
    stop = time.monotonic() + seconds

    # Findings are recorded, not raised, so Hypothesis never shrinks; batches run until time is up.
    @settings(
        max_examples=100, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(ops=mutations(fmt))
    def batch(ops):
        if time.monotonic() > stop:
            return
        data = mutate(fmt, seed, ops)
        out = load_bytes(data, "." + fmt)
        tally.examples += 1
        tally.kinds[out.kind] = tally.kinds.get(out.kind, 0) + 1
        tally.slowest_wall = max(tally.slowest_wall, out.wall)
        if out.seconds > tally.slowest:
            tally.slowest, tally.slowest_ops = out.seconds, ops
        if out.kind in ("crash", "hang"):
            name = f"{fmt}-{out.kind}-{len(tally.failures)}.{fmt}"
            tally.failures.append((name, out.detail.strip().splitlines()[-1:], ops))
            if save is not None:
                save.mkdir(parents=True, exist_ok=True)
                (save / name).write_bytes(data)

    while time.monotonic() < stop:
        batch()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="total run time")
    parser.add_argument("--formats", default=",".join(FORMATS), help="csv,xlsx,parquet")
    parser.add_argument(
        "--save", type=Path, default=None, help="folder for failing inputs (default: a temp dir)"
    )
    parser.add_argument("--verbose", action="store_true", help="print the slowest input's ops")
    args = parser.parse_args(argv)
    formats = [f for f in args.formats.split(",") if f]
    unknown = set(formats) - set(FORMATS)
    if unknown:
        parser.error(f"unknown formats: {', '.join(sorted(unknown))}")
    save = args.save or Path(tempfile.mkdtemp(prefix="rpmkit-fuzz-findings-"))
    found = 0
    for fmt in formats:
        tally = Tally()
        fuzz(fmt, args.minutes * 60 / len(formats), save, tally)
        kinds = ", ".join(f"{k} {v}" for k, v in sorted(tally.kinds.items()))
        print(
            f"{fmt}: {tally.examples} examples ({kinds}); slowest load "
            f"{tally.slowest:.2f} s CPU ({tally.slowest_wall:.2f} s wall, shared machine)"
        )
        if args.verbose:
            print(f"  slowest: ops={tally.slowest_ops!r}")
        for name, last, ops in tally.failures:
            print(f"  FAIL {name}: {' '.join(last)}  ops={ops!r}")
        found += len(tally.failures)
    print("failures:", found, f"(inputs saved in {save})" if found else "")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
