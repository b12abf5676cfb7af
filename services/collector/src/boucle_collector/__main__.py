"""``boucle-collector``: run the collector until SIGTERM."""

from __future__ import annotations

from boucle_collector.app import create_app
from boucle_collector.settings import CollectorSettings
from boucle_runtime.service import serve


def main() -> None:
    settings = CollectorSettings()
    serve(create_app(settings), settings)


if __name__ == "__main__":
    main()
