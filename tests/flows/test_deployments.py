"""Deployments carry the seed project's schedules and safe concurrency."""

from __future__ import annotations

from flows.deployments import SCHEDULES, deployments
from flows.ingest import SimulatedShop


def test_every_scheduled_deployment_has_its_cron_in_utc_and_one_run_at_a_time():
    by_name = {d.name: d for d in deployments(SimulatedShop(seed=7, horizon_days=30))}
    assert set(SCHEDULES) <= set(by_name)
    for name, cron in SCHEDULES.items():
        (schedule,) = by_name[name].schedules
        assert schedule.schedule.cron == cron
        assert schedule.schedule.timezone == "UTC"
    for d in by_name.values():
        assert d.concurrency_limit == 1


def test_schedules_follow_the_seed_project():
    assert SCHEDULES["order-lines-2h"] == "0 */2 * * *"
    assert SCHEDULES["gold-backup-daily"] == "0 2 * * *"
    assert SCHEDULES["recovery-daily"] == "0 7 * * *"
    # recovery runs after the master data of the day has landed
    assert int(SCHEDULES["master-data-daily"].split()[1]) < int(SCHEDULES["recovery-daily"].split()[1])


def test_simulation_parameters_reach_the_ingest_deployments():
    by_name = {d.name: d for d in deployments(SimulatedShop(seed=7, horizon_days=30, products=60))}
    shop = SimulatedShop(seed=7, horizon_days=30, products=60).model_dump()
    assert by_name["master-data-daily"].parameters == {"shop": shop}
    assert by_name["order-lines-2h"].parameters == {"shop": shop, "hours": 2}
    # by default the scheduled runs replay the shop `make run` generates
    from flows.__main__ import run

    run_defaults = {o.name: o.default for o in run.params}
    default = {d.name: d for d in deployments()}["master-data-daily"].parameters["shop"]
    assert {k: v for k, v in default.items() if k != "horizon_days"} == {
        k: run_defaults[k] for k in default if k != "horizon_days"
    }
    assert by_name["full-pipeline"].schedules in (None, [])


def test_shop_deployment_extracts_hourly_after_an_hour_of_the_demo_shop():
    shop = {d.name: d for d in deployments()}["shop-hourly"]
    assert SCHEDULES["shop-hourly"] == "30 * * * *"
    assert shop.parameters == {"simulate_intervals": 1, "interval_hours": 1.0}


def test_import_deployment_takes_the_paths_of_the_files():
    import_files = {d.name: d for d in deployments()}["import-files"]
    assert import_files.schedules in (None, [])  # on demand
    assert import_files.parameters["paths"] == []
    from flows.pipeline import import_run

    assert import_files.flow_name == import_run.name == "import"
    assert {"paths", "layout", "mappings", "encoding"} <= set(import_run.parameters.properties)
    assert import_run.parameters.required == ["paths"]


def test_ml_deployments_train_weekly_on_sunday_and_score_daily_after_recovery():
    by_name = {d.name: d for d in deployments()}
    assert SCHEDULES["ml-train-weekly"] == "0 3 * * 0"  # Sundays 03:00 UTC (issue 25)
    assert by_name["ml-train-weekly"].flow_name == "ml-train"
    assert by_name["ml-score-daily"].flow_name == "ml-score"
    assert int(SCHEDULES["ml-score-daily"].split()[1]) > int(SCHEDULES["recovery-daily"].split()[1])
