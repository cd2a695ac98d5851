#!/usr/bin/env python3
"""Writes the PyTorch fixtures of chapter 05 (multi-head attention).

Run from the repository root with Debian's PyTorch (apt-get install python3-torch):

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
import shutil

import numpy as np
import torch

CASES = os.path.join("tests", "fixtures", "05_multi_head_attention")


def make_case(name, L, S, E, H, self_attention=False, attn_mask=None, key_padding_mask=None, dtype=np.float64):
    mha = torch.nn.MultiheadAttention(E, H).eval()
    with torch.no_grad():  # biases are zero at init; make every term count
        for p in mha.parameters():
            p.add_(0.1 * torch.randn_like(p))
            p.copy_(torch.from_numpy(p.numpy().astype(dtype).astype(np.float64)))
    query = torch.from_numpy(torch.randn(L, E).numpy().astype(dtype).astype(np.float64))
    if self_attention:
        key = value = query
    else:
        key = torch.from_numpy(torch.randn(S, E).numpy().astype(dtype).astype(np.float64))
        value = torch.from_numpy(torch.randn(S, E).numpy().astype(dtype).astype(np.float64))
    with torch.no_grad():
        out, weights = mha(query, key, value, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                           average_attn_weights=False)
    d = os.path.join(CASES, name)
    os.makedirs(d, exist_ok=True)
    for n, t in [("query", query), ("key", key), ("value", value)] + list(mha.state_dict().items()):
        np.save(os.path.join(d, n + ".npy"), t.numpy().astype(dtype))
    np.save(os.path.join(d, "attn_output.npy"), out.numpy())
    np.save(os.path.join(d, "attn_output_weights.npy"), weights.numpy())
    if attn_mask is not None:
        np.save(os.path.join(d, "attn_mask.npy"), attn_mask.numpy())
    if key_padding_mask is not None:
        np.save(os.path.join(d, "key_padding_mask.npy"), key_padding_mask.numpy())
    with open(os.path.join(d, "args.txt"), "w") as f:
        f.write(f"--heads {H}\n")


def main():
    torch.manual_seed(5)
    torch.set_default_dtype(torch.float64)
    shutil.rmtree(CASES, ignore_errors=True)
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
