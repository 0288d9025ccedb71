"""Running a Typer app as a command: user errors become one line on stderr and a non-zero
exit, never a traceback. Shared by the full `groundswell` command and its fast path for
`groundswell triage` (see `groundswell.launcher`)."""

from __future__ import annotations

import sys

import typer
from rich.console import Console
from rich.text import Text

from groundswell.kernel.errors import GroundswellError

_err = Console(stderr=True, soft_wrap=True)


def run_app(app: typer.Typer, argv: list[str] | None) -> int:
    try:
        result = app(args=argv, standalone_mode=False)
    except GroundswellError as exc:
        # Text, not markup: a message may quote user input such as "[/bold]".
        _err.print(Text.assemble(("error: ", "bold red"), exc.message), highlight=False)
        return exc.exit_code
    except typer.Abort:
        _err.print("Aborted.")
        return 130
    except typer.Exit as exc:
        return int(exc.exit_code)
    except typer.TyperException as exc:  # usage errors: bad option, missing argument
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            _err.print(f"error: {exc}")
        return int(getattr(exc, "exit_code", 2))
    except Exception as exc:
        # A database that went away mid-command: one line, no secrets. SQLAlchemy is looked up
        # rather than imported, so commands that never touch a database (`groundswell triage`)
        # don't pay for importing it; if it was never imported, this cannot be its error.
        exc_module = sys.modules.get("sqlalchemy.exc")
        if exc_module is None or not isinstance(exc, exc_module.DBAPIError):
            raise
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        _err.print(Text.assemble(("error: ", "bold red"), f"database error: {reason}"))
        return 1
    return result if isinstance(result, int) else 0
