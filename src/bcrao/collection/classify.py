"""The offline ``rules`` classifier: weighted cue patterns per archetype.

Why rules: the default install has no LLM key, runs must be reproducible, and a user who
asks "why is this a Journey?" deserves an answer — ``Classification.reasons`` lists the cues
that fired. Cues are general shapes of the three post types (first-person past-tense
narrative, requests for help, invitations to judge) rather than phrases from any data set.

Scoring: every cue has a weight; a cue matching the title counts ``TITLE_WEIGHT`` times
(titles state the intent of a post), matches in the body count once each up to
``BODY_CAP``. The archetype with the highest total wins; ties and empty scores fall back to
the shape of the post (question → ProblemSolution, first-person voice → Journey, otherwise
Feedback). Confidence is the winner's share of the total, squashed into 0.34-0.99.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from bcrao.collection.text import FIRST_PERSON, QUESTION_START_RE, words
from bcrao.sources.base import NormalizedPost

ARCHETYPES = ("Journey", "ProblemSolution", "Feedback")

TITLE_WEIGHT = 2.0
BODY_CAP = 2

T = TypeVar("T")


@dataclass(slots=True)
class Classification:
    archetype: str
    confidence: float
    reasons: list[str]


@dataclass(frozen=True, slots=True)
class _Cue:
    archetype: str
    label: str
    pattern: re.Pattern[str]
    weight: float
    title_only: bool = False


def _cue(archetype: str, label: str, pattern: str, weight: float, *, title_only: bool = False) -> _Cue:
    return _Cue(archetype, label, re.compile(pattern, re.IGNORECASE), weight, title_only)


_PAST_ACTIONS = (
    r"quit|left|started|launched|built|founded|sold|raised|hit|crossed|reached|grew|opened|shut|closed"
    r"|lost|hired|fired|pivoted|spent|made|turned|took|went|switched|failed|bootstrapped|shipped|released"
    r"|moved|survived|decided|inherited|finished|quit|got|was|had|did|burned|signed|learned"
)
_FIXES = r"fixed|solved|cut|reduced|doubled|tripled|halved|improved|increased|recovered|stopped|sped|boosted"

_CUES: tuple[_Cue, ...] = (
    # Journey: someone telling what happened to them, with time and milestones.
    _cue("Journey", "first-person past-tense narrative",
         rf"\b(?:i|we)\s+(?:just\s+|finally\s+|actually\s+|eventually\s+)?(?:{_PAST_ACTIONS})\b", 1.0),
    _cue("Journey", "time passing (ago / later / year one)",
         r"\b(?:\d+|a|one|two|three|four|five|six|seven|eight|nine|ten|a few|several)\s+(?:years?|months?"
         r"|weeks?|days?)\s+(?:ago|later|in|of)\b|\b(?:year|month|day)\s+(?:one|two|\d+)\b"
         r"|\b(?:in|since|back in)\s+20\d\d\b", 1.2),
    _cue("Journey", "milestone or revenue figure",
         r"\b(?:first|\d+(?:st|nd|rd|th))\s+(?:paying\s+)?(?:customer|sale|dollar|user|hire|client|deal)s?\b"
         r"|\b(?:hit|crossed|reached|passed|past|to)\s+[$€£]?\d[\d,.]*\s?[km]?\s?(?:mrr|arr|users"
         r"|customers|subscribers|revenue|stars|downloads)?\b|\bmilestone|\b[$€£]?\d[\d,.]*\s?k?\s?mrr\b",
         1.2),
    _cue("Journey", "story / lessons framing",
         r"\b(?:my|our)\s+(?:journey|story|first year|year)\b|\bjourney\b|\blessons?(?:\s+learned)?\b"
         r"|\bwhat (?:i|we) learned\b|\bpost-?mortem\b|\brecap\b|\bretrospective\b|\blooking back\b"
         r"|\bin hindsight\b|\b(?:i|we) wish (?:i|we) knew\b|\bwhat happened\b|\btimeline\b"
         r"|\b(?:revenue|income|progress) report\b|\bupdate:", 1.3),
    _cue("Journey", "life change (quit job, shut down, sold)",
         r"\b(?:quit|left) (?:my|a|our) (?:\S+ )?(?:job|career|role)\b|\bshut (?:it )?down\b|\bsold (?:my|our)\b"
         r"|\b(?:full-?time on|went full-?time|laid off|fired)\b|\bprofitable\b|\bburn(?:ed|t)? ?out\b", 1.0),
    _cue("Journey", "reflective feeling",
         r"\b(?:proud|terrified|devastated|humbling|surreal|unreal|hardest|happier|regret|relief|"
         r"scared|grateful|excited|nervous|emotional)\b", 0.5),
    _cue("Journey", "title is about the author (I / we / my)",
         r"^\s*(?:i|i'm|i've|we|we're|we've|my|our)\b|^\s*(?:how|why)\s+(?:i|we)\s+(?!(?:do|can|should|would"
         r"|could|might|must)\b)(?:went|got|grew|built|turned|quit|left|started|made|finally|became)\b", 0.8,
         title_only=True),
    # ProblemSolution: asking for or offering a fix.
    _cue("ProblemSolution", "asks how to do something",
         r"\bhow (?:do|can|should|would|could|did) (?:i|we|you|one|people|teams)\b|\bhow to\b"
         r"|\bwhat(?:'s| is) the (?:best|right|simplest|easiest|fastest|cheapest|sane) (?:way|approach"
         r"|setup|process|tool)\b|\bbest way to\b|\bwhere (?:do|would|should|can) (?:i|you|we) (?:start|begin|find)\b",
         1.4),
    _cue("ProblemSolution", "asks for tools or recommendations",
         r"\bwhat (?:tools?|apps?|software|crm|platform|service|stack|setup)s? (?:do|should|would|are|is)\b"
         r"|\b(?:any|your) (?:tips|advice|recommendations?|suggestions|ideas|strategies|alternatives?)\b"
         r"|\brecommend(?:ation)?s?\b|\balternatives? to\b|\bis there (?:a|an|any) (?:tool|way|app|software"
         r"|service|process|plugin)\b|\blooking for (?:a |an |some )?(?:tools?|apps?|software|way|solution"
         r"|recommendations?|advice|something)\b|\bwhat(?:'s| has| have)? (?:actually )?work(?:s|ed)? for you\b"
         r"|\bwhat are (?:people|you|small \w+) using\b", 1.3),
    _cue("ProblemSolution", "describes being stuck",
         r"\b(?:need|needs) (?:help|advice)\b|\bhelp(?: me|:)|\bstruggling\b|\bstruggle\b|\bcan't (?:figure"
         r"|get|stop|seem)\b|\bstuck\b|\bwhat am i missing\b|\bany ideas\b|\bkeeps? (?:breaking|failing"
         r"|crashing)\b|\bdoesn't work\b|\bnot working\b|\bnightmare\b|\bchaos\b", 1.1),
    _cue("ProblemSolution", "problem vocabulary",
         r"\b(?:problem|issue|error|bug|slow|broken|breaks|fails?|failing|failed payments|leak|churn"
         r"|drop-?off|bounce|bottleneck|blocker|hacked|spam|deliverability|overload)\b", 0.6),
    _cue("ProblemSolution", "offers a fix",
         rf"\b(?:here'?s|this is) how (?:we|i|you)\b|\bhow (?:we|i) (?:{_FIXES})\b|\b(?:we|i) (?:{_FIXES})\b"
         r"|\bsolved:|\bsolution\b|\bworkaround\b|\bthe fix\b|\bcause:|\b(?:step|tip) \d\b|(?:^|\s)1[.)]\s"
         r"|\bhappy to (?:share|answer)\b|\bworks? \d+% of the time\b", 1.3),
    # Feedback: inviting or giving judgement, comparisons, opinions.
    _cue("Feedback", "asks for feedback or a roast",
         r"\b(?:roast|critique|feedback|review)\b|\b(?:rate|grade) (?:my|this|these|our|the)\b|\bbe (?:brutal|honest|harsh)\b"
         r"|\bgut reactions?\b|\bcriticism\b", 1.5),
    _cue("Feedback", "asks for opinions",
         r"\bthoughts\b|\bwhat do you think\b|\bwhat(?:'s| is) your (?:take|opinion|view|experience)\b"
         r"|\bopinions?\b|\byour take\b|\b(?:agree|disagree)\b|\bchange my mind\b|\bconvince me\b"
         r"|\bdiscuss\b|\bam i (?:wrong|the only|crazy)\b|\bis it just me\b|\banyone else (?:notic|feel|think|see)"
         r"|\bcurious (?:where|what|how) (?:people|you|founders)\b|\bwhere do you stand\b", 1.3),
    _cue("Feedback", "verdict words (overrated, worth it, myth)",
         r"\b(?:overrated|underrated|unpopular opinion|hot take|myth|worth it|worth the|waste|scam|dead"
         r"|useless|trap|saturated|theater|overkill|too complicated|less valuable)\b|\bworth \w+ing\b|\b\d+/10\b"
         r"|\bpros and cons\b|\bgood or bad\b", 1.2),
    _cue("Feedback", "comparison or choice",
         r"\bvs\.?\b|\bversus\b|\bwhich (?:one|is better|would you|do you prefer|feels|name|platform|model)\b"
         r"|\bprefer(?:red)?\b|\b(?:better|worse) than\b|\b(?:a|b|c), (?:b|c) or\b|\bor just\b", 1.1),
    _cue("Feedback", "hypothetical adoption (would you use / pay)",
         r"\bwould you (?:use|pay|buy|pick|choose|trust|try|click|sign up)\b|\bdoes (?:this|it|my) .{0,40}"
         r"(?:make sense|sound|feel|look)\b|\bis it (?:clear|confusing)\b", 1.3),
)


class RulesClassifier:
    name = "rules"

    def __init__(self, cues: Sequence[_Cue] = _CUES) -> None:
        self._cues = tuple(cues)

    def classify(self, post: NormalizedPost) -> Classification:
        scores = dict.fromkeys(ARCHETYPES, 0.0)
        fired: dict[str, list[tuple[float, str]]] = {a: [] for a in ARCHETYPES}
        title, text = post.title or "", post.text or ""
        for cue in self._cues:
            gained = 0.0
            if cue.pattern.search(title):
                gained += cue.weight * TITLE_WEIGHT
            if text and not cue.title_only:
                hits = len(cue.pattern.findall(text))
                if hits:
                    gained += cue.weight * min(hits, BODY_CAP)
            if gained:
                scores[cue.archetype] += gained
                fired[cue.archetype].append((gained, cue.label))

        total = sum(scores.values())
        best = max(ARCHETYPES, key=lambda a: scores[a])
        runner_up = max(scores[a] for a in ARCHETYPES if a != best)
        if total == 0 or scores[best] == runner_up:
            best, why = self._fallback(title, text, scores, runner_up)
            reasons = [why] + [label for _, label in sorted(fired[best], reverse=True)]
            return Classification(best, 0.34, reasons)
        share = scores[best] / total
        confidence = round(min(0.99, 0.34 + 0.65 * (share - 1 / 3) * 1.5), 2)
        reasons = [label for _, label in sorted(fired[best], key=lambda x: -x[0])]
        return Classification(best, max(confidence, 0.34), reasons)

    @staticmethod
    def _fallback(title: str, text: str, scores: dict[str, float], top: float) -> tuple[str, str]:
        """Break ties (or silence) by the post's shape rather than by list order."""
        tied = [a for a in ARCHETYPES if scores[a] == top] if top else list(ARCHETYPES)
        if "ProblemSolution" in tied and (title.rstrip().endswith("?") or QUESTION_START_RE.match(title)):
            return "ProblemSolution", "no decisive cue; title is a question"
        tokens = words(f"{title} {text}")
        voice = sum(1 for w in tokens if w in FIRST_PERSON)
        if "Journey" in tied and tokens and voice / len(tokens) >= 0.04:
            return "Journey", "no decisive cue; written in the first person"
        if "Feedback" in tied:
            return "Feedback", "no decisive cue; treated as an opinion"
        return tied[0], "no decisive cue"


def select_for_classification(scored: Sequence[T], fraction: float, key: Callable[[T], float]) -> list[T]:
    """The top ``fraction`` of ``scored`` by ``key`` (at least one item when non-empty).

    Ties keep input order (``sorted`` is stable), so the same run input always picks the
    same posts. Rounds up so a small subreddit still gets its best post classified.
    """
    if not scored:
        return []
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    # round() first: 0.1 * 30 is 3.0000000000000004 in binary floating point.
    count = max(1, math.ceil(round(len(scored) * fraction, 9)))
    return sorted(scored, key=key, reverse=True)[:count]
