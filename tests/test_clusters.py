"""The cluster files in clusters/ are valid for the tools that read them."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import jsonschema
import pytest
import ray
import yaml

from search.tune.cluster import workers_that_fit

CLUSTERS = Path(__file__).parent.parent / "clusters"
LAUNCHER_FILES = ["aws-gpu.yaml", "gcp-gpu.yaml"]


@pytest.mark.parametrize("name", LAUNCHER_FILES)
def test_cluster_launcher_config_matches_rays_schema(name):
    schema = json.loads((Path(ray.__file__).parent / "autoscaler" / "ray-schema.json").read_text())
    config = yaml.safe_load((CLUSTERS / name).read_text())
    jsonschema.validate(config, schema)
    assert config["head_node_type"] in config["available_node_types"]
    gpu_types = [t for t in config["available_node_types"].values()
                 if t["resources"].get("GPU", 0) > 0]
    assert gpu_types, "a GPU worker type"
    assert any("pip install -e /home/ubuntu/basin" in c for c in config["setup_commands"])


def _containers(pod_template: dict) -> list[dict]:
    containers = pod_template["spec"]["containers"]
    assert containers and all(c.get("image") and c.get("name") for c in containers)
    return containers


def _check_ray_cluster_spec(spec: dict) -> None:
    """The fields KubeRay requires of a RayCluster spec (head group, worker groups)."""
    assert spec["rayVersion"] == ray.__version__
    head = spec["headGroupSpec"]
    assert isinstance(head["rayStartParams"], dict)
    _containers(head["template"])
    workers = spec["workerGroupSpecs"]
    assert workers
    for group in workers:
        assert group["groupName"] and isinstance(group["rayStartParams"], dict)
        assert group["minReplicas"] <= group["replicas"] <= group["maxReplicas"]
        limits = _containers(group["template"])[0]["resources"]["limits"]
        assert int(limits["nvidia.com/gpu"]) > 0


def test_kuberay_raycluster_has_the_fields_kuberay_requires():
    manifest = yaml.safe_load((CLUSTERS / "kuberay-raycluster.yaml").read_text())
    assert manifest["apiVersion"] == "ray.io/v1" and manifest["kind"] == "RayCluster"
    assert manifest["metadata"]["name"]
    _check_ray_cluster_spec(manifest["spec"])


def test_kuberay_rayjob_runs_a_basin_sweep():
    manifest = yaml.safe_load((CLUSTERS / "kuberay-rayjob.yaml").read_text())
    assert manifest["apiVersion"] == "ray.io/v1" and manifest["kind"] == "RayJob"
    assert manifest["metadata"]["name"]
    spec = manifest["spec"]
    assert spec["entrypoint"].startswith("basin run sweeps/")
    sweep = spec["entrypoint"].split()[2]
    assert (CLUSTERS.parent / sweep).is_file()
    _check_ray_cluster_spec(spec["rayClusterSpec"])


def test_slurm_script_is_valid_bash():
    script = CLUSTERS / "slurm-basin.sh"
    subprocess.run(["bash", "-n", str(script)], check=True)
    text = script.read_text()
    assert "#SBATCH --nodes" in text and "basin run" in text and "--address" in text
    if shutil.which("shellcheck"):
        subprocess.run(["shellcheck", str(script)], check=True)


@pytest.mark.parametrize(
    "node, need, expected",
    [
        ({"CPU": 48, "GPU": 4}, {"CPU": 8, "GPU": 1}, 4),
        ({"CPU": 16, "GPU": 4}, {"CPU": 8, "GPU": 1}, 2),
        ({"CPU": 2}, {"CPU": 1, "GPU": 1}, 0),
        ({"CPU": 2}, {"CPU": 0.5, "GPU": 0}, 4),
        ({"CPU": 4, "GPU": 4}, {"CPU": 1, "GPU": 8}, 0),
    ],
)
def test_workers_that_fit_a_node(node, need, expected):
    assert workers_that_fit(node, need) == expected
