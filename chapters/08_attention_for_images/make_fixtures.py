#!/usr/bin/env python3
"""Writes the PyTorch fixtures of chapter 08 (attention for images).

Run with Debian's PyTorch (apt-get install python3-torch):

    /usr/bin/python3 chapters/08_attention_for_images/make_fixtures.py

ViT's patch embedding is a torch.nn.Conv2d(C, D, kernel_size=P, stride=P). For each case it writes
chapters/08_attention_for_images/fixtures/<case>/ holding image.npy (C, H, W), the conv's weight.npy
(D, C, P, P) and bias.npy (D), args.txt (--patch P) and tokens.npy (N, D): the conv's output
flattened to one row per patch, patches in row-major order (PyTorch: conv(image).flatten(1).T).
"""
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
import fixturelib as fx  # noqa: E402

CASES, _ = fx.fixture_dirs(__file__)


def make_case(name, C, H, W, P, D):
    conv = torch.nn.Conv2d(C, D, kernel_size=P, stride=P)
    image = torch.randn(C, H, W)
    with torch.no_grad():
        tokens = conv(image.unsqueeze(0))[0].flatten(1).T  # (N, D)
    d = os.path.join(CASES, name)
    fx.save_all(d, [("image", image), ("weight", conv.weight), ("bias", conv.bias), ("tokens", tokens)])
    fx.write_args(d, f"--patch {P}")


def main():
    fx.begin(8, CASES)
    make_case("rgb_8x8_patch_4", C=3, H=8, W=8, P=4, D=5)
    make_case("rgb_6x9_patch_3", C=3, H=6, W=9, P=3, D=4)
    make_case("two_channels_4x4_patch_2", C=2, H=4, W=4, P=2, D=3)
    print("wrote", CASES)


if __name__ == "__main__":
    main()
