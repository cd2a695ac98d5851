#!/usr/bin/env python3
"""Writes the PyTorch fixtures of chapter 04 (masking).

Run from the repository root with Debian's PyTorch (apt-get install python3-torch):

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
import shutil

import numpy as np
import torch

ROOT = os.path.join("tests", "fixtures")
CASES = os.path.join(ROOT, "04_masking")
BAD = os.path.join(ROOT, "bad_04")
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
    os.makedirs(d, exist_ok=True)
    for n, t in [("query", query), ("key", key), ("value", value), ("attn_output", out),
                 ("attn_output_weights", weights)]:
        np.save(os.path.join(d, n + ".npy"), t.numpy())
    for key_name, value_t in mha.state_dict().items():
        np.save(os.path.join(d, key_name + ".npy"), value_t.numpy())
    if attn_mask is not None:
        np.save(os.path.join(d, "attn_mask.npy"), attn_mask.numpy())
    if key_padding_mask is not None:
        np.save(os.path.join(d, "key_padding_mask.npy"), key_padding_mask.numpy())


def main():
    torch.manual_seed(4)
    torch.set_default_dtype(torch.float64)
    shutil.rmtree(CASES, ignore_errors=True)
    shutil.rmtree(BAD, ignore_errors=True)
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

    good = os.path.join(CASES, "causal")

    def bad(name, change):
        d = os.path.join(BAD, name)
        shutil.copytree(good, d)
        for f in ("attn_output.npy", "attn_output_weights.npy"):
            os.remove(os.path.join(d, f))
        change(d)

    bad("mask_float64", lambda d: np.save(os.path.join(d, "attn_mask.npy"), np.triu(np.ones((5, 5)), 1)))
    bad("mask_wrong_shape", lambda d: np.save(os.path.join(d, "attn_mask.npy"), np.zeros((5, 4), dtype=bool)))
    bad("padding_wrong_length",
        lambda d: np.save(os.path.join(d, "key_padding_mask.npy"), np.zeros(4, dtype=bool)))
    bad("in_proj_weight_wrong_shape",
        lambda d: np.save(os.path.join(d, "in_proj_weight.npy"), np.zeros((12, 6))))
    bad("missing_query", lambda d: os.remove(os.path.join(d, "query.npy")))
    bad("padding_float64",
        lambda d: np.save(os.path.join(d, "key_padding_mask.npy"), np.array([0.0, 0.0, 0.0, 1.0, 1.0])))
    # PyTorch's older uint8 masks, and its 3-D (N * H, L, S) attn_mask: neither is taken here
    bad("mask_uint8", lambda d: np.save(os.path.join(d, "attn_mask.npy"), np.triu(np.ones((5, 5), np.uint8), 1)))
    bad("mask_3d", lambda d: np.save(os.path.join(d, "attn_mask.npy"), np.triu(np.ones((1, 5, 5), bool), 1)))
    bad("value_wrong_length", lambda d: np.save(os.path.join(d, "value.npy"), np.zeros((4, 6))))
    bad("query_no_rows", lambda d: np.save(os.path.join(d, "query.npy"), np.zeros((0, 6))))

    def nan_value(d):
        v = np.load(os.path.join(d, "value.npy"))
        v[2, 3] = np.nan
        np.save(os.path.join(d, "value.npy"), v)

    bad("value_nan", nan_value)

    def truncate(d):
        path = os.path.join(d, "attn_mask.npy")
        data = open(path, "rb").read()
        open(path, "wb").write(data[:-3])

    bad("mask_truncated", truncate)
    print("wrote", CASES, "and", BAD)


if __name__ == "__main__":
    main()
