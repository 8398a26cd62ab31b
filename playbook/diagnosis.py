"""The diagnosis of a clinic (method step 1, [S1]): every analysis computed once, on demand.

Each chapter asks ``diagnose(clinic)`` for its section; the bottleneck chapter asks for all of them.
In a batch run the chapters share one kernel and the loaded clinic is cached, so the diagnosis
attached to it is computed once for the whole report; interactively, only what a chapter asks for is
computed.
"""
from __future__ import annotations

from functools import cached_property
from importlib import import_module

import pandas as pd

from . import i18n
from . import thresholds as threshold_table
from .audit import ANALYSES
from .bottleneck import rank
from .clinic import Clinic
from .results import Finding, Section, deep_merge
from .story import tell

# section name -> the module that computes it (each module's ``diagnose(clinic, thresholds)``)
SECTIONS = {
    "drivers": "playbook.drivers",
    "funnel": "playbook.funnel",
    "loyalty": "playbook.cohorts",
    "reappointment": "playbook.reappointment",
    "satisfaction": "playbook.satisfaction",
    "doctors": "playbook.doctors",
    "chairs": "playbook.chairs",
    "waits": "playbook.waits",
    "coordinators": "playbook.coordinators",
    "costs": "playbook.costs",
}


class Diagnosis:
    def __init__(self, clinic: Clinic):
        self.clinic = clinic
        self.thresholds = threshold_table.resolve(clinic.config.thresholds)
        self._sections: dict[str, Section] = {}

    def section(self, name: str) -> Section:
        if name not in self._sections:
            self._sections[name] = import_module(SECTIONS[name]).diagnose(self.clinic, self.thresholds)
        return self._sections[name]

    def __getattr__(self, name: str) -> Section:
        if name in SECTIONS:
            return self.section(name)
        raise AttributeError(name)

    def flags(self) -> list[Finding]:
        return [flag for name in SECTIONS for flag in self.section(name).flags()]

    @cached_property
    def story(self):
        """What changed, what made revenue fall, and every finding counted once (`playbook.story`)."""
        return tell(self)

    @cached_property
    def ranking(self):
        return rank(self.story.findings, self.thresholds, story=self.story)

    def not_analysed(self, lang: str = "zh"):
        """The analyses the clinic's data could not support, and the sentence saying what they need."""
        names = {name: (zh, en) for name, zh, en, _ in ANALYSES} | {
            "drivers_period": ("营收驱动因素：与上期比较", "Revenue drivers against the previous period"),
            "drivers_recent": ("营收驱动因素：近半年", "Revenue drivers over the last 6 months"),
            "drivers_year_earlier": ("营收驱动因素：与去年同期比较", "Revenue drivers against a year earlier")}
        rows = [{i18n.pick(lang, "分析", "Analysis"): i18n.pick(lang, *names.get(r.name, (r.name, r.name))),
                 i18n.pick(lang, "原因与所需数据", "Why, and the data it needs"): r.finding(lang)}
                for name in SECTIONS for r in self.section(name).results() if not r.available]
        return pd.DataFrame(rows, columns=[i18n.pick(lang, "分析", "Analysis"),
                                           i18n.pick(lang, "原因与所需数据", "Why, and the data it needs")])

    def metrics(self) -> dict:
        merged: dict = {}
        for name in SECTIONS:
            deep_merge(merged, self.section(name).metrics())
        return merged


def diagnose(clinic: Clinic) -> Diagnosis:
    """The clinic's diagnosis, attached to the loaded clinic so every chapter shares it."""
    if getattr(clinic, "_diagnosis", None) is None:
        clinic._diagnosis = Diagnosis(clinic)
    return clinic._diagnosis
