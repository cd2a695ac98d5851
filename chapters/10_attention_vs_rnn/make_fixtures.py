#!/usr/bin/env python3
"""Writes the PyTorch fixtures of chapter 10 (attention vs RNN).

Run from the repository root with Debian's PyTorch (apt-get install python3-torch):

    /usr/bin/python3 chapters/10_attention_vs_rnn/make_fixtures.py

For each case it writes chapters/10_attention_vs_rnn/fixtures/<case>/ holding input.npy (L, H_in),
torch.nn.RNN(H_in, H)'s state_dict (weight_ih_l0.npy (H, H_in), weight_hh_l0.npy (H, H),
bias_ih_l0.npy (H), bias_hh_l0.npy (H)), h0.npy (1, H) unless the case starts from zeros, and
PyTorch's output.npy (L, H) and h_n.npy (1, H), float64 (one layer, tanh, unbatched).
The "float32" case stores its inputs as float32 (PyTorch's output is computed in float64 from exactly
those values). Malformed inputs go to chapters/10_attention_vs_rnn/fixtures/bad/<case>/.
"""
import os
import shutil

import numpy as np
import torch

ROOT = os.path.join("tests", "fixtures")
CASES = os.path.join(ROOT, "10_attention_vs_rnn")
BAD = os.path.join(ROOT, "bad_10")


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
    os.makedirs(d, exist_ok=True)
    arrays = {"input": x, "output": out, "h_n": h_n}
    arrays.update(rnn.state_dict())
    if with_h0:
        arrays["h0"] = h0
    for n, t in arrays.items():
        a = np.ascontiguousarray(t.detach().numpy())
        if float32 and n not in ("output", "h_n"):
            a = a.astype(np.float32)
        np.save(os.path.join(d, n + ".npy"), a)


def main():
    torch.manual_seed(10)
    torch.set_default_dtype(torch.float64)
    shutil.rmtree(CASES, ignore_errors=True)
    shutil.rmtree(BAD, ignore_errors=True)
    make_case("zero_h0", L=6, H_in=3, H=4, with_h0=False)
    make_case("with_h0", L=5, H_in=2, H=3, with_h0=True)
    make_case("long", L=40, H_in=4, H=8, with_h0=True)
    make_case("one_step", L=1, H_in=5, H=2, with_h0=False)
    make_case("float32", L=7, H_in=3, H=5, with_h0=True, float32=True)

    good = os.path.join(CASES, "with_h0")

    def bad(name, change):
        d = os.path.join(BAD, name)
        shutil.copytree(good, d)
        for f in ("output.npy", "h_n.npy"):
            os.remove(os.path.join(d, f))
        change(d)

    bad("weight_hh_wrong_shape", lambda d: np.save(os.path.join(d, "weight_hh_l0.npy"), np.zeros((3, 2))))
    bad("input_wrong_width", lambda d: np.save(os.path.join(d, "input.npy"), np.zeros((5, 4))))
    bad("h0_wrong_shape", lambda d: np.save(os.path.join(d, "h0.npy"), np.zeros((3,))))
    bad("missing_bias_hh", lambda d: os.remove(os.path.join(d, "bias_hh_l0.npy")))

    def truncate(d):
        path = os.path.join(d, "weight_ih_l0.npy")
        data = open(path, "rb").read()
        open(path, "wb").write(data[:-1])

    bad("weight_ih_truncated", truncate)
    bad("missing_input", lambda d: os.remove(os.path.join(d, "input.npy")))
    bad("weight_ih_wrong_rank", lambda d: np.save(os.path.join(d, "weight_ih_l0.npy"), np.zeros((3, 2, 1))))
    bad("bias_ih_wrong_rank", lambda d: np.save(os.path.join(d, "bias_ih_l0.npy"), np.zeros((1, 3))))
    bad("input_bool", lambda d: np.save(os.path.join(d, "input.npy"), np.zeros((5, 2), dtype=bool)))
    bad("input_int64", lambda d: np.save(os.path.join(d, "input.npy"), np.zeros((5, 2), dtype=np.int64)))
    bad("empty_input", lambda d: np.save(os.path.join(d, "input.npy"), np.zeros((0, 2))))
    print("wrote", CASES, "and", BAD)


if __name__ == "__main__":
    main()
