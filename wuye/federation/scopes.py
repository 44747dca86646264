"""OAuth 2 scopes, what each allows, and the scopes each role may hold."""

from __future__ import annotations

from wuye.federation.models import Role

#: scope -> what it allows (zh / en). Shown on the consent page and in the OpenAPI document.
SCOPES: dict[str, str] = {
    "estates:read": "查看小区、楼栋、房屋、业主与员工 / Read estates, units, owners, staff",
    "estates:write": "管理小区、楼栋、房屋、业主与员工 / Manage estates, units, owners, staff",
    "owners:pii": "查看业主完整手机号与证件号 / See owners' full phone and ID numbers",
    "devices:read": "查看设备 / Read devices",
    "devices:write": "登记与配置设备 / Register and configure devices",
    "telemetry:read": "查看设备运行数据与告警 / Read telemetry and alarms",
    "workorders:read": "查看工单 / Read work orders",
    "workorders:write": "创建与派发工单 / Create and dispatch work orders",
    "bills:read": "查看账单与缴费记录 / Read bills and their payments",
    "bills:write": "开具账单、登记缴费 / Issue bills and record payments",
    "votes:read": "查看表决事项 / Read votes",
    "votes:cast": "参与业主表决 / Cast owners' votes",
    "votes:manage": "发起与管理表决 / Create and manage votes",
    "funds:read": "查看专项维修资金 / Read maintenance-fund accounts",
    "funds:write": "记录维修资金收支 / Record maintenance-fund movements",
    "ledger:read": "读取区块链账本 / Read the ledger",
    "ledger:submit": "向账本提交交易 / Submit transactions to the ledger",
    "admin": "平台或企业管理 / Administer the platform or the firm",
}

_ALL_TENANT = {s for s in SCOPES if s != "admin"}

#: role -> scopes a user of that role may be granted.
ROLE_SCOPES: dict[Role, frozenset[str]] = {
    Role.HOST_ADMIN: frozenset(SCOPES),
    Role.TENANT_ADMIN: frozenset(SCOPES),
    Role.TENANT_STAFF: frozenset(_ALL_TENANT - {"owners:pii", "votes:manage", "funds:write"}),
    Role.OWNER: frozenset({"estates:read", "votes:read", "votes:cast", "funds:read"}),
    Role.REGULATOR: frozenset({"ledger:read", "funds:read", "votes:read", "estates:read"}),
    Role.DEVELOPER: frozenset(_ALL_TENANT - {"owners:pii"}),
}
