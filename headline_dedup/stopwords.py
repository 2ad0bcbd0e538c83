"""Stop words per language, from the maintained `stop-words` package, accent-folded.

The package's lists hold words that carry news (French "état", "droite", "essai" in rugby; English "million",
"interest", "state", "world", "Microsoft"): those are kept as content words.
"""
from __future__ import annotations

from functools import lru_cache

from stop_words import get_stop_words

_PACKAGE_LANGUAGE = {"fr": "french", "en": "english"}
_CONTENT_WORDS = {
    "fr": {"etat", "droite", "force", "essai", "personne", "personnes", "valeur", "nom", "parole", "sujet",
           "piece", "haut", "point", "debut", "dos", "voie", "mot", "nouveau", "nouveaux", "grande", "bon"},
    "en": {"interest", "interests", "state", "states", "world", "billion", "million", "trillion", "thousand",
           "hundred", "microsoft", "netscape", "computer", "research", "system", "problem", "problems", "group",
           "groups", "goods", "member", "members", "results", "resulted", "first", "second", "third", "young",
           "younger", "older", "oldest", "novel", "rooms", "website", "webpage", "homepage", "invention", "right",
           "general", "value", "order", "orders", "number", "numbers", "index", "section", "years", "latest",
           "recent", "early", "higher", "highest", "lower", "poor", "large", "small", "great", "greater", "greatest",
           "better", "serious", "clear", "important", "significant", "information", "terms", "place", "places",
           "point", "points", "opening", "opens", "opened", "proud", "welcome", "wells", "turned", "cases", "cause",
           "causes", "effect", "changes", "facts", "areas", "backed", "backing", "downed", "ended", "failing",
           "found", "front", "bottom", "announce", "adopted", "affected", "absent", "abroad", "empty", "downs",
           "faces", "finds", "today", "detail", "brief", "obtain", "obtained", "presents", "present", "shows"},
}


@lru_cache(maxsize=None)
def stop_words(lang: str) -> frozenset[str]:
    """The accent-folded stop words of `lang`, minus the words kept as content."""
    from headline_dedup.normalize import fold_accents

    words = {fold_accents(w.casefold()).strip("'.") for w in get_stop_words(_PACKAGE_LANGUAGE[lang])}
    return frozenset(w for w in words if w and w not in _CONTENT_WORDS[lang])
