"""Founder campaigns for ``bench/relevance.py``, one per test-split subreddit.

Written before any relevance figure was computed and before reading the test split's posts:
each is what a founder selling into that community would plausibly type into the campaign
form (keywords + a one-sentence product context). ``topic`` is not given to the product:
it is the judge's list, a few words that say a post is about the product's problem even
when it uses none of the keywords (see ``is_keyword_relevant`` in ``bench/relevance.py``).
Words match as the product's search does: a word matches a post word it begins.
"""

from __future__ import annotations

CAMPAIGNS: dict[str, dict] = {
    "crafts": {
        "keywords": ["etsy", "selling", "pricing", "craft fair", "supplies"],
        "context": "An inventory and pricing app for people who sell handmade crafts on Etsy and at "
        "craft fairs: track materials cost and time spent, and price each item for a profit.",
        "topic": ["sell", "shop", "price", "customer", "commission", "business", "profit", "materials cost"],
    },
    "investing": {
        "keywords": ["portfolio", "index fund", "etf", "rebalance", "fees", "dividend"],
        "context": "A portfolio tracker for individual investors that shows what your index funds and "
        "ETFs really cost in fees, how diversified you are and when to rebalance.",
        "topic": ["fund", "broker", "expense ratio", "allocation", "retirement", "vanguard", "diversif"],
    },
    "iOSProgramming": {
        "keywords": ["crash", "testflight", "app store", "review", "xcode", "debug"],
        "context": "Crash reporting and beta distribution for indie iOS developers: catch crashes in the "
        "field, symbolicate stack traces and get builds to testers before App Store review.",
        "topic": [
            "bug",
            "tester",
            "beta",
            "release",
            "rejected",
            "submission",
            "provisioning",
            "certificate",
        ],
    },
    "law": {
        "keywords": ["lawyer", "attorney", "contract", "sue", "tenant", "legal advice"],
        "context": "A service that helps ordinary people understand a legal problem in plain language "
        "and find an affordable lawyer for it, from contracts and landlord disputes to small claims.",
        "topic": ["court", "lawsuit", "landlord", "rights", "small claims", "judge", "settlement", "dispute"],
    },
    "learnprogramming": {
        "keywords": ["beginner", "tutorial", "course", "bootcamp", "code review", "portfolio"],
        "context": "An interactive course platform that takes beginners from their first line of code "
        "to a portfolio of projects, with mentors reviewing their code.",
        "topic": [
            "practice",
            "exercise",
            "codecademy",
            "stuck",
            "mentor",
            "self taught",
            "project",
            "first job",
        ],
    },
    "networking": {
        "keywords": ["monitoring", "outage", "switch", "firewall", "bandwidth", "vlan"],
        "context": "Network monitoring for small IT teams: alerts on outages, bandwidth and latency "
        "problems across switches, routers and firewalls, without a dedicated network engineer.",
        "topic": ["router", "latency", "packet", "downtime", "cisco", "traffic", "snmp", "alert"],
    },
    "personalfinance": {
        "keywords": ["budget", "debt", "credit card", "savings", "student loan", "emergency fund"],
        "context": "A budgeting app that helps people pay off credit card and student loan debt faster "
        "and build an emergency fund, by tracking their spending automatically.",
        "topic": ["loan", "spending", "paycheck", "interest rate", "expenses", "income", "pay off", "saving"],
    },
    "photography": {
        "keywords": ["client", "wedding", "pricing", "portfolio", "booking", "editing"],
        "context": "Client galleries, booking and invoicing for freelance photographers who shoot "
        "weddings and portraits: deliver the photos, get paid and manage clients in one place.",
        "topic": ["photographer", "business", "paid", "contract", "charge", "invoice", "gallery", "deliver"],
    },
    "photoshop": {
        "keywords": ["retouch", "mask", "background", "tutorial", "action", "layer"],
        "context": "A Photoshop plugin that automates tedious retouching: cutting subjects out of "
        "backgrounds, skin cleanup and batch edits that now take hours of masking.",
        "topic": ["selection", "brush", "batch", "cut out", "remove", "skin", "workflow", "plugin"],
    },
    "programming": {
        "keywords": ["code review", "bug", "technical debt", "refactor", "testing", "legacy code"],
        "context": "An automated code review tool that flags bugs, risky changes and technical debt in "
        "pull requests before they reach production.",
        "topic": [
            "pull request",
            "review",
            "production",
            "unit test",
            "maintain",
            "quality",
            "deploy",
            "codebase",
        ],
    },
    "RealEstate": {
        "keywords": ["landlord", "tenant", "rental", "rent", "property management", "lease"],
        "context": "Property management software for small landlords: collect rent online, screen "
        "tenants, and track maintenance requests and expenses for each rental.",
        "topic": [
            "maintenance",
            "eviction",
            "deposit",
            "repair",
            "mortgage",
            "property manager",
            "inspection",
            "screening",
        ],
    },
    "self": {
        "keywords": ["anxiety", "depression", "therapy", "journal", "lonely", "stress"],
        "context": "A private journaling app that helps people cope with anxiety, stress and low mood "
        "by writing every day and noticing patterns, with prompts written by therapists.",
        "topic": ["mental health", "therapist", "sad", "panic", "cope", "struggling", "depressed", "suicid"],
    },
    "StockMarket": {
        "keywords": ["stock screener", "trading", "earnings", "technical analysis", "options", "broker"],
        "context": "A stock screener with alerts for retail traders: filter stocks by earnings, price "
        "moves and chart patterns and get notified before the market opens.",
        "topic": [
            "screener",
            "alert",
            "chart",
            "indicator",
            "earnings",
            "day trad",
            "technical",
            "watchlist",
        ],
    },
}
