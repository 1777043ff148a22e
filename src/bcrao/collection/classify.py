"""The offline ``rules`` classifier: weighted cue patterns per archetype.

Why rules: the default install has no LLM key, runs must be reproducible, and a user who
asks "why is this a Journey?" deserves an answer — ``Classification.reasons`` lists the cues
that fired. Cues are general shapes of the three post types (first-person past-tense
narrative, requests for help, invitations to judge) rather than phrases from any data set.

Scoring: every cue is a list of token phrases with a weight; a cue matching the title
counts ``TITLE_WEIGHT`` times (titles state the intent of a post), matches in the body count
once each up to ``BODY_CAP``. Matching runs on tokens (``text.PhraseSet``), not regexes,
so classifying costs tens of microseconds per post.

The archetype with the highest total wins; ties and empty scores fall back to
the shape of the post (question → ProblemSolution, first-person voice → Journey, otherwise
Feedback). Confidence is the winner's share of the total, squashed into 0.34-0.99.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from bcrao.collection.text import FIRST_PERSON, QUESTION_STARTERS, PhraseSet, count_vocab, tokenize, variants
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
    phrases: tuple[str, ...]
    weight: float


def _cue(archetype: str, label: str, weight: float, spec: str) -> _Cue:
    """Build a cue from a compact spec: ``;`` separates phrases, spaces separate positions,
    ``|`` separates alternatives at a position (a leading ``|`` makes it optional) and ``_``
    is a space inside one alternative. "i|we |just quit|left" → "i quit", "we just left", ...
    """
    phrases: list[str] = []
    for entry in spec.split(";"):
        if entry.strip():
            phrases.extend(variants(*(part.replace("_", " ") for part in entry.split())))
    return _Cue(archetype, label, tuple(phrases), weight)


_YEARS = "|".join(str(y) for y in range(2010, 2031))
_PAST = (
    "quit|left|started|launched|built|founded|sold|raised|hit|crossed|reached|grew|opened|shut|closed|lost"
    "|hired|fired|pivoted|spent|made|turned|took|went|switched|failed|bootstrapped|shipped|released|moved"
    "|survived|decided|inherited|finished|got|was|had|did|burned|signed|learned"
)
_FIXES = "fixed|solved|cut|reduced|doubled|tripled|halved|improved|increased|recovered|stopped|sped|boosted"
_COUNT = "#|a|one|two|three|four|five|six|seven|eight|nine|ten|few|several"
_TOOLS = "tool|tools|app|apps|software|crm|platform|service|stack|setup"

_CUES: tuple[_Cue, ...] = (
    # Journey: someone telling what happened to them, with time and milestones.
    _cue(
        "Journey", "first-person past-tense narrative", 1.0, f"i|we |just|finally|actually|eventually {_PAST}"
    ),
    _cue(
        "Journey",
        "time passing (ago / later / year one)",
        1.2,
        f"{_COUNT} year|years|month|months|week|weeks|day|days ago|later; year|month|day|week one|two|#;"
        f"in|since {_YEARS}; back in; fast forward; at first; since then",
    ),
    _cue(
        "Journey",
        "milestone or revenue figure",
        1.2,
        "first |paying customer|customers|sale|dollar|user|users|hire|client|deal|paycheck;"
        "hit|crossed|reached|passed|past #; # mrr|arr; milestone",
    ),
    _cue(
        "Journey",
        "story / lessons framing",
        1.3,
        "journey; story; lessons; lesson; post-mortem; postmortem; recap; retrospective; looking back;"
        "in hindsight; what happened; timeline; year in review; wish i knew; what i|we learned;"
        "revenue|income|progress report|update; #|one|month|year year|# update",
    ),
    _cue(
        "Journey",
        "life change (quit job, shut down, sold)",
        1.0,
        "quit|left my|a|our job|career|role|day; shut|shutting|shutdown |down;"
        "sold my|our company|business|startup|saas|app|agency; full-time; went full-time; laid off;"
        "profitable; burned|burnt out; burnout",
    ),
    _cue(
        "Journey",
        "reflective feeling",
        0.5,
        "proud|terrified|devastated|humbling|surreal|unreal|hardest|happier|regret|relief|scared|grateful"
        "|nervous|emotional|cried",
    ),
    # ProblemSolution: asking for or offering a fix.
    _cue(
        "ProblemSolution",
        "asks how to do something",
        1.4,
        "how do|can|should|would|could|did i|we|you|one|people|teams; how to; best way to;"
        "what's_the|what_is_the best|right|simplest|easiest|fastest|cheapest|sane"
        " way|approach|setup|process|tool;"
        "where do|would|should|can i|you|we start|begin|find",
    ),
    _cue(
        "ProblemSolution",
        "asks for tools or recommendations",
        1.3,
        f"what {_TOOLS} do|should|would|are|is|did;"
        "any|your tips|advice|recommendations|recommendation|suggestions|ideas|strategies"
        "|alternatives|alternative;"
        "recommend; recommendations; alternative|alternatives to;"
        "is there a|an|any tool|way|app|software|service|process|plugin;"
        "looking for |a|an|some tool|tools|app|software|way|solution|recommendations|advice;"
        "what |has|actually worked|works for you; what's worked for you; what are people|you|teams using",
    ),
    _cue(
        "ProblemSolution",
        "describes being stuck",
        1.1,
        "need|needs help|advice; help me; struggling; struggle; can't|cant figure; stuck; what am i missing;"
        "any ideas; not working; doesn't work; nightmare; chaos; killing us|me; keeps breaking|failing",
    ),
    _cue(
        "ProblemSolution",
        "problem vocabulary",
        0.6,
        "problem|issue|issues|error|errors|bug|bugs|slow|broken|breaks|fails|failing|leak|churn|drop-off"
        "|bounce|bottleneck|blocker|hacked|spam|deliverability|overload|help",
    ),
    _cue(
        "ProblemSolution",
        "offers a fix",
        1.3,
        f"here's|heres|this_is how we|i|you; how we|i {_FIXES}; we|i {_FIXES}; solved; solution; workaround;"
        "the fix; step 1; happy to share",
    ),
    # Feedback: inviting or giving judgement, comparisons, opinions.
    _cue(
        "Feedback",
        "asks for feedback or a roast",
        1.5,
        "roast|critique|feedback|review|criticism; gut reaction|reactions; rate|grade my|this|these|our|the;"
        "be brutal|honest|harsh",
    ),
    _cue(
        "Feedback",
        "asks for opinions",
        1.3,
        "thoughts|opinion|opinions|agree|disagree|discuss; your take; change my mind; convince me;"
        "is it just me; where do you stand; what do you |all think; what's|what_is your take|opinion|view;"
        "am i wrong|crazy|the_only; anyone else notice|noticing|feel|think|seeing;"
        "curious what|where|how people|you|founders",
    ),
    _cue(
        "Feedback",
        "verdict words (overrated, worth it, myth)",
        1.2,
        "overrated|underrated|myth|waste|scam|dead|useless|trap|saturated|theater|overkill;"
        "unpopular opinion; hot take; worth it|the|*ing; too complicated; less valuable; pros and cons;"
        "good or bad",
    ),
    _cue(
        "Feedback",
        "comparison or choice",
        1.1,
        "vs|versus|prefer|preferred; better|worse than; or just;"
        "which one|is_better|would_you|do_you_prefer|feels|name|platform|model|option",
    ),
    _cue(
        "Feedback",
        "hypothetical adoption (would you use / pay)",
        1.3,
        "would you use|pay|buy|pick|choose|trust|try|click|sign; make|makes sense; is it clear|confusing",
    ),
)

_ABOUT_AUTHOR_STARTS = frozenset(["i", "i'm", "i've", "we", "we're", "we've", "my", "our"])
_MODALS = frozenset(["do", "can", "should", "would", "could", "might", "must"])
ABOUT_AUTHOR = "title is about the author (I / we / my)"
ABOUT_AUTHOR_WEIGHT = 0.8


def title_about_author(tokens: list[str]) -> bool:
    """ "I quit..." / "My first year" / "How I grew..." — but not "How do I...?"."""
    if not tokens:
        return False
    if tokens[0] in _ABOUT_AUTHOR_STARTS:
        return True
    return (
        len(tokens) > 2
        and tokens[0] in ("how", "why")
        and tokens[1] in ("i", "we")
        and tokens[2] not in _MODALS
    )


def cue_phrases(cues: Sequence[_Cue] = _CUES) -> PhraseSet:
    """Every cue's phrases, labelled by the cue (the trained model uses them as features)."""
    return PhraseSet({cue.label: cue.phrases for cue in cues})


class RulesClassifier:
    name = "rules"

    def __init__(self, cues: Sequence[_Cue] = _CUES) -> None:
        self._cues = {cue.label: cue for cue in cues}
        self._phrases = cue_phrases(cues)

    def classify(self, post: NormalizedPost) -> Classification:
        title, text = post.title or "", post.text or ""
        title_tokens = tokenize(title)
        title_hits = self._phrases.find(title_tokens)
        body_hits = self._phrases.find(tokenize(text)) if text else Counter()

        scores = dict.fromkeys(ARCHETYPES, 0.0)
        fired: dict[str, list[tuple[float, str]]] = {a: [] for a in ARCHETYPES}
        for label in title_hits.keys() | body_hits.keys():
            cue = self._cues[label]
            gained = cue.weight * (TITLE_WEIGHT if label in title_hits else 0.0)
            gained += cue.weight * min(body_hits.get(label, 0), BODY_CAP)
            scores[cue.archetype] += gained
            fired[cue.archetype].append((gained, label))
        if title_about_author(title_tokens):
            scores["Journey"] += ABOUT_AUTHOR_WEIGHT * TITLE_WEIGHT
            fired["Journey"].append((ABOUT_AUTHOR_WEIGHT * TITLE_WEIGHT, ABOUT_AUTHOR))

        total = sum(scores.values())
        best = max(ARCHETYPES, key=lambda a: scores[a])
        runner_up = max(scores[a] for a in ARCHETYPES if a != best)
        if total == 0 or scores[best] == runner_up:
            best, why = self._fallback(title, title_tokens, text, scores, runner_up)
            return Classification(best, 0.34, [why, *_ranked(fired[best])])
        share = scores[best] / total
        confidence = round(min(0.99, 0.34 + 0.65 * (share - 1 / 3) * 1.5), 2)
        return Classification(best, max(confidence, 0.34), _ranked(fired[best]))

    @staticmethod
    def _fallback(
        title: str, title_tokens: list[str], text: str, scores: dict[str, float], top: float
    ) -> tuple[str, str]:
        """Break ties (or silence) by the post's shape rather than by list order."""
        tied = [a for a in ARCHETYPES if scores[a] == top] if top else list(ARCHETYPES)
        question = title.rstrip().endswith("?") or (
            bool(title_tokens) and title_tokens[0] in QUESTION_STARTERS
        )
        if "ProblemSolution" in tied and question:
            return "ProblemSolution", "no decisive cue; title is a question"
        counts = Counter(title_tokens)
        counts.update(tokenize(text))
        total = counts.total()
        if "Journey" in tied and total and count_vocab(counts, FIRST_PERSON) / total >= 0.04:
            return "Journey", "no decisive cue; written in the first person"
        if "Feedback" in tied:
            return "Feedback", "no decisive cue; treated as an opinion"
        return tied[0], "no decisive cue"


def _ranked(fired: list[tuple[float, str]]) -> list[str]:
    return [label for _, label in sorted(fired, key=lambda item: (-item[0], item[1]))]


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
