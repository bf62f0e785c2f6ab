#!/usr/bin/env python3
"""Cold start of the image: time from `docker run` to the first 200 on GET /.

Each round starts a fresh hardened container with its port published on 127.0.0.1,
polls GET / every 2 ms until it answers 200, records the time since `docker run`
was invoked, and removes the container. It also splits that time: the engine's part
(until the container's process started, State.StartedAt) and the image's part (from
there to the first 200: the master renders the config, starts nginx and the workers).
For scale it times a no-op container (`docker run --rm --network none BASE true`) on
the same engine: the floor no image can go below. Prints one line per round and a
JSON summary.
"""
import argparse
import datetime
import http.client
import json
import socket
import statistics
import subprocess
import sys
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def first_200(port, deadline):
    while time.monotonic() < deadline:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
        try:
            conn.request("GET", "/")
            if conn.getresponse().status == 200:
                return True
        except (OSError, http.client.HTTPException):
            pass
        finally:
            conn.close()
        time.sleep(0.002)
    return False


def started_at(name):
    """Wall-clock time (epoch seconds) at which the engine started the container's process."""
    out = subprocess.run(["docker", "inspect", "-f", "{{.State.StartedAt}}", name],
                         check=True, capture_output=True, text=True).stdout.strip()
    # RFC 3339 with nanoseconds: keep microseconds for datetime.
    stamp, frac = out.rstrip("Z").split(".")
    moment = datetime.datetime.fromisoformat(stamp + "." + frac[:6]).replace(tzinfo=datetime.timezone.utc)
    return moment.timestamp()


def noop_run(base):
    started = time.monotonic()
    subprocess.run(["docker", "run", "--rm", "--network", "none", base, "true"], check=True)
    return (time.monotonic() - started) * 1000


def one_round(image, name):
    port = free_port()
    cmd = ["docker", "run", "-d", "--name", name, "--read-only", "--cap-drop", "ALL",
           "--security-opt", "no-new-privileges", "--tmpfs", "/tmp", "-p", f"127.0.0.1:{port}:8080", image]
    started = time.monotonic()
    try:
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        returned = time.monotonic()
        if not first_200(port, started + 15):
            raise RuntimeError(f"{name} did not answer 200 within 15 s")
        served = time.monotonic()
        served_wall = time.time()
        image_part = (served_wall - started_at(name)) * 1000
    finally:
        subprocess.run(["docker", "rm", "-f", name], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return (served - started) * 1000, (returned - started) * 1000, image_part


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--image", required=True)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--base", default="debian:bookworm-slim", help="image for the no-op floor")
    args = parser.parse_args()
    totals, runs, image_parts, floors = [], [], [], []
    for i in range(args.runs):
        total, run, image_part = one_round(args.image, f"hc-coldstart-{i}-{int(time.time() * 1000)}")
        floor = noop_run(args.base)
        totals.append(total)
        runs.append(run)
        image_parts.append(image_part)
        floors.append(floor)
        print(f"  round {i + 1}: first 200 after {total:.0f} ms; docker run returned after {run:.0f} ms; "
              f"process start -> first 200 {image_part:.0f} ms; no-op container {floor:.0f} ms", flush=True)
    summary = {
        "runs": args.runs,
        "min_ms": round(min(totals)),
        "median_ms": round(statistics.median(totals)),
        "max_ms": round(max(totals)),
        "docker_run_median_ms": round(statistics.median(runs)),
        "process_start_to_200_median_ms": round(statistics.median(image_parts)),
        "noop_container_median_ms": round(statistics.median(floors)),
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
