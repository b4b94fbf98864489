"""Importers of real retail files (UCI Online Retail and Online Retail II, or any mapped layout)."""
