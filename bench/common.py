"""What the throughput and latency benchmarks share.

Ratios, not absolute figures: each system run is compared with a baseline run taken in the
same process, on the same broker, interleaved with it (baseline, system, system, baseline…)
so that load from other processes on the machine hits both sides alike. Each side runs
``reps`` times (three by default) on a fresh topic and the medians are compared.

CPU: the machine has few cores shared by broker, database, service and load generator, so
events per second alone flatter whoever steals the most CPU. Each run also records the CPU
seconds spent, during the timed window only, by the service process, the broker, the
database server (when they are local processes we can see) and this process (the load
generator, or the baseline's own client), and reports events per CPU-second.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from pymongo import AsyncMongoClient

from boucle_collector.domain.intake import SURVEY_RESPONSE, Intake
from boucle_collector.domain.person_names import FreeTextRedactor
from boucle_contracts import kafka as wire
from boucle_contracts.examples import example_of
from boucle_contracts.feedback.v1 import SurveyResponseSubmitted, SurveyResponseSubmittedV1
from tools.localstack import StackConfig, free_port

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / ".cache" / "bench"
RUN_DIR = ROOT / ".cache" / "run"
PARTITIONS = 3  # every benchmark topic, system and baseline alike
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
EXAMPLE = example_of(SurveyResponseSubmittedV1)

Record = tuple[bytes, bytes, list[tuple[str, bytes]]]  # key, value, headers


def kafka_bootstrap() -> str:
    return os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")


def mongodb_uri() -> str:
    return os.environ.get("MONGODB_URI", "mongodb://127.0.0.1:27017/")


def token() -> str:
    """A name unique to one run: topic prefixes, groups and databases derive from it."""
    return f"bench{uuid.uuid4().hex[:10]}"


# --- CPU accounting -----------------------------------------------------------------------


def process_cpu_seconds(pid: int) -> float | None:
    """User + system CPU of a process (all its threads), or None once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    # after the command name: state is field 3, utime and stime are fields 14 and 15
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def _local_pid(name: str) -> int | None:
    """Pid of the local Kafka or FerretDB that ``deploy/local/services.sh`` started, if any.

    ``BENCH_<NAME>_PID`` wins (a broker started some other way). The pid file counts only
    when the process's command line names the run folder, as the script itself checks.
    """
    configured = os.environ.get(f"BENCH_{name.upper()}_PID")
    if configured:
        return int(configured)
    pid_file = RUN_DIR / name / "pid"
    try:
        pid = int(pid_file.read_text().strip())
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
    except (OSError, ValueError):
        return None
    return pid if str(RUN_DIR / name).encode() in command else None


def broker_pid() -> int | None:
    return _local_pid("kafka")


def database_pid() -> int | None:
    return _local_pid("ferretdb")


@dataclass
class CpuMeter:
    """CPU seconds of named processes between :meth:`start` and :meth:`stop`."""

    pids: dict[str, int | None]
    _start: dict[str, float] = field(default_factory=dict)
    spent: dict[str, float] = field(default_factory=dict)

    @classmethod
    def of(cls, service: int | None = None, *, database: bool = False) -> CpuMeter:
        pids: dict[str, int | None] = {"broker": broker_pid(), "bench": os.getpid()}
        if service is not None:
            pids["service"] = service
        if database:
            pids["database"] = database_pid()
        return cls(pids)

    def _read(self) -> dict[str, float]:
        found: dict[str, float] = {}
        for name, pid in self.pids.items():
            if name == "bench":
                found[name] = time.process_time()  # this process only, threads included
            elif pid is not None and (seconds := process_cpu_seconds(pid)) is not None:
                found[name] = seconds
        return found

    def start(self) -> None:
        self._start = self._read()

    def stop(self) -> dict[str, float]:
        end = self._read()
        self.spent = {k: round(end[k] - v, 3) for k, v in self._start.items() if k in end}
        return self.spent


# --- results ------------------------------------------------------------------------------


@dataclass
class Sample:
    """One timed run: how many events, how long, and the CPU each process spent."""

    events: int
    seconds: float
    cpu: dict[str, float]
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else 0.0

    def per_cpu_second(self, parts: Iterable[str]) -> float | None:
        """Events per CPU-second of the named processes; None if one was not measurable."""
        wanted = list(parts)
        if not all(p in self.cpu for p in wanted):
            return None
        spent = sum(self.cpu[p] for p in wanted)
        return self.events / spent if spent > 0 else None


@dataclass
class Comparison:
    """A system against its baseline: medians of the runs and their ratio."""

    name: str
    unit: str
    target: float  # minimum ratio system / baseline
    system: list[Sample]
    baseline: list[Sample]
    system_cpu_parts: tuple[str, ...]  # whose CPU is the system's work
    baseline_cpu_parts: tuple[str, ...]
    note: str = ""

    @staticmethod
    def _median(values: list[float | None]) -> float | None:
        known = [v for v in values if v is not None]
        return statistics.median(known) if known else None

    def summary(self) -> dict[str, Any]:
        system_rate = statistics.median(s.rate for s in self.system)
        baseline_rate = statistics.median(s.rate for s in self.baseline)
        system_cpu = self._median([s.per_cpu_second(self.system_cpu_parts) for s in self.system])
        base_cpu = self._median([s.per_cpu_second(self.baseline_cpu_parts) for s in self.baseline])
        ratio = system_rate / baseline_rate if baseline_rate else 0.0
        return {
            "name": self.name,
            "unit": self.unit,
            "system_rate": round(system_rate, 2),
            "baseline_rate": round(baseline_rate, 2),
            "ratio": round(ratio, 4),
            "target": self.target,
            "met": ratio >= self.target,
            "system_per_cpu_second": None if system_cpu is None else round(system_cpu, 2),
            "baseline_per_cpu_second": None if base_cpu is None else round(base_cpu, 2),
            "cpu_ratio": (
                round(system_cpu / base_cpu, 4) if system_cpu is not None and base_cpu else None
            ),
            "system_cpu_parts": list(self.system_cpu_parts),
            "baseline_cpu_parts": list(self.baseline_cpu_parts),
            "runs": {
                "system": [asdict(s) | {"rate": round(s.rate, 2)} for s in self.system],
                "baseline": [asdict(s) | {"rate": round(s.rate, 2)} for s in self.baseline],
            },
            "note": self.note,
        }


async def interleaved(
    reps: int,
    baseline: Callable[[int], Awaitable[Sample]],
    system: Callable[[int], Awaitable[Sample]],
) -> tuple[list[Sample], list[Sample]]:
    """``reps`` runs of each, alternating which goes first: B S S B B S…"""
    systems: list[Sample] = []
    baselines: list[Sample] = []
    for rep in range(reps):
        if rep % 2 == 0:
            baselines.append(await baseline(rep))
            systems.append(await system(rep))
        else:
            systems.append(await system(rep))
            baselines.append(await baseline(rep))
    return systems, baselines


def write_results(results: Mapping[str, Any], *, quick: bool) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%dT%H%M%S")
    path = RESULTS_DIR / f"bench-{'quick-' if quick else ''}{stamp}.json"
    path.write_text(json.dumps(results, indent=2, default=str) + "\n")
    return path


# --- payloads -----------------------------------------------------------------------------


def survey_response(n: int, run: str, **update: Any) -> SurveyResponseSubmitted:
    """The contract's example response as the ``n``-th respondent's (own ids, hence event id)."""
    response_id = f"bench:{run}-{n}"
    comments = tuple(
        c.model_copy(update={"comment_id": f"{response_id}:c{i}"})
        for i, c in enumerate(EXAMPLE.data.comments)
    )
    changes: dict[str, Any] = {"response_id": response_id, "comments": comments} | update
    return EXAMPLE.data.model_copy(update=changes)


def site_of() -> tuple[str, str]:
    return EXAMPLE.network_id, EXAMPLE.site_id or "lyon-part-dieu"


def as_record(data: SurveyResponseSubmitted, network: str, site: str, channel: str) -> Record:
    """The bytes, key and headers the collector publishes for ``data``."""
    event = SURVEY_RESPONSE.envelope(
        SURVEY_RESPONSE.redact(data, FreeTextRedactor()),
        intake=Intake(network_id=network, site_id=site, channel=channel),
    )
    headers = [(k, v.encode()) for k, v in wire.headers_for(event).items()]
    return event.partition_key, event.to_json_bytes(), headers


# --- Kafka --------------------------------------------------------------------------------


def producer(bootstrap: str) -> AIOKafkaProducer:
    """As ``boucle_runtime.kafka.make_broker`` configures the services' producer."""
    return AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)


async def create_topic(bootstrap: str, name: str, partitions: int = PARTITIONS) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, partitions, 1)])
    finally:
        await admin.close()
    await partitions_of(bootstrap, name)  # leaders elected before anyone produces


async def delete_topics(bootstrap: str, prefix: str) -> None:
    """Every topic of a finished run: the shared broker must not fill up with them."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        mine = [t for t in await admin.list_topics() if t.startswith(prefix)]
        if mine:
            await admin.delete_topics(mine)
    finally:
        await admin.close()


@contextlib.asynccontextmanager
async def _consumer(bootstrap: str) -> AsyncIterator[AIOKafkaConsumer]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    # aiokafka 0.14 raises CancelledError from stop() when its background task never ran
    await asyncio.sleep(0)
    try:
        yield consumer
    finally:
        await consumer.stop()


async def partitions_of(bootstrap: str, topic: str) -> list[TopicPartition]:
    """The topic's partitions, once each has a leader (a topic created a moment ago)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            (described,) = await admin.describe_topics([topic])
            partitions = described["partitions"]
            if partitions and all(p["leader"] >= 0 for p in partitions):
                return [TopicPartition(topic, p["partition"]) for p in partitions]
            await asyncio.sleep(0.1)
    finally:
        await admin.close()
    raise RuntimeError(f"topic {topic} has no led partitions after 30 s")


async def message_count(bootstrap: str, topic: str) -> int:
    """Messages the topic holds (end offsets; fresh topics start at 0)."""
    async with _consumer(bootstrap) as consumer:
        partitions = await partitions_of(bootstrap, topic)
        return int(sum((await consumer.end_offsets(partitions)).values()))


async def committed(bootstrap: str, group: str, topic: str) -> int:
    """The sum over the topic's partitions of the group's committed offsets."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    return int(sum(meta.offset for tp, meta in offsets.items() if tp.topic == topic))


async def drain(bootstrap: str, topic: str, expected: int, *, within: float = 120.0) -> int:
    """Reads the topic from earliest until ``expected`` messages came (or the timeout)."""
    async with _consumer(bootstrap) as consumer:
        partitions = await partitions_of(bootstrap, topic)
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        seen = 0
        deadline = time.monotonic() + within
        while seen < expected and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=200, max_records=5_000)
            seen += sum(len(records) for records in batch.values())
        return seen


# --- service processes --------------------------------------------------------------------


@dataclass
class Server:
    """A service (or the bare baseline app) in its own process, as an operator runs it."""

    command: list[str]
    env: dict[str, str]
    port: int
    log_path: Path
    ready_path: str = "/health/ready"
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    async def start(self, within: float = 60.0) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: ASYNC220 - see above
                self.command, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + within
        async with httpx.AsyncClient(timeout=2) as http:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(f"{self.command} exited:\n{self.log_tail()}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await http.get(self.url + self.ready_path)).status_code == 200:
                        return
                await asyncio.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{self.command} not ready after {within}s:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:] if self.log_path.exists() else ""


def service(
    name: str, run: str, *, log_dir: Path, extra_env: Mapping[str, str] | None = None
) -> Server:
    """One Boucle service on its own topic prefix and database, configured by environment
    exactly as the local stack does (``tools.localstack``); the collector's open intake
    gets a rate limit no benchmark reaches."""
    config = StackConfig(
        kafka_bootstrap=kafka_bootstrap(),
        mongodb_uri=mongodb_uri(),
        topic_prefix=f"{run}.",
        database_suffix=f"_{run}",
        topic_partitions=PARTITIONS,
        extra_env={
            "BOUCLE_COLLECTOR_RATE_LIMIT_PER_SECOND": "1000000",
            "BOUCLE_COLLECTOR_RATE_LIMIT_BURST": "1000000",
            **(extra_env or {}),
        },
    )
    port = free_port()
    return Server(
        command=[str(Path(sys.executable).parent / f"boucle-{name}")],
        env=config.environment(name, port),
        port=port,
        log_path=log_dir / f"{name}-{run}.log",
    )


def python_env() -> dict[str, str]:
    """This environment, with the repository importable (``python -m bench.…``)."""
    return dict(os.environ) | {"PYTHONPATH": str(ROOT)}


async def drop_databases(run: str) -> None:
    """Every database of a finished run (the services' ``boucle_<service>_<run>``)."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongodb_uri())
    try:
        for name in await client.list_database_names():
            if name.endswith(f"_{run}") or name == run:
                await client.drop_database(name)
    finally:
        await client.close()


def print_comparison(comparison: Comparison) -> dict[str, Any]:
    """One line per comparison, for the command line of each benchmark."""
    summary = comparison.summary()
    print(
        f"{summary['name']}: {summary['system_rate']:.1f} vs {summary['baseline_rate']:.1f} "
        f"{summary['unit']} = {summary['ratio']:.1%} (target {summary['target']:.0%}); "
        f"per CPU-s {summary['system_per_cpu_second']} vs {summary['baseline_per_cpu_second']}",
        flush=True,
    )
    return summary
