#!/usr/bin/env python3
"""BiT-R50x1 training-step throughput in PyTorch (eager), the counterpart of bit-engine's
org.bitengine.bench.gpu.GpuTrainStepBench, on the same GPU, batch sizes, resolutions and precisions.

The model is written here from the BiT paper's description (ResNet-v2, pre-activation bottlenecks,
GroupNorm with 32 groups, weight-standardised convolutions with eps 1e-10 on the biased variance, a
7x7/2 root conv followed by a zero pad of 1 and a 3x3/2 max-pool, the stride on the 3x3 conv, the
projection taking the pre-activation, head GN -> ReLU -> global mean -> 1x1 conv). The step is the
same as bit-engine's: forward, mean softmax cross-entropy, backward, SGD momentum 0.9, with random
images and labels, 1000 classes, cudnn.benchmark on.

    python3 torch_bit_bench.py [--sizes 128,224] [--batches 64,128] [--precisions fp32,tf32]
                               [--warmup 5] [--steps 20] [--channels-last]
                               [--java-results bench-java.jsonl]

With --java-results (the JSON lines GpuTrainStepBench --out wrote) it prints, per configuration,
both rates and the ratio bit-engine / PyTorch.
"""
import argparse
import json
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class StdConv2d(nn.Conv2d):
    """Conv2d whose kernel is standardised per output channel before every use."""

    def forward(self, x):
        var, mean = torch.var_mean(self.weight, dim=[1, 2, 3], keepdim=True, unbiased=False)
        w = (self.weight - mean) / torch.sqrt(var + 1e-10)
        return F.conv2d(x, w, self.bias, self.stride, self.padding, self.dilation, self.groups)


def std_conv(cin, cout, kernel, stride=1):
    return StdConv2d(cin, cout, kernel, stride=stride, padding=kernel // 2, bias=False)


class PreActBottleneck(nn.Module):
    def __init__(self, cin, cout, cmid, stride):
        super().__init__()
        self.gn1, self.conv1 = nn.GroupNorm(32, cin, eps=1e-5), std_conv(cin, cmid, 1)
        self.gn2, self.conv2 = nn.GroupNorm(32, cmid, eps=1e-5), std_conv(cmid, cmid, 3, stride)
        self.gn3, self.conv3 = nn.GroupNorm(32, cmid, eps=1e-5), std_conv(cmid, cout, 1)
        self.project = std_conv(cin, cout, 1, stride) if stride != 1 or cin != cout else None

    def forward(self, x):
        pre = F.relu(self.gn1(x))
        shortcut = self.project(pre) if self.project is not None else x
        out = self.conv1(pre)
        out = self.conv2(F.relu(self.gn2(out)))
        out = self.conv3(F.relu(self.gn3(out)))
        return out + shortcut


class BitResNetV2(nn.Module):
    def __init__(self, units=(3, 4, 6, 3), width=1, classes=1000):
        super().__init__()
        w = 64 * width
        self.root = nn.Sequential(std_conv(3, w, 7, 2), nn.ConstantPad2d(1, 0.0), nn.MaxPool2d(3, 2))
        blocks, cin = [], w
        for i, n in enumerate(units):
            cmid = w * 2 ** i
            cout = 4 * cmid
            for u in range(n):
                blocks.append(PreActBottleneck(cin, cout, cmid, 2 if (u == 0 and i > 0) else 1))
                cin = cout
        self.body = nn.Sequential(*blocks)
        self.head = nn.Sequential(nn.GroupNorm(32, cin, eps=1e-5), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                                  nn.Conv2d(cin, classes, 1, bias=True))

    def forward(self, x):
        return self.head(self.body(self.root(x))).flatten(1)


def measure(size, batch, precision, warmup, steps, channels_last):
    tf32 = precision == "tf32"
    torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.backends.cudnn.allow_tf32 = tf32
    torch.backends.cudnn.benchmark = True
    model = BitResNetV2().cuda()
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    model = model.to(memory_format=fmt)
    opt = torch.optim.SGD(model.parameters(), lr=1e-4, momentum=0.9)
    x = (torch.rand(batch, 3, size, size, device="cuda") * 2 - 1).to(memory_format=fmt)
    y = torch.randint(0, 1000, (batch,), device="cuda")

    def step():
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()

    for _ in range(warmup):
        step()
    torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    torch.cuda.synchronize()
    return batch * steps / (time.perf_counter() - start)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default="128,224")
    p.add_argument("--batches", default="64,128")
    p.add_argument("--precisions", default="fp32,tf32")
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--channels-last", action="store_true", help="NHWC activations (bit-engine's layout)")
    p.add_argument("--java-results", help="JSON lines from GpuTrainStepBench --out, to print the ratio")
    a = p.parse_args()

    java = {}
    if a.java_results:
        with open(a.java_results) as f:
            for line in f:
                if line.strip():
                    r = json.loads(line)
                    java[(r["size"], r["batch"], r["precision"])] = r["img_per_s"]

    print(f"# torch {torch.__version__}, cuDNN {torch.backends.cudnn.version()}, {torch.cuda.get_device_name(0)}, "
          f"{'channels_last' if a.channels_last else 'NCHW'}")
    print(f"{'config':<34} {'torch img/s':>12} {'bit-engine img/s':>17} {'ratio':>7}")
    for precision in a.precisions.split(","):
        for size in map(int, a.sizes.split(",")):
            for batch in map(int, a.batches.split(",")):
                config = f"BiT-R50x1 {size}x{size} batch {batch} {precision}"
                try:
                    rate = measure(size, batch, precision, a.warmup, a.steps, a.channels_last)
                except torch.cuda.OutOfMemoryError:
                    print(f"{config:<34} {'OOM':>12}")
                    torch.cuda.empty_cache()
                    continue
                ours = java.get((size, batch, precision))
                ratio = f"{ours / rate:7.2f}" if ours else "      -"
                ours_text = f"{ours:17.1f}" if ours else f"{'-':>17}"
                print(f"{config:<34} {rate:12.1f} {ours_text} {ratio}")
                torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
