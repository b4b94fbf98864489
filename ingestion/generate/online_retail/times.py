"""Invoice times as the real shop traded: no Saturdays, closed over Christmas, busier in autumn and around
noon."""

from __future__ import annotations

import numpy as np

from ingestion.generate.online_retail.layout import END, START
from ingestion.generate.online_retail.reference import HOUR_WEIGHTS, MONTH_WEIGHTS


def draw_times(
    rng: np.random.Generator, k: int, start: np.datetime64 = START, end: np.datetime64 = END
) -> np.ndarray:
    """Invoice times: no Saturdays, closed over Christmas, busier in autumn and around noon."""
    days = np.arange(start.astype("datetime64[D]"), end.astype("datetime64[D]") + 1)
    month = days.astype("datetime64[M]").astype(np.int64) % 12
    weights = np.array(MONTH_WEIGHTS)[month] * np.where(_weekday(days) == 6, 0.6, 1.0)
    weights = np.where(closed_days(days), 0.0, weights)
    if weights.sum() == 0:  # a window of closed days only: trade anyway
        weights = np.ones(len(days))
    d = rng.choice(len(days), size=k, p=weights / weights.sum())
    ts = days[d].astype("datetime64[m]") + _time_of_day(rng, k)
    early, late = ts < start, ts > end
    ts[early] = start + rng.integers(0, 300, early.sum()).astype("timedelta64[m]")
    ts[late] = end - rng.integers(0, 240, late.sum()).astype("timedelta64[m]")
    return np.clip(ts, start, end)


def _weekday(days: np.ndarray) -> np.ndarray:
    return (days.astype("datetime64[D]").astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0


def closed_days(days: np.ndarray) -> np.ndarray:
    """Saturdays and Christmas (23 December to 3 January): no invoices in the real data."""
    days = days.astype("datetime64[D]")
    month = days.astype("datetime64[M]").astype(np.int64) % 12
    day_of_month = (days - days.astype("datetime64[M]")).astype(np.int64) + 1
    christmas = ((month == 11) & (day_of_month >= 23)) | ((month == 0) & (day_of_month <= 3))
    return (_weekday(days) == 5) | christmas


def _time_of_day(rng: np.random.Generator, k: int) -> np.ndarray:
    hours = np.array(list(HOUR_WEIGHTS))
    weights = np.array(list(HOUR_WEIGHTS.values()), float)
    minute = rng.choice(hours, size=k, p=weights / weights.sum()) * 60 + rng.integers(0, 60, k)
    return minute.astype("timedelta64[m]")


def later_times(rng: np.random.Generator, ts: np.ndarray, mean_days: float) -> np.ndarray:
    """Times some days after ``ts`` (in opening hours), at least a few minutes after, at most END."""
    days = np.floor(rng.exponential(mean_days, len(ts))).astype(np.int64).astype("timedelta64[D]")
    day = ts.astype("datetime64[D]") + days
    for _day in range(14):  # to the next open day
        closed = closed_days(day)
        if not closed.any():
            break
        day[closed] += np.timedelta64(1, "D")
    day = day.astype("datetime64[m]")
    soon = ts + rng.integers(1, 45, len(ts)).astype("timedelta64[m]")
    return np.minimum(np.maximum(day + _time_of_day(rng, len(ts)), soon), END)
