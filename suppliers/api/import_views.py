import csv
import io
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from remag.accounts.caller import caller_for
from remag.accounts.choices import OrganizationKind
from remag.accounts.models import Organization
from remag.accounts.permissions import IsOrganizationMember, organization_kind
from remag.accounts.selectors import ONBOARDERS, operator_organization, organization_acting
from remag.api.viewsets import RemagGenericViewSet
from remag.errors import TooLarge
from suppliers import imports
from suppliers.choices import ImportFormat
from suppliers.models import ImportJob, ImportRowError


class ImportUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="CSV or JSON lines, UTF-8; see docs/importing.md.")
    format = serializers.ChoiceField(
        choices=ImportFormat.choices,
        required=False,
        help_text="Defaults from the file name (.csv, .jsonl, .ndjson).",
    )


class ImportJobSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="import-detail", lookup_field="id")
    errors_url = serializers.HyperlinkedIdentityField(
        view_name="import-row-errors", lookup_field="id"
    )
    owner = serializers.UUIDField(source="owner_id", read_only=True)

    class Meta:
        model = ImportJob
        fields = (
            "id",
            "url",
            "errors_url",
            "owner",
            "filename",
            "file_format",
            "size_bytes",
            "status",
            "rows_total",
            "rows_processed",
            "created_count",
            "updated_count",
            "unchanged_count",
            "failed_count",
            "error",
            "attempts",
            "created_at",
            "started_at",
            "finished_at",
        )
        read_only_fields = fields


class ImportRowErrorSerializer(serializers.ModelSerializer):
    class Meta:
        model = ImportRowError
        fields = ("row_number", "field", "message", "value")
        read_only_fields = fields


@extend_schema(tags=["imports"])
class ImportJobViewSet(
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    RemagGenericViewSet,
):
    """Bulk onboarding of suppliers by portals and operators.

    `POST` a file (multipart, field `file`) and get `202 Accepted` with the job; the job
    shows status and counts, and `errors/` lists each failed row's number, field and
    message. Importing the same file twice creates nothing new.
    """

    serializer_class = ImportJobSerializer
    permission_classes = [
        organization_kind(OrganizationKind.PORTAL, OrganizationKind.OPERATOR),
        IsOrganizationMember,
    ]
    parser_classes = [MultiPartParser]
    lookup_field = "id"
    # Creates accept Idempotency-Key (the file is compared by its digest).
    idempotency_redact_fields: tuple[str, ...] = ()
    idempotent_actions = ("create",)

    # Room for the file plus the multipart envelope.
    @staticmethod
    def max_body_bytes() -> int:
        return int(settings.REMAG_IMPORT_MAX_BYTES) + 64 * 1024

    def get_queryset(self) -> QuerySet[ImportJob]:
        caller = caller_for(self.request)
        queryset = ImportJob.objects.defer("content")
        return (
            queryset
            if caller.is_operator
            else queryset.filter(owner_id__in=caller.organization_ids)
        )

    @extend_schema(
        request={"multipart/form-data": ImportUploadSerializer},
        responses={202: ImportJobSerializer},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        from remag.api.idempotency import idempotent_response

        return idempotent_response(request, lambda: self._create(request))

    def _create(self, request: Request) -> Response:
        upload = ImportUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        file = upload.validated_data["file"]
        if file.size > settings.REMAG_IMPORT_MAX_BYTES:
            raise TooLarge(
                f"The file is {file.size} bytes; imports accept at most "
                f"{settings.REMAG_IMPORT_MAX_BYTES}.",
                max_bytes=settings.REMAG_IMPORT_MAX_BYTES,
            )
        file_format = imports.detect_format(file.name or "", upload.validated_data.get("format"))
        job = imports.import_job_create(
            owner=_importing_organization(request),
            created_by=request.user if getattr(request.user, "pk", None) else None,
            content=file.read(),
            filename=file.name or "",
            file_format=file_format,
        )
        data = ImportJobSerializer(job, context=self.get_serializer_context()).data
        return Response(
            data, status=status.HTTP_202_ACCEPTED, headers={"Location": str(data["url"])}
        )

    @extend_schema(responses=ImportRowErrorSerializer(many=True))
    @action(detail=True, methods=["get"], url_path="errors", url_name="row-errors")
    def row_errors(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Failed rows of the job, in row order, paged."""
        job = self.get_object()
        queryset = ImportRowError.objects.filter(job=job)
        page = self.paginator.paginate_queryset(queryset, request, view=_RowErrorOrdering())
        return self.paginator.get_paginated_response(ImportRowErrorSerializer(page, many=True).data)

    @extend_schema(responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR)})
    @action(detail=True, methods=["get"], url_path="errors/csv", url_name="row-errors-csv")
    def row_errors_csv(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponse:
        """The failed rows as CSV. Cells that a spreadsheet would evaluate as a formula
        (starting with =, +, -, @) are escaped with a leading apostrophe."""
        job = self.get_object()
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["row_number", "field", "message", "value"])
        for error in ImportRowError.objects.filter(job=job).iterator():
            writer.writerow(
                [
                    error.row_number,
                    *(imports.csv_safe(v) for v in (error.field, error.message, error.value)),
                ]
            )
        response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="import-{job.id}-errors.csv"'
        return response


class _RowErrorOrdering:
    ordering = ("row_number", "id")
    filter_backends = ()


def _importing_organization(request: Request) -> Organization:
    organization = (
        organization_acting(caller=caller_for(request), kinds=ONBOARDERS, first_of_several=True)
        or operator_organization()
    )
    if organization is None:
        raise Http404
    return organization
