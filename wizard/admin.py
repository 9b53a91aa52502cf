"""Saved results in the admin: staff can read and revoke them, never edit a snapshot."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from .models import Result


@admin.register(Result)
class ResultAdmin(admin.ModelAdmin):
    list_display = [
        "token",
        "version",
        "verdict",
        "outcome_only",
        "created_at",
        "expires_at",
        "revoked_at",
    ]
    list_filter = ["version__policy", "outcome_only", "revoked_at"]
    search_fields = ["token"]
    readonly_fields = [field.name for field in Result._meta.fields]
    actions = ["revoke_results"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Result]:
        return super().get_queryset(request).select_related("version__policy")

    @admin.display(description="verdict")
    def verdict(self, result: Result) -> str:
        return str(result.snapshot.get("verdict"))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    # A deleted result would turn its link into a 404 that looks like a typo; revoking keeps the
    # row, so the link answers 410 and says it was revoked. No one deletes, one by one or in bulk.
    def has_delete_permission(self, request: HttpRequest, obj: Result | None = None) -> bool:
        return False

    # Revoking changes a result: staff who may only view results do not get the action.
    @admin.action(description="Revoke the selected results", permissions=["change"])
    def revoke_results(self, request: HttpRequest, queryset: QuerySet[Result]) -> None:
        count = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.message_user(request, f"Revoked {count} result(s).", messages.SUCCESS)
