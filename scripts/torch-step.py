#!/usr/bin/env python3
"""The SER model of src/nn/model.ts (SEED_MODEL) in PyTorch eager, timed on the bundle's GPU machine
(scripts/gpu-run.sh, step `torch`) as the peer for ser-webgpu's training step: inputs [N, 1, 82, 64]
(NCHW), stem conv3x3 1->32 + BN + ReLU + maxpool + dropout, two residual blocks (conv3x3 -> BN -> ReLU
-> conv3x3 -> BN, + conv1x1 -> BN shortcut, add, ReLU, maxpool, dropout; 64 and 128 filters), global
average pooling, dense 256 and 128 with ReLU and dropout, dense 8; cross-entropy with label smoothing
0.1, Adam 1e-3, BN eps 1e-3 and momentum 0.01 (Keras 0.99). FP32, eager (no torch.compile), cuDNN
autotuning on (torch.backends.cudnn.benchmark), as a PyTorch user would run it.

Prints one JSON object: the device, torch version, the median training-step time at --batch over
--steps steps (after --warmup), and the wall time of --epochs epochs of --steps-per-epoch steps on
resident random tensors (the training loop alone: no decoding or features; ser's 50-epoch figure
includes them). Needs only torch.
"""
import argparse
import json
import statistics
import time

import torch
from torch import nn


def conv_bn(cin, cout, k):
    return nn.Sequential(nn.Conv2d(cin, cout, k, padding=k // 2), nn.BatchNorm2d(cout, eps=1e-3, momentum=0.01))


class Block(nn.Module):
    def __init__(self, cin, cout, p):
        super().__init__()
        self.a = conv_bn(cin, cout, 3)
        self.b = conv_bn(cout, cout, 3)
        self.s = conv_bn(cin, cout, 1)
        self.tail = nn.Sequential(nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(p))

    def forward(self, x):
        return self.tail(self.b(torch.relu(self.a(x))) + self.s(x))


def seed_model(classes=8):
    return nn.Sequential(
        conv_bn(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(0.2),
        Block(32, 64, 0.3), Block(64, 128, 0.3),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        nn.Linear(128, 256), nn.ReLU(), nn.Dropout(0.4),
        nn.Linear(256, 128), nn.ReLU(), nn.Dropout(0.3),
        nn.Linear(128, classes),
    )


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--batch', type=int, default=32)
    ap.add_argument('--steps', type=int, default=50)
    ap.add_argument('--warmup', type=int, default=10)
    ap.add_argument('--epochs', type=int, default=50)
    ap.add_argument('--steps-per-epoch', type=int, default=30, help='RAVDESS 1200 clips, 80%% training, batch 32: 30')
    ap.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    a = ap.parse_args()
    dev = torch.device(a.device)
    torch.backends.cudnn.benchmark = True
    torch.manual_seed(0)
    model = seed_model().to(dev).train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=0.1)
    x = torch.randn(a.batch, 1, 82, 64, device=dev)
    y = torch.randint(0, 8, (a.batch,), device=dev)
    sync = torch.cuda.synchronize if dev.type == 'cuda' else (lambda: None)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss

    for _ in range(a.warmup):
        step()
    sync()
    times = []
    for _ in range(a.steps):
        t0 = time.perf_counter()
        step()
        sync()
        times.append((time.perf_counter() - t0) * 1e3)
    t0 = time.perf_counter()
    for _ in range(a.epochs * a.steps_per_epoch):
        step()
    sync()
    loop_s = time.perf_counter() - t0
    print(json.dumps({
        'peer': 'pytorch-eager',
        'torch': torch.__version__,
        'device': torch.cuda.get_device_name(dev) if dev.type == 'cuda' else 'cpu',
        'cudnn': torch.backends.cudnn.version() if dev.type == 'cuda' else None,
        'batch': a.batch,
        'train_step_ms_median': statistics.median(times),
        'train_step_ms_min': min(times),
        'steps': a.steps,
        'epochs': a.epochs,
        'steps_per_epoch': a.steps_per_epoch,
        'epoch_loop_s': loop_s,
        'includes': 'training steps on resident random tensors only (no decoding, features or validation)',
    }, indent=2))


if __name__ == '__main__':
    main()
