"""The item catalogue: which charge items are traffic, profit or high-value projects.

Tiers and keywords from [S0] (seeds/000, "项目利润维度": 引流项目 / 利润项目 / 高值项目), as listed
in method.md "Project tiers". Real exports name items freely ("种植牙-奥齿泰", "超声波洁牙(全口)"), so an
item is classified by the keywords it contains; the longest matching keyword wins, so that
"儿童龋齿修复" (profit) is not taken for "修复" (high-value). A clinic extends the keywords under
``catalogue:`` in clinic.yaml, and pins exact item names under ``items:``.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import pandas as pd

TRAFFIC, PROFIT, HIGH_VALUE, OTHER = "traffic", "profit", "high_value", "other"

KEYWORDS: dict[str, tuple[str, ...]] = {
    TRAFFIC: ("洁牙", "超声波洁牙", "洗牙", "涂氟", "检查", "口腔检查", "全口检查", "全景片", "X光片", "CBCT", "窝沟封闭"),
    PROFIT: ("补牙", "树脂补牙", "充填", "根管治疗", "根管", "拔牙", "智齿拔除", "儿童龋齿修复", "牙周治疗"),
    HIGH_VALUE: ("种植", "种植牙", "种植体", "正畸", "隐形矫正", "矫正", "早期矫正", "烤瓷冠", "全瓷冠", "牙冠",
                 "修复", "贴面", "嵌体"),
}
# When two tiers match keywords of the same length, the higher tier wins.
_RANK = {TRAFFIC: 1, PROFIT: 2, HIGH_VALUE: 3}


def classify_items(items: pd.Series, *, extra_keywords: Mapping[str, Sequence[str]] | None = None,
                   pinned: Mapping[str, str] | None = None) -> pd.Series:
    """The tier of each item: ``traffic``, ``profit``, ``high_value`` or ``other`` (registration, drugs …)."""
    keywords = [(kw, tier) for tier, kws in KEYWORDS.items() for kw in kws]
    keywords += [(kw, tier) for tier, kws in (extra_keywords or {}).items() for kw in kws]
    # Longest keyword first, then the higher tier: the first match is the answer.
    keywords.sort(key=lambda kt: (-len(kt[0]), -_RANK[kt[1]]))
    pinned = dict(pinned or {})

    def tier_of(item: str) -> str:
        if item in pinned:
            return pinned[item]
        return next((tier for kw, tier in keywords if kw in item), OTHER)

    distinct = pd.unique(items.dropna())
    lookup = {item: tier_of(str(item)) for item in distinct}
    return items.map(lookup).fillna(OTHER).astype("str")
