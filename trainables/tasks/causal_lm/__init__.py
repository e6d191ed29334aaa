"""Causal LM: instruction fine-tuning, the loss on response tokens only (``task.py``; its chats,
batches, built-in instruction data and checks beside it)."""

from trainables.contract import GAP, TRAIN_EVAL_LOSS, VAL_LOSS
from trainables.tasks.declaration import TaskDeclaration

# Perplexity (exp of the mean token loss over response tokens), exact match of greedy answers
# (only with generation.exact_match_samples), how many examples max_length cut, and the second
# retention figure (trainables/tasks/causal_lm/retention.py).
TASK = TaskDeclaration(
    name="causal-lm",
    summary="the response to a prompt (instruction fine-tuning)",
    implementation="trainables.tasks.causal_lm.task:CausalLM",
    metrics=("train_eval_perplexity", "val_perplexity", "train_eval_exact_match",
             "val_exact_match", "train_truncated", "val_truncated", "drift_kl"),
    objectives=(VAL_LOSS, "val_perplexity", "val_exact_match", GAP, TRAIN_EVAL_LOSS,
                "train_eval_perplexity"),
    test_metrics=("test_loss", "test_perplexity", "test_exact_match"),
    headline="test_perplexity",
    curves=("val_perplexity", "train_eval_perplexity", "val_exact_match",
            "train_eval_exact_match", "drift_kl"),
    generated=("train_eval_exact_match", "val_exact_match", "test_exact_match"),
    data_checks="trainables.tasks.causal_lm.validation:check_chat_data",
    checks_need_model=True,
    peft_loader="AutoPeftModelForCausalLM",
    model_class="AutoModelForCausalLM",
    model_check="trainables.tasks.causal_lm.validation:check_decoder",
    pipeline="text-generation",
    leaderboard=("val_exact_match",),
)
