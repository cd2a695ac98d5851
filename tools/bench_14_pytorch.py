#!/usr/bin/env python3
"""The PyTorch side of bench/bench_14_training.cpp: chapter 14's tiny encoder in PyTorch 1.13 eager
mode on the CPU (Debian's python3-torch), float64, one thread, trained with torch.optim.AdamW on the
digit-reversal task — the same sizes, batch and optimizer as the C++ side.

    /usr/bin/python3 tools/bench_14_pytorch.py V L E H F LAYERS B

It builds the model, runs 10 warm-up steps, prints "ready bench_14", then answers each line "round K" from
stdin with the seconds K training steps took (time.perf_counter), until "quit". The C++ bench starts
it and alternates rounds with its own, so both run under the same load.
"""
import sys

import torch
import torch.nn.functional as F

from bench_protocol import serve_rounds


class TinyEncoder(torch.nn.Module):
    """logits = head(layers(tok[ids] + pos)): chapters/14_training/make_fixtures.py's model."""

    def __init__(self, V, L, E, H, Fd, n_layers):
        super().__init__()
        self.tok = torch.nn.Embedding(V, E)
        self.pos = torch.nn.Parameter(torch.randn(L, E))
        self.layers = torch.nn.ModuleList(
            torch.nn.TransformerEncoderLayer(E, H, Fd, dropout=0.0, batch_first=True)
            for _ in range(n_layers))
        self.head = torch.nn.Linear(E, V)

    def forward(self, ids):
        x = self.tok(ids) + self.pos
        for layer in self.layers:
            x = layer(x)
        return self.head(x)


def main():
    V, L, E, H, Fd, n_layers, B = (int(a) for a in sys.argv[1:8])
    torch.set_num_threads(1)
    torch.set_default_dtype(torch.float64)
    torch.manual_seed(0)
    model = TinyEncoder(V, L, E, H, Fd, n_layers).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-8,
                                  weight_decay=0.01, foreach=False)
    ids = torch.randint(0, V, (B, L))
    targets = torch.flip(ids, dims=[1])

    def step():
        optimizer.zero_grad()
        loss = F.cross_entropy(model(ids).reshape(-1, V), targets.reshape(-1))
        loss.backward()
        optimizer.step()

    for _ in range(10):
        step()
    serve_rounds("bench_14", step)


if __name__ == "__main__":
    main()
