"""What a valid sweep file points at: data contents, the model, output_dir, this machine's cores.

Each problem is one line naming the file, the field and the value; nothing is left behind."""

from __future__ import annotations

import json
import os

import pytest

from search.core.errors import SpecError
from search.lifecycle.preflight import output_dir_problem, preflight, resource_problems
from search.spec.model import load_spec
from tests.conftest import TINY_BERT


def preflight_problems(path, address: str | None = None) -> list[str]:
    with pytest.raises(SpecError) as caught:
        preflight(load_spec(path), str(path), address)
    return caught.value.problems


def test_the_tiny_sweep_passes(sweep_factory):
    preflight(load_spec(sweep_factory()), "sweep.yaml")


def test_data_files_missing_directory_and_columns(sweep_factory, tmp_path):
    train = tmp_path / "train.tsv"
    train.write_text("sentence\tlabel\nfine film\t1\n")
    problems = preflight_problems(sweep_factory(data={
        "source": "files", "train_file": str(train), "validation_file": str(tmp_path / "nope.csv"),
        "test_file": str(tmp_path), "text_column": "text"}))
    assert any("data.validation_file: file not found" in p for p in problems)
    assert any("data.test_file: is a directory, not a file" in p for p in problems)
    assert any("data.text_column: no column 'text'" in p and "['sentence', 'label']" in p
               for p in problems)


@pytest.mark.parametrize("train, validation, expected", [
    ("sentence\tlabel\n", None, "data.train_file: {train} has no rows, only a header"),
    ("", None, "data.train_file: {train} is empty"),
    ("sentence\tlabel\na\t1\nb\t1\n", None,
     "data.label_column: {train} has one class only ('1' in 'label'); a classifier needs at "
     "least two"),
    ("sentence\tlabel\na\t1\nb\t0\n", "sentence\tlabel\nc\t1\nd\t7\n",
     "data.validation_file: labels that training never saw: ['7'] in {validation} (training has "
     "['0', '1'])"),
    ("sentence\tlabel\na\t1\nb\t0\n", b"sentence\tlabel\nc\t1\nd \xe9t\xe9\t0\n",
     "data.validation_file: cannot read {validation}: line 3 is not UTF-8 text (byte 0xe9"),
], ids=["header-only", "empty", "one-class", "unseen-label", "not-utf8"])
def test_data_contents(sweep_factory, tmp_path, train, validation, expected):
    files = {"train": tmp_path / "train.tsv", "validation": tmp_path / "val.tsv"}
    files["train"].write_text(train)
    data = {"source": "files", "train_file": str(files["train"]), "text_column": "sentence"}
    if validation is not None:
        write = files["validation"].write_bytes if isinstance(validation, bytes) \
            else files["validation"].write_text
        write(validation)
        data["validation_file"] = str(files["validation"])
    problems = preflight_problems(sweep_factory(data=data))
    assert len(problems) == 1
    assert expected.format(**files) in problems[0]


@pytest.mark.parametrize("lines, expected", [
    (['{"text": "a", "label": 1}', '{"text": "b", "label": '],
     "line 2 is not valid JSON: Expecting value (column 24)"),
    (['{"text": "a", "label": 1}', '{"text": "b"}'], "line 2 has no 'label'"),
    (['{"text": "a", "label": 1}', '5'], "line 2 is not a JSON object with named fields (got 5)"),
], ids=["broken-line", "missing-label", "number"])
def test_jsonl_lines(sweep_factory, tmp_path, lines, expected):
    train = tmp_path / "train.jsonl"
    train.write_text("\n".join(lines) + "\n")
    problems = preflight_problems(sweep_factory(data={"source": "files",
                                                      "train_file": str(train)}))
    assert problems == [f"{tmp_path / 'sweep.yaml'}: data.train_file: cannot read {train}: "
                        f"{expected}"]


def test_a_model_folder_needs_a_config(sweep_factory, tmp_path):
    (tmp_path / "not-a-model").mkdir()
    problems = preflight_problems(sweep_factory(model={"name": str(tmp_path / "not-a-model")}))
    assert problems[0].endswith(f"model.name: not a model folder: no config.json in it (got "
                                f"'{tmp_path / 'not-a-model'}')")


def test_a_hub_id_offline_is_one_line(sweep_factory, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    problems = preflight_problems(sweep_factory(model={"name": "someone/no-such-model-xyz"}))
    assert problems[0].endswith("model.name: not in the local Hugging Face cache and "
                                "HF_HUB_OFFLINE is set; download it on a machine with network or "
                                "give a local folder (got 'someone/no-such-model-xyz')")


def test_lora_targets_are_checked_against_the_weights(sweep_factory, tiny_pretrained):
    problems = preflight_problems(sweep_factory(model={
        "name": str(tiny_pretrained), "lora_target_modules": ["query", "q_proj"]}))
    assert len(problems) == 1
    assert "model.lora_target_modules: no module named 'q_proj' in" in problems[0]
    assert "'query'" in problems[0]  # what the model does have


def test_lora_targets_of_a_random_model(sweep_factory):
    problems = preflight_problems(sweep_factory(model={
        "name": "tiny", "random_init_config": TINY_BERT, "lora_target_modules": ["c_attn"]}))
    assert "no module named 'c_attn' in the model of model.random_init_config" in problems[0]


def test_a_model_without_a_classification_head(sweep_factory, tmp_path):
    folder = tmp_path / "clip"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"model_type": "clip_vision_model"}))
    problems = preflight_problems(sweep_factory(model={"name": str(folder)}))
    assert "model.name: a 'clip_vision_model' model has no sequence-classification head" \
        in problems[0]


def test_output_dir_is_probed_and_nothing_is_left(tmp_path):
    (tmp_path / "file").write_text("x")
    assert output_dir_problem(str(tmp_path / "file"), "s") == \
        f"is a file, not a folder (got '{tmp_path / 'file'}')"
    assert "is a file, so no folder can be made under it" in \
        output_dir_problem(str(tmp_path / "file" / "runs"), "s")
    assert output_dir_problem(str(tmp_path / "new" / "runs"), "s") is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]  # the probe cleaned up
    assert output_dir_problem("/proc/basin-runs", "s").startswith("cannot write in /proc")
    deep = "/".join(["d" * 200] * 20)
    assert "too long" in output_dir_problem(str(tmp_path / deep), "s")


def test_resources_against_this_machine(sweep_factory):
    spec = load_spec(sweep_factory(resources={"cpus_per_worker": 64}))
    assert resource_problems(spec, 2.0) == [(
        "resources.cpus_per_worker", "this machine has 2 CPU cores, fewer than one worker asks "
        "for (got 64); run on a cluster with --address, or lower it")]
    spec = load_spec(sweep_factory(resources={"workers": 3, "cpus_per_worker": 1}))
    assert resource_problems(spec, 2.0)[0][0] == "resources.workers"
    spec = load_spec(sweep_factory(training={"max_steps": 12, "threads_per_worker": 16}))
    assert resource_problems(spec, 2.0)[0][0] == "training.threads_per_worker"
    assert resource_problems(spec, 16.0) == []


def test_a_cluster_address_skips_the_machine_check(sweep_factory, monkeypatch):
    path = sweep_factory(resources={"cpus_per_worker": 1000})
    assert "resources.cpus_per_worker" in preflight_problems(path)[0]
    preflight(load_spec(path), str(path), address="10.0.0.1:6379")
    monkeypatch.setitem(os.environ, "RAY_ADDRESS", "10.0.0.1:6379")
    preflight(load_spec(path), str(path))
