"""A throwaway Kafka broker secured as production runs it: SCRAM over TLS, ACLs, no anonymous.

    .venv/bin/python deploy/local/kafka_secure.py start [--run-dir D]  # prints a JSON summary
    .venv/bin/python deploy/local/kafka_secure.py env SERVICE [--run-dir D]  # its BOUCLE_* exports
    .venv/bin/python deploy/local/kafka_secure.py stop [--run-dir D] [--wipe]

``start`` (re)creates everything under the run folder (default ``.cache/run/kafka-secure``):
a CA and a broker certificate (PEM), a KRaft storage formatted with one SCRAM-SHA-512 user
per service plus ``boucle-admin`` (random passwords, in ``credentials.json``), a single-node
broker on free ports with a SASL_SSL client listener, the StandardAuthorizer and
``allow.everyone.if.no.acl.found=false``; then, as the admin (a super user), it creates every
topic of the layout and applies ``boucle_runtime.kafka_acls.all_acls()``. It uses the Kafka
jars ``deploy/local/services.sh provision`` cached; the shared broker on 9092 is untouched.

The controller listener is TLS with client certificates: only the broker's own certificate
(a super user) gets in. Nothing here is fit for production: keys are unencrypted files.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import ipaddress
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))  # tools.localstack, when run as a script

from aiokafka.admin import AIOKafkaAdminClient, NewTopic  # noqa: E402
from aiokafka.errors import TopicAlreadyExistsError  # noqa: E402

from boucle_contracts.registry import TOPICS, dead_letter_topic  # noqa: E402
from boucle_runtime.kafka_acls import SERVICE_ACCESS, all_acls, create_acls  # noqa: E402
from boucle_runtime.kafka_security import client_options  # noqa: E402
from boucle_runtime.settings import ServiceSettings  # noqa: E402
from tools.localstack import free_port  # noqa: E402

CACHE = Path(os.environ.get("BOUCLE_CACHE_DIR", ROOT / ".cache"))
DEFAULT_RUN = Path(os.environ.get("BOUCLE_RUN_DIR", CACHE / "run")) / "kafka-secure"
ADMIN = "boucle-admin"
MECHANISM = "SCRAM-SHA-512"
BROKER_DN = "CN=boucle-broker"
START_TIMEOUT = float(os.environ.get("BOUCLE_START_TIMEOUT", "90"))
HEAP = os.environ.get("BOUCLE_KAFKA_HEAP", "384m")


class SetupError(RuntimeError):
    pass


def kafka_libs() -> Path:
    """The jars ``services.sh provision`` cached (same version as the shared broker)."""
    pom = (HERE / "kafka" / "pom.xml").read_text(encoding="utf-8")
    found = re.search(r"<kafka.version>(.*)</kafka.version>", pom)
    libs = CACHE / f"kafka-{found.group(1) if found else '?'}" / "libs"
    if not (libs / ".stamp").is_file():
        raise SetupError(f"no cached Kafka jars in {libs}: run deploy/local/services.sh provision")
    if shutil.which("java") is None:
        raise SetupError("java is not installed (Java 17+)")
    return libs


# --- certificates -------------------------------------------------------------------------


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def write_certificates(folder: Path) -> tuple[Path, Path]:
    """``ca.pem`` and ``broker.pem`` (PKCS#8 key then certificate: Kafka's PEM keystore)."""
    now = dt.datetime.now(dt.UTC)
    ca_key, broker_key = _key(), _key()
    ca_name = _name("boucle-local-ca")
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    broker = (
        x509.CertificateBuilder()
        .subject_name(_name(BROKER_DN.removeprefix("CN=")))
        .issuer_name(ca_name)
        .public_key(broker_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    ca_file, keystore = folder / "ca.pem", folder / "broker.pem"
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    keystore.write_bytes(
        broker_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        + broker.public_bytes(serialization.Encoding.PEM)
        + ca.public_bytes(serialization.Encoding.PEM)
    )
    keystore.chmod(0o600)
    return ca_file, keystore


# --- broker ---------------------------------------------------------------------------------


def server_properties(
    folder: Path, *, port: int, controller: int, ca_file: Path, keystore: Path, admin_pw: str
) -> str:
    jaas = (
        "org.apache.kafka.common.security.scram.ScramLoginModule required "
        f'username="{ADMIN}" password="{admin_pw}";'
    )
    return "\n".join(
        [
            "process.roles=broker,controller",
            "node.id=1",
            f"controller.quorum.bootstrap.servers=127.0.0.1:{controller}",
            f"listeners=SASL_SSL://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller}",
            f"advertised.listeners=SASL_SSL://127.0.0.1:{port}",
            "controller.listener.names=CONTROLLER",
            "inter.broker.listener.name=SASL_SSL",
            "listener.security.protocol.map=CONTROLLER:SSL,SASL_SSL:SASL_SSL",
            # Clients: SCRAM over TLS. The broker's own (inter-broker) login is the admin's.
            "sasl.enabled.mechanisms=SCRAM-SHA-512,SCRAM-SHA-256",
            f"sasl.mechanism.inter.broker.protocol={MECHANISM}",
            f"listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config={jaas}",
            f"listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config={jaas}",
            # Controller: TLS with client certificates; the broker's certificate gets in.
            "listener.name.controller.ssl.client.auth=required",
            "ssl.keystore.type=PEM",
            f"ssl.keystore.location={keystore}",
            "ssl.truststore.type=PEM",
            f"ssl.truststore.location={ca_file}",
            "ssl.endpoint.identification.algorithm=https",
            # Authorisation: nothing without an ACL, except the admin and the broker itself.
            "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer",
            "allow.everyone.if.no.acl.found=false",
            f"super.users=User:{ADMIN};User:{BROKER_DN}",
            f"log.dirs={folder}/data",
            "auto.create.topics.enable=false",
            "num.partitions=1",
            "default.replication.factor=1",
            "min.insync.replicas=1",
            "offsets.topic.replication.factor=1",
            "offsets.topic.num.partitions=3",
            "transaction.state.log.replication.factor=1",
            "transaction.state.log.min.isr=1",
            "share.coordinator.state.topic.replication.factor=1",
            "share.coordinator.state.topic.min.isr=1",
            "group.initial.rebalance.delay.ms=0",
            "num.network.threads=2",
            "num.io.threads=2",
            "",
        ]
    )


def _java(libs: Path, folder: Path, *args: str, heap: str | None = None) -> list[str]:
    memory = [f"-Xms{heap}", f"-Xmx{heap}"] if heap else ["-Xmx256m"]
    return [
        "java",
        *memory,
        "-XX:+UseSerialGC" if heap is None else "-XX:+UseG1GC",
        "-XX:TieredStopAtLevel=1" if heap is None else "-XX:MaxGCPauseMillis=20",
        "-Djava.awt.headless=true",
        f"-Dlog4j2.configurationFile={HERE / 'kafka' / 'log4j2.properties'}",
        f"-Dkafka.logs.dir={folder / 'logs'}",
        "-cp",
        f"{libs}/*",
        *args,
    ]


def our_pid(folder: Path) -> int | None:
    """The broker's pid, only if its command line names this run folder (never a stranger)."""
    try:
        pid = int((folder / "pid").read_text())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
    except (OSError, ValueError):
        return None
    return pid if str(folder).encode() in cmdline else None


def start(folder: Path) -> dict[str, Any]:
    libs = kafka_libs()
    stop(folder, wipe=True)
    folder.mkdir(parents=True)
    (folder / "logs").mkdir()
    began = time.monotonic()
    ca_file, keystore = write_certificates(folder)
    users = {f"boucle-{access.service}": secrets.token_urlsafe(18) for access in SERVICE_ACCESS}
    users[ADMIN] = secrets.token_urlsafe(18)
    port, controller = free_port(), free_port()
    properties = folder / "server.properties"
    properties.write_text(
        server_properties(
            folder,
            port=port,
            controller=controller,
            ca_file=ca_file,
            keystore=keystore,
            admin_pw=users[ADMIN],
        ),
        encoding="utf-8",
    )
    properties.chmod(0o600)
    scram = [
        arg
        for name, password in users.items()
        for arg in ("--add-scram", f"{MECHANISM}=[name={name},password={password}]")
    ]
    cluster = secrets.token_urlsafe(16)  # a KRaft cluster id: 16 random bytes, base64url
    formatted = subprocess.run(  # noqa: S603 (our own command line)
        _java(
            libs,
            folder,
            "kafka.tools.StorageTool",
            "format",
            "--standalone",
            "-t",
            cluster,
            "-c",
            str(properties),
            *scram,
        ),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    if formatted.returncode != 0:
        raise SetupError(f"formatting the storage failed:\n{formatted.stdout}{formatted.stderr}")
    with (folder / "stdout.log").open("wb") as out:
        broker = subprocess.Popen(  # noqa: S603 (our own command line)
            _java(libs, folder, "kafka.Kafka", str(properties), heap=HEAP),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    (folder / "pid").write_text(str(broker.pid))
    summary: dict[str, Any] = {
        "bootstrap": f"127.0.0.1:{port}",
        "cafile": str(ca_file),
        "mechanism": MECHANISM,
        "admin": ADMIN,
        "users": users,
        "run_dir": str(folder),
        "pid": broker.pid,
    }
    credentials = folder / "credentials.json"
    credentials.write_text(json.dumps(summary, indent=2), encoding="utf-8")
    credentials.chmod(0o600)
    server_log = folder / "logs" / "server.log"
    deadline = time.monotonic() + START_TIMEOUT
    while not (server_log.is_file() and "Kafka Server started" in server_log.read_text()):
        if broker.poll() is not None:
            tail = (folder / "stdout.log").read_text(errors="replace")[-3000:]
            raise SetupError(f"the secured broker exited during start-up:\n{tail}")
        if time.monotonic() > deadline:
            raise SetupError(f"the secured broker did not start in {START_TIMEOUT:.0f}s ({folder})")
        time.sleep(0.3)
    asyncio.run(_topics_and_acls(summary))
    summary["seconds_to_start"] = round(time.monotonic() - began, 1)
    return summary


def settings_of(summary: dict[str, Any], user: str, **overrides: Any) -> ServiceSettings:
    """Plain ``ServiceSettings`` connecting as ``user`` (what a service's env would say)."""
    values: dict[str, Any] = {
        "kafka_bootstrap_servers": summary["bootstrap"],
        "kafka_security_protocol": "SASL_SSL",
        "kafka_sasl_mechanism": summary["mechanism"],
        "kafka_sasl_username": user,
        "kafka_sasl_password": summary["users"][user],
        "kafka_ssl_cafile": summary["cafile"],
        "create_topics": False,
    }
    return ServiceSettings.model_validate(values | overrides)


async def _topics_and_acls(summary: dict[str, Any]) -> None:
    """What the topics Job and deploy/kafka-acls/apply.sh do in production, as the admin."""
    options = client_options(settings_of(summary, ADMIN))
    admin = AIOKafkaAdminClient(**options)
    await admin.start()
    try:
        wanted = [NewTopic(spec.name, spec.partitions, 1) for spec in TOPICS] + [
            NewTopic(dead_letter_topic(access.consumer_group), 1, 1)
            for access in SERVICE_ACCESS
            if access.consumer_group
        ]
        with contextlib.suppress(TopicAlreadyExistsError):  # a start over an old folder
            await admin.create_topics(wanted)
    finally:
        await admin.close()
    await create_acls(options, all_acls())


def stop(folder: Path, *, wipe: bool = False) -> None:
    pid = our_pid(folder)
    if pid is not None:
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        if Path(f"/proc/{pid}").exists():
            os.kill(pid, signal.SIGKILL)
        (folder / "pid").unlink(missing_ok=True)
    if wipe and folder.is_dir():
        shutil.rmtree(folder)


def env_lines(summary: dict[str, Any], service: str) -> list[str]:
    prefix = f"BOUCLE_{service.upper()}_"
    user = f"boucle-{service}"
    values = {
        "KAFKA_BOOTSTRAP_SERVERS": summary["bootstrap"],
        "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
        "KAFKA_SASL_MECHANISM": summary["mechanism"],
        "KAFKA_SASL_USERNAME": user,
        "KAFKA_SASL_PASSWORD": summary["users"][user],
        "KAFKA_SSL_CAFILE": summary["cafile"],
        "CREATE_TOPICS": "false",  # the admin created them; services hold no Create ACL
    }
    return [f"export {prefix}{name}={value}" for name, value in values.items()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["start", "stop", "env"])
    parser.add_argument("service", nargs="?", help="env: collector, analyzer, actions, reporter")
    parser.add_argument("--run-dir", type=Path, default=DEFAULT_RUN)
    parser.add_argument("--wipe", action="store_true", help="stop: delete the run folder too")
    args = parser.parse_args(argv)
    folder = args.run_dir.resolve()
    try:
        if args.command == "start":
            print(json.dumps(start(folder)))
        elif args.command == "stop":
            stop(folder, wipe=args.wipe)
        else:
            summary = json.loads((folder / "credentials.json").read_text())
            print("\n".join(env_lines(summary, args.service or "collector")))
    except SetupError as error:
        print(f"kafka_secure: {error}", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
