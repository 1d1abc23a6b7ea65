#!/usr/bin/python3
"""torch_models.py - PyTorch's side of perf/models.c: the notebook's models, built the same
way (same layers, sizes, batch sizes; RMSprop with Keras' constants lr 1e-3, rho 0.9,
eps 1e-7; cross-entropy on logits as Keras does after a softmax/sigmoid), training and
predict samples/s (median of N repetitions after warm-up) and the peak RSS of a process
that runs one model. Prints one line per model for models.c --torch:

    NAME TRAIN_SAMPLES_S PREDICT_SAMPLES_S PEAK_RSS_MB

Usage: /usr/bin/python3 perf/torch_models.py THREADS [REPS] [MODEL...]
Each model runs in its own process (this script re-run with --one), so each RSS is that
model's.
"""
import resource
import subprocess
import sys

from torch_timing import median_s

BATCHES = 4  # one "call" = one epoch over 4 batches, as models.c


def one(name, threads, reps):
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    torch.set_num_threads(threads)
    torch.manual_seed(0)

    class LastH(nn.Module):  # Keras LSTM(return_sequences=False): the last h
        def __init__(self, d, u):
            super().__init__()
            self.lstm = nn.LSTM(d, u, batch_first=True)

        def forward(self, x):
            return self.lstm(x)[1][0][0]

    if name == "mlp":
        batch = 32
        net = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 10))
        xs = [torch.randn(batch * BATCHES, 64)]
        y = torch.randint(0, 10, (batch * BATCHES,))
        forward = lambda x: net(x[0])
        loss_fn = lambda out, t: F.cross_entropy(out, t)
        targets = y
    elif name == "qa":
        batch = 128

        class QA(nn.Module):
            def __init__(self):
                super().__init__()
                self.et, self.eq = nn.Embedding(10000, 64), nn.Embedding(10000, 32)
                self.lt, self.lq = LastH(64, 32), LastH(32, 16)
                self.out = nn.Linear(48, 500)

            def forward(self, x):
                return self.out(torch.cat([self.lt(self.et(x[0])), self.lq(self.eq(x[1]))], -1))

        net = QA()
        xs = [torch.randint(1, 10000, (batch * BATCHES, 100)), torch.randint(1, 10000, (batch * BATCHES, 100))]
        targets = torch.randint(0, 500, (batch * BATCHES,))
        forward = net
        loss_fn = lambda out, t: F.cross_entropy(out, t)
    elif name == "siamese":
        batch = 32

        class Siamese(nn.Module):
            def __init__(self):
                super().__init__()
                self.lstm, self.out = LastH(128, 32), nn.Linear(64, 1)

            def forward(self, x):
                return self.out(torch.cat([self.lstm(x[0]), self.lstm(x[1])], -1))

        net = Siamese()
        xs = [torch.randn(batch * BATCHES, 20, 128), torch.randn(batch * BATCHES, 20, 128)]
        targets = torch.randint(0, 2, (batch * BATCHES, 1)).float()
        forward = net
        loss_fn = lambda out, t: F.binary_cross_entropy_with_logits(out, t)
    elif name == "multi_output":
        batch = 64

        class Posts(nn.Module):  # channels-first convolutions, PyTorch's layout
            def __init__(self):
                super().__init__()
                self.emb = nn.Embedding(256, 256)
                self.c = nn.ModuleList([nn.Conv1d(256, 128, 5), nn.Conv1d(128, 256, 5), nn.Conv1d(256, 256, 5),
                                        nn.Conv1d(256, 256, 5), nn.Conv1d(256, 256, 5)])
                self.dense = nn.Linear(256, 128)
                self.age, self.income, self.gender = nn.Linear(128, 1), nn.Linear(128, 10), nn.Linear(128, 1)

            def forward(self, x):
                h = self.emb(x[0]).transpose(1, 2)
                h = F.max_pool1d(F.relu(self.c[0](h)), 5)
                h = F.max_pool1d(F.relu(self.c[2](F.relu(self.c[1](h)))), 5)
                h = F.relu(self.c[4](F.relu(self.c[3](h)))).amax(-1)
                h = F.relu(self.dense(h))
                return self.age(h), self.income(h), self.gender(h)

        net = Posts()
        n = batch * BATCHES
        xs = [torch.randint(0, 256, (n, 300))]
        targets = (torch.randn(n, 1), torch.randint(0, 10, (n,)), torch.randint(0, 2, (n, 1)).float())
        forward = net
        loss_fn = lambda out, t: (0.25 * F.mse_loss(out[0], t[0]) + F.cross_entropy(out[1], t[1]) +
                                  10 * F.binary_cross_entropy_with_logits(out[2], t[2]))
    elif name == "residual":
        batch = 32

        class Residual(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 128, 3, padding=1)
                self.res = nn.Conv2d(3, 128, 1, stride=2)
                self.out = nn.Linear(128, 1)

            def forward(self, x):
                y = F.max_pool2d(F.relu(self.conv(x[0])), 2, 2) + self.res(x[0])
                return self.out(y.mean((2, 3)))

        net = Residual()
        xs = [torch.rand(batch * BATCHES, 3, 16, 16)]
        targets = torch.randint(0, 2, (batch * BATCHES, 1)).float()
        forward = net
        loss_fn = lambda out, t: F.binary_cross_entropy_with_logits(out, t)
    else:
        raise SystemExit("unknown model " + name)

    opt = torch.optim.RMSprop(net.parameters(), lr=1e-3, alpha=0.9, eps=1e-7)
    n = xs[0].shape[0]

    def pick(t, lo, hi):
        return tuple(v[lo:hi] for v in t) if isinstance(t, tuple) else t[lo:hi]

    def train():
        for lo in range(0, n, batch):
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(forward([x[lo:lo + batch] for x in xs]), pick(targets, lo, lo + batch))
            loss.backward()
            opt.step()

    def predict():
        with torch.no_grad():
            for lo in range(0, n, batch):
                forward([x[lo:lo + batch] for x in xs])

    tr = n / median_s(train, reps)
    pr = n / median_s(predict, reps)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print("%s %.1f %.1f %.1f" % (name, tr, pr, rss_mb), flush=True)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--one":
        one(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
        sys.exit(0)
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    reps = int(sys.argv[2]) if len(sys.argv) > 2 else 7
    models = sys.argv[3:] or ["mlp", "qa", "siamese", "multi_output", "residual"]
    for m in models:
        subprocess.run([sys.executable, sys.argv[0], "--one", m, str(threads), str(reps)], check=True)
