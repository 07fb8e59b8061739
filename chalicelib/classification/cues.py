"""Hand-written cues: weighted keywords and severity phrases read from a ticket's text.

These are the rules the offline classifier used to consist of. They now feed the learned
model in ``offline.py`` as features (the rules' scores and answers, and which severity
groups fired), because they encode things a few hundred labelled tickets cannot teach a
word model: negation ("login works fine"), workarounds, scope ("all our users").

How they read a ticket:

* Category: every category has a table of cues (keywords, stems such as ``charg`` for
  charge/charged/charges, short phrases). A cue scores once per field, and a hit in the
  title counts double, because people put the subject of the ticket in its title and
  background detail in its description. A cue that the writer explicitly rules out
  ("I can log in fine", "not a billing question") is ignored. Questions, feature
  requests and feedback that describe no problem push towards ``general``.
* Priority: one severity score on a single scale. Cues for outages, data loss and
  security breaches push up, as do scope ("all our users") and blocking ("can't work");
  a workaround or a partial failure clamps the score into the medium band; questions,
  feature requests, praise and cosmetic wording pull down. Cues come in groups of
  synonyms and each group counts once, so saying "broken, fails, error" does not triple
  the severity. The score is then cut into the four priorities.

Only regular expressions and the standard library: importing this module compiles
nothing (patterns are compiled on first use).
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata
from dataclasses import dataclass
from typing import Final

from chalicelib.domain import Category, Priority

# Only the start of a long text is read by the cues: what a ticket is about is stated
# early, and the bound keeps the cost of ~250 regular expressions flat on pasted logs
# (about 1 ms at the bound on this machine). The word features read further (features.py).
MAX_TITLE_CHARS: Final = 500
MAX_DESCRIPTION_CHARS: Final = 1_500

_TITLE_WEIGHT: Final = 2.0
_DESCRIPTION_WEIGHT: Final = 1.0


@functools.cache
def _compiled(source: str) -> re.Pattern[str]:
    # Compiling the ~250 patterns costs about 40 ms. Every Lambda cold start imports this
    # module, but only the ones where Claude is unavailable classify offline, so the cost
    # is paid on first use instead of at import.
    return re.compile(source)


_REGEX_SYNTAX: Final = frozenset("\\()[]{}|?*+.^$")


def _scan(source: str) -> list[tuple[int, str, int]]:
    """(index, character, nesting depth) of the characters outside escapes and classes."""
    found: list[tuple[int, str, int]] = []
    depth = 0
    index = 0
    while index < len(source):
        char = source[index]
        if char == "\\":
            index += 2
            continue
        if char == "[":
            # Skip the whole class: a ")" or "|" inside it is a literal character.
            index = source.index("]", index + 2) + 1
            continue
        if char == "(":
            depth += 1
        found.append((index, char, depth))
        if char == ")":
            depth -= 1
        index += 1
    return found


def _split_alternatives(source: str) -> list[str]:
    """The top-level ``|`` branches of a regular expression."""
    cuts = [index for index, char, depth in _scan(source) if char == "|" and depth == 0]
    bounds = [-1, *cuts, len(source)]
    return [source[start + 1 : end] for start, end in itertools.pairwise(bounds)]


def _closing_paren(source: str) -> int:
    """Where the group that opens ``source`` closes."""
    for index, char, depth in _scan(source):
        if char == ")" and depth == 1:
            return index
    raise ValueError(f"unbalanced parenthesis in {source!r}")


def _branch_prefixes(branch: str) -> tuple[str, ...] | None:
    if branch.startswith(("(?<!", "(?<=")):
        # A lookbehind consumes nothing: what follows it is what the match contains.
        return _branch_prefixes(branch[_closing_paren(branch) + 1 :])
    if branch.startswith("(?:"):
        end = _closing_paren(branch)
        inner = _prefixes_of(branch[3:end])
        rest = branch[end + 1 :]
        if not rest.startswith(("?", "*", "{0")):
            return inner
        # An optional group: a match holds either the group's text or what follows it.
        after = _branch_prefixes(rest[1:]) if rest[0] in "?*" else None
        return None if inner is None or after is None else inner + after
    literal = ""
    for position, char in enumerate(branch):
        if char in _REGEX_SYNTAX:
            break
        # A character made optional by the quantifier after it is not required.
        if position + 1 < len(branch) and branch[position + 1] in "?*{":
            break
        literal += char
    return (literal,) if literal else None


@functools.cache
def _prefixes_of(source: str) -> tuple[str, ...] | None:
    r"""Literal text of which every match must contain one: a prefix per alternative.

    ``invoic\w*|refund\w*|receipts?\b`` gives ("invoic", "refund", "receipt"): a text
    that contains none of them cannot match, and a substring test is far cheaper than
    running the expression. None when an alternative starts with syntax whose text
    cannot be known this simply (a class, ``\d``); such cues always run.
    """
    prefixes: list[str] = []
    for branch in _split_alternatives(source):
        found = _branch_prefixes(branch)
        if found is None:
            return None
        prefixes.extend(found)
    return tuple(prefixes)


@dataclass(frozen=True, slots=True)
class _Cue:
    """One weighted pattern, kept as source text until first used."""

    alternatives: str
    weight: float

    @property
    def source(self) -> str:
        # Every cue is anchored at a word start so "pay" does not fire inside "display",
        # and leaves its own end open or closed, as stems such as "refund\w*" are written.
        return r"\b(?:" + self.alternatives + ")"

    @property
    def pattern(self) -> re.Pattern[str]:
        return _compiled(self.source)

    def first_possible_start(self, text: str) -> int | None:
        """Where the earliest match could start, or None when the text rules one out.

        Running ~250 expressions across a long ticket is what costs time. Every match
        starts with one of the cue's literal prefixes (see ``_prefixes_of``), so a text
        holding none of them cannot match, and no match starts before the first one: a
        few substring searches save most of the scanning.
        """
        prefixes = _prefixes_of(self.alternatives)
        if prefixes is None:
            return 0
        found = [index for prefix in prefixes if (index := text.find(prefix)) != -1]
        return min(found) if found else None


def _cues(*specs: tuple[str, float]) -> tuple[_Cue, ...]:
    return tuple(_Cue(source, weight) for source, weight in specs)


def _flags(*sources: str) -> tuple[_Cue, ...]:
    # Cues whose presence is what matters, not a weight.
    return _cues(*((source, 0.0) for source in sources))


# ---------------------------------------------------------------------------------------
# Category cues. Weights: 3 = names the category on its own, 2 = strong hint,
# 1 or less = weak hint that only matters alongside others.
# ---------------------------------------------------------------------------------------

_BILLING_CUES: Final = _cues(
    (r"invoic\w*|refund\w*|receipts?\b|chargebacks?\b|prorat\w*", 3.0),
    (r"(?:over|double[- ]?|re)?charg(?:e|ed|es|ing)\b|overbill\w*|bill(?:ed|ing|s)?\b", 3.0),
    (r"subscri\w*", 3.0),
    (r"pa(?:y|id|ys|ying|yments?)\b", 2.5),
    (r"(?:sales )?tax(?:es)?\b|vat\b", 2.5),
    (r"overdue|past due|unpaid", 2.5),
    (r"pric\w*|costs?\b|fees?\b|discount\w*|coupons?\b|promo\w*|quotes?\b", 2.0),
    (r"(?:credit|debit) ?cards?\b|declined|checkout|renew\w*", 2.0),
    (r"paypal|stripe|wire\b|bank|iban|sepa\b", 2.0),
    (r"(?:usd|eur|gbp|euros?|dollars?)\b", 2.0),
    (r"po\b|purchase orders?", 2.0),
    (r"money|financ\w*|accounting|accountant|procurement|reimburs\w*|expenses?\b", 1.5),
    (r"cards?\b|credits?\b|trial\w*|purchas\w*|buy\w*|bought|dispute\w*", 1.5),
    (r"licen[cs]\w*|seats?\b|(?:up|down)grad\w*|cancel\w*", 1.5),
    (r"plans?\b|annual\w*|yearly|monthly|tiers?\b", 1.0),
)

_TECHNICAL_CUES: Final = _cues(
    (r"bugs?\b|buggy|crash\w*|freez\w*|froze|glitch\w*", 3.0),
    (r"errors?\b|exceptions?\b|stack ?traces?|tracebacks?", 2.5),
    (r"slow\w*|lag(?:s|gy|ging)?\b|latency|performance|sluggish", 2.5),
    (r"time ?outs?\b|timed? ?out", 2.5),
    (r"outages?|downtime|unreachable|not reachable|unavailable|offline", 2.5),
    (r"integrat\w*|webhooks?|apis?\b|endpoints?|sdks?\b|plugins?\b|connectors?\b", 2.5),
    (r"sync\w*|bad gateway|internal server|servers?\b", 2.5),
    (r"vulnerab\w*|xss\b|injection|exploit\w*|csrf\b|scripts?\b", 2.5),
    # Popular third-party tools only ever come up as integrations in a support desk.
    (r"slack|jira|salesforce|hubspot|zapier|zendesk|outlook|github|shopify", 2.0),
    (r"google (?:calendar|drive|sheets|docs)|microsoft teams", 2.0),
    (r"browsers?|chrome|firefox|safari|android|ios\b|iphone|ipad|linux|windows|mac ?os", 2.0),
    (r"encoding|utf-?8|charset|rate ?limit\w*|too many requests|throttl\w*", 2.0),
    (r"does nothing|nothing happens|unresponsive|spinn\w*|blank\b", 2.0),
    (r"(?:404|429|50[0-4])\b", 2.0),
    (r"database|backups?\b|restor\w*|corrupt\w*|wiped|disappear\w*|vanish\w*", 2.0),
    (r"(?:is|are|was|were) down\b|went down|down for\b|goes down", 2.0),
    (r"broken|not working|(?:doesn'?t|does not|won'?t|didn'?t) (?:work|load|open|save)", 1.5),
    (r"stopped (?:working|arriving|syncing)|fails?\b|failing|failed|failures?", 1.5),
    (r"import\w*|export\w*|upload\w*|download\w*|csv\b|attachments?\b", 1.5),
    (r"load(?:s|ed|ing)?\b|render\w*|memory|cpu\b|ram\b|cache\w*|cookies?\b|dns\b|ssl\b", 1.5),
    (r"data\b|records?\b|missing|lost\b|duplicat\w*", 1.0),
    (r"dashboards?|charts?\b|graphs?\b|reports?\b|search\w*|notifications?\b|widgets?\b", 1.0),
    (r"buttons?\b|links?\b|pages?\b|screens?\b|forms?\b|tooltips?\b|icons?\b|fonts?\b", 1.0),
    (r"layout|css\b|ui\b|colou?rs?\b|align\w*|overlap\w*|truncat\w*|cut off|typos?\b", 1.0),
    (r"shortcuts?\b|versions?\b|releases?\b|deploy\w*|files?\b|pdfs?\b", 1.0),
    (r"app\b|apps\b|application|software|system|platform|site\b|website", 0.5),
)

_ACCOUNT_CUES: Final = _cues(
    (r"log ?(?:in|on)s?\b|logg(?:ed|ing) ?(?:in|on|out)\b|log ?out\b", 3.0),
    (r"sign(?:ed|ing)? ?(?:in|on)\b|sign-in|signin", 3.0),
    (r"pass ?w(?:or|ro)ds?\b|pasword|passwd|passcodes?|credentials?\b", 3.0),
    (r"2fa\b|mfa\b|two[- ]?factor|multi[- ]?factor|authenticator|otp\b|backup codes?", 3.0),
    (r"profiles?\b|user ?names?\b|display names?|avatars?\b|profile pic\w*", 3.0),
    (r"sso\b|saml\b|okta\b|single sign|azure ad|ldap\b|active directory", 2.5),
    (r"permission\w*|privileges?\b|roles?\b|read[- ]only|viewers?\b|editors?\b", 2.5),
    (r"hack\w*|compromis\w*|taken over|took over|not me\b|wasn'?t me|suspicious", 2.5),
    (r"invit\w*|revok\w*|deprovision\w*|former (?:employee|colleague|staff)", 2.5),
    (r"left the company|ownership|impersonat\w*", 2.5),
    (r"access(?:es|ed|ing)?\b|locked|lock ?out|unlock\w*", 2.0),
    (r"blocked|suspended|deactivat\w*", 1.5),
    (r"admins?\b|administrators?|owners?\b|sessions?\b|reset\w*|verif\w*", 1.5),
    (r"sign ?up|signed up|regist\w*|email address|e-mail address|phone number", 1.5),
    (r"accounts?\b", 1.0),
    (r"guests?\b|members?\b|teammates?\b|users?\b", 0.5),
)

_GENERAL_CUES: Final = _cues(
    (r"feature requests?|feature idea|enhancement|roadmap|requests?:", 3.0),
    (r"would (?:love|like|be (?:great|nice|useful|helpful|awesome|good))|nice to have", 3.0),
    (r"it would (?:help|be)|please add|(?:could|can) you (?:please )?add|wish\w*", 3.0),
    (r"suggest\w*|ideas?\b|propos\w*|please consider", 2.5),
    (r"feedback|thanks? (?:you )?(?:for|to)|kudos|great (?:job|work|support|product)", 2.5),
    (r"loves?\b|amazing|please improve|improvements?\b|could be better", 2.5),
    (r"awesome|appreciat\w*|keep (?:it )?up", 2.5),
    (r"follow[- ]?ups?\b|escalat\w*|response times?|call (?:me|us) back|callback", 2.5),
    (r"(?:no ?one|nobody) (?:has )?(?:answer|repl|respond|got back)\w*", 2.5),
    (r"talk to|speak (?:to|with)|who (?:can|should) (?:i|we)", 2.0),
    (r"demo\b|webinars?|training|tutorials?|documentation|manual\b|guides?\b", 2.0),
    (r"best practices?|case stud\w*|partner\w*|sponsor\w*|hiring|jobs?\b|careers?\b", 2.0),
    (r"gdpr|dpa\b|compliance|soc ?2|iso ?27001|hipaa|legal|terms\b|contracts?\b|msa\b", 2.0),
    (r"data residency|retention|stored in|hosted in|privacy polic\w*|policy", 2.0),
    (r"questions?\b|wondering|curious|just (?:wanted|a note)|fyi\b", 2.0),
    (r"complain\w*|unacceptable|disappoint\w*|frustrat\w*|confusing|redesign", 1.5),
    (r"sla\b|uptime|status page|on-?prem\w*|self-?host\w*|mobile app", 1.5),
    (r"hours\b|holidays?\b|christmas|new year|weekends?\b", 1.0),
)

_CATEGORY_CUES: Final[dict[Category, tuple[_Cue, ...]]] = {
    Category.BILLING: _BILLING_CUES,
    Category.TECHNICAL: _TECHNICAL_CUES,
    Category.ACCOUNT: _ACCOUNT_CUES,
    Category.GENERAL: _GENERAL_CUES,
}

# A ticket that reports something going wrong is not a mere question, even when it is
# phrased as one ("why was I charged twice?"); these words tell the two apart.
_PROBLEM: Final = (
    r"\b(?:broken|errors?|fail\w*|not working|doesn'?t|does not|won'?t|didn'?t|"
    r"(?:can'?t|cannot|can not) (?!find)|unable|wrong|incorrect\w*|issues?|problems?|bugs?|"
    r"crash\w*|charged|locked|"
    r"missing|lost|stopped|declined|rejected|denied|never|time ?outs?|timed out|slow\w*|"
    r"delay\w*|don'?t|do not|mismatch\w*|discrepanc\w*|"
    r"not (?:\w+ )?(?:received|arrived|applied|showing|shown|sent|delivered|updated|loading))\b"
)
_QUESTION: Final = (
    r"\?|\b(?:how (?:do|can|to|should|long|much)|is there|are there|do you|does (?:it|your)|"
    r"can (?:i|we|you)|could (?:i|we|you)|where (?:can|do|is|are)|what (?:is|are|happens)|"
    r"which|is it possible|are you|will (?:you|support))\b"
)
_ENQUIRY_GENERAL_BONUS: Final = 2.5
_ENQUIRY_TECHNICAL_FACTOR: Final = 0.3
_TIE_ORDER: Final = (Category.GENERAL, Category.ACCOUNT, Category.BILLING, Category.TECHNICAL)

# The writer ruling a topic out: "not a login problem", "login is fine",
# "I can log in without problems". Deliberately narrow: "can't log in" is a signal, not
# a negation, so bare "not"/"no" before a cue is never treated as ruling it out.
_NEGATED_BEFORE: Final = (
    r"(?:\bnot (?:a|an|the|about|related to)|\bisn'?t (?:a|an|the)|nothing to do with|"
    r"unrelated to|no (?:issues?|problems?) with)\s+(?:\w+\s+)?$|"
    # A past incident named as background ("last week's outage") is not the subject.
    r"(?:last (?:week|month|night|year)'?s?|yesterday'?s|previous|during (?:the|last|that))\s+$"
)
_NEGATED_AFTER: Final = (
    r"^(?:\s+\w+){0,2}?\s*(?:is |are |works? |seems? )?(?:fine|ok|okay|without (?:any )?"
    r"(?:problems?|issues?|trouble))\b"
)
_NEGATION_WINDOW: Final = 30


# ---------------------------------------------------------------------------------------
# Priority cues, on one severity scale where 0 is an ordinary problem (medium). Cues come
# in groups of synonyms and a group counts once, with its strongest cue: "broken, fails,
# error" is one symptom said three ways, not three times as severe.
# ---------------------------------------------------------------------------------------

_VALUABLES: Final = (
    "data|work|files?|records|projects|notes|contacts|history|documents|contracts|"
    "attachments|emails|tickets"
)
_IS_NOW: Final = r"(?:is|are|was|were|has been|have been|got) (?:now )?"
_PEOPLE: Final = "people|users|employees|staff|customers?|clients?|agents|members"

_SEVERITY_GROUPS: Final[dict[str, tuple[_Cue, ...]]] = {
    "service down": _cues(
        (r"outages?|downtime|(?:is|are|was|went|been) (?:completely )?down\b|down for\b", 5.0),
        (r"unreachable|not reachable|service unavailable|bad gateway|(?:502|503)\b", 5.0),
        (r"(?:complete|total|full) (?:outage|failure)|nothing (?:works|loads)", 5.0),
    ),
    "data loss": _cues(
        (r"data loss|corrupt\w*|wiped|erased", 5.0),
        (r"lost (?:all |of )*(?:our |my |the |their )?(?:\w+ )?(?:" + _VALUABLES + r")\b", 5.0),
        (
            r"(?:all|every\w*) (?:\w+ ){0,4}?" + _IS_NOW + r"(?:gone|lost|empty|deleted|missing)\b",
            5.0,
        ),
        (r"(?:is|are|were|was) (?:all )?gone\b|disappear\w*|vanish\w*|overwr\w*", 3.0),
    ),
    "security breach": _cues(
        (r"breach\w*|hacked|compromis\w*|vulnerab\w*|xss\b|exploit\w*|leak\w*|exposed", 5.0),
        (r"taken over|took over|someone (?:else )?(?:logged|got|gained|has access)", 5.0),
        (r"not me\b|wasn'?t me|confidential|someone else'?s", 5.0),
        (r"another (?:company|customer|user)'?s|other (?:people|users|companies)'?s?", 5.0),
        (r"fraud\w*|stolen|steal\w*|attack\w*|unauthori[sz]ed (?!\d)\w+", 3.0),
        (r"suspicious", 1.0),
    ),
    "cannot use it": _cues(
        (r"can(?:'?t|not| not) (?:work|do (?:anything|nothing)|use)|unusable|idle\b", 2.5),
        (r"locked out|can(?:'?t|not| not) (?:access|get (?:in|into)|enter|log ?in|sign ?in)", 2.5),
        (r"can(?:'?t|not| not) login|no access|access denied|suspended|blocked", 2.5),
        (r"(?:completely|at all)\b", 2.0),
        (r"can(?:'?t|not| not) (?!find|see|wait|afford|believe|figure|tell)\w+", 1.5),
        (r"unable to|impossible to|prevent\w* (?:us|me) from", 1.5),
    ),
    "many affected": _cues(
        # "Nobody answered" is a complaint about support, not a count of people affected.
        (r"(?:nobody|no ?one)(?! (?:is |has )?(?:answer|repl|respond|got back))", 2.0),
        (r"none of|every(?:one|body)|entire|whole|all (?:of )?(?:us|our|the)\b", 2.0),
        (r"all (?:(?:our|the|of) )*(?:\w+ )?(?:" + _PEOPLE + r"|projects)\b", 2.0),
        (r"\d{2,} (?:" + _PEOPLE + r")\b", 2.0),
        (r"many (?:users|customers|people)|multiple (?:users|customers|teams)", 2.0),
        (r"production|customers (?:are|were) affected|clients (?:are|were)", 1.5),
    ),
    "important feature": _cues(
        (r"(?:rely|relies|depend|depends) on|core feature|main feature|key feature", 1.0),
        (r"business[- ]critical|critical for|essential", 1.0),
    ),
    "broken": _cues(
        (r"broken|broke\b|stopped (?:working|arriving)|not working|crash\w*", 1.5),
        (r"fails?\b|fail(?:ing|ed)", 1.5),
        (r"errors?\b|does nothing|nothing happens|every (?:time|request|call|report|file)", 1.0),
        (r"(?:doesn'?t|won'?t|didn'?t) (?:work|load|save)|rejected|declined|invalid", 1.0),
    ),
    "urgency": _cues(
        (r"urgent\w*|asap\b|immediately|emergency|right now|critical", 1.0),
    ),
    "deadline": _cues(
        (r"today|tonight|tomorrow|deadline|by (?:monday|tuesday|wednesday|thursday|friday)", 1.0),
        (r"in (?:\d+|an?|one|two) (?:hours?|days?)\b|expires?\b|go-?live|launch", 1.0),
    ),
    "complaint": _cues(
        (r"unacceptable|(?:no ?one|nobody) (?:has )?(?:answer|repl|respond|got back)\w*", 1.5),
        (r"follow[- ]?ups?\b|escalat\w*|no (?:reply|response|answer)", 1.5),
    ),
    "minor": _cues(
        (r"cosmetic|typos?\b|minor|small thing|not a big deal|no rush|not urgent|whenever", -3.0),
        (r"slightly|purely|tiny|nitpick|just (?:wanted|a note|curious|wondering)|curious", -3.0),
    ),
    "request": _cues(
        (
            r"feature requests?|would (?:love|like|be (?:great|nice|useful|helpful))|please add",
            -3.0,
        ),
        (r"it would (?:help|be)|nice to have|suggest\w*|ideas?\b|wish\w*|roadmap", -3.0),
        (r"please (?:consider|improve)|bring (?:it )?back", -3.0),
    ),
    # "Thank you" closes many a bug report, so only praise itself counts here.
    "feedback": _cues(
        (r"thanks? (?:you )?(?:for|to)|kudos|great (?:job|work|support)", -2.5),
        (r"loves?\b|keep (?:it )?up", -2.5),
    ),
    # Wording about looks rather than function: cosmetic, so low.
    "cosmetic": _cues(
        (r"footer|tooltips?|truncat\w*|cut off|misalign\w*|alignment|overlap\w*|fonts?\b", -2.5),
        (r"spacing|padding|pixels?\b|colou?rs?\b|hover|icons?\b|wording|spelling", -2.5),
        (r"broken links?|dead links?|docs\b|documentation", -2.5),
    ),
}

SEVERITY_GROUP_NAMES: Final = tuple(_SEVERITY_GROUPS)

# A partial problem, or one with a workaround, is medium by definition however alarming
# the rest of the wording: these cues clamp the score into the medium band.
_PARTIAL: Final = _flags(
    r"workaround|work around|for now|in the meantime|temporar\w*|eventually|usually works",
    r"still (?:can|able|works?|clickable|usable|possible)(?!'t|not| not)|(?:i|we) can still",
    r"sometimes|occasionally|intermittent\w*|partial\w*|\d+ (?:in|out of) \d+|some of",
    r"(?<!nothing )works(?: fine| ok| well)?(?: (?:in|on|with|for) \w+)?\s*(?:[.!,;)]|$)",
    r"only (?:when|if|for|on|in|the)\b|not blocking|annoying",
    r"(?:fixes|solves|resolves) it|after refresh\w*",
)
_PARTIAL_BAND: Final = (0.0, 2.0)

# One person unable to work is high; many people unable to work is the service being
# unusable, which is critical, so the two groups together score more than their sum.
_EVERYONE_BLOCKED: Final = ("cannot use it", "many affected")
_EVERYONE_BLOCKED_BONUS: Final = 1.0

_CATEGORY_SEVERITY_BASE: Final[dict[Category, float]] = {
    # With no other cue: a bug or an access problem is at least medium, a billing or
    # general ticket is more often a request than an incident.
    Category.BILLING: -0.5,
    Category.TECHNICAL: 0.0,
    Category.ACCOUNT: 0.0,
    Category.GENERAL: -1.5,
}
_QUESTION_SEVERITY: Final = -2.0

_CRITICAL_FROM: Final = 5.0
_HIGH_FROM: Final = 2.5
_LOW_BELOW: Final = -1.5


@dataclass(frozen=True, slots=True)
class CueReading:
    """What the cues found in one ticket, and the answer the rules alone would give."""

    category_scores: dict[Category, float]
    severity: float
    severity_groups: frozenset[str]
    partial: bool
    enquiry: bool
    category: Category
    priority: Priority


def normalise(text: str) -> str:
    """Fold Unicode variants and typographic apostrophes, and lower-case.

    NFKC folds full-width letters and ligatures; curly apostrophes would otherwise break
    every "can't"/"doesn't" pattern.
    """
    text = unicodedata.normalize("NFKC", text)
    return text.replace("\u2019", "'").replace("\u2018", "'").replace("`", "'").lower()


def read_cues(title: str, description: str) -> CueReading:
    """Read the cues of a ticket whose fields are already normalised (``normalise``).

    Only the first ``MAX_TITLE_CHARS`` and ``MAX_DESCRIPTION_CHARS`` are read.
    """
    title = title[:MAX_TITLE_CHARS]
    description = description[:MAX_DESCRIPTION_CHARS]
    enquiry = _is_enquiry(f"{title}\n{description}")
    scores = _category_scores(title, description, enquiry)
    category = _best_category(scores)
    severity, groups, partial = _severity(category, f"{title}.\n{description}")
    return CueReading(
        category_scores=scores,
        severity=severity,
        severity_groups=groups,
        partial=partial,
        enquiry=enquiry,
        category=category,
        priority=_priority_from(severity),
    )


def _category_scores(title: str, description: str, enquiry: bool) -> dict[Category, float]:
    scores = {
        category: _score_fields(cues, title, description)
        for category, cues in _CATEGORY_CUES.items()
    }
    if enquiry:
        # Technical means something is going wrong; a question or a request that reports
        # no problem is about what the product does, which is general. Billing and
        # account questions ("how do I change my plan / my email") keep their topic.
        scores[Category.TECHNICAL] *= _ENQUIRY_TECHNICAL_FACTOR
        scores[Category.GENERAL] += _ENQUIRY_GENERAL_BONUS
    return scores


def _best_category(scores: dict[Category, float]) -> Category:
    best = max(scores.values())
    if best <= 0:
        return Category.GENERAL
    # Ties go to the most specific reading: general first (two topics equally present
    # means neither is clear), then account and billing, whose vocabulary is narrow,
    # before technical, whose "broken"/"not working" accompanies every complaint.
    for category in _TIE_ORDER:
        if scores[category] == best:
            return category
    raise AssertionError("unreachable: some category holds the best score")


def _is_enquiry(text: str) -> bool:
    """A question or a request that reports nothing going wrong."""
    if _compiled(_PROBLEM).search(text):
        return False
    return bool(_compiled(_QUESTION).search(text)) or any(
        _matches(cue, text) for cue in _SEVERITY_GROUPS["request"]
    )


def _score_fields(cues: tuple[_Cue, ...], title: str, description: str) -> float:
    total = 0.0
    for cue in cues:
        if _matches(cue, title):
            total += cue.weight * _TITLE_WEIGHT
        if _matches(cue, description):
            total += cue.weight * _DESCRIPTION_WEIGHT
    return total


def _matches(cue: _Cue, text: str) -> bool:
    """Whether the cue occurs at least once in a way the writer did not rule out."""
    start = cue.first_possible_start(text)
    if start is None:
        return False
    # Scanning from ``start`` is not slicing: ``\b`` and lookbehinds still see what
    # comes before it.
    for match in cue.pattern.finditer(text, start):
        if not _is_ruled_out(text, match.start(), match.end()):
            return True
    return False


def _is_ruled_out(text: str, start: int, end: int) -> bool:
    before = text[max(0, start - _NEGATION_WINDOW) : start]
    after = text[end : end + _NEGATION_WINDOW]
    return bool(
        _compiled(_NEGATED_BEFORE).search(before) or _compiled(_NEGATED_AFTER).search(after)
    )


def _severity(category: Category, text: str) -> tuple[float, frozenset[str], bool]:
    raised = 0.0
    lowered = 0.0
    fired: set[str] = set()
    for group, cues in _SEVERITY_GROUPS.items():
        weights = [cue.weight for cue in cues if _matches(cue, text)]
        if weights:
            fired.add(group)
            strongest = max(weights, key=abs)
            if strongest > 0:
                raised += strongest
            else:
                lowered += strongest
    if fired.issuperset(_EVERYONE_BLOCKED):
        raised += _EVERYONE_BLOCKED_BONUS
    severity = _CATEGORY_SEVERITY_BASE[category] + raised
    partial = any(_matches(cue, text) for cue in _PARTIAL)
    if partial:
        severity = min(max(severity, _PARTIAL_BAND[0]), _PARTIAL_BAND[1])
    if _compiled(_QUESTION).search(text) and not _compiled(_PROBLEM).search(text):
        lowered += _QUESTION_SEVERITY
    return severity + lowered, frozenset(fired), partial


def _priority_from(severity: float) -> Priority:
    if severity >= _CRITICAL_FROM:
        return Priority.CRITICAL
    if severity >= _HIGH_FROM:
        return Priority.HIGH
    if severity < _LOW_BELOW:
        return Priority.LOW
    return Priority.MEDIUM
