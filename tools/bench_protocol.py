"""What the PyTorch sides of bench_14 and bench_16 share: the line protocol of bench/bench_util.hpp's
ChildProcess. serve_rounds(name, step) prints "ready <name>", then answers each line "round K" with
the seconds K calls of step() took (time.perf_counter), until "quit" or the end of stdin."""
import sys
import time


def serve_rounds(name, step):
    print(f"ready {name}", flush=True)
    for line in sys.stdin:
        words = line.split()
        if not words or words[0] == "quit":
            break
        k = int(words[1])
        start = time.perf_counter()
        for _ in range(k):
            step()
        print(f"{time.perf_counter() - start:.9f}", flush=True)
