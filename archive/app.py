"""Assembles the Litestar application from settings: `create_app(settings)`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar, Router
from litestar.config.cors import CORSConfig
from litestar.datastructures import CacheControlHeader, State
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig

from archive import __version__
from archive.access.auth import TokenAuthentication
from archive.access.browser import BrowserCsrf
from archive.access.guards import declared_permissions, enforce_permission
from archive.accounts.approval_routes import ApprovalController
from archive.accounts.routes import AuthController, TokenController, UserController
from archive.api import health
from archive.api.access_log import access_log
from archive.api.deps import RuntimeDep, provide_runtime, provide_session
from archive.api.headers import security_headers
from archive.api.options import answer_options
from archive.api.problems import problem_answer
from archive.api.request_ids import HEADER as REQUEST_ID_HEADER
from archive.api.request_ids import request_ids, send_request_id
from archive.api.schema_viewer import viewer_assets, viewer_plugin
from archive.audit.routes import AccessReportController, AuditController
from archive.connectors.routes import ConnectorController
from archive.contacts.routes import ContactController
from archive.customers.review_routes import IdentityReviewController
from archive.customers.routes import CustomerController
from archive.heap import freeze_startup_objects
from archive.holds.routes import HoldController
from archive.lifecycle.routes import ErasureController
from archive.logging import configure_logging
from archive.observability.asgi import request_metrics
from archive.privacy.export_routes import ExportController
from archive.privacy.routes import CaseController, CertificateController
from archive.retention.routes import DeletionController, PolicyController
from archive.runtime import build_runtime
from archive.scrape import metrics_route
from archive.search.routes import SearchController
from archive.settings import Settings
from archive.sso.routes import GroupRoleController
from archive.tickets.routes import TicketController
from archive.tracing import trace_engine, tracer_provider
from archive.web import static_router, template_config, web_router
from archive.web.errors import pages_or


def accounts_router() -> Router:
    """Every accounts route. Answers hold tokens and TOTP URIs, so no cache may keep any."""
    return Router(
        path="/",
        route_handlers=[
            AuthController,
            UserController,
            TokenController,
            ApprovalController,
            GroupRoleController,
        ],
        tags=["accounts"],
        cache_control=CacheControlHeader(no_store=True),
    )


def cors(settings: Settings) -> CORSConfig | None:
    """Litestar's CORS handling for the origins ARCHIVE_CORS_ORIGINS names; none: CORS off."""
    if not settings.cors_origins:
        return None
    return CORSConfig(
        allow_origins=list(settings.cors_origins),
        allow_methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"],
        allow_headers=[
            "Authorization",
            "Content-Type",
            "Idempotency-Key",
            "X-Archive-Purpose",
            "Range",
            "If-Range",
            REQUEST_ID_HEADER,
        ],
        expose_headers=[
            REQUEST_ID_HEADER,
            "Content-Disposition",
            "Content-Range",
            "Accept-Ranges",
            "ETag",
            "Repr-Digest",
            "Retry-After",
        ],
        # Other sites' pages call with a bearer token; the session cookie stays the archive's
        # own pages' (SameSite, and CSRF-checked), never sent along by another origin's script.
        allow_credentials=False,
    )


def create_app(settings: Settings | None = None, *, runtime: RuntimeDep | None = None) -> Litestar:
    """The application. Pass a `runtime` to share one (tests, the demo); else one is built."""
    owned = runtime is None
    settings = settings or (runtime.settings if runtime else Settings.from_env())
    configure_logging(settings.log_level, json=settings.log_json)
    tracing = tracer_provider("archive-api")  # None unless OTEL_EXPORTER_OTLP_ENDPOINT is set

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        # A runtime passed in is in the state from the start, and whoever passed it may give
        # the app another between runs (`archive.testing.apps`); an owned one is built here.
        if owned:
            app.state.runtime = build_runtime(settings)
        if tracing is not None:
            trace_engine(app.state.runtime.engine, tracing)
        if owned:
            # A process serving this app alone (a test's shared runtime would never be freed).
            freeze_startup_objects()
        try:
            yield
        finally:
            if tracing is not None:
                tracing.force_flush()
            if owned:
                app.state.runtime.close()

    app = Litestar(
        route_handlers=[
            *health.ROUTES,
            ContactController,
            CustomerController,
            SearchController,
            IdentityReviewController,
            TicketController,
            accounts_router(),
            AuditController,
            AccessReportController,
            HoldController,
            PolicyController,
            DeletionController,
            CaseController,
            ErasureController,
            CertificateController,
            ExportController,
            ConnectorController,
            web_router(),
            static_router(),
            viewer_assets(),
            # No token, no /metrics: nothing is told to a caller who was not given one.
            *([metrics_route(settings.metrics_token)] if settings.metrics_token else []),
        ],
        dependencies={
            "runtime": Provide(provide_runtime, sync_to_thread=False),
            "session": Provide(provide_session),
        },
        # Errors the pages' own handler never sees (no route matched, a middleware refused)
        # are a page for a browser asking for one, problem details for everyone else.
        exception_handlers={Exception: pages_or(problem_answer)},
        # The request's id before anything else, so every log line carries it; who is calling
        # before the CSRF check, so a forged request with a dead cookie is a plain 401.
        # The timing outside the authentication, so refused requests are timed too.
        middleware=[
            request_ids,
            request_metrics,
            DefineMiddleware(TokenAuthentication),
            BrowserCsrf,
        ],
        before_send=[security_headers, send_request_id],
        cors_config=cors(settings),
        guards=[enforce_permission],
        before_request=answer_options,
        lifespan=[lifespan],
        state=State({} if runtime is None else {"runtime": runtime}),
        template_config=template_config(),
        openapi_config=OpenAPIConfig(
            title="Contact archive",
            version=__version__,
            path="/schema",
            render_plugins=[viewer_plugin()],
        ),
        request_max_body_size=1 << 20,
        debug=False,
        # The archive's own logging (`configure_logging`) writes every line. Litestar's default
        # would put a handler of its own on the root logger, in a text format of its own even
        # where lines are JSON, and write libraries' INFO lines through it, URLs and all.
        logging_config=None,
    )
    declared_permissions(app)  # refuses to start with a route that declares no permission
    # Around the router and everything else, so that its 404s and 405s are logged and traced.
    app.asgi_handler = access_log(app.asgi_handler)
    if tracing is not None:
        from archive.api.tracing import traced

        app.asgi_handler = traced(app.asgi_handler, tracing)
    return app
