#!/usr/bin/env python3
"""Writes the PyTorch fixtures of chapter 02 (scaled dot-product attention).

Run with Debian's PyTorch (apt-get install python3-torch):

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
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
import fixturelib as fx  # noqa: E402

CASES, BAD = fx.fixture_dirs(__file__)


def attention(query, key, value):
    weights = torch.softmax(query @ key.T / math.sqrt(query.shape[-1]), dim=-1)
    return weights @ value, weights


def save_case(name, query, key, value, dtype=np.float64):
    """Inputs are saved as `dtype`; PyTorch computes in float64 from exactly the saved values."""
    q, k, v = (fx.exactly(t, dtype) for t in (query, key, value))
    output, weights = attention(q, k, v)
    d = os.path.join(CASES, name)
    fx.save_all(d, [("query", q), ("key", k), ("value", v)], dtype)
    fx.save_all(d, [("output", output), ("weights", weights)])


def main():
    fx.begin(2, CASES)
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
    def bad(name, change):
        fx.bad_case(BAD, name, os.path.join(CASES, "small"), change, leave_out=("output.npy", "weights.npy"))

    bad("missing_key", fx.remove("key"))
    bad("key_wrong_width", fx.put("key", np.zeros((5, 3))))
    bad("value_wrong_length", fx.put("value", np.zeros((4, 2))))
    bad("query_rank_3", fx.put("query", np.zeros((1, 3, 4))))
    bad("query_int64", fx.put("query", np.zeros((3, 4), dtype=np.int64)))
    bad("value_truncated", fx.truncate("value", 8))
    bad("query_not_npy", lambda d: open(os.path.join(d, "query.npy"), "w").write("query\n"))
    print("wrote", CASES, "and", BAD)


if __name__ == "__main__":
    main()
