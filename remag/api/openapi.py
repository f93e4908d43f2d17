"""OpenAPI: security schemes for our authentication classes, the Problem schema on
every operation's error responses, and the Idempotency-Key header on creates."""

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
    code = serializers.CharField()


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


_ERROR_CODES = {
    "GET": ("400", "401", "403", "404", "429"),
    "POST": ("400", "401", "403", "404", "413", "415", "422", "429"),
    "PUT": ("400", "401", "403", "404", "413", "415", "429"),
    "PATCH": ("400", "401", "403", "404", "413", "415", "429"),
    "DELETE": ("401", "403", "404", "429"),
}


class RemagAutoSchema(AutoSchema):
    def get_override_parameters(self) -> list[Any]:
        parameters = list(super().get_override_parameters())
        if self.method == "POST" and hasattr(self.view, "idempotency_redact_fields"):
            parameters.append(
                OpenApiParameter(
                    IDEMPOTENCY_HEADER,
                    type=str,
                    location=OpenApiParameter.HEADER,
                    required=False,
                    description=(
                        "Any unique string (a UUID is good). Sending the same key and body "
                        "again within 24 hours replays the first response instead of "
                        "creating twice."
                    ),
                )
            )
        return parameters

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        for code in _ERROR_CODES.get(self.method, ()):
            if code in responses:
                continue
            response = self._get_response_for_code(
                ProblemSerializer, code, media_types=[PROBLEM_CONTENT_TYPE], direction=direction
            )
            response["description"] = f"{HTTPStatus(int(code)).phrase} (problem document)"
            responses[code] = response
        return responses
