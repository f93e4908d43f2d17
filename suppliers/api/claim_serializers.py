"""Bodies of claiming a profile a portal onboarded."""

from rest_framework import serializers

from remag.accounts.choices import ClaimMethod, ClaimStatus
from remag.accounts.models import ProfileClaim


class ClaimStartSerializer(serializers.Serializer):
    udyam_number = serializers.CharField(
        max_length=19, help_text="The profile's Udyam registration number."
    )
    method = serializers.ChoiceField(
        choices=ClaimMethod.choices,
        default=ClaimMethod.CODE,
        help_text="`code`: a code goes to the profile's contact email. `operator`: the "
        "email is wrong; operators check and approve.",
    )
    evidence = serializers.CharField(
        max_length=2000,
        required=False,
        allow_blank=True,
        help_text="For `operator`: why the contact email is wrong and how to check.",
    )
    organization = serializers.UUIDField(
        required=False,
        allow_null=True,
        help_text="The claiming SME organisation, when you administer several.",
    )
    delegate_to_portal = serializers.BooleanField(
        default=False,
        help_text="Let the portal that onboarded the profile keep changing it (revocable).",
    )


class ClaimConfirmSerializer(serializers.Serializer):
    udyam_number = serializers.CharField(max_length=19)
    code = serializers.CharField(max_length=12, help_text="The code the contact email received.")
    organization = serializers.UUIDField(required=False, allow_null=True)


class ClaimAcceptedSerializer(serializers.Serializer):
    detail = serializers.CharField()


class ClaimSerializer(serializers.ModelSerializer):
    supplier = serializers.UUIDField(source="profile_id", read_only=True)
    organization = serializers.UUIDField(source="organization_id", read_only=True)
    method = serializers.ChoiceField(choices=ClaimMethod.choices, read_only=True)
    status = serializers.ChoiceField(choices=ClaimStatus.choices, read_only=True)

    class Meta:
        model = ProfileClaim
        fields = (
            "id",
            "supplier",
            "organization",
            "method",
            "status",
            "expires_at",
            "failed_attempts",
            "evidence",
            "delegate_to_portal",
            "decided_at",
            "decision_note",
            "created_at",
        )
        read_only_fields = fields


class ClaimDecisionSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=300, required=False, allow_blank=True)


class ClaimedSerializer(serializers.Serializer):
    claim = ClaimSerializer()
    supplier = serializers.UUIDField()
