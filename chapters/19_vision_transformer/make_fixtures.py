#!/usr/bin/env python3
"""Writes the PyTorch fixtures of chapter 19 (a vision transformer).

Run with Debian's PyTorch (apt-get install python3-torch):

    /usr/bin/python3 chapters/19_vision_transformer/make_fixtures.py

Everything is float64 (one case float32 inputs), from fixed seeds, under
chapters/19_vision_transformer/fixtures/:

  <case>/   the TinyViT below with perturbed weights: its state_dict as <key>.npy, images.npy (B, C, S, S),
            logits.npy (B, K); with labels.npy (B,) int64 also loss.npy (shape ()), the mean
            cross-entropy, and <key>.grad.npy, what loss.backward() leaves in each parameter's .grad;
            args.txt holds the program's flags (--heads H)

and malformed cases under chapters/19_vision_transformer/fixtures/bad/ for the error tests.
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


# The model of chapter 19, verbatim.
class TinyViT(torch.nn.Module):
    def __init__(self, channels, image, patch, d_model, n_heads, d_ff, n_layers, classes):
        super().__init__()
        n = (image // patch) ** 2
        self.patch = torch.nn.Conv2d(channels, d_model, patch, stride=patch)   # chapter 08's patch order
        self.cls = torch.nn.Parameter(torch.zeros(1, d_model))
        self.pos = torch.nn.Parameter(torch.zeros(n + 1, d_model))
        self.blocks = torch.nn.ModuleList(torch.nn.TransformerEncoderLayer(
            d_model, n_heads, d_ff, dropout=0.0, activation="gelu", norm_first=True, batch_first=True)
            for _ in range(n_layers))
        self.norm = torch.nn.LayerNorm(d_model)
        self.head = torch.nn.Linear(d_model, classes)

    def forward(self, images):                                # images (B, C, image, image)
        x = self.patch(images).flatten(2).transpose(1, 2)     # (B, n, E), patch n = r * (W/P) + c
        x = torch.cat([self.cls.expand(x.shape[0], -1).unsqueeze(1), x], dim=1) + self.pos
        for block in self.blocks:
            x = block(x)                                      # no mask: every patch sees every patch
        return self.head(self.norm(x[:, 0]))                  # logits (B, classes), from the class token


def model_case(d, B, C, S, P, E, H, Fd, layers, K, labels=True, float32=False):
    shutil.rmtree(d, ignore_errors=True)
    model = TinyViT(C, S, P, E, H, Fd, layers, K).double()
    # away from PyTorch's init (zero cls and pos, zero biases and identity norms would hide mistakes)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.2 * torch.randn_like(p))
    model.train()  # dropout is 0: train and eval agree; train keeps PyTorch off its fused fast path
    images = torch.randn(B, C, S, S, dtype=torch.float64)
    state = model.state_dict()
    if float32:
        images = images.float().double()
        state = {k: v.float().double() for k, v in state.items()}
        model.load_state_dict(state)
        fx.save_all(d, {k: v.float() for k, v in state.items()})
        save(d, "images", images.float())
    else:
        fx.save_all(d, state)
        save(d, "images", images)
    logits = model(images)
    save(d, "logits", logits)
    if labels:
        y = torch.randint(0, K, (B,), dtype=torch.int64)
        y[0] = K - 1
        save(d, "labels", y)
        loss = F.cross_entropy(logits, y)
        loss.backward()
        save(d, "loss", loss.detach().reshape(()))
        fx.save_grads(d, model.named_parameters())
    fx.write_args(d, f"--heads {H}")
    return d


def bad_cases(src):
    shutil.rmtree(BAD, ignore_errors=True)

    def copy(name):
        return fx.bad_case(BAD, name, src, lambda d: None, leave_out=("logits.npy", "loss.npy", "*.grad.npy"))

    def load(d, name):
        return np.load(os.path.join(d, name + ".npy"))

    def put(d, name, a):
        np.save(os.path.join(d, name + ".npy"), a)

    images = load(src, "images")
    labels = load(src, "labels")
    K = load(src, "head.weight").shape[0]
    d = copy("images_patch_does_not_divide")
    put(d, "images", np.zeros(images.shape[:2] + (images.shape[2] + 1, images.shape[3] + 1)))
    d = copy("images_not_square")
    put(d, "images", images[:, :, :, :-2])
    d = copy("images_wrong_channels")
    put(d, "images", np.concatenate([images, images], axis=1))
    d = copy("images_rank3")
    put(d, "images", images[0])
    d = copy("labels_out_of_range")
    bad = labels.copy()
    bad[1] = K
    put(d, "labels", bad)
    d = copy("labels_negative")
    bad = labels.copy()
    bad[0] = -1
    put(d, "labels", bad)
    d = copy("labels_float")
    put(d, "labels", labels.astype(np.float64))
    d = copy("labels_int32")
    put(d, "labels", labels.astype(np.int32))
    d = copy("labels_wrong_length")
    put(d, "labels", labels[:-1])
    d = copy("cls_wrong_shape")
    c = load(d, "cls")
    put(d, "cls", np.concatenate([c, c], axis=0))
    d = copy("cls_wrong_width")
    put(d, "cls", load(d, "cls")[:, :-1])
    d = copy("pos_wrong_rows")
    put(d, "pos", load(d, "pos")[:-1])
    d = copy("pos_wrong_width")
    put(d, "pos", load(d, "pos")[:, :-1])
    d = copy("patch_bias_wrong")
    put(d, "patch.bias", load(d, "patch.bias")[:-1])
    d = copy("patch_not_square")
    put(d, "patch.weight", load(d, "patch.weight")[:, :, :, :-1])
    d = copy("head_bias_wrong")
    put(d, "head.bias", load(d, "head.bias")[:-1])
    d = copy("missing_head_bias")
    os.remove(os.path.join(d, "head.bias.npy"))
    d = copy("missing_block_key")
    os.remove(os.path.join(d, "blocks.0.linear2.weight.npy"))
    d = copy("in_proj_wrong_shape")
    put(d, "blocks.0.self_attn.in_proj_weight", load(d, "blocks.0.self_attn.in_proj_weight")[:-1])
    d = copy("no_blocks")
    for f in os.listdir(d):
        if f.startswith("blocks."):
            os.remove(os.path.join(d, f))
    d = copy("missing_images")
    os.remove(os.path.join(d, "images.npy"))


def main():
    torch.manual_seed(19)
    model_case(os.path.join(OUT, "one_layer"), B=3, C=1, S=8, P=4, E=8, H=2, Fd=16, layers=1, K=5)
    model_case(os.path.join(OUT, "two_layers_rgb"), B=2, C=3, S=6, P=2, E=12, H=3, Fd=20, layers=2, K=4)
    model_case(os.path.join(OUT, "patch_is_image"), B=4, C=2, S=5, P=5, E=8, H=4, Fd=8, layers=1, K=3)
    model_case(os.path.join(OUT, "logits_only"), B=2, C=1, S=9, P=3, E=6, H=2, Fd=10, layers=2, K=7,
               labels=False)
    model_case(os.path.join(OUT, "float32"), B=2, C=1, S=8, P=2, E=8, H=2, Fd=12, layers=1, K=10,
               float32=True)
    small = model_case(os.path.join(OUT, "bad_base"), B=2, C=1, S=4, P=2, E=4, H=2, Fd=4, layers=1, K=3)
    bad_cases(small)
    shutil.rmtree(small)


if __name__ == "__main__":
    main()
