#!/usr/bin/env python3
"""PyTorch CPU reference for `npm run bench`: one MoCo step of the same model and sizes as the tfjs rows.

Prints one JSON object per line on stdout (one per thread count). Run by bench/run.ts; by hand:

    python3 bench/pytorch_step.py --model r18w16 --batch 128 --threads 1,2 --steps 5 --warmup 2

The step mirrors the library's (He et al. 2020, Algorithm 1), with PyTorch's usual CPU settings:
  augment     random resized crop (area 0.2-1, ratio 3/4-4/3) + horizontal flip, as one batched
              affine_grid/grid_sample (bilinear): the tfjs crop-flip plugin's cropAndResize + flip
  key fwd     key encoder, train-mode BN, under no_grad; L2-normalised
  query fwd   query encoder, train-mode BN; L2-normalised
  loss        logits = [q.k+, q.queue^T] / 0.07 (queue [K,d]), cross-entropy with label 0
  backward    loss.backward()
  optimizer   SGD momentum 0.9, weight decay 1e-4 (coupled, as torch.optim.SGD applies it)
  ema         torch._foreach_mul_/_foreach_add_ over the trainable parameters, m = 0.999
  enqueue     ring-buffer write of the keys at the pointer
  readback    loss.item()
Models and data are channels_last unless --nchw. Inputs are random uniform images (fixed per run).
"""
import argparse
import json
import math
import os
import resource
import statistics
import sys
import time

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError as exc:  # reported by the caller as a skipped row
    print(json.dumps({"error": f"torch not importable: {exc}", "python": sys.executable}))
    sys.exit(3)


def conv3(cin, cout, stride=1):
    return nn.Conv2d(cin, cout, 3, stride, 1, bias=False)


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = conv3(cin, cout, stride)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = conv3(cout, cout)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = None
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        sc = x if self.shortcut is None else self.shortcut(x)
        return F.relu(out + sc)


class Encoder(nn.Module):
    """stem conv3x3-BN-ReLU, stages of BasicBlocks, global average pool, linear head (dim 128).

    r18wW: CIFAR ResNet-18 (stages W,2W,4W,8W x 2 blocks, stride 2 at stages 2-4), 3 input channels.
    small: the library's smallConvNet() (stem 16; stages 32,64,128 x 1 block, each stride 2), 1 input channel.
    """

    def __init__(self, widths, blocks, in_ch, dim=128, stem=None, strides=None):
        super().__init__()
        stem = stem or widths[0]
        strides = strides or [1] + [2] * (len(widths) - 1)
        self.stem = nn.Sequential(conv3(in_ch, stem), nn.BatchNorm2d(stem), nn.ReLU(inplace=True))
        layers = []
        cin = stem
        for s, (w, n) in enumerate(zip(widths, blocks)):
            for b in range(n):
                layers.append(BasicBlock(cin, w, strides[s] if b == 0 else 1))
                cin = w
        self.layers = nn.Sequential(*layers)
        self.fc = nn.Linear(cin, dim)

    def forward(self, x):
        x = self.layers(self.stem(x))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


def build(model):
    if model == "small":
        return Encoder([32, 64, 128], [1, 1, 1], 1, stem=16, strides=[2, 2, 2]), (1, 28, 28)
    if model.startswith("r18w"):
        w = int(model[4:])
        return Encoder([w, 2 * w, 4 * w, 8 * w], [2, 2, 2, 2], 3), (3, 32, 32)
    raise SystemExit(f"unknown model {model}")


def crop_flip(x, gen):
    """Per-image random resized crop (area 0.2-1, log-uniform ratio 3/4-4/3) and flip p=0.5, resized
    back to the input size with bilinear sampling: one affine_grid + grid_sample for the batch."""
    n = x.shape[0]
    area = torch.empty(n).uniform_(0.2, 1.0, generator=gen)
    logr = torch.empty(n).uniform_(math.log(3 / 4), math.log(4 / 3), generator=gen)
    ratio = torch.exp(logr)
    cw = torch.sqrt(area * ratio).clamp(max=1.0)
    ch = torch.sqrt(area / ratio).clamp(max=1.0)
    cx = (torch.rand(n, generator=gen) * (1 - cw) + cw / 2) * 2 - 1
    cy = (torch.rand(n, generator=gen) * (1 - ch) + ch / 2) * 2 - 1
    flip = torch.where(torch.rand(n, generator=gen) < 0.5, -1.0, 1.0)
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0] = cw * flip
    theta[:, 0, 2] = cx
    theta[:, 1, 1] = ch
    theta[:, 1, 2] = cy
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


def run(args, threads):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(1)
    fmt = torch.contiguous_format if args.nchw else torch.channels_last
    query, shape = build(args.model)
    key, _ = build(args.model)
    query = query.to(memory_format=fmt).train()
    key = key.to(memory_format=fmt).train()
    key.load_state_dict(query.state_dict())
    for p in key.parameters():
        p.requires_grad_(False)
    qp = [p for p in query.parameters()]
    kp = [p for p in key.parameters()]
    opt = torch.optim.SGD(qp, lr=0.03, momentum=0.9, weight_decay=1e-4)
    dim, kq, tau, m = 128, args.queue, 0.07, 0.999
    queue = F.normalize(torch.randn(kq, dim), dim=1)
    ptr = 0
    x = torch.rand(args.batch, *shape).contiguous(memory_format=fmt)
    labels = torch.zeros(args.batch, dtype=torch.long)

    def step():
        nonlocal ptr
        t = {}
        t0 = time.perf_counter()
        if args.augment:
            v1 = crop_flip(x, gen).contiguous(memory_format=fmt)
            v2 = crop_flip(x, gen).contiguous(memory_format=fmt)
        else:
            v1, v2 = x, x
        t1 = time.perf_counter()
        with torch.no_grad():
            k = F.normalize(key(v2), dim=1)
        t2 = time.perf_counter()
        q = F.normalize(query(v1), dim=1)
        t3 = time.perf_counter()
        lpos = (q * k).sum(1, keepdim=True)
        lneg = q @ queue.t()
        loss = F.cross_entropy(torch.cat([lpos, lneg], 1) / tau, labels)
        t4 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        t5 = time.perf_counter()
        opt.step()
        t6 = time.perf_counter()
        with torch.no_grad():
            torch._foreach_mul_(kp, m)
            torch._foreach_add_(kp, qp, alpha=1 - m)
        t7 = time.perf_counter()
        n = k.shape[0]
        queue[ptr:ptr + n] = k  # batch divides K in every configuration benchmarked
        ptr = (ptr + n) % kq
        t8 = time.perf_counter()
        value = loss.item()
        t9 = time.perf_counter()
        t = {"augment": t1 - t0, "keyForward": t2 - t1, "queryForward": t3 - t2, "lossDictionary": t4 - t3,
             "backward": t5 - t4, "optimizer": t6 - t5, "ema": t7 - t6, "enqueue": t8 - t7, "readback": t9 - t8}
        return t9 - t0, t, value

    for _ in range(args.warmup):
        step()
    walls, cpus, parts, losses = [], [], [], []
    load = []
    for _ in range(args.steps):
        c0 = time.process_time()
        wall, p, value = step()
        cpus.append(time.process_time() - c0)
        walls.append(wall)
        parts.append(p)
        losses.append(value)
        load.append(os.getloadavg()[0])
    med = statistics.median(walls)
    med_cpu = statistics.median(cpus)
    part_med = {k: statistics.median(p[k] for p in parts) * 1000 for k in parts[0]}
    return {
        "harness": "pytorch",
        "backend": "pytorch",
        "model": args.model,
        "threads": threads,
        "batch": args.batch,
        "queue": kq,
        "layout": "nchw" if args.nchw else "channels_last",
        "augment": bool(args.augment),
        "steps": args.steps,
        "warmup": args.warmup,
        "stepMs": med * 1000,
        "stepMsAll": [w * 1000 for w in walls],
        "cpuMs": med_cpu * 1000,
        "imagesPerSecond": args.batch / med,
        "imagesPerCpuSecond": args.batch / med_cpu if med_cpu > 0 else None,
        "partsMs": part_med,
        "peakRssMB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "loss": losses[-1],
        "load1": statistics.median(load),
        "version": torch.__version__,
        "python": sys.executable,
        "blas": BLAS,
    }


def blas_label():
    """The BLAS library this process has mapped (PyTorch's matmuls go through it): Debian's python3-torch
    links the generic libblas.so.3, which is the reference BLAS unless OpenBLAS is on the loader path."""
    torch.mm(torch.ones(8, 8), torch.ones(8, 8))
    try:
        with open("/proc/self/maps") as maps:
            libs = {line.split()[-1] for line in maps if "blas" in line.lower() and "/" in line}
    except OSError:
        return "unknown"
    names = sorted(os.path.basename(lib) for lib in libs)
    if any("openblas" in n for n in names):
        return "OpenBLAS (" + ("pthread" if any("openblas-pthread" in lib for lib in libs) else "openblas") + ")"
    if any("mkl" in n for n in names):
        return "MKL"
    return "reference BLAS (" + ", ".join(names) + ")" if names else "none mapped"


BLAS = "unknown"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="r18w16")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--queue", type=int, default=4096)
    ap.add_argument("--nchw", action="store_true")
    ap.add_argument("--no-augment", dest="augment", action="store_false")
    args = ap.parse_args()
    torch.set_num_interop_threads(1)
    global BLAS
    BLAS = blas_label()
    for t in [int(s) for s in args.threads.split(",") if s]:
        print(json.dumps(run(args, t)), flush=True)


if __name__ == "__main__":
    main()
