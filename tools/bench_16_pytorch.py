#!/usr/bin/env python3
"""The PyTorch side of bench/bench_16_tiny_gpt.cpp: chapter 16's TinyGPT in PyTorch 1.13 eager mode on
the CPU (Debian's python3-torch), float64, one thread, trained with torch.optim.AdamW on random windows
— the same sizes, batch and optimizer as the C++ side.

    /usr/bin/python3 tools/bench_16_pytorch.py V N_CTX E H F LAYERS B

The model is chapters/16_tiny_gpt/make_fixtures.py's TinyGPT on a batch (batch_first=True: the same layers, the
same causal mask for every window). It builds the model, runs 2 warm-up steps, prints "ready bench_16", then
answers each line "round K" from stdin with the seconds K training steps took (time.perf_counter),
until "quit". The C++ bench starts it and alternates rounds with its own.
"""
import sys

import torch
import torch.nn.functional as F

from bench_protocol import serve_rounds


class TinyGPT(torch.nn.Module):
    def __init__(self, vocab, n_ctx, d_model, n_heads, d_ff, n_layers):
        super().__init__()
        self.tok = torch.nn.Embedding(vocab, d_model)
        self.pos = torch.nn.Embedding(n_ctx, d_model)
        self.blocks = torch.nn.ModuleList(torch.nn.TransformerEncoderLayer(
            d_model, n_heads, d_ff, dropout=0.0, activation="gelu", norm_first=True, batch_first=True)
            for _ in range(n_layers))
        self.norm = torch.nn.LayerNorm(d_model)
        self.head = torch.nn.Linear(d_model, vocab, bias=False)

    def forward(self, idx):                                   # idx (B, T) int64
        T = idx.shape[1]
        x = self.tok(idx) + self.pos(torch.arange(T))
        causal = torch.ones(T, T, dtype=torch.bool).triu(1)
        for block in self.blocks:
            x = block(x, src_mask=causal)
        return self.head(self.norm(x))                        # (B, T, vocab)


def main():
    V, T, E, H, Fd, n_layers, B = (int(a) for a in sys.argv[1:8])
    torch.set_num_threads(1)
    torch.set_default_dtype(torch.float64)
    torch.manual_seed(0)
    model = TinyGPT(V, T, E, H, Fd, n_layers).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-8,
                                  weight_decay=0.1, foreach=False)
    idx = torch.randint(0, V, (B, T))
    targets = torch.randint(0, V, (B, T))

    def step():
        optimizer.zero_grad()
        loss = F.cross_entropy(model(idx).reshape(-1, V), targets.reshape(-1))
        loss.backward()
        optimizer.step()

    for _ in range(2):
        step()
    serve_rounds("bench_16", step)


if __name__ == "__main__":
    main()
