"""CSV files of staff lists: UTF-8 with a byte-order mark (so spreadsheet
programs read Chinese correctly), cells that cannot start a formula, rows
streamed so a long list does not sit in memory."""

from __future__ import annotations

import csv
import datetime as dt

from django.contrib.admin.utils import (
    display_for_field,
    display_for_value,
    label_for_field,
    lookup_field,
)
from django.http import StreamingHttpResponse
from django.utils.html import strip_tags

# At most this many rows in one exported file (a whole region's list can be far longer).
EXPORT_MAX_ROWS = 50_000


class _Echo:
    def write(self, value):
        return value


def csv_cell(value) -> str:
    text = value.isoformat() if isinstance(value, dt.date) else str(value)
    # Neutralise spreadsheet formulas (CSV injection); plain negative numbers stay.
    return (
        "'" + text
        if text[:1] in ("=", "+", "-", "@") and not _is_number(text)
        else text
    )


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def csv_response(filename: str, header: list, rows) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())

    def lines():
        yield "\ufeff"
        yield writer.writerow([csv_cell(c) for c in header])
        for row in rows:
            yield writer.writerow([csv_cell(c) for c in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def admin_rows_csv(model_admin, request, queryset) -> StreamingHttpResponse:
    """The selected rows of an admin list, with the list's own columns (so
    masked numbers stay masked)."""
    names = [
        name
        for name in model_admin.get_list_display(request)
        if name != "action_checkbox"
    ]
    header = [
        strip_tags(str(label_for_field(name, model_admin.model, model_admin)))
        for name in names
    ]
    related = model_admin.list_select_related
    if isinstance(related, (list, tuple)) and related:
        queryset = queryset.select_related(*related)
    elif related is True:
        queryset = queryset.select_related()
    queryset = queryset.order_by("pk")[:EXPORT_MAX_ROWS]

    def rows():
        for obj in queryset.iterator(chunk_size=2000):
            row = []
            for name in names:
                field, attr, value = lookup_field(name, obj, model_admin)
                if field is not None and not getattr(field, "is_relation", False):
                    shown = display_for_field(value, field, "")
                else:
                    shown = display_for_value(
                        value, "", boolean=getattr(attr, "boolean", False)
                    )
                row.append(strip_tags(str(shown)))
            yield row

    opts = model_admin.model._meta
    return csv_response(f"{opts.app_label}-{opts.model_name}.csv", header, rows())
