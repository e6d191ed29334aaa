#!/usr/bin/env bash
# Fill gpu_wheels/ (git-ignored) with what `basin train` and benchmarks/gpu_check.py need that a
# lent GPU machine lacks, so that they travel with the working tree (64 MiB a call, tree
# included) to a machine with no network.
#
#     bash benchmarks/gpu_wheels.sh [FOLDER]        # default gpu_wheels/
#
# The GPU machine has torch, transformers, peft, accelerate, numpy, pyyaml, rich, filelock,
# pyarrow, psutil, py-cpuinfo, ninja, msgpack, einops, nvidia-ml-py and pytest (the device
# library's KINDS.md). Measured here with `python -X importtime` and sys.modules after a
# `basin train`: the foreground path imports no Ray and no W&B, but it does import Optuna (the
# sweep's search space, search/sampling/space.py) and SQLAlchemy (the sweep's storage URL,
# search/spec/storage_url.py), and DeepSpeed imports hjson and pydantic. Optuna's own alembic
# is imported only by its database storages: left out. Each package comes at the version
# installed here, so the GPU runs what the tests ran.
#
# DeepSpeed is built here as a pure-Python wheel (DS_BUILD_OPS=0: no compiled op; basin's
# recipe uses torch's AdamW). pydantic-core, the one compiled package, comes for CPython 3.10,
# 3.11 and 3.12 (KINDS.md saw 3.12.3 there; pip picks the one that fits). The built-in
# SmolLM2's GGUF file (94 MiB) cannot travel: its config and tokenizer go in smollm2/, and
# gpu_check.py trains a model of its shape with random weights.
#
# On the GPU machine (what gpu_check.py's docstring runs):
#     python3 -m pip install -q --no-index --no-deps --no-compile --upgrade --target /tmp/site \
#         --find-links gpu_wheels -r gpu_wheels/requirements.txt
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-gpu_wheels}
PYTHONS=${PYTHONS:-"3.10 3.11 3.12"}
PURE=(optuna colorlog sqlalchemy hjson pydantic annotated-types typing-inspection
      typing-extensions gguf)
COMPILED=(pydantic-core)
PLATFORMS=(--platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64
           --platform manylinux2014_x86_64)

version() { python -c "from importlib.metadata import version; print(version('$1'))"; }
# pip's notes on an extra index that is not there are noise here.
quiet() { "$@" 2>&1 | { grep -v -e '^WARNING: Location' -e '^$' || true; }; }

rm -rf "$OUT" && mkdir -p "$OUT"
: >"$OUT/requirements.txt"
for name in "${PURE[@]}"; do
    pin="$name==$(version "$name")"
    quiet pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
        --implementation py --platform any -d "$OUT" "$pin"
    echo "$pin" >>"$OUT/requirements.txt"
done
for name in "${COMPILED[@]}"; do
    pin="$name==$(version "$name")"
    for python in $PYTHONS; do
        quiet pip download -q --no-deps --only-binary=:all: --python-version "$python" \
            --implementation cp "${PLATFORMS[@]}" -d "$OUT" "$pin"
    done
    echo "$pin" >>"$OUT/requirements.txt"
done
pin="deepspeed==$(version deepspeed)"
DS_BUILD_OPS=0 quiet pip wheel -q --no-cache-dir --no-deps --no-build-isolation -w "$OUT" "$pin"
echo "$pin" >>"$OUT/requirements.txt"

# SmolLM2-135M-Instruct's config and tokenizer (chat template included), without its weights.
tokenizer=$(python -c "from trainables.models.builtin_llm import tokenizer_for_random_models as t
print(t())")
mkdir -p "$OUT/smollm2"
for file in config.json generation_config.json tokenizer.json tokenizer_config.json \
            chat_template.jinja special_tokens_map.json; do
    [ -f "$tokenizer/$file" ] && cp "$tokenizer/$file" "$OUT/smollm2/"
done

echo "gpu_wheels: $OUT"
(cd "$OUT" && find . -type f -printf '%s %p\n' | sort -k2 |
    awk '{printf "  %8.2f MiB  %s\n", $1 / 1048576, substr($2, 3)}')
total=$(du -sb "$OUT" | cut -f1)
tree=$(git ls-files -z --cached --others --exclude-standard | du -cb --files0-from=- 2>/dev/null |
       tail -1 | cut -f1)
awk -v w="$total" -v t="$tree" 'BEGIN {
    printf "total %.2f MiB; with the working tree (%.2f MiB): %.2f MiB of the 64 MiB a call carries\n",
           w / 1048576, t / 1048576, (w + t) / 1048576
    if (w + t > 60 * 1048576) { print "too large to travel"; exit 1 } }'
