"""OpenAPI: security schemes for our authentication classes, the Problem schema on
every operation's error responses, and the Idempotency-Key header where it is honoured.

What a view declares, the schema states, so a generated client can trust it:

* ``idempotent_actions`` (``IdempotentCreateMixin`` sets ``("create",)``): the POST
  actions that honour ``Idempotency-Key``; they may also answer ``409`` (a request with
  the same key still running).
* ``conflict_actions``: the actions that may answer ``409 conflict`` (a state or
  uniqueness rule said no).
* a serializer's ``PRIVATE_FIELDS``: fields some callers do not get; never required in
  a response schema.
* request bodies are named ``<Name>Input`` (``SupplierInput``), never ``...RequestRequest``.
"""

from http import HTTPStatus
from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

from remag.api.idempotency import HEADER as IDEMPOTENCY_HEADER
from remag.api.problems import PROBLEM_CONTENT_TYPE


class UserTokenScheme(OpenApiAuthenticationExtension):
    target_class = "remag.accounts.authentication.UserTokenAuthentication"
    name = "personalToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal token: `Authorization: Bearer <token>`.",
        }


class OrganizationAPIKeyScheme(OpenApiAuthenticationExtension):
    target_class = "remag.accounts.authentication.OrganizationAPIKeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "X-API-Key",
            "description": (
                "An organisation's API key, as `X-API-Key: <key>` or "
                "`Authorization: Api-Key <key>`. Keys have `read` and/or `write` scopes."
            ),
        }


class ProblemFieldErrorSerializer(serializers.Serializer):
    field = serializers.CharField(allow_null=True, help_text="Path such as `items[0].code`.")
    pointer = serializers.CharField(help_text="JSON pointer into the request body.")
    message = serializers.CharField()
    code = serializers.CharField(allow_null=True)


class ProblemSerializer(serializers.Serializer):
    """An RFC 9457 problem document."""

    type = serializers.CharField(help_text="URI identifying the problem type.")
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    instance = serializers.CharField(required=False)
    code = serializers.CharField(required=False)
    errors = ProblemFieldErrorSerializer(many=True, required=False)

    class Meta:
        ref_name = "Problem"


IDEMPOTENCY_KEY = OpenApiParameter(
    IDEMPOTENCY_HEADER,
    type=str,
    location=OpenApiParameter.HEADER,
    required=False,
    description=(
        "Any unique string of 1 to 255 visible ASCII characters (a UUID is good). Sending "
        "the same key and body again within 24 hours replays the first response instead of "
        "doing it twice."
    ),
)

_ERROR_CODES = {
    "GET": ("400", "401", "403", "404", "429"),
    "POST": ("400", "401", "403", "404", "411", "413", "415", "422", "429"),
    "PUT": ("400", "401", "403", "404", "411", "413", "415", "429"),
    "PATCH": ("400", "401", "403", "404", "411", "413", "415", "429"),
    "DELETE": ("401", "403", "404", "429"),
}


_REQUEST_SUFFIX = "Request"


class RemagAutoSchema(AutoSchema):
    def _action(self) -> str | None:
        return getattr(self.view, "action", None)

    def honours_idempotency_key(self) -> bool:
        return self.method == "POST" and self._action() in getattr(
            self.view, "idempotent_actions", ()
        )

    def may_conflict(self) -> bool:
        if self.method == "GET":  # an action's GET (a list) never conflicts
            return False
        return self.honours_idempotency_key() or self._action() in getattr(
            self.view, "conflict_actions", ()
        )

    def get_override_parameters(self) -> list[Any]:
        parameters = list(super().get_override_parameters())
        if self.honours_idempotency_key():
            parameters.append(IDEMPOTENCY_KEY)
        return parameters

    def _get_serializer_name(
        self, serializer: Any, direction: Any, bypass_extensions: bool = False
    ) -> str:
        name = super()._get_serializer_name(serializer, direction, bypass_extensions)
        if direction == "request" and name.endswith(_REQUEST_SUFFIX):
            # COMPONENT_SPLIT_REQUEST appends "Request"; a request body is an "Input"
            # (ProcurementRequestInput rather than ProcurementRequestRequest).
            name = name[: -len(_REQUEST_SUFFIX)] + "Input"
        return name

    def _map_basic_serializer(self, serializer: Any, direction: Any) -> dict[str, Any]:
        schema = super()._map_basic_serializer(serializer, direction)
        private = set(getattr(serializer, "PRIVATE_FIELDS", ()))
        if direction == "response" and private and "required" in schema:
            schema["required"] = [name for name in schema["required"] if name not in private]
            if not schema["required"]:
                del schema["required"]
        return schema

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        codes = list(_ERROR_CODES.get(self.method, ()))
        if self.may_conflict():
            codes.append("409")
        for code in codes:
            if code in responses:
                continue
            response = self._get_response_for_code(
                ProblemSerializer, code, media_types=[PROBLEM_CONTENT_TYPE], direction=direction
            )
            response["description"] = f"{HTTPStatus(int(code)).phrase} (problem document)"
            responses[code] = response
        return responses
