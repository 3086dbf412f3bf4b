"""Every shell example in the README and docs/ runs, as printed, against the demo archive.

A document's ```sh, ```bash, ```shell and ```console blocks run in order in one bash (so a
block may use what an earlier one of the same document set), after the export lines the demo's
banner prints, from a directory where `examples/` is the repository's. Any command that fails
fails the test, and curl is always asked to fail on an error answer. A block that cannot run
here says so in its first line, `# not run by the docs test: <why>`, visible to every reader.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from archive.clock import SystemClock
from archive.testing.demo import served_demo

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SHELLS = {"sh", "bash", "shell", "console"}
NOT_RUN = re.compile(r"# not run by the docs test: (?P<reason>\S.{9,})")
# A few blocks cannot run in a test (starting the server itself, a production deployment:
# starting it, rotating its keys, backing it up); more than this many would mean the
# documents are drifting out of reach of the test.
MOST_NOT_RUN = 7
STATUS_TEST = re.compile(r"test \"\$\(curl .*-w '%\{http_code\}'.*\)\" = [1-5]\d\d")
CURL_FAILS = re.compile(r"\bcurl\b(?=[^|;&]*\s(-[a-zA-Z]*f[a-zA-Z]*|--fail(-with-body)?)\b)")


@dataclass(frozen=True)
class Block:
    document: Path
    line: int  # of the opening fence, 1-based
    language: str
    text: str

    @property
    def where(self) -> str:
        return f"{self.document.relative_to(ROOT)}:{self.line}"

    @property
    def not_run(self) -> str | None:
        first = self.text.lstrip().splitlines()[0] if self.text.strip() else ""
        found = NOT_RUN.fullmatch(first.strip())
        return found["reason"] if found else None

    def script(self) -> str:
        """The commands: the whole block, or a console block's `$ ` lines and continuations."""
        if self.language != "console":
            return self.text
        commands: list[str] = []
        continued = False
        for line in self.text.splitlines():
            if line.startswith("$ ") or continued:
                commands.append(line[2:] if line.startswith("$ ") and not continued else line)
                continued = line.rstrip().endswith("\\")
        return "\n".join(commands)


def shell_blocks(document: Path) -> list[Block]:
    found: list[Block] = []
    opened: tuple[int, str] | None = None
    body: list[str] = []
    for number, line in enumerate(document.read_text(encoding="utf-8").splitlines(), 1):
        fence = re.match(r"^\s*```(\S*)", line)
        if fence and opened is None:
            opened, body = (number, fence.group(1).lower()), []
        elif fence and line.strip() == "```" and opened is not None:
            if opened[1] in SHELLS:
                found.append(Block(document, opened[0], opened[1], "\n".join(body) + "\n"))
            opened = None
        elif opened is not None:
            body.append(line)
    assert opened is None, f"{document}: a code block opened at line {opened[0]} never closes"
    return found


ALL = [block for document in DOCUMENTS for block in shell_blocks(document)]
RUN = [document for document in DOCUMENTS if any(b.not_run is None for b in shell_blocks(document))]


def test_the_documents_have_shell_examples_and_few_are_not_run() -> None:
    assert len(ALL) >= 30
    skipped = [block.where for block in ALL if block.not_run is not None]
    assert len(skipped) <= MOST_NOT_RUN, skipped
    for block in ALL:
        marker = "not run by the docs test"
        if marker in block.text and block.not_run is None:
            pytest.fail(f"{block.where}: the marker must be the first line, with a reason")


def test_every_curl_example_fails_on_an_error_answer() -> None:
    # Without -f, curl exits 0 on a 403 and a lying example would pass. A refusal is shown by
    # testing the status it prints: test "$(curl ... -w '%{http_code}' ...)" = 403.
    for block in ALL:
        if block.not_run is not None:
            continue
        for line in block.script().splitlines():
            if not re.search(r"\bcurl\s", line):
                continue
            expected_status = STATUS_TEST.fullmatch(line.strip())
            assert CURL_FAILS.search(line) or expected_status, f"{block.where}: {line}"


@pytest.mark.parametrize("document", RUN, ids=[str(d.relative_to(ROOT)) for d in RUN])
def test_the_shell_examples_work(document: Path, tmp_path: Path) -> None:
    # The real clock: the examples date what they send with `date`, as their readers do.
    with served_demo(tmp_path / "data", SystemClock()) as demo:
        work = tmp_path / "work"
        work.mkdir()
        (work / "examples").symlink_to(ROOT / "examples")
        parts = ["set -euo pipefail", *demo.exports()]
        for block in shell_blocks(document):
            if block.not_run is None:
                parts += [f"echo '>>> {block.where}' >&2", block.script()]
        environment = {k: v for k, v in os.environ.items() if not k.startswith("ARCHIVE_")}
        done = subprocess.run(
            ["bash", "-c", "\n".join(parts)],
            cwd=work,
            env=environment,
            capture_output=True,
            timeout=300,
            check=False,
        )
        errors = done.stderr.decode(errors="replace")
        failed_in = re.findall(r">>> (\S+)", errors)
        assert done.returncode == 0, (
            f"the block at {failed_in[-1] if failed_in else '?'} failed:\n{errors[-3000:]}"
        )
