"""``basin check``'s measurements of a saved checkpoint: flatness (how much the loss rises under
small weight noise) and scoring on a split."""
