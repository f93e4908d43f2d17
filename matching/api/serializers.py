"""Request, run and match serializers. Validation only: the writes are in services."""

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from matching.choices import MatchStatus, Outcome
from matching.models import (
    MAX_MATERIAL_LENGTH,
    MAX_MATERIALS,
    PUBLIC_REQUEST_FIELDS,
    Match,
    MatchRun,
    MatchTransition,
    ProcurementRequest,
    weights_problems,
)
from matching.procurement.selectors import payment_records
from matching.scoring import FACTORS
from remag.accounts.caller import Caller
from remag.api.fields import IdentityUrlField, NumberField
from suppliers.choices import (
    CERTIFICATION_ALIASES,
    QUANTITY_TO_BASE,
    CertificationKind,
    QuantityUnit,
    layer_dimensions,
)
from suppliers.models import Capability, Certification, MaterialGrade
from suppliers.states import STATES_BY_CODE
from suppliers.validators import normalise_pin_code

MAX_CODES = 20
# docs/matching.md, "Policy preference".
_POLICY_HELP = (
    "The Public Procurement Policy for Micro and Small Enterprises (25% of purchases from "
    "micro and small enterprises) binds central ministries, departments and public sector "
    "enterprises; for the scheme's private beneficiaries following it is voluntary."
)


class CodeListField(serializers.ListField):
    """A list of taxonomy codes in, model instances for the service; codes out. Resolved in
    one query; unknown or inactive codes are named in the error."""

    def __init__(
        self,
        model: Any,
        *,
        aliases: dict[str, str] | None = None,
        read_annotated: bool = False,
        **kwargs: Any,
    ) -> None:
        self.model = model
        self.aliases = aliases or {}
        # Read the codes from the row's ``<source>_codes`` annotation when it has one
        # (matching.selectors.request_list): only fields that ask for it.
        self.read_annotated = read_annotated
        kwargs.setdefault("max_length", MAX_CODES)
        super().__init__(child=serializers.SlugField(max_length=60), **kwargs)

    def to_internal_value(self, data: Any) -> list[Any]:
        codes = super().to_internal_value(data)
        if len(set(codes)) != len(codes):
            raise serializers.ValidationError("A code is listed twice.")
        # A retired code means the one it was retired into (once, if both are sent).
        codes = list(dict.fromkeys(self.aliases.get(code, code) for code in codes))
        found = {item.code: item for item in self.model.objects.filter(code__in=codes)}
        unknown = [code for code in codes if code not in found or not found[code].is_active]
        if unknown:
            raise serializers.ValidationError(f"Unknown code(s): {', '.join(unknown)}.")
        return [found[code] for code in codes]

    def get_attribute(self, instance: Any) -> Any:
        if self.read_annotated:
            codes = getattr(instance, f"{self.source}_codes", None)
            if codes is not None:
                return codes
        return super().get_attribute(instance)

    def to_representation(self, value: Any) -> list[str]:
        items = value.all() if hasattr(value, "all") else value
        return sorted(item if isinstance(item, str) else item.code for item in items)


def _codes(model: Any, help_text: str, *, required: bool = False) -> serializers.Field:
    aliases = (
        {code: target for code, (target, _) in CERTIFICATION_ALIASES.items()}
        if model is Certification
        else None
    )
    return CodeListField(
        model,
        aliases=aliases,
        read_annotated=True,
        required=required,
        allow_empty=not required,
        help_text=help_text,
    )


class WeightsField(serializers.DictField):
    """Overrides of the default factor weights: factor name to a non-negative number."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(child=NumberField(min_value=0), **kwargs)

    def to_internal_value(self, data: Any) -> dict[str, float]:
        problems = weights_problems(data)
        if isinstance(problems, str):
            raise serializers.ValidationError(problems)
        if problems:
            raise serializers.ValidationError({name: [m] for name, m in problems.items()})
        return {name: float(value) for name, value in data.items()}


class ProcurementRequestSerializer(serializers.ModelSerializer):
    """A procurement request. Fields marked *private* are shown only to the owner's
    members and operators; everyone else sees what the buyer published."""

    url = IdentityUrlField(view_name="request-detail", lookup_field="id")
    owner = serializers.UUIDField(
        source="owner_id",
        required=False,
        help_text="The owning manufacturer; defaults to the caller's only manufacturer "
        "organisation.",
    )
    required_capabilities = _codes(
        Capability, "Capability codes, all in `layer`; at least one.", required=True
    )
    required_certifications = _codes(
        Certification,
        "Hard: a supplier needs a certificate valid from the run date through the needed-by "
        "date for each; for a scoped accreditation (ISO/IEC 17025, ISO/IEC 17020, Nadcap) its "
        "scope must name a required capability the supplier offers. Self-declarations (RoHS, "
        "REACH) can only be preferred. `nabl` means `iso-iec-17025`.",
    )
    preferred_certifications = _codes(
        Certification,
        "Soft: each one held (by the same rule) raises the score. `nabl` means `iso-iec-17025`.",
    )
    grades = _codes(
        MaterialGrade,
        "Magnet grades (codes from /api/v1/taxonomy/grades/). A supplier's grade meets one "
        "when it is of the same family with the same or a higher energy and temperature "
        "class (N45SH meets N42SH; N48H and N40UH do not).",
    )
    materials = serializers.ListField(
        child=serializers.CharField(max_length=MAX_MATERIAL_LENGTH),
        max_length=MAX_MATERIALS,
        required=False,
    )
    quantity = serializers.DecimalField(
        max_digits=14, decimal_places=3, min_value=0, required=False, allow_null=True
    )
    quantity_unit = serializers.ChoiceField(
        choices=QuantityUnit.choices, required=False, allow_blank=True
    )
    delivery_pin_code = serializers.CharField(
        max_length=10, help_text="Private. The six-digit PIN code of the delivery site."
    )
    delivery_latitude = NumberField(
        min_value=6, max_value=38, required=False, allow_null=True, help_text="Private."
    )
    delivery_longitude = NumberField(
        min_value=68, max_value=98, required=False, allow_null=True, help_text="Private."
    )
    max_distance_km = serializers.IntegerField(
        min_value=1, max_value=5000, required=False, allow_null=True, help_text="Private."
    )
    weights = WeightsField(
        required=False,
        help_text=f"Private. Overrides of the default weights; factors: {', '.join(FACTORS)}.",
    )
    matches_url = IdentityUrlField(view_name="request-matches", lookup_field="id")
    match_runs_url = IdentityUrlField(view_name="request-match-runs", lookup_field="id")

    class Meta:
        model = ProcurementRequest
        fields = (
            "id",
            "url",
            "owner",
            "title",
            "description",
            "layer",
            "required_capabilities",
            "required_certifications",
            "preferred_certifications",
            "grades",
            "grades_required",
            "materials",
            "quantity",
            "quantity_unit",
            "needed_by",
            "delivery_state",
            "delivery_pin_code",
            "delivery_latitude",
            "delivery_longitude",
            "max_distance_km",
            "prefer_micro_small",
            "prefer_women_owned",
            "prefer_sc_st_owned",
            "weights",
            "status",
            "published_at",
            "closed_at",
            "matches_url",
            "match_runs_url",
            "created_at",
            "updated_at",
        )
        read_only_fields = ("status", "published_at", "closed_at", "created_at", "updated_at")
        extra_kwargs = {
            "description": {"max_length": 10_000},
            "prefer_micro_small": {"help_text": f"Private. {_POLICY_HELP}"},
            "prefer_women_owned": {
                "help_text": "Private. Prefer micro and small enterprises at least 51% owned "
                f"by women (the policy's 3% sub-target); a medium one earns no credit. "
                f"{_POLICY_HELP}"
            },
            "prefer_sc_st_owned": {
                "help_text": "Private. Prefer micro and small enterprises at least 51% owned "
                f"by SC/ST entrepreneurs (the policy's 4% sub-target); a medium one earns "
                f"no credit. {_POLICY_HELP}"
            },
        }

    # -------------------------------------------------------------- output

    always_public = False

    def to_representation(self, instance: ProcurementRequest) -> dict[str, Any]:
        data = super().to_representation(instance)
        caller: Caller | None = self.context.get("caller")
        if self.always_public or caller is None or not caller.may_access(instance.owner_id):
            data = {k: v for k, v in data.items() if k in _PUBLIC}
        return data

    # -------------------------------------------------------------- input

    def validate_delivery_pin_code(self, value: str) -> str:
        try:
            return normalise_pin_code(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from exc

    def validate_delivery_state(self, value: str) -> str:
        if value not in STATES_BY_CODE:
            raise serializers.ValidationError("Not a state or union territory code.")
        return value

    def validate_needed_by(self, value: date | None) -> date | None:
        if value is not None and value < timezone.localdate():
            raise serializers.ValidationError("The needed-by date is in the past.")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        def current(name: str) -> Any:
            if name in attrs:
                return attrs[name]
            if self.instance is None:
                return None
            value = getattr(self.instance, name)
            return list(value.all()) if hasattr(value, "all") else value

        errors: dict[str, list[str]] = {}
        layer = current("layer")
        capabilities = current("required_capabilities") or []
        outside = sorted(c.code for c in capabilities if c.layer != layer)
        if outside:
            errors["required_capabilities"] = [
                f"Not in the {layer} layer: {', '.join(outside)}. Pick capabilities of one layer."
            ]
        declared = sorted(
            c.code
            for c in current("required_certifications") or []
            if c.kind == CertificationKind.DECLARATION
        )
        if declared:
            errors["required_certifications"] = [
                f"Self-declarations cannot be required: {', '.join(declared)}. A supplier's own "
                "declaration is not evidence a hard constraint can rest on; list them in "
                "preferred_certifications and verify compliance with the quotation."
            ]
        required = {c.code for c in current("required_certifications") or []}
        both = sorted(
            c.code for c in current("preferred_certifications") or [] if c.code in required
        )
        if both:
            errors["preferred_certifications"] = [
                f"Already required: {', '.join(both)}; list a certification in one place."
            ]
        quantity, unit = current("quantity"), current("quantity_unit")
        if quantity is not None and not unit:
            errors["quantity_unit"] = ["Give the unit of the quantity."]
        elif unit and quantity is None:
            errors["quantity"] = ["Give the quantity for the unit."]
        elif quantity is not None and quantity <= 0:
            errors["quantity"] = ["Must be greater than 0."]
        if unit and layer and QUANTITY_TO_BASE[unit][0] not in layer_dimensions(layer):
            fits = sorted(
                u for u, (dim, _) in QUANTITY_TO_BASE.items() if dim in layer_dimensions(layer)
            )
            errors["quantity_unit"] = [
                f"{unit} does not fit capabilities of the {layer} layer; use one of "
                f"{', '.join(fits)}."
            ]
        latitude, longitude = current("delivery_latitude"), current("delivery_longitude")
        if (latitude is None) != (longitude is None):
            missing = "delivery_longitude" if longitude is None else "delivery_latitude"
            errors[missing] = ["Give both delivery latitude and longitude, or neither."]
        if current("max_distance_km") is not None and latitude is None:
            errors["max_distance_km"] = [
                "A maximum distance needs the delivery latitude and longitude."
            ]
        if current("grades_required") and not current("grades"):
            errors["grades_required"] = ["Name the grades that are required in `grades`."]
        weights = current("weights") or {}
        merged = {name: weights.get(name, 1.0) for name in FACTORS}
        if weights and not any(merged.values()):
            errors["weights"] = ["The weights must not all be zero."]
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


_PUBLIC = frozenset(PUBLIC_REQUEST_FIELDS) | {"url"}
# Sent only to the owner's members and operators: never required in the response schema.
ProcurementRequestSerializer.PRIVATE_FIELDS = tuple(
    name for name in ProcurementRequestSerializer.Meta.fields if name not in _PUBLIC
)


@extend_schema_serializer(exclude_fields=ProcurementRequestSerializer.PRIVATE_FIELDS)
class PublishedRequestSerializer(ProcurementRequestSerializer):
    """A request as its buyer published it, whoever asks (for the SME's opportunities)."""

    always_public = True

    def get_fields(self) -> dict[str, Any]:
        # The public fields only: the private ones would be built to be dropped.
        return {name: f for name, f in super().get_fields().items() if name in _PUBLIC}


class MatchRunSerializer(serializers.ModelSerializer):
    url = IdentityUrlField(view_name="match-run-detail", lookup_field="id")
    request = serializers.UUIDField(source="request_id", read_only=True)
    triggered_by = serializers.UUIDField(source="triggered_by_id", read_only=True, allow_null=True)

    class Meta:
        model = MatchRun
        fields = (
            "id",
            "url",
            "request",
            "status",
            "trigger",
            "triggered_by",
            "algorithm_version",
            "attempts",
            "progress",
            "candidate_count",
            "matched_count",
            "near_miss_count",
            "created_at",
            "started_at",
            "finished_at",
            "load_seconds",
            "score_seconds",
            "write_seconds",
            "error",
        )
        read_only_fields = fields


class FactorSerializer(serializers.Serializer):
    name = serializers.ChoiceField(choices=FACTORS)
    value = NumberField(help_text="In [0, 1].")
    weight = NumberField(
        allow_null=True,
        help_text="Normalised: a match's weights sum to 1. Null in the supplier's view "
        "(the buyer's weights are private).",
    )
    contribution = NumberField(
        allow_null=True,
        help_text="Points of the score: 100 × weight × value. Null in the supplier's view.",
    )


def _buyer_view(caller: Caller | None, match: Match) -> bool:
    """The buyer's members and operators see the whole explanation; the supplier (and
    anyone else who may read the match) sees what the buyer published, nothing private."""
    if caller is None:
        return False
    return caller.is_operator or caller.acts_for(match.request.owner_id)


class ContactSerializer(serializers.Serializer):
    name = serializers.CharField()
    email = serializers.CharField()
    phone = serializers.CharField()


class MatchedSupplierSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    legal_name = serializers.CharField()
    trade_name = serializers.CharField()
    state = serializers.CharField()
    city = serializers.CharField()
    enterprise_size = serializers.CharField()
    status = serializers.CharField()
    contact = ContactSerializer(
        allow_null=True,
        help_text="Only once the SME has answered interested (or to the SME itself).",
    )


class MatchSerializer(serializers.ModelSerializer):
    url = IdentityUrlField(view_name="match-detail", lookup_field="id")
    request = serializers.UUIDField(source="request_id", read_only=True)
    supplier = serializers.SerializerMethodField()
    score = serializers.SerializerMethodField(
        help_text="0 to 100. The buyer's ranking score for the buyer; for the supplier, its "
        "public score: the factors it reads with the default weights (docs/matching.md)."
    )
    factors = serializers.SerializerMethodField(
        help_text="Every factor for the buyer; for the supplier, the factors that depend only "
        "on what the buyer published (no distance, no policy), without weights."
    )
    reasons = serializers.SerializerMethodField(
        help_text="Plain-language reasons; the supplier's view leaves out those about the "
        "buyer's private criteria (delivery point, policy preferences)."
    )
    outcome = serializers.SerializerMethodField(
        help_text="How the awarded engagement went, once the buyer said so; null before."
    )

    class Meta:
        model = Match
        fields = (
            "id",
            "url",
            "request",
            "supplier",
            "score",
            "factors",
            "reasons",
            "qualifies",
            "status",
            "status_changed_at",
            "contact_shared_at",
            "outcome",
            "algorithm_version",
            "scored_at",
        )
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=Outcome.choices, allow_null=True))
    def get_outcome(self, obj: Match) -> str | None:
        return obj.outcome or None

    @extend_schema_field(NumberField())
    def get_score(self, obj: Match) -> float:
        if _buyer_view(self.context.get("caller"), obj):
            return obj.score
        return obj.public_score

    @extend_schema_field(FactorSerializer(many=True))
    def get_factors(self, obj: Match) -> list[dict[str, object]]:
        if _buyer_view(self.context.get("caller"), obj):
            return obj.explained_factors()
        return obj.supplier_factors()

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_reasons(self, obj: Match) -> list[str]:
        if _buyer_view(self.context.get("caller"), obj):
            return list(obj.reasons)
        return obj.supplier_reasons()

    @extend_schema_field(MatchedSupplierSerializer)
    def get_supplier(self, obj: Match) -> dict[str, Any]:
        supplier = obj.supplier
        caller: Caller | None = self.context.get("caller")
        own = caller is not None and caller.acts_for(supplier.owner_id)
        contact = None
        if obj.contact_shared_at is not None or own:
            contact = {
                "name": supplier.contact_name,
                "email": supplier.contact_email,
                "phone": supplier.contact_phone,
            }
        return {
            "id": supplier.id,
            "legal_name": supplier.legal_name,
            "trade_name": supplier.trade_name,
            "state": supplier.state,
            "city": supplier.city,
            "enterprise_size": supplier.enterprise_size,
            "status": supplier.status,
            "contact": contact,
        }


class TransitionRequestSerializer(serializers.Serializer):
    """The body of a move (the schema's ``TransitionInput``)."""

    class Meta:
        ref_name = "Transition"

    status = serializers.ChoiceField(
        choices=[s for s in MatchStatus.choices if s[0] != MatchStatus.PROPOSED],
        help_text="The status to move to (see the lifecycle in docs/api.md).",
    )
    note = serializers.CharField(max_length=500, required=False, allow_blank=True)


class TransitionSerializer(serializers.ModelSerializer):
    by_user = serializers.UUIDField(source="by_user_id", read_only=True, allow_null=True)
    by_organization = serializers.UUIDField(
        source="by_organization_id", read_only=True, allow_null=True
    )

    class Meta:
        model = MatchTransition
        fields = (
            "from_status",
            "to_status",
            "party",
            "by_user",
            "by_api_key",
            "by_organization",
            "note",
            "at",
        )
        read_only_fields = fields


class OutcomeSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=Outcome.choices)


class PaymentRecordSerializer(serializers.Serializer):
    """How the buyer pays its suppliers on remag (docs/procurement.md)."""

    orders_delivered = serializers.IntegerField()
    orders_paid = serializers.IntegerField()
    median_days_to_pay = NumberField(
        allow_null=True, help_text="From acceptance of the whole order to payment in full."
    )
    paid_within_terms_share = NumberField(
        allow_null=True,
        help_text="Of the orders paid or already past their terms, the share paid within "
        "the agreed terms.",
    )
    micro_small_orders = serializers.IntegerField()
    paid_within_45_days_share = NumberField(
        allow_null=True,
        help_text="The same, for micro and small suppliers, against the MSMED Act's 45 days.",
    )


class OpportunitySerializer(serializers.Serializer):
    """An open request the supplier matches, as the buyer published it, with the score."""

    match = serializers.UUIDField(source="id")
    match_url = IdentityUrlField(view_name="match-detail", lookup_field="id")
    score = NumberField(
        source="public_score",
        help_text="The public score, 0 to 100: the factors below with the default weights "
        "(never the buyer's private criteria or weights; docs/matching.md).",
    )
    status = serializers.ChoiceField(choices=MatchStatus.choices)
    factors = FactorSerializer(
        many=True,
        source="supplier_factors",
        help_text="The factors that depend only on what the buyer published, without weights.",
    )
    reasons = serializers.ListField(child=serializers.CharField(), source="supplier_reasons")
    # Always the public view: the SME sees what the buyer published, nothing more.
    request = PublishedRequestSerializer(read_only=True)
    buyer_payment_record = serializers.SerializerMethodField(
        help_text="How the buyer has paid its suppliers on remag: orders paid, median days "
        "to pay, the share paid within the agreed terms and, for micro and small suppliers, "
        "within the MSMED Act's 45 days (docs/procurement.md)."
    )

    @extend_schema_field(PaymentRecordSerializer)
    def get_buyer_payment_record(self, obj: Match) -> dict[str, Any]:
        records = self.context.get("payment_records") or {}
        owner_id = str(obj.request.owner_id)
        # Written once per buyer of a page (a page's requests share few buyers).
        written = self.context.setdefault("payment_records_written", {})
        if owner_id not in written:
            record = records.get(owner_id)
            if record is None:
                record = payment_records(buyer_ids=[owner_id])[owner_id]
            written[owner_id] = PaymentRecordSerializer(record).data
        return dict(written[owner_id])


class GapSerializer(serializers.Serializer):
    constraint = serializers.CharField(
        help_text="`certification:<code>`, `capability`, `active` or `distance`."
    )
    request_count = serializers.IntegerField()
    summary = serializers.CharField()
    requests = serializers.ListField(
        child=serializers.UUIDField(), help_text="Up to 50 of the open requests concerned."
    )
