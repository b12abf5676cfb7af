"""The site manager's flow in a real headless Chromium (Playwright, the system's Chromium).

First with a session made as sign-in makes it (always runs: the pages, forms, keyboard and
screenshots for docs/console/), then signing in through the real OpenID Connect provider of
deploy/local/oidc, skipped with its reason until that provider runs.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from playwright.async_api import Page, Request, async_playwright, expect

from boucle_console.session import COOKIE
from tests.integration.console_support import (
    case_of,
    console_stack,
    draft_of,
    publish_complaint,
    publish_problem,
    session,
    token,
)
from tools.localstack import Stack

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "docs" / "console"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# The demo network and users of deploy/local/oidc/config.json.
OIDC_NETWORK, OIDC_USER, OIDC_PASSWORD = "reseau-horizon", "site-lyon", "demo-site-lyon"
OIDC_CLIENT_SECRET = "console-local-secret"


def oidc_discovery() -> dict[str, Any] | None:
    """The local provider's discovery document, when it is provisioned and running."""
    issuer = os.environ.get("OIDC_ISSUER_URL")
    if not issuer:
        return None
    try:
        answer = httpx.get(f"{issuer.rstrip('/')}/.well-known/openid-configuration", timeout=3)
    except httpx.HTTPError:
        return None
    return dict(answer.json()) if answer.status_code == 200 else None


NO_PROVIDER = (
    "the local OpenID Connect provider (deploy/local/oidc) is not provisioned or not running: "
    'run `deploy/local/services.sh start oidc` and `eval "$(deploy/local/services.sh env)"` '
    "(OIDC_ISSUER_URL)"
)


@pytest.fixture(scope="module")
def stack(
    kafka_bootstrap: str, mongodb_uri: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    yield from console_stack(kafka_bootstrap, mongodb_uri, tmp_path_factory.mktemp("logs"))


async def handle_complaint(page: Page, subject: str, screenshot: Path | None = None) -> None:
    """From the inbox: open the complaint, acknowledge it, answer it with its root cause."""
    await page.get_by_role("link", name=subject).click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text(subject)
    await page.get_by_role("button", name="Accuser réception").click()
    await expect(page.get_by_role("status")).to_have_text("Prise en compte enregistrée.")
    await page.locator("#root_cause").fill("Chauffage programmé trop tard le lundi")
    await page.locator("#answer").fill("Le chauffage démarre désormais à 6 h le lundi.")
    if screenshot is not None:
        await page.screenshot(path=screenshot, full_page=True)
    await page.get_by_role("button", name="Enregistrer la réponse").click()
    await expect(page.get_by_role("status")).to_contain_text("Réponse enregistrée")


async def sections_with(page: Page, subject: str) -> list[str]:
    """Titles of the inbox sections listing ``subject``."""
    found: list[str] = await page.evaluate(
        """(subject) => [...document.querySelectorAll('main section')]
            .filter(s => s.textContent.includes(subject))
            .map(s => s.querySelector('h2').firstChild.textContent.trim())""",
        subject,
    )
    return found


async def test_a_site_manager_handles_a_complaint_in_chromium(stack: Stack) -> None:
    subject = f"Salle 12 glaciale le lundi matin ({uuid.uuid4().hex[:4]})"
    await publish_complaint(stack, "lyon", "Vidéoprojecteur en panne en salle 4")
    await publish_complaint(stack, "lyon", subject)
    case = case_of(stack, subject)
    base = stack["console"].url
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = await browser.new_context(
            locale="fr-FR", timezone_id="Europe/Paris", viewport={"width": 1280, "height": 860}
        )
        cookie = session(stack, token(stack, "site_manager", ("lyon",)))
        await context.add_cookies([{"name": COOKIE, "value": cookie, "url": base}])
        page = await context.new_page()
        await page.goto(f"{base}/")
        assert await page.get_attribute("html", "lang") == "fr"
        assert await sections_with(page, subject) == ["À prendre en compte"]
        await page.screenshot(path=SCREENSHOTS / "inbox.png", full_page=True)
        await page.keyboard.press("Tab")  # the first stop is the skip link
        assert await page.evaluate("document.activeElement.textContent") == "Aller au contenu"
        await page.goto(f"{base}/cases/{case['case_id']}")
        await page.screenshot(path=SCREENSHOTS / "complaint.png", full_page=True)
        await page.goto(f"{base}/")
        await handle_complaint(page, subject, screenshot=SCREENSHOTS / "complaint-answer.png")
        assert await sections_with(page, subject) == ["Répondues"]
        await page.screenshot(path=SCREENSHOTS / "inbox-after-answer.png", full_page=True)
        await browser.close()


async def signed_in(playwright: Any, stack: Stack, role: str, sites: tuple[str, ...] = ()) -> Any:
    """A browser whose context holds the session sign-in would leave for ``role``."""
    browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    context = await browser.new_context(
        locale="fr-FR", timezone_id="Europe/Paris", viewport={"width": 1280, "height": 860}
    )
    cookie = session(stack, token(stack, role, sites))
    await context.add_cookies([{"name": COOKIE, "value": cookie, "url": stack["console"].url}])
    return browser, await context.new_page()


async def test_a_quality_lead_turns_a_problem_into_a_plan_the_direction_validates(
    stack: Stack,
) -> None:
    problem_id = await publish_problem(stack, ("lyon",))
    draft = draft_of(stack, problem_id)
    base = stack["console"].url
    problem_url = f"{base}/problems/{draft['action_id']}"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as playwright:
        browser, page = await signed_in(playwright, stack, "quality_lead")
        await page.goto(f"{base}/problems")
        await page.screenshot(path=SCREENSHOTS / "problems.png", full_page=True)
        await page.get_by_label("Site").select_option("lyon")
        await page.get_by_role("button", name="Filtrer").click()
        await page.get_by_role("link", name=draft["title"]).click()
        assert page.url == problem_url
        await expect(page.get_by_role("heading", name="Plan d'action")).to_be_visible()
        await page.screenshot(path=SCREENSHOTS / "problem.png", full_page=True)
        await page.get_by_label("Objectif").fill("Satisfaction moyenne de nouveau au-dessus de 4")
        await page.get_by_label("Mesures").fill(
            "Changer d'hébergeur de la plateforme\nFormer les formateurs à la plateforme"
        )
        await page.get_by_label("Responsable").fill("usr-resp-reseau")
        await page.get_by_label("Échéance").fill("2027-03-31")
        await page.get_by_role("button", name="Proposer le plan à la validation").click()
        await expect(page.get_by_role("status")).to_have_text(
            "Plan enregistré et proposé à la validation."
        )
        await expect(page.locator(".facts")).to_contain_text("À valider")
        await browser.close()
        browser, page = await signed_in(playwright, stack, "direction")
        await page.goto(f"{base}/actions/{draft['action_id']}")
        await page.screenshot(path=SCREENSHOTS / "plan-to-validate.png", full_page=True)
        await page.get_by_role("button", name="Valider le plan").click()
        await expect(page.get_by_role("status")).to_have_text("Plan validé.")
        await browser.close()
        browser, page = await signed_in(playwright, stack, "site_manager", ("paris",))
        answer = await page.goto(problem_url)
        assert answer is not None
        assert answer.status == 403  # a crafted URL to another site's problem
        await page.goto(f"{base}/problems")
        assert await page.get_by_role("link", name=draft["title"]).count() == 0
        await browser.close()
        browser, page = await signed_in(playwright, stack, "site_manager", ("lyon",))
        await page.goto(f"{base}/actions/{draft['action_id']}")
        await page.get_by_label("Commentaire").fill("Hébergeur choisi, migration le 15")
        await page.get_by_role("button", name="Enregistrer l'avancement").click()
        await expect(page.get_by_role("status")).to_contain_text("mesures commencées")
        await page.get_by_label("Référence du document").fill("Bon de commande 2026-118")
        await page.get_by_role("button", name="Joindre la référence").click()
        await expect(page.get_by_role("status")).to_have_text("Preuve jointe.")
        await page.screenshot(path=SCREENSHOTS / "plan-progress.png", full_page=True)
        await page.goto(f"{base}/meetings")
        await page.screenshot(path=SCREENSHOTS / "meetings.png", full_page=True)
        await browser.close()
        browser, page = await signed_in(playwright, stack, "auditor", ("lyon",))
        await page.goto(f"{base}/dossier")
        await page.screenshot(path=SCREENSHOTS / "dossier.png", full_page=True)
        assert await page.locator("main form").count() == 0  # downloads, no build form
        await page.goto(f"{base}/actions/{draft['action_id']}")
        assert await page.locator("main form").count() == 0  # no write control at all
        await browser.close()


DISCOVERY = oidc_discovery()


@pytest.fixture(scope="module")
def oidc_stack(
    kafka_bootstrap: str, mongodb_uri: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    """The stack trusting the local provider's keys; the console signs in there."""
    assert DISCOVERY is not None
    trust = {"AUTH_ISSUER": DISCOVERY["issuer"], "AUTH_JWKS_URL": DISCOVERY["jwks_uri"]}
    extra = {
        f"BOUCLE_{service.upper()}_{name}": value
        for service in ("actions", "reporter", "console")
        for name, value in trust.items()
    }
    extra["BOUCLE_CONSOLE_OIDC_CLIENT_SECRET"] = OIDC_CLIENT_SECRET
    yield from console_stack(
        kafka_bootstrap,
        mongodb_uri,
        tmp_path_factory.mktemp("oidc-logs"),
        oidc_issuer_url=DISCOVERY["issuer"],
        extra_env=extra,
    )


@pytest.mark.skipif(DISCOVERY is None, reason=NO_PROVIDER)
async def test_signing_in_through_the_identity_provider_then_out(oidc_stack: Stack) -> None:
    subject = f"Formatrice absente sans remplaçant ({uuid.uuid4().hex[:4]})"
    await publish_complaint(oidc_stack, "lyon", subject, network=OIDC_NETWORK)
    base = oidc_stack["console"].url
    assert DISCOVERY is not None
    provider = DISCOVERY
    authorize: list[str] = []

    def record(request: Request) -> None:
        if request.url.startswith(provider["authorization_endpoint"]):
            authorize.append(request.url)

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = await (await browser.new_context(locale="fr-FR")).new_page()
        page.on("request", record)
        await page.goto(f"{base}/")
        assert page.url == f"{base}/login"
        await page.get_by_role("link", name="Se connecter").click()
        assert page.url.startswith(provider["issuer"])  # the provider's own login form
        query = parse_qs(urlsplit(authorize[0]).query)
        assert query["code_challenge_method"] == ["S256"]
        assert query["response_type"] == ["code"]
        assert query["state"][0]
        assert query["nonce"][0]
        assert len(query["code_challenge"][0]) >= 43
        await page.locator("#username").fill(OIDC_USER)
        await page.locator("#password").fill(OIDC_PASSWORD)
        await page.get_by_role("button", name="Se connecter").click()
        await page.wait_for_url(f"{base}/", timeout=90_000)
        await expect(page.locator(".who")).to_contain_text("Karim Benali")
        for _ in range(80):  # until the actions service has opened the case
            if await page.get_by_role("link", name=subject).count():
                break
            await page.wait_for_timeout(500)
            await page.reload()
        await handle_complaint(page, subject)
        assert await sections_with(page, subject) == ["Répondues"]
        await page.get_by_role("button", name="Se déconnecter").click()
        await page.wait_for_url(f"{base}/login")
        await page.goto(f"{base}/")
        assert page.url == f"{base}/login"  # the session is gone
        await browser.close()
