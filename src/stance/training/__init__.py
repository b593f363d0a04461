"""Training runs: the corpus and its grouped splits, evaluation with the spec's metric, and MLflow tracking."""
