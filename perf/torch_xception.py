#!/usr/bin/python3
"""torch_xception.py - PyTorch's side of perf/xception.c: Keras' Xception (include_top=False,
no pooling) written out in PyTorch 1.13 (separable conv = grouped 3x3 conv + 1x1 conv, no
biases; BatchNorm eps 1e-3), on 299x299x3 batch 8: forward (no_grad) and a training step
(forward, mse loss against zeros, backward, RMSprop step with Keras' constants), medians
of N repetitions after warm-up, and the process's peak RSS. Channels-last memory format
when --channels-last is given (PyTorch's oneDNN path), channels-first otherwise.

    /usr/bin/python3 perf/torch_xception.py THREADS [REPS] [--channels-last]

Prints: xception FORWARD_IMG_S TRAIN_IMG_S PEAK_RSS_MB
"""
import resource
import sys

import torch
import torch.nn as nn
from torch_timing import median_s


def bn(c):
    return nn.BatchNorm2d(c, eps=1e-3, momentum=0.01)


class Sep(nn.Sequential):
    def __init__(self, cin, cout):
        super().__init__(nn.Conv2d(cin, cin, 3, padding=1, groups=cin, bias=False),
                         nn.Conv2d(cin, cout, 1, bias=False))


class Down(nn.Module):
    def __init__(self, cin, f1, f2, first_act):
        super().__init__()
        self.res = nn.Sequential(nn.Conv2d(cin, f2, 1, stride=2, bias=False), bn(f2))
        layers = [nn.ReLU()] if first_act else []
        layers += [Sep(cin, f1), bn(f1), nn.ReLU(), Sep(f1, f2), bn(f2)]
        self.body = nn.Sequential(*layers)
        self.pool = nn.MaxPool2d(3, 2, padding=1)

    def forward(self, x):
        return self.pool(self.body(x)) + self.res(x)


class Middle(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(*[m for _ in range(3) for m in (nn.ReLU(), Sep(728, 728), bn(728))])

    def forward(self, x):
        return self.body(x) + x


def xception():
    return nn.Sequential(
        nn.Conv2d(3, 32, 3, stride=2, bias=False), bn(32), nn.ReLU(),
        nn.Conv2d(32, 64, 3, bias=False), bn(64), nn.ReLU(),
        Down(64, 128, 128, False), Down(128, 256, 256, True), Down(256, 728, 728, True),
        *[Middle() for _ in range(8)],
        Down(728, 728, 1024, True),
        Sep(1024, 1536), bn(1536), nn.ReLU(), Sep(1536, 2048), bn(2048), nn.ReLU())


def main():
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    reps = int(sys.argv[2]) if len(sys.argv) > 2 and sys.argv[2].isdigit() else 5
    cl = "--channels-last" in sys.argv
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    net = xception()
    n_params = sum(p.numel() for p in net.parameters())
    assert n_params == 20806952, n_params  # Keras' trainable count
    x = torch.rand(8, 3, 299, 299)
    fmt = torch.channels_last if cl else torch.contiguous_format
    net = net.to(memory_format=fmt)
    x = x.contiguous(memory_format=fmt)
    opt = torch.optim.RMSprop(net.parameters(), lr=1e-3, alpha=0.9, eps=1e-7)

    def forward():
        net.eval()
        with torch.no_grad():
            net(x)

    def train():
        net.train()
        opt.zero_grad(set_to_none=True)
        y = net(x)
        (y * y).mean().backward()
        opt.step()

    fwd = median_s(forward, reps)
    tr = median_s(train, reps)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print("xception %.3f %.3f %.1f" % (8 / fwd, 8 / tr, rss), flush=True)


if __name__ == "__main__":
    main()
