"""What every CLI command shares: settings and a lazily built runtime."""

from __future__ import annotations

from dataclasses import dataclass, field

import click

from archive.logging import configure_logging
from archive.runtime import Runtime, build_runtime
from archive.settings import Settings


@dataclass
class Context:
    _settings: Settings | None = None
    _runtime: Runtime | None = field(default=None, repr=False)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = Settings.from_env()
            configure_logging(self._settings.log_level, json=self._settings.log_json)
        return self._settings

    @property
    def runtime(self) -> Runtime:
        if self._runtime is None:
            self._runtime = build_runtime(self.settings)
            click.get_current_context().call_on_close(self._runtime.close)
        return self._runtime


pass_context = click.make_pass_decorator(Context)
