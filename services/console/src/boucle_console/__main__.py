"""``boucle-console``: serve the console until SIGTERM."""

from __future__ import annotations

import uvicorn

from boucle_console.app import create_app
from boucle_console.settings import ConsoleSettings


def main() -> None:
    settings = ConsoleSettings()
    uvicorn.run(
        create_app(settings),
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,  # keep our structured logging
        timeout_graceful_shutdown=int(settings.graceful_timeout_seconds),
        access_log=False,
        proxy_headers=True,
    )


if __name__ == "__main__":
    main()
