#!/usr/bin/env python3
"""The PyTorch side of bench/bench_18_finetune.cpp: one fine-tuning step of chapter 16's TinyGPT (the
model of tools/bench_16_pytorch.py, its head tied to the embedding as chapter 18's pretrained model is)
in PyTorch 1.13 eager mode on the CPU (Debian's python3-torch), float64, one thread, on random windows.

    /usr/bin/python3 tools/bench_18_pytorch.py V N_CTX E H F LAYERS B KIND R ALPHA

KIND full: forward, cross-entropy, backward, torch.optim.AdamW over every parameter (lr 1e-3, weight
decay 0.1: chapter 18's (b)). KIND lora: the base frozen (requires_grad False), rank-R adapters on every
block's in_proj_weight and out_proj.weight (A uniform in ±1/√E, B zero), the effective weights
W + (ALPHA/R) B A passed to the model with torch.nn.utils.stateless.functional_call, AdamW over the
adapters only (lr 1e-2, no weight decay: chapter 18's (c)); chapter 18's make_fixtures.py computes its
logits the same way. It builds the model, runs 2 warm-up steps, prints "ready bench_18 KIND", then
answers each line "round K" from stdin with the seconds K steps took (time.perf_counter), "state" with
the bytes of AdamW's two moments (exp_avg, exp_avg_sq: counted from the optimizer's state), "threads"
with torch.get_num_threads(), until "quit". The C++ bench starts one per KIND and alternates rounds.
"""
import math
import sys

import torch
import torch.nn.functional as F

from bench_16_pytorch import TinyGPT
from bench_protocol import serve_rounds


def lora_logits(model, adapters, scale, idx):
    """The logits of the model with W + scale · B A as every block's two projections."""
    over = {}
    for i, (block, (A_in, B_in, A_out, B_out)) in enumerate(zip(model.blocks, adapters)):
        p = f"blocks.{i}.self_attn."
        over[p + "in_proj_weight"] = block.self_attn.in_proj_weight + scale * B_in @ A_in
        over[p + "out_proj.weight"] = block.self_attn.out_proj.weight + scale * B_out @ A_out
    return torch.nn.utils.stateless.functional_call(model, over, (idx,))


def main():
    V, T, E, H, Fd, n_layers, B = (int(a) for a in sys.argv[1:8])
    kind, r, alpha = sys.argv[8], int(sys.argv[9]), float(sys.argv[10])
    torch.set_num_threads(1)
    torch.set_default_dtype(torch.float64)
    torch.manual_seed(0)
    model = TinyGPT(V, T, E, H, Fd, n_layers).train()
    model.head.weight = model.tok.weight  # tied, as chapter 18's pretrained model
    idx = torch.randint(0, V, (B, T))
    targets = torch.randint(0, V, (B, T))
    if kind == "full":
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-8,
                                      weight_decay=0.1, foreach=False)

        def logits():
            return model(idx)
    elif kind == "lora":
        model.requires_grad_(False)
        bound = 1.0 / math.sqrt(E)
        adapters = [[torch.empty(r, E).uniform_(-bound, bound).requires_grad_(),
                     torch.zeros(3 * E, r, requires_grad=True),
                     torch.empty(r, E).uniform_(-bound, bound).requires_grad_(),
                     torch.zeros(E, r, requires_grad=True)] for _ in model.blocks]
        optimizer = torch.optim.AdamW([t for block in adapters for t in block], lr=1e-2,
                                      betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, foreach=False)

        def logits():
            return lora_logits(model, adapters, alpha / r, idx)
    else:
        sys.exit(f"bench_18_pytorch.py: KIND is full or lora, not {kind!r}")

    def step():
        optimizer.zero_grad()
        loss = F.cross_entropy(logits().reshape(-1, V), targets.reshape(-1))
        loss.backward()
        optimizer.step()

    def state_bytes():
        return sum(s[m].numel() * s[m].element_size() for s in optimizer.state.values()
                   for m in ("exp_avg", "exp_avg_sq"))

    for _ in range(2):
        step()
    serve_rounds(f"bench_18 {kind}", step,
                 {"state": state_bytes, "threads": torch.get_num_threads})


if __name__ == "__main__":
    main()
