"""Docs that tests keep honest: the README's two commands, the CI script running the same test
command, generated docs up to date, every setting described."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

from groundswell.kernel.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def _readme_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"```sh\n(.*?)```", readme, re.S)
    assert block is not None
    return [line for line in block.group(1).splitlines() if line.strip()]


def test_readme_starts_with_the_two_commands() -> None:
    demo, tests = _readme_commands()
    assert demo.endswith("groundswell demo")
    assert tests.endswith(".venv/bin/pytest")
    assert (ROOT / "README.md").read_text().index("```sh") < 20


def test_ci_runs_the_readme_test_command_on_both_databases() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    _, tests = _readme_commands()
    assert tests in ci
    assert "GROUNDSWELL_TEST_DATABASE_URL=" in ci
    assert "127.0.0.1:5432/test" in ci


def test_every_setting_is_described() -> None:
    for name, field in Settings.model_fields.items():
        assert field.description, f"setting {name} needs a description"


def test_generated_docs_are_current() -> None:
    spec = importlib.util.spec_from_file_location("gen_docs", ROOT / "scripts" / "gen_docs.py")
    assert spec is not None
    assert spec.loader is not None
    gen_docs = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen_docs)
    assert gen_docs.main(check=True) == 0, "run: python scripts/gen_docs.py"
