"""What libraries log reaches the operator in the archive's own form, and only what may: their
warnings as the archive's lines (JSON when the log is), their INFO lines, which quote URLs,
not at all; and the web framework puts no logging of its own in the way."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from archive.app import create_app
from archive.logging import configure_logging

pytestmark = pytest.mark.fast


@pytest.fixture(autouse=True)
def fresh_loggers(monkeypatch: pytest.MonkeyPatch) -> None:
    """The root and the framework's loggers as a new process has them, whatever other tests in
    this process left there (a handler of another app's, a logger set not to propagate)."""
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", [])
    monkeypatch.setattr(root, "level", logging.WARNING)
    framework = logging.getLogger("litestar")
    monkeypatch.setattr(framework, "handlers", [])
    monkeypatch.setattr(framework, "level", logging.NOTSET)
    monkeypatch.setattr(framework, "propagate", True)
    monkeypatch.setattr(framework, "disabled", False)
    monkeypatch.setattr(logging.root.manager, "disable", logging.NOTSET)


@pytest.fixture
def libraries_at_debug() -> Iterator[None]:
    """Every library logger passing DEBUG on, as one set up to debug would: only the archive's
    own handler's level keeps their INFO lines out."""
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.DEBUG)
    yield
    root.setLevel(level)


@pytest.mark.usefixtures("libraries_at_debug")
def test_a_library_warning_is_a_json_line_on_standard_error_and_its_info_lines_stay_out(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("INFO", json=True)
    logging.getLogger("httpx").info("HTTP Request: GET https://idp.example/cb?code=s3cret")
    logging.getLogger("httpx").debug("connect_tcp.started host='idp.example' port=443")
    logging.getLogger("botocore.retries").warning("retrying the request")
    logging.getLogger("archive.anything").info("the archive's own line")
    out, err = capsys.readouterr()
    assert "s3cret" not in out + err
    [warning] = [json.loads(line) for line in err.splitlines()]
    assert warning["event"] == "retrying the request"
    assert (warning["level"], warning["logger"]) == ("warning", "botocore.retries")
    # The archive's own lines go to standard output, as before, at the configured level.
    [own] = [json.loads(line) for line in out.splitlines()]
    assert own["event"] == "the archive's own line"


def test_a_library_error_s_traceback_is_text_in_its_json_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("INFO", json=True)
    try:
        _ = 1 / 0
    except ZeroDivisionError:
        logging.getLogger("sqlalchemy.pool").error("Exception during reset", exc_info=True)
    _, err = capsys.readouterr()
    [line] = [json.loads(line) for line in err.splitlines()]
    assert line["event"] == "Exception during reset"
    assert line["exception"].startswith("Traceback (most recent call last):")
    assert "ZeroDivisionError: division by zero" in line["exception"]


def test_configuring_again_replaces_the_handlers_and_follows_the_level(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("INFO")
    configure_logging("ERROR", json=True)
    logging.getLogger("botocore.retries").warning("retrying the request")
    logging.getLogger("psycopg.pool").error("the pool is exhausted")
    _, err = capsys.readouterr()
    # One line, once: the first configuration's handler is gone, and WARNING is below ERROR.
    assert [json.loads(line)["event"] for line in err.splitlines()] == ["the pool is exhausted"]


def test_the_app_leaves_the_logging_to_the_archive(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ARCHIVE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ARCHIVE_LOG_JSON", "true")
    create_app()
    assert [type(h).__module__ for h in logging.getLogger().handlers if h.get_name()] == [
        "archive.logging"
    ]
    logging.getLogger("litestar").warning("a framework warning")
    _, err = capsys.readouterr()
    [line] = [json.loads(line) for line in err.splitlines()]
    assert (line["event"], line["logger"]) == ("a framework warning", "litestar")
