"""Prefect 3 flows of the lakehouse. Importing this package exports the project settings to the
environment first (PREFECT_HOME, DBT_*), so Prefect and dbt see the one configuration."""

from flows._env import export_settings_to_env

export_settings_to_env()
