"""What every part of the lakehouse stands on: typed settings, errors, the Spark SQL client and its
literals, PostgreSQL URLs, the pipeline lock and dbt's Thrift fixes.

Nothing here imports from the rest of the package."""
