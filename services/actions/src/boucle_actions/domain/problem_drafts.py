"""One draft improvement action per problem (degradations grouped by cause), and the notes
its updates and resolution leave on it. Pure.

Sentences in French (``wording``): metrics, dimensions, themes and severities in words,
numbers and dates by Babel. The service knows sites and programmes by their ids only, so
they are named "site <id>"; the reporter's documents put names on them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from boucle_actions.domain import wording
from boucle_actions.domain.actions import (
    SYSTEM_ACTOR,
    Action,
    ActionDetails,
    action_id_for,
    new_action,
)
from boucle_contracts.actions.v1 import ActionOrigin, ActionStatus, KpiTarget, Priority, SourceRef
from boucle_contracts.problems.v1 import (
    ProblemOpened,
    ProblemResolved,
    ProblemState,
    ProblemUpdated,
)
from boucle_contracts.scope import Scope, ScopeLevel


def problem_action_id(network_id: str, problem_id: str) -> str:
    """The same problem always makes the same draft (redeliveries find it)."""
    return action_id_for("problem", network_id, problem_id)


def where(scopes: Sequence[Scope]) -> str:
    """The attributed scopes in French: ``site lyon``, ``site lyon et site nice``."""
    return wording.where(scopes)


def _theme(problem: ProblemState) -> str | None:
    """The main theme of the negative comments: ``la plateforme (62 %)``."""
    if not problem.themes:
        return None
    main = problem.themes[0]
    return f"{wording.theme(main.theme)} ({wording.share(main.share)})"


def _action_scope(problem: ProblemOpened) -> Scope:
    """One site, programme or trainer: that scope; several sites: the network. Narrowed to
    the main degradation's dimension, which the KPI is read on."""
    dimension = problem.degradations[0].dimension if problem.degradations else None
    scope = problem.scopes[0] if len(problem.scopes) == 1 else None
    if scope is None:
        scope = Scope(level=ScopeLevel.NETWORK, network_id=problem.scopes[0].network_id)
    return scope.model_copy(update={"dimension": dimension})


def draft_from_problem(problem: ProblemOpened, *, at: datetime) -> Action:
    """A draft a person must accept: the problem's figures, tests and comments as evidence."""
    details = draft_details(problem)
    sources = tuple(SourceRef(kind="degradation", ref=ref) for ref in problem.degradation_ids)
    sources += tuple(SourceRef(kind="complaint", ref=ref) for ref in problem.complaint_ids)
    network_id = problem.scopes[0].network_id
    return new_action(
        action_id=problem_action_id(network_id, problem.problem_id),
        details=details,
        scope=_action_scope(problem),
        origin=ActionOrigin.DEGRADATION,
        actor=SYSTEM_ACTOR,
        at=at,
        sources=sources,
        evidence=problem.model_dump(mode="json"),
        status=ActionStatus.DRAFT,
    )


def retitled(action: Action, update: ProblemUpdated) -> dict[str, str]:
    """The title and description an undecided draft should now carry (its scope and KPI
    stay: an action's site never changes); empty when they already do."""
    details = draft_details(update)
    changes = {"title": details.title, "problem": details.problem}
    return {k: v for k, v in changes.items() if getattr(action, k) != v}


def draft_details(problem: ProblemState) -> ActionDetails:
    """Title and description in French sentences: what changed, where, the cause cited."""
    main = problem.degradations[0] if problem.degradations else None
    theme = _theme(problem)
    sites = [s.site_id for s in problem.scopes if s.level is ScopeLevel.SITE and s.site_id]
    extent = (
        f"sur {len(sites)} sites ({wording.enumerate_words(sites)})"
        if len(sites) > 1
        else wording.at_place(problem.scopes[0])
    )
    cause = f" — cause citée : {theme}" if theme else ""
    kpi: KpiTarget | None = None
    if main is not None:
        title = f"{wording.drop(main.metric, main.dimension)} {extent}{cause}"
        figures = wording.change(
            main.metric,
            main.dimension,
            (main.baseline.value, main.baseline.sample_size),
            (main.current.value, main.current.sample_size),
        )
        kpi = KpiTarget(
            metric=main.metric,
            dimension=main.dimension,
            baseline=main.current.value,
            target=main.baseline.value,
        )
        sentences = [f"{figures} {extent}."]
    else:
        title = f"Problème constaté {extent}{cause}"
        sentences = [f"Problème constaté {extent}."]
    grouped = wording.plural(
        len(problem.degradation_ids), "dégradation regroupée", "dégradations regroupées"
    )
    sentences.append(
        f"Gravité : {wording.severity(problem.severity.value)} ; {grouped} "
        f"(problème {problem.problem_id})."
    )
    if theme:
        sentences.append(f"Thème principal des commentaires négatifs : {theme}.")
    if problem.complaint_ids:
        count = len(problem.complaint_ids)
        linked = wording.plural(count, "réclamation liée", "réclamations liées")
        sentences.append(f"{wording.capitalised(linked)}.")
    sentences.append("Analyse des causes à mener.")
    return ActionDetails(
        title=title[:500],
        problem=" ".join(sentences),
        kpi=kpi,
        priority=(
            Priority.HIGH if problem.severity.value in ("high", "critical") else Priority.MEDIUM
        ),
    )


def update_note(update: ProblemUpdated) -> str:
    """What an update says on the draft: who joined, who left, where it stands now."""
    day = wording.long_date(update.updated_at.date())
    parts = [f"Problème {update.problem_id} mis à jour le {day}"]
    if update.joined_degradation_ids:
        parts.append(f"dégradations ajoutées : {', '.join(update.joined_degradation_ids)}")
    if update.left_degradation_ids:
        parts.append(f"dégradations résolues : {', '.join(update.left_degradation_ids)}")
    parts.append(f"périmètre : {where(update.scopes)}")
    return " ; ".join(parts) + "."


def resolution_note(resolved: ProblemResolved) -> str:
    return (
        f"Problème {resolved.problem_id} résolu le "
        f"{wording.long_date(resolved.resolved_at.date())} ({where(resolved.scopes)}) : "
        "toutes ses dégradations sont résolues."
    )
