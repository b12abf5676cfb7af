"""The four Boucle services (and, on demand, the console) as local processes: start, wait, stop.

Used by the main job (``make demo``) and by the end-to-end tests, so both run the stack
exactly as an operator would: one process per service, configured by environment only.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

SERVICES = ("collector", "analyzer", "actions", "reporter")
AUTHENTICATED = ("analyzer", "actions", "reporter")  # services whose HTTP API wants a bearer JWT
DEFAULT_PORTS = {"collector": 8081, "analyzer": 8082, "actions": 8083, "reporter": 8084}
CONSOLE = "console"  # the web front end: started after the APIs it calls, when asked for


class StackError(RuntimeError):
    """A service did not start; the message carries the tail of its log."""


PORT_FLOOR = 20_000
# The collector and the analyzer load spaCy's French pipeline before they answer ready: about
# 15 s on a quiet 2-core machine, several times that on a busy one.
START_TIMEOUT_SECONDS = 180.0


def _ephemeral_floor() -> int:
    """Lowest port the kernel hands to outgoing connections (Linux default 32768)."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32_768


def free_port() -> int:
    """A port free now, chosen below the ephemeral range.

    ``bind(0)`` answers from the ephemeral range, where, on a busy machine, an outgoing
    connection can take the port before the service binds it (seen: "address already in
    use" at start-up while a large demo ran beside the tests).
    """
    ceiling = max(PORT_FLOOR + 1_000, _ephemeral_floor())
    for _ in range(200):
        port = random.randrange(PORT_FLOOR, ceiling)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise StackError(f"no free port between {PORT_FLOOR} and {ceiling}")


@dataclass
class ServiceProcess:
    name: str
    port: int
    log_path: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> int | None:
        """SIGTERM, as an orchestrator would: the service drains, then exits."""
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else None
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()


@dataclass
class LocalIssuer:
    """A throw-away identity provider: one RSA key, tokens the stack's services accept.

    The services get its public key through their settings (``*_AUTH_PUBLIC_KEY``), so
    local runs and tests need no real OIDC provider.
    """

    issuer: str = "https://auth.boucle.local/"
    audience: str = "boucle"
    kid: str = "local-1"
    _key: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048),
        repr=False,
    )

    @property
    def public_pem(self) -> str:
        return (
            self._key.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )

    def environment(self, prefix: str) -> dict[str, str]:
        return {
            f"{prefix}AUTH_ISSUER": self.issuer,
            f"{prefix}AUTH_AUDIENCE": self.audience,
            f"{prefix}AUTH_PUBLIC_KEY": self.public_pem,
        }

    def token(
        self,
        *,
        network_id: str,
        role: str = "quality_lead",
        subject: str = "usr-local",
        **claims: Any,
    ) -> str:
        now = int(time.time())
        payload = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": subject,
            "iat": now,
            "exp": now + 3600,
            "network_id": network_id,
            "role": role,
            **claims,
        }
        return jwt.encode(payload, self._key, algorithm="RS256", headers={"kid": self.kid})


def evidence_signing_key() -> str:
    """A throw-away Ed25519 key (PKCS#8 PEM) for the reporter to sign chain heads with."""
    return (
        ed25519.Ed25519PrivateKey.generate()
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )


@dataclass
class StackConfig:
    kafka_bootstrap: str
    mongodb_uri: str
    topic_prefix: str = ""
    database_suffix: str = ""
    topic_partitions: int | None = None
    ports: dict[str, int] = field(default_factory=dict)
    extra_env: dict[str, str] = field(default_factory=dict)
    # Variables only the collector gets, whatever their name (webhook secrets its
    # integrations file references).
    collector_env: dict[str, str] = field(default_factory=dict)
    issuer: LocalIssuer = field(default_factory=LocalIssuer)
    reporter_signing_key: str = field(default_factory=evidence_signing_key, repr=False)
    # The console: started last, calling the stack's actions and reporter (``upstreams``,
    # filled in by Stack.start); it signs people in at ``oidc_issuer_url`` when given.
    console: bool = False
    services: tuple[str, ...] = SERVICES  # a subset when a test needs fewer (start order kept)
    oidc_issuer_url: str | None = None
    console_session_secret: str = field(default_factory=lambda: os.urandom(32).hex(), repr=False)
    upstreams: dict[str, str] = field(default_factory=dict)

    def database(self, service: str) -> str:
        return f"boucle_{service}{self.database_suffix}"

    def environment(self, service: str, port: int) -> dict[str, str]:
        prefix = f"BOUCLE_{service.upper()}_"
        env = {k: v for k, v in os.environ.items() if not k.startswith("BOUCLE_")}
        env |= {
            f"{prefix}KAFKA_BOOTSTRAP_SERVERS": self.kafka_bootstrap,
            f"{prefix}HTTP_PORT": str(port),
            f"{prefix}TOPIC_PREFIX": self.topic_prefix,
            f"{prefix}MONGODB_URI": self.mongodb_uri,
            f"{prefix}MONGODB_DATABASE": self.database(service),
        }
        if self.topic_partitions:
            env[f"{prefix}TOPIC_PARTITIONS"] = str(self.topic_partitions)
        if service in AUTHENTICATED or service == CONSOLE:
            env |= self.issuer.environment(prefix)
        if service == CONSOLE:
            env |= {
                f"{prefix}ACTIONS_URL": self.upstreams.get("actions", ""),
                f"{prefix}REPORTER_URL": self.upstreams.get("reporter", ""),
                f"{prefix}SESSION_SECRET": self.console_session_secret,
                f"{prefix}SESSION_COOKIE_SECURE": "false",  # local http only
            }
            if self.oidc_issuer_url:
                env[f"{prefix}OIDC_ISSUER_URL"] = self.oidc_issuer_url
        if service == "reporter":
            env[f"{prefix}EVIDENCE_SIGNING_KEY"] = self.reporter_signing_key
        if service == "collector":
            # Without an integrations file: an open intake API, on loopback only. Either way
            # raise the per-key rate limit for bulk local loads.
            keyed = f"{prefix}INTEGRATIONS_FILE" in self.extra_env | self.collector_env
            if not keyed:
                env[f"{prefix}ALLOW_UNAUTHENTICATED"] = "true"
            env[f"{prefix}RATE_LIMIT_PER_SECOND"] = "2000"
            env[f"{prefix}RATE_LIMIT_BURST"] = "2000"
            env |= self.collector_env
        return env | {k: v for k, v in self.extra_env.items() if k.startswith(prefix)}


@dataclass
class Stack:
    config: StackConfig
    log_dir: Path
    services: dict[str, ServiceProcess] = field(default_factory=dict)

    def __getitem__(self, name: str) -> ServiceProcess:
        return self.services[name]

    def start(self, *, timeout_seconds: float = START_TIMEOUT_SECONDS) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        bin_dir = Path(sys.executable).parent
        names = tuple(n for n in SERVICES if n in self.config.services)
        names = (*names, CONSOLE) if self.config.console else names
        for name in names:
            if name == CONSOLE:
                self.config.upstreams = {n: self.services[n].url for n in ("actions", "reporter")}
            port = self.config.ports.get(name) or free_port()
            service = ServiceProcess(name, port, self.log_dir / f"{name}.log")
            with service.log_path.open("wb") as log:
                service.process = subprocess.Popen(  # noqa: S603 - our own entry points
                    [str(bin_dir / f"boucle-{name}")],
                    env=self.config.environment(name, port),
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            self.services[name] = service
        for service in self.services.values():
            self._wait_ready(service, timeout_seconds)

    def restart(
        self, name: str, env: dict[str, str], *, timeout_seconds: float = START_TIMEOUT_SECONDS
    ) -> None:
        """Stop one service and start it again with ``env`` added to its environment."""
        old = self.services[name]
        old.stop()
        bin_dir = Path(sys.executable).parent
        service = ServiceProcess(name, old.port, old.log_path)
        with service.log_path.open("ab") as log:
            service.process = subprocess.Popen(  # noqa: S603 - our own entry points
                [str(bin_dir / f"boucle-{name}")],
                env=self.config.environment(name, old.port) | env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.services[name] = service
        self._wait_ready(service, timeout_seconds)

    def stop(self) -> dict[str, int | None]:
        return {name: service.stop() for name, service in self.services.items()}

    def diagnostics(self) -> str:
        return "\n".join(
            f"--- {s.name} log (tail) ---\n{s.logs()[-4000:]}" for s in self.services.values()
        )

    @staticmethod
    def _wait_ready(service: ServiceProcess, timeout_seconds: float) -> None:
        deadline = time.monotonic() + timeout_seconds
        while time.monotonic() < deadline:
            assert service.process is not None
            if service.process.poll() is not None:
                raise StackError(f"{service.name} exited at start-up:\n{service.logs()[-4000:]}")
            try:
                if httpx.get(f"{service.url}/health/ready", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise StackError(
            f"{service.name} not ready after {timeout_seconds}s:\n{service.logs()[-4000:]}"
        )
