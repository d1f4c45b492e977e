"""Demo data for the organisation chapter: the company's people, groups and posts."""

from __future__ import annotations

from datetime import date

from mktapp.auth.services import create_user, ensure_roles
from mktapp.extensions import db
from mktapp.models import Group, Post

# Duties from the policy's P1.2, in the company's words.
POSTS = [
    (
        "marketing_manager",
        "营销经理",
        "全面负责营销部门的日常管理工作，制定营销战略、计划与预算，并组织实施。\n"
        "领导和管理市场组、业务组和客服组团队，协调部门内部工作，确保各项营销任务顺利完成。\n"
        "分析市场动态、竞争对手情况及客户需求，为公司产品研发、营销策略调整提供决策依据。\n"
        "拓展市场渠道，建立和维护良好的客户关系，提升公司品牌知名度与市场份额。\n"
        "监督营销费用的使用情况，控制营销成本，确保营销活动的效益最大化。",
    ),
    (
        "market_specialist",
        "市场专员",
        "开展市场调研，收集市场信息、行业动态、竞争对手资料等，进行分析整理，为公司营销决策提供支持。\n"
        "协助制定品牌推广计划，负责公司品牌形象宣传，包括广告投放、公关活动策划与执行等。\n"
        "策划并执行市场推广活动，如线上线下促销活动、展会活动等，吸引潜在客户，提升品牌曝光度。\n"
        "维护公司网站、社交媒体账号等线上平台，更新内容，发布产品信息与营销资讯，增加网站流量与粉丝互动。\n"
        "协助业务组进行客户开发，提供市场线索与潜在客户信息。",
    ),
    (
        "sales_rep",
        "业务员",
        "负责客户开发与销售业务拓展，通过电话营销、陌生拜访、网络营销等方式寻找潜在客户，建立客户关系。\n"
        "了解客户需求，向客户介绍公司产品与服务，提供解决方案，促成销售订单签订。\n"
        "维护现有客户关系，定期回访客户，了解客户使用产品情况，及时解决客户问题，提高客户满意度与忠诚度，促进客户二次购买与长期合作。\n"
        "收集客户反馈信息，及时反馈给相关部门，为公司产品改进与服务优化提供建议。\n"
        "完成个人销售业绩指标，参与团队销售目标的达成。",
    ),
    (
        "service_agent",
        "客服人员",
        "负责接听客户咨询电话、回复客户邮件与在线留言，解答客户关于产品与服务的疑问。\n"
        "处理客户投诉与纠纷，及时跟进解决客户问题，确保客户得到满意的处理结果，维护公司良好形象。\n"
        "协助业务组完成销售订单的跟进工作，如订单确认、发货通知、物流查询等，确保订单顺利执行。\n"
        "收集客户反馈信息，整理分析后反馈给相关部门，为公司产品改进与服务优化提供依据。\n"
        "定期对客户服务工作进行总结与分析，提出改进措施与建议，不断提升客户服务质量。",
    ),
    (
        "finance",
        "财务专员",
        "审核营销费用报销申请，核对票据与预算。\n"
        "定期统计营销费用支出，与预算对比分析，发现异常及时向营销经理反馈。\n"
        "办理已批准费用的支付。",
    ),
    (
        "executive",
        "公司领导",
        "审批营销战略、年度预算与重大合同。\n对营销费用作最终审批。",
    ),
    (
        "admin",
        "系统管理员",
        "维护系统账号、角色与设置。\n负责系统数据备份与安全。",
    ),
]

GROUPS = [
    ("market", "市场组", "负责市场调研、品牌推广等工作。"),
    ("sales", "业务组", "负责客户开发、销售业务拓展。"),
    ("service", "客服组", "负责客户关系维护、售后服务等工作。"),
]

# username, name, roles, group, post, e-mail, phone
USERS = [
    ("admin", "系统管理员", ["admin"], None, "admin", "admin@example.cn", "021-5555-0100"),
    (
        "manager",
        "王建国",
        ["marketing_manager"],
        None,
        "marketing_manager",
        "wang.jianguo@example.cn",
        "138-0000-0001",
    ),
    (
        "market1",
        "李晓梅",
        ["market_specialist"],
        "market",
        "market_specialist",
        "li.xiaomei@example.cn",
        "138-0000-0011",
    ),
    (
        "market2",
        "赵磊",
        ["market_specialist"],
        "market",
        "market_specialist",
        "zhao.lei@example.cn",
        "138-0000-0012",
    ),
    (
        "sales1",
        "张伟",
        ["sales_rep"],
        "sales",
        "sales_rep",
        "zhang.wei@example.cn",
        "138-0000-0021",
    ),
    ("sales2", "刘洋", ["sales_rep"], "sales", "sales_rep", "liu.yang@example.cn", "138-0000-0022"),
    (
        "sales3",
        "陈静",
        ["sales_rep"],
        "sales",
        "sales_rep",
        "chen.jing@example.cn",
        "138-0000-0023",
    ),
    (
        "service1",
        "杨帆",
        ["service_agent"],
        "service",
        "service_agent",
        "yang.fan@example.cn",
        "138-0000-0031",
    ),
    (
        "service2",
        "黄丽",
        ["service_agent"],
        "service",
        "service_agent",
        "huang.li@example.cn",
        "138-0000-0032",
    ),
    ("finance1", "周敏", ["finance"], None, "finance", "zhou.min@example.cn", "138-0000-0041"),
    (
        "boss",
        "孙志强",
        ["executive"],
        None,
        "executive",
        "sun.zhiqiang@example.cn",
        "138-0000-0051",
    ),
]

LEADERS = {"market": "market1", "sales": "sales3", "service": "service1"}


def seed(ctx: dict) -> None:
    """Roles, posts, groups and the eleven demo accounts."""
    ensure_roles()
    for i, (code, name, duties) in enumerate(POSTS):
        db.session.add(Post(code=code, name=name, duties=duties, sort=i))
    for i, (code, name, description) in enumerate(GROUPS):
        db.session.add(Group(code=code, name=name, description=description, sort=i))
    db.session.flush()
    users = {}
    for username, name, roles, group, post, email, phone in USERS:
        user = create_user(
            username=username,
            display_name=name,
            password=ctx["password"],
            hash_method=ctx["hash_method"],
            roles=roles,
            group_code=group,
            post_code=post,
            email=email,
            phone=phone,
        )
        user.joined_on = date(2024, 3, 1)
        db.session.flush()
        users[username] = user
    db.session.flush()
    for group in db.session.scalars(db.select(Group)):
        group.leader = users[LEADERS[group.code]]
    ctx["users"] = users
