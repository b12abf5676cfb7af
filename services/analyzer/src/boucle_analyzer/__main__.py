"""``boucle-analyzer``: run the analyzer until SIGTERM."""

from __future__ import annotations

from boucle_analyzer.app import create_app
from boucle_analyzer.settings import AnalyzerSettings
from boucle_runtime.service import serve


def main() -> None:
    settings = AnalyzerSettings()
    serve(create_app(settings), settings)


if __name__ == "__main__":
    main()
