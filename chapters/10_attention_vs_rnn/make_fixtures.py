#!/usr/bin/env python3
"""Writes the PyTorch fixtures of chapter 10 (attention vs RNN).

Run with Debian's PyTorch (apt-get install python3-torch):

    /usr/bin/python3 chapters/10_attention_vs_rnn/make_fixtures.py

For each case it writes chapters/10_attention_vs_rnn/fixtures/<case>/ holding input.npy (L, H_in),
torch.nn.RNN(H_in, H)'s state_dict (weight_ih_l0.npy (H, H_in), weight_hh_l0.npy (H, H),
bias_ih_l0.npy (H), bias_hh_l0.npy (H)), h0.npy (1, H) unless the case starts from zeros, and
PyTorch's output.npy (L, H) and h_n.npy (1, H), float64 (one layer, tanh, unbatched).
The "float32" case stores its inputs as float32 (PyTorch's output is computed in float64 from exactly
those values). Malformed inputs go to chapters/10_attention_vs_rnn/fixtures/bad/<case>/.
"""
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
import fixturelib as fx  # noqa: E402

CASES, BAD = fx.fixture_dirs(__file__)


def make_case(name, L, H_in, H, with_h0, float32=False):
    rnn = torch.nn.RNN(H_in, H)
    x = torch.randn(L, H_in)
    h0 = torch.randn(1, H) if with_h0 else None
    if float32:
        # the files hold float32; PyTorch computes in float64 from exactly those values
        with torch.no_grad():
            for p in rnn.parameters():
                p.copy_(p.float().double())
        x = x.float().double()
        h0 = h0.float().double() if with_h0 else None
    with torch.no_grad():
        out, h_n = rnn(x, h0) if with_h0 else rnn(x)
    d = os.path.join(CASES, name)
    inputs = [("input", x)] + list(rnn.state_dict().items()) + ([("h0", h0)] if with_h0 else [])
    fx.save_all(d, inputs, np.float32 if float32 else None)
    fx.save_all(d, [("output", out), ("h_n", h_n)])


def main():
    fx.begin(10, CASES)

    # a malformed case: the valid with_h0 case with one thing wrong (and no outputs)
    def bad(name, change):
        fx.bad_case(BAD, name, os.path.join(CASES, "with_h0"), change, leave_out=("output.npy", "h_n.npy"))

    make_case("zero_h0", L=6, H_in=3, H=4, with_h0=False)
    make_case("with_h0", L=5, H_in=2, H=3, with_h0=True)
    make_case("long", L=40, H_in=4, H=8, with_h0=True)
    make_case("one_step", L=1, H_in=5, H=2, with_h0=False)
    make_case("float32", L=7, H_in=3, H=5, with_h0=True, float32=True)
    bad("weight_hh_wrong_shape", fx.put("weight_hh_l0", np.zeros((3, 2))))
    bad("input_wrong_width", fx.put("input", np.zeros((5, 4))))
    bad("h0_wrong_shape", fx.put("h0", np.zeros((3,))))
    bad("missing_bias_hh", fx.remove("bias_hh_l0"))
    bad("weight_ih_truncated", fx.truncate("weight_ih_l0", 1))
    bad("missing_input", fx.remove("input"))
    bad("weight_ih_wrong_rank", fx.put("weight_ih_l0", np.zeros((3, 2, 1))))
    bad("bias_ih_wrong_rank", fx.put("bias_ih_l0", np.zeros((1, 3))))
    bad("input_bool", fx.put("input", np.zeros((5, 2), dtype=bool)))
    bad("input_int64", fx.put("input", np.zeros((5, 2), dtype=np.int64)))
    bad("empty_input", fx.put("input", np.zeros((0, 2))))
    print("wrote", CASES, "and", BAD)


if __name__ == "__main__":
    main()
