"""What every part of the driver side shares and nothing else of it is imported by: outcomes,
evaluations, trial records, the run directory's layout, errors, the console."""
