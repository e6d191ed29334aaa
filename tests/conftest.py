"""Shared helpers: tiny sweep files that run in seconds on CPU; and the suite's own world.

The suite writes nowhere a user keeps things: before anything is imported, ``HOME``, the
caches (basin's converted models, DeepSpeed's compiled ops, W&B, matplotlib) and ``TMPDIR`` point
into the suite's own folder in the system's temporary directory, so that a saved ``wandb
login`` is never seen, ``~/.cache`` and ``/tmp`` get nothing, and what a killed worker leaves
behind (a checkpoint being written, a Ray session) goes when the run ends. The caches persist
between runs (compiled ops and a converted model take minutes); each run's ``TMPDIR`` does not.
pytest's own temporary folders stay where pytest puts them (kept for a failed test's post-mortem).

No test reaches beyond loopback: the network guard (``tests/netguard/``) fails a test during
which this process or a Python process it started connected to, sent to, or looked up an
address or name outside loopback.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

SYSTEM_TEMP = Path(tempfile.gettempdir())
SUITE_HOME = SYSTEM_TEMP / "basin-tests"
# Short: Ray puts its Unix sockets under TMPDIR, and their paths are limited to 107 characters.
RUN_TEMP = SUITE_HOME / f"run-{os.getpid()}"


def _isolate() -> None:
    home = SUITE_HOME / "home"
    os.environ.setdefault("PYTEST_DEBUG_TEMPROOT", str(SYSTEM_TEMP))
    for name, value in {
        "HOME": home, "XDG_CACHE_HOME": home / ".cache", "XDG_CONFIG_HOME": home / ".config",
        "BASIN_CACHE": home / ".cache" / "basin",
        "TORCH_EXTENSIONS_DIR": home / ".cache" / "torch_extensions",
        "MPLCONFIGDIR": home / ".config" / "matplotlib",
        "WANDB_CONFIG_DIR": home / ".config" / "wandb", "WANDB_CACHE_DIR": home / ".cache" / "wandb",
        "WANDB_DATA_DIR": home / ".local" / "share" / "wandb", "TMPDIR": RUN_TEMP,
        "XDG_RUNTIME_DIR": RUN_TEMP / "runtime",
    }.items():
        Path(value).mkdir(mode=0o700, parents=True, exist_ok=True)
        os.environ[name] = str(value)
    for name in ("WANDB_API_KEY", "WANDB_BASE_URL", "WANDB_ENTITY", "WANDB_PROJECT", "NETRC"):
        os.environ.pop(name, None)
    tempfile.tempdir = None  # recomputed from TMPDIR
    # The TMPDIR of runs that were killed before they could remove it (their process is gone).
    for stale in SUITE_HOME.glob("run-*"):
        pid = stale.name.removeprefix("run-")
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            shutil.rmtree(stale, ignore_errors=True)


_isolate()

# No test reaches beyond loopback: a connection or lookup outside it fails the test, in this
# process and in every Python process the tests start (tests/netguard/ says what it sees).
from tests.netguard import plugin as network_guard  # noqa: E402

network_guard.start(RUN_TEMP / "network-guard.log")

import pytest  # noqa: E402
import yaml  # noqa: E402


def pytest_configure(config: pytest.Config) -> None:
    """The guard's hooks: each test fails on what the guard refused during it; and where the
    suite's time goes (tests/durations.py)."""
    from tests import durations

    config.pluginmanager.register(network_guard, "network-guard")
    config.pluginmanager.register(durations, "durations")


def pytest_unconfigure(config: pytest.Config) -> None:
    """This run's TMPDIR goes with it (Ray has been shut down by the session's fixtures)."""
    shutil.rmtree(RUN_TEMP, ignore_errors=True)

# A 2-layer BERT with hidden size 32, built from a config: no weights are downloaded or loaded.
TINY_BERT = {
    "model_type": "bert",
    "vocab_size": 30522,
    "hidden_size": 32,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "intermediate_size": 64,
    "max_position_embeddings": 128,
}

# A 2-layer Llama with SmolLM2's vocabulary (it borrows that tokenizer), built from a config.
TINY_LLAMA = {"model_type": "llama", "vocab_size": 49152, "hidden_size": 32,
              "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4,
              "num_key_value_heads": 2, "max_position_embeddings": 128, "tie_word_embeddings": True}


def tiny_sweep(tmp_path: Path, **sections) -> dict:
    """A complete raw sweep dict for the tiny model; keyword arguments replace sections."""
    sweep = {
        "name": "tiny",
        "model": {"name": "tiny-bert", "random_init_config": TINY_BERT,
                  "lora_target_modules": ["query", "value"]},
        "data": {"source": "demo", "demo": {"train_size": 64, "validation_size": 64,
                                            "test_size": 32}, "max_length": 24,
                 "train_eval_samples": 32},
        "training": {"max_steps": 12, "eval_every": 4, "micro_batch_size": 8},
        "space": {
            "learning_rate": {"type": "float", "low": 1e-3, "high": 2e-2, "log": True},
            "lora_r": {"type": "choice", "values": [2, 4]},
            "lora_dropout": 0.0,
        },
        "search": {"num_trials": 1, "max_concurrent_trials": 2, "seed": 0},
        "scheduler": {"type": "fifo"},
        "stopping": {"not_learning": None, "gap": None},
        "output_dir": str(tmp_path / "runs"),
    }
    sweep.update(sections)
    return sweep


def write_sweep(path: Path, sweep: dict) -> Path:
    path.write_text(yaml.safe_dump(sweep, sort_keys=False))
    return path


@pytest.fixture
def sweep_factory(tmp_path):
    """Write a tiny sweep file (with overrides) and return its path."""

    def make(filename: str = "sweep.yaml", **sections) -> Path:
        return write_sweep(tmp_path / filename, tiny_sweep(tmp_path, **sections))

    return make


def overfitting_data(folder: Path) -> dict:
    """A ``data`` section on which a tiny model learns, then overfits: the validation split
    holds the training sentences, a quarter of them with their labels flipped. Memorising the
    training split first lowers the validation loss below the constant-prediction baseline (the
    three quarters agree), then raises it (the flipped quarter's loss grows without bound),
    while the training loss keeps falling: the gap rule's turn, every time."""
    words = ["good", "bad"]
    lines = [(f"this is {words[i % 2]} number {i}", i % 2) for i in range(32)]
    (folder / "train.tsv").write_text(
        "sentence\tlabel\n" + "".join(f"{text}\t{label}\n" for text, label in lines))
    (folder / "val.tsv").write_text("sentence\tlabel\n" + "".join(
        f"{text}\t{1 - label if i % 4 == 3 else label}\n" for i, (text, label) in enumerate(lines)))
    return {"source": "files", "train_file": str(folder / "train.tsv"),
            "validation_file": str(folder / "val.tsv"), "text_column": "sentence",
            "max_length": 16, "train_eval_samples": 32}


@pytest.fixture(scope="session")
def tiny_pretrained(tmp_path_factory) -> Path:
    """A tiny BERT saved as a pretrained model folder (random weights, fixed seed), with
    MiniLM's tokenizer: a real local `from_pretrained` base, as a user's model would be. Like
    MiniLM, it has no classification head: loading it for a classifier initialises one."""
    import torch
    from transformers import AutoConfig, AutoModel, AutoTokenizer

    from trainables.models.source import builtin_minilm_path

    folder = tmp_path_factory.mktemp("tiny-bert")
    torch.manual_seed(0)
    model = AutoModel.from_config(AutoConfig.for_model(**TINY_BERT))
    model.save_pretrained(folder)
    AutoTokenizer.from_pretrained(builtin_minilm_path()).save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_llama_folder(tmp_path_factory) -> Path:
    """A tiny Llama saved as a pretrained model folder (random weights, fixed seed), with the
    built-in SmolLM2's tokenizer and chat template: a local causal LM, as a user's would be."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    from trainables.models.builtin_llm import tokenizer_for_random_models

    folder = tmp_path_factory.mktemp("tiny-llama")
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(AutoConfig.for_model(**TINY_LLAMA))
    model.save_pretrained(folder)
    AutoTokenizer.from_pretrained(tokenizer_for_random_models()).save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def s3_store():
    """A real S3 endpoint on this machine (moto's server) with a bucket ``basin``; yields the
    run-directory URI prefix and the environment a process needs to reach it."""
    import logging

    import boto3
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise

    env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           "AWS_DEFAULT_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true"}
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    boto3.client("s3", endpoint_url=f"http://{host}:{port}").create_bucket(Bucket="basin")
    try:
        yield {"uri": f"s3://basin/runs?endpoint_override={host}:{port}&scheme=http",
               "env": env, "endpoint": f"{host}:{port}"}
    finally:
        server.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture(scope="session")
def postgres_url():
    """A real PostgreSQL server (pgserver's bundled binaries), reached over a Unix socket."""
    import pgserver

    folder = tempfile.mkdtemp(prefix="pg", dir="/tmp")  # short: Unix socket paths are limited
    server = pgserver.get_server(folder, cleanup_mode="delete")
    try:
        yield server.get_uri()
    finally:
        server.cleanup()


def refused_when(key: str, value, refused: dict, calls: Path | None = None):
    """The real trial function, except that a trial whose ``key`` is ``value`` is handed the
    hyperparameters ``refused`` that no sweep file can hold: the trial's own settings refuse
    them before it trains and it fails with an error. With ``calls``, each start of a trial
    leaves a file ``<key>=<its value>-...`` there (how many times each was started). A
    closure, so Ray ships it to the workers by value."""
    def run_trial(config: dict, settings: dict) -> None:  # named so: Ray names folders by it
        from trainables.trial.entry import run_trial as the_real_one

        if calls is not None:
            os.close(tempfile.mkstemp(prefix=f"{key}={config[key]}-", dir=calls)[0])
        if config[key] == value:
            config = {**config, **refused}
        the_real_one(config, settings)

    return run_trial


def disk_full_once(markers: Path, at_step: int):
    """The real trial function, except that the first checkpoint any trial saves at
    ``at_step`` meets a full disk: ``OSError(ENOSPC)`` from inside the trial's own loop, where a
    real full disk raises it. Each start of a trial leaves a file ``start-...`` in
    ``markers``. A closure, so Ray ships it to the workers by value."""
    def run_trial(config: dict, settings: dict) -> None:  # named so: Ray names folders by it
        import errno

        import trainables.recipe.loop as loop
        from trainables.trial.entry import run_trial as the_real_one

        real_save = loop.save_checkpoint

        def save(engine, metrics, *args, **kwargs):
            if metrics.get("step") == at_step:
                try:  # only the first such save, in any process
                    os.close(os.open(markers / "disk-full", os.O_CREAT | os.O_EXCL))
                except FileExistsError:
                    return real_save(engine, metrics, *args, **kwargs)
                raise OSError(errno.ENOSPC, "No space left on device", str(markers))
            return real_save(engine, metrics, *args, **kwargs)

        os.close(tempfile.mkstemp(prefix="start-", dir=markers)[0])
        loop.save_checkpoint = save
        try:
            the_real_one(config, settings)
        finally:
            loop.save_checkpoint = real_save

    return run_trial


@pytest.fixture(scope="session")
def local_ray():
    """One real local Ray instance for the tests that need one (every integration test, the
    benchmarks' end-to-end tests), 2 CPUs as on CI, started the way `basin run` starts it (its
    workers' settings: the warm workers' thread timeout, ...)."""
    import ray

    from search.tune.cluster import start_ray

    start_ray(num_cpus=2)
    yield
    ray.shutdown()
