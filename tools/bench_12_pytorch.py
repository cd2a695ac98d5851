#!/usr/bin/env python3
"""The PyTorch side of bench/bench_12_attention.cpp: attention softmax(Q Kᵀ / √d) V in PyTorch 1.13 on
the CPU (Debian's python3-torch), on its own random inputs of the same sizes as the C++ side.

    /usr/bin/python3 tools/bench_12_pytorch.py D

It prints "ready bench_12", then answers each line from stdin, until "quit":
    n N                  make Q, K, V (N, D) in float64 and their float32 copies; answers "ok"
    time NAME THREADS    one call of NAME with THREADS threads; answers its seconds
                         (time.perf_counter), after checking the output is finite
NAME is one of
    naive64   torch.softmax(Q @ K.T / √d, -1) @ V in float64: the formula as written
    sdpa64    torch.nn.functional._scaled_dot_product_attention(Q, K, V) in float64, the fused
              attention function of PyTorch 1.13 (on the CPU its math path: the whole (N, N) matrix)
    sdpa32    the same in float32
The C++ bench starts it with OPENBLAS_NUM_THREADS=1 and takes turns with it, one call each.

Threads: torch.set_num_threads sets PyTorch's own (OpenMP) threads, which do the softmax, but not
OpenBLAS's, which do the products (Debian's PyTorch calls libopenblas: measured, a 2048 x 2048 float64
product took 0.50 s with 1 and with 2 torch threads under OPENBLAS_NUM_THREADS=1, and 0.24 s once
OpenBLAS was given 2 threads too). So THREADS is given to both, OpenBLAS's through its C function
openblas_set_num_threads, in the library PyTorch has already loaded.
"""
import ctypes
import math
import sys
import time

import torch
import torch.nn.functional as F


def main():
    d = int(sys.argv[1])
    torch.manual_seed(0)
    openblas = ctypes.CDLL("libopenblas.so.0")  # the one PyTorch loaded: dlopen returns the same library

    def set_threads(threads):
        torch.set_num_threads(threads)
        openblas.openblas_set_num_threads(threads)

    set_threads(1)
    inputs = {}

    def naive(q, k, v):
        return torch.softmax(q @ k.T / math.sqrt(q.shape[-1]), dim=-1) @ v

    def sdpa(q, k, v):
        # 1.13 returns (output, weights); it takes (N, ..., L, E): a batch of one
        return F._scaled_dot_product_attention(q[None], k[None], v[None])[0][0]

    contenders = {"naive64": (naive, torch.float64), "sdpa64": (sdpa, torch.float64),
                  "sdpa32": (sdpa, torch.float32)}
    print("ready bench_12", flush=True)
    for line in sys.stdin:
        words = line.split()
        if not words or words[0] == "quit":
            break
        if words[0] == "n":
            n = int(words[1])
            q, k, v = (torch.randn(n, d, dtype=torch.float64) for _ in range(3))
            inputs = {torch.float64: (q, k, v), torch.float32: (q.float(), k.float(), v.float())}
            print("ok", flush=True)
        elif words[0] == "time":
            function, dtype = contenders[words[1]]
            set_threads(int(words[2]))
            q, k, v = inputs[dtype]
            with torch.no_grad():
                start = time.perf_counter()
                out = function(q, k, v)
                seconds = time.perf_counter() - start
            if not torch.isfinite(out).all():
                print("nan", flush=True)
                break
            del out
            print(f"{seconds:.9f}", flush=True)


if __name__ == "__main__":
    main()
