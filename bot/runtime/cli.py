"""`onboard-bot`: serve, migrate, check playbooks, and run the scheduler or one sweep."""

from __future__ import annotations

import argparse
import logging
import sys
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, time
from functools import partial
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.exc import OperationalError

from bot.planning.playbook import PlaybookError
from bot.runtime import logs
from bot.runtime.config import ConfigError, Settings, load_settings
from bot.slack.turns import InTurns, Turns
from store.db import make_engine
from store.migrate import SchemaOutdated, check_schema, current_revision, head_revision, upgrade

if TYPE_CHECKING:
    from bot.runtime.services import Services

log = logging.getLogger("onboard_bot")

# A click's work after its ack (the database, the card updates) runs on a pool of its own. Its
# threads share the one interpreter lock with the threads that ack: a narrow pool keeps acks fast
# under a burst of clicks; a wider one clears the burst sooner when Slack answers slowly.
WORK_THREADS = 8
# Of those threads and the ones for what follows a card, how many run at once until their work
# first calls Slack (bot.slack.turns): the rest wait, so a burst of clicks leaves the acks few
# threads to queue behind for the interpreter lock.
WORK_TURNS = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="onboard-bot", description="Customer onboarding, run from Slack.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = sub.add_parser("serve", help="run the bot (Socket Mode when SLACK_APP_TOKEN is set, else HTTP)")
    serve.add_argument("--host", default="0.0.0.0", help="HTTP mode: address to bind (default 0.0.0.0)")
    serve.add_argument("--port", type=int, default=3000, help="HTTP mode: port (default 3000)")
    serve.add_argument("--threads", type=int, default=8, help="HTTP mode: request threads (default 8)")
    serve.add_argument(
        "--work-threads",
        type=_threads,
        default=WORK_THREADS,
        help=f"threads for the work a click starts after its ack: the database, the card updates (default {WORK_THREADS})",
    )
    serve.add_argument(
        "--turns",
        type=_threads,
        default=WORK_TURNS,
        help=f"click work run at once until it first calls Slack (default {WORK_TURNS})",
    )
    serve.add_argument("--migrate", action="store_true", help="apply pending database migrations first")
    serve.add_argument("--with-scheduler", action="store_true", help="also run the scheduler in this process")
    serve.set_defaults(run=cmd_serve)

    scheduler = sub.add_parser("scheduler", help="sweep the rules every few minutes and deliver due posts every minute")
    scheduler.add_argument(
        "--every", type=_minutes, default=5, metavar="MINUTES", help="minutes between sweeps (default 5)"
    )
    scheduler.set_defaults(run=cmd_scheduler)

    sweep = sub.add_parser("sweep", help="decide, claim and deliver once")
    sweep.add_argument(
        "--now",
        default=None,
        metavar="TIME",
        help="ISO time such as 2026-05-04T09:00, or a time of day such as 09:00 (today); read in --tz "
        "unless it has an offset (default: now)",
    )
    sweep.add_argument(
        "--tz",
        type=_zone,
        default="UTC",
        metavar="ZONE",
        help="IANA timezone --now is read in, e.g. America/New_York (default UTC)",
    )
    sweep.add_argument(
        "--dry-run",
        action="store_true",
        help="print what would be posted, to whom and why; post nothing and write nothing",
    )
    sweep.set_defaults(run=cmd_sweep)

    demo = sub.add_parser("demo", help="try the bot in a local Slack sandbox in your browser (no Slack app needed)")
    demo.add_argument("--port", type=int, default=8080, help="port of the sandbox page on 127.0.0.1 (default 8080)")
    demo.add_argument("--open", action="store_true", help="open the page in your web browser")
    demo.add_argument("--script", action="store_true", help="play a scripted onboarding headless; write --out")
    demo.add_argument("--playbook", default=None, metavar="KEY", help="with --script: the playbook to use")
    demo.add_argument("--days", type=int, default=90, help="with --script: how many days to play (default 90)")
    demo.add_argument("--out", default="transcript.html", help="with --script: the transcript file to write")
    demo.set_defaults(run=cmd_demo)

    migrate = sub.add_parser("migrate", help="apply database migrations (DATABASE_URL)")
    migrate.set_defaults(run=cmd_migrate)

    playbooks = sub.add_parser("playbooks", help="work with playbook files")
    playbooks_sub = playbooks.add_subparsers(dest="playbooks_command", required=True, metavar="ACTION")
    validate = playbooks_sub.add_parser("validate", help="check playbook TOML files and report every problem")
    validate.add_argument("dir", nargs="?", help="directory of playbooks (default: the shipped ones)")
    validate.set_defaults(run=cmd_playbooks_validate)

    templates = sub.add_parser("templates", help="work with message templates")
    templates_sub = templates.add_subparsers(dest="templates_command", required=True, metavar="ACTION")
    templates_validate = templates_sub.add_parser(
        "validate", help="check a directory of message templates; every problem with file and line"
    )
    templates_validate.add_argument("dir", help="directory of *.md.j2 templates (as ONBOARD_TEMPLATES_DIR)")
    templates_validate.set_defaults(run=cmd_templates_validate)

    usage = sub.add_parser("usage", help="product usage reports")
    usage_sub = usage.add_subparsers(dest="usage_command", required=True, metavar="ACTION")
    usage_import = usage_sub.add_parser(
        "import", help="import a CSV export (account_id, date, provisioned_seats, ..., event:<name>)"
    )
    usage_import.add_argument("file", help="the CSV file")
    usage_import.add_argument(
        "--skip-bad", action="store_true", help="import the good lines and name the bad ones (default: import nothing)"
    )
    usage_import.set_defaults(run=cmd_usage_import)
    metrics = sub.add_parser("metrics", help="the team's onboarding numbers against their targets")
    metrics.add_argument("--format", choices=("table", "csv", "json"), default="table")
    metrics.add_argument("--since", type=date.fromisoformat, metavar="YYYY-MM-DD",
                         help="only onboardings signed on or after this day")  # fmt: skip
    metrics.add_argument("--by", choices=("tier", "csm", "playbook"), help="one group per tier, CSM or playbook")
    metrics.set_defaults(run=cmd_metrics)
    return parser


def cmd_metrics(args: argparse.Namespace, settings: Settings) -> int:
    from bot.planning.playbook import load_playbooks
    from bot.value.portfolio import By, grouped, numbers
    from messages.metrics import as_csv, as_json, as_table

    engine = make_engine(settings.database_url)
    try:
        check_schema(engine)
        found = numbers(engine, datetime.now(UTC), load_playbooks(settings.playbooks_dir), since=args.since)
    finally:
        engine.dispose()
    groups = grouped(found, By(args.by) if args.by else By.ALL)
    render = {"table": as_table, "csv": as_csv, "json": as_json}[args.format]
    sys.stdout.write(render(groups))
    return 0


def _minutes(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of minutes: {raw!r}") from None
    if not 0 < value <= 24 * 60:
        raise argparse.ArgumentTypeError("give between 0 and 1440 minutes")
    return value


def _threads(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {raw!r}") from None
    if not 1 <= value <= 256:
        raise argparse.ArgumentTypeError("give between 1 and 256")
    return value


def _zone(raw: str) -> str:
    try:
        return ZoneInfo(raw).key
    except (ZoneInfoNotFoundError, ValueError):
        raise argparse.ArgumentTypeError(f"not an IANA timezone such as America/New_York: {raw!r}") from None


def _moment(raw: str, tz: str = "UTC", now: datetime | None = None) -> datetime:
    """`raw` as an aware UTC instant: an ISO time, or a time of day meaning today; read in `tz` unless
    it has an offset of its own."""
    zone = ZoneInfo(tz)
    try:
        of_day = time.fromisoformat(raw) if len(raw) <= 8 and ":" in raw else None
        moment = (
            datetime.combine((now or datetime.now(UTC)).astimezone(zone).date(), of_day)
            if of_day is not None
            else datetime.fromisoformat(raw)
        )
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not an ISO time such as 2026-05-04T09:00 or a time of day such as 09:00: {raw!r}"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(UTC)


def _rules(playbooks: Mapping, services: Services | None = None, default_timezone: str = "UTC"):
    """The rules' decide(session, now), with the playbooks as configured (ONBOARD_PLAYBOOKS_DIR included);
    with `services`, people's own timezones come from Slack (else the default timezone stands for all)."""
    try:
        from bot.automation.rules import decide
    except ImportError as exc:
        raise ConfigError(f"the rules (bot.automation.rules) cannot be loaded: {exc}") from None
    if services is None:
        return partial(decide, playbooks=playbooks, default_timezone=default_timezone)
    from bot.runtime.people_zones import PeopleZones

    zones = PeopleZones(services.client, services.clock)
    return partial(decide, playbooks=playbooks, person_zone=zones, default_timezone=services.settings.default_timezone)


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    engine = make_engine(settings.database_url)
    before = current_revision(engine)
    upgrade(engine)
    after = head_revision()
    print("database already up to date" if before == after else f"database migrated: {before or 'empty'} -> {after}")
    return 0


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from bot.runtime.app import build_services, create_app

    settings.require_slack()
    engine = make_engine(settings.database_url)
    if args.migrate:
        upgrade(engine)
    check_schema(engine)
    turns = Turns(args.turns)
    work = InTurns(ThreadPoolExecutor(max_workers=args.work_threads, thread_name_prefix="work"), turns)
    # What follows a card mostly waits on Slack: twice as many threads, none of them the cards'.
    follow_ups = ThreadPoolExecutor(max_workers=2 * args.work_threads, thread_name_prefix="follow-up")
    services = build_services(settings, engine=engine, work=work, follow_ups=follow_ups, turns=turns)
    app = create_app(services)
    scheduler = None
    if args.with_scheduler:
        from bot.runtime.scheduler import make_scheduler

        scheduler = make_scheduler(services, decide=_rules(services.playbooks, services))
        scheduler.start()
        log.info("scheduler running beside the server")
    try:
        return _serve(args, settings, services, app, engine)
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=True)
        work.shutdown(wait=True)


def _serve(args: argparse.Namespace, settings: Settings, services, app, engine) -> int:
    from bot.runtime.server import make_server, make_wsgi
    from bot.runtime.usage_api import usage_front

    if settings.socket_mode:
        from slack_bolt.adapter.socket_mode import SocketModeHandler

        health = make_server(make_wsgi(None, engine, usage_front(services)), host=args.host, port=args.port, threads=2)
        threading.Thread(target=health.run, name="healthz", daemon=True).start()
        log.info("Socket Mode as team %s; health check on port %s", services.vendor_team_id, health.effective_port)
        try:
            SocketModeHandler(app, settings.slack_app_token).start()
        except KeyboardInterrupt:
            pass
        finally:
            health.close()
        return 0

    server = make_server(
        make_wsgi(app, engine, usage_front(services)), host=args.host, port=args.port, threads=args.threads
    )
    log.info(
        "listening on http://%s:%s/slack/events as team %s", args.host, server.effective_port, services.vendor_team_id
    )
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
    return 0


def cmd_scheduler(args: argparse.Namespace, settings: Settings) -> int:
    from bot.runtime.app import build_services
    from bot.runtime.scheduler import run_until_stopped

    settings.require("slack_bot_token")
    engine = make_engine(settings.database_url)
    check_schema(engine)
    services = build_services(settings, engine=engine)
    run_until_stopped(services, decide=_rules(services.playbooks, services), every_minutes=args.every)
    return 0


def cmd_sweep(args: argparse.Namespace, settings: Settings) -> int:
    from bot.planning.playbook import load_playbooks
    from bot.runtime.sweep import describe_plan, plan_sweep, run_sweep

    playbooks = load_playbooks(settings.playbooks_dir)
    engine = make_engine(settings.database_url)
    try:
        check_schema(engine)
        now = args.now or datetime.now(UTC)
        if args.dry_run:
            decide = _rules(playbooks, default_timezone=settings.default_timezone)
            print(describe_plan(plan_sweep(engine, now, decide=decide)))
            return 0
        from bot.runtime.app import build_services

        settings.require("slack_bot_token")
        services = build_services(settings, engine=engine)
        report = run_sweep(services, now, decide=_rules(playbooks, services), in_flight=settings.delivery_in_flight)
        print(report.summary())
        return 0
    finally:
        engine.dispose()


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from pathlib import Path

    from bot.demo import run

    if settings.log_level != "DEBUG":  # the page shows what the bot does; its request log would drown the console
        logging.getLogger("onboard_bot").setLevel(logging.WARNING)
    if args.script:
        return run.script(Path(args.out), days=args.days, playbook=args.playbook)
    return run.serve(args.port, open_browser=args.open)


def cmd_playbooks_validate(args: argparse.Namespace, settings: Settings) -> int:
    from bot.planning.playbook import validate_command

    return validate_command(args.dir)


def cmd_templates_validate(args: argparse.Namespace, settings: Settings) -> int:
    from pathlib import Path

    from messages.templates import validate_dir
    from messages.value_posts import SAMPLES

    directory = Path(args.dir)
    if not directory.is_dir():
        print(f"onboard-bot: {directory} is not a directory", file=sys.stderr)
        return 2
    problems = validate_dir(directory, SAMPLES)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(f"{len(problems)} problem(s); fix them before pointing ONBOARD_TEMPLATES_DIR here", file=sys.stderr)
        return 1
    print(f"{directory}: templates are valid")
    return 0


def cmd_usage_import(args: argparse.Namespace, settings: Settings) -> int:
    from bot.planning.playbook import load_playbooks
    from bot.value.ingest import ingest
    from bot.value.usage import read_csv

    try:
        with open(args.file, encoding="utf-8-sig", newline="") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError) as exc:
        print(f"onboard-bot: cannot read {args.file}: {exc}", file=sys.stderr)
        return 2
    now = datetime.now(UTC)
    readings, problems = read_csv(text, now.date())
    engine = make_engine(settings.database_url)
    try:
        check_schema(engine)
        bad = sorted({p.split(",")[0].split(":")[0] for p in problems if p.startswith("line ")})
        result = ingest(
            engine,
            readings,
            now=now,
            playbooks=load_playbooks(settings.playbooks_dir),
            source=f"CSV import of {args.file}",
            skip_bad=args.skip_bad,
            bad=bad,
        )
        if result.changes and settings.slack_bot_token:
            from bot.runtime.app import build_services
            from bot.slack import publish

            services = build_services(settings, engine=engine)
            for changed in result.changes:
                publish.publish(services, changed, now=now)
    finally:
        engine.dispose()
    problems = sorted(problems + result.problems, key=_line_of)
    if problems and not args.skip_bad:
        _print_problems(args.file, problems, "nothing was imported; fix them, or pass --skip-bad")
        return 1
    if problems:
        _print_problems(args.file, problems, "those lines were skipped")
    done = sum(len(c.lines) for c in result.changes)
    print(
        f"imported {result.written} values for {len(result.onboardings)} onboarding(s)"
        + (f"; {done} milestone(s) done by their key event" if done else "")
    )
    return 0


def _line_of(problem: str) -> int:
    digits = problem.removeprefix("line ").split(",")[0].split(":")[0]
    return int(digits) if digits.isdigit() else 0


def _print_problems(file: str, problems: Sequence[str], then: str) -> None:
    for problem in problems:
        print(f"{file}: {problem}", file=sys.stderr)
    print(f"{len(problems)} problem(s); {then}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if isinstance(getattr(args, "now", None), str):
        try:
            args.now = _moment(args.now, args.tz)
        except argparse.ArgumentTypeError as exc:
            parser.error(f"argument --now: {exc}")
    try:
        settings = load_settings()
        logs.configure(settings.log_level, secrets=(settings.slack_signing_secret or "",))
        return args.run(args, settings)
    except (ConfigError, SchemaOutdated) as exc:
        print(f"onboard-bot: {exc}", file=sys.stderr)
        return 2
    except PlaybookError as exc:
        first = exc.problems[0] if exc.problems else "no readable playbook"
        print(
            f"onboard-bot: ONBOARD_PLAYBOOKS_DIR has {len(exc.problems)} problem(s), first {first}; "
            "see `onboard-bot playbooks validate DIR`",
            file=sys.stderr,
        )
        return 2
    except OperationalError as exc:
        print(f"onboard-bot: DATABASE_URL cannot be used: {exc.orig or exc}".splitlines()[0], file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
