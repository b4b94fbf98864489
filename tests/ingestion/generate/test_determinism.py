"""Same seed, same data; another seed, other data (pure logic, no services)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from ingestion.generate import GeneratorConfig, generate_dataset

SMALL = {"days": 2, "products": 40, "customers": 60, "lines_per_day": 300, "sessions_per_day": 20}


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_same_seed_gives_identical_files(tmp_path: Path) -> None:
    generate_dataset(GeneratorConfig(seed=7, **SMALL), tmp_path / "a", progress=False)
    generate_dataset(GeneratorConfig(seed=7, **SMALL), tmp_path / "b", progress=False)
    a, b = _digest(tmp_path / "a"), _digest(tmp_path / "b")
    assert len(a) > 10
    assert a == b


def test_other_seed_gives_other_data(tmp_path: Path) -> None:
    generate_dataset(GeneratorConfig(seed=7, **SMALL), tmp_path / "a", progress=False)
    generate_dataset(GeneratorConfig(seed=8, **SMALL), tmp_path / "b", progress=False)
    a, b = _digest(tmp_path / "a"), _digest(tmp_path / "b")
    changed = [name for name in a if name.startswith("order_lines") and a[name] != b.get(name)]
    assert changed
    assert a["customers/customers_2024-01-01.csv"] != b["customers/customers_2024-01-01.csv"]


def test_sizes_follow_the_flags(tmp_path: Path) -> None:
    import pyarrow.csv as pacsv

    files = generate_dataset(GeneratorConfig(seed=1, **SMALL), tmp_path, progress=False)
    by_source: dict[str, int] = {}
    for f in files:
        if f.suffix == ".csv":
            by_source[f.parent.name] = by_source.get(f.parent.name, 0) + pacsv.read_csv(f).num_rows
    # two order days (300 lines each, 1 % duplicates on top), master data for 3 mornings
    assert 600 <= by_source["order_lines"] <= 620
    assert by_source["products"] == sum(
        pacsv.read_csv(f).num_rows for f in files if f.parent.name == "products"
    )
    assert len([f for f in files if f.parent.name == "products"]) == 3
    assert len([f for f in files if f.parent.name == "clickstream_events"]) == 2
