"""``boucle-actions``: run the actions until SIGTERM."""

from __future__ import annotations

from boucle_actions.app import create_app
from boucle_actions.settings import ActionsSettings
from boucle_runtime.service import serve


def main() -> None:
    settings = ActionsSettings()
    serve(create_app(settings), settings)


if __name__ == "__main__":
    main()
