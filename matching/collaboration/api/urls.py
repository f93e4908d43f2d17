from rest_framework.routers import SimpleRouter

from matching.collaboration.api import views

router = SimpleRouter(trailing_slash=True)
router.register("collaboration/calls", views.CallViewSet, basename="collaboration-call")
router.register("collaboration/runs", views.CallRunViewSet, basename="collaboration-run")
router.register("collaboration/interests", views.InterestViewSet, basename="collaboration-interest")

urlpatterns = router.urls
