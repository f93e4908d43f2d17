from django.urls import reverse

from remag.api.problems import Conflict


class SupplierAlreadyRegistered(Conflict):
    """A Udyam number or GSTIN that is already in the registry."""

    default_code = "supplier_already_registered"

    def __init__(self, *, field: str, existing_id: object) -> None:
        label = {"udyam_number": "Udyam registration number", "gstin": "GSTIN"}[field]
        super().__init__(
            f"This {label} is already registered; see `existing`.",
            extra={
                "existing": {
                    "id": str(existing_id),
                    "url": reverse("supplier-detail", kwargs={"id": existing_id}),
                },
                "field": field,
            },
            errors=[
                {
                    "field": field,
                    "pointer": f"#/{field}",
                    "message": f"This {label} is already registered.",
                    "code": "duplicate",
                }
            ],
        )
