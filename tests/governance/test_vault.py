"""The credential vault: where keys come from, encryption at rest, key rotation, wrong keys."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from groundswell.governance import accounts
from groundswell.governance.tables import AccountCredential
from groundswell.governance.vault import (
    ENV_VAR,
    KeySource,
    Vault,
    VaultKeyError,
    check_all,
    generate_key,
    key_file,
    load_keys,
    rotate_key,
)
from groundswell.identity.domain import Role
from groundswell.kernel import audit
from groundswell.kernel.clock import FrozenClock
from groundswell.kernel.db import Database
from groundswell.kernel.settings import Settings
from tests.builders import Person, make_org, make_user

SYSTEM = audit.AuditActor(None, "test", None)


@pytest.fixture(autouse=True)
def _no_env_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)


def _secrets(db: Database, owner: Person, data_dir: Path, n: int) -> dict[str, str]:
    """n accounts with one credential each; returns account id -> plain secret."""
    admin = make_user(db, owner, Role.ADMIN)
    plain: dict[str, str] = {}
    with db.unit_of_work() as session:
        vault = Vault.open(data_dir)
        for i in range(n):
            account = accounts.create_account(
                session, owner.actor, network="x", handle=f"brand{i}", admins=[admin.email]
            )
            plain[account.id] = f"s3cret-value-{i}-{account.id[:8]}"
            accounts.set_credential(
                session, owner.actor, vault, account.id, "password", plain[account.id]
            )
    return plain


def _read_all(db: Database, vault: Vault) -> dict[str, str]:
    with db.reader() as session:
        rows = session.execute(select(AccountCredential)).scalars().all()
        return {r.account_id: vault.decrypt(r.ciphertext) for r in rows}


def test_first_use_creates_a_key_file_readable_only_by_its_owner(tmp_path: Path) -> None:
    source = load_keys(tmp_path)
    path = key_file(tmp_path)
    assert source.path == path
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(source.keys) == 1
    # A second use reads the same key instead of making a new one.
    assert load_keys(tmp_path).keys == source.keys


def test_keys_from_the_environment_win_and_never_touch_the_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    new, old = generate_key(), generate_key()
    monkeypatch.setenv(ENV_VAR, f"{new.decode()}, {old.decode()}")
    source = load_keys(tmp_path)
    assert source.keys == (new, old)
    assert source.path is None
    assert not key_file(tmp_path).exists()
    # Encrypts with the newest key, reads what the older key wrote.
    vault = Vault.open(tmp_path)
    assert vault.decrypt(Vault(KeySource((old,), None)).encrypt("written before")) == (
        "written before"
    )
    assert Fernet(new).decrypt(vault.encrypt("fresh").encode()) == b"fresh"


def test_malformed_key_is_refused_without_echoing_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV_VAR, "not-a-real-key-but-maybe-a-typo")
    with pytest.raises(VaultKeyError) as info:
        load_keys(tmp_path)
    assert "not a Fernet key" in info.value.message
    assert "not-a-real-key" not in info.value.message


def test_secrets_are_encrypted_at_rest_and_the_key_is_not_in_the_database(
    db: Database, settings: Settings
) -> None:
    owner = make_org(db)
    plain = _secrets(db, owner, settings.data_dir, 3)
    key = key_file(settings.data_dir).read_bytes().strip()
    with db.reader() as session:
        rows = session.execute(select(AccountCredential)).scalars().all()
        assert len(rows) == 3
        for row in rows:
            assert plain[row.account_id] not in row.ciphertext
            assert key.decode() not in row.ciphertext
    if db.is_sqlite:
        db.dispose()  # checkpoint the WAL so the file holds everything
        raw = b"".join(
            p.read_bytes() for p in settings.data_dir.glob("groundswell.db*") if p.is_file()
        )
        assert raw, "the SQLite file was not found"
        for secret in plain.values():
            assert secret.encode() not in raw
        assert key not in raw


def test_rotation_keeps_every_secret_readable_and_drops_the_old_key(
    db: Database, settings: Settings
) -> None:
    owner = make_org(db)
    plain = _secrets(db, owner, settings.data_dir, 25)
    old_keys = load_keys(settings.data_dir).keys
    result = rotate_key(db, settings.data_dir, SYSTEM, FrozenClock())
    assert result.reencrypted == 25
    assert result.new_key_generated
    new_source = load_keys(settings.data_dir)
    assert len(new_source.keys) == 1
    assert new_source.keys[0] not in old_keys
    assert stat.S_IMODE(key_file(settings.data_dir).stat().st_mode) == 0o600
    # Readable with the new key alone; the old key opens nothing any more.
    assert _read_all(db, Vault(new_source)) == plain
    with db.reader() as session:
        for token in session.execute(select(AccountCredential.ciphertext)).scalars():
            assert not Vault(KeySource(old_keys, None)).can_decrypt(token)
    with db.reader() as session:
        assert audit.verify_chain(session).ok


def test_rotation_can_keep_the_old_key_for_reading(db: Database, settings: Settings) -> None:
    owner = make_org(db)
    plain = _secrets(db, owner, settings.data_dir, 2)
    old_keys = load_keys(settings.data_dir).keys
    result = rotate_key(db, settings.data_dir, SYSTEM, FrozenClock(), keep_old=True)
    source = load_keys(settings.data_dir)
    assert result.keys_kept == 2
    assert source.keys[1:] == old_keys
    assert _read_all(db, Vault(source)) == plain


def test_a_wrong_key_gives_a_clear_error_and_loses_nothing(
    db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner = make_org(db)
    plain = _secrets(db, owner, settings.data_dir, 3)
    right = key_file(settings.data_dir).read_bytes()
    with db.reader() as session:
        before = sorted(session.execute(select(AccountCredential.ciphertext)).scalars())

    monkeypatch.setenv(ENV_VAR, generate_key().decode())
    wrong = Vault.open(settings.data_dir)
    with pytest.raises(VaultKeyError) as info:
        _read_all(db, wrong)
    assert ENV_VAR in info.value.message
    assert "Nothing was changed" in info.value.message
    with pytest.raises(VaultKeyError):
        check_all(db, wrong)
    with pytest.raises(VaultKeyError):
        rotate_key(db, settings.data_dir, SYSTEM, FrozenClock())

    monkeypatch.delenv(ENV_VAR)
    # A wrong key file is refused the same way, and rotation leaves the file alone.
    key_file(settings.data_dir).write_bytes(generate_key() + b"\n")
    with pytest.raises(VaultKeyError):
        rotate_key(db, settings.data_dir, SYSTEM, FrozenClock())
    key_file(settings.data_dir).write_bytes(right)

    with db.reader() as session:
        after = sorted(session.execute(select(AccountCredential.ciphertext)).scalars())
    assert after == before
    assert _read_all(db, Vault.open(settings.data_dir)) == plain


def test_rotation_with_environment_keys_reencrypts_under_the_first(
    db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = generate_key()
    monkeypatch.setenv(ENV_VAR, old.decode())
    owner = make_org(db)
    plain = _secrets(db, owner, settings.data_dir, 4)
    with pytest.raises(VaultKeyError) as info:
        rotate_key(db, settings.data_dir, SYSTEM, FrozenClock())
    assert "generate-key" in info.value.message

    new = generate_key()
    monkeypatch.setenv(ENV_VAR, f"{new.decode()},{old.decode()}")
    result = rotate_key(db, settings.data_dir, SYSTEM, FrozenClock())
    assert result.reencrypted == 4
    assert not result.new_key_generated
    monkeypatch.setenv(ENV_VAR, new.decode())  # the operator drops the old key
    assert _read_all(db, Vault.open(settings.data_dir)) == plain
    assert not key_file(settings.data_dir).exists()
