"""Superset's configuration for `make dashboard` (loaded through SUPERSET_CONFIG_PATH).

Everything machine-specific comes from the environment that ``lakehouse/dashboard.py`` gives every
Superset process: ``SUPERSET_HOME`` (``<data dir>/superset``: metadata database, uploads) and
``SUPERSET_SECRET_KEY`` (from the environment or generated once into ``<data dir>/superset/secret_key``, mode
600). No path of a machine lives in this file.
"""

import os

SUPERSET_HOME = os.environ["SUPERSET_HOME"]
SECRET_KEY = os.environ["SUPERSET_SECRET_KEY"]

# Superset's own metadata (users, charts, dashboards): a SQLite file under the data directory.
SQLALCHEMY_DATABASE_URI = f"sqlite:///{SUPERSET_HOME}/superset.db?check_same_thread=false"
DATA_DIR = SUPERSET_HOME
UPLOAD_FOLDER = os.path.join(SUPERSET_HOME, "uploads")

APP_NAME = "Lakehouse"
# One machine, no Redis: rate limits and caches in memory (silences flask-limiter's warning).
RATELIMIT_STORAGE_URI = "memory://"
# The web server binds 127.0.0.1 only; the warning about the default CSP is noise there.
CONTENT_SECURITY_POLICY_WARNING = False
# Nothing leaves the machine: no telemetry, no example data, no thumbnails needing a browser worker.
SCARF_ANALYTICS = False
# Every chart of a dashboard renders at once (not only those scrolled into view): what a test and a
# screenshot need, and a one-page dashboard of ten charts is cheap.
FEATURE_FLAGS = {"THUMBNAILS": False, "ALERT_REPORTS": False, "DASHBOARD_VIRTUALIZATION": False}
# Dashboards only read gold; SQL Lab may query it too (read-only role), never write.
SQLLAB_TIMEOUT = 120
SUPERSET_WEBSERVER_TIMEOUT = 120
ROW_LIMIT = 50000
