"""The public opt-out page: a link in every e-mail, a button to confirm, French first."""

from html import escape
from typing import Annotated

from fastapi import APIRouter, Form, Path, Query
from fastapi.responses import HTMLResponse

from boucle_surveys.domain.mail import CATALOGUES
from boucle_surveys.domain.ports import ContactBook
from boucle_surveys.opt_out import OptOutLinks

ID = r"^[A-Za-z0-9][A-Za-z0-9._:@/+=-]{0,127}$"
PAGE = """<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;
color:#1b1b1b;line-height:1.5}}button{{font-size:1rem;padding:.6rem 1.2rem;background:#000091;
color:#fff;border:0;border-radius:4px;cursor:pointer}}button:focus{{outline:3px solid #ff9940;
outline-offset:2px}}</style></head>
<body><main><h1>{title}</h1>{content}</main></body></html>"""


def opt_out_router(*, contacts: ContactBook, links: OptOutLinks) -> APIRouter:
    router = APIRouter(tags=["opt-out"], include_in_schema=True)
    network_t = Annotated[str, Path(pattern=ID)]
    person_t = Annotated[str, Path(pattern=ID)]

    @router.get("/desinscription/{network_id}/{person_ref}", response_class=HTMLResponse)
    async def confirm(
        network_id: network_t, person_ref: person_t, t: Annotated[str, Query(max_length=64)]
    ) -> HTMLResponse:
        if not links.valid(network_id, person_ref, t):
            return _page(CATALOGUES.translate("fr", "opt_out.invalid"), status=404)
        form = (
            f'<form method="post"><input type="hidden" name="t" value="{escape(t)}">'
            "<p>Vous ne recevrez plus nos questionnaires de satisfaction.</p>"
            '<button type="submit">Confirmer la désinscription</button></form>'
        )
        return _page(form, raw=True)

    @router.post("/desinscription/{network_id}/{person_ref}", response_class=HTMLResponse)
    async def opt_out(
        network_id: network_t, person_ref: person_t, t: Annotated[str, Form(max_length=64)]
    ) -> HTMLResponse:
        if not links.valid(network_id, person_ref, t):
            return _page(CATALOGUES.translate("fr", "opt_out.invalid"), status=404)
        await contacts.opt_out(network_id, person_ref)
        return _page(CATALOGUES.translate("fr", "opt_out.done"))

    return router


def _page(content: str, *, raw: bool = False, status: int = 200) -> HTMLResponse:
    body = content if raw else f"<p>{escape(content)}</p>"
    html = PAGE.format(lang="fr", title="Désinscription des questionnaires", content=body)
    return HTMLResponse(html, status_code=status)
