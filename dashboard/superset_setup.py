"""Runs inside Superset's own virtual environment (``<data dir>/superset/venv/bin/python``), started by
``lakehouse/dashboard.py`` at each ``make dashboard`` whose inputs changed: creates or updates the
admin user, then imports the dashboard bundle (database, datasets, charts, dashboard) with Superset's asset
importer, which overwrites every object it names, so the repository's YAML is the truth.

Secrets arrive in the environment, never on the command line: SUPERSET_ADMIN_USER, SUPERSET_ADMIN_PASSWORD,
and the gold_reader password as GOLD_READER_PASSWORD (the bundle's database YAML carries a masked URI).

``export`` writes the dashboards as Superset holds them (after an edit in its UI) back to the bundle
directory, normalised for review and commit: stable file names (no database ids), the database URI masked,
chart parameters without the ids of this Superset (slice_id, dashboards, datasource, query_context).

Usage: python superset_setup.py import BUNDLE_ZIP   (SUPERSET_DASHBOARD_SLUGS: its dashboards' slugs, a,b)
       python superset_setup.py export BUNDLE_DIR DASHBOARD_SLUG...
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import sys
from pathlib import Path
from zipfile import ZipFile

log = logging.getLogger("lakehouse.superset_setup")


def ensure_admin(security_manager, db, username: str, password: str) -> str:
    from werkzeug.security import check_password_hash

    user = security_manager.find_user(username=username)
    if user is None:
        role = security_manager.find_role(security_manager.auth_role_admin)
        user = security_manager.add_user(
            username, "Lakehouse", "Admin", f"{username}@localhost", role, password=password
        )
        if not user:
            raise RuntimeError(f"could not create the Superset user {username!r}")
        return "created"
    if not check_password_hash(user.password, password):
        security_manager.reset_password(user.id, password)
        db.session.commit()
        return "password updated"
    return "unchanged"


def import_bundle(security_manager, path: str, username: str, passwords: dict[str, str]) -> int:
    from superset.commands.importers.v1.assets import ImportAssetsCommand
    from superset.commands.importers.v1.utils import get_contents_from_bundle
    from superset.utils.core import override_user

    with ZipFile(path) as bundle:
        contents = get_contents_from_bundle(bundle)
    with override_user(security_manager.find_user(username=username)):
        ImportAssetsCommand(contents, passwords=passwords).run()
    return len(contents)


MASKED_URI = "postgresql+psycopg2://gold_reader:XXXXXXXXXX@127.0.0.1:15432/lakehouse"
CHART_PARAMS_DROPPED = ("slice_id", "dashboards", "datasource")


def normalise(file_name: str, content: str) -> tuple[str, str]:
    """An exported file as it is kept in the repository: stable name, no ids, no secrets."""
    import yaml

    data = yaml.safe_load(content)
    folder, _, base = file_name.rpartition("/")
    if folder in ("charts", "dashboards", "datasets/gold"):
        base = re.sub(r"_\d+\.yaml$", ".yaml", base)  # Superset appends this instance's id
    if folder == "databases":
        data["sqlalchemy_uri"] = MASKED_URI  # filled with the gold_reader URL at import time
        base = "gold.yaml"
    elif folder == "charts":
        for key in CHART_PARAMS_DROPPED:
            data.get("params", {}).pop(key, None)
        data["query_context"] = None
    elif folder == "dashboards":
        data = _stable_chart_ids(data)
    elif folder.startswith("datasets"):
        data["columns"] = sorted(data.get("columns") or [], key=lambda c: c["column_name"])
        data["metrics"] = sorted(data.get("metrics") or [], key=lambda m: m["metric_name"])
    elif file_name == "metadata.yaml":
        data = {"version": data["version"], "type": "assets"}
    return (f"{folder}/{base}" if folder else base), yaml.safe_dump(data, sort_keys=False, width=110)


def _charts_in_scope(metadata: dict, chart_ids: list[int]) -> None:
    """Each native filter's ``chartsInScope`` from its scope (the whole dashboard but ``excluded``). The
    importer remaps ``excluded`` to the new chart ids but leaves ``chartsInScope`` as written, which would
    point the filters at other charts."""
    for native in metadata.get("native_filter_configuration", []):
        excluded = set(native.get("scope", {}).get("excluded", []))
        native["chartsInScope"] = [i for i in chart_ids if i not in excluded]


def fix_filter_scopes(db, slug: str) -> None:
    """After an import: the dashboard's native filters point at the charts' ids in this Superset."""
    from superset.models.dashboard import Dashboard
    from superset.utils import json

    dashboard = db.session.query(Dashboard).filter_by(slug=slug).one()
    metadata = json.loads(dashboard.json_metadata or "{}")
    _charts_in_scope(metadata, sorted(chart.id for chart in dashboard.slices))
    dashboard.json_metadata = json.dumps(metadata)
    db.session.commit()


def _stable_chart_ids(dashboard: dict) -> dict:
    """Chart ids of this Superset replaced by 1..N in the order of the charts' uuids: the importer maps them
    back through the position's uuids, and the file no longer changes with the instance it came from."""
    charts = [v for v in dashboard["position"].values() if isinstance(v, dict) and v.get("type") == "CHART"]
    ids = {c["meta"]["chartId"]: i for i, c in enumerate(sorted(charts, key=lambda c: c["meta"]["uuid"]), 1)}
    for chart in charts:
        chart["meta"]["chartId"] = ids[chart["meta"]["chartId"]]
    meta = dashboard.get("metadata", {})

    def remap(values: list) -> list:
        return sorted(ids[v] for v in values if v in ids)

    for native in meta.get("native_filter_configuration", []):
        if "excluded" in native.get("scope", {}):
            native["scope"]["excluded"] = remap(native["scope"]["excluded"])
    _charts_in_scope(meta, sorted(ids.values()))
    scope = meta.get("global_chart_configuration", {}).get("scope", {})
    if "excluded" in scope:
        scope["excluded"] = remap(scope["excluded"])
    if "chartsInScope" in meta.get("global_chart_configuration", {}):
        meta["global_chart_configuration"]["chartsInScope"] = remap(
            meta["global_chart_configuration"]["chartsInScope"]
        )
    configs = {}
    for key, config in meta.get("chart_configuration", {}).items():
        if int(key) in ids:
            new = ids[int(key)]
            config["id"] = new
            if "excluded" in config.get("crossFilters", {}).get("scope", {}):
                config["crossFilters"]["scope"]["excluded"] = remap(
                    config["crossFilters"]["scope"]["excluded"]
                )
            if "chartsInScope" in config.get("crossFilters", {}):
                config["crossFilters"]["chartsInScope"] = remap(config["crossFilters"]["chartsInScope"])
            configs[str(new)] = config
    if "chart_configuration" in meta:
        meta["chart_configuration"] = dict(sorted(configs.items(), key=lambda kv: int(kv[0])))
    meta["timed_refresh_immune_slices"] = remap(meta.get("timed_refresh_immune_slices", []))
    meta["expanded_slices"] = {str(ids[int(k)]): v for k, v in meta.get("expanded_slices", {}).items()}
    return dashboard


def export_bundle(db, security_manager, slugs: list[str], target: Path, username: str) -> list[str]:
    """The dashboards named (and their charts, datasets, database) in one export: shared datasets once."""
    from superset.commands.dashboard.export import ExportDashboardsCommand
    from superset.models.dashboard import Dashboard
    from superset.utils.core import override_user

    ids = []
    for slug in slugs:
        dashboard = db.session.query(Dashboard).filter_by(slug=slug).one_or_none()
        if dashboard is None:
            raise LookupError(f"no dashboard with slug {slug!r} in this Superset")
        ids.append(dashboard.id)
    files = {}
    with override_user(security_manager.find_user(username=username)):
        for file_name, content in ExportDashboardsCommand(ids).run():
            name, text = normalise(file_name, content() if callable(content) else content)
            files[name] = text
    for sub in ("charts", "dashboards", "datasets", "databases"):  # deleted charts disappear too
        shutil.rmtree(target / sub, ignore_errors=True)
    for name, text in sorted(files.items()):
        path = target / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return sorted(files)


def main(argv: list[str]) -> int:
    action, *args = argv
    from superset.app import create_app

    app = create_app()
    with app.app_context():
        from superset import db, security_manager

        if action == "export":
            target, *slugs = args
            for name in export_bundle(
                db, security_manager, slugs, Path(target), os.environ["SUPERSET_ADMIN_USER"]
            ):
                print(name)
            return 0
        (bundle_zip,) = args
        username = os.environ["SUPERSET_ADMIN_USER"]
        admin = ensure_admin(security_manager, db, username, os.environ["SUPERSET_ADMIN_PASSWORD"])
        with ZipFile(bundle_zip) as bundle:
            database_files = [n.split("/", 1)[1] for n in bundle.namelist() if "/databases/" in n]
        passwords = dict.fromkeys(database_files, os.environ["GOLD_READER_PASSWORD"])
        try:
            count = import_bundle(security_manager, bundle_zip, username, passwords)
            for slug in os.environ["SUPERSET_DASHBOARD_SLUGS"].split(","):
                fix_filter_scopes(db, slug)
        except Exception as exc:
            # the importer wraps validation errors; their messages say which file and field
            messages = getattr(exc, "normalized_messages", None)
            detail = messages() if messages else exc
            if exc.__cause__ is not None:
                detail = f"{detail} ({type(exc.__cause__).__name__}: {exc.__cause__})"
            log.exception("import failed")
            print(f"error: importing the dashboard bundle failed: {detail}", file=sys.stderr)
            return 1
    print(f"admin user {username}: {admin}; imported {count} files")
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    sys.exit(main(sys.argv[1:]))
