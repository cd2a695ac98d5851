#!/usr/bin/env python3
"""Writes the PyTorch fixtures of chapter 05 (multi-head attention).

Run with Debian's PyTorch (apt-get install python3-torch):

    /usr/bin/python3 chapters/05_multi_head_attention/make_fixtures.py

For each case it writes chapters/05_multi_head_attention/fixtures/<case>/ holding query.npy (L, E),
key.npy (S, E), value.npy (S, E), torch.nn.MultiheadAttention(E, H)'s state_dict as
in_proj_weight.npy (3E, E), in_proj_bias.npy (3E), out_proj.weight.npy (E, E), out_proj.bias.npy (E),
optional attn_mask.npy (L, S) and key_padding_mask.npy (S) (bool, true = may not attend),
args.txt (`--heads H`), and PyTorch's attn_output.npy (L, E) and attn_output_weights.npy (H, L, S)
(average_attn_weights=False: one matrix per head). float64, except the float32 case, whose inputs
and weights are float32 and whose expected outputs PyTorch computed in float64 from those values.
"""
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
import fixturelib as fx  # noqa: E402

CASES, _ = fx.fixture_dirs(__file__)


def make_case(name, L, S, E, H, self_attention=False, attn_mask=None, key_padding_mask=None, dtype=np.float64):
    mha = torch.nn.MultiheadAttention(E, H).eval()
    with torch.no_grad():  # biases are zero at init; make every term count
        for p in mha.parameters():
            p.add_(0.1 * torch.randn_like(p))
            p.copy_(fx.exactly(p, dtype))
    query = fx.exactly(torch.randn(L, E), dtype)
    if self_attention:
        key = value = query
    else:
        key = fx.exactly(torch.randn(S, E), dtype)
        value = fx.exactly(torch.randn(S, E), dtype)
    with torch.no_grad():
        out, weights = mha(query, key, value, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                           average_attn_weights=False)
    d = os.path.join(CASES, name)
    fx.save_all(d, [("query", query), ("key", key), ("value", value)] + list(mha.state_dict().items()), dtype)
    fx.save_all(d, [("attn_output", out), ("attn_output_weights", weights)])
    fx.save_all(d, [(n, m) for n, m in [("attn_mask", attn_mask), ("key_padding_mask", key_padding_mask)]
                    if m is not None])
    fx.write_args(d, f"--heads {H}")


def main():
    fx.begin(5, CASES)
    make_case("self_attention", L=5, S=5, E=8, H=2, self_attention=True)
    make_case("l_differs_from_s", L=3, S=7, E=8, H=4)
    make_case("causal", L=6, S=6, E=6, H=3, self_attention=True,
              attn_mask=torch.triu(torch.ones(6, 6, dtype=torch.bool), diagonal=1))
    make_case("key_padding", L=4, S=5, E=8, H=2, key_padding_mask=torch.tensor([False, False, True, False, True]))
    make_case("one_head", L=3, S=4, E=4, H=1)
    make_case("eight_heads", L=4, S=4, E=16, H=8)
    make_case("float32", L=4, S=5, E=8, H=2, dtype=np.float32)
    print("wrote", CASES)


if __name__ == "__main__":
    main()
