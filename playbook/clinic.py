"""A clinic: its configuration and its canonical tables, loaded once.

``load_clinic`` is what every chapter calls first. In a batch run all chapters of a clinic execute in
one kernel, so the loaded clinic is kept in memory keyed by the folder and a fingerprint of its files:
the second chapter gets it instantly, and editing a file or clinic.yaml (interactive work) reloads it.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from . import catalogue, privacy, schema
from .config import ClinicConfig, Period, read_config
from .errors import MissingTableError, PlaybookError
from .health import DataHealth
from .io import EMPTY_DTYPE, TableLoad, find_files, load_table
from .reconcile import reconcile


@dataclass
class Clinic:
    folder: Path
    config: ClinicConfig  # its period trimmed to the data when clinic.yaml's ran past it
    loads: dict[str, TableLoad]  # every table of the schema, found or not
    unread: list[Path] = field(default_factory=list)  # data files in the folder no table claimed
    health: DataHealth = field(default_factory=DataHealth)  # what can move a headline KPI (playbook.health)
    configured_period: Period | None = None  # clinic.yaml's period, when it was trimmed

    def table(self, name: str) -> pd.DataFrame | None:
        load = self.loads.get(name)
        return load.data if load is not None and load.usable else None

    def has(self, table: str, column: str | None = None) -> bool:
        load = self.loads.get(table)
        return bool(load and load.usable and (column is None or load.has(column)))

    @property
    def patients(self) -> pd.DataFrame:
        return self.table("patients")

    @property
    def visits(self) -> pd.DataFrame:
        return self.table("visits")

    @property
    def charges(self) -> pd.DataFrame:
        return self.table("charges")

    @property
    def errors(self) -> list[PlaybookError]:
        return [e for load in self.loads.values() for e in load.errors]

    def problems(self) -> list[PlaybookError]:
        """Every problem that makes the clinic's data unusable: a minimal table missing, an error in any
        table (the data-health gate's included). The audit and the run both stop on exactly these."""
        missing = [MissingTableError(f"the {name} table ({schema.TABLES[name].zh}) is missing", path=self.folder,
                                     fix=f"put the export in the folder as {name}.xlsx or {name}.csv (or as "
                                         f"{schema.TABLES[name].zh}.xlsx), or list its file in clinic.yaml under files:")
                   for name in schema.MINIMAL_TABLES if not self.loads[name].found]
        return missing + self.errors

    def raise_for_errors(self) -> None:
        """Stop with the first problem that makes the clinic's data unusable (exit status 2)."""
        problems = self.problems()
        if problems:
            raise problems[0]


_CACHE: dict[Path, tuple[str, Clinic]] = {}


def fingerprint(folder: Path) -> str:
    """Changes when clinic.yaml or any export in the folder changes (size and modification time)."""
    digest = hashlib.sha256()
    for path in sorted(Path(folder).iterdir()):
        if path.is_file():
            stat = path.stat()
            digest.update(f"{path.name}:{stat.st_size}:{stat.st_mtime_ns};".encode())
    return digest.hexdigest()


def load_clinic(folder: Path | str, *, strict: bool = True) -> Clinic:
    """Load a clinic folder: clinic.yaml and every export found in it.

    Parameters
    ----------
    folder : path of the clinic folder.
    strict : raise the first input problem (a `PlaybookError`) instead of returning a clinic that
        carries it. The intake audit loads with ``strict=False`` to report every problem at once.
    """
    folder = Path(folder).resolve()
    config = read_config(folder)
    key = fingerprint(folder)
    cached = _CACHE.get(folder)
    if cached and cached[0] == key:
        clinic = cached[1]
    else:
        files, unread = find_files(folder, config)
        loads = {name: (load_table(files[name], name, config) if name in files else TableLoad(name))
                 for name in schema.TABLES}
        clinic = Clinic(folder, config, loads, unread=unread)
        clinic.health = reconcile(clinic)
        _add_tiers(clinic)
        _CACHE[folder] = (key, clinic)
    if strict:
        clinic.raise_for_errors()
    return clinic


def clinic_from_tables(config: ClinicConfig | dict, tables: dict[str, pd.DataFrame]) -> Clinic:
    """A clinic from canonical tables already in memory (tests, the generator, benchmarks).

    Columns a table lacks are added empty, as the loader does, and only the given ones count as
    present for `Clinic.has`.
    """
    config = config if isinstance(config, ClinicConfig) else ClinicConfig.model_validate(config)
    loads = {}
    for name, table in schema.TABLES.items():
        load = TableLoad(name)
        if name in tables:
            data = tables[name].copy()
            load.mapping = {c: c for c in data.columns if c in {col.name for col in table.columns}}
            for column in table.columns:
                if column.name not in data:
                    data[column.name] = pd.Series(None, index=data.index, dtype=EMPTY_DTYPE[column.kind])
                elif column.pii:  # as the loader does: personal data never enters a clinic unmasked
                    data[column.name] = privacy.mask_column(data[column.name], column.name)
            if "source_row" not in data:
                data["source_row"] = range(2, len(data) + 2)
            data["source_part"] = 0
            load.paths, load.data, load.data_rows = [Path(f"{name}.csv")], data.reset_index(drop=True), len(data)
        loads[name] = load
    clinic = Clinic(Path("."), config, loads)
    _add_tiers(clinic)
    return clinic


def _add_tiers(clinic: Clinic) -> None:
    charges = clinic.loads["charges"].data
    if charges is not None:
        charges["tier"] = catalogue.classify_items(
            charges["item"], extra_keywords=clinic.config.catalogue, pinned=clinic.config.items)
