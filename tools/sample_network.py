"""A seeded, realistic sample training network: sites, learners, surveys, complaints, dropouts.

Pure generation (no I/O) so that the main job and tests get the same data for the same
seed. Hot surveys are answered by about 80 % of learners, cold ones by fewer; funders,
trainers and companies answer too. Some sites suffer a Formation-Dynamix-like platform
outage in the last months (platform ratings drop, comments say so).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from boucle_contracts.common import ContractModel, RespondentRole, StakeholderRole, TrainingRef
from boucle_contracts.feedback.v1 import Comment, ScaleAnswer, SurveyKind, SurveyResponseSubmitted
from boucle_contracts.incidents.v1 import ComplaintReceived, ReceptionChannel
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
    "Les vidéos ne se chargent pas, je perds beaucoup de temps.",
)
PRAISE = (
    "Formateur très à l'écoute.",
    "Contenu clair et concret.",
    "Bonne organisation des sessions.",
)


@dataclass(frozen=True, slots=True)
class Submission:
    """One fact to post: the collector path it goes to and its payload."""

    site_id: str
    path: str
    payload: ContractModel


@dataclass(frozen=True, slots=True)
class SampleNetwork:
    network_id: str
    sites: tuple[str, ...]
    months: int
    seed: int
    start: datetime

    @property
    def degraded_sites(self) -> tuple[str, ...]:
        return self.sites[: max(1, len(self.sites) // 5)]

    def submissions(self) -> Iterator[Submission]:
        rng = random.Random(self.seed)
        for month in range(self.months):
            month_start = self.start + timedelta(days=30 * month)
            for site in self.sites:
                yield from self._site_month(rng, site, month, month_start)

    def _site_month(
        self, rng: random.Random, site: str, month: int, start: datetime
    ) -> Iterator[Submission]:
        outage = site in self.degraded_sites and month >= self.months - 2
        session = f"{site}-s{month:02d}"
        training = TrainingRef(
            programme_id="prog-gestion-projet", session_id=session, trainer_ids=(f"fmt-{site}",)
        )
        learners = rng.randint(8, 14)
        for index in range(learners):
            learner = f"{session}-l{index:02d}"
            yield Submission(
                site,
                "enrolments",
                EnrolmentRecorded(
                    enrolment_id=f"enr-{learner}",
                    learner_ref=learner,
                    enrolled_at=start,
                    funding=rng.choice(list(FundingSource)),
                    training=training,
                ),
            )
            if rng.random() < 0.06:
                yield Submission(
                    site,
                    "dropouts",
                    DropoutRecorded(
                        enrolment_id=f"enr-{learner}",
                        learner_ref=learner,
                        dropped_at=start + timedelta(days=9),
                        reason=rng.choice(list(DropoutReason)),
                        training=training,
                    ),
                )
            elif rng.random() < 0.8:
                yield Submission(
                    site,
                    "survey-responses",
                    self._response(
                        rng,
                        f"rsp-{learner}",
                        RespondentRole.LEARNER,
                        start + timedelta(days=12),
                        training,
                        outage,
                    ),
                )
        for role in (RespondentRole.FUNDER, RespondentRole.TRAINER, RespondentRole.COMPANY):
            if rng.random() < 0.5:
                yield Submission(
                    site,
                    "survey-responses",
                    self._response(
                        rng,
                        f"rsp-{session}-{role.value}",
                        role,
                        start + timedelta(days=20),
                        training,
                        outage=False,
                    ),
                )
        if outage or rng.random() < 0.1:
            yield Submission(
                site,
                "complaints",
                ComplaintReceived(
                    complaint_id=f"rec-{session}",
                    received_at=start + timedelta(days=14),
                    channel=rng.choice((ReceptionChannel.EMAIL, ReceptionChannel.PHONE)),
                    complainant_role=StakeholderRole.LEARNER if outage else StakeholderRole.FUNDER,
                    subject="Plateforme inaccessible"
                    if outage
                    else "Attestation de présence manquante",
                    description=rng.choice(PLATFORM_COMPLAINTS)
                    if outage
                    else "Le financeur attend l'attestation.",
                    category_hint="platform" if outage else "administration",
                    training=training,
                ),
            )

    @staticmethod
    def _response(
        rng: random.Random,
        response_id: str,
        role: RespondentRole,
        at: datetime,
        training: TrainingRef,
        outage: bool,
    ) -> SurveyResponseSubmitted:
        def rating(mean: float) -> float:
            return float(min(5, max(1, round(rng.gauss(mean, 0.8)))))

        platform = rating(2.1 if outage else 4.2)
        answers = (
            ScaleAnswer(
                type="scale",
                question_id="q-overall",
                dimension="overall",
                value=rating(3.0 if outage else 4.3),
            ),
            ScaleAnswer(
                type="scale", question_id="q-platform", dimension="platform", value=platform
            ),
            ScaleAnswer(
                type="scale", question_id="q-trainer", dimension="trainer", value=rating(4.4)
            ),
        )
        text = rng.choice(PLATFORM_COMPLAINTS) if outage and platform <= 2 else rng.choice(PRAISE)
        return SurveyResponseSubmitted(
            response_id=response_id,
            survey_id="enquete-a-chaud",
            survey_kind=SurveyKind.HOT,
            respondent_role=role,
            anonymous=True,
            submitted_at=at,
            channel="api",
            training=training,
            answers=answers,
            comments=(Comment(comment_id=f"{response_id}-c", text=text),),
        )


def sample_network(*, sites: int, months: int, seed: int) -> SampleNetwork:
    names = tuple(
        CITIES[i % len(CITIES)] + (f"-{i // len(CITIES)}" if i >= len(CITIES) else "")
        for i in range(sites)
    )
    start = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    return SampleNetwork(
        network_id="reseau-horizon", sites=names, months=months, seed=seed, start=start
    )
