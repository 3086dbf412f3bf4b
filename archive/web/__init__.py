"""The web pages: server-rendered clients of the same use cases and permissions as the API."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from litestar import Router, get
from litestar.datastructures import CacheControlHeader
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import File
from litestar.router import Router as RouterType
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from archive.access.guards import public
from archive.web.account_pages import AccountPages
from archive.web.admin_pages import AdminPages
from archive.web.audit_pages import AuditPages
from archive.web.connector_pages import ConnectorPages
from archive.web.contact_pages import ContactPages
from archive.web.customer_pages import CustomerPages
from archive.web.errors import WEB_EXCEPTION_HANDLERS
from archive.web.formats import FILTERS
from archive.web.identity_pages import IdentityPages
from archive.web.policy_pages import PolicyPages
from archive.web.privacy_data_pages import PrivacyDataPages
from archive.web.privacy_pages import PrivacyPages
from archive.web.quality_pages import QualityPages
from archive.web.sample_pages import SamplePages
from archive.web.search_pages import SearchPages
from archive.web.session_pages import SessionPages
from archive.web.sso_mapping_pages import SsoMappingPages
from archive.web.sso_pages import SsoPages
from archive.web.start_pages import StartPages

HERE = Path(__file__).parent


def template_config() -> TemplateConfig[JinjaTemplateEngine]:
    # Autoescaping everywhere: every value on a page may come from a customer's message.
    environment = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    # Newstyle: `{% trans %}` hands its variables to gettext as keywords. These English
    # callables are the extension's defaults; each page's context brings its own language's
    # (`archive.web.pages.render`).
    environment.install_null_translations(newstyle=True)  # type: ignore[attr-defined]
    environment.filters.update(FILTERS)
    return TemplateConfig(engine=JinjaTemplateEngine.from_environment(environment))


@get(
    "/favicon.ico",
    opt=public(),
    include_in_schema=False,
    sync_to_thread=False,
    cache_control=CacheControlHeader(max_age=86400),
)
def favicon() -> File:
    """The icon browsers ask for at this fixed address, whatever the page links to."""
    return File(
        HERE / "static" / "favicon.ico",
        media_type="image/x-icon",
        content_disposition_type="inline",
    )


def web_router() -> RouterType:
    return Router(
        path="/",
        route_handlers=[
            favicon,
            SessionPages,
            SsoPages,
            StartPages,
            CustomerPages,
            SearchPages,
            ContactPages,
            PrivacyPages,
            PrivacyDataPages,
            IdentityPages,
            QualityPages,
            SamplePages,
            AuditPages,
            AdminPages,
            SsoMappingPages,
            ConnectorPages,
            PolicyPages,
            AccountPages,
        ],
        exception_handlers=WEB_EXCEPTION_HANDLERS,
        include_in_schema=False,
        tags=["pages"],
    )


def static_router() -> RouterType:
    """The pages' stylesheet and scripts: public, as they hold nothing of anyone's."""
    return create_static_files_router(
        path="/static",
        directories=[HERE / "static"],
        opt=public(),
        include_in_schema=False,
        cache_control=CacheControlHeader(max_age=3600),
    )
