"""A question made ready for retrieval: language, conversation context, profile."""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.answering.conditions import asker_figures, kind_of
from assistant.glossary import expand_query
from assistant.language import detect_language, written_out
from assistant.retrieval.lexical import ordinal_digits
from assistant.schemas import Message, Profile

# A question that leans on the conversation: short, or opening with a connective/pronoun.
_BARE_WORDS = 4  # a question this short names too little to stand alone
_FOLLOW_UP = re.compile(
    r"^(et|mais|alors|donc|aussi|and|but|so|what about|et si|dans ce cas|"
    r"pour (eux|elles|ça|cela))\b"
    r"|\b(il|elle|ils|elles|ça|cela|celle-ci|celui-ci|ceux-ci|leur|lequel|laquelle|"
    r"it|they|them|its|their|this one|he|she|him|her|his)\b",
    re.IGNORECASE,
)

# Questions that ask what several documents say: answered wider, from several documents.
_ACROSS_DOCUMENTS = re.compile(
    r"(les documents|les docs\b|différents documents|plusieurs documents|le corpus|croise|synthèse|"
    r"synthétise|panorama|état des lieux|selon les|across|the documents|overview)",
    re.IGNORECASE,
)


# Questions that set sources side by side: "entre l'étude de 2017 et le Flash", "compare".
_COMPARES = re.compile(
    r"\b(?:entre\b.+\bet\b|compar\w*|différences?|versus|vs\b|par rapport (?:à|au|aux)|"
    r"between\b.+\band\b|both)",
    re.IGNORECASE,
)


def asks_to_compare(question: str) -> bool:
    """True for a question that compares sources or asks what several of them say."""
    return bool(_COMPARES.search(question)) or asks_across_documents(question)


def asks_across_documents(question: str) -> bool:
    """True for a question about what several documents say (a synthesis)."""
    return bool(_ACROSS_DOCUMENTS.search(question))


@dataclass
class Query:
    """What the retriever and the answerers work from."""

    question: str  # as asked
    language: str
    context: str = ""  # the topic carried over from earlier turns, "" for a standalone question
    profile: Profile | None = None
    brief: bool = False  # facilitator brief: statements grouped by speaker
    recalled: str = ""  # the start of the previous answer: what "it", "the next one" refer to
    documents: tuple[str, ...] = ()  # the documents a comparing question names, to quote each
    resolved: bool = False  # "la suivante" was resolved into `context` ("la troisième …")
    said: str = ""  # the previous answer, when the question asks what else there is

    @property
    def own(self) -> str:
        """The question's own words; without "la suivante" once `context` says which it is."""
        if not self.resolved:
            return self.question
        return " ".join(_NEXT_ONE.sub(" ", self.question).split())

    @property
    def text(self) -> str:
        """The standalone question: the question with the conversation's topic."""
        return f"{self.question} {self.context}".strip()

    @property
    def lexical(self) -> str:
        """What BM25 reads: acronyms expanded, and the question weighing more than the context."""
        question = expand_query(self.own, self.language)
        if not self.context:
            return question
        context = expand_query(f"{self.context} {self.recalled}", self.language)
        return f"{question} {question} {context}"


def is_follow_up(question: str) -> bool:
    """True for a question that only makes sense with the conversation: it goes on from it
    ("et…", "mais…"), points back to it ("il", "cela", "they"), or names too little to
    stand alone ("Quelle sanction ?")."""
    return len(question.split()) <= _BARE_WORDS or bool(_FOLLOW_UP.search(question))


# What a verdict asks when the answer depends on a figure or a kind the asker did not give.
MISSING_QUESTION = {
    "fr": {
        "population": "Combien d'habitants compte-t-elle ?",
        "agents": "Combien d'agents emploie-t-elle ?",
        "kind": "De quel type de collectivité s'agit-il ?",
    },
    "en": {
        "population": "How many inhabitants does it have?",
        "agents": "How many staff does it employ?",
        "kind": "What kind of collectivity is it?",
    },
}
# A reply giving what the assistant asked in a few words: « 2500 », « environ 12 000 hab »,
# « on a 70 000 habitants », « une communauté de communes », "a commune of about 4,000".
_FIGURE = re.compile(r"\d+(?:[\s\u00a0\u202f.,]\d{3})*")
_SHORT_REPLY = 8  # words: a longer reply is a question of its own


def _answered(
    question: str, history: list[Message], profile: Profile | None
) -> tuple[str, Profile] | None:
    """The question a short reply answers, and the asker's profile completed with what the
    reply gives, when the assistant's last message asked for it (« Combien d'habitants
    compte-t-elle ? » → « on a 2500 habitants »; « De quel type de collectivité
    s'agit-il ? » → « une commune »): the question is asked again as it was, by that
    collectivity. Replies to several such questions in a row add up."""
    users = [n for n, m in enumerate(history) if m.role == "user"]
    if len(question.split()) > _SHORT_REPLY or not users or history[-1].role != "assistant":
        return None
    asked = {
        missing
        for questions in MISSING_QUESTION.values()
        for missing, wording in questions.items()
        if wording in history[-1].content
    }
    given: dict[str, object] = {}
    figures = _FIGURE.findall(question)
    size = next((s for s in ("population", "agents") if s in asked), None)
    named = asker_figures(question)  # « 8 000 habitants et 40 agents »: each by its unit
    if size and named:
        given.update(named)
    elif size and len(figures) == 1:
        given[size] = int(re.sub(r"\D", "", figures[0]))
    kind = kind_of(question) if "kind" in asked else None
    if kind and kind != "collectivité":
        given["kind"] = kind
    if not given:
        return None
    last = users[-1]
    earlier = _answered(history[last].content, history[:last], profile)
    asked, known = earlier or (history[last].content, profile or Profile())
    return asked, known.model_copy(update=given)


def build_query(
    question: str, history: list[Message], profile: Profile | None = None, brief: bool = False
) -> Query:
    """The query for a question asked after `history`; a short reply giving the figure or
    the kind of collectivity the assistant asked for asks the question again with it in the
    profile. Chat spellings (« c koi », « pk ») are written out first."""
    question = written_out(question)
    history = [
        m.model_copy(update={"content": written_out(m.content)}) if m.role == "user" else m
        for m in history
    ]
    answered = _answered(question, history, profile)
    if answered is not None:
        asked, sized = answered
        return Query(asked, detect_language(asked), "", sized, brief)
    previous = [m.content for m in history if m.role == "user"]
    if not previous or not is_follow_up(question):
        return Query(question, detect_language(question), "", profile, brief)
    answers = [m.content for m in history if m.role == "assistant"]
    recalled = _gist(answers[-1]) if answers and history[-1].role == "assistant" else ""
    language = detect_language(question)
    if _NEXT_ONE.search(question):
        following = next_in_sequence(previous[-1], detect_language(previous[-1]))
        if following != previous[-1]:
            # "Et la suivante ?" after "la deuxième plénière" is about the third one; the
            # previous answer describes the second, so it no longer says what "it" is.
            return Query(question, language, following, profile, brief, resolved=True)
    said = answers[-1] if recalled and _ELSE.search(question) else ""
    return Query(question, language, previous[-1], profile, brief, recalled, said=said)


# « Qu'a-t-il dit d'autre ? », « quoi d'autre », "what else": asks for what was not said yet.
_ELSE = re.compile(r"\b(?:d['’]autres?|autre chose|else|other)\b", re.IGNORECASE)


# "Et la suivante ?", "la prochaine", "the next one": the item after the one just discussed.
_NEXT_ONE = re.compile(r"\b(?:suivante?s?|prochaine?s?|next|following)\b", re.IGNORECASE)
_ORDINAL = re.compile(
    r"\b(?P<digit>\d{1,2})(?:e|ème|eme|er|re|ère|nd|nde|st|rd|th)\b", re.IGNORECASE
)
_WORD = re.compile(r"\b\w+\b")  # "deuxième" as well as "2e"


def next_in_sequence(text: str, language: str = "fr") -> str:
    """The text with its first ordinal moved one step on ("deuxième" → "3e").

    The text comes back unchanged when it holds no ordinal. Spelled ordinals are read by
    text2num; the next one is written in digits ("3e", "3rd"), which the tokenizer reads
    as the documents' "troisième", "3e" or "3°".
    """
    for word in _WORD.finditer(text):
        match = _ORDINAL.fullmatch(ordinal_digits(word.group(0).lower()))
        if match is not None:
            following = _spelled(int(match.group("digit")) + 1, language)
            return f"{text[: word.start()]}{following}{text[word.end() :]}"
    return text


def _spelled(rank: int, language: str) -> str:
    if language != "en":
        return f"{rank}e"
    suffix = {1: "st", 2: "nd", 3: "rd"}.get(rank % 10 if rank % 100 not in (11, 12, 13) else 0)
    return f"{rank}{suffix or 'th'}"


_MARKER = re.compile(r"\[\d+\]")
_LEAD_IN = re.compile(r"^(?:d'après les documents|according to the documents[^:]*)\s*:", re.I)
_REFUSAL = re.compile(
    r"^(?:je n'ai pas trouvé de réponse directe|i found no direct answer|"
    r"le corpus ne permet pas|the corpus does not answer)",  # and the wording of earlier versions
    re.I,
)
_GIST_WORDS = 40


def _gist(answer: str) -> str:
    """The first words of an earlier answer, without markers; nothing for a refusal."""
    text = " ".join(_MARKER.sub(" ", answer).split())
    if _REFUSAL.match(text):
        return ""
    text = _LEAD_IN.sub("", text).strip(" -")
    return " ".join(text.split()[:_GIST_WORDS])
