"""Checks across a clinic's tables, once all are loaded: what no single export can tell.

- Implausible dates: a 1900 placeholder, a cluster years before the rest of the data, a charge or an
  arrival after the export. The row is left out of every KPI (`Dropped` "implausible_date"); in a
  column that only describes a row (a patient's 首诊日期) the placeholder is emptied.
- Ids that mean the same: ``00100001`` in one export and ``100001`` in another are one patient when the
  zeros are the only difference and no two patients merge.
- Ids that are mobile numbers (clinics that key patients by phone) are masked in every table alike,
  unique, so joins still hold and no output shows a number.
- Orphans (a visit or charge whose patient the patients export lacks), visits whose day passed still
  marked booked, and the period against the data's dates: trimmed to the data, or an error when it
  lies outside it.
- Source channels that look like referrals but do not count as one (issue 18).

Each finding is a note, a warning or an error on the table's load, and the ones that can move a
headline KPI are weighed in the clinic's `DataHealth`.
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from . import i18n, privacy, schema
from .config import Period
from .errors import PlaybookError
from .health import DataHealth, HealthEntry
from .io import LEFT_OUT, TableLoad

PLACEHOLDER_BEFORE = pd.Timestamp("1950-01-01")  # 1899-12-30, 1900-01-01: what an empty date becomes
ISOLATED_GAP_DAYS = 365  # a cluster of dates this far from the rest of the data ...
ISOLATED_SHARE = 0.01  # ... holding at most this share of its rows is a typo, not history
COVERAGE_TOLERANCE_DAYS = 7  # a period may run this far past its data (a holiday) before it is trimmed


def reconcile(clinic, today: dt.date | None = None) -> DataHealth:
    """Run the checks on a loaded clinic (changing its tables and, for a trim, its period); returns its
    `DataHealth`, whose blocking entries are also errors of the tables concerned."""
    today = pd.Timestamp(today or dt.date.today())
    loads = clinic.loads
    for name, column in schema.EVENT_DATE.items():
        _implausible_dates(loads[name], column, loads[name].export_date or today)
    for load in loads.values():
        _placeholder_dates(load)
    _leading_zeros(loads)
    _phone_like_ids(loads)
    entries = _left_out(loads) + _orphans(loads) + _no_outcome(loads["visits"], today) + _coverage(clinic)
    _referral_like_channels(loads["patients"], clinic.config)
    health = DataHealth(entries)
    for entry in health.blocking:
        loads[entry.table].errors.append(entry.error())
    return health


def _usable(load: TableLoad) -> bool:
    return load.data is not None and not load.errors


# --- dates ---------------------------------------------------------------------------------------------

def _implausible_dates(load: TableLoad, column: str, export: pd.Timestamp) -> None:
    if not _usable(load) or load.data.empty:
        return
    data = load.data
    days = data[column].dt.normalize()
    bad = days < PLACEHOLDER_BEFORE
    plausible = days[~bad].dropna()
    low, high = _isolated_bounds(plausible)
    bad |= (days < low) | (days > high)
    late = days > export.normalize()
    if load.table == "visits":  # an appointment may lie ahead; an arrival or a no-show may not
        late &= data["status"].isin(["arrived", "no_show"])
    bad |= late
    load.data = load.drop("implausible_date", data, bad.fillna(False), column=load.header_of(column)).reset_index(drop=True)


def _isolated_bounds(days: pd.Series) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The span of the bulk of the dates: clusters cut off by a gap of more than a year that hold at
    most 1% of the rows (a 2003 among 2022-2025, a 2052) lie outside it."""
    counts = days.value_counts().sort_index()
    if len(counts) < 2:
        return pd.Timestamp.min, pd.Timestamp.max
    gaps = counts.index.to_series().diff().dt.days.to_numpy()
    share = (counts.cumsum() / counts.sum()).to_numpy()
    low, high = counts.index[0], counts.index[-1]
    for i in np.flatnonzero(gaps > ISOLATED_GAP_DAYS):
        if share[i - 1] <= ISOLATED_SHARE:
            low = counts.index[i]
        elif 1 - share[i - 1] <= ISOLATED_SHARE:
            high = counts.index[i - 1]
            break
    return low, high


def _placeholder_dates(load: TableLoad) -> None:
    """1900-01-01 in a date that only describes a row (首诊日期, 活动结束日期): the cell is emptied."""
    if not _usable(load):
        return
    event = schema.EVENT_DATE.get(load.table)
    for column in schema.TABLES[load.table].columns:
        if column.kind != schema.DATE or column.name == event or not load.has(column.name):
            continue
        placeholder = load.data[column.name] < PLACEHOLDER_BEFORE
        if placeholder.any():
            load.data.loc[placeholder, column.name] = pd.NaT
            header = load.header_of(column.name)
            load.notes.append(PlaybookError(
                f"{i18n.counted(int(placeholder.sum()), 'placeholder date')} before 1950 (such as 1900-01-01) read as empty",
                path=load.path, column=header, rows=load.data.loc[placeholder, "source_row"].tolist(),
                zh=f"{int(placeholder.sum())} 个1950年以前的占位日期（如 1900-01-01）按空值处理"))


# --- ids ------------------------------------------------------------------------------------------------

def _patient_id_columns(loads: dict[str, TableLoad]) -> list[tuple[TableLoad, str]]:
    return [(load, column.name) for load in loads.values() if _usable(load)
            for column in schema.TABLES[load.table].columns
            if column.kind == schema.ID and schema.ID_FAMILY.get(column.name, column.name) == "patient_id"
            and load.has(column.name)]


def _leading_zeros(loads: dict[str, TableLoad]) -> None:
    """Read ``00100001`` as ``100001`` in every table when that is what makes them join."""
    patients = loads["patients"]
    if not _usable(patients):
        return
    columns = [(load, c) for load, c in _patient_id_columns(loads) if not (load is patients and c == "patient_id")]
    known = patients.data["patient_id"]
    orphans = sum(int((~load.data[c].dropna().isin(known)).sum()) for load, c in columns)
    if not orphans:
        return
    strip = lambda s: s.str.replace(r"^0+(?=\d+$)", "", regex=True)  # noqa: E731  (digits only; "0" stays)
    stripped = strip(patients.data["patient_id"])
    if stripped.duplicated().any():
        return  # two patients would merge: the orphans stay, and the audit names them
    if sum(int((~strip(load.data[c].dropna()).isin(stripped)).sum()) for load, c in columns) >= orphans:
        return
    changed = []
    for load, column in [(patients, "patient_id"), *columns]:
        before = load.data[column]
        load.data[column] = strip(before)
        differ = before.ne(load.data[column]) & before.notna()
        if differ.any():
            changed.append(f"{load.files} (e.g. {before[differ].iloc[0]!r} → {load.data.loc[differ.idxmax(), column]!r})")
    patients.notes.append(PlaybookError(
        f"patient ids are written with leading zeros in some exports and without in others: read without the "
        f"zeros so they match ({'; '.join(changed)})", path=patients.path, column=patients.header_of("patient_id"),
        fix="nothing to do if these are the same patients; otherwise export the tables again from one system",
        zh=f"部分导出的患者编号前面补了0、其余没有：已统一去掉前导0以便匹配（{'；'.join(changed)}）"))


def _phone_like_ids(loads: dict[str, TableLoad]) -> None:
    """Ids that are mobile numbers get a masked, unique pseudonym, the same in every table."""
    families: dict[str, list[tuple[TableLoad, str]]] = {}
    for load in loads.values():
        if not _usable(load):
            continue
        for column in schema.TABLES[load.table].columns:
            if column.kind == schema.ID and load.has(column.name):
                families.setdefault(schema.ID_FAMILY.get(column.name, column.name), []).append((load, column.name))
    for family, members in families.items():
        values = pd.unique(pd.concat([load.data[c] for load, c in members]).dropna().to_numpy(dtype=object))
        lengths = np.char.str_len(values.astype(str)) if len(values) else np.array([], int)
        candidates = pd.Series(values[(lengths >= 11) & (lengths <= 16)], dtype="str")  # a quick cut before the pattern
        phone = candidates[privacy.looks_like_mobile(candidates)]
        if phone.empty:
            continue
        mapping = privacy.pseudonyms(phone)
        for load, column in members:
            load.data[column] = load.data[column].replace(mapping)
        load = members[0][0]
        load.notes.append(PlaybookError(
            f"{len(phone):,} {family} {i18n.plural(len(phone), 'value looks', 'values look')} like mobile phone numbers: every output shows them masked "
            f"(138****5678, unique, so the tables still join)", path=load.path, column=load.header_of(members[0][1]),
            fix="nothing to do; to see real ids in the report, export the clinic system's own numbers (病历号) instead",
            zh=f"{len(phone)} 个编号看起来是手机号：所有输出中一律脱敏显示（如 138****5678，保持唯一，表间仍可匹配）"))


# --- what can move a KPI -----------------------------------------------------------------------------

def _entry(load: TableLoad, what: str, data: pd.DataFrame, mask: pd.Series, column: str | None,
           fix: str | None = None) -> HealthEntry:
    rows = int(mask.sum())
    parts = load.where(data, mask)
    return HealthEntry(load.table, what, rows, rows / max(load.data_rows, 1), path=parts[0][0].path if parts else load.path,
                       column=column, first_rows=tuple(parts[0][1][:5]) if parts else (),
                       files=", ".join(p.label for p, _ in parts) or load.files, fix=fix)


def _left_out(loads: dict[str, TableLoad]) -> list[HealthEntry]:
    """Rows of data left out at load: duplicates, missing required values, implausible dates."""
    entries = []
    for load in loads.values():
        for reason in LEFT_OUT:
            dropped = [d for d in load.dropped if d.reason == reason]
            rows = sum(len(d.rows) for d in dropped)
            if rows:
                files = ", ".join(dict.fromkeys(f"{d.path.name}, sheet {d.sheet}" if d.sheet else d.path.name for d in dropped))
                entries.append(HealthEntry(load.table, reason, rows, rows / max(load.data_rows, 1), path=dropped[0].path,
                                           column=dropped[0].column, first_rows=tuple(dropped[0].rows[:5]), files=files,
                                           fix=dropped[0].fix))
    return entries


def _orphans(loads: dict[str, TableLoad]) -> list[HealthEntry]:
    patients = loads["patients"]
    if not _usable(patients):
        return []
    known = patients.data["patient_id"]
    entries = []
    for name in ("visits", "charges"):
        load = loads[name]
        if not _usable(load):
            continue
        data = load.data
        unknown = ~data["patient_id"].isin(known)
        if not unknown.any():
            continue
        header = load.header_of("patient_id")
        example, known_example = data.loc[unknown, "patient_id"].iloc[0], known.iloc[0]
        fix = (f"export patients again covering every year of the {name}, from the same system: {load.files} writes "
               f"ids such as {example!r}, {patients.files} such as {known_example!r}")
        entry = _entry(load, "orphans", data, unknown, header, fix=fix)
        entries.append(entry)
        load.warnings.append(PlaybookError(
            f"{i18n.counted(entry.rows, 'row names', 'rows name')} a patient who is not in the patients export "
            f"({i18n.counted(data.loc[unknown, 'patient_id'].nunique(), 'patient id')}); they count, with channel 'unknown'",
            path=entry.path, column=header, rows=list(entry.first_rows), fix=fix,
            zh=f"{entry.rows} 行对应的患者不在患者档案中（{data.loc[unknown, 'patient_id'].nunique()} 个患者编号），"
               f"已计入，来源渠道记为“未知”；请检查编号格式（如前导0）或补充导出患者档案"))
    return entries


def _no_outcome(load: TableLoad, today: pd.Timestamp) -> list[HealthEntry]:
    """Past appointments still marked booked: the clinic never recorded whether the patient came."""
    if not _usable(load):
        return []
    data = load.data
    export = (load.export_date or today).normalize()
    stale = (data["status"] == "booked") & (data["scheduled_at"] < export)
    if not stale.any():
        return []
    entry = _entry(load, "no_outcome", data, stale, load.header_of("status"))
    load.warnings.append(PlaybookError(
        f"{i18n.counted(entry.rows, 'appointment')} before the export {i18n.plural(entry.rows, 'is', 'are')} still marked booked: counted neither as arrivals "
        f"nor as no-shows", path=entry.path, column=entry.column, rows=list(entry.first_rows),
        fix="record each past appointment's outcome in the clinic system (到诊, 爽约 or 取消) and export again",
        zh=f"{entry.rows} 条导出日前的预约仍为“已预约”：既不算到诊也不算爽约"))
    return [entry]


def _coverage(clinic) -> list[HealthEntry]:
    """The period against the dates of visits and charges.

    A table's data may pause (a holiday, a small clinic's quiet months): a table "stops" before the
    period ends only when the days without data at the end are more than its longest pause inside the
    data (and a week). A period running past every table is trimmed to the data, with a warning; one
    outside the data is an error; one table stopping early while the other goes on is a doubt on the
    KPIs it feeds (revenue for charges), weighed like the others."""
    config, loads = clinic.config, clinic.loads
    spans = {}
    for name in ("visits", "charges"):
        load, column = loads[name], schema.EVENT_DATE[name]
        if _usable(load) and load.data[column].notna().any():
            days = pd.Series(load.data[column].dt.normalize().unique()).sort_values()
            pause = max(int(days.diff().dt.days.max()) if len(days) > 1 else 0, COVERAGE_TOLERANCE_DAYS)
            spans[name] = (days.iloc[0].date(), days.iloc[-1].date(), dt.timedelta(days=pause))
    if not spans:
        return []
    first, last = min(s[0] for s in spans.values()), max(s[1] for s in spans.values())
    period = config.period
    covered = "; ".join(f"{n} {a}–{b}" for n, (a, b, _) in spans.items())
    table = next(iter(spans))
    if period.end < first or period.start > last:
        loads[table].errors.append(PlaybookError(
            f"the period {period.start}–{period.end} lies outside the data ({covered})", path=clinic.folder / "clinic.yaml",
            column="period", fix=f"set the period within the data in clinic.yaml, e.g. period: "
                                 f"{{start: {max(first, last - dt.timedelta(days=364))}, end: {last}}}",
            zh=f"分析期 {period.start} 至 {period.end} 不在数据范围内（{covered}）"))
        return []
    entries = []
    start = first if all(s[0] - period.start > s[2] for s in spans.values()) else period.start
    end = last if all(period.end - s[1] > s[2] for s in spans.values()) else period.end
    days_in = (end - start).days + 1
    if (start, end) != (period.start, period.end):
        days = (start - period.start).days + (period.end - end).days
        share = days / ((period.end - period.start).days + 1)
        en = (f"the period in clinic.yaml ({period.start}–{period.end}) runs past the data ({covered}): every KPI "
              f"covers {start}–{end}, {days} days ({share:.1%}) fewer")
        zh = (f"clinic.yaml 中的分析期（{period.start} 至 {period.end}）超出了数据范围，所有指标按 {start} 至 {end} "
              f"计算，少了 {days} 天（{share:.1%}）")
        clinic.config = config.model_copy(update={"period": Period(start=start, end=end)})
        clinic.configured_period = period
        fix = f"set period: {{start: {start}, end: {end}}} in clinic.yaml, or export the missing months"
        loads[table].warnings.append(PlaybookError(en, path=clinic.folder / "clinic.yaml", column="period", fix=fix, zh=zh))
        entries.append(HealthEntry(table, "period_trimmed", None, share, path=clinic.folder / "clinic.yaml",
                                   column="period", files="clinic.yaml", days=days, en=en, zh=zh, fix=fix))
    for name, (a, b, pause) in spans.items():  # one table stopping early (or starting late) while the other goes on
        missing = max((a - start).days, 0) * (a - start > pause) + max((end - b).days, 0) * (end - b > pause)
        if not missing:
            continue
        load = loads[name]
        en = (f"{load.files} covers {a}–{b}, not the whole period {start}–{end} that the other export covers: "
              f"{missing} days ({missing / days_in:.1%}) without {name}")
        zh = (f"{load.files} 只覆盖 {a} 至 {b}，未覆盖整个分析期 {start} 至 {end}（另一张表覆盖了）：缺 {missing} 天"
              f"（{missing / days_in:.1%}）的{schema.TABLES[name].zh}")
        fix = f"export {name} over the whole period {start}–{end}"
        load.warnings.append(PlaybookError(en, path=load.path, column=load.header_of(schema.EVENT_DATE[name]),
                                           fix=fix, zh=zh))
        entries.append(HealthEntry(name, "short_export", None, missing / days_in, path=load.path,
                                   column=load.header_of(schema.EVENT_DATE[name]), files=load.files, days=missing,
                                   en=en, zh=zh, fix=fix))
    return entries


def _referral_like_channels(load: TableLoad, config) -> None:
    """Channels named like a referral (老客介绍, 朋友推荐) that referral_share does not count (issue 18)."""
    if not _usable(load) or not load.has("source_channel"):
        return
    channels = load.data["source_channel"].dropna()
    counts = channels.value_counts()
    suspects = [c for c in counts.index if c not in config.referral and any(w in c for w in schema.REFERRAL_WORDS)]
    if not suspects:
        return
    listed = ", ".join([*config.referral_channels, *suspects])
    patients = int(counts[suspects].sum())
    load.warnings.append(PlaybookError(
        f"source {i18n.plural(len(suspects), 'channel')} {', '.join(suspects)} ({i18n.counted(patients, 'patient')}) look like referrals but do not count as referral "
        f"(转介绍) in the referral share", path=load.path, column=load.header_of("source_channel"),
        fix=f"if they are referrals, add this line to clinic.yaml: referral_channels: [{listed}]",
        zh=f"来源渠道 {'、'.join(suspects)}（{patients} 位患者）看起来是转介绍，但未计入转介绍占比；如确为转介绍，"
           f"请在 clinic.yaml 中加入：referral_channels: [{listed}]"))
