"""``basin export``: the bundle (adapter, recipe, model card) and the probe check that refuses a
bundle that does not reproduce its trial."""
