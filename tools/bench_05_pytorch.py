#!/usr/bin/python3
"""PyTorch's side of tools/bench_05.sh: torch.nn.MultiheadAttention's forward, float64, one thread.

    /usr/bin/python3 tools/bench_05_pytorch.py [--length N] [--d-model E] [--heads H] [--repeats R]
                                              [--load DIR]

The same forward as bench_05_mha times in C++: L = S = N tokens of width E, H heads, in_proj and
out_proj with biases, the per-head weights returned (need_weights=True, average_attn_weights=False:
the course's multi_head_attention returns them too), no mask, in inference (torch.no_grad(), eval()).
Inputs are N(0, 1) and the weights PyTorch's own initialisation, unless --load DIR gives the
files bench_05_mha --save DIR wrote: then the output is first compared with the C++ output to 1e-9,
so both sides are known to compute the same numbers. One forward untimed, then R timed ones, each
printed as "pytorch WALL CPU": seconds on the clock and seconds of processor time (user + system).
"""
import argparse
import os
import sys
import time

import numpy as np
import torch


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--length", type=int, default=1024)
    parser.add_argument("--d-model", type=int, default=512)
    parser.add_argument("--heads", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--load", metavar="DIR")
    args = parser.parse_args()

    torch.set_num_threads(1)
    torch.manual_seed(0)
    N, E, H = args.length, args.d_model, args.heads
    mha = torch.nn.MultiheadAttention(E, H, dtype=torch.float64).eval()
    if args.load:
        def load(name):
            return torch.from_numpy(np.load(os.path.join(args.load, name + ".npy")))

        query, key, value = load("query"), load("key"), load("value")
        N, E = query.shape
        with torch.no_grad():
            mha.in_proj_weight.copy_(load("in_proj_weight"))
            mha.in_proj_bias.copy_(load("in_proj_bias"))
            mha.out_proj.weight.copy_(load("out_proj.weight"))
            mha.out_proj.bias.copy_(load("out_proj.bias"))
    else:
        query, key, value = (torch.randn(N, E, dtype=torch.float64) for _ in range(3))

    def forward():
        with torch.no_grad():
            return mha(query, key, value, need_weights=True, average_attn_weights=False)

    output, weights = forward()  # untimed
    assert weights.shape == (H, N, N), weights.shape
    print(f"# pytorch {torch.__version__}: L = S = {N}, E = {E}, {H} heads, float64, "
          f"{torch.get_num_threads()} thread")
    if args.load:
        expected = load("attn_output")
        difference = (output - expected).abs().max().item()
        print(f"# max |pytorch - course| over the output: {difference:.1e}")
        if not difference < 1e-9:
            print("error: PyTorch's output differs from the course's", file=sys.stderr)
            return 1
    for _ in range(args.repeats):
        start, cpu_start = time.perf_counter(), time.process_time()
        forward()
        cpu = time.process_time() - cpu_start
        print(f"pytorch {time.perf_counter() - start:.4f} {cpu:.4f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
