#!/usr/bin/env python3
"""The PyTorch side of bench/bench_19_vision_transformer.cpp: chapter 19's TinyViT in PyTorch 1.13 eager
mode on the CPU (Debian's python3-torch), float64, one thread, trained with torch.optim.AdamW on random
images — the same sizes, batch and optimizer as the C++ side.

    /usr/bin/python3 tools/bench_19_pytorch.py S P E H F LAYERS B

The model is chapters/19_vision_transformer/make_fixtures.py's TinyViT (one channel, ten classes). It
builds the model, runs 2 warm-up steps, prints "ready bench_19", then answers each line "round K" from
stdin with the seconds K training steps took (time.perf_counter), until "quit". The C++ bench starts it
and alternates rounds with its own.
"""
import importlib.util
import os
import sys

import torch
import torch.nn.functional as F

from bench_protocol import serve_rounds

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def tiny_vit_class():
    """The TinyViT of chapter 19's fixture script (one definition of the module)."""
    path = os.path.join(ROOT, "chapters", "19_vision_transformer", "make_fixtures.py")
    spec = importlib.util.spec_from_file_location("make_fixtures_19", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.TinyViT


def main():
    S, P, E, H, Fd, n_layers, B = (int(a) for a in sys.argv[1:8])
    torch.set_num_threads(1)
    torch.set_default_dtype(torch.float64)
    torch.manual_seed(0)
    model = tiny_vit_class()(1, S, P, E, H, Fd, n_layers, 10).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-8,
                                  weight_decay=0.05, foreach=False)
    images = torch.randn(B, 1, S, S)
    labels = torch.randint(0, 10, (B,))

    def step():
        optimizer.zero_grad()
        loss = F.cross_entropy(model(images), labels)
        loss.backward()
        optimizer.step()

    for _ in range(2):
        step()
    serve_rounds("bench_19", step)


if __name__ == "__main__":
    main()
