"""The web app against the CLI on the same release job, and page loads during a job.

    .venv/bin/python benchmarks/bench_web.py [--rows 250000] [--repeat 1]

For the demo data (250,000 rows by default) at R = 3, ε = 4, seed 1, with the schema
`dpshowcase schema infer` proposes (the same one the app infers on upload):

- CLI: ``dpshowcase release`` then the public evaluation of the bundle (the same
  library call the app makes after a release, in a fresh process), both timed as whole
  processes;
- web: ``dpshowcase serve`` on a free loopback port; the file is uploaded first (not
  timed), then the time from the "run" request to the run's status "done" (bundle
  written and evaluated) is measured; meanwhile the pages and the progress endpoint
  are fetched over and over and their load times recorded.

Prints one table; the figures go in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

BIN = Path(sys.executable).parent
CLI = str(BIN / "dpshowcase")
EPSILON, R, SEED = 4, 3, 1
EVALUATE = (
    "import sys; from pathlib import Path; "
    "from dpshowcase.release.pipeline import _evaluate; _evaluate(Path(sys.argv[1]))"
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Web:
    """A running ``dpshowcase serve`` and a session with its access and CSRF tokens."""

    def __init__(self, data_dir: Path) -> None:
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        log = data_dir.with_name(data_dir.name + "-serve.txt")
        with log.open("wb") as err:
            self.process = subprocess.Popen(
                [CLI, "serve", "--port", str(self.port), "--data-dir", str(data_dir)],
                stdout=subprocess.DEVNULL,
                stderr=err,
            )
        self.cookie = ""
        self.access = ""
        deadline = time.monotonic() + 60
        while True:
            try:
                printed = re.search(r"\?token=([\w-]+)", log.read_text())
                if printed is None:
                    raise OSError("no address printed yet")
                self.access = printed.group(1)
                page, headers = self.get("/")
                break
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        self.cookie = headers["set-cookie"].split(";", 1)[0]
        self.token = re.search(r'name="csrf-token" content="([0-9a-f]+)"', page).group(1)

    def request(
        self, method: str, path: str, body: bytes | None = None, content_type: str = ""
    ) -> tuple[str, dict[str, str]]:
        request = urllib.request.Request(self.base + path, data=body, method=method)
        request.add_header("Authorization", f"token {self.access}")
        if self.cookie:
            request.add_header("Cookie", self.cookie)
            request.add_header("X-CSRF-Token", self.token)
        if content_type:
            request.add_header("Content-Type", content_type)
        with urllib.request.urlopen(request, timeout=600) as response:
            return response.read().decode(), dict(response.headers)

    def get(self, path: str) -> tuple[str, dict[str, str]]:
        return self.request("GET", path)

    def json(self, method: str, path: str, data: object = None) -> dict:
        body = json.dumps(data).encode() if data is not None else None
        text, _ = self.request(method, path, body, "application/json" if body else "")
        return json.loads(text)

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) of the live child processes of ``pid``."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue
        for child in children:
            try:
                fields = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def run_cli(data: Path, schema: Path, output: Path) -> tuple[float, float]:
    shutil.rmtree(output, ignore_errors=True)
    cpu = _children_cpu()
    start = time.perf_counter()
    subprocess.run(
        [CLI, "release", str(data), "--schema", str(schema), "--epsilon", str(EPSILON),
         "--reporting-length", str(R), "--seed", str(SEED), "--output", str(output)],
        check=True, capture_output=True,
    )  # fmt: skip
    subprocess.run([sys.executable, "-c", EVALUATE, str(output)], check=True)
    return time.perf_counter() - start, _children_cpu() - cpu


def run_web(web: Web, dataset_id: str) -> tuple[float, float, list[float]]:
    pages = [
        "/",
        f"/datasets/{dataset_id}",
        f"/datasets/{dataset_id}/protect",
        f"/datasets/{dataset_id}/evaluate",
        f"/api/datasets/{dataset_id}/figures",  # the Evaluate step's cross-run charts
    ]
    loads: list[float] = []
    start = time.perf_counter()
    run = web.json(
        "POST",
        f"/api/datasets/{dataset_id}/runs",
        {"epsilon": EPSILON, "reporting_length": R, "seed": SEED},
    )
    done = threading.Event()

    def browse() -> None:
        i = 0
        while not done.is_set():
            t = time.perf_counter()
            web.get(pages[i % len(pages)])
            web.get(f"/static/app.css?{i}")
            loads.append(time.perf_counter() - t)
            i += 1
            done.wait(1.0)

    browser = threading.Thread(target=browse, daemon=True)
    browser.start()
    cpu = 0.0
    while True:
        state = web.json("GET", f"/api/runs/{run['id']}")
        if state["status"] not in ("queued", "running"):
            break
        cpu = max(cpu, _tree_cpu(web.process.pid))  # the worker's CPU time so far
        time.sleep(0.25)
    elapsed = time.perf_counter() - start
    done.set()
    browser.join()
    if state["status"] != "done":
        raise RuntimeError(f"the web run ended {state['status']}: {state['message']}")
    return elapsed, cpu, loads


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=250_000)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-web-") as tmp:
        folder = Path(tmp)
        data = folder / "cases.csv"
        schema = folder / "schema.toml"
        subprocess.run([CLI, "demo-data", "--rows", str(args.rows), "--output", str(data)],
                       check=True, capture_output=True)  # fmt: skip
        subprocess.run([CLI, "schema", "infer", str(data), "--output", str(schema)],
                       check=True, capture_output=True)  # fmt: skip
        web = Web(folder / "state")
        upload_start = time.perf_counter()
        text, _ = web.request(
            "POST", "/api/datasets?name=cases.csv", data.read_bytes(), "application/octet-stream"
        )
        upload = time.perf_counter() - upload_start
        dataset = json.loads(text)
        cli_times, web_times, cli_cpu, web_cpu, all_loads = [], [], [], [], []
        for i in range(args.repeat):  # alternate the order: the machine's load drifts
            for side in ("cli", "web") if i % 2 == 0 else ("web", "cli"):
                if side == "cli":
                    seconds, cpu = run_cli(data, schema, folder / "cli-release")
                    cli_times.append(seconds)
                    cli_cpu.append(cpu)
                else:
                    seconds, cpu, loads = run_web(web, dataset["id"])
                    web_times.append(seconds)
                    web_cpu.append(cpu)
                    all_loads.extend(loads)
        web.close()
    cli, webm = statistics.median(cli_times), statistics.median(web_times)
    print(f"demo rows: {args.rows:,}, R = {R}, ε = {EPSILON}, repeats: {args.repeat}")
    print(f"upload + schema inference (web, not in the job time): {upload:.1f} s")
    print(
        f"CLI release + evaluation: {cli:.1f} s  (all: {', '.join(f'{t:.1f}' for t in cli_times)})"
    )
    print(
        f"web run → evaluated release: {webm:.1f} s  (all: {', '.join(f'{t:.1f}' for t in web_times)})"
    )
    print(f"web / CLI (wall): {webm / cli:.2f}")
    cpu_cli, cpu_web = statistics.median(cli_cpu), statistics.median(web_cpu)
    print(
        f"CPU seconds: CLI {cpu_cli:.1f}, web worker {cpu_web:.1f}; web / CLI {cpu_web / cpu_cli:.2f}"
    )
    print(f"load average at the end: {os.getloadavg()[0]:.1f} (2 cores)")
    if all_loads:
        print(
            f"page loads during the job ({len(all_loads)} page + stylesheet pairs): "
            f"median {statistics.median(all_loads) * 1000:.0f} ms, "
            f"max {max(all_loads) * 1000:.0f} ms"
        )


if __name__ == "__main__":
    main()
