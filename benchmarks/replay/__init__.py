"""Replaying search methods over learning-curve tables (``benchmarks/search_replay.py``)."""
