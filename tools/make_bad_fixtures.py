#!/usr/bin/env python3
"""Writes tests/fixtures/bad_common/: malformed inputs for the shared .npy loaders (common/npy.hpp).

Run with numpy (Debian's python3-numpy; PyTorch is not needed):

    /usr/bin/python3 tools/make_bad_fixtures.py

Each case is a copy of one valid PyTorch fixture directory (chapters/NN_slug/fixtures/<case>/) with
one file replaced: an empty array, a NaN, an infinity, a value above the loaders' bound of 1e15, a
0-d array, the wrong dtype, or a header that does not match its data. chapters/NN_slug/programs.cmake
runs the chapter programs on them and expects one line on stderr and exit 2. Two cases hold valid
values at the bound (1e15) and must run cleanly. What git cannot hold (a directory, a FIFO,
/dev/zero, a symlink loop in place of a file) is made at test time by tools/expect_error_special.sh.
Same output on every run.
"""
import os
import shutil
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fixturelib as fx  # noqa: E402

OUT = os.path.join(fx.ROOT, "tests", "fixtures", "bad_common")


def raw_npy(path, descr, shape, data=b""):
    """A .npy file written by hand: any header, any data (numpy refuses to write inconsistent ones)."""
    header = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, shape)
    header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode() + data)


def base_case(nn, name):
    """chapters/NN_slug/fixtures/<name>: a valid PyTorch case of chapter NN."""
    return os.path.join(fx.chapter_dir(nn), "fixtures", name)


def case(name, base, **replace):
    """tests/fixtures/bad_common/<name>: a copy of the case folder `base` with files replaced. Each
    keyword is a file name (dots as '__') and its value an array, or a function writing the file.
    Left out of the copy: args.txt (flags come from the test, not from the copied case) and the valid
    case's expected outputs (they would only confuse a reader)."""
    def change(d):
        for key, value in replace.items():
            path = os.path.join(d, key.replace("__", ".") + ".npy")
            if callable(value):
                value(path)
            else:
                np.save(path, value)

    fx.bad_case(OUT, name, base, change, leave_out=("args.txt", "output.npy", "weights.npy", "attn_output.npy",
                                                    "attn_output_weights.npy", "h_n.npy"))


def load(base, name):
    return np.load(os.path.join(base, name + ".npy"))


def with_entry(a, index, value):
    b = a.astype(np.float64).copy()
    b[index] = value
    return b


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)

    # chapters 02 and 12: query (3, 4), key (5, 4), value (5, 2)
    att = base_case("02", "small")
    q, k, v = (load(att, n) for n in ("query", "key", "value"))
    case("attention_no_keys", att, key=np.zeros((0, 4)), value=np.zeros((0, 2)))  # S = 0
    case("attention_zero_width", att, query=np.zeros((3, 0)), key=np.zeros((5, 0)))  # E = 0
    case("attention_value_zero_width", att, value=np.zeros((5, 0)))  # Ev = 0
    # (0, 999999999999): no data at all, so a size check that skips 0 lets it through
    case("attention_query_zero_by_huge", att, query=lambda p: raw_npy(p, "<f8", "(0, 999999999999)"))
    case("attention_query_nan", att, query=with_entry(q, (0, 1), np.nan))
    case("attention_key_inf", att, key=with_entry(k, (2, 3), -np.inf))
    case("attention_query_1e300", att, query=q * 1e300)  # q k^T overflows to inf
    case("attention_value_1e300", att, value=v * 1e300)  # chapter 12's self-check failed here
    case("attention_key_above_limit", att, key=with_entry(k, (0, 0), 1.0000001e15))
    case("attention_query_bool", att, query=q > 0)  # bool where floats are expected
    case("attention_query_int64", att, query=(10 * q).astype(np.int64))  # token ids are not features
    case("attention_query_0d", att, query=np.float64(1.5))  # a scalar where a matrix is expected
    # valid: values at the bound compute without overflow and pass every self-check
    case("attention_values_at_limit", att, query=q * 1e15 / np.abs(q).max(), value=v * 1e15 / np.abs(v).max())

    # chapters 04 and 05: torch.nn.MultiheadAttention with L = S = 5, E = 6 and a causal attn_mask
    mha = base_case("04", "causal")
    mask = load(mha, "attn_mask")
    # float64 data behind a '|b1' header: 8 bytes per entry where the header promises 1
    case("mha_mask_floats_marked_bool", mha,
         attn_mask=lambda p: raw_npy(p, "|b1", mask.shape, mask.astype(np.float64).tobytes()))
    # a bool header over bytes that are not all 0 or 1 (the size fits: one byte per entry)
    case("mha_mask_bytes_not_bool", mha,
         attn_mask=lambda p: raw_npy(p, "|b1", mask.shape, bytes([0, 1, 2, 1, 0] * 5)))
    case("mha_in_proj_weight_1e300", mha, in_proj_weight=load(mha, "in_proj_weight") * 1e300)
    case("mha_out_proj_bias_nan", mha, out_proj__bias=with_entry(load(mha, "out_proj.bias"), 3, np.nan))
    case("mha_key_no_rows", mha, key=np.zeros((0, 6)), value=np.zeros((0, 6)))

    # chapter 09: conv1d input (2, 8), weight (3, 2, 3); conv2d input (2, 6, 7), weight (4, 2, 3, 3)
    c1 = base_case("09", "conv1d_plain")
    c2 = base_case("09", "conv2d_plain")
    case("conv1d_kernel_zero", c1, weight=np.zeros((3, 2, 0)))  # "the kernel spans 0" (size_t underflow)
    case("conv2d_kernel_zero_width", c2, weight=np.zeros((4, 2, 3, 0)))
    case("conv2d_input_1e300", c2, input=load(c2, "input") * 1e300)
    case("conv1d_bias_inf", c1, bias=with_entry(load(c1, "bias"), 1, np.inf))
    case("conv1d_input_no_channels", c1, input=np.zeros((0, 8)))

    # chapter 10: torch.nn.RNN, input (5, 2), H = 3
    rnn = base_case("10", "with_h0")
    case("rnn_h0_nan", rnn, h0=with_entry(load(rnn, "h0"), (0, 0), np.nan))
    case("rnn_weight_hh_1e300", rnn, weight_hh_l0=load(rnn, "weight_hh_l0") * 1e300)
    case("rnn_no_hidden_units", rnn, weight_ih_l0=np.zeros((0, 2)))  # H = 0

    # chapter 11: torch.nn.TransformerEncoderLayer, src (5, 8), E = 8, F = 16
    enc = base_case("11", "post_norm")
    case("encoder_src_no_rows", enc, src=np.zeros((0, 8)))  # L = 0
    case("encoder_zero_width", enc, src=np.zeros((5, 0)), self_attn__in_proj_weight=np.zeros((0, 0)))  # E = 0
    case("encoder_linear1_no_rows", enc, linear1__weight=np.zeros((0, 8)), linear1__bias=np.zeros(0))  # F = 0
    case("encoder_src_1e300", enc, src=load(enc, "src") * 1e300)
    case("encoder_norm1_weight_inf", enc, norm1__weight=with_entry(load(enc, "norm1.weight"), 2, np.inf))
    # valid: every input and weight at the bound; chapter 11's longest chain stays finite
    big = {k.replace(".", "__"): load(enc, k) * 1e15 / np.abs(load(enc, k)).max()
           for k in ("src", "self_attn.in_proj_weight", "self_attn.out_proj.weight", "linear1.weight",
                     "linear2.weight", "norm1.weight", "norm2.weight")}
    case("encoder_values_at_limit", enc, **big)
    print("wrote", OUT)


if __name__ == "__main__":
    main()
