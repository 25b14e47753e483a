#!/usr/bin/python3
"""Makes the corpus of broken cmact files that tests/schemas/test_validate.c feeds to
`cmact validate`: one file per kind of violation, each a copy of a valid file (written by
cmact itself) with exactly one thing broken, using h5py as an outside tool would.

usage: make_broken.py GOOD_SESSION GOOD_DATASET OUTDIR [GOOD_MODEL]
Prints one line per file: NAME<TAB>expected message fragment.
"""
import shutil
import sys

import h5py
import numpy as np

good_s, good_d, out = sys.argv[1:4]
good_m = sys.argv[4] if len(sys.argv) > 4 else None
cases = []


def case(name, src, expect, fn):
    path = f"{out}/{name}.h5"
    shutil.copy(src, path)
    if fn is not None:
        with h5py.File(path, "r+") as f:
            fn(f)
    cases.append((name, expect))


def replace(f, path, data):
    attrs = dict(f[path].attrs)
    del f[path]
    d = f.create_dataset(path, data=data, maxshape=(None,) + data.shape[1:], chunks=True)
    for k, v in attrs.items():
        d.attrs[k] = v


def swap_rows(f, path):
    d = f[path]
    a = d[...]
    a[3], a[4] = a[4].copy(), a[3].copy()
    a[4] = a[3] - 1000
    d[...] = a


case("wrong_kind", good_s, "unknown schema 'cmact.other'", lambda f: f.attrs.__setitem__("schema", "cmact.other"))
case("no_schema", good_s, "no 'schema' attribute", lambda f: f.attrs.__delitem__("schema"))
case("missing_dataset", good_s, "/events: missing dataset", lambda f: f.__delitem__("events"))
case("missing_attribute", good_s, "/streams/imu_left: missing attribute 'nominal_rate'",
     lambda f: f["streams/imu_left"].attrs.__delitem__("nominal_rate"))
case("wrong_attr_value", good_s, "attribute 'kind' has the unknown value 'radar'",
     lambda f: f["streams/audio"].attrs.__setitem__("kind", "radar"))
case("wrong_dtype", good_s, "/streams/imu_left/data: should hold float values",
     lambda f: replace(f, "streams/imu_left/data", f["streams/imu_left/data"][...].astype(np.int32)))
case("wrong_shape", good_s, "/streams/imu_left/data: dimension 1 should be 6",
     lambda f: replace(f, "streams/imu_left/data", f["streams/imu_left/data"][:, :5]))
case("time_backwards", good_s, "t_host_ns goes backwards at row 4",
     lambda f: swap_rows(f, "streams/imu_left/t_host_ns"))
case("nan_sample", good_s, "/streams/imu_left/data: sample 7 is not a number",
     lambda f: f["streams/imu_left/data"].__setitem__((7, 2), np.nan))


def bad_offset(f):
    d = f["streams/video/index"]
    a = d[...]
    a["offset"][5] += 3
    d[...] = a


case("index_inconsistent", good_s, "packet 5 starts at byte", bad_offset)


def bad_block(f):
    d = f["streams/audio/blocks"]
    a = d[...]
    a["n_frames"][-1] += 10
    d[...] = a


case("audio_blocks", good_s, "blocks cover", bad_block)


def bad_label(f):
    d = f["labels"]
    a = d[...]
    a["activity"][0] = b"swim"
    d[...] = a


case("unknown_label", good_s, "unknown activity 'swim'", bad_label)


def reversed_label(f):
    d = f["labels"]
    a = d[...]
    a["end_ns"][0] = a["start_ns"][0] - 1
    d[...] = a


case("label_interval", good_s, "interval 0 ends before it starts", reversed_label)


def bad_committed(f):
    d = f["committed"]
    a = d[...]
    a[3] = 10 ** 9
    d[...] = a


case("committed_too_many", good_s, "/committed says 1000000000 rows", bad_committed)


def uncommitted_rows(f):
    d = f["streams/imu_left/t_device_ns"]
    d.resize((d.shape[0] + 5,))


case("closed_with_uncommitted", good_s, "rows past the committed", uncommitted_rows)


def three_faults(f):
    f.attrs["user"] = np.int32(3)
    del f["clock/chrony"]
    swap_rows(f, "streams/imu_left/t_host_ns")


case("three_faults", good_s, "3 violations", three_faults)

# dataset files
def split_mismatch(f):
    d = f["test/label"]
    d.resize((d.shape[0] + 1,))


case("ds_split_sizes", good_d, "split sizes do not match", split_mismatch)
case("ds_label_range", good_d, "outside the 7 classes", lambda f: f["test/label"].__setitem__(0, 9))
case("ds_n_windows", good_d, "n_windows says", lambda f: f["test"].attrs.__setitem__("n_windows", 1))
case("ds_missing_array", good_d, "/test/imu: missing dataset", lambda f: f["test"].__delitem__("imu"))
case("ds_session_ref", good_d, "refers to session 40", lambda f: f["test/session"].__setitem__(2, 40))
case("ds_bad_uncertainty", good_d, "invalid uncertainty",
     lambda f: f["test/sync_uncertainty_s"].__setitem__(1, -1.0))

# model files: the network must load from its layer list and tensors (train/nn_check.c)
def model_replace(path, values):
    def fn(f):
        d = f[path]
        attrs = dict(d.attrs)
        del f[path]
        nd = f.create_dataset(path, data=np.asarray(values, dtype=np.float32))
        for k, v in attrs.items():
            nd.attrs[k] = v
    return fn


def model_nan(f):
    d = f["weights/output/kernel"]
    a = d[...]
    a.flat[3] = np.inf
    d[...] = a


if good_m:
    case("model_tensor_size", good_m, "tensor DENSE_1/kernel has 3 values", model_replace("weights/DENSE_1/kernel", [1, 2, 3]))
    case("model_nan_weight", good_m, "tensor output/kernel holds a value that is not a finite number", model_nan)
    case("model_layer_list", good_m, "layer list entry 'dense DENSE_1' is not understood",
         lambda f: f.attrs.__setitem__("layers", np.bytes_("dense DENSE_1")))
    case("model_classes_vs_output", good_m, "5 class names but the output layer has 7 units",
         lambda f: f.attrs.__setitem__("class_names", np.bytes_("a,b,c,d,e")))
    case("model_missing_tensor", good_m, "no tensor output/bias", lambda f: f["weights/output"].__delitem__("bias"))
    case("model_history_columns", good_m, "/history: has 3 columns but names 2",
         lambda f: f["history"].attrs.__setitem__("columns", np.bytes_("epoch,loss")))
    case("model_no_weights", good_m, "/weights: missing group", lambda f: f.__delitem__("weights"))

# not even HDF5
with open(f"{out}/not_hdf5.h5", "w") as f:
    f.write("hello\n")
cases.append(("not_hdf5", "not an HDF5 file"))
with open(good_s, "rb") as f:
    data = f.read()
with open(f"{out}/truncated.h5", "wb") as f:
    f.write(data[: len(data) // 3])
cases.append(("truncated", "truncated.h5"))

for name, expect in cases:
    print(f"{name}\t{expect}")
