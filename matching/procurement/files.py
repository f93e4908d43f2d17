"""Attachments: what a file is, told from its first bytes (never from its name or the
``Content-Type`` the client claims). Pure Python."""

from __future__ import annotations

from matching.procurement.choices import AttachmentType

# The signatures of the accepted formats: PDF (ISO 32000: "%PDF-"), PNG (its 8-byte
# signature) and JPEG (SOI marker then another marker).
SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", AttachmentType.PDF),
    (b"\x89PNG\r\n\x1a\n", AttachmentType.PNG),
    (b"\xff\xd8\xff", AttachmentType.JPEG),
)


def sniff_content_type(head: bytes) -> str | None:
    """The attachment type of a file starting with ``head``, or None when it is not one
    of the accepted formats."""
    for signature, content_type in SIGNATURES:
        if head.startswith(signature):
            return content_type
    return None
