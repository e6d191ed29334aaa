"""What a run tells its user: the leaderboard, status, ``basin ls``, results.json and best.yaml,
plots and the exported bundle."""
