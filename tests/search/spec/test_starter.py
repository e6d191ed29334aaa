"""basin init: the task and columns read off a data file, every size chosen from its size, and
a sweep file that basin accepts as written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from search.cli.main import main
from search.core.errors import SpecError
from search.spec.model import load_spec
from search.spec.starter import plan, read_shape

ROOT = Path(__file__).resolve().parents[3]
TICKETS = ROOT / "sweeps" / "data" / "tickets.tsv"


def test_the_shipped_tickets_give_the_shipped_sweep(tmp_path, monkeypatch):
    shape = read_shape(TICKETS)
    assert (shape.task, shape.text, shape.label, shape.rows) == \
        ("sequence-classification", "message", "team", 240)
    assert shape.classes == {"billing": 75, "shipping": 80, "technical": 85}
    sizes = plan(shape)
    assert (sizes.validation_rows, sizes.train_rows, sizes.micro_batch_size) == (48, 192, 16)
    # 8 passes of 12 batches in 8 evaluations; ASHA's rung and the gap's grace inside them.
    assert (sizes.max_steps, sizes.eval_every, sizes.grace_period, sizes.gap_grace) == \
        (96, 12, 48, 24)
    monkeypatch.chdir(ROOT)
    out = tmp_path / "tickets_files.yaml"
    assert main(["init", "sweeps/data/tickets.tsv", "--out", str(out), "--no-measure"]) == 0
    # The shipped example is what basin init writes (its header names the file it was written as).
    shipped = (ROOT / "sweeps" / "tickets_files.yaml").read_text()
    body = out.read_text()
    assert body[body.index("\nname: "):] == shipped[shipped.index("\nname: "):]


def test_a_small_file_gets_a_larger_validation_share_and_smaller_batches(tmp_path):
    rows = [(f"item {i} is {'good' if i % 2 else 'bad'}", i % 2) for i in range(20)]
    data = tmp_path / "small.csv"
    data.write_text("text,label\n" + "".join(f"{t},{y}\n" for t, y in rows))
    sizes = plan(read_shape(data))
    assert (sizes.validation_fraction, sizes.validation_rows, sizes.train_rows) == (0.3, 6, 14)
    assert sizes.micro_batch_size == 2 and sizes.train_eval_samples == 14
    assert sizes.max_steps == sizes.eval_every * 8 and sizes.max_steps >= 7 * 8 // 8
    out = tmp_path / "small.yaml"
    assert main(["init", str(data), "--no-measure"]) == 0  # beside the data, named after it
    spec = load_spec(out)
    assert spec.data.validation_fraction == 0.3 and spec.training.micro_batch_size == 2
    assert spec.stopping.gap.grace_steps < spec.training.max_steps  # the rule can fire


def test_prompts_and_responses_make_a_causal_lm_sweep(tmp_path):
    data = tmp_path / "qa.jsonl"
    data.write_text("".join(json.dumps({"question": f"what is {i} plus 1?", "answer": str(i + 1)})
                            + "\n" for i in range(40)))
    assert main(["init", str(data), "--out", str(tmp_path / "qa.yaml"), "--no-measure"]) == 0
    spec = load_spec(tmp_path / "qa.yaml")
    assert spec.model.task == "causal-lm" and spec.model.name == "builtin:smollm2-135m-instruct"
    assert (spec.data.prompt_column, spec.data.response_column) == ("question", "answer")


def test_columns_and_model_named_by_the_user_win(tmp_path):
    data = tmp_path / "d.tsv"
    data.write_text("id\tbody_text\tverdict\n" + "".join(
        f"{i}\tthe item number {i}\t{'yes' if i % 3 else 'no'}\n" for i in range(30)))
    out = tmp_path / "d.yaml"
    assert main(["init", str(data), "--text-column", "body_text", "--label-column", "verdict",
                 "--model", "someone/bert", "--trials", "4", "--out", str(out), "--no-measure"]) == 0
    spec = load_spec(out)
    assert (spec.data.text_column, spec.data.label_column) == ("body_text", "verdict")
    assert spec.model.name == "someone/bert" and spec.model.lora_target_modules is None
    assert spec.search.num_trials == 4


@pytest.mark.parametrize("given", ["sequence-classification", "classification"])
def test_the_task_is_named_as_the_sweep_file_names_it_and_the_old_name_still_works(
        tmp_path, capsys, given):
    data = tmp_path / "d.tsv"
    data.write_text("text\tlabel\n" + "".join(f"item {i}\t{i % 2}\n" for i in range(30)))
    assert main(["init", str(data), "--task", given, "--out", str(tmp_path / "d.yaml"), "--no-measure"]) == 0
    assert load_spec(tmp_path / "d.yaml").model.task == "sequence-classification"
    assert "wrote " + str(tmp_path / "d.yaml") + ": sequence-classification" in \
        " ".join(capsys.readouterr().out.split())


@pytest.mark.parametrize("content, expected", [
    ("a\tb\n" + "x\ty\n" * 12, "no text column found among ['a', 'b']; name it with --text-column"),
    ("text\tlabel\n" + "words here\t1\n" * 12, "column 'label' has one label (['1'])"),
    ("text\tlabel\n" + "words here\t1\n" * 3, "3 rows: too few to train on and choose by"),
])
def test_data_it_cannot_start_from_is_refused_with_the_reason(tmp_path, content, expected):
    data = tmp_path / "d.tsv"
    data.write_text(content)
    with pytest.raises(SpecError) as caught:
        read_shape(data)
    assert caught.value.problems[0].startswith(f"{data}: {expected}")
