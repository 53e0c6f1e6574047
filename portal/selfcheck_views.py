"""The self-check wizard's pages (/self-check/): no account, answers in the session only, nothing stored."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from enterprises.selectors import enterprise_for_user
from matching import selectors
from matching.engine import Status
from matching.selfcheck import AnswerError
from policies.i18n import display_lang
from policies.money import wan
from portal import selfcheck_registration as registration
from portal.selfcheck import (
    ANSWERS_SESSION_KEY,
    STEPS,
    Step,
    StepForm,
    Wizard,
    answer_rows,
    initial_values,
    missing_rows,
    question_groups,
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
    # the questions under headings: about the enterprise as a whole, or about one project
    groups = [
        {"group": group, "fields": [form[code] for code in group.codes]}
        for group in question_groups(questions)
    ]
    return render(
        request,
        "selfcheck/step.html",
        {
            "step": current,
            "form": form,
            "groups": groups,
            "number": index + 1,
            "steps": [{"step": s, "state": _state(i, index)} for i, s in enumerate(STEPS)],
            "open_count": len(wizard.evaluate().open_questions),
            # what this step really asks (the wizard skips questions that cannot change a result)
            "asked": (", " if display_lang() == "en" else "、").join(str(fact.label) for fact in questions),
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
            "ceiling_total": wan(result.stack.ceiling_total),
            "high_total": wan(result.stack.high_total),
        },
    )


@require_POST
def reset(request: HttpRequest) -> HttpResponse:
    request.session.pop(ANSWERS_SESSION_KEY, None)
    messages.info(request, _("已清除本次测算的全部回答。"))
    return redirect("selfcheck:start")


@require_http_methods(["GET", "POST"])
def register(request: HttpRequest) -> HttpResponse:
    """Registration: a new account and enterprise whose profile is the session's answers; then the
    user is logged in and sent to the dashboard. A logged-in user keeps the answers in the session."""
    wizard = _wizard(request)
    enterprise = enterprise_for_user(request.user) if request.user.is_authenticated else None
    form = None
    status = 200
    if not request.user.is_authenticated:
        form = registration.RegistrationForm(request.POST if request.method == "POST" else None)
        if form.is_bound:
            refusal = registration.throttled(request)
            if refusal:  # counted before anything is checked: guessing codes costs attempts too
                form.is_valid()
                form.add_error(None, refusal)
                status = 429
            else:
                registered = form.is_valid() and registration.register(
                    form, answers=wizard.answers, as_of=wizard.as_of
                )
                if registered:
                    return _registered(request, wizard, registered)
                status = 400
    return render(
        request,
        "selfcheck/register.html",
        {"answers": answer_rows(wizard.answers, wizard.catalog), "enterprise": enterprise, "form": form},
        status=status,
    )


def _registered(request: HttpRequest, wizard: Wizard, registered: registration.Registered) -> HttpResponse:
    login(request, registered.user, backend="django.contrib.auth.backends.ModelBackend")
    enterprise = registered.enterprise
    if enterprise is None:  # a claim of a code another enterprise holds: nothing about the holder
        messages.info(request, registration.CLAIM_SUBMITTED)
        return redirect("selfcheck:results")  # the answers stay in the session
    request.session.pop(ANSWERS_SESSION_KEY, None)  # they are the profile now
    messages.success(
        request,
        _("企业“%(name)s”已登记，测算回答已保存为企业资料。工作人员核实登记后即可提交申报。")
        % {"name": enterprise.name},
    )
    missing = registration.answers_not_carried(
        enterprise, wizard.answers, as_of=wizard.as_of, catalog=wizard.catalog
    )
    if missing:
        messages.warning(
            request,
            _("以下回答需要在企业资料中补充具体数据后才能用于匹配：%(labels)s。")
            % {"labels": (", " if display_lang() == "en" else "、").join(fact.label for fact in missing)},
        )
    return redirect("applications:dashboard")
