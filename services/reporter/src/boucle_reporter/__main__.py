"""``boucle-reporter``: run the reporter until SIGTERM."""

from __future__ import annotations

from boucle_reporter.app import create_app
from boucle_reporter.settings import ReporterSettings
from boucle_runtime.service import serve


def main() -> None:
    settings = ReporterSettings()
    serve(create_app(settings), settings)


if __name__ == "__main__":
    main()
