"""Tests of trainables/models/."""
