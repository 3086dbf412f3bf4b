"""The OpenAPI viewer at /schema, served from Swagger UI's files installed with the archive.

The archive runs where the internet may be out of reach (a laptop on a train, a network
without egress), and its reference must work there too: the viewer's script and stylesheet
come from the `swagger-ui-py` package (Swagger UI under the Apache License 2.0, whose text
the package ships beside the files and this router serves at ASSETS/LICENSE), never from a CDN.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from litestar.datastructures import CacheControlHeader
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.static_files import create_static_files_router
from litestar.types import ControllerRouterHandler

from archive.access.guards import public

# Under /schema, which is public and answers no page for a browser: all that applies here too.
ASSETS = "/schema/viewer"
# What the /schema page may load and run: its own inline start-up script, and the files
# above. Nothing from another origin, so a page that tried a CDN would fail here too.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; font-src 'self' data:; frame-ancestors 'none'"
)


def swagger_ui_directory() -> Path:
    """Where the installed swagger-ui-py keeps Swagger UI's files (the package is not run)."""
    spec = importlib.util.find_spec("swagger_ui")
    if spec is None or spec.origin is None:
        raise RuntimeError("the swagger-ui-py package is not installed (pip install -e .)")
    return Path(spec.origin).parent / "static"


def viewer_plugin() -> SwaggerRenderPlugin:
    return SwaggerRenderPlugin(
        js_url=f"{ASSETS}/swagger-ui-bundle.js",
        css_url=f"{ASSETS}/swagger-ui.css",
        standalone_preset_js_url=f"{ASSETS}/swagger-ui-standalone-preset.js",
        favicon=f"<link rel='icon' type='image/png' href='{ASSETS}/favicon-32x32.png'>",
    )


def viewer_assets() -> ControllerRouterHandler:
    """Swagger UI's files: public, like the schema they show."""
    return create_static_files_router(
        path=ASSETS,
        directories=[swagger_ui_directory()],
        opt=public(),
        include_in_schema=False,
        cache_control=CacheControlHeader(max_age=86400),
    )
