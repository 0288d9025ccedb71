"""Generate docs/cli.md (between markers) and docs/settings.md from the code.

python scripts/gen_docs.py          # rewrite the files
python scripts/gen_docs.py --check  # exit 1 when they are out of date (CI)
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer

from groundswell.cli import app
from groundswell.kernel.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
START, END = "<!-- generated:start -->", "<!-- generated:end -->"


def _params(command: Any) -> list[str]:
    lines = []
    for param in command.params:
        if param.name in ("help",) or getattr(param, "hidden", False):
            continue
        if param.param_type_name == "argument":
            arg_name = (param.name or "").upper()
            lines.append(f"| `{arg_name}` | argument | {getattr(param, 'help', '') or ''} |")
            continue
        names = " / ".join(f"`{o}`" for o in [*param.opts, *param.secondary_opts])
        default = param.default
        shown = (
            "" if default in (None, False, ()) or callable(default) else f" (default: `{default}`)"
        )
        help_text = (getattr(param, "help", "") or "").replace("|", "\\|")
        lines.append(f"| {names} | option | {help_text}{shown} |")
    return lines


def _walk(command: Any, path: list[str], out: list[str]) -> None:
    subcommands = getattr(command, "commands", None)
    if subcommands:
        if path:
            out.append(f"\n### `{' '.join(path)}`\n\n{(command.help or '').strip()}\n")
        for name in sorted(subcommands):
            _walk(subcommands[name], [*path, name], out)
        return
    out.append(
        f"\n### `{' '.join(path)}`\n\n{(command.help or '').strip().splitlines()[0] if command.help else ''}\n"
    )
    rows = _params(command)
    if rows:
        out.append("| name | kind | meaning |\n|---|---|---|")
        out.extend(rows)


def cli_reference() -> str:
    root = typer.main.get_command(app)
    out = [
        "Every command takes `--help`. Global options: `--version`, `--data-dir DIR` (env `GROUNDSWELL_DATA_DIR`)."
    ]
    _walk(root, ["groundswell"], out)
    return "\n".join(out).replace("### `groundswell groundswell", "### `groundswell") + "\n"


def settings_reference() -> str:
    lines = [
        "# Settings",
        "",
        "Generated from `groundswell.kernel.settings.Settings` by `scripts/gen_docs.py`; do not edit by hand.",
        "Set each as an environment variable (prefix `GROUNDSWELL_`).",
        "",
        "| variable | default | meaning |",
        "|---|---|---|",
    ]
    for name, field in Settings.model_fields.items():
        default = "" if field.default_factory else field.default
        if hasattr(default, "get_secret_value"):
            default = ""
        lines.append(f"| `GROUNDSWELL_{name.upper()}` | `{default}` | {field.description} |")
    return "\n".join(lines) + "\n"


def render_cli(current: str) -> str:
    if START not in current:
        current = f"# Command line\n\n{START}\n{END}\n"
    head, rest = current.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{cli_reference()}{END}{tail}"


def main(check: bool) -> int:
    targets = {
        ROOT / "docs" / "cli.md": render_cli(
            (ROOT / "docs" / "cli.md").read_text() if (ROOT / "docs" / "cli.md").exists() else ""
        ),
        ROOT / "docs" / "settings.md": settings_reference(),
    }
    stale = [p for p, text in targets.items() if not p.exists() or p.read_text() != text]
    if check:
        for p in stale:
            print(f"{p.relative_to(ROOT)} is out of date: run python scripts/gen_docs.py")
        return 1 if stale else 0
    for p in stale:
        p.write_text(targets[p])
        print(f"wrote {p.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main("--check" in sys.argv))
