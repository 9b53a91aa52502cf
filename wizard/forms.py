"""The one form of the browser flow: the answer to one question, as radios named by its id."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.validators import RegexValidator

from policies import engine

from .models import SAVE_ATTEMPT_LENGTH, Result, new_save_attempt


def _choice_list(question: engine.Question) -> str:
    labels = [choice.label for choice in question.choices]
    if len(labels) < 2:
        return "".join(labels)
    return ", ".join(labels[:-1]) + " or " + labels[-1]


class AnswerForm(forms.Form):
    """The field is named by the question id and its values are the choice ids, so the page posts
    exactly what the JSON API accepts."""

    def __init__(self, question: engine.Question, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.question = question
        self.fields[question.key] = forms.ChoiceField(
            choices=[(choice.key, choice.label) for choice in question.choices],
            widget=forms.RadioSelect,
            error_messages={
                # Short, from the question's data; the choices are right below it on the page.
                "required": question.error or f"Select an answer to “{question.text}”",
                # The posted value is not echoed back: it came from outside the page.
                "invalid_choice": "The answer sent is not one of the options. Select one of: "
                + _choice_list(question)
                + ".",
            },
        )

    @property
    def answer(self) -> str:
        return str(self.cleaned_data[self.question.key])

    @property
    def error(self) -> str | None:
        """The first error of the question's field, for the summary and the inline message."""
        messages = self.errors.get(self.question.key)
        return str(messages[0]) if messages else None

    @property
    def selected(self) -> str | None:
        """The choice to show as checked again: what was posted, if it is a choice."""
        value = self.data.get(self.question.key)
        return value if value in self.question.choice_keys else None


class SaveAttemptForm(forms.Form):
    """A form that saves a result carries a random id, fresh with each page: sent twice (a double
    click without JavaScript, a resent POST after Back), it leads to the result it saved the
    first time instead of saving another (services.result_create)."""

    attempt = forms.CharField(
        required=False,
        widget=forms.HiddenInput,
        validators=[
            RegexValidator(
                rf"^[A-Za-z0-9_-]{{{SAVE_ATTEMPT_LENGTH}}}$",
                message="This form was changed after the page was sent: reload the page and "
                "save again.",
            )
        ],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("attempt", new_save_attempt())

    @property
    def attempt_id(self) -> str | None:
        return self.cleaned_data.get("attempt") or None


class SaveResultForm(SaveAttemptForm):
    """Privacy options for a saved result. Unticked boxes are absent from a POST, hence the
    explicit `required=False`; the expiry defaults to never."""

    outcome_only = forms.BooleanField(required=False)
    expiry = forms.TypedChoiceField(
        coerce=int,
        choices=Result.Expiry.choices,
        initial=Result.Expiry.NEVER,
        required=False,
        empty_value=None,
        error_messages={
            "invalid_choice": "Choose when the link stops working: never, or after 7, 30 or "
            "90 days."
        },
    )

    def __init__(
        self,
        *args: Any,
        slug: str,
        sensitive: tuple[tuple[engine.Question, engine.Choice], ...] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.slug = slug
        # A sensitive answer (the policy's data says which) makes the private choices the
        # defaults: the outcome only, and a link that expires.
        self.sensitive = [
            {"question": question.text, "answer": choice.label} for question, choice in sensitive
        ]
        if sensitive and not self.is_bound:
            self.initial["outcome_only"] = True
            self.initial["expiry"] = Result.Expiry.MONTH

    @property
    def expires_in_days(self) -> int:
        return int(self.cleaned_data["expiry"] or Result.Expiry.NEVER)
