"""The `groundswell` executable.

`groundswell triage` is the command people run on large files from scripts and pipelines;
it needs only the triage room. Importing every room first (the web app, every table, every
connector) costs about two seconds and 130 MB before the first post is read, so that one
command starts from a small app holding just it. Its options, output and exit codes are the
same command's (`groundswell.triage.cli.triage_command`); everything else, including
`groundswell --data-dir X triage` and `--help`, goes through the full CLI.

The room imports below sit inside `main` on purpose: choosing what to import is the point
of this module (not a way around an import cycle).
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    if args[:1] == ["triage"] and "--help" not in args:
        from groundswell.kernel.cli_runner import run_app
        from groundswell.triage.cli import standalone_app

        return run_app(standalone_app(), args)
    from groundswell.cli import main as full_main

    return full_main(args)


def run() -> None:
    sys.exit(main())
