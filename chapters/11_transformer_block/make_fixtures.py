#!/usr/bin/env python3
"""Writes the PyTorch fixtures of chapter 11 (the transformer block).

Run from the repository root with Debian's PyTorch (apt-get install python3-torch):

    /usr/bin/python3 chapters/11_transformer_block/make_fixtures.py

For each case it writes chapters/11_transformer_block/fixtures/<case>/ holding src.npy (L, E), every
array of torch.nn.TransformerEncoderLayer's state_dict as <key>.npy (self_attn.in_proj_weight.npy,
linear1.weight.npy, norm1.bias.npy, ...), args.txt (the flags: --heads H, and --norm-first for
pre-norm) and PyTorch's output.npy (L, E), all float64. It also writes malformed cases under
chapters/11_transformer_block/fixtures/bad/ for the error tests. The output is the same on every run (fixed seed).
"""
import os
import shutil

import numpy as np
import torch

ROOT = os.path.join("tests", "fixtures")


def save_layer(case_dir, layer, src, output, heads, norm_first):
    os.makedirs(case_dir, exist_ok=True)
    np.save(os.path.join(case_dir, "src.npy"), src.numpy())
    for key, value in layer.state_dict().items():
        np.save(os.path.join(case_dir, key + ".npy"), value.numpy())
    np.save(os.path.join(case_dir, "output.npy"), output.numpy())
    with open(os.path.join(case_dir, "args.txt"), "w") as f:
        f.write(f"--heads {heads}" + (" --norm-first" if norm_first else "") + "\n")


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
    save_layer(os.path.join(ROOT, "11_transformer_block", name), layer, src, output, H, norm_first)



def chapter_11():
    torch.manual_seed(11)
    torch.set_default_dtype(torch.float64)
    shutil.rmtree(os.path.join(ROOT, "11_transformer_block"), ignore_errors=True)
    shutil.rmtree(os.path.join(ROOT, "bad_11"), ignore_errors=True)
    make_case("post_norm", L=5, E=8, H=2, F=16, norm_first=False)
    make_case("pre_norm", L=5, E=8, H=2, F=16, norm_first=True)
    make_case("post_norm_4_heads", L=7, E=12, H=4, F=20, norm_first=False)
    make_case("pre_norm_1_head", L=3, E=6, H=1, F=10, norm_first=True)

    # Malformed cases: each is the valid post_norm case with exactly one thing wrong.
    good = os.path.join(ROOT, "11_transformer_block", "post_norm")
    def bad(name, change):
        d = os.path.join(ROOT, "bad_11", name)
        shutil.copytree(good, d)
        change(d)
    bad("linear1_weight_wrong_shape",
        lambda d: np.save(os.path.join(d, "linear1.weight.npy"), np.zeros((16, 9))))
    bad("norm1_weight_wrong_length",
        lambda d: np.save(os.path.join(d, "norm1.weight.npy"), np.ones(7)))
    bad("src_wrong_width",
        lambda d: np.save(os.path.join(d, "src.npy"), np.zeros((5, 9))))
    bad("in_proj_weight_int64",
        lambda d: np.save(os.path.join(d, "self_attn.in_proj_weight.npy"), np.zeros((24, 8), dtype=np.int64)))
    bad("missing_linear2_bias",
        lambda d: os.remove(os.path.join(d, "linear2.bias.npy")))


if __name__ == "__main__":
    chapter_11()
    print("wrote", os.path.join(ROOT, "11_transformer_block"), "and", os.path.join(ROOT, "bad_11"))
