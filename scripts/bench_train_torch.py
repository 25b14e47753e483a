#!/usr/bin/python3
"""PyTorch side of scripts/bench-train.sh: the same three networks as train/nn_arch.c (same
layers, widths, dropout, Adam lr 1e-3), trained on synthetic data at the same batch size and
thread count, printing the same 'key: value' lines as `cmact bench train`.

PyTorch runs in its own fastest layout (channels-first, its native Conv1d/Conv3d modules with
oneDNN), not the engine's channels-last one: the comparison is against PyTorch at its best.
Run with Debian's interpreter: /usr/bin/python3 scripts/bench_train_torch.py --model imu_cnn
"""
import argparse
import resource
import time

import torch
import torch.nn as nn


def imu_cnn(n_classes=7):
    return nn.Sequential(
        nn.Conv1d(12, 16, 5, padding=2), nn.ReLU(), nn.MaxPool1d(2), nn.Dropout(0.5),
        nn.Conv1d(16, 16, 5, padding=2), nn.ReLU(), nn.MaxPool1d(2), nn.Dropout(0.5),
        nn.Flatten(), nn.Linear(160, 128), nn.ReLU(), nn.Linear(128, 128), nn.ReLU(),
        nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, n_classes)), (12, 40)


def audio_mlp(n_classes=7):
    L = [nn.Linear(193, 32), nn.ReLU(), nn.Linear(32, 1024), nn.ReLU(), nn.Dropout(0.5),
         nn.Linear(1024, 596), nn.ReLU(), nn.Dropout(0.5), nn.Linear(596, 128), nn.ReLU(),
         nn.Dropout(0.5)]
    for _ in range(5):
        L += [nn.Linear(128, 128), nn.ReLU()]
    L.append(nn.Linear(128, n_classes))
    return nn.Sequential(*L), (193,)


def video_c3d(frames, side, channels, n_classes=7, widths=(32, 64, 128, 128), fc=372):
    L, cin, d, s = [], channels, frames, side
    for i, w in enumerate(widths):
        pool = (1, 2, 2) if i == 0 else (2, 2, 2)
        L += [nn.Conv3d(cin, w, 3, padding=1), nn.ReLU(), nn.MaxPool3d(pool)]
        cin, d, s = w, d // pool[0], s // 2
    flat = cin * d * s * s
    L += [nn.Flatten(), nn.Linear(flat, fc), nn.ReLU(), nn.Dropout(0.5), nn.Linear(fc, 128),
          nn.ReLU(), nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, n_classes)]
    return nn.Sequential(*L), (channels, frames, side, side)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--input", default="45x64x64x3")
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch", type=int, default=128)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    if a.model == "imu_cnn":
        net, shape = imu_cnn()
    elif a.model == "audio_mlp":
        net, shape = audio_mlp()
    else:
        f, h, w, c = (int(v) for v in a.input.split("x"))
        net, shape = video_c3d(f, h, c)
    x = torch.rand(a.batch, *shape) * 2 - 1
    y = torch.arange(a.batch) % 7
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, eps=1e-7)
    lossf = nn.CrossEntropyLoss()
    net.train()
    t0 = None
    for s in range(a.steps + 1):
        if s == 1:
            t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = lossf(net(x), y)
        loss.backward()
        opt.step()
    secs = time.perf_counter() - t0
    print("engine: pytorch %s" % torch.__version__)
    print("model: %s" % a.model)
    print("parameters: %d" % sum(p.numel() for p in net.parameters()))
    print("batch: %d\nthreads: %d\nsteps: %d" % (a.batch, a.threads, a.steps))
    print("seconds: %.3f" % secs)
    print("samples_per_s: %.4g" % (a.steps * a.batch / secs))
    print("final_loss: %.4f" % loss.item())
    print("peak_rss_mib: %.1f" % (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0))


if __name__ == "__main__":
    main()
