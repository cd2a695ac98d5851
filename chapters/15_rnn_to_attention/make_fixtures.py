#!/usr/bin/env python3
"""Writes the PyTorch fixtures of chapter 15 (from RNN to attention): gradients from PyTorch's autograd.

Run with Debian's PyTorch (apt-get install python3-torch):

    /usr/bin/python3 chapters/15_rnn_to_attention/make_fixtures.py

Backpropagation through time, chapters/15_rnn_to_attention/fixtures/rnn_<case>/: chapter 10's files
(input.npy (L, H_in), torch.nn.RNN(H_in, H)'s state_dict, h0.npy (1, H) unless the case starts from
zeros), grad_output.npy (L, H), args.txt (empty), and PyTorch's output.npy (L, H), h_n.npy (1, H) and
the .grad.npy of input, h0, weight_ih_l0, weight_hh_l0, bias_ih_l0 and bias_hh_l0: the gradient of
sum(output * grad_output), what output.backward(grad_output) leaves in .grad (h_n gets no gradient
of its own). h0 is a leaf even when h0.npy is absent (zeros), so h0.grad.npy is always written. The
float32 case stores its inputs as float32; PyTorch computes in float64 from exactly those values.

Additive attention, chapters/15_rnn_to_attention/fixtures/additive_<case>/ (read by the unit tests, not
the program): queries.npy (L, Dq), keys.npy (S, Dk), values.npy (S, Dv), W_q.npy (A, Dq), W_k.npy
(A, Dk), w_v.npy (A), grad_output.npy (L, Dv), and output.npy, weights.npy and the .grad.npy of all
six inputs, from the formula (Bahdanau et al. 2015, appendix A.1.2):

    scores  = torch.tanh((queries @ W_q.T)[:, None, :] + (keys @ W_k.T)[None, :, :]) @ w_v
    weights = torch.softmax(scores, dim=-1)
    output  = weights @ values

Malformed inputs for the error tests go under chapters/15_rnn_to_attention/fixtures/bad/. Same output on every run (fixed
seed). Everything is float64.
"""
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
import fixturelib as fx  # noqa: E402

CASES, BAD = fx.fixture_dirs(__file__)


def rnn_case(name, L, H_in, H, with_h0, float32=False):
    d = os.path.join(CASES, "rnn_" + name)
    rnn = torch.nn.RNN(H_in, H)
    x = torch.randn(L, H_in)
    h0 = torch.randn(1, H) if with_h0 else torch.zeros(1, H)
    grad_output = torch.randn(L, H)
    if float32:
        with torch.no_grad():
            for p in rnn.parameters():
                p.copy_(p.float().double())
        x, h0, grad_output = x.float().double(), h0.float().double(), grad_output.float().double()
    x.requires_grad_()
    h0.requires_grad_()
    out, h_n = rnn(x, h0)
    out.backward(grad_output)
    dtype = np.float32 if float32 else np.float64
    params = list(rnn.named_parameters())
    fx.save_all(d, [("input", x)] + params + ([("h0", h0)] if with_h0 else []) + [("grad_output", grad_output)],
                dtype)
    fx.save_all(d, [("output", out), ("h_n", h_n)])
    fx.save_grads(d, params + [("input", x), ("h0", h0)])
    fx.write_args(d)


def additive_case(name, L, S, Dq, Dk, Dv, A, scale=1.0):
    d = os.path.join(CASES, "additive_" + name)
    t = {
        "queries": scale * torch.randn(L, Dq),
        "keys": scale * torch.randn(S, Dk),
        "values": torch.randn(S, Dv),
        "W_q": torch.randn(A, Dq) / Dq ** 0.5,
        "W_k": torch.randn(A, Dk) / Dk ** 0.5,
        "w_v": torch.randn(A),
    }
    for v in t.values():
        v.requires_grad_()
    grad_output = torch.randn(L, Dv)
    scores = torch.tanh((t["queries"] @ t["W_q"].T)[:, None, :] + (t["keys"] @ t["W_k"].T)[None, :, :]) @ t["w_v"]
    weights = torch.softmax(scores, dim=-1)
    output = weights @ t["values"]
    output.backward(grad_output)
    fx.save_all(d, t)
    fx.save_grads(d, t)
    fx.save_all(d, [("grad_output", grad_output), ("output", output), ("weights", weights)])


def main():
    fx.begin(15, CASES)
    rnn_case("with_h0", L=5, H_in=3, H=4, with_h0=True)
    rnn_case("zero_h0", L=6, H_in=2, H=3, with_h0=False)
    rnn_case("one_step", L=1, H_in=4, H=2, with_h0=True)
    rnn_case("long", L=30, H_in=3, H=6, with_h0=False)
    rnn_case("float32", L=4, H_in=5, H=3, with_h0=True, float32=True)
    additive_case("small", L=3, S=5, Dq=4, Dk=2, Dv=3, A=6)
    additive_case("one_key", L=4, S=1, Dq=3, Dk=3, Dv=2, A=2)
    additive_case("large_scores", L=2, S=6, Dq=3, Dk=5, Dv=4, A=3, scale=10.0)

    def bad(name, change):
        fx.bad_case(BAD, name, os.path.join(CASES, "rnn_with_h0"), change,
                    leave_out=("output.npy", "h_n.npy", "*.grad.npy"))

    bad("missing_grad_output", fx.remove("grad_output"))
    bad("grad_output_wrong_rows", fx.put("grad_output", np.zeros((4, 4))))
    bad("grad_output_wrong_cols", fx.put("grad_output", np.zeros((5, 3))))
    bad("grad_output_rank_1", fx.put("grad_output", np.zeros((20,))))
    bad("grad_output_nan", fx.put("grad_output", np.full((5, 4), np.nan)))
    bad("weight_hh_mismatched", fx.put("weight_hh_l0", np.zeros((4, 3))))
    bad("weight_ih_mismatched", fx.put("weight_ih_l0", np.zeros((4, 2))))
    print("wrote", CASES, "and", BAD)


if __name__ == "__main__":
    main()
