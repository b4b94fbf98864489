"""Where the services' runtimes are found: a Java 17, the pip-installed Spark (pyspark), and the Iceberg Spark
runtime jar (from ICEBERG_JAR or a PyPI wheel; Maven is not reachable here).
"""

from __future__ import annotations

import importlib.resources
import os
import re
import shutil
import subprocess
from pathlib import Path

from lakehouse.platform.errors import LakehouseError
from lakehouse.platform.settings import Settings

ICEBERG_JAR_NAME = "iceberg-spark-runtime-3.5_2.12-1.9.2.jar"
JAVA_HELP = (
    "install Java 17 (Debian/Ubuntu: `apt-get install openjdk-17-jre-headless`, "
    "macOS: `brew install openjdk@17`) or set JAVA_HOME"
)


def java_binary() -> str:
    """Path of a Java >= 17, or a one-line error saying how to get one."""
    java_home = os.environ.get("JAVA_HOME")
    java = str(Path(java_home) / "bin" / "java") if java_home else shutil.which("java")
    if not java or not Path(java).exists():
        raise LakehouseError(f"Java not found: Spark needs Java 17; {JAVA_HELP}.")
    try:
        out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30).stderr
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise LakehouseError(f"`{java} -version` failed ({exc}); {JAVA_HELP}.") from exc
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out)
    major = int(match.group(1)) if match else 0
    if major == 1 and match and match.group(2):  # "1.8.0_x"
        major = int(match.group(2))
    if major < 17:
        raise LakehouseError(f"Java {major or '?'} found at {java}, Spark here needs Java 17; {JAVA_HELP}.")
    return java


def spark_env(java: str) -> dict[str, str]:
    """The environment of a Spark script (spark-submit, spark-class): this process's, with the pip-installed
    Spark, the loopback address and the Java found (its home: ``<home>/bin/java``)."""
    env = dict(os.environ, SPARK_HOME=str(spark_home()), SPARK_LOCAL_IP="127.0.0.1")
    env["JAVA_HOME"] = str(Path(java).resolve().parent.parent)
    return env


def iceberg_jar(settings: Settings) -> Path:
    """The Iceberg Spark runtime jar: ICEBERG_JAR, else the one shipped in a PyPI wheel."""
    if settings.get("ICEBERG_JAR"):
        jar = Path(settings.get("ICEBERG_JAR")).expanduser()
        if not jar.is_file():
            raise LakehouseError(f"ICEBERG_JAR={jar} does not exist.")
        return jar
    try:
        shipped = importlib.resources.files("snowpark_connect_deps_iceberg") / "jars" / ICEBERG_JAR_NAME
    except ModuleNotFoundError as exc:
        raise LakehouseError(
            "The Iceberg runtime wheel (snowpark-connect-deps-iceberg) is not installed: run `make setup`."
        ) from exc
    if not Path(str(shipped)).is_file():
        raise LakehouseError(f"{ICEBERG_JAR_NAME} is missing from the Iceberg wheel: run `make setup`.")
    return Path(str(shipped))


def spark_home() -> Path:
    import pyspark

    return Path(pyspark.__file__).resolve().parent
