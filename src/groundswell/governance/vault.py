"""The credential vault: brand-account secrets encrypted at rest with Fernet (AES-128-CBC +
HMAC-SHA256, from `cryptography`), under a list of keys handled by `MultiFernet`.

Where the keys come from, first match wins:

1. the environment variable `GROUNDSWELL_VAULT_KEYS`: comma-separated Fernet keys, newest
   first. Read here with `os.environ` on purpose: the keys must never be copied into the
   `Settings` object that gets logged or rendered (the lead will add a `vault_keys: SecretStr`
   setting later; until then this module is the only reader).
2. the key file `<data_dir>/vault.key`: one Fernet key a line, newest first, created with
   permissions 0600 on first use when absent.

Keys never go into the database. The newest key encrypts; every key decrypts, so a rotation
can keep the old key for reading until every secret is re-encrypted under the new one.
Keys are re-read from their source at each use (cheap), so a running server picks up a
rotation made by the CLI without a restart.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import select

from groundswell.governance.tables import AccountCredential
from groundswell.kernel import audit
from groundswell.kernel.clock import Clock
from groundswell.kernel.db import Database
from groundswell.kernel.errors import GroundswellError

ENV_VAR = "GROUNDSWELL_VAULT_KEYS"
KEY_FILE_NAME = "vault.key"


class VaultKeyError(GroundswellError):
    """The vault keys are missing, malformed, or do not open the stored secrets. Raised before
    anything is written, so nothing is lost: fix the keys and try again."""

    code = "vault_key"
    status = 500
    title = "Vault key problem"
    exit_code = 1


@dataclass(frozen=True)
class KeySource:
    """The keys in use, newest first, and where they came from (`path` None: environment)."""

    keys: tuple[bytes, ...]
    path: Path | None

    @property
    def origin(self) -> str:
        return f"the key file {self.path}" if self.path is not None else ENV_VAR


def key_file(data_dir: Path) -> Path:
    return data_dir / KEY_FILE_NAME


def generate_key() -> bytes:
    return Fernet.generate_key()


def _parse(values: list[str], origin: str) -> tuple[bytes, ...]:
    keys: list[bytes] = []
    for position, value in enumerate(values, start=1):
        key = value.strip().encode()
        try:
            Fernet(key)
        except ValueError as exc:
            # Never echo the value: it may be a real key with a typo.
            raise VaultKeyError(
                f"Key {position} in {origin} is not a Fernet key (32 url-safe base64 bytes). "
                "Generate one with `groundswell vault generate-key`."
            ) from exc
        keys.append(key)
    if not keys:
        raise VaultKeyError(f"{origin} holds no key.")
    return tuple(keys)


def write_key_file(path: Path, keys: tuple[bytes, ...]) -> None:
    """Replace the key file atomically; the new file is created 0600 from the start (no window
    in which another user could read it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(b"".join(k + b"\n" for k in keys))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def load_keys(data_dir: Path, *, create: bool = True) -> KeySource:
    """The keys from `GROUNDSWELL_VAULT_KEYS`, else from `<data_dir>/vault.key` (created 0600
    with a fresh key when absent and `create`). Raises VaultKeyError when there is none or a
    key is malformed."""
    env = os.environ.get(ENV_VAR, "").strip()
    if env:
        return KeySource(_parse([v for v in env.split(",") if v.strip()], ENV_VAR), None)
    path = key_file(data_dir)
    if not path.exists():
        if not create:
            raise VaultKeyError(f"No vault key: set {ENV_VAR} or create {path}.")
        write_key_file(path, (generate_key(),))
    try:
        lines = path.read_text().split()
    except OSError as exc:
        raise VaultKeyError(f"Cannot read the vault key file {path}: {exc.strerror}.") from exc
    return KeySource(_parse(lines, f"the key file {path}"), path)


def ensure_key(data_dir: Path) -> KeySource:
    """For `groundswell init`: make sure a key exists (creates `vault.key` if needed)."""
    return load_keys(data_dir, create=True)


class Vault:
    """Encrypts with the newest key, decrypts with any."""

    def __init__(self, source: KeySource) -> None:
        self.source = source
        self._fernet = MultiFernet([Fernet(k) for k in source.keys])

    @classmethod
    def open(cls, data_dir: Path) -> Vault:
        return cls(load_keys(data_dir))

    def encrypt(self, plain: str) -> str:
        return self._fernet.encrypt(plain.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken as exc:
            raise VaultKeyError(
                f"A stored secret cannot be decrypted with the keys from {self.source.origin}: "
                "the key is wrong or missing. Nothing was changed; restore the right key "
                f"(newest first in {ENV_VAR} or {KEY_FILE_NAME}) and try again."
            ) from exc

    def can_decrypt(self, token: str) -> bool:
        try:
            self._fernet.decrypt(token.encode())
        except InvalidToken:
            return False
        return True

    def reencrypt(self, token: str) -> str:
        """The same secret under the newest key (raises VaultKeyError if no key opens it)."""
        try:
            return self._fernet.rotate(token.encode()).decode()
        except InvalidToken as exc:
            self.decrypt(token)  # raises the clear message
            raise AssertionError("unreachable") from exc


@dataclass(frozen=True)
class Rotation:
    """What a rotation did: secrets re-encrypted, keys now in use, where they live."""

    reencrypted: int
    keys_kept: int
    origin: str
    new_key_generated: bool


def check_all(db: Database, vault: Vault) -> int:
    """Raise VaultKeyError unless every stored secret opens with the vault's keys; returns
    how many there are."""
    with db.reader() as session:
        tokens = list(session.execute(select(AccountCredential.ciphertext)).scalars())
    bad = sum(1 for t in tokens if not vault.can_decrypt(t))
    if bad:
        raise VaultKeyError(
            f"{bad} of {len(tokens)} stored secrets cannot be decrypted with the keys from "
            f"{vault.source.origin}. Nothing was changed; restore the right key first."
        )
    return len(tokens)


def _reencrypt_pass(db: Database, vault: Vault, actor: audit.AuditActor, clock: Clock) -> int:
    """Re-encrypt, in one transaction, every secret that the newest key alone cannot open."""
    newest = Fernet(vault.source.keys[0])
    count = 0
    with db.unit_of_work() as session:
        rows = session.execute(select(AccountCredential)).scalars().all()
        for row in rows:
            try:
                newest.decrypt(row.ciphertext.encode())
                continue
            except InvalidToken:
                pass
            row.ciphertext = vault.reencrypt(row.ciphertext)
            count += 1
        audit.record(
            session,
            actor,
            "vault.rotate_key",
            "vault",
            "vault",
            after={"reencrypted": count, "keys_in_use": len(vault.source.keys)},
            clock=clock,
        )
    return count


def rotate_key(
    db: Database, data_dir: Path, actor: audit.AuditActor, clock: Clock, *, keep_old: bool = False
) -> Rotation:
    """Rotate the vault key.

    Key file: generate a new key, write `[new, old...]` (old keys still read), re-encrypt every
    secret under the new key in one transaction, check again for secrets written meanwhile,
    then drop the old keys unless `keep_old`. If anything fails midway, the file still holds
    every key, so every secret stays readable.

    Environment (`GROUNDSWELL_VAULT_KEYS`): this process cannot change the environment, so the
    operator puts a new key first (`groundswell vault generate-key`); this re-encrypts every
    secret under that first key, after which the older keys may be removed. With a single key
    in the environment it refuses with those instructions.

    Before writing anything it checks that every stored secret opens with the current keys
    (VaultKeyError otherwise: a wrong key loses nothing)."""
    source = load_keys(data_dir)
    vault = Vault(source)
    check_all(db, vault)
    if source.path is None:
        if len(source.keys) < 2:
            raise VaultKeyError(
                f"The vault keys come from {ENV_VAR}. Put a new key first "
                f"({ENV_VAR}=<new>,<current>; make one with `groundswell vault generate-key`), "
                "restart the server, then run `groundswell vault rotate-key` again to re-encrypt."
            )
        count = _reencrypt_pass(db, vault, actor, clock)
        return Rotation(count, len(source.keys), source.origin, new_key_generated=False)
    path = source.path
    rotated = KeySource((generate_key(), *source.keys), path)
    write_key_file(path, rotated.keys)
    vault = Vault(rotated)
    count = _reencrypt_pass(db, vault, actor, clock)
    # A server that loaded the old keys just before the file changed may have saved a secret
    # under an old key after our pass: catch it before the old keys go.
    with db.reader() as session:
        newest = Fernet(rotated.keys[0])
        stragglers = [
            t
            for t in session.execute(select(AccountCredential.ciphertext)).scalars()
            if not _opens(newest, t)
        ]
    if stragglers:
        count += _reencrypt_pass(db, vault, actor, clock)
    kept = rotated.keys if keep_old else rotated.keys[:1]
    write_key_file(path, kept)
    return Rotation(count, len(kept), rotated.origin, new_key_generated=True)


def _opens(fernet: Fernet, token: str) -> bool:
    try:
        fernet.decrypt(token.encode())
    except InvalidToken:
        return False
    return True
