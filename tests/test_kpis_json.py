"""kpis.json is strict JSON, every key is documented in docs/kpis.schema.json, and its numbers are the registry's."""
from __future__ import annotations

import json
import math

import jsonschema
import pytest

from playbook.clinic import load_clinic
from playbook.config import PROJ_ROOT, SAMPLES_DIR
from playbook.jsonsafe import clean
from playbook.metrics import HEADLINE, METRICS
from playbook.tables import clinic_tables

SCHEMA = json.loads((PROJ_ROOT / "docs" / "kpis.schema.json").read_text(encoding="utf-8"))
SAMPLES = ["general_clinic", "children_clinic"]
NOT_A_VALUE = {"nan", "NaN", "None", "NaT", "null", "inf", "-inf", "Infinity"}


def _strict(text: str):
    """Parse as RFC 8259 JSON: NaN and Infinity are refused, as other tools' parsers do."""
    def refuse(word):
        raise ValueError(f"{word} is not JSON")
    return json.loads(text, parse_constant=refuse)


def _strings(value, path=""):
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, f"{path}/{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _strings(item, f"{path}[{i}]")
    elif isinstance(value, str):
        yield path, value


def test_the_schema_is_a_valid_json_schema_documenting_every_key():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    undocumented = []

    def walk(node, path):
        if isinstance(node, dict):
            if node.get("type") in ("object", ["object", "null"]) and node.get("properties") is not None:
                undocumented.extend(f"{path}/{k}" for k, v in node["properties"].items()
                                    if "$ref" not in v and not v.get("description"))
            for key, value in node.items():
                walk(value, f"{path}/{key}")

    walk(SCHEMA, "")
    assert not undocumented
    kpis = SCHEMA["properties"]["kpis"]["properties"]
    for name in HEADLINE:  # the headline KPIs are documented by the registry's own definitions
        assert kpis[name]["description"] == METRICS[name].definition_en
        assert kpis[name]["x-unit"] == METRICS[name].unit


def test_nan_and_infinity_become_null_and_nothing_becomes_the_text_nan():
    payload = clean({"a": float("nan"), "b": [float("inf"), 1.5], "c": {"d": None}, "e": math.nan})
    assert payload == {"a": None, "b": [None, 1.5], "c": {"d": None}, "e": None}
    json.dumps(payload, allow_nan=False)


@pytest.mark.slow
@pytest.mark.parametrize("sample", SAMPLES)
def test_a_sample_runs_kpis_json_is_strict_valid_and_the_registrys(sample, sample_run):
    result = sample_run(sample)
    data = _strict(result.kpis.read_text(encoding="utf-8"))
    jsonschema.validate(data, SCHEMA)
    assert not [(p, v) for p, v in _strings(data) if v.strip() in NOT_A_VALUE]
    # every registry metric kpis.json publishes holds the registry's number over the period
    clinic = load_clinic(SAMPLES_DIR / sample)
    tables, period = clinic_tables(clinic), clinic.config.period
    published = [m for m in METRICS.values() if m.table and m.json_key in data["kpis"]]
    assert {m.name for m in published} >= set(HEADLINE) | {"average_ticket"}
    for metric in published:
        expected, value = metric.value(tables, period.start, period.end), data["kpis"][metric.json_key]
        if expected is None:
            assert value is None, metric.name
        else:
            assert value == pytest.approx(expected, abs=1e-6 if metric.unit == "rate" else 0.005), metric.name
    for channel, row in data["channels"].items():
        for name in ("new_patients", "first_visit_conversion"):
            assert row[name] == pytest.approx(METRICS[name].value(tables, period.start, period.end, channel), abs=1e-6)


@pytest.mark.slow
def test_no_chapter_shows_a_stderr_box(sample_run):
    """Chapter 08 used to show "Out of range float values are not JSON compliant" in every run."""
    import nbformat

    result = sample_run("general_clinic")
    boxes = [(path.name, out.get("text", "")[:120]) for path in result.notebooks
             for cell in nbformat.read(path, as_version=4).cells for out in cell.get("outputs", [])
             if out.get("name") == "stderr"]
    assert not boxes
