"""``python -m flows stream``: the consumer runs continuously; whenever micro-batches have landed and the
stream has been quiet for ``debounce`` seconds (or ``max_wait`` seconds have passed since the first of them),
the refresh flow transforms what changed and exports it to gold. One line per cycle with the latency from
produce (the messages' Kafka timestamps) to gold.

The consumer lands under the pipeline lock and the refresh flow holds it for its whole run, so landing and
transform never write the lake at the same time; while a refresh runs, messages wait in Kafka (or in the
consumer's fetch queue) and land right after it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from ingestion.stream import Cycle, consume
from lakehouse.platform.errors import LakehouseError
from lakehouse.platform.settings import Settings


@dataclass
class TransformCycle:
    number: int
    messages: int
    batches: int
    transform_seconds: float
    oldest_latency: float | None  # produce -> gold of the oldest message of the cycle
    newest_latency: float | None  # ... of the newest

    def line(self) -> str:
        latency = (
            f"; produce -> gold {self.newest_latency:.1f} s (newest) to {self.oldest_latency:.1f} s (oldest)"
            if self.oldest_latency is not None and self.newest_latency is not None
            else ""
        )
        return (
            f"cycle {self.number}: {self.messages:,} message(s) in {self.batches} batch(es), "
            f"transform + export {self.transform_seconds:.1f} s{latency}"
        )


def stream(
    settings: Settings,
    refresh: Callable[[], object],
    *,
    debounce: float = 10.0,
    max_wait: float = 60.0,
    stop: threading.Event | None = None,
    echo: Callable[[str], None] = print,
    max_cycles: int | None = None,
    on_transformed: Callable[[TransformCycle], object] | None = None,
) -> list[TransformCycle]:
    """Consume continuously in a thread; run ``refresh`` (the refresh flow) after landings, debounced."""
    stop = stop or threading.Event()
    pending: list[Cycle] = []
    guard = threading.Lock()
    failure: list[BaseException] = []

    def landed(cycle: Cycle) -> None:
        with guard:
            pending.append(cycle)

    def consumer() -> None:
        try:
            consume(settings, stop=stop, on_cycle=landed)
        except BaseException as exc:  # reported by the main loop
            failure.append(exc)
            stop.set()

    worker = threading.Thread(target=consumer, name="stream-consumer", daemon=True)
    worker.start()
    done: list[TransformCycle] = []
    try:
        while not stop.is_set():
            time.sleep(0.2)
            with guard:
                if not pending:
                    continue
                now = time.time()
                quiet = now - pending[-1].landed_at >= debounce
                waited = now - pending[0].landed_at >= max_wait
                if not (quiet or waited):
                    continue
                cycles = pending[:]
                pending.clear()
            began = time.time()
            refresh()
            finished = time.time()
            oldest = [c.oldest_produced for c in cycles if c.oldest_produced is not None]
            newest = [c.newest_produced for c in cycles if c.newest_produced is not None]
            result = TransformCycle(
                len(done) + 1, sum(c.messages for c in cycles), sum(len(c.report.succeeded) for c in cycles),
                finished - began, finished - min(oldest) if oldest else None,
                finished - max(newest) if newest else None,
            )  # fmt: skip
            done.append(result)
            echo(result.line())
            if on_transformed is not None:
                on_transformed(result)
            if max_cycles is not None and len(done) >= max_cycles:
                break
    finally:
        stop.set()
        worker.join(timeout=120)
    if failure:
        raise LakehouseError(f"the stream consumer stopped: {failure[0]}") from failure[0]
    return done
