"""Policy records in the Django admin: drafts are edited with inlines, published versions are read.

The full authoring workflow (new draft from a version, publishing with checks) is a later issue;
the model layer already refuses any change to a published version, and this admin shows such
versions read-only so nobody is invited to try.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib import admin
from django.db import models
from django.http import HttpRequest

from .models import Choice, Clause, Outcome, Policy, PolicyVersion, Question, Rule


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
    fields = ["kind", "order", "key", "title", "text", "detail"]


# Source links are web pages; a URL typed without a scheme means https.
URL_FIELDS: Mapping[type[models.Field], Mapping[str, Any]] = {
    models.URLField: {"assume_scheme": "https"}
}


class ClauseInline(LockedWhenPublished, admin.StackedInline):
    model = Clause
    extra = 0
    formfield_overrides = URL_FIELDS
    fields = ["key", "source_title", "url", "source_version", "quote"]


class RuleInline(LockedWhenPublished, admin.StackedInline):
    model = Rule
    extra = 0
    fields = ["key", "priority", "conditions", "outcome", "reason", "clauses"]
    filter_horizontal = ["clauses"]
    show_change_link = True


class VersionInline(admin.TabularInline):
    model = PolicyVersion
    extra = 0
    fields = ["effective_date", "status", "published_at", "notes"]
    readonly_fields = ["effective_date", "status", "published_at", "notes"]
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Policy)
class PolicyAdmin(admin.ModelAdmin):
    list_display = ["title", "slug", "created_at"]
    search_fields = ["title", "slug"]
    inlines = [VersionInline]


@admin.register(PolicyVersion)
class PolicyVersionAdmin(LockedWhenPublished, admin.ModelAdmin):
    list_display = ["__str__", "policy", "effective_date", "status", "published_at"]
    list_filter = ["policy", "status"]
    readonly_fields = ["status", "published_at", "created_at"]
    inlines = [QuestionInline, OutcomeInline, ClauseInline, RuleInline]

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).select_related("policy")


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
    list_display = ["key", "version", "outcome", "priority"]
    list_filter = ["version__policy", "version", "outcome__kind"]
    search_fields = ["key", "reason"]
    filter_horizontal = ["clauses"]

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).select_related("version__policy", "outcome")

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any):
        # Only the outcomes (and clauses) of the rule's own version make sense here.
        rule = self._rule_being_edited(request)
        if db_field.name == "outcome" and rule is not None:
            kwargs["queryset"] = Outcome.objects.filter(version=rule.version)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any):
        rule = self._rule_being_edited(request)
        if db_field.name == "clauses" and rule is not None:
            kwargs["queryset"] = Clause.objects.filter(version=rule.version)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def _rule_being_edited(self, request: HttpRequest) -> Rule | None:
        match = request.resolver_match
        object_id = match.kwargs.get("object_id") if match else None
        if object_id is None:
            return None
        return Rule.objects.filter(pk=object_id).select_related("version").first()


@admin.register(Outcome)
class OutcomeAdmin(LockedWhenPublished, admin.ModelAdmin):
    list_display = ["key", "kind", "title", "version"]
    list_filter = ["version__policy", "version", "kind"]
    search_fields = ["key", "title", "text"]


@admin.register(Clause)
class ClauseAdmin(LockedWhenPublished, admin.ModelAdmin):
    formfield_overrides = URL_FIELDS
    list_display = ["key", "source_title", "source_version", "version"]
    list_filter = ["version__policy", "version"]
    search_fields = ["key", "quote", "source_title"]
