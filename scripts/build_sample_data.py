#!/usr/bin/env python3
"""Generate the binary documents of the CTO Advisor sample corpus.

All text for the generated files lives in this script as plain Python data.
Markdown and HTML documents in ``data/`` are hand-written and are not touched.

Usage (from the repository root):

    .venv/bin/python scripts/build_sample_data.py

Outputs (relative to ``data/``):

    playbooks/security-basics.pdf
    playbooks/engineering-metrics.docx
    clients/ledgerly/team-roster.docx
    clients/ledgerly/incident-2026-09-payment-outage.pdf
    clients/ledgerly/board-deck-q3-2026.pptx
    clients/haulwise/team-roster.csv
    clients/haulwise/roadmap-2027.docx
    clients/haulwise/board-deck-q2-2026.pptx

Generation is deterministic: document metadata uses fixed dates and the
ZIP-based Office files are rewritten with fixed entry timestamps, so running
the script twice produces byte-identical files.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from pathlib import Path

from docx import Document
from docx.shared import Pt
from fpdf import FPDF
from pptx import Presentation
from pptx.util import Pt as PptPt

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"

FIXED_DATETIME = dt.datetime(2026, 10, 1, 9, 0, 0, tzinfo=dt.UTC)
FIXED_NAIVE = FIXED_DATETIME.replace(tzinfo=None)
ZIP_TIMESTAMP = (2026, 10, 1, 9, 0, 0)
AUTHOR = "CTO Advisor sample data"

# ---------------------------------------------------------------------------
# Content: playbooks/security-basics.pdf
# Each inner list is exactly one PDF page. Blocks are (kind, payload) where
# kind is "h1", "h2", "p" or "bullets". Text must stay latin-1 safe.
# ---------------------------------------------------------------------------

SECURITY_BASICS_PAGES = [
    [
        ("h1", "Security Basics for Early-Stage Companies"),
        (
            "p",
            "CTO Advisor playbook. Nearly every real breach at a startup comes from the same handful of "
            "gaps: stolen credentials, leaked secrets, unpatched dependencies, over-broad access, and "
            "backups that do not restore. Page 1 covers identity, page 2 secrets and dependencies, page 3 "
            "access and backups, and page 4 when to start SOC 2.",
        ),
        ("h2", "Identity: SSO everywhere"),
        (
            "p",
            "Choose one identity provider (Google Workspace or Okta for most startups) and make it the "
            "front door to every tool. Every SaaS tool that supports single sign-on is connected to it, "
            "even when SSO costs extra. The so-called SSO tax is cheaper than an offboarding you forgot.",
        ),
        (
            "bullets",
            [
                "Tools that cannot do SSO go on an exceptions list with a named owner, reviewed quarterly.",
                "Everything not behind SSO lives in the company password manager, never in chat or documents.",
            ],
        ),
        ("h2", "MFA without exceptions"),
        (
            "p",
            "Multi-factor authentication is mandatory on every account, with no exceptions for founders "
            "or executives, who are the most targeted people in the company.",
        ),
        (
            "bullets",
            [
                "Phishing-resistant MFA (hardware security keys or passkeys) is required for administrators "
                "of the identity provider, the cloud provider, code hosting, DNS, and the production database.",
                "SMS codes are not accepted as a second factor for any work account.",
            ],
        ),
        ("h2", "Offboarding"),
        (
            "p",
            "When someone leaves, all of their access is revoked within 4 hours of their last working "
            "moment, driven by a checklist owned by one person. The checklist covers the SSO exceptions "
            "list, API keys they created, and any shared secrets they could see, which must be rotated.",
        ),
    ],
    [
        ("h1", "Secrets Management and Dependency Scanning"),
        ("h2", "Secrets never live in code"),
        (
            "p",
            "A secret is anything that grants access: API keys, database passwords, signing keys, webhook "
            "signing secrets. Secrets never go in the git repository, container images, CI logs, or chat.",
        ),
        (
            "bullets",
            [
                "Store secrets in a secrets manager (AWS Secrets Manager, Doppler, 1Password, or HashiCorp "
                "Vault) and inject them at runtime. PaaS config vars are acceptable at seed stage if the "
                "dashboard is behind SSO and MFA.",
                "Rotate secrets every 90 days, and immediately when anyone with access to them leaves.",
                "Run secret scanning both as a pre-commit hook and in CI, and turn on push protection.",
            ],
        ),
        (
            "p",
            "If a secret is committed, treat it as leaked: rotate it within 1 hour. Rewriting git history "
            "is not enough, because forks, caches and CI logs may already hold a copy.",
        ),
        ("h2", "Dependency scanning and patching"),
        (
            "p",
            "Known vulnerabilities in open-source dependencies are the cheapest attack there is, so "
            "patching has service levels just like customer support does.",
        ),
        (
            "bullets",
            [
                "Enable automated dependency updates (Dependabot or Renovate) on every repository, grouped "
                "weekly so the pull requests stay reviewable.",
                "Patch service levels: critical vulnerabilities within 7 days, high within 30 days, medium "
                "within the next quarter.",
                "Commit lockfiles and build from them in CI, so production runs exactly what was tested.",
                "Scan container base images too, and rebuild images at least monthly.",
            ],
        ),
        (
            "p",
            "A dependency alert that sits open for a month is a process failure, not a tooling failure.",
        ),
    ],
    [
        ("h1", "Least Privilege and Backups"),
        ("h2", "Least privilege"),
        (
            "p",
            "Everyone gets the minimum access needed for their current job. The goal is that one "
            "compromised laptop cannot take down or exfiltrate the company.",
        ),
        (
            "bullets",
            [
                "No standing production access for engineers. Access is granted just in time, with a reason "
                "and an approval, and expires automatically after 8 hours.",
                "Keep production and non-production in separate cloud accounts or projects.",
                "A break-glass administrator account exists for emergencies. Using it requires two people "
                "and alerts the whole leadership team.",
                "Run an access review every quarter; anything a manager does not confirm is removed.",
            ],
        ),
        ("h2", "Backups that actually restore"),
        ("p", "A backup you have never restored is a hope, not a backup."),
        (
            "bullets",
            [
                "Follow the 3-2-1 rule: three copies of the data, on two different types of storage, with "
                "one copy in a separate account that production credentials cannot delete.",
                "Enable point-in-time recovery on the primary database. Target a recovery point objective "
                "(RPO) of 15 minutes and a recovery time objective (RTO) of 4 hours at seed stage.",
                "Test restores quarterly: restore the full production database into an isolated environment, "
                "compare row counts, and record the elapsed time in a restore log.",
            ],
        ),
        (
            "p",
            "If the quarterly restore takes longer than your RTO, that is a finding to fix before the "
            "next quarter.",
        ),
    ],
    [
        ("h1", "When to Start SOC 2"),
        (
            "p",
            "SOC 2 is a sales tool, not a security programme. Do the basics on pages 1 to 3 from day one; "
            "start SOC 2 only when revenue depends on it.",
        ),
        (
            "bullets",
            [
                "Trigger: a signed or late-stage deal that requires a SOC 2 report, usually the first "
                "enterprise customer above roughly $50,000 in annual contract value, often between seed and "
                "Series A.",
                "Start with a Type I report (controls designed correctly at a point in time). Readiness "
                "typically takes 8 to 12 weeks with a compliance automation platform.",
                "Follow with a Type II report, which tests controls over an observation window of 3 to 12 "
                "months. Six months is what most enterprise buyers accept for a first report.",
                "Budget roughly $25,000 to $60,000 for the first year: platform, auditor, and a penetration test.",
                "Never change core infrastructure (for example a cloud migration) in the middle of an "
                "observation window without agreeing it with the auditor first.",
            ],
        ),
        ("h2", "First 90 days checklist"),
        (
            "bullets",
            [
                "Days 1-30: identity provider live, SSO on the top ten tools, MFA enforced for everyone.",
                "Days 31-60: secrets manager, secret scanning, dependency updates, no standing production access.",
                "Days 61-90: first full restore test, first access review, offboarding checklist written.",
            ],
        ),
        (
            "p",
            "At seed stage the CTO owns security. Appoint a security lead among the engineers at about "
            "20 engineers.",
        ),
    ],
]

# ---------------------------------------------------------------------------
# Content: clients/ledgerly/incident-2026-09-payment-outage.pdf (one list per page)
# ---------------------------------------------------------------------------

LEDGERLY_INCIDENT_PAGES = [
    [
        ("h1", "Ledgerly Incident Report: Payment Outage, 14 September 2026"),
        (
            "p",
            "Severity: SEV1. Status: final, published Friday 18 September 2026 (four business days after "
            "the incident). Incident commander: Dana Whitfield. Author: fractional CTO, with input from "
            "the whole engineering team. This report is blameless.",
        ),
        ("h2", "Summary"),
        (
            "p",
            "On Monday 14 September 2026, card and ACH payment processing failed or stalled for "
            "2 hours 39 minutes, from 10:02 to 12:41 Eastern Time. A routine deploy ran a Django migration "
            "that built a new index on the ledger_entries table without the CONCURRENTLY option. The "
            "index build locked the table against writes, every payment that needed to write ledger "
            "entries queued behind the lock, and the resulting retry storm from Stripe webhooks and "
            "Celery tasks exhausted the Postgres connection limit.",
        ),
        ("h2", "Customer impact"),
        (
            "bullets",
            [
                "1,312 failed payment attempts across 87 business customers.",
                "$186,400 of vendor payouts delayed by up to 6 hours.",
                "Customer dashboard unavailable or timing out (Heroku H12 errors) for about 75 minutes.",
                "No data was lost. Reconciliation found 3 duplicate ledger entries caused by retries; all were "
                "reversed with correcting entries on 15 September, and no customer was double charged.",
                "Harbor State Bank, the sponsor bank, was notified on the day as required by the partnership "
                "agreement.",
            ],
        ),
        ("h2", "Detection"),
        (
            "p",
            "The first signal was a customer email to support at 10:44, 42 minutes after the problem "
            "started. Sentry showed timeouts but no alert fired, because error alerts are rate based and "
            "the lock caused requests to hang rather than fail fast. Ledgerly had no alert on payment "
            "success rate at the time.",
        ),
    ],
    [
        ("h1", "Timeline (Eastern Time)"),
        (
            "bullets",
            [
                "10:02 - Release v2026.09.14-3 is promoted to production. Heroku's release phase runs "
                "migration 0147, which adds an index on ledger_entries (account_id, posted_at).",
                "10:03 - Index build starts on a table of about 41 million rows and takes a lock that blocks "
                "all inserts into ledger_entries.",
                "10:05 - Payment confirmation requests begin hanging; web requests hit the 30-second router "
                "timeout.",
                "10:09 - Stripe webhook deliveries start failing; Stripe begins automatic retries.",
                "10:20 - Celery workers hold open connections while waiting on the lock; Postgres reaches its "
                "connection limit and unrelated pages start failing.",
                "10:44 - Support receives the first customer email and posts in the engineering channel.",
                "10:51 - Dana Whitfield declares a SEV1 and acts as incident commander. Marcus Lindqvist, the "
                "other on-call engineer, is on a flight and unreachable.",
                "11:08 - The long-running index build is identified as the blocker.",
                "11:19 - The index build is cancelled with pg_cancel_backend. The lock is released.",
                "11:25 - Web traffic recovers, but thousands of queued Celery retries immediately exhaust "
                "connections again.",
                "11:40 - Worker dynos scaled down to one and Stripe webhook processing paused to let "
                "connections recover.",
                "12:15 - Backlog of 9,400 webhook events drained at a controlled rate.",
                "12:41 - Payment success rate back above 99 percent; SEV1 resolved. Monitoring continued "
                "until 14:00.",
            ],
        ),
        ("h2", "What went well"),
        (
            "bullets",
            [
                "Idempotent webhook handling meant replaying 9,400 events did not create duplicate payouts.",
                "The append-only ledger made the 3 duplicate entries easy to find and reverse.",
            ],
        ),
        ("h2", "What went badly"),
        (
            "bullets",
            [
                "Detection took 42 minutes and came from a customer.",
                "With a two-person on-call rotation and one person in the air, the incident commander was also "
                "the only engineer debugging, so no one was coordinating or updating customers until 11:30.",
                "The first fix (cancelling the index) caused a second wave because retries were not rate "
                "limited.",
            ],
        ),
    ],
    [
        ("h1", "Root Cause and Action Items"),
        ("h2", "Root cause"),
        (
            "p",
            "Migration 0147 used Django's default AddIndex operation, which issues CREATE INDEX without "
            "CONCURRENTLY. On a 41-million-row table this holds a write-blocking lock for the length of "
            "the build. The migration had been tested on staging, where ledger_entries holds only about "
            "200,000 rows and the build took under two seconds.",
        ),
        ("h2", "Contributing factors"),
        (
            "bullets",
            [
                "No lock_timeout or statement_timeout on release-phase migrations, so the migration waited and "
                "blocked indefinitely instead of failing fast.",
                "No migration review rule for large tables; the pull request had one approval and no one "
                "flagged the index type.",
                "No connection pooling, so retries from Stripe webhooks and Celery tasks consumed every "
                "available Postgres connection.",
                "No business-metric alerting on payment success rate.",
                "A two-person on-call rotation, which left one engineer to run and fix the incident alone.",
            ],
        ),
        ("h2", "Action items"),
        (
            "bullets",
            [
                "1. Add a CI check that rejects non-concurrent index creation and blocking column changes on "
                "tables over 1 million rows. Owner: Ravi Chandran. Due: 2 October 2026.",
                "2. Set lock_timeout to 5 seconds and statement_timeout to 15 minutes for release-phase "
                "migrations. Owner: Marcus Lindqvist. Due: 25 September 2026.",
                "3. Page on-call when payment success rate falls below 97 percent over 5 minutes. "
                "Owner: Sofia Marchetti. Due: 30 September 2026.",
                "4. Deploy PgBouncer in front of Heroku Postgres and cap Celery concurrency. "
                "Owner: Sofia Marchetti. Due: 16 October 2026.",
                "5. Refresh staging monthly with an anonymised, production-sized dataset. "
                "Owner: Aisha Bello. Due: 30 October 2026.",
                "6. Grow the on-call rotation from two to four engineers, with the fractional CTO as secondary, "
                "until five are available. Owner: fractional CTO. Due: 9 October 2026.",
                "7. Write an incident commander runbook stating that the commander coordinates and does not "
                "debug. Owner: Dana Whitfield. Due: 9 October 2026.",
            ],
        ),
        (
            "p",
            "Open action items are reviewed in the monthly reliability meeting. Items 1, 2 and 3 must be "
            "closed before the next production migration on ledger_entries.",
        ),
    ],
]

# ---------------------------------------------------------------------------
# Content: playbooks/engineering-metrics.docx
# ---------------------------------------------------------------------------

METRICS_DOC = {
    "title": "Engineering Metrics That Matter",
    "intro": (
        "CTO Advisor playbook. Founders ask how to tell whether engineering is going well. The honest "
        "answer is a small set of team-level delivery and reliability metrics, reviewed as trends, "
        "combined with judgement. This playbook defines which metrics to track, the targets I use at "
        "each stage, and how not to misuse them."
    ),
    "sections": [
        (
            "Principles",
            [
                (
                    "p",
                    "Metrics are for learning, not for judging people. The moment a number is used to rank "
                    "engineers, people optimise the number and stop telling you the truth.",
                ),
                (
                    "bullet",
                    "Measure teams, never individuals. No per-engineer leaderboards of commits, pull requests or tickets.",
                ),
                (
                    "bullet",
                    "Track at most five metrics at a time. A dashboard with twenty charts is a dashboard nobody reads.",
                ),
                (
                    "bullet",
                    "Look at 90-day trends, not single weeks. One bad week is noise; a quarter of drift is a signal.",
                ),
                (
                    "bullet",
                    "Never use lines of code or story-point velocity to compare teams. Both are trivially gamed.",
                ),
                (
                    "bullet",
                    "Collect metrics automatically from your code host, CI and incident tools. Manual spreadsheets rot within a month.",
                ),
            ],
        ),
        (
            "The four DORA metrics",
            [
                (
                    "p",
                    "The four DORA metrics, from the DevOps Research and Assessment programme, balance speed "
                    "against stability. Two measure throughput (deployment frequency and lead time) and two "
                    "measure stability (change failure rate and time to restore). Improving one pair at the "
                    "expense of the other is not improvement. The table below gives the targets I set for "
                    "clients.",
                ),
                ("table", None),
                (
                    "p",
                    "Lead time is measured from first commit on a change to that change running in "
                    "production. Change failure rate is the share of production deploys that cause an "
                    "incident, a rollback or a hotfix. Time to restore is measured from detection to customer "
                    "impact ending, not to root cause.",
                ),
            ],
        ),
        (
            "Supporting metrics",
            [
                (
                    "p",
                    "Alongside DORA, track a few leading indicators that explain why the DORA numbers move:",
                ),
                ("bullet", "Pull request cycle time: median under 24 hours from opening to merge."),
                ("bullet", "CI duration: under 10 minutes for the main pipeline."),
                ("bullet", "Out-of-hours pages: fewer than two per week per on-call rotation."),
                (
                    "bullet",
                    "Unplanned work: under 20% of engineering time spent on incidents, urgent bugs and interruptions.",
                ),
                (
                    "bullet",
                    "Developer experience: a short quarterly survey of the team, with a free-text question about the biggest source of friction.",
                ),
            ],
        ),
        (
            "Reporting cadence",
            [
                (
                    "p",
                    "Review the metrics with engineering leads monthly and pick one thing to improve. Report "
                    "the four DORA metrics to the board quarterly as a single slide with trend lines and a "
                    "one-sentence explanation of each movement. If a metric has not prompted a decision in two "
                    "quarters, stop tracking it.",
                ),
            ],
        ),
        (
            "Common anti-patterns",
            [
                (
                    "bullet",
                    "Setting a deploy-count target, which produces empty deploys rather than smaller changes.",
                ),
                (
                    "bullet",
                    "Excluding 'minor' incidents from change failure rate to make the number look good.",
                ),
                (
                    "bullet",
                    "Comparing DORA numbers between a platform team and a product team as if the work were the same.",
                ),
                (
                    "bullet",
                    "Buying an engineering-analytics product before agreeing what decisions the data should inform.",
                ),
            ],
        ),
    ],
    "table_header": [
        "Metric",
        "What it tells you",
        "Seed-stage target",
        "Scale-up target (30+ engineers)",
    ],
    "table_rows": [
        [
            "Deployment frequency",
            "How often the team ships to production",
            "At least daily",
            "Multiple deploys per day per team",
        ],
        [
            "Lead time for changes",
            "Time from first commit to running in production",
            "Under 2 days",
            "Under 1 day",
        ],
        [
            "Change failure rate",
            "Share of deploys causing an incident, rollback or hotfix",
            "Under 15%",
            "Under 10%",
        ],
        [
            "Time to restore service",
            "Time from detection to customer impact ending",
            "Under 4 hours",
            "Under 1 hour",
        ],
    ],
}

# ---------------------------------------------------------------------------
# Content: clients/ledgerly/team-roster.docx
# ---------------------------------------------------------------------------

LEDGERLY_ROSTER = {
    "title": "Ledgerly - Engineering Team Roster",
    "intro": (
        "Engineering team as of 1 October 2026. Six people in total: five full-time engineers and one "
        "part-time DevOps contractor. The CEO, Nadia Osei, owns product; the fractional CTO (two days "
        "a week) owns architecture, hiring and engineering process. Tenure is measured to 1 October 2026."
    ),
    "table_heading": "Team members",
    "header": ["Name", "Role", "Tenure", "Strengths", "Notes"],
    "rows": [
        [
            "Dana Whitfield",
            "Founding Engineer / Tech Lead",
            "3 years 4 months",
            "Double-entry ledger design, payments domain, Django internals",
            "Key-person risk: the only engineer who fully understands the ledger. On-call (alternate weeks).",
        ],
        [
            "Marcus Lindqvist",
            "Senior Backend Engineer",
            "2 years 1 month",
            "Plaid integration, Celery, Postgres performance tuning",
            "On-call (alternate weeks). Has asked to be considered for the first engineering manager role.",
        ],
        [
            "Aisha Bello",
            "Senior Full-Stack Engineer",
            "1 year 7 months",
            "React and TypeScript, onboarding flows, strong product sense",
            "Leads the customer dashboard. Candidate to join on-call in Q4 2026.",
        ],
        [
            "Kenji Ward",
            "Frontend Engineer",
            "11 months",
            "TypeScript, accessibility, design systems",
            "Mid-level. Built the component library. Candidate to join on-call in Q4 2026.",
        ],
        [
            "Ravi Chandran",
            "Backend Engineer (junior)",
            "5 months",
            "Test coverage, careful code reviews, fast learner",
            "Mentored by Marcus Lindqvist. Owns the new migration safety check in CI.",
        ],
        [
            "Sofia Marchetti",
            "DevOps Contractor (20 hours/week)",
            "8 months",
            "Heroku, GitHub Actions, Terraform, observability",
            "Contract beyond six months: convert to full-time or hand over to the planned SRE by end of Q2 2027.",
        ],
    ],
    "sections": [
        (
            "On-call",
            [
                (
                    "p",
                    "Ledgerly's on-call rotation is currently two people: Dana Whitfield and Marcus Lindqvist "
                    "alternate weekly shifts, which means each is on call every other week. This is well below "
                    "the five-person minimum in the incident response playbook. Aisha Bello and Kenji Ward will "
                    "shadow shifts in Q4 2026 to bring the rotation to four, with the fractional CTO as "
                    "secondary, and the 2027 hires will take it to five or more. Ledgerly pays an on-call "
                    "stipend of $400 per week on call.",
                ),
            ],
        ),
        (
            "Gaps and hiring priorities",
            [
                (
                    "bullet",
                    "Ledger knowledge: pair a second engineer with Dana on every ledger change.",
                ),
                (
                    "bullet",
                    "Reliability: no full-time infrastructure owner; the SRE is the second 2027 hire.",
                ),
                (
                    "bullet",
                    "Management: the CTO has six direct reports; an engineering manager is planned for Q3 2027.",
                ),
                (
                    "bullet",
                    "Seniority mix: three senior engineers, two mid-level or junior engineers, one contractor.",
                ),
            ],
        ),
    ],
}

# ---------------------------------------------------------------------------
# Content: clients/haulwise/roadmap-2027.docx
# ---------------------------------------------------------------------------

HAULWISE_ROADMAP = {
    "title": "Haulwise - Engineering Roadmap 2027",
    "intro": (
        "Prepared by Helena Brandt (VP Engineering) with the fractional CTO, approved by the executive "
        "team on 14 October 2026. This roadmap sets four engineering themes for 2027. It follows the "
        "Series B raised in 2025 and does not assume new funding."
    ),
    "sections": [
        (
            "Theme 1: Retire Dispatch Classic",
            [
                (
                    "p",
                    "Dispatch Classic, the 2016 PHP 7.4 dispatch system, is our biggest operational risk. It "
                    "caused the 22 July 2026 SEV1, runs on an end-of-life MySQL 5.7 database, and only two "
                    "engineers know it well. We will finish the strangler migration rather than attempt a "
                    "rewrite.",
                ),
                (
                    "bullet",
                    "Q1 2027: move the dispatch database from self-managed MySQL 5.7 on EC2 to Amazon RDS for MySQL 8.0 as a bridge.",
                ),
                (
                    "bullet",
                    "Q2 2027: all job assignment served by the new Dispatch API (from 38% of dispatch traffic in August 2026).",
                ),
                (
                    "bullet",
                    "Q3 2027: manifest generation moved to the Dispatch API; Dispatch Classic becomes read-only.",
                ),
                (
                    "bullet",
                    "Decommission Dispatch Classic by 30 November 2027 and archive dispatch_prod to S3.",
                ),
            ],
        ),
        (
            "Theme 2: Pathfinder v3",
            [
                (
                    "p",
                    "Pathfinder is our differentiator, so we keep building it in-house. Version 3 adds live "
                    "traffic data to the intraday re-optimisation and a Rust extension for the distance-matrix "
                    "step.",
                ),
                (
                    "bullet",
                    "Reduce empty miles for customers by a further 6% against the 2026 baseline.",
                ),
                ("bullet", "Solve a 60,000-stop plan in under 5 minutes (11 minutes today)."),
                (
                    "bullet",
                    "Shorten the intraday re-optimisation interval from 15 minutes to 5 minutes for premium customers.",
                ),
            ],
        ),
        (
            "Theme 3: Platform cost and reliability",
            [
                (
                    "p",
                    "AWS spend is about GBP 128,000 per month and growing faster than revenue. The target is to "
                    "reduce it by 15%, to under GBP 109,000 per month, by Q4 2027 without degrading reliability.",
                ),
                (
                    "bullet",
                    "Move EKS node groups to Graviton instances where images support arm64.",
                ),
                ("bullet", "Run all Pathfinder batch work on Spot capacity with checkpointing."),
                (
                    "bullet",
                    "Enable Kafka tiered storage on MSK and upgrade the cluster two minor versions, with a rehearsed rollback.",
                ),
                (
                    "bullet",
                    "Cut Datadog log ingestion by 30% through sampling and retention tiers.",
                ),
                (
                    "bullet",
                    "Consolidate low-traffic services: from 34 services to no more than 28.",
                ),
            ],
        ),
        (
            "Theme 4: Expansion to the Netherlands",
            [
                (
                    "p",
                    "Commercial plans call for a launch with two Dutch fleet customers in Q3 2027, starting in "
                    "Rotterdam. Engineering work covers Dutch address and postcode handling, EU driver-hours "
                    "rules in Pathfinder constraints, and multi-currency invoicing. Data stays in AWS "
                    "eu-west-2 unless a customer contract requires EU residency, in which case we add eu-west-1.",
                ),
            ],
        ),
        (
            "Quarterly milestones",
            [
                ("table", None),
            ],
        ),
        (
            "Team and hiring",
            [
                (
                    "p",
                    "Engineering grows from 40 to 48 people by December 2027. Priorities, in order:",
                ),
                (
                    "bullet",
                    "Director of Platform (Q1 2027) to own infrastructure, cost and reliability across the Platform and Data teams.",
                ),
                (
                    "bullet",
                    "Two senior engineers for the Dispatch team, hired for strangler-migration experience, not PHP.",
                ),
                ("bullet", "One Rust-experienced engineer for the Routing team."),
                (
                    "bullet",
                    "Two engineers for the Netherlands launch, then two backfills for expected attrition.",
                ),
                (
                    "p",
                    "On-call: each product team keeps its own rotation of at least five engineers, and Data shares "
                    "the Platform rotation. The Dispatch "
                    "rotation gains two trained engineers before the Q1 2027 database migration, so Dispatch "
                    "Classic knowledge is no longer held by two people.",
                ),
            ],
        ),
        (
            "Risks to the plan",
            [
                (
                    "bullet",
                    "The RDS migration for MySQL 5.7 slips, leaving an unsupported database through peak season.",
                ),
                (
                    "bullet",
                    "Loss of either Dispatch Classic expert before the knowledge transfer completes.",
                ),
                ("bullet", "Netherlands commercial timing moves and pulls engineers off Theme 1."),
                (
                    "bullet",
                    "Cost work stalls because no single owner exists until the Director of Platform starts.",
                ),
            ],
        ),
    ],
    "table_header": ["Quarter", "Milestone", "Owning team", "Success measure"],
    "table_rows": [
        [
            "Q1 2027",
            "Dispatch database on RDS for MySQL 8.0",
            "Dispatch + Platform",
            "Cutover with under 15 minutes of write downtime",
        ],
        ["Q1 2027", "Director of Platform hired", "Leadership", "Start date by 31 March 2027"],
        [
            "Q2 2027",
            "All job assignment via Dispatch API",
            "Dispatch",
            "100% of assignment traffic off Dispatch Classic",
        ],
        [
            "Q2 2027",
            "Pathfinder v3 beta with live traffic",
            "Routing",
            "Empty miles down 3% for beta customers",
        ],
        [
            "Q3 2027",
            "Manifests via Dispatch API; Netherlands launch",
            "Dispatch, Routing, Customer Portal",
            "Two Dutch customers live",
        ],
        ["Q4 2027", "Dispatch Classic decommissioned", "Dispatch", "Retired by 30 November 2027"],
        ["Q4 2027", "AWS cost target met", "Platform", "Monthly AWS bill under GBP 109,000"],
    ],
}

# ---------------------------------------------------------------------------
# Content: board decks. Each slide is (title, [bullets]); the first slide is a
# title slide with (title, subtitle).
# ---------------------------------------------------------------------------

LEDGERLY_DECK = {
    "title_slide": (
        "Ledgerly - Board Update Q3 2026",
        "Engineering and product review. Presented by Nadia Osei (CEO) and the fractional CTO, 8 October 2026",
    ),
    "slides": [
        (
            "Q3 2026 highlights",
            [
                "ARR reached $2.1M, up 31% quarter on quarter",
                "214 business customers, net revenue retention 118%",
                "$46M in payment volume processed in Q3",
                "Ledgerly Payouts in beta with 19 customers; GA planned for Q1 2027",
            ],
        ),
        (
            "Engineering metrics",
            [
                "Team: 6 engineers (5 full-time, 1 part-time contractor)",
                "Average of 27 production deploys per week",
                "Change failure rate 12% (target: under 10% in 2027)",
                "Uptime 99.71% for the quarter, driven down by the September SEV1",
                "CI pipeline takes 14 minutes; target under 10 minutes by year end",
            ],
        ),
        (
            "September payment outage",
            [
                "14 September: 2 hours 39 minutes of failed or stalled payments",
                "1,312 failed payment attempts, 87 customers, $186,400 of payouts delayed",
                "Cause: a database migration locked the ledger_entries table",
                "No data lost; no customer double charged",
                "7 action items: lock timeouts, payment alerting and the migration CI check are done; PgBouncer due 16 October",
            ],
        ),
        (
            "Burn and runway",
            [
                "Net burn $285k per month in Q3",
                "Cash in bank $5.9M, runway 20 months at current burn",
                "Infrastructure spend $6,200 per month on Heroku, 2% of burn",
                "SOC 2 budget request: $48k for 2027 (automation platform, auditor, penetration test)",
            ],
        ),
        (
            "Hiring plan",
            [
                "Open 2 senior backend roles and 1 SRE in January 2027, offers timed to the Series A close",
                "Grow from 6 to 9 engineers by June 2027 and to 11 by December 2027",
                "Expand on-call from 2 to 5 engineers by Q2 2027",
                "First engineering manager in Q3 2027, promoted internally if possible",
                "No VP Engineering until the team approaches 15 engineers",
            ],
        ),
        (
            "Key risks",
            [
                "Key-person risk: ledger code understood in depth by one engineer",
                "On-call rotation of only two people; burnout and slow response",
                "Harbor State Bank requires SOC 2 Type I by end of Q1 2027",
                "Plaid contract renewal in January 2027 with expected price increase",
                "Series A timing: a slip past June 2027 pauses hiring after the SRE",
            ],
        ),
        (
            "Asks of the board",
            [
                "Introductions to senior SRE and backend candidates with fintech experience",
                "Approve the $48k SOC 2 budget",
                "Agree Series A process kick-off in January 2027 targeting $14M",
                "Endorse staying on Heroku until after the round closes",
            ],
        ),
    ],
}

HAULWISE_DECK = {
    "title_slide": (
        "Haulwise - Board Meeting Q2 2026",
        "Engineering, platform and product update. Presented by Helena Brandt (VP Engineering), 9 July 2026",
    ),
    "slides": [
        (
            "Business highlights",
            [
                "Q2 revenue GBP 4.1M, annualised run rate GBP 16.4M",
                "1.9M deliveries routed in Q2 across 312 fleet customers",
                "On-time delivery rate for customers using Pathfinder: 96.4%",
                "Two new enterprise fleets signed, including a 1,100-vehicle grocery operator",
            ],
        ),
        (
            "Engineering organisation",
            [
                "40 people in engineering across 6 teams: Dispatch, Routing, Platform, Driver App, Customer Portal, Data",
                "Trailing 12-month attrition 9%, down from 14%",
                "3 open roles: 2 senior Dispatch engineers, 1 Data engineer",
                "Each product team runs its own on-call rotation of at least 5 engineers; Data shares the Platform rotation",
            ],
        ),
        (
            "Platform and reliability",
            [
                "API availability 99.94% in Q2",
                "2 SEV1 incidents year to date, both in Dispatch Classic",
                "About 140 production deploys per week across 34 services",
                "AWS bill GBP 128k per month, up 22% year on year",
            ],
        ),
        (
            "Dispatch Classic modernisation",
            [
                "Strangler migration: 31% of dispatch traffic now on the new Dispatch API (target 50% by Q4 2026)",
                "Dispatch database still on MySQL 5.7, past end of life with no security patches",
                "Plan: bridge to RDS for MySQL 8.0, then retire Dispatch Classic by November 2027",
                "Only 2 engineers know the PHP codebase; knowledge transfer has started",
            ],
        ),
        (
            "Pathfinder route optimisation",
            [
                "Empty miles reduced 4.1% year on year for customers on intraday re-optimisation",
                "60,000-stop plan now solves in 11 minutes, down from 26 minutes",
                "Compute cost is 45% of total compute spend; Spot instances adopted for nightly batch",
                "Rust prototype for the distance-matrix step shows 4x speed-up",
            ],
        ),
        (
            "Key risks",
            [
                "Dispatch Classic: single point of failure with two-person knowledge",
                "Unsupported MySQL 5.7 database under a growing write load",
                "AWS cost growing faster than revenue",
                "MSK Kafka cluster two minor versions behind; upgrade not yet rehearsed",
            ],
        ),
        (
            "Asks of the board",
            [
                "Approve a GBP 420k modernisation budget for 2026-2027 (contractors, RDS migration, tooling)",
                "Support hiring a Director of Platform in Q1 2027",
                "Introductions to logistics customers in the Netherlands ahead of a 2027 launch",
            ],
        ),
    ],
}

# ---------------------------------------------------------------------------
# Content: clients/haulwise/team-roster.csv
# ---------------------------------------------------------------------------

HAULWISE_ROSTER_HEADER = ["name", "team", "role", "location", "tenure_years", "on_call", "notes"]
HAULWISE_ROSTER = [
    [
        "Helena Brandt",
        "Leadership",
        "VP Engineering",
        "Manchester",
        "2.5",
        "no",
        "Reports to CEO; owns 2027 roadmap",
    ],
    [
        "Oliver Hastings",
        "Leadership",
        "Principal Engineer",
        "Manchester",
        "6.0",
        "no",
        "Architecture reviews for new services",
    ],
    [
        "Gareth Pryce",
        "Dispatch",
        "Staff Engineer",
        "Manchester",
        "9.5",
        "yes",
        "Dispatch Classic and MySQL expert; technical lead on July 2026 SEV1",
    ],
    [
        "Lucia Ferreira",
        "Dispatch",
        "Senior Engineer",
        "Remote (Lisbon)",
        "7.0",
        "yes",
        "Second Dispatch Classic PHP expert; owns replica runbook",
    ],
    [
        "Sam Whitaker",
        "Dispatch",
        "Engineering Manager",
        "Manchester",
        "3.0",
        "no",
        "Manages Dispatch team",
    ],
    [
        "Chloe Adeyemi",
        "Dispatch",
        "Senior Engineer",
        "Manchester",
        "2.0",
        "yes",
        "Dispatch API lead; strangler migration",
    ],
    [
        "Daniel Kowalski",
        "Dispatch",
        "Engineer",
        "Leeds",
        "1.5",
        "yes",
        "Pairing with Gareth Pryce on Dispatch Classic",
    ],
    [
        "Fatima Rahman",
        "Dispatch",
        "Engineer",
        "Manchester",
        "1.0",
        "yes",
        "Pairing with Lucia Ferreira on Dispatch Classic",
    ],
    [
        "Ben Carter",
        "Dispatch",
        "Engineer",
        "Remote (Glasgow)",
        "0.5",
        "yes",
        "Debezium and Kafka consumers",
    ],
    [
        "Ewan Mackay",
        "Dispatch",
        "Senior Engineer",
        "Manchester",
        "4.0",
        "yes",
        "Dispatch API data model",
    ],
    [
        "Oskar Nilsson",
        "Routing",
        "Engineering Manager",
        "Manchester",
        "4.5",
        "no",
        "Manages Routing team; Pathfinder owner",
    ],
    [
        "Mei Tanaka",
        "Routing",
        "Staff Engineer",
        "Manchester",
        "5.0",
        "yes",
        "OR-Tools constraint modelling",
    ],
    [
        "Arjun Mehta",
        "Routing",
        "Senior Engineer",
        "Remote (Bristol)",
        "3.5",
        "yes",
        "Rust distance-matrix prototype",
    ],
    [
        "Grace O'Connell",
        "Routing",
        "Senior Engineer",
        "Manchester",
        "2.5",
        "yes",
        "Intraday re-optimisation",
    ],
    ["Tariq Aziz", "Routing", "Engineer", "Manchester", "1.5", "yes", "Driver-hours constraints"],
    [
        "Hannah Lewis",
        "Routing",
        "Engineer",
        "Leeds",
        "1.0",
        "yes",
        "Benchmark suite for solver runs",
    ],
    ["Joe Brennan", "Routing", "Data Scientist", "Manchester", "2.0", "no", "Travel-time models"],
    [
        "Priya Nair",
        "Platform",
        "Engineering Manager",
        "Manchester",
        "3.5",
        "no",
        "Incident commander for July 2026 SEV1; owns incident process",
    ],
    [
        "Tom Okoye",
        "Platform",
        "Senior Engineer",
        "Manchester",
        "4.0",
        "yes",
        "Terraform and EKS upgrades",
    ],
    [
        "Rachel Green",
        "Platform",
        "Senior Engineer",
        "Remote (York)",
        "2.0",
        "yes",
        "Cost optimisation and Graviton migration",
    ],
    ["Lukas Weber", "Platform", "Engineer", "Manchester", "1.5", "yes", "MSK Kafka operations"],
    [
        "Nia Roberts",
        "Platform",
        "Engineer",
        "Remote (Cardiff)",
        "1.0",
        "yes",
        "Datadog and PagerDuty configuration",
    ],
    [
        "Callum Reid",
        "Platform",
        "Engineer",
        "Manchester",
        "0.5",
        "yes",
        "CI runners on the tools cluster",
    ],
    [
        "Sophie Turner",
        "Driver App",
        "Engineering Manager",
        "Manchester",
        "2.0",
        "no",
        "Manages Driver App team",
    ],
    [
        "Marco Rossi",
        "Driver App",
        "Senior Engineer",
        "Manchester",
        "3.0",
        "yes",
        "React Native architecture",
    ],
    [
        "Aaliyah Brooks",
        "Driver App",
        "Senior Engineer",
        "Remote (Sheffield)",
        "2.5",
        "yes",
        "Offline manifests and sync",
    ],
    [
        "Ryan Doyle",
        "Driver App",
        "Engineer",
        "Manchester",
        "1.5",
        "yes",
        "Location tracking and battery usage",
    ],
    ["Zara Hussain", "Driver App", "Engineer", "Leeds", "1.0", "yes", "Proof-of-delivery features"],
    [
        "Peter Lang",
        "Driver App",
        "QA Engineer",
        "Manchester",
        "4.0",
        "yes",
        "Device lab and release testing",
    ],
    [
        "Ellie Moore",
        "Customer Portal",
        "Engineering Manager",
        "Manchester",
        "1.5",
        "no",
        "Manages Customer Portal team",
    ],
    [
        "Kwame Mensah",
        "Customer Portal",
        "Senior Engineer",
        "Manchester",
        "3.0",
        "yes",
        "Live tracking page",
    ],
    [
        "Isabel Cruz",
        "Customer Portal",
        "Senior Engineer",
        "Remote (Liverpool)",
        "2.0",
        "yes",
        "Reporting and exports",
    ],
    [
        "Jack Thompson",
        "Customer Portal",
        "Engineer",
        "Manchester",
        "1.0",
        "yes",
        "Customer notifications",
    ],
    [
        "Lily Chen",
        "Customer Portal",
        "Engineer",
        "Manchester",
        "0.5",
        "yes",
        "Netherlands localisation",
    ],
    [
        "Noah Fischer",
        "Customer Portal",
        "Designer-Engineer",
        "Manchester",
        "2.5",
        "yes",
        "Design system",
    ],
    ["Anika Sharma", "Data", "Engineering Manager", "Manchester", "3.0", "no", "Manages Data team"],
    [
        "Liam Byrne",
        "Data",
        "Senior Data Engineer",
        "Manchester",
        "2.5",
        "yes",
        "Kafka to warehouse pipelines",
    ],
    [
        "Olivia Price",
        "Data",
        "Data Engineer",
        "Remote (Newcastle)",
        "1.5",
        "yes",
        "dbt models and data quality",
    ],
    [
        "Ethan Walsh",
        "Data",
        "Analytics Engineer",
        "Manchester",
        "1.0",
        "yes",
        "Customer-facing analytics",
    ],
    [
        "Maya Patel",
        "Data",
        "Data Engineer",
        "Manchester",
        "0.5",
        "yes",
        "Debezium change data capture",
    ],
]


# ---------------------------------------------------------------------------
# Builders
# ---------------------------------------------------------------------------


class _PlaybookPDF(FPDF):
    """A4 PDF with a running footer carrying the document name and page number."""

    def __init__(self, footer_label: str) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.footer_label = footer_label

    def footer(self) -> None:  # noqa: D401 - fpdf hook
        self.set_y(-15)
        self.set_font("Helvetica", "I", 8)
        self.set_text_color(110, 110, 110)
        self.cell(0, 8, f"{self.footer_label} - page {self.page_no()} of {{nb}}", align="C")
        self.set_text_color(0, 0, 0)


def _check_latin1(text: str) -> str:
    text.encode("latin-1")  # raises if a non-latin-1 character slipped in
    return text


def build_pdf(path: Path, pages: list, *, title: str, subject: str, footer_label: str) -> None:
    pdf = _PlaybookPDF(footer_label)
    pdf.set_creation_date(FIXED_DATETIME)
    pdf.set_title(title)
    pdf.set_author(AUTHOR)
    pdf.set_subject(subject)
    pdf.set_creator("scripts/build_sample_data.py")
    pdf.set_margins(20, 18, 20)
    pdf.set_auto_page_break(auto=True, margin=20)
    pdf.alias_nb_pages()

    for page_number, blocks in enumerate(pages, start=1):
        pdf.add_page()
        for kind, payload in blocks:
            if kind == "h1":
                pdf.set_font("Helvetica", "B", 16)
                pdf.multi_cell(0, 8, _check_latin1(payload), new_x="LMARGIN", new_y="NEXT")
                pdf.ln(2)
            elif kind == "h2":
                pdf.ln(1)
                pdf.set_font("Helvetica", "B", 12)
                pdf.multi_cell(0, 7, _check_latin1(payload), new_x="LMARGIN", new_y="NEXT")
            elif kind == "p":
                pdf.set_font("Helvetica", "", 10)
                pdf.multi_cell(0, 5, _check_latin1(payload), new_x="LMARGIN", new_y="NEXT")
                pdf.ln(1.5)
            elif kind == "bullets":
                pdf.set_font("Helvetica", "", 10)
                for item in payload:
                    pdf.set_x(pdf.l_margin + 3)
                    pdf.multi_cell(0, 5, "- " + _check_latin1(item), new_x="LMARGIN", new_y="NEXT")
                    pdf.ln(0.8)
                pdf.ln(1)
            else:
                raise ValueError(f"unknown block kind: {kind}")
        if pdf.page_no() != page_number:
            raise RuntimeError(
                f"{path.name}: content for page {page_number} overflowed onto another page"
            )

    path.parent.mkdir(parents=True, exist_ok=True)
    pdf.output(str(path))


def _normalise_zip(path: Path) -> None:
    """Rewrite an Office ZIP container with fixed timestamps so output is reproducible."""
    with zipfile.ZipFile(path) as src:
        entries = [(info.filename, src.read(info.filename)) for info in src.infolist()]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for name, blob in entries:
            info = zipfile.ZipInfo(name, date_time=ZIP_TIMESTAMP)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            dst.writestr(info, blob)
    path.write_bytes(buffer.getvalue())


def _set_core_properties(props, *, title: str, subject: str) -> None:
    props.title = title
    props.subject = subject
    props.author = AUTHOR
    props.last_modified_by = AUTHOR
    props.created = FIXED_NAIVE
    props.modified = FIXED_NAIVE
    props.last_printed = FIXED_NAIVE
    props.revision = 1
    props.keywords = "CTO Advisor; sample data; fictional"


def _add_docx_table(document, header: list[str], rows: list[list[str]]) -> None:
    table = document.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        cell.text = ""
        run = cell.paragraphs[0].add_run(text)
        run.bold = True
    for row in rows:
        cells = table.add_row().cells
        for cell, text in zip(cells, row, strict=True):
            cell.text = text
    document.add_paragraph()


def build_docx(path: Path, spec: dict, *, subject: str) -> None:
    document = Document()
    document.styles["Normal"].font.name = "Calibri"
    document.styles["Normal"].font.size = Pt(11)
    _set_core_properties(document.core_properties, title=spec["title"], subject=subject)

    document.add_heading(spec["title"], level=0)
    document.add_paragraph(spec["intro"])

    # A document either has a top-level table (rosters) or tables embedded in sections.
    if "header" in spec:
        document.add_heading(spec.get("table_heading", "Overview"), level=1)
        _add_docx_table(document, spec["header"], spec["rows"])

    for heading, blocks in spec.get("sections", []):
        document.add_heading(heading, level=1)
        for kind, payload in blocks:
            if kind == "p":
                document.add_paragraph(payload)
            elif kind == "bullet":
                document.add_paragraph(payload, style="List Bullet")
            elif kind == "table":
                _add_docx_table(document, spec["table_header"], spec["table_rows"])
            else:
                raise ValueError(f"unknown block kind: {kind}")

    path.parent.mkdir(parents=True, exist_ok=True)
    document.save(str(path))
    _normalise_zip(path)


def build_pptx(path: Path, deck: dict, *, subject: str) -> None:
    prs = Presentation()
    title_text, subtitle_text = deck["title_slide"]
    _set_core_properties(prs.core_properties, title=title_text, subject=subject)

    slide = prs.slides.add_slide(prs.slide_layouts[0])  # Title Slide
    slide.shapes.title.text = title_text
    slide.placeholders[1].text = subtitle_text

    for slide_title, bullets in deck["slides"]:
        slide = prs.slides.add_slide(prs.slide_layouts[1])  # Title and Content
        slide.shapes.title.text = slide_title
        body = slide.placeholders[1].text_frame
        body.clear()
        for index, bullet in enumerate(bullets):
            paragraph = body.paragraphs[0] if index == 0 else body.add_paragraph()
            paragraph.text = bullet
            paragraph.font.size = PptPt(20)

    path.parent.mkdir(parents=True, exist_ok=True)
    prs.save(str(path))
    _normalise_zip(path)


def build_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def main() -> None:
    outputs = []

    target = DATA / "playbooks" / "security-basics.pdf"
    build_pdf(
        target,
        SECURITY_BASICS_PAGES,
        title="Security Basics for Early-Stage Companies",
        subject="CTO Advisor playbook: security basics",
        footer_label="CTO Advisor - Security Basics",
    )
    outputs.append(target)

    target = DATA / "playbooks" / "engineering-metrics.docx"
    build_docx(target, METRICS_DOC, subject="CTO Advisor playbook: engineering metrics")
    outputs.append(target)

    target = DATA / "clients" / "ledgerly" / "team-roster.docx"
    build_docx(target, LEDGERLY_ROSTER, subject="Ledgerly engineering team roster")
    outputs.append(target)

    target = DATA / "clients" / "ledgerly" / "incident-2026-09-payment-outage.pdf"
    build_pdf(
        target,
        LEDGERLY_INCIDENT_PAGES,
        title="Ledgerly Incident Report: Payment Outage, 14 September 2026",
        subject="Ledgerly SEV1 postmortem",
        footer_label="Ledgerly - Incident report 2026-09-14",
    )
    outputs.append(target)

    target = DATA / "clients" / "ledgerly" / "board-deck-q3-2026.pptx"
    build_pptx(target, LEDGERLY_DECK, subject="Ledgerly board update Q3 2026")
    outputs.append(target)

    target = DATA / "clients" / "haulwise" / "team-roster.csv"
    build_csv(target, HAULWISE_ROSTER_HEADER, HAULWISE_ROSTER)
    outputs.append(target)

    target = DATA / "clients" / "haulwise" / "roadmap-2027.docx"
    build_docx(target, HAULWISE_ROADMAP, subject="Haulwise engineering roadmap 2027")
    outputs.append(target)

    target = DATA / "clients" / "haulwise" / "board-deck-q2-2026.pptx"
    build_pptx(target, HAULWISE_DECK, subject="Haulwise board meeting Q2 2026")
    outputs.append(target)

    for output in outputs:
        print(f"wrote {output.relative_to(ROOT)} ({output.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
