"""Request and response bodies of onboarding: sign-up, verification, log-in."""

from rest_framework import serializers

from remag.accounts.choices import OrganizationKind
from remag.accounts.services import SIGNUP_KINDS


def _password_field(help_text: str) -> serializers.CharField:
    return serializers.CharField(
        write_only=True,
        max_length=128,
        trim_whitespace=False,
        style={"input_type": "password"},
        help_text=help_text,
    )


class SignupSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=150, help_text="You log in with it.")
    password = _password_field("At least 8 characters, not common, not all digits.")
    first_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    organization_name = serializers.CharField(max_length=200)
    organization_kind = serializers.ChoiceField(
        choices=[(k, OrganizationKind(k).label) for k in SIGNUP_KINDS],
        help_text="`sme` (a supplier) or `manufacturer` (a buyer); you become its admin.",
    )


class AcceptedSerializer(serializers.Serializer):
    """The same answer whoever the address belongs to."""

    detail = serializers.CharField()


class VerifyEmailSerializer(serializers.Serializer):
    token = serializers.CharField(max_length=500, help_text="The token from the emailed link.")


class VerifiedSerializer(serializers.Serializer):
    detail = serializers.CharField()
    email = serializers.EmailField()


class EmailSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)


class LoginSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = _password_field("Your password.")
    token_name = serializers.CharField(
        max_length=50,
        required=False,
        allow_blank=True,
        help_text="What the token is for (default `log-in`).",
    )


class PasswordChangeSerializer(serializers.Serializer):
    current_password = _password_field("Your password now.")
    new_password = _password_field("At least 8 characters, not common, not all digits.")


class PasswordResetConfirmSerializer(serializers.Serializer):
    token = serializers.CharField(max_length=200, help_text="The token from the email.")
    new_password = _password_field("At least 8 characters, not common, not all digits.")


class DetailSerializer(serializers.Serializer):
    detail = serializers.CharField()
