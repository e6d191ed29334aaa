"""The ``basin`` command: ``main`` (parse, dispatch, one line per failure), ``parser`` (every
flag and its help) and one module per family of commands: ``sweep_commands`` (validate, run,
resume, train), ``read_commands`` (status, ls, best, plots), ``measure_commands`` (confirm,
check), ``export_command``, ``init_command``."""
