"""Container HEALTHCHECK for Boucle service images: exit 0 iff GET /health/ready answers 200.

Standard library only. Finds the port the way entrypoint.sh sets it:
BOUCLE_<SERVICE>_HTTP_PORT if set, else BOUCLE_DEFAULT_HTTP_PORT (the image's port).
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping

TIMEOUT_SECONDS = 4.0
WILDCARD_HOSTS = {"", "0.0.0.0", "::", "[::]"}  # noqa: S104 - compared, not bound


def ready_url(env: Mapping[str, str]) -> str:
    prefix = f"BOUCLE_{env.get('BOUCLE_SERVICE', '').upper()}_"
    port = env.get(f"{prefix}HTTP_PORT") or env.get("BOUCLE_DEFAULT_HTTP_PORT") or "8080"
    host = env.get(f"{prefix}HTTP_HOST", "")
    if host in WILDCARD_HOSTS:
        host = "127.0.0.1"
    elif ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}/health/ready"


def main() -> int:
    url = ready_url(os.environ)
    # No proxy: a container-wide http_proxy must not capture a loopback probe.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=TIMEOUT_SECONDS) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except (OSError, ValueError) as exc:
        print(f"not ready: {url}: {exc}", file=sys.stderr)
        return 1
    if status != 200:
        print(f"not ready: {url}: HTTP {status}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
