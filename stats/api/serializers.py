"""The stats endpoints' query parameters and answers (the schema documents both)."""

from rest_framework import serializers

from remag.api.fields import NumberField
from suppliers.choices import Layer
from suppliers.states import STATE_CHOICES


class FiltersSerializer(serializers.Serializer):
    layer = serializers.ChoiceField(choices=Layer.choices, required=False)
    state = serializers.ChoiceField(choices=STATE_CHOICES, required=False)
    period_from = serializers.DateField(
        required=False, help_text="First day included (publication or award date)."
    )
    period_to = serializers.DateField(required=False, help_text="Last day included.")

    def validate(self, attrs: dict) -> dict:
        start, end = attrs.get("period_from"), attrs.get("period_to")
        if start and end and start > end:
            raise serializers.ValidationError({"period_to": "Must not be before period_from."})
        return attrs


class CoverageFiltersSerializer(serializers.Serializer):
    layer = serializers.ChoiceField(choices=Layer.choices, required=False)
    state = serializers.ChoiceField(choices=STATE_CHOICES, required=False)


class CoverageGapsQuerySerializer(serializers.Serializer):
    latitude = NumberField(min_value=6, max_value=38)
    longitude = NumberField(min_value=68, max_value=98)
    radius_km = NumberField(min_value=1, max_value=3000, default=200)
    threshold = serializers.IntegerField(
        min_value=1,
        max_value=10000,
        default=3,
        help_text="A capability with fewer verified suppliers than this within the radius "
        "is listed.",
    )
    layer = serializers.ChoiceField(choices=Layer.choices, required=False)


class UnmetQuerySerializer(FiltersSerializer):
    below = serializers.IntegerField(
        min_value=1,
        max_value=1000,
        default=3,
        help_text="Requests with fewer qualifying matches than this (1: none at all).",
    )


class LayerStateCellSerializer(serializers.Serializer):
    layer = serializers.ChoiceField(choices=Layer.choices)
    state = serializers.ChoiceField(choices=STATE_CHOICES)
    suppliers = serializers.IntegerField()


class CapacitySerializer(serializers.Serializer):
    unit = serializers.CharField(help_text="A capacity unit (kg_per_month, ...).")
    per_month = serializers.DecimalField(max_digits=20, decimal_places=3)


class CapabilityCoverageSerializer(serializers.Serializer):
    capability = serializers.CharField()
    name = serializers.CharField()
    layer = serializers.ChoiceField(choices=Layer.choices)
    suppliers = serializers.IntegerField()
    capacity = CapacitySerializer(many=True, help_text="Monthly capacity summed per unit.")


class MagnetPlantSerializer(serializers.Serializer):
    name = serializers.CharField()
    latitude = NumberField()
    longitude = NumberField()


class CoverageSerializer(serializers.Serializer):
    refreshed_at = serializers.DateTimeField(allow_null=True)
    by_layer_state = LayerStateCellSerializer(many=True)
    by_capability = CapabilityCoverageSerializer(many=True)
    magnet_plants = MagnetPlantSerializer(many=True)


class CapabilityGapSerializer(serializers.Serializer):
    capability = serializers.CharField()
    name = serializers.CharField()
    layer = serializers.ChoiceField(choices=Layer.choices)
    suppliers = serializers.IntegerField()


class CoverageGapsSerializer(serializers.Serializer):
    refreshed_at = serializers.DateTimeField(allow_null=True)
    latitude = NumberField()
    longitude = NumberField()
    radius_km = NumberField()
    threshold = serializers.IntegerField()
    capabilities = CapabilityGapSerializer(many=True)


class UnmetGroupSerializer(serializers.Serializer):
    capability = serializers.CharField()
    name = serializers.CharField()
    state = serializers.ChoiceField(choices=STATE_CHOICES)
    requests = serializers.IntegerField()


class NearMissReasonSerializer(serializers.Serializer):
    constraint = serializers.CharField(help_text="certification:<code>, grade:<code>, ...")
    label = serializers.CharField()
    suppliers = serializers.IntegerField(help_text="Distinct suppliers kept out by it.")
    requests = serializers.IntegerField()


class UnmetDemandSerializer(serializers.Serializer):
    refreshed_at = serializers.DateTimeField(allow_null=True)
    below = serializers.IntegerField()
    groups = UnmetGroupSerializer(many=True)
    near_misses = NearMissReasonSerializer(many=True)


class ShareSerializer(serializers.Serializer):
    awards = serializers.IntegerField()
    micro_small = serializers.IntegerField()
    women_owned = serializers.IntegerField()
    sc_st_owned = serializers.IntegerField()
    micro_small_share = NumberField(allow_null=True, help_text="Percent.")
    women_owned_share = NumberField(allow_null=True, help_text="Percent.")
    sc_st_owned_share = NumberField(allow_null=True, help_text="Percent.")
    value_inr = serializers.DecimalField(
        max_digits=30,
        decimal_places=2,
        help_text="Value of the awards that became orders (unit price x quantity), INR.",
    )
    micro_small_value_share = NumberField(
        allow_null=True, help_text="Percent of value_inr; null when nothing has a value."
    )
    women_owned_value_share = NumberField(allow_null=True, help_text="Percent.")
    sc_st_owned_value_share = NumberField(allow_null=True, help_text="Percent.")


class MonthShareSerializer(ShareSerializer):
    month = serializers.DateField()


class ReferenceSerializer(serializers.Serializer):
    micro_small = NumberField()
    women_owned = NumberField()
    sc_st_owned = NumberField()


class PolicySharesSerializer(serializers.Serializer):
    refreshed_at = serializers.DateTimeField(allow_null=True)
    reference = ReferenceSerializer(help_text="The policy's targets, percent.")
    total = ShareSerializer()
    by_month = MonthShareSerializer(many=True)


class StageSerializer(serializers.Serializer):
    stage = serializers.ChoiceField(
        choices=["published", "matched", "shortlisted", "invited", "interested", "awarded"]
    )
    requests = serializers.IntegerField()


class TimingSerializer(serializers.Serializer):
    publish_to_first_match_hours = NumberField(allow_null=True, help_text="Mean.")
    publish_to_first_match_median_hours = NumberField(allow_null=True)
    requests_with_match = serializers.IntegerField()
    publish_to_award_hours = NumberField(allow_null=True, help_text="Mean.")
    publish_to_award_median_hours = NumberField(allow_null=True)
    requests_with_award = serializers.IntegerField()


class FunnelSerializer(serializers.Serializer):
    refreshed_at = serializers.DateTimeField(allow_null=True)
    stages = StageSerializer(many=True)
    timing = TimingSerializer()
