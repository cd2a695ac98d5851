#!/usr/bin/env python3
"""Writes the PyTorch fixtures of chapter 02 (scaled dot-product attention).

Run from the repository root with Debian's PyTorch (apt-get install python3-torch):

    /usr/bin/python3 chapters/02_dot_product_attention/make_fixtures.py

For each case it writes chapters/02_dot_product_attention/fixtures/<case>/ holding query.npy (L, E),
key.npy (S, E), value.npy (S, Ev) and PyTorch's output.npy (L, Ev) and weights.npy (L, S), computed
in float64 as

    weights = torch.softmax(query @ key.T / math.sqrt(E), dim=-1)
    output  = weights @ value

(the same as torch.nn.functional.scaled_dot_product_attention in PyTorch 2, which 1.13 lacks). It
also writes malformed inputs under chapters/02_dot_product_attention/fixtures/bad/ for the error tests. Same output on every
run (fixed seed).
"""
import math
import os
import shutil

import numpy as np
import torch

ROOT = os.path.join("tests", "fixtures")
CASES = os.path.join(ROOT, "02_dot_product_attention")
BAD = os.path.join(ROOT, "bad_02")


def attention(query, key, value):
    weights = torch.softmax(query @ key.T / math.sqrt(query.shape[-1]), dim=-1)
    return weights @ value, weights


def save_case(name, query, key, value, dtype=np.float64):
    """Inputs are saved as `dtype`; PyTorch computes in float64 from exactly the saved values."""
    d = os.path.join(CASES, name)
    os.makedirs(d, exist_ok=True)
    q, k, v = (t.numpy().astype(dtype) for t in (query, key, value))
    output, weights = attention(*(torch.from_numpy(a.astype(np.float64)) for a in (q, k, v)))
    np.save(os.path.join(d, "query.npy"), q)
    np.save(os.path.join(d, "key.npy"), k)
    np.save(os.path.join(d, "value.npy"), v)
    np.save(os.path.join(d, "output.npy"), output.numpy())
    np.save(os.path.join(d, "weights.npy"), weights.numpy())


def main():
    torch.manual_seed(2)
    torch.set_default_dtype(torch.float64)
    shutil.rmtree(CASES, ignore_errors=True)
    shutil.rmtree(BAD, ignore_errors=True)
    # L queries, S keys of width E, values of width Ev
    save_case("small", torch.randn(3, 4), torch.randn(5, 4), torch.randn(5, 2))
    save_case("one_query", torch.randn(1, 8), torch.randn(6, 8), torch.randn(6, 3))
    save_case("one_key", torch.randn(4, 3), torch.randn(1, 3), torch.randn(1, 5))
    save_case("wide", torch.randn(7, 64), torch.randn(9, 64), torch.randn(9, 16))
    # Scores in the hundreds: the softmax is nearly one-hot and must not overflow.
    save_case("large_scores", 30 * torch.randn(4, 6), 30 * torch.randn(5, 6), torch.randn(5, 3))
    # float32 inputs, as most PyTorch models store them; outputs float64 from the same values.
    save_case("float32_inputs", torch.randn(3, 5), torch.randn(4, 5), torch.randn(4, 2), np.float32)

    # Malformed inputs: the small case with one thing wrong each.
    good = os.path.join(CASES, "small")

    def bad(name, change):
        d = os.path.join(BAD, name)
        shutil.copytree(good, d)
        for f in ("output.npy", "weights.npy"):
            os.remove(os.path.join(d, f))
        change(d)

    bad("missing_key", lambda d: os.remove(os.path.join(d, "key.npy")))
    bad("key_wrong_width", lambda d: np.save(os.path.join(d, "key.npy"), np.zeros((5, 3))))
    bad("value_wrong_length", lambda d: np.save(os.path.join(d, "value.npy"), np.zeros((4, 2))))
    bad("query_rank_3", lambda d: np.save(os.path.join(d, "query.npy"), np.zeros((1, 3, 4))))
    bad("query_int64", lambda d: np.save(os.path.join(d, "query.npy"), np.zeros((3, 4), dtype=np.int64)))

    def truncate(d):
        path = os.path.join(d, "value.npy")
        data = open(path, "rb").read()
        open(path, "wb").write(data[:-8])

    bad("value_truncated", truncate)
    bad("query_not_npy", lambda d: open(os.path.join(d, "query.npy"), "w").write("query\n"))
    print("wrote", CASES, "and", BAD)


if __name__ == "__main__":
    main()
