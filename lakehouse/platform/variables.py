"""Every variable of the project in one typed model (:class:`LakehouseConfig`): its type, its default and
its meaning, in the order of the README's configuration table and ``.env.example``."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from lakehouse.platform.values import (
    Accepts,
    Choice,
    Count,
    Days,
    DbtTarget,
    Flag,
    LogLevel,
    Memory,
    Port,
    Rows,
    Seconds,
    SparkConf,
    SparkMode,
    ThriftAuth,
    WholeSeconds,
    as_text,
)


class LakehouseConfig(BaseModel):
    """Every setting of the project, typed. Field order is the order of the README table and
    ``.env.example``; each field's description is its documentation there."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)

    LAKEHOUSE_DATA_DIR: str = Field(
        ".lakehouse",
        description=(
            "Everything the project writes: warehouse, metastore, Postgres data, logs, Prefect home. "
            "Relative paths are relative to the repository."
        ),
    )
    LAKEHOUSE_RAW_URI: str = Field(
        "",
        description=(
            "Root of the raw (bronze) zone: a local path or a URI (`s3://`, `hdfs://`, `gs://`); "
            "default `<data dir>/warehouse/raw`."
        ),
    )
    LAKEHOUSE_SPARK: SparkMode = Field(
        SparkMode.EMBEDDED,
        description=(
            "`embedded` starts a local Spark Thrift Server; `external` uses the one at "
            "SPARK_THRIFT_HOST:SPARK_THRIFT_PORT and starts nothing."
        ),
    )
    SPARK_THRIFT_HOST: str = Field(
        "127.0.0.1",
        description=("Host of the Spark Thrift Server (bind address when embedded)."),
    )
    SPARK_THRIFT_PORT: Port = Field(10000, description="Port of the Spark Thrift Server.")
    SPARK_THRIFT_AUTH: ThriftAuth = Field(
        ThriftAuth.NONE,
        description=(
            "PyHive auth: NONE or NOSASL (`cluster`), LDAP or CUSTOM (`cluster_ldap`); target "
            "`cluster_kerberos` is KERBEROS."
        ),
    )
    SPARK_THRIFT_SSL: Flag = Field(False, description="Use TLS to the Thrift server (cluster targets).")
    SPARK_THRIFT_KERBEROS_SERVICE: str = Field(
        "hive",
        description=("Kerberos service name (target `cluster_kerberos`)."),
    )
    SPARK_THRIFT_USER: str = Field("", description="User name for the `cluster` target (optional).")
    SPARK_THRIFT_PASSWORD: str = Field(
        "",
        description=("Password for the `cluster_ldap` target (LDAP/CUSTOM auth)."),
    )
    SPARK_MASTER: str = Field("local[2]", description="Spark master of the embedded server.")
    SPARK_DRIVER_MEMORY: Memory = Field("2g", description="Driver memory of the embedded server.")
    SPARK_LOG_LEVEL: LogLevel = Field(
        LogLevel.WARN,
        description="Log level of the embedded server's `spark-thrift.log` (statements are always logged).",
    )
    SPARK_SHUFFLE_PARTITIONS: Count = Field(
        4,
        description=("spark.sql.shuffle.partitions (few on one machine; AQE coalesces)."),
    )
    SPARK_UI_PORT: Port = Field(
        4040,
        description=("Port of the Spark UI of the embedded server (bound to 127.0.0.1)."),
    )
    SPARK_EXTRA_CONF: SparkConf = Field(
        "",
        description=(
            "Extra Spark settings for the embedded server, `key=value` pairs separated by `;` (they "
            "override the defaults)."
        ),
    )
    CLUSTER_DIR: str = Field(
        "",
        description=(
            "Data directory of `make cluster-up` (its metastore, warehouse, logs); default `<data "
            "dir>/cluster`."
        ),
    )
    CLUSTER_WORKERS: Count = Field(
        2,
        description=("Workers of the local standalone cluster (each its own JVM)."),
    )
    CLUSTER_WORKER_CORES: Count = Field(1, description="Cores each worker offers.")
    CLUSTER_WORKER_MEMORY: Memory = Field(
        "1g",
        description=("Memory each worker offers (its executor gets this minus overhead)."),
    )
    CLUSTER_MASTER_PORT: Port = Field(
        7077,
        description=("Port of the standalone master (`spark://127.0.0.1:<port>`)."),
    )
    CLUSTER_MASTER_UI_PORT: Port = Field(
        8080,
        description=("Web UI of the master; workers take the next ports."),
    )
    CLUSTER_THRIFT_PORT: Port = Field(
        10001,
        description=("Port of the Thrift server submitted to the local cluster."),
    )
    CLUSTER_UI_PORT: Port = Field(4041, description="Spark UI (and REST API) of that Thrift server.")
    ICEBERG_JAR: str = Field(
        "",
        description=(
            "Path of an Iceberg Spark runtime jar; default: the jar of the "
            "`snowpark-connect-deps-iceberg` wheel."
        ),
    )
    ICEBERG_PACKAGES: str = Field(
        "",
        description=(
            "Maven coordinates for spark.jars.packages instead of a jar (needs Maven access), e.g. "
            "`org.apache.iceberg:iceberg-spark-runtime-3.5_2.12:1.9.2`."
        ),
    )
    SPARK_START_TIMEOUT: Seconds = Field(
        180.0,
        description=("Seconds to wait for the Thrift server to answer."),
    )
    ICEBERG_SNAPSHOT_RETENTION_HOURS: Annotated[
        float, Field(gt=0), Accepts("a number of hours greater than 0")
    ] = Field(
        168.0,
        description=(
            "Table maintenance keeps Iceberg snapshots this young for time travel (`VERSION AS OF`) and "
            "expires older ones (the newest always stays); orphan files go after this too, never before 24 "
            "hours."
        ),
    )
    MAINTENANCE_EVERY_N_RUNS: Rows = Field(
        48,
        description=(
            "Pipeline runs between two Iceberg table maintenances done at the end of a run (besides the "
            "weekly deployment); `0`: only the weekly one."
        ),
    )
    SHOP_EXTRACT_KEY_CHECK_EVERY: Rows = Field(
        1,
        description=(
            "Shop database extractions between two key comparisons that find hard deletes (every key of a "
            "table without `deleted_at` against the keys alive in the lake); `0`: never."
        ),
    )
    LAKEHOUSE_RUN_HISTORY: Flag = Field(
        True,
        description=(
            "Record every flow run (steps, dbt nodes, source freshness, rows per layer) in the lake's `ops` "
            "schema and gold (`gold.pipeline_runs` ...; the health dashboard reads them)."
        ),
    )
    GOLD_DATABASE_URL: str = Field(
        "",
        description=(
            "libpq URL of an existing PostgreSQL for the gold schema; when set, no PostgreSQL is started."
        ),
    )
    GOLD_PG_HOST: str = Field("127.0.0.1", description="Listen address of the embedded PostgreSQL.")
    GOLD_PG_PORT: Port = Field(15432, description="TCP port of the embedded PostgreSQL.")
    GOLD_PG_USER: str = Field("lakehouse", description="Owner role of the embedded PostgreSQL.")
    GOLD_PG_PASSWORD: str = Field(
        "",
        description=(
            "Password of that role; default: generated on first start and kept in `<data "
            "dir>/postgres/password` (mode 600)."
        ),
    )
    GOLD_PG_DATABASE: str = Field("lakehouse", description="Database holding the `gold` schema.")
    PG_START_TIMEOUT: WholeSeconds = Field(60, description="Seconds to wait for PostgreSQL to answer.")
    GOLD_WRITER_PASSWORD: str = Field(
        "",
        description=(
            "Password of `gold_writer` (the pipeline's role: export and `dbt --target gold`); default: "
            "generated once and kept in `<data dir>/postgres/gold_writer.password` (mode 600)."
        ),
    )
    GOLD_READER_PASSWORD: str = Field(
        "",
        description=(
            "Password of `gold_reader` (read-only role for BI tools, `make gold-url`); default: "
            "generated once and kept in `<data dir>/postgres/gold_reader.password` (mode 600)."
        ),
    )
    GOLD_PII_KEY: str = Field(
        "",
        description=(
            "Secret key of the HMAC that replaces PII columns (tagged `pii` in dbt) in gold; default: "
            "generated once and kept in `<data dir>/postgres/pii.key` (mode 600)."
        ),
    )
    GOLD_BACKUP_DIR: str = Field(
        "",
        description=("Where `make backup` writes `pg_dump` files; default `<data dir>/backups`."),
    )
    GOLD_BACKUP_KEEP_DAYS: Days = Field(
        7.0,
        description=("Backups older than this many days are deleted by `make backup`."),
    )
    SOURCE_DATABASE_URL: str = Field(
        "",
        description=(
            "libpq URL of the shop's operational database (schema `shop`, extracted by `python -m "
            "ingestion extract`); default: database `shop` on the embedded PostgreSQL, owned by role "
            "`shop_app`."
        ),
    )
    SHOP_DB_PASSWORD: str = Field(
        "",
        description=(
            "Password of `shop_app` (owner of the embedded `shop` database); default: generated once and "
            "kept in `<data dir>/postgres/shop_app.password` (mode 600)."
        ),
    )
    KAFKA_BOOTSTRAP_SERVERS: str = Field(
        "",
        description=(
            "Kafka brokers of the streaming ingestion (`python -m ingestion consume` / `publish`), "
            "`host:port,...`; unset: the embedded Tansu broker on 127.0.0.1:KAFKA_EMBEDDED_PORT, which only "
            "`python -m lakehouse kafka up`, `make stream` and the tests start."
        ),
    )
    KAFKA_EMBEDDED_PORT: Port = Field(
        19092,
        description="Port of the embedded Kafka-protocol broker (Tansu, in memory; demo and tests only).",
    )
    KAFKA_TOPIC_CLICKSTREAM_EVENTS: str = Field(
        "clickstream-events",
        description=(
            "Topic of the clickstream events (one JSON object per message) -> `raw.clickstream_events`."
        ),
    )
    KAFKA_TOPIC_ORDER_LINES: str = Field(
        "order-lines",
        description="Topic of the order lines (one JSON object per message) -> `raw.order_lines`.",
    )
    KAFKA_GROUP_ID: str = Field(
        "lakehouse-raw",
        description=(
            "Consumer group of the streaming ingestion (its committed offsets are the stream's cursor)."
        ),
    )
    KAFKA_SECURITY_PROTOCOL: str = Field(
        "",
        description=(
            "librdkafka `security.protocol` (`SSL`, `SASL_SSL`, `SASL_PLAINTEXT`); unset: the client's "
            "default (plaintext)."
        ),
    )
    KAFKA_SASL_MECHANISM: str = Field(
        "", description="librdkafka `sasl.mechanisms` (`PLAIN`, `SCRAM-SHA-256`, `SCRAM-SHA-512`, ...)."
    )
    KAFKA_SASL_USERNAME: str = Field("", description="SASL user name (with KAFKA_SASL_MECHANISM).")
    KAFKA_SASL_PASSWORD: str = Field("", description="SASL password (with KAFKA_SASL_USERNAME).")
    KAFKA_CLIENT_CONF: SparkConf = Field(
        "",
        description=(
            "Other librdkafka settings for producer and consumer, `key=value` pairs separated by `;` "
            "(e.g. `ssl.ca.location=/etc/ca.pem;client.id=lake`); they override the defaults."
        ),
    )
    STREAM_BATCH_SECONDS: Seconds = Field(
        5.0,
        description="The consumer lands a micro-batch at least this often (seconds) while messages arrive.",
    )
    STREAM_BATCH_MESSAGES: Count = Field(
        100000,
        description=(
            "The consumer lands a micro-batch as soon as it holds this many messages (all topics and "
            "partitions together)."
        ),
    )
    ALERT_SMTP_HOST: str = Field(
        "",
        description=("SMTP server for anomaly alerts; unset: alerts are only logged."),
    )
    ALERT_SMTP_PORT: Port = Field(587, description="Its port.")
    ALERT_SMTP_STARTTLS: Flag = Field(
        True,
        description=("Upgrade the SMTP connection with STARTTLS (`true`/`false`)."),
    )
    ALERT_SMTP_USER: str = Field("", description="SMTP login (optional).")
    ALERT_SMTP_PASSWORD: str = Field("", description="SMTP password (with ALERT_SMTP_USER).")
    ALERT_SMTP_SENDER: str = Field("lakehouse@localhost", description="From address of the alerts.")
    ALERT_SMTP_RECIPIENTS: str = Field("", description="Comma-separated recipients of the alerts.")
    ALERT_MAX_ROWS: Rows = Field(
        50,
        description=("Flags listed per table in an alert e-mail (the rest are counted)."),
    )
    SUPERSET_PORT: Port = Field(
        8088,
        description=("Port of `make dashboard` (Apache Superset, bound to 127.0.0.1)."),
    )
    SUPERSET_ADMIN_USER: str = Field("admin", description="Superset's admin user.")
    SUPERSET_ADMIN_PASSWORD: str = Field(
        "",
        description=(
            "Its password; default: generated once, printed by the first `make dashboard` and kept in "
            "`<data dir>/superset/admin.password` (mode 600)."
        ),
    )
    SUPERSET_SECRET_KEY: str = Field(
        "",
        description=(
            "Key Superset signs sessions and encrypts stored credentials with; default: generated once "
            "and kept in `<data dir>/superset/secret_key` (mode 600)."
        ),
    )
    SUPERSET_START_TIMEOUT: Seconds = Field(
        180.0,
        description=("Seconds to wait for Superset's `/health` to answer."),
    )
    ML_SPARK_MASTER: str = Field(
        "local[2]",
        description=(
            "Spark master of the ML application (`python -m lakehouse ml train` and `ml score`), its own "
            "driver with an in-memory catalog; a `spark://` URL sends the same job to a cluster."
        ),
    )
    ML_DRIVER_MEMORY: Memory = Field("1g", description="Driver memory of the ML application.")
    ML_CHURN_AUC_FLOOR: Annotated[float, Field(ge=0, le=1), Accepts("a number from 0 to 1")] = Field(
        0.75, description="Gate: a churn model is published only with a holdout AUC at least this."
    )
    ML_CHURN_AUC_MARGIN: Annotated[float, Field(ge=0, le=1), Accepts("a number from 0 to 1")] = Field(
        0.02,
        description=(
            "Gate: ... and an AUC at least this much above the recency-only rule's (days since the last "
            "order) on the same holdout."
        ),
    )
    ML_RECS_PRECISION_MARGIN: Annotated[float, Field(ge=0, le=1), Accepts("a number from 0 to 1")] = Field(
        0.01,
        description=(
            "Gate: the recommendation model is published only with a precision@10 at least this much "
            "above the popularity baseline's (same customers, same exclusions)."
        ),
    )
    ML_HOLDOUT_DAYS: Count = Field(
        7, description="Recommendations: the last days of interactions held out to evaluate the model."
    )
    ML_EXCLUDE_DAYS: Rows = Field(
        7,
        description=(
            "Recommendations leave out products the customer bought in this many days before (the holdout "
            "start, or the scoring date)."
        ),
    )
    ML_INTERACTION_WEIGHTS: SparkConf = Field(
        "views=1;cart_adds=3;purchases=5",
        description=(
            "Implicit feedback strength of an interaction: weights of product views, cart adds and "
            "purchases, `name=weight` pairs separated by `;`."
        ),
    )
    DBT_TARGET: DbtTarget = Field(
        DbtTarget.LOCAL,
        description=(
            "dbt target for the lake: `local` (embedded), `cluster`, `cluster_kerberos` or `cluster_ldap`."
        ),
    )
    DBT_SCHEMA: str = Field(
        "analytics",
        description=("Default dbt schema on Spark (custom schemas are used as named)."),
    )
    LAKEHOUSE_CHURN_HORIZON_DAYS: Count = Field(
        90,
        description=(
            "dbt var `churn_horizon_days`: a customer has churned at a cutoff when it places no order in "
            "this many days after it (marts.ml_customer_features). The demo run (`python -m flows run`) "
            "passes its own: 7."
        ),
    )
    LAKEHOUSE_ML_CUTOFF_STEP_DAYS: Count = Field(
        7,
        description=(
            "dbt var `ml_cutoff_step_days`: days between the cutoff dates of marts.ml_customer_features. "
            "The demo run (`python -m flows run`) passes its own: 2."
        ),
    )


FIELDS = LakehouseConfig.model_fields


def accepts(name: str) -> str:
    """What variable ``name`` accepts, in words."""
    field = FIELDS[name]
    for marker in field.metadata:
        if isinstance(marker, Accepts):
            return marker.text
    annotation = field.annotation
    if isinstance(annotation, type) and issubclass(annotation, Choice):
        return "one of " + ", ".join(member.value for member in annotation)
    return "text"


# name -> (default, description), as text: the README's configuration table is generated from it
# (`python -m lakehouse config`), so documentation and code cannot drift apart.
VARIABLES: dict[str, tuple[str, str]] = {
    name: (as_text(field.default), field.description or "") for name, field in FIELDS.items()
}
