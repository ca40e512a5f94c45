"""`onboard-bot demo`: start the sandbox and its page, or play the script and write a transcript."""

from __future__ import annotations

import logging
import signal
import sys
import threading
import webbrowser
from pathlib import Path

from bot.demo.sandbox import Sandbox
from bot.demo.web import make_page_server, transcript_html

log = logging.getLogger("onboard_bot.demo")


def serve(port: int = 8080, *, open_browser: bool = False, out=sys.stdout) -> int:
    """Run the sandbox until Ctrl-C (SIGINT); everything it started is stopped on the way out."""
    sandbox = Sandbox()
    page = None
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _interrupt)  # a service manager's stop cleans up like Ctrl-C
        # Ctrl-C stops it even when started from a shell that ignores SIGINT in background jobs.
        signal.signal(signal.SIGINT, _interrupt)
    try:
        sandbox.start()
        try:
            page = make_page_server(sandbox, port)
        except OSError as exc:
            print(
                f"onboard-bot demo: port {port} on 127.0.0.1 cannot be used ({exc.strerror}); try --port",
                file=sys.stderr,
            )
            return 2
        url = f"http://127.0.0.1:{page.server_address[1]}/"
        print(
            f"onboard-bot demo: the sandbox is at {url}\n"
            "  Bound to 127.0.0.1 only: nothing is reachable from other machines, and nothing goes to Slack.\n"
            "  The real bot runs against a local fake Slack, with a fresh database in a temporary directory.\n"
            "  Press Ctrl-C to stop it.",
            file=out,
            flush=True,
        )
        if open_browser:
            threading.Thread(target=webbrowser.open, args=(url,), daemon=True).start()
        page.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        print("onboard-bot demo: stopping", file=out, flush=True)
    finally:
        if page is not None:
            page.server_close()
        sandbox.stop()
    print("onboard-bot demo: stopped", file=out, flush=True)
    return 0


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def script(out_file: Path, *, days: int = 90, playbook: str | None = None, out=sys.stdout) -> int:
    """Play the scripted onboarding headless and write the transcript to `out_file`."""
    from bot.demo.script import play_script
    from bot.planning.playbook import load_playbooks

    known = sorted(load_playbooks(None))
    if playbook is not None and playbook not in known:
        print(f"onboard-bot demo: no playbook {playbook!r}; the shipped ones are {', '.join(known)}", file=sys.stderr)
        return 2
    if days < 1:
        print("onboard-bot demo: --days must be at least 1", file=sys.stderr)
        return 2
    with Sandbox(playbook=playbook) as sandbox:
        try:
            play = play_script(sandbox, days=days, playbook=playbook)
        except RuntimeError as exc:
            print(f"onboard-bot demo: the script stopped: {exc}", file=sys.stderr)
            return 1
        problems = sandbox.bot_requests_ok()
        state = sandbox.with_files_inlined(sandbox.state())
        state["script"] = play.log
        out_file.write_text(transcript_html(state, "onboard-bot sandbox transcript"), encoding="utf-8")
        sent = len(sandbox.requests.sent) if sandbox.requests else 0
    for line in play.log:
        print(line, file=out)
    print(f"{sent} signed request(s) sent to the bot, {sent - len(problems)} answered 200", file=out)
    print(f"transcript written to {out_file}", file=out, flush=True)
    for problem in problems:
        print(f"not accepted: {problem}", file=sys.stderr)
    return 1 if problems else 0
