"""The seed's system part by part (S1-S12, docs/flagship.md): for each part a scenario of
its own, run on the flagship through `foedus run` and `foedus explain`, with the verdicts
the seed's words call for."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from foedus.cli.main import app

ROOT = Path(__file__).resolve().parents[2]
TREATY = str(ROOT / "examples" / "istanbul_2022.foedus")
GUARANTORS = {"US", "GB", "FR", "CN", "RU", "DE", "TR", "IL"}
# the treaty enters into force on 10 July 2022 (S8, S9)
IN_FORCE = [
    ("f1", "2022-05-01T00:00:00+03:00", "ceasefire", {"by": "RU", "with": "UA"}),
    ("f2", "2022-06-01T09:00:00+03:00", "emergency_lifted", {"country": "UA"}),
    ("f3", "2022-07-03T21:00:00+03:00", "referendum",
     {"country": "UA", "question": "q", "result": "approved"}),
    ("f4", "2022-07-10T12:00:00+03:00", "signature", {"by": "UA"}),
]
ATTACK_AT = "2022-09-01T04:00:00+03:00"


def _log(tmp_path: Path, events: list[tuple[str, str, str, dict[str, str]]]) -> str:
    path = tmp_path / "events.jsonl"
    path.write_text("".join(json.dumps({"id": i, "at": at, "type": t, "fields": f}) + "\n"
                            for i, at, t, f in events), encoding="utf-8")
    return str(path)


def _invoke(*args: str, code: int = 0) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == code, result.output
    return result.output


def _run(tmp_path: Path, events: list[tuple[str, str, str, dict[str, str]]],
         as_of: str) -> dict[str, Any]:
    return json.loads(_invoke("run", TREATY, _log(tmp_path, events), "--as-of", as_of,
                              "--format", "json"))


def _states(data: dict[str, Any], prefix: str = "") -> dict[str, str]:
    return {o["id"]: o["state"] for o in data["obligations"] if o["id"].startswith(prefix)}


def _attack(id: str, aggressor: str, place: str, at: str = ATTACK_AT) -> tuple:
    return (id, at, "armed_attack", {"aggressor": aggressor, "victim": "UA", "place": place})


def _consult(id: str, by: str, at: str) -> tuple:
    return (id, at, "consultations", {"by": by, "with": "UA"})


def test_s1_the_guarantors_are_the_permanent_members_and_four_states(tmp_path: Path) -> None:
    """S1: an attack by a state that guarantees nothing obliges exactly the 8 guarantors."""
    data = _run(tmp_path, [*IN_FORCE, _attack("a1", "BY", "Kyiv_oblast")],
                "2022-09-02T00:00:00+03:00")
    assert {o["obligor"] for o in data["obligations"] if o["clause"] == "consult"} == GUARANTORS


def test_s2_every_promise_is_precise(tmp_path: Path) -> None:
    """S2: each duty has an obligor, an action, a beneficiary, a due time and the words."""
    data = _run(tmp_path, [*IN_FORCE, _attack("a1", "RU", "Kyiv_oblast")],
                "2022-09-02T00:00:00+03:00")
    for o in data["obligations"]:
        if o["kind"] == "obligation":
            assert o["obligor"] and o["action"] and o["beneficiary"] == "UA" and o["due_at"]
            assert o["explanation"]["quotes"]


def test_s3_an_attack_triggers_whoever_the_attacker(tmp_path: Path) -> None:
    """S3: an attack by a guarantor obliges the others; an attack on another state obliges
    no one; an attacker that is neither a party nor a declared state is refused."""
    data = _run(tmp_path, [*IN_FORCE, _attack("a1", "RU", "Kyiv_oblast"),
                           ("a2", ATTACK_AT, "armed_attack",
                            {"aggressor": "RU", "victim": "GB", "place": "Ukraine"})],
                "2022-09-02T00:00:00+03:00")
    assert {o["obligor"] for o in data["obligations"] if o["clause"] == "consult"} == \
        GUARANTORS - {"RU"}
    assert not [o for o in data["obligations"] if o["trigger_event"] == "a2"]
    out = _invoke("run", TREATY, _log(tmp_path, [*IN_FORCE, _attack("a1", "XX", "Kyiv_oblast")]),
                  code=1)
    assert "event-unknown-state" in out


def test_s4_consultations_within_3_days(tmp_path: Path) -> None:
    """S4: US consults within 3 days, GB on day 4: fulfilled and violated, due 4 Sep 04:00."""
    data = _run(tmp_path, [*IN_FORCE, _attack("a1", "RU", "Kyiv_oblast"),
                           _consult("c1", "US", "2022-09-03T20:00:00+03:00"),
                           _consult("c2", "GB", "2022-09-04T05:00:00+03:00")],
                "2022-09-05T00:00:00+03:00")
    states = _states(data, "consult/a1/")
    assert (states["consult/a1/US"], states["consult/a1/GB"]) == ("fulfilled", "violated")
    due = {o["due_at"] for o in data["obligations"] if o["clause"] == "consult"}
    assert due == {"2022-09-04T01:00:00Z"}


def test_s5_support_follows_the_consultations_whatever_the_votes(tmp_path: Path) -> None:
    """S5: US consults and assists within 7 days; FR consults and never assists; DE stays
    silent and still owes support from the end of its 3 days; votes change nothing."""
    events = [*IN_FORCE, _attack("a1", "RU", "Kyiv_oblast"),
              _consult("c1", "US", "2022-09-02T10:00:00+03:00"),
              _consult("c2", "FR", "2022-09-02T11:00:00+03:00"),
              ("s1", "2022-09-05T10:00:00+03:00", "assistance", {"by": "US", "to": "UA"}),
              ("v1", "2022-09-02T12:00:00+03:00", "vote",
               {"by": "GB", "decision": "support", "choice": "no"})]
    data = _run(tmp_path, events, "2022-09-20T00:00:00+03:00")
    states = _states(data)
    assert states["support/consult/a1/US/US"] == "fulfilled"
    assert states["support/consult/a1/FR/FR"] == "violated"
    assert states["support_if_silent/consult/a1/DE/DE"] == "violated"
    due = {o["id"]: o["due_at"] for o in data["obligations"]}
    assert due["support_if_silent/consult/a1/DE/DE"] == "2022-09-11T01:00:00Z"  # 3 + 7 days


def test_s6_neutrality_binds_while_the_guarantees_hold(tmp_path: Path) -> None:
    """S6: joining while the guarantees hold is a violation; once a guarantor's support is
    violated, neutrality is suspended, and `explain` says since when and why."""
    helpers = GUARANTORS - {"RU", "CN"}
    events = [*IN_FORCE, _attack("a1", "RU", "Kyiv_oblast"),
              *(_consult(f"c{p}", p, "2022-09-02T10:00:00+03:00") for p in GUARANTORS - {"RU"}),
              *(("s" + p, "2022-09-03T10:00:00+03:00", "assistance", {"by": p, "to": "UA"})
                for p in helpers),
              ("j1", "2022-09-05T10:00:00+03:00", "join_alliance",
               {"member": "UA", "alliance": "NATO", "kind": "military"}),
              ("j2", "2022-09-20T10:00:00+03:00", "join_alliance",
               {"member": "UA", "alliance": "NATO", "kind": "political"})]
    data = _run(tmp_path, events, "2022-09-30T00:00:00+03:00")
    states = _states(data, "neutrality/")
    assert states == {"neutrality/j1/UA": "violated"}  # CN's support lapses on 9 Sep 10:00
    out = _invoke("explain", TREATY, _log(tmp_path, events), "neutrality",
                  "--as-of", "2022-09-30T00:00:00+03:00")
    assert ("event j2: clause neutrality suspended since 2022-09-09T10:00+03:00 "
            "(violated(support): support/consult/a1/CN/CN)") in out


def test_s7_crimea_is_set_apart_and_russia_bound_not_to_use_force(tmp_path: Path) -> None:
    """S7: an attack on Sevastopol obliges no one to consult and breaks Russia's
    reassurance; Ukraine using force there breaks nothing; `explain` names the carve-out."""
    events = [*IN_FORCE, _attack("a1", "RU", "Sevastopol"),
              ("u1", "2022-09-02T04:00:00+03:00", "use_of_force",
               {"by": "UA", "place": "Crimea"})]
    data = _run(tmp_path, events, "2022-09-10T00:00:00+03:00")
    assert not [o for o in data["obligations"] if o["clause"] == "consult"]
    assert _states(data, "no_force_crimea/") == {"no_force_crimea/a1/RU": "violated"}
    out = _invoke("explain", TREATY, _log(tmp_path, events), "consult",
                  "--as-of", "2022-09-10T00:00:00+03:00")
    assert "event a1: place Sevastopol is within Crimea, which clause consult excludes" in out


def test_s8_the_referendum_after_the_state_of_emergency(tmp_path: Path) -> None:
    """S8: a referendum before the end of the emergency does not count; the treaty is then
    not in force, and an attack obliges no one."""
    early = ("f3", "2022-05-15T21:00:00+03:00", "referendum",
             {"country": "UA", "question": "q", "result": "approved"})
    events = [IN_FORCE[0], early, IN_FORCE[1], IN_FORCE[3], _attack("a1", "RU", "Kyiv_oblast")]
    data = _run(tmp_path, events, "2022-09-02T00:00:00+03:00")
    assert data["treaty_status"] == "not_in_force"
    assert data["conditions"]["referendum"] == "step 2 of 2: waiting for " \
        "referendum(country: UA, result: approved)"
    assert not [o for o in data["obligations"] if o["clause"] == "consult"]


def test_s9_sign_only_once_the_fighting_stops(tmp_path: Path) -> None:
    """S9: a signature before the ceasefire does not count; signed after it, the treaty is
    in force whether the referendum came before or after the signature."""
    early = [("f4", "2022-04-20T12:00:00+03:00", "signature", {"by": "UA"}), *IN_FORCE[:3]]
    assert _run(tmp_path, early, "2022-09-02T00:00:00+03:00")["treaty_status"] == "not_in_force"
    signed_first = [IN_FORCE[0], ("f4", "2022-05-02T00:00:00+03:00", "signature", {"by": "UA"}),
                    IN_FORCE[1], IN_FORCE[2]]
    data = _run(tmp_path, signed_first, "2022-09-02T00:00:00+03:00")
    assert data["treaty_status"] == "in_force"
    assert data["conditions"]["signing"] == "met at 2022-05-02T00:00+03:00 (event f4)"


def test_s10_two_weeks_of_talks(tmp_path: Path) -> None:
    """S10: talks in the window are listed, before the treaty is in force; talks after it,
    or a guarantor's talks with Ukraine rather than among guarantors, are not; nothing is
    owed."""
    events = [("t1", "2022-04-05T11:00:00+03:00", "consultations", {"by": "UA", "with": "RU"}),
              ("t2", "2022-04-13T00:30:00+03:00", "consultations", {"by": "UA", "with": "RU"}),
              ("m1", "2022-03-29T18:00:00+03:00", "multilateral_talks", {"by": "TR", "with": "FR"}),
              ("m2", "2022-04-01T18:00:00+03:00", "multilateral_talks", {"by": "TR", "with": "UA"})]
    data = _run(tmp_path, events, "2022-05-01T00:00:00+03:00")
    assert data["permissions"] == {"multilateral": ["m1"], "talks_with_russia": ["t1"]}
    assert not [o for o in data["obligations"] if o["kind"] == "obligation"]
    table = _invoke("run", TREATY, _log(tmp_path, events), "--as-of", "2022-05-01T00:00:00+03:00")
    assert "Permission multilateral used by m1." in table
    assert "Permission talks_with_russia used by t1." in table


def test_s11_russia_s_commitment_on_kyiv_and_chernihiv(tmp_path: Path) -> None:
    """S11: in force before the treaty, from 30 March: an operation on 29 March breaks
    nothing; an armed attack by Russia on Chernihiv region breaks it; Belarus's does not."""
    events = [("o1", "2022-03-29T20:00:00+03:00", "military_operation",
               {"by": "RU", "place": "Kyiv_oblast"}),
              _attack("a1", "RU", "Chernihiv_oblast", "2022-04-02T04:00:00+03:00"),
              _attack("a2", "BY", "Chernihiv_oblast", "2022-04-03T04:00:00+03:00")]
    data = _run(tmp_path, events, "2022-04-10T00:00:00+03:00")
    assert _states(data, "stop_") == {"stop_chernihiv/a1/RU": "violated",
                                      "stop_kyiv/all": "respected"}


def test_s12_no_military_repression_on_ukraine_s_territory(tmp_path: Path) -> None:
    """S12: military repression by any party, anywhere within Ukraine, is a violation."""
    events = [*IN_FORCE,
              ("r1", "2022-08-01T10:00:00+03:00", "military_repression",
               {"by": "RU", "place": "Sevastopol"}),
              ("r2", "2022-08-02T10:00:00+03:00", "military_repression",
               {"by": "UA", "place": "Kyiv_oblast"})]
    data = _run(tmp_path, events, "2022-08-10T00:00:00+03:00")
    assert _states(data, "no_repression/") == {"no_repression/r1/RU": "violated",
                                               "no_repression/r2/UA": "violated"}


def test_the_readings_not_chosen_run_on_the_same_log() -> None:
    """The alternatives file runs on the scenario and differs where its header says: there,
    neutrality binds whatever the guarantors do, and support is due within the 3 days."""
    log = str(ROOT / "examples" / "istanbul_2022.events.jsonl")
    alternatives = str(ROOT / "examples" / "istanbul_2022.alternatives.foedus")
    as_of = "2022-10-15T00:00:00+03:00"
    chosen = _states(json.loads(_invoke("run", TREATY, log, "--as-of", as_of,
                                        "--format", "json")))
    other = _states(json.loads(_invoke("run", alternatives, log, "--as-of", as_of,
                                       "--format", "json")))
    assert "neutrality/e34/UA" not in chosen and other["neutrality/e34/UA"] == "violated"
    assert other["support_within_3_days/e17/TR"] == "violated"
    assert "support_within_3_days/e17/TR" not in chosen
