"""One draft improvement action per problem (degradations grouped by cause), and the notes
its updates and resolution leave on it. Pure.

The action service knows sites and programmes by their ids only (no names are published to
it), so the French texts name them by id, as the degradation drafts always did.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from boucle_actions.domain.actions import (
    METRIC_LABELS,
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

THEME_LABELS = {
    "platform": "la plateforme",
    "trainer": "le formateur",
    "content": "le contenu",
    "organisation": "l'organisation",
    "materials": "les supports",
    "administration": "l'administratif",
    "accessibility": "l'accessibilité",
}


def problem_action_id(network_id: str, problem_id: str) -> str:
    """The same problem always makes the same draft (redeliveries find it)."""
    return action_id_for("problem", network_id, problem_id)


def _enumerate(items: Sequence[str]) -> str:
    """``a``, ``a et b``, ``a, b et c``."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} et {items[-1]}"


def _place(scope: Scope) -> str:
    if scope.level is ScopeLevel.PROGRAMME:
        return f"programme {scope.programme_id} ({scope.site_id})"
    if scope.level is ScopeLevel.TRAINER:
        at = f" ({scope.site_id})" if scope.site_id else ""
        return f"formateur {scope.trainer_id}{at}"
    if scope.level is ScopeLevel.SITE:
        return str(scope.site_id)
    return f"réseau {scope.network_id}"


def where(scopes: Sequence[Scope]) -> str:
    """The attributed scopes in French: ``lyon``, ``lyon et nice``, ``programme p (lyon)``."""
    return _enumerate([_place(s) for s in scopes])


def _theme(problem: ProblemState) -> str | None:
    if not problem.themes:
        return None
    main = problem.themes[0]
    return f"{THEME_LABELS.get(main.theme, main.theme)} ({main.share:.0%})".replace("%", " %")


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
    """Title and description in French: where, what dropped, the cause cited."""
    main = problem.degradations[0] if problem.degradations else None
    places = where(problem.scopes)
    theme = _theme(problem)
    cause = f" — cause citée : {theme}" if theme else ""
    sites = [s.site_id for s in problem.scopes if s.level is ScopeLevel.SITE and s.site_id]
    extent = f"sur {len(sites)} sites ({places})" if len(sites) > 1 else f"à {places}"
    if main is not None:
        label = METRIC_LABELS[main.metric]
        aspect = f" ({main.dimension})" if main.dimension else ""
        title = f"Baisse {label}{aspect} : {places}{cause}"
        figures = (
            f"{label.capitalize()}{aspect} passée de {main.baseline.value:.2f} "
            f"(n = {main.baseline.sample_size}) à {main.current.value:.2f} "
            f"(n = {main.current.sample_size}) {extent}"
        )
        kpi = KpiTarget(
            metric=main.metric,
            dimension=main.dimension,
            baseline=main.current.value,
            target=main.baseline.value,
        )
    else:
        title, figures, kpi = f"Problème : {places}{cause}", f"Problème {extent}", None
    details = ActionDetails(
        title=title[:500],
        problem=(
            f"{figures} ; {len(problem.degradation_ids)} dégradation(s) groupée(s) "
            f"(problème {problem.problem_id}) ; gravité {problem.severity.value}"
            + (f" ; thème principal des commentaires négatifs : {theme}" if theme else "")
            + (
                f" ; {len(problem.complaint_ids)} réclamation(s) liée(s)"
                if problem.complaint_ids
                else ""
            )
            + ". Analyse des causes à mener."
        ),
        kpi=kpi,
        priority=(
            Priority.HIGH if problem.severity.value in ("high", "critical") else Priority.MEDIUM
        ),
    )
    return details


def update_note(update: ProblemUpdated) -> str:
    """What an update says on the draft: who joined, who left, where it stands now."""
    parts = [f"Problème {update.problem_id} mis à jour le {update.updated_at.date().isoformat()}"]
    if update.joined_degradation_ids:
        parts.append(f"dégradations ajoutées : {', '.join(update.joined_degradation_ids)}")
    if update.left_degradation_ids:
        parts.append(f"dégradations résolues : {', '.join(update.left_degradation_ids)}")
    parts.append(f"périmètre : {where(update.scopes)}")
    return " ; ".join(parts) + "."


def resolution_note(resolved: ProblemResolved) -> str:
    return (
        f"Problème {resolved.problem_id} résolu le {resolved.resolved_at.date().isoformat()} "
        f"({where(resolved.scopes)}) : toutes ses dégradations sont résolues."
    )
