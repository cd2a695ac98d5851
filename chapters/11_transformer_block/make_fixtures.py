#!/usr/bin/env python3
"""Writes the PyTorch fixtures of chapter 11 (the transformer block).

Run with Debian's PyTorch (apt-get install python3-torch):

    /usr/bin/python3 chapters/11_transformer_block/make_fixtures.py

For each case it writes chapters/11_transformer_block/fixtures/<case>/ holding src.npy (L, E), every
array of torch.nn.TransformerEncoderLayer's state_dict as <key>.npy (self_attn.in_proj_weight.npy,
linear1.weight.npy, norm1.bias.npy, ...), args.txt (the flags: --heads H, and --norm-first for
pre-norm) and PyTorch's output.npy (L, E), all float64. It also writes malformed cases under
chapters/11_transformer_block/fixtures/bad/ for the error tests. The output is the same on every run (fixed seed).
"""
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
import fixturelib as fx  # noqa: E402

CASES, BAD = fx.fixture_dirs(__file__)


def make_case(name, L, E, H, F, norm_first):
    # Random weights well away from PyTorch's init (biases are zero and LayerNorm is the identity
    # there, which would hide mistakes in those terms).
    layer = torch.nn.TransformerEncoderLayer(E, H, F, dropout=0.0, norm_first=norm_first).eval()
    with torch.no_grad():
        for p in layer.parameters():
            p.add_(0.2 * torch.randn_like(p))
    src = torch.randn(L, E)
    with torch.no_grad():
        output = layer(src)
    d = os.path.join(CASES, name)
    fx.save(d, "src", src)
    fx.save_all(d, layer.state_dict())
    fx.save(d, "output", output)
    fx.write_args(d, f"--heads {H}" + (" --norm-first" if norm_first else ""))


def main():
    fx.begin(11, CASES)
    make_case("post_norm", L=5, E=8, H=2, F=16, norm_first=False)
    make_case("pre_norm", L=5, E=8, H=2, F=16, norm_first=True)
    make_case("post_norm_4_heads", L=7, E=12, H=4, F=20, norm_first=False)
    make_case("pre_norm_1_head", L=3, E=6, H=1, F=10, norm_first=True)

    # Malformed cases: each is the valid post_norm case with exactly one thing wrong.
    def bad(name, change):
        fx.bad_case(BAD, name, os.path.join(CASES, "post_norm"), change)

    bad("linear1_weight_wrong_shape", fx.put("linear1.weight", np.zeros((16, 9))))
    bad("norm1_weight_wrong_length", fx.put("norm1.weight", np.ones(7)))
    bad("src_wrong_width", fx.put("src", np.zeros((5, 9))))
    bad("in_proj_weight_int64", fx.put("self_attn.in_proj_weight", np.zeros((24, 8), dtype=np.int64)))
    bad("missing_linear2_bias", fx.remove("linear2.bias"))
    print("wrote", CASES, "and", BAD)


if __name__ == "__main__":
    main()
