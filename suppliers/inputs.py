"""What a supplier registration, update or import row may say, and how it is checked.

The API's serializer (:mod:`suppliers.api.serializers`) builds on
:class:`SupplierInputSerializer` to add the output; the bulk import
(:mod:`suppliers.imports`) validates each row with it, so both accept exactly the same
input. :func:`supplier_input` turns validated data into the services' input.
"""

import re
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from rest_framework import serializers

from remag.numbers import NumberField
from suppliers import classification
from suppliers.choices import (
    CERTIFICATION_ALIASES,
    MANUFACTURING_LAYERS,
    ZED_CATEGORY,
    CapacityUnit,
    CertificationKind,
    EnterpriseSize,
    Layer,
)
from suppliers.models import (
    CAPABILITY_FIELDS,
    PLANT_FIELDS,
    PROFILE_FIELDS,
    Capability,
    Certification,
    MaterialGrade,
    Supplier,
    SupplierCapability,
    SupplierCertificate,
    SupplierPlant,
)
from suppliers.services import SupplierInput
from suppliers.states import STATES_BY_CODE
from suppliers.validators import (
    check_gstin_embeds_pan,
    check_pan_holder,
    normalise_gstin,
    normalise_pan,
    normalise_pin_code,
    normalise_udyam,
)

_PHONE = re.compile(r"^\+?[0-9][0-9 \-]{6,18}[0-9]\Z")
MAX_NESTED_ITEMS = 100
# An enterprise has at most one GSTIN per state and business vertical: 40 is plenty.
MAX_GSTINS = 40
NESTED_FIELDS = ("capabilities", "certificates", "gstins", "plants")
_OWNERSHIP_HELP = (
    "Owned by {who}: the proprietor, or at least 51% of a partnership's or company's "
    "shares. Counts for public procurement policy only for a micro or small enterprise."
)


def _django_to_drf(func: Any, value: str) -> str:
    try:
        return func(value)
    except DjangoValidationError as exc:
        raise serializers.ValidationError(exc.messages) from exc


# ------------------------------------------------------------------ nested items


class WholeItem:
    """A nested list item is whole even in a PATCH: a list sent replaces the stored one,
    and DRF would let a partial update skip the item's required fields."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            missing = {
                name: ["This field is required."]
                for name, field in self.fields.items()  # type: ignore[attr-defined]
                if field.required and name not in data
            }
            if missing:
                raise serializers.ValidationError(missing, code="required")
        return super().to_internal_value(data)  # type: ignore[misc]


class SupplierCapabilitySerializer(WholeItem, serializers.ModelSerializer):
    capability = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Capability.objects.filter(is_active=True),
        help_text="A capability code from /api/v1/taxonomy/capabilities/.",
    )
    capability_name = serializers.CharField(source="capability.name", read_only=True)
    layer = serializers.ChoiceField(
        source="capability.layer", choices=Layer.choices, read_only=True
    )
    capacity_per_month = serializers.DecimalField(
        max_digits=14, decimal_places=3, min_value=Decimal(0), required=False, allow_null=True
    )
    capacity_unit = serializers.ChoiceField(
        choices=CapacityUnit.choices, required=False, allow_blank=True
    )
    minimum_order = serializers.DecimalField(
        max_digits=14, decimal_places=3, min_value=Decimal(0), required=False, allow_null=True
    )
    lead_time_days = serializers.IntegerField(
        min_value=0, max_value=3650, required=False, allow_null=True
    )
    grades = serializers.ListField(
        child=serializers.SlugField(max_length=60), required=False, max_length=60
    )
    materials = serializers.ListField(
        child=serializers.CharField(max_length=100), required=False, max_length=30
    )
    description = serializers.CharField(max_length=2000, required=False, allow_blank=True)

    class Meta:
        model = SupplierCapability
        fields = ("capability", "capability_name", "layer", *CAPABILITY_FIELDS)

    def validate_grades(self, value: list[str]) -> list[str]:
        codes = [code.lower() for code in value]
        known = set(MaterialGrade.objects.filter(code__in=codes).values_list("code", flat=True))
        unknown = [code for code in codes if code not in known]
        if unknown:
            raise serializers.ValidationError(
                f"Unknown grade(s): {', '.join(unknown)}; see /api/v1/taxonomy/grades/."
            )
        return list(dict.fromkeys(codes))

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("capacity_per_month") is not None and not attrs.get("capacity_unit"):
            raise serializers.ValidationError(
                {"capacity_unit": "Give the unit of the capacity."}, code="required"
            )
        return attrs


class SupplierCertificateSerializer(WholeItem, serializers.ModelSerializer):
    """One certificate, accreditation, self-declaration or licence (docs/registry.md).

    A retired code (``nabl``) is accepted and recorded as the code it was retired into
    (``iso-iec-17025``), with that alias's issuing body (NABL) unless another is given.
    """

    certification = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Certification.objects.filter(is_active=True),
        help_text="A certification code from /api/v1/taxonomy/certifications/ (`nabl` is "
        "accepted and recorded as `iso-iec-17025` with issuing body NABL).",
    )
    certification_name = serializers.CharField(source="certification.name", read_only=True)
    kind = serializers.ChoiceField(
        source="certification.kind", choices=CertificationKind.choices, read_only=True
    )
    edition = serializers.CharField(source="certification.edition", read_only=True)
    certificate_number = serializers.CharField(
        max_length=100,
        required=False,
        allow_blank=True,
        help_text="Required except for a self-declaration (then its reference, if any).",
    )
    issuing_body = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        help_text="The certification or accreditation body (NABL, or another ILAC MRA "
        "signatory, for ISO/IEC 17025) or the regulator. Empty for a self-declaration.",
    )
    valid_until = serializers.DateField(
        required=False,
        allow_null=True,
        help_text="Required except for a self-declaration, which may be open-ended.",
    )
    scope = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Capability.objects.filter(is_active=True),
        many=True,
        required=False,
        help_text="For an accreditation with a scope (ISO/IEC 17025, ISO/IEC 17020, "
        "Nadcap): the capability codes it covers. Matching counts it only for requests "
        "requiring one of them; with none stated it counts for none.",
    )
    is_valid = serializers.SerializerMethodField(
        help_text="Valid today; an expired certificate counts for nothing."
    )

    class Meta:
        model = SupplierCertificate
        fields = (
            "certification",
            "certification_name",
            "kind",
            "edition",
            "certificate_number",
            "issuing_body",
            "valid_from",
            "valid_until",
            "scope",
            "is_valid",
        )

    def get_is_valid(self, obj: SupplierCertificate) -> bool:
        return obj.is_valid_on(self.context.get("today") or timezone.localdate())

    def to_internal_value(self, data: Any) -> Any:
        named = data.get("certification") if isinstance(data, dict) else None
        if isinstance(named, str) and named in CERTIFICATION_ALIASES:  # not a list or object
            code, body = CERTIFICATION_ALIASES[data["certification"]]
            data = {**data, "certification": code, "issuing_body": data.get("issuing_body") or body}
        return super().to_internal_value(data)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        certification: Certification = attrs["certification"]
        valid_until = attrs.get("valid_until")
        errors: dict[str, str] = {}
        if certification.kind == CertificationKind.DECLARATION:
            if attrs.get("issuing_body"):
                errors["issuing_body"] = (
                    f"{certification.name} is declared by the supplier itself; "
                    "it has no issuing body."
                )
        else:
            if not attrs.get("certificate_number"):
                errors["certificate_number"] = "This field is required."
            if valid_until is None:
                errors["valid_until"] = (
                    f"This field is required: only a self-declaration is open-ended, "
                    f"and {certification.name} is a {certification.get_kind_display().lower()}."
                )
        if valid_until is not None and valid_until < attrs["valid_from"]:
            errors["valid_until"] = "Must not be before valid_from."
        if attrs.get("scope") and not certification.scoped:
            errors["scope"] = (
                f"{certification.name} covers the whole enterprise; only an accreditation "
                "with a scope (ISO/IEC 17025, ISO/IEC 17020, Nadcap) names capabilities."
            )
        if errors:
            raise serializers.ValidationError(errors, code="invalid")
        attrs["scope"] = list(dict.fromkeys(attrs.get("scope", [])))
        attrs.setdefault("certificate_number", "")
        return attrs


class SupplierGstinSerializer(WholeItem, serializers.Serializer):
    """One GSTIN of the supplier; its state is that of its GST state code."""

    gstin = serializers.CharField(
        max_length=20,
        help_text="15-character GSTIN; the check character is verified, and characters 3 "
        "to 12 must be the supplier's PAN. Unique across the registry.",
    )
    label = serializers.CharField(
        max_length=100,
        required=False,
        allow_blank=True,
        help_text='What the registration covers, e.g. "Hosur unit"; free text.',
    )
    state = serializers.CharField(
        read_only=True,
        help_text="The state of the GSTIN's GST state code (its first two digits); empty "
        "for 97, other territory.",
    )
    state_name = serializers.CharField(read_only=True)

    def validate_gstin(self, value: str) -> str:
        return _django_to_drf(normalise_gstin, value)


class SupplierPlantSerializer(WholeItem, serializers.ModelSerializer):
    """A plant beyond the supplier's main location (its own address and coordinates)."""

    # Shown only to those who see the supplier's private fields, like its own address.
    PRIVATE_FIELDS = ("address_line",)

    name = serializers.CharField(
        max_length=120, help_text='Unique among the supplier\'s plants, e.g. "Hosur".'
    )
    state_name = serializers.SerializerMethodField()
    pin_code = serializers.CharField(max_length=10, required=False, allow_blank=True)
    latitude = NumberField(min_value=6, max_value=38, required=False, allow_null=True)
    longitude = NumberField(min_value=68, max_value=98, required=False, allow_null=True)
    capabilities = serializers.SlugRelatedField(
        slug_field="code",
        many=True,
        required=False,
        queryset=Capability.objects.filter(is_active=True),
        help_text="Which of the supplier's capabilities the plant offers (codes); empty: "
        "all of them.",
    )

    class Meta:
        model = SupplierPlant
        fields = (*PLANT_FIELDS[:5], "state_name", *PLANT_FIELDS[5:], "capabilities")

    def get_state_name(self, obj: Any) -> str:
        state = STATES_BY_CODE.get(obj["state"] if isinstance(obj, dict) else obj.state)
        return state.name if state else ""

    def validate_pin_code(self, value: str) -> str:
        return _django_to_drf(normalise_pin_code, value) if value else ""

    def validate_capabilities(self, value: list[Capability]) -> list[Capability]:
        return list({capability.code: capability for capability in value}.values())

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if (attrs.get("latitude") is None) != (attrs.get("longitude") is None):
            missing = "longitude" if attrs.get("longitude") is None else "latitude"
            raise serializers.ValidationError(
                {missing: "Give both latitude and longitude, or neither."}, code="required"
            )
        return attrs


# ------------------------------------------------------------------ the supplier


class SupplierInputSerializer(serializers.ModelSerializer):
    """The writable fields of a supplier profile and their rules."""

    udyam_number = serializers.CharField(
        max_length=25, help_text="Udyam registration number, UDYAM-XX-00-0000000."
    )
    pan = serializers.CharField(
        max_length=20, required=False, allow_null=True, allow_blank=True,
        help_text="The enterprise's PAN, AAAAA9999A: its 4th character must fit the legal "
        "form (C a company, F a firm or LLP, P a proprietor, H a HUF, ...), its 5th the "
        "initial of the name (except a proprietor's). Taken from the GSTIN when not given. "
        "Unique: one enterprise, one PAN.",
    )  # fmt: skip
    gstin = serializers.CharField(
        max_length=20, required=False, allow_null=True, allow_blank=True,
        help_text="The primary GSTIN, the first of `gstins`: 15 characters, the check "
        "character verified, characters 3 to 12 the supplier's PAN. Writing it alone "
        "replaces the primary GSTIN (or makes a listed one primary) and keeps the others; "
        "null removes the primary (the next becomes primary). With `gstins`, it must be "
        "the first of them.",
    )  # fmt: skip
    enterprise_size = serializers.ChoiceField(
        choices=EnterpriseSize.choices,
        required=False,
        allow_blank=True,
        help_text="Micro, small or medium, as the Udyam certificate classifies the enterprise "
        "for `classification_year`. Required, unless `investment_inr` and `turnover_inr` "
        "are both given: then it is derived from them, and when given must agree.",
    )
    classification_year = serializers.IntegerField(
        min_value=classification.FIRST_UDYAM_YEAR,
        required=False,
        allow_null=True,
        help_text="The financial year of the classification, by its first year (2025 for "
        "2025-26); not after the current one. Required with investment or turnover.",
    )
    investment_inr = serializers.DecimalField(
        max_digits=16, decimal_places=2, min_value=Decimal(0), required=False, allow_null=True,
        help_text="Investment in plant and machinery or equipment for that year, in rupees.",
    )  # fmt: skip
    turnover_inr = serializers.DecimalField(
        max_digits=16, decimal_places=2, min_value=Decimal(0), required=False, allow_null=True,
        help_text="Turnover for that year, in rupees.",
    )  # fmt: skip
    pin_code = serializers.CharField(max_length=10)
    contact_phone = serializers.CharField(max_length=25, required=False, allow_blank=True)
    year_established = serializers.IntegerField(min_value=1850, required=False, allow_null=True)
    employees = serializers.IntegerField(
        min_value=0, max_value=1_000_000, required=False, allow_null=True
    )
    latitude = NumberField(
        min_value=6, max_value=38, required=False, allow_null=True, write_only=True
    )
    longitude = NumberField(
        min_value=68, max_value=98, required=False, allow_null=True, write_only=True
    )
    owner = serializers.UUIDField(
        source="owner_id",
        required=False,
        help_text="The owning SME organisation; defaults to the caller's only SME organisation.",
    )
    capabilities = SupplierCapabilitySerializer(many=True, required=False)
    certificates = SupplierCertificateSerializer(many=True, required=False)
    gstins = SupplierGstinSerializer(
        many=True,
        required=False,
        help_text="Every GSTIN of the enterprise (one per state of operation, or more), the "
        "primary first; all embed its PAN. Sent, the list replaces the stored one.",
    )
    plants = SupplierPlantSerializer(
        many=True,
        required=False,
        help_text="Plants beyond the main location (the supplier's own address), each "
        "offering some of its capabilities (all when it names none). Sent, the list "
        "replaces the stored one.",
    )

    class Meta:
        model = Supplier
        fields = ("owner", *PROFILE_FIELDS, *NESTED_FIELDS)
        extra_kwargs = {
            "udyam_number": {"validators": []},
            "gstin": {"validators": []},
            "women_owned": {"help_text": _OWNERSHIP_HELP.format(who="women")},
            "sc_st_owned": {"help_text": _OWNERSHIP_HELP.format(who="SC/ST entrepreneurs")},
        }

    def validate_udyam_number(self, value: str) -> str:
        return _django_to_drf(normalise_udyam, value)

    def validate_gstin(self, value: str | None) -> str | None:
        if not value:
            return None
        return _django_to_drf(normalise_gstin, value)

    def validate_pan(self, value: str | None) -> str | None:
        if not value:
            return None
        return _django_to_drf(normalise_pan, value)

    def validate_pin_code(self, value: str) -> str:
        return _django_to_drf(normalise_pin_code, value)

    def validate_contact_phone(self, value: str) -> str:
        if value and not _PHONE.match(value.strip()):
            raise serializers.ValidationError("Give a phone number such as +91 20 2712 3456.")
        return value.strip()

    def validate_year_established(self, value: int | None) -> int | None:
        if value is not None and value > date.today().year:  # noqa: DTZ011
            raise serializers.ValidationError("Cannot be in the future.")
        return value

    def validate_capabilities(self, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return self._unique_nested(value, "capability", "capabilities")

    def validate_gstins(self, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if len(value) > MAX_GSTINS:
            raise serializers.ValidationError(f"At most {MAX_GSTINS} GSTINs.")
        seen: set[str] = set()
        for item in value:
            if item["gstin"] in seen:
                raise serializers.ValidationError(f"{item['gstin']!r} is listed twice.")
            seen.add(item["gstin"])
        return value

    def validate_plants(self, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if len(value) > MAX_NESTED_ITEMS:
            raise serializers.ValidationError(f"At most {MAX_NESTED_ITEMS} plants.")
        seen: set[str] = set()
        for item in value:
            key = item["name"].strip().casefold()
            if key in seen:
                raise serializers.ValidationError(f"{item['name']!r} is listed twice.")
            seen.add(key)
        return value

    def validate_certificates(self, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """At most ``MAX_NESTED_ITEMS``. One certificate sent twice under one code (as a
        caller still sending ``nabl`` beside ``iso-iec-17025`` does: one accreditation)
        is kept once: the later end date, the union of the scopes."""
        if len(value) > MAX_NESTED_ITEMS:
            raise serializers.ValidationError(f"At most {MAX_NESTED_ITEMS} certificates.")
        kept: dict[object, dict[str, Any]] = {}
        for n, item in enumerate(value):
            number = item["certificate_number"].strip().lower()
            key: object = (item["certification"].pk, number) if number else n
            other = kept.get(key)
            if other is None:
                kept[key] = item
                continue
            scope = list(dict.fromkeys([*other["scope"], *item["scope"]]))
            if _ends_later(item, other):
                item, other = other, item
            kept[key] = {**other, "scope": scope}
        return list(kept.values())

    def _unique_nested(
        self, value: list[dict[str, Any]], key: str, label: str
    ) -> list[dict[str, Any]]:
        if len(value) > MAX_NESTED_ITEMS:
            raise serializers.ValidationError(f"At most {MAX_NESTED_ITEMS} {label}.")
        seen: set[str] = set()
        for item in value:
            code = item[key].code
            if code in seen:
                raise serializers.ValidationError(f"{code!r} is listed twice.")
            seen.add(code)
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        latitude = attrs.get("latitude", getattr(self.instance, "latitude", None))
        longitude = attrs.get("longitude", getattr(self.instance, "longitude", None))
        if (latitude is None) != (longitude is None):
            missing = "longitude" if longitude is None else "latitude"
            raise serializers.ValidationError(
                {missing: "Give both latitude and longitude, or neither."}, code="required"
            )
        self._resolve_gstins(attrs)
        self._check_pan(attrs)
        self._check_plants(attrs)
        self._check_scopes(attrs)
        self._check_classification(attrs)
        self._check_zed(attrs)
        return attrs

    def _stored_gstins(self) -> list[dict[str, Any]]:
        """The instance's GSTINs as input items (a profile stored before the list existed
        may have its ``gstin`` alone)."""
        if self.instance is None:
            return []
        stored = [
            {"gstin": row.gstin, "label": row.label, "field": None}
            for row in self.instance.gstins.all()
        ]
        if not stored and self.instance.gstin:
            stored = [{"gstin": self.instance.gstin, "label": "", "field": None}]
        return stored

    def _resolve_gstins(self, attrs: dict[str, Any]) -> None:
        """Make ``gstins`` the full list and ``gstin`` its first, when either was sent.

        Each item's ``field`` names the API field it came from, for errors: the GSTIN of
        a list sent is ``gstins[i].gstin``, one given as ``gstin`` alone is ``gstin``, a
        stored one kept is ``None``.
        """
        if "gstins" in attrs:
            items = [
                {**item, "field": f"gstins[{i}].gstin"} for i, item in enumerate(attrs["gstins"])
            ]
            primary = attrs.get("gstin")
            if primary and (not items or items[0]["gstin"] != primary):
                raise serializers.ValidationError(
                    {"gstin": "Must be the first of `gstins` (the primary GSTIN), or left out."},
                    code="invalid",
                )
        elif "gstin" in attrs:
            stored = self._stored_gstins()
            primary = attrs["gstin"]
            others = [item for item in stored if item["gstin"] != primary]
            if primary is None:
                items = stored[1:]
            elif any(item["gstin"] == primary for item in stored):
                # A listed GSTIN becomes the primary; the list keeps its order otherwise.
                current = next(item for item in stored if item["gstin"] == primary)
                items = [{**current, "field": "gstin"}, *others]
            else:
                # A new number replaces the primary one.
                items = [{"gstin": primary, "label": "", "field": "gstin"}, *stored[1:]]
        else:
            return
        attrs["gstins"] = items
        attrs["gstin"] = items[0]["gstin"] if items else None

    def _offered_codes(self, attrs: dict[str, Any]) -> set[str]:
        """The capabilities the supplier will offer: those sent, else those stored."""
        if "capabilities" in attrs:
            return {item["capability"].code for item in attrs["capabilities"]}
        if self.instance is not None:
            return {item.capability.code for item in self.instance.capabilities.all()}
        return set()

    def _check_plants(self, attrs: dict[str, Any]) -> None:
        """A plant offers only capabilities the supplier offers."""
        if "plants" not in attrs and "capabilities" not in attrs:
            return
        offered = self._offered_codes(attrs)
        if "plants" in attrs:
            plants = [(f"plants[{i}].capabilities", p) for i, p in enumerate(attrs["plants"])]
        elif self.instance is not None:
            plants = [
                ("capabilities", {"name": p.name, "capabilities": list(p.capabilities.all())})
                for p in self.instance.plants.all()
            ]
        else:
            plants = []
        for field, plant in plants:
            missing = [c.code for c in plant.get("capabilities", ()) if c.code not in offered]
            if not missing:
                continue
            if field == "capabilities":
                message = (
                    f"The plant {plant['name']!r} offers {', '.join(missing)}: keep them, or "
                    "change the plant's capabilities in the same request."
                )
            else:
                message = (
                    f"Not among the supplier's capabilities: {', '.join(missing)}. A plant "
                    "offers some of the supplier's capabilities (none listed: all)."
                )
            raise serializers.ValidationError({field: message}, code="invalid")

    def _check_scopes(self, attrs: dict[str, Any]) -> None:
        """An accreditation's scope names only capabilities the supplier offers (matching
        counts a scope only for offered capabilities: a scope naming others would be
        silently ignored)."""
        if "certificates" not in attrs and "capabilities" not in attrs:
            return
        offered = self._offered_codes(attrs)
        if "certificates" in attrs:
            for i, certificate in enumerate(attrs["certificates"]):
                missing = [c.code for c in certificate.get("scope", ()) if c.code not in offered]
                if missing:
                    raise serializers.ValidationError(
                        {
                            f"certificates[{i}].scope": (
                                f"Not among the supplier's capabilities: {', '.join(missing)}. "
                                "An accreditation's scope names capabilities the supplier offers."
                            )
                        },
                        code="invalid",
                    )
        elif self.instance is not None:
            for certificate in self.instance.certificates.prefetch_related("scope"):
                missing = [c.code for c in certificate.scope.all() if c.code not in offered]
                if missing:
                    raise serializers.ValidationError(
                        {
                            "capabilities": (
                                f"The {certificate.certification.code} certificate "
                                f"{certificate.certificate_number!r} is accredited for "
                                f"{', '.join(missing)}: keep them, or change its scope in the "
                                "same request."
                            )
                        },
                        code="invalid",
                    )

    def _check_zed(self, attrs: dict[str, Any]) -> None:
        """ZED certification is for manufacturing MSMEs (docs/registry.md): a supplier
        holding one offers at least one capability in a manufacturing layer."""
        if "certificates" not in attrs and "capabilities" not in attrs:
            return
        if "certificates" in attrs:
            zed = [c for c in attrs["certificates"] if c["certification"].category == ZED_CATEGORY]
        elif self.instance is not None:
            zed = list(self.instance.certificates.filter(certification__category=ZED_CATEGORY))
        else:
            zed = []
        if not zed:
            return
        if "capabilities" in attrs:
            layers = {item["capability"].layer for item in attrs["capabilities"]}
        elif self.instance is not None:
            layers = set(self.instance.capabilities.values_list("capability__layer", flat=True))
        else:
            layers = set()
        if not layers & set(MANUFACTURING_LAYERS):
            field = "certificates" if "certificates" in attrs else "capabilities"
            raise serializers.ValidationError(
                {
                    field: "ZED certification is for manufacturing MSMEs: a supplier holding "
                    "one offers at least one capability in the components, chemicals or "
                    "downstream layer."
                },
                code="invalid",
            )

    def _check_classification(self, attrs: dict[str, Any]) -> None:
        """The year is not in the future; figures come with their year; the size fits the
        figures (derived from them when not given)."""
        involved = ("enterprise_size", "classification_year", "investment_inr", "turnover_inr")
        if attrs.get("enterprise_size") == "":  # an empty cell: not given
            del attrs["enterprise_size"]
        current = {name: attrs.get(name, getattr(self.instance, name, None)) for name in involved}
        year = current["classification_year"]
        this_year = classification.financial_year_of(timezone.localdate())
        if attrs.get("classification_year") is not None and year > this_year:
            raise serializers.ValidationError(
                {
                    "classification_year": "Cannot be after the current financial year, "
                    f"{classification.financial_year_label(this_year)} ({this_year})."
                },
                code="invalid",
            )
        figures = {
            "investment_inr": current["investment_inr"],
            "turnover_inr": current["turnover_inr"],
        }
        sent = [name for name in figures if attrs.get(name) is not None]
        if year is None and any(value is not None for value in figures.values()):
            raise serializers.ValidationError(
                {"classification_year": "Give the financial year the figures are for."},
                code="required",
            )
        try:
            least = classification.size_for(year=year, **figures) if year is not None else None
        except classification.NotAnMsme as exc:
            field = f"{exc.criterion}_inr"
            raise serializers.ValidationError(
                {field if field in attrs else "classification_year": str(exc)}, code="invalid"
            ) from exc
        exact = least is not None and all(value is not None for value in figures.values())
        size = attrs.get("enterprise_size")
        if (
            size is None
            and exact
            and (self.instance is None or sent or "classification_year" in attrs)
        ):
            attrs["enterprise_size"] = size = least
        if size is None and self.instance is None:
            raise serializers.ValidationError(
                {
                    "enterprise_size": "This field is required (or give investment_inr and "
                    "turnover_inr, from which it is derived)."
                },
                code="required",
            )
        size = size or current["enterprise_size"]
        if least is None or size is None:
            return
        if (exact and size != least) or (not exact and classification.is_smaller(size, least)):
            label = classification.financial_year_label(year)
            field = "enterprise_size" if "enterprise_size" in attrs or not sent else sent[0]
            raise serializers.ValidationError(
                {
                    field: f"The declared figures make the enterprise "
                    f"{'at least ' if not exact else ''}{least} in {label} "
                    f"({classification.limits_for(year).notification}), not {size}."
                },
                code="invalid",
            )

    def _check_pan(self, attrs: dict[str, Any]) -> None:
        """The PAN (given, or taken from the first GSTIN) is embedded in every GSTIN and
        fits the legal form and the name. Checked when one of them is sent, each error on
        the field that was sent (a GSTIN by its own field: ``gstin`` or
        ``gstins[i].gstin``)."""
        involved = ("pan", "gstins", "legal_form", "legal_name")
        if not any(name in attrs for name in involved):
            return
        current = {
            name: attrs.get(name, getattr(self.instance, name, None))
            for name in ("pan", "legal_form", "legal_name")
        }
        pan = current["pan"]
        gstins = attrs["gstins"] if "gstins" in attrs else self._stored_gstins()
        if gstins and not pan:
            pan = attrs["pan"] = gstins[0]["gstin"][2:12]
        if not pan:
            return
        # The 5th character is checked when a PAN is recorded, not when the name changes:
        # a renamed enterprise keeps the PAN allotted under its old name.
        pan_recorded = bool(attrs.get("pan")) and pan != getattr(self.instance, "pan", None)
        # The field to blame: the one sent, the PAN first, then the GSTIN sent first.
        sent = [
            *(["pan"] if current["pan"] and "pan" in attrs else []),
            *(item["field"] for item in gstins if item["field"]),
            *(name for name in ("legal_form", "legal_name") if attrs.get(name)),
        ]
        blame = sent[0] if sent else "pan"
        try:
            for item in gstins:
                check_gstin_embeds_pan(item["gstin"], pan)
        except DjangoValidationError as exc:
            # A GSTIN sent contradicts the PAN; a PAN sent contradicts a stored GSTIN.
            _refuse(item["field"] or blame, exc)
        try:
            check_pan_holder(
                pan,
                legal_form=current["legal_form"] or "",
                legal_name=current["legal_name"] or "",
                check_initial=pan_recorded,
            )
        except DjangoValidationError as exc:
            _refuse(blame, exc)


def _refuse(field: str, exc: DjangoValidationError) -> None:
    """Raise ``exc`` as the error of ``field``, which may be nested (``gstins[1].gstin``:
    DRF's nested detail, so the API reports that field and ``#/gstins/1/gstin``)."""
    detail: Any = {field: exc.messages}
    if "[" in field:
        name, rest = field.split("[", 1)
        index, leaf = rest.split("].", 1)
        detail = {name: {int(index): {leaf: exc.messages}}}
    raise serializers.ValidationError(detail, code=exc.code) from exc


def _ends_later(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Whether certificate ``a`` ends after ``b`` (no end date: never ends)."""
    end_a, end_b = a.get("valid_until"), b.get("valid_until")
    return end_b is not None and (end_a is None or end_a > end_b)


def supplier_input(validated: dict[str, Any]) -> SupplierInput:
    """The services' input from validated data (``owner`` is the caller's business)."""
    return SupplierInput(
        profile={k: v for k, v in validated.items() if k not in (*NESTED_FIELDS, "owner_id")},
        capabilities=validated.get("capabilities"),
        certificates=validated.get("certificates"),
        gstins=validated.get("gstins"),
        plants=validated.get("plants"),
    )
