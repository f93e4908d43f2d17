"""The registry's domain errors (plain :mod:`remag.errors`; the API maps them)."""

from remag.errors import Conflict, Ref

_LABELS = {"udyam_number": "Udyam registration number", "pan": "PAN", "gstin": "GSTIN"}


class SupplierAlreadyRegistered(Conflict):
    """A Udyam number, PAN or GSTIN that is already in the registry.

    ``extra`` holds ``existing`` (a :class:`Ref` the API turns into ``{"id", "url"}``),
    ``field`` (the identifier at fault) and the field error for ``errors``.
    """

    def __init__(self, *, field: str, existing_id: object) -> None:
        # A nested field (``gstins[1].gstin``) is labelled by its last part.
        label = _LABELS[field.rsplit(".", 1)[-1]]
        pointer = "#/" + field.replace("[", "/").replace("].", "/").replace(".", "/")
        super().__init__(
            f"This {label} is already registered; see `existing`.",
            code="supplier_already_registered",
            field=field,
        )
        # Members of the problem document, in this order (``field`` is one too).
        self.extra = {
            "existing": Ref("supplier", existing_id),
            "field": field,
            "errors": [
                {
                    "field": field,
                    "pointer": pointer,
                    "message": f"This {label} is already registered.",
                    "code": "duplicate",
                }
            ],
        }


class SupplierAlreadyClaimed(Conflict):
    """The profile already belongs to an SME organisation (claimed, or registered by the
    SME itself): nobody else can claim it. ``existing`` links the profile."""

    def __init__(self, *, supplier_id: object) -> None:
        super().__init__(
            "This supplier profile already belongs to an SME organisation and cannot be "
            "claimed again. If that organisation is not yours by right, write to the "
            "operators.",
            code="supplier_already_claimed",
            existing=Ref("supplier", supplier_id),
        )
