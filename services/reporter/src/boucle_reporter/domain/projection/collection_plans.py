"""``collection_plans``: each version of a network's collection plan (indicator 30's
methods and frequencies), as the surveys service published it. Pure."""

from __future__ import annotations

from boucle_contracts.solicitations.v1 import CollectionPlanPublishedV1
from boucle_reporter.domain.projection.write import Write, key


def plan_published(event: CollectionPlanPublishedV1, _seq: int) -> list[Write]:
    plan = event.data
    return [
        Write(
            "collection_plans",
            key(event, str(plan.plan_version)),
            fields={
                "network_id": event.network_id,
                "site_id": None,
                "plan_version": plan.plan_version,
                "effective_from": plan.effective_from,
                "published_by": plan.published_by,
                "published_at": plan.published_at,
                "rules": [rule.model_dump(mode="json") for rule in plan.rules],
                "note": plan.note,
            },
        )
    ]
