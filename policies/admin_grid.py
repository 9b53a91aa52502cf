"""The decision-table grid on a version's admin page: rows shown, edited in place, added,
duplicated, deleted and moved, each write re-running the checks and scenarios of the version.

Every action is a real URL: without JavaScript a row's form is a page of its own that posts and
redirects back to the version's page; with htmx the same URLs swap the row for its form and, after
a save, the whole authoring section (checks, scenarios and grids), since one row's change can
move findings onto other rows. Rows are named by their rule key, unique within a version.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
)
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django_htmx.http import reswap, retarget

from . import engine, grid, rule_keys, services
from .models import (
    KEY_PATTERN,
    Clause,
    Outcome,
    PolicyVersion,
    ReviewItem,
    Rule,
    Scenario,
    VersionLockedError,
)

TEMPLATE = "admin/policies/policyversion/_authoring.html"
SITUATION_COLUMNS = 5  # a situation's tables: number, rule, outcome, together on, reason
ROW_PAGE = "admin/policies/policyversion/rule_row.html"


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def rules_url(version: PolicyVersion) -> str:
    return reverse("admin:policies_version_rules", args=[version.pk])


def tables_url(version: PolicyVersion) -> str:
    """Where a table's CSV (`<table>.csv`) and its import page (`<table>/import/`) are."""
    return reverse("admin:policies_table_export", args=[version.pk, "TABLE"]).removesuffix(
        "TABLE.csv"
    )


def change_url(version: PolicyVersion) -> str:
    return reverse("admin:policies_policyversion_change", args=[version.pk])


SIM_PREFIX = "answer-"


def simulated_answers(request: HttpRequest) -> dict[str, str] | None:
    """The simulate panel's answers (`?answer-plan=max&…`); None when it is not in use."""
    if "simulate" not in request.GET:
        return None
    return {
        key.removeprefix(SIM_PREFIX): str(value)
        for key, value in request.GET.items()
        if key.startswith(SIM_PREFIX) and value
    }


def authoring_context(
    version: PolicyVersion,
    report: services.VersionReport,
    *,
    editable: bool,
    answers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """What the authoring section renders: the report, the checklist of items to review (a
    draft made from drift findings), the simulate panel and a grid per table."""
    built = report.version
    review = list(
        ReviewItem.objects.filter(version=version).select_related("cleared_by").order_by("pk")
    )
    return {
        "review_items": review,
        "review_open": sum(1 for item in review if item.is_open),
        # The rows and clauses still to review, marked where they are listed.
        "review_rule_keys": {i.key for i in review if i.is_open and i.kind == ReviewItem.Kind.RULE},
        "review_clause_keys": {
            i.key for i in review if i.is_open and i.kind == ReviewItem.Kind.CLAUSE
        },
        "review_confirm_url": reverse("admin:policies_review_confirm", args=[version.pk]),
        "version": version,
        "report": report,
        "grids": grid.grids(built, report.findings, answers) if built is not None else [],
        "questions": built.questions if built is not None else (),
        "rules_url": rules_url(version),
        "tables_url": tables_url(version),
        "editable": editable,
        "sim": _simulation(built, answers) if built is not None else None,
        "change_url": change_url(version),
        "simulate_url": reverse("admin:policies_simulate", args=[version.pk]),
        "save_scenario_url": reverse("admin:policies_save_scenario", args=[version.pk]),
    }


@dataclass(frozen=True)
class Asked:
    question: engine.Question
    answer: str  # "" for the question to answer next


@dataclass(frozen=True)
class Simulation:
    answers: dict[str, str]
    asked: tuple[Asked, ...]  # along the real question flow: answered, then the next one
    decision: engine.Decision | None
    outcome_keys: tuple[str, ...]  # what a scenario saved now would expect to include


def _simulation(built: engine.Version, answers: dict[str, str] | None) -> Simulation:
    answers = dict(answers or {})
    valid = {
        key: value
        for key, value in answers.items()
        if built.question(key) is not None and value in built.question(key).choice_keys  # type: ignore[union-attr]
    }
    decision = engine.evaluate(built, valid)
    path = dict(decision.answers)
    asked = [Asked(q, path[q.key]) for q in engine.path_questions(built, path) if q.key in path]
    if decision.next_question is not None:
        asked.append(Asked(decision.next_question, ""))
    items = [decision.verdict] if decision.verdict else []
    items += [item for each in decision.lists.values() for item in each]
    return Simulation(
        answers=path,
        asked=tuple(asked),
        decision=decision if path else None,
        outcome_keys=tuple(item.key for item in items),
    )


class RuleRowForm(forms.Form):
    """One row of a grid: a checkbox group per question (none ticked: the rule does not test
    it), the outcome of this table, the reason and the clauses, all of this version only."""

    key = forms.CharField(
        max_length=120,
        label="Rule id",
        help_text="Short and stable; lower-case letters, digits and _ - .",
    )
    outcome = forms.ChoiceField(label="Outcome")
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3, "cols": 60}))
    clauses = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="The clauses this rule rests on.",
    )

    def __init__(self, *args: Any, version: engine.Version, table: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.engine_version = version
        self.question_keys = [q.key for q in version.questions]
        outcome_field = self.fields["outcome"]
        assert isinstance(outcome_field, forms.ChoiceField)
        outcome_field.choices = [(o.key, f"{o.key}: {o.title}") for o in version.outcomes_of(table)]
        clause_field = self.fields["clauses"]
        assert isinstance(clause_field, forms.MultipleChoiceField)
        clause_field.choices = [(c.key, c.key) for c in version.clauses]
        for q in version.questions:
            self.fields[f"q_{q.key}"] = forms.MultipleChoiceField(
                label=q.key,
                required=False,
                choices=[(c.key, c.key) for c in q.choices],
                widget=forms.CheckboxSelectMultiple,
                help_text="Tick none for any.",
            )

    def clean_key(self) -> str:
        key = self.cleaned_data["key"].strip()
        if not KEY_PATTERN.match(key):
            raise ValidationError(
                "Use lower-case letters, digits, and _ - . (starting with a letter or digit).",
                code="invalid_key",
            )
        return key

    def question_fields(self) -> list[forms.BoundField]:
        return [self[f"q_{key}"] for key in self.question_keys]

    def conditions(self) -> dict[str, list[str]]:
        written: dict[str, list[str]] = {}
        for q in self.engine_version.questions:
            ticked = self.cleaned_data.get(f"q_{q.key}") or []
            if ticked:
                written[q.key] = [key for key in q.choice_keys if key in ticked]
        return written

    @staticmethod
    def initial_for(rule: engine.Rule) -> dict[str, Any]:
        initial: dict[str, Any] = {
            "key": rule.key,
            "outcome": rule.outcome,
            "reason": rule.reason,
            "clauses": list(rule.clauses),
        }
        for key, choices in rule.conditions:
            initial[f"q_{key}"] = sorted(choices)
        return initial


# --- views (wrapped by PolicyVersionAdmin.get_urls in admin_site.admin_view) ------------------


def _draft_or_refuse(request: HttpRequest, model_admin: Any, pk: int) -> PolicyVersion:
    version = model_admin.get_queryset(request).filter(pk=pk).first()
    if version is None:
        raise Http404("No such policy version.")
    if not model_admin.has_view_permission(request, version):
        raise PermissionDenied
    return version


def _may_edit(request: HttpRequest, model_admin: Any, version: PolicyVersion) -> bool:
    return version.is_draft and model_admin.has_change_permission(request, version)


def _built(version: PolicyVersion) -> engine.Version:
    return services.version_report(version=version).version or _raise_broken()


def _raise_broken() -> engine.Version:
    raise Http404("This version's records do not make a version; fix them first.")


def _rule_of(built: engine.Version, key: str) -> engine.Rule:
    rule = next((r for r in built.rules if r.key == key), None)
    if rule is None:
        raise Http404("No such rule in this version.")
    return rule


def _after_write(
    request: HttpRequest, model_admin: Any, version: PolicyVersion, anchor: str
) -> HttpResponse:
    """After any write: htmx gets the authoring section afresh (checks re-run), a browser
    without JavaScript goes back to the version's page at the row."""
    report = services.version_report(version=version)
    if report.version is not None:
        services.review_items_sync(version=version, by=request.user, built=report.version)
    if is_htmx(request):
        response = TemplateResponse(
            request,
            TEMPLATE + "#authoring",
            authoring_context(version, report, editable=True),
        )
        # Back to the row written: the section above it may have grown or shrunk. By
        # attribute, since rule ids may hold dots.
        if anchor:
            response["HX-Reswap"] = f'outerHTML show:[id="row-{anchor}"]:top'
        return response
    level = messages.WARNING if report.blocks_publishing else messages.INFO
    model_admin.message_user(request, report.summary(), level)
    return HttpResponseRedirect(change_url(version) + (f"#row-{anchor}" if anchor else ""))


def _locked(request: HttpRequest, model_admin: Any, version: PolicyVersion) -> HttpResponse:
    model_admin.message_user(
        request,
        f"{version} is published and cannot be changed; make a new draft from it instead.",
        messages.ERROR,
    )
    if is_htmx(request):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = change_url(version)
        return response
    return HttpResponseRedirect(change_url(version))


def row_view(request: HttpRequest, model_admin: Any, pk: int, key: str) -> HttpResponse:
    """GET: the row's form (htmx: the row swapped for it; ?show: the row itself). POST: save.
    With `?situation=<rule id>` the row was opened from that rule's situation page, and the
    same form goes back there (shown, saved or cancelled) instead of to the grid."""
    if request.method not in ("GET", "HEAD", "POST"):
        return HttpResponseNotAllowed(["GET", "HEAD", "POST"])
    version = _draft_or_refuse(request, model_admin, pk)
    built = _built(version)
    rule = _rule_of(built, key)
    anchor = _situation_of(request, built)
    if request.method == "GET" and "show" in request.GET:
        if anchor:
            return _situation_row_response(request, model_admin, version, anchor, rule.key)
        return _row_response(request, version, built, rule.key)
    if not _may_edit(request, model_admin, version):
        return _locked(request, model_admin, version)
    if request.method == "POST":
        form = RuleRowForm(request.POST, version=built, table=rule.table)
        if form.is_valid() and _save_row(form, version, rule.key):
            saved = form.cleaned_data["key"]
            if anchor:
                # A renamed situation rule: its situation goes by its new id.
                anchor = saved if anchor == rule.key else anchor
                return _after_situation_write(request, model_admin, version, anchor, saved)
            return _after_write(request, model_admin, version, saved)
    else:
        form = RuleRowForm(initial=RuleRowForm.initial_for(rule), version=built, table=rule.table)
    return _form_response(
        request, model_admin, version, built, form, rule.table, rule.key, situation=anchor
    )


def _situation_of(request: HttpRequest, built: engine.Version) -> str:
    """The rule whose situation page a row was opened from, if it is a rule of this version."""
    anchor = request.GET.get("situation", "")
    return anchor if any(r.key == anchor for r in built.rules) else ""


def add_view(request: HttpRequest, model_admin: Any, pk: int) -> HttpResponse:
    """A new row of `?table=`, its cells filled from the other query parameters (the fixes of
    a gap link here with their example answers)."""
    if request.method not in ("GET", "HEAD", "POST"):
        return HttpResponseNotAllowed(["GET", "HEAD", "POST"])
    version = _draft_or_refuse(request, model_admin, pk)
    if not _may_edit(request, model_admin, version):
        return _locked(request, model_admin, version)
    built = _built(version)
    table = request.GET.get("table", engine.VERDICT)
    if table not in engine.TABLES:
        raise Http404("No such table.")
    if request.method == "POST":
        form = RuleRowForm(request.POST, version=built, table=table)
        if form.is_valid() and _save_row(form, version, None):
            return _after_write(request, model_admin, version, form.cleaned_data["key"])
    else:
        # Named by its table, never its outcome (rule_keys.py): `verdict.1`, `steps.3`.
        initial: dict[str, Any] = {"key": rule_keys.free_key({r.key for r in built.rules}, table)}
        for q in built.questions:
            if request.GET.get(q.key) in q.choice_keys:
                initial[f"q_{q.key}"] = [request.GET[q.key]]
        form = RuleRowForm(initial=initial, version=built, table=table)
    return _form_response(request, model_admin, version, built, form, table, "")


def action_view(request: HttpRequest, model_admin: Any, pk: int) -> HttpResponse:
    """POST do="duplicate|delete|up|down <rule id>", from the buttons of a row's form (which
    act on the row as stored, not on the form's unsaved changes)."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    version = _draft_or_refuse(request, model_admin, pk)
    if not _may_edit(request, model_admin, version):
        return _locked(request, model_admin, version)
    built = _built(version)
    action, _, key = request.POST.get("do", "").partition(" ")
    rule = _rule_of(built, key)
    anchor = rule.key
    try:
        with transaction.atomic():
            if action == "duplicate":
                anchor = _duplicate(version, built, rule)
            elif action == "delete":
                Rule.objects.filter(version=version, key=rule.key).delete()
                anchor = ""
            elif action in ("up", "down"):
                _move(version, built, rule, -1 if action == "up" else 1)
            else:
                raise Http404("No such action.")
    except VersionLockedError:
        return _locked(request, model_admin, version)
    return _after_write(request, model_admin, version, anchor)


SITUATION_PAGE = "admin/policies/policyversion/situation.html"


@dataclass(frozen=True)
class SituationRow:
    """A rule of a situation, as its grid row (number, outcome, reason, the fixes of the
    checks) with the answer sets on which it decides along with the situation's rule."""

    row: grid.Row
    together: int


def situation_context(
    version: PolicyVersion, report: services.VersionReport, key: str, *, editable: bool
) -> dict[str, Any]:
    """What a situation page renders: per table, the rules deciding along with rule `key`,
    each with the findings of the checks just run (the consistency check among them)."""
    built = report.version
    assert built is not None  # _built refused a version that does not build
    found = grid.situation(built, key)
    rows = {row.key: row for each in grid.grids(built, report.findings) for row in each.rows}
    tables = [
        (table, grid.TABLE_LABELS[table], [SituationRow(rows[s.rule.key], s.together) for s in sib])
        for table, sib in found.tables
    ]
    return {
        "version": version,
        "report": report,
        "situation": found,
        "tables": tables,
        "fixes": [fix for _, _, items in tables for item in items for fix in item.row.fixes],
        "rules_url": rules_url(version),
        "change_url": change_url(version),
        "situation_url": situation_url(version, key),
        "editable": editable,
    }


def situation_url(version: PolicyVersion, key: str) -> str:
    return reverse("admin:policies_rule_situation", args=[version.pk, key])


def situation_view(request: HttpRequest, model_admin: Any, pk: int, key: str) -> HttpResponse:
    """A row's situation: the rules of every table that decide along with it, each editable in
    place in a draft (the grid's row form, with htmx or as a page of its own), with the
    findings of the checks on them. htmx gets the `situation` partial alone."""
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    version = _draft_or_refuse(request, model_admin, pk)
    report = services.version_report(version=version)
    _rule_of(report.version or _raise_broken(), key)
    context = situation_context(
        version, report, key, editable=_may_edit(request, model_admin, version)
    )
    if is_htmx(request):
        return TemplateResponse(request, SITUATION_PAGE + "#situation", context)
    return TemplateResponse(
        request,
        SITUATION_PAGE,
        {
            **model_admin.admin_site.each_context(request),
            "opts": model_admin.opts,
            "title": f"Situation of rule {key}: {version}",
            "subtitle": None,
            **context,
        },
    )


def _after_situation_write(
    request: HttpRequest, model_admin: Any, version: PolicyVersion, anchor: str, saved: str
) -> HttpResponse:
    """After a save from a situation page: htmx gets that situation afresh, the checks re-run;
    a browser without JavaScript goes back to the situation page at the rule saved."""
    report = services.version_report(version=version)
    if is_htmx(request):
        response = TemplateResponse(
            request,
            SITUATION_PAGE + "#situation",
            situation_context(version, report, anchor, editable=True),
        )
        response["HX-Reswap"] = f'outerHTML show:[id="row-{saved}"]:top'
        return response
    level = messages.WARNING if report.blocks_publishing else messages.INFO
    model_admin.message_user(request, report.summary(), level)
    return HttpResponseRedirect(f"{situation_url(version, anchor)}#row-{saved}")


def _situation_row_response(
    request: HttpRequest, model_admin: Any, version: PolicyVersion, anchor: str, key: str
) -> HttpResponse:
    report = services.version_report(version=version)
    context = situation_context(
        version, report, anchor, editable=_may_edit(request, model_admin, version)
    )
    for _, label, items in context["tables"]:
        for item in items:
            if item.row.key == key:
                return TemplateResponse(
                    request,
                    SITUATION_PAGE + "#situation_row",
                    {**context, "item": item, "label": label},
                )
    # No longer part of the situation (its conditions changed elsewhere): the page afresh.
    response = HttpResponse(status=204)
    response["HX-Redirect"] = situation_url(version, anchor)
    return response


def simulate_view(request: HttpRequest, model_admin: Any, pk: int) -> HttpResponse:
    """GET: htmx gets the authoring section with the simulation; a browser without JavaScript
    goes to the version's page with the same query, which shows the same."""
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    version = _draft_or_refuse(request, model_admin, pk)
    if not is_htmx(request):
        return HttpResponseRedirect(f"{change_url(version)}?{request.GET.urlencode()}#simulate")
    report = services.version_report(version=version)
    return TemplateResponse(
        request,
        TEMPLATE + "#authoring",
        authoring_context(
            version,
            report,
            editable=_may_edit(request, model_admin, version),
            answers=simulated_answers(request),
        ),
    )


def save_scenario_view(request: HttpRequest, model_admin: Any, pk: int) -> HttpResponse:
    """POST name and answers: a scenario of this draft expecting what the answers get now."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    version = _draft_or_refuse(request, model_admin, pk)
    if not _may_edit(request, model_admin, version):
        return _locked(request, model_admin, version)
    built = _built(version)
    answers = {
        key.removeprefix(SIM_PREFIX): str(value)
        for key, value in request.POST.items()
        if key.startswith(SIM_PREFIX) and value
    }
    sim = _simulation(built, answers)
    name = request.POST.get("name", "").strip()[:200]
    problem = ""
    if not name:
        problem = "Give the scenario a name."
    elif sim.decision is None or not sim.decision.complete:
        problem = "Answer every question the flow asks before saving a scenario."
    elif Scenario.objects.filter(version=version, name=name).exists():
        problem = f"This version already has a scenario called “{name}”."
    if problem:
        model_admin.message_user(request, problem, messages.ERROR)
    else:
        decision = sim.decision
        assert decision is not None
        try:
            Scenario.objects.create(
                policy_id=version.policy_id,
                version=version,
                name=name,
                answers=sim.answers,
                verdict=decision.verdict.key if decision.verdict else "",
                must_include=[
                    k for k in sim.outcome_keys if k != getattr(decision.verdict, "key", "")
                ],
            )
        except IntegrityError:
            model_admin.message_user(request, "That name was just taken.", messages.ERROR)
        except VersionLockedError as error:  # published since the page was shown
            model_admin.message_user(request, " ".join(error.messages), messages.ERROR)
        else:
            model_admin.message_user(request, f"Saved the scenario “{name}”.", messages.SUCCESS)
    query = "&".join(f"{SIM_PREFIX}{k}={v}" for k, v in sim.answers.items())
    if is_htmx(request):
        report = services.version_report(version=version)
        return TemplateResponse(
            request,
            TEMPLATE + "#authoring",
            authoring_context(version, report, editable=True, answers=sim.answers),
        )
    return HttpResponseRedirect(f"{change_url(version)}?simulate=1&{query}#simulate")


# --- writes ----------------------------------------------------------------------------------


def _save_row(form: RuleRowForm, version: PolicyVersion, key: str | None) -> bool:
    """Write the row (a new rule when `key` is None); False with form errors when refused."""
    data = form.cleaned_data
    outcome = Outcome.objects.filter(version=version, key=data["outcome"]).first()
    if outcome is None:
        form.add_error("outcome", "Choose an outcome of this version.")
        return False
    rule = Rule(version=version) if key is None else Rule.objects.get(version=version, key=key)
    rule.key = data["key"]
    rule.conditions = form.conditions()
    rule.outcome = outcome
    rule.reason = data["reason"]
    if key is None:
        rule.priority = _next_priority(version, outcome.table)
    try:
        rule.full_clean()
        with transaction.atomic():
            rule.save()
            rule.clauses.set(Clause.objects.filter(version=version, key__in=data["clauses"]))
    except VersionLockedError as error:
        form.add_error(None, error)
        return False
    except ValidationError as error:
        _errors_onto(form, error)
        return False
    except IntegrityError:
        form.add_error("key", "Another rule of this version has this id; choose another.")
        return False
    return True


def _errors_onto(form: RuleRowForm, error: ValidationError) -> None:
    names = {"key": "key", "outcome": "outcome", "reason": "reason"}
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(names.get(field), errors)
    else:
        form.add_error(None, error)


def _next_priority(version: PolicyVersion, table: str) -> int:
    last = (
        Rule.objects.filter(version=version, outcome__table=table)
        .order_by("-priority")
        .values_list("priority", flat=True)
        .first()
    )
    return 0 if last is None else last + 10


def _duplicate(version: PolicyVersion, built: engine.Version, rule: engine.Rule) -> str:
    source = Rule.objects.get(version=version, key=rule.key)
    clauses = list(source.clauses.all())
    key = rule_keys.copy_key({r.key for r in built.rules}, rule.key)
    # Right after its source: renumber the table, then slot the copy in.
    ordered = [r.key for r in grid.ordered_rules(built, rule.table)]
    ordered.insert(ordered.index(rule.key) + 1, key)
    copy = Rule.objects.create(
        version=version,
        key=key,
        priority=source.priority,
        conditions=source.conditions,
        outcome_id=source.outcome_id,
        reason=source.reason,
    )
    copy.clauses.set(clauses)
    _renumber(version, ordered)
    return key


def _move(version: PolicyVersion, built: engine.Version, rule: engine.Rule, step: int) -> None:
    ordered = [r.key for r in grid.ordered_rules(built, rule.table)]
    i = ordered.index(rule.key)
    j = i + step
    if 0 <= j < len(ordered):
        ordered[i], ordered[j] = ordered[j], ordered[i]
    _renumber(version, ordered)


def _renumber(version: PolicyVersion, ordered: list[str]) -> None:
    """Priorities 10, 20, 30… in this order (one bulk update)."""
    rows = {r.key: r for r in Rule.objects.filter(version=version, key__in=ordered)}
    changed = []
    for n, key in enumerate(ordered, start=1):
        row = rows[key]
        if row.priority != n * 10:
            row.priority = n * 10
            changed.append(row)
    if changed:
        Rule.objects.bulk_update(changed, ["priority"])


# --- responses -------------------------------------------------------------------------------


def _row_response(
    request: HttpRequest, version: PolicyVersion, built: engine.Version, key: str
) -> HttpResponse:
    report = services.version_report(version=version)
    context = authoring_context(version, report, editable=version.is_draft)
    for each in context["grids"]:
        for row in each.rows:
            if row.key == key:
                return TemplateResponse(
                    request, TEMPLATE + "#row", {**context, "grid": each, "row": row}
                )
    raise Http404("No such rule in this version.")


def _form_response(
    request: HttpRequest,
    model_admin: Any,
    version: PolicyVersion,
    built: engine.Version,
    form: RuleRowForm,
    table: str,
    key: str,
    *,
    situation: str = "",
) -> HttpResponse:
    action = f"{rules_url(version)}{key}/" if key else f"{rules_url(version)}add/?table={table}"
    show_url = f"{rules_url(version)}{key}/?show=1" if key else ""
    if situation:
        query = urlencode({"situation": situation})
        action, show_url = f"{action}?{query}", f"{show_url}&{query}"
    context = {
        "version": version,
        "form": form,
        "table": table,
        "table_label": grid.TABLE_LABELS[table],
        "key": key,
        "action": action,
        "columns": SITUATION_COLUMNS if situation else len(built.questions) + 5,
        "change_url": change_url(version),
        "show_url": show_url,
        "rules_url": rules_url(version),
        # Where the form's answer goes: the grid's section, or the situation it came from.
        "swap_target": "#situation" if situation else "#authoring",
        "back_url": situation_url(version, situation) if situation else change_url(version),
        # Without saving the form's changes: these act on the row as it is stored, and answer
        # with the grid (a situation page only edits its rules).
        "row_actions": []
        if situation
        else [
            ("up", "Move up"),
            ("down", "Move down"),
            ("duplicate", "Duplicate"),
            ("delete", "Delete"),
        ],
    }
    if is_htmx(request):
        response = TemplateResponse(request, TEMPLATE + "#row_form", context)
        if form.is_bound:  # errors: the form goes back where it was, not over the section
            # By attribute: rule ids may hold dots, which an #id selector would misread.
            target = f'[id="row-{key}"]' if key else f'[id="new-row-{table}"]'
            retarget(response, target)
            reswap(response, "outerHTML")
        return response
    title = f"Edit {key}" if key else f"New {grid.TABLE_LABELS[table].lower()} rule"
    return TemplateResponse(
        request,
        ROW_PAGE,
        {
            **model_admin.admin_site.each_context(request),
            "opts": model_admin.opts,
            "title": f"{title}: {version}",
            "subtitle": None,
            **context,
        },
    )


def review_confirm_view(request: HttpRequest, model_admin: Any, pk: int) -> HttpResponse:
    """POST item=<pk>: an item of the draft's checklist confirmed unchanged (who and when)."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    version = _draft_or_refuse(request, model_admin, pk)
    if not _may_edit(request, model_admin, version):
        return _locked(request, model_admin, version)
    item = get_object_or_404(ReviewItem, version=version, pk=request.POST.get("item") or 0)
    try:
        services.review_item_confirm(item=item, by=request.user)
    except services.ReviewRefused as exc:
        model_admin.message_user(request, str(exc), messages.ERROR)
    if is_htmx(request):
        report = services.version_report(version=version)
        response = TemplateResponse(
            request, TEMPLATE + "#authoring", authoring_context(version, report, editable=True)
        )
        response["HX-Reswap"] = "outerHTML show:#review-items:top"
        return response
    return HttpResponseRedirect(change_url(version) + "#review-items")
