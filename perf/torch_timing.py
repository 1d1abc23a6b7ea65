"""torch_timing.py - the timing the PyTorch sides of the benchmarks share."""
import statistics
import time


def median_s(fn, reps, warmup=2):
    """Median wall time of fn() in seconds over `reps` calls, after `warmup` untimed ones."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)
