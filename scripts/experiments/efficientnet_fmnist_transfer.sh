#!/usr/bin/env bash
# The EfficientNet-B0 transfer experiment of docs/efficientnet-fmnist-transfer.md, on the CPU:
#   0. split Fashion-MNIST (fmnist_transfer_split.py): source = classes 0-4, target = classes 5-9, 500 each
#   1. "pretrain" B0 from a random init on the source task (no pretrained EfficientNet is reachable here)
#   2. Keras way, phase 1: --freeze-backbone, a new head on features computed once
#   3. Keras way, phase 2: --unfreeze-top 20 from phase 1's weights, BatchNorm frozen, Keras augmentations
#   4. baseline: B0 from a random init trained on the target data alone, as many steps as phase 2
#   5. ablations: phase 2 without the Keras augmentations; every layer fine-tuned (BatchNorm training)
# usage: scripts/experiments/efficientnet_fmnist_transfer.sh WORK_DIR [JAR]   (a finished step is not rerun)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK=${1:?usage: $0 WORK_DIR [JAR]}
JAR=${2:-$ROOT/models/target/bit-engine.jar}
JAVA=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/java
mkdir -p "$WORK"
cd "$WORK"
[ -f target_test.npz ] || python3 "$ROOT/scripts/experiments/fmnist_transfer_split.py" . 500
run() { local out=$1; shift; [ -f "$out/weights.npz" ] || "$JAVA" -jar "$JAR" finetune --out "$out" --overwrite "$@" 2>&1 | tee "$out.log"; }
COMMON=(--resolution 72 --crop 64 --mixup 0)
run source-run --model efficientnet-b0 --data source_train.npz --val source_test.npz "${COMMON[@]}" \
    --batch 32 --steps 1200 --schedule bit --optimizer adam --lr 0.002 --eval-every 400
run target-frozen --weights source-run/weights.npz --data target_train.npz --val target_test.npz "${COMMON[@]}" \
    --freeze-backbone --batch 64 --steps 300 --schedule constant --optimizer adam --lr 0.01 --eval-every 100
run target-top20 --weights target-frozen/weights.npz --keep-head --data target_train.npz --val target_test.npz "${COMMON[@]}" \
    --unfreeze-top 20 --keras-augment --batch 32 --steps 300 --schedule constant --optimizer adam --lr 1e-4 --eval-every 100
run target-scratch --model efficientnet-b0 --data target_train.npz --val target_test.npz "${COMMON[@]}" \
    --batch 32 --steps 300 --schedule bit --optimizer adam --lr 0.002 --eval-every 100
run target-top20-noaug --weights target-frozen/weights.npz --keep-head --data target_train.npz --val target_test.npz "${COMMON[@]}" \
    --unfreeze-top 20 --batch 32 --steps 300 --schedule constant --optimizer adam --lr 1e-4 --eval-every 100
run target-full --weights target-frozen/weights.npz --keep-head --data target_train.npz --val target_test.npz "${COMMON[@]}" \
    --batch 32 --steps 300 --schedule constant --optimizer adam --lr 1e-4 --eval-every 100
run target-full-bit --weights source-run/weights.npz --data target_train.npz --val target_test.npz "${COMMON[@]}" \
    --batch 32 --steps 300 --schedule bit --optimizer adam --lr 0.002 --eval-every 100
