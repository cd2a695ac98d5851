#!/usr/bin/env python3
"""Writes the PyTorch fixtures of chapter 17 (fast generation).

Run with Debian's PyTorch (apt-get install python3-torch):

    /usr/bin/python3 chapters/17_fast_generation/make_fixtures.py

Everything is float64, from fixed seeds (the same files on every run), under
chapters/17_fast_generation/fixtures/:

  <case>/     chapter 16's TinyGPT (the class and model_case of chapters/16_tiny_gpt/make_fixtures.py, loaded): its
              state_dict as <key>.npy, idx.npy (T,) int64 and logits.npy (T, V), PyTorch's full forward;
              args.txt holds the program's flags (--heads H, and --prefill P but in the default case).
              The program must give the same logits from its KV cache: a prefill of P tokens, then one
              token at a time. One case also has targets.npy (and chapter 16's loss and gradients),
              which chapter 17 ignores.
  gqa/<case>/ grouped-query attention, which PyTorch 1.13 has no module for: q.npy (T, H d), k.npy and
              v.npy (S, G d), sizes.npy (1, 4) = H, G, the first query's position, the window W (0: none),
              and output.npy (T, H d): each K/V head repeated H/G times (repeat_interleave), then plain
              multi-head attention, head by head, with query i at position first + i seeing the keys
              at positions j <= first + i (and j > first + i − W with a window).

The malformed --load files of chapter 16 (chapters/16_tiny_gpt/fixtures/bad/) serve chapter 17's error tests too.
"""
import os
import shutil
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
import fixturelib as fx  # noqa: E402

OUT, _ = fx.fixture_dirs(__file__)
f16 = fx.chapter_script("16")  # TinyGPT and model_case


def tiny_gpt_case(name, prefill, **sizes):
    f16.model_case(os.path.join(OUT, name), flags="" if prefill is None else f" --prefill {prefill}", **sizes)


def gqa_case(name, H, G, d, T, S, first, window):
    out = os.path.join(OUT, "gqa", name)
    shutil.rmtree(out, ignore_errors=True)
    q = torch.randn(T, H * d, dtype=torch.float64)
    k = torch.randn(S, G * d, dtype=torch.float64)
    v = torch.randn(S, G * d, dtype=torch.float64)
    # (S, G, d) -> (S, H, d): K/V head g serves query heads g·(H/G) ... (g+1)·(H/G) − 1
    kh = k.view(S, G, d).repeat_interleave(H // G, dim=1)
    vh = v.view(S, G, d).repeat_interleave(H // G, dim=1)
    p = torch.arange(T).unsqueeze(1) + first
    s = torch.arange(S).unsqueeze(0)
    masked = (s > p) | ((s <= p - window) if window > 0 else torch.zeros(T, S, dtype=torch.bool))
    heads = []
    for h in range(H):
        scores = q[:, h * d:(h + 1) * d] @ kh[:, h, :].T / d ** 0.5
        weights = torch.softmax(scores.masked_fill(masked, float("-inf")), dim=-1)
        heads.append(weights @ vh[:, h, :])
    output = torch.cat(heads, dim=1)
    fx.save_all(out, [("q", q), ("k", k), ("v", v), ("output", output)])
    fx.save(out, "sizes", np.array([[H, G, first, window]], dtype=np.float64))


def main():
    torch.manual_seed(17)  # not fx.begin: as in chapter 16, the models are made in float32, then .double()
    tiny_gpt_case("prefill_zero", 0, V=11, n_ctx=8, E=8, H=2, Fd=16, layers=1, T=6, targets=False)
    tiny_gpt_case("prefill_one", 1, V=13, n_ctx=7, E=12, H=3, Fd=20, layers=2, T=7, targets=False)
    tiny_gpt_case("prefill_default", None, V=9, n_ctx=10, E=8, H=4, Fd=12, layers=2, T=9, targets=True)
    tiny_gpt_case("prefill_all", 6, V=10, n_ctx=6, E=8, H=2, Fd=8, layers=2, T=6, targets=False)
    gqa_case("mqa", H=4, G=1, d=3, T=3, S=5, first=2, window=0)
    gqa_case("gqa", H=6, G=2, d=2, T=4, S=6, first=2, window=0)
    gqa_case("mha", H=3, G=3, d=2, T=2, S=4, first=2, window=0)
    gqa_case("gqa_window", H=4, G=2, d=2, T=5, S=5, first=0, window=2)
    print("wrote", OUT)


if __name__ == "__main__":
    main()
