"""The policy engine: checks a text against a `Policy` and returns findings. Pure and fast.

`PolicyEngine(policy)` compiles the policy once; `check(text, network=, advocacy=)` is then
a pure function of its arguments (thread-safe, no I/O, no clock). Offsets index the Python
string (code points), ``text[start:end]``, on the text as given.

How terms match: the text is folded (case, accents: ``É`` -> ``e``, ``ß`` -> ``ss``) with a map
back to the original offsets, cut into tokens (a word; ``@ $ !`` count as letters inside or at
the start of a word so ``sh!t`` and ``@ss`` stay one token), and each token is read through a
light leetspeak table (``0 1 3 4 5 7 @ $ !`` -> ``o i e a s t a s i``). A term is a sequence of
such tokens, so ``risk-free``, ``risk free`` and ``Risk  Free`` are the same term; a token with
a letter run of three or more (``fuuuck``) is also compared with runs collapsed. A match must
contain a letter in the original text (``455`` is not ``ass``). Terms in scripts written
without spaces (Chinese, Japanese, Thai) match as substrings of the folded text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

from groundswell.governance.domain import Finding, Severity
from groundswell.governance.policy import (
    DisclosureRule,
    LinksRule,
    NetworkLimits,
    PatternRule,
    PersonalDataRule,
    Policy,
    TermsRule,
)
from groundswell.triage import find_personal_data

_DIGITS = str.maketrans("013457", "oieast")
_SYMBOLS = {"@": "a", "$": "s", "!": "i"}
_SYMBOL_IN_WORD = re.compile(r"[@$!](?=\w)")
_DIGITS_BYTES = bytes.maketrans(b"013457", b"oieast")
_LEET_DIGIT = re.compile(r"[013457]")
_WORD = re.compile(r"\w+")
_ANY_RUN3 = re.compile(r"(\w)\1\1")
_RUN3 = re.compile(r"([^\W\d_])\1\1")
_RUNS = re.compile(r"(\w)\1+")
# No lookbehinds: a pattern starting with a literal is scanned for fast; what may precede a
# match is checked afterwards.
_URL = re.compile(r"(?i)(?:https?://|www\.)[^\s<>\"'\u201c\u201d]+")
_URL_TRAILING = ".,;:!?)]}'\u2019"
_HASHTAG = re.compile(r"#\w+")
_MENTION = re.compile(r"@\w+")

_PERSONAL_DATA_NAMES = {
    "email": "an e-mail address",
    "phone": "a phone number",
    "payment_card": "a payment card number",
    "iban": "a bank account number (IBAN)",
    "ssn": "a social security number",
    "ip_address": "an IP address",
}

# Words too common to index a phrase by (the phrase is indexed by another of its words).
_COMMON_WORDS = (
    "a an the of to in on at for with and or not no is are be by as it this that "
    "what who you your my our we us under only use until get got all any one more "
    "most very so de la le les du des un une el los las lo y o e en con por para del "
    "der die das den dem ein eine und oder mit von zu im il gli di da do dos em um "
    "uma ta te et het een van op voor"
)
_COMMON = frozenset(_COMMON_WORDS.split())

_SEVERITY_ORDER = {Severity.BLOCK: 0, Severity.WARN: 1, Severity.INFO: 2}


class _FoldTable(dict[int, str]):
    """`str.translate` table folding case and accents, filled one character at a time."""

    def __init__(self) -> None:
        super().__init__()
        self.irregular: set[str] = set()  # characters that do not fold to exactly one

    def __missing__(self, code: int) -> str:
        decomposed = unicodedata.normalize("NFKD", chr(code))
        folded = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
        if len(folded) > 1 and not any(c.isalpha() for c in folded):
            # "…" -> "...", "½" -> "1⁄2": no letters to match, so keep one character for one
            # (and the fast path for the many tweets cut with an ellipsis).
            folded = folded[0]
        if len(folded) != 1:
            self.irregular.add(chr(code))
        if len(self) < 65536:  # bounded: a flood of rare characters cannot grow it forever
            self[code] = folded
        return folded


_FOLD = _FoldTable()


def fold(text: str) -> tuple[str, list[int] | None]:
    """Case- and accent-folded text and, when lengths differ from the original, the original
    offset of every folded character (None: the identity)."""
    if text.isascii():
        return text.lower(), None
    if unicodedata.is_normalized("NFKD", text) and unicodedata.is_normalized("NFC", text):
        # Nothing to decompose (no accents, no ligatures) and no separate combining accents:
        # casefolding alone, which only ever expands (ß -> ss), so equal lengths mean one for
        # one.
        folded = text.casefold()
        if len(folded) == len(text):
            return folded, None
    folded = text.translate(_FOLD)
    if len(folded) == len(text) and _FOLD.irregular.isdisjoint(text):
        return folded, None
    origin: list[int] = []
    for i, ch in enumerate(text):
        origin.extend([i] * len(_FOLD[ord(ch)]))
    return folded, origin


def deleet(folded: str) -> str:
    """Light leetspeak read as letters, one character for one: digits always, ``@ $ !`` only
    where a word goes on after them (``sh!t``, ``@ss``; not ``damn!``)."""
    if "@" in folded or "$" in folded or "!" in folded:
        folded = _SYMBOL_IN_WORD.sub(lambda m: _SYMBOLS[m.group()], folded)
    if _LEET_DIGIT.search(folded) is None:
        return folded
    if folded.isascii():  # bytes.translate is a table lookup; str.translate a dict lookup
        return folded.encode("ascii").translate(_DIGITS_BYTES).decode("ascii")
    return folded.translate(_DIGITS)


def _no_space_script(ch: str) -> bool:
    name = unicodedata.name(ch, "")
    return name.startswith(("CJK", "HIRAGANA", "KATAKANA", "THAI", "LAO", "KHMER", "MYANMAR"))


def _collapse(token: str) -> str:
    return _RUNS.sub(r"\1", token)


def _term_tokens(term: str) -> tuple[tuple[str, ...], bool]:
    """A term as the token sequence it matches and whether its last token is a prefix."""
    prefix = term.rstrip().endswith("*")
    folded, _ = fold(term.strip().rstrip("*").strip())
    return tuple(_WORD.findall(deleet(folded))), prefix


@dataclass(slots=True)
class _Phrase:
    tokens: tuple[str, ...]
    anchor: int  # position of the token the phrase is indexed by (its longest exact one)
    last_is_prefix: bool
    rule: int


@dataclass(slots=True)
class _TermIndex:
    """Every terms-rule of a policy in one index, so that a text is tokenized once and the
    common case (no term anywhere) is decided by set and regex operations in C."""

    words: dict[str, list[int]] = field(default_factory=dict)  # one-token terms
    collapsed: dict[str, list[int]] = field(default_factory=dict)  # same, letter runs collapsed
    prefixes: dict[str, list[int]] = field(default_factory=dict)  # one-token `word*` terms
    phrases: dict[str, list[_Phrase]] = field(default_factory=dict)  # by anchor token
    substrings: list[tuple[str, int]] = field(default_factory=list)  # no-space scripts
    anchors: frozenset[str] = frozenset()
    prefix_tuple: tuple[str, ...] = ()
    stem_gate: re.Pattern[str] | None = None

    def add(self, term: str, rule: int) -> None:
        folded, _ = fold(term.strip().rstrip("*").strip())
        if folded and (_no_space_script(folded[0]) or _no_space_script(folded[-1])):
            self.substrings.append((folded, rule))
            return
        tokens, prefix = _term_tokens(term)
        if not tokens:
            return
        if len(tokens) == 1 and prefix:
            self.prefixes.setdefault(tokens[0], []).append(rule)
        elif len(tokens) == 1:
            self.words.setdefault(tokens[0], []).append(rule)
            self.collapsed.setdefault(_collapse(tokens[0]), []).append(rule)
        else:
            # Index by the longest uncommon token that must match exactly: "what the hell" by
            # "hell", so that common words ("what", "for") do not send every text the slow way.
            exact = range(len(tokens) - 1) if prefix else range(len(tokens))
            anchor = max(exact, key=lambda k: (tokens[k] not in _COMMON, len(tokens[k]), k))
            phrase = _Phrase(tokens, anchor, prefix, rule)
            self.phrases.setdefault(tokens[anchor], []).append(phrase)

    def seal(self) -> None:
        """Build the lookup structures once every term is added."""
        self.anchors = frozenset({*self.words, *self.phrases})
        self.prefix_tuple = tuple(sorted(self.prefixes, key=len, reverse=True))
        # Words joined by spaces, searched for " stem": a literal first character lets the
        # regex engine skip ahead, unlike a lookbehind at every position.
        alternation = "|".join(map(re.escape, self.prefix_tuple))
        self.stem_gate = re.compile(f" (?:{alternation})") if self.prefix_tuple else None

    def matches(self, folded: str) -> Iterable[tuple[int, int, int]]:
        """(rule index, start, end) in folded offsets; several rules may claim one span."""
        leet = deleet(folded)
        words = _WORD.findall(leet)
        # A cheap gate first: `(\w)\1\1` also fires on "000", the exact test only then.
        stretched = _ANY_RUN3.search(folded) is not None and _RUN3.search(folded) is not None
        hits = self.anchors.intersection(words)
        prefixed = self.stem_gate is not None and (
            self.stem_gate.search(" " + " ".join(words)) is not None
        )
        if hits or stretched or prefixed:
            yield from self._token_matches(leet, hits, stretched, prefixed)
        for needle, rule in self.substrings:
            at = folded.find(needle)
            while at >= 0:
                yield rule, at, at + len(needle)
                at = folded.find(needle, at + len(needle))

    def _token_matches(
        self, leet: str, hits: set[str] | frozenset[str], stretched: bool, prefixed: bool
    ) -> Iterable[tuple[int, int, int]]:
        tokens = [(m.start(), m.end(), m.group()) for m in _WORD.finditer(leet)]
        for i, (start, end, token) in enumerate(tokens):
            if prefixed and token.startswith(self.prefix_tuple):
                for stem, rules in self.prefixes.items():
                    if token.startswith(stem):
                        for rule in rules:
                            yield rule, start, end
            if token in hits:
                for rule in self.words.get(token, ()):
                    yield rule, start, end
                for phrase in self.phrases.get(token, ()):
                    first = i - phrase.anchor
                    window = tokens[first : first + len(phrase.tokens)] if first >= 0 else []
                    if len(window) == len(phrase.tokens) and _phrase_fits(phrase, window):
                        yield phrase.rule, window[0][0], window[-1][1]
            elif stretched and _RUN3.search(token):
                collapsed = _collapse(token)
                for rule in self.collapsed.get(collapsed, ()):
                    yield rule, start, end
                for stem, rules in self.prefixes.items():  # "fuuuucking" meets "fuck*"
                    if not token.startswith(stem) and collapsed.startswith(_collapse(stem)):
                        for rule in rules:
                            yield rule, start, end


def _phrase_fits(phrase: _Phrase, window: list[tuple[int, int, str]]) -> bool:
    *exact, last = phrase.tokens
    if any(w[2] != t for w, t in zip(window, exact, strict=False)):
        return False
    return window[-1][2].startswith(last) if phrase.last_is_prefix else window[-1][2] == last


def _link_spans(text: str) -> list[tuple[int, int, str]]:
    """(start, end, host) of every http(s):// or www. link, trailing punctuation excluded."""
    if "ttp" not in text and "TTP" not in text and "ww." not in text and "WW." not in text:
        return []  # the common case, without a case-insensitive scan
    links = []
    for m in _URL.finditer(text):
        if m.start() > 0 and (text[m.start() - 1].isalnum() or text[m.start() - 1] in "_@."):
            continue
        url = m.group().rstrip(_URL_TRAILING)
        rest = url.split("://", 1)[1] if "://" in url else url
        host = re.split(r"[/?#:]", rest, maxsplit=1)[0].lower().rstrip(".")
        host = host.rsplit("@", 1)[-1]  # user:password@host
        links.append((m.start(), m.start() + len(url), host))
    return links


def _domain_allowed(host: str, allowed: tuple[str, ...]) -> bool:
    host = host.removeprefix("www.")
    return any(host == d or host.endswith("." + d) for d in allowed)


_X_WIDE = re.compile("[^\u0000-\u10ff\u2000-\u200d\u2010-\u201f\u2032-\u2037]")


class PolicyEngine:
    """A compiled policy. `check` is pure and safe to call from many threads."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self._terms_rules: list[TermsRule] = []
        self._index = _TermIndex()
        self._patterns: list[tuple[PatternRule, re.Pattern[str]]] = []
        self._personal: list[PersonalDataRule] = []
        self._links: list[tuple[LinksRule, tuple[str, ...]]] = []
        self._disclosures: list[tuple[DisclosureRule, re.Pattern[str]]] = []
        for rule in policy.rules:
            if isinstance(rule, TermsRule):
                for term in rule.terms:
                    self._index.add(term, len(self._terms_rules))
                self._terms_rules.append(rule)
            elif isinstance(rule, PatternRule):
                self._patterns.append((rule, re.compile(rule.pattern, re.IGNORECASE)))
            elif isinstance(rule, PersonalDataRule):
                self._personal.append(rule)
            elif isinstance(rule, LinksRule):
                domains = tuple(
                    d.lower().strip().removeprefix("www.") for d in rule.allowed_domains
                )
                self._links.append((rule, domains))
            else:
                tags = "|".join(re.escape(t.lstrip("#")) for t in rule.tags)
                self._disclosures.append(
                    (rule, re.compile(rf"(?<![\w#])#(?:{tags})(?!\w)", re.IGNORECASE))
                )
        self._index.seal()
        self._personal_allow = [
            {_compact(value) for value in rule.allow} for rule in self._personal
        ]

    @property
    def networks(self) -> tuple[str, ...]:
        return tuple(self.policy.networks)

    def check(
        self, text: str, *, network: str | None = None, advocacy: bool = False
    ) -> list[Finding]:
        """Findings on `text`, sorted by start, then severity (block first), then rule id.

        `network` adds that network's limits (a `KeyError` for a network the policy does not
        define: check `networks` first); `advocacy` marks an employee-advocacy post, which
        must carry a disclosure tag.
        """
        findings: list[Finding] = []
        if self._terms_rules:
            self._check_terms(text, findings)
        for pattern_rule, regex in self._patterns:
            for m in regex.finditer(text):
                if m.end() > m.start():
                    findings.append(
                        _finding(
                            pattern_rule.id,
                            pattern_rule.severity,
                            m.start(),
                            m.end(),
                            pattern_rule.message,
                            text,
                        )
                    )
        if self._personal:
            self._check_personal_data(text, findings)
        links = _link_spans(text) if self._links or network else []
        for links_rule, allowed in self._links:
            for start, end, host in links:
                if not _domain_allowed(host, allowed):
                    findings.append(
                        _finding(
                            links_rule.id,
                            links_rule.severity,
                            start,
                            end,
                            links_rule.message,
                            text,
                            host,
                        )
                    )
        if advocacy:
            for disclosure, regex in self._disclosures:
                if regex.search(text) is None:
                    findings.append(
                        _finding(
                            disclosure.id,
                            disclosure.severity,
                            len(text),
                            len(text),
                            disclosure.message,
                            text,
                        )
                    )
        if network is not None:
            _check_network(network, self.policy.networks[network], text, links, findings)
        findings.sort(key=lambda f: (f.start, _SEVERITY_ORDER[f.severity], f.rule, f.end))
        return findings

    def blocked(self, findings: Iterable[Finding]) -> bool:
        return any(f.severity is Severity.BLOCK for f in findings)

    def _check_terms(self, text: str, findings: list[Finding]) -> None:
        folded, origin = fold(text)
        seen: set[tuple[int, int, int]] = set()
        for rule_index, f_start, f_end in self._index.matches(folded):
            if origin is None:
                start, end = f_start, f_end
            else:
                start, end = origin[f_start], origin[f_end - 1] + 1
            while end < len(text) and unicodedata.combining(text[end]):
                end += 1  # a decomposed accent belongs to the letter before it
            key = (rule_index, start, end)
            if key in seen or not any(ch.isalpha() for ch in text[start:end]):
                continue
            seen.add(key)
        for rule_index, start, end in seen:
            if any(
                r == rule_index and s <= start and end <= e and (s, e) != (start, end)
                for r, s, e in seen
            ):
                continue  # "bitch" inside "son of a bitch": one finding for the longer match
            rule = self._terms_rules[rule_index]
            findings.append(_finding(rule.id, rule.severity, start, end, rule.message, text))

    def _check_personal_data(self, text: str, findings: list[Finding]) -> None:
        spans = find_personal_data(text)
        if not spans:
            return
        for rule, allowed in zip(self._personal, self._personal_allow, strict=True):
            for span in spans:
                value = text[span.start : span.end]
                if _compact(value) in allowed:
                    continue
                severity = rule.types.get(span.type, rule.severity)
                message = rule.message.replace("{type}", _PERSONAL_DATA_NAMES[span.type])
                findings.append(_finding(rule.id, severity, span.start, span.end, message, text))


def _compact(value: str) -> str:
    return re.sub(r"[\s().\-/]", "", value).casefold()


def _finding(
    rule: str,
    severity: Severity,
    start: int,
    end: int,
    message: str,
    text: str,
    match: str | None = None,
) -> Finding:
    shown = text[start:end] if match is None else match
    # model_construct: the engine builds valid values itself; validation would cost a third
    # of a check's time.
    return Finding.model_construct(
        rule=rule,
        severity=severity,
        start=start,
        end=end,
        message=message.replace("{match}", shown),
    )


def _overflow_start(text: str, limits: NetworkLimits, links: list[tuple[int, int, str]]) -> int:
    """Index of the first character past the network's length limit, or -1 when it fits.

    Links count `url_length` each when set; under `x_weighted` wide characters count 2. The
    walk goes from link to link and from wide character to wide character, never one
    character at a time.
    """
    weighted = limits.counting == "x_weighted"
    limit = limits.max_chars
    counted_links = links if limits.url_length is not None else []
    if not counted_links and not weighted:
        return -1 if len(text) <= limit else limit
    if not counted_links and 2 * len(text) <= limit:
        return -1
    total = 0
    position = 0
    for link_start, link_end, _ in [*counted_links, (len(text), len(text), "")]:
        # Plain text up to the link: narrow characters count 1, wide ones 2.
        for wide in _X_WIDE.finditer(text, position, link_start) if weighted else ():
            narrow = wide.start() - position
            if total + narrow > limit:
                return position + (limit - total)
            total += narrow
            if total + 2 > limit:
                return wide.start()
            total += 2
            position = wide.end()
        narrow = link_start - position
        if total + narrow > limit:
            return position + (limit - total)
        total += narrow
        if link_end > link_start:
            total += limits.url_length or 0
            if total > limit:
                return link_start
        position = link_end
    return -1


def _tags(regex: re.Pattern[str], text: str, not_after: str) -> list[tuple[int, int]]:
    """Spans of hashtags or mentions: not inside a word ("a#b") nor after `not_after`."""
    spans = []
    for m in regex.finditer(text):
        before = text[m.start() - 1] if m.start() > 0 else " "
        if not (before.isalnum() or before == "_" or before in not_after):
            spans.append(m.span())
    return spans


def _check_network(
    name: str,
    limits: NetworkLimits,
    text: str,
    links: list[tuple[int, int, str]],
    findings: list[Finding],
) -> None:
    over = _overflow_start(text, limits, links)
    if over >= 0:
        findings.append(
            _finding(
                f"network.{name}.length",
                Severity.BLOCK,
                over,
                len(text),
                f"Too long for {name} (limit {limits.max_chars}): shorten the text by "
                "the highlighted part or split it into a thread.",
                text,
            )
        )

    def too_many(kind: str, spans: list[tuple[int, int]], limit: int | None) -> None:
        if limit is not None and len(spans) > limit:
            findings.append(
                _finding(
                    f"network.{name}.{kind}",
                    Severity.WARN,
                    spans[limit][0],
                    spans[-1][1],
                    f"{len(spans)} {kind} where {name} allows {limit}: remove the "
                    "highlighted ones.",
                    text,
                )
            )

    if limits.max_hashtags is not None and "#" in text:
        too_many("hashtags", _tags(_HASHTAG, text, "#&"), limits.max_hashtags)
    if limits.max_mentions is not None and "@" in text:
        too_many("mentions", _tags(_MENTION, text, "@"), limits.max_mentions)
    too_many("links", [(s, e) for s, e, _ in links], limits.max_links)
    if not limits.links_clickable:
        for start, end, _ in links:
            findings.append(
                _finding(
                    f"network.{name}.links",
                    Severity.INFO,
                    start,
                    end,
                    f"Links are not clickable on {name}: point to the link in your "
                    "profile instead.",
                    text,
                )
            )
