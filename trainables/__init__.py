"""The trial side of basin: one trial's training in a Ray worker or in the foreground; it never
imports ``search``."""
