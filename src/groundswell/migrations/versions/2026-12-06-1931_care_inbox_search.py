"""care: full-text search of the inbox

Revision ID: 4e2a1d3b8c01
Revises: 3d1f0c2a7b90
Create Date: 2026-12-06 19:31:00

Written by hand, one branch per dialect, behind `groundswell.care.search` (the same shape as
listening's `mention_fts`). What an agent searches is one document per conversation,
`care_conversation_search`: `header` (the customer's name and handle, the tags) and `body`
(the texts of its inbound and outbound messages, in order; internal notes and cancelled
replies are left out). Triggers keep it in step with `care_conversation` and
`care_message`, whichever code writes them (the services, the demo, bulk loads):

* SQLite: the document rows have an integer rowid, so an FTS5 table with external content
  (`care_conversation_fts`, unicode61 with diacritics removed: case- and accent-folded)
  indexes them, kept in step by triggers like `mention_fts`. (The conversations' own rowids
  are not stable: they have a text key, and VACUUM or a batch migration may renumber them.)
* PostgreSQL: a stored `document` tsvector over the folded text (`care_search_fold`:
  lower case, NFKD with the combining accents dropped, so `cafe` finds `Café`; punctuation
  splits words, so `@ana@example.social` is three words), with a GIN index.

Appending a message appends its text to the body; editing or deleting one, or cancelling a
reply, rebuilds the body from the messages. (On SQLite, a later batch migration that rebuilds
`care_conversation` or `care_message` drops their triggers: it must create them again.)
"""

# The SQL below is assembled from constant fragments of this file (no input reaches it).
# ruff: noqa: S608

from collections.abc import Sequence

from alembic import op

revision: str = "4e2a1d3b8c01"
down_revision: str | None = "3d1f0c2a7b90"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Which messages are searched: what the customer wrote and what we answered (not notes,
# not replies that were cancelled before sending).
_SQLITE_SEARCHED = "direction IN ('inbound', 'outbound') AND delivery_status IS NOT 'cancelled'"
_PG_SEARCHED = (
    "direction IN ('inbound', 'outbound') AND delivery_status IS DISTINCT FROM 'cancelled'"
)


def _sqlite_header(row: str) -> str:
    # Tags are a JSON array; json_each decodes it (JSON escapes such as \u00e9 included).
    return (
        f"coalesce({row}.customer_name, '') || ' ' || coalesce({row}.customer_handle, '') || ' '"
        f" || coalesce((SELECT group_concat(value, ' ') FROM json_each({row}.tags)"
        f" WHERE json_valid({row}.tags)), '')"
    )


def _sqlite_body(conversation_id: str) -> str:
    return (
        "coalesce((SELECT group_concat(text, char(10)) FROM (SELECT text FROM care_message "
        f"WHERE conversation_id = {conversation_id} AND {_SQLITE_SEARCHED} "
        "ORDER BY created_at, id)), '')"
    )


def _pg_header(row: str) -> str:
    return (
        f"coalesce({row}.customer_name, '') || ' ' || coalesce({row}.customer_handle, '') || ' '"
        f" || coalesce((SELECT string_agg(value, ' ') FROM json_array_elements_text("
        f"CASE WHEN json_typeof({row}.tags) = 'array' THEN {row}.tags END)), '')"
    )


def _pg_body(conversation_id: str) -> str:
    return (
        "coalesce((SELECT string_agg(text, E'\\n' ORDER BY created_at, id) FROM care_message "
        f"WHERE conversation_id = {conversation_id} AND {_PG_SEARCHED}), '')"
    )


def _upgrade_sqlite() -> None:
    op.execute(
        "CREATE TABLE care_conversation_search ("
        "id INTEGER PRIMARY KEY, "
        "conversation_id VARCHAR(36) NOT NULL UNIQUE "
        "REFERENCES care_conversation (id) ON DELETE CASCADE, "
        "header TEXT NOT NULL DEFAULT '', body TEXT NOT NULL DEFAULT '')"
    )
    op.execute(
        "INSERT INTO care_conversation_search (conversation_id, header, body) "
        f"SELECT c.id, {_sqlite_header('c')}, {_sqlite_body('c.id')} FROM care_conversation c "
        "ORDER BY c.created_at, c.id"
    )
    op.execute(
        "CREATE VIRTUAL TABLE care_conversation_fts USING fts5(header, body, "
        "content='care_conversation_search', content_rowid='id', "
        "tokenize='unicode61 remove_diacritics 2')"
    )
    op.execute("INSERT INTO care_conversation_fts(care_conversation_fts) VALUES ('rebuild')")
    # The index follows the documents (as mention_fts follows mention).
    op.execute(
        "CREATE TRIGGER care_search_fts_insert AFTER INSERT ON care_conversation_search BEGIN "
        "INSERT INTO care_conversation_fts(rowid, header, body) "
        "VALUES (new.id, new.header, new.body); END"
    )
    op.execute(
        "CREATE TRIGGER care_search_fts_delete AFTER DELETE ON care_conversation_search BEGIN "
        "INSERT INTO care_conversation_fts(care_conversation_fts, rowid, header, body) "
        "VALUES ('delete', old.id, old.header, old.body); END"
    )
    op.execute(
        "CREATE TRIGGER care_search_fts_update AFTER UPDATE OF header, body "
        "ON care_conversation_search BEGIN "
        "INSERT INTO care_conversation_fts(care_conversation_fts, rowid, header, body) "
        "VALUES ('delete', old.id, old.header, old.body); "
        "INSERT INTO care_conversation_fts(rowid, header, body) "
        "VALUES (new.id, new.header, new.body); END"
    )
    # The documents follow the conversations and their messages.
    op.execute(
        "CREATE TRIGGER care_search_conversation_insert AFTER INSERT ON care_conversation "
        "BEGIN INSERT INTO care_conversation_search (conversation_id, header, body) "
        f"VALUES (new.id, {_sqlite_header('new')}, {_sqlite_body('new.id')}); END"
    )
    op.execute(
        "CREATE TRIGGER care_search_conversation_update AFTER UPDATE OF "
        "customer_name, customer_handle, tags ON care_conversation "
        "WHEN old.customer_name IS NOT new.customer_name "
        "OR old.customer_handle IS NOT new.customer_handle OR old.tags IS NOT new.tags BEGIN "
        f"UPDATE care_conversation_search SET header = {_sqlite_header('new')} "
        "WHERE conversation_id = new.id; END"
    )
    op.execute(
        "CREATE TRIGGER care_search_message_insert AFTER INSERT ON care_message "
        "WHEN new.direction IN ('inbound', 'outbound') "
        "AND new.delivery_status IS NOT 'cancelled' BEGIN "
        "UPDATE care_conversation_search SET body = CASE WHEN body = '' THEN new.text "
        "ELSE body || char(10) || new.text END WHERE conversation_id = new.conversation_id; END"
    )
    changed = (
        "old.text IS NOT new.text OR old.direction IS NOT new.direction "
        "OR old.conversation_id IS NOT new.conversation_id "
        "OR (old.delivery_status IS 'cancelled') <> (new.delivery_status IS 'cancelled')"
    )
    op.execute(
        "CREATE TRIGGER care_search_message_update AFTER UPDATE OF "
        f"text, direction, delivery_status, conversation_id ON care_message WHEN {changed} BEGIN "
        f"UPDATE care_conversation_search SET body = {_sqlite_body('old.conversation_id')} "
        "WHERE conversation_id = old.conversation_id; "
        f"UPDATE care_conversation_search SET body = {_sqlite_body('new.conversation_id')} "
        "WHERE conversation_id = new.conversation_id AND new.conversation_id IS NOT "
        "old.conversation_id; END"
    )
    op.execute(
        "CREATE TRIGGER care_search_message_delete AFTER DELETE ON care_message "
        "WHEN old.direction IN ('inbound', 'outbound') BEGIN "
        f"UPDATE care_conversation_search SET body = {_sqlite_body('old.conversation_id')} "
        "WHERE conversation_id = old.conversation_id; END"
    )


def _upgrade_postgresql() -> None:
    # Folding without the unaccent extension: NFKD splits accents off their letters, the
    # combining marks are dropped, a few letters with no decomposition are mapped by hand.
    op.execute(
        "CREATE FUNCTION care_search_fold(value text) RETURNS text "
        "LANGUAGE sql IMMUTABLE PARALLEL SAFE RETURNS NULL ON NULL INPUT AS $$ "
        "SELECT translate(regexp_replace(normalize(lower(value), NFKD), "
        "'[\\u0300-\\u036f\\u1ab0-\\u1aff\\u1dc0-\\u1dff\\u20d0-\\u20ff\\ufe20-\\ufe2f]', '', 'g'), "
        "'øđðłħŧı', 'oddlhti') $$"
    )
    # At most 200,000 characters of a conversation are indexed (a tsvector holds at most
    # 1 MB); words beyond are not found.
    op.execute(
        "CREATE TABLE care_conversation_search ("
        "conversation_id VARCHAR(36) PRIMARY KEY "
        "REFERENCES care_conversation (id) ON DELETE CASCADE, "
        "header TEXT NOT NULL DEFAULT '', body TEXT NOT NULL DEFAULT '', "
        "document tsvector GENERATED ALWAYS AS (to_tsvector('simple', regexp_replace("
        "care_search_fold(left(header || ' ' || body, 200000)), '[^[:alnum:]]+', ' ', 'g'))) "
        "STORED)"
    )
    op.execute(
        "INSERT INTO care_conversation_search (conversation_id, header, body) "
        f"SELECT c.id, {_pg_header('c')}, {_pg_body('c.id')} FROM care_conversation c"
    )
    op.execute(
        "CREATE INDEX ix_care_conversation_search ON care_conversation_search USING gin (document)"
    )
    op.execute(
        "CREATE FUNCTION care_search_conversation() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN "
        "IF TG_OP = 'INSERT' THEN "
        "INSERT INTO care_conversation_search (conversation_id, header, body) "
        f"VALUES (NEW.id, {_pg_header('NEW')}, {_pg_body('NEW.id')}); "
        "ELSIF NEW.customer_name IS DISTINCT FROM OLD.customer_name "
        "OR NEW.customer_handle IS DISTINCT FROM OLD.customer_handle "
        "OR NEW.tags::text IS DISTINCT FROM OLD.tags::text THEN "
        f"UPDATE care_conversation_search SET header = {_pg_header('NEW')} "
        "WHERE conversation_id = NEW.id; "
        "END IF; RETURN NULL; END $$"
    )
    op.execute(
        "CREATE TRIGGER care_search_conversation AFTER INSERT OR UPDATE OF "
        "customer_name, customer_handle, tags ON care_conversation "
        "FOR EACH ROW EXECUTE FUNCTION care_search_conversation()"
    )
    op.execute(
        "CREATE FUNCTION care_search_message() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN "
        "IF TG_OP = 'INSERT' THEN "
        "IF NEW.direction IN ('inbound', 'outbound') "
        "AND NEW.delivery_status IS DISTINCT FROM 'cancelled' THEN "
        "UPDATE care_conversation_search SET body = CASE WHEN body = '' THEN NEW.text "
        "ELSE body || E'\\n' || NEW.text END WHERE conversation_id = NEW.conversation_id; "
        "END IF; "
        "ELSIF TG_OP = 'DELETE' THEN "
        "IF OLD.direction IN ('inbound', 'outbound') THEN "
        f"UPDATE care_conversation_search SET body = {_pg_body('OLD.conversation_id')} "
        "WHERE conversation_id = OLD.conversation_id; "
        "END IF; "
        "ELSIF NEW.text IS DISTINCT FROM OLD.text OR NEW.direction IS DISTINCT FROM OLD.direction "
        "OR NEW.conversation_id IS DISTINCT FROM OLD.conversation_id "
        "OR (NEW.delivery_status IS NOT DISTINCT FROM 'cancelled') "
        "<> (OLD.delivery_status IS NOT DISTINCT FROM 'cancelled') THEN "
        f"UPDATE care_conversation_search SET body = {_pg_body('c.conversation_id')} "
        "FROM (SELECT DISTINCT x AS conversation_id FROM "
        "unnest(ARRAY[OLD.conversation_id, NEW.conversation_id]) AS x) c "
        "WHERE care_conversation_search.conversation_id = c.conversation_id; "
        "END IF; RETURN NULL; END $$"
    )
    op.execute(
        "CREATE TRIGGER care_search_message AFTER INSERT OR DELETE OR UPDATE OF "
        "text, direction, delivery_status, conversation_id ON care_message "
        "FOR EACH ROW EXECUTE FUNCTION care_search_message()"
    )


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _upgrade_sqlite()
    else:
        _upgrade_postgresql()


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in (
            "care_search_message_delete",
            "care_search_message_update",
            "care_search_message_insert",
            "care_search_conversation_update",
            "care_search_conversation_insert",
            "care_search_fts_update",
            "care_search_fts_delete",
            "care_search_fts_insert",
        ):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS care_conversation_fts")
        op.execute("DROP TABLE IF EXISTS care_conversation_search")
    else:
        op.execute("DROP TRIGGER IF EXISTS care_search_message ON care_message")
        op.execute("DROP TRIGGER IF EXISTS care_search_conversation ON care_conversation")
        op.execute("DROP FUNCTION IF EXISTS care_search_message()")
        op.execute("DROP FUNCTION IF EXISTS care_search_conversation()")
        op.execute("DROP TABLE IF EXISTS care_conversation_search")
        op.execute("DROP FUNCTION IF EXISTS care_search_fold(text)")
