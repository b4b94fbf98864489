"""Build what changed: which part of the dbt graph a transform must build.

After every successful automatic build the transform stores, in `<data dir>/dbt/state/`, dbt's manifest of
that build and a fingerprint of every source it read. The next build selects

- `source:<source>+` for every source whose fingerprint changed (new, replaced or failed-then-landed batches;
  a new Iceberg snapshot of a lookup or of the review events), with their data tests: a batch of order lines
  rebuilds the order-line chain (validation, fact, quarantine, ledger, sales marts, anomalies), not the
  clickstream; master data rebuilds its snapshots, dimensions and the quarantine re-check downstream of them;
- `state:modified+` against the stored manifest: models, tests, seeds or vars changed by a new version of the
  project.
- `source:raw._batches+` whenever a batch of any source landed: the models that read the batch manifest
  itself (the volume monitor, marts.anomalies_volume). The manifest has no fingerprint of its own: it changes
  with every landing, and the ledgers that also read it follow their own sources.

Nothing changed: nothing is built. No stored state (a new lake), `--full`, or a source whose change cannot
be told (a table neither in the batch manifest nor Iceberg): everything is built. The state is written only
after a build succeeds, so a failed or killed build is selected again by the next run.

A failed build is resumed, not restarted (what `dbt retry` does, kept across processes and with our own
selection): before a build its plan is kept in `retry.json`; when the build fails, the nodes dbt reported
done (a model, seed or snapshot only if every data test on it passed too) are added to it: from dbt's events
as each node finishes, since a build whose connection dies writes no `run_results.json`. The next run,
if nothing landed and no project file changed since, builds the same selection without those nodes
(`--exclude`); if something did change it builds the failed selection again plus what changed. A killed
process (no results) keeps what an earlier attempt excluded. A full build ignores it.

Fingerprints come from the batch manifest (`raw._batches`: count, rows and last finish of the succeeded
batches of each source), which every landing writes, and from Iceberg's snapshot log for tables written
without a batch.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from lakehouse import history
from lakehouse.ml.settings import ML_SCHEMA
from lakehouse.platform.settings import REPO_ROOT, Settings
from lakehouse.platform.sql import SparkSQL

FINGERPRINTS = "fingerprints.json"
BATCH_MANIFEST = "raw._batches"
MANIFEST = "manifest.json"
RETRY = "retry.json"
PROJECT_PATHS = ("dbt_project.yml", "models", "macros", "seeds", "snapshots", "tests/dbt")
SUCCEEDED = {"success", "pass", "warn"}


@dataclass
class BuildPlan:
    """What to build: ``select`` is None for everything (else dbt selectors, with `--state` the state dir),
    minus ``exclude`` (node names that succeeded in the failed build this one resumes)."""

    select: list[str] | None
    reason: str
    fingerprints: dict[str, str] = field(default_factory=dict)
    exclude: list[str] = field(default_factory=list)


def state_dir(settings: Settings) -> Path:
    return settings.dbt_target_path.parent / "state"


def sources_of(manifest_path: Path) -> dict[str, str]:
    """`schema.table` -> `source_name.table` of every enabled dbt source in a dbt manifest that models read
    (not the run history the flows write in ``ops``: it changes with every run and no model reads it; nor
    the ML outputs in ``ml``: only the gold export and the BI layer read them)."""
    manifest = json.loads(manifest_path.read_text())
    return {
        f"{s['schema']}.{s['identifier']}".lower(): f"{s['source_name']}.{s['name']}"
        for s in manifest.get("sources", {}).values()
        if s.get("config", {}).get("enabled", True) and s["schema"].lower() not in (history.SCHEMA, ML_SCHEMA)
    }


def built_schemas(manifest_path: Path) -> set[str]:
    """The schemas the models, snapshots and seeds of a dbt manifest are built in."""
    manifest = json.loads(manifest_path.read_text())
    return {
        n["schema"].lower()
        for n in manifest.get("nodes", {}).values()
        if n.get("resource_type") in ("model", "snapshot", "seed")
        and n.get("config", {}).get("enabled", True)
    }


def fingerprints(spark: SparkSQL, relations: list[str]) -> dict[str, str]:
    """A string per relation that changes whenever the relation's content may have changed."""
    landed = {
        f"raw.{source}".lower(): f"batches={n};rows={rows};last={last}"
        for source, n, rows, last in spark.query(
            "select source, count(*), sum(rows), cast(max(finished_at) as string) from raw._batches "
            "where status = 'succeeded' group by source"
        )
    }
    result = {}
    for relation in relations:
        if relation == BATCH_MANIFEST:
            continue  # how changes are seen, not a change of its own (see plan_build)
        if relation in landed:
            result[relation] = landed[relation]
            continue
        properties = {row[0]: row[1] for row in spark.query(f"describe table extended {relation}")}
        snapshot = re.search(r"current-snapshot-id=(\w+)", properties.get("Table Properties", ""))
        if properties.get("Provider") == "iceberg" and snapshot:
            result[relation] = f"snapshot={snapshot.group(1)}"
        elif relation.startswith("raw."):
            result[relation] = "batches=0"  # raw tables are written by landings only: none succeeded yet
        else:
            result[relation] = ""  # neither landed in batches nor Iceberg: its changes cannot be told
    return result


def project_hash(project_dir: Path = REPO_ROOT) -> str:
    """A digest of the dbt project's files: a resumed build must run the code the failed one ran."""
    digest = hashlib.sha256()
    for name in PROJECT_PATHS:
        root = project_dir / name
        for path in sorted([root] if root.is_file() else root.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(project_dir)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def plan_build(settings: Settings, full: bool = False) -> BuildPlan:
    """The selection of the next automatic build (see the module's docstring)."""
    if full:
        with SparkSQL(settings) as spark:  # kept to tell whether a failed full build can be resumed
            now = _fingerprints_or_empty(spark, settings)
        return BuildPlan(None, "full build requested", now)
    plan = _plan_from_sources(settings)
    retry_file = state_dir(settings) / RETRY
    if not retry_file.is_file():
        return plan
    failed = json.loads(retry_file.read_text())
    if failed["select"] is None or plan.select is None:
        select = None
    else:
        select = list(dict.fromkeys([*failed["select"], *plan.select]))
    target_manifest = settings.dbt_target_path / MANIFEST
    exclude = []
    if (
        failed["exclude"]
        and plan.fingerprints
        and failed["fingerprints"]
        and failed["project"] == project_hash()
        and _schemas_exist(settings, target_manifest)
    ):
        changed = {
            rel
            for rel in {*plan.fingerprints, *failed["fingerprints"]}
            if plan.fingerprints.get(rel) != failed["fingerprints"].get(rel)
        }
        stale = _downstream_names(target_manifest, changed)
        if stale is not None:
            exclude = [name for name in failed["exclude"] if name not in stale]
    if exclude:
        reason = f"resuming the failed build ({len(exclude)} nodes already built)"
        return BuildPlan(select, reason, plan.fingerprints, exclude=exclude)
    return BuildPlan(select, f"the failed build again; {plan.reason}", plan.fingerprints)


def _downstream_names(manifest_path: Path, relations: set[str]) -> set[str] | None:
    """Names of the nodes downstream of the sources at ``relations`` (`schema.table`) in a dbt manifest;
    None if one of them is not a source there (its dependants cannot be told)."""
    manifest = json.loads(manifest_path.read_text())
    by_relation = {
        f"{s['schema']}.{s['identifier']}".lower(): uid for uid, s in manifest.get("sources", {}).items()
    }
    if not relations <= set(by_relation):
        return None
    children = manifest.get("child_map", {})
    seen: set[str] = set()
    todo = [by_relation[rel] for rel in relations]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in seen:
                seen.add(child)
                todo.append(child)
    nodes = manifest.get("nodes", {})
    return {nodes[uid]["name"] for uid in seen if uid in nodes}


def _schemas_exist(settings: Settings, manifest: Path) -> bool:
    """Whether the schemas a dbt manifest builds in all exist (what a resumed build keeps is still there)."""
    if not manifest.is_file():
        return False
    with SparkSQL(settings) as spark:
        existing = {row[0].lower() for row in spark.query("show databases")}
    return built_schemas(manifest) <= existing


def _plan_from_sources(settings: Settings) -> BuildPlan:
    state = state_dir(settings)
    previous_manifest = state / MANIFEST
    if not previous_manifest.is_file() or not (state / FINGERPRINTS).is_file():
        with SparkSQL(settings) as spark:  # a resumed first build compares the sources with the failed one's
            now = _fingerprints_or_empty(spark, settings)
        return BuildPlan(None, "no previous build: everything", now)
    sources = sources_of(previous_manifest)
    with SparkSQL(settings) as spark:
        existing = {row[0].lower() for row in spark.query("show databases")}
        missing = sorted(built_schemas(previous_manifest) - existing)
        if missing:  # the lake was emptied since (schemas dropped): the last build's tables are gone
            return BuildPlan(None, f"schema(s) {', '.join(missing)} of the last build are gone: everything")
        now = fingerprints(spark, sorted(sources))
    before = json.loads((state / FINGERPRINTS).read_text())
    unknown = sorted(rel for rel, fp in now.items() if fp == "")
    if unknown:
        return BuildPlan(None, f"changes of {', '.join(unknown)} cannot be told: everything", now)
    changed = sorted(rel for rel in now if now[rel] != before.get(rel))
    select = [f"source:{sources[rel]}+" for rel in changed] + ["state:modified+"]
    if BATCH_MANIFEST in sources and any(now[rel].startswith("batches=") for rel in changed):
        select.append(f"source:{sources[BATCH_MANIFEST]}+")  # what reads the manifest itself: volume monitor
    reason = f"changed sources: {', '.join(changed)}" if changed else "no source changed"
    return BuildPlan(select, reason, now)


def _fingerprints_or_empty(spark: SparkSQL, settings: Settings) -> dict[str, str]:
    """The sources' fingerprints from the lake's last dbt manifest, if any (else none: not resumable)."""
    manifest = settings.dbt_target_path / MANIFEST
    if not manifest.is_file():
        return {}
    existing = {row[0].lower() for row in spark.query("show databases")}
    relations = sorted(r for r in sources_of(manifest) if r.split(".")[0] in existing)
    try:
        return fingerprints(spark, relations)
    except Exception:  # a table not created yet: this first build will not be resumed
        return {}


def begin_build(settings: Settings, plan: BuildPlan) -> None:
    """Before a build: keep its plan in `retry.json`, so that if it fails or is killed half-way (views dropped
    and not yet created, some models rebuilt) the next run builds it again (see the module's docstring)."""
    state = state_dir(settings)
    state.mkdir(parents=True, exist_ok=True)
    pending = {
        "select": plan.select,
        "fingerprints": plan.fingerprints,
        "project": project_hash(),
        "exclude": plan.exclude,
    }
    _write(state / RETRY, pending)


def note_failed_build(settings: Settings, finished: dict[str, str]) -> int:
    """After a failed build: add the nodes it built for good (``finished``: unique id -> status, as dbt
    reported each node) to the exclusions of the resumed build; returns how many were added."""
    retry_file = state_dir(settings) / RETRY
    manifest_file = settings.dbt_target_path / MANIFEST  # written by the failed build before it ran a node
    if not (finished and retry_file.is_file() and manifest_file.is_file()):
        return 0
    manifest = json.loads(manifest_file.read_text())
    nodes, children = manifest.get("nodes", {}), manifest.get("child_map", {})
    done = {uid for uid, status in finished.items() if status in SUCCEEDED}
    names = []
    for unique_id in sorted(done & set(nodes)):
        kind = unique_id.split(".")[0]
        if kind not in ("model", "seed", "snapshot", "test"):
            continue  # unit tests are cheap and run again
        tests = [c for c in children.get(unique_id, []) if c.startswith("test.")]
        if kind != "test" and not all(t in done for t in tests):
            continue  # built, but a data test on it did not pass or did not run: build and test it again
        names.append(nodes[unique_id]["name"])
    pending = json.loads(retry_file.read_text())
    before = set(pending["exclude"])
    pending["exclude"] = sorted(before | set(names))
    _write(retry_file, pending)
    return len(pending["exclude"]) - len(before)


def _write(path: Path, content: object) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(content, indent=1, sort_keys=True))
    tmp.replace(path)


def record_build(settings: Settings, plan: BuildPlan) -> None:
    """After a successful build: keep its manifest and the fingerprints it was planned with (a full build
    computes them now, from the sources of the manifest it just wrote)."""
    state = state_dir(settings)
    state.mkdir(parents=True, exist_ok=True)
    manifest = settings.dbt_target_path / MANIFEST
    fps = plan.fingerprints if plan.select is not None else {}
    if not fps:
        with SparkSQL(settings) as spark:
            fps = fingerprints(spark, sorted(sources_of(manifest)))
    tmp = state / (MANIFEST + ".tmp")
    shutil.copyfile(manifest, tmp)
    tmp.replace(state / MANIFEST)
    _write(state / FINGERPRINTS, fps)
    (state / RETRY).unlink(missing_ok=True)


# ---------------------------------------------------------------------------------------------- stream
@dataclass
class StreamPlan:
    """The build of a stream cycle: dbt selectors and the lake relations (``schema.table``) they build."""

    select: list[str]
    relations: set[str]
    reason: str


def plan_stream_build(settings: Settings, landed: set[str]) -> StreamPlan:
    """The build after a stream landing (``python -m flows stream``): only what reads the raw tables that
    landed (``landed``: ``raw.clickstream_events``, ...), ``source:<source>+``. Master data, the batch
    manifest's monitors and a new project version wait for the next scheduled run: nothing is recorded here,
    so that run's own plan (:func:`plan_build`) still sees these sources changed and builds what it must.
    When the last recorded build is missing or its schemas are gone (a new lake), the selection is
    ``@source:<source>``: the same models and everything they read (snapshots, dimensions), still not the
    whole graph."""
    manifest_path = settings.dbt_target_path / MANIFEST
    stored = state_dir(settings) / MANIFEST
    if not manifest_path.is_file():
        manifest_path = stored
    manifest = json.loads(manifest_path.read_text())
    sources = {
        uid: f"source:{s['source_name']}.{s['name']}"
        for uid, s in manifest.get("sources", {}).items()
        if f"{s['schema']}.{s['identifier']}".lower() in landed
    }
    built = stored.is_file()
    if built:
        with SparkSQL(settings) as spark:
            existing = {row[0].lower() for row in spark.query("show databases")}
        built = not built_schemas(stored) - existing
    nodes = _reachable(manifest.get("child_map", {}), set(sources))
    if not built:
        nodes |= _reachable(manifest.get("parent_map", {}), nodes)
    relations = {
        f"{n['schema']}.{n.get('alias') or n['name']}".lower()
        for uid, n in manifest.get("nodes", {}).items()
        if uid in nodes and n.get("resource_type") in ("model", "snapshot", "seed")
    }
    prefix = "" if built else "@"
    suffix = "+" if built else ""
    select = [f"{prefix}{sel}{suffix}" for sel in sorted(sources.values())]
    what = ", ".join(sorted(landed))
    reason = f"landed: {what}" + ("" if built else " (no previous build: with what they read)")
    return StreamPlan(select, relations, reason)


def _reachable(edges: dict[str, list[str]], start: set[str]) -> set[str]:
    """Every node reachable from ``start`` along ``edges`` (dbt's child_map or parent_map), ``start`` too."""
    seen, todo = set(start), list(start)
    while todo:
        for nxt in edges.get(todo.pop(), []):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen
