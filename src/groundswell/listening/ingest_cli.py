"""`groundswell listening import|queries|search|quarantine` (public contract, see
docs/listening.md). Commands act for the organization of the first owner (`cli_actor`).

* ``import --in FILE [--source NAME] [--json] [--workers N]``: a progress bar on stderr; the summary
  ``{"read", "stored", "duplicates", "quarantined"}`` - with ``--json`` as the only line on
  stdout, else one readable line.
* ``queries add --name N --topic T --query Q`` | ``queries list [--json]`` |
  ``queries test --query Q`` (the external id of each stored mention it matches, a line each).
* ``search Q [--limit N] [--json]``.
* ``quarantine list [--json]`` | ``quarantine retry [ID ...] [--json]`` |
  ``quarantine drop ID ... | --all``.
"""

from __future__ import annotations

import json
import os
import sys
import zlib
from collections.abc import Sequence
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn

from groundswell.connectors import registry
from groundswell.connectors.contract import RawRecord
from groundswell.identity.cli import cli_actor
from groundswell.kernel.clock import SystemClock
from groundswell.kernel.console import err, open_database
from groundswell.kernel.errors import InvalidInput
from groundswell.listening import ingest
from groundswell.listening.search import search_mentions
from groundswell.listening.sources_cli import sources_app
from groundswell.listening.tables import ListeningQuery, Mention, QuarantinedRecord

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]

queries_app = typer.Typer(help="Saved listening queries.", no_args_is_help=True)
quarantine_app = typer.Typer(help="Records that were not posts.", no_args_is_help=True)


def _say(text: str) -> None:
    # Plain write: Rich would expand the tabs that scripts split on, and read markup in text.
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _line(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()


def import_command(
    location: Annotated[
        str, typer.Option("--in", help="JSONL or CSV file of posts (docs/files-format.md).")
    ],
    source: Annotated[
        str | None,
        typer.Option("--source", help="Source name stored on each mention (default: files)."),
    ] = None,
    as_json: JsonOption = False,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            min=0,
            max=64,
            help="Processes preparing batches (parse to match) while this one stores; 0: none.",
        ),
    ] = 0,
) -> None:
    """Import posts from a file: parse, normalize, dedupe, triage, match, store."""
    db = open_database()
    with db.reader() as session:
        actor = cli_actor(session, None)
    connector = registry.source_for_files()
    try:
        total = os.path.getsize(location) if location != "-" else None
    except OSError as exc:
        raise InvalidInput(f"Cannot read {location}: {exc.strerror or exc}.") from exc
    progress = Progress(
        TextColumn("importing"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.completed:,.0f} bytes"),
        console=err,
        transient=True,
    )
    task = progress.add_task("import", total=total)

    def advance(batch: Sequence[RawRecord]) -> None:
        progress.advance(task, sum(len(r.payload) + 1 for r in batch))

    with progress:
        result = ingest.import_posts(
            db, actor, connector, location, source_name=source, progress=advance, workers=workers
        )
    db.dispose()
    if as_json:
        _line(result.as_dict())
    else:
        r = result
        _say(
            f"read {r.read}, stored {r.stored}, duplicates {r.duplicates}, "
            f"quarantined {r.quarantined}"
        )


def search_command(
    query: Annotated[str, typer.Argument(help="Words to find (all of them).")],
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000, help="At most N.")] = 20,
    as_json: JsonOption = False,
) -> None:
    """Full-text search over stored mentions, newest first."""
    db = open_database()
    with db.reader() as session:
        actor = cli_actor(session, None)
        hits = search_mentions(session, actor.organization_id, query, limit=limit)
    db.dispose()
    if as_json:
        _line([_mention_json(m) for m in hits])
        return
    for m in hits:
        snippet = " ".join(m.text.split())[:100]
        _say(f"{m.source}\t{m.external_id}\t{m.created_at.isoformat()}\t{snippet}")


def _mention_json(m: Mention) -> dict[str, Any]:
    return {
        "id": m.id,
        "source": m.source,
        "external_id": m.external_id,
        "created_at": m.created_at.isoformat(),
        "author": m.author_handle,
        "text": m.text,
        "url": m.url,
        "language": m.language,
        "sentiment": m.sentiment,
        "labels": m.labels,
        "priority": m.priority,
    }


@queries_app.command("add")
def queries_add(
    name: Annotated[str, typer.Option("--name", help="Unique name.")],
    topic: Annotated[str, typer.Option("--topic", help="Topic it belongs to.")],
    query: Annotated[str, typer.Option("--query", help="Listening query (docs/queries.md).")],
) -> None:
    """Save a listening query; new imports match it."""
    db = open_database()
    with db.unit_of_work() as session:
        actor = cli_actor(session, None)
        row = ingest.add_query(
            session, actor, name=name, topic=topic, query=query, clock=SystemClock()
        )
        query_id = row.id
    db.dispose()
    _say(f"added query {name} ({query_id})")


def _query_json(q: ListeningQuery) -> dict[str, Any]:
    return {
        "id": q.id,
        "name": q.name,
        "topic": q.topic,
        "query": q.query,
        "active": q.active,
        "created_at": q.created_at.isoformat(),
    }


@queries_app.command("list")
def queries_list(as_json: JsonOption = False) -> None:
    """The saved queries, by name."""
    db = open_database()
    with db.reader() as session:
        rows = ingest.list_queries(session, cli_actor(session, None))
    db.dispose()
    if as_json:
        _line([_query_json(q) for q in rows])
        return
    for q in rows:
        _say(f"{q.name}\t{q.topic}\t{q.query}")


@queries_app.command("test")
def queries_test(
    query: Annotated[str, typer.Option("--query", help="Listening query to try.")],
) -> None:
    """Print the external id of each stored mention the query matches, oldest stored first."""
    db = open_database()
    with db.reader() as session:
        actor = cli_actor(session, None)
        for mention in ingest.matching_mentions(session, actor, query):
            sys.stdout.write(f"{mention.external_id}\n")
    sys.stdout.flush()
    db.dispose()


def _quarantine_json(q: QuarantinedRecord) -> dict[str, Any]:
    return {
        "id": q.id,
        "source": q.source,
        "reason": q.reason,
        "message": q.message,
        "location": q.location,
        "position": q.position,
        "created_at": q.created_at.isoformat(),
        "payload": zlib.decompress(q.payload).decode("utf-8", "replace"),
    }


@quarantine_app.command("list")
def quarantine_list(as_json: JsonOption = False) -> None:
    """Quarantined records, oldest first: id, reason, where, why."""
    db = open_database()
    with db.reader() as session:
        rows = ingest.list_quarantine(session, cli_actor(session, None))
    db.dispose()
    if as_json:
        _line([_quarantine_json(q) for q in rows])
        return
    for q in rows:
        _say(f"{q.id}\t{q.reason}\t{q.location}:{q.position}\t{q.message}")


@quarantine_app.command("retry")
def quarantine_retry(
    ids: Annotated[list[int] | None, typer.Argument(help="Record ids; none = all.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Parse quarantined records again; those that now parse are imported."""
    db = open_database()
    with db.reader() as session:
        actor = cli_actor(session, None)
    counts = ingest.retry_quarantine(db, actor, ids or [])
    db.dispose()
    if as_json:
        _line(counts)
    else:
        _say(", ".join(f"{k.replace('_', ' ')} {v}" for k, v in counts.items()))


@quarantine_app.command("drop")
def quarantine_drop(
    ids: Annotated[list[int] | None, typer.Argument(help="Record ids.")] = None,
    everything: Annotated[bool, typer.Option("--all", help="Drop every record.")] = False,
) -> None:
    """Delete quarantined records for good."""
    db = open_database()
    with db.unit_of_work() as session:
        actor = cli_actor(session, None)
        dropped = ingest.drop_quarantine(
            session, actor, ids or [], everything=everything, clock=SystemClock()
        )
    db.dispose()
    _say(f"dropped {dropped}")


def register(app: typer.Typer) -> None:
    """Add the ingest commands to the ``listening`` sub-app."""
    app.command("import")(import_command)
    app.command("search")(search_command)
    app.add_typer(queries_app, name="queries")
    app.add_typer(quarantine_app, name="quarantine")
    app.add_typer(sources_app, name="sources")
