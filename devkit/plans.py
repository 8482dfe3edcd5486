"""Two sample college plans written for the tests (Chinese), one page per string.

THOROUGH settles every dimension of the rubric with concrete detail; GAPPED is a typical first
draft: it covers enterprise participation, names a few things in passing and leaves the rest
out (it even says that no council exists yet). GAPPED_EXPECTED is what a reviewer would grade.
"""

from __future__ import annotations

THOROUGH_TITLE = "滨江职业技术学院智能制造产教融合实施方案（2025—2027年）"

THOROUGH = [
    THOROUGH_TITLE
    + """
一、治理机制
学院与合作企业共同组建智能制造产业学院理事会，理事会由学院、企业、行业协会和市科技局代表组成。理事会章程明确议事规则和决策规则，重大事项须经三分之二以上理事同意。理事会每季度召开一次例会，每年召开一次全体会议。
二、企业参与
企业全程参与专业设置和人才培养方案的制定，每年共同修订专业标准。校企共同开发课程12门，共同编写活页式教材6部。企业导师承担专业核心课程教学，学生考核由企业参与评价。
三、利益与成本分担
双方按出资比例分担建设成本，设备投入按评估价值折算。社会培训和技术服务收入按学院四成、企业六成进行收益分配。合作中产生的知识产权归属在项目合同中事先约定，协议明确违约责任和退出机制。""",
    """四、科研与技术转移
联合市智能制造研究院共建技术研发中心，设立两个技能大师工作室。每年承接企业横向课题不少于10项，开展技术服务和技术攻关。建立成果转化台账，专利转让和许可收益按约定奖励成果完成人。
五、实践教学与实训基地
校企共建生产性实训基地，面积3000平方米，向区域内职业院校和企业员工开放。实践教学学时占总学时的55%以上。学生第三学年进入企业开展岗位实习，承担真实项目。
六、师资队伍
到2027年“双师型”教师占专业课教师的比例达到70%。专业教师每年到企业实践不少于一个月。聘请企业技术骨干担任兼职教师30名，设立流动岗位，实行校企互聘。
七、经费与融资
三年项目经费预算共1200万元，其中企业投入600万元，学院自筹300万元，申请省级财政专项和奖补资金300万元。与合作银行签订贷款协议用于设备更新，为实训设备购买财产保险，引入社会资本参与实训基地运营。""",
    """八、政策依据
本方案依据《中华人民共和国职业教育法》（2022年修订）、《国务院办公厅关于深化产教融合的若干意见》和《国家职业教育改革实施方案》制定，合作企业申报产教融合型企业，享受组合式激励政策。
九、质量评价
设置考核指标：毕业生就业率不低于95%，专业对口率不低于80%，企业满意度不低于90%，职业技能等级证书获取率不低于85%。每年开展年度评价，委托第三方评价机构评估，结果写入学校质量年度报告。
十、可持续性
合作期限为五年，期满前六个月协商续约。建立长效机制，把合作成效纳入双方年度考核。制定风险预案，设立阶段目标和里程碑，每年复盘。
十一、学徒制与订单培养
与企业开展现代学徒制试点，每年招收学徒40人，学徒、企业和学院签订三方协议，实行学校教师与企业师傅双导师制。开设订单班两个，每班30人。
十二、学生权益保障
学生实习前签订实习协议，明确岗位、时长和实习报酬。学院为实习学生购买实习责任保险，企业开展安全教育和安全管理。""",
]

GAPPED_TITLE = "临江职业学院校企合作工作方案（征求意见稿）"

GAPPED = [
    GAPPED_TITLE
    + """
一、合作概况
学院与本地三家企业开展校企合作，企业参与制定人才培养方案，并派出企业导师参与部分课程教学。
二、实践教学
学院将进一步加强实践教学，增加实践内容。
三、师资
鼓励教师考取相关证书，逐步提高“双师型”教师比例。""",
    """四、管理
目前尚未建立理事会等共同决策机构，合作事项由学院教务处与企业人事部门临时协商。
五、经费
合作经费由学院年度预算统筹安排。
六、其他
学生到企业实习，由企业安排岗位。合作企业可根据需要开设订单班。""",
]

GAPPED_EXPECTED = {
    "governance": "missing",
    "enterprise_depth": "covered",
    "benefit_sharing": "missing",
    "research_transfer": "missing",
    "practical_teaching": "partial",
    "faculty": "partial",
    "funding": "partial",
    "policy_alignment": "missing",
    "quality_evaluation": "missing",
    "sustainability": "missing",
    "apprenticeship": "partial",
    "student_protection": "missing",
}


def as_docx_blocks(pages: list[str]) -> list[tuple[str, str]]:
    """The plan as DOCX blocks: the first line a title, "一、…" lines headings."""
    blocks: list[tuple[str, str]] = []
    for page in pages:
        for line in page.strip().splitlines():
            if not blocks:
                blocks.append(("h1", line))
            elif len(line) < 20 and line[:2].rstrip("、").strip() and "、" in line[:4]:
                blocks.append(("h2", line))
            else:
                blocks.append(("p", line))
    return blocks
