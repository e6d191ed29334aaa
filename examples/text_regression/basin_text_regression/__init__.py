"""An example of a task from outside basin: a number per text, learned by a LoRA-tuned encoder
with a one-output regression head (mean squared error; mean absolute error reported beside it).

Installed, it is offered to basin as ``model.task: text-regression`` (the ``basin.tasks`` entry
point in ``pyproject.toml``); without installing, ``model.task: basin_text_regression:TASK``
names it wherever the package imports. Only basin's public task interface is used.
"""

from trainables.contract import GAP, TRAIN_EVAL_LOSS, VAL_LOSS
from trainables.tasks.declaration import TaskDeclaration

TASK = TaskDeclaration(
    name="text-regression",
    summary="a number per text",
    implementation="basin_text_regression.task:TextRegression",
    metrics=("train_eval_mae", "val_mae"),
    objectives=(VAL_LOSS, "val_mae", GAP, TRAIN_EVAL_LOSS, "train_eval_mae"),
    test_metrics=("test_loss", "test_mae"),
    headline="test_mae",
    curves=("val_mae", "train_eval_mae"),
    data_checks="basin_text_regression.checks:check_data",
    peft_loader="AutoPeftModelForSequenceClassification",
    pipeline="text-classification",
    leaderboard=("val_mae",),
)
