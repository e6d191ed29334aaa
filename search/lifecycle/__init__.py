"""A sweep's life as the commands drive it: start, run, resume and finish (``sweep``), ``confirm``,
``check``, the preflight checks, the trackers it builds, and one trial in the foreground
(``basin train``)."""
