"""CSV export and import of one decision table, from its grid on the version's admin page.

Export is a plain download of any version the user may view. Import replaces the table's rules
of a draft with the file's (`table_csv` reads it; each row is then checked by the row editor's own
form and the model's `full_clean`, and the whole table by the engine), in one transaction through
`records.replace_rules`: any error anywhere and nothing is written, and the page lists the errors,
each naming the line and the column. A plain form with a file input, so it works without
JavaScript; after an import the admin lands on the version's page at the table, its checks and
scenarios re-run as after a row save.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
)
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.datastructures import MultiValueDict

from . import catalog, engine, grid, records, services, table_csv
from .admin_grid import RuleRowForm, change_url
from .models import Outcome, PolicyVersion, Rule, VersionLockedError

IMPORT_PAGE = "admin/policies/policyversion/table_import.html"
MAX_UPLOAD_BYTES = 1_000_000  # the seed's largest table exports to about 60 KB
# An import changes, adds and deletes rules, so it needs all three permissions.
IMPORT_PERMISSIONS = ("policies.change_rule", "policies.add_rule", "policies.delete_rule")


def export_url(version: PolicyVersion, table: str) -> str:
    return reverse("admin:policies_table_export", args=[version.pk, table])


def import_url(version: PolicyVersion, table: str) -> str:
    return reverse("admin:policies_table_import", args=[version.pk, table])


class TableImportForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text="UTF-8 text, at most 1 MB, as the export writes it (keep line 1).",
        widget=forms.FileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def clean_file(self) -> str:
        """The upload's text; refused when too big, binary or not UTF-8."""
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise ValidationError(
                f"The file is {upload.size:,} bytes; at most {MAX_UPLOAD_BYTES:,} bytes "
                "(1 MB) can be imported.",
                code="too_big",
            )
        content: bytes = upload.read(MAX_UPLOAD_BYTES + 1)
        if b"\0" in content:
            raise ValidationError(
                "This is not a text file (it holds binary data, as a spreadsheet's own format "
                "does); save or export the table as CSV (UTF-8) and import that.",
                code="binary",
            )
        try:
            # A BOM is what spreadsheets put first in "CSV UTF-8"; it is not part of line 1.
            return content.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise ValidationError(
                f"The file is not UTF-8 text (byte 0x{content[error.start]:02x} at position "
                f"{error.start:,}); save it as CSV with the UTF-8 encoding.",
                code="not_utf8",
            ) from None


def export_view(request: HttpRequest, model_admin: Any, pk: int, table: str) -> HttpResponse:
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    version = model_admin._version_or_404(request, pk)
    _check_table(table)
    ref = catalog.ref(version)
    text = table_csv.export_table(catalog.compiled(ref), table, exported_from=str(ref))
    # With a BOM, spreadsheets read the file as UTF-8 (quotes and dashes intact).
    response = HttpResponse("\ufeff" + text, content_type="text/csv; charset=utf-8")
    name = f"{ref.policy.slug}-{ref.version_id or f'draft-{ref.pk}'}-{table}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def import_view(request: HttpRequest, model_admin: Any, pk: int, table: str) -> HttpResponse:
    """GET: the import page. POST: import, then back to the version's page at the table; the
    same page with the errors when refused."""
    if request.method not in ("GET", "HEAD", "POST"):
        return HttpResponseNotAllowed(["GET", "HEAD", "POST"])
    version = model_admin._version_or_404(request, pk)
    _check_table(table)
    if not request.user.has_perms(IMPORT_PERMISSIONS):
        raise PermissionDenied
    posted = request.method == "POST"
    form = TableImportForm(request.POST, request.FILES) if posted else TableImportForm()
    problems: dict[str, str] = {}
    if posted:
        if not version.is_draft:
            form.add_error(
                None,
                ValidationError(
                    f"{version} is {version.get_status_display().lower()} and cannot be "
                    "changed; make a new draft from it and import into the draft.",
                    code="locked",
                ),
            )
        elif form.is_valid():
            try:
                imported = import_table(
                    version=version, table=table, text=form.cleaned_data["file"]
                )
            except table_csv.TableCsvError as error:
                problems = catalog.bounded_errors(error.errors)
                form.add_error(None, ValidationError("Nothing was imported.", code="invalid"))
            except VersionLockedError:  # published in the meantime
                form.add_error(
                    None,
                    ValidationError(
                        f"{version} was published meanwhile and cannot be changed; nothing "
                        "was imported.",
                        code="locked",
                    ),
                )
            else:
                report = services.version_report(version=version)
                model_admin.message_user(request, imported, messages.SUCCESS)
                level = messages.WARNING if report.blocks_publishing else messages.INFO
                model_admin.message_user(request, report.summary(), level)
                return HttpResponseRedirect(f"{change_url(version)}#table-{table}")
    label = grid.TABLE_LABELS[table]
    return TemplateResponse(
        request,
        IMPORT_PAGE,
        {
            **model_admin._page_context(request, version, f"Import the {label.lower()} table"),
            "form": form,
            "problems": problems,
            "table": table,
            "table_label": label,
            "export_url": export_url(version, table),
            "editable": version.is_draft,
        },
    )


def _check_table(table: str) -> None:
    if table not in engine.TABLES:
        raise Http404("No such table.")


def import_table(*, version: PolicyVersion, table: str, text: str) -> str:
    """Replace the rules of `table` in the draft `version` with those of the CSV `text`, or
    write nothing: TableCsvError naming each line and column at fault. Returns what changed,
    in a sentence for the admin."""
    built = catalog.compiled(catalog.ref(version))
    rows = table_csv.parse_table(built, table, text)
    errors: dict[str, str] = {}
    outcomes = {o.key: o for o in Outcome.objects.filter(version=version, table=table)}
    rules = []
    for row in rows:
        rule = _checked_rule(version, built, table, row, outcomes, errors)
        if rule is not None:
            rules.append(rule)
    if errors:
        raise table_csv.TableCsvError(errors)
    kept = tuple(rule for rule in built.rules if rule.table != table)
    try:
        values = dataclasses.replace(built, rules=kept + tuple(rules))
    except engine.PolicyError as error:
        raise table_csv.TableCsvError({"file": str(error)}) from None
    before = {rule.key: rule for rule in built.rules if rule.table == table}
    after = {rule.key: rule for rule in rules}
    changed = sum(1 for key, rule in after.items() if key in before and before[key] != rule)
    added = len(after.keys() - before.keys())
    removed = len(before.keys() - after.keys())
    label = grid.TABLE_LABELS[table].lower()
    if not (changed or added or removed):
        return f"Imported the {label} table: nothing changed ({len(after)} rules as they were)."
    try:
        records.replace_rules(version=version, values=values, table=table)
    except IntegrityError:  # a rule id taken meanwhile, by another table's new rule
        raise table_csv.TableCsvError(
            {"file": "another rule of this version took one of the file's rule ids meanwhile"}
        ) from None
    return (
        f"Imported the {label} table: {changed} rule{'s' if changed != 1 else ''} changed, "
        f"{added} added, {removed} removed, {len(after) - changed - added} unchanged."
    )


def _checked_rule(
    version: PolicyVersion,
    built: engine.Version,
    table: str,
    row: table_csv.Row,
    outcomes: dict[str, Outcome],
    errors: dict[str, str],
) -> engine.Rule | None:
    """One row through the row editor's form and the model's checks, as a save in the grid
    would go; the errors keyed by line and column."""
    data: dict[str, list[str]] = {
        "key": [row.key],
        "outcome": [row.outcome],
        "reason": [row.reason],
        "clauses": list(row.clauses),
        **{f"q_{key}": list(choices) for key, choices in row.conditions.items()},
    }
    form = RuleRowForm(MultiValueDict(data), version=built, table=table)
    if not form.is_valid():
        for field, form_errors in form.errors.items():
            errors[_where(row.line, field)] = " ".join(str(e) for e in form_errors)
        return None
    record = Rule(
        version=version,
        key=form.cleaned_data["key"],
        priority=row.priority,
        conditions=form.conditions(),
        outcome=outcomes[row.outcome],
        reason=form.cleaned_data["reason"],
    )
    try:
        # Uniqueness is the file's own (checked by table_csv) once the table's rows are gone.
        record.full_clean(validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        for field, model_errors in error.message_dict.items():
            errors[_where(row.line, field)] = " ".join(model_errors)
        return None
    return engine.Rule(
        key=record.key,
        table=table,
        outcome=row.outcome,
        conditions=engine.conjunction(record.conditions),
        reason=record.reason,
        clauses=tuple(sorted(form.cleaned_data["clauses"])),
        priority=row.priority,
    )


def _where(line: int, field: str) -> str:
    """The line and CSV column of a form or model field's error."""
    if field in ("__all__", "conditions"):  # about the row as a whole
        return f"line {line}"
    column = field.removeprefix("q_") if field.startswith("q_") else field
    return f"line {line}, column {table_csv.RULE if column == 'key' else column}"
