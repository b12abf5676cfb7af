"""Who may do what on Kafka: one principal per service, its ACLs derived from the topic layout.

The single source of truth for Kafka authorisation. ``SERVICE_ACCESS`` says which topics each
service writes and reads (what its AsyncAPI document declares, checked by a unit test);
:func:`all_acls` turns it into ACLs: Write/Describe on what the service produces and on its
group's dead-letter topic, Read/Describe on what it consumes, Read on its consumer group, and
Create on its own topics only when services still create topics at start-up. The committed
``deploy/kafka-acls/acls.txt`` is rendered from it (a unit test fails on drift); the local
secured broker and its integration test apply the same list with :func:`create_acls`.

    python -m boucle_runtime.kafka_acls export [--prefix P] [--create-topics] [--output F]

also writes the same ACLs as Strimzi ``KafkaUser`` resources, for the Kubernetes component
``deploy/kubernetes/components/kafka-sasl-ssl`` (drift-checked too).

Anything not granted is refused: brokers run with ``allow.everyone.if.no.acl.found=false``.
The admin principal that creates topics and applies ACLs is a broker super user.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import for_code
from aiokafka.protocol.admin import CreateAclsRequest

from boucle_contracts.actions.v1 import TOPIC as ACTIONS
from boucle_contracts.cases.v1 import TOPIC as CASES
from boucle_contracts.feedback.v1 import TOPIC as FEEDBACK
from boucle_contracts.incidents.v1 import TOPIC as INCIDENTS
from boucle_contracts.metrics.v1 import TOPIC as METRICS
from boucle_contracts.privacy.v1 import TOPIC as PRIVACY
from boucle_contracts.problems.v1 import TOPIC as PROBLEMS
from boucle_contracts.referential.v1 import TOPIC as REFERENTIAL
from boucle_contracts.registry import TOPICS, dead_letter_topic
from boucle_contracts.signals.v1 import TOPIC as SIGNALS
from boucle_contracts.solicitations.v1 import TOPIC as SOLICITATIONS
from boucle_contracts.training.v1 import TOPIC as TRAINING

ROOT = Path(__file__).resolve().parents[4]
ACL_FILE = ROOT / "deploy" / "kafka-acls" / "acls.txt"
STRIMZI_USERS_FILE = (
    ROOT / "deploy" / "kubernetes" / "components" / "kafka-sasl-ssl" / "kafka-users.yaml"
)
STRIMZI_CLUSTER = "boucle"

Operation = Literal["READ", "WRITE", "CREATE", "DESCRIBE"]
ResourceType = Literal["TOPIC", "GROUP"]


@dataclass(frozen=True, slots=True)
class ServiceAccess:
    """What one service does on Kafka; its principal is ``User:boucle-<service>``."""

    service: str
    produces: tuple[str, ...] = ()
    consumes: tuple[str, ...] = ()
    consumer_group: str | None = None  # the service's default ``consumer_group`` setting

    @property
    def principal(self) -> str:
        return f"User:boucle-{self.service}"


# Each topic has exactly one writer (a unit test holds it): the collector alone writes the
# inputs, the referential of names and erasure requests; the analyzer alone its figures,
# degradations and problems; actions alone its cases and actions; surveys alone the
# solicitations. Consumers are what each service's AsyncAPI document declares.
SERVICE_ACCESS: tuple[ServiceAccess, ...] = (
    ServiceAccess("collector", produces=(FEEDBACK, INCIDENTS, TRAINING, REFERENTIAL, PRIVACY)),
    ServiceAccess(
        "analyzer",
        produces=(METRICS, SIGNALS, PROBLEMS),
        consumes=(FEEDBACK, INCIDENTS, TRAINING, PRIVACY),
        consumer_group="boucle-analyzer",
    ),
    ServiceAccess(
        "actions",
        produces=(CASES, ACTIONS),
        consumes=(INCIDENTS, METRICS, SIGNALS, PROBLEMS, PRIVACY),
        consumer_group="boucle-actions",
    ),
    ServiceAccess(
        "surveys",
        produces=(SOLICITATIONS,),
        consumes=(TRAINING, FEEDBACK, REFERENTIAL, PRIVACY),
        consumer_group="boucle-surveys",
    ),
    ServiceAccess(
        "reporter",
        consumes=tuple(spec.name for spec in TOPICS),  # the evidence log records everything
        consumer_group="boucle-reporter",
    ),
)


@dataclass(frozen=True, slots=True, order=True)
class Acl:
    """One ALLOW rule on a literal resource name, from any host."""

    principal: str
    resource_type: ResourceType
    resource_name: str
    operation: Operation

    def line(self) -> str:
        return f"{self.principal} ALLOW {self.operation} {self.resource_type} {self.resource_name}"


def service_acls(
    access: ServiceAccess, *, prefix: str = "", create_topics: bool = False
) -> list[Acl]:
    """The ACLs of one service; ``prefix`` is the services' ``topic_prefix`` (groups too)."""
    p = access.principal
    writes = list(access.produces)
    if access.consumer_group is not None:
        writes.append(dead_letter_topic(access.consumer_group))
    acls: set[Acl] = set()
    for topic in writes:
        operations: tuple[Operation, ...] = ("WRITE", "DESCRIBE")
        if create_topics:
            operations += ("CREATE",)
        acls.update(Acl(p, "TOPIC", prefix + topic, op) for op in operations)
    for topic in access.consumes:
        acls.update(Acl(p, "TOPIC", prefix + topic, op) for op in ("READ", "DESCRIBE"))
    if access.consumer_group is not None:
        acls.add(Acl(p, "GROUP", prefix + access.consumer_group, "READ"))
    return sorted(acls)


def all_acls(*, prefix: str = "", create_topics: bool = False) -> list[Acl]:
    return [
        acl
        for access in SERVICE_ACCESS
        for acl in service_acls(access, prefix=prefix, create_topics=create_topics)
    ]


def render(acls: Iterable[Acl], *, prefix: str = "", create_topics: bool = False) -> str:
    """The ACL file: a header, then one ``principal ALLOW operation type name`` per line."""
    options = (f" --prefix {prefix}" if prefix else "") + (
        " --create-topics" if create_topics else ""
    )
    header = [
        "# Kafka ACLs of Boucle: one principal per service, nothing else allowed.",
        "# Generated by `python -m boucle_runtime.kafka_acls export"
        f"{options}` from libs/runtime/src/boucle_runtime/kafka_acls.py;",
        "# do not edit by hand. Apply with deploy/kafka-acls/apply.sh (Kafka's kafka-acls.sh).",
        "# Columns: principal permission operation resource-type literal-resource-name",
    ]
    return "\n".join([*header, *(acl.line() for acl in acls)]) + "\n"


def render_strimzi_users(*, prefix: str = "", create_topics: bool = False) -> str:
    """One Strimzi ``KafkaUser`` per service (SCRAM-SHA-512, simple authorisation).

    The User Operator creates each user, its password (Secret ``boucle-<service>``, key
    ``password``) and its ACLs. JSON is YAML: no YAML library, and the output is stable.
    """
    header = [
        "# Strimzi KafkaUsers of Boucle: one per service, its SCRAM password in the Secret of",
        "# the same name (key `password`), its ACLs those of deploy/kafka-acls/acls.txt.",
        "# Generated by `python -m boucle_runtime.kafka_acls export` from",
        "# libs/runtime/src/boucle_runtime/kafka_acls.py; do not edit by hand.",
    ]
    documents = list(header)
    for access in SERVICE_ACCESS:
        acls = service_acls(access, prefix=prefix, create_topics=create_topics)
        grouped: dict[tuple[ResourceType, str], list[str]] = {}
        for acl in acls:
            grouped.setdefault((acl.resource_type, acl.resource_name), []).append(
                acl.operation.capitalize()
            )
        user = {
            "apiVersion": "kafka.strimzi.io/v1beta2",
            "kind": "KafkaUser",
            "metadata": {
                "name": f"boucle-{access.service}",
                "labels": {
                    "strimzi.io/cluster": STRIMZI_CLUSTER,
                    "app.kubernetes.io/component": access.service,
                },
            },
            "spec": {
                "authentication": {"type": "scram-sha-512"},
                "authorization": {
                    "type": "simple",
                    "acls": [
                        {
                            "resource": {
                                "type": kind.lower(),
                                "name": name,
                                "patternType": "literal",
                            },
                            "operations": sorted(operations),
                            "host": "*",
                        }
                        for (kind, name), operations in sorted(grouped.items())
                    ],
                },
            },
        }
        separator = ["---"] if len(documents) > len(header) else []
        documents += [*separator, json.dumps(user, indent=2)]
    return "\n".join(documents) + "\n"


# Kafka's protocol codes (org.apache.kafka.common.acl.AclOperation, resource.ResourceType, …).
_RESOURCE_TYPES: dict[ResourceType, int] = {"TOPIC": 2, "GROUP": 3}
_OPERATIONS: dict[Operation, int] = {"READ": 3, "WRITE": 4, "CREATE": 5, "DESCRIBE": 8}
_ALLOW, _LITERAL = 3, 3


async def create_acls(client_options: dict[str, Any], acls: Sequence[Acl]) -> None:
    """Create ``acls`` as the admin (a super user) connecting with ``client_options``.

    aiokafka's admin client has no ACL method: this sends Kafka's CreateAcls request (one
    ACL each) through it. Creating an ACL that exists is a no-op for the broker.
    """
    admin = AIOKafkaAdminClient(**client_options)
    await admin.start()
    try:
        for acl in acls:
            request = CreateAclsRequest(
                resource_type=_RESOURCE_TYPES[acl.resource_type],
                resource_name=acl.resource_name,
                resource_pattern_type_filter=_LITERAL,
                principal=acl.principal,
                host="*",
                operation=_OPERATIONS[acl.operation],
                permission_type=_ALLOW,
            )
            response = await admin._send_request(request)
            for error_code, message in response.creation_responses:
                if error_code:
                    raise for_code(error_code)(f"{acl.line()}: {message}")
    finally:
        await admin.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m boucle_runtime.kafka_acls")
    commands = parser.add_subparsers(dest="command", required=True)
    export = commands.add_parser(
        "export", help=f"write the ACL file ({ACL_FILE}) and the Strimzi KafkaUsers"
    )
    export.add_argument("--prefix", default="", help="the services' TOPIC_PREFIX")
    export.add_argument(
        "--create-topics", action="store_true", help="services still create their topics"
    )
    export.add_argument("--output", type=Path, default=ACL_FILE, help="'-' for stdout")
    export.add_argument("--strimzi-output", type=Path, default=STRIMZI_USERS_FILE)
    args = parser.parse_args(argv)
    acls = all_acls(prefix=args.prefix, create_topics=args.create_topics)
    text = render(acls, prefix=args.prefix, create_topics=args.create_topics)
    if str(args.output) == "-":
        sys.stdout.write(text)
        return 0
    users = render_strimzi_users(prefix=args.prefix, create_topics=args.create_topics)
    for path, content in ((args.output, text), (args.strimzi_output, users)):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
