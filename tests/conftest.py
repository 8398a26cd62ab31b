"""Shared fixtures: the hand-worked clinic of test_kpis.py, written as real Chinese exports."""
from __future__ import annotations

import functools

import pytest

PATIENTS = """患者档案导出
病历号,姓名,手机号,客户来源
P1,张三,13800000001,美团
P2,李四,13800000002,美团
P3,王五,13800000003,转介绍
P4,赵六,13800000004,转介绍
P5,钱七,13800000005,抖音
P6,孙八,13800000006,自然到店
"""
VISITS = """预约编号,病历号,预约时间,到诊状态,初复诊
V1,P1,2024/1/10 10:00,已到诊,初诊
V2,P1,2025/1/9 10:00,已到诊,复诊
V3,P2,2024-03-01 09:30,到诊,初诊
V4,P2,2025-03-02 09:30,已就诊,复诊
V5,P3,2024年5月5日 09:00,已到诊,初诊
V6,P3,2024年5月5日 15:00,已到诊,复诊
V7,P3,2024/6/1,爽约,复诊
V8,P4,2023/12/20,已到诊,初诊
V9,P4,2024/2/1,已到诊,复诊
V10,P5,2024/7/1,未到,初诊
V11,P5,2024/7/3,已到诊,初诊
V12,P6,2024/8/1,已取消,初诊
V13,P7,2024/9/1,已到诊,初诊
"""
CHARGES = """收费明细表 2023年12月-2025年7月
收费单号,病历号,收费时间,收费项目,实收金额
C1,P1,2024/2/9 16:00,树脂补牙,300
C2,P2,2024/3/1,超声波洁牙,200
C3,P2,2024/4/1,根管治疗,800
C4,P3,2024/5/5,种植牙,"¥10,000.00"
C5,P4,2023/12/20,超声波洁牙,150
C6,P4,2024/2/1,拔牙,500
C7,P5,2024/7/20,全瓷冠,3000
C8,P5,2024/8/1,全瓷冠,-3000
C9,P7,2024/9/1,口腔检查,100
C10,P1,2025/7/1,树脂补牙,999
合计,,,,"¥13,049.00"
"""
CONFIG = """clinic_id: hand_worked
name: 手算门诊
period: {start: 2024-01-01, end: 2025-06-30}
lang: zh
"""


def write_hand_clinic(parent):
    folder = parent / "hand_worked"
    folder.mkdir()
    (folder / "clinic.yaml").write_text(CONFIG, encoding="utf-8")
    (folder / "patients.csv").write_text(PATIENTS, encoding="gb18030")
    (folder / "visits.csv").write_text(VISITS, encoding="utf-8-sig")
    (folder / "charges.csv").write_text(CHARGES, encoding="utf-8")
    return folder


@pytest.fixture()
def hand_clinic(tmp_path):
    return write_hand_clinic(tmp_path)




# The whole-clinic runs every session shares: with `make test`'s two workers (pytest-xdist), the test files
# that use one go to the same worker, so each run happens once; every other file goes whole to either worker.
SHARED_RUNS = ("sample_run", "english_runs", "drawn_charts")


def pytest_xdist_make_scheduler(config, log):
    from xdist.scheduler import LoadScopeScheduling

    @functools.cache
    def uses_shared_runs(path: str) -> bool:
        source = (config.rootpath / path).read_text(encoding="utf-8")
        return any(name in source for name in SHARED_RUNS)

    class SharedRunsTogether(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return "shared runs" if uses_shared_runs(path) else path

    return SharedRunsTogether(config, log)


@pytest.fixture(scope="session")
def sample_run(tmp_path_factory):
    """A bundled sample clinic run end to end, once per session: ``sample_run("children_clinic")``."""
    from playbook import runner
    from playbook.config import SAMPLES_DIR

    runs = {}

    def run(name: str):
        if name not in runs:
            result = runner.run_clinic(SAMPLES_DIR / name, tmp_path_factory.mktemp(name))
            assert result.ok, result.error
            runs[name] = result
        return runs[name]

    return run


@pytest.fixture(scope="session")
def english_runs(tmp_path_factory):
    """Both samples copied with ``lang: en`` and run end to end, side by side: {name: (folder, report.html)};
    the chapters' executed notebooks stand beside report.html."""
    import shutil

    from playbook.batch import OK, run_clinics
    from playbook.config import SAMPLES_DIR

    root = tmp_path_factory.mktemp("english")
    for name in ("general_clinic", "children_clinic"):
        shutil.copytree(SAMPLES_DIR / name, root / "clinics" / name)
        config = root / "clinics" / name / "clinic.yaml"
        config.write_text(config.read_text(encoding="utf-8").replace("lang: zh", "lang: en"), encoding="utf-8")
    results = run_clinics([root / "clinics"], root / "out", jobs=2, show_progress=False)
    assert all(r.status == OK for r in results), [r.detail for r in results]
    return {name: (root / "clinics" / name, root / "out" / name / "report.html")
            for name in ("general_clinic", "children_clinic")}


@pytest.fixture(scope="session")
def drawn_charts():
    """Every chart of both sample clinics in both languages, drawn once for the chart tests: dicts of
    sample, lang, name, result, figure, ax, caption (the sentence the report shows under it), own names."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from playbook import kpis, load_clinic, plotting
    from playbook.config import SAMPLES_DIR
    from test_chart_text import SAMPLES, _own_names, _results

    drawn = []
    for sample in SAMPLES:
        clinic = load_clinic(SAMPLES_DIR / sample)
        names = _own_names(clinic)
        results = [(n, r) for n, r in _results(clinic, sample == "general_clinic") if getattr(r, "available", True)]
        for lang in ("zh", "en"):
            plotting.set_theme(lang)
            for name, result in results:
                figure, ax = plt.subplots(figsize=(9, 4.2))
                result.plot(ax=ax, lang=lang)
                caption = (result.trend_finding(lang) if isinstance(result, kpis.HeadlineKpis)
                           else result.finding(lang) if hasattr(result, "finding") else "")
                drawn.append(dict(sample=sample, lang=lang, name=name, result=result, figure=figure, ax=ax,
                                  caption=caption, own=names))
    yield drawn
    for chart in drawn:
        plt.close(chart["figure"])
