"""Policy records in the Django admin: authoring drafts, checking them, publishing them.

Drafts are edited with inlines; published versions are read-only (the model layer refuses any
change to them as well). A version's page shows, on every view and save, the static checks, the
scenarios that test it and the rules no scenario exercises, with its question flow as a picture.
From there an admin makes a new draft from any version, compares two versions (the records that
changed and how many answer sets get another outcome), and publishes a draft: the publish page
asks for the effective date and a note on what changed, shows the impact against the version in
effect, and refuses while a check reports an error or a scenario fails (`services.version_publish`).
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from django import forms
from django.apps import apps
from django.contrib import admin, messages
from django.contrib.admin.widgets import FilteredSelectMultiple
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import QuerySet
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
)
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from django.utils.html import format_html

from . import admin_sources, catalog, diffing, engine, flow, services
from .models import Choice, Clause, Outcome, Policy, PolicyVersion, Question, Rule, Scenario

PUBLISH_PERMISSION = "policies.publish_policyversion"
# Saved results re-evaluated for an impact, newest first; enough to say "about how many".
RESULTS_LIMIT = 20_000


def _is_locked(obj: Any) -> bool:
    version = obj if isinstance(obj, PolicyVersion) else getattr(obj, "version", None)
    if version is None and isinstance(obj, Choice):
        version = obj.question.version
    return version is not None and not version.is_draft


class LockedWhenPublished:
    """Read-only admin (and inlines) for records of a published version."""

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not _is_locked(obj) and super().has_change_permission(request, obj)  # type: ignore[misc]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not _is_locked(obj) and super().has_delete_permission(request, obj)  # type: ignore[misc]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and _is_locked(obj):
            return False
        if isinstance(self, admin.options.InlineModelAdmin):
            return super().has_add_permission(request, obj)  # type: ignore[misc]
        return super().has_add_permission(request)  # type: ignore[misc]


class QuestionInline(LockedWhenPublished, admin.StackedInline):
    model = Question
    extra = 0
    fields = ["order", "key", "text", "help", "shown_when"]
    show_change_link = True


class OutcomeInline(LockedWhenPublished, admin.TabularInline):
    model = Outcome
    extra = 0
    fields = ["table", "order", "key", "title", "text", "detail"]


# Source links are web pages; a URL typed without a scheme means https.
URL_FIELDS: Mapping[type[models.Field], Mapping[str, Any]] = {
    models.URLField: {"assume_scheme": "https"}
}


class ClauseInline(LockedWhenPublished, admin.StackedInline):
    model = Clause
    extra = 0
    formfield_overrides = URL_FIELDS
    fields = [
        "key",
        "source",
        "url",
        "document",
        "source_version",
        "quote",
        "later_statement",
        "later_statement_reason",
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Clause]:
        return super().get_queryset(request).select_related("document")

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        # The documents are read once per page, not once per clause.
        return _with_cached_choices(
            request, super().formfield_for_foreignkey(db_field, request, **kwargs)
        )


def _version_in_url(request: HttpRequest) -> int | None:
    """The id of the version whose page this is (inlines are built without their parent)."""
    match = request.resolver_match
    if match is None or match.url_name != "policies_policyversion_change":
        return None
    object_id = str(match.kwargs.get("object_id", ""))
    return int(object_id) if object_id.isdigit() else None


class RuleForm(forms.ModelForm):
    """A rule and the clauses it cites. The citations are a model of their own (`Citation`, so
    that the lock covers them), which the admin cannot show as a many-to-many field: this form
    field shows them instead, and saving sets them with `rule.clauses.set`."""

    cited_clauses = forms.ModelMultipleChoiceField(
        queryset=Clause.objects.all(),
        required=False,
        label="Clauses",
        help_text="The clauses this rule rests on, all of its own version.",
        widget=FilteredSelectMultiple("clauses", is_stacked=False),
    )

    class Meta:
        model = Rule
        fields = ["key", "priority", "conditions", "outcome", "reason"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["cited_clauses"].initial = list(self.instance.clauses.all())

    def _save_m2m(self) -> None:
        super()._save_m2m()  # type: ignore[misc]  # ModelForm's own, untyped in the stubs
        self.instance.clauses.set(self.cleaned_data["cited_clauses"])


def _clauses_of(request: HttpRequest, form: type[forms.ModelForm], version_id: int | None) -> None:
    """Offer only the clauses of the version, read once per page rather than once per rule."""
    # A copy: the form class made per request shares its declared field with RuleForm.
    field = copy.deepcopy(form.base_fields["cited_clauses"])
    form.base_fields["cited_clauses"] = field
    assert isinstance(field, forms.ModelMultipleChoiceField)
    if version_id is not None:
        field.queryset = Clause.objects.filter(version_id=version_id)
    _with_cached_choices(request, field)


class RuleInline(LockedWhenPublished, admin.StackedInline):
    model = Rule
    form = RuleForm
    extra = 0
    fields = ["key", "priority", "conditions", "outcome", "reason", "cited_clauses"]
    show_change_link = True

    def get_queryset(self, request: HttpRequest) -> QuerySet[Rule]:
        return super().get_queryset(request).select_related("outcome").prefetch_related("clauses")

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        formset = super().get_formset(request, obj, **kwargs)
        _clauses_of(request, formset.form, _version_in_url(request))
        return formset

    # A rule may only produce an outcome and cite clauses of its own version. The choices are
    # read once per page rather than once per rule form.

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        version_id = _version_in_url(request)
        if db_field.name == "outcome" and version_id is not None:
            kwargs["queryset"] = Outcome.objects.filter(version_id=version_id)
        return _with_cached_choices(
            request, super().formfield_for_foreignkey(db_field, request, **kwargs)
        )


def _with_cached_choices(request: HttpRequest, formfield: Any) -> Any:
    if formfield is None or not hasattr(formfield, "queryset"):
        return formfield
    cache: dict[str, list[Any]] = request.__dict__.setdefault("_policy_admin_choices", {})
    key = str(formfield.queryset.query)
    if key not in cache:
        cache[key] = list(formfield.choices)
    formfield.choices = cache[key]
    return formfield


# --- scenarios ------------------------------------------------------------------------------------

_ANSWER = re.compile(r"^\s*([^=\s]+)\s*=\s*([^=\s]+)\s*$")


class AnswersField(forms.Field):
    """Answers written as the checks write their examples, "plan=pro, tool=claude_code", or as
    a JSON object."""

    widget = forms.Textarea(attrs={"rows": 2, "cols": 80})

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, dict):
            return ", ".join(f"{key}={choice}" for key, choice in value.items())
        return value

    def to_python(self, value: Any) -> dict[str, str]:
        text = str(value or "").strip()
        if not text:
            return {}
        if text.startswith("{"):
            try:
                parsed = json.loads(text)
            except ValueError:
                raise ValidationError(
                    "This is not valid JSON; write question=choice pairs separated by commas, "
                    'e.g. "plan=pro, tool=claude_code".',
                    code="invalid_answers",
                ) from None
            if not isinstance(parsed, dict):
                raise ValidationError("Write an object of answers.", code="invalid_answers")
            return parsed
        answers: dict[str, str] = {}
        for part in re.split(r"[,\n]", text):
            if not part.strip():
                continue
            match = _ANSWER.match(part)
            if match is None:
                raise ValidationError(
                    f"“{part.strip()}” is not a question=choice pair, e.g. plan=pro.",
                    code="invalid_answers",
                )
            key, choice = match.groups()
            if key in answers:
                raise ValidationError(f"{key} is answered twice.", code="invalid_answers")
            answers[key] = choice
        return answers


class IdListField(forms.Field):
    """Outcome ids separated by commas or spaces."""

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list):
            return ", ".join(str(v) for v in value)
        return value

    def to_python(self, value: Any) -> list[str]:
        text = str(value or "")
        return [part for part in re.split(r"[\s,]+", text) if part]


class ScenarioForm(forms.ModelForm):
    answers = AnswersField(
        help_text="Question=choice pairs separated by commas, e.g. plan=pro, tool=claude_code "
        "(the examples the checks give can be pasted here)."
    )
    must_include = IdListField(
        required=False,
        help_text="Outcome ids that must appear, separated by commas (any table).",
    )
    must_exclude = IdListField(
        required=False, help_text="Outcome ids that must not appear, separated by commas."
    )

    class Meta:
        model = Scenario
        fields = ["name", "as_of", "answers", "verdict", "must_include", "must_exclude"]


class ScenarioInline(admin.StackedInline):
    model = Scenario
    form = ScenarioForm
    extra = 0
    fields = ["name", "as_of", "answers", "verdict", "must_include", "must_exclude"]


@admin.register(Scenario)
class ScenarioAdmin(admin.ModelAdmin):
    form = ScenarioForm
    list_display = ["name", "policy", "as_of", "verdict"]
    list_filter = ["policy"]
    search_fields = ["name"]
    fields = ["policy", "name", "as_of", "answers", "verdict", "must_include", "must_exclude"]


# --- policies and versions ------------------------------------------------------------------------


class VersionInline(admin.TabularInline):
    model = PolicyVersion
    fk_name = "policy"
    extra = 0
    fields = ["effective_date", "status", "published_at", "published_by", "notes"]
    readonly_fields = ["effective_date", "status", "published_at", "published_by", "notes"]
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Policy)
class PolicyAdmin(admin.ModelAdmin):
    list_display = ["title", "slug", "created_at"]
    search_fields = ["title", "slug"]
    inlines = [VersionInline, ScenarioInline]
    readonly_fields = ["drift"]

    @admin.display(description="Sources")
    def drift(self, obj: Policy) -> str:
        if obj.pk is None:
            return ""
        return format_html(
            '<a href="{}">Drift of the quoted pages, and its review</a>',
            reverse("admin:policies_policy_drift", args=[obj.pk]),
        )

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        return [
            path(
                "<int:pk>/drift/",
                view(lambda request, pk: admin_sources.drift_view(self, request, pk)),
                name="policies_policy_drift",
            ),
            *super().get_urls(),
        ]

    def save_model(self, request: HttpRequest, obj: Policy, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        # The title and slug travel in every VersionRef: every worker must read them afresh.
        catalog.forget_published_versions()
        transaction.on_commit(catalog.forget_published_versions)


class PublishForm(forms.Form):
    effective_date = forms.DateField(
        label="Effective date",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="The day this version takes effect (YYYY-MM-DD). It becomes the version's id.",
        error_messages={
            "required": "Give the day this version takes effect.",
            "invalid": "Write the effective date as YYYY-MM-DD.",
        },
    )
    notes = forms.CharField(
        label="What changed",
        widget=forms.Textarea(attrs={"rows": 4, "cols": 80}),
        help_text="In plain words, for the people who read the version history.",
        error_messages={"required": "Say in a few words what changed in this version."},
    )


@admin.register(PolicyVersion)
class PolicyVersionAdmin(LockedWhenPublished, admin.ModelAdmin):
    list_display = [
        "__str__",
        "policy",
        "effective_date",
        "status",
        "published_at",
        "published_by",
    ]
    list_filter = ["policy", "status"]
    fields = [
        "policy",
        "effective_date",
        "notes",
        "status",
        "based_on",
        "created_at",
        "created_by",
        "published_at",
        "published_by",
    ]
    readonly_fields = [
        "status",
        "based_on",
        "created_at",
        "created_by",
        "published_at",
        "published_by",
    ]
    inlines = [QuestionInline, OutcomeInline, ClauseInline, RuleInline]
    actions = ["new_draft_action"]
    change_form_template = "admin/policies/policyversion/change_form.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet[PolicyVersion]:
        return (
            super()
            .get_queryset(request)
            .select_related("policy", "published_by", "created_by", "based_on__policy")
        )

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/new-draft/", view(self.new_draft_view), name="policies_version_copy"),
            path("<int:pk>/publish/", view(self.publish_view), name="policies_version_publish"),
            path("<int:pk>/compare/", view(self.compare_view), name="policies_version_compare"),
            path("<int:pk>/flow.svg", view(self.flow_view), name="policies_version_flow"),
            *super().get_urls(),
        ]

    # The version's page, and what a save leads to.

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        version = self.get_object(request, object_id)
        context = dict(extra_context or {})
        if version is not None:
            context.update(self._version_context(request, version))
        return super().change_view(request, object_id, form_url, context)

    def _version_context(self, request: HttpRequest, version: PolicyVersion) -> dict[str, Any]:
        # Lazy: a successful save redirects without rendering it (the message reports instead).
        report = SimpleLazyObject(lambda: services.version_report(version=version))
        return {
            "report": report,
            "version": version,
            "may_copy": self.has_add_permission(request),
            "may_publish": version.is_draft and request.user.has_perm(PUBLISH_PERMISSION),
            "flow_url": reverse("admin:policies_version_flow", args=[version.pk]),
            "copy_url": reverse("admin:policies_version_copy", args=[version.pk]),
            "publish_url": reverse("admin:policies_version_publish", args=[version.pk]),
            "compare_url": reverse("admin:policies_version_compare", args=[version.pk]),
        }

    def response_change(self, request: HttpRequest, obj: PolicyVersion) -> HttpResponse:
        # Saving a draft comes back to its page, where the checks and scenarios are shown again.
        if obj.is_draft and "_save" in request.POST:
            self._report_message(request, obj)
            return HttpResponseRedirect(
                reverse("admin:policies_policyversion_change", args=[obj.pk])
            )
        if obj.is_draft:
            self._report_message(request, obj)
        return super().response_change(request, obj)

    def response_add(
        self, request: HttpRequest, obj: PolicyVersion, post_url_continue: str | None = None
    ) -> HttpResponse:
        self._report_message(request, obj)
        return super().response_add(request, obj, post_url_continue)

    def _report_message(self, request: HttpRequest, version: PolicyVersion) -> None:
        report = services.version_report(version=version)
        level = messages.WARNING if report.blocks_publishing else messages.INFO
        self.message_user(request, report.summary(), level)

    # New draft.

    @admin.action(description="New draft from the selected version")
    def new_draft_action(self, request: HttpRequest, queryset: QuerySet[PolicyVersion]) -> Any:
        if queryset.count() != 1:
            self.message_user(
                request, "Select exactly one version to make a draft from.", messages.ERROR
            )
            return None
        return HttpResponseRedirect(
            reverse("admin:policies_version_copy", args=[queryset.get().pk])
        )

    def new_draft_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if request.method not in ("GET", "HEAD", "POST"):
            return HttpResponseNotAllowed(["GET", "HEAD", "POST"])
        version = self._version_or_404(request, pk)
        if not self.has_add_permission(request):
            raise PermissionDenied
        if request.method == "POST":
            draft = services.version_copy(version=version, by=request.user)
            self.message_user(
                request,
                f"Made a new draft from {version}. Give it an effective date when you publish it.",
                messages.SUCCESS,
            )
            return HttpResponseRedirect(
                reverse("admin:policies_policyversion_change", args=[draft.pk])
            )
        counts = {
            "questions": version.questions.count(),
            "outcomes": version.outcomes.count(),
            "clauses": version.clauses.count(),
            "rules": version.rules.count(),
        }
        return TemplateResponse(
            request,
            "admin/policies/policyversion/new_draft.html",
            {**self._page_context(request, version, "New draft"), "counts": counts},
        )

    # Publish.

    def publish_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if request.method not in ("GET", "HEAD", "POST"):
            return HttpResponseNotAllowed(["GET", "HEAD", "POST"])
        version = self._version_or_404(request, pk)
        if not request.user.has_perm(PUBLISH_PERMISSION):
            raise PermissionDenied
        change_url = reverse("admin:policies_policyversion_change", args=[version.pk])
        if not version.is_draft:
            self.message_user(request, f"{version} is already published.", messages.WARNING)
            return HttpResponseRedirect(change_url)
        if request.method == "POST":
            form = PublishForm(request.POST)
            if form.is_valid():
                try:
                    published = services.version_publish(
                        version=version,
                        by=request.user,
                        effective_date=form.cleaned_data["effective_date"],
                        notes=form.cleaned_data["notes"],
                    )
                except services.PublishRefused as refusal:
                    form.add_error(refusal.field, ValidationError(refusal.message, refusal.code))
                else:
                    self.message_user(
                        request,
                        f"Published {published}: it takes effect on {published.version_id}.",
                        messages.SUCCESS,
                    )
                    return HttpResponseRedirect(change_url)
        else:
            form = PublishForm(
                initial={"effective_date": version.effective_date, "notes": version.notes}
            )
        # The scenarios run as if the version took effect on the date in the form.
        day = (
            _date_or_none(request.POST.get("effective_date"))
            if form.is_bound
            else version.effective_date
        )
        report = services.version_report(version=version, effective_date=day)
        in_effect = services.version_in_effect_for(version)
        context = {
            **self._page_context(request, version, "Publish"),
            "form": form,
            "report": report,
            "in_effect": in_effect,
            **_impact_context(in_effect, version, report.version),
        }
        return TemplateResponse(request, "admin/policies/policyversion/publish.html", context)

    # Compare.

    def compare_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if request.method not in ("GET", "HEAD"):
            return HttpResponseNotAllowed(["GET", "HEAD"])
        version = self._version_or_404(request, pk)
        others = list(
            PolicyVersion.objects.filter(policy_id=version.policy_id)
            .exclude(pk=version.pk)
            .select_related("policy")
            .order_by("-effective_date", "-pk")
        )
        chosen = request.GET.get("with")
        other = next((o for o in others if str(o.pk) == chosen), None)
        if other is None:
            other = self._default_comparison(version, others)
        try:
            after: engine.Version | None = _compiled(version)
        except engine.PolicyError:
            after = None
        context = {
            **self._page_context(request, version, "Compare"),
            "others": others,
            "other": other,
            **_impact_context(other, version, after),
        }
        return TemplateResponse(request, "admin/policies/policyversion/compare.html", context)

    def _default_comparison(
        self, version: PolicyVersion, others: list[PolicyVersion]
    ) -> PolicyVersion | None:
        """For a draft, the version people get now; for a published version, the one before."""
        if version.is_draft:
            return services.version_in_effect_for(version) or version.based_on
        earlier = [
            o
            for o in others
            if not o.is_draft
            and o.effective_date is not None
            and version.effective_date is not None
            and o.effective_date < version.effective_date
        ]
        return earlier[0] if earlier else None

    # Flow diagram.

    def flow_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if request.method not in ("GET", "HEAD"):
            return HttpResponseNotAllowed(["GET", "HEAD"])
        version = self._version_or_404(request, pk)
        try:
            svg = flow.flow_svg(_compiled(version), title=f"Question flow: {version}")
        except engine.PolicyError as exc:
            svg = flow.message_svg(f"The flow cannot be drawn: {exc}")
        response = HttpResponse(svg, content_type="image/svg+xml; charset=utf-8")
        # Drafts change with every save; a published version never changes.
        response["Cache-Control"] = "private, no-cache" if version.is_draft else "private"
        return response

    # Helpers.

    def _version_or_404(self, request: HttpRequest, pk: int) -> PolicyVersion:
        version = self.get_queryset(request).filter(pk=pk).first()
        if version is None:
            raise Http404("No such policy version.")
        if not self.has_view_permission(request, version):
            raise PermissionDenied
        return version

    def _page_context(
        self, request: HttpRequest, version: PolicyVersion, title: str
    ) -> dict[str, Any]:
        return {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"{title}: {version}",
            "subtitle": None,
            "version": version,
            "change_url": reverse("admin:policies_policyversion_change", args=[version.pk]),
            "compare_url": reverse("admin:policies_version_compare", args=[version.pk]),
        }


def _compiled(row: PolicyVersion) -> engine.Version:
    return catalog.compiled(catalog.ref(row))


def _date_or_none(value: str | None) -> dt.date | None:
    try:
        return forms.DateField(required=False).clean(value)
    except ValidationError:
        return None


def _impact_context(
    before_row: PolicyVersion | None, after_row: PolicyVersion, after: engine.Version | None
) -> dict[str, Any]:
    """The changes from `before_row` to `after_row` and what they do to answers (reachable answer
    sets and the saved results of the policy)."""
    if before_row is None or after is None:
        return {"changes": None, "impact": None, "results_impact": None}
    try:
        before = _compiled(before_row)
    except engine.PolicyError:
        return {"changes": None, "impact": None, "results_impact": None}
    return {
        "changes": diffing.diff(before, after),
        "impact": diffing.impact(before, after),
        "results_impact": saved_results_impact(after_row.policy, after),
    }


def saved_results_impact(policy: Policy, after: engine.Version) -> diffing.Impact | None:
    """How many live saved results of the policy `after` would decide differently; None when no
    app stores results. Results are read through the app registry so that this app does not
    depend on the one that saves them."""
    try:
        result_model = apps.get_model("wizard", "Result")
    except LookupError:
        return None
    rows = (
        result_model.objects.filter(version__policy=policy, revoked_at__isnull=True)
        .exclude(expires_at__lte=timezone.now())
        .order_by("-created_at")
        .values_list("version_id", "answers")[:RESULTS_LIMIT]
    )
    pairs = list(rows)
    versions = {
        row.pk: _compiled(row)
        for row in PolicyVersion.objects.filter(pk__in={pk for pk, _ in pairs}).select_related(
            "policy"
        )
    }
    return diffing.answers_impact(_answer_pairs(pairs, versions), after)


def _answer_pairs(
    pairs: Iterable[tuple[int, Any]], versions: Mapping[int, engine.Version]
) -> Iterable[tuple[engine.Version, Mapping[str, object]]]:
    for pk, answers in pairs:
        if pk in versions and isinstance(answers, dict):
            yield versions[pk], answers


# --- records of a version -------------------------------------------------------------------------


class ChoiceInline(LockedWhenPublished, admin.TabularInline):
    model = Choice
    extra = 0
    fields = ["order", "key", "label", "help"]


@admin.register(Question)
class QuestionAdmin(LockedWhenPublished, admin.ModelAdmin):
    list_display = ["key", "text", "version", "order"]
    list_filter = ["version__policy", "version"]
    search_fields = ["key", "text"]
    inlines = [ChoiceInline]


@admin.register(Rule)
class RuleAdmin(LockedWhenPublished, admin.ModelAdmin):
    form = RuleForm
    list_display = ["key", "version", "outcome", "priority"]
    list_filter = ["version__policy", "version", "outcome__table"]
    search_fields = ["key", "reason"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Rule]:
        return super().get_queryset(request).select_related("version__policy", "outcome")

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = super().get_form(request, obj, change, **kwargs)
        _clauses_of(request, form, obj.version_id if obj is not None else None)
        return form

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        # Only the outcomes (and clauses) of the rule's own version make sense here.
        rule = self._rule_being_edited(request)
        if db_field.name == "outcome" and rule is not None:
            kwargs["queryset"] = Outcome.objects.filter(version=rule.version)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def _rule_being_edited(self, request: HttpRequest) -> Rule | None:
        match = request.resolver_match
        object_id = match.kwargs.get("object_id") if match else None
        if object_id is None:
            return None
        return Rule.objects.filter(pk=object_id).select_related("version").first()


@admin.register(Outcome)
class OutcomeAdmin(LockedWhenPublished, admin.ModelAdmin):
    list_display = ["key", "table", "title", "version"]
    list_filter = ["version__policy", "version", "table"]
    search_fields = ["key", "title", "text"]


@admin.register(Clause)
class ClauseAdmin(LockedWhenPublished, admin.ModelAdmin):
    formfield_overrides = URL_FIELDS
    list_display = ["key", "source", "source_version", "version"]
    list_filter = ["version__policy", "version"]
    search_fields = ["key", "quote", "source"]
