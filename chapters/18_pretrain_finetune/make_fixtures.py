#!/usr/bin/env python3
"""Writes the PyTorch fixtures of chapter 18 (pretrain, then fine-tune): chapter 16's TinyGPT with LoRA
adapters on each block's attention in-projection and out-projection.

Run with Debian's PyTorch (apt-get install python3-torch):

    /usr/bin/python3 chapters/18_pretrain_finetune/make_fixtures.py

Everything is float64, from fixed seeds (the same files on every run), under
chapters/18_pretrain_finetune/fixtures/:

  <case>/   chapter 16's TinyGPT (the class of chapters/16_tiny_gpt/make_fixtures.py, loaded) with perturbed
            weights, frozen: its state_dict as <key>.npy, idx.npy (T,) int64, targets.npy (T,) int64; four
            adapters per block N, with B NONZERO (LoRA starts B at zero; a zero B would hide A's
            gradient):
              blocks.N.self_attn.in_proj_lora_A.npy (r, E)    blocks.N.self_attn.in_proj_lora_B.npy (3E, r)
              blocks.N.self_attn.out_proj.lora_A.npy (r, E)   blocks.N.self_attn.out_proj.lora_B.npy (E, r)
            and what PyTorch gives with the effective weights W + (α/r) B A swapped in by functional_call
            (so autograd reaches A and B only): logits.npy (T, V), loss.npy (shape ()), the mean
            cross-entropy against the targets, and <adapter key>.grad.npy for the four adapters of every
            block, what loss.backward() leaves in their .grad. args.txt holds the program's flags
            (--heads H, and --lora-alpha α unless α = r, the default). The case float32 stores its
            weights and adapters as float32 (most PyTorch models do); PyTorch computes in float64 from
            exactly those values.

and malformed cases under chapters/18_pretrain_finetune/fixtures/bad/ for the error tests of the --load
path: a rank of 0, a rank above E, adapters whose shapes disagree, an adapter for a block that does not
exist, a missing adapter.
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
f16 = fx.chapter_script("16")  # TinyGPT

# The adapters' file names of block i, in the order README's interop row for chapter 18 lists them.
ADAPTERS = ("self_attn.in_proj_lora_A", "self_attn.in_proj_lora_B", "self_attn.out_proj.lora_A",
            "self_attn.out_proj.lora_B")


def lora_logits(model, adapters, alpha, idx):
    """The adapted model's logits: W + (α/r) B A on in_proj_weight and out_proj.weight of every block,
    swapped in by functional_call (the base stays frozen)."""
    r = adapters[0][0].shape[0]
    scale = alpha / r
    over = {}
    for i, blk in enumerate(model.blocks):
        A_in, B_in, A_out, B_out = adapters[i]
        p = f"blocks.{i}.self_attn."
        over[p + "in_proj_weight"] = blk.self_attn.in_proj_weight + scale * B_in @ A_in       # (3E, E)
        over[p + "out_proj.weight"] = blk.self_attn.out_proj.weight + scale * B_out @ A_out  # (E, E)
    return torch.nn.utils.stateless.functional_call(model, over, (idx,))


def lora_case(name, V, n_ctx, E, H, Fd, layers, T, r, alpha=None, dtype=None):
    """Writes the case folder OUT/name; alpha None means α = r (the program's default). With a dtype
    (np.float32) the weights and adapters are rounded to it and saved as it."""
    d = os.path.join(OUT, name)
    shutil.rmtree(d, ignore_errors=True)
    model = f16.TinyGPT(V, n_ctx, E, H, Fd, layers).double()
    # away from PyTorch's init (zero biases and identity norms would hide mistakes in those terms)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.2 * torch.randn_like(p))
            if dtype is not None:
                p.copy_(fx.exactly(p, dtype))
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)  # the base is frozen
    fx.save_all(d, model.state_dict(), dtype)
    # A as LoRA initialises it (Kaiming-uniform-like, ±1/√E), B nonzero so that A's gradient is seen
    adapters = []
    for _ in range(layers):
        bound = 1.0 / E ** 0.5
        adapters.append([(torch.rand(r, E, dtype=torch.float64) * 2 - 1) * bound,
                         0.5 * torch.randn(3 * E, r, dtype=torch.float64),
                         (torch.rand(r, E, dtype=torch.float64) * 2 - 1) * bound,
                         0.5 * torch.randn(E, r, dtype=torch.float64)])
        if dtype is not None:
            adapters[-1] = [fx.exactly(t, dtype) for t in adapters[-1]]
        for t in adapters[-1]:
            t.requires_grad_(True)
    idx = torch.randint(0, V, (T,), dtype=torch.int64)
    idx[0] = V - 1  # the last token id is used
    y = torch.randint(0, V, (T,), dtype=torch.int64)
    y[-1] = 0
    save(d, "idx", idx)
    save(d, "targets", y)
    logits = lora_logits(model, adapters, float(r if alpha is None else alpha), idx)
    loss = F.cross_entropy(logits, y)
    loss.backward()
    save(d, "logits", logits)
    save(d, "loss", loss.detach().reshape(()))
    for i, block in enumerate(adapters):
        for key, t in zip(ADAPTERS, block):
            save(d, f"blocks.{i}.{key}", t, dtype)
            save(d, f"blocks.{i}.{key}.grad", t.grad)
    fx.write_args(d, f"--heads {H}" + ("" if alpha is None else f" --lora-alpha {alpha:g}"))
    return d


def bad_cases(src):
    shutil.rmtree(BAD, ignore_errors=True)
    E = np.load(os.path.join(src, "tok.weight.npy")).shape[1]

    def copy(name, change):
        return fx.bad_case(BAD, name, src, change, leave_out=("logits.npy", "loss.npy", "*.grad.npy"))

    def adapter(key):
        return np.load(os.path.join(src, f"blocks.0.self_attn.{key}.npy"))

    block0 = "blocks.0.self_attn."

    def rank_zero(d):  # r = 0: every adapter with no rows / columns
        for key in ADAPTERS:
            a = adapter(key.split(".", 1)[1])
            shape = (0, a.shape[1]) if key.endswith("_A") else (a.shape[0], 0)
            np.save(os.path.join(d, f"blocks.0.{key}.npy"), np.zeros(shape))
    copy("rank_zero", rank_zero)

    def rank_above_width(d):  # r = E + 1
        for key in ADAPTERS:
            a = adapter(key.split(".", 1)[1])
            shape = (E + 1, a.shape[1]) if key.endswith("_A") else (a.shape[0], E + 1)
            np.save(os.path.join(d, f"blocks.0.{key}.npy"), np.full(shape, 0.1))
    copy("rank_above_width", rank_above_width)
    copy("in_proj_A_wrong_width", fx.put(block0 + "in_proj_lora_A", adapter("in_proj_lora_A")[:, :-1]))
    copy("in_proj_B_wrong_rows", fx.put(block0 + "in_proj_lora_B", adapter("in_proj_lora_B")[:-1]))
    copy("out_proj_B_wrong_rank", fx.put(block0 + "out_proj.lora_B",
                                         np.concatenate([adapter("out_proj.lora_B")] * 2, axis=1)))
    copy("ranks_differ", fx.put(block0 + "out_proj.lora_A", np.concatenate([adapter("out_proj.lora_A")] * 2)))

    def extra_block(d):  # an adapter for block 1 of a one-block model
        shutil.copy(os.path.join(d, block0 + "in_proj_lora_A.npy"),
                    os.path.join(d, "blocks.1.self_attn.in_proj_lora_A.npy"))
    copy("adapter_for_missing_block", extra_block)
    copy("missing_out_proj_B", fx.remove(block0 + "out_proj.lora_B"))
    copy("missing_all_adapters", lambda d: [os.remove(os.path.join(d, f"blocks.0.{k}.npy")) for k in ADAPTERS])


def main():
    # not fx.begin: the model is made in float32, PyTorch's default, then turned to float64 (.double()),
    # as chapter 16's script does
    torch.manual_seed(18)
    lora_case("one_layer_rank2", V=11, n_ctx=8, E=8, H=2, Fd=16, layers=1, T=6, r=2, alpha=5.0)
    lora_case("two_layers_rank1", V=13, n_ctx=7, E=12, H=3, Fd=20, layers=2, T=7, r=1)
    lora_case("rank_equals_width", V=9, n_ctx=6, E=4, H=2, Fd=8, layers=1, T=5, r=4, alpha=0.5)
    # the malformed cases start from a model of the smallest sizes (a few kB per case)
    small = lora_case("bad_base", V=6, n_ctx=5, E=4, H=2, Fd=4, layers=1, T=4, r=2)
    bad_cases(small)
    shutil.rmtree(small)
    # last, so that the cases above draw the same numbers as before it was added
    lora_case("float32", V=10, n_ctx=6, E=8, H=4, Fd=12, layers=2, T=6, r=3, alpha=2.0, dtype=np.float32)


if __name__ == "__main__":
    main()
