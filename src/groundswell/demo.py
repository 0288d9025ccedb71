"""Seeding the throwaway demo organization with data from every room that exists."""

from __future__ import annotations

from dataclasses import dataclass

from groundswell.identity import service as identity
from groundswell.identity.domain import Role, Scope
from groundswell.kernel import migrate as migrations
from groundswell.kernel.console import open_database
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
    """Migrate and fill the demo database; a second run finds it seeded and changes nothing."""
    db = open_database(settings, must_exist=False)
    migrations.upgrade(settings.database_url)
    with db.reader() as session:
        if identity.first_owner(session) is not None:
            return DemoLogin(DEMO_EMAIL, DEMO_PASSWORD)
    with db.unit_of_work() as session:
        _org, owner = identity.create_organization(
            session,
            "Acme Air (demo)",
            owner_email=DEMO_EMAIL,
            owner_password=DEMO_PASSWORD,
            owner_name="Olu Owner",
        )
        actor = identity.actor_for_user(owner)
        for email, name, role in DEMO_TEAM:
            identity.create_user(
                session, actor, email=email, name=name, role=role, password=DEMO_PASSWORD
            )
        identity.create_token(
            session, actor, name="demo dashboard (read only)", scopes=[Scope.READ]
        )
    db.dispose()
    return DemoLogin(DEMO_EMAIL, DEMO_PASSWORD)
