"""Headline text -> content tokens.

The pipeline (its version is `NORMALIZATION_VERSION`, stored with every signature):

1. HTML entities decoded, Unicode NFKC, typographic apostrophes unified;
2. wire prefixes ("URGENT -", "VIDEO.", "EN DIRECT |") and trailing short attributions ("(Insee)") removed;
3. casefolded and accent-folded (so "Etats" and "États" meet before stemming);
4. French elisions removed (l', d', qu', jusqu', lorsqu'…);
5. tokenised: words, and numbers kept whole with a decimal point ("0,1%" -> "0.1") and without thousands
   separators ("16 500", "16.500" -> "16500" in French; "16,500" in English);
6. French number words become digits ("trois" -> "3"); aliases applied (longest phrase first: "etats unis" -> "usa");
7. stop words removed (a maintained list, see `stopwords.py`);
8. Snowball-stemmed (PyStemmer); numbers are never stemmed. In French, stems of demonyms ending in
   "-ien"/"-een" lose that ending ("iranien" -> "iran", "ukrainien" -> "ukrain"), which Snowball leaves apart.

A lead segment closed by ". " or " : " is tokenised on its own (an alias never spans its end). When it is short
("Laval. Les avocats…", "Besançon : une fusillade…") it is the headline's *kicker*, a dateline or rubric, and
the number of its tokens is kept, so the verifier can tell "Quimper. Les avocats reconduisent la grève" from
"Laval. Les avocats reconduisent leur grève": regional pages run the same headline for each town.
"""
from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import Stemmer

from headline_dedup.aliases import AliasTable, default_aliases
from headline_dedup.errors import InvalidHeadline
from headline_dedup.stopwords import stop_words

NORMALIZATION_VERSION = "n4"
SUPPORTED_LANGUAGES = {"fr": "french", "en": "english"}
MAX_HEADLINE_CHARS = 1000

# Typographic apostrophes become "'" (a regex: str.translate with a str-valued table costs ten times more).
_APOSTROPHES = re.compile("[\u2019\u2018\u02bc`\u00b4]")
_PREFIX = re.compile(
    r"^(?:(?:urgent|alerte|exclusif|exclusivite|mise a jour|maj|info|infos|breaking|flash|direct|en direct"
    r"|live|video|videos|photo|photos|infographie|carte|cartes|podcast|temoignage|enquete|interview|entretien"
    r"|replay|audio)"
    r"\s*(?:[-:.|/»>\u2013\u2014]+|\s(?=[-:.|]))\s*)+"
)
# A trailing parenthesis of at most three words and no digits ("(Insee)", "(Kiev)") is an attribution;
# "(+0,13%)" or "(28-25)" carry the story and stay.
_TRAILING_ATTRIBUTION = re.compile(r"\s*\((?:[^\W\d_]+[ '-]?){1,3}\)\s*$")
_ELISION = re.compile(r"\b(?:jusqu|lorsqu|puisqu|quoiqu|presqu|qu|[cdjlmnst])'")
# Numbers stay whole, with their ordinal suffix ("4e", "1er"); "0,1" and "0.1" meet as "0.1".
# "3 départements" and "trois départements" are the same fact ("un" is an article, "neuf" also means new).
# Digits in groups of three: French writes "16 500" or "16.500" (its decimal mark is the comma), English
# "16,500". Not a date list ("10, 11 et 12 janvier": groups of three only) nor a decimal ("0,1", "2.5").
_GROUPED_DIGITS = {"fr": re.compile(r"(?<![\d.,])\d{1,3}(?:[ .]\d{3})+(?!\d|[.,]\d)"),
                   "en": re.compile(r"(?<![\d.,])\d{1,3}(?:,\d{3})+(?!\d|[.,]\d)")}
_GROUP_HINT = {"fr": re.compile(r"\d[ .]\d{3}"), "en": re.compile(r"\d,\d{3}")}  # what any match contains
_NUMBER_WORDS = {"deux": "2", "trois": "3", "quatre": "4", "cinq": "5", "six": "6", "sept": "7", "huit": "8",
                 "dix": "10", "onze": "11", "douze": "12", "vingt": "20", "trente": "30", "cent": "100",
                 "mille": "1000"}
# A kicker: at most 40 characters without sentence punctuation, closed by ". " or " : " (not "M. Dupont").
_KICKER = re.compile(r"^([^.:!?]{2,40}?)\s*(?:\.\s|\s?:\s)")
KICKER_MAX_TOKENS = 4
_DEMONYM_ENDINGS = ("ien", "een")  # cut from stems of 7 letters or more
_TOKEN = re.compile(r"\d+(?:[.,]\d+)*(?:eme|ere|er|e)?(?![^\W_])|\d+(?:[.,]\d+)*|[^\W\d_]+")


@dataclass(frozen=True, slots=True)
class NormalizedHeadline:
    """The result of normalising one headline: `tokens` are the content tokens in order."""

    text: str  # folded text after prefix removal, before tokenising (exact-duplicate key source)
    tokens: tuple[str, ...]
    lang: str
    kicker: int = 0  # the first `kicker` tokens are the headline's kicker (0: none)

    @property
    def kicker_tokens(self) -> tuple[str, ...]:
        return self.tokens[:self.kicker]

    @property
    def key(self) -> str:
        """Exact-duplicate key: identical for headlines equal after normalisation."""
        return " ".join(self.tokens) if self.tokens else self.text


class _WithoutCombining(dict):
    """A `str.translate` table that drops combining marks, filled a code point at a time as they are met (a
    Python test per character cost more than the rest of the cleaning)."""

    def __missing__(self, code: int) -> int | None:
        kept = self[code] = None if unicodedata.combining(chr(code)) else code
        return kept


_FOLD = _WithoutCombining()


def fold_accents(text: str) -> str:
    """Remove combining marks ("é" -> "e"); ligatures "œ"/"æ" become "oe"/"ae"."""
    text = text.replace("œ", "oe").replace("æ", "ae")
    return unicodedata.normalize("NFD", text).translate(_FOLD)


def clean_text(text: str) -> str:
    """Steps 1-3: entity decoding, NFKC, apostrophes, casefold, accent folding, prefixes and attributions."""
    text = _APOSTROPHES.sub("'", unicodedata.normalize("NFKC", html.unescape(text)))
    text = fold_accents(text.casefold())
    text = " ".join(text.split())
    text = _PREFIX.sub("", text)
    text = _TRAILING_ATTRIBUTION.sub("", text)
    return text.strip()


def validate_text(text: object) -> str:
    """Reject what can never be a headline: non-strings, over-long text, invalid UTF-8."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidHeadline("invalid_utf8", "headline is not valid UTF-8") from exc
    if not isinstance(text, str):
        raise InvalidHeadline("invalid_type", "headline text must be a string")
    if len(text) > MAX_HEADLINE_CHARS:
        raise InvalidHeadline("too_long", f"headline is longer than {MAX_HEADLINE_CHARS} characters")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:  # lone surrogates
        raise InvalidHeadline("invalid_utf8", "headline is not valid UTF-8") from exc
    if "\x00" in text:
        raise InvalidHeadline("invalid_text", "headline contains a NUL character")
    return text


class Normalizer:
    """Turns headlines into content tokens for one alias table; safe to share between threads."""

    def __init__(self, aliases: AliasTable | None = None, cache_size: int = 16384):
        self.aliases = aliases if aliases is not None else default_aliases()
        self._stemmers: dict[str, Stemmer.Stemmer] = {}
        # Feeds repeat themselves (re-sends, re-scrapes, syndication): remember recent results.
        self.normalize = lru_cache(maxsize=cache_size)(self._normalize)

    def _stemmer(self, lang: str) -> Stemmer.Stemmer:
        stemmer = self._stemmers.get(lang)
        if stemmer is None:
            stemmer = self._stemmers[lang] = Stemmer.Stemmer(SUPPORTED_LANGUAGES[lang])
        return stemmer

    def _normalize(self, text: str, lang: str = "fr") -> NormalizedHeadline:
        """Normalise one headline (`normalize` is this, cached). Raises `InvalidHeadline` for bad text or an unsupported language."""
        if lang not in SUPPORTED_LANGUAGES:
            raise InvalidHeadline("unsupported_language", f"language {lang!r} is not one of {sorted(SUPPORTED_LANGUAGES)}")
        cleaned = clean_text(validate_text(text))
        lead = _KICKER.match(cleaned)
        if lead is None:
            return NormalizedHeadline(text=cleaned, tokens=self._tokenize(cleaned, lang), lang=lang)
        kicker = self._tokenize(lead.group(1), lang)
        tokens = kicker + self._tokenize(cleaned[lead.end():], lang)
        size = len(kicker) if len(kicker) <= KICKER_MAX_TOKENS else 0
        return NormalizedHeadline(text=cleaned, tokens=tokens, lang=lang, kicker=size)

    def _tokenize(self, cleaned: str, lang: str) -> tuple[str, ...]:
        """Steps 4-8 on cleaned text."""
        # Both patterns open with a look-around, which makes the regex engine try every position: a cheap test
        # for what any match needs skips them for most headlines.
        if _GROUP_HINT[lang].search(cleaned):
            cleaned = _GROUPED_DIGITS[lang].sub(lambda m: re.sub(r"\D", "", m.group()), cleaned)
        if "'" in cleaned:
            cleaned = _ELISION.sub(" ", cleaned)
        words = _TOKEN.findall(cleaned)
        numbers = _NUMBER_WORDS if lang == "fr" else {}
        words = [w.replace(",", ".") if w[0].isdigit() else numbers.get(w, w) for w in words]
        words = self.aliases.apply(words)
        stops = stop_words(lang)
        content = [w for w in words if w not in stops]
        stemmer = self._stemmer(lang)
        stemmed = stemmer.stemWords([w for w in content if not w[0].isdigit()])
        if lang == "fr":
            stemmed = [w[:-3] if len(w) >= 7 and w.endswith(_DEMONYM_ENDINGS) else w for w in stemmed]
        if len(stemmed) == len(content):  # no numbers among them
            return tuple(stemmed)
        it = iter(stemmed)
        return tuple(w if w[0].isdigit() else next(it) for w in content)


@lru_cache(maxsize=1)
def default_normalizer() -> Normalizer:
    """The normaliser with the bundled alias table."""
    return Normalizer()
