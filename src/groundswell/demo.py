"""Seeding the throwaway demo organization with data from every room that exists."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from groundswell.care.demo_seed import seed_care
from groundswell.governance import accounts
from groundswell.governance.vault import Vault
from groundswell.identity import service as identity
from groundswell.identity.domain import Role, Scope
from groundswell.identity.service import Actor
from groundswell.kernel import migrate as migrations
from groundswell.kernel.clock import SystemClock
from groundswell.kernel.console import open_database
from groundswell.kernel.errors import Conflict
from groundswell.kernel.settings import Settings

DEMO_EMAIL = "owner@demo.groundswell.local"
DEMO_PASSWORD = "groundswell-demo"  # noqa: S105  # a throwaway demo: the password is printed anyway
DEMO_TEAM = (
    ("hub@demo.groundswell.local", "Hana Hub", Role.MANAGER),
    ("agent@demo.groundswell.local", "Ari Agent", Role.AGENT),
    ("writer@demo.groundswell.local", "Cleo Contributor", Role.CONTRIBUTOR),
    ("exec@demo.groundswell.local", "Vik Viewer", Role.VIEWER),
)


@dataclass(frozen=True)
class DemoLogin:
    email: str
    password: str


def seed(settings: Settings) -> DemoLogin:
    """Migrate and fill the demo database; a second run finds it seeded and changes nothing.
    Refuses a data folder that holds a real (non-demo) organization."""
    db = open_database(settings, must_exist=False)
    migrations.upgrade(settings.database_url)
    with db.reader() as session:
        owner = identity.first_owner(session)
    if owner is not None:
        db.dispose()
        if owner.email != DEMO_EMAIL:
            raise Conflict(
                f"{settings.data_dir} holds a real organization (owner {owner.email}); "
                "the demo needs a folder of its own: pass --data-dir."
            )
        return DemoLogin(DEMO_EMAIL, DEMO_PASSWORD)
    vault = Vault.open(settings.data_dir)
    with db.unit_of_work() as session:
        _org, owner = identity.create_organization(
            session,
            "Aurora Air (demo)",
            owner_email=DEMO_EMAIL,
            owner_password=DEMO_PASSWORD,
            owner_name="Olu Owner",
        )
        actor = identity.actor_for_user(owner)
        people = {}
        for email, name, role in DEMO_TEAM:
            user = identity.create_user(
                session, actor, email=email, name=name, role=role, password=DEMO_PASSWORD
            )
            people[email] = user.id
        identity.create_token(
            session, actor, name="demo dashboard (read only)", scopes=[Scope.READ]
        )
        _seed_brand_accounts(session, actor, vault)
        seed_care(session, actor, people, settings, SystemClock().now())
    db.dispose()
    return DemoLogin(DEMO_EMAIL, DEMO_PASSWORD)


def _seed_brand_accounts(session: Session, actor: Actor, vault: Vault) -> None:
    """Three accounts: one well held, one held by a single admin (an orphan risk), and an
    employee's personal-brand account with its ownership agreement noted."""
    accounts.create_account(
        session,
        actor,
        network="bluesky",
        handle="acmeair.bsky.social",
        url="https://bsky.app/profile/acmeair.bsky.social",
        unit="hub",
        purpose="Brand voice",
        business_owner=DEMO_EMAIL,
        admins=["hub@demo.groundswell.local", "agent@demo.groundswell.local"],
    )
    accounts.set_credential(
        session,
        actor,
        vault,
        "bluesky:acmeair.bsky.social",
        "app_password",
        "demo-app-password-0000",
    )
    accounts.create_account(
        session,
        actor,
        network="mastodon",
        handle="@acmeair@mastodon.social",
        url="https://mastodon.social/@acmeair",
        unit="customer care",
        purpose="Care replies",
        business_owner="hub@demo.groundswell.local",
        admins=["agent@demo.groundswell.local"],
    )
    accounts.create_account(
        session,
        actor,
        network="x",
        handle="@ari_flies",
        unit="customer care",
        purpose="Ari's personal account, used for advocacy",
        business_owner=DEMO_EMAIL,
        admins=["agent@demo.groundswell.local"],
        employee="agent@demo.groundswell.local",
        ownership_agreement="Followers stay with Ari; brand content removed on leaving (signed 2026-03-02)",
    )
