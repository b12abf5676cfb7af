"""A small LimeSurvey RemoteControl 2 JSON-RPC server on 127.0.0.1, for tests.

It answers ``get_session_key``, ``export_responses`` (document type json, base64, the
responses numbered from ``iFromResponseID``) and ``release_session_key`` as LimeSurvey
documents them, in the export format of LimeSurvey up to 5.x (``{"<id>": {...}}`` items) or
6.x (flat items with ``id``).
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

USERNAME, PASSWORD = "boucle", "limesurvey-password"


@dataclass
class LimeSurveyState:
    survey_id: int
    rows: list[dict[str, Any]] = field(default_factory=list)  # with "id"
    nested: bool = True  # the export format of LimeSurvey <= 5
    ignore_from: bool = False  # answer every response, whatever the id asked from
    calls: list[tuple[str, list[Any]]] = field(default_factory=list)
    open_sessions: set[str] = field(default_factory=set)
    url: str = ""

    def export(self, params: list[Any]) -> Any:
        key, survey, doc_type = params[0], params[1], params[2]
        if key not in self.open_sessions:
            return {"status": "Invalid session key"}
        if survey != self.survey_id or doc_type != "json":
            return {"status": "Error: Invalid survey ID"}
        start = 0 if self.ignore_from or len(params) < 8 or params[7] is None else int(params[7])
        rows = [r for r in self.rows if int(r["id"]) >= start and r.get("submitdate")]
        if not rows:
            return {"status": "No Response found for Token"}
        if self.nested:
            items: list[Any] = [{str(r["id"]): dict(r)} for r in rows]
        else:
            items = rows
        text = json.dumps({"responses": items}, ensure_ascii=False)
        return base64.b64encode(text.encode()).decode()

    def answer(self, method: str, params: list[Any]) -> Any:
        self.calls.append((method, params))
        if method == "get_session_key":
            if params != [USERNAME, PASSWORD]:
                return {"status": "Invalid user name or password"}
            key = f"session-{len(self.calls)}"
            self.open_sessions.add(key)
            return key
        if method == "release_session_key":
            self.open_sessions.discard(params[0])
            return "OK"
        if method == "export_responses":
            return self.export(params)
        raise ValueError(method)

    def exported_from(self) -> list[int]:
        return [params[7] for method, params in self.calls if method == "export_responses"]


@contextmanager
def limesurvey_server(state: LimeSurveyState) -> Iterator[LimeSurveyState]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            result = state.answer(body["method"], body["params"])
            reply = json.dumps({"id": body["id"], "result": result, "error": None}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/index.php/admin/remotecontrol"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def response_row(number: int, overall: int = 4, comment: str = "Très bien") -> dict[str, Any]:
    """One completed response as LimeSurvey exports it (codes, short answers)."""
    return {
        "id": number,
        "submitdate": f"2025-03-{10 + number:02d} 14:30:00",
        "lastpage": 1,
        "startlanguage": "fr",
        "seed": "1234567",
        "token": None,
        "G01Q01": str(overall),
        "G01Q02": "9",
        "G01Q03": comment,
        "G01Q04[SQ001]": "A2",
        "G01Q05": "hors mapping",
    }


def limesurvey_integration(url: str, password_file: str, survey_id: int) -> dict[str, Any]:
    return {
        "id": "lime-horizon",
        "platform": "limesurvey",
        "network_id": "net-1",
        "sites": ["site-a"],
        "limesurvey": {
            "url": url,
            "username": USERNAME,
            "password": {"file": password_file},
            "survey_ids": [str(survey_id)],
        },
        "forms": {
            str(survey_id): {
                "site_id": "site-a",
                "survey_kind": "hot",
                "respondent_role": "learner",
                "questions": {
                    "G01Q01": {"answer_type": "scale", "dimension": "overall"},
                    "G01Q02": {"answer_type": "nps"},
                    "G01Q03": {"role": "comment"},
                    "G01Q04[SQ001]": {
                        "answer_type": "choice",
                        "dimension": "trainer",
                        "choices": {"A1": "Oui", "A2": "Non"},
                    },
                },
            }
        },
    }
