"""Bodies of an organisation's people: members and invitations."""

from rest_framework import serializers

from remag.accounts.api.serializers import OrganizationSerializer
from remag.accounts.choices import MembershipRole
from remag.accounts.models import Delegation, Invitation, Membership


class MemberUserSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    email = serializers.EmailField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()


class MembershipSerializer(serializers.ModelSerializer):
    user = MemberUserSerializer(read_only=True)
    organization = serializers.UUIDField(source="organization_id", read_only=True)
    role = serializers.ChoiceField(
        choices=MembershipRole.choices,
        help_text="`admin`s manage people and API keys; the last admin cannot step down.",
    )

    class Meta:
        model = Membership
        fields = ("id", "user", "organization", "role", "created_at")
        read_only_fields = ("id", "user", "organization", "created_at")


class InvitationSerializer(serializers.ModelSerializer):
    organization = serializers.UUIDField(source="organization_id", read_only=True)
    role = serializers.ChoiceField(choices=MembershipRole.choices, default=MembershipRole.MEMBER)
    status = serializers.ChoiceField(
        choices=("pending", "accepted", "revoked", "expired"), read_only=True
    )
    invited_by = serializers.UUIDField(source="invited_by_id", read_only=True, allow_null=True)
    accepted_by = serializers.UUIDField(source="accepted_by_id", read_only=True, allow_null=True)

    class Meta:
        model = Invitation
        fields = (
            "id",
            "organization",
            "email",
            "role",
            "status",
            "expires_at",
            "invited_by",
            "accepted_by",
            "accepted_at",
            "revoked_at",
            "created_at",
        )
        read_only_fields = (
            "id",
            "expires_at",
            "accepted_at",
            "revoked_at",
            "created_at",
        )


class InvitationAcceptSerializer(serializers.Serializer):
    token = serializers.CharField(max_length=200, help_text="The token from the email.")
    password = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        max_length=128,
        trim_whitespace=False,
        style={"input_type": "password"},
        help_text="For a new account only (omit it when calling with your own credentials).",
    )
    first_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=150, required=False, allow_blank=True)


class JoinedSerializer(serializers.Serializer):
    """The membership an accepted invitation created."""

    membership = serializers.UUIDField(source="id")
    organization = OrganizationSerializer()
    role = serializers.ChoiceField(choices=MembershipRole.choices)


class DelegationSerializer(serializers.ModelSerializer):
    grantor = serializers.UUIDField(source="grantor_id", read_only=True)
    grantee = serializers.UUIDField(
        source="grantee_id", help_text="The portal organisation that may change your profiles."
    )
    grantee_name = serializers.CharField(source="grantee.name", read_only=True)
    active = serializers.SerializerMethodField()

    class Meta:
        model = Delegation
        fields = ("id", "grantor", "grantee", "grantee_name", "active", "revoked_at", "created_at")
        read_only_fields = ("id", "revoked_at", "created_at")

    def get_active(self, obj: Delegation) -> bool:
        return obj.revoked_at is None
