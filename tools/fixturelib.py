"""What the fixture scripts share: where a chapter's fixtures go, how arrays are saved, args.txt, and
malformed copies of a valid case.

Each chapter's script, chapters/NN_slug/make_fixtures.py, starts with

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
    import fixturelib as fx

    CASES, BAD = fx.fixture_dirs(__file__)   # chapters/NN_slug/fixtures/ and chapters/NN_slug/fixtures/bad/

and writes one folder per case: each array as <name>.npy under the name PyTorch gives it (a state_dict
key such as self_attn.in_proj_weight, <name>.grad for what autograd left in .grad), and args.txt, the
flags the chapter program is run with on that case (`chNN --load CASE <args.txt>`). A malformed case
(fixtures/bad/) is a copy of a valid one with one thing wrong and the expected outputs left out.
Everything is written from fixed seeds: the same bytes on every run. Only numpy is needed here;
begin() imports torch.
"""
import glob
import importlib.util
import os
import shutil

import numpy as np

# the repository: this file is tools/fixturelib.py
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def chapter_dir(nn):
    """chapters/NN_slug/ of chapter NN ("02")."""
    found = glob.glob(os.path.join(ROOT, "chapters", nn + "_*", ""))
    if len(found) != 1:
        raise SystemExit(f"fixturelib: no single chapters/{nn}_*/ folder (found {len(found)})")
    return os.path.dirname(found[0])


def fixture_dirs(script):
    """(chapters/NN_slug/fixtures, chapters/NN_slug/fixtures/bad) of the chapter whose script this is."""
    cases = os.path.join(os.path.dirname(os.path.abspath(script)), "fixtures")
    return cases, os.path.join(cases, "bad")


def chapter_script(nn):
    """Chapter NN's make_fixtures.py as a module (chapter 17 builds on chapter 16's TinyGPT)."""
    spec = importlib.util.spec_from_file_location(f"make_fixtures_{nn}",
                                                  os.path.join(chapter_dir(nn), "make_fixtures.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def begin(seed, *fresh):
    """Seeds PyTorch, makes float64 its default dtype, and removes the folders in `fresh` (the previous
    run's output) so that a case dropped from the script does not linger."""
    import torch

    torch.manual_seed(seed)
    torch.set_default_dtype(torch.float64)
    for d in fresh:
        shutil.rmtree(d, ignore_errors=True)


def array(t):
    """A torch tensor (detached) or anything numpy takes, as a C-ordered numpy array."""
    a = t.detach().numpy() if hasattr(t, "detach") else np.asarray(t)
    return a if a.flags.c_contiguous else a.copy(order="C")


def save(d, name, t, dtype=None):
    """d/<name>.npy, as `dtype` if given (the folder is made if needed)."""
    os.makedirs(d, exist_ok=True)
    a = array(t)
    np.save(os.path.join(d, name + ".npy"), a if dtype is None else a.astype(dtype))


def save_all(d, named, dtype=None, suffix=""):
    """save() of each (name, tensor) pair, or of each item of a dict (a state_dict), as <name><suffix>."""
    for name, t in named.items() if hasattr(named, "items") else named:
        save(d, name + suffix, t, dtype)


def save_grads(d, named):
    """<name>.grad.npy of each (name, tensor) pair: what backward() left in the tensor's .grad."""
    for name, t in named.items() if hasattr(named, "items") else named:
        save(d, name + ".grad", t.grad)


def exactly(t, dtype):
    """t rounded to `dtype` and back to float64: the numbers a file saved as `dtype` holds."""
    import torch

    return torch.from_numpy(array(t).astype(dtype).astype(np.float64))


def write_args(d, flags=""):
    """d/args.txt: the program's flags for this case ("--heads 2"; empty: the defaults)."""
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "args.txt"), "w") as f:
        f.write(flags + "\n")


def bad_case(bad, name, good, change, leave_out=()):
    """bad/<name>: a copy of the valid case `good` without the files matching `leave_out` (its expected
    outputs, e.g. "output.npy", "*.grad.npy", "expected"), then change(folder)."""
    d = os.path.join(bad, name)
    shutil.copytree(good, d, ignore=shutil.ignore_patterns(*leave_out))
    change(d)
    return d


# Changes for bad_case: each returns a function of the case's folder.

def put(name, a):
    """<name>.npy replaced by the array a."""
    return lambda d: np.save(os.path.join(d, name + ".npy"), a)


def remove(name):
    """<name>.npy removed."""
    return lambda d: os.remove(os.path.join(d, name + ".npy"))


def truncate(name, nbytes):
    """<name>.npy with its last `nbytes` bytes cut off (its header promises more data than there is)."""
    def change(d):
        path = os.path.join(d, name + ".npy")
        with open(path, "rb") as f:
            data = f.read()
        with open(path, "wb") as f:
            f.write(data[:-nbytes])
    return change
