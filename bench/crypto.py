"""Benchmark of wuye.crypto next to `openssl speed` on the same machine, in the same run.

Prints SM2 sign/verify per second and SM3 / SM4-GCM throughput at 64 B, 256 B,
1 KiB and 16 KiB, each beside the OpenSSL command line's figure for the same
algorithm and the ratio (wuye / openssl; the target is >= 0.8).

SM4-GCM is measured three ways: the one-shot functions (``sm4_gcm_encrypt`` /
``sm4_gcm_decrypt``, which reuse a cached context for a recently used key), a
per-key ``SM4GCM`` object (what telemetry holds per device), and, at 64 B, the
one-shot function under a new key every call (the cost of a cache miss).

Caveats the output repeats: `openssl speed -evp` streams one context with no
per-message setup, while each wuye call is a whole message from Python, so
small messages measure the per-call cost. Where the local OpenSSL has no
SM4-GCM (OpenSSL 3.0), the baseline is SM4-CTR, GCM's encryption half without
GHASH or the per-message counter block, so that ratio understates.

Both sides divide by CPU time (what `openssl speed` does by default), so other
processes on a shared machine do not skew the ratios; --elapsed uses wall time.

Run: .venv/bin/python bench/crypto.py [--seconds 1.0] [--elapsed]
"""

from __future__ import annotations

import argparse
import itertools
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable

from wuye import crypto

SIZES = (64, 256, 1024, 16384)
NAME_WIDTH = 36


def progress(message: str) -> None:
    print(f"  .. {message}", file=sys.stderr, flush=True)


# `openssl speed` divides by the user CPU time it used unless given -elapsed;
# the wuye figures count this process's CPU time likewise, so that other load on
# a shared machine slows neither side's figure. --elapsed switches both to wall time.
CLOCKS = {"cpu": (time.process_time, []), "elapsed": (time.perf_counter, ["-elapsed"])}
clock, openssl_clock_args = CLOCKS["cpu"]


def rate(fn: Callable[[], object], seconds: float) -> float:
    """Calls per second of ``fn``, timed in batches for at least ``seconds``."""
    fn()
    calls, batch = 0, 1
    start = clock()
    while True:
        for _ in range(batch):
            fn()
        calls += batch
        elapsed = clock() - start
        if elapsed >= seconds:
            return calls / elapsed
        batch *= 2


def openssl_speed(args: list[str], seconds: float) -> str | None:
    if shutil.which("openssl") is None:
        return None
    secs = str(max(1, round(seconds)))
    result = subprocess.run(
        ["openssl", "speed", "-mr", *openssl_clock_args, "-seconds", secs, *args],
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout if result.returncode == 0 else None


def openssl_throughput(algorithm: str, size: int, seconds: float) -> float | None:
    """MB/s from `openssl speed -evp ALG -bytes SIZE` (its `+F:` machine-readable line)."""
    out = openssl_speed(["-bytes", str(size), "-evp", algorithm], seconds)
    match = re.search(r"^\+F:\d+:[^:]+:([\d.]+)", out or "", re.MULTILINE)
    return float(match.group(1)) / 1e6 if match else None


def openssl_sm2(seconds: float) -> tuple[float, float] | None:
    """(sign/s, verify/s) from `openssl speed sm2` (its `+F7:` line)."""
    out = openssl_speed(["sm2"], seconds)
    match = re.search(r"^\+F7:\d+:\d+:[^:]+:([\d.]+):([\d.]+)", out or "", re.MULTILINE)
    return (float(match.group(1)), float(match.group(2))) if match else None


def row(name: str, unit: str, ours: float, baseline: float | None, note: str = "") -> str:
    if baseline:
        ratio = ours / baseline
        mark = "ok " if ratio >= 0.8 else "LOW"
        base, rat = f"{baseline:12.1f}", f"{ratio:6.2f} {mark}"
    else:
        base, rat = f"{'n/a':>12}", f"{'n/a':>10}"
    return f"{name:<{NAME_WIDTH}}{unit:<9}{ours:12.1f}{base}  {rat}  {note}".rstrip()


def one_shot_many_keys(size: int, baseline: float | None, note: str, seconds: float) -> str:
    """One-shot SM4-GCM cycling through more keys than it caches: every call sets a key up."""
    keys = itertools.cycle([os.urandom(16) for _ in range(1000)])
    nonce, data = os.urandom(12), os.urandom(size)
    calls = rate(lambda: crypto.sm4_gcm_encrypt(next(keys), nonce, data), seconds)
    return row(f"SM4-GCM {size} B one-shot, 1000 keys", "MB/s", calls * size / 1e6, baseline, note)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0, help="time per figure")
    parser.add_argument(
        "--elapsed", action="store_true", help="divide by wall time on both sides, not CPU time"
    )
    options = parser.parse_args()
    seconds = options.seconds
    global clock, openssl_clock_args
    clock, openssl_clock_args = CLOCKS["elapsed" if options.elapsed else "cpu"]

    version = subprocess.run(
        ["openssl", "version"], capture_output=True, text=True, check=False
    ).stdout.strip() if shutil.which("openssl") else "no openssl command"  # fmt: skip
    rows: list[str] = []

    progress("SM2 sign / verify")
    key = crypto.SM2PrivateKey.generate()
    message = os.urandom(32)
    signature = key.sign(message)
    sign = rate(lambda: key.sign(message), seconds)
    verify = rate(lambda: key.public_key.verify(signature, message), seconds)
    progress("openssl speed sm2")
    sm2_base = openssl_sm2(seconds)
    note = "Z_A cached; e = SM3(Z_A||M) per call"
    rows.append(row("SM2 sign", "ops/s", sign, sm2_base[0] if sm2_base else None, note))
    rows.append(row("SM2 verify", "ops/s", verify, sm2_base[1] if sm2_base else None))

    for size in SIZES:
        data = os.urandom(size)
        progress(f"SM3 {size} B, ours and openssl")
        ours = rate(lambda data=data: crypto.sm3_hash(data), seconds) * size / 1e6
        rows.append(row(f"SM3 {size} B", "MB/s", ours, openssl_throughput("sm3", size, seconds)))

    gcm_base = "sm4-gcm"
    if openssl_throughput("sm4-gcm", 64, 1) is None:
        gcm_base = "sm4-ctr"
    key, nonce = os.urandom(16), os.urandom(12)
    gcm = crypto.SM4GCM(key)
    note = f"baseline {gcm_base.upper()}" if gcm_base != "sm4-gcm" else ""
    for size in SIZES:
        data = os.urandom(size)
        sealed = crypto.sm4_gcm_encrypt(key, nonce, data)
        progress(f"SM4-GCM {size} B, one-shot, SM4GCM object and openssl {gcm_base}")
        figures = {
            "one-shot encrypt": lambda data=data: crypto.sm4_gcm_encrypt(key, nonce, data),
            "one-shot decrypt": lambda sealed=sealed: crypto.sm4_gcm_decrypt(key, nonce, sealed),
            "SM4GCM(key).encrypt": lambda data=data: gcm.encrypt(nonce, data),
            "SM4GCM(key).decrypt": lambda sealed=sealed: gcm.decrypt(nonce, sealed),
        }
        base = openssl_throughput(gcm_base, size, seconds)
        for label, fn in figures.items():
            ours = rate(fn, seconds) * size / 1e6
            rows.append(row(f"SM4-GCM {size} B {label}", "MB/s", ours, base, note))
        if size == SIZES[0]:
            rows.append(one_shot_many_keys(size, base, note, seconds))

    measure = "wall time" if options.elapsed else "CPU time, as openssl speed counts it"
    print(f"wuye.crypto against `openssl speed` ({version}), {seconds:g} s per figure, {measure}")
    print(f"{'figure':<{NAME_WIDTH}}{'unit':<9}{'wuye':>12}{'openssl':>12}  {'ratio':>10}")
    print("\n".join(rows))
    if gcm_base != "sm4-gcm":
        print(
            "note: this openssl has no SM4-GCM; SM4-CTR (GCM's cipher half, without GHASH)"
            " is the closest baseline, so GCM ratios understate."
        )
    print(
        "note: `openssl speed -evp` reuses one context per size; each wuye call is a"
        " complete message from Python, so 64 B figures are mostly per-call overhead."
    )
    print(
        "note: the one-shot SM4-GCM functions reuse the context of any of the last 64"
        " keys; '1000 keys' cycles through 1000 keys, paying the key setup on every call."
    )


if __name__ == "__main__":
    main()
