"""What kind of clinic this is (general, children's, orthodontic, implant), so a chain compares like with like.

A children's clinic and a general clinic differ in ticket, return rhythm and referral by design; the
portfolio (`playbook.portfolio`) sets each clinic against clinics of its own type. The type is
clinic.yaml's ``type`` when the consultant gives it; otherwise it is read from the data:

* children's: children are a third or more of the patients, or 儿牙 a third or more of the arrived
  visits (`playbook.cohorts.is_children_clinic`, the rule the child → family chapter uses [S3]);
* orthodontic or implant: 正畸 or 种植 is half or more of the arrived visits with a department;
* general otherwise.
"""
from __future__ import annotations

from dataclasses import dataclass

from . import i18n
from .clinic import Clinic
from .cohorts import is_children_clinic

# key -> (zh, en); clinic.yaml's ``type`` takes a key
TYPES = {"general": ("综合", "general"), "children": ("儿童", "children's"), "orthodontic": ("正畸", "orthodontic"),
         "implant": ("种植", "implant")}
SPECIALTY = {"正畸": "orthodontic", "种植": "implant"}  # a department that makes a specialty clinic
SPECIALTY_SHARE = 0.5  # half or more of the arrived visits


@dataclass(frozen=True)
class ClinicType:
    """A clinic's type and where it came from: ``source`` "clinic.yaml" or "data" (``basis`` says what in it)."""

    key: str
    source: str
    basis: str | None = None  # the rule that decided, in English, when read from the data

    def name(self, lang: str = "zh") -> str:
        return i18n.pick(lang, *TYPES[self.key])

    def to_dict(self) -> dict:
        """The kpis.json fragment the portfolio reads."""
        return {"clinic_type": {"type": self.key, "source": self.source, "basis": self.basis}}


def clinic_type(clinic: Clinic) -> ClinicType:
    """clinic.yaml's ``type``, else the type the patients and departments show (see the module docstring)."""
    if clinic.config.type is not None:
        return ClinicType(clinic.config.type, "clinic.yaml")
    end = clinic.config.period.end
    if is_children_clinic(clinic.patients, clinic.visits, end=end):
        return ClinicType("children", "data", "children are a third or more of the patients or of the visits")
    arrived = clinic.visits[clinic.visits["status"] == "arrived"]
    if "department" in arrived:
        departments = arrived["department"].dropna().astype(str).str.strip().str.removesuffix("科")
        if len(departments):
            shares = departments.value_counts(normalize=True)
            for department, key in SPECIALTY.items():
                if shares.get(department, 0.0) >= SPECIALTY_SHARE:
                    return ClinicType(key, "data", f"{department} is half or more of the arrived visits")
    return ClinicType("general", "data", "no department or age group makes up a specialty")
