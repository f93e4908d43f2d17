"""Cursor pagination for every list: DRF's, made safe against tampered cursors and nulls.

A cursor is ``base64("o=<offset>&r=<0|1>&p=<position>")``, where the position is the
value of the ordering's first field at the page's edge. DRF trusts it: a position that
does not fit the field's type (``employees`` = ``"abc"``), a NUL, or a naive datetime
fails deep in the query with a server error. Here every part is checked when the cursor
is decoded, and anything wrong is a 400 naming ``cursor``.

DRF also writes a null position as the string ``"None"`` and filters ``field > None``,
which fails for every nullable ordering field (``employees``, ``needed_by``...) as soon
as a page ends on a row without a value. Here a null position is its own token
(``n=1``) and the filter follows PostgreSQL's order, where nulls sort above every value
(last ascending, first descending).
"""

import json
import re
from base64 import b64decode, b64encode
from collections.abc import Iterable
from datetime import datetime
from typing import Any
from urllib import parse

from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.db.models import F, Q
from django.db.models.constants import LOOKUP_SEP
from django.http import HttpResponse
from django.utils.dateparse import parse_datetime
from rest_framework import exceptions, pagination
from rest_framework.pagination import Cursor, _reverse_ordering
from rest_framework.utils.urls import replace_query_param

INVALID_CURSOR = "This cursor is not valid; use the `next` or `previous` link."
MAX_POSITION_CHARS = 1000


class NullPosition:
    """The position of a row whose ordering field is null."""

    def __repr__(self) -> str:
        return "NULL_POSITION"


NULL_POSITION = NullPosition()


def position_kind(position: Any) -> str | None:
    """A cursor's position as a compiled page's shape knows it: none, null or a value."""
    if position is None:
        return None
    return "null" if position is NULL_POSITION else "value"


_DIGITS = re.compile(r"[0-9]+")
INVALID_PAGE_SIZE = "A whole number of rows from 1 (at most {} are returned)."


def invalid_cursor() -> exceptions.ValidationError:
    return exceptions.ValidationError({"cursor": [INVALID_CURSOR]})


def ordering_field(queryset: Any, name: str) -> models.Field | None:
    """The model field (or annotation's output field) ``name`` orders by, if known."""
    annotation = queryset.query.annotations.get(name)
    if annotation is not None:
        return annotation.output_field
    opts = queryset.model._meta
    parts = name.split(LOOKUP_SEP)
    try:
        for part in parts[:-1]:
            opts = opts.get_field(part).related_model._meta
        field = opts.get_field(parts[-1])
    except (FieldDoesNotExist, AttributeError):
        return None
    while field.is_relation and getattr(field, "target_field", None) is not None:
        field = field.target_field
    return field


def position_check(field: models.Field | None, position: Any) -> None:
    """Raise ``ValueError`` when ``position`` cannot be a value of ``field``."""
    if position is NULL_POSITION:
        if field is not None and not field.null:
            raise ValueError("null position for a non-null field")
        return
    if len(position) > MAX_POSITION_CHARS or "\x00" in position:
        raise ValueError("position too long or holds NUL")
    if field is None:
        return
    if isinstance(field, models.DateTimeField):
        # A naive datetime would only warn and be read in the server's time zone;
        # positions written by this paginator always carry their offset.
        value = parse_datetime(position)
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise ValueError("not an aware datetime")
        return
    try:
        field.get_prep_value(field.to_python(position))
    except (DjangoValidationError, TypeError, ArithmeticError) as exc:
        raise ValueError(str(exc)) from exc


def json_text_response(body: str) -> HttpResponse:
    """A 200 of ``body``, JSON text already written (by PostgreSQL, or by hand), as DRF's
    ``JSONRenderer`` would send it: U+2028 and U+2029 (only ever inside strings)
    escaped, which JSON allows raw but JavaScript's string literals did not."""
    body = body.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return HttpResponse(body, content_type="application/json")


class CursorPagination(pagination.CursorPagination):
    """Default pagination for every list: opaque cursors, stable under inserts.

    Lists are ordered newest first; a view may set its own ``ordering``, whose first
    field must be indexed. ``page_size`` may be asked for: a whole number from 1, more
    than ``max_page_size`` giving ``max_page_size`` rows; anything else (``0``, ``-1``,
    ``abc``, ``1.5``) is a 400 naming ``page_size``, not the default page in silence.
    A malformed cursor is a 400 naming the ``cursor`` parameter, not a 404 or a 500.
    """

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = ("-created_at", "-id")
    # The key of a row (a dict) holding its position, when not the ordering field's own
    # name: a view that reads the position as text under another name sets it.
    position_key: str | None = None
    _ordering_field: models.Field | None = None

    def get_page_size(self, request: Any) -> int:
        asked = request.query_params.get(self.page_size_query_param, "")
        if asked == "":  # absent, or sent empty as clients send unset parameters
            return self.page_size
        if not _DIGITS.fullmatch(asked) or not asked.strip("0"):
            raise exceptions.ValidationError(
                {self.page_size_query_param: [INVALID_PAGE_SIZE.format(self.max_page_size)]}
            )
        # Many digits are many rows: no need to read them all (nor past Python's limit).
        return self.max_page_size if len(asked) > 6 else min(int(asked), self.max_page_size)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["description"] = (
                    f"Rows per page, from 1 (default {self.page_size}); more than "
                    f"{self.max_page_size} gives {self.max_page_size}."
                )
                parameter["schema"] = {"type": "integer", "minimum": 1}
        return parameters

    def get_ordering(self, request: Any, queryset: Any, view: Any) -> Any:
        ordering: Any = None
        for backend in getattr(view, "filter_backends", ()):
            if hasattr(backend, "get_ordering"):
                ordering = backend().get_ordering(request, queryset, view)
        ordering = ordering or getattr(view, "ordering", None) or self.ordering
        ordering = (ordering,) if isinstance(ordering, str) else tuple(ordering)
        if not any(field.lstrip("-") in ("id", "pk") for field in ordering):
            ordering = (*ordering, "-id" if ordering[0].startswith("-") else "id")
        return ordering

    def get_json_page_response(self, items: Iterable[str]) -> HttpResponse:
        """The page as :meth:`get_paginated_response` writes it, from its items already
        written as JSON text (lists whose representations PostgreSQL builds)."""
        envelope = json.dumps(
            {"next": self.get_next_link(), "previous": self.get_previous_link()},
            ensure_ascii=False,
        )
        body = f'{envelope[:-1]},"results":[{",".join(items)}]}}'
        # The page's rows are written: let them go now. The view holds this paginator and
        # the request holds the view (a cycle DRF makes), so anything kept here would
        # wait for the cyclic collector, whose pauses grow with what it must free.
        self.page = []
        return json_text_response(body)

    # ------------------------------------------------------------------ cursors

    def decode_cursor(self, request: Any) -> Any:
        encoded = request.query_params.get(self.cursor_query_param)
        if encoded is None:
            return None
        try:
            querystring = b64decode(encoded.encode("ascii"), validate=True).decode("ascii")
            tokens = parse.parse_qs(querystring, keep_blank_values=True, strict_parsing=True)
            if set(tokens) - {"o", "r", "p", "n"} or any(len(v) != 1 for v in tokens.values()):
                raise ValueError("unknown or repeated token")
            offset_text = tokens.get("o", ["0"])[0]
            if not offset_text.isdigit() or len(offset_text) > 9:
                raise ValueError("offset")
            offset = int(offset_text)
            if offset > self.offset_cutoff:
                raise ValueError("offset")
            reverse_text = tokens.get("r", ["0"])[0]
            if reverse_text not in ("0", "1"):
                raise ValueError("reverse")
            if "n" in tokens:
                if tokens["n"] != ["1"] or "p" in tokens:
                    raise ValueError("null position")
                position: Any = NULL_POSITION
            else:
                position = tokens.get("p", [None])[0]
            if position is not None:
                position_check(self._ordering_field, position)
        except ValueError as exc:  # binascii.Error and UnicodeError are ValueErrors
            raise invalid_cursor() from exc
        return Cursor(offset=offset, reverse=reverse_text == "1", position=position)

    def encode_cursor(self, cursor: Any) -> str:
        tokens = {}
        if cursor.offset != 0:
            tokens["o"] = str(cursor.offset)
        if cursor.reverse:
            tokens["r"] = "1"
        if cursor.position is NULL_POSITION:
            tokens["n"] = "1"
        elif cursor.position is not None:
            tokens["p"] = cursor.position
        querystring = parse.urlencode(tokens, doseq=True)
        encoded = b64encode(querystring.encode("ascii")).decode("ascii")
        return replace_query_param(self.base_url, self.cursor_query_param, encoded)

    def get_next_link(self) -> str | None:
        return self._with_page_length(super().get_next_link, edge=not self.has_previous)

    def get_previous_link(self) -> str | None:
        return self._with_page_length(super().get_previous_link, edge=not self.has_next)

    def _with_page_length(self, link: Any, *, edge: bool) -> Any:
        # On the first or last page, when every row shares one position (ties, nulls),
        # DRF skips ``page_size`` rows to step back over the page; a short page has
        # fewer, and the rows in between would be skipped.
        if not edge or not self.page or len(self.page) >= self.page_size:
            return link()
        full, self.page_size = self.page_size, len(self.page)
        try:
            return link()
        finally:
            self.page_size = full

    def _get_position_from_instance(self, instance: Any, ordering: Any) -> Any:
        field_name = ordering[0].lstrip("-")
        if isinstance(instance, dict):
            attr = instance[self.position_key or field_name]
        else:
            attr = getattr(instance, field_name)
        return NULL_POSITION if attr is None else str(attr)

    # ------------------------------------------------------------------ the page

    def paginate_queryset(self, queryset: Any, request: Any, view: Any = None) -> Any:
        """DRF's, except the filter by position (see the module's docstring)."""
        sliced = self.page_queryset(queryset, request, view)
        if sliced is None:
            return None
        return self.page_from(list(sliced))

    def page_queryset(
        self, queryset: Any, request: Any, view: Any = None, *, position_as: Any = None
    ) -> Any:
        """What :meth:`paginate_queryset` reads: ``queryset`` ordered, past the cursor's
        position, and sliced to the page and one more row (None when not paginated).
        :meth:`page_from` then makes the page of what it read. ``position_as`` stands
        in for the cursor's position in the filter (to compile the page's SQL once per
        shape with a value to find in its parameters)."""
        if not self.start(queryset, request, view):
            return None
        if self.cursor is None:
            (offset, reverse, current_position) = (0, False, None)
        else:
            (offset, reverse, current_position) = self.cursor

        if reverse:
            queryset = queryset.order_by(*_nulls_highest(_reverse_ordering(self.ordering)))
        else:
            queryset = queryset.order_by(*_nulls_highest(self.ordering))

        if current_position is not None:
            order = self.ordering[0]
            # Scanning towards smaller values: (cursor reversed) XOR (ordering descending).
            towards_smaller = self.cursor.reverse != order.startswith("-")
            position = current_position if position_as is None else position_as
            queryset = queryset.filter(self._beyond(order.lstrip("-"), position, towards_smaller))
        return queryset[offset : offset + self.page_size + 1]

    def start(self, queryset: Any, request: Any, view: Any = None) -> bool:
        """Read the request's page size, ordering and cursor (a 400 naming ``cursor`` when
        it is not valid for ``queryset``'s ordering field); False when not paginated."""
        self.request = request
        self.page_size = self.get_page_size(request)
        if not self.page_size:
            return False
        self.base_url = request.build_absolute_uri()
        self.ordering = self.get_ordering(request, queryset, view)
        self._ordering_field = ordering_field(queryset, self.ordering[0].lstrip("-"))
        self.cursor = self.decode_cursor(request)
        return True

    def page_from(self, results: list[Any]) -> list[Any]:
        """The page of ``results`` (the rows :meth:`page_queryset` read), with what its
        links need."""
        if self.cursor is None:
            (offset, reverse, current_position) = (0, False, None)
        else:
            (offset, reverse, current_position) = self.cursor
        self.page = list(results[: self.page_size])

        if len(results) > len(self.page):
            has_following_position = True
            following_position = self._get_position_from_instance(results[-1], self.ordering)
        else:
            has_following_position = False
            following_position = None

        if reverse:
            self.page = list(reversed(self.page))
            self.has_next = (current_position is not None) or (offset > 0)
            self.has_previous = has_following_position
            if self.has_next:
                self.next_position = current_position
            if self.has_previous:
                self.previous_position = following_position
        else:
            self.has_next = has_following_position
            self.has_previous = (current_position is not None) or (offset > 0)
            if self.has_next:
                self.next_position = following_position
            if self.has_previous:
                self.previous_position = current_position

        if (self.has_previous or self.has_next) and self.template is not None:
            self.display_page_controls = True
        return self.page

    def _beyond(self, attr: str, position: Any, towards_smaller: bool) -> Q:
        """Rows strictly past ``position`` in the scan's direction; nulls sort highest."""
        nullable = self._ordering_field is None or self._ordering_field.null
        if position is NULL_POSITION:
            # Past the nulls going down: every value. Going up: nothing is above null.
            return Q(**{f"{attr}__isnull": False}) if towards_smaller else Q(pk__in=[])
        if towards_smaller:
            return Q(**{f"{attr}__lt": position})
        beyond = Q(**{f"{attr}__gt": position})
        return beyond | Q(**{f"{attr}__isnull": True}) if nullable else beyond


def _nulls_highest(ordering: Any) -> list[Any]:
    """``ordering`` with nulls sorting above every value on every database, as PostgreSQL
    sorts them by default (SQLite sorts them lowest), so positions compare the same way."""
    out: list[Any] = []
    for name in ordering:
        if not isinstance(name, str):
            out.append(name)
        elif name.startswith("-"):
            out.append(F(name[1:]).desc(nulls_first=True))
        else:
            out.append(F(name).asc(nulls_last=True))
    return out
