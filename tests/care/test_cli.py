"""`groundswell care sla due`: the public contract (docs/sla.md) through the real root CLI."""

from __future__ import annotations

import subprocess
import sys

import pytest

from groundswell.cli import main

Capture = pytest.CaptureFixture[str]
STANDARD = "mon-fri 09:00-17:00; sat 10:00-14:00"


def sla_due(*args: str) -> list[str]:
    return ["care", "sla", "due", *args]


def run(capsys: Capture, *args: str) -> tuple[int, str, str]:
    code = main(sla_due(*args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        # Monday 08:00 in Berlin: opens 09:00, 90 minutes later
        (
            ["--start", "2026-11-23T08:00:00+01:00", "--minutes", "90", "--tz", "Europe/Berlin"],
            "2026-11-23T10:30:00+01:00",
        ),
        # a naive start is local time in --tz; the answer carries the zone's offset
        (
            ["--start", "2026-11-23T08:00:00", "--minutes", "90", "--tz", "America/New_York"],
            "2026-11-23T10:30:00-05:00",
        ),
        # an offset other than the zone's is honoured: 14:00Z is 09:00 in New York
        (
            ["--start", "2026-11-23T14:00:00Z", "--minutes", "0", "--tz", "America/New_York"],
            "2026-11-23T09:00:00-05:00",
        ),
        # Friday afternoon into Saturday's hours
        (
            ["--start", "2026-11-27T16:00:00", "--minutes", "120", "--tz", "Europe/Berlin"],
            "2026-11-28T11:00:00+01:00",
        ),
        # Fri 60 + Sat 240 + 60 over the New York spring-forward weekend: Monday's hours
        # keep their wall-clock times
        (
            ["--start", "2026-03-06T16:00:00", "--minutes", "360", "--tz", "America/New_York"],
            "2026-03-09T10:00:00-04:00",
        ),
    ],
)
def test_prints_the_due_instant(capsys: Capture, args: list[str], expected: str) -> None:
    code, out, err = run(capsys, *args, "--hours", STANDARD)
    assert (code, out, err) == (0, expected + "\n", "")


def test_holidays_repeat_and_are_skipped(capsys: Capture) -> None:
    code, out, _ = run(
        capsys,
        "--start",
        "2026-12-24T16:00:00",
        "--minutes",
        "120",
        "--tz",
        "Europe/Berlin",
        "--hours",
        STANDARD,
        "--holiday",
        "2026-12-25",
        "--holiday",
        "2026-12-26",
    )
    assert (code, out) == (0, "2026-12-28T10:00:00+01:00\n")


def test_comma_lists_and_a_long_target(capsys: Capture) -> None:
    code, out, _ = run(
        capsys,
        "--start",
        "2026-11-23T08:00:00",
        "--minutes",
        "100000",
        "--tz",
        "Europe/Berlin",
        "--hours",
        "mon-fri 09:00-12:00,13:00-17:00",
    )
    assert code == 0
    # 7 hours a day, 35 a week: 100,000 minutes = 47 whole weeks (to Mon 2027-10-18)
    # + 3 days + 40 minutes, in summer time
    assert out == "2027-10-21T09:40:00+02:00\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--start", "tomorrow"], "--start: bad ISO 8601 time 'tomorrow'"),
        (["--start", "2026-02-30T10:00:00"], "--start: bad ISO 8601 time"),
        (["--tz", "Mars/Base"], "--tz: unknown time zone 'Mars/Base'"),
        (["--hours", "mon-fri 9-5"], "--hours: bad window '9-5'"),
        (["--hours", "weekdays 09:00-17:00"], "--hours: unknown day 'weekdays'"),
        (["--hours", "fri 22:00-02:00"], "overnight windows are not supported"),
        (["--hours", ""], "--hours: no business hours"),
        (["--minutes", "-5"], "--minutes: must be 0 or more, got -5"),
        (["--holiday", "25/12/2026"], "--holiday: bad holiday '25/12/2026'"),
        (["--minutes", "99999999999999999999"], "after year 9999"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(capsys: Capture, args: list[str], message: str) -> None:
    good = {
        "--start": "2026-11-23T08:00:00",
        "--minutes": "60",
        "--tz": "Europe/Berlin",
        "--hours": STANDARD,
    }
    good.update(dict(zip(args[::2], args[1::2], strict=True)))
    argv = [item for pair in good.items() for item in pair]
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert message in " ".join(err.split())
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "argv",
    [
        ["--minutes", "60", "--tz", "UTC", "--hours", STANDARD],
        ["--start", "2026-11-23T08:00:00", "--minutes", "ten", "--tz", "UTC", "--hours", STANDARD],
        ["--start", "2026-11-23T08:00:00", "--minutes", "60", "--hours", STANDARD],
    ],
)
def test_missing_or_mistyped_options_are_usage_errors(capsys: Capture, argv: list[str]) -> None:
    code, out, _ = run(capsys, *argv)
    assert code == 2
    assert out == ""


def test_the_installed_command_prints_one_line() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "groundswell",
            "care",
            "sla",
            "due",
            "--start",
            "2026-10-25T00:00:00",
            "--minutes",
            "1440",
            "--tz",
            "Europe/Berlin",
            "--hours",
            "mon-sun 00:00-24:00",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    # the autumn day has 25 real hours: 24 hours after midnight is 23:00 the same day
    assert (result.returncode, result.stdout) == (0, "2026-10-25T23:00:00+01:00\n")
