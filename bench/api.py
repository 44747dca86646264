"""Throughput and latency of an authenticated, tenant-scoped list endpoint under load.

Starts `wuye serve --workers N` on a seeded SQLite database, takes a token with
the client-credentials grant, and drives ``GET /api/v1/units`` from 32 concurrent
clients; then serves a bare FastAPI endpoint returning the same shape of page the
same way (uvicorn with the same workers, HTTP parser and event loop) and drives it
identically, in alternating rounds (a shared machine's bursts of load then fall on
both alike). Prints requests/s, p50 and p99 latency of both and their ratio.

    .venv/bin/python bench/api.py [--seconds 10] [--clients 32] [--workers 2]
                                  [--rounds 5] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1.0).status_code < 500:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise SystemExit(f"server at {url} did not start within {timeout}s")


async def _connection(
    host: str, port: int, request: bytes, stop: float, latencies: list[float], errors: list[int]
) -> None:
    """One keep-alive HTTP/1.1 connection sending requests back to back (no client library,
    so that the load generator costs as little CPU as possible beside the server)."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.perf_counter() < stop:
            t0 = time.perf_counter()
            writer.write(request)
            status_line = await reader.readline()
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.partition(b":")
                if name.lower() == b"content-length":
                    length = int(value)
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - t0)
            if b" 200 " not in status_line:
                errors.append(1)
    finally:
        writer.close()


def _request(url: str, headers: dict[str, str]) -> tuple[str, int, bytes]:
    parsed = httpx.URL(url)
    head = [f"GET {parsed.raw_path.decode()} HTTP/1.1", f"Host: {parsed.host}:{parsed.port}"]
    head += [f"{k}: {v}" for k, v in headers.items()]
    return parsed.host, parsed.port, ("\r\n".join(head) + "\r\n\r\n").encode()


async def warm(url: str, headers: dict[str, str]) -> None:
    host, port, request = _request(url, headers)
    await _connection(host, port, request, time.perf_counter() + 0.5, [], [])


async def drive(
    url: str, headers: dict[str, str], clients: int, seconds: float
) -> tuple[list[float], int, float]:
    """One round: ``clients`` connections for ``seconds``; latencies, errors, elapsed."""
    host, port, request = _request(url, headers)
    latencies: list[float] = []
    errors: list[int] = []
    started = time.perf_counter()
    stop = started + seconds
    await asyncio.gather(
        *(_connection(host, port, request, stop, latencies, errors) for _ in range(clients))
    )
    return latencies, len(errors), time.perf_counter() - started


class Tally:
    """The rounds of one target, summed."""

    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.errors = 0
        self.elapsed = 0.0

    def add(self, round_: tuple[list[float], int, float]) -> None:
        self.latencies += round_[0]
        self.errors += round_[1]
        self.elapsed += round_[2]

    def summary(self) -> dict:
        latencies = sorted(self.latencies)
        return {
            "requests": len(latencies),
            "errors": self.errors,
            "rps": len(latencies) / self.elapsed,
            "p50_ms": 1000 * statistics.median(latencies),
            "p99_ms": 1000 * latencies[int(0.99 * (len(latencies) - 1))],
        }


def run_server(args: list[str], env: dict[str, str], port: int) -> subprocess.Popen:
    proc = subprocess.Popen(args, env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
    wait_ready(f"http://127.0.0.1:{port}/healthz" if "wuye" in args[0] else
               f"http://127.0.0.1:{port}/api/v1/units")  # fmt: skip
    return proc


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers of both servers")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds per target")
    parser.add_argument("--database-url", default="", help="default: SQLite in a temp dir")
    opts = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="wuye-bench-") as tmp:
        env = dict(os.environ, WUYE_VAR_DIR=tmp, WUYE_SECRET_KEY=secrets.token_hex(16))
        if opts.database_url:
            env["WUYE_DATABASE_URL"] = opts.database_url
        port = free_port()
        env["WUYE_PUBLIC_URL"] = f"http://127.0.0.1:{port}"
        print("seeding demo data ...", file=sys.stderr)
        seeded = subprocess.run(
            [VENV_BIN / "wuye", "demo", "seed", "--json"],
            env=env, cwd=ROOT, check=True, capture_output=True, text=True,
        )  # fmt: skip
        firm = json.loads(seeded.stdout)["firms"][1]

        print("wuye serve ...", file=sys.stderr)
        server = run_server(
            [str(VENV_BIN / "wuye"), "serve", "--port", str(port), "--workers", str(opts.workers)],
            env,
            port,
        )
        bare_port = free_port()
        try:
            print("bare FastAPI ...", file=sys.stderr)
            bare = run_server(
                [str(VENV_BIN / "uvicorn"), "bench._bare_app:app", "--port", str(bare_port),
                 "--workers", str(opts.workers), "--no-access-log", "--log-level", "warning"],
                env, bare_port,
            )  # fmt: skip
        except BaseException:
            stop(server)
            raise
        try:
            token = httpx.post(
                f"http://127.0.0.1:{port}/oauth/token",
                data={"grant_type": "client_credentials", "scope": "estates:read"},
                auth=(firm["client_id"], firm["client_secret"]),
            )
            token.raise_for_status()
            headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
            url = f"http://127.0.0.1:{port}/api/v1/units?limit=20"
            check = httpx.get(url, headers=headers).json()
            assert check["total"] > 20, check
            bare_url = f"http://127.0.0.1:{bare_port}/api/v1/units"
            targets = {"wuye": (url, headers), "bare": (bare_url, {})}
            tallies = {name: Tally() for name in targets}
            for target_url, target_headers in targets.values():
                asyncio.run(warm(target_url, target_headers))
            # Alternate short rounds, so that a burst of load from elsewhere on a shared
            # machine falls on both targets alike rather than on whichever ran then.
            per_round = opts.seconds / opts.rounds
            for n in range(opts.rounds):
                print(f"round {n + 1}/{opts.rounds}: {url} | {bare_url}", file=sys.stderr)
                for name, (target_url, target_headers) in targets.items():
                    tallies[name].add(
                        asyncio.run(drive(target_url, target_headers, opts.clients, per_round))
                    )
        finally:
            stop(server)
            stop(bare)
        wuye, baseline = tallies["wuye"].summary(), tallies["bare"].summary()

    workers = f"{opts.workers} uvicorn worker{'s' if opts.workers > 1 else ''} each"
    print(
        f"\n{opts.clients} concurrent clients, {opts.seconds:.0f} s each in {opts.rounds} "
        f"alternating rounds, {workers}"
    )
    print(f"{'':34}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'errors':>8}")
    for name, r in (("wuye GET /api/v1/units (auth+tenant)", wuye), ("bare FastAPI", baseline)):
        print(f"{name:34}{r['rps']:>10.0f}{r['p50_ms']:>10.1f}{r['p99_ms']:>10.1f}{r['errors']:>8}")
    ratio = wuye["rps"] / baseline["rps"]
    print(f"\nthroughput ratio wuye / bare: {ratio:.2f}  (target >= 0.5)")
    print(f"wuye p99: {wuye['p99_ms']:.1f} ms  (target < 50 ms)")


if __name__ == "__main__":
    main()
