"""A seeded, realistic sample training network: sites, learners, surveys, complaints, dropouts.

Pure generation (no I/O) so that the main job and tests get the same data for the same
seed. Every site runs a weekly session (fewer learners in August, none at Christmas);
learners answer the hot survey at about 80 % and the cold one, four weeks later, at about
40 %; funders, trainers and companies answer a cold survey at about 40 %. Nothing is dated
on or after ``today`` (the day the demo runs): the data ends yesterday. Scenarios, dated
relative to today:

* a Formation-Dynamix-like online-platform outage at a few sites from eleven weeks before
  today: platform ratings drop, comments (in French) blame the platform, hazards are
  reported; it is fixed six weeks before today at every degraded site but the last one,
  whose learners go on rating the platform low;
* a trainer-related drop at one other site from the same week, fixed five weeks before
  today (the trainer is replaced);
* now and then, a trainer reports a learner's difficulty;
* a wave of funder complaints (missing attendance certificates) about two months before
  today;
* a complaint received yesterday, whose answer is still due today.

So the people of the demo (``tools.demo_loop``) act in data time: they analyse and answer
as the weeks go, validate plans in the monthly analysis meeting, and evaluate the measures
on the real weeks of answers given after them.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from boucle_contracts.common import ContractModel, RespondentRole, StakeholderRole, TrainingRef
from boucle_contracts.feedback.v1 import Comment, ScaleAnswer, SurveyKind, SurveyResponseSubmitted
from boucle_contracts.incidents.v1 import (
    ComplaintReceived,
    HazardReported,
    IncidentKind,
    ReceptionChannel,
)
from boucle_contracts.training.v1 import (
    DropoutReason,
    DropoutRecorded,
    EnrolmentRecorded,
    FundingSource,
)

CITIES = (
    "lyon",
    "paris-11",
    "marseille",
    "lille",
    "nantes",
    "bordeaux",
    "toulouse",
    "rennes",
    "strasbourg",
    "montpellier",
    "grenoble",
    "dijon",
    "tours",
    "rouen",
    "reims",
    "brest",
)
PLATFORM_COMPLAINTS = (
    "La plateforme en ligne coupe souvent, impossible de finir le module.",
    "Connexion à la plateforme très instable cette semaine.",
    "Les vidéos ne se chargent pas sur la plateforme, je perds beaucoup de temps.",
)
TRAINER_COMPLAINTS = (
    "Le formateur arrive en retard et ne répond pas aux questions.",
    "Formateur peu disponible, explications confuses.",
)
PRAISE = (
    "Formateur très à l'écoute.",
    "Contenu clair et concret.",
    "Bonne organisation des sessions.",
)
DIMENSIONS = ("overall", "platform", "trainer", "content")
ONSET_WEEKS = 11  # the incidents start this many weeks before today
PLATFORM_FIX_WEEKS = 6  # the platform is fixed (all sites but one) this many weeks before today
TRAINER_FIX_WEEKS = 5  # the trainer is replaced this many weeks before today
EVALUATION_DAYS = 28  # the window a measure's effect is read on, before and after it
COMPLAINT_WAVE_WEEKS = (9, 7)  # funder complaints from/to this many weeks before today
DIFFICULTY_SHARE = 0.03  # site-weeks where a trainer reports a learner's difficulty


@dataclass(frozen=True, slots=True)
class Submission:
    """One fact to send: the site, the collector path (kind) and its payload."""

    site_id: str
    path: str
    payload: ContractModel


@dataclass(frozen=True, slots=True)
class SampleNetwork:
    network_id: str
    sites: tuple[str, ...]
    months: int
    seed: int
    today: date
    weeks: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "weeks", max(6, round(self.months * 52 / 12)))

    @property
    def start(self) -> datetime:
        """Monday of the first week (the last one is this week, cut at today)."""
        this_monday = self.today - timedelta(days=self.today.weekday())
        return datetime.combine(this_monday - timedelta(weeks=self.weeks - 1), time(), UTC)

    @property
    def end(self) -> datetime:
        """Today, 00:00 UTC: nothing is dated after yesterday."""
        return self.today_dt

    def _monday_before(self, weeks: int) -> datetime:
        day = self.today - timedelta(weeks=weeks)
        return datetime.combine(day - timedelta(days=day.weekday()), time(), UTC)

    @property
    def onset(self) -> datetime:
        """Monday the outage and the trainer's drop start."""
        return self._monday_before(ONSET_WEEKS)

    @property
    def fixed_at(self) -> datetime:
        """Monday the platform is fixed (at every degraded site but the last)."""
        return self._monday_before(PLATFORM_FIX_WEEKS)

    @property
    def complaint_wave(self) -> tuple[datetime, datetime]:
        """Mondays of the first and the last week of the funders' complaints."""
        first, last = (self._monday_before(w) for w in COMPLAINT_WAVE_WEEKS)
        return first, last

    @property
    def trainer_fixed_at(self) -> datetime:
        """Monday the trainer of the trainer site is replaced."""
        return self._monday_before(TRAINER_FIX_WEEKS)

    @property
    def platform_sites(self) -> tuple[str, ...]:
        """Sites of the platform outage; the last one is not fixed."""
        count = 1 if len(self.sites) < 3 else max(2, min(3, len(self.sites) // 4))
        return self.sites[:count]

    @property
    def unfixed_sites(self) -> tuple[str, ...]:
        return self.platform_sites[-1:] if len(self.platform_sites) > 1 else ()

    @property
    def trainer_site(self) -> str | None:
        rest = self.sites[len(self.platform_sites) :]
        return rest[0] if rest else None

    def large(self, site: str) -> bool:
        """Degraded sites get bigger groups: enough answers a week for a site-level test."""
        return site in self.platform_sites or site == self.trainer_site

    def submissions(self) -> Iterator[Submission]:
        """Every fact of the sample, none dated today or later."""
        rng = random.Random(self.seed)
        for week in range(self.weeks):
            monday = self.start + timedelta(weeks=week)
            for site in self.sites:
                for item in self._site_week(rng, site, week, monday):
                    if fact_time(item.payload) < self.end:
                        yield item
        yield self._latest_complaint()

    def complaints_still_due(self, answer_days: int) -> set[str]:
        """Complaints received less than ``answer_days`` ago: on the day of the audit, their
        answer may rightly still be to come (the latest one, received yesterday, surely)."""
        since = self.today_dt - timedelta(days=answer_days)
        return {
            s.payload.complaint_id
            for s in self.submissions()
            if isinstance(s.payload, ComplaintReceived) and s.payload.received_at >= since
        }

    @property
    def latest_complaint_id(self) -> str:
        """The complaint received yesterday afternoon, whose answer is still due today."""
        return f"rec-{self.sites[-1]}-{self.today_dt - timedelta(hours=9):%Y%m%d}"

    def _latest_complaint(self) -> Submission:
        """A complaint received yesterday afternoon: on the day of the audit its answer is
        still due (the one readiness gap the sample plants on purpose)."""
        site, received = self.sites[-1], self.today_dt - timedelta(hours=9)
        return Submission(
            site,
            "complaints",
            ComplaintReceived(
                complaint_id=self.latest_complaint_id,
                received_at=received,
                channel=ReceptionChannel.EMAIL,
                complainant_role=StakeholderRole.LEARNER,
                subject="Salle de formation trop froide",
                description="Le chauffage ne fonctionnait pas pendant la séance de l'après-midi.",
                category_hint="organisation",
                training=TrainingRef(
                    programme_id=PROGRAMME_ID,
                    session_id=f"{site}-w{self.weeks - 1:03d}",
                    trainer_ids=(trainer_of(site),),
                ),
            ),
        )

    def _site_week(
        self, rng: random.Random, site: str, week: int, monday: datetime
    ) -> Iterator[Submission]:
        if monday.month == 12 and monday.day >= 22:
            return  # Christmas break
        session = f"{site}-w{week:03d}"
        training = TrainingRef(
            programme_id=PROGRAMME_ID, session_id=session, trainer_ids=(f"fmt-{site}",)
        )
        size = rng.randint(10, 13) if self.large(site) else rng.randint(4, 6)
        if monday.month == 8:
            size = max(2, size // 3)  # summer: few sessions
        for index in range(size):
            learner = f"{session}-l{index:02d}"
            yield Submission(
                site,
                "enrolments",
                EnrolmentRecorded(
                    enrolment_id=f"enr-{learner}",
                    learner_ref=learner,
                    enrolled_at=monday,
                    funding=rng.choice(list(FundingSource)),
                    training=training,
                ),
            )
            if rng.random() < 0.05:
                yield Submission(
                    site,
                    "dropouts",
                    DropoutRecorded(
                        enrolment_id=f"enr-{learner}",
                        learner_ref=learner,
                        dropped_at=monday + timedelta(days=2),
                        reason=rng.choice(list(DropoutReason)),
                        training=training,
                    ),
                )
                continue
            at = monday + timedelta(days=rng.randint(3, 4), hours=rng.randint(8, 17))
            if rng.random() < 0.8:
                yield self._response(rng, site, f"rsp-{learner}-hot", SurveyKind.HOT, at, training)
            cold_at = at + timedelta(weeks=4)
            if rng.random() < 0.4 and cold_at < self.end:
                yield self._response(
                    rng, site, f"rsp-{learner}-cold", SurveyKind.COLD, cold_at, training
                )
        yield from self._stakeholders(rng, site, session, monday, training)
        yield from self._incidents(rng, site, session, monday, training)

    def _stakeholders(
        self, rng: random.Random, site: str, session: str, monday: datetime, training: TrainingRef
    ) -> Iterator[Submission]:
        for role in (RespondentRole.FUNDER, RespondentRole.TRAINER, RespondentRole.COMPANY):
            at = monday + timedelta(days=11, hours=rng.randint(8, 17))
            if rng.random() < 0.4 and at < self.end:
                yield self._response(
                    rng, site, f"rsp-{session}-{role.value}", SurveyKind.COLD, at, training, role
                )

    def _incidents(
        self, rng: random.Random, site: str, session: str, monday: datetime, training: TrainingRef
    ) -> Iterator[Submission]:
        outage = self._platform_down(site, monday + timedelta(days=3))
        first, last = self.complaint_wave
        wave = first <= monday <= last
        if outage and rng.random() < 0.7:
            yield Submission(
                site,
                "hazards",
                HazardReported(
                    incident_id=f"ale-{session}",
                    kind=IncidentKind.HAZARD,
                    occurred_at=monday + timedelta(days=1, hours=9),
                    reported_at=monday + timedelta(days=1, hours=11),
                    reported_by_role=StakeholderRole.STAFF,
                    summary="Plateforme en ligne indisponible",
                    description="Les apprenants ne peuvent pas se connecter aux modules.",
                    learners_affected=rng.randint(5, 14),
                    category_hint="platform",
                    training=training,
                ),
            )
        if rng.random() < DIFFICULTY_SHARE:
            yield Submission(
                site,
                "hazards",
                HazardReported(
                    incident_id=f"dif-{session}",
                    kind=IncidentKind.DIFFICULTY,
                    occurred_at=monday + timedelta(days=2, hours=10),
                    reported_at=monday + timedelta(days=2, hours=16),
                    reported_by_role=StakeholderRole.TRAINER,
                    summary="Apprenant en difficulté sur le module de planification",
                    description="Retard important sur les exercices, demande d'aide répétée.",
                    learners_affected=1,
                    category_hint="content",
                    training=training,
                ),
            )
        funder_wave = wave and rng.random() < 0.6
        if funder_wave or outage or rng.random() < 0.05:
            platform = outage and not funder_wave
            yield Submission(
                site,
                "complaints",
                ComplaintReceived(
                    complaint_id=f"rec-{session}",
                    received_at=monday + timedelta(days=4, hours=14),
                    channel=rng.choice((ReceptionChannel.EMAIL, ReceptionChannel.PHONE)),
                    complainant_role=StakeholderRole.LEARNER
                    if platform
                    else StakeholderRole.FUNDER,
                    subject="Plateforme inaccessible"
                    if platform
                    else "Attestation de présence manquante",
                    description=rng.choice(PLATFORM_COMPLAINTS)
                    if platform
                    else "Le financeur attend l'attestation de présence pour payer la session.",
                    category_hint="platform" if platform else "administration",
                    training=training,
                ),
            )

    @property
    def today_dt(self) -> datetime:
        return datetime.combine(self.today, time(), UTC)

    def _platform_down(self, site: str, at: datetime) -> bool:
        if site not in self.platform_sites or at < self.onset:
            return False
        return at < self.fixed_at or site in self.unfixed_sites

    def _trainer_down(self, site: str, at: datetime) -> bool:
        return site == self.trainer_site and self.onset <= at < self.trainer_fixed_at

    def _response(
        self,
        rng: random.Random,
        site: str,
        response_id: str,
        kind: SurveyKind,
        at: datetime,
        training: TrainingRef,
        role: RespondentRole = RespondentRole.LEARNER,
    ) -> Submission:
        def rating(mean: float) -> float:
            return float(min(5, max(1, round(rng.gauss(mean, 0.8)))))

        learner_now = role is RespondentRole.LEARNER
        platform_down = learner_now and self._platform_down(site, at)
        trainer_down = learner_now and self._trainer_down(site, at)
        values = {
            "overall": rating(3.1 if platform_down or trainer_down else 4.3),
            "platform": rating(2.0 if platform_down else 4.2),
            "trainer": rating(2.4 if trainer_down else 4.4),
            "content": rating(4.1),
        }
        answers = tuple(
            ScaleAnswer(type="scale", question_id=f"q-{d}", dimension=d, value=values[d])
            for d in DIMENSIONS
        )
        if platform_down and values["platform"] <= 2:
            text = rng.choice(PLATFORM_COMPLAINTS)
        elif trainer_down and values["trainer"] <= 3:
            text = rng.choice(TRAINER_COMPLAINTS)
        else:
            text = rng.choice(PRAISE)
        return Submission(
            site,
            "survey-responses",
            SurveyResponseSubmitted(
                response_id=response_id,
                survey_id=f"enquete-{kind.value}-{role.value}",
                survey_kind=kind,
                respondent_role=role,
                anonymous=True,
                submitted_at=at,
                channel="api",
                training=training,
                answers=answers,
                comments=(Comment(comment_id=f"{response_id}-c", text=text),),
            ),
        )


def fact_time(payload: ContractModel) -> datetime:
    """When the fact happened (or was recorded), for the cut at today."""
    for name in ("submitted_at", "received_at", "reported_at", "dropped_at", "enrolled_at"):
        value = getattr(payload, name, None)
        if isinstance(value, datetime):
            return value
    raise TypeError(f"no date on {type(payload).__name__}")


def site_names(count: int) -> tuple[str, ...]:
    return tuple(
        CITIES[i % len(CITIES)] + (f"-{i // len(CITIES)}" if i >= len(CITIES) else "")
        for i in range(count)
    )


def sample_network(
    *, sites: int, months: int, seed: int, today: date | None = None
) -> SampleNetwork:
    return SampleNetwork(
        network_id="reseau-horizon",
        sites=site_names(sites),
        months=months,
        seed=seed,
        today=today or datetime.now(UTC).date(),
    )


# --- the names people read (the network's referential) ----------------------------------

SITE_LABELS = {
    "lyon": "Lyon Part-Dieu",
    "paris-11": "Paris 11e",
    "marseille": "Marseille Saint-Charles",
    "lille": "Lille Europe",
    "nantes": "Nantes Île de Nantes",
    "bordeaux": "Bordeaux Mériadeck",
    "toulouse": "Toulouse Compans",
    "rennes": "Rennes Colombier",
    "strasbourg": "Strasbourg Gare",
    "montpellier": "Montpellier Antigone",
    "grenoble": "Grenoble Europole",
    "dijon": "Dijon Darcy",
    "tours": "Tours Centre",
    "rouen": "Rouen Saint-Sever",
    "reims": "Reims Clairmarais",
    "brest": "Brest Siam",
}
PROGRAMME_ID = "prog-gestion-projet"
PROGRAMME_NAME = "Gestion de projet"
FIRST_NAMES = (
    "Camille", "Julien", "Sophie", "Nicolas", "Amélie", "Thomas", "Nadia", "Mathieu",
    "Élodie", "Karim", "Pauline", "Hugo", "Inès", "Antoine", "Léa", "Romain",
)  # fmt: skip
SURNAMES = (
    "Bernard", "Dubois", "Lefèvre", "Girard", "Roux", "Fontaine", "Chevalier", "Robin",
    "Gauthier", "Morel", "Lambert", "Faure", "Mercier", "Blanc", "Guérin", "Boyer",
)  # fmt: skip
FEMININE = frozenset({"Camille", "Sophie", "Amélie", "Nadia", "Élodie", "Pauline", "Inès", "Léa"})
# The network's own people: quality lead, direction, information systems.
QUALITY_LEAD = "resp-qualite-reseau"
DIRECTOR = "dir-reseau"
IT_MANAGER = "resp-si-reseau"
NETWORK_PEOPLE = (
    (QUALITY_LEAD, "Claire Martin", "quality_lead", "Responsable qualité du réseau"),
    (DIRECTOR, "Henri Dubois", "director", "Directeur du réseau"),
    (IT_MANAGER, "Olivier Garnier", "it_manager", "Responsable des systèmes d'information"),
)
# The same people as the local sign-in provider's demo users (deploy/local/oidc/config.json).
KNOWN_MANAGERS = {"lyon": "Karim Benali", "paris-11": "Sophie Leroy"}


def site_label(site: str) -> str:
    """``lyon`` → "Lyon Part-Dieu"; ``lyon-1`` (beyond the sixteen cities) → "Lyon Part-Dieu 2"."""
    if site in SITE_LABELS:
        return SITE_LABELS[site]
    city, _, number = site.rpartition("-")
    return f"{SITE_LABELS.get(city, city.title())} {int(number) + 1}"


def site_manager(site: str) -> str:
    return f"resp-{site}"


def trainer_of(site: str) -> str:
    return f"fmt-{site}"


def _first_name(index: int, offset: int) -> str:
    return FIRST_NAMES[(index + offset) % len(FIRST_NAMES)]


def person_name(index: int, offset: int) -> str:
    surname = SURNAMES[(index * 7 + offset) % len(SURNAMES)]
    return f"{_first_name(index, offset)} {surname}"


def names_of(network: SampleNetwork) -> dict[str, str]:
    """Person id → name, for what the demo writes (meeting decisions, summary)."""
    people = {pid: name for pid, name, _, _ in NETWORK_PEOPLE}
    for index, site in enumerate(network.sites):
        people[site_manager(site)] = KNOWN_MANAGERS.get(site) or person_name(index, 3)
        people[trainer_of(site)] = person_name(index, 12)
    return people


def referential(network: SampleNetwork) -> dict[str, Any]:
    """The body of ``PUT /v1/networks/{n}/referential``: sites, programme, people."""
    names = names_of(network)
    people: list[dict[str, Any]] = [
        {"person_id": pid, "name": name, "role": role, "title": title}
        for pid, name, role, title in NETWORK_PEOPLE
    ]
    for index, site in enumerate(network.sites):
        label = site_label(site)
        people += [
            {
                "person_id": site_manager(site),
                "name": names[site_manager(site)],
                "role": "site_manager",
                "title": f"Responsable du site {label}",
                "site_id": site,
            },
            {
                "person_id": trainer_of(site),
                "name": names[trainer_of(site)],
                "role": "trainer",
                "title": "Formatrice" if _first_name(index, 12) in FEMININE else "Formateur",
                "site_id": site,
            },
        ]
    return {
        "sites": [{"site_id": s, "name": site_label(s)} for s in network.sites],
        "programmes": [{"programme_id": PROGRAMME_ID, "name": PROGRAMME_NAME}],
        "people": people,
    }
