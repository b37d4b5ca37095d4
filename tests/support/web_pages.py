"""Web pages of generated prose in columns, English and Chinese, for the layout tests and the
layout benchmark, and how much of the true text's reading order a window kept (``kept_runs``)."""

from __future__ import annotations

import os
import random
import re

NAMES = "Alice Bruno Chen Dana Emil Farah Goran Hana Ivan Julia Kofi Lena Marco Nadia Oskar Priya".split()
VERBS = "reviewed shipped drafted signed rejected moved printed archived booked cancelled measured painted".split()
THINGS = "report invoice garden ticket contract bridge server boat budget letter engine ladder".split()
PLACES = "Rotterdam Lisbon Oslo Kyoto Denver Nairobi Quito Perth Madrid Cairo Dublin Seoul".split()
ZH_WHO = ["李明", "王芳", "张伟", "刘洋", "陈静", "杨帆", "赵磊", "黄敏"]
ZH_DID = ["检查了", "提交了", "修改了", "打印了", "签署了", "取消了", "整理了", "发送了"]
ZH_WHAT = ["季度报告", "运输合同", "仓库清单", "预算方案", "会议记录", "客户发票", "测试计划", "维修申请"]
ZH_WHERE = ["上海", "深圳", "成都", "杭州", "西安", "南京", "武汉", "青岛"]


def prose(seed: int, sentences: int) -> str:
    rnd = random.Random(seed)
    return " ".join(
        f"{rnd.choice(NAMES)} {rnd.choice(VERBS)} the {rnd.choice(THINGS)} in {rnd.choice(PLACES)} on day "
        f"{rnd.randint(1, 300)} and then {rnd.choice(VERBS)} {rnd.randint(2, 90)} {rnd.choice(THINGS)}s."
        for _ in range(sentences)
    )


def zh_prose(seed: int, sentences: int) -> str:
    rnd = random.Random(seed)
    return "".join(
        f"{rnd.choice(ZH_WHO)}在{rnd.choice(ZH_WHERE)}{rnd.choice(ZH_DID)}{rnd.choice(ZH_WHAT)}，"
        f"然后{rnd.choice(ZH_DID)}{rnd.randint(2, 90)}份{rnd.choice(ZH_WHAT)}。"
        for _ in range(sentences)
    )


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def han(text: str) -> list[str]:
    return re.findall(r"[\u4e00-\u9fff0-9]", text)


def runs(tokens: list[str], n: int = 6) -> list[tuple[str, ...]]:
    return [tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]


def kept_runs(truth: str, window: str, units) -> float:
    """Share of the true text's 6-unit runs (words; characters for Chinese) found in the window."""
    want, have = runs(units(truth)), set(runs(units(window)))
    return sum(r in have for r in want) / len(want)


def page(tmp_path, columns: list[str], *, title: str, lang: str = "en") -> os.PathLike:
    family = "'Noto Sans CJK SC', sans-serif" if lang == "zh" else "'DejaVu Sans', sans-serif"
    body = "".join(f'<div class="col">{"".join(f"<p>{p}</p>" for p in col.split("|"))}</div>' for col in columns)
    path = tmp_path / "page.html"
    path.write_text(
        f'<html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title><style>'
        f"body {{ font-family: {family}; font-size: 18px; line-height: 1.5; margin: 40px; color: #111;"
        " background: #fff; hyphens: none; } .row { display: flex; gap: 56px; } .col { flex: 1; }"
        " h1 { font-size: 30px; }"
        f'</style></head><body><h1>{title}</h1><div class="row">{body}</div></body></html>',
        encoding="utf-8",
    )
    return path
