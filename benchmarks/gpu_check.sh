#!/usr/bin/env bash
# Check every GPU-only path of kvp-dash on one GPU in at most 9.5 minutes; figures go to a JSON file.
#
# Written for a GPU box without internet access that has CUDA builds of torch and jax (and
# transformers, onnxruntime) but no keras, tensorflow or textual. What the image lacks comes from
# wheels carried in benchmarks/gpu_wheels/ (about 17 MiB, for CPython 3.12), installed into a private folder; nothing
# is downloaded there. keras/tensorflow cannot travel (tensorflow is too large): it is marked "not run".
#
#   benchmarks/gpu_check.sh --fetch-wheels     # once, on a machine with a package registry
#   benchmarks/gpu_check.sh [OUT.json]         # on the GPU box (default: gpu_check.json)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$HERE")"
WHEELS="$HERE/gpu_wheels"
PYTHON="${PYTHON:-python3}"
# Pure-python wheels, one for every interpreter.
PURE="keras namex absl-py rich markdown-it-py mdurl pygments nvidia-ml-py packaging"
# KerasHub and what it imports, for the hub run (transformers, safetensors and tokenizers are in the image).
PURE="$PURE keras-hub kagglehub kagglesdk tqdm requests urllib3 certifi idna"
# torch.onnx's exporter (the onnxruntime/torch and onnxruntime/keras paths): onnx itself is compiled, below.
PURE="$PURE onnxscript onnx-ir typing-extensions"
# Compiled wheels: one per CPython the GPU image may have.
BINARY="optree h5py ml-dtypes psutil regex sentencepiece protobuf pyyaml charset-normalizer pillow onnx"
# The lent GPU image runs CPython 3.12; GPU_PYTHONS="311 312" fetches for others too (mind the 64 MiB carry).
PYTHONS="${GPU_PYTHONS:-312}"

if [ "${1:-}" = "--fetch-wheels" ]; then
  mkdir -p "$WHEELS"
  "$PYTHON" -m pip download --quiet --no-deps --only-binary=:all: --dest "$WHEELS" $PURE
  for version in $PYTHONS; do
    "$PYTHON" -m pip download --quiet --no-deps --only-binary=:all: --dest "$WHEELS" \
      --python-version "$version" --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 \
      --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 $BINARY
  done
  du -sh "$WHEELS"
  exit 0
fi

OUT="$(realpath -m "${1:-gpu_check.json}")"
SITE="$(mktemp -d)"
trap 'rm -rf "$SITE"' EXIT

# Only what the image lacks: its own jax, torch, numpy and scipy stay as they are.
missing=()
for pair in keras:keras namex:namex absl:absl-py rich:rich markdown_it:markdown-it-py mdurl:mdurl \
            pygments:pygments pynvml:nvidia-ml-py packaging:packaging optree:optree h5py:h5py \
            ml_dtypes:ml-dtypes psutil:psutil keras_hub:keras-hub kagglehub:kagglehub kagglesdk:kagglesdk \
            tqdm:tqdm requests:requests urllib3:urllib3 certifi:certifi idna:idna regex:regex \
            sentencepiece:sentencepiece google.protobuf:protobuf yaml:pyyaml charset_normalizer:charset-normalizer \
            PIL:pillow onnxscript:onnxscript onnx_ir:onnx-ir onnx:onnx; do
  module="${pair%%:*}"; package="${pair#*:}"
  "$PYTHON" -c "import $module" 2>/dev/null || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing from $WHEELS: ${missing[*]}"
  "$PYTHON" -m pip install --quiet --no-index --no-deps --find-links "$WHEELS" --target "$SITE" "${missing[@]}"
fi

cd "$ROOT"
export PYTHONPATH="$SITE:$ROOT${PYTHONPATH:+:$PYTHONPATH}"
# 9.5 minutes for everything (a device command may run 10); the script's own steps have their limits inside that.
timeout --signal=TERM --kill-after=10 570 "$PYTHON" benchmarks/gpu_check.py --json "$OUT" "${@:2}"
