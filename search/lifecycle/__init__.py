"""A sweep's life as the commands drive it, one module per phase: ``start``, ``decisions``
(what decides its trials), ``run``, ``resume``, ``finish``; and ``confirm``, ``check``, the
``preflight`` checks, the trackers it builds (``tracking``) and one trial in the foreground
(``foreground``: ``basin train``)."""
