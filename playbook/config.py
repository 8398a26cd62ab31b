"""Where things are, and what a clinic's ``clinic.yaml`` may say.

The only module that knows paths (cookiecutter-data-science's rule): notebooks, templates and the
bundled samples are found from here, so the package works from a clone and from an install.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from . import hours, i18n, schema
from .errors import ConfigError
from .thresholds import DEFAULTS

PROJ_ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS_DIR = PROJ_ROOT / "notebooks"
TEMPLATES_DIR = PROJ_ROOT / "templates"
INTAKE_TEMPLATES_DIR = TEMPLATES_DIR / "intake"
SAMPLES_DIR = PROJ_ROOT / "data_samples"
DOCS_DIR = PROJ_ROOT / "docs"
CONFIG_NAME = "clinic.yaml"
# Chapters hand their metrics to kpis.json as a notebook output of this type (playbook.chapter.publish).
METRICS_MIMETYPE = "application/vnd.playbook+json"
# The course's cells in chapters 01-10 (playbook.course): learning objectives, exercises, their solutions and
# a recap. They are for students and trainers: the owner's report leaves them out, and `playbook lab
# --student` leaves out the solutions.
COURSE_TAGS = ("objectives", "exercise", "solution", "recap")

TIERS = ("traffic", "profit", "high_value")


class Period(BaseModel):
    model_config = ConfigDict(extra="forbid")
    start: dt.date
    end: dt.date

    @model_validator(mode="after")
    def _ordered(self):
        if self.end < self.start:
            raise ValueError(f"period end {self.end} is before its start {self.start}")
        return self


class Intervention(BaseModel):
    """Something the clinic changed, to evaluate before/after (method step 4, [S1])."""

    model_config = ConfigDict(extra="forbid")
    name: str
    start: dt.date
    kpi: str  # the KPI series to evaluate, e.g. revenue, new_patients, first_visit_conversion
    cost: float | None = Field(default=None, ge=0)  # yuan spent on it, for ROI
    margin: float | None = Field(default=None, gt=0, le=1)  # gross margin on the KPI's revenue, for ROI
    # comparison series the intervention did not touch: channels or departments, or ``others`` (the
    # other channels or departments; for a whole-clinic KPI, the chain's other branches beside this folder)
    control: str | list[str] | None = None
    frequency: Literal["D", "W", "M"] = "W"
    effect: Literal["step", "slope", "both"] = "step"  # the effect's shape, stated in advance (playbook.evaluate)
    model: Literal["auto", "trend", "local"] = "auto"  # the counterfactual (playbook.evaluate)


class InterviewFinding(BaseModel):
    """What the consultant heard from patients, staff or competitors (method step 1, [S1]): the report prints it."""

    model_config = ConfigDict(extra="forbid")
    who: str | None = None  # e.g. 患者 / 前台 / 竞品诊所
    text: str


class PrescriptionChoice(BaseModel):
    """The consultant's decision on a treatment plan (A–E of method.md [S1])."""

    model_config = ConfigDict(extra="forbid")
    status: Literal["chosen", "rejected"]
    reason: str | None = None  # printed beside the decision


class TaskChange(BaseModel):
    """The consultant's change to a prescribed task (by its id, as the prescriptions chapter prints it),
    or a task of their own (with ``prescription`` and ``task``)."""

    model_config = ConfigDict(extra="forbid")
    prescription: Literal["A", "B", "C", "D", "E"] | None = None
    task: str | None = None
    owner: str | None = None  # a named person
    owner_department: str | None = None
    metric: str | None = None  # a weekly metric id, e.g. first_visit_conversion:抖音
    target: float | None = None
    deadline: dt.date | None = None
    drop: bool = False  # the consultant removed the task


class Event(BaseModel):
    """A policy or market event the weekly pack marks on its 8-week trend chart [S0] (e.g. 医保政策调整)."""

    model_config = ConfigDict(extra="forbid")
    date: dt.date
    label: str
    end: dt.date | None = None  # an event that lasts: shown as a span from date to end

    @model_validator(mode="after")
    def _ordered(self):
        if self.end is not None and self.end < self.date:
            raise ValueError(f"event {self.label!r} ends ({self.end}) before it starts ({self.date})")
        return self


class ClinicConfig(BaseModel):
    """The content of ``clinic.yaml``. Unknown keys are an error, so a typo never passes silently."""

    model_config = ConfigDict(extra="forbid")

    clinic_id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$",
                           description="folder-safe id: letters, digits, _ . -")
    name: str
    period: Period
    lang: Literal["zh", "en"] = "zh"
    consultant: str | None = None
    # what kind of clinic, for the portfolio's peer groups (playbook.clinic_type); omitted: read from the data
    type: Literal["general", "children", "orthodontic", "implant"] | None = None
    # table -> file name in the clinic folder, when the file is not named after the table; a pattern
    # (收费明细*.csv) names several files of one table, which are stacked
    files: dict[str, str] = Field(default_factory=dict)
    # the clinic's time zone: timestamps written with an offset (2024-01-05T14:00:00+08:00) are read as its local time
    timezone: str = "Asia/Shanghai"
    # table -> {the export's header: canonical column}
    headers: dict[str, dict[str, str]] = Field(default_factory=dict)
    # table -> column -> {the export's value: canonical value}, e.g. visits: {status: {已到店: arrived}}
    values: dict[str, dict[str, dict[str, str]]] = Field(default_factory=dict)
    # tier -> extra keywords; items -> exact item name -> tier (wins over keywords)
    catalogue: dict[Literal["traffic", "profit", "high_value"], list[str]] = Field(default_factory=dict)
    items: dict[str, Literal["traffic", "profit", "high_value", "other"]] = Field(default_factory=dict)
    referral_channels: list[str] = Field(default_factory=list)
    # threshold name -> value, overriding playbook.thresholds (the report marks what was changed)
    thresholds: dict[str, float] = Field(default_factory=dict)
    # what the clinic changed, evaluated before/after by `playbook run` (the evaluation chapter)
    interventions: list[Intervention] = Field(default_factory=list)

    # The consultant's judgement, used by the prescriptions chapter and marked in the report as theirs.
    interview_findings: list[InterviewFinding] = Field(default_factory=list)
    prescriptions: dict[Literal["A", "B", "C", "D", "E"], PrescriptionChoice] = Field(default_factory=dict)
    tasks: dict[str, TaskChange] = Field(default_factory=dict)  # task id -> change
    plan_start: dt.date | None = None  # when the prescribed tasks start (default: the Monday after the report date)

    # The weekly pack (playbook.weekly): events marked on its trend chart beside the campaigns [S0].
    events: list[Event] = Field(default_factory=list)

    # Chair vacancy (playbook.chairs) [S0]: when the clinic is open ({mon-fri: "09:00-18:00", sat-sun: closed}),
    # its chairs (a count, or per department: {种植: 1, 正畸: 1, 其他: 3}, 其他 = the departments not named), and
    # its prime hours (same form; omitted: [S0]'s 14:00-17:00 on every open day)
    opening_hours: dict[str, str | None] | None = None
    chairs: int | dict[str, int] | None = None
    prime_hours: dict[str, str | None] | None = None

    @field_validator("files", "headers", "values")
    @classmethod
    def _known_tables(cls, value: dict) -> dict:
        unknown = sorted(set(value) - set(schema.TABLES))
        if unknown:
            raise ValueError(f"unknown {i18n.plural(len(unknown), 'table')} {unknown}; tables are {sorted(schema.TABLES)}")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        import zoneinfo

        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}; write one such as Asia/Shanghai") from None
        return value

    @field_validator("thresholds")
    @classmethod
    def _known_thresholds(cls, value: dict) -> dict:
        unknown = sorted(set(value) - set(DEFAULTS))
        if unknown:
            raise ValueError(f"unknown {i18n.plural(len(unknown), 'threshold')} {unknown}; thresholds are {sorted(DEFAULTS)}")
        return value

    @field_validator("opening_hours", "prime_hours")
    @classmethod
    def _week(cls, value):
        if value is not None:
            hours.parse(value)  # a ValueError names the day or the time range to fix
        return value

    @field_validator("chairs")
    @classmethod
    def _chairs(cls, value):
        counts = value.values() if isinstance(value, dict) else [] if value is None else [value]
        if any(n < 0 for n in counts) or (value is not None and not sum(counts)):
            raise ValueError("chairs must be a positive count, or a count per department such as {种植: 1, 其他: 3}")
        return value

    @model_validator(mode="after")
    def _known_columns(self):
        for table, mapping in self.headers.items():
            columns = {c.name for c in schema.TABLES[table].columns}
            bad = sorted(set(mapping.values()) - columns)
            if bad:
                raise ValueError(f"headers.{table} maps to unknown {i18n.plural(len(bad), 'column')} {bad}; columns are {sorted(columns)}")
        return self

    @property
    def report_day(self) -> dt.date:
        """The report's date: the day it is made (the cover prints it; the plan counts from it)."""
        return dt.date.today()

    @property
    def plan_start_day(self) -> dt.date:
        """When the prescribed tasks start, the one place that says so: ``plan_start``, by default the Monday
        after the report date (or after the period, for a report made before the period ends), so that no
        deadline is in the past when the owner reads the plan."""
        if self.plan_start is not None:
            return self.plan_start
        end = max(self.period.end, self.report_day)
        return end + dt.timedelta(days=7 - end.weekday())

    @property
    def week(self) -> hours.WeeklyHours | None:
        """The opening hours, read (None when clinic.yaml gives none)."""
        return hours.parse(self.opening_hours) if self.opening_hours else None

    @property
    def prime_week(self) -> hours.WeeklyHours | None:
        """The prime hours inside the opening hours: clinic.yaml's, else [S0]'s 14:00-17:00 every open day."""
        week = self.week
        return week and week & hours.parse(self.prime_hours or hours.PRIME_DEFAULT)

    @property
    def referral(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys([*schema.REFERRAL_CHANNELS, *self.referral_channels]))


def read_config(folder: Path) -> ClinicConfig:
    """Read and check ``folder/clinic.yaml``; every problem is a ConfigError naming the key and the fix."""
    path = Path(folder) / CONFIG_NAME
    if not Path(folder).is_dir():
        raise ConfigError("not a folder", path=folder, fix="give the path of a clinic folder (one with clinic.yaml)")
    if not path.exists():
        raise ConfigError("clinic.yaml not found", path=path,
                          fix=f"create one with `playbook new {folder}` or copy one from data_samples/")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot be read as YAML: {exc}", path=path,
                          fix="check indentation and quotes; save the file as UTF-8") from None
    if not isinstance(raw, dict):
        raise ConfigError("must be a mapping of keys (clinic_id, name, period, lang)", path=path)
    try:
        return ClinicConfig.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"]) or "clinic.yaml"
        raise ConfigError(f"{key}: {first['msg']}", path=path, column=None,
                          fix="see the example in data_samples/general_clinic/clinic.yaml") from None
