"""The driver side of basin: reads a sweep file, runs the sweep on Ray Tune with Optuna, chooses
and hands on a checkpoint (the commands: ``search.cli.main``)."""
