"""JSON API of the brand-account registry under /api/v1/accounts. Responses never carry a
secret; every route is scoped to the token's organization (permissions: see `accounts`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field

from groundswell.governance import accounts
from groundswell.governance.accounts import AccountInfo, AccountRole, HandoverReport
from groundswell.governance.vault import Vault
from groundswell.identity.deps import ApiActor, ClockDep, DbDep, ReadSession, SettingsDep

router = APIRouter(prefix="/api/v1/accounts", tags=["brand accounts"])


class AccountCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    network: str = Field(min_length=1, max_length=50, examples=["instagram"])
    handle: str = Field(min_length=1, max_length=201, examples=["@acme"])
    url: str = Field(default="", max_length=500)
    unit: str = Field(default="", max_length=200)
    purpose: str = Field(default="", max_length=5000)
    business_owner: str | None = Field(
        default=None, max_length=320, description="Email or id of a user."
    )
    admins: list[str] = Field(
        default_factory=list, max_length=50, description="Emails or ids; at least two advised."
    )
    employee: str | None = Field(
        default=None, max_length=320, description="Personal-brand account of this employee."
    )
    ownership_agreement: str | None = Field(default=None, max_length=5000)


class RoleGrant(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user: str = Field(min_length=1, max_length=320, description="Email or id of a user.")
    role: AccountRole = AccountRole.ADMIN


class CredentialSet(BaseModel):
    model_config = ConfigDict(extra="forbid")

    secret: str = Field(min_length=1, max_length=accounts.MAX_SECRET_CHARS)


class CredentialOut(BaseModel):
    account_id: str
    name: str
    set_at: str
    set_by: str


class HandoverRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    from_user: str = Field(min_length=1, max_length=320, description="The leaver (email or id).")
    to_user: str = Field(min_length=1, max_length=320, description="The successor.")
    dry_run: bool = Field(default=False, description="Only preview; change nothing.")


AccountId = Annotated[str, Path(max_length=260, description="Account id or network:handle.")]
CredName = Annotated[str, Path(min_length=1, max_length=100)]


@router.get("", summary="Brand accounts of your organization")
def list_accounts(actor: ApiActor, session: ReadSession) -> list[AccountInfo]:
    return accounts.describe(session, accounts.list_accounts(session, actor))


@router.post("", status_code=201, summary="Register a brand account")
def create_account(body: AccountCreate, actor: ApiActor, db: DbDep, clock: ClockDep) -> AccountInfo:
    with db.unit_of_work() as session:
        account = accounts.create_account(
            session,
            actor,
            network=body.network,
            handle=body.handle,
            url=body.url,
            unit=body.unit,
            purpose=body.purpose,
            business_owner=body.business_owner,
            admins=body.admins,
            employee=body.employee,
            ownership_agreement=body.ownership_agreement,
            clock=clock,
        )
        return accounts.describe(session, [account])[0]


@router.get("/orphans", summary="Accounts at risk of being orphaned")
def orphans(actor: ApiActor, session: ReadSession) -> list[AccountInfo]:
    return accounts.orphan_report(session, actor)


@router.post("/handover", summary="Hand over everything a leaver holds to a successor")
def handover(body: HandoverRequest, actor: ApiActor, db: DbDep, clock: ClockDep) -> HandoverReport:
    with db.unit_of_work() as session:
        return accounts.handover(
            session, actor, body.from_user, body.to_user, apply=not body.dry_run, clock=clock
        )


@router.get("/{account_id}", summary="One brand account")
def get_account(account_id: AccountId, actor: ApiActor, session: ReadSession) -> AccountInfo:
    return accounts.describe(session, [accounts.access_account(session, actor, account_id)])[0]


@router.post("/{account_id}/roles", summary="Grant admin or business owner")
def grant_role(
    account_id: AccountId, body: RoleGrant, actor: ApiActor, db: DbDep, clock: ClockDep
) -> AccountInfo:
    with db.unit_of_work() as session:
        account = accounts.grant(session, actor, account_id, body.user, body.role, clock=clock)
        return accounts.describe(session, [account])[0]


@router.post("/{account_id}/roles/revoke", summary="Revoke admin or business owner")
def revoke_role(
    account_id: AccountId, body: RoleGrant, actor: ApiActor, db: DbDep, clock: ClockDep
) -> AccountInfo:
    with db.unit_of_work() as session:
        account = accounts.revoke(session, actor, account_id, body.user, body.role, clock=clock)
        return accounts.describe(session, [account])[0]


@router.put(
    "/{account_id}/credentials/{name}",
    summary="Store a credential (encrypted; never returned)",
)
def set_credential(
    account_id: AccountId,
    name: CredName,
    body: CredentialSet,
    actor: ApiActor,
    db: DbDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> CredentialOut:
    with db.unit_of_work() as session:
        cred = accounts.set_credential(
            session,
            actor,
            Vault.open(settings.data_dir),
            account_id,
            name,
            body.secret,
            clock=clock,
        )
        return CredentialOut(
            account_id=cred.account_id,
            name=cred.name,
            set_at=cred.set_at.isoformat(),
            set_by=cred.set_by_label,
        )
