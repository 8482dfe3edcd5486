"""Three short city regulations on enterprises in vocational education, written by the project
for the comparison tests (advisor/compare.py): each addresses some aspects and not others, so a
correct table is known exactly. They read like LawRefBook's files (an enactment line, then
``<!-- INFO END -->``, then articles)."""

from __future__ import annotations

from pathlib import Path

REGULATIONS: dict[str, str] = {
    "上海市企业参与职业教育促进条例(2021-05-20).md": """# 上海市企业参与职业教育促进条例

2021年5月20日上海市第十五届人民代表大会常务委员会第三十一次会议通过

<!-- INFO END -->

# 上海市企业参与职业教育促进条例

第一条 为了促进企业参与职业教育，培养高素质技术技能人才，制定本条例。

第二条 市人民政府设立企业参与职业教育专项资金，对接收学生实习的企业按每人每月五百元给予补助。

第三条 企业因参与职业教育发生的合理支出，按照国家规定在计算应纳税所得额时扣除。

第四条 对在校企合作中作出突出贡献的企业，市人民政府给予表彰。
""",
    "青岛市企业参与职业教育促进条例(2019-09-10).md": """# 青岛市企业参与职业教育促进条例

2019年9月10日青岛市第十六届人民代表大会常务委员会第十五次会议通过

<!-- INFO END -->

# 青岛市企业参与职业教育促进条例

第一条 为了鼓励企业参与职业教育，推进产教融合，制定本条例。

第二条 市财政每年安排资金不少于三千万元，用于奖励与职业院校共建实训基地的企业。

第三条 企业举办职业教育的，在用地方面予以优先保障，可以按照教育用地供应。

第四条 金融机构为参与职业教育的企业提供贷款的，市财政按照贷款金额的百分之二给予贴息。
""",
    "宁波市企业参与职业教育促进条例(2020-11-27).md": """# 宁波市企业参与职业教育促进条例

2020年11月27日宁波市第十五届人民代表大会常务委员会第三十四次会议通过

<!-- INFO END -->

# 宁波市企业参与职业教育促进条例

第一条 为了支持企业参与职业教育，深化校企合作，制定本条例。

第二条 与职业院校开展校企合作的企业，按照规定享受税收优惠。

第三条 市人民政府对认定为产教融合型企业的，给予一次性奖励五十万元。

第四条 市和区县人民政府可以向企业购买职业培训服务。
""",
}

#: what the table must say: per aspect, per city (in the question's order), a phrase of the
#: cell, or None where the regulation does not address the aspect
EXPECTED = {
    "funding": ("五百元", "三千万元", None),
    "tax": ("应纳税所得额", None, "税收优惠"),
    "finance": (None, "贴息", None),
    "land": (None, "用地", None),
    "procurement": (None, None, "购买职业培训服务"),
}
QUESTION = "上海、青岛、宁波对企业参与职业教育各有什么激励措施？"


def write_regulations(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, text in REGULATIONS.items():
        path = folder / name
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths
