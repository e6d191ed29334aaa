#!/usr/bin/env bash
# A basin sweep on SLURM: starts Ray across the allocated nodes, runs the sweep, stops Ray.
#
#   sbatch clusters/slurm-basin.sh sweeps/llm_lora_gpu.yaml
#   squeue -u "$USER"; tail -f basin-<jobid>.out
#
# Lines marked CHANGE are yours to set. The run directory (output_dir) must be on a filesystem
# that every node sees (the default `runs/` under the submit directory usually is).
#SBATCH --job-name=basin
#SBATCH --output=basin-%j.out
#SBATCH --nodes=2                  # CHANGE: nodes for the whole sweep
#SBATCH --ntasks-per-node=1        # one Ray node per machine
#SBATCH --gpus-per-node=4          # CHANGE: GPUs per machine
#SBATCH --cpus-per-task=32         # CHANGE: CPUs per machine
#SBATCH --mem=0                    # all the node's memory
#SBATCH --time=12:00:00            # CHANGE
#SBATCH --partition=gpu            # CHANGE: your GPU partition

set -euo pipefail
sweep="${1:?usage: sbatch clusters/slurm-basin.sh SWEEP_FILE [basin run options]}"
shift

# CHANGE: activate the environment basin is installed in.
# source ~/venvs/basin/bin/activate

mapfile -t nodes < <(scontrol show hostnames "$SLURM_JOB_NODELIST")
head_node="${nodes[0]}"
head_ip=$(srun --nodes=1 --ntasks=1 -w "$head_node" hostname --ip-address | awk '{print $1}')
port=6379
gpus="${SLURM_GPUS_ON_NODE:-0}"
cpus="${SLURM_CPUS_PER_TASK:-1}"

echo "Ray head on $head_node ($head_ip:$port); workers on ${nodes[*]:1}"
srun --nodes=1 --ntasks=1 -w "$head_node" \
    ray start --head --node-ip-address="$head_ip" --port="$port" \
    --num-cpus="$cpus" --num-gpus="$gpus" --block &
sleep 15   # let the head come up before workers join

for node in "${nodes[@]:1}"; do
    srun --nodes=1 --ntasks=1 -w "$node" \
        ray start --address="$head_ip:$port" --num-cpus="$cpus" --num-gpus="$gpus" --block &
done
sleep 15

# basin sizes trials from the cluster's resources and refuses requests no node can hold.
status=0
basin run "$sweep" --address "$head_ip:$port" "$@" || status=$?
if [ "$status" -ne 0 ]; then
    run_dir=$(find runs -mindepth 1 -maxdepth 1 -type d -printf '%T@ %p\n' 2>/dev/null \
        | sort -rn | head -n 1 | cut -d' ' -f2-)
    echo "basin exited with $status; continue the sweep with: basin resume ${run_dir:-RUN_DIR}"
fi
ray stop --force || true    # stop Ray on this node; srun ends the others with the job
exit "$status"
