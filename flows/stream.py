"""``python -m flows stream``: the consumer runs continuously; whenever micro-batches have landed and the
stream has been quiet for ``debounce`` seconds (or ``max_wait`` seconds have passed since the first of them),
the stream refresh flow builds what reads the landed sources and exports those marts to gold
(:func:`stream_refresh_run`; the scheduled runs do the rest). One line per cycle with the latency from
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

from prefect import flow, task

from flows import changes
from flows.ingest import enrich_lookups
from flows.pipeline import _built, _exported
from flows.retry import TRANSIENT_RETRIES
from flows.run import flow_run
from flows.transform import transform
from ingestion.stream import Cycle, consume
from lakehouse import gold
from lakehouse.gold.manifest import gold_models
from lakehouse.platform.errors import LakehouseError
from lakehouse.platform.settings import Settings, load_settings

Refresh = Callable[[set[str]], float | None]  # landed raw tables -> when gold was published (None: now)


@task(name="export-gold-marts", **TRANSIENT_RETRIES)
def export_marts(relations: set[str]) -> list[gold.ExportResult]:
    """Export the gold models among ``relations`` (lake ``schema.table``), as they are in the lake."""
    settings = load_settings()
    models = [m for m in gold_models(settings.dbt_target_path / "manifest.json")
              if m.lake_relation.lower() in relations]  # fmt: skip
    return gold.export_gold(settings, models=models) if models else []


@flow(name="stream-refresh")
def stream_refresh_run(landed: set[str], wait_for_lock_seconds: float = 3600) -> float:
    """After a stream landing: what reads the landed raw tables (``raw.clickstream_events``, ...), built
    (:func:`flows.changes.plan_stream_build`) and exported to gold, nothing else: no reviews, freshness,
    BI layer (its views follow the swapped tables), alert or maintenance, which the scheduled runs do.
    Returns when gold was published (epoch seconds)."""
    settings = load_settings()
    with flow_run("Stream refresh run", wait_for_lock_seconds) as run:
        plan = run.step("plan", lambda: changes.plan_stream_build(settings, landed), lambda p: p.reason)
        if "raw.clickstream_events" in landed:
            run.step(
                "enrich lookups", enrich_lookups,
                lambda c: f"{c.new_user_agents} new user agents, {c.new_ip_addresses} new IP addresses",
            )  # fmt: skip
        selection = " ".join(plan.select)
        # tests whose every parent is built or read by the build: not a relationship to a model outside it
        run.step(
            f"transform (dbt build -s {selection})",
            lambda: transform(selection, indirect_selection="buildable"), _built,
        )  # fmt: skip
        run.step("export gold", lambda: export_marts(plan.relations), _exported)
        published = time.time()
    return published


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
    refresh: Refresh,
    *,
    debounce: float = 10.0,
    max_wait: float = 60.0,
    stop: threading.Event | None = None,
    echo: Callable[[str], None] = print,
    max_cycles: int | None = None,
    on_transformed: Callable[[TransformCycle], object] | None = None,
) -> list[TransformCycle]:
    """Consume continuously in a thread; run ``refresh`` (the stream refresh flow) with the raw tables that
    landed, after landings, debounced."""
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
            sources = {f"raw.{o.source}" for c in cycles for o in c.report.outcomes if o.status != "failed"}
            finished = refresh(sources) or time.time()
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
