from django.http import Http404, HttpRequest, JsonResponse
from django.views.decorators.http import require_safe

from remag.api.problems import PROBLEM_TYPES, problem_type_uri


@require_safe
def problem_type_detail(request: HttpRequest, slug: str) -> JsonResponse:
    """Describes a problem ``type``, so the URI in an error document leads somewhere."""
    problem = PROBLEM_TYPES.get(slug)
    if problem is None:
        raise Http404(slug)
    return JsonResponse(
        {"type": problem_type_uri(slug), "title": problem.title, "description": problem.description}
    )


@require_safe
def problem_type_list(request: HttpRequest) -> JsonResponse:
    return JsonResponse(
        {
            "results": [
                {"type": problem_type_uri(p.slug), "title": p.title, "description": p.description}
                for p in PROBLEM_TYPES.values()
            ]
        }
    )
