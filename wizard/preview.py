"""Staff walk a version (a draft included) in the real wizard, as of any date.

Never public: the preview lives in the staff member's browser (its wizard state says `preview`,
which `progress.load` honours only for staff) and its results are not saved.
"""

from __future__ import annotations

from django import forms
from django.contrib.admin.views.decorators import staff_member_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from policies import catalog, engine

from . import cookie_state
from .rendering import redirect_to_question


class PreviewForm(forms.Form):
    as_of = forms.DateField(
        required=False,
        label="As of",
        help_text="Leave empty to walk this version. With a date, you walk the version people "
        "would get that day if this one were published (a draft counts from its effective date).",
        input_formats=["%Y-%m-%d"],
        error_messages={"invalid": "Write the date as YYYY-MM-DD."},
        widget=forms.DateInput(attrs={"type": "date"}),
    )


@never_cache
@staff_member_required
@require_http_methods(["GET", "HEAD", "POST"])
def preview_start(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    try:
        candidate = catalog.version_by_pk(pk, include_drafts=True)
    except catalog.VersionNotFound:
        raise Http404("No such version.") from None
    if candidate.policy.slug != slug:
        raise Http404("No such version of this policy.")
    form = PreviewForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        try:
            walked = catalog.version_as_of(candidate=candidate, as_of=form.cleaned_data["as_of"])
        except catalog.AsOfError as exc:
            form.add_error("as_of", forms.ValidationError(exc.message, code="not_in_effect"))
        else:
            first = engine.next_question(catalog.compiled(walked), {})
            onwards = redirect_to_question(slug, first, changing=False)
            state = cookie_state.WizardState(walked.pk, preview=True)
            return cookie_state.store(request, onwards, slug, state)
    return render(
        request,
        "policies/preview_start.html",
        {"policy": candidate.policy, "version": candidate, "form": form, "preview": True},
        status=400 if form.errors else 200,
    )
