from rest_framework import serializers

from remag.accounts.choices import APIKeyScope, MembershipRole, OrganizationKind
from remag.accounts.models import Organization, OrganizationAPIKey, UserToken


class OrganizationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Organization
        fields = ("id", "name", "kind", "is_active", "created_at")
        read_only_fields = fields


class OrganizationCreateSerializer(serializers.ModelSerializer):
    """An organisation an operator creates (any kind; people sign up SMEs and
    manufacturers themselves)."""

    class Meta:
        model = Organization
        fields = ("id", "name", "kind", "is_active", "created_at")
        read_only_fields = ("id", "is_active", "created_at")


class MyOrganizationSerializer(serializers.Serializer):
    """An organisation the caller acts for, with the caller's role (null for an API key)."""

    id = serializers.UUIDField()
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=OrganizationKind.choices)
    role = serializers.ChoiceField(choices=MembershipRole.choices, allow_null=True)


class MeUserSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    username = serializers.CharField()
    email = serializers.EmailField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    email_verified = serializers.BooleanField(
        help_text="Until it is true, the person may read but not write."
    )


class MeAPIKeySerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    name = serializers.CharField()
    prefix = serializers.CharField()
    scopes = serializers.ListField(child=serializers.CharField())
    expires_at = serializers.DateTimeField(source="expiry_date", allow_null=True)


class MeSerializer(serializers.Serializer):
    """Who the caller is: a person (session or token) or an organisation's API key."""

    authenticated_as = serializers.ChoiceField(choices=("user", "api_key"))
    user = MeUserSerializer(allow_null=True)
    api_key = MeAPIKeySerializer(allow_null=True)
    is_operator = serializers.BooleanField()
    organizations = MyOrganizationSerializer(many=True)


class _ExpiryMixin(serializers.Serializer):
    expires_at = serializers.DateTimeField(
        source="expiry_date",
        required=False,
        allow_null=True,
        help_text="When the credential stops working; omit for no expiry.",
    )


class APIKeySerializer(_ExpiryMixin, serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    name = serializers.CharField(max_length=50, help_text="What the key is for.")
    scopes = serializers.ListField(
        child=serializers.ChoiceField(choices=APIKeyScope.choices),
        allow_empty=False,
        help_text="`read` allows safe methods; `write` allows every method.",
    )
    organization = serializers.UUIDField(source="organization_id", read_only=True)
    has_expired = serializers.BooleanField(read_only=True)

    class Meta:
        model = OrganizationAPIKey
        fields = (
            "id",
            "name",
            "prefix",
            "scopes",
            "organization",
            "expires_at",
            "has_expired",
            "revoked",
            "created",
            "last_used_at",
        )
        read_only_fields = ("prefix", "revoked", "created", "last_used_at")


class APIKeyCreatedSerializer(APIKeySerializer):
    key = serializers.CharField(
        read_only=True,
        allow_null=True,
        help_text="The key itself. Shown only in this response; only its hash is stored, so "
        "a replay of the create (the same Idempotency-Key) gives null.",
    )

    class Meta(APIKeySerializer.Meta):
        fields = (*APIKeySerializer.Meta.fields, "key")


class UserTokenSerializer(_ExpiryMixin, serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    name = serializers.CharField(max_length=50, help_text="What the token is for.")
    has_expired = serializers.BooleanField(read_only=True)

    class Meta:
        model = UserToken
        fields = (
            "id",
            "name",
            "prefix",
            "expires_at",
            "has_expired",
            "revoked",
            "created",
            "last_used_at",
        )
        read_only_fields = ("prefix", "revoked", "created", "last_used_at")


class UserTokenCreatedSerializer(UserTokenSerializer):
    token = serializers.CharField(
        read_only=True,
        allow_null=True,
        help_text="The token itself. Shown only in this response; only its hash is stored, "
        "so a replay of the create (the same Idempotency-Key) gives null.",
    )

    class Meta(UserTokenSerializer.Meta):
        fields = (*UserTokenSerializer.Meta.fields, "token")
