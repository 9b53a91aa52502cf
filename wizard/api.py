"""The JSON API (django-ninja): evaluate answers, describe policies, and the OpenAPI document.

Every bad input gets HTTP 400 (404 for an unknown policy or version) with one shape,
`{"errors": {"<question id or field>": "<message>"}}`, whoever catches it: pydantic (the body's
shape), `policies.catalog` (the answers and `as_of`: InputRefused is 400, LookupFailed 404), this
module (`ApiError`), or the JSON parser. ninja's own 422 shape is replaced by the handlers at the
bottom. The evaluation is `catalog.evaluate` and its JSON `policies.payloads`, shared with the
`evaluate` command, so the API and the CLI cannot drift.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Annotated, Any, Literal

import orjson
from django.core.cache import caches
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from ninja import Field, NinjaAPI, Schema
from ninja.errors import HttpError, ValidationError
from ninja.renderers import BaseRenderer
from ninja.responses import NinjaJSONEncoder
from pydantic import ConfigDict, StrictBool, WithJsonSchema

from policies import catalog, engine
from policies.payloads import decision_payload, with_reviewed_drift

from .models import find_result
from .services import result_create


class ApiError(Exception):
    """An error of the API's own (a save of incomplete answers, an unknown token)."""

    def __init__(self, status: int, errors: dict[str, str]) -> None:
        super().__init__(status)
        self.status = status
        self.errors = errors


class ORJSONRenderer(BaseRenderer):
    """ninja's JSON renderer, with orjson doing the encoding: an evaluation answers with some
    30 KB of JSON (every item quotes its clauses), which the standard library's encoder takes
    about 15 times longer to write. Whatever orjson cannot encode natively goes through ninja's
    own encoder, so the output is the same."""

    media_type = "application/json"

    def render(self, request: HttpRequest, data: Any, *, response_status: int) -> bytes:
        return orjson.dumps(data, default=NinjaJSONEncoder().default)


api = NinjaAPI(
    renderer=ORJSONRenderer(),
    title="Eligibility wizard API",
    version="1",
    description=(
        "Evaluate answers against a published policy version and get the verdict, the "
        "authentication methods, the terms and the compliance steps, each with the clauses it "
        'rests on. Bad input is answered with HTTP 400 and `{"errors": {"<question id or '
        'field>": "<message>"}}`.'
    ),
    urls_namespace="api",
    openapi_url="/openapi.json",
)


# --- schemas --------------------------------------------------------------------------------------

# `answers` and `as_of` are typed loosely on purpose: the engine and `parse_as_of` check them and
# write the messages that name the question and its allowed choices, which pydantic cannot know.
# The OpenAPI document still says what is expected.
AnswersField = Annotated[
    Any,
    WithJsonSchema(
        {
            "type": "object",
            "additionalProperties": {"type": "string"},
            "example": {"<question id>": "<choice id>"},
        }
    ),
]
AsOfField = Annotated[
    Any, WithJsonSchema({"anyOf": [{"type": "string", "format": "date"}, {"type": "null"}]})
]


class EvaluateIn(Schema):
    model_config = ConfigDict(extra="forbid")

    answers: AnswersField = Field(..., description="Question ids mapped to choice ids.")
    as_of: AsOfField = Field(
        None, description="YYYY-MM-DD: use the version in effect on that day (default: today)."
    )
    save: StrictBool = Field(False, description="Store a shareable result.")


# What each body field must be, for the messages of the 400 response.
ALLOWED = {
    "answers": "an object mapping question ids to choice ids",
    "as_of": "a date written YYYY-MM-DD",
    "save": "true or false",
}


class RewordedOut(Schema):
    on: dt.date = Field(..., description="The first copy of the page without the quote.")
    reviewed: bool = Field(..., description="An admin read the new text (always true here).")
    verdict: str = Field(
        ..., description='What the review found, e.g. "reworded, meaning unchanged".'
    )
    note: str = Field(..., description="The reviewer's note: what changed, why the clause holds.")


class ClauseOut(Schema):
    id: str
    quote: str
    url: str
    version: str = Field(..., description="The version or date of the source the quote is from.")
    source: str = Field(..., description="The title of the source.")
    kind: str = Field("quote", description="quote (checked against a stored copy) or reference.")
    later_statement: bool = Field(
        False, description="The quote is from a text dated after the version took effect."
    )
    snapshot_url: str | None = Field(
        None, description="The path of the stored copy quoted (the quote highlighted)."
    )
    reworded: RewordedOut | None = Field(
        None,
        description="The page was reworded after it was quoted and an admin reviewed it; "
        "null otherwise. Looked up when the result is read, not stored with it.",
    )


class ItemOut(Schema):
    id: str
    text: str
    clauses: list[ClauseOut]
    title: str
    detail: str
    reasons: list[str]


class ReasonOut(Schema):
    table: str = Field(..., description="verdict, auth_methods, terms or steps")
    outcome: str
    text: str
    clauses: list[str]


class DecisionOut(Schema):
    policy: str
    version: str = Field(..., description="The id (effective date) of the version applied.")
    complete: bool
    next_question: str | None = Field(
        ..., description="The id of the next question to answer; null when complete."
    )
    verdict: str | None = Field(..., description="null until the answers are complete.")
    auth_methods: list[ItemOut]
    terms: list[ItemOut]
    steps: list[ItemOut]
    reasons: list[ReasonOut]
    ignored: list[str] = Field(
        ..., description="Answered questions that the path through the questions does not reach."
    )
    result_url: str | None
    answers: dict[str, str] = Field(..., description="The answers on the path, in question order.")
    verdict_detail: ItemOut | None
    rules: list[str] = Field(..., description="The rules that fired.")
    revoke_url: str | None = Field(
        None, description='Only when "save" stored a result: the secret link that revokes it.'
    )


class ErrorsOut(Schema):
    errors: dict[str, str] = Field(
        ..., description="Keyed by question id or field name; each message says what is allowed."
    )


class ChoiceOut(Schema):
    id: str
    label: str
    help: str


class QuestionOut(Schema):
    id: str
    text: str
    help: str
    choices: list[ChoiceOut]
    shown_when: list[dict[str, list[str]]] = Field(
        ...,
        description="Asked when any alternative holds; each alternative maps question ids to "
        "allowed choice ids, all of which must hold. Empty means always asked.",
    )


class VersionOut(Schema):
    id: str
    effective_date: dt.date | None
    notes: str


class PolicyOut(Schema):
    slug: str
    title: str
    summary: str
    version: str = Field(..., description="The id of the version described below.")
    status: Literal["draft", "published", "withdrawn"]
    in_effect: str | None = Field(
        ..., description="The id of the version in effect today; null if none has taken effect."
    )
    versions: list[VersionOut] = Field(..., description="Published versions, newest first.")
    questions: list[QuestionOut]
    evaluate_url: str


class PolicySummaryOut(Schema):
    slug: str
    title: str
    summary: str
    in_effect: str | None
    versions: list[str] = Field(..., description="Published version ids, newest first.")
    url: str


# --- endpoints ------------------------------------------------------------------------------------

ERRORS = {400: ErrorsOut, 404: ErrorsOut, 503: ErrorsOut}


@api.post(
    "/policies/{slug}/evaluate",
    response={200: DecisionOut, **ERRORS, 429: ErrorsOut},
    url_name="policy_evaluate",
    summary="Evaluate answers",
)
def evaluate(request: HttpRequest, slug: str, payload: EvaluateIn) -> Any:
    """Incomplete answers are not an error: `complete` is false and `next_question` names the
    question to ask next. Unknown questions or choices, and values of the wrong type, are."""
    evaluation = catalog.evaluate(slug, payload.answers, payload.as_of)
    version, decision = evaluation.version, evaluation.decision
    if not payload.save:
        return _evaluation_response(request, version, decision, payload.answers)
    if not decision.complete:
        assert decision.next_question is not None
        raise ApiError(
            400,
            {
                "save": "Only complete answers can be saved; answer "
                f"{decision.next_question.key!r} first, or send save false."
            },
        )
    saved, secret = result_create(version=version, answers=decision.answers)
    return {
        **with_reviewed_drift(
            decision_payload(
                version,
                decision,
                result_url=request.build_absolute_uri(saved.get_absolute_url()),
            ),
            catalog.reworded(version),
        ),
        # Shown once, to whoever saved it: the only way to revoke the link later.
        "revoke_url": request.build_absolute_uri(
            reverse("results:revoke", args=[saved.token, secret])
        ),
    }


def _evaluation_response(
    request: HttpRequest,
    version: catalog.VersionRef,
    decision: engine.Decision,
    answers: dict[str, str],
) -> HttpResponse:
    """The hot path. decision_payload builds exactly what DecisionOut documents (the fuzz tests
    check responses against the schema), so pydantic need not rebuild it. The same answers on
    the same published version always give the same JSON (`as_of` only picks the version), so
    it is rendered once per process and reused: building and encoding the 5 to 45 KB is most
    of the work of an evaluation."""
    # Keyed on everything the payload shows of the version (its pk alone would outlive a rename),
    # and on its reviewed rewordings, which a review adds to a published version.
    reworded = catalog.reworded(version)
    identity = orjson.dumps([version.pk, version.policy.slug, sorted(answers.items()), reworded])
    key = f"evaluate:{hashlib.md5(identity, usedforsecurity=False).hexdigest()}"
    content = caches["rendered"].get_or_set(
        key,
        lambda: api.renderer.render(
            request,
            with_reviewed_drift(decision_payload(version, decision, result_url=None), reworded),
            response_status=200,
        ),
        timeout=None,
    )
    return HttpResponse(content, content_type=api.get_content_type())


@api.get(
    "/results/{token}",
    response={200: dict[str, Any], 404: ErrorsOut, 410: ErrorsOut},
    url_name="result_show",
    summary="A saved result, exactly as it was saved",
)
def result_show(request: HttpRequest, token: str) -> HttpResponse:
    """The snapshot of a saved result (without the answers when its creator shared the outcome
    only). 404 for an unknown token, 410 once revoked or expired. Never kept by a cache."""
    found = find_result(token)
    if found is None:
        response = _errors(request, {"token": "No saved result has this token."}, 404)
    elif found.is_gone():
        why = "revoked" if found.revoked_at else "expired"
        response = _errors(
            request, {"token": f"This result was {why} and is no longer available."}, 410
        )
    else:
        # As cited when saved, plus the reviewed rewordings known now (see `with_reviewed_drift`).
        reworded = catalog.reworded(found.version_ref)
        snapshot = {
            **with_reviewed_drift(found.public_snapshot, reworded),
            "result_url": request.build_absolute_uri(found.get_absolute_url()),
            # The re-check chain: the result this one re-checked, and its newest re-check.
            **found.links(request.build_absolute_uri),
        }
        response = api.create_response(request, snapshot, status=200)
    response["Cache-Control"] = "private, no-store"
    return response


@api.get(
    "/policies",
    response=list[PolicySummaryOut],
    url_name="policy_list",
    summary="List published policies",
)
def policy_list(request: HttpRequest) -> list[dict[str, Any]]:
    day = catalog.today()
    return [
        {
            "slug": listing.policy.slug,
            "title": listing.policy.title,
            "summary": listing.policy.summary,
            "in_effect": _id(listing.in_effect(day)),
            "versions": [v.version_id for v in listing.versions],
            "url": reverse("api:policy_describe", args=[listing.policy.slug]),
        }
        for listing in catalog.published_policies()
    ]


@api.get(
    "/policies/{slug}",
    response={200: PolicyOut, **ERRORS},
    url_name="policy_describe",
    summary="Describe a policy: its versions and the questions of one version",
)
def policy_describe(request: HttpRequest, slug: str, version: str | None = None) -> dict[str, Any]:
    """Without `version`, the questions are those of the version in effect today (or, before
    any has taken effect, of the first one). `version=YYYY-MM-DD` describes another published
    version; staff may also ask for a draft."""
    listing = catalog.published_policy(slug)
    in_effect = listing.in_effect()
    if version is not None:
        described = _version_asked_for(request, listing, version)
    else:
        # Newest first, so the last one is the first to take effect.
        described = in_effect or listing.versions[-1]
    engine_version = catalog.compiled(described)
    return {
        "slug": listing.policy.slug,
        "title": listing.policy.title,
        "summary": listing.policy.summary,
        "version": described.version_id,
        "status": described.status,
        "in_effect": _id(in_effect),
        "versions": [
            {"id": v.version_id, "effective_date": v.effective_date, "notes": v.notes}
            for v in listing.versions
        ],
        "questions": [_question_payload(q, engine_version) for q in engine_version.questions],
        "evaluate_url": reverse("api:policy_evaluate", args=[listing.policy.slug]),
    }


def _id(version: catalog.VersionRef | None) -> str | None:
    return version.version_id if version is not None else None


def _version_asked_for(
    request: HttpRequest, listing: catalog.PolicyListing, version_id: str
) -> catalog.VersionRef:
    try:
        catalog.parse_date(version_id, "version")
    except catalog.AsOfError as exc:
        raise ApiError(400, {"version": exc.message}) from None
    user = getattr(request, "user", None)
    if user is not None and user.is_staff:
        # Staff preview drafts, which take precedence over a published version of the same date.
        try:
            return catalog.version_by_id(listing.policy.slug, version_id, include_drafts=True)
        except catalog.VersionNotFound:
            pass
    published = next((v for v in listing.versions if v.version_id == version_id), None)
    if published is None:
        raise ApiError(
            404,
            {
                "version": f"{listing.policy.slug} has no published version {version_id}. "
                "Versions are: " + ", ".join(v.version_id for v in listing.versions) + "."
            },
        )
    return published


def _question_payload(question: engine.Question, version: engine.Version) -> dict[str, Any]:
    return {
        "id": question.key,
        "text": question.text,
        "help": question.help,
        "choices": [{"id": c.key, "label": c.label, "help": c.help} for c in question.choices],
        "shown_when": [engine.conditions_in_order(version, alt) for alt in question.shown_when],
    }


# --- errors: one shape for every bad input --------------------------------------------------------


def _errors(request: HttpRequest, errors: dict[str, str], status: int) -> HttpResponse:
    return api.create_response(request, {"errors": catalog.bounded_errors(errors)}, status=status)


@api.exception_handler(ApiError)
def _api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
    return _errors(request, exc.errors, exc.status)


@api.exception_handler(catalog.InputRefused)
def _input_refused(request: HttpRequest, exc: catalog.InputRefused) -> HttpResponse:
    return _errors(request, exc.errors, 400)


@api.exception_handler(catalog.LookupFailed)
def _lookup_failed(request: HttpRequest, exc: catalog.LookupFailed) -> HttpResponse:
    return _errors(request, exc.errors, 404)


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors: dict[str, str] = {}
    for error in exc.errors:
        field, message = _describe_error(error)
        errors.setdefault(field, message)
    return _errors(request, errors, 400)


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    cause = exc.__cause__
    # ninja wraps a body that does not parse in HttpError(400); say what is wrong with it.
    if isinstance(cause, json.JSONDecodeError):
        return _errors(
            request,
            {
                "body": f"The body is not valid JSON ({cause.msg} at line {cause.lineno}, column "
                f"{cause.colno}). {BODY_HINT}"
            },
            400,
        )
    if isinstance(cause, UnicodeDecodeError):
        return _errors(request, {"body": f"The body is not UTF-8 text. {BODY_HINT}"}, 400)
    return _errors(request, {"request": str(exc)}, exc.status_code)


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _errors(request, {"path": "Not found."}, 404)


BODY_HINT = 'Send a JSON object such as {"answers": {"<question id>": "<choice id>"}}.'


def _describe_error(error: dict[str, Any]) -> tuple[str, str]:
    """Turn one pydantic error into (field, message), the message naming what is allowed."""
    loc = tuple(error.get("loc", ()))
    kind = error.get("type", "")
    # ninja puts the body under ("body", "<parameter name>", ...); the rest is the field path.
    path = [str(part) for part in loc[2:]] if loc[:1] == ("body",) else [str(p) for p in loc[1:]]
    if loc[:1] == ("body",) and not path:
        if kind == "missing":
            return "body", f"The body is empty. {BODY_HINT}"
        return "body", f"The body must be a JSON object. {BODY_HINT}"
    field = path[0] if path else str(loc[-1]) if loc else "request"
    if kind == "extra_forbidden":
        return field, (
            f"Unknown field {field!r}. The body may contain: " + ", ".join(ALLOWED) + "."
        )
    allowed = ALLOWED.get(field)
    if kind == "missing":
        return field, f"{field} is required" + (f": {allowed}." if allowed else ".")
    if allowed:
        return field, f"{field} must be {allowed}."
    return field, f"{field}: {error.get('msg', 'is not valid')}."
