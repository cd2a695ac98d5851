#!/usr/bin/env python3
"""Writes the PyTorch fixtures of chapter 09 (attention vs CNN).

Run with Debian's PyTorch (apt-get install python3-torch):

    /usr/bin/python3 chapters/09_attention_vs_cnn/make_fixtures.py

For each case it writes chapters/09_attention_vs_cnn/fixtures/<case>/ holding input.npy ((C_in, L) for
1-D, (C_in, H, W) for 2-D), weight.npy ((C_out, C_in, K) or (C_out, C_in, KH, KW)), bias.npy (C_out)
unless the case has none, args.txt (--stride S --padding P --dilation D) and PyTorch's output.npy,
torch.nn.functional.conv1d / conv2d on the unbatched input, float64. Malformed inputs go to
chapters/09_attention_vs_cnn/fixtures/bad/.
"""
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
import fixturelib as fx  # noqa: E402

CASES, BAD = fx.fixture_dirs(__file__)


def make_case(name, input_shape, weight_shape, stride=1, padding=0, dilation=1, bias=True):
    x = torch.randn(*input_shape)
    w = torch.randn(*weight_shape)
    b = torch.randn(weight_shape[0]) if bias else None
    conv = F.conv1d if len(input_shape) == 2 else F.conv2d
    out = conv(x.unsqueeze(0), w, b, stride=stride, padding=padding, dilation=dilation)[0]
    d = os.path.join(CASES, name)
    fx.save_all(d, dict(input=x, weight=w, output=out, **({"bias": b} if bias else {})))
    fx.write_args(d, f"--stride {stride} --padding {padding} --dilation {dilation}")


def bad(name, **arrays):
    fx.save_all(os.path.join(BAD, name), arrays)


def main():
    fx.begin(9, CASES)
    make_case("conv1d_plain", (2, 10), (3, 2, 3))
    make_case("conv1d_stride_padding", (3, 11), (2, 3, 4), stride=2, padding=2)
    make_case("conv1d_dilation_no_bias", (1, 12), (2, 1, 3), dilation=3, padding=1, bias=False)
    make_case("conv2d_plain", (2, 6, 7), (3, 2, 3, 3))
    make_case("conv2d_stride_padding", (3, 8, 9), (4, 3, 3, 2), stride=2, padding=1)
    make_case("conv2d_dilation", (2, 9, 9), (2, 2, 3, 3), dilation=2, padding=2)
    make_case("conv2d_1x1_no_bias", (4, 5, 5), (2, 4, 1, 1), bias=False)

    bad("kernel_too_large", input=torch.randn(1, 3), weight=torch.randn(1, 1, 5))
    bad("channels_differ", input=torch.randn(2, 6, 6), weight=torch.randn(1, 3, 3, 3))
    bad("weight_rank_mismatch", input=torch.randn(2, 6, 6), weight=torch.randn(1, 2, 3))
    bad("bias_wrong_length", input=torch.randn(2, 8), weight=torch.randn(3, 2, 3), bias=torch.randn(2))
    bad("missing_input", weight=torch.randn(1, 1, 3))
    bad("input_int_dtype", input=np.arange(16, dtype=np.int64).reshape(2, 8), weight=np.ones((1, 2, 3)))
    bad("input_rank_1", input=torch.randn(8), weight=torch.randn(1, 1, 3))
    bad("input_truncated", input=torch.randn(2, 8), weight=torch.randn(3, 2, 3))
    fx.truncate("input", 16)(os.path.join(BAD, "input_truncated"))
    print("wrote", CASES, "and", BAD)


if __name__ == "__main__":
    main()
