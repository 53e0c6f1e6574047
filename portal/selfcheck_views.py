"""The self-check wizard's pages (/self-check/): no account, answers in the session only, nothing stored."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from enterprises.selectors import enterprise_for_user
from matching import selectors
from matching.engine import Status
from matching.engine.render import wan
from matching.selfcheck import AnswerError
from portal.selfcheck import (
    ANSWERS_SESSION_KEY,
    STEPS,
    Step,
    StepForm,
    Wizard,
    answer_rows,
    initial_values,
    missing_rows,
    result_rows,
    step_by_slug,
)


def _wizard(request: HttpRequest) -> Wizard:
    return Wizard(
        request.session.get(ANSWERS_SESSION_KEY, {}),
        as_of=timezone.localdate(),
        catalog=selectors.catalog(),
        specs=selectors.benefit_specs(),
    )


def _url_of(step: Step | None) -> str:
    return reverse("selfcheck:step", args=[step.slug]) if step else reverse("selfcheck:results")


def start(request: HttpRequest) -> HttpResponse:
    wizard = _wizard(request)
    first = wizard.next_step(None)
    return render(
        request,
        "selfcheck/start.html",
        {
            "steps": STEPS,
            "first_url": _url_of(first),
            "has_answers": bool(wizard.answers),
            "as_of": wizard.as_of,
        },
    )


def step(request: HttpRequest, slug: str) -> HttpResponse:
    current = step_by_slug(slug)
    if current is None:
        raise Http404("no such step")
    wizard = _wizard(request)
    questions = wizard.questions(current)
    if not questions:  # nothing here can matter given the answers so far
        return redirect(_url_of(wizard.next_step(current)))
    if request.method == "POST":
        form = StepForm(request.POST, questions=questions)
        if _save_step(request, wizard, form):
            if request.POST.get("direction") == "back":
                previous = wizard.previous_step(current)
                return redirect(_url_of(previous) if previous else reverse("selfcheck:start"))
            return redirect(_url_of(wizard.next_step(current)))
    else:
        form = StepForm(questions=questions, initial=initial_values(questions, wizard.answers))
    index = STEPS.index(current)
    return render(
        request,
        "selfcheck/step.html",
        {
            "step": current,
            "form": form,
            "number": index + 1,
            "steps": [{"step": s, "state": _state(i, index)} for i, s in enumerate(STEPS)],
            "open_count": len(wizard.evaluate().open_questions),
        },
    )


def _save_step(request: HttpRequest, wizard: Wizard, form: StepForm) -> bool:
    """Store the step's answers in the session; False (errors on the form, nothing stored) when one is bad.
    Every bad answer is reported at once: the form's own checks and the parser's."""
    form.is_valid()
    raw = form.raw_answers()  # adds an error for "以上都没有" ticked together with other boxes
    try:
        answers = wizard.answers_with(form.questions, raw)
    except AnswerError as error:
        form.add_answer_errors(error)
        return False
    if form.errors:
        return False
    request.session[ANSWERS_SESSION_KEY] = wizard.answers = answers  # the next step depends on them
    return True


def _state(index: int, current: int) -> str:
    return "current" if index == current else ("done" if index < current else "todo")


def results(request: HttpRequest) -> HttpResponse:
    wizard = _wizard(request)
    result = wizard.evaluate()
    rows = result_rows(result, wizard.catalog)
    # Not-eligible verdicts have no amount, so they are last in the order anyway; they are folded away.
    refused = [row for row in rows if row["verdict"].status is Status.NOT_ELIGIBLE]
    return render(
        request,
        "selfcheck/results.html",
        {
            "result": result,
            "reachable": [row for row in rows if row not in refused],
            "refused": refused,
            "missing": missing_rows(result, wizard.catalog),
            "answers": answer_rows(wizard.answers, wizard.catalog),
            "counts": result.counts(),
            "total": wan(result.total),
        },
    )


@require_POST
def reset(request: HttpRequest) -> HttpResponse:
    request.session.pop(ANSWERS_SESSION_KEY, None)
    messages.info(request, _("已清除本次测算的全部回答。"))
    return redirect("selfcheck:start")


def register(request: HttpRequest) -> HttpResponse:
    """The hand-over: the answers stay in the session (ANSWERS_SESSION_KEY) through login, for the
    registration or profile-creation flow to turn into the enterprise profile."""
    wizard = _wizard(request)
    enterprise = enterprise_for_user(request.user) if request.user.is_authenticated else None
    return render(
        request,
        "selfcheck/register.html",
        {"answers": answer_rows(wizard.answers, wizard.catalog), "enterprise": enterprise},
    )
