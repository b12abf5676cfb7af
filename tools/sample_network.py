"""A seeded, realistic sample training network: sites, learners, surveys, complaints, dropouts.

Pure generation (no I/O) so that the main job and tests get the same data for the same
seed. Every site runs a weekly session (fewer learners in August, none at Christmas);
learners answer the hot survey at about 80 % and the cold one, four weeks later, at about
40 %; funders, trainers and companies answer a cold survey at about 40 %. Scenarios, dated
relative to ``today`` (the day the demo's quality lead closes the actions):

* a Formation-Dynamix-like online-platform outage at a few sites from four weeks before
  today: platform ratings drop, comments (in French) blame the platform, hazards are
  reported; it is fixed at every degraded site but the last one: from tomorrow their
  learners rate the platform as before;
* a trainer-related drop at one other site over the same weeks, fixed from tomorrow;
* a wave of funder complaints (missing attendance certificates) three weeks before today.

The data runs two weeks past today, so the improvement actions taken today can be
evaluated on the answers given after them.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

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
ONSET_WEEKS = 4  # the incidents start this many weeks before today
AFTER_DAYS = 14  # data after today: the evaluation window of the demo's actions
COMPLAINT_WAVE_WEEKS = 3


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
        """Monday of the first week (the data ends ``AFTER_DAYS`` after today)."""
        last_monday = self.today + timedelta(days=AFTER_DAYS) - timedelta(days=self.today.weekday())
        return datetime.combine(last_monday - timedelta(weeks=self.weeks - 1), time(), UTC)

    @property
    def end(self) -> datetime:
        return self.start + timedelta(weeks=self.weeks)

    @property
    def fixed_at(self) -> datetime:
        """When the improvement actions take effect: tomorrow, 00:00 UTC."""
        return datetime.combine(self.today + timedelta(days=1), time(), UTC)

    @property
    def onset(self) -> datetime:
        return datetime.combine(self.today - timedelta(weeks=ONSET_WEEKS), time(), UTC)

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
        rng = random.Random(self.seed)
        for week in range(self.weeks):
            monday = self.start + timedelta(weeks=week)
            for site in self.sites:
                yield from self._site_week(rng, site, week, monday)

    def _site_week(
        self, rng: random.Random, site: str, week: int, monday: datetime
    ) -> Iterator[Submission]:
        if monday.month == 12 and monday.day >= 22:
            return  # Christmas break
        session = f"{site}-w{week:03d}"
        training = TrainingRef(
            programme_id="prog-gestion-projet", session_id=session, trainer_ids=(f"fmt-{site}",)
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
        wave = timedelta(0) <= self.today_dt - monday <= timedelta(weeks=COMPLAINT_WAVE_WEEKS)
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
        return site == self.trainer_site and self.onset <= at < self.fixed_at

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
