"""Generate the bundled sample corpus: src/bcrao/data/sample_posts.json.gz.

Why a generator and not recorded data: the offline ``sample`` source must ship with the
package, be redistributable and be reproducible byte for byte. Posts are composed from
template banks (openings, situations, products, numbers, feelings, questions, closings)
with slots filled per post, so texts vary the way founders' posts do. The mix of noise
follows what a subreddit's ``new`` listing really contains: link posts, title-only posts,
one-liners, removed/deleted posts, self-promotion, stickied mod threads, crossposts, a few
NSFW and non-English posts and exact reposts.

Determinism: one ``random.Random(SEED)``, fixed iteration orders, ``json.dumps`` with a
fixed separator set and ``gzip`` with ``mtime=0``. ``build_corpus()`` returns the bytes;
``main()`` writes them.

Usage: python scripts/gen_sample_corpus.py [output-path]
"""

from __future__ import annotations

import gzip
import json
import re
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from random import Random

SEED = 20261101
END = datetime(2026, 11, 1, tzinfo=UTC)
SPAN_DAYS = 365
OUTPUT = Path(__file__).resolve().parents[1] / "src" / "bcrao" / "data" / "sample_posts.json.gz"

# subreddit -> (post count, topic domain, subreddit id)
SUBREDDITS: dict[str, tuple[int, str, str]] = {
    "SaaS": (680, "software", "t5_2qkq6"),
    "startups": (700, "software", "t5_2qh26"),
    "Entrepreneur": (680, "business", "t5_2qldo"),
    "smallbusiness": (560, "business", "t5_2qm6d"),
    "marketing": (600, "growth", "t5_2qhbw"),
    "SideProject": (580, "software", "t5_2rlfx"),
    "indiehackers": (540, "software", "t5_3f1ut"),
    "webdev": (600, "dev", "t5_2qs0q"),
    "productivity": (500, "personal", "t5_2qhoz"),
    "sales": (560, "growth", "t5_2qj8u"),
}

# Share of each post kind in a subreddit's listing (normalised at use).
KIND_WEIGHTS: dict[str, float] = {
    "journey": 7.0,
    "problem_ask": 6.5,
    "problem_offer": 2.5,
    "feedback": 6.5,
    "one_liner": 9.0,
    "title_only": 12.0,
    "link": 13.0,
    "removed": 8.0,
    "deleted": 4.0,
    "promo": 12.0,
    "crosspost": 3.0,
    "nsfw": 0.6,
    "non_english": 2.0,
    "repost": 3.5,
}

Bank = list[str] | Callable[[Random], str]


def _money(rng: Random) -> str:
    return rng.choice(["$", "$", "$", "€", "£"]) + rng.choice(
        [
            "500",
            "800",
            "1k",
            "1.2k",
            "1,500",
            "2k",
            "2.4k",
            "3k",
            "3,800",
            "4k",
            "5k",
            "6.5k",
            "8k",
            "10k",
            "12k",
            "15k",
            "18k",
            "22k",
            "25k",
            "30k",
            "40k",
            "50k",
        ]
    )


def _int_range(lo: int, hi: int) -> Callable[[Random], str]:
    return lambda rng: str(rng.randint(lo, hi))


def _pct(rng: Random) -> str:
    return f"{rng.choice([2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 14, 15, 18, 20, 22, 25, 30, 35, 40, 45, 60])}%"


COMMON: dict[str, Bank] = {
    "money": _money,
    "money2": _money,
    "months": _int_range(2, 30),
    "weeks": _int_range(2, 16),
    "years": _int_range(2, 12),
    "count": _int_range(3, 90),
    "big": _int_range(120, 9000),
    "pct": _pct,
    "pct2": _pct,
    "hours": _int_range(3, 70),
    "age": _int_range(19, 52),
    "year": lambda rng: str(rng.choice([2019, 2020, 2021, 2022, 2023, 2024, 2025])),
    "feeling": [
        "honestly terrified",
        "weirdly calm",
        "pretty proud",
        "exhausted but happy",
        "a bit numb",
        "more motivated than ever",
        "relieved",
        "nervous as hell",
        "humbled",
        "conflicted",
        "so burned out",
        "genuinely excited",
        "frustrated",
    ],
    "feeling_word": [
        "scared",
        "proud",
        "tired",
        "anxious",
        "grateful",
        "stuck",
        "hopeful",
        "overwhelmed",
        "lonely",
        "frustrated",
        "excited",
        "relieved",
    ],
    "partner": [
        "my wife",
        "my husband",
        "my partner",
        "my cofounder",
        "my dad",
        "my best friend",
        "my old manager",
        "my girlfriend",
        "my mentor",
    ],
    "old_job": [
        "a corporate finance job",
        "teaching",
        "a product manager role",
        "nursing",
        "an agency job",
        "a FAANG job",
        "a bank job",
        "a warehouse job",
        "consulting",
        "a stable government job",
        "a sales job at a big software company",
    ],
    "channel": [
        "cold email",
        "SEO",
        "Reddit",
        "LinkedIn posts",
        "TikTok",
        "partnerships",
        "Product Hunt",
        "a newsletter sponsorship",
        "YouTube tutorials",
        "word of mouth",
        "Google Ads",
        "Facebook groups",
        "a referral program",
        "conference booths",
        "integration marketplaces",
        "Twitter/X threads",
        "podcast interviews",
    ],
    "time_ref": [
        "Last spring",
        "In {year}",
        "About {months} months ago",
        "Two years ago",
        "Back in January",
        "Right after covid",
        "Last October",
        "At the start of this year",
    ],
    "thanks": [
        "Thanks for reading.",
        "Thanks in advance!",
        "Appreciate any input.",
        "Thanks, this sub has been a huge help.",
        "Happy to answer questions in the comments.",
        "Cheers.",
        "Would love to hear your thoughts.",
        "AMA if useful.",
    ],
    "filler": [
        "Not sure if this is the right sub for this.",
        "Long post, sorry.",
        "English is not my first language, sorry for mistakes.",
        "Throwaway for obvious reasons.",
        "Posting here because my friends are tired of hearing about it.",
        "",
        "Mods, delete if not allowed.",
        "",
        "",
    ],
}

DOMAINS: dict[str, dict[str, Bank]] = {
    "software": {
        "product": [
            "a scheduling tool for {audience}",
            "an invoicing app for {audience}",
            "a CRM for {audience}",
            "a reporting dashboard for {audience}",
            "an AI note-taker for {audience}",
            "a client portal for {audience}",
            "a inventory tracker for {audience}",
            "a feedback widget for {audience}",
            "an onboarding checklist tool for {audience}",
            "a booking system for {audience}",
            "a status page product for {audience}",
            "a contract management tool for {audience}",
            "a Slack bot for {audience}",
            "a Chrome extension for {audience}",
        ],
        "audience": [
            "dentists",
            "freelance designers",
            "property managers",
            "small agencies",
            "HR teams",
            "yoga studios",
            "accountants",
            "indie game devs",
            "recruiters",
            "construction companies",
            "online tutors",
            "e-commerce stores",
            "nonprofits",
            "restaurant owners",
            "solo lawyers",
            "remote teams",
            "podcasters",
        ],
        "problem": [
            "churn",
            "trial-to-paid conversion",
            "onboarding drop-off",
            "failed payments",
            "support load",
            "activation",
            "pricing",
            "getting the first 100 users",
            "feature requests from one big customer",
            "a slow sales cycle",
        ],
        "tool": [
            "Stripe",
            "HubSpot",
            "Intercom",
            "Notion",
            "Linear",
            "Mixpanel",
            "PostHog",
            "Zapier",
            "Airtable",
            "Webflow",
            "Crisp",
            "Paddle",
            "Lemon Squeezy",
            "Retool",
            "Supabase",
            "Vercel",
            "Customer.io",
            "Loops",
            "Amplitude",
            "Jira",
        ],
        "metric": ["MRR", "ARR", "paying customers", "weekly active users", "signups"],
    },
    "dev": {
        "product": [
            "a Django app for {audience}",
            "a Next.js dashboard for {audience}",
            "an internal admin tool for {audience}",
            "a Shopify theme for {audience}",
            "a REST API for {audience}",
            "a static site for {audience}",
            "a mobile app in React Native for {audience}",
            "a Rails monolith for {audience}",
        ],
        "audience": [
            "a logistics client",
            "a local gym",
            "our marketing team",
            "a fintech startup",
            "a university lab",
            "a small nonprofit",
            "my own portfolio",
            "a restaurant chain",
        ],
        "problem": [
            "slow page loads",
            "a memory leak",
            "flaky tests",
            "a 14 minute CI build",
            "auth with refresh tokens",
            "CORS errors",
            "database migrations on a big table",
            "layout shift on mobile",
            "N+1 queries",
            "rising hosting costs",
        ],
        "tool": [
            "React",
            "Vue",
            "Svelte",
            "Next.js",
            "Astro",
            "Django",
            "Rails",
            "Laravel",
            "Postgres",
            "Redis",
            "Docker",
            "Tailwind",
            "htmx",
            "Cloudflare",
            "Vercel",
            "GitHub Actions",
            "TypeScript",
            "Prisma",
            "SQLite",
            "Playwright",
        ],
        "metric": ["Lighthouse score", "p95 latency", "build time", "bundle size", "monthly users"],
    },
    "business": {
        "product": [
            "a bakery",
            "a landscaping company",
            "a mobile car detailing business",
            "a small print shop",
            "a cleaning service",
            "a coffee shop",
            "a pet grooming salon",
            "an online candle store",
            "a plumbing business",
            "a food truck",
            "a dental lab",
            "a vintage clothing store",
            "a home inspection business",
            "a bike repair shop",
        ],
        "audience": [
            "local families",
            "office parks",
            "tourists",
            "restaurants",
            "contractors",
            "busy parents",
            "students",
        ],
        "problem": [
            "cash flow",
            "hiring reliable staff",
            "late-paying clients",
            "rising rent",
            "bad Google reviews",
            "pricing my services",
            "scheduling employees",
            "finding a good accountant",
            "slow winter months",
            "inventory going to waste",
        ],
        "tool": [
            "QuickBooks",
            "Square",
            "Shopify",
            "Gusto",
            "Xero",
            "Wave",
            "Jobber",
            "Google Business Profile",
            "Canva",
            "Toast",
            "Housecall Pro",
            "Etsy",
        ],
        "metric": ["monthly revenue", "repeat customers", "profit", "weekly orders"],
    },
    "growth": {
        "product": [
            "a B2B analytics product",
            "a DTC skincare brand",
            "an HR software company",
            "a cybersecurity startup",
            "a logistics platform",
            "a meal-kit brand",
            "a payroll SaaS",
            "an online course business",
            "a recruiting agency",
            "a dev tools startup",
        ],
        "audience": [
            "CFOs",
            "mid-market IT teams",
            "marketing managers",
            "small clinics",
            "ecommerce founders",
            "operations leads",
        ],
        "problem": [
            "low reply rates on cold email",
            "rising CAC",
            "leads that never convert",
            "a pipeline that dried up",
            "bad attribution data",
            "a flat organic traffic curve",
            "ghosting after demos",
            "long procurement cycles",
            "no-shows on booked calls",
        ],
        "tool": [
            "HubSpot",
            "Salesforce",
            "Apollo",
            "Outreach",
            "Gong",
            "Lemlist",
            "Clay",
            "Semrush",
            "Ahrefs",
            "Klaviyo",
            "Google Analytics",
            "LinkedIn Sales Navigator",
            "Pipedrive",
            "Close",
            "Instantly",
            "Mailchimp",
        ],
        "metric": ["pipeline", "reply rate", "MQLs", "organic traffic", "closed-won revenue"],
    },
    "personal": {
        "product": [
            "my morning routine",
            "my task system",
            "my note-taking setup",
            "my calendar",
            "my reading habit",
            "my sleep schedule",
            "my focus blocks",
        ],
        "audience": ["remote workers", "students", "parents working from home", "developers"],
        "problem": [
            "procrastination",
            "constant Slack pings",
            "too many meetings",
            "doomscrolling",
            "an overflowing inbox",
            "losing focus after lunch",
            "starting big projects",
            "burnout",
        ],
        "tool": [
            "Notion",
            "Todoist",
            "Obsidian",
            "Things",
            "TickTick",
            "Google Calendar",
            "a paper notebook",
            "Sunsama",
            "Logseq",
            "Forest",
            "Apple Reminders",
        ],
        "metric": ["deep work hours", "books read", "hours of sleep", "tasks finished"],
    },
}

# ---------------------------------------------------------------------------------------
# Genuine posts. Each archetype has title templates and body parts picked in order.

JOURNEY_TITLES = [
    "I quit {old_job} to build {product}. {months} months in, here's where I am",
    "How I got {product} to {money} in monthly revenue",
    "How I grew {product} to {big} {metric} without ads",
    "{years} years of running {product}: what I'd do differently",
    "We just hit {money} MRR after {months} months of grinding",
    "Finally made my first sale after {months} months",
    "My startup failed. Here's the post-mortem",
    "From side project to full-time: my story",
    "Today I signed customer #{count}",
    "{time_ref} I was broke. Today {product} pays my rent",
    "Year one as a solo founder — numbers, mistakes, wins",
    "Shutting down {product} after {years} years",
    "We almost ran out of money last month",
    "How I went from zero to {big} users with {channel}",
    "Lessons from bootstrapping {product}",
    "I got laid off, so I started {product}",
    "I sold my business. Feels strange.",
    "One year update: {money} MRR, {count} customers, still solo",
    "We raised our prices and nothing bad happened",
    "The month I almost gave up",
    "Revenue report for {product}: month {months}",
]
JOURNEY_OPEN = [
    "{time_ref} I left {old_job} to work on {product}.",
    "I've been lurking here for years, figured it's time to share my own story.",
    "Quick background: I'm {age}, no technical cofounder, and until {year} I had never sold anything.",
    "This started as a weekend project to scratch my own itch.",
    "{partner} thought I was crazy when I told them I wanted to start {product}.",
    "I never planned to be a founder. I just kept noticing how badly {audience} were served.",
    "Some of you might remember my post from last year asking if anyone would pay for this.",
    "It's 2am and I can't sleep, so here's the honest version of the last {months} months.",
]
JOURNEY_MIDDLE = [
    "The first {months} months were brutal. I made {money} in total and spent most of it on tools I didn't need.",
    "We launched with {count} users, mostly friends. Nobody paid for the first {weeks} weeks.",
    "What finally worked was {channel}. It felt slow at first, then it compounded.",
    "Our biggest customer churned in month {months} and took {pct} of revenue with them.",
    "I tried {channel} and {channel2} first. Both were a waste of time for us.",
    "I spent way too long building features and not nearly enough time talking to {audience}.",
    "Around month {months} something clicked: we stopped selling to everyone and focused on {audience}.",
    "I hired my first employee in {year} and made every mistake in the book.",
    "Cash was tight. At one point we had {weeks} weeks of runway and I stopped paying myself.",
    "We went from {money} to {money2} in monthly revenue over the summer, mostly from referrals.",
    "Then {partner} got sick and I had to step away for a while. The business survived, barely.",
    "I rebuilt the onboarding three times. Activation went from {pct} to {pct2}.",
    "We got featured in a newsletter by accident and signups jumped to {big} in a week.",
    "Growth stalled for {months} months. I seriously considered going back to {old_job}.",
]
JOURNEY_FEELING = [
    "Right now I feel {feeling}.",
    "I'm {feeling} about it, to be honest.",
    "Some days I'm {feeling_word}, some days I'm {feeling_word2}. That's the job I guess.",
    "I cried a bit when the first payment notification came in.",
    "It's the hardest thing I've done and I'd do it again.",
    "",
]
JOURNEY_LESSONS = [
    "What I learned:\n\n- Talk to customers before writing code.\n- Charge more than feels comfortable.\n- {channel} works if you stick with it for {months} months.",
    "Biggest lessons: pick a narrow audience, price higher, and don't hire before you have to.",
    "If I started again I'd skip {channel} and go straight to {audience}.",
    "The lesson for me: distribution beats product, every single time.",
    "Looking back, the turning point was saying no to custom work.",
    "",
]
JOURNEY_CLOSE = [
    "{thanks}",
    "What would you do next in my shoes?",
    "Next goal: {money2} MRR by next summer.",
    "{thanks}",
    "Anyone else been through something similar?",
    "",
]

PROBLEM_ASK_TITLES = [
    "How do you deal with {problem}?",
    "What tool do you use for {task}?",
    "Struggling with {problem} — any advice?",
    "Best way to handle {problem} as a small team?",
    "Is there a tool that does {task} without costing a fortune?",
    "How did you fix {problem}?",
    "Need help: {problem} is killing us",
    "Any alternatives to {tool}?",
    "What's the right way to approach {task}?",
    "How do I get better at {task}?",
    "Looking for recommendations: {task}",
    "{tool} or something else for {task}?",
]
PROBLEM_TASKS = [
    "tracking customer feedback",
    "sending invoices",
    "onboarding new users",
    "cold outreach",
    "scheduling posts",
    "managing a small team",
    "hiring a first salesperson",
    "writing landing page copy",
    "finding beta testers",
    "handling support tickets",
    "pricing a new plan",
    "collecting testimonials",
    "automating follow-ups",
    "reporting to investors",
]
PROBLEM_CONTEXT = [
    "Context: I run {product}. We're at about {money} {metric} with {count} customers.",
    "We're a team of {count} and {problem} has been getting worse for {months} months.",
    "Quick background, I'm working on {product} and currently doing everything myself.",
    "Our numbers: {pct} of new users never come back after day one.",
    "Currently using {tool} but it's become expensive and clunky for what we need.",
    "I'm a solo founder, {months} months in, and {problem} is the thing that keeps me up at night. Last month we lost {count} customers to it.",
]
PROBLEM_TRIED = [
    "So far I've tried {tool} and a spreadsheet, neither really stuck.",
    "We tried fixing it with an email sequence and some in-app tips. Barely moved the needle.",
    "I've read every blog post about this but they're all written for bigger companies.",
    "I tried {channel} for {weeks} weeks, nothing.",
    "We hired a consultant for {money} and got a slide deck, not a solution.",
    "",
]
PROBLEM_QUESTION = [
    "How do you handle this? What actually worked for you?",
    "Any tips or tools you'd recommend?",
    "What would you do in my position?",
    "Is there something obvious I'm missing here?",
    "Where would you even start?",
    "Would love to hear how others solved this.",
]
PROBLEM_OFFER_TITLES = [
    "How we fixed {problem} (with numbers)",
    "Here's how we cut {problem} in half",
    "Solved our {problem} problem — sharing what worked",
    "A simple fix for {problem} that took us one afternoon",
    "What finally worked for {problem}, step by step",
    "Tip: how to handle {task} without extra tools",
]
PROBLEM_OFFER_STEPS = [
    "Step 1: we looked at where people actually dropped off instead of guessing.\nStep 2: removed two fields from the signup form.\nStep 3: added a {weeks}-day check-in email.",
    "1) Set up a weekly review of every cancelled account.\n2) Called {count} of them personally.\n3) Fixed the top two complaints.",
    "The fix was boring: we moved {task} into {tool} and wrote a checklist.",
    "What worked: a short call with every new customer in the first week. It takes {count} minutes per customer.",
    "We replaced our {tool} setup with a simpler flow and an automated reminder.",
]
PROBLEM_OFFER_RESULT = [
    "Result: the numbers we cared about moved by {pct} in {weeks} weeks.",
    "Numbers after {months} months: conversion up from {pct} to {pct2}.",
    "It's not magic but it saved us about {money} a month.",
    "Happy to share the template if anyone wants it.",
]

FEEDBACK_TITLES = [
    "Roast my landing page",
    "Thoughts on {tool} vs {tool2}?",
    "Honest feedback on my pricing?",
    "Unpopular opinion: {opinion}",
    "Would you use {product}?",
    "Is {tool} worth it for a small team?",
    "Rate my onboarding flow",
    "What do you think of this idea: {product}",
    "Hot take: {opinion}",
    "{tool} review after {months} months",
    "Be brutal: is this homepage clear?",
    "Which name is better for {product}?",
    "Am I wrong that {opinion}?",
]
OPINIONS = [
    "most startup advice is survivorship bias",
    "free trials attract the wrong users",
    "cold email is not dead, bad cold email is",
    "nobody reads your changelog",
    "AI wrappers will be gone in two years",
    "you don't need a cofounder",
    "LinkedIn is the best channel for B2B right now",
    "annual plans should be the default",
    "networking events are a waste of time",
    "most SaaS is overpriced",
    "building in public is mostly for other founders",
    "Product Hunt launches don't matter anymore",
    "SEO is still the best long-term channel",
    "freemium is a trap for tiny teams",
]
FEEDBACK_BODY = [
    'I\'m building {product}. The homepage headline is "{headline}". Does it make sense to you?',
    "Here's the link: https://{slug}.{tld} — be honest, what would make you leave in the first 5 seconds?",
    "We charge ${price} a month for the basic plan. Too cheap? Too expensive? Confusing?",
    "I've used {tool} for {months} months. Good: it's fast and simple. Bad: the pricing jumped twice and support is slow. Overall I'd give it a 6/10.",
    "Curious what people here think. My take is that {opinion}, but I'm open to being wrong.",
    "Comparing {tool} and {tool2} for our team of {count}. One is cheaper, the other feels more polished. Which would you pick?",
    "Two options for the name: {name} or {name2}. Which one sounds more trustworthy?",
    "I keep seeing people say the opposite, and my experience over {years} years says otherwise.",
    "Any feedback welcome, good or bad. I can take it.",
    "I've been building this for {months} months with {count} beta users and I honestly can't tell anymore if the pitch lands. I'm {feeling_word} about launching.",
    "Context: we switched from {tool2} last year after our bill hit {money} a month. My team of {count} is split on it and I want outside opinions before we renew.",
    "My gut says {opinion}, and after {years} years of doing this I've seen it go both ways. What's your experience?",
]
HEADLINES = [
    "Stop chasing invoices",
    "Your team's calendar, finally sorted",
    "Ship feedback faster",
    "The CRM that doesn't hate you",
    "Reports your clients actually read",
    "Booking without the back-and-forth",
    "Know why customers leave",
]

# ---------------------------------------------------------------------------------------
# Noise.

TITLE_ONLY = [
    "Best CRM for a 3 person team?",
    "Anyone here using {tool}?",
    "Is it normal to feel this {feeling_word}?",
    "What's your {metric} right now?",
    "How long did it take you to get your first customer?",
    "{tool} down for anyone else?",
    "Which country do you incorporate in?",
    "Is {channel} worth it in 2026?",
    "Monday motivation thread?",
    "What are you working on this week?",
    "Anyone from Berlin here?",
    "Just launched!",
    "What's the best book on {task}?",
    "Any good podcasts on {task}?",
    "Do you pay yourself a salary?",
    "How much do you spend on tools per month?",
    "Stripe or Paddle?",
    "Is {tool} overkill for a solo founder?",
    "Where do you find customers?",
    "Best time to post on LinkedIn?",
    "Hiring in this market?",
    "Thoughts on the new {tool} pricing?",
]
ONE_LINER_BODIES = [
    "Title says it all.",
    "Thoughts?",
    "Asking for a friend lol",
    "Any ideas?",
    "Pls help",
    "See title.",
    "Curious what you all think.",
    "Thanks!",
    "Genuinely curious.",
    "Help appreciated.",
    "Need answers fast.",
    "Just wondering.",
    "Discuss.",
    "It's been {weeks} weeks and nothing.",
    "Any advice welcome.",
]
LINK_TITLES = [
    "{tool} raises prices by {pct} for small teams",
    "The state of SaaS pricing in 2026",
    "Interesting thread on bootstrapping vs VC",
    "Great talk on {task}",
    "{tool} announces layoffs",
    "Why most startups fail at {task} (article)",
    "New study: {pct} of small businesses close within 5 years",
    "Found this useful guide on {task}",
    "Video: how a solo founder built a $1M business",
    "This chart explains {problem}",
    "{tool} just acquired a competitor",
    "Podcast episode about {channel}",
]
LINK_DOMAINS = [
    "techcrunch.com",
    "youtube.com",
    "medium.com",
    "x.com",
    "github.com",
    "theverge.com",
    "substack.com",
    "bloomberg.com",
    "producthunt.com",
    "news.ycombinator.com",
    "i.redd.it",
    "forbes.com",
    "linkedin.com",
    "inc.com",
]
PROMO_TEMPLATES = [
    (
        "Check out my new tool {name} — {product}",
        "Hey everyone! Check out my tool {name}, it does {task} in seconds. Sign up today and get {pct} off with code LAUNCH{count}: https://{slug}.{tld}/?ref=reddit",
    ),
    (
        "{pct} OFF lifetime deal on {name}!!",
        "Limited time offer! Get lifetime access to {name} for just {money}. Use code REDDIT{count} at checkout. https://{slug}.{tld}/deal",
    ),
    (
        "I built an AI tool that does {task} for you",
        "Tired of {problem}? {name} is the game-changer you need. Try it free: https://{slug}.{tld}?via=reddit Use code EARLYBIRD for {pct} off. DM me for a demo!",
    ),
    (
        "Free guide: 10x your {metric}",
        "I wrote a free guide on how to leverage {channel} to 10x your {metric}. Grab it here before it's gone: https://{slug}.{tld}/free-guide?utm_source=reddit Link in bio too.",
    ),
    (
        "Best {tool} alternative (affiliate)",
        "If you're looking for a {tool} alternative, I highly recommend this one: https://amzn.to/{code} (affiliate link, I get a small commission). Use promo code SAVE{count}.",
    ),
    (
        "We're hiring ambassadors! Earn {money}/month",
        "Join our affiliate program and earn {pct} recurring commission. Sign up now: https://{slug}.{tld}/affiliates Limited spots! DM me.",
    ),
    (
        "{name} is live on Product Hunt today 🚀",
        "Please check out {name} and support us with an upvote! {product}. Exclusive discount code PH{count} for redditors: https://www.producthunt.com/posts/{slug}",
    ),
    (
        "Looking for beta users — free for 3 months",
        "Check out {name}, a revolutionary cutting-edge platform for {audience}. Sign up here and get 3 months free: https://{slug}.{tld}/beta?ref=r",
    ),
]
STICKY_TEMPLATES = [
    (
        "Weekly Feedback Thread — week of {date}",
        "Post your product, landing page or idea here for feedback. Rules: give feedback on at least two other posts before asking for your own. No referral links. Self-promotion outside this thread will be removed.",
    ),
    (
        "Monthly 'Share Your Project' thread — {month}",
        "This is the place to share what you're working on. One top-level comment per project. Include what it does, who it's for and what feedback you want. Posts violating the rules will be removed by the mod team.",
    ),
    (
        "Self-promotion Saturday — {date}",
        "Promote your business, product or service here. All other self-promotion in the subreddit is removed. Please be respectful and upvote good posts.",
    ),
    (
        "Read before posting: subreddit rules and FAQ",
        "Welcome! Please read the rules before posting. No spam, no affiliate links, no low-effort posts. Check the wiki for common questions about starting out, pricing and finding customers.",
    ),
]
NSFW_TEMPLATES = [
    (
        "Payment processor for an adult products store?",
        "We run a small online store selling adult toys and lingerie. Stripe shut us down with no warning and PayPal won't touch us. Which processors work for adult businesses without 10% fees? Has anyone dealt with high-risk merchant accounts?",
    ),
    (
        "Marketing an OnlyFans management agency",
        "I manage accounts for {count} creators. Ads are basically impossible in our niche. What channels are left for adult content businesses that don't get banned?",
    ),
    (
        "Our brewery's label got flagged as explicit",
        "We designed a cheeky label with a nude illustration and now the marketplace flagged all our products as NSFW. Anyone know how to appeal this?",
    ),
]
NON_ENGLISH = [
    (
        "¿Cómo conseguir mis primeros clientes?",
        "Hola a todos, estoy lanzando una herramienta para {audience_es} y no sé por dónde empezar. ¿Alguien tiene consejos para conseguir los primeros clientes sin gastar en publicidad? Gracias de antemano.",
    ),
    (
        "Mi startup cumplió un año",
        "Hace un año dejé mi trabajo para empezar mi propia empresa. Hoy tenemos {count} clientes y facturamos {money} al mes. Ha sido muy duro pero estoy muy contento con el resultado.",
    ),
    (
        "Como validar uma ideia de negócio?",
        "Olá pessoal, tenho uma ideia para um aplicativo de gestão para {audience_pt}. Como vocês validaram suas ideias antes de investir dinheiro? Qualquer dica ajuda, obrigado!",
    ),
    (
        "Wie findet man einen Mitgründer?",
        "Hallo zusammen, ich suche seit Monaten einen technischen Mitgründer für mein Projekt. Wo habt ihr eure Mitgründer gefunden? Über Tipps würde ich mich sehr freuen.",
    ),
    (
        "Erfahrungen mit Steuerberatern für Startups?",
        "Wir sind ein kleines Team aus Berlin und brauchen dringend einen guten Steuerberater. Welche Erfahrungen habt ihr gemacht und was kostet das ungefähr pro Monat?",
    ),
    (
        "Comment trouver des clients B2B ?",
        "Bonjour à tous, je lance une entreprise de services pour les {audience_fr}. Quels canaux fonctionnent le mieux pour trouver des clients en France ? Merci pour vos conseils.",
    ),
    (
        "Как найти первых клиентов для SaaS?",
        "Всем привет! Мы запустили сервис для малого бизнеса, но пока у нас всего {count} пользователей. Какие каналы продвижения вы бы посоветовали?",  # noqa: RUF001 (Russian on purpose)
    ),
    (
        "Quanto cobrar por um site?",
        "Sou desenvolvedor freelancer e nunca sei quanto cobrar. Vocês cobram por hora ou por projeto? Estou cobrando muito pouco, acho.",
    ),
]
NON_ENGLISH_SLOTS: dict[str, Bank] = {
    "audience_es": ["restaurantes", "dentistas", "abogados", "tiendas pequeñas"],
    "audience_pt": ["academias", "clínicas", "escolas", "lojas"],
    "audience_fr": ["artisans", "restaurants", "cabinets médicaux", "agences"],
}
REMOVED_TITLES = [
    "Need advice on my business",
    "Is this a scam?",
    "How I made {money} in a week (not clickbait)",
    "My experience with {tool}",
    "Looking for a cofounder",
    "Check out my app",
    "Should I quit my job?",
    "Investors ghosted me",
    "Rate my startup idea",
    "Free money glitch for founders",
    "DM me if you need {task} help",
]
NAME_PARTS = (
    [
        "Flow",
        "Quote",
        "Lead",
        "Ship",
        "Desk",
        "Pilot",
        "Nest",
        "Spark",
        "Loop",
        "Ledger",
        "Tally",
        "Hive",
        "Beacon",
        "Clear",
        "North",
        "Kite",
        "Pine",
        "Orbit",
        "Relay",
        "Mint",
    ],
    [
        "ly",
        "bird",
        "stack",
        "base",
        "wise",
        "lane",
        "hub",
        "kit",
        "desk",
        "forge",
        "craft",
        "flow",
        "line",
        "dash",
        "works",
        "ify",
        "io",
        "mate",
        "sense",
        "box",
    ],
)
USER_PARTS = (
    [
        "quiet",
        "lazy",
        "bold",
        "tired",
        "happy",
        "solo",
        "remote",
        "caffeinated",
        "broke",
        "sleepy",
        "curious",
        "angry",
        "lucky",
        "nomad",
        "grumpy",
        "busy",
        "indie",
        "frugal",
    ],
    [
        "founder",
        "builder",
        "hacker",
        "baker",
        "dev",
        "marketer",
        "seller",
        "maker",
        "otter",
        "panda",
        "falcon",
        "owl",
        "coder",
        "designer",
        "ceo",
        "plumber",
        "writer",
        "nerd",
    ],
)
FLAIRS = {
    "journey": ["Story", "Milestone", "Lessons learned", None],
    "problem_ask": ["Question", "Help", "Advice needed", None],
    "problem_offer": ["Tips", "Resource", "How-to", None],
    "feedback": ["Feedback", "Discussion", "Review", None],
}

_SLOT_RE = re.compile(r"\{(\w+)\}")


class Composer:
    """Fills ``{slot}`` templates; a slot keeps its value within one post."""

    def __init__(self, rng: Random) -> None:
        self.rng = rng
        self.memo: dict[str, str] = {}
        self.domain: dict[str, Bank] = {}

    def start(self, domain: str) -> None:
        self.memo = {}
        self.domain = DOMAINS[domain]

    def _bank(self, key: str) -> Bank | None:
        for name in (key, key.rstrip("0123456789")):
            for source in (self.domain, COMMON, NON_ENGLISH_SLOTS, _EXTRA):
                if name in source:
                    return source[name]
        return None

    def slot(self, key: str) -> str:
        if key not in self.memo:
            if key in ("name", "name2"):
                value = self.rng.choice(NAME_PARTS[0]) + self.rng.choice(NAME_PARTS[1])
            elif key == "slug":
                value = self.fill("{name}").lower()
            elif key == "code":
                value = "".join(self.rng.choice("abcdefghjkmnpqrstuvwxyz0123456789") for _ in range(7))
            else:
                bank = self._bank(key)
                if bank is None:
                    raise KeyError(key)
                value = bank(self.rng) if callable(bank) else self.rng.choice(bank)
                # Numbered slots ({tool2}) must differ from their base slot when possible.
                base = key.rstrip("0123456789")
                if base != key and not callable(bank) and len(bank) > 1:
                    while value == self.memo.get(base):
                        value = self.rng.choice(bank)
            self.memo[key] = self.fill(value)
        return self.memo[key]

    def fill(self, template: str) -> str:
        return _SLOT_RE.sub(lambda m: self.slot(m.group(1)), template)

    def pick(self, bank: list[str]) -> str:
        return self.fill(self.rng.choice(bank))


_EXTRA: dict[str, Bank] = {
    "task": PROBLEM_TASKS,
    "opinion": OPINIONS,
    "headline": HEADLINES,
    "tld": ["io", "com", "app", "co", "ai", "dev"],
    "price": ["9", "12", "19", "29", "39", "49", "79", "99", "149"],
}


def _join(parts: list[str]) -> str:
    return "\n\n".join(p for p in parts if p)


def _genuine(kind: str, c: Composer) -> tuple[str, str]:
    rng = c.rng
    if kind == "journey":
        title = c.pick(JOURNEY_TITLES)
        middle = rng.sample(JOURNEY_MIDDLE, rng.randint(2, 4))
        body = _join(
            [
                c.pick(JOURNEY_OPEN),
                *(c.fill(m) for m in middle),
                c.pick(JOURNEY_FEELING),
                c.pick(JOURNEY_LESSONS),
                c.pick(JOURNEY_CLOSE),
            ]
        )
    elif kind == "problem_ask":
        title = c.pick(PROBLEM_ASK_TITLES)
        body = _join(
            [
                c.pick(COMMON["filler"]),
                c.pick(PROBLEM_CONTEXT),
                c.pick(PROBLEM_TRIED),
                c.pick(PROBLEM_QUESTION),
                c.pick(COMMON["thanks"]) if rng.random() < 0.4 else "",
            ]
        )
    elif kind == "problem_offer":
        title = c.pick(PROBLEM_OFFER_TITLES)
        body = _join(
            [
                c.pick(PROBLEM_CONTEXT),
                c.pick(PROBLEM_OFFER_STEPS),
                c.pick(PROBLEM_OFFER_RESULT),
                c.pick(COMMON["thanks"]),
            ]
        )
    else:
        title = c.pick(FEEDBACK_TITLES)
        parts = rng.sample(FEEDBACK_BODY, rng.randint(2, 3))
        body = _join(
            [c.pick(COMMON["filler"]), *(c.fill(p) for p in parts), "Thanks!" if rng.random() < 0.3 else ""]
        )
    return title, body


def _slugify(title: str) -> str:
    words = re.findall(r"[a-z0-9]+", title.lower())
    slug = "_".join(words)[:50].rstrip("_")
    return slug or "post"


def _base36(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while n:
        n, r = divmod(n, 36)
        out = digits[r] + out
    return out or "0"


def _engagement(rng: Random, kind: str) -> tuple[int, int, float]:
    """Heavy-tailed upvotes and comments: a few posts take most of the attention."""
    mu, sigma, talk = {
        "journey": (2.6, 1.5, 0.45),
        "problem_ask": (1.6, 1.1, 1.1),
        "problem_offer": (2.4, 1.4, 0.35),
        "feedback": (1.8, 1.2, 1.0),
        "promo": (0.2, 0.6, 0.3),
        "removed": (2.2, 1.4, 0.6),
        "deleted": (1.0, 1.0, 0.8),
        "sticky": (2.2, 0.6, 3.0),
        "link": (2.9, 1.6, 0.3),
    }.get(kind, (1.0, 1.0, 0.6))
    ups = max(0, int(rng.lognormvariate(mu, sigma)))
    comments = max(0, int(ups * talk * rng.lognormvariate(-0.3, 0.7) + rng.random() * 3))
    low = 0.35 if kind == "promo" else 0.6
    ratio = round(min(1.0, max(0.1, rng.uniform(low, 1.0) + (0.05 if ups > 50 else 0))), 2)
    return ups, comments, ratio


def _author(rng: Random) -> str:
    style = rng.random()
    a, b = rng.choice(USER_PARTS[0]), rng.choice(USER_PARTS[1])
    if style < 0.4:
        return f"{a}_{b}{rng.randint(1, 999)}"
    if style < 0.7:
        return f"{a.capitalize()}{b.capitalize()}{rng.randint(10, 99)}"
    if style < 0.85:
        return f"throwaway_{b}_{rng.randint(1000, 9999)}"
    return f"{b}-{a}-{rng.randint(1, 9)}"


def _compose(kind: str, c: Composer) -> dict:
    """Title/body/link fields for one post kind (engagement and ids are added later)."""
    rng = c.rng
    post: dict = {
        "kind": kind,
        "is_self": True,
        "selftext": "",
        "url": None,
        "over_18": False,
        "stickied": False,
        "distinguished": None,
        "removed_by_category": None,
        "flair": None,
    }
    if kind in ("journey", "problem_ask", "problem_offer", "feedback"):
        post["title"], post["selftext"] = _genuine(kind, c)
        post["flair"] = rng.choice(FLAIRS[kind])
        if kind == "feedback" and "https://" not in post["selftext"] and rng.random() < 0.2:
            post["selftext"] += c.fill("\n\nLink: https://{slug}.{tld}")
    elif kind == "one_liner":
        post["title"] = c.pick(TITLE_ONLY + PROBLEM_ASK_TITLES[:6])
        post["selftext"] = c.pick(ONE_LINER_BODIES)
    elif kind == "title_only":
        post["title"] = c.pick(TITLE_ONLY)
    elif kind == "link":
        post["title"] = c.pick(LINK_TITLES)
        domain = rng.choice(LINK_DOMAINS)
        post["is_self"] = False
        post["url"] = (
            f"https://{domain}/{_slugify(post['title']).replace('_', '-')}-{rng.randint(100, 99999)}"
        )
    elif kind == "promo":
        title, body = rng.choice(PROMO_TEMPLATES)
        post["title"], post["selftext"] = c.fill(title), c.fill(body)
    elif kind in ("removed", "deleted"):
        source = rng.random()
        if source < 0.5:
            post["title"] = c.pick(REMOVED_TITLES)
        else:
            post["title"] = _genuine(rng.choice(["journey", "problem_ask", "feedback"]), c)[0]
        post["selftext"] = "[removed]" if kind == "removed" else "[deleted]"
        post["removed_by_category"] = (
            rng.choice(["moderator", "automod_filtered", "reddit", "anti_evil_ops"])
            if kind == "removed"
            else "deleted"
        )
    elif kind == "nsfw":
        title, body = rng.choice(NSFW_TEMPLATES)
        post["title"], post["selftext"], post["over_18"] = c.fill(title), c.fill(body), True
    elif kind == "non_english":
        title, body = rng.choice(NON_ENGLISH)
        post["title"], post["selftext"] = c.fill(title), c.fill(body)
    else:
        raise ValueError(kind)
    return post


def _sticky(c: Composer, when: datetime) -> dict:
    title, body = c.rng.choice(STICKY_TEMPLATES[:2] if when.weekday() < 5 else STICKY_TEMPLATES)
    c.memo.update(date=when.strftime("%B %d, %Y"), month=when.strftime("%B %Y"))
    return {
        "kind": "sticky",
        "is_self": True,
        "title": c.fill(title),
        "selftext": c.fill(body),
        "url": None,
        "over_18": False,
        "stickied": True,
        "distinguished": "moderator",
        "removed_by_category": None,
        "flair": "Mod Post",
        "author": "AutoModerator",
    }


def _plan(rng: Random, c: Composer) -> list[dict]:
    """Compose every post of every subreddit with its timestamp; ids come later."""
    kinds = list(KIND_WEIGHTS)
    weights = [KIND_WEIGHTS[k] for k in kinds]
    start = END - timedelta(days=SPAN_DAYS)
    posts: list[dict] = []
    for sub, (count, domain, _) in SUBREDDITS.items():
        c.start(domain)
        own: list[dict] = []
        # Mods re-pin a thread weekly (feedback-heavy subs) or monthly.
        every = 7 if sub in ("SaaS", "startups", "SideProject", "marketing") else 30
        day = every - 1
        while day < SPAN_DAYS:
            c.start(domain)
            when = start + timedelta(days=day, hours=13)
            own.append({**_sticky(c, when), "created": when.timestamp() + rng.randint(0, 600)})
            day += every
        while len(own) < count:
            c.start(domain)
            kind = rng.choices(kinds, weights)[0]
            # Skewed towards recent months, like a growing subreddit.
            created = float(int(start.timestamp() + rng.random() ** 0.8 * (SPAN_DAYS * 86400 - 120)))
            if kind == "repost":
                genuine = [
                    p for p in own if p["kind"] in ("journey", "problem_ask", "feedback", "problem_offer")
                ]
                if not genuine:
                    continue
                original = rng.choice(genuine)
                later = min(END.timestamp() - 60, original["created"] + rng.randint(3600, 20 * 86400))
                own.append(
                    {
                        **original,
                        "kind": "repost",
                        "created": float(later),
                        "author": original["author"] if rng.random() < 0.7 else _author(rng),
                    }
                )
                continue
            if kind == "crosspost":
                own.append({"kind": "crosspost", "created": created, "title": "", "selftext": ""})
                continue
            post = _compose(kind, c)
            post["created"] = created
            post["author"] = "[deleted]" if kind == "deleted" else _author(rng)
            own.append(post)
        for p in own:
            p["subreddit"] = sub
        posts.extend(own)
    return posts


def _finish(rng: Random, posts: list[dict]) -> dict[str, list[dict]]:
    """Assign chronological base-36 ids, engagement and crosspost parents; emit t3 dicts."""
    posts.sort(key=lambda p: (p["created"], p["subreddit"], p["title"]))
    next_id = int("1mz0000", 36)
    for p in posts:
        next_id += rng.randint(40, 900)
        p["id"] = _base36(next_id)
    by_sub: dict[str, list[dict]] = {s: [] for s in SUBREDDITS}
    seen_self: list[dict] = []
    for p in posts:
        if p["kind"] == "crosspost":
            candidates = [q for q in seen_self[-400:] if q["subreddit"] != p["subreddit"]]
            if not candidates:
                p["kind"] = "title_only"
                p.update(
                    title="Anyone else seeing this?",
                    is_self=True,
                    selftext="",
                    url=None,
                    author=_author(rng),
                    over_18=False,
                    stickied=False,
                    distinguished=None,
                    removed_by_category=None,
                    flair=None,
                )
            else:
                parent = rng.choice(candidates)
                p.update(
                    title=parent["title"],
                    is_self=False,
                    selftext="",
                    url=None,
                    author=_author(rng),
                    over_18=False,
                    stickied=False,
                    distinguished=None,
                    removed_by_category=None,
                    flair=None,
                    parent=parent,
                )
        data = _t3(rng, p)
        if p["kind"] in ("journey", "problem_ask", "problem_offer", "feedback"):
            seen_self.append(data)
        by_sub[p["subreddit"]].append(data)
    for listing in by_sub.values():
        listing.reverse()  # newest first, like a ``new`` listing
    return by_sub


def _t3(rng: Random, p: dict) -> dict:
    sub, pid = p["subreddit"], p["id"]
    permalink = f"/r/{sub}/comments/{pid}/{_slugify(p['title'])}/"
    ups, comments, ratio = _engagement(
        rng,
        {
            "one_liner": "problem_ask",
            "title_only": "problem_ask",
            "repost": "removed",
            "crosspost": "link",
            "nsfw": "feedback",
            "non_english": "problem_ask",
        }.get(p["kind"], p["kind"]),
    )
    if p["kind"] == "deleted":
        author = None if rng.random() < 0.3 else "[deleted]"
    else:
        author = p["author"]
    url = p["url"] or f"https://www.reddit.com{permalink}"
    domain = f"self.{sub}" if p["is_self"] else url.split("/")[2]
    data = {
        "id": pid,
        "name": f"t3_{pid}",
        "subreddit": sub,
        "subreddit_name_prefixed": f"r/{sub}",
        "subreddit_id": SUBREDDITS[sub][2],
        "title": p["title"],
        "selftext": p["selftext"],
        "author": author,
        "url": url,
        "permalink": permalink,
        "domain": domain,
        "ups": ups,
        "score": ups,
        "downs": 0,
        "num_comments": comments,
        "upvote_ratio": ratio,
        "created_utc": p["created"],
        "is_self": p["is_self"],
        "stickied": p["stickied"],
        "over_18": p["over_18"],
        "spoiler": False,
        "locked": p["kind"] == "removed",
        "removed_by_category": p["removed_by_category"],
        "distinguished": p["distinguished"],
        "link_flair_text": p["flair"],
    }
    if rng.random() < 0.02:
        del data["upvote_ratio"]  # older clients and some endpoints omit it
    parent = p.get("parent")
    if parent is not None:
        data["url"] = parent["permalink"]
        data["domain"] = f"self.{parent['subreddit']}"
        data["crosspost_parent"] = parent["name"]
        data["crosspost_parent_list"] = [
            {
                k: parent[k]
                for k in (
                    "id",
                    "name",
                    "subreddit",
                    "title",
                    "selftext",
                    "author",
                    "url",
                    "permalink",
                    "ups",
                    "score",
                    "num_comments",
                    "created_utc",
                    "is_self",
                )
            }
        ]
    return data


def build_corpus() -> bytes:
    """The gzip-compressed corpus, identical bytes on every call."""
    rng = Random(SEED)
    composer = Composer(rng)
    by_sub = _finish(rng, _plan(rng, composer))
    document = {
        "format": "reddit-t3-by-subreddit/1",
        "generated_by": "scripts/gen_sample_corpus.py",
        "seed": SEED,
        "end_utc": END.timestamp(),
        "subreddits": by_sub,
    }
    raw = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return gzip.compress(raw, compresslevel=9, mtime=0)


def main(argv: list[str]) -> int:
    out = Path(argv[1]) if len(argv) > 1 else OUTPUT
    out.parent.mkdir(parents=True, exist_ok=True)
    data = build_corpus()
    out.write_bytes(data)
    total = sum(len(v) for v in json.loads(gzip.decompress(data))["subreddits"].values())
    print(f"wrote {out} ({len(data) / 1024:.0f} KiB, {total} posts)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
