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
from django.template.response import TemplateResponse
from django.urls import reverse
from django_htmx.http import reswap, retarget

from . import engine, grid, services
from .models import (
    KEY_PATTERN,
    Clause,
    Outcome,
    PolicyVersion,
    Rule,
    Scenario,
    VersionLockedError,
)

TEMPLATE = "admin/policies/policyversion/_authoring.html"
ROW_PAGE = "admin/policies/policyversion/rule_row.html"


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def rules_url(version: PolicyVersion) -> str:
    return reverse("admin:policies_version_rules", args=[version.pk])


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
    """What the authoring section renders: the report, the simulate panel and a grid per table."""
    built = report.version
    return {
        "version": version,
        "report": report,
        "grids": grid.grids(built, report.findings, answers) if built is not None else [],
        "questions": built.questions if built is not None else (),
        "rules_url": rules_url(version),
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
    """GET: the row's form (htmx: the row swapped for it; ?show: the row itself). POST: save."""
    if request.method not in ("GET", "HEAD", "POST"):
        return HttpResponseNotAllowed(["GET", "HEAD", "POST"])
    version = _draft_or_refuse(request, model_admin, pk)
    built = _built(version)
    rule = _rule_of(built, key)
    if request.method == "GET" and "show" in request.GET:
        return _row_response(request, version, built, rule.key)
    if not _may_edit(request, model_admin, version):
        return _locked(request, model_admin, version)
    if request.method == "POST":
        form = RuleRowForm(request.POST, version=built, table=rule.table)
        if form.is_valid() and _save_row(form, version, rule.key):
            return _after_write(request, model_admin, version, form.cleaned_data["key"])
    else:
        form = RuleRowForm(initial=RuleRowForm.initial_for(rule), version=built, table=rule.table)
    return _form_response(request, model_admin, version, built, form, rule.table, rule.key)


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
        initial: dict[str, Any] = {"key": _free_key(built, f"{table}-rule")}
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


def situation_view(request: HttpRequest, model_admin: Any, pk: int, key: str) -> HttpResponse:
    """A row's situation: the rules of every table that decide along with it."""
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    version = _draft_or_refuse(request, model_admin, pk)
    built = _built(version)
    _rule_of(built, key)
    found = grid.situation(built, key)
    return TemplateResponse(
        request,
        "admin/policies/policyversion/situation.html",
        {
            **model_admin.admin_site.each_context(request),
            "opts": model_admin.opts,
            "title": f"Situation of rule {key}: {version}",
            "subtitle": None,
            "version": version,
            "situation": found,
            "labels": grid.TABLE_LABELS,
            "tables": [(grid.TABLE_LABELS[t], siblings) for t, siblings in found.tables],
            "rules_url": rules_url(version),
            "change_url": change_url(version),
            "editable": _may_edit(request, model_admin, version),
        },
    )


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


def _free_key(built: engine.Version, stem: str) -> str:
    taken = {rule.key for rule in built.rules}
    n = 1
    while f"{stem}-{n}" in taken:
        n += 1
    return f"{stem}-{n}"


def _duplicate(version: PolicyVersion, built: engine.Version, rule: engine.Rule) -> str:
    source = Rule.objects.get(version=version, key=rule.key)
    clauses = list(source.clauses.all())
    key = _free_key(built, rule.key[:100] + "-copy")
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
) -> HttpResponse:
    action = f"{rules_url(version)}{key}/" if key else f"{rules_url(version)}add/?table={table}"
    context = {
        "version": version,
        "form": form,
        "table": table,
        "table_label": grid.TABLE_LABELS[table],
        "key": key,
        "action": action,
        "columns": len(built.questions) + 5,
        "change_url": change_url(version),
        "show_url": f"{rules_url(version)}{key}/?show=1" if key else "",
        "rules_url": rules_url(version),
        # Without saving the form's changes: these act on the row as it is stored.
        "row_actions": [
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
