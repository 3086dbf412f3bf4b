"""Rendering a page: the layout's context (who, what they may do, language) and its headers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Request
from litestar.response import Template
from litestar.utils.scope.state import ScopeState

from archive.access.permissions import Permission, granting_role
from archive.accounts.service import Principal
from archive.web.i18n import LANGUAGES, language_of, translator

# Pages load only the archive's own scripts, styles and media; e-mail HTML lives in a frame
# of its own origin-less sandbox (see `email_frame`), the only thing they may frame.
PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "media-src 'self'; connect-src 'self'; frame-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
PAGE_HEADERS = {"Content-Security-Policy": PAGE_CSP, "Cache-Control": "private, no-store"}


@dataclass(frozen=True)
class NavItem:
    permission: Permission
    label: str
    href: str


# The navigation, in order; an item shows only to roles holding its permission. Pages of the
# quality team, privacy officers, auditors and administrators join this list as they come.
NAVIGATION = (
    NavItem(Permission.CUSTOMERS_SEARCH, "Find a customer", "/customers"),
    NavItem(Permission.HOLDS_READ, "Holds", "/holds"),
    NavItem(Permission.PRIVACY_CASES, "Privacy requests", "/privacy"),
)


def user_of(request: Request[Any, Any, Any]) -> Principal | None:
    # `request.user` raises on public routes, where authentication did not run.
    user = request.scope.get("user")
    return user if isinstance(user, Principal) else None


def may(user: Principal | None, permission: Permission) -> bool:
    return user is not None and granting_role(user.roles, permission) is not None


def csrf_token_of(request: Request[Any, Any, Any]) -> str:
    """The token a form must repeat (set by the CSRF middleware on every browser request)."""
    token = ScopeState.from_scope(request.scope).csrf_token
    return token if isinstance(token, str) else ""


def render(
    request: Request[Any, Any, Any],
    template: str,
    status_code: int = 200,
    **context: Any,
) -> Template:
    """A page in the user's language with the layout's context; never cached."""
    user = user_of(request)
    language = language_of(request)
    context.update(
        user=user,
        nav=[item for item in NAVIGATION if may(user, item.permission)],
        may=lambda permission: may(user, permission),
        Permission=Permission,
        t=translator(language),
        language=language,
        languages=LANGUAGES,
        csrf_token=csrf_token_of(request),
        path=request.url.path,
    )
    return Template(
        template_name=template,
        context=context,
        status_code=status_code,
        headers=PAGE_HEADERS,
        media_type="text/html",
    )
