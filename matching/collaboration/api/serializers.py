"""Call, run, match and interest serializers. Validation only: the writes are in services."""

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from matching.api.serializers import CodeListField, ContactSerializer
from matching.collaboration import selectors
from matching.collaboration.choices import FACILITY_PREFIX, CallKind
from matching.collaboration.models import (
    CallMatch,
    CallNearMiss,
    CallRun,
    CollaborationCall,
    ExpressionOfInterest,
    NdaAcknowledgement,
)
from matching.collaboration.scoring import FACTORS
from remag.accounts.caller import Caller
from remag.api.fields import NumberField
from suppliers.access import supplier_can_change
from suppliers.models import Capability


class FacilityListField(CodeListField):
    """Capability codes that are facilities (``facility-*``: lab and pilot equipment)."""

    def to_internal_value(self, data: Any) -> list[Any]:
        items = super().to_internal_value(data)
        wrong = [item.code for item in items if not item.code.startswith(FACILITY_PREFIX)]
        if wrong:
            raise serializers.ValidationError(
                f"Not a facility: {', '.join(wrong)} (facilities are the "
                f"`{FACILITY_PREFIX}*` capabilities of the `rnd` layer)."
            )
        return items


# Bounds on the free texts: the summary is scored as text (a huge one would make the
# run's full-text search fail), the others are stored and shown.
SUMMARY_MAX = 2_000
DESCRIPTION_MAX = 20_000
NDA_TEXT_MAX = 20_000


def _caller(serializer: serializers.Serializer) -> Caller:
    return serializer.context["caller"]


class CallSerializer(serializers.ModelSerializer):
    """A call for collaboration. Everyone signed in reads the public part of an open,
    closed or awarded call; `description` (the confidential details) is null for a caller
    who must first acknowledge the NDA (`details_visible` false)."""

    url = serializers.HyperlinkedIdentityField(
        view_name="collaboration-call-detail", lookup_field="id"
    )
    owner = serializers.UUIDField(
        source="owner_id",
        required=False,
        help_text="The posting organisation (a manufacturer, an R&D institution or an SME); "
        "defaults to the caller's only such organisation.",
    )
    kind = serializers.ChoiceField(choices=CallKind.choices)
    required_capabilities = CodeListField(
        Capability,
        required=True,
        allow_empty=False,
        help_text="Capability codes (any layer, usually `rnd`); a candidate must offer one.",
    )
    required_facilities = FacilityListField(
        Capability,
        required=False,
        help_text="Facility codes (`facility-*`); a candidate must hold every one.",
    )
    preferred_facilities = FacilityListField(
        Capability,
        required=False,
        help_text="Facility codes that raise the score (the facility coverage factor).",
    )
    summary = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=SUMMARY_MAX,
        help_text="Public: shown to every signed-in caller; scored as text.",
    )
    description = serializers.CharField(
        required=False,
        allow_blank=True,
        allow_null=True,
        max_length=DESCRIPTION_MAX,
        help_text="The details. Null for a caller who has not acknowledged the call's NDA.",
    )
    nda_text = serializers.CharField(required=False, allow_blank=True, max_length=NDA_TEXT_MAX)
    details_visible = serializers.SerializerMethodField()
    nda_acknowledged_at = serializers.SerializerMethodField(
        help_text="When an organisation of the caller acknowledged the current NDA text."
    )
    latitude = NumberField(required=False, allow_null=True, min_value=-90, max_value=90)
    longitude = NumberField(required=False, allow_null=True, min_value=-180, max_value=180)
    contact_name = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, max_length=120
    )
    contact_email = serializers.EmailField(
        required=False, allow_blank=True, allow_null=True, max_length=254
    )
    contact_phone = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, max_length=20
    )

    class Meta:
        model = CollaborationCall
        fields = (
            "id",
            "url",
            "owner",
            "kind",
            "topic",
            "summary",
            "description",
            "details_visible",
            "required_capabilities",
            "required_facilities",
            "preferred_facilities",
            "timeframe_start",
            "timeframe_end",
            "response_deadline",
            "requires_nda",
            "nda_text",
            "nda_acknowledged_at",
            "latitude",
            "longitude",
            "contact_name",
            "contact_email",
            "contact_phone",
            "status",
            "opened_at",
            "closed_at",
            "created_at",
            "updated_at",
        )
        read_only_fields = ("status", "opened_at", "closed_at", "created_at", "updated_at")
        extra_kwargs = {"topic": {"max_length": 200}}  # noqa: RUF012

    # Private to the poster: the contact (shared with a respondent through its interest
    # once shortlisted) and the location used for the distance factor.
    POSTER_ONLY = ("latitude", "longitude", "contact_name", "contact_email", "contact_phone")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        for name in ("description", "contact_name", "contact_email", "contact_phone"):
            if name in attrs and attrs[name] is None:
                attrs[name] = ""
        return attrs

    def get_details_visible(self, obj: CollaborationCall) -> bool:
        return selectors.details_visible(caller=_caller(self), call=obj)

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_nda_acknowledged_at(self, obj: CollaborationCall) -> Any:
        return selectors.caller_acknowledged_at(caller=_caller(self), call=obj)

    def to_representation(self, instance: CollaborationCall) -> dict[str, Any]:
        data = super().to_representation(instance)
        caller = _caller(self)
        if not data["details_visible"]:
            data["description"] = None
        if not caller.may_access(instance.owner_id):
            for name in self.POSTER_ONLY:
                data[name] = None
        return data


class CallRunSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(
        view_name="collaboration-run-detail", lookup_field="id"
    )
    call = serializers.UUIDField(source="call_id", read_only=True)

    class Meta:
        model = CallRun
        fields = (
            "id",
            "url",
            "call",
            "status",
            "trigger",
            "algorithm_version",
            "progress",
            "candidate_count",
            "matched_count",
            "near_miss_count",
            "attempts",
            "error",
            "created_at",
            "started_at",
            "finished_at",
        )
        read_only_fields = fields


class CallFactorSerializer(serializers.Serializer):
    name = serializers.ChoiceField(choices=[(f, f) for f in FACTORS])
    value = NumberField()
    weight = NumberField()
    contribution = NumberField()


class CallCandidateSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    legal_name = serializers.CharField()
    state = serializers.CharField()
    city = serializers.CharField()


class CallMatchSerializer(serializers.ModelSerializer):
    supplier = CallCandidateSerializer()
    factors = CallFactorSerializer(many=True)
    reasons = serializers.ListField(child=serializers.CharField())

    class Meta:
        model = CallMatch
        fields = ("id", "supplier", "rank", "score", "factors", "reasons", "algorithm_version")
        read_only_fields = fields


class CallNearMissSerializer(serializers.ModelSerializer):
    supplier = CallCandidateSerializer()

    class Meta:
        model = CallNearMiss
        fields = ("supplier", "constraint", "reason")
        read_only_fields = fields


class NdaAcknowledgeSerializer(serializers.Serializer):
    organization = serializers.UUIDField(
        required=False,
        help_text="The organisation acknowledging; defaults to the caller's only one.",
    )
    supplier = serializers.UUIDField(
        required=False,
        help_text="Instead of `organization`: acknowledge for the organisation owning a "
        "supplier you manage (a portal for an SME it onboarded and that has not claimed "
        "its profile yet, or under a delegation), so that the supplier may then answer.",
    )


class NdaAcknowledgementSerializer(serializers.ModelSerializer):
    call = serializers.UUIDField(source="call_id", read_only=True)
    organization = serializers.UUIDField(source="organization_id", read_only=True)
    by_user = serializers.UUIDField(source="by_user_id", read_only=True, allow_null=True)

    class Meta:
        model = NdaAcknowledgement
        fields = (
            "id",
            "call",
            "organization",
            "by_user",
            "by_api_key",
            "acknowledged_at",
            "text_sha256",
        )
        read_only_fields = fields


class InterestCreateSerializer(serializers.Serializer):
    call = serializers.UUIDField()
    supplier = serializers.UUIDField(
        required=False,
        allow_null=True,
        help_text="The responding supplier profile you manage. Omit it when an R&D "
        "institution answers without a supplier profile (then `organization` and "
        "`contact_email`).",
    )
    organization = serializers.UUIDField(
        required=False,
        allow_null=True,
        help_text="Without `supplier`: the R&D institution (organisation kind `research`) "
        "answering; defaults to the caller's only one.",
    )
    contact_name = serializers.CharField(max_length=120, required=False, allow_blank=True)
    contact_email = serializers.EmailField(
        max_length=254,
        required=False,
        allow_blank=True,
        help_text="Without `supplier`: the institution's contact, shared with the poster on "
        "consent (required then). Ignored with a supplier (its profile's contact is shared).",
    )
    contact_phone = serializers.CharField(max_length=20, required=False, allow_blank=True)
    message = serializers.CharField(max_length=5000)
    proposed_approach = serializers.CharField(max_length=10000, required=False, allow_blank=True)


class DecisionSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=500, required=False, allow_blank=True)


class InterestSerializer(serializers.ModelSerializer):
    """An expression of interest. Contact details are shared both ways once the poster
    shortlisted or selected it (the respondent consented by answering): `supplier_contact`
    for the poster, `poster_contact` for the respondent; null before."""

    url = serializers.HyperlinkedIdentityField(
        view_name="collaboration-interest-detail", lookup_field="id"
    )
    call = serializers.UUIDField(source="call_id", read_only=True)
    supplier = CallCandidateSerializer(
        read_only=True,
        allow_null=True,
        help_text="The responding supplier; null when an R&D institution answered without one.",
    )
    organization = serializers.UUIDField(
        source="organization_id",
        read_only=True,
        help_text="The responding organisation (the supplier's owner, or the R&D institution).",
    )
    match_score = serializers.SerializerMethodField()
    supplier_contact = serializers.SerializerMethodField()
    poster_contact = serializers.SerializerMethodField()

    class Meta:
        model = ExpressionOfInterest
        fields = (
            "id",
            "url",
            "call",
            "supplier",
            "organization",
            "match_score",
            "message",
            "proposed_approach",
            "status",
            "submitted_at",
            "status_changed_at",
            "contact_shared_at",
            "decision_note",
            "supplier_contact",
            "poster_contact",
        )
        read_only_fields = fields

    @extend_schema_field(NumberField(allow_null=True))
    def get_match_score(self, obj: ExpressionOfInterest) -> float | None:
        """The poster (and operators) read the whole score; the respondent its public
        score, without the distance to the poster's location."""
        if not (obj.match_id and obj.match):
            return None
        if _caller(self).may_access(obj.call.owner_id):
            return obj.match.score
        return obj.match.public_score

    @extend_schema_field(ContactSerializer(allow_null=True))
    def get_supplier_contact(self, obj: ExpressionOfInterest) -> dict[str, str] | None:
        if obj.contact_shared_at is None or not _caller(self).may_access(obj.call.owner_id):
            return None
        s = obj.supplier if obj.supplier_id is not None else obj
        return {"name": s.contact_name, "email": s.contact_email, "phone": s.contact_phone}

    @extend_schema_field(ContactSerializer(allow_null=True))
    def get_poster_contact(self, obj: ExpressionOfInterest) -> dict[str, str] | None:
        caller = _caller(self)
        if obj.contact_shared_at is None or not (
            caller.is_operator or caller.acts_for(obj.organization_id) or self._manages(obj)
        ):
            return None
        c = obj.call
        return {"name": c.contact_name, "email": c.contact_email, "phone": c.contact_phone}

    def _manages(self, obj: ExpressionOfInterest) -> bool:
        return obj.supplier_id is not None and supplier_can_change(
            caller=_caller(self), supplier=obj.supplier
        )
