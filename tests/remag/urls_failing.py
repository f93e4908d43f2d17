"""A URLconf with views that fail on purpose, for the error-handling tests."""

from django.urls import include, path
from rest_framework.response import Response
from rest_framework.views import APIView

SECRET_MESSAGE = "db password is hunter2"


class Explode(APIView):
    permission_classes = ()
    authentication_classes = ()

    def get(self, request: object) -> Response:
        raise RuntimeError(SECRET_MESSAGE)


def explode_plain(request: object) -> None:
    raise RuntimeError(SECRET_MESSAGE)


urlpatterns = [
    path("api/v1/explode", Explode.as_view()),
    path("plain/explode", explode_plain),
    path("api/v1/plain-explode", explode_plain),
    path("", include("remag.urls")),
]

handler404 = "remag.api.exceptions.handler404"
handler500 = "remag.api.exceptions.handler500"
