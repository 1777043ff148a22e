"""The research brief: a campaign, its funnel, its top themes and pain points with quotes
and links, as Markdown a founder pastes into a doc (or the themes as CSV)."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from bcrao.collection.models import ARCHETYPES
from bcrao.posts.export import CSV_BOM, guarded
from bcrao.posts.schemas import CollectionStats
from bcrao.themes.schemas import ThemeList, ThemeOut

TOP_THEMES = 8
TOP_PAINS = 5
_ARCHETYPE_NAMES = {
    "Journey": "journeys",
    "ProblemSolution": "problems",
    "Feedback": "feedback requests",
    "Unclassified": "unlabelled",
}
CSV_FIELDS = (
    "id",
    "label",
    "terms",
    "size",
    "share",
    "avg_success_score",
    "pain_score",
    "direction",
    "journey",
    "problem_solution",
    "feedback",
    "unclassified",
    "top_quote",
    "top_quote_url",
)


def _md_text(text: str) -> str:
    """Reddit text inside Markdown: one line, no accidental headings, links or emphasis."""
    flat = re.sub(r"\s+", " ", text).strip()
    return re.sub(r"([\\`*_\[\]<>#|])", r"\\\1", flat)


def _mix(theme: ThemeOut) -> str:
    parts = [f"{n} {_ARCHETYPE_NAMES[a]}" for a, n in theme.by_archetype.items() if n]
    return ", ".join(parts) or "no labels"


def _theme_md(number: int, theme: ThemeOut) -> list[str]:
    lines = [
        f"### {number}. {_md_text(theme.label)}",
        "",
        f"{theme.size} posts ({theme.share:.0%}), {theme.direction}; {_mix(theme)}; average success score "
        f"{theme.avg_success_score:.1f}/10; pain {theme.pain_score:.1f}/10.",
        f"Key terms: {_md_text(', '.join(theme.terms))}.",
        "",
    ]
    for quote in theme.quotes:
        where = "comment" if quote.comment_id else "post"
        lines.append(f"> {_md_text(quote.text)}  ")
        lines.append(f"> — [{where} on Reddit]({quote.reddit_url}), ↑{quote.upvotes}")
        lines.append("")
    return lines


def markdown(campaign: Any, stats: CollectionStats, themes: ThemeList) -> str:
    funnel = stats.funnel
    lines = [
        f"# Research brief: {_md_text(campaign.name)}",
        "",
        f"**Product:** {_md_text(campaign.product_context or '—')}  ",
        f"**Keywords:** {_md_text(', '.join(campaign.keywords))}  ",
        f"**Communities:** {', '.join('r/' + s for s in campaign.target_subreddits)}",
        "",
        "## What was collected",
        "",
        f"- {stats.runs} collection run(s); {funnel.scraped} posts read, {funnel.filtered} kept after the"
        f" noise filter, {stats.total} stored.",
        f"- {stats.comments.total} comments under {stats.comments.posts_with_comments} posts.",
        f"- Archetypes: {', '.join(f'{n} {_ARCHETYPE_NAMES[a]}' for a, n in stats.by_archetype.items())}.",
        "",
    ]
    if themes.status in ("computing", "stale") or not themes.themes:
        note = {
            "computing": "Themes are being computed",
            "stale": "Themes predate the latest posts",
            "empty": "Not enough posts to find themes yet",
        }.get(themes.status, "")
        if note:
            lines += [
                f"_{note}{'; shown as of ' + themes.computed_at.isoformat() if themes.computed_at else ''}._",
                "",
            ]
    if themes.themes:
        by_size = sorted(themes.themes, key=lambda t: (-t.size, t.id))[:TOP_THEMES]
        lines += [f"## Top themes ({len(themes.themes)} found, {themes.unassigned} posts in none)", ""]
        for number, theme in enumerate(by_size, start=1):
            lines += _theme_md(number, theme)
        pains = sorted(themes.themes, key=lambda t: (-t.pain_score, t.id))[:TOP_PAINS]
        lines += [
            "## Pain points",
            "",
            "Themes ranked by how many problem posts and complaining sentences (in posts and"
            " comments) they hold, times engagement.",
            "",
        ]
        for number, theme in enumerate(pains, start=1):
            lines += _theme_md(number, theme)
    return "\n".join(lines).rstrip() + "\n"


def themes_csv(themes: ThemeList) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_FIELDS)
    for t in sorted(themes.themes, key=lambda t: (-t.size, t.id)):
        top = t.quotes[0] if t.quotes else None
        writer.writerow(
            [
                t.id,
                guarded(t.label),
                guarded("; ".join(t.terms)),
                t.size,
                t.share,
                t.avg_success_score,
                t.pain_score,
                t.direction,
                *(t.by_archetype.get(a, 0) for a in ARCHETYPES),
                guarded(top.text) if top else "",
                top.reddit_url if top else "",
            ]
        )
    return CSV_BOM + buffer.getvalue()
