"""The field task state machine and the labels people read.

待安排 pending → 已安排 scheduled → 作业中 working → 已完成 done; any unfinished state → 取消
cancelled (with a reason). A scheduled task whose last machine and volunteer are taken off it goes
back to 待安排 (nobody is on it any more, so it must be arranged again). ``TRANSITIONS`` is the only list of allowed moves; ``service`` checks it
before every state write.
"""

from __future__ import annotations

import enum


class TaskState(enum.StrEnum):
    pending = "pending"
    scheduled = "scheduled"
    working = "working"
    done = "done"
    cancelled = "cancelled"


TASK_STATE_LABELS = {TaskState.pending: "待安排", TaskState.scheduled: "已安排", TaskState.working: "作业中",
                     TaskState.done: "已完成", TaskState.cancelled: "已取消"}
UNFINISHED = (TaskState.pending, TaskState.scheduled, TaskState.working)
TRANSITIONS: dict[TaskState, frozenset[TaskState]] = {
    TaskState.pending: frozenset({TaskState.scheduled, TaskState.cancelled}),
    TaskState.scheduled: frozenset({TaskState.pending, TaskState.working, TaskState.done, TaskState.cancelled}),
    TaskState.working: frozenset({TaskState.done, TaskState.cancelled}),
    TaskState.done: frozenset(),
    TaskState.cancelled: frozenset(),
}


class WorkKind(enum.StrEnum):
    harvest = "harvest"
    drainage = "drainage"
    sowing = "sowing"
    road = "road"
    power = "power"


WORK_KIND_LABELS = {WorkKind.harvest: "抢收", WorkKind.drainage: "排涝", WorkKind.sowing: "抢种",
                    WorkKind.road: "道路抢修", WorkKind.power: "电力保障"}
# Work measured in 亩: these tasks need an area; road repair and power are done when reported done.
AREA_WORK = (WorkKind.harvest, WorkKind.drainage, WorkKind.sowing)
# The machine a kind of work mostly needs, for suggestions.
NEEDED_MACHINE = {WorkKind.harvest: "harvester", WorkKind.drainage: "pump", WorkKind.sowing: "seeder",
                  WorkKind.road: "truck", WorkKind.power: "generator"}


class Priority(enum.IntEnum):
    normal = 1
    urgent = 2
    critical = 3


PRIORITY_LABELS = {Priority.normal: "一般", Priority.urgent: "紧急", Priority.critical: "特急"}


class MachineKind(enum.StrEnum):
    harvester = "harvester"
    tractor = "tractor"
    pump = "pump"
    seeder = "seeder"
    dryer = "dryer"
    truck = "truck"
    generator = "generator"
    other = "other"


MACHINE_KIND_LABELS = {MachineKind.harvester: "收割机", MachineKind.tractor: "拖拉机", MachineKind.pump: "抽水泵",
                       MachineKind.seeder: "播种机", MachineKind.dryer: "烘干机", MachineKind.truck: "运输车",
                       MachineKind.generator: "发电机", MachineKind.other: "其他"}


class MachineState(enum.StrEnum):
    available = "available"
    working = "working"
    repair = "repair"


MACHINE_STATE_LABELS = {MachineState.available: "可调派", MachineState.working: "作业中", MachineState.repair: "维修"}


class OwnerKind(enum.StrEnum):
    enterprise = "enterprise"
    cooperative = "cooperative"
    person = "person"


OWNER_KIND_LABELS = {OwnerKind.enterprise: "企业", OwnerKind.cooperative: "合作社", OwnerKind.person: "个人"}


class OperationState(enum.StrEnum):
    open = "open"
    closed = "closed"


OPERATION_STATE_LABELS = {OperationState.open: "进行中", OperationState.closed: "已结束"}

EVENT_LABELS = {"create": "登记任务", "from_ticket": "由工单转入", "assign": "调派", "release": "释放农机或人员", "unstaffed": "退回待安排",
                "start": "开始作业", "progress": "上报进度", "complete": "完成", "cancel": "取消", "edit": "修改任务"}
