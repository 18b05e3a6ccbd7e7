"""Scenario parameters: validation messages, YAML round trips, the example scenarios."""

from __future__ import annotations

import dataclasses
import datetime
import doctest
import re
from pathlib import Path

import pytest

from rpmkit.sim import (
    Behaviour,
    Collections,
    Collectors,
    CreditPolicy,
    Disputes,
    DunningStep,
    PayerBehaviour,
    Scenario,
    SegmentSales,
)
from rpmkit.sim.sections import DUNNING_CHANNELS

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (
            lambda: Scenario(horizon_days=0),
            r"Scenario.horizon_days must be an integer in \[1, 7300\], got 0",
        ),
        (lambda: Scenario(start="2025-13-01"), r"Scenario.start must be an ISO calendar date"),
        (lambda: Scenario(currency="XXY"), r"Scenario.currency must be an ISO 4217"),
        (
            lambda: SegmentSales("smb", 10, -1.0, 800.0),
            r"SegmentSales\('smb'\).invoices_per_day must be a number in "
            r"\[1e-09, 1000000.0\], got -1.0",
        ),
        (
            lambda: SegmentSales("smb", 10, 1.0, 800.0, terms="NET30X"),
            r"SegmentSales\('smb'\).terms must be a code like NET30",
        ),
        (
            lambda: PayerBehaviour("smb", default_rate=1.5),
            r"PayerBehaviour\('smb'\).default_rate must be a number in \[0.0, 1.0\], got 1.5",
        ),
        (lambda: DunningStep(3, "pigeon"), r"DunningStep.channel must be one of"),
        (lambda: DunningStep(800), r"DunningStep.day must be an integer in \[-60, 730\], got 800"),
        (lambda: Collectors(rule="by_mood"), r"Collectors.rule must be one of"),
        (
            lambda: Collectors(hours_per_day=25),
            r"Collectors.hours_per_day must be a number in \[0.001, 24.0\], got 25",
        ),
        (
            lambda: Disputes(desk_capacity=0),
            r"Disputes.desk_capacity must be an integer in \[1, 100000\]",
        ),
        (
            lambda: CreditPolicy(hold_days_past_due=1.5),
            r"CreditPolicy.hold_days_past_due must be an integer in \[0, 3650\], got 1.5",
        ),
        (
            lambda: Collections(recovery_rate=2),
            r"Collections.recovery_rate must be a number in \[0.0, 1.0\]",
        ),
        (
            lambda: Scenario(
                collections=Collections(agency_after_days=200, write_off_after_days=100)
            ),
            r"Scenario.collections.write_off_after_days must be greater than "
            r"agency_after_days \(200\)",
        ),
        (
            lambda: Scenario(dunning=(DunningStep(10), DunningStep(5))),
            r"Scenario.dunning must be steps in strictly increasing day order",
        ),
        (
            lambda: Scenario(behaviour=Behaviour(segments=(PayerBehaviour("smb"),))),
            r"Scenario.behaviour.segments must be one PayerBehaviour per segment",
        ),
    ],
)
def test_validation_names_field_and_range(build, message):
    with pytest.raises(ValueError, match=message):
        build()


def test_dict_and_yaml_round_trip(tmp_path):
    s = Scenario(
        horizon_days=120,
        seed=3,
        dunning=(DunningStep(-5, "sms", 0.1, 0.2, 3.0), DunningStep(20, "call")),
        credit=CreditPolicy(limit_days_of_sales=45.0, hold_days_past_due=None),
    )
    assert Scenario.from_dict(s.to_dict()) == s
    path = tmp_path / "s.yaml"
    s.to_yaml(path)
    again = Scenario.from_yaml(path)
    assert again == s
    assert isinstance(again.dunning, tuple) and isinstance(again.sales[0], SegmentSales)
    assert again.credit.hold_days_past_due is None


def test_partial_dict_keeps_defaults_and_unknown_fields_are_named():
    s = Scenario.from_dict({"horizon_days": 30, "collectors": {"count": 7}})
    assert s.collectors.count == 7
    assert s.collectors.hours_per_day == Collectors().hours_per_day
    assert s.sales == Scenario().sales
    with pytest.raises(ValueError, match=r"Scenario.collectors has no field\(s\) staff"):
        Scenario.from_dict({"collectors": {"staff": 7}})


def test_replace_friendly():
    base = Scenario()
    more = dataclasses.replace(base, collectors=dataclasses.replace(base.collectors, count=9))
    assert more.collectors.count == 9 and more.sales == base.sales
    with pytest.raises(ValueError, match="Collectors.count"):
        dataclasses.replace(base.collectors, count=-1)


def test_terms_and_discount_take_up():
    seg = SegmentSales("smb", 10, 1.0, 100.0, terms="2/10 NET30")
    assert seg.net_days == 30 and seg.discount == (0.02, 10)
    b = Behaviour()
    assert b.take_up(0.0) == 0.0
    assert b.take_up(0.01) < b.take_up(0.02) < b.discount_take_up_max
    assert round(b.take_up(0.02), 4) == round(0.8 * (1 - 2.718281828459045**-2), 4)


def test_example_scenarios_all_load_and_differ_from_baseline_by_one_lever():
    names = {p.stem for p in SCENARIOS}
    assert names == {
        "baseline",
        "tighter_terms",
        "early_payment_discount",
        "more_collectors",
        "earlier_dunning",
        "stricter_credit_limits",
        "faster_disputes",
        "promises",
        "payment_channels",
        "e_invoicing",
    }
    base = Scenario.from_yaml(ROOT / "scenarios" / "baseline.yaml")
    assert base == Scenario()
    for path in SCENARIOS:
        s = Scenario.from_yaml(path)
        assert path.read_text().startswith("#"), f"{path.name} has no explaining comment"
        changed = [
            f.name for f in dataclasses.fields(s) if getattr(s, f.name) != getattr(base, f.name)
        ]
        assert len(changed) == (0 if path.stem == "baseline" else 1), (path.name, changed)


def test_docs_document_every_scenario_field():
    text = (ROOT / "docs" / "simulation.md").read_text()
    for cls in (
        Scenario,
        SegmentSales,
        PayerBehaviour,
        Behaviour,
        DunningStep,
        Collectors,
        Disputes,
        CreditPolicy,
        Collections,
    ):
        for f in dataclasses.fields(cls):
            assert f"| `{f.name}` |" in text, (
                f"docs/simulation.md does not document {cls.__name__}.{f.name}"
            )


def test_docs_examples_run():
    failures, attempted = doctest.testfile(
        str(ROOT / "docs" / "simulation.md"), module_relative=False, optionflags=doctest.ELLIPSIS
    )
    assert failures == 0 and attempted >= 8


def test_unquoted_yaml_date_is_a_start_date_and_round_trips(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("horizon_days: 30\nstart: 2025-03-01\n", encoding="utf-8")
    s = Scenario.from_yaml(path)
    assert s.start == "2025-03-01" and s == Scenario(horizon_days=30, start="2025-03-01")
    assert Scenario(start=datetime.date(2025, 3, 1)) == Scenario(start="2025-03-01")
    s.to_yaml(path)
    assert Scenario.from_yaml(path) == s and Scenario.from_dict(s.to_dict()) == s
    with pytest.raises(ValueError, match=r"Scenario.start must be an ISO calendar date"):
        Scenario(start=datetime.datetime(2025, 3, 1, 9, 30))
    path.write_text("start: 2025-03-01 09:30:00\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"Scenario.start must be an ISO calendar date"):
        Scenario.from_yaml(path)


def _with(path: str, value):
    """The default scenario as a dict, with the item at ``path`` (dotted, list indices
    as numbers) replaced by ``value``, or updated with it when both are mappings."""
    data = Scenario().to_dict()
    *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
    node = data
    for p in parents:
        node = node[p]
    if isinstance(value, dict) and isinstance(node[last], dict):
        node[last] = {**node[last], **value}
    else:
        node[last] = value
    return data


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (
            "sales",
            [{"name": "smb", "customers": 10}],
            "sales[0] (segment 'smb'): missing field(s) invoices_per_day, amount_mean",
        ),
        (
            "sales.2",
            {"invoices_per_day": -1.0},
            "sales[2] (segment 'smb'): invoices_per_day must be a number in "
            "[1e-09, 1000000.0], got -1.0",
        ),
        (
            "sales.1",
            {"terms": "NET30X"},
            "sales[1] (segment 'mid_market'): terms must be a code like NET30",
        ),
        (
            "dunning.1",
            {"day": -100},
            "dunning[1]: day must be an integer in [-60, 730], got -100",
        ),
        ("dunning.2", {"channel": "pigeon"}, "dunning[2]: channel must be one of"),
        ("dunning.0", {"colour": "red"}, "dunning[0] has no field(s) colour"),
        ("dunning.3", 7, "dunning[3] must be a mapping of fields, got 7"),
        ("dunning.0", {"channel": "sms", "day": None}, "dunning[0]: day must be an integer"),
        (
            "behaviour.segments.1",
            {"default_rate": 1.5},
            "behaviour.segments[1] (segment 'mid_market'): default_rate must be a number "
            "in [0.0, 1.0], got 1.5",
        ),
        (
            "behaviour.segments.0",
            {"segment": ""},
            "behaviour.segments[0] (segment ''): segment must be a non-empty string",
        ),
        (
            "behaviour.customers",
            [{"customer_id": "C7", "delay_shift_days": 400}],
            "behaviour.customers[0] (customer 'C7'): delay_shift_days must be a number",
        ),
        (
            "promises.segments",
            [{"segment": "smb", "kept_rate": 2}],
            "promises.segments[0] (segment 'smb'): kept_rate must be a number in [0.0, 1.0]",
        ),
        (
            "promises.segments",
            [{"kept_rate": 0.5}],
            "promises.segments[0]: missing field(s) segment",
        ),
        (
            "channels.methods",
            [{"name": "ach", "share": 0.5}, {"name": "cash", "share": 0.5}],
            "channels.methods[1] (method 'cash'): name must be one of",
        ),
        (
            "channels.methods",
            [{"name": "ach", "share": 1.0, "fee_rate": 0.5}],
            "channels.methods[0] (method 'ach'): fee_rate must be a number in [0.0, 0.2]",
        ),
    ],
)
def test_list_item_errors_name_their_location(path, value, message):
    with pytest.raises(ValueError) as info:
        Scenario.from_dict(_with(path, value))
    assert str(info.value).startswith(message), str(info.value)


def test_item_classes_keep_their_own_messages_outside_a_scenario_file():
    # built directly (not from a file) they name the class, as before
    with pytest.raises(ValueError, match=r"^DunningStep.day must be an integer"):
        DunningStep(-100)
    with pytest.raises(TypeError, match="missing"):
        SegmentSales("smb", 10)  # type: ignore[call-arg]
    with pytest.raises(ValueError, match=r"^Collectors.count must be"):
        Scenario.from_dict({"collectors": {"count": -1}})


def test_earlier_dunning_comment_names_only_channels_it_uses():
    path = ROOT / "scenarios" / "earlier_dunning.yaml"
    comment = " ".join(
        line.lstrip("# ") for line in path.read_text().splitlines() if line.startswith("#")
    )
    s, base = Scenario.from_yaml(path), Scenario()
    used = {d.channel for d in s.dunning}
    for channel in DUNNING_CHANNELS:
        if re.search(rf"\b{channel}s?\b", comment):
            assert channel in used, f"the comment names a {channel} the file does not have"
    assert [d.day for d in s.dunning] == [d.day - 7 for d in base.dunning]
    assert [d.channel for d in s.dunning] == [d.channel for d in base.dunning]
    for d in s.dunning:
        assert str(abs(d.day)) in comment, d
