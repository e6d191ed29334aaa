"""The plots of a run (a sweep's curves, the study's importances, the front of objective and drift,
basin check's radius) and what they share (palette, axes)."""
