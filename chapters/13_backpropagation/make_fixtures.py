#!/usr/bin/env python3
"""Writes the PyTorch fixtures of chapter 13 (backpropagation): gradients from PyTorch's autograd.

Run with Debian's PyTorch (apt-get install python3-torch):

    /usr/bin/python3 chapters/13_backpropagation/make_fixtures.py

Every gradient is that of sum(output * grad_output): what output.backward(grad_output) leaves in each
leaf's .grad. Everything is float64, except the float32 cases, whose inputs are saved as float32 and
whose expected results PyTorch computed in float64 from exactly those values.

Scaled dot-product attention, chapters/13_backpropagation/fixtures/sdpa_<case>/: query.npy (L, E),
key.npy (S, E), value.npy (S, Ev), grad_output.npy (L, Ev), args.txt (empty, or `--causal`), and
PyTorch's output.npy (L, Ev), weights.npy (L, S), query.grad.npy, key.grad.npy, value.grad.npy from

    scores  = query @ key.T / math.sqrt(E)          (-inf above the diagonal with --causal)
    weights = torch.softmax(scores, dim=-1)
    output  = weights @ value

Multi-head attention, chapters/13_backpropagation/fixtures/mha_<case>/: the files of chapter 05 (query,
key, value, torch.nn.MultiheadAttention(E, H)'s state_dict, optional attn_mask / key_padding_mask,
bool, true = may not attend), grad_output.npy (L, E), args.txt (`--heads H`), and PyTorch's
attn_output.npy (L, E) and the .grad.npy of query, key, value, in_proj_weight, in_proj_bias,
out_proj.weight and out_proj.bias. query, key and value are separate leaves even when they hold the
same numbers (self-attention), so each gets its own gradient. No case has a fully masked row: PyTorch
gives NaN there, the course zero (the tests cover ours separately).

Malformed inputs for the error tests go under chapters/13_backpropagation/fixtures/bad/, with two cases of valid inputs at the
loaders' bound of 1e15 (sdpa_values_at_limit, mha_values_at_limit) that must run and pass the self-checks.
Same output on every run (fixed seed).
"""
import math
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
import fixturelib as fx  # noqa: E402
from fixturelib import exactly  # noqa: E402

CASES, BAD = fx.fixture_dirs(__file__)


def sdpa_case(name, L, S, E, Ev, causal=False, scale=1.0, dtype=np.float64):
    d = os.path.join(CASES, name)
    query = exactly(scale * torch.randn(L, E), dtype).requires_grad_()
    key = exactly(scale * torch.randn(S, E), dtype).requires_grad_()
    value = exactly(torch.randn(S, Ev), dtype).requires_grad_()
    grad_output = exactly(torch.randn(L, Ev), dtype)
    scores = query @ key.T / math.sqrt(E)
    if causal:
        scores = scores.masked_fill(torch.ones(L, S, dtype=torch.bool).triu(1), float("-inf"))
    weights = torch.softmax(scores, dim=-1)
    output = weights @ value
    output.backward(grad_output)
    inputs = [("query", query), ("key", key), ("value", value)]
    fx.save_all(d, inputs + [("grad_output", grad_output)], dtype)
    fx.save_all(d, [("output", output), ("weights", weights)])
    fx.save_grads(d, inputs)
    fx.write_args(d, "--causal" if causal else "")


def mha_case(name, L, S, E, H, self_attention=False, attn_mask=None, key_padding_mask=None, dtype=np.float64):
    d = os.path.join(CASES, name)
    mha = torch.nn.MultiheadAttention(E, H)
    with torch.no_grad():  # biases are zero at init; make every term count
        for p in mha.parameters():
            p.add_(0.1 * torch.randn_like(p))
            p.copy_(exactly(p, dtype))
    query = exactly(torch.randn(L, E), dtype)
    key = query.clone() if self_attention else exactly(torch.randn(S, E), dtype)
    value = query.clone() if self_attention else exactly(torch.randn(S, E), dtype)
    grad_output = exactly(torch.randn(L, E), dtype)
    for t in (query, key, value):
        t.requires_grad_()
    output, _ = mha(query, key, value, attn_mask=attn_mask, key_padding_mask=key_padding_mask, need_weights=False)
    output.backward(grad_output)
    inputs = [("query", query), ("key", key), ("value", value)]
    params = list(mha.named_parameters())  # in_proj_weight, in_proj_bias, out_proj.weight, out_proj.bias
    fx.save_all(d, inputs + [("grad_output", grad_output)] + params, dtype)
    fx.save(d, "attn_output", output)
    fx.save_grads(d, inputs + params)
    fx.save_all(d, [(n, m) for n, m in [("attn_mask", attn_mask), ("key_padding_mask", key_padding_mask)]
                    if m is not None])
    fx.write_args(d, f"--heads {H}")


def main():
    fx.begin(13, CASES)
    # scaled dot-product attention: L queries, S keys of width E, values of width Ev
    sdpa_case("sdpa_small", L=3, S=5, E=4, Ev=2)
    sdpa_case("sdpa_one_query", L=1, S=6, E=8, Ev=3)
    sdpa_case("sdpa_one_key", L=4, S=1, E=3, Ev=5)
    sdpa_case("sdpa_causal", L=6, S=6, E=4, Ev=3, causal=True)
    sdpa_case("sdpa_large_scores", L=4, S=5, E=6, Ev=3, scale=5.0)  # a nearly one-hot softmax
    sdpa_case("sdpa_float32", L=3, S=4, E=5, Ev=2, dtype=np.float32)
    # multi-head attention: H heads of width E / H
    mha_case("mha_self_attention", L=5, S=5, E=8, H=2, self_attention=True)
    mha_case("mha_l_differs_from_s", L=3, S=7, E=8, H=4)
    mha_case("mha_one_head", L=4, S=3, E=4, H=1)
    mha_case("mha_causal", L=6, S=6, E=6, H=3, self_attention=True,
             attn_mask=torch.ones(6, 6, dtype=torch.bool).triu(1))
    mha_case("mha_key_padding", L=4, S=5, E=8, H=2, key_padding_mask=torch.tensor([False, True, False, False, True]))
    mha_case("mha_float32", L=4, S=5, E=8, H=2, dtype=np.float32)

    # Malformed inputs: a good case with one thing wrong each (its expected results removed).
    def bad(name, good, change):
        fx.bad_case(BAD, name, os.path.join(CASES, good), change,
                    leave_out=("*.grad.npy", "output.npy", "weights.npy", "attn_output.npy", "args.txt"))

    bad("sdpa_missing_grad_output", "sdpa_small", fx.remove("grad_output"))
    bad("sdpa_grad_output_wrong_rows", "sdpa_small", fx.put("grad_output", np.zeros((4, 2))))
    bad("sdpa_grad_output_wrong_cols", "sdpa_small", fx.put("grad_output", np.zeros((3, 4))))
    bad("sdpa_grad_output_nan", "sdpa_small", fx.put("grad_output", np.full((3, 2), np.nan)))
    bad("sdpa_query_inf", "sdpa_small", fx.put("query", np.full((3, 4), np.inf)))
    bad("mha_missing_grad_output", "mha_one_head", fx.remove("grad_output"))
    bad("mha_grad_output_wrong_shape", "mha_one_head", fx.put("grad_output", np.zeros((4, 3))))
    bad("mha_grad_output_rank_1", "mha_one_head", fx.put("grad_output", np.zeros(16)))

    # Valid inputs at the loaders' bound (every |x| <= 1e15, the largest exactly 1e15): the gradients
    # stay finite and the program's self-checks pass (not PyTorch cases: nothing to compare).
    def at_limit(a):
        return np.clip(a * (1e15 / np.abs(a).max()), -1e15, 1e15)  # no entry rounded above 1e15

    def scale_all(names):
        return lambda d: [np.save(os.path.join(d, n + ".npy"), at_limit(np.load(os.path.join(d, n + ".npy"))))
                          for n in names]

    bad("sdpa_values_at_limit", "sdpa_causal", scale_all(["query", "key", "value", "grad_output"]))
    bad("mha_values_at_limit", "mha_l_differs_from_s",
        scale_all(["query", "key", "value", "grad_output", "in_proj_weight", "in_proj_bias", "out_proj.weight",
                   "out_proj.bias"]))
    print("wrote", CASES, "and", BAD)


if __name__ == "__main__":
    main()
