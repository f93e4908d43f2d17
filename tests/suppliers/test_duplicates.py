"""A registration whose name is very like another's in the same pin code is flagged
``possible_duplicate_of`` (suppliers.services._find_similar): the cheap bounds set names
aside without changing which one is found."""

import difflib
from datetime import timedelta

import pytest
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from suppliers import services
from suppliers.models import Supplier
from suppliers.services import DUPLICATE_NAME_SIMILARITY, name_similarity, normalise_name
from tests.factories import SupplierFactory

# Few letters, so that many pairs come near the threshold from either side.
names = st.text(alphabet="abcde ", max_size=24)


@settings(max_examples=800, deadline=None)
@given(names, names)
def test_name_similarity_is_difflibs_ratio_at_the_threshold(a: str, b: str) -> None:
    ratio = difflib.SequenceMatcher(None, a, b).ratio()

    expected = ratio if ratio >= DUPLICATE_NAME_SIMILARITY else 0.0
    assert name_similarity(a, b) == expected


@settings(max_examples=300, deadline=None)
@given(st.lists(names, min_size=1, max_size=6), names)
def test_one_target_against_many_names_gives_each_pairs_answer(others: list[str], a: str) -> None:
    from collections import Counter

    letters = Counter(a)
    assert [name_similarity(a, b, letters=letters) for b in others] == [
        name_similarity(a, b) for b in others
    ]


@pytest.mark.django_db
def test_the_most_similar_name_of_the_pin_code_is_found_the_oldest_of_equals() -> None:
    now = timezone.now()
    rows = [  # name, pin code, days since registered
        ("Deccan Magnetics Pvt Ltd", "410501", 5),  # the very name, in another pin code
        ("Deccan Magnetic Works", "411026", 4),  # less alike
        ("Decan Magnetics", "411026", 3),  # as alike as the next, and older
        ("Deccan Magnetic", "411026", 2),
        ("Unrelated Coatings", "411026", 1),
    ]
    made = {}
    for name, pin_code, days_ago in rows:
        supplier = SupplierFactory(legal_name=name, pin_code=pin_code)
        Supplier.objects.filter(id=supplier.id).update(created_at=now - timedelta(days=days_ago))
        made[name] = supplier.id
    target = normalise_name("Deccan Magnetics Private Limited")

    def ratio(name: str) -> float:
        return difflib.SequenceMatcher(None, target, normalise_name(name)).ratio()

    # What the rows were chosen for: two equal best, over the threshold, one less alike.
    assert ratio("Decan Magnetics") == ratio("Deccan Magnetic") >= DUPLICATE_NAME_SIMILARITY
    assert ratio("Deccan Magnetic Works") < ratio("Deccan Magnetic")

    def found(**kwargs: object) -> object:
        return services._find_similar(legal_name="Deccan Magnetics Private Limited", **kwargs)

    assert found(pin_code="411026") == made["Decan Magnetics"]
    assert found(pin_code="411026", exclude_id=made["Decan Magnetics"]) == made["Deccan Magnetic"]
    assert found(pin_code="410501") == made["Deccan Magnetics Pvt Ltd"]
    assert found(pin_code="600001") is None
