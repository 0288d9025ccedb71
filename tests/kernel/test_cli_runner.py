"""`run_app`: user-facing failures become one line on stderr and an exit code."""

from __future__ import annotations

import pytest
import typer
from sqlalchemy.exc import OperationalError

from groundswell.kernel.cli_runner import run_app
from groundswell.kernel.errors import InvalidInput


def _app(error: Exception) -> typer.Typer:
    app = typer.Typer()

    @app.command()
    def boom() -> None:
        raise error

    return app


def test_a_database_error_is_one_line_without_a_traceback(
    capsys: pytest.CaptureFixture[str],
) -> None:
    error = OperationalError("SELECT 1", {}, Exception("connection refused\nsecret detail"))
    assert run_app(_app(error), []) == 1
    err = capsys.readouterr().err
    assert "database error: connection refused" in err
    assert "secret detail" not in err
    assert "Traceback" not in err


def test_a_user_error_exits_with_its_code(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_app(_app(InvalidInput("bad value")), []) == 2
    assert "bad value" in capsys.readouterr().err


def test_any_other_exception_is_not_swallowed() -> None:
    with pytest.raises(ZeroDivisionError):
        run_app(_app(ZeroDivisionError("x")), [])
