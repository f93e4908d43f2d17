"""Loading a call's candidates from the registry as a :class:`CandidateBatch`.

Candidates are the active or pending suppliers, not the poster's own, offering at least
one of the call's required capabilities or required facilities (so a supplier lacking only the
capabilities, or only one facility, is scored and reported as a near miss). Past
collaborations are their expressions of interest selected on other calls (a declined
one counts for nothing); text relevance is the share of the call's terms (topic, summary)
found in the profile's search vector, as procurement matching reads it.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from django.db import connection
from django.db.models import Count
from django.db.models.expressions import RawSQL

from matching.candidates import text_terms
from matching.collaboration.choices import InterestStatus
from matching.collaboration.models import CollaborationCall, ExpressionOfInterest
from matching.collaboration.scoring import CallCriteria, CandidateBatch
from suppliers.choices import SupplierStatus
from suppliers.models import Supplier, SupplierCapability

_WORD = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


@dataclass
class Loaded:
    criteria: CallCriteria
    batch: CandidateBatch


def call_text(call: CollaborationCall) -> str:
    """The public words of a call (never its confidential description)."""
    return f"{call.topic} {call.summary}".strip()


def criteria_for(call: CollaborationCall) -> CallCriteria:
    return CallCriteria(
        required_capabilities=tuple(sorted(c.code for c in call.required_capabilities.all())),
        required_facilities=tuple(sorted(c.code for c in call.required_facilities.all())),
        preferred_facilities=tuple(sorted(c.code for c in call.preferred_facilities.all())),
        has_text=bool(text_terms(call_text(call))),
        latitude=call.latitude,
        longitude=call.longitude,
    )


def load(call: CollaborationCall) -> Loaded:
    criteria = criteria_for(call)
    codes = {*criteria.required_capabilities, *criteria.required_facilities}
    queryset = (
        Supplier.objects.filter(
            is_active=True,
            status__in=(SupplierStatus.ACTIVE, SupplierStatus.PENDING),
            capabilities__capability__code__in=codes,
        )
        .exclude(owner_id=call.owner_id)
        .distinct()
    )  # never the poster's own profiles
    terms = text_terms(call_text(call)) if criteria.has_text else []
    columns = ["id", "status", "latitude", "longitude"]
    if terms and connection.vendor == "postgresql":
        hits = " + ".join(
            "COALESCE(search_vector @@ quote_literal(%s)::tsquery, false)::int" for _ in terms
        )
        queryset = queryset.annotate(text_hits=RawSQL(f"({hits})", terms))  # noqa: S611
        columns.append("text_hits")
    elif terms:
        columns.append("search_text")
    rows = list(queryset.order_by("id").values_list(*columns))
    ids = [row[0] for row in rows]

    offered: dict[object, set[str]] = defaultdict(set)
    for supplier_id, code in SupplierCapability.objects.filter(
        supplier_id__in=ids, capability__code__in=codes | set(criteria.preferred_facilities)
    ).values_list("supplier_id", "capability__code"):
        offered[supplier_id].add(code)
    history = {
        row["supplier_id"]: row
        for row in ExpressionOfInterest.objects.filter(
            supplier_id__in=ids, status=InterestStatus.SELECTED
        )
        .exclude(call_id=call.id)
        .values("supplier_id")
        .annotate(selected=Count("id"))
    }

    n = len(rows)

    def held(wanted: tuple[str, ...]) -> np.ndarray:
        out = np.zeros((n, len(wanted)), dtype=bool)
        for i, supplier_id in enumerate(ids):
            out[i] = [code in offered[supplier_id] for code in wanted]
        return out

    text = np.zeros(n)
    if terms and "text_hits" in columns:
        text = np.array([row[4] for row in rows], dtype=np.float64) / len(terms)
    elif terms:
        wanted = set(terms)
        text = np.array(
            [
                len(wanted & set(_WORD.findall((row[4] or "").lower()))) / len(wanted)
                for row in rows
            ],
            dtype=np.float64,
        )
    empty = {"selected": 0}
    batch = CandidateBatch(
        supplier_ids=[str(i) for i in ids],
        is_active=np.array([row[1] == SupplierStatus.ACTIVE for row in rows], dtype=bool),
        capabilities=held(criteria.required_capabilities),
        facilities=held(criteria.required_facilities),
        preferred=held(criteria.preferred_facilities),
        past_selected=np.array([history.get(i, empty)["selected"] for i in ids], dtype=np.float64),
        text_relevance=np.clip(text, 0.0, 1.0),
        latitude=np.array([np.nan if r[2] is None else r[2] for r in rows], dtype=np.float64),
        longitude=np.array([np.nan if r[3] is None else r[3] for r in rows], dtype=np.float64),
    )
    return Loaded(criteria=criteria, batch=batch)
