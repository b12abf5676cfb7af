"""What people read: one gettext catalogue per language, formats for the locale (Babel), and
no code word of the contracts in a French document."""

from __future__ import annotations

import csv
import io
import re
import string
import zipfile
from datetime import date
from enum import Enum
from pathlib import Path

import pytest
from bench.reporter.scenario import NETWORK, NOW, PERIOD, gap_events, replayed
from openpyxl import load_workbook  # type: ignore[import-untyped]

from boucle_contracts.actions.v1 import ActionOrigin, ActionStatus
from boucle_contracts.cases.v1 import CaseSource, CaseStatus
from boucle_contracts.common import RespondentRole, StakeholderRole, StandardDimension
from boucle_contracts.feedback.v1 import SurveyKind
from boucle_contracts.incidents.v1 import IncidentKind, ReceptionChannel
from boucle_contracts.signals.v1 import Metric, Severity
from boucle_contracts.training.v1 import DropoutReason
from boucle_reporter.adapters import render
from boucle_reporter.adapters.ed25519 import Ed25519Signer, generate_private_pem
from boucle_reporter.domain import i18n
from boucle_reporter.domain.build_request import BuildRequest
from boucle_reporter.domain.figures import report_figures, site_risks
from boucle_reporter.pack import EvidenceKey, build_pack, load_pack

pytestmark = pytest.mark.unit
PACKAGE = Path(i18n.__file__).resolve().parent.parent
PREFIXES = (
    "col|source|status|outcome|analysis|reg|role|channel|ready|doc|idx|erasure|ev|rep|dim"
    "|reason|dash|change|metric|severity|sheet|track|person"
)
LITERAL_KEY = re.compile(rf"""["']((?:{PREFIXES})\.[a-z0-9_]+(?:\.[a-z0-9_]+)*)["']""")
# Every code of the contracts a reader could meet, and the prefix that names it.
CODES: dict[str, list[type[Enum]]] = {
    "status": [ActionStatus, CaseStatus],
    "dim": [StandardDimension],
    "role": [StakeholderRole],
    "rep.role": [RespondentRole],
    "channel": [ReceptionChannel],
    "reason": [DropoutReason],
    "metric": [Metric],
    "severity": [Severity],
    "source": [CaseSource],
}
# French words that are also codes: not code words in a French text.
FRENCH_WORDS = {"organisation", "administration", "site", "programme"}
CODE_WORDS = sorted(
    {
        str(member.value)
        for enum in (
            ActionOrigin,
            ActionStatus,
            CaseSource,
            CaseStatus,
            DropoutReason,
            IncidentKind,
            Metric,
            ReceptionChannel,
            Severity,
            StakeholderRole,
            StandardDimension,
            SurveyKind,
        )
        for member in enum
    }
    | {"inconclusive", "survey_analysis", "degradation", "meeting", "manual"} - FRENCH_WORDS
)


def _used_keys() -> set[str]:
    sources = [*PACKAGE.rglob("*.py"), *PACKAGE.joinpath("templates").glob("*.j2")]
    return {key for path in sources for key in LITERAL_KEY.findall(path.read_text())}


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_both_catalogues_hold_the_same_messages_with_the_same_placeholders() -> None:
    french, english = i18n.message_ids("fr"), i18n.message_ids("en")

    assert french == english
    for key in french:
        assert _fields(i18n.translate("fr", key)) == _fields(i18n.translate("en", key)), key


def test_every_message_the_code_and_templates_use_is_in_both_catalogues() -> None:
    used = _used_keys()

    assert len(used) > 100  # the scan finds the keys
    for language in i18n.LANGUAGES:
        assert used - i18n.message_ids(language) == set(), language


@pytest.mark.parametrize("prefix", sorted(CODES))
def test_every_code_of_the_contracts_has_words_in_both_languages(prefix: str) -> None:
    for enum in CODES[prefix]:
        for member in enum:
            for language in i18n.LANGUAGES:
                assert i18n.has_message(language, f"{prefix}.{member.value}"), (prefix, member)


def test_the_catalogues_are_gettext_po_files() -> None:
    for language in i18n.LANGUAGES:
        text = i18n.catalogue_path(language).read_text(encoding="utf-8")
        assert 'msgid "status.done"' in text
    assert i18n.translate("fr", "status.done") == "Réalisée"
    assert i18n.translate("en", "status.done") == "Done"
    assert i18n.translate("de", "status.done") == "Réalisée"  # French when unknown


def test_numbers_dates_and_percentages_follow_the_locale() -> None:
    assert i18n.decimal(4.18, "fr", 2) == "4,18"
    assert i18n.decimal(4.18, "en", 2) == "4.18"
    assert i18n.number(1234.5, "fr") == "1\u202f234,5"
    assert i18n.number(1234.5, "en") == "1,234.5"
    assert i18n.percent(0.5, "fr") == "50\u00a0%"
    assert i18n.percent(0.5, "en") == "50%"
    assert i18n.percent(None, "fr") == "—"
    assert i18n.day(date(2025, 12, 31), "fr") == "31/12/2025"
    assert i18n.long_day(date(2025, 12, 31), "fr") == "31 décembre 2025"
    assert i18n.long_day(date(2025, 12, 31), "en") == "31 December 2025"


def test_a_change_reads_as_a_french_sentence() -> None:
    assert (
        i18n.change_sentence("fr", "mean_satisfaction", "platform", 4.18, 3.39)
        == "La satisfaction moyenne (plateforme) est passée de 4,18 à 3,39"
    )
    assert (
        i18n.change_sentence("fr", "dropout_rate", None, 0.05, 0.12)
        == "Le taux d'abandon est passé de 5\u00a0% à 12\u00a0%"
    )
    assert (
        i18n.change_sentence("en", "mean_satisfaction", "platform", 4.18, 3.39)
        == "Mean satisfaction (platform) went from 4.18 to 3.39"
    )


# --- no code word in a French document ------------------------------------------------------


def _html_text(html: str) -> str:
    html = re.sub(r"<(style|script)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)  # tags and their attributes are not read


def _code_words(text: str) -> set[str]:
    return {word for word in CODE_WORDS if re.search(rf"(?<![\w-]){word}(?![\w-])", text)}


@pytest.fixture(scope="module")
async def french_documents() -> dict[str, str]:
    signer = Ed25519Signer(generate_private_pem())
    evidence, read_model = await replayed(gap_events())
    evidence.signer = signer
    request = BuildRequest(network_id=NETWORK, start=PERIOD[0], end=PERIOD[1])
    pack = await build_pack(
        read_model=read_model,
        evidence=evidence,
        request=request,
        now=NOW,
        key=EvidenceKey(signer, signer.public_pem),
    )
    archive = zipfile.ZipFile(io.BytesIO(pack.archive()))
    texts = {
        name: _html_text(archive.read(name).decode())
        for name in ("bilan.html", "index-des-preuves.html", "tableau-de-suivi.html")
    }
    for name in ("tableau-de-suivi.csv", "registre-reclamations.csv"):
        rows = csv.reader(io.StringIO(archive.read(name).decode()), delimiter=";")
        texts[name] = "\n".join(" | ".join(row) for row in rows)
    for name in ("tableau-de-suivi.xlsx", "registre-reclamations.xlsx"):
        book = load_workbook(io.BytesIO(archive.read(name)))
        texts[name] = "\n".join(
            " | ".join(str(v) for v in row if v is not None)
            for sheet in book.worksheets
            for row in sheet.iter_rows(values_only=True)
        ) + " ".join(book.sheetnames)
    data = await load_pack(read_model, request, NOW)
    figures = report_figures(data, NOW.date())
    texts["dashboard"] = _html_text(
        render.dashboard_html(data, figures, site_risks(data, NOW), pack.gaps)
    )
    return texts


def test_the_scan_knows_the_code_words() -> None:
    assert {"mean_satisfaction", "critical", "platform", "effective", "learner"} <= set(CODE_WORDS)
    assert _code_words("De la satisfaction moyenne (platform) passée de 4.18") == {"platform"}
    assert _code_words("Plateforme, act-1, resp-qualite") == set()


@pytest.mark.parametrize(
    "name",
    [
        "bilan.html",
        "index-des-preuves.html",
        "tableau-de-suivi.html",
        "tableau-de-suivi.csv",
        "registre-reclamations.csv",
        "tableau-de-suivi.xlsx",
        "registre-reclamations.xlsx",
        "dashboard",
    ],
)
def test_no_code_word_in_a_french_document(french_documents: dict[str, str], name: str) -> None:
    text = french_documents[name]

    assert len(text) > 200
    assert _code_words(text) == set(), name
