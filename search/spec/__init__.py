"""The sweep file: its pydantic model (``model.SweepSpec``), the messages its mistakes give,
``--set`` overrides, settings that cannot work together, a recipe's reproduce block, ``basin
init``'s starter."""
