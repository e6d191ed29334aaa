"""Sequence classification: a label per text (``task.py``; its data, demo data, model head and
checks beside it)."""

from trainables.contract import GAP, TRAIN_EVAL_LOSS, VAL_DISTINCT_PREDICTIONS, VAL_LOSS
from trainables.tasks.declaration import TaskDeclaration

# Accuracy, and how many different classes the model predicts (1: it collapsed to one output).
TASK = TaskDeclaration(
    name="sequence-classification",
    summary="a label per text",
    implementation="trainables.tasks.classification.task:SequenceClassification",
    metrics=("train_eval_accuracy", "val_accuracy", "train_eval_distinct_predictions",
             VAL_DISTINCT_PREDICTIONS),
    objectives=(VAL_LOSS, "val_accuracy", GAP, TRAIN_EVAL_LOSS, "train_eval_accuracy"),
    test_metrics=("test_loss", "test_accuracy"),
    headline="test_accuracy",
    curves=("val_accuracy", "train_eval_accuracy"),
    data_checks="trainables.tasks.classification.validation:check_data",
    peft_loader="AutoPeftModelForSequenceClassification",
    pipeline="text-classification",
    leaderboard=("val_accuracy",),
)
