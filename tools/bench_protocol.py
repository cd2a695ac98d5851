"""What the PyTorch sides of bench_14, bench_16 and bench_18 share: the line protocol of
bench/bench_util.hpp's ChildProcess. serve_rounds(name, step) prints "ready <name>", then answers each
line "round K" with the seconds K calls of step() took (time.perf_counter), until "quit" or the end of
stdin; `answers` maps other first words to functions whose result is the answer (bench_18's "state")."""
import sys
import time


def serve_rounds(name, step, answers=None):
    print(f"ready {name}", flush=True)
    for line in sys.stdin:
        words = line.split()
        if not words or words[0] == "quit":
            break
        if answers and words[0] in answers:
            print(answers[words[0]](), flush=True)
            continue
        k = int(words[1])
        start = time.perf_counter()
        for _ in range(k):
            step()
        print(f"{time.perf_counter() - start:.9f}", flush=True)
