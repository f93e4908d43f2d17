"""JSON endpoints of the dashboard's figures (docs/dashboard.md): read the aggregate
tables through ``stats.selectors``; coverage is public, the rest for operators and
manufacturers (their own requests)."""

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny, BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer

from remag.accounts.caller import caller_for
from remag.api.viewsets import RemagAPIView
from stats import selectors
from stats.api import serializers as s


class MaySeeDemand(BasePermission):
    message = "Only operators and manufacturers (for their own requests) see these figures."

    def has_permission(self, request: Request, view: Any) -> bool:
        return selectors.may_see_demand(caller_for(request))


def _query(serializer_class: type[Serializer], request: Request) -> dict[str, Any]:
    serializer = serializer_class(data=request.query_params)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _filters(data: dict[str, Any]) -> selectors.Filters:
    return selectors.Filters(
        layer=data.get("layer"),
        state=data.get("state"),
        period_from=data.get("period_from"),
        period_to=data.get("period_to"),
    )


class CoverageView(RemagAPIView):
    """Verified suppliers by layer x state and by capability (capacity summed). Public."""

    permission_classes = [AllowAny]

    @extend_schema(
        parameters=[s.CoverageFiltersSerializer], responses=s.CoverageSerializer, tags=["stats"]
    )
    def get(self, request: Request) -> Response:
        data = _query(s.CoverageFiltersSerializer, request)
        figures = selectors.coverage(filters=_filters(data))
        return Response(s.CoverageSerializer(figures).data)


class CoverageGapsView(RemagAPIView):
    """Capabilities with fewer than `threshold` verified suppliers within `radius_km`
    of a point (a magnet plant, say). Public."""

    permission_classes = [AllowAny]

    @extend_schema(
        parameters=[s.CoverageGapsQuerySerializer],
        responses=s.CoverageGapsSerializer,
        tags=["stats"],
    )
    def get(self, request: Request) -> Response:
        data = _query(s.CoverageGapsQuerySerializer, request)
        figures = selectors.coverage_gaps(
            latitude=data["latitude"],
            longitude=data["longitude"],
            radius_km=data["radius_km"],
            threshold=data["threshold"],
            layer=data.get("layer"),
        )
        return Response(s.CoverageGapsSerializer(figures).data)


class UnmetDemandView(RemagAPIView):
    """Published requests with fewer than `below` qualifying matches, by capability and
    state, and the near-miss reasons that kept most suppliers out."""

    permission_classes = [IsAuthenticated, MaySeeDemand]

    @extend_schema(
        parameters=[s.UnmetQuerySerializer], responses=s.UnmetDemandSerializer, tags=["stats"]
    )
    def get(self, request: Request) -> Response:
        data = _query(s.UnmetQuerySerializer, request)
        figures = selectors.unmet_demand(
            caller=caller_for(request), filters=_filters(data), below=data["below"]
        )
        return Response(s.UnmetDemandSerializer(figures).data)


class PolicySharesView(RemagAPIView):
    """Shares of awards won by micro and small, women-owned and SC/ST-owned enterprises,
    against the 25%/3%/4% of the MSE procurement policy, by month."""

    permission_classes = [IsAuthenticated, MaySeeDemand]

    @extend_schema(
        parameters=[s.FiltersSerializer], responses=s.PolicySharesSerializer, tags=["stats"]
    )
    def get(self, request: Request) -> Response:
        data = _query(s.FiltersSerializer, request)
        figures = selectors.policy_shares(caller=caller_for(request), filters=_filters(data))
        return Response(s.PolicySharesSerializer(figures).data)


class FunnelView(RemagAPIView):
    """Requests published, matched, shortlisted, invited, interested, awarded; mean
    hours from publication to the first match and to the award."""

    permission_classes = [IsAuthenticated, MaySeeDemand]

    @extend_schema(parameters=[s.FiltersSerializer], responses=s.FunnelSerializer, tags=["stats"])
    def get(self, request: Request) -> Response:
        data = _query(s.FiltersSerializer, request)
        figures = selectors.funnel(caller=caller_for(request), filters=_filters(data))
        return Response(s.FunnelSerializer(figures).data)
