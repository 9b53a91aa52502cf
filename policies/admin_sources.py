"""The admin of sources as data: source documents and their snapshots (paste or upload a new
copy, as `import_snapshot` does), and the drift findings of a policy with "reviewed: reworded,
meaning unchanged" (who and when recorded)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html

from . import catalog, services
from .loading import MAX_SNAPSHOT_BYTES, SeedError, snapshot_text
from .models import DriftReview, Policy, PolicyVersion, Snapshot, SourceDocument


class SnapshotInline(admin.TabularInline):
    model = Snapshot
    extra = 0
    fields = ["date", "sha256", "note", "recorded_by", "recorded_at"]
    readonly_fields = ["date", "sha256", "note", "recorded_by", "recorded_at"]
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # through "Record a snapshot", which checks the text


class SnapshotForm(forms.Form):
    date = forms.DateField(
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="The day the text was seen (YYYY-MM-DD).",
        error_messages={"invalid": "Write the date as YYYY-MM-DD."},
    )
    text = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 12, "cols": 100}),
        strip=False,
        help_text="Paste the page's text exactly as received, or upload it below.",
    )
    file = forms.FileField(required=False, help_text="A UTF-8 text file of the page.")
    note = forms.CharField(required=False, help_text="What changed from the copy before.")
    replace = forms.BooleanField(
        required=False, help_text="Replace the copy already recorded on that date."
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        upload = data.get("file")
        if bool(upload) == bool(data.get("text")):
            raise forms.ValidationError("Paste a text or upload a file (one of them).", code="one")
        if upload:
            if upload.size > MAX_SNAPSHOT_BYTES:
                raise forms.ValidationError("The file is too large for a page.", code="size")
            try:
                data["text"] = snapshot_text(upload.read(), upload.name or "the file")
            except SeedError as exc:
                raise forms.ValidationError(str(exc), code="not_text") from None
        return data


@admin.register(SourceDocument)
class SourceDocumentAdmin(admin.ModelAdmin):
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = ["key", "title", "kind", "url"]
    list_filter = ["kind"]
    search_fields = ["key", "title", "url"]
    inlines = [SnapshotInline]
    readonly_fields = ["record_snapshot"]

    @admin.display(description="New copy")
    def record_snapshot(self, obj: SourceDocument) -> str:
        if obj.pk is None:
            return "Save the document first."
        return format_html(
            '<a href="{}">Record a snapshot (paste or upload)</a>',
            reverse("admin:policies_document_snapshot", args=[obj.pk]),
        )

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        return [
            path(
                "<int:pk>/snapshot/",
                view(self.snapshot_view),
                name="policies_document_snapshot",
            ),
            *super().get_urls(),
        ]

    def snapshot_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if request.method not in ("GET", "HEAD", "POST"):
            return HttpResponseNotAllowed(["GET", "HEAD", "POST"])
        document = get_object_or_404(SourceDocument, pk=pk)
        if not self.has_change_permission(request, document):
            raise PermissionDenied
        form = SnapshotForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                result = services.snapshot_record(
                    document=document,
                    text=data["text"],
                    date=data["date"],
                    by=request.user,
                    note=data["note"],
                    provenance={"admin": "pasted" if not data.get("file") else "uploaded"},
                    replace=data["replace"],
                )
            except services.SnapshotRefused as exc:
                form.add_error(None, str(exc))
            else:
                if result.snapshot is None:
                    self.message_user(
                        request,
                        f"No change: the same page as the copy of {result.unchanged_since}.",
                        messages.INFO,
                    )
                else:
                    self.message_user(
                        request,
                        f"Recorded {document.key} as of {data['date'].isoformat()}.",
                        messages.SUCCESS,
                    )
                return HttpResponseRedirect(
                    reverse("admin:policies_sourcedocument_change", args=[document.pk])
                )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Record a snapshot of {document}",
            "document": document,
            "form": form,
        }
        return TemplateResponse(request, "admin/policies/sourcedocument/snapshot.html", context)


@admin.register(DriftReview)
class DriftReviewAdmin(admin.ModelAdmin):
    list_display = ["version", "clause", "since", "verdict", "reviewed_by", "reviewed_at"]
    list_filter = ["version__policy", "version"]
    readonly_fields = [
        "version",
        "clause",
        "since",
        "verdict",
        "note",
        "reviewed_by",
        "reviewed_at",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # from the policy's drift page, for findings that exist


def drift_view(model_admin: admin.ModelAdmin, request: HttpRequest, pk: int) -> HttpResponse:
    """The drift findings of every published version of a policy; POST marks one reviewed."""
    if request.method not in ("GET", "HEAD", "POST"):
        return HttpResponseNotAllowed(["GET", "HEAD", "POST"])
    policy = get_object_or_404(Policy, pk=pk)
    if not model_admin.has_view_permission(request, policy):
        raise PermissionDenied
    if request.method == "POST" and "draft" in request.POST:
        return _draft_from_finding(model_admin, request, policy)
    if request.method == "POST":
        if not request.user.has_perm("policies.add_driftreview"):
            raise PermissionDenied
        version = get_object_or_404(
            PolicyVersion, policy=policy, pk=request.POST.get("version", "")
        )
        try:
            since = dt.date.fromisoformat(request.POST.get("since", ""))
            services.drift_review(
                version=version,
                clause=request.POST.get("clause", ""),
                since=since,
                note=request.POST.get("note", ""),
                by=request.user,
            )
        except ValueError:
            model_admin.message_user(request, "That finding is not known.", messages.ERROR)
        except services.ReviewRefused as exc:
            model_admin.message_user(request, str(exc), messages.ERROR)
        else:
            model_admin.message_user(request, "Marked reviewed.", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:policies_policy_drift", args=[policy.pk]))
    findings = catalog.drift_findings(policy.slug)
    pks = {
        v.version_id: v.pk for v in PolicyVersion.objects.filter(policy=policy, status="published")
    }
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": f"Drift of the pages {policy} quotes",
        "policy": policy,
        "findings": [(finding, pks.get(finding.version)) for finding in findings],
        "versions_with_findings": [
            (f"{policy.slug} {label}", pks[label], count)
            for label, count in Counter(f.version for f in findings).items()
            if label in pks
        ],
        "may_review": request.user.has_perm("policies.add_driftreview"),
        "may_draft": request.user.has_perm("policies.add_policyversion"),
    }
    return TemplateResponse(request, "admin/policies/policy/drift.html", context)


def _draft_from_finding(
    model_admin: admin.ModelAdmin, request: HttpRequest, policy: Policy
) -> HttpResponse:
    """A new draft copied from the finding's version (or, without a clause named, from all the
    findings of that version) whose checklist holds each affected clause and every rule citing
    it, to review against the page's new text; publishing waits until each is cleared."""
    if not request.user.has_perm("policies.add_policyversion"):
        raise PermissionDenied
    version = get_object_or_404(PolicyVersion, policy=policy, pk=request.POST.get("version", ""))
    found = catalog.drift_findings(policy.slug, version.version_id)
    if request.POST.get("clause"):
        found = [
            f
            for f in found
            if f.clause == request.POST.get("clause")
            and f.since.isoformat() == request.POST.get("since")
        ]
    if not found:
        model_admin.message_user(request, "That finding is not known.", messages.ERROR)
        return HttpResponseRedirect(reverse("admin:policies_policy_drift", args=[policy.pk]))
    draft = services.draft_from_findings(version=version, findings=found, by=request.user)
    items = draft.review_items.count()
    model_admin.message_user(
        request,
        f"Made a new draft from {version} with {items} item{'s' if items != 1 else ''} to "
        f"review ({', '.join(sorted({f.clause for f in found}))} and the rules citing them); "
        "each is cleared when edited or confirmed unchanged.",
        messages.SUCCESS,
    )
    return HttpResponseRedirect(
        reverse("admin:policies_policyversion_change", args=[draft.pk]) + "#review-items"
    )
