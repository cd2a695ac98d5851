#!/usr/bin/env python3
"""Writes the PyTorch fixtures of chapter 09 (attention vs CNN).

Run from the repository root with Debian's PyTorch (apt-get install python3-torch):

    /usr/bin/python3 chapters/09_attention_vs_cnn/make_fixtures.py

For each case it writes chapters/09_attention_vs_cnn/fixtures/<case>/ holding input.npy ((C_in, L) for
1-D, (C_in, H, W) for 2-D), weight.npy ((C_out, C_in, K) or (C_out, C_in, KH, KW)), bias.npy (C_out)
unless the case has none, args.txt (--stride S --padding P --dilation D) and PyTorch's output.npy,
torch.nn.functional.conv1d / conv2d on the unbatched input, float64. Malformed inputs go to
chapters/09_attention_vs_cnn/fixtures/bad/.
"""
import os
import shutil

import numpy as np
import torch
import torch.nn.functional as F

ROOT = os.path.join("tests", "fixtures")
CASES = os.path.join(ROOT, "09_attention_vs_cnn")
BAD = os.path.join(ROOT, "bad_09")


def save(d, **arrays):
    os.makedirs(d, exist_ok=True)
    for name, a in arrays.items():
        np.save(os.path.join(d, name + ".npy"), np.ascontiguousarray(a.numpy()))


def make_case(name, input_shape, weight_shape, stride=1, padding=0, dilation=1, bias=True):
    x = torch.randn(*input_shape)
    w = torch.randn(*weight_shape)
    b = torch.randn(weight_shape[0]) if bias else None
    conv = F.conv1d if len(input_shape) == 2 else F.conv2d
    out = conv(x.unsqueeze(0), w, b, stride=stride, padding=padding, dilation=dilation)[0]
    d = os.path.join(CASES, name)
    save(d, input=x, weight=w, output=out, **({"bias": b} if bias else {}))
    with open(os.path.join(d, "args.txt"), "w") as f:
        f.write(f"--stride {stride} --padding {padding} --dilation {dilation}\n")


def main():
    torch.manual_seed(9)
    torch.set_default_dtype(torch.float64)
    shutil.rmtree(CASES, ignore_errors=True)
    shutil.rmtree(BAD, ignore_errors=True)
    make_case("conv1d_plain", (2, 10), (3, 2, 3))
    make_case("conv1d_stride_padding", (3, 11), (2, 3, 4), stride=2, padding=2)
    make_case("conv1d_dilation_no_bias", (1, 12), (2, 1, 3), dilation=3, padding=1, bias=False)
    make_case("conv2d_plain", (2, 6, 7), (3, 2, 3, 3))
    make_case("conv2d_stride_padding", (3, 8, 9), (4, 3, 3, 2), stride=2, padding=1)
    make_case("conv2d_dilation", (2, 9, 9), (2, 2, 3, 3), dilation=2, padding=2)
    make_case("conv2d_1x1_no_bias", (4, 5, 5), (2, 4, 1, 1), bias=False)

    os.makedirs(BAD)
    save(os.path.join(BAD, "kernel_too_large"), input=torch.randn(1, 3), weight=torch.randn(1, 1, 5))
    save(os.path.join(BAD, "channels_differ"), input=torch.randn(2, 6, 6), weight=torch.randn(1, 3, 3, 3))
    save(os.path.join(BAD, "weight_rank_mismatch"), input=torch.randn(2, 6, 6), weight=torch.randn(1, 2, 3))
    save(os.path.join(BAD, "bias_wrong_length"), input=torch.randn(2, 8), weight=torch.randn(3, 2, 3),
         bias=torch.randn(2))
    save(os.path.join(BAD, "missing_input"), weight=torch.randn(1, 1, 3))
    d = os.path.join(BAD, "input_int_dtype")
    os.makedirs(d)
    np.save(os.path.join(d, "input.npy"), np.arange(16, dtype=np.int64).reshape(2, 8))
    np.save(os.path.join(d, "weight.npy"), np.ones((1, 2, 3)))
    save(os.path.join(BAD, "input_rank_1"), input=torch.randn(8), weight=torch.randn(1, 1, 3))
    d = os.path.join(BAD, "input_truncated")
    save(d, input=torch.randn(2, 8), weight=torch.randn(3, 2, 3))
    data = open(os.path.join(d, "input.npy"), "rb").read()
    open(os.path.join(d, "input.npy"), "wb").write(data[:-16])
    print("wrote", CASES, "and", BAD)


if __name__ == "__main__":
    main()
