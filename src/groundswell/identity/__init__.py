"""Identity and access: organizations, users, sessions, API tokens, and the actor that every
other room receives. Public surface for other rooms:"""

from groundswell.identity.deps import (
    ApiActor,
    ClockDep,
    DbDep,
    PageActor,
    ReadSession,
    SettingsDep,
    csrf_protect,
)
from groundswell.identity.domain import Permission, Role, Scope
from groundswell.identity.service import Actor

__all__ = [
    "Actor",
    "ApiActor",
    "ClockDep",
    "DbDep",
    "PageActor",
    "Permission",
    "ReadSession",
    "Role",
    "Scope",
    "SettingsDep",
    "csrf_protect",
]
