#!/usr/bin/env python3
"""Writes the PyTorch fixtures of chapter 04 (masking).

Run with Debian's PyTorch (apt-get install python3-torch):

    /usr/bin/python3 chapters/04_masking/make_fixtures.py

Chapter 04's program, given --load DIR, is torch.nn.MultiheadAttention with ONE head (chapter 05
does several). For each case it writes chapters/04_masking/fixtures/<case>/ holding query.npy (L, E),
key.npy (S, E), value.npy (S, E), the module's in_proj_weight.npy (3E, E), in_proj_bias.npy (3E),
out_proj.weight.npy (E, E), out_proj.bias.npy (E), optional attn_mask.npy (L, S) and
key_padding_mask.npy (S) (bool, true = may not attend), and PyTorch's attn_output.npy (L, E) and
attn_output_weights.npy (1, L, S), all float64. No case masks a whole row: PyTorch gives NaN there,
the course gives zeros (tested by hand instead). Malformed inputs go to chapters/04_masking/fixtures/bad/.
"""
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
import fixturelib as fx  # noqa: E402

CASES, BAD = fx.fixture_dirs(__file__)
E = 6


def make_case(name, L, S, attn_mask=None, key_padding_mask=None):
    mha = torch.nn.MultiheadAttention(E, 1).eval()
    with torch.no_grad():  # biases are zero at init; make every term count
        for p in mha.parameters():
            p.add_(0.1 * torch.randn_like(p))
    query, key, value = torch.randn(L, E), torch.randn(S, E), torch.randn(S, E)
    with torch.no_grad():
        out, weights = mha(query, key, value, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                           average_attn_weights=False)
    d = os.path.join(CASES, name)
    fx.save_all(d, [("query", query), ("key", key), ("value", value), ("attn_output", out),
                    ("attn_output_weights", weights)])
    fx.save_all(d, mha.state_dict())
    fx.save_all(d, [(n, m) for n, m in [("attn_mask", attn_mask), ("key_padding_mask", key_padding_mask)]
                    if m is not None])


def main():
    fx.begin(4, CASES)
    causal5 = torch.triu(torch.ones(5, 5, dtype=torch.bool), diagonal=1)
    make_case("no_mask", L=4, S=6)
    make_case("causal", L=5, S=5, attn_mask=causal5)
    make_case("key_padding", L=4, S=6, key_padding_mask=torch.tensor([False, False, False, False, True, True]))
    make_case("causal_and_padding", L=5, S=5, attn_mask=causal5,
              key_padding_mask=torch.tensor([False, False, False, True, True]))
    # L != S with an (L, S) attn_mask: 3 new queries at positions 2, 3, 4 after 2 earlier tokens (as
    # with cached keys in generation); query i may see keys 0..i+2. Plus key 0 as padding.
    prefix = torch.arange(5)[None, :] > torch.arange(3)[:, None] + 2
    make_case("causal_rectangular", L=3, S=5, attn_mask=prefix,
              key_padding_mask=torch.tensor([True, False, False, False, False]))

    def bad(name, change):
        fx.bad_case(BAD, name, os.path.join(CASES, "causal"), change,
                    leave_out=("attn_output.npy", "attn_output_weights.npy"))

    bad("mask_float64", fx.put("attn_mask", np.triu(np.ones((5, 5)), 1)))
    bad("mask_wrong_shape", fx.put("attn_mask", np.zeros((5, 4), dtype=bool)))
    bad("padding_wrong_length", fx.put("key_padding_mask", np.zeros(4, dtype=bool)))
    bad("in_proj_weight_wrong_shape", fx.put("in_proj_weight", np.zeros((12, 6))))
    bad("missing_query", fx.remove("query"))
    bad("padding_float64", fx.put("key_padding_mask", np.array([0.0, 0.0, 0.0, 1.0, 1.0])))
    # PyTorch's older uint8 masks, and its 3-D (N * H, L, S) attn_mask: neither is taken here
    bad("mask_uint8", fx.put("attn_mask", np.triu(np.ones((5, 5), np.uint8), 1)))
    bad("mask_3d", fx.put("attn_mask", np.triu(np.ones((1, 5, 5), bool), 1)))
    bad("value_wrong_length", fx.put("value", np.zeros((4, 6))))
    bad("query_no_rows", fx.put("query", np.zeros((0, 6))))

    def nan_value(d):
        v = np.load(os.path.join(d, "value.npy"))
        v[2, 3] = np.nan
        np.save(os.path.join(d, "value.npy"), v)

    bad("value_nan", nan_value)
    bad("mask_truncated", fx.truncate("attn_mask", 3))
    print("wrote", CASES, "and", BAD)


if __name__ == "__main__":
    main()
