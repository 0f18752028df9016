from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError, connection
from django.db.models import Prefetch
from django.forms.utils import ErrorDict
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from gallery.models import Image
from gallery.permissions import get_visible_image
from gallery.storage import serve_file
from imageapi.params import (
    EDIT_IMAGES_MAX,
    N_MAX,
    N_MIN,
    SIZE_STEP,
    is_experimental,
    output_dimensions,
    parse_size,
    size_error,
    validate_size,
)
from imageapi.pricing import Usage, estimate_output_tokens, token_rule_for, tokens_are_exact
from teams.ids import id_or_404, parse_ids
from teams.selectors import destinations_for, remembered_destination
from teams.services import destination_remember

from . import pricebook, services
from .forms import CUSTOM_SIZE, EditForm, GenerateForm, new_submit_key, plain_size_error
from .models import Job, WorkerHeartbeat
from .permissions import can_change_job, get_visible_job, visible_jobs
from .ratelimit import rate_limit_message, submit_retry_after
from .scheduling import waiting_reasons
from .selectors import HEARTBEAT_STALE_SECONDS, has_active_jobs, offered_models, recent_prompts, worker_alive
from .spending import BudgetRefused
from .tasks import job_enqueue

logger = logging.getLogger(__name__)
RECENT_JOBS = 12
# A job card shows the images still in the gallery, not those moved to the trash since.
_ALIVE_IMAGES = Prefetch("images", queryset=Image.objects.alive())


def _form_kwargs(request: HttpRequest, kwargs: dict[str, Any]) -> dict[str, Any]:
    destinations = destinations_for(user=request.user)
    if "data" not in kwargs:
        remembered = remembered_destination(user=request.user)
        chosen = remembered if remembered in destinations else destinations[0]
        kwargs["initial"] = {"space": chosen.pk, **kwargs.get("initial", {})}
    return {"model": settings.STUDIO_MODEL, "models": offered_models(), "destinations": destinations, **kwargs}


def _offered_model(chosen: str | None) -> str:
    """``chosen`` when the deployment offers it, else the default model."""
    return chosen if chosen in offered_models() else settings.STUDIO_MODEL


def _generate_form(request: HttpRequest, **kwargs: Any) -> GenerateForm:
    return GenerateForm(**_form_kwargs(request, kwargs))


def _edit_form(request: HttpRequest, **kwargs: Any) -> EditForm:
    return EditForm(user=request.user, **_form_kwargs(request, kwargs))


def _page(request: HttpRequest, *, generate_form: GenerateForm | None = None,
          edit_form: EditForm | None = None, mode: str = "generate", status: int = 200) -> HttpResponse:
    context = {
        "generate_form": generate_form or _generate_form(request),
        "edit_form": edit_form or _edit_form(request),
        "mode": mode,
        "jobs": _with_waiting(
            visible_jobs(request.user).select_related("space").prefetch_related(_ALIVE_IMAGES)[:RECENT_JOBS]),
        "worker_alive": worker_alive(),
        # Staff are told when a model the studio offers has no price now (its jobs are priced unknown).
        "unpriced_models": pricebook.models_without_price(models=offered_models()) if request.user.is_staff
        else [],
    }
    context["live"] = _live(request.user, context["jobs"])
    return render(request, "studio/home.html", context, status=status)


def _live(user: Any, jobs: Iterable[Job]) -> bool:
    """Whether the page keeps polling: a card on it is active, or the user has a job just
    submitted whose card a poll that was already under way did not know about yet."""
    return any(job.is_active for job in jobs) or has_active_jobs(user=user)


def _with_waiting(jobs: Iterable[Job]) -> list[Job]:
    """The jobs, each queued one told why it waits (``job.waiting``, for its card)."""
    jobs = list(jobs)
    reasons = waiting_reasons(jobs=jobs)
    for job in jobs:
        job.waiting = reasons.get(job.pk)
    return jobs


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The studio. ``?remix=<image>`` prefills the generate form from an image, ``?edit=<image>``
    starts an edit of it, ``?job=<job>`` reloads a job's settings (to fix and resubmit)."""
    if image_id := request.GET.get("remix", "").strip():
        image = get_visible_image(request.user, image_id)
        initial = GenerateForm.initial_from_request(image.request)
        if image.kind == "edit":
            return _page(request, edit_form=_edit_form(request, initial=initial), mode="edit")
        return _page(request, generate_form=_generate_form(request, initial=initial))
    if image_id := request.GET.get("edit", "").strip():
        image = get_visible_image(request.user, image_id)
        initial = {**EditForm.initial_from_request(image.request), "size": "auto", "inputs": [f"gallery:{image.pk}"]}
        # An edit says what to change: it starts empty, the source's prompt shown as the hint.
        initial.pop("prompt", None)
        form = _edit_form(request, initial=initial)
        form.fields["prompt"].widget.attrs["placeholder"] = f"What to change. The source: {image.prompt[:300]}"
        return _page(request, edit_form=form, mode="edit")
    if job_id := request.GET.get("job", "").strip():
        return _page_for_resubmit(request, get_visible_job(request.user, job_id))
    return _page(request, mode="edit" if request.GET.get("mode") == "edit" else "generate")


def _page_for_resubmit(request: HttpRequest, job: Job) -> HttpResponse:
    """The job's settings in the form, with the API's complaint next to the field it named."""
    values = {**GenerateForm.initial_from_request(job.request), "space": job.space_id}
    if job.kind == Job.Kind.EDIT:
        values["inputs"] = [f"stored:{link.input_image_id}" for link in job.job_inputs.all()]
        values["mask_image"] = job.mask_id
    data = QueryDict(mutable=True)
    data["submit_key"] = new_submit_key()
    for name, value in values.items():
        data.setlist(name, [str(item) for item in (value if isinstance(value, list) else [value])
                            if item is not None])
    form: GenerateForm | EditForm = (
        _edit_form(request, data=data) if job.kind == Job.Kind.EDIT else _generate_form(request, data=data)
    )
    form.is_valid()
    if job.status == Job.Status.FAILED and job.error_message:
        form.add_error(job.error_param if job.error_param in form.fields else None, job.error_message)
    if job.kind == Job.Kind.EDIT:
        return _page(request, edit_form=form, mode="edit")
    return _page(request, generate_form=form)


def _submitted(request: HttpRequest, *, form: GenerateForm | EditForm, job: Job | None, mode: str) -> HttpResponse:
    """After a submit: htmx gets the form back (values kept) plus the new job card; a plain
    browser gets the whole page."""
    if request.htmx:
        if job is not None:  # the form stays filled in for the next job, with a key of its own
            _with_waiting([job])
            form.data = form.data.copy()
            form.data["submit_key"] = new_submit_key()
        template = "studio/home.html#generate_form" if mode == "generate" else "studio/home.html#edit_form"
        key = "generate_form" if mode == "generate" else "edit_form"
        context = {key: form, "new_job": job, "mode": mode, "worker_alive": worker_alive()}
        return render(request, template, context)
    if job is not None:
        return redirect("studio:home")
    kwargs = {"generate_form": form} if mode == "generate" else {"edit_form": form}
    return _page(request, mode=mode, status=400, **kwargs)


def _rate_limited(request: HttpRequest, *, form: GenerateForm | EditForm, mode: str,
                  retry_after: int) -> HttpResponse:
    """429 with the form as sent and the reason above it (not validated: nothing is submitted)."""
    form._errors, form.cleaned_data = ErrorDict(), {}
    form.add_error(None, rate_limit_message(retry_after))
    if request.htmx:
        key = "generate_form" if mode == "generate" else "edit_form"
        response = render(request, f"studio/home.html#{key}", {key: form, "mode": mode}, status=429)
    else:
        response = _page(request, mode=mode, status=429, **{f"{mode}_form": form})
    response["Retry-After"] = str(retry_after)
    return response


@require_POST
def generate(request: HttpRequest) -> HttpResponse:
    form = _generate_form(request, data=request.POST)
    return _submit(request, form=form, mode="generate", submit=lambda **common: services.job_submit_generation(
        request=form.api_request, **common))


@require_POST
def edit(request: HttpRequest) -> HttpResponse:
    form = _edit_form(request, data=request.POST, files=request.FILES)
    return _submit(request, form=form, mode="edit", submit=lambda **common: services.job_submit_edit(
        request=form.api_request, images=form.uploads, mask=form.mask_upload, **common))


def _submit(request: HttpRequest, *, form: GenerateForm | EditForm, mode: str,
            submit: Callable[..., Job]) -> HttpResponse:
    """One submit of either form: rate limit, validation, budget, then the job (once per submit key)."""
    if (retry_after := submit_retry_after(user=request.user)) is not None:
        return _rate_limited(request, form=form, mode=mode, retry_after=retry_after)
    job = None
    if form.is_valid():
        try:
            job = submit(user=request.user, space=form.destination,
                         submit_key=form.cleaned_data.get("submit_key") or "", enqueue=job_enqueue)
        except BudgetRefused as refused:
            form.add_error(None, str(refused))
            return _submitted(request, form=form, job=None, mode=mode)
        logger.debug("job %s submitted: %r", job.pk, job.prompt)  # the user's words: DEBUG only
        destination_remember(user=request.user, space=form.destination)
    return _submitted(request, form=form, job=job, mode=mode)


@require_GET
def job_card(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_object_or_404(visible_jobs(request.user).select_related("space").prefetch_related(_ALIVE_IMAGES),
                            pk=id_or_404(pk))
    _with_waiting([job])
    return render(request, "studio/home.html#job_card", {"job": job, "worker_alive": worker_alive()})


LIVE_CARDS_MAX = 50  # ids one poll may ask for; a page shows RECENT_JOBS cards


@require_GET
def jobs_live(request: HttpRequest) -> HttpResponse:
    """The page's one poll: the cards of the jobs it names (``?live=<id>`` each, those still
    active on the page) as out-of-band swaps, in their current state, and the poller itself,
    inert once nothing is left to watch. Ids the user may not see are left out, like a 404."""
    if not request.htmx:
        return redirect("studio:home")  # without scripting the page itself is the update
    ids = parse_ids(request.GET.getlist("live"), limit=LIVE_CARDS_MAX)
    jobs = _with_waiting(visible_jobs(request.user).filter(pk__in=ids)
                         .select_related("space").prefetch_related(_ALIVE_IMAGES)) if ids else []
    context = {"jobs": jobs, "live": _live(request.user, jobs), "worker_alive": worker_alive()}
    return render(request, "studio/home.html#jobs_update", context)


@require_POST
def job_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_visible_job(request.user, pk)
    if not can_change_job(request.user, job):
        raise Http404
    services.job_cancel(job=job)
    job.refresh_from_db()
    if request.htmx:
        return render(request, "studio/home.html#job_card", {"job": job, "worker_alive": worker_alive()})
    return redirect("studio:home")


@require_GET
def job_preview(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_visible_job(request.user, pk)
    if not job.preview:
        # The job finished (its previews are removed) while its card was still loading the last
        # one: show the result rather than a broken picture.
        result = job.images.filter(deleted_at__isnull=True).order_by("pk").first()
        if result is None:
            raise Http404
        return redirect("gallery:thumbnail", pk=result.pk)
    # A missing file was replaced by a newer preview in the meantime: a 404, and the card asks again.
    return serve_file(job.preview, content_type=f"image/{job.preview.name.rsplit('.', 1)[-1]}",
                      cache="private, no-store")


@require_GET
def options(request: HttpRequest) -> HttpResponse:
    """The options of a form fitted to the model just picked: values it takes are kept, the
    others start again from their defaults (the fragment replaces the form's options)."""
    form_class = EditForm if request.GET.get("form") == "edit" else GenerateForm
    model = _offered_model(request.GET.get("model"))
    initial = form_class.initial_for_model(request.GET.dict(), model=model)
    form = (_edit_form(request, initial=initial) if form_class is EditForm
            else _generate_form(request, initial=initial))
    return render(request, "studio/_options.html", {"form": form, "idp": form.id_prefix})


# The references give no rule for how a GIF's frames count (models.md): it is estimated as one image.
GIF_ESTIMATE_NOTE = "A GIF is estimated as one image: no published rule says how its frames count."


@require_GET
def size_check(request: HttpRequest) -> HttpResponse:
    """Live feedback on the size fields: the rule broken, or the shape and estimated cost with the
    chosen model's token rule and prices (approximate where its rule is)."""
    model = _offered_model(request.GET.get("model"))
    size = request.GET.get("size", "auto")
    if size == CUSTOM_SIZE:
        size = f"{request.GET.get('width', '').strip()}x{request.GET.get('height', '').strip()}"
    error = validate_size(size, model=model)
    context: dict[str, Any] = {"error": plain_size_error(size, error.message) if error else None,
                               "nearest": _nearest_valid_size(size) if error else None}
    if error is None:
        width, height = output_dimensions(size)
        n = _bounded_int(request.GET.get("n"), default=1, low=N_MIN, high=N_MAX)
        quality = request.GET.get("quality", "auto")
        gif = request.GET.get("output_format") == "gif"
        partial_images = 0 if gif else _bounded_int(request.GET.get("partial_images"), default=0, low=0, high=3)
        tokens = estimate_output_tokens(size=size, quality=quality, n=n, partial_images=partial_images, model=model)
        notes = [] if tokens_are_exact(model) else [token_rule_for(model).reason]
        if gif:
            notes.append(GIF_ESTIMATE_NOTE)
        context.update(
            width=width, height=height, auto=size == "auto", n=n, tokens=tokens, model=model,
            experimental=is_experimental(width, height), approximate=" ".join(notes),
            cost=pricebook.estimate_usd(model=model, usage=Usage(image_output=tokens)),
        )
    return render(request, "studio/_size_check.html", context)


def _nearest_valid_size(size: str) -> tuple[int, int] | None:
    """The valid size closest to a custom one that breaks the rules, to offer with one click: the
    same shape, its long edge moved a step at a time away from where it is (nearest first), each
    side rounded to the step. None when no scaling fixes it (a shape too long for the rules)."""
    parsed = parse_size(size)
    if parsed is None or min(parsed) <= 0:
        return None
    width, height = parsed
    long_edge = max(width, height)

    def step(value: float) -> int:
        return max(SIZE_STEP, int(value + SIZE_STEP / 2) // SIZE_STEP * SIZE_STEP)

    for distance in range(0, 4 * 3840 // SIZE_STEP):
        for edge in {step(long_edge) - distance * SIZE_STEP, step(long_edge) + distance * SIZE_STEP}:
            if edge < SIZE_STEP:
                continue
            candidate = (step(width * edge / long_edge), step(height * edge / long_edge))
            if size_error(*candidate) is None:
                return candidate
    return None


def _bounded_int(value: str | None, *, default: int, low: int, high: int) -> int:
    try:
        return min(high, max(low, int(value or default)))
    except ValueError:
        return default


@require_GET
def prompts(request: HttpRequest) -> HttpResponse:
    """Prompt history: what the user asked for before, searchable; "Use" reloads a job's settings."""
    query = request.GET.get("q", "").strip()[:200]
    context = {"prompts": recent_prompts(user=request.user, query=query), "query": query}
    template = "studio/prompts.html#results" if request.htmx else "studio/prompts.html"
    return render(request, template, context)


@login_not_required
@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Database, worker heartbeat age and provider; 503 when the database is down."""
    body: dict[str, Any] = {"provider": settings.STUDIO_PROVIDER, "model": settings.STUDIO_MODEL}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        latest = WorkerHeartbeat.objects.order_by("-seen_at").first()
    except DatabaseError:
        body.update(status="error", database="down", worker=None)
        return JsonResponse(body, status=503)
    age = None if latest is None else round((timezone.now() - latest.seen_at).total_seconds(), 1)
    body.update(
        status="ok",
        database="ok",
        worker={"heartbeat_age_seconds": age,
                "alive": age is not None and age <= HEARTBEAT_STALE_SECONDS},
    )
    return JsonResponse(body)


def too_many_files(request: HttpRequest) -> HttpResponse:
    """A request with more files than Django parses: on the edit form, the reason next to the
    image field; anywhere else (or signed out) a page that says what happened."""
    limit = settings.DATA_UPLOAD_MAX_NUMBER_FILES
    message = (f"Too many files in one request (more than {limit}). An edit takes at most {EDIT_IMAGES_MAX} "
               "input images and a mask: choose fewer and submit again.")
    if request.user.is_authenticated and request.path == reverse("studio:edit"):
        form = _edit_form(request)
        form.cleaned_data = {}
        form.add_error("image", message)
        return _submitted(request, form=form, job=None, mode="edit")
    return render(request, "studio/too_many_files.html", {"message": message}, status=400)
