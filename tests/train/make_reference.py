#!/usr/bin/python3
"""Reference tensors for the training engine's parity tests, computed with PyTorch.

Run with Debian's interpreter after `apt-get install python3-torch` (scripts/install-deps.sh
--bench):  /usr/bin/python3 tests/train/make_reference.py tests/data/train

Everything is computed in float64 (the engine runs float32, so the comparison measures the
engine's error, not PyTorch's). Layouts are the engine's: channels last, Keras kernel shapes
(dense [in, out], conv [k..., cin, cout]); the PyTorch calls get permuted views.

Whole models start from the engine's own Glorot initialisation and use its dropout masks:
both come from the counter-based generator of train/nn_rng.h, reimplemented below, so no
weights need to be stored. Large tensors are stored as 512 sampled elements plus the sum and
the sum of absolute values of the whole tensor, which keeps the committed files small.

File format (little-endian), a sequence after the magic b"CMTREF01":
  u32 name_len, name, u32 kind, u32 ndim, i64 dims[ndim], then
  kind 0: float32[prod(dims)]      kind 2: int32[prod(dims)]
  kind 1: u32 count, i64 index[count], float32 value[count], f64 sum, f64 sum_abs
"""
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
M64 = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15
TAG_INIT, TAG_DROPOUT = 1, 2
SAMPLED_ABOVE = 4096
SAMPLES = 512


# ---------------------------------------------------------------- nn_rng.h in numpy

def mix64_int(z):
    z &= M64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)


def nn_key(seed, tag, a, b):
    return mix64_int(mix64_int(mix64_int(seed ^ ((tag * GOLDEN) & M64)) + a) + b)


def nn_uniform(key, n):
    with np.errstate(over="ignore"):
        z = np.uint64(key) + (np.arange(n, dtype=np.uint64) + np.uint64(1)) * np.uint64(GOLDEN)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(40)).astype(np.float32) * np.float32(1.0 / 16777216.0)


# ---------------------------------------------------------------- writer

class RefWriter:
    def __init__(self, path):
        self.f = open(path, "wb")
        self.f.write(b"CMTREF01")

    def _head(self, name, kind, dims):
        nb = name.encode()
        self.f.write(struct.pack("<I", len(nb)) + nb + struct.pack("<II", kind, len(dims)))
        self.f.write(struct.pack("<%dq" % len(dims), *dims))

    def put(self, name, t, sample=True):
        a = t.detach().numpy() if torch.is_tensor(t) else np.asarray(t)
        if a.dtype.kind in "iu":
            self._head(name, 2, a.shape)
            self.f.write(a.astype("<i4").tobytes())
            return
        a64 = a.astype(np.float64)
        if sample and a.size > SAMPLED_ABOVE:
            rng = np.random.default_rng(len(name) * 7919 + a.size)
            idx = np.sort(rng.choice(a.size, SAMPLES, replace=False)).astype("<i8")
            self._head(name, 1, a.shape)
            self.f.write(struct.pack("<I", SAMPLES))
            self.f.write(idx.tobytes())
            self.f.write(a64.reshape(-1)[idx].astype("<f4").tobytes())
            self.f.write(struct.pack("<dd", a64.sum(), np.abs(a64).sum()))
        else:
            self._head(name, 0, a.shape)
            self.f.write(a64.astype("<f4").tobytes())

    def close(self):
        self.f.close()


def rand(rng, *shape, scale=1.0):
    """float32-representable random numbers (so the engine sees exactly the same input)."""
    return torch.tensor(rng.standard_normal(shape).astype(np.float32) * np.float32(scale),
                        dtype=torch.float64)


# ---------------------------------------------------------------- layers, channels last

def conv(x, W, b, same):
    """x [B, ..., cin], W [k..., cin, cout] with 1 or 3 spatial axes."""
    nd = W.dim() - 2
    perm_x = (0, nd + 1) + tuple(range(1, nd + 1))
    perm_w = (nd + 1, nd) + tuple(range(nd))
    ks = W.shape[:nd]
    pad = tuple((k - 1) // 2 for k in ks) if same else 0
    if same and any(k % 2 == 0 for k in ks):
        raise ValueError("even kernels are not used")
    f = F.conv1d if nd == 1 else F.conv3d
    y = f(x.permute(*perm_x), W.permute(*perm_w), b, padding=pad)
    back = (0,) + tuple(range(2, nd + 2)) + (1,)
    return y.permute(*back).contiguous()


def maxpool(x, p):
    nd = len(p)
    perm_x = (0, nd + 1) + tuple(range(1, nd + 1))
    f = F.max_pool1d if nd == 1 else F.max_pool3d
    y = f(x.permute(*perm_x), p)
    back = (0,) + tuple(range(2, nd + 2)) + (1,)
    return y.permute(*back).contiguous()


def dropout(x, rate, key):
    keep = torch.tensor(nn_uniform(key, x.numel()) >= np.float32(rate)).reshape(x.shape)
    return x * keep / (1.0 - rate)


# ---------------------------------------------------------------- models as the engine builds them

def dense_relu(spec, name, units):
    spec += [("dense", name, units), ("relu", name + "_relu")]


def imu_cnn_spec(n_classes):
    s = [("conv", "conv1", 16, (5,), True), ("relu", "conv1_relu"), ("pool", "pool1", (2,)),
         ("dropout", "drop1", 0.5), ("conv", "conv2", 16, (5,), True), ("relu", "conv2_relu"),
         ("pool", "pool2", (2,)), ("dropout", "drop2", 0.5), ("flatten", "flatten")]
    for n in ("dense", "DENSE_2", "DENSE_1"):
        dense_relu(s, n, 128)
    s.append(("dense", "output", n_classes))
    return s


def audio_mlp_spec(n_classes):
    s = []
    dense_relu(s, "fc1", 32)
    dense_relu(s, "fc2", 1024)
    s.append(("dropout", "drop2", 0.5))
    dense_relu(s, "fc3", 596)
    s.append(("dropout", "drop3", 0.5))
    dense_relu(s, "fc4", 128)
    s.append(("dropout", "drop4", 0.5))
    for n in ("fc5", "fc6", "fc7", "DENSE_2", "DENSE_1"):
        dense_relu(s, n, 128)
    s.append(("dense", "output", n_classes))
    return s


def video_spec(widths, fc, n_classes):
    s = []
    for i, w in enumerate(widths):
        s += [("conv", "conv%d" % (i + 1), w, (3, 3, 3), True), ("relu", "conv%d_relu" % (i + 1)),
              ("pool", "pool%d" % (i + 1), (1, 2, 2) if i == 0 else (2, 2, 2))]
    s.append(("flatten", "flatten"))
    dense_relu(s, "fc1", fc)
    s.append(("dropout", "drop_fc1", 0.5))
    dense_relu(s, "DENSE_2", 128)
    dense_relu(s, "DENSE_1", 128)
    s.append(("dense", "output", n_classes))
    return s


class Model:
    """The engine's sequential model in PyTorch, initialised as the engine initialises."""

    def __init__(self, spec, in_shape, seed):
        self.spec, self.seed, self.params = spec, seed, {}
        shape = list(in_shape)
        for index, l in enumerate(spec):
            kind, name = l[0], l[1]
            if kind == "dense":
                fin, fout = shape[0], l[2]
                wshape, shape = (fin, fout), [fout]
            elif kind == "conv":
                ks, cin, cout = l[3], shape[-1], l[2]
                k = int(np.prod(ks))
                fin, fout = k * cin, k * cout
                wshape = tuple(ks) + (cin, cout)
                sp = shape[:-1] if l[4] else [s - kk + 1 for s, kk in zip(shape[:-1], ks)]
                shape = list(sp) + [cout]
            elif kind == "pool":
                shape = [s // p for s, p in zip(shape[:-1], l[2])] + [shape[-1]]
                continue
            elif kind == "flatten":
                shape = [int(np.prod(shape))]
                continue
            else:
                continue
            limit = np.float32(np.sqrt(6.0 / (fin + fout)))
            u = nn_uniform(nn_key(seed, TAG_INIT, index, 0), int(np.prod(wshape)))
            w = ((np.float32(2.0) * u - np.float32(1.0)) * limit).astype(np.float32)
            self.params[name + "/kernel"] = torch.tensor(w.reshape(wshape), dtype=torch.float64,
                                                         requires_grad=True)
            self.params[name + "/bias"] = torch.zeros(wshape[-1], requires_grad=True)

    def forward(self, x, training, step):
        for index, l in enumerate(self.spec):
            kind, name = l[0], l[1]
            if kind == "dense":
                x = x @ self.params[name + "/kernel"] + self.params[name + "/bias"]
            elif kind == "conv":
                x = conv(x, self.params[name + "/kernel"], self.params[name + "/bias"], l[4])
            elif kind == "pool":
                x = maxpool(x, l[2])
            elif kind == "relu":
                x = torch.relu(x)
            elif kind == "dropout":
                if training:
                    x = dropout(x, l[2], nn_key(self.seed, TAG_DROPOUT, index, step))
            elif kind == "flatten":
                x = x.reshape(x.shape[0], -1)
        return x


def model_reference(w, tag, spec, in_shape, seed, batch, n_classes, opt, steps, rng, mse=False):
    """Train `steps` steps from the engine's initial weights; with mse, the model's output is
    regressed (Keras 'mse') onto random targets, as the knowledge-transfer student is."""
    model = Model(spec, in_shape, seed)
    x = rand(rng, batch, *in_shape).requires_grad_(True)
    labels = torch.tensor(rng.integers(0, n_classes, batch), dtype=torch.int64)
    w.put(tag + "/x", x, sample=False)
    w.put(tag + "/labels", labels.numpy().astype(np.int32))
    if mse:
        targets = rand(rng, batch, n_classes).abs()
        w.put(tag + "/targets", targets, sample=False)
    params = list(model.params.values())
    losses = []
    for step in range(steps):
        for p in params:
            p.grad = None
        if x.grad is not None:
            x.grad = None
        logits = model.forward(x, True, step)
        loss = F.mse_loss(logits, targets) if mse else F.cross_entropy(logits, labels)
        loss.backward()
        losses.append(loss.item())
        if step == 0:
            w.put(tag + "/logits", logits)
            w.put(tag + "/dx", x.grad)
            for name, p in model.params.items():
                w.put(tag + "/grad/" + name, p.grad)
            if opt is None:
                break
            o = opt(params)
        o.step()
    w.put(tag + "/losses", np.array(losses))
    if opt is not None:
        with torch.no_grad():
            for name, p in model.params.items():
                w.put(tag + "/final/" + name, p)
    # evaluation-mode forward of the final weights (no dropout)
    with torch.no_grad():
        w.put(tag + "/eval_logits", model.forward(x, False, 0))


def cut_after(spec, name):
    return spec[:[l[1] for l in spec].index(name) + 1]


def fusion_reference(w, tag, n_classes, seed, batch, opt, steps, rng):
    """The audio+IMU fusion model of train/nn_fusion.h: the IMU CNN and the audio MLP, each up
    to DENSE_1_relu (seeds seed and seed + 1), concatenated [imu | audio], then a dense output
    layer (seed + 2), under softmax cross-entropy; the optimizer runs over all parameters."""
    imu = Model(cut_after(imu_cnn_spec(n_classes), "DENSE_1_relu"), (40, 12), seed)
    audio = Model(cut_after(audio_mlp_spec(n_classes), "DENSE_1_relu"), (193,), seed + 1)
    head = Model([("dense", "output", n_classes)], (256,), seed + 2)
    parts = (("imu", imu), ("audio", audio), ("head", head))
    xi = rand(rng, batch, 40, 12).requires_grad_(True)
    xa = rand(rng, batch, 193).requires_grad_(True)
    labels = torch.tensor(rng.integers(0, n_classes, batch), dtype=torch.int64)
    w.put(tag + "/x_imu", xi, sample=False)
    w.put(tag + "/x_audio", xa, sample=False)
    w.put(tag + "/labels", labels.numpy().astype(np.int32))
    params = [p for _, m in parts for p in m.params.values()]

    def forward(training, step):
        z = torch.cat([imu.forward(xi, training, step), audio.forward(xa, training, step)], dim=1)
        return head.forward(z, training, step)

    o, losses = opt(params), []
    for step in range(steps):
        for p in params + [xi, xa]:
            p.grad = None
        logits = forward(True, step)
        loss = F.cross_entropy(logits, labels)
        loss.backward()
        losses.append(loss.item())
        if step == 0:
            w.put(tag + "/logits", logits)
            w.put(tag + "/dx_imu", xi.grad)
            w.put(tag + "/dx_audio", xa.grad)
            for pn, m in parts:
                for name, p in m.params.items():
                    w.put(tag + "/grad/" + pn + "." + name, p.grad)
        o.step()
    w.put(tag + "/losses", np.array(losses))
    with torch.no_grad():
        for pn, m in parts:
            for name, p in m.params.items():
                w.put(tag + "/final/" + pn + "." + name, p)
        w.put(tag + "/eval_logits", forward(False, 0))


# ---------------------------------------------------------------- per-layer references

def layer_references(w, rng):
    def grads_of(y, inputs):
        gy = rand(rng, *y.shape)
        gs = torch.autograd.grad(y, inputs, gy)
        return gy, gs

    # dense
    x, W, b = rand(rng, 3, 5).requires_grad_(), rand(rng, 5, 4).requires_grad_(), rand(rng, 4).requires_grad_()
    y = x @ W + b
    gy, (dx, dW, db) = grads_of(y, (x, W, b))
    for n, t in (("x", x), ("W", W), ("b", b), ("y", y), ("gy", gy), ("dx", dx), ("dW", dW), ("db", db)):
        w.put("dense/" + n, t, sample=False)

    convs = [("conv1d_same", (2, 9, 3), (5, 3, 4), True), ("conv1d_valid", (2, 9, 3), (3, 3, 4), False),
             ("conv3d_same", (2, 4, 5, 6, 2), (3, 3, 3, 2, 3), True),
             ("conv3d_valid", (2, 4, 5, 6, 2), (3, 3, 3, 2, 3), False),
             ("conv3d_mixed", (2, 3, 6, 5, 3), (1, 3, 5, 3, 2), True)]
    for tag, xs, ws, same in convs:
        x, W, b = rand(rng, *xs).requires_grad_(), rand(rng, *ws, scale=0.5).requires_grad_(), rand(rng, ws[-1]).requires_grad_()
        y = conv(x, W, b, same)
        gy, (dx, dW, db) = grads_of(y, (x, W, b))
        for n, t in (("x", x), ("W", W), ("b", b), ("y", y), ("gy", gy), ("dx", dx), ("dW", dW), ("db", db)):
            w.put(tag + "/" + n, t, sample=False)

    pools = [("maxpool1d", (2, 9, 3), (2,)), ("maxpool3d_122", (2, 3, 5, 7, 2), (1, 2, 2)),
             ("maxpool3d_222", (2, 5, 5, 7, 2), (2, 2, 2))]
    for tag, xs, p in pools:
        x = rand(rng, *xs).requires_grad_()
        y = maxpool(x, p)
        gy, (dx,) = grads_of(y, (x,))
        for n, t in (("x", x), ("y", y), ("gy", gy), ("dx", dx)):
            w.put(tag + "/" + n, t, sample=False)

    x = rand(rng, 4, 6).requires_grad_()
    y = torch.relu(x)
    gy, (dx,) = grads_of(y, (x,))
    for n, t in (("x", x), ("y", y), ("gy", gy), ("dx", dx)):
        w.put("relu/" + n, t, sample=False)

    x = rand(rng, 4, 50).requires_grad_()
    key = nn_key(99, TAG_DROPOUT, 3, 5)
    y = dropout(x, 0.3, key)
    gy, (dx,) = grads_of(y, (x,))
    for n, t in (("x", x), ("y", y), ("gy", gy), ("dx", dx)):
        w.put("dropout/" + n, t, sample=False)

    logits = rand(rng, 4, 7, scale=3.0).requires_grad_()
    labels = torch.tensor(rng.integers(0, 7, 4), dtype=torch.int64)
    loss = F.cross_entropy(logits, labels)
    (dl,) = torch.autograd.grad(loss, (logits,))
    w.put("xent/logits", logits, sample=False)
    w.put("xent/labels", labels.numpy().astype(np.int32))
    w.put("xent/loss", loss.reshape(1), sample=False)
    w.put("xent/dlogits", dl, sample=False)

    y, t = rand(rng, 3, 5).requires_grad_(), rand(rng, 3, 5)
    loss = F.mse_loss(y, t)
    (dy,) = torch.autograd.grad(loss, (y,))
    for n, v in (("y", y), ("t", t), ("loss", loss.reshape(1)), ("dy", dy)):
        w.put("mse/" + n, v, sample=False)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "tests/data/train"
    rng = np.random.default_rng(20181)
    w = RefWriter(out + "/layers.bin")
    layer_references(w, rng)
    w.close()

    adam = lambda ps: torch.optim.Adam(ps, lr=1e-3, betas=(0.9, 0.999), eps=1e-7)
    sgd = lambda ps: torch.optim.SGD(ps, lr=0.01, momentum=0.9, nesterov=True)
    w = RefWriter(out + "/models.bin")
    model_reference(w, "imu", imu_cnn_spec(7), (40, 12), 7, 4, 7, adam, 4, rng)
    model_reference(w, "imu_sgd", imu_cnn_spec(7), (40, 12), 8, 4, 7, sgd, 4, rng)
    model_reference(w, "audio", audio_mlp_spec(7), (193,), 11, 4, 7, adam, 4, rng)
    model_reference(w, "video", video_spec((4, 6, 8, 8), 16, 5), (8, 16, 16, 2), 13, 2, 5, adam, 3, rng)
    momentum = lambda ps: torch.optim.SGD(ps, lr=0.01, momentum=0.9)
    model_reference(w, "imu_momentum", imu_cnn_spec(7), (40, 12), 14, 4, 7, momentum, 3, rng)
    # the knowledge-transfer student: the audio MLP cut after DENSE_1, MSE onto 128 targets
    student = audio_mlp_spec(7)
    student = student[:[l[1] for l in student].index("DENSE_1") + 1]
    model_reference(w, "audio_student", student, (193,), 15, 4, 128, adam, 3, rng, mse=True)
    w.close()

    # its own file and generator, so adding it changed none of the references above
    w = RefWriter(out + "/fusion.bin")
    fusion_reference(w, "fusion", 7, 21, 4, adam, 4, np.random.default_rng(2020))
    w.close()


if __name__ == "__main__":
    main()
