"""Every command `archive demo` prints works against the archive it serves: today, a year from
now, and when the demo is started again a year after it was first loaded."""

from __future__ import annotations

import json
import os
import re
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from archive.clock import FixedClock
from archive.contacts.models import Contact, ContactState
from archive.testing.demo import ServedDemo, served_demo

TODAY = datetime.now(UTC).replace(microsecond=0)
YEAR = timedelta(days=365)
SCENARIOS = {
    "today": (timedelta(0),),
    "a year from now": (YEAR,),
    "started again a year later": (timedelta(0), YEAR),
}
AUDIO_STARTS = (b"RIFF", b"ID3", b"fLaC", b"OggS", b"\xff\xfb", b"\xff\xf3")


def user_environment() -> dict[str, str]:
    """This process's environment without the archive's own settings, as a new shell has."""
    return {k: v for k, v in os.environ.items() if not k.startswith("ARCHIVE_")}


def run_pasted(demo: ServedDemo, command: str, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    """`command` in bash after the banner's export lines, as a user pastes them."""
    script = "\n".join(["set -euo pipefail", *demo.exports(), command])
    return subprocess.run(
        ["bash", "-c", script],
        cwd=cwd,
        env=user_environment(),
        capture_output=True,
        timeout=120,
        check=False,
    )


def commands(banner: str) -> list[str]:
    return [line for line in banner.splitlines() if line.startswith(("curl ", "archive "))]


def exported(demo: ServedDemo) -> dict[str, str]:
    found: dict[str, str] = {}
    for line in demo.exports():
        for name, value in re.findall(r"(\w+)=(\S+)", line.split("#", 1)[0]):
            found[name] = value
    return found


@pytest.mark.parametrize("starts", SCENARIOS.values(), ids=SCENARIOS.keys())
def test_every_command_the_banner_prints_works(
    starts: tuple[timedelta, ...], tmp_path: Path
) -> None:
    clock = FixedClock(TODAY)
    with served_demo(tmp_path / "data", clock, starts) as demo:
        banner = demo.banner
        assert "<id>" not in banner
        printed = commands(banner)
        assert len(printed) >= 8, banner
        names = exported(demo)
        assert {"URL", "AGENT_TOKEN", "INGEST_TOKEN", "DEMO_PASSWORD", "CUSTOMER", "CALL"} <= set(
            names
        )
        assert names["URL"] == demo.url
        for command in printed:
            done = run_pasted(demo, command, tmp_path)
            assert done.returncode == 0, (command, done.stderr.decode(errors="replace"))
            check_answer(command, done.stdout, tmp_path, names)
        check_figures(demo, banner)


def check_answer(command: str, output: bytes, cwd: Path, names: dict[str, str]) -> None:
    """What each kind of command must answer, beyond a 2xx (curl -f fails on anything else)."""
    if command.startswith("archive expire --dry-run"):
        assert b"dry run" in output.lower() or b"would" in output.lower(), output
        return
    if " -o call.audio " in command:
        audio = (cwd / "call.audio").read_bytes()
        assert len(audio) > 10_000
        assert audio.startswith(AUDIO_STARTS)
        return
    answer: Any = json.loads(output)
    if command.endswith('/health"'):
        assert answer["status"] == "ok"
    elif "/customers?q=" in command:
        assert [c["id"] for c in answer] == [names["CUSTOMER"]]
    elif command.endswith('/contacts"'):
        assert answer["items"], answer
        assert all(item["customer_id"] == names["CUSTOMER"] for item in answer["items"])
    elif command.endswith('/email"'):
        assert answer["contact_id"] == names["EMAIL"]
        assert answer["subject"]
    elif command.endswith('/transcript"'):
        assert answer["messages"]
    elif "/contacts/emails" in command:
        # The example e-mail is Aino Virtanen's, the customer the banner names.
        assert answer["contact"]["channel"] == "email"
        assert answer["contact"]["customer_id"] == names["CUSTOMER"]
    else:
        pytest.fail(f"no check for a command the banner printed: {command}")


def check_figures(demo: ServedDemo, banner: str) -> None:
    """The counts the banner states are those the archive holds."""
    stored = re.search(r"(\d+) contacts stored", banner)
    deleted = re.search(r"(\d+) deleted", banner)
    assert stored, banner
    assert deleted, banner
    with demo.runtime.session() as session:

        def count(state: ContactState) -> int:
            query = select(func.count()).select_from(Contact).where(Contact.state == state)
            return session.scalar(query) or 0

        # The e-mail the banner sends was archived after it was printed.
        assert int(stored.group(1)) in (count(ContactState.ACTIVE), count(ContactState.ACTIVE) - 1)
        assert int(deleted.group(1)) == count(ContactState.DELETED)
