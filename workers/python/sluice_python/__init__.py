"""Sluice's Python activity worker: trainers whose best library is in Python (LightGBM)."""
