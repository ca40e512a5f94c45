"""How fast `/onboard help` is acknowledged over HTTP, beside a bare Bolt app that only acks.

Both servers run as their own processes behind the same WSGI server (waitress), against a local
fake Slack, and are measured in the same run with the same load:

    python bench/ack.py --requests 2000 --concurrency 16

Prints p50 / p99 ack latency and errors for each, and the ratio of the two.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.fake_slack import FakeSlack  # noqa: E402
from tests.slack_sender import SlackSender  # noqa: E402

SECRET = "bench-signing-secret"
TOKEN = "xoxb-bench-token"
TEAM = "T0BENCH"


def bare_server(port: int, api_url: str) -> None:
    """A Bolt app that does nothing but ack `/onboard`, on the same server as the bot."""
    from slack_bolt import App
    from slack_sdk import WebClient

    from bot.runtime.server import make_server, make_wsgi
    from store.db import make_engine

    app = App(
        client=WebClient(token=TOKEN, base_url=api_url),
        signing_secret=SECRET,
        token_verification_enabled=False,
    )

    @app.command("/onboard")
    def ack_only(ack):
        ack()

    server = make_server(make_wsgi(app, make_engine("sqlite://")), host="127.0.0.1", port=port, threads=8)
    print(f"listening on http://127.0.0.1:{server.effective_port}/slack/events", file=sys.stderr, flush=True)
    server.run()


def _start(cmd: list[str], env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE, text=True, cwd=env.get("BENCH_CWD"))
    for line in proc.stderr:
        if match := re.search(r"listening on (http://\S+?)/slack/events", line):
            # keep draining stderr so the server never blocks on a full pipe
            threading.Thread(target=proc.stderr.read, daemon=True).start()
            return proc, match.group(1)
    raise SystemExit(f"server did not start: {' '.join(cmd)}")


def _load(base: str, requests: int, concurrency: int, warmup: int) -> tuple[list[float], int]:
    sender = SlackSender(base + "/slack/events", SECRET, TEAM)

    def one(_: int) -> float | None:
        started = time.perf_counter()
        try:
            ok = sender.command("help", user_id="U0BENCH").status == 200
        except OSError:
            ok = False
        return time.perf_counter() - started if ok else None

    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, range(warmup)))
        results = list(pool.map(one, range(requests)))
    latencies = sorted(r for r in results if r is not None)
    return latencies, len(results) - len(latencies)


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    return (
        statistics.quantiles(values, n=100, method="inclusive")[q - 1] * 1000 if len(values) > 1 else values[0] * 1000
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", "-n", type=int, default=2000)
    parser.add_argument("--concurrency", "-c", type=int, default=16)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--bare-server", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--api-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare_server:
        bare_server(0, args.api_url)
        return 0

    with FakeSlack(vendor_team_id=TEAM, bot_token=TOKEN) as fake, tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "SLACK_BOT_TOKEN": TOKEN,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": fake.url,
            "DATABASE_URL": f"sqlite:///{tmp}/bench.db",
            "ONBOARD_LOG_LEVEL": "INFO",  # as deployed: one log line per request
            "BENCH_CWD": tmp,
        }
        env.pop("SLACK_APP_TOKEN", None)
        bot_cmd = [sys.executable, "-m", "bot.runtime.cli", "serve", "--migrate", "--host", "127.0.0.1", "--port", "0"]
        bare_cmd = [sys.executable, __file__, "--bare-server", "--api-url", fake.url]
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        procs = []
        try:
            bot, bot_url = _start(bot_cmd, env)
            procs.append(bot)
            bare, bare_url = _start(bare_cmd, env)
            procs.append(bare)
            rows = []
            for name, url in (("onboard-bot /onboard help", bot_url), ("bare Bolt ack()", bare_url)):
                latencies, errors = _load(url, args.requests, args.concurrency, args.warmup)
                rows.append((name, _pct(latencies, 50), _pct(latencies, 99), errors))
        finally:
            for proc in procs:
                proc.terminate()
                proc.wait(timeout=10)

    print(f"{args.requests} signed requests, {args.concurrency} concurrent clients, {args.warmup} warm-up each")
    print(f"{'server':<28}{'p50 ms':>10}{'p99 ms':>10}{'errors':>8}")
    for name, p50, p99, errors in rows:
        print(f"{name:<28}{p50:>10.2f}{p99:>10.2f}{errors:>8}")
    (_, bot50, bot99, _), (_, bare50, bare99, _) = rows
    print(f"{'ratio bot / bare':<28}{bot50 / bare50:>10.2f}{bot99 / bare99:>10.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
