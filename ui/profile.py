"""The collectivity asking (kind, population, and agents when the library takes them): set
in one place above the tabs, read by the chat and by « Mes obligations », kept for the
session."""

from __future__ import annotations

import json
from dataclasses import dataclass

import gradio as gr

from assistant.answering.conditions import KINDS
from assistant.schemas import Profile

ANY_KIND = "(non précisé)"
PROFILE_KINDS = [ANY_KIND] + [kind for kind, _ in KINDS if kind != "collectivité"]
# The number of agents joins the profile once the library's Profile holds it.
TAKES_AGENTS = "agents" in Profile.model_fields


@dataclass
class ProfileControls:
    """The profile's components; `inputs` is what an event passes to `profile_of`."""

    kind: gr.Dropdown
    population: gr.Number
    agents: gr.Number | None = None

    @property
    def inputs(self) -> list[gr.components.Component]:
        return [c for c in (self.kind, self.population, self.agents) if c is not None]


def profile_controls() -> ProfileControls:
    """The profile's row of fields (to be built once, above the tabs)."""
    with gr.Row(elem_id="profile", equal_height=True):
        kind = gr.Dropdown(
            PROFILE_KINDS,
            value=ANY_KIND,
            label="Votre collectivité",
            elem_id="profile-kind",
            min_width=190,
            scale=2,
        )
        population = gr.Number(
            None,
            label="Population (habitants)",
            placeholder="non renseignée",
            precision=0,
            minimum=0,
            elem_id="population",
            min_width=140,
            scale=1,
        )
        agents = None
        if TAKES_AGENTS:
            agents = gr.Number(
                None,
                label="Agents",
                placeholder="non renseigné",
                precision=0,
                minimum=0,
                elem_id="agents",
                min_width=140,
                scale=1,
            )
    return ProfileControls(kind, population, agents)


def remember_profile(blocks: gr.Blocks, profile: ProfileControls) -> None:
    """Keep the profile in the browser (localStorage) for the session: a reload or a new
    tab of the page finds it set. Both directions run in the page (no round trip to the
    server), so what is stored always follows the fields, whatever the server's load. The
    load event also writes an empty population as empty (Gradio shows None as "0" otherwise,
    #6728)."""
    stored = gr.BrowserState([ANY_KIND, None, None], storage_key="assistant-profile")
    count = len(profile.inputs)

    kinds = json.dumps(PROFILE_KINDS, ensure_ascii=False)
    restore = f"""(stored) => {{
        const values = [...(Array.isArray(stored) ? stored : []), null, null, null];
        const kind = {kinds}.includes(values[0]) ? values[0] : {json.dumps(ANY_KIND)};
        return [kind, ...values.slice(1, {count})];
    }}"""
    blocks.load(None, [stored], profile.inputs, js=restore)
    for field in profile.inputs:
        field.change(
            None, profile.inputs, stored, js="(...values) => [values]", show_progress="hidden"
        )


def profile_of(
    kind: str | None, population: float | None, agents: float | None = None
) -> Profile | None:
    """The library's Profile from the fields' values (None when nothing is set)."""
    values = {
        "kind": None if not kind or kind == ANY_KIND else kind,
        "population": int(population) if population else None,
    }
    if TAKES_AGENTS:
        values["agents"] = int(agents) if agents else None
    return Profile(**values) if any(v is not None for v in values.values()) else None
