"""One load-test run: join the participants, hold the room, measure, leave.

A run is a list of steps with a constant room size: one step normally, one
per size from 2 to N with `--ramp`. Each step first lets the room settle
(history for late joiners, WebRTC negotiation) and then measures for its share
of `--duration`. Every wait is bounded, so a run always ends by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from typing import Protocol, TextIO

import aiohttp

from roomtone.loadtest.control import JoinError, ModeMismatch
from roomtone.loadtest.cpu import CpuSampler
from roomtone.loadtest.media import MediaSpec, packet_loop
from roomtone.loadtest.metrics import Metrics, WindowStats
from roomtone.loadtest.options import Options
from roomtone.loadtest.progress import Progress
from roomtone.loadtest.webm import recording

SETTLE = {"ws": 1.0, "webrtc": 2.0, "sfu": 2.0}  # seconds after a join before measuring
DRAIN = 1.0  # seconds after the last measured send for its deliveries to arrive
# Joins in flight at once: servers limit unjoined sockets per address (all ours share one).
JOIN_CONCURRENCY = 8
JOIN_BUDGET = 30.0  # seconds of slack for joins on top of the planned time
KEEP_SECONDS = 20.0  # ws: seconds of chunk send times kept (later deliveries are not counted)


class Participant(Protocol):
    id: str

    async def start(self) -> None: ...

    def stop_publishing(self) -> None: ...

    async def close(self) -> None: ...


class RunAborted(Exception):
    """The run could not take place (server unreachable, wrong mode, room refused)."""


@dataclass
class Step:
    """A measured window with a constant room, and the server's load during it."""

    stats: WindowStats
    cpu_percent: float | None = None
    rss_mb: tuple[float, float] | None = None


@dataclass
class RunResult:
    options: Options
    metrics: Metrics
    unit: str  # "chunks" or "frames"
    units_per_second: float  # published per participant
    steps: list[Step] = field(default_factory=list)
    started: float = 0.0
    ended: float = 0.0


class Run:
    """Owns the participants and the clock of one run."""

    def __init__(self, options: Options, stream: TextIO | None = None) -> None:
        self.options = options
        self.metrics = Metrics()
        self.participants: list[Participant] = []
        self.sizes = (
            list(range(2, options.participants + 1)) if options.ramp else [options.participants]
        )
        self.settle = SETTLE[options.mode]
        self.step_seconds = options.duration / len(self.sizes)
        planned = len(self.sizes) * (self.settle + self.step_seconds) + DRAIN
        self.planned = planned
        self.progress = Progress(f"loadtest {options.mode}", planned, stream)
        self.sampler = CpuSampler(options.server_pid) if options.server_pid else None
        spec = MediaSpec(bitrate_kbps=options.bitrate_kbps)
        if options.mode == "ws":
            self.unit = "chunks"
            self.units_per_second = 1000.0 / options.timeslice_ms
            self._recording = recording(spec)
        else:
            self.unit = "frames"
            self._packets = packet_loop(spec)
            self.units_per_second = len(self._packets.video) / self._packets.seconds
        self._count = 0

    def _factory(self, session: aiohttp.ClientSession) -> object:
        options = self.options
        if options.mode == "ws":
            from roomtone.loadtest.wsparticipant import WsContext

            chunk = max(1, round(options.bitrate_kbps * 1000 / 8 * options.timeslice_ms / 1000))
            return WsContext(
                session,
                options.ws_url,
                self.metrics,
                self._recording,
                chunk,
                options.timeslice_ms / 1000,
                options.cut,
                KEEP_SECONDS,
            )
        from roomtone.loadtest.rtcparticipant import RtcContext

        return RtcContext(session, options.ws_url, options.mode, self.metrics, self._packets)

    def _new(self, ctx: object) -> Participant:
        self._count += 1
        name = f"load-{self._count}"
        if self.options.mode == "ws":
            from roomtone.loadtest.wsparticipant import WsParticipant

            phase = (self._count * 0.618) % 1.0 * self.options.timeslice_ms / 1000
            return WsParticipant(ctx, name, phase)  # type: ignore[arg-type]
        from roomtone.loadtest.rtcparticipant import RtcParticipant

        return RtcParticipant(ctx, name)  # type: ignore[arg-type]

    async def _grow(self, ctx: object, size: int) -> None:
        """Join participants until the room holds `size` of ours (failures are counted)."""
        missing = size - len(self.participants)
        new = [self._new(ctx) for _ in range(missing)]
        gate = asyncio.Semaphore(JOIN_CONCURRENCY)

        async def start(participant: Participant) -> None:
            async with gate:
                await participant.start()

        results = await asyncio.gather(*(start(p) for p in new), return_exceptions=True)
        for participant, result in zip(new, results, strict=True):
            if isinstance(result, ModeMismatch):
                raise RunAborted(str(result))
            if isinstance(result, BaseException):
                if not isinstance(result, JoinError):
                    result = JoinError(f"{type(result).__name__}: {result}")
                self.metrics.error(f"join failed: {result}")
                await participant.close()
            else:
                self.participants.append(participant)
        if len(self.participants) < 2:
            reasons = ", ".join(self.metrics.errors) or "no participant joined"
            raise RunAborted(f"fewer than 2 participants could join ({reasons})")

    async def _tick(self, started: float) -> None:
        while True:
            self.progress.update(
                time.perf_counter() - started,
                len(self.participants),
                self.metrics.delivered_units,
                self.unit,
                self.metrics.recent_latency_ms(),
                self.metrics.error_count,
            )
            await asyncio.sleep(0.25 if self.progress.tty else 1.0)

    async def execute(self) -> RunResult:
        result = RunResult(self.options, self.metrics, self.unit, self.units_per_second)
        result.started = time.perf_counter()
        background: list[asyncio.Task[None]] = [asyncio.create_task(self._tick(result.started))]
        if self.sampler is not None:
            background.append(asyncio.create_task(self.sampler.run()))
        windows: list[tuple[float, float, int]] = []
        connector = aiohttp.TCPConnector(limit=0)
        try:
            async with aiohttp.ClientSession(connector=connector) as session:
                ctx = self._factory(session)
                try:
                    async with asyncio.timeout(self.planned + JOIN_BUDGET):
                        for size in self.sizes:
                            await self._grow(ctx, size)
                            begin = time.perf_counter() + self.settle
                            await asyncio.sleep(self.settle + self.step_seconds)
                            windows.append((begin, time.perf_counter(), len(self.participants)))
                            if self.options.ramp:
                                self.progress.message(
                                    f"room of {len(self.participants)}: "
                                    f"{self.metrics.delivered_units} {self.unit} delivered so far"
                                )
                        # Media keeps flowing while the last window's deliveries arrive:
                        # a relay may hold a chunk's tail until the next chunk completes it.
                        await asyncio.sleep(DRAIN)
                        for participant in self.participants:
                            participant.stop_publishing()
                except TimeoutError:
                    self.metrics.error("run exceeded its time budget")
                finally:
                    await asyncio.gather(
                        *(p.close() for p in self.participants), return_exceptions=True
                    )
        finally:
            for task in background:
                task.cancel()
            await asyncio.gather(*background, return_exceptions=True)
            self.progress.finish()
        result.ended = time.perf_counter()
        for start, end, size in windows:
            step = Step(self.metrics.window(start, end, size, self.units_per_second))
            if self.sampler is not None:
                step.cpu_percent = self.sampler.cpu_percent(start, end)
                step.rss_mb = self.sampler.rss_mb(start, end)
            result.steps.append(step)
        return result


async def run(options: Options, stream: TextIO | None = None) -> RunResult:
    """Run the load test described by `options`; raises RunAborted."""
    runner = Run(options, stream)
    with contextlib.suppress(Exception):
        if runner.sampler is not None:
            runner.sampler.sample()
    return await runner.execute()
