#!/usr/bin/python3
"""Makes the bad inputs that tests/cli/test_bad_input.c feeds to every subcommand that reads
a cmact file: for each good file given (a session, a dataset, a model, all written by cmact),
copies that are not HDF5, empty, truncated, bit-flipped, of another kind, missing their main
dataset, or holding it with the wrong dtype. Uses h5py as an outside tool would.

usage: make_bad_inputs.py OUTDIR KIND=GOOD_FILE...
Prints one line per file made: NAME<TAB>KIND it was made from.
"""
import os
import random
import shutil
import sys

import h5py
import numpy as np

out = sys.argv[1]
goods = dict(a.split("=", 1) for a in sys.argv[2:])
made = []


def emit(name, kind):
    made.append((name, kind))


def copy(kind, name):
    path = f"{out}/{name}.h5"
    shutil.copy(goods[kind], path)
    return path


# main array of each kind: the one its readers cannot do without
MAIN = {"dataset": "pretrain/imu"}


def first_array(f):
    found = []
    if "weights" in f:  # a model: its first weight tensor, not the optional history
        f = f["weights"]

    def visit(name, obj):
        if isinstance(obj, h5py.Dataset) and obj.ndim >= 1 and obj.dtype.kind in "fiu" and not found:
            if obj.shape[0] > 0:
                found.append(name)

    f.visititems(visit)
    return (f.name.strip("/") + "/" if f.name != "/" else "") + found[0]


with open(f"{out}/not_hdf5.h5", "w") as f:
    f.write("this is a text file, not HDF5\n")
emit("not_hdf5", "any")
open(f"{out}/empty.h5", "w").close()
emit("empty", "any")
with h5py.File(f"{out}/plain_hdf5.h5", "w") as f:
    f.create_dataset("x", data=np.arange(10))
emit("plain_hdf5", "any")

rng = random.Random(7)
for kind, good in goods.items():
    size = os.path.getsize(good)
    for frac in (0.1, 0.5, 0.9):
        p = f"{out}/{kind}_truncated_{int(frac * 100)}.h5"
        with open(good, "rb") as src, open(p, "wb") as dst:
            dst.write(src.read(int(size * frac)))
        emit(f"{kind}_truncated_{int(frac * 100)}", kind)
    for k in range(3):
        p = copy(kind, f"{kind}_bitflip_{k}")
        with open(p, "r+b") as f:
            data = bytearray(f.read())
            # flip bytes in the first 64 KiB (superblock, object headers, B-trees) and a few later
            for _ in range(40):
                i = rng.randrange(0, min(len(data), 65536))
                data[i] ^= 1 << rng.randrange(8)
            f.seek(0)
            f.write(data)
        emit(f"{kind}_bitflip_{k}", kind)
    p = copy(kind, f"{kind}_missing_main")
    with h5py.File(p, "r+") as f:
        name = MAIN.get(kind) or first_array(f)
        del f[name]
    emit(f"{kind}_missing_main", kind)
    p = copy(kind, f"{kind}_wrong_dtype")
    with h5py.File(p, "r+") as f:
        name = MAIN.get(kind) or first_array(f)
        d = f[name]
        attrs = dict(d.attrs)
        shape = d.shape
        del f[name]
        nd = f.create_dataset(name, data=np.full(shape, b"xx", dtype="S2"))
        for a, v in attrs.items():
            nd.attrs[a] = v
    emit(f"{kind}_wrong_dtype", kind)
    p = copy(kind, f"{kind}_no_attrs")
    with h5py.File(p, "r+") as f:
        for a in list(f.attrs):
            del f.attrs[a]
    emit(f"{kind}_no_attrs", kind)

if "model" in goods:
    p = copy("model", "model_nan_weight")
    with h5py.File(p, "r+") as f:
        d = f[first_array(f)]
        a = d[...]
        a.flat[0] = np.nan
        d[...] = a
    emit("model_nan_weight", "model")

for name, kind in made:
    print(f"{name}\t{kind}")
