"""Domain vocabulary: acronyms and English terms expanded into the corpus's French words.

The lexical index only matches words; a question saying "CC", "GDPR" or "fine" must
still meet passages saying "communauté de communes", "RGPD" or "amende".
"""

from __future__ import annotations

import re

from assistant.retrieval.lexical import tokenize

ACRONYMS: dict[str, str] = {
    "cc": "communauté de communes intercommunalité",
    "ca": "communauté d'agglomération intercommunalité",
    "epci": "intercommunalité communauté de communes communauté d'agglomération",
    "interco": "intercommunalité",
    "agglo": "agglomération",
    "dpo": "délégué à la protection des données DPO DPD",
    "dpd": "délégué à la protection des données DPO DPD",
    "délégué à la protection des données": "DPO DPD",
    "délégués à la protection des données": "DPO DPD",
    "population": "habitants",
    "communauté de communes": "intercommunalité",
    "communauté d'agglomération": "intercommunalité",
    "communautés de communes": "intercommunalités",
    "ia": "intelligence artificielle",
    "intelligence artificielle": "IA",
}
ENGLISH: dict[str, str] = {
    "municipality": "commune",
    "municipalities": "communes",
    "town": "commune ville",
    "city": "ville commune",
    "intermunicipal": "intercommunalité",
    "intercommunality": "intercommunalité",
    "inter-municipal": "intercommunalité",
    "local authorities": "collectivités",
    "local authority": "collectivité",
    "local governments": "collectivités",
    "inhabitants": "habitants",
    "department": "département",
    "region": "région",
    "gdpr": "RGPD données personnelles",
    "accessibility": "accessibilité RGAA",
    "open data": "données ouvertes open data",
    "ai act": "IA Act intelligence artificielle",
    "artificial intelligence": "intelligence artificielle IA",
    "ai": "IA intelligence artificielle",
    "responsible digital": "numérique responsable",
    "sustainable digital": "numérique responsable",
    "digital": "numérique",
    "strategy": "stratégie",
    "roadmap": "feuille de route",
    "fine": "amende sanction",
    "fines": "amendes sanctions",
    "penalty": "sanction amende",
    "obligation": "obligation",
    "must": "doivent",
    "threshold": "seuil",
    "cybersecurity": "cybersécurité",
    "survey": "enquête questionnaire",
    "study": "étude",
    "meeting": "réunion plénière",
    "plenary": "plénière réunion",
    "barometer": "baromètre",
    "maturity": "maturité",
    "dematerialisation": "dématérialisation",
    "dematerialization": "dématérialisation",
    "archiving": "archivage",
    "skills": "compétences",
    "data": "données",
    "software vendors": "éditeurs de logiciels",
    "vendors": "éditeurs",
    "support": "accompagnement",
    "statement": "déclaration",
    "declaration": "déclaration",
    "payment": "paiement",
    "online": "en ligne",
    "employees": "agents",
    "staff": "agents",
    "elected": "élus",
    "steps": "étapes",
    "step": "étape",
    "vote": "voter vote",
    "voted": "voté voter",
    "schemes": "dispositifs",
    "members": "membres",
    "member": "membre",
    "private": "privés privé",
    "public": "publics public",
    "partners": "partenaires",
    "partner": "partenaire",
    "partnership": "partenariat",
    "companies": "entreprises",
    "company": "entreprise",
    "providers": "prestataires",
    "provider": "prestataire",
    "operators": "opérateurs",
    "operator": "opérateur",
    "synthesis": "synthèse",
    "thematic": "thématique",
    "report": "compte rendu rapport",
    "training": "formation",
    "needs": "besoins",
    "need": "besoin",
    "funding": "financement",
    "budget": "budget",
    "hosting": "hébergement",
    "storage": "stockage",
    "sovereignty": "souveraineté",
    "interoperability": "interopérabilité",
    "pooling": "mutualisation",
    "shared": "mutualisé partagé",
    "elected officials": "élus",
    "councillors": "élus",
    "mayor": "maire",
    "digital inclusion": "inclusion numérique",
    "digital divide": "fracture numérique",
    "digital illiteracy": "illectronisme",
    "people": "personnes",
    "share": "part",
    "affected": "concernés touchés",
    "cyberattacks": "cyberattaques cyber attaques",
    "cyberattack": "cyberattaque cyber attaque",
    "respondents": "répondants",
    "questionnaire": "questionnaire",
    "difficulties": "difficultés",
    "obstacles": "freins difficultés",
    "governance": "gouvernance",
    "public services": "services publics",
    "accessibility statement": "déclaration d'accessibilité",
    "software": "logiciels",
    "publishers": "éditeurs",
    "tools": "outils",
    "websites": "sites internet",
    "website": "site internet",
    "compliance": "conformité",
    "compliant": "conforme",
    "personal data": "données personnelles",
    "data protection officer": "délégué à la protection des données DPO DPD",
    "third places": "tiers-lieux",
}


def _pattern(words: dict[str, str]) -> re.Pattern:
    keys = sorted(words, key=len, reverse=True)
    return re.compile(r"\b(" + "|".join(re.escape(k) for k in keys) + r")\b", re.IGNORECASE)


_PATTERNS = {
    "fr": (_pattern(ACRONYMS), ACRONYMS),
    "en": (_pattern(ENGLISH | ACRONYMS), ENGLISH | ACRONYMS),
}


def _matches(question: str, language: str) -> dict[str, str]:
    pattern, words = _PATTERNS.get(language, _PATTERNS["fr"])
    return {m.group(1).lower(): words[m.group(1).lower()] for m in pattern.finditer(question)}


def expand_query(question: str, language: str = "fr") -> str:
    """The question followed by the French words its acronyms (and English terms) stand for."""
    extra = " ".join(_matches(question, language).values())
    return f"{question} {extra}" if extra else question


def query_concepts(question: str, language: str = "fr") -> list[frozenset[str]]:
    """The question's concepts, each a set of interchangeable tokens.

    "communauté de communes" and "intercommunalité" form one concept, so a passage is
    not rewarded twice for saying the same thing, nor missed for saying it differently.
    """
    concepts: list[frozenset[str]] = []
    grouped: set[str] = set()
    for key, expansion in _matches(question, language).items():
        concept = frozenset(tokenize(key)) | frozenset(tokenize(expansion))
        if concept:
            concepts.append(concept)
            grouped |= concept
    for token in dict.fromkeys(tokenize(question)):
        if token not in grouped:
            concepts.append(frozenset([token]))
            grouped.add(token)
    return concepts
