"""Policy records in the Django admin: authoring drafts, checking them, publishing them.

A version's page holds its own fields, its questions and scenarios, then the static checks and
scenario results, a simulate panel and a grid per decision table, whose rows are edited one at a
time (`admin_grid.py`); published and withdrawn versions are read-only (the model layer refuses
any change to them as well). From there an admin makes a new draft from any version, compares
two versions (old and new values, and how many answer sets get another outcome), publishes a
draft (effective date and a note, the impact against the version in effect, refused while a
check reports an error or a scenario fails, and a date in the past of the version in effect only
when confirmed), and withdraws a mistaken publish. The record pages (questions, outcomes,
clauses, rules, scenarios) offer only drafts, and report refusals as messages.
"""

from __future__ import annotations

import contextlib
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
from django.core.paginator import Paginator
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

from . import admin_grid, admin_sources, admin_table_csv, catalog, diffing, engine, flow, services
from .models import (
    Choice,
    Clause,
    Outcome,
    Policy,
    PolicyVersion,
    Question,
    Rule,
    Scenario,
    VersionLockedError,
)

PUBLISH_PERMISSION = "policies.publish_policyversion"
# Changed answer sets listed per page on the compare page.
COMPARE_PAGE_SIZE = 50
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


class VersionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return obj.label()


class OutcomeChoiceField(forms.ModelChoiceField):
    """Outcomes named with their table, and with their version while none is chosen."""

    def __init__(self, *args: Any, one_version: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.one_version = one_version

    def label_from_instance(self, obj: Any) -> str:
        label = f"{obj.key}: {obj.title} ({obj.get_table_display()})"
        return label if self.one_version else f"{obj.version.label()} · {label}"


def _drafts() -> QuerySet[PolicyVersion]:
    return PolicyVersion.objects.filter(status=PolicyVersion.Status.DRAFT).select_related(
        "policy", "based_on"
    )


def _chosen_version(request: HttpRequest, obj: Any = None) -> int | None:
    """The version a record's form is about: the record's own, else the one posted or asked for
    (`?version=` on an add page, as the version page's links give it)."""
    if obj is not None and getattr(obj, "version_id", None) is not None:
        return int(obj.version_id)
    value = request.POST.get("version") or request.GET.get("version")
    return int(value) if value and str(value).isdigit() else None


class RecordOfDraft(LockedWhenPublished):
    """The add and change pages of a version's records: only drafts may be chosen as the version,
    a write to a published record is a message rather than a 403, and a lock error that slips
    past the form (a version published meanwhile) is a message rather than a 500."""

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "version":
            kwargs["queryset"] = _drafts()
            kwargs["form_class"] = VersionChoiceField
            kwargs.setdefault(
                "help_text", "Only drafts can be changed; published versions are frozen."
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)  # type: ignore[misc]

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        if request.method == "POST" and object_id is not None:
            obj = self.get_object(request, object_id)  # type: ignore[attr-defined]
            if obj is not None and _is_locked(obj):
                return self._refused(request, VersionLockedError())
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)  # type: ignore[misc]
        except VersionLockedError as error:
            return self._refused(request, error)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)  # type: ignore[misc]
        # A clause or rule edited on its own page clears its item of the draft's checklist.
        version = form.instance.owning_version()
        if version is not None and version.is_draft:
            with contextlib.suppress(engine.PolicyError):
                services.review_items_sync(version=version, by=request.user)

    def _refused(self, request: HttpRequest, error: ValidationError) -> HttpResponse:
        self.message_user(request, " ".join(error.messages), messages.ERROR)  # type: ignore[attr-defined]
        return HttpResponseRedirect(request.get_full_path())


class QuestionInline(LockedWhenPublished, admin.StackedInline):
    model = Question
    extra = 0
    fields = ["order", "key", "text", "help", "error", "actionable", "change_cost", "shown_when"]
    show_change_link = True


# Source links are web pages; a URL typed without a scheme means https.
URL_FIELDS: Mapping[type[models.Field], Mapping[str, Any]] = {
    models.URLField: {"assume_scheme": "https"}
}


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

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        version = cleaned.get("version") or (
            self.instance.version if self.instance.version_id else None
        )
        others = (
            [c.key for c in cleaned.get("cited_clauses") or () if c.version_id != version.pk]
            if version
            else []
        )
        if others:
            self.add_error(
                "cited_clauses",
                ValidationError(
                    f"Cite clauses of this rule's own version; {', '.join(others)} belong to "
                    "another.",
                    code="other_version",
                ),
            )
        return cleaned

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
        fields = ["version", "name", "as_of", "answers", "verdict", "must_include", "must_exclude"]

    def _post_clean(self) -> None:
        super()._post_clean()  # type: ignore[misc]  # ModelForm's, missing from the stubs
        # A version published since the page was shown: the lock's refusal is the form's error,
        # shown with the input kept, rather than a 500 when the admin saves.
        try:
            self.instance.check_unlocked()
        except VersionLockedError as error:
            self.add_error(None, error)


class ScenarioInline(admin.StackedInline):
    """The policy's own scenarios (those of no version); a version's are on its page."""

    model = Scenario
    form = ScenarioForm
    extra = 0
    fields = ["name", "as_of", "answers", "verdict", "must_include", "must_exclude"]
    verbose_name_plural = "scenarios of the policy (tested on the versions their date picks)"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Scenario]:
        return super().get_queryset(request).filter(version__isnull=True)


class VersionScenarioInline(LockedWhenPublished, admin.StackedInline):
    """A version's own scenarios: they test this version alone, and a new draft gets copies."""

    model = Scenario
    fk_name = "version"
    form = ScenarioForm
    extra = 0
    fields = ["name", "answers", "verdict", "must_include", "must_exclude"]
    verbose_name_plural = "scenarios of this version"


@admin.register(Scenario)
class ScenarioAdmin(RecordOfDraft, admin.ModelAdmin):
    form = ScenarioForm
    list_display = ["name", "policy", "version", "as_of", "verdict"]
    list_filter = ["policy", "version"]
    search_fields = ["name"]
    fields = [
        "policy",
        "version",
        "name",
        "as_of",
        "answers",
        "verdict",
        "must_include",
        "must_exclude",
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Scenario]:
        return super().get_queryset(request).select_related("policy", "version__policy")


# --- policies and versions ------------------------------------------------------------------------


class VersionInline(admin.TabularInline):
    model = PolicyVersion
    fk_name = "policy"
    extra = 0
    fields = ["effective_date", "status", "published_at", "published_by", "notes"]
    readonly_fields = ["effective_date", "status", "published_at", "published_by", "notes"]
    ordering = ["-effective_date", "-pk"]
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class PolicyForm(forms.ModelForm):
    class Meta:
        model = Policy
        fields = ["slug", "title", "summary"]

    def clean_slug(self) -> str:
        slug = self.cleaned_data["slug"]
        # Another policy's old slug still leads to it: taking it would turn its old links.
        refusal = services.slug_refusal(slug, policy=self.instance if self.instance.pk else None)
        if refusal is not None and refusal.code == "slug_was_taken":
            raise ValidationError(refusal.message, code=refusal.code)
        return slug


class RenameForm(forms.Form):
    slug = forms.SlugField(
        label="New slug",
        max_length=50,
        help_text="Lower-case letters, digits and hyphens, e.g. claude-code. The old slug's "
        "URLs (wizard, API, history, sources, feed) redirect to the new one for good.",
        error_messages={
            "required": "Give the new slug.",
            "invalid": "A slug is letters, digits, hyphens or underscores, e.g. claude-code.",
        },
    )


@admin.register(Policy)
class PolicyAdmin(admin.ModelAdmin):
    form = PolicyForm
    list_display = ["title", "slug", "created_at"]
    search_fields = ["title", "slug"]
    inlines = [VersionInline, ScenarioInline]
    readonly_fields = ["drift", "how_to_change", "old_slugs"]

    @admin.display(description="Sources")
    def drift(self, obj: Policy) -> str:
        if obj.pk is None:
            return ""
        return format_html(
            '<a href="{}">Drift of the quoted pages, and its review</a>',
            reverse("admin:policies_policy_drift", args=[obj.pk]),
        )

    @admin.display(description="Changing them")
    def how_to_change(self, obj: Policy) -> str:
        return (
            "The title and summary change through a draft: edit them on a draft's page, and "
            "they become what people see when that version is in effect (each published "
            "version keeps its own). These are the newest published version's."
        )

    @admin.display(description="Earlier slugs")
    def old_slugs(self, obj: Policy) -> str:
        slugs = [row.slug for row in obj.previous_slugs.all()] if obj.pk else []
        shown = ", ".join(slugs) or "none"
        if obj.pk is None:
            return shown
        return format_html(
            '{} · <a href="{}">Rename the slug</a> (with the publish permission; the old one '
            "keeps redirecting)",
            shown,
            reverse("admin:policies_policy_rename", args=[obj.pk]),
        )

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        return [
            path(
                "<int:pk>/drift/",
                view(lambda request, pk: admin_sources.drift_view(self, request, pk)),
                name="policies_policy_drift",
            ),
            path("<int:pk>/rename/", view(self.rename_view), name="policies_policy_rename"),
            *super().get_urls(),
        ]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = ["slug", "title", "summary"]
        if obj is None:
            return fields
        if obj.versions.exists():
            fields.append("how_to_change")
        return [*fields, "old_slugs", "drift"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        """The policy's own fields are published too: the title and summary change through a
        version (a draft carries them) once there is one, and the slug (in every wizard URL,
        API client and saved link) changes on the change page only while nothing is
        published; after that only through the rename page, which keeps the old one."""
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is None:
            return readonly
        if obj.versions.exists():
            readonly += ["title", "summary"]
        if obj.versions.exclude(status=PolicyVersion.Status.DRAFT).exists():
            readonly.append("slug")
        return readonly

    def save_model(self, request: HttpRequest, obj: Policy, form: Any, change: bool) -> None:
        renamed_to = obj.slug if change and "slug" in form.changed_data else None
        if renamed_to is not None:
            obj.slug = form.initial["slug"]  # the rename below records the old one
        super().save_model(request, obj, form, change)
        if renamed_to is not None:
            try:
                services.policy_rename(policy=obj, slug=renamed_to, by=request.user)
            except services.RenameRefused as refusal:  # taken meanwhile
                self.message_user(request, refusal.message, messages.ERROR)
        # The title and slug travel in every VersionRef: every worker must read them afresh.
        catalog.forget_published_versions()
        transaction.on_commit(catalog.forget_published_versions)

    def rename_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """A deliberate rename of a published policy's slug, with the publish permission: the
        old slug is kept and its URLs redirect (301, or 308 for a POST) to the new one."""
        if request.method not in ("GET", "HEAD", "POST"):
            return HttpResponseNotAllowed(["GET", "HEAD", "POST"])
        policy = Policy.objects.filter(pk=pk).first()
        if policy is None:
            raise Http404("No such policy.")
        if not (
            self.has_change_permission(request, policy)
            and request.user.has_perm(PUBLISH_PERMISSION)
        ):
            raise PermissionDenied
        change_url = reverse("admin:policies_policy_change", args=[policy.pk])
        form = RenameForm(request.POST or None, initial={"slug": policy.slug})
        if request.method == "POST" and form.is_valid():
            old = policy.slug
            try:
                services.policy_rename(
                    policy=policy, slug=form.cleaned_data["slug"], by=request.user
                )
            except services.RenameRefused as refusal:
                form.add_error("slug", ValidationError(refusal.message, code=refusal.code))
            else:
                self.message_user(
                    request,
                    f"Renamed {old} to {policy.slug}; the old URLs redirect to the new ones.",
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(change_url)
        return TemplateResponse(
            request,
            "admin/policies/policy/rename.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": f"Rename the slug of {policy}",
                "policy": policy,
                "form": form,
                "change_url": change_url,
                "previous": [row.slug for row in policy.previous_slugs.all()],
            },
        )


class PublishForm(forms.Form):
    effective_date = forms.DateField(
        label="Effective date",
        # A date picker; its value, and what a browser without one shows, is YYYY-MM-DD.
        widget=forms.DateInput(
            attrs={"type": "date", "placeholder": "YYYY-MM-DD", "pattern": r"\d{4}-\d{2}-\d{2}"},
            format="%Y-%m-%d",
        ),
        input_formats=["%Y-%m-%d"],
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
    confirm_past = forms.BooleanField(
        required=False,
        label="Publish into the past",
        help_text="Tick to publish on a date not later than the version in effect's, knowing "
        "what it does (above).",
    )


class WithdrawForm(forms.Form):
    because = forms.CharField(
        label="Why",
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
        help_text="Why this version is withdrawn, for the version history.",
        error_messages={"required": "Say in a few words why this version is withdrawn."},
    )


@admin.register(PolicyVersion)
class PolicyVersionAdmin(LockedWhenPublished, admin.ModelAdmin):
    list_display = [
        "version_label",
        "policy",
        "effective_date",
        "status_in_effect",
        "published_at",
        "published_by",
    ]
    list_filter = ["policy", "status"]
    fields = [
        "policy",
        "effective_date",
        "notes",
        "title",
        "summary",
        "status",
        "based_on",
        "created_at",
        "created_by",
        "published_at",
        "published_by",
        "withdrawn_at",
        "withdrawn_by",
        "withdrawn_because",
    ]
    readonly_fields = [
        "status",
        "based_on",
        "created_at",
        "created_by",
        "published_at",
        "published_by",
        "withdrawn_at",
        "withdrawn_by",
        "withdrawn_because",
    ]
    # The rules are edited in the grid, a row at a time, and outcomes and clauses on their own
    # pages: as inlines, the seed's draft posted 1,501 fields in 1.6 MB of HTML.
    inlines = [QuestionInline, VersionScenarioInline]
    actions = ["new_draft_action"]
    change_form_template = "admin/policies/policyversion/change_form.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet[PolicyVersion]:
        return (
            super()
            .get_queryset(request)
            .select_related("policy", "published_by", "created_by", "based_on__policy")
        )

    @admin.display(description="version", ordering="effective_date")
    def version_label(self, obj: PolicyVersion) -> str:
        return obj.label()

    @admin.display(description="status", ordering="status")
    def status_in_effect(self, obj: PolicyVersion) -> str:
        """The status, and for the version people get today, "in effect" (the catalog's rule)."""
        if obj.status != PolicyVersion.Status.PUBLISHED:
            return obj.get_status_display()
        try:
            current = catalog.published_policy(obj.policy.slug).in_effect()
        except catalog.LookupFailed:  # published in another process a moment ago
            current = None
        return "Published · in effect" if current and current.pk == obj.pk else "Published"

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/new-draft/", view(self.new_draft_view), name="policies_version_copy"),
            path("<int:pk>/publish/", view(self.publish_view), name="policies_version_publish"),
            path("<int:pk>/withdraw/", view(self.withdraw_view), name="policies_version_withdraw"),
            path("<int:pk>/compare/", view(self.compare_view), name="policies_version_compare"),
            path("<int:pk>/flow.svg", view(self.flow_view), name="policies_version_flow"),
            path(
                "<int:pk>/review/confirm/",
                view(self.review_confirm_view),
                name="policies_review_confirm",
            ),
            path("<int:pk>/rules/", view(self.rules_view), name="policies_version_rules"),
            path("<int:pk>/rules/add/", view(self.rule_add_view), name="policies_version_rule_add"),
            path(
                "<int:pk>/rules/action/", view(self.rule_action_view), name="policies_rule_action"
            ),
            path("<int:pk>/rules/simulate/", view(self.simulate_view), name="policies_simulate"),
            path(
                "<int:pk>/rules/save-scenario/",
                view(self.save_scenario_view),
                name="policies_save_scenario",
            ),
            path(
                "<int:pk>/tables/<str:table>.csv",
                view(self.table_export_view),
                name="policies_table_export",
            ),
            path(
                "<int:pk>/tables/<str:table>/import/",
                view(self.table_import_view),
                name="policies_table_import",
            ),
            path("<int:pk>/rules/<str:key>/", view(self.rule_row_view), name="policies_rule_row"),
            path(
                "<int:pk>/rules/<str:key>/situation/",
                view(self.situation_view),
                name="policies_rule_situation",
            ),
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
        authoring = SimpleLazyObject(
            lambda: admin_grid.authoring_context(
                version,
                report,  # type: ignore[arg-type]  # the lazy object stands for the report
                editable=bool(self.has_change_permission(request, version)),
                answers=admin_grid.simulated_answers(request),
            )
        )
        return {
            "report": report,
            "change_url": reverse("admin:policies_policyversion_change", args=[version.pk]),
            "grids": SimpleLazyObject(lambda: authoring["grids"]),
            "review_items": SimpleLazyObject(lambda: authoring["review_items"]),
            "review_open": SimpleLazyObject(lambda: authoring["review_open"]),
            "review_rule_keys": SimpleLazyObject(lambda: authoring["review_rule_keys"]),
            "review_clause_keys": SimpleLazyObject(lambda: authoring["review_clause_keys"]),
            "review_confirm_url": reverse("admin:policies_review_confirm", args=[version.pk]),
            "questions": SimpleLazyObject(lambda: authoring["questions"]),
            "rules_url": admin_grid.rules_url(version),
            "tables_url": admin_grid.tables_url(version),
            "editable": SimpleLazyObject(lambda: authoring["editable"]),
            "sim": SimpleLazyObject(lambda: authoring["sim"]),
            "simulate_url": reverse("admin:policies_simulate", args=[version.pk]),
            "save_scenario_url": reverse("admin:policies_save_scenario", args=[version.pk]),
            "outcome_rows": SimpleLazyObject(
                lambda: list(
                    Outcome.objects.filter(version=version).values("pk", "table", "key", "title")
                )
            ),
            "clause_rows": SimpleLazyObject(
                lambda: list(
                    Clause.objects.filter(version=version).values(
                        "pk", "key", "source", "source_version"
                    )
                )
            ),
            "version": version,
            "may_copy": self.has_add_permission(request),
            "may_publish": version.is_draft and request.user.has_perm(PUBLISH_PERMISSION),
            "may_withdraw": version.status == PolicyVersion.Status.PUBLISHED
            and request.user.has_perm(PUBLISH_PERMISSION),
            "withdraw_url": reverse("admin:policies_version_withdraw", args=[version.pk]),
            "flow_url": reverse("admin:policies_version_flow", args=[version.pk]),
            "copy_url": reverse("admin:policies_version_copy", args=[version.pk]),
            "publish_url": reverse("admin:policies_version_publish", args=[version.pk]),
            "compare_url": reverse("admin:policies_version_compare", args=[version.pk]),
        }

    def save_model(self, request: HttpRequest, obj: PolicyVersion, form: Any, change: bool) -> None:
        if not change and not obj.title:  # a new version starts as the policy reads now
            obj.title, obj.summary = obj.policy.title, obj.summary or obj.policy.summary
        super().save_model(request, obj, form, change)

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
        if report.version is not None:
            services.review_items_sync(version=version, by=request.user, built=report.version)
        level = messages.WARNING if report.blocks_publishing else messages.INFO
        self.message_user(request, report.summary(), level)

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        version = self.get_object(request, object_id)
        events: list[tuple[Any, Any, str]] = []
        if version is not None and version.published_at is not None:
            events.append(
                (
                    version.published_at,
                    version.published_by,
                    f"Published: takes effect on {version.version_id}. {version.notes}",
                )
            )
        if version is not None and version.withdrawn_at is not None:
            events.append(
                (
                    version.withdrawn_at,
                    version.withdrawn_by,
                    f"Withdrawn: {version.withdrawn_because}",
                )
            )
        context = {**(extra_context or {}), "version_events": events}
        return super().history_view(request, object_id, context)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        # A version's new scenarios belong to its policy too.
        for inline_form in formset.forms:
            if (
                isinstance(inline_form.instance, Scenario)
                and inline_form.instance.policy_id is None
            ):
                inline_form.instance.policy_id = form.instance.policy_id
        super().save_formset(request, form, formset, change)

    # The grid's rows (policies/admin_grid.py).

    def rules_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        return HttpResponseRedirect(
            reverse("admin:policies_policyversion_change", args=[pk]) + "#table-verdict"
        )

    def review_confirm_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        return admin_grid.review_confirm_view(request, self, pk)

    def situation_view(self, request: HttpRequest, pk: int, key: str) -> HttpResponse:
        return admin_grid.situation_view(request, self, pk, key)

    def simulate_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        return admin_grid.simulate_view(request, self, pk)

    def save_scenario_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        return admin_grid.save_scenario_view(request, self, pk)

    def rule_add_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        return admin_grid.add_view(request, self, pk)

    def rule_row_view(self, request: HttpRequest, pk: int, key: str) -> HttpResponse:
        return admin_grid.row_view(request, self, pk, key)

    def rule_action_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        return admin_grid.action_view(request, self, pk)

    # A table as CSV (policies/admin_table_csv.py).

    def table_export_view(self, request: HttpRequest, pk: int, table: str) -> HttpResponse:
        return admin_table_csv.export_view(request, self, pk, table)

    def table_import_view(self, request: HttpRequest, pk: int, table: str) -> HttpResponse:
        return admin_table_csv.import_view(request, self, pk, table)

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
        # The scenarios run as if the version took effect on the date in the form.
        day = (
            _date_or_none(request.POST.get("effective_date"))
            if request.method == "POST"
            else version.effective_date
        )
        past = services.past_effect(version, day) if day is not None else None
        if request.method == "POST":
            form = PublishForm(request.POST)
            if past is None:
                del form.fields["confirm_past"]
            if form.is_valid():
                try:
                    published = services.version_publish(
                        version=version,
                        by=request.user,
                        effective_date=form.cleaned_data["effective_date"],
                        notes=form.cleaned_data["notes"],
                        past_confirmed=bool(form.cleaned_data.get("confirm_past")),
                    )
                except services.PublishRefused as refusal:
                    form.add_error(refusal.field, ValidationError(refusal.message, refusal.code))
                else:
                    self.log_change(
                        request,
                        published,
                        f"Published: takes effect on {published.version_id}. {published.notes}",
                    )
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
            if past is None:
                del form.fields["confirm_past"]
        report = services.version_report(version=version, effective_date=day)
        in_effect = services.version_in_effect_for(version)
        context = {
            **self._page_context(request, version, "Publish"),
            "form": form,
            "report": report,
            "in_effect": in_effect,
            "past": past,
            "past_impact": _past_impact(past, report.version),
            **_impact_context(in_effect, version, report.version),
        }
        return TemplateResponse(request, "admin/policies/policyversion/publish.html", context)

    # Withdraw.

    def withdraw_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if request.method not in ("GET", "HEAD", "POST"):
            return HttpResponseNotAllowed(["GET", "HEAD", "POST"])
        version = self._version_or_404(request, pk)
        if not request.user.has_perm(PUBLISH_PERMISSION):
            raise PermissionDenied
        change_url = reverse("admin:policies_policyversion_change", args=[version.pk])
        if version.status != PolicyVersion.Status.PUBLISHED:
            self.message_user(request, f"{version} is not published.", messages.WARNING)
            return HttpResponseRedirect(change_url)
        form = WithdrawForm(request.POST if request.method == "POST" else None)
        if form.is_bound and form.is_valid():
            try:
                withdrawn = services.version_withdraw(
                    version=version, by=request.user, because=form.cleaned_data["because"]
                )
            except services.PublishRefused as refusal:
                form.add_error(None, ValidationError(refusal.message, refusal.code))
            else:
                self.log_change(request, withdrawn, f"Withdrawn: {withdrawn.withdrawn_because}")
                self.message_user(
                    request,
                    f"Withdrew {withdrawn}: it no longer applies on any day. Results saved "
                    "with it keep working.",
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(change_url)
        others = [
            v
            for v in PolicyVersion.objects.filter(
                policy_id=version.policy_id, status=PolicyVersion.Status.PUBLISHED
            )
            .exclude(pk=version.pk)
            .select_related("policy")
        ]
        instead = engine.in_effect(
            others,
            version.effective_date or catalog.today(),
            effective_date=lambda row: row.effective_date,
        )
        context = {
            **self._page_context(request, version, "Withdraw"),
            "form": form,
            "instead": instead,
        }
        return TemplateResponse(request, "admin/policies/policyversion/withdraw.html", context)

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
        impact = _impact_context(other, version, after, every=True)
        differences = impact["impact"].differences if impact["impact"] else ()
        page = Paginator(differences, COMPARE_PAGE_SIZE).get_page(request.GET.get("page"))
        context = {
            **self._page_context(request, version, "Compare"),
            "others": others,
            "other": other,
            "differences": page,
            **impact,
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


def _past_impact(
    past: services.PastEffect | None, after: engine.Version | None
) -> diffing.Impact | None:
    """Over the past days a version would take: how its answers differ from what applied."""
    if past is None or past.replaces is None or after is None:
        return None
    try:
        return diffing.impact(_compiled(past.replaces), after)
    except engine.PolicyError:
        return None


def _date_or_none(value: str | None) -> dt.date | None:
    try:
        return forms.DateField(required=False).clean(value)
    except ValidationError:
        return None


def _impact_context(
    before_row: PolicyVersion | None,
    after_row: PolicyVersion,
    after: engine.Version | None,
    *,
    every: bool = False,
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
        "impact": diffing.impact(before, after, every=every),
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
    fields = ["order", "key", "label", "help", "sensitive"]


@admin.register(Question)
class QuestionAdmin(RecordOfDraft, admin.ModelAdmin):
    list_display = ["key", "text", "version", "order"]
    list_filter = ["version__policy", "version"]
    search_fields = ["key", "text"]
    inlines = [ChoiceInline]


@admin.register(Rule)
class RuleAdmin(RecordOfDraft, admin.ModelAdmin):
    form = RuleForm
    list_display = ["key", "version", "outcome", "priority"]
    fields = ["version", "key", "priority", "conditions", "outcome", "reason", "cited_clauses"]
    list_filter = ["version__policy", "version", "outcome__table"]
    search_fields = ["key", "reason"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Rule]:
        return super().get_queryset(request).select_related("version__policy", "outcome")

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        request.__dict__["_policy_admin_rule"] = obj
        form = super().get_form(request, obj, change, **kwargs)
        version_id = _chosen_version(request, obj)
        _clauses_of(request, form, version_id)
        if version_id is None:  # nothing chosen yet: the clauses of drafts, named with theirs
            field = form.base_fields["cited_clauses"]
            assert isinstance(field, forms.ModelMultipleChoiceField)
            field.queryset = Clause.objects.filter(
                version__status=PolicyVersion.Status.DRAFT
            ).select_related("version__policy", "version__based_on")
            field.label_from_instance = lambda c: f"{c.version.label()} · {c.key}"  # type: ignore[method-assign,assignment]
            field.widget.choices = field.choices
        return form

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        # Only the outcomes (and clauses) of the rule's own version make sense here; before a
        # version is chosen, those of drafts, each named with its version.
        if db_field.name == "outcome":
            version_id = _chosen_version(request, request.__dict__.get("_policy_admin_rule"))
            if version_id is not None:
                kwargs["queryset"] = Outcome.objects.filter(version_id=version_id)
            else:
                kwargs["queryset"] = Outcome.objects.filter(
                    version__status=PolicyVersion.Status.DRAFT
                ).select_related("version__policy", "version__based_on")
            kwargs["form_class"] = OutcomeChoiceField
            kwargs["one_version"] = version_id is not None
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Outcome)
class OutcomeAdmin(RecordOfDraft, admin.ModelAdmin):
    list_display = ["key", "table", "title", "version"]
    list_filter = ["version__policy", "version", "table"]
    search_fields = ["key", "title", "text"]


@admin.register(Clause)
class ClauseAdmin(RecordOfDraft, admin.ModelAdmin):
    formfield_overrides = URL_FIELDS
    list_display = ["key", "source", "source_version", "version"]
    list_filter = ["version__policy", "version"]
    search_fields = ["key", "quote", "source"]
