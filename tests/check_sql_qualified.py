#!/usr/bin/env python3
"""tests/check_sql_qualified.py [FILE...]: the SQL the extension runs is schema-qualified.

The background workers run as the bootstrap superuser in a database whose owner may set its
search_path and create objects in a schema of theirs; the SECURITY DEFINER functions run as
the extension's owner. Whatever the search_path, the SQL they run must mean pg_catalog's
functions, operators and types, and the extension's own tables. So:

  C sources (extension/*.c by default): every string literal (adjacent literals joined) that
  starts with an upper-case SQL command word is SQL text, printf conversions standing for
  qualified names. In it:
    - an operator is written OPERATOR(pg_catalog.op), including the = of IN, NULLIF, CASE x
      WHEN, IS [NOT] DISTINCT FROM, BETWEEN and LIKE, which are spelled as operators then
      (the = of UPDATE's SET a = ..., => of named arguments and a minus sign on a number are
      not operators);
    - a function call is schema-qualified (pg_catalog. or k8s_events.), except SQL's own
      constructs (COALESCE, GREATEST, EXTRACT, ...), which name no function;
    - a cast's type (::type) and a typed literal (type 'text') are qualified, or one of the
      types SQL spells as key words (integer, bigint, boolean, interval, timestamp ...);
    - a table after FROM, JOIN, INTO, UPDATE, TABLE is qualified (or a CTE of the statement).
  SQL scripts (extension/sql/*.sql): every LANGUAGE sql or plpgsql function, and every
  SECURITY DEFINER function, has SET search_path = pg_catalog, pg_temp, except the ones in
  UNPINNED_FUNCTIONS, which say why.

Prints one line per finding (file:line: what) and exits 1 if there is any.
"""
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent

# Functions that may go without a search_path of their own, and why.
UNPINNED_FUNCTIONS = {
    # An inlinable SQL function, so that a BI tool's query over it plans as one: a SET
    # clause would stop the planner inlining it. It only calls k8s_events_internal.histogram
    # (pinned), with the caller's rights; no worker calls it.
    "k8s_events.histogram",
    # The same for k8s_events_internal.object_events (pinned).
    "k8s_events.object_events",
}

SCHEMAS_OK = {"pg_catalog", "k8s_events"}
# k8s_events_internal: the summaries' rollups, written by the same statements as
# k8s_events.event_counts, exist from 1.1 on, in the schema 1.1's install script made.
TABLE_SCHEMAS_OK = {"pg_catalog", "k8s_events", "k8s_events_internal", "pg_temp"}
PLACEHOLDER = "__fmt__"  # a printf conversion: a name the C code quoted and qualified

COMMAND_RE = re.compile(
    r"\s*(SELECT|INSERT|UPDATE|DELETE|WITH|CREATE|ALTER|DROP|TRUNCATE|LOCK|COPY|VALUES|TABLE)\b"
)
PRINTF_RE = re.compile(r"%(?:\d+\$)?[-+ #0]*\d*(?:\.\d+)?(?:hh|h|ll|l|z|j|t)?[sdiuxXc]")

# Types SQL spells as key words: the grammar makes them pg_catalog's whatever the search_path.
KEYWORD_TYPES = {
    "INT", "INTEGER", "SMALLINT", "BIGINT", "REAL", "FLOAT", "DOUBLE", "DECIMAL", "DEC",
    "NUMERIC", "BOOLEAN", "CHAR", "CHARACTER", "VARCHAR", "NCHAR", "NATIONAL", "BIT",
    "TIMESTAMP", "TIME", "INTERVAL",
}
# Key words that may be followed by "(" without being a function call, and constructs
# that look like calls but name no function (or a pg_catalog one the grammar picks).
NOT_CALLS = {
    "VALUES", "IN", "ANY", "SOME", "ALL", "EXISTS", "ROW", "ROWS", "FROM", "TO", "COALESCE",
    "GREATEST", "LEAST", "CAST", "EXTRACT", "POSITION", "SUBSTRING", "TRIM", "OVERLAY",
    "FILTER", "OVER", "UNIQUE", "KEY", "CONFLICT", "AND", "OR", "NOT", "WHEN", "THEN",
    "ELSE", "WHERE", "ON", "SELECT", "BY", "SET", "RETURNING", "USING", "AS", "LATERAL",
    "JOIN", "INCLUDE", "CHECK", "WITH", "INTO", "LIKE", "UNION", "INTERSECT", "EXCEPT",
    "DISTINCT", "GROUPING", "OF", "TABLE", "PARTITION", "IF", "DEFAULT", "NULLIF", "CASE",
    "FOR", "REFERENCES", "EXCLUDE", "HAVING", "LIMIT", "OFFSET", "ARRAY", "OPERATOR",
}
# Key words after which a name is not a table (FROM of another construct, UPDATE of FOR UPDATE).
KEYWORDS = NOT_CALLS | KEYWORD_TYPES | {
    "LEFT", "RIGHT", "FULL", "INNER", "OUTER", "CROSS", "NATURAL", "GROUP", "ORDER",
    "INSERT", "UPDATE", "DELETE", "DO", "NOTHING", "END", "IS", "NULL", "TRUE", "FALSE",
    "BETWEEN", "ILIKE", "SIMILAR", "SHARE", "NOWAIT", "SKIP", "LOCKED", "RECURSIVE",
    "CREATE", "INDEX", "ALTER", "ADD", "CONSTRAINT", "PRIMARY", "ATTACH", "DETACH", "DROP",
    "INCLUDING", "EXCLUDING", "DEFAULTS", "CONSTRAINTS", "STORAGE", "COMPRESSION",
    "GENERATED", "IDENTITY", "INDEXES", "STATISTICS", "COMMENTS", "ASC", "DESC", "NULLS",
    "FIRST", "LAST", "ONLY", "TEMPORARY", "TEMP", "UNLOGGED", "CASCADE", "RESTRICT",
    "EXISTS", "CONCURRENTLY", "MODE", "ACCESS", "EXCLUSIVE", "TRUNCATE", "LOCK", "COPY",
    "ZONE", "WITHOUT", "PRECISION", "VARYING",
}
FUNCTION_LIKE_PARENS = {"EXTRACT", "SUBSTRING", "TRIM", "POSITION", "OVERLAY"}

TOKEN_RE = re.compile(
    r"""
    (?P<ws>\s+|--[^\n]*|/\*.*?\*/)
  | (?P<str>[eEbBxXuU]?'(?:[^']|'')*')
  | (?P<dollar>\$(?P<tag>[A-Za-z_]\w*)?\$.*?\$(?P=tag)?\$)
  | (?P<param>\$\d+)
  | (?P<num>\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)
  | (?P<qident>"(?:[^"]|"")*")
  | (?P<ident>[A-Za-z_][A-Za-z0-9_$]*)
  | (?P<cast>::)
  | (?P<op>[-+*/<>=~!@\#%^&|`?]+)
  | (?P<punct>[(),;\[\].:])
    """,
    re.VERBOSE | re.DOTALL,
)


class Tok:
    def __init__(self, kind, text, parts=None):
        self.kind = kind  # name, str, param, num, cast, op, punct, okop
        self.text = text
        self.parts = parts or []

    @property
    def word(self):
        """The key word this token may be (upper case), for a one-part unquoted name."""
        if self.kind == "name" and len(self.parts) == 1 and not self.text.startswith('"'):
            return self.parts[0].upper()
        return None

    def __repr__(self):
        return f"{self.kind}:{self.text}"


def tokenize(sql):
    raw = []
    pos = 0
    while pos < len(sql):
        m = TOKEN_RE.match(sql, pos)
        if m is None:
            raise ValueError(f"cannot read SQL at {sql[pos:pos + 20]!r}")
        pos = m.end()
        kind = m.lastgroup if m.lastgroup != "tag" else "dollar"
        if kind == "ws":
            continue
        if kind == "dollar":
            kind = "str"
        if kind in ("ident", "qident"):
            kind = "ident"
        raw.append((kind, m.group(0)))
    # Join dotted names (a.b.c, a.*).
    toks = []
    i = 0
    while i < len(raw):
        kind, text = raw[i]
        if kind == "ident":
            parts = [text]
            while i + 2 < len(raw) and raw[i + 1] == ("punct", ".") and (
                raw[i + 2][0] == "ident" or raw[i + 2] == ("op", "*")
            ):
                parts.append(raw[i + 2][1])
                i += 2
            toks.append(Tok("name", ".".join(parts), [p.strip('"') for p in parts]))
        else:
            toks.append(Tok(kind, text))
        i += 1
    return toks


def check_sql(sql):
    """The findings for one SQL text."""
    findings = []
    sql = PRINTF_RE.sub(PLACEHOLDER, sql.replace("%%", "%"))
    # OPERATOR(schema.op): one token, fine when the schema is pg_catalog.
    def operator(m):
        if m.group(1) != "pg_catalog":
            findings.append(f"OPERATOR({m.group(1) or ''}{'.' if m.group(1) else ''}{m.group(2)}) "
                            "is not pg_catalog's")
        return " __okop__ "

    sql = re.sub(r"\bOPERATOR\s*\(\s*(?:([A-Za-z_]\w*)\s*\.\s*)?([^\s()]+)\s*\)", operator, sql)
    try:
        toks = tokenize(sql)
    except ValueError as e:
        return [str(e)]
    for t in toks:
        if t.kind == "name" and t.text == "__okop__":
            t.kind = "okop"

    ctes = set()
    for i, t in enumerate(toks):
        if (t.kind == "name" and i > 0 and i + 2 < len(toks) and
                (toks[i - 1].word in ("WITH", "RECURSIVE") or toks[i - 1].text == ",") and
                toks[i + 1].word == "AS" and toks[i + 2].text == "("):
            ctes.add(t.text.lower())

    def operand_end(t):
        return t is not None and (t.kind in ("name", "str", "param", "num") and t.word not in KEYWORDS
                                  or t.text in (")", "]"))

    depth = 0
    parens = []  # what opened each parenthesis: the word before it
    in_set = None  # paren depth of an UPDATE's SET list
    set_target = False
    set_columns = None  # paren depth of a SET (a, b) = (...) column list
    statement_word = toks[0].word if toks else None
    for i, t in enumerate(toks):
        prev = toks[i - 1] if i > 0 else None
        nxt = toks[i + 1] if i + 1 < len(toks) else None
        w = t.word
        if t.text == "(":
            parens.append(prev.word if prev is not None else None)
            depth += 1
        elif t.text == ")":
            depth -= 1
            if parens:
                parens.pop()
            if in_set is not None and depth < in_set:
                in_set = None

        # UPDATE ... SET a = x, b = y: those = assign.
        if w == "SET" and statement_word in ("UPDATE", "INSERT", "WITH"):
            in_set, set_target = depth, True
            continue
        # SET (a, b) = (SELECT ...): that = assigns too.
        if in_set is not None and set_target and t.text == "(" and depth == in_set + 1:
            set_columns = depth
            continue
        if set_columns is not None:
            if t.text == ")" and depth == set_columns - 1:
                set_columns = None
                set_target = False
                if nxt is not None and nxt.text == "=":
                    toks[i + 1].kind = "assign"
            continue
        if in_set is not None and depth == in_set:
            if w in ("WHERE", "RETURNING", "FROM"):
                in_set = None
            elif t.text == ",":
                set_target = True
                continue
            elif set_target and t.kind == "name" and len(t.parts) == 1 and nxt is not None and nxt.text == "=":
                toks[i + 1].kind = "assign"
                set_target = False
                continue
            else:
                set_target = False

        if t.kind == "op":
            if t.text == "=>":
                continue
            if t.text == "*" and not operand_end(prev):
                continue  # SELECT *, count(*)
            if t.text == "-" and not operand_end(prev) and nxt is not None and nxt.kind == "num":
                continue  # a negative number
            findings.append(f"operator {t.text} without OPERATOR(pg_catalog.{t.text})")
        elif w in ("IN", "NULLIF") and nxt is not None and nxt.text == "(":
            findings.append(f"{w} (...) compares with an unqualified =")
        elif w == "DISTINCT" and prev is not None and prev.word in ("IS", "NOT"):
            findings.append("IS [NOT] DISTINCT FROM compares with an unqualified =")
        elif w == "BETWEEN":
            findings.append("BETWEEN compares with unqualified <= and >=")
        elif w in ("LIKE", "ILIKE", "SIMILAR") and not (prev is not None and prev.text == "("):
            findings.append(f"{w} is an unqualified operator")
        elif w == "CASE" and nxt is not None and nxt.word != "WHEN":
            findings.append("CASE x WHEN compares with an unqualified =")
        elif t.kind == "cast":
            if nxt is None or nxt.kind != "name":
                findings.append("a cast to something that is not a type name")
            elif nxt.word in KEYWORD_TYPES:
                pass
            elif len(nxt.parts) < 2 or nxt.parts[0] not in SCHEMAS_OK:
                findings.append(f"type {nxt.text} without a schema (::pg_catalog.{nxt.parts[-1]})")
        elif t.kind == "name" and nxt is not None and nxt.kind == "str" and w not in KEYWORDS and w != "E":
            findings.append(f"typed literal of type {t.text} without a schema")
        elif t.kind == "name" and nxt is not None and nxt.text == "(":
            if w in NOT_CALLS or (prev is not None and prev.word == "AS"):
                pass
            elif len(t.parts) == 1:
                if prev is not None and prev.word in ("INTO", "TABLE", "ON", "UPDATE", "JOIN"):
                    pass  # a table's column list: the table check below judges the name
                else:
                    findings.append(f"function {t.text}() without a schema (pg_catalog.{t.text})")
            elif t.parts[0] not in SCHEMAS_OK and t.parts[0] != PLACEHOLDER:
                findings.append(f"function {t.text}() in schema {t.parts[0]}")

        # Tables: FROM, JOIN, INTO, UPDATE (a statement's), TABLE, ONLY.
        if t.kind == "name" and prev is not None and prev.word in ("FROM", "JOIN", "INTO", "UPDATE", "TABLE", "ONLY"):
            before = toks[i - 2] if i > 1 else None
            if prev.word == "FROM" and before is not None and before.word in ("DISTINCT", "ROWS", "VALUES"):
                continue
            if prev.word == "FROM" and parens and parens[-1] in FUNCTION_LIKE_PARENS:
                continue
            if prev.word == "UPDATE" and before is not None and before.word in ("DO", "FOR"):
                continue
            if w in KEYWORDS or t.text.lower() in ctes or (nxt is not None and nxt.text == "("):
                continue  # a key word, a CTE, a function in FROM (judged above)
            if len(t.parts) == 1 and t.parts[0] != PLACEHOLDER:
                findings.append(f"table {t.text} without a schema")
            elif len(t.parts) > 1 and t.parts[0] not in TABLE_SCHEMAS_OK and t.parts[0] != PLACEHOLDER:
                findings.append(f"table {t.text} in schema {t.parts[0]}")
    return findings


def c_string_literals(src):
    """(line, text) of every C string literal, adjacent ones joined; comments skipped."""
    out = []
    i = 0
    n = len(src)
    current = None  # [line, pieces] of literals being joined
    while i < n:
        c = src[i]
        if src.startswith("/*", i):
            j = src.find("*/", i + 2)
            i = n if j < 0 else j + 2
            continue
        if src.startswith("//", i):
            j = src.find("\n", i)
            i = n if j < 0 else j
            continue
        if c == "'":
            m = re.compile(r"'(?:[^'\\\n]|\\.)*'").match(src, i)
            i = m.end() if m else i + 1
            if current:
                out.append(current)
                current = None
            continue
        if c == '"':
            m = re.compile(r'"((?:[^"\\\n]|\\.)*)"').match(src, i)
            if m is None:
                i += 1
                continue
            text = m.group(1)
            text = re.sub(r"\\(.)", lambda e: {"n": "\n", "t": "\t"}.get(e.group(1), e.group(1)), text)
            if current is None:
                current = [src.count("\n", 0, i) + 1, [text]]
            else:
                current[1].append(text)
            i = m.end()
            continue
        if not c.isspace() and current is not None:
            out.append(current)
            current = None
        i += 1
    if current:
        out.append(current)
    return [(line, "".join(pieces)) for line, pieces in out]


def shown(path):
    return path.relative_to(ROOT) if path.is_relative_to(ROOT) else path


def check_c(path):
    findings = []
    for line, text in c_string_literals(path.read_text()):
        if COMMAND_RE.match(text):
            for f in check_sql(text):
                findings.append(f"{shown(path)}:{line}: {f}: {text.strip()[:70]!r}")
    return findings


FUNCTION_RE = re.compile(
    r"CREATE\s+(?:OR\s+REPLACE\s+)?FUNCTION\s+([\w.]+)\s*\((.*?)(?:\$(\w*)\$.*?\$\3\$[^;]*|[^$;]*);",
    re.DOTALL | re.IGNORECASE,
)


def check_sql_script(path):
    findings = []
    src = path.read_text()
    src_nocomments = re.sub(r"--[^\n]*", "", src)
    for m in FUNCTION_RE.finditer(src_nocomments):
        name = m.group(1)
        whole = m.group(0)
        # The attributes: the text without the body.
        header = re.sub(r"\$(\w*)\$.*?\$\1\$", "$$", whole, flags=re.DOTALL)
        line = src_nocomments.count("\n", 0, m.start()) + 1
        language = re.search(r"\bLANGUAGE\s+(\w+)", header, re.IGNORECASE)
        language = language.group(1).lower() if language else "?"
        definer = re.search(r"\bSECURITY\s+DEFINER\b", header, re.IGNORECASE)
        pinned = re.search(r"\bSET\s+search_path\s*(?:=|TO)\s*pg_catalog\s*,\s*pg_temp\s*(?:\n|$|SET|AS|LANGUAGE|;)",
                           header, re.IGNORECASE)
        if (language in ("sql", "plpgsql") or definer) and not pinned and name not in UNPINNED_FUNCTIONS:
            why = "SECURITY DEFINER" if definer else f"LANGUAGE {language}"
            findings.append(f"{shown(path)}:{line}: {name} ({why}) has no "
                            "SET search_path = pg_catalog, pg_temp")
    return findings


# The check on itself: SQL text, and how many findings it must give.
SELF_TEST = [
    ("SELECT 1 FROM k8s_events.x AS e WHERE e.a = $1", 1),
    ("SELECT 1 FROM k8s_events.x AS e WHERE e.a OPERATOR(pg_catalog.=) $1", 0),
    ("SELECT 1 FROM k8s_events.x AS e WHERE e.a OPERATOR(public.=) $1", 1),
    ("UPDATE k8s_events.x AS w SET a = $1, b = pg_catalog.now() WHERE w.c OPERATOR(pg_catalog.=) $2", 0),
    ("UPDATE k8s_events.x AS w SET a = CASE WHEN w.s = $2 THEN 1 ELSE 2 END, b = $1", 1),
    ("INSERT INTO k8s_events.x AS w (a, b) VALUES ($1, $2) "
     "ON CONFLICT (a) DO UPDATE SET b = excluded.b, c = 0", 0),
    ("UPDATE k8s_events.x AS w SET a = 1, (b, c) = (SELECT y.b, y.c FROM k8s_events.y AS y"
     " WHERE y.a OPERATOR(pg_catalog.=) w.a) WHERE w.d OPERATOR(pg_catalog.=) 1", 0),
    ("UPDATE k8s_events.x AS w SET (b, c) = (SELECT y.b, y.c FROM k8s_events.y AS y"
     " WHERE y.a = w.a)", 1),
    ("SELECT count(*) FROM k8s_events.f(now())", 2),
    ("SELECT pg_catalog.count(*), e.* FROM k8s_events.f(pg_catalog.now()) AS e", 0),
    ("SELECT * FROM k8s_events.x WHERE a IN (1, 2)", 1),
    ("SELECT * FROM k8s_events.x WHERE a BETWEEN 1 AND 2", 1),
    ("SELECT * FROM k8s_events.x WHERE a LIKE 'x'", 1),
    ("SELECT * FROM k8s_events.x WHERE a IS NOT DISTINCT FROM $1", 1),
    ("SELECT $1::text, $2::pg_catalog.text, $3::bigint, interval '1 day', timestamptz 'now'", 2),
    ("SELECT * FROM events", 1),
    ("DELETE FROM events WHERE true", 1),
    ("WITH b AS (SELECT 1) SELECT * FROM b", 0),
    ("SELECT -1, 2 - 1", 1),
    ("SELECT k8s_events.f(a => 1)", 0),
    ("SELECT x FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2)) AS b(x, y)", 0),
    ("SELECT x FROM unnest($1, $2) AS b(x, y)", 1),
    ("SELECT NULLIF(a, b), CASE a WHEN 1 THEN 2 END, a || b FROM k8s_events.x", 3),
    ("SELECT u FROM %s WHERE c OPERATOR(pg_catalog.=) $1 AND u OPERATOR(pg_catalog.=) ANY ($2)", 0),
    ("SELECT 'a = b; now()' FROM k8s_events.x", 0),
    ('SELECT "now"() FROM k8s_events.x', 1),
    ("SELECT COALESCE(a, 1), GREATEST(a, b), EXTRACT(epoch FROM a) FROM k8s_events.x", 0),
    ("SELECT md5(a) FROM public.x", 2),
]


def self_test():
    wrong = []
    for sql, want in SELF_TEST:
        got = check_sql(sql)
        if len(got) != want:
            wrong.append(f"self-test: {sql!r} gives {len(got)} findings, not {want}: {got}")
    return wrong


def main(args):
    wrong = self_test()
    if wrong:
        print("\n".join(wrong))
        return 2
    files = [pathlib.Path(a).resolve() for a in args] or (
        sorted((ROOT / "extension").glob("*.c")) + sorted((ROOT / "extension" / "sql").glob("*.sql")))
    findings = []
    for f in files:
        findings += check_sql_script(f) if f.suffix == ".sql" else check_c(f)
    for f in findings:
        print(f)
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
