"""The rules that act on their own: who must hear what, where, and why, at a given "now".

`decide(session, now)` reads every active onboarding with a fixed number of set-based queries
(the store's, assembled into accounts by bot.automation.rules.candidates), decides in Python, writes
escalation levels and today's health snapshots in bulk (in the session's transaction), and returns
`Notice`s (bot.core.notices). The outbox claims them by dedupe key, so returning a notice already said is harmless. Escalation notices come only in the
pass that opens or raises the escalation, so claim them in the same transaction. Every number is a
`RuleSettings` field (bot.planning.settings), overridable per playbook with a `[rules]` table.

When: every notice's `not_before` is the next moment inside the customer's business hours, in their
timezone (`onboarding.timezone`), so nothing goes out at night or on a non-business day. Snoozes: a
Snooze row (onboarding, rule, subject) until a later moment, a Snooze with subject "" (the whole
rule for that onboarding), or the milestone's `snoozed_until` keeps a reason quiet. Only onboardings
running (status "active", or "live" after go-live: the adoption stage is nudged like any other) are read; done milestones are never nudged.

Audience: CUSTOMER_DM notices are direct messages to one customer-side person, in words fit for
the customer and without controls. SHARED notices go to the channel shared with the customer and carry only what the
customer may read (milestone nudges to its customer-side owner, the sponsor-facing part of a
blocked escalation, the weekly overview). Fault, risk, health, schedule slips and silence are said
only INTERNAL (the vendor's channel for this customer) or by DM; a DM meant for someone not in
Slack goes to the internal channel instead, and an internal post without an internal channel goes
by DM. For channel posts `recipient` is the channel id and `facts["addressed"]` names the person
spoken to.

Facts, per rule (person fields are display strings: "<@U123>" for someone in Slack, their name
otherwise, "" when nobody holds the role; dates are ISO strings):

Every notice: customer_name (but portfolio_digest, about many); and, except weekly_overview,
addressed (the person spoken to).

Milestone facts (due_soon, overdue, blocked, kickoff_recap_missing): milestone_id, version, key,
title, due_on, stage, status, customer_owner, vendor_owner, customer_owner_role, vendor_owner_role.

- due_soon (subject = milestone key, period = its due date; SHARED to the customer-side owner and
  DM to the vendor-side owner): milestone facts, business_days_left.
- overdue (subject = milestone key, period = the customer's local date; same two audiences):
  milestone facts, days_overdue.
- due_soon and overdue of the go-live sign-off (`signoff_milestone`): never SHARED; CUSTOMER_DM to
  the sponsor (when in Slack, and only while the sign-off is theirs to give) and DM to the
  vendor-side owner, with signoff (True), sponsor, sponsor_reminded, signoff_state ("open",
  "waiting" for the go-live work, "countersign"), card_channel and card_ts (the sign-off card, when posted).
- blocked, SHARED to the executive sponsor (else the economic buyer), period "escalation-<id>":
  milestone facts, escalation_id, days_blocked, blocked_reason, unblocker, executive_sponsor,
  unblock_call_hours, unblock_call_by (local ISO datetime).
- blocked, DM to the CSM (level 0), period "escalation-<id>-level-0", and every climb (rule of the
  escalation, DM to the person at the new level, period "escalation-<id>-level-<n>"): milestone
  facts, escalation_id, level (0 CSM, 1 CSM manager, 2 escalation contact), level_role, opened_on,
  days_blocked, blocked_since, blocked_reason, unblocker, waiting_on ("customer", "vendor" or
  "unknown": the side of the named unblocker), target_go_live_on, days_to_target, csm, csm_manager,
  escalation_contact, executive_sponsor, passed_over (who had it before and did not pick it up),
  card_channel / card_ts (the milestone's stage card); climbs add unanswered_since.
- behind_schedule (subject "", period = ISO week; DM to the CSM's manager): days_behind,
  behind_schedule_days, earliest_open (an item, below), target_go_live_on, projected_go_live_on,
  economic_buyer, csm, csm_manager.
- silent_account (subject "", period "<day silence began>+<threshold>d"; INTERNAL): days_silent,
  last_customer_activity_at (ISO datetime or None), open_milestones, play
  ("confirm_project_owner" or "contact_executive_sponsor"), project_owner, executive_sponsor, csm.
- kickoff_recap_missing (subject = recap key, period = the kickoff's local day; DM to the recap's
  vendor-side owner): milestone facts of the recap, kickoff_done_at, hours_since_kickoff, kickoff_keys.
- health_drop (subject "", period = ISO week; DM to the CSM and to the CSM's manager): score,
  previous_score, previous_day, drop, parts, previous_parts (see bot.automation.health for the parts).
- weekly_overview (subject "", period = ISO week "2026-W19"; SHARED): week, week_of (its Monday),
  done_last_week, due_this_week, blocked, awaiting_customer: lists of items; target_go_live_on,
  projected_go_live_on (None before the first projection), went_live_on (None until live).

An item is {key, title, due_on, owner (the customer-side owner, else the vendor-side one)}.

- portfolio_digest (subject "", period = the manager's ISO week; DM to each CSM manager in Slack,
  about every running onboarding naming them, filed under the lowest onboarding id of them; Monday
  on, in the manager's own timezone: bot.automation.rules.portfolio_digest): week, week_of (this
  Monday), since (last Monday: the week reported), timezone, onboardings, on_track, at_risk,
  behind, live (counts now); lists of {customer_name, channel (the shared channel id, "" when
  none)} and per list: went_live (on), moved_stage (from, to), newly_at_risk and newly_behind
  (was: the schedule in the previous digest, "" when none), escalations_opened and
  escalations_closed (rule, subject), low_ratings (stage, score); compared (whether an earlier
  digest was there to compare with); schedules ({onboarding id: schedule}, for next week's digest).
  The notice carries the manager's timezone (`Notice.zone`) for the one-digest-per-day rule.

Once the handoff to the ongoing CSM is written (bot.onboarding.ongoing), every rule that speaks to
"the CSM" speaks to the ongoing CSM (`Account.person`). Handed-off onboardings get only the account
cadence (bot.automation.rules.cadence), each a DM to the ongoing CSM, and what is left of the
post-go-live cadence (below):

- check_in, business_review (subject "check_in-<n>" / "business_review-<n>", period = its due date):
  kind, due_on, number, and the account's numbers: health_score, health_day, ratings (the latest
  [{stage, score}]), open_escalations, renewal_on.
- renewal (subject "renewal", period = its due date): the same.
- renewal_risk (subject "escalations", "champion_left" or "slow-<review>"): signal and, by signal,
  count and days; champion and left_on; review, due_on and business_days; renewal_on.
"""

from bot.automation.rules.engine import SettingsFor, decide, settings_from_playbooks
from bot.planning.settings import DEFAULTS, RuleSettings

__all__ = ["DEFAULTS", "RuleSettings", "SettingsFor", "decide", "settings_from_playbooks"]
