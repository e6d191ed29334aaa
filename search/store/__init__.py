"""A run directory read and written: Ray's trial folders, the records built from them, the Optuna
study, the ledgers, the keep policy's last pass, object stores."""
