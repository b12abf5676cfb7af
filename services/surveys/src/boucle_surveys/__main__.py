"""``boucle-surveys``: run the surveys service until SIGTERM."""

from __future__ import annotations

from boucle_runtime.service import serve
from boucle_surveys.app import create_app
from boucle_surveys.settings import SurveysSettings


def main() -> None:
    settings = SurveysSettings()  # secrets come from the environment
    serve(create_app(settings), settings)


if __name__ == "__main__":
    main()
