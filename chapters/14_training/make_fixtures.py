#!/usr/bin/env python3
"""Writes the PyTorch fixtures of chapter 14 (training).

Run with Debian's PyTorch (apt-get install python3-torch):

    /usr/bin/python3 chapters/14_training/make_fixtures.py

Everything is float64, from fixed seeds (the same files on every run), under chapters/14_training/fixtures/:

  layer_norm/        x, weight, bias, grad_output and torch.nn.functional.layer_norm's x.grad,
                     weight.grad, bias.grad (eps 1e-5), for the tests
  adamw_default/,    p0.npy (3, 4), grads.npy (S, 3, 4) and params.npy (S, 3, 4): the parameter after
  adamw_custom/      each of S torch.optim.AdamW steps (foreach=False, the single-tensor code) fed those
                     gradients; options.npy = [lr, beta1, beta2, eps, weight_decay]
  grad_<case>/       a torch.nn.TransformerEncoderLayer (dropout 0, ReLU): src.npy, its state_dict as
                     <key>.npy, grad_output.npy, and what output.backward(grad_output) gives:
                     output.npy, src.grad.npy, <key>.grad.npy; args.txt holds the program's flags
  train_<case>/      the same layer with target.npy: expected/losses.npy holds mean((layer(src) −
                     target)²) before each of N AdamW steps, expected/<key>.npy the parameters after
                     them; args.txt the flags (--train-steps N --lr --weight-decay)
  first_steps/       the tiny encoder of chapter 14 (below): its initial state_dict, N batches of the
                     digit-reversal task (inputs.npy, targets.npy, (N, B, L) int64), losses.npy (N,):
                     the cross-entropy before each of N AdamW steps (again in expected/), and
                     expected/<key>.npy after them

and malformed cases under chapters/14_training/fixtures/bad/ for the error tests.
"""
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
import fixturelib as fx  # noqa: E402
from fixturelib import save  # noqa: E402

OUT, BAD = fx.fixture_dirs(__file__)


def perturbed_layer(E, H, Fd, norm_first):
    # away from PyTorch's init (zero biases and identity norms would hide mistakes in those terms)
    layer = torch.nn.TransformerEncoderLayer(E, H, Fd, dropout=0.0, norm_first=norm_first)
    with torch.no_grad():
        for p in layer.parameters():
            p.add_(0.2 * torch.randn_like(p))
    return layer


def layer_norm_case():
    d = os.path.join(OUT, "layer_norm")
    x = (2.0 * torch.randn(5, 7) + 1.0).requires_grad_()
    w = (1.0 + 0.3 * torch.randn(7)).requires_grad_()
    b = (0.3 * torch.randn(7)).requires_grad_()
    g = torch.randn(5, 7)
    y = F.layer_norm(x, (7,), w, b, 1e-5)
    y.backward(g)
    inputs = [("x", x), ("weight", w), ("bias", b)]
    fx.save_all(d, inputs + [("grad_output", g)])
    fx.save_grads(d, inputs)


def adamw_case(name, lr, betas, eps, wd, steps):
    d = os.path.join(OUT, name)
    p = torch.randn(3, 4)
    save(d, "p0", p)
    grads = torch.randn(steps, 3, 4)
    grads[:, 0, 0] = 0.0          # a parameter that never gets a gradient: only the decay moves it
    grads[:, 1, :] *= 100.0       # large gradients: the step is still about lr
    grads[:, 2, 3] *= 1e-6        # tiny ones: m̂ / (√v̂ + ε) is still about ±1
    param = torch.nn.Parameter(p.clone())
    opt = torch.optim.AdamW([param], lr=lr, betas=betas, eps=eps, weight_decay=wd, foreach=False)
    after = []
    for s in range(steps):
        param.grad = grads[s].clone()
        opt.step()
        after.append(param.detach().clone())
    save(d, "grads", grads)
    save(d, "params", torch.stack(after))
    save(d, "options", torch.tensor([lr, betas[0], betas[1], eps, wd]))


def grad_case(name, L, E, H, Fd, norm_first):
    d = os.path.join(OUT, "grad_" + name)
    layer = perturbed_layer(E, H, Fd, norm_first).train()  # dropout 0: train mode runs autograd's path
    src = torch.randn(L, E).requires_grad_()
    grad_output = torch.randn(L, E)
    output = layer(src)
    output.backward(grad_output)
    save(d, "src", src)
    fx.save_all(d, layer.state_dict())
    save(d, "grad_output", grad_output)
    save(d, "output", output)
    fx.save_grads(d, [("src", src)] + list(layer.named_parameters()))
    fx.write_args(d, f"--heads {H}" + (" --norm-first" if norm_first else ""))


def train_case(name, L, E, H, Fd, norm_first, steps, lr, wd):
    d = os.path.join(OUT, "train_" + name)
    layer = perturbed_layer(E, H, Fd, norm_first).train()
    src = torch.randn(L, E)
    target = torch.randn(L, E)
    save(d, "src", src)
    save(d, "target", target)
    fx.save_all(d, layer.state_dict())
    opt = torch.optim.AdamW(layer.parameters(), lr=lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=wd,
                            foreach=False)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = F.mse_loss(layer(src), target)
        losses.append(loss.item())
        loss.backward()
        opt.step()
    e = os.path.join(d, "expected")
    save(e, "losses", torch.tensor(losses))
    fx.save_all(e, layer.state_dict())
    fx.write_args(d, f"--heads {H}" + (" --norm-first" if norm_first else "") +
                  f" --train-steps {steps} --lr {lr} --weight-decay {wd}")


class TinyEncoder(torch.nn.Module):
    """Chapter 14's model: logits = head(layers(tok[ids] + pos)), no mask."""

    def __init__(self, V, L, E, H, Fd, n_layers, norm_first):
        super().__init__()
        self.tok = torch.nn.Embedding(V, E)
        self.pos = torch.nn.Parameter(torch.randn(L, E))  # N(0, 1), as an Embedding
        self.layers = torch.nn.ModuleList(
            torch.nn.TransformerEncoderLayer(E, H, Fd, dropout=0.0, batch_first=True, norm_first=norm_first)
            for _ in range(n_layers))
        self.head = torch.nn.Linear(E, V)

    def forward(self, ids):  # ids (B, L) int64 -> logits (B, L, V)
        x = self.tok(ids) + self.pos
        for layer in self.layers:
            x = layer(x)
        return self.head(x)


def first_steps(V=10, L=6, E=16, H=2, Fd=32, n_layers=2, steps=5, B=4, lr=3e-3, wd=0.01):
    d = os.path.join(OUT, "first_steps")
    model = TinyEncoder(V, L, E, H, Fd, n_layers, norm_first=False).train()
    fx.save_all(d, model.state_dict())
    inputs = torch.randint(0, V, (steps, B, L))
    targets = torch.flip(inputs, dims=[2])  # the reversal task
    opt = torch.optim.AdamW(model.parameters(), lr=lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=wd,
                            foreach=False)
    losses = []
    for s in range(steps):
        opt.zero_grad()
        logits = model(inputs[s])
        loss = F.cross_entropy(logits.reshape(-1, V), targets[s].reshape(-1))
        losses.append(loss.item())
        loss.backward()
        opt.step()
    save(d, "inputs", inputs)
    save(d, "targets", targets)
    save(d, "losses", torch.tensor(losses))              # read by the program, shown side by side
    save(os.path.join(d, "expected"), "losses", torch.tensor(losses))  # compared by the test
    fx.save_all(os.path.join(d, "expected"), model.state_dict())
    fx.write_args(d, f"--heads {H} --lr {lr} --weight-decay {wd}")


def bad_cases():
    def bad(name, source, change):
        fx.bad_case(BAD, name, os.path.join(OUT, source), change, leave_out=("expected",))

    bad("grad_output_wrong_shape", "grad_post_norm", fx.put("grad_output", np.zeros((5, 9))))
    bad("grad_output_rank_1", "grad_post_norm", fx.put("grad_output", np.zeros(8)))
    bad("grad_output_nan", "grad_post_norm", fx.put("grad_output", np.full((5, 8), np.nan)))
    bad("target_wrong_shape", "train_post_norm", fx.put("target", np.zeros((4, 8))))
    bad("neither_grad_output_nor_target", "grad_post_norm", fx.remove("grad_output"))
    bad("both_grad_output_and_target", "grad_post_norm", fx.put("target", np.zeros((5, 8))))
    bad("norm2_bias_wrong_length", "grad_post_norm", fx.put("norm2.bias", np.zeros(7)))
    bad("inputs_id_too_large", "first_steps", fx.put("inputs", np.full((5, 4, 6), 10, dtype=np.int64)))
    bad("inputs_float", "first_steps", fx.put("inputs", np.zeros((5, 4, 6))))
    bad("targets_wrong_shape", "first_steps", fx.put("targets", np.zeros((5, 4, 5), dtype=np.int64)))
    bad("inputs_wrong_length", "first_steps", fx.put("inputs", np.zeros((5, 4, 7), dtype=np.int64)))
    bad("missing_layer_key", "first_steps", fx.remove("layers.1.linear2.bias"))
    bad("head_weight_wrong_vocab", "first_steps", fx.put("head.weight", np.zeros((9, 16))))
    bad("losses_wrong_length", "first_steps", fx.put("losses", np.zeros(4)))


def main():
    torch.set_num_threads(1)
    fx.begin(14, OUT)
    layer_norm_case()
    adamw_case("adamw_default", lr=1e-3, betas=(0.9, 0.999), eps=1e-8, wd=0.01, steps=6)
    adamw_case("adamw_custom", lr=0.05, betas=(0.8, 0.95), eps=1e-6, wd=0.3, steps=6)
    grad_case("post_norm", L=5, E=8, H=2, Fd=16, norm_first=False)
    grad_case("pre_norm", L=5, E=8, H=2, Fd=16, norm_first=True)
    grad_case("post_norm_4_heads", L=7, E=12, H=4, Fd=20, norm_first=False)
    grad_case("pre_norm_1_head", L=3, E=6, H=1, Fd=10, norm_first=True)
    train_case("post_norm", L=5, E=8, H=2, Fd=16, norm_first=False, steps=6, lr=0.01, wd=0.1)
    train_case("pre_norm", L=4, E=12, H=3, Fd=20, norm_first=True, steps=5, lr=0.001, wd=0.01)
    first_steps()
    bad_cases()
    print("wrote", OUT, "and", BAD)


if __name__ == "__main__":
    main()
