"""Builders for checked treaties and event logs, so engine tests read like the treaty text."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from foedus.engine.monitor import Monitor
from foedus.events import Event
from foedus.language import model as m

K = m.FieldKind
KYIV = timezone(timedelta(hours=3))
T0 = datetime(2022, 3, 29, 10, 0, tzinfo=KYIV)
GUARANTORS = ("US", "GB", "FR", "CN", "RU", "DE", "TR", "IL", "PL")
PARTIES = ("UA", *GUARANTORS)
STATES = ("BY", "KP")  # states that are not parties


def at(hours: float = 0, days: float = 0) -> datetime:
    """T0 plus an offset."""
    return T0 + timedelta(hours=hours, days=days)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def fld(name: str, kind: m.FieldKind, *options: str) -> m.FieldDecl:
    return m.FieldDecl(name, m.FieldType(kind, options))


EVENTS = (
    m.EventType("armed_attack", (fld("aggressor", K.PARTY), fld("victim", K.PARTY),
                                 fld("place", K.TERRITORY)), "aggressor"),
    m.EventType("consultations", (fld("by", K.PARTY), fld("with", K.PARTY)), "by"),
    m.EventType("assistance", (fld("by", K.PARTY), fld("to", K.PARTY)), "by"),
    m.EventType("join_alliance", (fld("member", K.PARTY), fld("alliance", K.TEXT),
                                  fld("kind", K.ENUM, "military", "political")), "member"),
    m.EventType("vote", (fld("by", K.PARTY), fld("decision", K.TEXT),
                         fld("choice", K.ENUM, "yes", "no", "abstain")), "by"),
    m.EventType("ceasefire", (), None),
    m.EventType("emergency_ends", (), None),
    m.EventType("referendum", (fld("result", K.ENUM, "yes", "no"),), None),
    m.EventType("signature", (fld("by", K.PARTY),), "by"),
    m.EventType("suspend", (), None),
    m.EventType("resume", (), None),
    m.EventType("denounce", (fld("by", K.PARTY),), "by"),
    m.EventType("report", (fld("by", K.PARTY), fld("size", K.NUMBER)), "by"),
    # a state field: the intruder may be a state that is not a party (the actor is the
    # first party field, as the checker has it)
    m.EventType("incursion", (fld("intruder", K.STATE), fld("victim", K.PARTY),
                              fld("place", K.TERRITORY)), "victim"),
    # what other logs call an attack, a consultation or a ceasefire
    m.EventType("military_operation", (fld("by", K.PARTY), fld("victim", K.PARTY),
                                       fld("place", K.TERRITORY)), "by"),
    m.EventType("talks", (fld("by", K.PARTY), fld("with", K.PARTY)), "by"),
    m.EventType("armistice", (), None),
)

GUARANTOR = m.RoleSet("guarantor", GUARANTORS)
ROLE_UA = m.RoleSet("UA", ("UA",))


def party(code: str) -> m.Const:
    return m.Const(K.PARTY, code)


def state(code: str) -> m.Const:
    """A state that is not a party (a party is ``party(code)`` wherever it is written)."""
    return m.Const(K.STATE, code)


def terr(name: str) -> m.Const:
    return m.Const(K.TERRITORY, name)


def ref(binding: str, field: str, kind: m.FieldKind = K.PARTY) -> m.Ref:
    return m.Ref(binding, field, kind)


def c(field: str, value: m.Value, op: m.Op = m.Op.EQ) -> m.Constraint:
    return m.Constraint(field, op, value)


def pat(events: str, *constraints: m.Constraint) -> m.Pattern:
    """A pattern over one event type, or several: ``pat("talks | consultations")``."""
    first, *others = (e.strip() for e in events.split("|"))
    return m.Pattern(first, tuple(constraints), alternatives=tuple(others))


def when(pattern: m.Pattern, binding: str | None = None, guard: m.Guard | None = None) -> m.Trigger:
    return m.Trigger(m.TriggerKind.EVENT, binding, pattern, None, guard)


def on(kind: str, clause: str, binding: str | None = None) -> m.Trigger:
    return m.Trigger(m.TriggerKind(kind), binding, None, clause)


def each(among: m.RoleSet = GUARANTOR, *exceptions: m.Value) -> m.Obligors:
    return m.Obligors(m.Quantifier.EACH, 1, among, tuple(exceptions))


def anyof(among: m.RoleSet = GUARANTOR, *exceptions: m.Value) -> m.Obligors:
    return m.Obligors(m.Quantifier.ANY, 1, among, tuple(exceptions))


def atleast(k: int, among: m.RoleSet = GUARANTOR, *exceptions: m.Value) -> m.Obligors:
    return m.Obligors(m.Quantifier.AT_LEAST, k, among, tuple(exceptions))


def single(code: str) -> m.Obligors:
    return m.Obligors(m.Quantifier.EACH, 1, m.RoleSet(code, (code,)))


def within(amount: int, unit: str = "days", zone: str = "UTC", anchor: str | None = None,
           calendar: str | None = None) -> m.Deadline:
    return m.Deadline(m.DeadlineKind.WITHIN, m.Duration(amount, m.Unit(unit)), anchor,
                      zone=zone, calendar=calendar)


def by_date(moment: datetime) -> m.Deadline:
    return m.Deadline(m.DeadlineKind.AT, at=moment)


def end_of_day(days: int = 0, zone: str = "UTC", anchor: str | None = None) -> m.Deadline:
    """`by end of day N after X`, in ``zone``."""
    return m.Deadline(m.DeadlineKind.END_OF_DAY, m.Duration(days, m.Unit.DAYS), anchor,
                      zone=zone)


def calendar(name: str, zone: str, holidays: tuple[date, ...] = (),
             workdays: tuple[int, ...] = (0, 1, 2, 3, 4)) -> m.Calendar:
    """A business calendar: working weekdays (0 = Monday) minus holidays, in ``zone``."""
    return m.Calendar(name, zone, workdays, holidays)


def compare(left: m.Value, op: m.Op, right: m.Value) -> m.Compare:
    """A guard comparison: ``left op right``."""
    return m.Compare(left, op, right)


def clause(cid: str, body: m.Body, standalone: bool = False, quote: str = "") -> m.Clause:
    kinds = {
        m.Obligation: m.ClauseKind.OBLIGATION,
        m.Prohibition: m.ClauseKind.PROHIBITION,
        m.Permission: m.ClauseKind.PERMISSION,
        m.Decision: m.ClauseKind.DECISION,
        m.Condition: m.ClauseKind.CONDITION,
    }
    quotes = (quote,) if quote else ()
    return m.Clause(cid, cid.replace("_", " "), quotes, kinds[type(body)], body, standalone)


def obligation(cid: str, trigger: m.Trigger | None, obligors: m.Obligors, action: m.Pattern,
               deadline: m.Deadline, beneficiary: m.Value | None = None,
               standalone: bool = False) -> m.Clause:
    return clause(cid, m.Obligation(trigger, obligors, action, beneficiary, deadline), standalone)


def prohibition(cid: str, obligors: m.Obligors, action: m.Pattern,
                window: m.Window = m.Window(), trigger: m.Trigger | None = None,  # noqa: B008
                deadline: m.Deadline | None = None, standalone: bool = False) -> m.Clause:
    return clause(cid, m.Prohibition(trigger, obligors, action, None, window, deadline),
                  standalone)


def permission(cid: str, obligors: m.Obligors, action: m.Pattern,
               window: m.Window = m.Window(), standalone: bool = False) -> m.Clause:  # noqa: B008
    return clause(cid, m.Permission(obligors, action, window), standalone)


def decision(cid: str, trigger: m.Trigger, voters: m.Obligors, rule: m.Rule,
             deadline: m.Deadline, standalone: bool = False) -> m.Clause:
    return clause(cid, m.Decision(trigger, voters, rule, deadline, "vote"), standalone)


def condition(cid: str, effect: str, *steps: tuple[m.Pattern, ...]) -> m.Clause:
    return clause(cid, m.Condition(m.ConditionEffect(effect), tuple(steps)))


def treaty(*clauses: m.Clause, calendars: tuple[m.Calendar, ...] = (),
           zone: str = "Europe/Kyiv") -> m.Treaty:
    """A test treaty; times in results are shown in Kyiv, as T0 is written."""
    return m.Treaty(
        name="test",
        title="Test treaty",
        parties=tuple(m.Party(p, p, ("guarantor",) if p != "UA" else ("guaranteed",))
                      for p in PARTIES),
        roles=(GUARANTOR,),
        groups=(),
        territories=(
            m.Territory("Ukraine", "Ukraine", None),
            m.Territory("Crimea", "Crimea", "Ukraine"),
            m.Territory("Sevastopol", "Sevastopol", "Crimea"),
            m.Territory("Kyiv", "Kyiv", "Ukraine"),
            m.Territory("Poland", "Poland", None),
        ),
        events=EVENTS,
        calendars=calendars,
        clauses=tuple(clauses),
        zone=zone,
        states=tuple(m.State(code, code) for code in STATES),
    )


def ev(id: str, when_at: datetime, type: str, **fields: Any) -> Event:
    """An event; a field called ``with_`` is stored as ``with``."""
    return Event(id, when_at, type, {k.rstrip("_"): v for k, v in fields.items()})


def attack(id: str, when_at: datetime, aggressor: str = "RU", victim: str = "UA",
           place: str = "Kyiv") -> Event:
    return ev(id, when_at, "armed_attack", aggressor=aggressor, victim=victim, place=place)


def consult(id: str, when_at: datetime, by: str, with_: str = "UA") -> Event:
    return ev(id, when_at, "consultations", by=by, with_=with_)


def vote(id: str, when_at: datetime, by: str, choice: str, decision: str = "decide") -> Event:
    return ev(id, when_at, "vote", by=by, decision=decision, choice=choice)


def three_days() -> m.Clause:
    """The seed's S4: each guarantor except the aggressor consults within 3 days of an attack."""
    return obligation(
        "three_days",
        when(pat("armed_attack", c("victim", party("UA")),
                 c("place", terr("Crimea"), m.Op.NOT_WITHIN)), "attack"),
        each(GUARANTOR, ref("attack", "aggressor")),
        pat("consultations", c("with", ref("attack", "victim"))),
        within(3, "days"),
        beneficiary=ref("attack", "victim"),
    )


def by_status(result: Any) -> dict[str, str]:
    """Instance id -> state."""
    return {o.id: o.state.value for o in result.obligations}


def run(t: m.Treaty, events: list[Event]) -> Monitor:
    """A monitor of ``t`` fed with ``events``."""
    mon = Monitor(t)
    mon.feed_many(events)
    return mon
