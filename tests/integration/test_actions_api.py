"""The actions service on the real broker and database, through its HTTP API with real JWTs:
access per role (and across networks), case and action lifecycles, conflicts, drafts from
degradations, and effectiveness that tells a recovered KPI from one that did not recover.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from fastapi import FastAPI
from pymongo import AsyncMongoClient

from boucle_actions.app import create_app
from boucle_actions.settings import ActionsSettings
from boucle_contracts import kafka as wire
from boucle_contracts.actions.v1 import TOPIC as ACTIONS_TOPIC
from boucle_contracts.cases.v1 import TOPIC as CASES_TOPIC
from boucle_contracts.common import Period
from boucle_contracts.examples import example_of
from boucle_contracts.incidents.v1 import ComplaintReceivedV1
from boucle_contracts.metrics.v1 import (
    DimensionFigures,
    Granularity,
    ScopeMetricsUpdated,
    ScopeMetricsUpdatedV1,
)
from boucle_contracts.registry import AnyEvent, decode_event
from boucle_contracts.scope import Scope, ScopeLevel
from boucle_contracts.signals.v1 import (
    DegradationDetected,
    DegradationDetectedV1,
    Metric,
    Observation,
    Severity,
    StatisticalTest,
)
from tools.localstack import LocalIssuer

pytestmark = pytest.mark.integration
T = TypeVar("T")
NET, OTHER_NET = "net-int", "net-other"
ISSUER = LocalIssuer()


@dataclass
class Service:
    app: FastAPI
    settings: ActionsSettings
    producer: AIOKafkaProducer
    kafka_bootstrap: str

    def client(
        self, role: str = "quality_lead", network: str = NET, **claims: Any
    ) -> httpx.AsyncClient:
        token = ISSUER.token(network_id=network, role=role, subject=f"usr-{role}", **claims)
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app),
            base_url="http://actions",
            headers={"authorization": f"Bearer {token}"},
        )

    async def publish(self, event: AnyEvent) -> None:
        await self.producer.send_and_wait(
            self.settings.topic(event.TOPIC),
            event.to_json_bytes(),
            key=event.partition_key,
            headers=[(k, v.encode()) for k, v in wire.headers_for(event).items()],
        )

    async def events(self, topic: str, count: int) -> list[AnyEvent]:
        """The first ``count`` distinct events of the topic (at-least-once: ids dedupe)."""
        consumer = AIOKafkaConsumer(
            self.settings.topic(topic),
            bootstrap_servers=self.kafka_bootstrap,
            auto_offset_reset="earliest",
        )
        await consumer.start()
        found: dict[str, AnyEvent] = {}
        try:
            async with asyncio.timeout(30):
                while len(found) < count:
                    record = await consumer.getone()
                    event = decode_event(record.value or b"")
                    found.setdefault(event.id, event)
        finally:
            await consumer.stop()
        return list(found.values())


async def eventually(probe: Callable[[], Awaitable[T | None]], what: str) -> T:
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:
        result = await probe()
        if result:
            return result
        await asyncio.sleep(0.3)
    pytest.fail(f"{what} did not happen within 40 s")


@pytest.fixture
async def service(kafka_bootstrap: str, mongodb_uri: str, isolation: str) -> AsyncIterator[Service]:
    settings = ActionsSettings(
        kafka_bootstrap_servers=kafka_bootstrap,
        topic_prefix=f"{isolation}.",
        topic_partitions=2,
        mongodb_uri=mongodb_uri,
        mongodb_database=f"boucle_actions_{isolation}",
        auth_issuer=ISSUER.issuer,
        auth_audience=ISSUER.audience,
        auth_public_key=ISSUER.public_pem,
        sweep_interval_seconds=0.5,
        graceful_timeout_seconds=10,
        # These tests feed degradation events, the path kept with the setting off; drafts
        # from problems are tested in test_analyzer_problems_on_kafka.py.
        draft_per_problem=False,
    )
    app = create_app(settings)
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    await producer.start()
    try:
        async with app.router.lifespan_context(app):
            yield Service(app, settings, producer, kafka_bootstrap)
    finally:
        await producer.stop()
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongodb_uri)
        await client.drop_database(settings.mongodb_database)
        await client.close()


def complaint(site: str, n: int, received_at: datetime) -> ComplaintReceivedV1:
    base = example_of(ComplaintReceivedV1)
    return ComplaintReceivedV1.create(
        data=base.data.model_copy(
            update={"complaint_id": f"rec-{site}-{n}", "received_at": received_at}
        ),
        network_id=NET,
        site_id=site,
        source="/collector/api",
        event_id=f"evt-complaint-{site}-{n}",
    )


async def open_cases(service: Service, count: int) -> list[dict[str, Any]]:
    async with service.client() as http:

        async def listed() -> list[dict[str, Any]] | None:
            page = (await http.get(f"/v1/networks/{NET}/cases")).json()
            return page["items"] if page["total"] >= count else None

        return await eventually(listed, f"{count} cases")


async def test_access_rules_per_role_and_across_networks(service: Service) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    for n, site in enumerate(("lyon", "paris")):
        await service.publish(complaint(site, n, now - timedelta(hours=1)))
    cases = await open_cases(service, 2)
    lyon = next(c for c in cases if c["site_id"] == "lyon")
    paris = next(c for c in cases if c["site_id"] == "paris")
    base = f"/v1/networks/{NET}"
    period = {
        "period_start": (now - timedelta(days=30)).date().isoformat(),
        "period_end": now.date().isoformat(),
    }

    async with service.client("site_manager", site_ids=["lyon"]) as manager:
        mine = (await manager.get(f"{base}/cases")).json()
        assert [c["site_id"] for c in mine["items"]] == ["lyon"]
        assert (await manager.get(f"{base}/cases/{paris['case_id']}")).status_code == 403
        assert (await manager.get(f"{base}/cases?site_id=paris")).status_code == 403
        ack = await manager.post(
            f"{base}/cases/{lyon['case_id']}/transitions",
            json={"to": "acknowledged", "expected_revision": 1},
        )
        assert ack.status_code == 200, ack.text
        refused = await manager.post(
            f"{base}/cases/{paris['case_id']}/transitions",
            json={"to": "acknowledged", "expected_revision": 1},
        )
        assert refused.status_code == 403
        network_wide = await manager.post(f"{base}/actions", json={"title": "t", "problem": "p"})
        assert network_wide.status_code == 403

    async with service.client("auditor", site_ids=["paris"], **period) as auditor:
        seen = (await auditor.get(f"{base}/cases")).json()
        assert [c["site_id"] for c in seen["items"]] == ["paris"]
        write = await auditor.post(
            f"{base}/cases/{paris['case_id']}/transitions",
            json={"to": "acknowledged", "expected_revision": 1},
        )
        assert (write.status_code, write.json()["detail"]) == (
            403,
            "auditors have read-only access",
        )
        assert (
            await auditor.post(
                f"{base}/actions", json={"title": "t", "problem": "p", "site_id": "paris"}
            )
        ).status_code == 403

    old_period = {"period_start": "2020-01-01", "period_end": "2020-12-31"}
    async with service.client("auditor", site_ids=["paris"], **old_period) as past_auditor:
        assert (await past_auditor.get(f"{base}/cases")).json()["total"] == 0
        assert (await past_auditor.get(f"{base}/cases/{paris['case_id']}")).status_code == 403

    async with service.client(network=OTHER_NET) as stranger:
        cross = await stranger.get(f"{base}/cases")
        assert cross.status_code == 403
        assert OTHER_NET in cross.json()["detail"]
        own = await stranger.get(f"/v1/networks/{OTHER_NET}/cases/{lyon['case_id']}")
        assert own.status_code == 404, "another network's case does not exist for this one"
        assert (
            await stranger.post(
                f"{base}/cases/{lyon['case_id']}/transitions",
                json={"to": "acknowledged", "expected_revision": 2},
            )
        ).status_code == 403

    async with service.client("integration") as machine:
        assert (await machine.get(f"{base}/cases")).status_code == 403

    anonymous = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=service.app), base_url="http://a"
    )
    async with anonymous:
        assert (await anonymous.get(f"{base}/cases")).status_code == 401
        expired = ISSUER.token(network_id=NET, exp=int(time.time()) - 3600)
        forged = LocalIssuer().token(network_id=NET)
        for bad, reason in (
            (expired, "token expired"),
            (forged, "token signature does not verify"),
        ):
            reply = await anonymous.get(f"{base}/cases", headers={"authorization": f"Bearer {bad}"})
            assert (reply.status_code, reply.json()["detail"]) == (401, reason)
            assert "Bearer" in reply.headers["www-authenticate"]


async def test_a_case_lifecycle_with_conflicts_links_and_events(service: Service) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    await service.publish(complaint("lyon", 1, now - timedelta(hours=2)))
    (case,) = await open_cases(service, 1)
    url = f"/v1/networks/{NET}/cases/{case['case_id']}"

    async with service.client() as lead:
        steps = [
            {"to": "acknowledged", "expected_revision": 1},
            {"to": "analysed", "expected_revision": 2, "root_cause": "Serveur saturé."},
        ]
        for step in steps:
            moved = await lead.post(f"{url}/transitions", json=step)
            assert moved.status_code == 200, moved.text
        stale = await lead.post(
            f"{url}/transitions", json={"to": "answered", "expected_revision": 2, "answer": "R"}
        )
        assert stale.status_code == 409
        assert "revision" in stale.json()["detail"]
        guard = await lead.post(
            f"{url}/transitions", json={"to": "answered", "expected_revision": 3}
        )
        assert (guard.status_code, "answer" in guard.json()["detail"]) == (409, True)
        action = await lead.post(
            f"/v1/networks/{NET}/actions",
            json={
                "title": "Renforcer l'hébergement",
                "problem": "Coupures.",
                "case_id": case["case_id"],
                "site_id": "lyon",
            },
        )
        assert action.status_code == 201, action.text
        assert action.json()["origin"] == "complaint_case"
        answered = await lead.post(
            f"{url}/transitions",
            json={
                "to": "answered",
                "expected_revision": 3,
                "answer": "Nous avons renforcé l'hébergement.",
            },
        )
        assert answered.status_code == 200, answered.text
        closed = await lead.post(
            f"{url}/transitions", json={"to": "closed", "expected_revision": 4}
        )
        assert closed.json()["status"] == "closed"
        assert closed.json()["action_ids"] == [action.json()["action_id"]]
        history = [(h["from_status"], h["to_status"]) for h in closed.json()["history"]]
        assert history[-1] == ("answered", "closed")
        assert len(history) == 5
        closed_only = (await lead.get(f"/v1/networks/{NET}/cases?status=closed")).json()
        assert closed_only["total"] == 1
        metrics = (await lead.get("/metrics")).text
        assert "boucle_actions_time_to_acknowledge_seconds_count 1.0" in metrics
        assert "boucle_actions_time_to_answer_seconds_count 1.0" in metrics

    events = await service.events(CASES_TOPIC, 5)
    transitioned = [e.data for e in events if e.type.endswith("complaint_case_transitioned.v1")]
    assert [(t.to_status.value, t.revision) for t in transitioned] == [
        ("acknowledged", 2),
        ("analysed", 3),
        ("answered", 4),
        ("closed", 5),
    ]


async def test_per_network_deadlines_and_overdue_flags(service: Service) -> None:
    async with (
        service.client() as lead,
        service.client("site_manager", site_ids=["lyon"]) as manager,
    ):
        url = f"/v1/networks/{NET}/settings/deadlines"
        assert (
            await manager.put(url, json={"acknowledge_within_hours": 1, "answer_within_days": 2})
        ).status_code == 403
        assert (
            await lead.put(url, json={"acknowledge_within_hours": 1, "answer_within_days": 2})
        ).status_code == 200
        assert (await lead.get(url)).json() == {
            "acknowledge_within_hours": 1.0,
            "answer_within_days": 2.0,
        }
        now = datetime.now(UTC).replace(microsecond=0)
        await service.publish(complaint("lyon", 7, now - timedelta(hours=3)))
        (case,) = await open_cases(service, 1)
        assert datetime.fromisoformat(case["acknowledge_due_at"]) == now - timedelta(hours=2)

        async def flagged() -> list[str] | None:
            found = (await lead.get(f"/v1/networks/{NET}/cases/{case['case_id']}")).json()
            return found["overdue"] or None

        assert await eventually(flagged, "overdue flag") == ["acknowledge"]
        overdue = (await lead.get(f"/v1/networks/{NET}/cases?overdue=true")).json()
        assert [c["case_id"] for c in overdue["items"]] == [case["case_id"]]
        await asyncio.sleep(1.5)  # a few more sweeps: still one overdue event
        metrics = (await lead.get("/metrics")).text
        assert f'boucle_actions_overdue_cases{{network="{NET}",site="lyon"}} 1.0' in metrics
        assert 'boucle_actions_deadline_breaches_total{deadline="acknowledge"} 1.0' in metrics

    events = await service.events(CASES_TOPIC, 2)
    assert [e.type.rsplit(".", 2)[-2] for e in events] == [
        "complaint_case_opened",
        "complaint_case_overdue",
    ]


# --- improvement actions, drafts and effectiveness ------------------------------------


def weekly_figures(
    site: str, start: datetime, weeks: int, ratings: list[int]
) -> list[ScopeMetricsUpdatedV1]:
    scope = Scope(level=ScopeLevel.SITE, network_id=NET, site_id=site)
    figures = DimensionFigures(
        dimension="platform",
        count=len(ratings),
        total=sum(ratings),
        total_squares=sum(r * r for r in ratings),
        satisfied=sum(r >= 4 for r in ratings),
    )
    return [
        ScopeMetricsUpdatedV1.create(
            data=ScopeMetricsUpdated(
                scope=scope,
                granularity=Granularity.WEEK,
                period=Period(
                    start=start + timedelta(days=7 * n), end=start + timedelta(days=7 * (n + 1))
                ),
                responses=len(ratings),
                dimensions=(figures,),
                revision=1,
                last_event_id=f"evt-{site}-{n}",
            ),
            network_id=NET,
            site_id=site,
            source="/analyzer",
        )
        for n in range(weeks)
    ]


def degradation(site: str, detected_at: datetime) -> DegradationDetectedV1:
    window = Period(start=detected_at - timedelta(days=28), end=detected_at)
    return DegradationDetectedV1.create(
        data=DegradationDetected(
            degradation_id=f"deg-{site}",
            scope=Scope(level=ScopeLevel.SITE, network_id=NET, site_id=site, dimension="platform"),
            metric=Metric.MEAN_SATISFACTION,
            dimension="platform",
            detected_at=detected_at,
            baseline=Observation(value=4.1, sample_size=200, period=window),
            current=Observation(value=2.6, sample_size=40, period=window),
            tests=(
                StatisticalTest(
                    name="welch_t", statistic=-9.8, p_value=1e-9, comparison="own_baseline"
                ),
            ),
            severity=Severity.HIGH,
        ),
        network_id=NET,
        site_id=site,
        source="/analyzer",
        event_id=f"evt-deg-{site}",
    )


LOW = [2, 3, 2, 3, 3, 2, 3, 2, 3, 3]
HIGH = [4, 5, 4, 4, 5, 4, 3, 5, 4, 4]


async def test_drafts_from_degradations_are_evaluated_effective_or_reopened(
    service: Service,
) -> None:
    detected = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
    for site in ("lyon", "paris"):
        for event in weekly_figures(site, detected - timedelta(days=28), 4, LOW):
            await service.publish(event)
        await service.publish(degradation(site, detected))
        await service.publish(degradation(site, detected))  # redelivered: still one draft

    async with service.client() as lead:

        async def drafts() -> list[dict[str, Any]] | None:
            page = (
                await lead.get(f"/v1/networks/{NET}/actions?source=degradation&status=draft")
            ).json()
            return page["items"] if page["total"] == 2 else None

        by_site = {a["site_id"]: a for a in await eventually(drafts, "two drafts")}
        assert by_site["lyon"]["evidence"]["degradation_id"] == "deg-lyon"

        async def kpis_stored() -> bool:
            return len((await lead.get(f"/v1/networks/{NET}/kpis")).json()) == 8

        await eventually(kpis_stored, "before figures in the KPI read model")
        audit: dict[str, Any] = {
            "site_ids": ["lyon"],
            "period_start": (detected - timedelta(days=14)).date().isoformat(),
            "period_end": detected.date().isoformat(),
        }
        async with service.client("auditor", **audit) as auditor:
            seen = (await auditor.get(f"/v1/networks/{NET}/kpis")).json()
        assert {k["scope"]["site_id"] for k in seen} == {"lyon"}
        assert len(seen) == 2, "only the weeks that start within the audited period"
        for site, action in by_site.items():
            url = f"/v1/networks/{NET}/actions/{action['action_id']}"
            early = await lead.post(
                f"{url}/transitions", json={"to": "validated", "expected_revision": 1}
            )
            assert early.status_code == 409, "a draft is accepted before it is validated"
            revision = 1
            patch = await lead.patch(
                url,
                json={
                    "expected_revision": 1,
                    "owner": "usr-owner",
                    "due_date": "2030-01-31",
                    "measures": ["Nouvel hébergeur"],
                },
            )
            assert patch.status_code == 200, patch.text
            revision = patch.json()["revision"]
            conflict = await lead.patch(url, json={"expected_revision": 1, "owner": "usr-late"})
            assert conflict.status_code == 409
            emptied = await lead.patch(url, json={"expected_revision": revision, "title": None})
            assert emptied.status_code == 422
            assert emptied.json()["detail"][0]["loc"] == ["title"]
            for to in ("proposed", "validated", "in_progress", "done"):
                moved = await lead.post(
                    f"{url}/transitions", json={"to": to, "expected_revision": revision}
                )
                assert moved.status_code == 200, moved.text
                revision = moved.json()["revision"]
            done_at = datetime.fromisoformat(moved.json()["done_at"])
            assert moved.json()["validation"]["by"] == "usr-quality_lead"
            after = HIGH if site == "lyon" else LOW
            for event in weekly_figures(site, done_at, 4, after):
                await service.publish(event)

        await eventually(lambda: _count_kpis(lead, 16), "after figures in the KPI read model")
        outcomes = {}
        for site, action in by_site.items():
            evaluated = await lead.post(
                f"/v1/networks/{NET}/actions/{action['action_id']}/evaluation"
            )
            assert evaluated.status_code == 200, evaluated.text
            outcomes[site] = (
                evaluated.json()["status"],
                evaluated.json()["evaluations"][-1]["outcome"],
            )

    assert outcomes == {"lyon": ("effective", "effective"), "paris": ("reopened", "not_effective")}
    # Per action: created, updated, 4 transitions, evaluated; then effective (lyon) or not
    # effective and reopened (paris): 17 distinct events, whatever the redeliveries.
    events = await service.events(ACTIONS_TOPIC, 17)
    kinds = [e.type.rsplit(".", 2)[-2] for e in events]
    assert kinds.count("improvement_action_created") == 2
    assert kinds.count("improvement_action_updated") == 2
    assert kinds.count("improvement_action_evaluated") == 2
    paris = [
        e.data.to_status.value
        for e in events
        if e.type.endswith("transitioned.v1") and e.data.action_id == by_site["paris"]["action_id"]
    ]
    assert paris[-2:] == ["not_effective", "reopened"]


async def _count_kpis(http: httpx.AsyncClient, count: int) -> bool:
    return len((await http.get(f"/v1/networks/{NET}/kpis")).json()) == count


async def test_meetings_record_evidence_and_the_actions_they_led_to(service: Service) -> None:
    async with (
        service.client() as lead,
        service.client("site_manager", site_ids=["lyon"]) as manager,
    ):
        meeting = await manager.post(
            f"/v1/networks/{NET}/meetings",
            json={
                "held_at": "2025-03-20T14:00:00Z",
                "title": "Réunion d'analyse trimestrielle",
                "site_id": "lyon",
                "attendees": ["usr-site", "usr-formateur"],
                "data_reviewed": ["Tableau de bord T1", "Verbatims plateforme"],
                "decisions": ["Changer d'hébergeur"],
            },
        )
        assert meeting.status_code == 201, meeting.text
        meeting_id = meeting.json()["meeting_id"]
        created = await manager.post(
            f"/v1/networks/{NET}/actions",
            json={
                "title": "Changer d'hébergeur",
                "problem": "Coupures",
                "site_id": "lyon",
                "meeting_id": meeting_id,
                "owner": "usr-site",
            },
        )
        assert created.status_code == 201, created.text
        assert created.json()["origin"] == "meeting"
        found = (await lead.get(f"/v1/networks/{NET}/meetings/{meeting_id}")).json()
        assert found["action_ids"] == [created.json()["action_id"]]
        mine = (await lead.get(f"/v1/networks/{NET}/actions?owner=usr-site&source=meeting")).json()
        assert mine["total"] == 1
        late = await lead.post(
            f"/v1/networks/{NET}/actions",
            json={
                "title": "Relancer",
                "problem": "p",
                "site_id": "paris",
                "due_date": "2020-01-31",
            },
        )
        overdue = (await lead.get(f"/v1/networks/{NET}/actions?overdue=true")).json()
        assert [a["action_id"] for a in overdue["items"]] == [late.json()["action_id"]]
        page = (await lead.get(f"/v1/networks/{NET}/actions?limit=1&offset=2")).json()
        assert (page["total"], page["items"]) == (2, [])
        first = (await lead.get(f"/v1/networks/{NET}/actions?limit=1")).json()
        assert [a["action_id"] for a in first["items"]] != []
        validate = await manager.post(
            f"/v1/networks/{NET}/actions/{created.json()['action_id']}/transitions",
            json={"to": "validated", "expected_revision": 1},
        )
        assert (validate.status_code, "management" in validate.json()["detail"]) == (409, True)

    events = {e.subject: e for e in await service.events(ACTIONS_TOPIC, 3)}
    recorded = events[f"meeting/{meeting_id}"]
    made = events[f"action/{created.json()['action_id']}"]
    assert recorded.type == "fr.boucle.actions.analysis_meeting_recorded.v1"
    assert recorded.data.decisions == ("Changer d'hébergeur",)
    assert [(s.kind, s.ref) for s in made.data.sources] == [("meeting", meeting_id)]


async def test_a_request_id_is_scoped_to_the_site_it_was_first_used_for(service: Service) -> None:
    base = f"/v1/networks/{NET}"
    action = {"title": "Accueil", "problem": "Accueil jugé froid", "request_id": "req-shared"}
    meeting = {
        "held_at": "2025-03-20T14:00:00Z",
        "title": "Bilan de session",
        "attendees": ["usr-site"],
        "request_id": "mtg-shared",
    }
    async with (
        service.client("site_manager", site_ids=["lyon"]) as lyon,
        service.client("site_manager", site_ids=["paris"]) as paris,
    ):
        made = await lyon.post(f"{base}/actions", json=action | {"site_id": "lyon"})
        assert made.status_code == 201, made.text
        again = await lyon.post(f"{base}/actions", json=action | {"site_id": "lyon"})
        assert (again.status_code, again.json()["action_id"]) == (201, made.json()["action_id"])
        replayed = await paris.post(f"{base}/actions", json=action | {"site_id": "paris"})
        assert replayed.status_code == 409, replayed.text
        assert "already used for an action of another site" in replayed.json()["detail"]
        assert made.json()["action_id"] not in replayed.text

        recorded = await lyon.post(f"{base}/meetings", json=meeting | {"site_id": "lyon"})
        assert recorded.status_code == 201, recorded.text
        reused = await paris.post(f"{base}/meetings", json=meeting | {"site_id": "paris"})
        assert reused.status_code == 409, reused.text
        assert "already used for a meeting of another site" in reused.json()["detail"]
        assert recorded.json()["meeting_id"] not in reused.text

        assert (await paris.get(f"{base}/actions")).json()["total"] == 0
        assert (await paris.get(f"{base}/meetings")).json()["total"] == 0


async def test_acts_recorded_after_the_fact_through_the_api(service: Service) -> None:
    """``occurred_at`` on case and action transitions, creation and evaluation: the act's
    date in the history and the events, ``recorded_at`` beside it; 422 when it is in the
    future or before the item's last act."""
    received = datetime.now(UTC).replace(microsecond=0) - timedelta(days=60)
    await service.publish(complaint("lyon", 7, received))
    (case,) = await open_cases(service, 1)
    url = f"/v1/networks/{NET}/cases/{case['case_id']}"

    def at(days: float) -> str:
        return (received + timedelta(days=days)).isoformat()

    async with service.client() as lead:
        early = await lead.post(
            f"{url}/transitions",
            json={"to": "acknowledged", "expected_revision": 1, "occurred_at": at(-1)},
        )
        future = await lead.post(
            f"{url}/transitions",
            json={"to": "acknowledged", "expected_revision": 1, "occurred_at": at(61)},
        )
        naive = await lead.post(
            f"{url}/transitions",
            json={"to": "acknowledged", "expected_revision": 1, "occurred_at": "2025-03-18T10:00"},
        )
        acknowledged = await lead.post(
            f"{url}/transitions",
            json={"to": "acknowledged", "expected_revision": 1, "occurred_at": at(1)},
        )
        created = await lead.post(
            f"/v1/networks/{NET}/actions",
            json={
                "title": "Renforcer l'hébergement",
                "problem": "Coupures.",
                "case_id": case["case_id"],
                "site_id": "lyon",
                "measures": ["Changer d'hébergeur"],
                "owner": "usr-owner",
                "due_date": (received + timedelta(days=30)).date().isoformat(),
                "occurred_at": at(3),
            },
        )
        action_url = f"/v1/networks/{NET}/actions/{created.json()['action_id']}"
        validated = await lead.post(
            f"{action_url}/transitions",
            json={"to": "validated", "expected_revision": 1, "occurred_at": at(5)},
        )
        out_of_order = await lead.post(
            f"{action_url}/transitions",
            json={"to": "in_progress", "expected_revision": 2, "occurred_at": at(4)},
        )
        for revision, (to, day) in enumerate((("in_progress", 6), ("done", 20)), start=2):
            moved = await lead.post(
                f"{action_url}/transitions",
                json={"to": to, "expected_revision": revision, "occurred_at": at(day)},
            )
            assert moved.status_code == 200, moved.text
        evaluated = await lead.post(f"{action_url}/evaluation", json={"occurred_at": at(50)})

    for refused in (early, future, out_of_order):
        assert refused.status_code == 422, refused.text
        (problem,) = refused.json()["detail"]
        assert problem["loc"] == ["body", "occurred_at"]
    assert "future" in future.json()["detail"][0]["msg"]
    assert naive.status_code == 422
    assert acknowledged.status_code == 200, acknowledged.text
    assert acknowledged.json()["acknowledged_at"] == at(1).replace("+00:00", "Z")
    history = acknowledged.json()["history"][-1]
    assert history["at"] == at(1).replace("+00:00", "Z")
    assert history["recorded_at"] > history["at"]
    assert created.status_code == 201, created.text
    assert created.json()["created_at"] == at(3).replace("+00:00", "Z")
    assert validated.json()["validation"]["at"] == at(5).replace("+00:00", "Z")
    assert evaluated.status_code == 200, evaluated.text
    action = evaluated.json()
    assert (action["started_at"], action["evaluations"][-1]["at"]) == (
        at(6).replace("+00:00", "Z"),
        at(50).replace("+00:00", "Z"),
    )
    events = await service.events(ACTIONS_TOPIC, 5)
    moves = [e.data for e in events if e.type.endswith("action_transitioned.v1")]
    assert [m.at for m in moves[:3]] == [received + timedelta(days=d) for d in (5, 6, 20)]
    assert all(m.recorded_at is not None and m.recorded_at > m.at for m in moves)
