"""Synthetic sources: a simulated shop (numpy for volume, Faker for names), deterministic per seed."""

from ingestion.generate.config import DirtRates, GeneratorConfig
from ingestion.generate.files import generate_dataset
from ingestion.generate.world import World, build_world

__all__ = ["DirtRates", "GeneratorConfig", "World", "build_world", "generate_dataset"]
