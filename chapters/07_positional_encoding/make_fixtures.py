#!/usr/bin/env python3
"""Writes the fixtures of chapter 07 (positional encoding).

Run with numpy and torch (torch is used for the formula as PyTorch code writes it):

    /usr/bin/python3 chapters/07_positional_encoding/make_fixtures.py

For each case it writes chapters/07_positional_encoding/fixtures/<case>/ holding pe.npy (L, D), the
sinusoidal encoding of Vaswani et al. (2017), section 3.5, in float64, computed the way the PyTorch
tutorials and the Annotated Transformer do:

    div_term = exp(arange(0, D, 2) * -(log(10000) / D))
    pe[:, 0::2] = sin(position * div_term);  pe[:, 1::2] = cos(position * div_term)

and args.txt with the program's flags (--seq-len L --d-model D).
"""
import math
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
import fixturelib as fx  # noqa: E402

CASES, _ = fx.fixture_dirs(__file__)


def make_case(L, D):
    position = torch.arange(L, dtype=torch.float64).unsqueeze(1)
    div_term = torch.exp(torch.arange(0, D, 2, dtype=torch.float64) * -(math.log(10000.0) / D))
    pe = torch.zeros(L, D, dtype=torch.float64)
    pe[:, 0::2] = torch.sin(position * div_term)
    pe[:, 1::2] = torch.cos(position * div_term)
    d = os.path.join(CASES, f"L{L}_D{D}")
    fx.save(d, "pe", pe)
    fx.write_args(d, f"--seq-len {L} --d-model {D}")


def main():
    fx.begin(7, CASES)  # no random numbers: the seed changes nothing
    make_case(50, 16)
    make_case(7, 6)
    make_case(128, 64)
    print("wrote", CASES)


if __name__ == "__main__":
    main()
