"""Write the bad-input corpus: small files that each break loading in one named way.

Run from anywhere: ``python tests/data/bad/make_corpus.py``. The files are
committed with this script; ``cases.yaml`` beside them (written by hand, not
by this script) says what loading each one must give: the LoadError reasons,
or the exact (table, line, reason) rejects and the control totals.

Every file is deterministic (fixed workbook timestamps), so re-running the
script reproduces the committed bytes.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

HERE = Path(__file__).resolve().parent
FLAT = "invoice_id,customer_id,invoice_date,due_date,amount,currency,paid_date"
FIXED_TIME = dt.datetime(2024, 1, 1)


def text(name: str, lines: list[str], *, encoding: str = "utf-8", newline: str = "\n") -> None:
    (HERE / name).write_bytes((newline.join(lines) + newline).encode(encoding))


def raw(name: str, data: bytes) -> None:
    (HERE / name).write_bytes(data)


def folder(name: str, files: dict[str, list[str]]) -> None:
    d = HERE / name
    d.mkdir(exist_ok=True)
    for f, lines in files.items():
        (d / f).write_text("\n".join(lines) + "\n", encoding="utf-8")


def workbook(name: str, sheets: dict[str, list[list]], *, epoch_1904: bool = False) -> None:
    import openpyxl
    from openpyxl.utils.datetime import CALENDAR_MAC_1904

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    if epoch_1904:
        wb.epoch = CALENDAR_MAC_1904
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
    wb.properties.created = FIXED_TIME
    wb.properties.modified = FIXED_TIME
    path = HERE / name
    wb.save(path)
    _fix_zip_times(path)


def _fix_zip_times(path: Path) -> None:
    """Rewrite a zip with fixed member timestamps so the bytes do not depend on the clock."""
    import re
    import zipfile

    with zipfile.ZipFile(path) as z:
        members = [(i.filename, z.read(i.filename)) for i in z.infolist()]
    # openpyxl stamps the save time into the document properties; pin it too.
    members = [
        (
            name,
            re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>2024-01-01T00:00:00Z", data)
            if name == "docProps/core.xml"
            else data,
        )
        for name, data in members
    ]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)


def main() -> None:
    # ------------------------------------------------------------ file level
    raw("empty.csv", b"")
    text("header_only.csv", [FLAT])
    text("only_blank_rows.csv", [FLAT, "", ",,,,,,", ""])
    text(
        "missing_column.csv",
        [
            "invoice_id,customer_id,invoice_date,Dew Date,amount",
            "A1,C1,2024-01-05,2024-02-04,10.00",
        ],
    )
    text(
        "duplicate_header.csv",
        [FLAT + ",amount", "A1,C1,2024-01-05,2024-02-04,10.00,USD,,10.00"],
    )
    text(
        "missing_and_duplicate.csv",
        ["invoice_id,invoice_id,invoice_date,due_date,amount", "A1,A1,2024-01-05,2024-02-04,1.00"],
    )
    raw("not_really.xlsx", b"this is not a workbook\n")

    # ------------------------------------------------------------ encodings, delimiters
    text(
        "good_basic.csv",
        [
            FLAT,
            "A1,C1,2024-01-05,2024-02-04,100.00,USD,2024-02-01",
            "A2,C1,2024-01-09,2024-02-08,250.50,USD,",
            "A3,C2,2024-02-01,2024-03-02,1000,USD,2024-03-10",
        ],
    )
    text(
        "latin1.csv",
        [
            FLAT + ",customer_name",
            "A1,C1,2024-01-05,2024-02-04,10.00,EUR,,Société Générale",
            "A2,C2,2024-01-06,2024-02-05,20.00,EUR,,Müller – Bäckerei",
        ],
        encoding="cp1252",
    )
    raw(
        "utf8_bom.csv",
        b"\xef\xbb\xbf"
        + "\n".join([FLAT, "A1,C1,2024-01-05,2024-02-04,10.00,USD,", ""]).encode("utf-8"),
    )
    text(
        "utf16_tab.txt",
        [
            FLAT.replace(",", "\t"),
            "A1\tC1\t2024-01-05\t2024-02-04\t10.00\tJPY\t",
            "A2\tC1\t2024-01-05\t2024-02-04\t12.5\tJPY\t",
        ],
        encoding="utf-16",
    )
    text(
        "semicolon_decimal_comma.csv",
        [
            FLAT.replace(",", ";"),
            "A1;C1;2024-01-05;2024-02-04;1.234,50;EUR;",
            "A2;C1;2024-01-06;2024-02-05;99,99;EUR;2024-02-01",
        ],
    )
    text(
        "decimal_comma_undeclared.csv",
        [
            FLAT.replace(",", ";"),
            "A1;C1;2024-01-05;2024-02-04;12,50;EUR;",
            "A2;C1;2024-01-06;2024-02-05;1.234,50;EUR;",
            "A3;C1;2024-01-07;2024-02-06;7;EUR;",
        ],
    )
    text(
        "pipe.txt",
        [
            FLAT.replace(",", "|"),
            "A1|C1|2024-01-05|2024-02-04|10.00|USD|",
            "A2|C1|2024-01-05|2024-01-04|5.00|USD|",
        ],
    )
    text(
        "tabs.tsv",
        [FLAT.replace(",", "\t"), "A1\tC1\t2024-01-05\t2024-02-04\t10.00\tGBP\t"],
    )
    text(
        "crlf.csv",
        [FLAT, "A1,C1,2024-01-05,2024-02-04,10.00,USD,", "A2,C1,2024-01-05,2024-02-04,x,USD,"],
        newline="\r\n",
    )

    # ------------------------------------------------------------ amounts
    text(
        "amounts_bad.csv",
        [
            FLAT,
            "A1,C1,2024-01-05,2024-02-04,$100.00,USD,",
            "A2,C1,2024-01-05,2024-02-04,abc,USD,",
            "A3,C1,2024-01-05,2024-02-04,12.345,USD,",
            'A4,C1,2024-01-05,2024-02-04,"1,234",USD,',
            "A5,C1,2024-01-05,2024-02-04,1.5E+3,USD,",
            "A6,C1,2024-01-05,2024-02-04,,USD,",
            "A7,C1,2024-01-05,2024-02-04,0,USD,",
            "A8,C1,2024-01-05,2024-02-04,-5.00,USD,",
            'A9,C1,2024-01-05,2024-02-04,"1,234.50",USD,',
            "A10,C1,2024-01-05,2024-02-04,10.5,JPY,",
            "A11,C1,2024-01-05,2024-02-04,10.005,KWD,",
        ],
    )
    text(
        "unknown_currency.csv",
        [
            FLAT,
            "A1,C1,2024-01-05,2024-02-04,10.00,XYZ,",
            "A2,C1,2024-01-05,2024-02-04,10.00,usd,",
            "A3,C1,2024-01-05,2024-02-04,10.00,,",
            "A4,C1,2024-01-05,2024-02-04,10.00,EUR,",
        ],
    )
    text(
        "currency_constant.csv",
        [
            "invoice_id,customer_id,invoice_date,due_date,amount",
            "A1,C1,2024-01-05,2024-02-04,10.00",
            "A2,C1,2024-01-05,2024-02-04,0.5",
        ],
    )

    # ------------------------------------------------------------ dates
    text(
        "ambiguous_dates.csv",
        [
            FLAT,
            "A1,C1,03/04/2024,05/05/2024,10.00,USD,",
            "A2,C1,05/05/2024,06/06/2024,10.00,USD,",
            "A3,C1,2024-01-05,2024-02-04,10.00,USD,",
        ],
    )
    text(
        "dates_dmy.csv",
        [
            FLAT,
            "A1,C1,25/03/2024,24/04/2024,10.00,USD,",
            "A2,C1,03/04/2024,03/05/2024,20.00,USD,05/04/2024",
        ],
    )
    text(
        "dates_mdy.csv",
        [
            FLAT,
            "A1,C1,03/25/2024,04/24/2024,10.00,USD,",
            "A2,C1,03/04/2024,04/03/2024,20.00,USD,",
        ],
    )
    text(
        "dates_declared.csv",
        [
            FLAT,
            "A1,C1,05.01.2024,04.02.2024,10.00,USD,",
            "A2,C1,2024-01-05,04.02.2024,10.00,USD,",
            "A3,C1,5 Jan 2024,04.02.2024,10.00,USD,",
        ],
    )
    text(
        "dates_mixed_orders.csv",
        [
            FLAT,
            "A1,C1,25/03/2024,2024-05-01,10.00,USD,",
            "A2,C1,03/25/2024,2024-05-01,10.00,USD,",
            "A3,C1,03/04/2024,2024-05-01,10.00,USD,",
            "A4,C1,04/04/2024,2024-05-01,10.00,USD,",
        ],
    )
    text(
        "dates_bad.csv",
        [
            FLAT,
            "A1,C1,2024-02-30,2024-03-30,10.00,USD,",
            "A2,C1,yesterday,2024-03-30,10.00,USD,",
            "A3,C1,2024-13-01,2024-03-30,10.00,USD,",
            "A4,C1,2024-01-05,,10.00,USD,",
        ],
    )
    text(
        "excel_serial.csv",
        [FLAT, "A1,C1,45296,45326,10.00,USD,", "A2,C1,2024-01-05,2024-02-04,10.00,USD,"],
    )
    text(
        "excel_serial_declared.csv",
        [FLAT, "A1,C1,45296,45326,10.00,USD,", "A2,C1,2024-01-05,2024-02-04,10.00,USD,45300"],
    )
    text(
        "date_with_time.csv",
        [
            FLAT,
            "A1,C1,2024-01-05 13:45:00,2024-02-04,10.00,USD,",
            "A2,C1,2024-01-05 00:00:00,2024-02-04,10.00,USD,",
            "A3,C1,2024-01-05T00:00,2024-02-04,10.00,USD,",
        ],
    )
    text(
        "due_before_invoice.csv",
        [FLAT, "A1,C1,2024-02-05,2024-02-04,10.00,USD,", "A2,C1,2024-02-05,2024-02-05,10.00,USD,"],
    )
    text(
        "paid_before_invoice.csv",
        [
            FLAT,
            "A1,C1,2024-02-05,2024-03-04,10.00,USD,2024-02-01",
            "A2,C1,2024-02-05,2024-03-04,10.00,USD,2024-02-05",
        ],
    )

    # ------------------------------------------------------------ ids and keys
    text(
        "ids_float.csv",
        [
            FLAT,
            "12345.0,C1,2024-01-05,2024-02-04,10.00,USD,",
            "A2,1.2E+5,2024-01-05,2024-02-04,10.00,USD,",
            "12345678901234567.0,C1,2024-01-05,2024-02-04,10.00,USD,",
            "00123,C1,2024-01-05,2024-02-04,10.00,USD,",
        ],
    )
    text(
        "duplicates_exact.csv",
        [
            FLAT,
            "A1,C1,2024-01-05,2024-02-04,10.00,USD,",
            "A2,C1,2024-01-05,2024-02-04,20.00,USD,",
            "A1,C1,2024-01-05,2024-02-04,10.00,USD,",
        ],
    )
    text(
        "duplicates_conflict.csv",
        [
            FLAT,
            "A1,C1,2024-01-05,2024-02-04,10.00,USD,",
            "A2,C1,2024-01-05,2024-02-04,20.00,USD,",
            "A1,C1,2024-01-05,2024-02-04,11.00,USD,",
            "A1,C1,2024-01-05,2024-02-04,11.00,USD,",
        ],
    )
    text(
        "missing_values.csv",
        [FLAT, ",C1,2024-01-05,2024-02-04,10.00,USD,", "A2,,2024-01-05,2024-02-04,10.00,USD,"],
    )

    # ------------------------------------------------------------ rows
    text(
        "totals_row.csv",
        [
            FLAT,
            "A1,C1,2024-01-05,2024-02-04,10.00,USD,",
            "A2,C1,2024-01-05,2024-02-04,20.00,USD,",
            ",,,,30.00,,",
            "Grand total,,,,30.00,USD,",
        ],
    )
    text(
        "wrong_field_count.csv",
        [
            FLAT,
            "A1,C1,2024-01-05,2024-02-04,10.00,USD,",
            "A2,C1,2024-01-05,2024-02-04,1,000.00,USD,",
            "A3,C1,2024-01-05",
            "A4,C1,2024-01-05,2024-02-04,40.00,USD,",
        ],
    )
    text(
        "blank_lines.csv",
        [
            FLAT,
            "A1,C1,2024-01-05,2024-02-04,10.00,USD,",
            "",
            "",
            "A2,C1,2024-01-05,2024-02-04,oops,USD,",
        ],
    )
    text(
        "quoted_newline.csv",
        [
            FLAT + ",note",
            'A1,C1,2024-01-05,2024-02-04,10.00,USD,,"two',
            'lines"',
            "A2,C1,2024-01-05,2024-02-04,-1,USD,,plain",
        ],
    )
    text(
        "formula_injection.csv",
        [
            FLAT + ",note",
            "=HYPERLINK(1),C1,2024-01-05,2024-02-04,10.00,USD,,+cmd",
            "A2,@SUM(A1),2024-01-05,2024-02-04,bad,USD,,-1",
        ],
    )

    # ------------------------------------------------------------ columns
    text(
        "synonym_headers.csv",
        [
            "Invoice No,Cust No,Doc Date,Net due date,Invoice Amount,Curr,Settled Date,Region",
            "A1,C1,2024-01-05,2024-02-04,10.00,USD,2024-01-20,North",
            "A2,C2,2024-01-05,2024-02-04,20.00,USD,,South",
        ],
    )
    text(
        "mapped_headers.csv",
        [
            "Ref,Debtor,Issued,Payable by,Gross,Ccy",
            "A1,C1,2024-01-05,2024-02-04,10.00,USD",
            "A2,C1,2024-01-05,2024-02-04,10.00,USD",
        ],
    )
    text(
        "disputed_and_channel.csv",
        [
            FLAT + ",disputed,channel",
            "A1,C1,2024-01-05,2024-02-04,10.00,USD,,yes,paper",
            "A2,C1,2024-01-05,2024-02-04,10.00,USD,,maybe,Electronic",
            "A3,C1,2024-01-05,2024-02-04,10.00,USD,,N,fax",
        ],
    )

    # ------------------------------------------------------------ workbooks
    workbook(
        "excel_errors.xlsx",
        {
            "AR": [
                ["invoice_id", "customer_id", "invoice_date", "due_date", "amount", "currency"],
                ["A1", "C1", dt.date(2024, 1, 5), dt.date(2024, 2, 4), 10.5, "USD"],
                ["A2", "#N/A", dt.date(2024, 1, 5), dt.date(2024, 2, 4), 10, "USD"],
                ["A3", "C1", dt.date(2024, 1, 5), dt.date(2024, 2, 4), "#REF!", "USD"],
            ],
            "Notes": [["this sheet is ignored"]],
        },
    )
    workbook(
        "excel_1904.xlsx",
        {
            "Sheet1": [
                ["invoice_id", "customer_id", "invoice_date", "due_date", "amount", "currency"],
                ["A1", "C1", dt.date(2024, 1, 5), dt.date(2024, 2, 4), 10, "USD"],
                # Serial days in the 1904 system: 43834 is 2024-01-05, 43864 is 2024-02-04.
                ["A2", "C1", 43834, 43864, 20, "USD"],
            ]
        },
        epoch_1904=True,
    )
    workbook(
        "excel_serials_1900.xlsx",
        {
            "Sheet1": [
                ["invoice_id", "customer_id", "invoice_date", "due_date", "amount", "currency"],
                # 45296 is 2024-01-05 in the 1900 system.
                ["A1", "C1", 45296, 45326, 10, "USD"],
                ["A2", "C1", 45296.5, 45326, 10, "USD"],
            ]
        },
    )
    workbook(
        "excel_ids.xlsx",
        {
            "Sheet1": [
                ["invoice_id", "customer_id", "invoice_date", "due_date", "amount", "currency"],
                [12345, 777, dt.date(2024, 1, 5), dt.date(2024, 2, 4), 10, "USD"],
                [1234567890123456789, 777, dt.date(2024, 1, 5), dt.date(2024, 2, 4), 10, "USD"],
                [123.5, 777, dt.date(2024, 1, 5), dt.date(2024, 2, 4), 10, "USD"],
                ["A4", 777, dt.datetime(2024, 1, 5, 9, 30), dt.date(2024, 2, 4), 0.3, "USD"],
            ]
        },
    )
    workbook(
        "excel_totals.xlsx",
        {
            "Sheet1": [
                ["invoice_id", "customer_id", "invoice_date", "due_date", "amount", "currency"],
                ["A1", "C1", dt.date(2024, 1, 5), dt.date(2024, 2, 4), 10, "USD"],
                ["A2", "C1", dt.date(2024, 1, 5), dt.date(2024, 2, 4), 15.25, "USD"],
                [],
                ["Grand total", None, None, None, 25.25, None],
            ]
        },
    )
    workbook(
        "excel_multi.xlsx",
        {
            "invoices": [
                ["invoice_id", "customer_id", "invoice_date", "due_date", "amount", "currency"],
                ["I1", "C1", dt.date(2024, 1, 5), dt.date(2024, 2, 4), 100, "USD"],
                ["I2", "C1", dt.date(2024, 1, 6), dt.date(2024, 1, 1), 50, "USD"],
            ],
            "payments": [
                ["payment_id", "payment_date", "amount", "currency", "customer_id"],
                ["P1", dt.date(2024, 1, 20), 120, "USD", "C1"],
            ],
            "allocations": [
                ["payment_id", "invoice_id", "amount"],
                ["P1", "I1", 80],
                ["P1", "I2", 10],
                ["P1", "I9", 5],
            ],
            "Readme": [["not a table"]],
        },
    )

    # ------------------------------------------------------------ ledger folders
    folder(
        "ledger_rules",
        {
            "invoices.csv": [
                "invoice_id,customer_id,invoice_date,due_date,amount,currency",
                "I1,C1,2024-01-05,2024-02-04,100.00,USD",
                "I2,C1,2024-01-06,2024-02-05,50.00,EUR",
                "I3,C1,2024-01-07,2024-01-01,30.00,USD",
                "I4,C2,2024-01-08,2024-02-07,40.00,USD",
            ],
            "payments.csv": [
                "payment_id,payment_date,amount,currency,customer_id",
                "P1,2024-01-20,150.00,USD,C1",
                "P2,2024-01-21,30.00,USD,C2",
                "P3,2024-01-22,10.00,XYZ,C1",
            ],
            "allocations.csv": [
                "payment_id,invoice_id,amount,applied_date",
                "P1,I1,60.00,2024-01-20",
                "P1,I3,10.00,",
                "P1,I2,5.00,",
                "P1,I1,,2024-01-25",
                "P1,I9,5.00,",
                "P9,I1,5.00,",
                "P2,I4,25.00,2024-01-19",
                "P2,I4,1.00,",
                "P2,I1,20.00,2024-01-23",
                "P1,I4,45.00,2024-01-24",
            ],
            "adjustments.csv": [
                "adjustment_id,invoice_id,date,amount,kind",
                "J1,I1,2024-01-25,35.00,credit_note",
                "J2,I1,2024-01-26,5.00,write_off",
                "J3,I3,2024-01-26,5.00,write_off",
                "J4,I4,2024-01-02,1.00,discount",
                "J5,I4,2024-01-27,1.00,refund",
            ],
            "disputes.csv": [
                "dispute_id,invoice_id,opened_date,amount,resolved_date",
                "D1,I1,2024-01-10,10.00,2024-01-12",
                "D2,I8,2024-01-10,10.00,",
                "D3,I4,2024-01-10,10.00,2024-01-09",
            ],
            "ledger.json": [
                '{"format": "rpmkit-ledger", "version": 1, "reporting_currency": "USD"}'
            ],
            "notes.md": ["not a table"],
        },
    )
    folder(
        "ledger_customers",
        {
            "customers.csv": [
                "customer_id,name,currency,credit_limit,terms_days",
                "C1,Acme,USD,1000.00,30",
                "C2,Beta,,500,net30",
                "C3,Gamma,EUR,1.001,30",
            ],
            "invoices.csv": [
                "invoice_id,customer_id,invoice_date,due_date,amount,currency",
                "I1,C1,2024-01-05,2024-02-04,100.00,USD",
                "I2,C2,2024-01-06,2024-02-05,50.00,USD",
                "I3,C9,2024-01-07,2024-02-06,30.00,USD",
            ],
            "activities.csv": [
                "activity_id,date,customer_id,kind,invoice_id,promised_amount",
                "T1,2024-02-10,C1,call,I1,",
                "T2,2024-02-11,C1,promise_to_pay,I1,50.00",
                "T3,2024-02-12,C9,reminder,,",
                "T4,2024-02-12,C1,fax,,",
                "T5,2024-02-13,C1,promise_to_pay,I2,5.00",
            ],
            "fx_rates.csv": [
                "date,currency,rate",
                "2024-01-01,EUR,1.10",
                "2024-01-01,GBP,0",
                "2024-01-02,EUR,abc",
            ],
        },
    )
    folder(
        "ledger_empty_table",
        {"invoices.csv": ["invoice_id,customer_id,invoice_date,due_date,amount,currency"]},
    )
    folder("ledger_none", {"readme.md": ["nothing here"]})
    more_cases()


def _workbook_bytes(sheets: dict[str, list[list]], merged: dict[str, list[str]] | None = None):
    import io

    import openpyxl

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
        for ref in (merged or {}).get(title, []):
            ws.merge_cells(ref)
    wb.properties.created = FIXED_TIME
    wb.properties.modified = FIXED_TIME
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _patched_workbook(name: str, data: bytes, member: str, old: bytes, new: bytes) -> None:
    """Save a workbook with one part edited (what openpyxl cannot write: cached formula values)."""
    import zipfile

    path = HERE / name
    path.write_bytes(data)
    with zipfile.ZipFile(path) as z:
        members = [(i.filename, z.read(i.filename)) for i in z.infolist()]
    members = [(n, d.replace(old, new) if n == member else d) for n, d in members]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for n, d in members:
            z.writestr(zipfile.ZipInfo(n, date_time=(2024, 1, 1, 0, 0, 0)), d, zipfile.ZIP_DEFLATED)
    _fix_zip_times(path)


def _parquet(name: str, columns: dict) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table(columns), HERE / name, compression="snappy")


def more_cases() -> None:
    """Cases added for hostile and broken input (issue 9)."""
    import pyarrow as pa

    header = FLAT.split(",")[:6]
    day, due = dt.date(2024, 1, 5), dt.date(2024, 2, 4)
    # ------------------------------------------------------------ workbooks
    # Merged title cells over the real header, as finance exports have them.
    data = _workbook_bytes(
        {
            "AR": [
                ["Document", None, "Dates", None, "Money", None],
                header,
                ["A1", "C1", day, due, 10, "USD"],
            ]
        },
        merged={"AR": ["A1:B1", "C1:D1", "E1:F1"]},
    )
    _patched_workbook("excel_merged_header.xlsx", data, "", b"", b"")  # as saved
    # Formulas: openpyxl writes no cached value; Excel would. E2 gets one, E3 keeps none.
    data = _workbook_bytes(
        {
            "AR": [
                header,
                ["A1", "C1", day, due, "=10+5.5", "USD"],
                ["A2", "C1", day, due, "=SUM(E2:E2)", "USD"],
                ["A3", "C1", day, due, 7, "USD"],
            ]
        }
    )
    _patched_workbook(
        "excel_formulas.xlsx",
        data,
        "xl/worksheets/sheet1.xml",
        b"<f>10+5.5</f><v />",
        b"<f>10+5.5</f><v>15.5</v>",
    )
    data = _workbook_bytes(
        {
            "AR": [
                header,
                [1234567890123450, "C1", day, due, 10, "USD"],
                ["1234567890123456", "C1", day, due, 20, "USD"],
                [123456789012345, "C1", day, due, 30, "USD"],
            ]
        }
    )
    # Excel keeps 15 significant digits and saves a typed 16-digit id as 1.23456789012345E+15.
    _patched_workbook(
        "excel_16_digit_ids.xlsx",
        data,
        "xl/worksheets/sheet1.xml",
        b"<v>1234567890123450</v>",
        b"<v>1.23456789012345E+15</v>",
    )
    workbook(
        "excel_duplicate_header.xlsx",
        {"AR": [[*header, "amount"], ["A1", "C1", day, due, 10, "USD", 10]]},
    )
    workbook("excel_empty_sheet.xlsx", {"Sheet1": [], "Other": [header]})
    good = (HERE / "excel_totals.xlsx").read_bytes()
    raw("truncated.xlsx", good[: len(good) // 2])
    # ------------------------------------------------------------ parquet
    _parquet(
        "parquet_float_ids.parquet",
        {
            "invoice_id": pa.array([1.0, 2.5, 3.0], pa.float64()),
            "customer_id": ["C1", "C1", "C2"],
            "invoice_date": pa.array([day, day, day], pa.date32()),
            "due_date": pa.array([due, due, due], pa.date32()),
            "amount": pa.array([0.1, 19.99, 0.125], pa.float64()),
            "currency": ["USD", "USD", "USD"],
        },
    )
    _parquet(
        "parquet_typed.parquet",
        {
            "invoice_id": ["A1", "A2", "A3"],
            "customer_id": pa.array([7, 7, 8], pa.int64()),
            "invoice_date": pa.array(
                [dt.datetime(2024, 1, 5), dt.datetime(2024, 1, 6, 12), dt.datetime(2024, 1, 7)],
                pa.timestamp("ms"),
            ),
            "due_date": pa.array([due, due, dt.date(2024, 1, 1)], pa.date32()),
            "amount": pa.array(["10.50", "20.00", "3.00"]).cast(pa.decimal128(12, 2)),
            "currency": ["EUR", "EUR", "EUR"],
        },
    )
    _parquet("parquet_no_rows.parquet", {c: pa.array([], pa.string()) for c in header})
    tmp = HERE / "parquet_typed.parquet"
    raw("truncated.parquet", tmp.read_bytes()[:-40])
    # ------------------------------------------------------------ text
    text(
        "truncated.csv",
        [FLAT, "A1,C1,2024-01-05,2024-02-04,10.00,USD,", "A2,C1,2024-01-05,2024-02-04,20.00,US"],
    )
    (HERE / "truncated.csv").write_bytes((HERE / "truncated.csv").read_bytes() + b"A3,C1,2024-01")
    text(
        "unterminated_quote.csv",
        [
            FLAT,
            "A1,C1,2024-01-05,2024-02-04,10.00,USD,",
            'A2,"C1,2024-01-05,2024-02-04,20.00,USD,',
            "A3,C1,2024-01-05,2024-02-04,30.00,USD,",
        ],
    )
    (HERE / "utf16be_bom.csv").write_bytes(
        b"\xfe\xff"
        + "\n".join(
            [
                FLAT,
                "A1,C1,2024-01-05,2024-02-04,10.00,CHF,",
                "A2,Zürich AG,2024-01-05,2024-02-04,5,CHF,",
                "",
            ]
        ).encode("utf-16-be")
    )
    raw(
        "mixed_encoding.csv",
        (FLAT + "\n").encode()
        + "A1,Café Noir,2024-01-05,2024-02-04,10.00,EUR,\n".encode()
        + "A2,Café Noir,2024-01-05,2024-02-04,20.00,EUR,\n".encode("cp1252"),
    )
    raw(
        "nul_bytes.csv",
        (FLAT + "\n").encode()
        + b"A1,C1,2024-01-05,2024-02-04,10.00,USD,\n"
        + b"A2\x00,C1,2024-01-05,2024-02-04,20.00,USD,\n"
        + b"A3,C1,2024-01-05,2024-02-04,3\x000.00,USD,\n",
    )
    text(
        "decimal_comma_quoted.csv",
        [
            FLAT,
            'A1,C1,2024-01-05,2024-02-04,"12,50",EUR,',
            'A2,C1,2024-01-05,2024-02-04,"1.234,56",EUR,',
            "A3,C1,2024-01-05,2024-02-04,7,EUR,",
        ],
    )
    text(
        "trailing_delimiters.csv",
        [
            FLAT + ",,",
            "A1,C1,2024-01-05,2024-02-04,10.00,USD,,,",
            "A2,C1,2024-01-05,2024-02-04,1,USD,,,",
        ],
    )
    text(
        "ids_16_digits.csv",
        [
            FLAT,
            "1234567890123456,C1,2024-01-05,2024-02-04,10.00,USD,",
            "1234567890123457,C1,2024-01-05,2024-02-04,10.00,USD,",
            "1.23456789012346E+15,C1,2024-01-05,2024-02-04,10.00,USD,",
        ],
    )
    text(
        "totals_rows_subtotals.csv",
        [
            FLAT,
            "A1,C1,2024-01-05,2024-02-04,10.00,USD,",
            "Subtotal for C1,,,,10.00,USD,",
            "A2,C2,2024-01-05,2024-02-04,5.00,USD,",
            # Could be a customer called "Subtotal C2": a document with missing values.
            "Subtotal C2,,,,5.00,USD,",
            "Sub-total:,,,,15.00,USD,",
            ",,,,15.00,USD,Total receivables",
        ],
    )
    # ------------------------------------------------------------ several files of one table
    inv = "invoice_id,customer_id,invoice_date,due_date,amount,currency"
    folder(
        "parts_overlap",
        {
            # Two monthly exports sharing the last days of January.
            "invoices_2024-01.csv": [
                inv,
                "I1,C1,2024-01-05,2024-02-04,10.00,USD",
                "I2,C1,2024-01-29,2024-02-28,20.00,USD",
                "I3,C2,2024-01-30,2024-02-29,30.00,USD",
            ],
            "invoices_2024-02.csv": [
                inv,
                "I2,C1,2024-01-29,2024-02-28,20.00,USD",
                "I3,C2,2024-01-30,2024-02-29,31.00,USD",
                "I4,C2,2024-02-02,2024-03-03,40.00,USD",
            ],
        },
    )
    folder(
        "parts_same_file_twice",
        {
            "invoices.csv": [
                inv,
                "I1,C1,2024-01-05,2024-02-04,10.00,USD",
                "I2,C1,2024-01-06,x,5,USD",
            ],
            "invoices_copy.csv": [
                inv,
                "I1,C1,2024-01-05,2024-02-04,10.00,USD",
                "I2,C1,2024-01-06,x,5,USD",
            ],
        },
    )
    folder(
        "parts_header_mismatch",
        {
            "invoices_a.csv": [inv, "I1,C1,2024-01-05,2024-02-04,10.00,USD"],
            "invoices_b.csv": [
                "invoice_id,customer_id,invoice_date,amount,currency",
                "I2,C1,2024-01-05,10.00,USD",
            ],
        },
    )


if __name__ == "__main__":
    main()
