"""From read-model documents (written by ``projection``) to the views of ``read_model``. Pure.

``assemble`` makes a build's data from the documents it read, cut to its scope and period.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from boucle_contracts.metrics.v1 import DimensionFigures
from boucle_reporter.domain.build_request import BuildRequest
from boucle_reporter.domain.collection import collection_of
from boucle_reporter.domain.i18n import change_sentence, themes_sentence, translate
from boucle_reporter.domain.read_model import (
    ActionView,
    AnalysisView,
    CaseView,
    ComplaintView,
    DegradationView,
    Effect,
    IncidentView,
    Kpi,
    MeetingView,
    Names,
    Notice,
    PackData,
    Person,
    SiteMonth,
    month_of,
)

Document = dict[str, Any]
FINISHED = ("done", "effective", "not_effective")


def months_back(end: date, months: int) -> str:
    """First ``YYYY-MM`` of the ``months`` months that end with the period's last day."""
    last = end - timedelta(days=1)
    index = last.year * 12 + last.month - 1 - (months - 1)
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def counts_from_month(request: BuildRequest) -> str:
    """Counts are read from 12 months before the end (funder feedback) or the start."""
    return min(months_back(request.end, 12), request.months[0])


def _utc(value: Any) -> datetime | None:
    if not isinstance(value, datetime):
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _date(value: Any) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) and value else None


def analysis_view(doc: Document) -> AnalysisView:
    return AnalysisView(
        site_id=doc.get("site_id"),
        month=doc["month"],
        responses=int(doc.get("responses", 0)),
        dimensions=tuple(DimensionFigures.model_validate(d) for d in doc.get("dimensions", ())),
    )


def site_month(doc: Document) -> SiteMonth:
    counts = SiteMonth(site_id=doc.get("site_id"), month=doc["month"])
    counts.responses_by_role.update({k: int(v) for k, v in doc.get("responses", {}).items()})
    counts.dropouts_by_reason.update({k: int(v) for k, v in doc.get("dropouts", {}).items()})
    counts.enrolments = int(doc.get("enrolments", 0))
    counts.learners_completed = int(doc.get("learners_completed", 0))
    counts.funders = set(doc.get("funders", ()))
    counts.companies = set(doc.get("companies", ()))
    counts.trainers = set(doc.get("trainers", ()))
    return counts


def case_view(doc: Document) -> CaseView | None:
    opened = _utc(doc.get("opened_at"))
    if opened is None:  # transitions seen, opening not (yet): not shown
        return None
    at = doc.get("at", {})
    return CaseView(
        case_id=doc["case_id"],
        site_id=doc.get("site_id"),
        source=doc["source"],
        source_ref=doc["source_ref"],
        opened_at=opened,
        summary=doc.get("summary", ""),
        status=doc.get("status", "received"),
        category=doc.get("category"),
        acknowledge_due_at=_utc(doc.get("acknowledge_due_at")),
        answer_due_at=_utc(doc.get("answer_due_at")),
        acknowledged_at=_utc(at.get("acknowledged")),
        answered_at=_utc(at.get("answered")),
        closed_at=_utc(at.get("closed")),
        root_cause=doc.get("root_cause") or "",
        answer=doc.get("answer") or "",
        action_ids=tuple(doc.get("action_ids", ())),
        overdue=tuple(sorted(doc.get("overdue", {}))),
    )


def _kpi(doc: Document) -> Kpi | None:
    kpi = doc.get("kpi_target")
    if not isinstance(kpi, dict) or kpi.get("target") is None:
        return None
    return Kpi(
        metric=kpi["metric"],
        target=float(kpi["target"]),
        dimension=kpi.get("dimension"),
        baseline=float(kpi["baseline"]) if kpi.get("baseline") is not None else None,
    )


def _effect(doc: Document) -> Effect | None:
    figures = doc.get("evaluation_figures")
    if not isinstance(figures, dict):
        return None
    return Effect(
        metric=figures["metric"],
        before=float(figures["before"]),
        before_n=int(figures["before_n"]),
        after=float(figures["after"]),
        after_n=int(figures["after_n"]),
        p_value=figures.get("p_value"),
    )


def _notices(doc: Document) -> tuple[Notice, ...]:
    notices = []
    for notice in doc.get("stakeholders_informed") or ():
        when = _utc(notice.get("when")) or _utc_text(notice.get("when"))
        if when is not None:
            notices.append(Notice(notice.get("who", ""), when, notice.get("how", "")))
    return tuple(notices)


def _utc_text(value: Any) -> datetime | None:
    """A moment stored as ISO 8601 text (a nested JSON field)."""
    if not isinstance(value, str):
        return None
    try:
        return _utc(datetime.fromisoformat(value))
    except ValueError:
        return None


def action_view(doc: Document, analysis: str = "", figures: str = "") -> ActionView | None:
    """``analysis``: what a person wrote about its causes when the action itself says
    nothing (its cases' root causes); ``figures``: the generated ones (degradations)."""
    created = _utc(doc.get("created_at"))
    if created is None:
        return None
    at = doc.get("at", {})
    finished = [t for s in FINISHED if (t := _utc(at.get(s))) is not None]
    written = doc.get("root_cause_analysis") or ""
    return ActionView(
        action_id=doc["action_id"],
        site_id=doc.get("site_id"),
        title=doc.get("title", ""),
        problem=doc.get("problem", ""),
        origin=doc.get("origin", "manual"),
        source_kinds=tuple(doc.get("source_kinds", ())),
        source_refs=tuple(doc.get("source_refs", ())),
        status=doc.get("status", "draft"),
        created_at=created,
        owner=doc.get("owner"),
        due_date=_date(doc.get("due_date")),
        started_at=_utc(at.get("in_progress")),
        # the latest "done" (a re-opened action done again ends then), else its result
        finished_at=_utc(at.get("done")) or (min(finished) if finished else None),
        analysis=written or analysis,
        kpi=doc.get("kpi", ""),
        outcome=doc.get("outcome"),
        evaluated_at=_utc(doc.get("evaluated_at")),
        evaluation=doc.get("evaluation", ""),
        measures=tuple(doc.get("measures") or ()),
        objective=doc.get("objective") or "",
        root_cause_analysis=written,
        figures=figures,
        target=_kpi(doc),
        validated_by=doc.get("validated_by"),
        validated_at=_utc(doc.get("validated_at")),
        stakeholders=_notices(doc),
        case_ids=tuple(doc.get("case_ids") or ()),
        meeting_id=doc.get("meeting_id"),
        effect=_effect(doc),
    )


def meeting_view(doc: Document) -> MeetingView | None:
    held = _utc(doc.get("held_at"))
    if held is None:
        return None
    return MeetingView(
        meeting_id=doc["meeting_id"],
        site_id=doc.get("site_id"),
        held_at=held,
        title=doc.get("title", ""),
        decisions=tuple(doc.get("decisions") or ()),
        attendees=tuple(doc.get("attendees") or ()),
    )


def names_of(docs: Iterable[Document]) -> Names:
    names = Names()
    for doc in docs:
        kind, ident, name = doc.get("kind"), doc.get("id"), doc.get("name")
        if not ident or not name:
            continue
        if kind == "site":
            names.sites[ident] = name
        elif kind == "programme":
            names.programmes[ident] = name
        elif kind == "person":
            names.people[ident] = Person(name, doc.get("title"), doc.get("role"))
    return names


def degradation_view(doc: Document) -> DegradationView | None:
    detected = _utc(doc.get("detected_at"))
    if detected is None:
        return None
    return DegradationView(
        degradation_id=doc["degradation_id"],
        site_id=doc.get("site_id"),
        metric=doc["metric"],
        dimension=doc.get("dimension"),
        severity=doc.get("severity", "medium"),
        detected_at=detected,
        baseline=float(doc.get("baseline", 0.0)),
        current=float(doc.get("current", 0.0)),
        resolved_at=_utc(doc.get("resolved_at")),
        themes=tuple(doc.get("themes", ())),
        baseline_n=doc.get("baseline_n"),
        current_n=doc.get("current_n"),
    )


def _active(request: BuildRequest, start: datetime, end: datetime | None) -> bool:
    """Begun before the period's end and not over before its start."""
    return start.date() < request.end and (end is None or end.date() >= request.start)


def _described(degradation: DegradationView, language: str) -> str:
    """What was seen, in words: "La satisfaction moyenne (plateforme) est passée de 4,10 à
    2,40 ; thèmes des commentaires : plateforme"."""
    d = degradation
    sentence = change_sentence(language, d.metric, d.dimension, d.baseline, d.current)
    if d.baseline_n is not None and d.current_n is not None:
        samples = translate(language, "track.samples", before=d.baseline_n, after=d.current_n)
        sentence = f"{sentence} ({samples})"
    themes = themes_sentence(language, d.themes)
    return f"{sentence} ; {themes}" if themes else sentence


def assemble(
    request: BuildRequest,
    now: datetime,
    *,
    sites: Iterable[Document],
    analyses: Iterable[Document],
    counts: Iterable[Document],
    complaints: Iterable[Document],
    incidents: Iterable[Document],
    cases: Iterable[Document],
    actions: Iterable[Document],
    degradations: Iterable[Document],
    problems: Iterable[Document] = (),  # grouping only: not rendered in the views yet
    meetings: Iterable[Document] = (),
    names: Iterable[Document] = (),
    solicitations: Iterable[Document] = (),
    collection_plans: Iterable[Document] = (),
) -> PackData:
    """The build's data: documents of the network, cut to the request's sites and period.

    Streams the documents once each; only per-site-month aggregates are kept, never
    individual responses.
    """
    data = PackData(request=request, generated_at=now, names=names_of(names))
    data.collection = collection_of(request, solicitations, collection_plans)
    data.problem_groups = [
        frozenset(doc.get("all_degradation_ids") or doc.get("degradation_ids") or ())
        for doc in problems
    ]
    known = {doc["site_id"] for doc in sites if doc.get("site_id")}
    data.sites = sorted(set(request.sites) if request.sites else known)
    in_scope = request.covers_site
    months = set(request.months)
    funder_from = months_back(request.end, 12)
    last_month = month_of(request.end - timedelta(days=1))
    for doc in analyses:
        if in_scope(doc.get("site_id")) and doc["month"] in months:
            data.analyses.append(analysis_view(doc))
    merged: dict[tuple[str | None, str], SiteMonth] = {}
    for doc in counts:
        site = doc.get("site_id")
        if not in_scope(site):
            continue
        funders = (
            doc.get("responses", {}).get("funder", 0) if doc.get("family") == "feedback" else 0
        )
        if site and funders > 0 and funder_from <= doc["month"] <= last_month:
            data.last_funder_feedback[site] = max(
                doc["month"], data.last_funder_feedback.get(site, "")
            )
        if doc["month"] in months:
            current = merged.setdefault((site, doc["month"]), SiteMonth(site, doc["month"]))
            current.merge(site_month(doc))
    data.site_months = list(merged.values())
    case_views = [v for doc in cases if in_scope(doc.get("site_id")) and (v := case_view(doc))]
    root_causes: dict[str, list[str]] = {}
    for case in case_views:
        for action_id in case.action_ids if case.root_cause else ():
            root_causes.setdefault(action_id, []).append(case.root_cause)
    cause_of = {c.case_id: c.root_cause for c in case_views if c.root_cause}
    data.cases = [c for c in case_views if _active(request, c.opened_at, c.closed_at)]
    data.complaints = [
        ComplaintView(
            complaint_id=doc["complaint_id"],
            site_id=doc.get("site_id"),
            received_at=received,
            channel=doc.get("channel", ""),
            complainant_role=doc.get("role", ""),
            subject=doc.get("subject", ""),
            category=doc.get("category"),
        )
        for doc in complaints
        if in_scope(doc.get("site_id"))
        and (received := _utc(doc.get("received_at")))
        and request.covers(received)
    ]
    data.incidents = [
        IncidentView(
            incident_id=doc["incident_id"],
            site_id=doc.get("site_id"),
            kind=doc.get("kind", "hazard"),
            occurred_at=occurred,
            summary=doc.get("summary", ""),
            category=doc.get("category"),
        )
        for doc in incidents
        if in_scope(doc.get("site_id"))
        and (occurred := _utc(doc.get("occurred_at")))
        and request.covers(occurred)
    ]
    degradation_views = [
        d for doc in degradations if in_scope(doc.get("site_id")) and (d := degradation_view(doc))
    ]
    data.degradations = [
        d for d in degradation_views if _active(request, d.detected_at, d.resolved_at)
    ]
    described = {d.degradation_id: _described(d, request.language) for d in degradation_views}
    for doc in actions:
        if not in_scope(doc.get("site_id")):
            continue
        refs = doc.get("source_refs", ())
        causes = [
            *root_causes.get(doc.get("action_id", ""), ()),
            *(cause_of[c] for c in doc.get("case_ids") or () if c in cause_of),
        ]
        analysis = " ; ".join(dict.fromkeys(causes))
        figures = " ; ".join(dict.fromkeys(described[r] for r in refs if r in described))
        view = action_view(doc, analysis, figures)
        if view and _active(request, view.created_at, view.finished_at):
            data.actions.append(view)
    data.actions.sort(key=lambda a: (a.created_at, a.action_id))
    data.meetings = sorted(
        (
            m
            for doc in meetings
            if (m := meeting_view(doc)) is not None
            and (m.site_id is None or in_scope(m.site_id))
            and m.held_at.date() < request.end
        ),
        key=lambda m: (m.held_at, m.meeting_id),
    )
    data.cases.sort(key=lambda c: (c.opened_at, c.case_id))
    return data
