"""Property tests of the formatter on random valid sources with random layout and comments.

The strategy builds every statement and clause kind as a list of tokens, then joins the
tokens with random whitespace, line breaks and comments, so the parser sees the same
program in many layouts.
"""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import foedus.language.parser as parser_module
from foedus.language.parser import parse
from foedus.language.printer import format_source, quote, strip_spans

GRAMMAR = (Path(parser_module.__file__).parent / "grammar.lark").read_text(encoding="utf-8")
KEYWORDS = frozenset(re.findall(r'"([a-z]+)"', GRAMMAR))

SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

Tokens = list[str]

names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,6}", fullmatch=True).filter(
    lambda s: s not in KEYWORDS
)
texts = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r"), max_size=12
).map(quote)
numbers = st.from_regex(r"-?[0-9]{1,4}(\.[0-9]{1,2})?", fullmatch=True)
dates = st.from_regex(
    r"20[0-9]{2}-[01][0-9]-[0-3][0-9](T[0-2][0-9]:[0-5][0-9](:[0-5][0-9](\.[0-9]{1,3})?)?"
    r"(Z|[+-][01][0-9]:[0-5][0-9])?)?",
    fullmatch=True,
)
comment_texts = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"),
    max_size=15,
).map(lambda s: "#" + s)


def opt(strategy: st.SearchStrategy[Tokens]) -> st.SearchStrategy[Tokens]:
    return st.one_of(st.just([]), strategy)


def seq(*parts: st.SearchStrategy[Tokens]) -> st.SearchStrategy[Tokens]:
    return st.tuples(*parts).map(lambda ts: [t for part in ts for t in part])


def lit(*words: str) -> st.SearchStrategy[Tokens]:
    return st.just(list(words))


def tok(strategy: st.SearchStrategy[str]) -> st.SearchStrategy[Tokens]:
    return strategy.map(lambda t: [t])


def comma_list(item: st.SearchStrategy[Tokens], min_size: int = 1) -> st.SearchStrategy[Tokens]:
    def join(items: list[Tokens]) -> Tokens:
        out: Tokens = []
        for i, it in enumerate(items):
            out += ([","] if i else []) + it
        return out

    return st.lists(item, min_size=min_size, max_size=3).map(join)


name = tok(names)
values = st.one_of(name, seq(name, lit("."), name), tok(texts), tok(numbers))
compare_ops = st.sampled_from(["==", "!=", "<=", ">=", "<", ">", "within", "not within"])
arg_ops = st.sampled_from(["", "not within", "not", "within", "==", "!=", "<=", ">=", "<", ">"])
args = st.tuples(name, arg_ops, values).map(lambda t: [*t[0], ":", *t[1].split(), *t[2]])
patterns = seq(name, lit("("), opt(comma_list(args)), lit(")"))

comparisons = st.tuples(values, compare_ops, values).map(lambda t: [*t[0], *t[1].split(), *t[2]])
guards = st.recursive(
    comparisons,
    lambda inner: st.one_of(
        inner.map(lambda g: ["not", *g]),
        inner.map(lambda g: ["(", *g, ")"]),
        st.tuples(inner, st.sampled_from(["and", "or"]), inner).map(lambda t: [*t[0], t[1], *t[2]]),
    ),
    max_leaves=8,
)
verdicts = st.sampled_from(["violated", "fulfilled", "adopted", "rejected"])
triggers = seq(
    lit("when"),
    st.one_of(patterns, seq(tok(verdicts), lit("("), name, lit(")"))),
    opt(seq(lit("as"), name)),
    opt(seq(lit("if"), guards)),
)
exceptions = opt(seq(lit("except"), comma_list(values)))
obligors = st.one_of(
    seq(tok(st.sampled_from(["each", "any"])), name, exceptions),
    seq(lit("at", "least"), tok(numbers), lit("of"), name, exceptions),
    name,
)
UNIT_WORDS = "hour hours day days week weeks month months year years"
units = st.one_of(
    st.sampled_from(UNIT_WORDS.split()).map(lambda u: [u]),
    st.sampled_from([["business", "day"], ["business", "days"]]),
)
zones = opt(seq(lit("in"), tok(texts)))
deadlines = st.one_of(
    seq(
        lit("within"),
        tok(numbers),
        units,
        opt(seq(lit("of"), name)),
        zones,
        opt(seq(lit("calendar"), name)),
    ),
    seq(lit("by", "end", "of", "day"), tok(numbers), lit("after"), name, zones),
    seq(lit("by"), tok(dates)),
)
windows = st.one_of(
    seq(lit("from"), tok(dates), opt(seq(lit("until"), tok(dates)))),
    seq(lit("until"), tok(dates)),
)
beneficiary = opt(seq(lit("for"), values))
rules = st.one_of(
    seq(lit("rule"), tok(st.sampled_from(["unanimity", "majority", "consensus"]))),
    seq(lit("rule"), tok(numbers), lit("/"), tok(numbers), lit("majority")),
    seq(lit("rule", "at", "least"), tok(numbers)),
)
effects = st.sampled_from(["in force", "suspended", "resumes", "terminated"]).map(str.split)
steps = st.lists(patterns, min_size=1, max_size=3).map(
    lambda ps: [t for i, p in enumerate(ps) for t in ([] if i == 0 else ["and"]) + p]
)
bodies = st.one_of(
    seq(opt(triggers), obligors, lit("must"), patterns, beneficiary, deadlines),
    seq(opt(triggers), obligors, lit("must", "not"), patterns, beneficiary, opt(windows)),
    seq(obligors, lit("may"), patterns, opt(windows)),
    seq(triggers, lit("decision", "by"), obligors, rules, lit("votes"), name, deadlines),
    seq(
        lit("treaty"),
        effects,
        lit("after"),
        steps,
        st.lists(seq(lit("then"), steps), max_size=2).map(lambda ss: [t for s in ss for t in s]),
    ),
)
clauses = seq(
    lit("clause"),
    name,
    opt(tok(texts)),
    opt(lit("standalone")),
    st.lists(seq(lit("quote"), tok(texts)), max_size=2).map(lambda qs: [t for q in qs for t in q]),
    bodies,
)
titled = seq(name, opt(tok(texts)))
field_decls = seq(
    name,
    lit(":"),
    st.lists(name, min_size=1, max_size=3).map(
        lambda ns: [t for i, n in enumerate(ns) for t in ([] if i == 0 else ["|"]) + n]
    ),
    opt(lit("actor")),
)
calendar_parts = st.one_of(
    seq(lit("zone"), tok(texts)),
    seq(lit("workdays"), comma_list(name)),
    seq(lit("holidays"), comma_list(tok(dates))),
)
declarations = st.one_of(
    seq(lit("treaty"), name, opt(tok(texts)), opt(seq(lit("zone"), tok(texts)))),
    seq(lit("import"), tok(texts)),
    seq(lit("role"), comma_list(titled)),
    seq(lit("group"), name, lit("="), comma_list(name)),
    seq(lit("party"), comma_list(titled), opt(seq(lit("role"), comma_list(name)))),
    seq(lit("state"), comma_list(titled)),
    seq(
        lit("territory"),
        comma_list(seq(name, opt(tok(texts)), opt(seq(lit("within"), name)))),
    ),
    seq(lit("event"), name, lit("("), opt(comma_list(field_decls)), lit(")")),
    seq(
        lit("calendar"),
        name,
        st.lists(calendar_parts, max_size=3).map(lambda ps: [t for p in ps for t in p]),
    ),
)
statements = st.one_of(declarations, clauses, clauses)

# Inside a statement, a line break is always followed by indentation: a top-level keyword
# at the start of a line begins a new statement.
gaps = st.one_of(
    st.sampled_from([" ", " ", " ", "  ", "\n  ", "\n\t", " \n    "]),
    comment_texts.map(lambda c: f" {c}\n  "),
)
between = st.one_of(
    st.sampled_from(["\n", "\n\n", "\n\n\n", "\n  \n"]),
    comment_texts.map(lambda c: f"\n{c}\n"),
    comment_texts.map(lambda c: f"  {c}\n\n"),
)


@st.composite
def sources(draw: st.DrawFn) -> str:
    """A random valid source: statements of every kind in random layout with comments."""
    parts: list[str] = []
    if draw(st.booleans()):
        parts.append(draw(comment_texts) + "\n")
    for stmt in draw(st.lists(statements, min_size=0, max_size=5)):
        text = stmt[0]
        for token in stmt[1:]:
            text += draw(gaps) + token
        parts.append(text + draw(between))
    return "".join(parts)


def _comments(text: str) -> list[str]:
    return [c.text for c in parse(text).module.comments]


@SETTINGS
@given(sources())
def test_generated_sources_parse_without_errors(source: str) -> None:
    """Every generated source is valid, so the properties below test the printer."""
    assert parse(source).diagnostics == ()


@SETTINGS
@given(sources())
def test_format_is_idempotent(source: str) -> None:
    """Formatting formatted text changes nothing."""
    once, diagnostics = format_source(source)
    assert diagnostics == []
    assert once is not None
    assert format_source(once) == (once, [])


@SETTINGS
@given(sources())
def test_format_preserves_the_tree(source: str) -> None:
    """The formatted text parses to the same tree as the original, spans aside."""
    once, _ = format_source(source)
    assert once is not None
    original = parse(source).module.statements
    assert strip_spans(parse(once).module.statements) == strip_spans(original)


@SETTINGS
@given(sources())
def test_format_keeps_every_comment_in_order(source: str) -> None:
    """Every comment of the original appears in the formatted text, in the same order."""
    once, _ = format_source(source)
    assert once is not None
    assert _comments(once) == _comments(source)
    own_lines = [line for line in once.split("\n") if line.startswith("#")]
    assert own_lines == _comments(source)
