"""What the actions service writes for people reads as French: sentences, words for the
codes of the contracts, numbers and dates by Babel."""

from __future__ import annotations

import re
from datetime import date

import pytest

from boucle_actions.domain import wording
from boucle_actions.domain.problem_drafts import draft_from_problem
from boucle_contracts.common import StandardDimension
from boucle_contracts.examples import example_of
from boucle_contracts.problems.v1 import ProblemOpenedV1
from boucle_contracts.signals.v1 import Metric, Severity

pytestmark = pytest.mark.unit
OPENED = example_of(ProblemOpenedV1).data
CODES = (
    {m.value for m in Metric}
    | {s.value for s in Severity}
    | {d.value for d in StandardDimension} - {"organisation", "administration"}
)


def _codes_in(text: str) -> set[str]:
    return {code for code in CODES if re.search(rf"(?<![\w-]){code}(?![\w-])", text)}


def test_a_change_is_a_french_sentence_with_its_sample_sizes() -> None:
    assert (
        wording.change(Metric.MEAN_SATISFACTION, "platform", (4.18, 120), (3.39, 95))
        == "La satisfaction moyenne (plateforme) est passée de 4,18 (n = 120) à 3,39 (n = 95)"
    )
    assert (
        wording.change(Metric.DROPOUT_RATE, None, (0.05, 200), (0.12, 180))
        == "Le taux d'abandon est passé de 5\u00a0% (n = 200) à 12\u00a0% (n = 180)"
    )
    assert wording.change(Metric.NPS, None, (12.0, 40), (-3.5, 41), "en") == (
        "The NPS went from 12.00 (n = 40) to -3.50 (n = 41)"
    )
    assert wording.drop(Metric.DROPOUT_RATE, None) == "Hausse du taux d'abandon"
    assert wording.long_date(date(2025, 5, 12)) == "12 mai 2025"


@pytest.mark.parametrize("metric", list(Metric))
@pytest.mark.parametrize("dimension", [d.value for d in StandardDimension])
@pytest.mark.parametrize("severity", list(Severity))
def test_no_code_word_in_a_drafted_action(
    metric: Metric, dimension: str, severity: Severity
) -> None:
    main = OPENED.degradations[0].model_copy(update={"metric": metric, "dimension": dimension})
    problem = OPENED.model_copy(
        update={"degradations": (main, *OPENED.degradations[1:]), "severity": severity}
    )

    draft = draft_from_problem(problem, at=problem.detected_at)

    assert _codes_in(draft.title + " " + draft.problem) == set()
    assert not re.search(r"\d\.\d", draft.problem), "decimal commas"
