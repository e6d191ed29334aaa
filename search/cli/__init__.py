"""The ``basin`` command: ``main`` (one handler per command), ``parser`` (every flag and its help),
``init_command`` and ``run_commands`` (the commands that write a starting sweep file, and read
or extend a run)."""
