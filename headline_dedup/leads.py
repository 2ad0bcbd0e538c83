"""The lead of an article: the first real sentence of its body (pure text rules, French first).

What is skipped before it: blank lines, date lines ("date 2025-01", "Jeudi 30 janvier 2025",
"Publié le 30/01/2025 à 10h00"), bylines and agency signatures ("Par Jean Dupont", "T.Morelli--CPN",
"mpf/ila/ob", "(AFP)"), sub-heads ("- Effet de surprise -") and short labels without a sentence end
("ÉCONOMIE", "Lire aussi"). A date or wire dateline in front of the first paragraph ("date 2025-01 ",
"Paris, 30 jan 2025 (AFP) - ") is cut off. The sentence ends at . ! ? or … (with its closing quotes or
guillemets, « ... . » included) when another sentence starts after it, never after an abbreviation (M., Mme,
J.-C.) or an initial.
"""
from __future__ import annotations

import re

MAX_LEAD_CHARS = 400  # a longer first sentence is cut at a word boundary and ends with "…"
_LABEL_MAX_WORDS = 5

_SPACE = re.compile(r"\s+")
# Sentence-final punctuation, then closers: » may follow a (non-breaking) space as French typography puts it;
# straight quotes only when attached (after a space a '"' opens the next quotation).
_END = re.compile(r"[.!?…]+(?:\s?»|[\"”’)\]])*")
_OPENERS = "«\"“‘([—–-"
_ABBREVIATIONS = frozenset(
    "m mm mme mmes mlle mlles dr pr me mgr st ste gal gén col cdt lt sgt cf av apr j.-c jc no art chap fig env "
    "vol éd ed coll dir trad janv févr fév avr juil sept oct nov déc".split())

_MONTHS = ("janvier janv jan février févr fév fev mars mar avril avr mai juin juillet juil août aout septembre "
           "sept sep octobre oct novembre nov décembre déc dec january february march april may june july august "
           "september october november december feb aug")
_DATE_WORDS = frozenset((_MONTHS + " lundi mardi mercredi jeudi vendredi samedi dimanche date le du à a h min t z "
                         "utc gmt cet cest publié publiée mis mise modifié modifiée jour updated published posted "
                         "am pm er heure heures").split())
_DATE_LINE_MAX = 80
_NUMERIC_DATE = r"(?:\d{4}-\d\d(?:-\d\d)?(?:[T ]\d\d:\d\d(?::\d\d)?Z?)?|\d{1,2}[/.]\d{1,2}[/.]\d{2,4})"
_DATE_PREFIX = re.compile(r"^(?:(?:date|publiée?\s+le|mis\s+à\s+jour\s+le)\s*:?\s*)?" + _NUMERIC_DATE
                          + r"\s*[-–—:|•]?\s+(?=\S)", re.IGNORECASE)
_AGENCIES = r"(?:AFP|Reuters|AP|ATS|Belga|APS|ANSA|DPA|Relaxnews)"
_DATELINE = re.compile(r"^[^()\n]{0,80}\(" + _AGENCIES + r"\)\s*[-–—]\s*(?=\S)")
_BYLINES = (
    re.compile(r"^\S.{0,60}--[A-Z]{2,6}$"),  # AFP signature: T.Morelli--CPN
    re.compile(r"^[a-z]{2,5}(?:-[a-z]{2,5})*(?:/[a-z]{2,5}(?:-[a-z]{2,5})*)+$"),  # desk initials: mpf/ila/ob
    re.compile(r"^[(©\s]*(?:avec\s+)?" + _AGENCIES + r"[)\s.]*$", re.IGNORECASE),  # (AFP), © Reuters, avec AFP
    re.compile(r"^(?:par|by|de notre (?:envoyée?|correspondante?)(?: spéciale?)?)\s+\S[^.!?]{0,60}$",
               re.IGNORECASE),  # Par Jean Dupont (a short line that ends no sentence)
)
_SUBHEAD = re.compile(r"^-\s+.*\S\s+-$")


def lead_sentence(body: str | None) -> str | None:
    """The first real sentence of `body` (whitespace collapsed), or None when it has none."""
    if not body:
        return None
    lines = [_SPACE.sub(" ", line).strip() for line in body.splitlines()]
    for n, line in enumerate(lines):
        wrapped = n + 1 < len(lines) and lines[n + 1][:1].islower()
        if not line or is_date_line(line) or is_byline(line) or is_subhead(line) or (
                _is_label(line) and not wrapped):
            continue
        text = strip_date_prefix(line)
        # A paragraph hard-wrapped over several lines: its sentence goes on where the next line starts lower case.
        for nxt in lines[n + 1:]:
            if _first_end(text) is not None or not nxt or not nxt[0].islower():
                break
            text = f"{text} {nxt}"
        end = _first_end(text)
        return _capped(text[:end] if end is not None else text)
    return None


def is_date_line(line: str) -> bool:
    """A line that only gives a date or time: "date 2025-01", "Jeudi 30 janvier 2025 à 10h00"."""
    if len(line) > _DATE_LINE_MAX:
        return False
    tokens = re.findall(r"[^\W\d_]+|\d+", line.casefold())
    return any(t.isdigit() for t in tokens) and all(t.isdigit() or t in _DATE_WORDS for t in tokens)


def is_byline(line: str) -> bool:
    """An author line or an agency signature."""
    line = line.strip()
    return any(p.match(line) for p in _BYLINES)


def strip_date_prefix(text: str) -> str:
    """`text` without a leading date ("date 2025-01 ", "30/01/2025 - ") or wire dateline ("Paris (AFP) - ")."""
    text = text.strip()
    for prefix in (_DATE_PREFIX, _DATELINE):
        text = prefix.sub("", text, count=1)
    return text


def is_subhead(line: str) -> bool:
    """A sub-head set between dashes, as wire copy writes them: "- Effet de surprise -"."""
    return bool(_SUBHEAD.match(line.strip()))


def _is_label(line: str) -> bool:
    return len(line.split()) <= _LABEL_MAX_WORDS and not _END.search(line)


def _first_end(text: str) -> int | None:
    """The index just past the first sentence end of `text` that another sentence (or the text's end) follows."""
    for m in _END.finditer(text):
        rest = text[m.end():]
        if rest and not rest[0].isspace():
            continue  # "3.5", "T.Morelli", "?!" inside a word: no end here
        after = rest.lstrip()
        if after and not (after[0].isupper() or after[0].isdigit() or after[0] in _OPENERS):
            continue  # « Pourquoi ? », a-t-il dit: the sentence goes on
        if m.group().startswith(".") and not m.group().startswith("..") and _abbreviation(text[:m.start()]):
            continue
        return m.end()
    return None


def _abbreviation(before: str) -> bool:
    word = re.search(r"(\S+)$", before)
    if word is None:
        return False
    w = word.group(1).lstrip("(«\"“").casefold()
    return len(w) == 1 and w.isalpha() or w in _ABBREVIATIONS


def _capped(sentence: str) -> str | None:
    sentence = sentence.strip()
    if not sentence:
        return None
    if len(sentence) <= MAX_LEAD_CHARS:
        return sentence
    cut = sentence.rfind(" ", 0, MAX_LEAD_CHARS)
    return sentence[:cut if cut > 0 else MAX_LEAD_CHARS - 1].rstrip(" ,;:") + "…"
