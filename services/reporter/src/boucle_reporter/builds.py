"""Builds of the dossier de preuves, run in the background; their state is persisted."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

from boucle_reporter.domain.build_request import BuildRequest
from boucle_reporter.domain.ports import Build, BuildStore, EvidenceLog, ReadModel
from boucle_reporter.metrics import ReporterMetrics
from boucle_reporter.pack import EvidenceKey, build_pack
from boucle_runtime.logging import get_logger

log = get_logger(__name__)


def request_of(build: Build) -> BuildRequest:
    return BuildRequest(
        network_id=build.network_id,
        start=date.fromisoformat(build.start),
        end=date.fromisoformat(build.end),
        sites=tuple(build.sites),
        language=build.language,
    )


class BuildService:
    def __init__(
        self,
        *,
        read_model: ReadModel,
        evidence: EvidenceLog,
        store: BuildStore,
        directory: Path,
        metrics: ReporterMetrics,
        key: EvidenceKey | None = None,
    ) -> None:
        """``key`` signs the chain head of each dossier (None: unsigned, a readiness gap)."""
        self._key = key
        self._read_model = read_model
        self._evidence = evidence
        self._store = store
        self._directory = directory
        self._metrics = metrics
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def store(self) -> BuildStore:
        return self._store

    def archive_path(self, build: Build) -> Path:
        return self._directory / f"{build.build_id}.zip"

    async def request(self, request: BuildRequest) -> Build:
        build = Build(
            build_id=uuid.uuid4().hex,
            network_id=request.network_id,
            start=request.start.isoformat(),
            end=request.end.isoformat(),
            sites=list(request.sites),
            language=request.language,
            status="queued",
            requested_at=datetime.now(UTC),
        )
        await self._store.save(build)
        self._spawn(build)
        return build

    async def resume(self) -> None:
        """At start-up: builds a stopped process left unfinished run again."""
        for build in await self._store.unfinished():
            self._spawn(build)

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def wait(self) -> None:
        """Until every running build is over (tests, the CLI)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def _spawn(self, build: Build) -> None:
        task = asyncio.create_task(self._run(build), name=f"build-{build.build_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, build: Build) -> None:
        async def progress(fraction: float, step: str) -> None:
            build.status, build.progress, build.step = "running", round(fraction, 2), step
            await self._store.save(build)

        try:
            pack = await build_pack(
                read_model=self._read_model,
                evidence=self._evidence,
                request=request_of(build),
                progress=progress,
                key=self._key,
            )
            content = pack.archive()
            self._directory.mkdir(parents=True, exist_ok=True)
            path = self.archive_path(build)
            partial = path.with_suffix(".part")
            await asyncio.to_thread(partial.write_bytes, content)
            partial.replace(path)
            manifest = pack.manifest()
            build.files = manifest["files"]
            build.archive, build.size = path.name, len(content)
            build.sha256 = hashlib.sha256(content).hexdigest()
            build.status, build.progress = "done", 1.0
            self._metrics.exports.labels("dossier_zip").inc()
        except asyncio.CancelledError:
            raise  # stopping: the build stays unfinished and resumes at the next start
        except Exception as error:
            log.error("build_failed", build_id=build.build_id, error=type(error).__name__)
            build.status, build.error = "failed", f"{type(error).__name__}: {error}"[:500]
        build.finished_at = datetime.now(UTC)
        await self._store.save(build)
