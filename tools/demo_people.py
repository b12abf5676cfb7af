"""The people of the demo, acting in data time through the actions service's HTTP API.

Every act is recorded after the fact with the date it happened (``occurred_at``), never
later than now, each after the one before it:

* site managers acknowledge complaints and hazards within 48 h (a few later, as in life),
  analyse them (root cause), answer within the network's deadline (a few late) and close
  them; a complaint received in the last days is still being handled;
* the direction validates the plans in the monthly analysis meeting (recorded: attendees,
  data reviewed, decisions); the quality lead fills each draft (analysis of causes,
  measures, owner, objective, due date), proposes it, starts it, informs the stakeholders
  and closes it when the fix is in;
* each measure is evaluated once a full window of answers follows it: effective where
  satisfaction recovered, else re-opened with new measures.

Pure planning (``case_plan``, ``action_plan``, ``meetings``) is kept apart from the calls.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import httpx
from babel.dates import format_date

from tools.sample_network import (
    DIRECTOR,
    EVALUATION_DAYS,
    IT_MANAGER,
    QUALITY_LEAD,
    SampleNetwork,
    names_of,
    site_label,
    site_manager,
)

ACKNOWLEDGE_HOURS = 48
ANSWER_DAYS = 15
LATE_SHARE = 0.1  # acknowledgements and answers given after their deadline
MEETING_HOUR = 14
Json = dict[str, Any]

ROOT_CAUSES = {
    ("complaint", "platform"): (
        "Coupures de la plateforme en ligne aux heures de cours : l'hébergement ne tient "
        "plus la charge depuis la hausse des inscriptions (confirmé par le prestataire)."
    ),
    ("hazard", "platform"): (
        "Indisponibilité de la plateforme signalée par l'équipe : saturation du serveur "
        "d'hébergement ; séance reportée et modules rouverts le soir même."
    ),
    ("complaint", "administration"): (
        "Attestations de présence éditées à la main en fin de session ; leur envoi au "
        "financeur a été oublié pendant le remplacement de l'assistante du site."
    ),
    ("complaint", "organisation"): (
        "Panne du chauffage de la salle 2, signalée au propriétaire des locaux."
    ),
    ("difficulty", "content"): (
        "Prérequis en tableur non acquis à l'entrée en formation : le positionnement initial "
        "ne les évaluait pas."
    ),
}
ANSWERS = {
    ("complaint", "platform"): (
        "Nous vous prions de nous excuser pour ces coupures. L'hébergement de la plateforme "
        "est en cours de renforcement ; votre accès aux modules est prolongé de deux "
        "semaines et le support technique reste joignable pendant vos séances."
    ),
    ("hazard", "platform"): (
        "Séance reprogrammée avec les apprenants concernés ; incident transmis au "
        "responsable des systèmes d'information pour le plan d'action réseau."
    ),
    ("complaint", "administration"): (
        "Veuillez nous excuser pour ce retard : l'attestation de présence vous a été "
        "envoyée ce jour. Les attestations partent désormais automatiquement en fin de "
        "session."
    ),
    ("complaint", "organisation"): (
        "Veuillez nous excuser : la séance a lieu désormais en salle 1 jusqu'à la réparation."
    ),
    ("difficulty", "content"): (
        "Deux séances de remise à niveau proposées à l'apprenant avec son formateur ; "
        "point de suivi à mi-parcours avec le responsable du site."
    ),
}


@dataclass(frozen=True, slots=True)
class Act:
    """One step of an item's life: where it goes, when, and what is said."""

    to: str
    at: datetime
    body: Json = field(default_factory=dict)


def _key(case: Json) -> tuple[str, str]:
    """Which texts a case gets: by its source and category, else its source's first."""
    key = (str(case["source"]), str(case.get("category") or ""))
    if key in ROOT_CAUSES:
        return key
    return next((k for k in ROOT_CAUSES if k[0] == key[0]), ("complaint", "administration"))


def case_plan(case: Json, rng: random.Random) -> list[Act]:
    """Acknowledged, analysed, answered and closed, dated from the case's opening."""
    opened = datetime.fromisoformat(case["opened_at"])
    late = rng.random() < LATE_SHARE
    acknowledged = opened + timedelta(
        hours=rng.uniform(50, 70) if late else rng.uniform(2, ACKNOWLEDGE_HOURS - 8)
    )
    analysed = acknowledged + timedelta(days=rng.uniform(1, 3))
    due = datetime.fromisoformat(case["answer_due_at"]) if case.get("answer_due_at") else None
    answered = analysed + timedelta(days=rng.uniform(1, 4))
    if due is not None:
        answered = (
            due + timedelta(days=rng.uniform(1, 3))
            if rng.random() < LATE_SHARE
            else min(answered, due - timedelta(hours=rng.uniform(2, 30)))
        )
    answered = max(answered, analysed + timedelta(hours=2))
    key = _key(case)
    return [
        Act("acknowledged", acknowledged, {"note": "Accusé de réception envoyé."}),
        Act("analysed", analysed, {"root_cause": ROOT_CAUSES[key]}),
        Act("answered", answered, {"answer": ANSWERS[key]}),
        Act("closed", answered + timedelta(days=2), {"note": "Pas de retour du plaignant."}),
    ]


def meetings(network: SampleNetwork, now: datetime) -> list[datetime]:
    """The monthly analysis meetings since the incidents began: a Tuesday afternoon every
    four weeks, the first three weeks after the onset (drafts are in, fixes not yet)."""
    first = network.onset + timedelta(weeks=3, days=1, hours=MEETING_HOUR)
    held: list[datetime] = []
    while first + timedelta(weeks=4 * len(held)) < now:
        held.append(first + timedelta(weeks=4 * len(held)))
    return held


def next_meeting(held: list[datetime], after: datetime) -> datetime | None:
    return next((m for m in held if m > after), None)


@dataclass(frozen=True, slots=True)
class Plan:
    """What the quality lead writes into a draft, and when each of its acts happens."""

    kind: str  # platform, trainer or noise
    details: Json
    analysed_at: datetime
    validated_at: datetime | None
    done_at: datetime | None
    informed: list[Json]


def _sites_of(action: Json) -> list[str]:
    evidence = action.get("evidence") or {}
    sites = [s.get("site_id") for s in evidence.get("scopes", []) if s.get("site_id")]
    return sites or ([action["site_id"]] if action.get("site_id") else [])


def _day(moment: datetime, days: int, hour: int) -> datetime:
    return datetime.combine((moment + timedelta(days=days)).date(), time(hour), UTC)


def action_plan(
    action: Json, network: SampleNetwork, held: list[datetime], now: datetime | None = None
) -> Plan:
    """The analysis and measures of a draft, from what the sample knows of its causes; a
    draft of the last days is analysed by ``now`` (its plan waits for the next meeting)."""
    sites = _sites_of(action)
    created = datetime.fromisoformat(action["created_at"])
    analysed = _day(created, 2, 10)
    if now is not None and analysed > now:
        analysed = max(created + timedelta(minutes=30), now - timedelta(minutes=30))
    validated = next_meeting(held, analysed)
    started = _day(validated, 1, 9) if validated else None
    kpi = action.get("kpi") or {}
    target = f"{kpi['target']:.1f}".replace(".", ",") if kpi.get("target") else None
    places = ", ".join(site_label(s) for s in sites) or "réseau"
    if set(sites) & set(network.platform_sites):
        details: Json = {
            "owner": IT_MANAGER,
            "contributors": [site_manager(s) for s in sites],
            "root_cause_analysis": (
                "Analyse menée avec le prestataire d'hébergement et les responsables des "
                f"sites ({places}) : serveur de la plateforme sous-dimensionné depuis la "
                "hausse des inscriptions, coupures aux heures de cours ; les aléas déclarés, "
                "les réclamations et les commentaires des apprenants le confirment."
            ),
            "measures": [
                "Migrer la plateforme vers un hébergement redondant sur deux zones",
                "Support technique joignable pendant toutes les séances",
                "Prolonger de deux semaines l'accès aux modules des apprenants concernés",
            ],
            "resources": "Budget d'hébergement revu ; prestataire sous contrat.",
        }
        done = network.fixed_at + timedelta(hours=9)
        kind = "platform"
    elif network.trainer_site in sites:
        site = network.trainer_site
        assert site is not None
        details = {
            "owner": site_manager(site),
            "contributors": [QUALITY_LEAD],
            "root_cause_analysis": (
                "Entretien avec le formateur et observation d'une séance : planning réparti "
                "sur trois sites, retards et préparation insuffisante ; confirmé par les "
                "commentaires des apprenants sur l'animation."
            ),
            "measures": [
                "Confier les sessions du site à un autre formateur référent",
                "Accompagnement pédagogique du nouveau formateur pendant un mois",
                "Point hebdomadaire du responsable de site avec les apprenants",
            ],
        }
        done = network.trainer_fixed_at + timedelta(hours=9)
        kind = "trainer"
    else:
        details = {
            "owner": site_manager(sites[0]) if sites else QUALITY_LEAD,
            "root_cause_analysis": (
                "Baisse ponctuelle sur de petits effectifs, sans cause commune dans les "
                "commentaires ni dans les réclamations : pas de mesure structurelle, suivi "
                "renforcé au bilan mensuel suivant."
            ),
        }
        done, kind = None, "noise"
    if started is not None and done is not None and done <= started:
        done = _day(started, 14, 9)  # validated after the fix: closed two weeks on
    if kind != "noise":
        details |= {
            "objective": (
                f"Revenir à au moins {target} sur 5 dans les quatre semaines suivant la mesure"
                if target
                else "Revenir au niveau d'avant la baisse dans les quatre semaines"
            ),
            # a plan not validated yet is due four weeks after its analysis
            "due_date": (
                done.date() + timedelta(days=7)
                if done and validated
                else analysed.date() + timedelta(weeks=4)
            ).isoformat(),
        }
    informed = (
        [
            {
                "who": "Apprenants des sessions concernées",
                "when": _day(started, 1, 11).isoformat(),
                "how": "e-mail",
            },
            {
                "who": "Formateurs et équipes des sites concernés",
                "when": _day(started, 2, 9).isoformat(),
                "how": "réunion d'équipe",
            },
        ]
        if started is not None and kind != "noise"
        else []
    )
    return Plan(kind, details, analysed, validated, done, informed)


class Api:
    """The actions service as each person sees it: their own token, retries on 409."""

    def __init__(
        self, base_url: str, network: SampleNetwork, token: Callable[..., str], now: datetime
    ) -> None:
        self.network = network
        self.now = now
        self._base = f"/v1/networks/{network.network_id}"
        self._clients = {
            who: httpx.AsyncClient(
                base_url=base_url, timeout=60, headers={"authorization": f"Bearer {tok}"}
            )
            for who, tok in self._tokens(token).items()
        }

    def _tokens(self, token: Callable[..., str]) -> dict[str, str]:
        n = self.network.network_id
        tokens = {
            QUALITY_LEAD: token(network_id=n, role="quality_lead", subject=QUALITY_LEAD),
            DIRECTOR: token(network_id=n, role="direction", subject=DIRECTOR),
        }
        for site in self.network.sites:
            tokens[site_manager(site)] = token(
                network_id=n, role="site_manager", subject=site_manager(site), site_ids=[site]
            )
        return tokens

    async def close(self) -> None:
        for http in self._clients.values():
            await http.aclose()

    async def get(self, path: str, **params: str) -> Any:
        reply = await self._clients[QUALITY_LEAD].get(f"{self._base}{path}", params=params)
        return reply.raise_for_status().json()

    async def listing(self, path: str, **params: str) -> list[Json]:
        items: list[Json] = []
        while True:
            page = await self.get(path, offset=str(len(items)), limit="200", **params)
            items += page["items"]
            if not page["items"] or len(items) >= page["total"]:
                return items

    async def write(
        self, who: str, method: str, path: str, body: Json, *, revised: bool = True
    ) -> Json:
        """As ``who``; ``expected_revision`` read afresh and the write retried on 409 (a
        system note added meanwhile)."""
        http = self._clients.get(who, self._clients[QUALITY_LEAD])
        item_path = path.rsplit("/", 1)[0] if path.endswith(("transitions", "evaluation")) else path
        for _ in range(5):
            if revised:
                body = body | {"expected_revision": (await self.get(item_path))["revision"]}
            reply = await http.request(method, f"{self._base}{path}", json=body)
            if reply.status_code != 409 or not revised:
                break
        if reply.status_code >= 400:
            raise RuntimeError(f"{method} {path} answered {reply.status_code}: {reply.text[:400]}")
        result: Json = reply.json()
        return result

    def due(self, moment: datetime | None) -> bool:
        """Whether an act dated ``moment`` has happened by now."""
        return moment is not None and moment <= self.now


async def handle_cases(api: Api, rng: random.Random) -> Counter[str]:
    """Every case taken through its acts that have happened: ``status`` counts."""
    statuses: Counter[str] = Counter()
    cases = sorted(await api.listing("/cases"), key=lambda c: (c["opened_at"], c["case_id"]))
    for listed in cases:
        case = listed
        manager = site_manager(case["site_id"]) if case.get("site_id") else QUALITY_LEAD
        for act in case_plan(listed, rng):
            if not api.due(act.at) or _passed(case, act.to):
                continue
            case = await api.write(
                manager,
                "POST",
                f"/cases/{case['case_id']}/transitions",
                {"to": act.to, "occurred_at": act.at.isoformat(), **act.body},
            )
        statuses[case["status"]] += 1
    return statuses


CASE_ORDER = ("received", "acknowledged", "analysed", "answered", "closed")


def _passed(item: Json, to: str) -> bool:
    """Whether the case already went through ``to`` (a re-run of the demo)."""
    status = item["status"]
    return status in CASE_ORDER and CASE_ORDER.index(status) >= CASE_ORDER.index(to)


@dataclass
class Story:
    """What the people did to the actions, for the meetings' minutes and the summary."""

    outcomes: Counter[str] = field(default_factory=Counter)
    decisions: dict[datetime, list[str]] = field(default_factory=dict)

    def decide(self, meeting: datetime | None, text: str) -> None:
        if meeting is not None:
            self.decisions.setdefault(meeting, []).append(text)


def _month(day: datetime) -> str:
    return format_date(day, "MMMM y", locale="fr_FR")


def _fr(day: date | datetime) -> str:
    return format_date(day, format="long", locale="fr_FR")


async def carry_out_actions(api: Api, network: SampleNetwork, held: list[datetime]) -> Story:
    """Each drafted action analysed, proposed, validated at a meeting, run, closed when its
    fix is in, evaluated after a full window, re-opened if it did not work."""
    story, names = Story(), names_of(network)
    drafts = await api.listing("/actions", source="degradation")
    for action in sorted(drafts, key=lambda a: (a["created_at"], a["action_id"])):
        plan = action_plan(action, network, held, api.now)
        await _follow(api, network, action, plan, story, names)
    return story


async def _follow(
    api: Api, network: SampleNetwork, action: Json, plan: Plan, story: Story, names: dict[str, str]
) -> None:
    url = f"/actions/{action['action_id']}"
    lead = QUALITY_LEAD

    async def move(to: str, at: datetime, who: str = lead, note: str | None = None) -> None:
        nonlocal action
        body: Json = {"to": to, "occurred_at": at.isoformat()}
        if note:
            body["note"] = note
        action = await api.write(who, "POST", f"{url}/transitions", body)

    if action["status"] == "draft" and api.due(plan.analysed_at):
        changes = {k: v for k, v in plan.details.items() if v is not None}
        action = await api.write(
            lead, "PATCH", url, changes | {"occurred_at": plan.analysed_at.isoformat()}
        )
        if plan.kind == "noise":
            await move(
                "cancelled",
                plan.analysed_at + timedelta(hours=1),
                note="Classée sans suite après analyse : baisse ponctuelle, sans cause commune.",
            )
            story.decide(
                plan.validated_at, f"Baisse classée sans suite après analyse : {action['title']}"
            )
        else:
            await move("proposed", plan.analysed_at + timedelta(hours=1))
    if action["status"] == "proposed" and api.due(plan.validated_at):
        assert plan.validated_at is not None
        owner = names.get(plan.details["owner"], plan.details["owner"])
        await move(
            "validated",
            plan.validated_at + timedelta(hours=1),
            DIRECTOR,
            f"Plan validé en réunion d'analyse du {_fr(plan.validated_at)}.",
        )
        due = plan.details.get("due_date")
        story.decide(
            plan.validated_at,
            f"Plan validé : {action['title']} ; responsable {owner}"
            + (f", échéance le {_fr(date.fromisoformat(due))}" if due else ""),
        )
    start = _day(plan.validated_at, 1, 9) if plan.validated_at else None
    if action["status"] == "validated" and start is not None and api.due(start):
        await move("in_progress", start)
        if plan.informed and all(api.due(datetime.fromisoformat(n["when"])) for n in plan.informed):
            last = max(datetime.fromisoformat(n["when"]) for n in plan.informed)
            action = await api.write(
                lead,
                "PATCH",
                url,
                {"stakeholders_informed": plan.informed, "occurred_at": last.isoformat()},
            )
    if action["status"] == "in_progress" and api.due(plan.done_at):
        assert plan.done_at is not None
        await move("done", plan.done_at, note="Mesures en place.")
    await _evaluate(api, network, action, plan, story)


async def _evaluate(
    api: Api, network: SampleNetwork, action: Json, plan: Plan, story: Story
) -> None:
    url = f"/actions/{action['action_id']}"
    if action["status"] == "done" and plan.done_at is not None:
        at = _day(plan.done_at, EVALUATION_DAYS + 1, 8)
        if api.due(at):
            action = await api.write(
                QUALITY_LEAD,
                "POST",
                f"{url}/evaluation",
                {"occurred_at": at.isoformat()},
                revised=False,
            )
            if action["status"] == "effective":
                held = meetings(network, api.now)
                story.decide(
                    next_meeting(held, at),
                    f"Efficacité constatée et mesure close : {action['title']}",
                )
    if action["status"] == "not_effective":
        evaluated = datetime.fromisoformat(action["evaluations"][-1]["at"])
        held = meetings(network, api.now)
        meeting = next_meeting(held, evaluated) or _day(evaluated, 2, 10)
        if api.due(meeting):
            note = "Réouverte en réunion : la satisfaction n'est pas revenue partout."
            action = await api.write(
                DIRECTOR,
                "POST",
                f"{url}/transitions",
                {"to": "reopened", "occurred_at": meeting.isoformat(), "note": note},
            )
            story.decide(
                meeting if meeting in held else None, f"Action rouverte : {action['title']}"
            )
            measures = [
                *action.get("measures", []),
                "Basculer les sites encore touchés sur le nouvel hébergement",
            ]
            action = await api.write(
                QUALITY_LEAD,
                "PATCH",
                url,
                {
                    "measures": measures,
                    "due_date": (meeting.date() + timedelta(weeks=4)).isoformat(),
                    "occurred_at": (meeting + timedelta(hours=2)).isoformat(),
                },
            )
            restart = _day(meeting, 1, 9)
            if api.due(restart):
                action = await api.write(
                    QUALITY_LEAD,
                    "POST",
                    f"{url}/transitions",
                    {"to": "in_progress", "occurred_at": restart.isoformat()},
                )
    story.outcomes[f"{action['title']} → {action['status']}"] += 1


async def correct_the_wave(api: Api, network: SampleNetwork, held: list[datetime]) -> Json | None:
    """The funders' complaints about attendance certificates: answered one by one (the
    correction), and one corrective action on their cause, decided at the first meeting
    after the wave, running until its due date."""
    first, last = network.complaint_wave
    meeting = next_meeting(held, last + timedelta(weeks=1))
    if meeting is None:
        return None
    cases = [
        c
        for c in await api.listing("/cases", source="complaint")
        if c.get("category") == "administration"
        and first <= datetime.fromisoformat(c["opened_at"]) < meeting
    ]
    if not cases:
        return None
    earliest = min(cases, key=lambda c: c["opened_at"])
    body: Json = {
        "request_id": f"demo-attestations-{network.seed}",
        "title": "Envoi automatique des attestations de présence aux financeurs",
        "problem": (
            f"{len(cases)} réclamations de financeurs : attestations de présence manquantes "
            "en fin de session, paiements retardés."
        ),
        "root_cause_analysis": ROOT_CAUSES[("complaint", "administration")],
        "objective": "Plus aucune réclamation de financeur pour attestation manquante",
        "kpi": {"metric": "complaint_rate", "target": 1.0},
        "measures": [
            "Générer les attestations depuis l'outil de gestion à la clôture de chaque session",
            "Envoi automatique au financeur, copie au responsable de site",
        ],
        "owner": QUALITY_LEAD,
        "due_date": (meeting.date() + timedelta(weeks=8)).isoformat(),
        "priority": "high",
        "case_id": earliest["case_id"],
        "sources": [{"kind": "complaint", "ref": c["source_ref"]} for c in cases],
        "occurred_at": (meeting + timedelta(hours=1)).isoformat(),
    }
    action: Json = await api.write(QUALITY_LEAD, "POST", "/actions", body, revised=False)
    url = f"/actions/{action['action_id']}"
    steps = [
        ("proposed", meeting + timedelta(hours=1, minutes=30), QUALITY_LEAD),
        ("validated", meeting + timedelta(hours=2), DIRECTOR),
        ("in_progress", _day(meeting, 1, 9), QUALITY_LEAD),
    ]
    for to, at, who in steps:
        if action["status"] != "draft" and to == "proposed":
            continue
        if api.due(at) and CASE_ORDER_ACTIONS.index(action["status"]) < CASE_ORDER_ACTIONS.index(
            to
        ):
            action = await api.write(
                who, "POST", f"{url}/transitions", {"to": to, "occurred_at": at.isoformat()}
            )
    return action


CASE_ORDER_ACTIONS = ("draft", "proposed", "validated", "in_progress", "done")


async def record_meetings(
    api: Api, network: SampleNetwork, held: list[datetime], story: Story
) -> int:
    """One analysis meeting a month: attendees, data reviewed, decisions (the minutes)."""
    attendees = [QUALITY_LEAD, DIRECTOR, IT_MANAGER, *(site_manager(s) for s in network.sites)]
    for index, held_at in enumerate(held):
        decisions = story.decisions.get(held_at) or [
            "Suivi des plans en cours : mesures en place, évaluation à l'issue de la fenêtre "
            f"de {EVALUATION_DAYS // 7} semaines."
        ]
        await api.write(
            QUALITY_LEAD,
            "POST",
            "/meetings",
            {
                "request_id": f"demo-reunion-{network.seed}-{held_at:%Y%m%d}",
                "kind": "analysis",
                "held_at": held_at.isoformat(),
                "title": f"Réunion mensuelle d'analyse — {_month(held_at)}",
                "attendees": attendees,
                "data_reviewed": [
                    "Satisfaction hebdomadaire par site et par dimension, avec les effectifs",
                    "Réclamations et aléas du mois, délais d'accusé de réception et de réponse",
                    "Commentaires négatifs des apprenants : thèmes et verbatims",
                    *(["Évaluations d'efficacité des mesures closes"] if index else []),
                ],
                "decisions": decisions,
            },
            revised=False,
        )
    return len(held)
