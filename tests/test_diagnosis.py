"""The whole diagnosis on the generated sample clinics: it finds what the generator planted, in the
order of evidence, and flags nothing red on the clinics generated without problems
(data_samples/README.md lists the plants)."""
from __future__ import annotations

import json

import pytest

from playbook import synth
from playbook.clinic import clinic_from_tables
from playbook.diagnosis import SECTIONS, diagnose
from playbook.results import RED


@pytest.fixture(scope="module")
def diagnoses():
    made = {}
    for kind in ("general", "children"):
        for problems in (True, False):
            generated = synth.generate(kind, problems=problems)
            made[kind, problems] = diagnose(clinic_from_tables(generated.config, generated.tables))
    return made


def _red(diagnosis):
    findings = diagnosis.ranking.findings
    return findings[findings["severity"] == RED]


def test_general_clinic_top_findings_are_the_planted_problems(diagnoses):
    top = diagnoses["general", True].ranking.findings.head(5)
    found = set(zip(top["metric"], top["subject"]))
    assert ("referral_share", "转介绍") in found  # referral share under 40%, falling
    assert any(subject == "王医生" for _, subject in found)  # the key implant doctor left
    assert any(subject == "抖音" and "conversion" in metric for metric, subject in found)  # 9.9 campaign collapse


def test_general_clinic_every_plant_is_flagged_red(diagnoses):
    red = _red(diagnoses["general", True])
    flagged = set(zip(red["metric"], red["subject"].fillna("")))
    assert any(m == "no_show_rate_channel" and s == "美团" for m, s in flagged)
    assert any(m == "consumables_share" for m, _ in flagged)
    assert any(m == "roi_weekly_latest" and s == "抖音" for m, s in flagged)  # the [S0] stop-loss
    # the story's order: the causes of the fall, the upside, costs, risks; the fall itself and what another
    # finding already counts come last
    group = {"cause": 0, "standing": 1, "upside": 1, "profit": 2, "risk": 3, "symptom": 4, "merged": 5}
    roles = red["role"].tolist()
    assert roles == sorted(roles, key=group.get) and roles[0] == "cause"


def test_children_clinic_finds_family_conversion_and_afternoon_no_shows(diagnoses):
    red = _red(diagnoses["children", True])
    assert red["metric"].iloc[0] == "child_family_ratio"
    assert "no_show_rate_slot" in set(red["metric"])


@pytest.mark.parametrize("kind", ["general", "children"])
def test_clinics_generated_without_problems_have_nothing_red(diagnoses, kind):
    diagnosis = diagnoses[kind, False]
    assert _red(diagnosis).empty, _red(diagnosis)[["metric", "subject", "gap"]]


def test_metrics_of_every_section_are_json_safe(diagnoses):
    for diagnosis in diagnoses.values():
        metrics = json.loads(json.dumps(diagnosis.metrics(), allow_nan=False))
        assert {"drivers", "loyalty", "doctors", "costs", "channels"} <= set(metrics)
        assert not {"revenue", "new_patients", "first_visit_conversion"} & set(metrics["kpis"])  # headline untouched


def test_every_section_is_computed_once_per_clinic(diagnoses):
    diagnosis = diagnoses["general", True]
    for name in SECTIONS:
        assert diagnosis.section(name) is diagnosis.section(name)
    assert diagnose(diagnosis.clinic) is diagnosis


# The analyses of issue 15 (data_samples/README.md): each plant is in its clinic's ranking, with the finding's
# own numbers; the healthy twins raise none of them.
NEW_SECTIONS = ("reappointment", "satisfaction", "chairs", "waits", "coordinators")


def test_coordinator_satisfaction_wait_and_chair_plants_are_ranked(diagnoses):
    ranked = {kind: {(f.metric, f.subject): f for f in diagnoses[kind, True].ranking.flags}
              for kind in ("general", "children")}
    general, children = ranked["general"], ranked["children"]
    picker = general["consultant_conversion", "周咨询师"]
    assert picker.severity == RED and picker.facts["cherry_picking"] and picker.revenue_at_stake > 0
    assert general["consultant_reappointment", "周咨询师"].facts["exact"]  # the export has booking times
    assert general["nps_fall", "刘医生"].value > 30
    assert general["wait_minutes", "李医生"].value > 15
    assert children["chair_vacancy_prime", None].value > 0.1 and children["chair_vacancy_prime", None].reference > 0.1
    assert children["wait_minutes", "weekend_morning"].value > 20
    assert children["review_stars", "大众点评"].value < 4
    assert ("chair_vacancy_prime", None) not in general  # the general clinic's prime hours are within the line


@pytest.mark.parametrize("kind", ["general", "children"])
def test_clinics_generated_without_problems_raise_none_of_the_new_flags(diagnoses, kind):
    diagnosis = diagnoses[kind, False]
    assert [f for name in NEW_SECTIONS for f in diagnosis.section(name).flags()] == []
    assert all(r.available for name in NEW_SECTIONS for r in diagnosis.section(name).results())  # the data is there
