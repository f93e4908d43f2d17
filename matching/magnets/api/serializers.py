"""Magnet offers, requirements, runs, matches, pools and demand on the API. Validation only:
the writes are in services."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from matching.api.serializers import CodeListField
from matching.magnets.candidates import grade_label, piece_mass_for
from matching.magnets.choices import (
    MATERIAL_FAMILIES,
    MAX_KG_PER_MONTH,
    SHAPE_DIMENSIONS,
    Application,
    Coating,
    Magnetisation,
    MatchStatus,
    Material,
    Outcome,
    Shape,
)
from matching.magnets.models import (
    MagnetMatch,
    MagnetNearMiss,
    MagnetOffer,
    MagnetPool,
    MagnetRequirement,
    MagnetRun,
)
from matching.magnets.scoring import FACTORS
from remag.accounts.caller import Caller
from remag.api.fields import NumberField
from suppliers.grades import grade_code, parse_grade
from suppliers.models import Certification
from suppliers.validators import normalise_pin_code

MAX_DIMENSION_MM = 2000
MIN_DIMENSION_MM = 0.1  # as an offer's shape range
# India's bounding box (with the islands), for coordinates.
LATITUDE = (6.0, 37.5)
LONGITUDE = (68.0, 98.0)


def _certifications(help_text: str) -> CodeListField:
    return CodeListField(Certification, required=False, allow_empty=True, help_text=help_text)


def _grade(code: str, material: str | None, field: str) -> str:
    try:
        spec = parse_grade(code)
    except ValueError as exc:
        raise serializers.ValidationError({field: [str(exc)]}) from exc
    if material is not None and spec.family not in MATERIAL_FAMILIES[material]:
        raise serializers.ValidationError(
            {field: [f"{code} is not a grade of {Material(material).label}."]}
        )
    return grade_code(spec)


def _coordinates(attrs: dict[str, Any], instance: Any, lat: str, lon: str) -> None:
    values = {name: attrs.get(name, getattr(instance, name, None)) for name in (lat, lon)}
    if (values[lat] is None) != (values[lon] is None):
        missing = lat if values[lat] is None else lon
        raise serializers.ValidationError({missing: ["Give both coordinates, or neither."]})


class MakerSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()


class ShapeRangeSerializer(serializers.Serializer):
    shape = serializers.ChoiceField(choices=Shape.choices)
    min_mm = NumberField(
        min_value=0.1, max_value=MAX_DIMENSION_MM, help_text="Thinnest section made."
    )
    max_mm = NumberField(
        min_value=0.1, max_value=MAX_DIMENSION_MM, help_text="Largest dimension made."
    )
    tolerance_mm = NumberField(
        min_value=Decimal("0.001"), max_value=5, help_text="The tightest tolerance held (±mm)."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["max_mm"] < attrs["min_mm"]:
            raise serializers.ValidationError({"max_mm": ["At least min_mm."]})
        return attrs


class MagnetOfferSerializer(serializers.ModelSerializer):
    """A magnet maker's offer. Published offers are public; drafts, withdrawn and expired
    ones are seen by their maker and operators only."""

    url = serializers.HyperlinkedIdentityField(view_name="magnet-offer-detail", lookup_field="id")
    owner = serializers.UUIDField(
        source="owner_id",
        required=False,
        help_text="The maker (a manufacturer organisation); defaults to the caller's only one.",
    )
    maker = MakerSerializer(source="owner", read_only=True)
    grades = serializers.ListField(
        child=serializers.CharField(max_length=20),
        min_length=1,
        max_length=40,
        help_text="Grade codes of the material: N35 to N52 with M/H/SH/UH/EH/AH, SmCo5, "
        "Sm2Co17, BNP-10...",
    )
    shapes = ShapeRangeSerializer(many=True, help_text="Each shape made, with its size range.")
    coatings = serializers.ListField(
        child=serializers.ChoiceField(choices=Coating.choices), min_length=1, max_length=6
    )
    magnetisations = serializers.ListField(
        child=serializers.ChoiceField(choices=Magnetisation.choices), min_length=1, max_length=3
    )
    capacity_per_month = serializers.DecimalField(
        max_digits=14, decimal_places=3, min_value=Decimal("0.001"), help_text="In capacity_unit."
    )
    min_order_per_month = serializers.DecimalField(
        max_digits=14,
        decimal_places=3,
        min_value=Decimal("0"),
        required=False,
        help_text="In capacity_unit.",
    )
    lead_time_days = serializers.IntegerField(min_value=0, max_value=730)
    plant_latitude = NumberField(
        min_value=LATITUDE[0], max_value=LATITUDE[1], required=False, allow_null=True
    )
    plant_longitude = NumberField(
        min_value=LONGITUDE[0], max_value=LONGITUDE[1], required=False, allow_null=True
    )
    price_min_inr_per_kg = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=Decimal("1"), required=False, allow_null=True
    )
    price_max_inr_per_kg = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=Decimal("1"), required=False, allow_null=True
    )
    certifications = _certifications("Certification codes the plant holds (iatf-16949...).")
    leads_url = serializers.HyperlinkedIdentityField(
        view_name="magnet-offer-leads", lookup_field="id"
    )

    class Meta:
        model = MagnetOffer
        fields = (
            "id",
            "url",
            "owner",
            "maker",
            "title",
            "material",
            "grades",
            "shapes",
            "coatings",
            "magnetisations",
            "capacity_per_month",
            "capacity_unit",
            "min_order_per_month",
            "lead_time_days",
            "valid_from",
            "valid_until",
            "plant_state",
            "plant_city",
            "plant_latitude",
            "plant_longitude",
            "price_min_inr_per_kg",
            "price_max_inr_per_kg",
            "certifications",
            "status",
            "published_at",
            "withdrawn_at",
            "leads_url",
            "created_at",
            "updated_at",
        )
        read_only_fields = ("status", "published_at", "withdrawn_at", "created_at", "updated_at")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        instance = self.instance
        material = attrs.get("material", getattr(instance, "material", None))
        if "grades" in attrs or "material" in attrs:
            grades = attrs.get("grades", getattr(instance, "grades", []))
            codes = [_grade(code, material, "grades") for code in grades]
            if len(set(codes)) != len(codes):
                raise serializers.ValidationError({"grades": ["A grade is listed twice."]})
            attrs["grades"] = codes
        if "shapes" in attrs:
            shapes = [dict(s) for s in attrs["shapes"]]
            if not shapes:
                raise serializers.ValidationError({"shapes": ["At least one shape."]})
            if len({s["shape"] for s in shapes}) != len(shapes):
                raise serializers.ValidationError({"shapes": ["A shape is listed twice."]})
            attrs["shapes"] = shapes
        for name in ("coatings", "magnetisations"):
            if name in attrs:
                if len(set(attrs[name])) != len(attrs[name]):
                    raise serializers.ValidationError({name: ["A value is listed twice."]})
                attrs[name] = sorted(attrs[name])
        start = attrs.get("valid_from", getattr(instance, "valid_from", None))
        end = attrs.get("valid_until", getattr(instance, "valid_until", None))
        if start and end and end < start:
            raise serializers.ValidationError({"valid_until": ["On or after valid_from."]})
        low = attrs.get("price_min_inr_per_kg", getattr(instance, "price_min_inr_per_kg", None))
        high = attrs.get("price_max_inr_per_kg", getattr(instance, "price_max_inr_per_kg", None))
        if (low is None) != (high is None):
            missing = "price_min_inr_per_kg" if low is None else "price_max_inr_per_kg"
            raise serializers.ValidationError(
                {missing: ["Give both ends of the band, or neither."]}
            )
        if low is not None and high < low:
            raise serializers.ValidationError({"price_max_inr_per_kg": ["At least the minimum."]})
        _coordinates(attrs, instance, "plant_latitude", "plant_longitude")
        return attrs


class DimensionsField(serializers.DictField):
    """A piece's dimensions: the names its shape needs, numbers in mm (an arc's angle in
    degrees); checked against the shape in the requirement's validation."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(child=NumberField(), **kwargs)


def _dimensions(shape: str, dimensions: dict[str, float]) -> dict[str, float]:
    wanted = SHAPE_DIMENSIONS[shape]
    if set(dimensions) != set(wanted):
        raise serializers.ValidationError(
            {"dimensions": [f"A {shape} is given by {', '.join(wanted)}."]}
        )
    errors = {}
    for name, value in dimensions.items():
        limit = 360 if name == "angle_deg" else MAX_DIMENSION_MM
        if not math.isfinite(value) or value < MIN_DIMENSION_MM or value > limit:
            errors[name] = [f"A number from {MIN_DIMENSION_MM} to {limit}."]
    if (
        not errors
        and shape == "ring"
        and dimensions["inner_diameter_mm"] >= dimensions["outer_diameter_mm"]
    ):
        errors["inner_diameter_mm"] = ["Smaller than outer_diameter_mm."]
    if (
        not errors
        and shape == "arc"
        and dimensions["inner_radius_mm"] >= dimensions["outer_radius_mm"]
    ):
        errors["inner_radius_mm"] = ["Smaller than outer_radius_mm."]
    if errors:
        raise serializers.ValidationError({"dimensions": errors})
    return {name: float(dimensions[name]) for name in wanted}


def _quantity_in_range(attrs: dict[str, Any], instance: Any) -> None:
    """The monthly quantity in kg (pieces times the piece mass) at most MAX_KG_PER_MONTH."""

    def value(name: str) -> Any:
        return attrs.get(name, getattr(instance, name, None))

    quantity, unit = value("quantity_per_month"), value("quantity_unit")
    if quantity is None or unit is None:
        return
    kg = float(quantity)
    if unit == "pieces":
        material, shape, dimensions = value("material"), value("shape"), value("dimensions")
        if material is None or shape is None or not dimensions:
            return
        kg = kg * piece_mass_for(material, shape, dimensions) / 1000
    if kg > MAX_KG_PER_MONTH:
        raise serializers.ValidationError(
            {
                "quantity_per_month": [
                    f"At most {MAX_KG_PER_MONTH:,} kg a month; this is {kg:,.0f} kg a month."
                ]
            }
        )


class PoolRefSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    url = serializers.HyperlinkedIdentityField(view_name="magnet-pool-detail", lookup_field="id")
    status = serializers.CharField()


class MagnetRequirementSerializer(serializers.ModelSerializer):
    """A magnet requirement: a supply schedule of magnets of at least ``grade``. Seen by
    its buyer's members and operators; makers see its spec through their leads."""

    url = serializers.HyperlinkedIdentityField(
        view_name="magnet-requirement-detail", lookup_field="id"
    )
    owner = serializers.UUIDField(
        source="owner_id",
        required=False,
        help_text="The buying organisation; defaults to the caller's only SME or "
        "manufacturer organisation.",
    )
    grade = serializers.CharField(
        max_length=20,
        help_text="The minimum grade: offers of the same or a higher energy and temperature "
        "class qualify (N42SH is met by N45SH and N42UH, not by N45H).",
    )
    dimensions = DimensionsField(
        help_text="block: length_mm, width_mm, thickness_mm; arc: outer_radius_mm, "
        "inner_radius_mm, angle_deg, length_mm; ring: outer_diameter_mm, "
        "inner_diameter_mm, thickness_mm; disc: diameter_mm, thickness_mm."
    )
    tolerance_mm = serializers.DecimalField(
        max_digits=8, decimal_places=3, min_value=Decimal("0.001"), max_value=5
    )
    quantity_per_month = serializers.DecimalField(
        max_digits=14,
        decimal_places=3,
        min_value=Decimal("0.001"),
        help_text=f"In quantity_unit; at most {MAX_KG_PER_MONTH:,} kg a month "
        "(pieces converted through the piece mass).",
    )
    duration_months = serializers.IntegerField(min_value=1, max_value=120)
    delivery_latitude = NumberField(
        min_value=LATITUDE[0], max_value=LATITUDE[1], required=False, allow_null=True
    )
    delivery_longitude = NumberField(
        min_value=LONGITUDE[0], max_value=LONGITUDE[1], required=False, allow_null=True
    )
    budget_inr_per_kg = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=Decimal("1"), required=False, allow_null=True
    )
    required_certifications = _certifications("A maker must hold each (iatf-16949...).")
    preferred_certifications = _certifications("Holding them raises the score.")
    pool = PoolRefSerializer(read_only=True, allow_null=True)
    piece_mass_g = NumberField(read_only=True)
    quantity_kg_per_month = serializers.DecimalField(
        max_digits=14, decimal_places=3, read_only=True
    )
    matches_url = serializers.HyperlinkedIdentityField(
        view_name="magnet-requirement-matches", lookup_field="id"
    )

    class Meta:
        model = MagnetRequirement
        fields = (
            "id",
            "url",
            "owner",
            "title",
            "application",
            "material",
            "grade",
            "energy_class",
            "temperature_class",
            "shape",
            "dimensions",
            "tolerance_mm",
            "coating",
            "magnetisation",
            "quantity_per_month",
            "quantity_unit",
            "duration_months",
            "piece_mass_g",
            "quantity_kg_per_month",
            "needed_from",
            "delivery_state",
            "delivery_pin_code",
            "delivery_latitude",
            "delivery_longitude",
            "budget_inr_per_kg",
            "required_certifications",
            "preferred_certifications",
            "pool_opt_in",
            "pool",
            "status",
            "published_at",
            "closed_at",
            "matches_url",
            "created_at",
            "updated_at",
        )
        read_only_fields = (
            "energy_class",
            "temperature_class",
            "status",
            "published_at",
            "closed_at",
            "created_at",
            "updated_at",
        )

    def validate_delivery_pin_code(self, value: str) -> str:
        if not value:
            return value
        try:
            return normalise_pin_code(value)
        except Exception as exc:  # the validator's own error, as a field error
            raise serializers.ValidationError(str(getattr(exc, "message", exc))) from exc

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        instance = self.instance
        material = attrs.get("material", getattr(instance, "material", None))
        if "grade" in attrs or "material" in attrs:
            grade = attrs.get("grade", getattr(instance, "grade", ""))
            attrs["grade"] = _grade(grade, material, "grade")
        if "shape" in attrs or "dimensions" in attrs:
            shape = attrs.get("shape", getattr(instance, "shape", None))
            dimensions = attrs.get("dimensions", getattr(instance, "dimensions", {}))
            attrs["dimensions"] = _dimensions(shape, dimensions)
        _quantity_in_range(attrs, instance)
        required = set(attrs.get("required_certifications", ()))
        if required & set(attrs.get("preferred_certifications", ())):
            raise serializers.ValidationError(
                {"preferred_certifications": ["A certification is both required and preferred."]}
            )
        _coordinates(attrs, instance, "delivery_latitude", "delivery_longitude")
        return attrs


class MagnetRunSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="magnet-run-detail", lookup_field="id")
    requirement = serializers.UUIDField(source="requirement_id", read_only=True, allow_null=True)
    offer = serializers.UUIDField(source="offer_id", read_only=True, allow_null=True)

    class Meta:
        model = MagnetRun
        fields = (
            "id",
            "url",
            "direction",
            "requirement",
            "offer",
            "status",
            "trigger",
            "algorithm_version",
            "candidate_count",
            "matched_count",
            "near_miss_count",
            "attempts",
            "error",
            "load_seconds",
            "score_seconds",
            "write_seconds",
            "created_at",
            "started_at",
            "finished_at",
        )
        read_only_fields = fields


class MagnetFactorSerializer(serializers.Serializer):
    name = serializers.ChoiceField(choices=FACTORS)
    value = NumberField(help_text="In [0, 1].")
    weight = NumberField(
        allow_null=True, help_text="Normalised per match; null in the maker's view."
    )
    contribution = NumberField(
        allow_null=True, help_text="Points of the score; null in the maker's view."
    )


class OfferSummarySerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="magnet-offer-detail", lookup_field="id")
    maker = MakerSerializer(source="owner", read_only=True)

    class Meta:
        model = MagnetOffer
        fields = (
            "id",
            "url",
            "title",
            "maker",
            "material",
            "grades",
            "lead_time_days",
            "plant_state",
            "plant_city",
            "status",
        )
        read_only_fields = fields


def requirement_label(requirement: MagnetRequirement) -> str:
    """A neutral name for a requirement, generated from its spec (application, grade,
    shape): what a maker reads instead of the buyer's own free-text title, which may name
    the buyer."""
    application = Application(requirement.application).label
    shape = Shape(requirement.shape).label.lower()
    return f"{application}: {grade_label(requirement.grade)} {shape}"


class LeadRequirementSerializer(serializers.ModelSerializer):
    """What a maker reads of a requirement it matches: the spec and schedule, the delivery
    state; never the buyer (see ``buyer``), its free-text title (``label`` is generated
    from the spec), the delivery point or the budget."""

    required_certifications = CodeListField(Certification, read_only=True)
    label = serializers.SerializerMethodField(
        help_text="Generated from the spec (application, grade, shape), e.g. "
        "'Traction motor: N42SH arc'; never the buyer's own title."
    )

    class Meta:
        model = MagnetRequirement
        fields = (
            "id",
            "label",
            "application",
            "material",
            "grade",
            "shape",
            "dimensions",
            "tolerance_mm",
            "coating",
            "magnetisation",
            "quantity_per_month",
            "quantity_unit",
            "quantity_kg_per_month",
            "duration_months",
            "needed_from",
            "delivery_state",
            "required_certifications",
            "status",
        )
        read_only_fields = fields

    def get_label(self, obj: MagnetRequirement) -> str:
        return requirement_label(obj)


def _buyer_view(caller: Caller | None, match: MagnetMatch) -> bool:
    return caller is not None and (
        caller.is_operator or caller.acts_for(match.requirement.owner_id)
    )


class MagnetMatchSerializer(serializers.ModelSerializer):
    """A (requirement, offer) match. The buyer and operators see the whole explanation;
    the maker sees the factors and reasons that do not reveal the buyer's private
    criteria (delivery point, budget), and the buyer's name once it is interested.

    With ``maker_view`` true in the context (the leads feeds, ranked and filtered by the
    public score) every caller, operators and a buyer reading its own requirement's lead
    included, reads the maker's score, factors and reasons: the order and ``min_score``
    of the feed then agree with the scores it shows. Who the buyer is stays per caller."""

    url = serializers.HyperlinkedIdentityField(view_name="magnet-match-detail", lookup_field="id")
    offer = OfferSummarySerializer(read_only=True)
    requirement = LeadRequirementSerializer(read_only=True)
    buyer = serializers.SerializerMethodField(
        help_text="The buying organisation: for the maker, null until the buyer says interested."
    )
    score = serializers.SerializerMethodField(
        help_text="0 to 100. The buyer's ranking score for the buyer; for the maker, and for "
        "everyone in the leads feeds, its public score: the factors it reads with the default "
        "weights (docs/magnets.md)."
    )
    factors = serializers.SerializerMethodField()
    reasons = serializers.SerializerMethodField()
    outcome = serializers.SerializerMethodField()

    class Meta:
        model = MagnetMatch
        fields = (
            "id",
            "url",
            "requirement",
            "offer",
            "buyer",
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

    def _whole(self, obj: MagnetMatch) -> bool:
        """Whether the caller reads the whole explanation (the buyer's score) here."""
        return not self.context.get("maker_view") and _buyer_view(self.context.get("caller"), obj)

    @extend_schema_field(MakerSerializer(allow_null=True))
    def get_buyer(self, obj: MagnetMatch) -> dict[str, Any] | None:
        if obj.contact_shared_at is None and not _buyer_view(self.context.get("caller"), obj):
            return None
        owner = obj.requirement.owner
        return {"id": owner.id, "name": owner.name}

    @extend_schema_field(NumberField())
    def get_score(self, obj: MagnetMatch) -> float:
        if self._whole(obj):
            return obj.score
        return obj.public_score

    @extend_schema_field(MagnetFactorSerializer(many=True))
    def get_factors(self, obj: MagnetMatch) -> list[dict[str, object]]:
        if self._whole(obj):
            return obj.explained_factors()
        return obj.maker_factors()

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_reasons(self, obj: MagnetMatch) -> list[str]:
        if self._whole(obj):
            return list(obj.reasons)
        return obj.maker_reasons()

    @extend_schema_field(serializers.ChoiceField(choices=Outcome.choices, allow_null=True))
    def get_outcome(self, obj: MagnetMatch) -> str | None:
        return obj.outcome or None


class MagnetMatchTransitionSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=[
            (MatchStatus.INTERESTED, "interested (the buyer)"),
            (MatchStatus.DISMISSED, "dismissed (the buyer)"),
            (MatchStatus.ACCEPTED, "accepted (the maker)"),
            (MatchStatus.DECLINED, "declined (the maker)"),
        ]
    )


class MagnetOutcomeSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=Outcome.choices)


class RequirementNearMissSerializer(serializers.ModelSerializer):
    offer = OfferSummarySerializer(read_only=True)

    class Meta:
        model = MagnetNearMiss
        fields = ("offer", "constraint", "reason")
        read_only_fields = fields


class OfferNearMissSerializer(serializers.ModelSerializer):
    requirement = LeadRequirementSerializer(read_only=True)

    class Meta:
        model = MagnetNearMiss
        fields = ("requirement", "constraint", "reason")
        read_only_fields = fields


class MagnetPoolSerializer(serializers.ModelSerializer):
    """A pooled requirement: the members' shared spec and summed monthly quantity. Never
    who the members are: their count only."""

    url = serializers.HyperlinkedIdentityField(view_name="magnet-pool-detail", lookup_field="id")
    member_count = serializers.IntegerField(read_only=True)
    required_certifications = CodeListField(
        Certification, read_only=True, help_text="The members' own: an answering maker holds each."
    )
    answered_offer = serializers.UUIDField(
        source="answered_offer_id", read_only=True, allow_null=True
    )

    class Meta:
        model = MagnetPool
        fields = (
            "id",
            "url",
            "material",
            "grade",
            "shape",
            "dimensions",
            "tolerance_mm",
            "coating",
            "magnetisation",
            "delivery_state",
            "required_certifications",
            "needed_from",
            "duration_months",
            "quantity_kg_per_month",
            "member_count",
            "status",
            "answered_offer",
            "answered_at",
            "created_at",
        )
        read_only_fields = fields


class PoolAnswerSerializer(serializers.Serializer):
    offer = serializers.UUIDField(help_text="One of your published offers meeting the pool.")


class DemandRowSerializer(serializers.Serializer):
    material = serializers.ChoiceField(choices=Material.choices, allow_null=True)
    grade = serializers.CharField(allow_null=True)
    temperature_class = serializers.CharField(allow_null=True, allow_blank=True)
    application = serializers.ChoiceField(choices=Application.choices, allow_null=True)
    shape = serializers.ChoiceField(choices=Shape.choices, allow_null=True)
    delivery_state = serializers.CharField(allow_null=True)
    requirement_count = serializers.IntegerField()
    buyer_count = serializers.IntegerField()
    kg_per_month = serializers.DecimalField(max_digits=24, decimal_places=3)
    tonnes_per_month = serializers.DecimalField(max_digits=24, decimal_places=3)
    pieces_per_month = serializers.DecimalField(
        max_digits=24,
        decimal_places=3,
        help_text="The part of the demand asked for in pieces, as asked (it is in "
        "kg_per_month too, converted).",
    )
    other = serializers.BooleanField(
        help_text="True on the one row folding the groups of fewer than 3 buyers "
        "(not for operators): its group values are null."
    )
