"""The dashboard's filters, as a GET form (plain HTML: works without JavaScript)."""

from django import forms

from suppliers.choices import Layer
from suppliers.states import STATE_CHOICES


class FiltersForm(forms.Form):
    layer = forms.ChoiceField(choices=[("", "All layers"), *Layer.choices], required=False)
    state = forms.ChoiceField(choices=[("", "All states"), *STATE_CHOICES], required=False)
    period_from = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    period_to = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"})
    )
    below = forms.IntegerField(
        required=False, min_value=1, max_value=1000, label="Fewer matches than", initial=3
    )


class GapsForm(forms.Form):
    latitude = forms.FloatField(min_value=6, max_value=38)
    longitude = forms.FloatField(min_value=68, max_value=98)
    radius_km = forms.FloatField(min_value=1, max_value=3000, initial=200, label="Radius (km)")
    threshold = forms.IntegerField(min_value=1, max_value=10000, initial=3)
