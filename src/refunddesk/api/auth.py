"""Bearer API keys and their scopes."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja.security import HttpBearer

from refunddesk.api.errors import ApiError
from refunddesk.api.keys import key_for
from refunddesk.api.models import ApiKey


class ApiKeyAuth(HttpBearer):
    openapi_description = ("An API key made by an administrator in the console, sent as "
                           "`Authorization: Bearer rdk_…`. Each key has scopes.")

    def authenticate(self, request: HttpRequest, token: str) -> ApiKey | None:
        return key_for(token)


def require(request: Any, scope: str) -> ApiKey:
    key: ApiKey = request.auth
    if not key.allows(scope):
        raise ApiError(403, "missing_scope", _("This API key does not have the scope "
                                               "%(scope)s.") % {"scope": scope})
    return key
