"""Supplier and taxonomy serializers. The input rules are in :mod:`suppliers.inputs`
(shared with the bulk import); the writes are in services."""

from datetime import date
from decimal import Decimal
from functools import cached_property
from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from remag.accounts.caller import Caller
from remag.api.fields import IdentityUrlField, NumberField
from suppliers import classification, selectors
from suppliers.access import supplier_can_see_private
from suppliers.choices import TemperatureClass
from suppliers.inputs import (
    SupplierCapabilitySerializer,
    SupplierCertificateSerializer,
    SupplierInputSerializer,
    SupplierPlantSerializer,
)
from suppliers.models import (
    Capability,
    Certification,
    MaterialGrade,
    Supplier,
    certificate_valid_on,
)
from suppliers.states import STATES_BY_CODE, state_of_gstin

__all__ = [
    "CapabilitySerializer",
    "CertificationSerializer",
    "LayerSerializer",
    "MaterialGradeSerializer",
    "SupplierCapabilitySerializer",
    "SupplierCertificateSerializer",
    "SupplierSerializer",
    "SupplierStatusChangeSerializer",
]


# ------------------------------------------------------------------ taxonomy


class LayerSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class CapabilitySerializer(serializers.ModelSerializer):
    class Meta:
        model = Capability
        fields = ("code", "name", "layer", "description", "synonyms", "is_active")
        read_only_fields = fields


class CertificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Certification
        fields = (
            "code",
            "name",
            "category",
            "kind",
            "edition",
            "scoped",
            "description",
            "is_active",
        )
        read_only_fields = fields


class MaterialGradeSerializer(serializers.ModelSerializer):
    temperature_class = serializers.ChoiceField(
        choices=TemperatureClass.choices,
        allow_blank=True,
        read_only=True,
        help_text="Sintered NdFeB temperature class, lowest first: n (none), m, h, sh, uh, "
        'eh, ah. "" for families without temperature classes.',
    )

    class Meta:
        model = MaterialGrade
        fields = (
            "code",
            "name",
            "family",
            "energy_class",
            "temperature_class",
            "max_operating_temp_c",
            "description",
            "is_active",
        )
        read_only_fields = fields


# ------------------------------------------------------------------ suppliers


class LocationSerializer(serializers.Serializer):
    latitude = NumberField()
    longitude = NumberField()
    approximate = serializers.BooleanField(
        help_text="True when the supplier gave no coordinates and this is its state's centroid."
    )


# The nested lists are built from plain rows (suppliers.selectors.supplier_details).
_FAST_NESTED = ("capabilities", "certificates", "gstins", "plants")


class SupplierSerializer(SupplierInputSerializer):
    """A supplier profile. Private fields (``PRIVATE_FIELDS``) are returned only to the
    owner's members, the onboarding portal while unclaimed, and operators."""

    PRIVATE_FIELDS = (
        "pan",
        "gstin",
        "gstins",
        "investment_inr",
        "turnover_inr",
        "contact_name",
        "contact_email",
        "contact_phone",
        "address_line",
        "onboarded_by",
        "possible_duplicate_of",
        "status_reason",
    )

    url = IdentityUrlField(view_name="supplier-detail", lookup_field="id", read_only=True)
    state_name = serializers.SerializerMethodField()
    classification_financial_year = serializers.SerializerMethodField(
        help_text='The classification\'s financial year, e.g. "2025-26"; null when not stated.'
    )
    classification_stale = serializers.SerializerMethodField(
        help_text="True when the classification is of a financial year before the current "
        "one (matching then treats the size as unknown for policy preference); null when "
        "its year is not stated."
    )
    location = serializers.SerializerMethodField()
    claimed = serializers.SerializerMethodField()
    onboarded_by = serializers.UUIDField(source="onboarded_by_id", read_only=True, allow_null=True)
    possible_duplicate_of = serializers.UUIDField(
        source="possible_duplicate_of_id", read_only=True, allow_null=True
    )

    class Meta(SupplierInputSerializer.Meta):
        model = Supplier
        fields = (
            "id",
            "url",
            "owner",
            "legal_name",
            "trade_name",
            "legal_form",
            "udyam_number",
            "pan",
            "gstin",
            "enterprise_size",
            "classification_year",
            "classification_financial_year",
            "classification_stale",
            "investment_inr",
            "turnover_inr",
            "women_owned",
            "sc_st_owned",
            "year_established",
            "employees",
            "website",
            "contact_name",
            "contact_email",
            "contact_phone",
            "state",
            "state_name",
            "district",
            "city",
            "address_line",
            "pin_code",
            "latitude",
            "longitude",
            "location",
            "status",
            "status_reason",
            "is_active",
            "verified_at",
            "claimed",
            "onboarded_by",
            "possible_duplicate_of",
            "capabilities",
            "certificates",
            "gstins",
            "plants",
            "created_at",
            "updated_at",
        )
        read_only_fields = (
            "status",
            "status_reason",
            "is_active",
            "verified_at",
            "created_at",
            "updated_at",
        )

    # -------------------------------------------------------------- output

    def get_classification_financial_year(self, obj: Supplier) -> str | None:
        year = obj.classification_year
        return None if year is None else classification.financial_year_label(year)

    def get_classification_stale(self, obj: Supplier) -> bool | None:
        today = self.context.get("today") or timezone.localdate()
        return classification.is_stale(obj.classification_year, today=today)

    def get_state_name(self, obj: Supplier) -> str:
        state = STATES_BY_CODE.get(obj.state)
        return state.name if state else obj.state

    @extend_schema_field(LocationSerializer(allow_null=True))
    def get_location(self, obj: Supplier) -> dict[str, Any] | None:
        if obj.latitude is not None and obj.longitude is not None:
            return {"latitude": obj.latitude, "longitude": obj.longitude, "approximate": False}
        state = STATES_BY_CODE.get(obj.state)
        if state is None:
            return None
        return {"latitude": state.latitude, "longitude": state.longitude, "approximate": True}

    def get_claimed(self, obj: Supplier) -> bool:
        return obj.claimed_at is not None

    # The nested lists are built directly (same shape as the nested serializers give):
    # serialising them field by field was half the cost of a list page.
    _FAST_NESTED = _FAST_NESTED

    @cached_property
    def _readable_field_list(self) -> list[Any]:
        # Once per serializer, not once per row of a list page.
        return [f for f in super()._readable_fields if f.field_name not in self._FAST_NESTED]

    @property
    def _readable_fields(self) -> Any:
        return iter(self._readable_field_list)

    def to_representation(self, instance: Supplier) -> dict[str, Any]:
        data = super().to_representation(instance)
        today = self.context.get("today") or timezone.localdate()
        # A list page reads every supplier's nested rows at once (the view puts them in
        # the context); a single supplier reads its own.
        details = self.context.get("details", {}).get(instance.id)
        if details is None:
            details = selectors.supplier_details([instance.id])[instance.id]
        data["capabilities"] = [_capability_out(row) for row in details.capabilities]
        data["certificates"] = [_certificate_out(row, today) for row in details.certificates]
        data["gstins"] = _gstins_out(instance, details.gstins)
        data["plants"] = [_plant_out(row) for row in details.plants]
        caller: Caller | None = self.context.get("caller")
        if caller is None or not supplier_can_see_private(caller=caller, supplier=instance):
            for name in self.PRIVATE_FIELDS:
                data.pop(name, None)
            for plant in data["plants"]:
                for name in SupplierPlantSerializer.PRIVATE_FIELDS:
                    plant.pop(name, None)
        return data


class SupplierPageSerializer(SupplierSerializer):
    """A list page's suppliers: :class:`SupplierSerializer`'s output, without building
    the nested input serializers it never uses for output (copying them, with their
    querysets, for every page cost more than serialising a supplier). The nested lists
    come from the rows in the context (``details``), as for any supplier; the schema
    describes the list with :class:`SupplierSerializer`."""

    capabilities = None
    certificates = None
    gstins = None
    plants = None

    class Meta(SupplierSerializer.Meta):
        fields = tuple(name for name in SupplierSerializer.Meta.fields if name not in _FAST_NESTED)


def _decimal_out(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.3f}"


def _capability_out(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "capability": row["capability__code"],
        "capability_name": row["capability__name"],
        "layer": row["capability__layer"],
        "capacity_per_month": _decimal_out(row["capacity_per_month"]),
        "capacity_unit": row["capacity_unit"],
        "minimum_order": _decimal_out(row["minimum_order"]),
        "lead_time_days": row["lead_time_days"],
        "grades": row["grades"],
        "materials": row["materials"],
        "description": row["description"],
    }


def _certificate_out(row: dict[str, Any], today: date) -> dict[str, Any]:
    valid_until = row["valid_until"]
    return {
        "certification": row["certification__code"],
        "certification_name": row["certification__name"],
        "kind": row["certification__kind"],
        "edition": row["certification__edition"],
        "certificate_number": row["certificate_number"],
        "issuing_body": row["issuing_body"],
        "valid_from": row["valid_from"].isoformat(),
        "valid_until": valid_until.isoformat() if valid_until else None,
        "scope": row["scope"],
        "is_valid": certificate_valid_on(row["valid_from"], valid_until, today),
    }


def _state_name(code: str) -> str:
    state = STATES_BY_CODE.get(code)
    return state.name if state else ""


def _gstins_out(supplier: Supplier, gstins: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = [
        {
            "gstin": row["gstin"],
            "label": row["label"],
            "state": row["state"],
            "state_name": _state_name(row["state"]),
        }
        for row in gstins
    ]
    if not rows and supplier.gstin:  # a primary GSTIN written without the services
        state = state_of_gstin(supplier.gstin)
        rows = [
            {"gstin": supplier.gstin, "label": "", "state": state, "state_name": _state_name(state)}
        ]
    return rows


def _plant_out(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": row["name"],
        "address_line": row["address_line"],
        "city": row["city"],
        "district": row["district"],
        "state": row["state"],
        "state_name": _state_name(row["state"]),
        "pin_code": row["pin_code"],
        "latitude": row["latitude"],
        "longitude": row["longitude"],
        "capabilities": row["capabilities"],
    }


class SupplierStatusChangeSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True)
