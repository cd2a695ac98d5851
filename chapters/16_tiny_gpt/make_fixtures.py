#!/usr/bin/env python3
"""Writes the PyTorch fixtures of chapter 16 (a tiny GPT).

Run with Debian's PyTorch (apt-get install python3-torch):

    /usr/bin/python3 chapters/16_tiny_gpt/make_fixtures.py

Everything is float64, from fixed seeds (the same files on every run), under chapters/16_tiny_gpt/fixtures/:

  <case>/   the TinyGPT below with perturbed weights: its state_dict as <key>.npy, idx.npy (T,) int64,
            logits.npy (T, V); with targets.npy (T,) int64 also loss.npy (shape ()), the mean
            cross-entropy of the logits against the targets, and <key>.grad.npy, what loss.backward()
            leaves in each parameter's .grad; args.txt holds the program's flags (--heads H)

and malformed cases under chapters/16_tiny_gpt/fixtures/bad/ for the error tests (bad/data/, the --data
files that are not the poems, are written by hand and kept: this script leaves them alone).
"""
import os
import shutil
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
import fixturelib as fx  # noqa: E402
from fixturelib import save  # noqa: E402

OUT, BAD = fx.fixture_dirs(__file__)


# The model of chapters 16 and 17, verbatim.
class TinyGPT(torch.nn.Module):
    def __init__(self, vocab, n_ctx, d_model, n_heads, d_ff, n_layers):
        super().__init__()
        self.tok = torch.nn.Embedding(vocab, d_model)
        self.pos = torch.nn.Embedding(n_ctx, d_model)
        self.blocks = torch.nn.ModuleList(torch.nn.TransformerEncoderLayer(
            d_model, n_heads, d_ff, dropout=0.0, activation="gelu", norm_first=True)
            for _ in range(n_layers))
        self.norm = torch.nn.LayerNorm(d_model)
        self.head = torch.nn.Linear(d_model, vocab, bias=False)

    def forward(self, idx):                                   # idx (T,) int64, T <= n_ctx
        T = idx.shape[0]
        x = self.tok(idx) + self.pos(torch.arange(T))
        causal = torch.ones(T, T, dtype=torch.bool).triu(1)   # true = may not attend
        for block in self.blocks:
            x = block(x, src_mask=causal)
        return self.head(self.norm(x))                        # logits (T, vocab)


def model_case(d, V, n_ctx, E, H, Fd, layers, T, targets=True, flags=""):
    """Writes the case folder d (chapter 17 calls this too); `flags` go to args.txt after --heads H."""
    shutil.rmtree(d, ignore_errors=True)
    model = TinyGPT(V, n_ctx, E, H, Fd, layers).double()
    # away from PyTorch's init (zero biases and identity norms would hide mistakes in those terms)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.2 * torch.randn_like(p))
    model.eval()
    fx.save_all(d, model.state_dict())
    idx = torch.randint(0, V, (T,), dtype=torch.int64)
    idx[0] = V - 1  # the last token id is used
    save(d, "idx", idx)
    logits = model(idx)
    save(d, "logits", logits)
    if targets:
        y = torch.randint(0, V, (T,), dtype=torch.int64)
        y[-1] = 0
        save(d, "targets", y)
        loss = F.cross_entropy(logits, y)
        loss.backward()
        save(d, "loss", loss.detach().reshape(()))
        fx.save_grads(d, model.named_parameters())
    fx.write_args(d, f"--heads {H}" + flags)
    return d


def bad_cases(src):
    for name in os.listdir(BAD) if os.path.isdir(BAD) else []:
        if name != "data":
            shutil.rmtree(os.path.join(BAD, name))

    def copy(name):
        return fx.bad_case(BAD, name, src, lambda d: None, leave_out=("logits.npy", "loss.npy", "*.grad.npy"))

    idx = np.load(os.path.join(src, "idx.npy"))
    V = np.load(os.path.join(src, "tok.weight.npy")).shape[0]
    n_ctx = np.load(os.path.join(src, "pos.weight.npy")).shape[0]
    d = copy("idx_out_of_vocab")
    bad = idx.copy()
    bad[2] = V
    np.save(os.path.join(d, "idx.npy"), bad)
    d = copy("idx_negative")
    bad = idx.copy()
    bad[1] = -1
    np.save(os.path.join(d, "idx.npy"), bad)
    d = copy("idx_longer_than_context")
    np.save(os.path.join(d, "idx.npy"), np.zeros(n_ctx + 1, dtype=np.int64))
    np.save(os.path.join(d, "targets.npy"), np.zeros(n_ctx + 1, dtype=np.int64))
    d = copy("idx_float")
    np.save(os.path.join(d, "idx.npy"), idx.astype(np.float64))
    d = copy("idx_int32")
    np.save(os.path.join(d, "idx.npy"), idx.astype(np.int32))
    d = copy("idx_empty")
    np.save(os.path.join(d, "idx.npy"), np.zeros(0, dtype=np.int64))
    d = copy("targets_wrong_length")
    np.save(os.path.join(d, "targets.npy"), np.zeros(len(idx) - 1, dtype=np.int64))
    d = copy("targets_out_of_vocab")
    t = np.load(os.path.join(d, "targets.npy"))
    t[0] = V + 3
    np.save(os.path.join(d, "targets.npy"), t)
    d = copy("missing_norm_bias")
    os.remove(os.path.join(d, "norm.bias.npy"))
    d = copy("missing_head")
    os.remove(os.path.join(d, "head.weight.npy"))
    d = copy("missing_block_key")
    os.remove(os.path.join(d, "blocks.0.linear2.weight.npy"))
    d = copy("head_wrong_vocab")
    h = np.load(os.path.join(d, "head.weight.npy"))
    np.save(os.path.join(d, "head.weight.npy"), h[:-1])
    d = copy("pos_wrong_width")
    p = np.load(os.path.join(d, "pos.weight.npy"))
    np.save(os.path.join(d, "pos.weight.npy"), p[:, :-1])
    d = copy("in_proj_wrong_shape")
    w = np.load(os.path.join(d, "blocks.0.self_attn.in_proj_weight.npy"))
    np.save(os.path.join(d, "blocks.0.self_attn.in_proj_weight.npy"), w[:-1])
    d = copy("no_blocks")
    for f in os.listdir(d):
        if f.startswith("blocks."):
            os.remove(os.path.join(d, f))


def main():
    # not fx.begin: the model is made in float32, PyTorch's default, then turned to float64 (.double()),
    # and each case folder is replaced on its own (bad/data/ is kept)
    torch.manual_seed(16)
    model_case(os.path.join(OUT, "one_layer"), V=11, n_ctx=8, E=8, H=2, Fd=16, layers=1, T=6)
    model_case(os.path.join(OUT, "two_layers"), V=13, n_ctx=7, E=12, H=3, Fd=20, layers=2, T=7)
    model_case(os.path.join(OUT, "four_heads_short"), V=9, n_ctx=10, E=8, H=4, Fd=12, layers=1, T=3)
    model_case(os.path.join(OUT, "logits_only"), V=10, n_ctx=6, E=8, H=2, Fd=8, layers=2, T=5, targets=False)
    # the malformed cases start from a model of the smallest sizes (a few kB per case)
    small = model_case(os.path.join(OUT, "bad_base"), V=6, n_ctx=5, E=4, H=2, Fd=4, layers=1, T=4)
    bad_cases(small)
    shutil.rmtree(small)


if __name__ == "__main__":
    main()
