"""Problem events out: each week's degradation transitions grouped into problems.

The detection runner calls ``after_week`` once it has published a week's degradation
events, before it saves the degradations and moves its cursor. The grouping is the
domain's (``domain.problems``); this module reads what the comment store knows (where a
trainer's learners are, complaints and example comments in the problem's scopes and
weeks), publishes ``problem_opened`` / ``problem_updated`` / ``problem_resolved`` and then
saves the problems. Event ids derive from the problem id, the transition and the week, so
a crash anywhere re-runs the week and re-publishes the same ids; a degradation already in
a problem does not join it twice.

The emerging terms are the comment stems whose share rose in the problem's scopes and
weeks against the ``TERMS_BASELINE_WEEKS`` before (``domain.emerging_terms``). Hazards are
kept by id in the comment store (``HAZARD_SOURCE``: no text), so a problem names those of its
scopes and weeks as it names complaints.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from boucle_analyzer.domain.detection import Degradation
from boucle_analyzer.domain.emerging_terms import emerging_terms
from boucle_analyzer.domain.ports import HAZARD_SOURCE, CommentRecord, CommentStore
from boucle_analyzer.domain.problems import (
    GroupingConfig,
    Member,
    Problem,
    ProblemChange,
    ProblemStore,
    attributed_scopes,
    group_week,
    state,
)
from boucle_contracts.problems.v1 import (
    ProblemOpened,
    ProblemOpenedV1,
    ProblemResolved,
    ProblemResolvedV1,
    ProblemState,
    ProblemUpdated,
    ProblemUpdatedV1,
)
from boucle_contracts.registry import AnyEvent
from boucle_contracts.scope import Scope, ScopeLevel
from boucle_contracts.signals.v1 import DegradationDetectedV1
from boucle_runtime.kafka import EventSink
from boucle_runtime.logging import get_logger

log = get_logger(__name__)
WEEK = timedelta(days=7)
# Problem event ids are uuid5s in this namespace (problem id, transition, week): never change it.
PROBLEM_EVENT_ID_NAMESPACE = uuid.UUID("b6e1d9a4-2c7f-5e08-93a1-4d6f8b0c2e57")
COMMENTS_READ = 500  # negative comments and complaints read per scope and problem
TRAINER_COMMENTS_READ = 200  # comments read to find the sites of a trainer's learners
MIN_EXAMPLES = 3
TERMS_BASELINE_WEEKS = 12
TERMS_MIN_COUNT = 3  # comments holding a stem in the problem's weeks: small scopes write few
MAX_TERMS = 5


def _sites_in(records: Sequence[CommentRecord]) -> tuple[str, ...]:
    """The sites named by the scope keys of comments (``<net>/level:site/site:<id>``)."""
    sites: set[str] = set()
    for record in records:
        for key in record.scope_keys:
            parts = key.split("/")
            if "level:site" in parts:
                sites.update(p.removeprefix("site:") for p in parts if p.startswith("site:"))
    return tuple(sorted(sites))


def _query_scope(scope: Scope) -> Scope:
    """The analyzer scope whose comments a problem scope holds (a trainer is kept
    network-wide: its site is only where the problem places it)."""
    if scope.level is ScopeLevel.TRAINER:
        return scope.model_copy(update={"site_id": None})
    return scope


class ProblemRunner:
    def __init__(
        self,
        *,
        problems: ProblemStore,
        comments: CommentStore,
        publisher: EventSink,
        config: GroupingConfig | None = None,
    ) -> None:
        self._problems = problems
        self._comments = comments
        self._publisher = publisher
        self._config = config or GroupingConfig()

    async def after_week(
        self,
        *,
        network_id: str,
        week: datetime,
        detected: Sequence[DegradationDetectedV1],
        resolved: Sequence[Degradation],
    ) -> list[AnyEvent]:
        """Group the week's transitions, publish the problem events, save the problems."""
        if not detected and not resolved:
            return []
        problems = await self._problems.open_problems(network_id=network_id)
        members = [await self._member(event) for event in detected]
        changes = group_week(
            problems,
            network_id=network_id,
            week=week,
            opened=members,
            resolved={d.degradation_id for d in resolved},
            config=self._config,
        )
        events = [await self._event(change, week) for change in changes]
        for event in events:
            await self._publisher.publish(event)
        for change in changes:
            log.info(
                f"problem_{change.kind}",
                problem_id=change.problem.problem_id,
                degradations=len(change.problem.members),
            )
        await self._problems.save(problems=[c.problem for c in changes])
        return events

    async def _member(self, event: DegradationDetectedV1) -> Member:
        data = event.data
        scope = data.scope.model_copy(update={"dimension": None})
        if scope.level is ScopeLevel.TRAINER:
            records = await self._comments.examples(
                network_id=scope.network_id,
                scope_key=scope.key(),
                start=data.current.period.start,
                end=data.current.period.end,
                limit=TRAINER_COMMENTS_READ,
            )
            sites = _sites_in(records)
        elif scope.site_id is not None:
            sites = (scope.site_id,)
        else:
            sites = ()
        return Member(
            degradation_id=data.degradation_id,
            scope=scope,
            metric=data.metric,
            dimension=data.dimension,
            opened_week=data.detected_at - WEEK,
            baseline=data.baseline,
            current=data.current,
            severity=data.severity,
            sites=sites,
            tests=data.tests,
            themes=data.themes,
            example_comment_ids=data.example_comment_ids,
        )

    async def _state(self, problem: Problem, week: datetime) -> ProblemState:
        """The problem with the complaints and hazards (and, when its degradations brought
        too few, example comments) of its scopes over its weeks."""
        start = min(m.current.period.start for m in problem.members)
        complaints: list[str] = []
        hazards: list[str] = []
        examples: list[str] = []
        main_theme = problem.main.main_theme
        for scope in problem.scopes():
            records = await self._comments.examples(
                network_id=problem.network_id,
                scope_key=_query_scope(scope).key(),
                start=start,
                end=week + WEEK,
                limit=COMMENTS_READ,
            )
            complaints += [r.comment_id for r in records if r.source == "complaint"]
            hazards += [r.comment_id for r in records if r.source == HAZARD_SOURCE]
            surveys = [r for r in records if r.source not in ("complaint", HAZARD_SOURCE)]
            examples += [r.comment_id for r in surveys if main_theme in r.themes]
            examples += [r.comment_id for r in surveys]
        extra = examples if len(state(problem).example_comment_ids) < MIN_EXAMPLES else []
        return state(
            problem,
            examples=extra,
            complaint_ids=sorted(set(complaints)),
            hazard_ids=sorted(set(hazards)),
            emerging_terms=await self._terms(problem, start, week + WEEK),
        )

    async def _terms(self, problem: Problem, start: datetime, end: datetime) -> list[str]:
        """Stems that rose in the problem's scopes over its weeks, strongest first."""
        current: Counter[str] = Counter()
        baseline: Counter[str] = Counter()
        current_n = baseline_n = 0
        for scope in problem.scopes():
            key = _query_scope(scope).key()
            counts, n = await self._comments.stem_counts(
                network_id=problem.network_id, scope_key=key, start=start, end=end
            )
            current.update(counts)
            current_n += n
            counts, n = await self._comments.stem_counts(
                network_id=problem.network_id,
                scope_key=key,
                start=start - TERMS_BASELINE_WEEKS * WEEK,
                end=start,
            )
            baseline.update(counts)
            baseline_n += n
        found = emerging_terms(current, current_n, baseline, baseline_n, min_count=TERMS_MIN_COUNT)
        return [term.stem for term in found[:MAX_TERMS]]

    async def _event(self, change: ProblemChange, week: datetime) -> AnyEvent:
        problem = change.problem
        at = week + WEEK  # data time: the end of the week that changed it
        envelope: dict[str, Any] = {
            # No site: a problem's scopes may change, and all its events must share one
            # partition key to stay in order.
            "network_id": problem.network_id,
            "source": "/analyzer/detection",
            "event_id": str(
                uuid.uuid5(
                    PROBLEM_EVENT_ID_NAMESPACE,
                    f"{problem.problem_id}|{change.kind}|{week.date().isoformat()}",
                )
            ),
            "subject": f"problem/{problem.problem_id}",
            "time": at,
        }
        if change.kind == "resolved":
            return ProblemResolvedV1.create(
                data=ProblemResolved(
                    problem_id=problem.problem_id,
                    scopes=attributed_scopes(problem.network_id, change.left_members),
                    degradation_ids=change.left,
                    opened_week=problem.opened_week,
                    resolved_at=at,
                ),
                **envelope,
            )
        fields = dict((await self._state(problem, week)).model_dump())
        if change.kind == "opened":
            return ProblemOpenedV1.create(data=ProblemOpened.model_validate(fields), **envelope)
        return ProblemUpdatedV1.create(
            data=ProblemUpdated.model_validate(
                {
                    **fields,
                    "updated_at": at,
                    "joined_degradation_ids": change.joined,
                    "left_degradation_ids": change.left,
                }
            ),
            **envelope,
        )
