"""Templates with the person's language, the CSRF token and one-shot messages (« flash »)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import HTMLResponse

from boucle_console import locale as words
from boucle_console.adapters.api import utc_now
from boucle_console.oidc import User
from boucle_console.session import csrf_token

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
LANG_COOKIE = "boucle_lang"
FLASH = "flash"


@dataclass(frozen=True, slots=True)
class Renderer:
    templates: Jinja2Templates
    default_locale: words.Locale

    @classmethod
    def create(cls, default_locale: words.Locale) -> Renderer:
        return cls(Jinja2Templates(directory=TEMPLATES), default_locale)

    def locale_of(self, request: Request) -> words.Locale:
        return words.pick_locale(
            request.cookies.get(LANG_COOKIE),
            request.headers.get("accept-language"),
            self.default_locale,
        )

    def page(
        self,
        request: Request,
        template: str,
        user: User | None,
        *,
        status: int = 200,
        **context: Any,
    ) -> HTMLResponse:
        lang = self.locale_of(request)
        t = words.translator(lang)
        now = utc_now()

        def left(delta: timedelta) -> str:
            text = words.duration(delta, lang)
            return t("deadline.late" if delta <= timedelta(0) else "deadline.left", delta=text)

        flash = request.session.pop(FLASH, None)
        return self.templates.TemplateResponse(
            request,
            template,
            {
                "t": t,
                "lang": lang,
                "other_lang": "en" if lang == "fr" else "fr",
                "user": user,
                "role": user.principal.role.value if user else None,
                "read_only": bool(user and user.principal.read_only),
                "csrf": csrf_token(request.session),
                "flash": flash,
                "now": now,
                "when": lambda moment: words.when(moment, lang),
                "day": lambda moment: words.day(moment, lang),
                "left": left,
                "hours": lambda value: words.hours(value, lang),
                "days": lambda value: words.days(value, lang),
                "number": lambda value, digits=2: words.number(value, digits, lang),
                "percent": lambda share: words.percent(share, lang),
                "metric": lambda code, value: words.metric_value(code, value, lang),
                # a dimension by its name when the catalogue has one, else as it is coded
                "dimension": lambda code: (
                    t(f"dimension.{code}") if words.has_message(lang, f"dimension.{code}") else code
                ),
                **context,
            },
            status_code=status,
        )

    def public(
        self,
        request: Request,
        template: str,
        *,
        lang: words.Locale,
        status: int = 200,
        **context: Any,
    ) -> HTMLResponse:
        """A page for anyone, signed in or not: the session is not touched, so no cookie is
        set (no CSRF token, no flash); the language comes with the request."""
        return self.templates.TemplateResponse(
            request,
            template,
            {
                "t": words.translator(lang),
                "lang": lang,
                "other_lang": "en" if lang == "fr" else "fr",
                **context,
            },
            status_code=status,
        )


def flash(request: Request, key: str) -> None:
    request.session[FLASH] = key
