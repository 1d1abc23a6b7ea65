#!/usr/bin/python3
"""torch_layers.py - PyTorch's side of perf/layers.c: the same four layers, the same sizes,
forward (no_grad) and forward+backward (input and weight gradients), median of N timed
repetitions after warm-up, on T threads. Prints one line per layer for layers.c --torch:

    NAME FORWARD_MS FORWARD_BACKWARD_MS

Usage: /usr/bin/python3 perf/torch_layers.py THREADS [REPS]   (Debian's python3-torch)
"""
import sys

import torch
import torch.nn as nn
from torch_timing import median_s

threads = int(sys.argv[1]) if len(sys.argv) > 1 else 1
reps = int(sys.argv[2]) if len(sys.argv) > 2 else 7
torch.set_num_threads(threads)
torch.manual_seed(0)


def run(name, module, x, last_h=False):
    def out(y):
        # LSTM: (output, (h, c)) -> h of the last step (of both directions when bidirectional)
        return y[1][0].transpose(0, 1).reshape(y[1][0].shape[1], -1) if last_h else y

    def fwd():
        with torch.no_grad():
            module(x)

    xg = x.clone().requires_grad_(True)

    def fwdbwd():
        module.zero_grad(set_to_none=True)
        xg.grad = None
        out(module(xg)).sum().backward()

    print("%s %.3f %.3f" % (name, median_s(fwd, reps) * 1e3, median_s(fwdbwd, reps) * 1e3), flush=True)


# Same names and sizes as layers.c (PyTorch's own layouts: channels-first).
run("conv2d_3x3_128_32x32_b32", nn.Sequential(nn.Conv2d(128, 128, 3, padding=1), nn.ReLU()),
    torch.randn(32, 128, 32, 32))
run("conv1d_k5_256_L100_b64", nn.Sequential(nn.Conv1d(256, 256, 5), nn.ReLU()), torch.randn(64, 256, 100))
for d in (64, 128):
    run("lstm_%dto32_T100_b128" % d, nn.LSTM(d, 32, batch_first=True), torch.randn(128, 100, d), True)
run("gru_64to32_T100_b128", nn.GRU(64, 32, batch_first=True), torch.randn(128, 100, 64), True)
# Keras' Bidirectional(LSTM(32)) is [h_T forward, h_0 backward]: h_n of both directions
bilstm = nn.LSTM(64, 32, batch_first=True, bidirectional=True)
run("bilstm_64to2x32_T100_b128", bilstm, torch.randn(128, 100, 64), True)
