#!/usr/bin/env python3
"""tests/check_docs.py - checks of the markdown documentation, run by tests/test_docs.sh.

    check_docs.py links [--root DIR] [--pending PATH]... FILE.md...
        Every relative link of each FILE ([text](path), [text](path#anchor), [text](#anchor),
        reference definitions [name]: path) must point to an existing file or directory, and
        each #anchor into a markdown file must be a heading of it (GitHub's anchors). Links
        with a scheme (http:, https:, mailto:, ...) are not checked. A link to a PATH given
        with --pending (relative to the current directory) is not reported while that file
        does not exist yet; a note says so. A link out of DIR (the repository: by default the
        current directory) is broken; /path is taken from DIR.
    check_docs.py commands [--main loader/main.c] FILE.md...
        The first word of each command in the shell blocks of each FILE (```sh, ```bash,
        ```shell, ```console, and bare ``` blocks that hold shell) must be a file of the
        repository, a shell builtin or a program on PATH, or k8s-events; the word after
        k8s-events must be one of the commands of the table in loader/main.c. Relative paths
        are taken from the current directory (the repository's root).
    check_docs.py nav README.md DOCS.md...
        README.md links to every DOCS.md, and each DOCS.md links, in its first lines, to the
        README and to every other DOCS.md.

Each problem is one line "FILE:LINE: what" on standard output; notes start with "note: ".
Exit status: 0 none found, 1 some found, 2 usage error.
"""
import os
import re
import shlex
import shutil
import sys
import unicodedata
import urllib.parse

# ---------------------------------------------------------------- reading markdown

FENCE_RE = re.compile(r'^([ \t]*)(`{3,}|~{3,})(.*)$')


def read(path):
    with open(path, encoding='utf-8') as f:
        return f.read().split('\n')


def blocks(lines):
    """Split LINES into ('text', first_line_no, lines) and ('code', first_line_no, lines,
    info) pieces; line numbers are 1-based, and a code piece's lines exclude its fences."""
    out = []
    i = 0
    text_start, text = 1, []
    while i < len(lines):
        m = FENCE_RE.match(lines[i])
        if not m or (m.group(2)[0] == '`' and '`' in m.group(3)):
            text.append(lines[i])
            i += 1
            continue
        out.append(('text', text_start, text))
        fence, info = m.group(2), m.group(3).strip()
        start = i + 2
        body = []
        i += 1
        while i < len(lines):
            c = re.match(r'^[ \t]*(`{3,}|~{3,})\s*$', lines[i])
            if c and c.group(1)[0] == fence[0] and len(c.group(1)) >= len(fence):
                break
            body.append(lines[i])
            i += 1
        out.append(('code', start, body, info))
        i += 1  # the closing fence (or the end)
        text_start, text = i + 1, []
    out.append(('text', text_start, text))
    return out


def blank_code_spans(s):
    """S with the content of its inline code spans replaced by spaces (newlines kept), so
    that offsets and line numbers stay as they were."""
    out = list(s)
    i = 0
    while i < len(s):
        if s[i] != '`':
            i += 1
            continue
        j = i
        while j < len(s) and s[j] == '`':
            j += 1
        run = j - i
        k = j
        end = -1
        while True:
            k = s.find('`' * run, k)
            if k < 0:
                break
            e = k
            while e < len(s) and s[e] == '`':
                e += 1
            if e - k == run:
                end = k
                break
            k = e
        if end < 0 or re.search(r'\n[ \t]*\n', s[j:end]):
            i = j
            continue
        for p in range(i, end + run):
            if out[p] != '\n':
                out[p] = ' '
        i = end + run
    return ''.join(out)


def inline_text(s):
    """The text GitHub renders for heading source S: links and images become their text,
    code spans their content, HTML tags and emphasis markers go."""
    s = re.sub(r'!?\[([^\]]*)\]\([^)]*\)', r'\1', s)
    s = re.sub(r'!?\[([^\]]*)\]\[[^\]]*\]', r'\1', s)
    s = re.sub(r'<[^>]+>', '', s)
    s = re.sub(r'`+', '', s)
    s = re.sub(r'(\*+|(?<!\w)_+|_+(?!\w))', '', s)
    return s


def slug(heading):
    """GitHub's anchor of a heading: lower case; letters, marks, digits, '_', '-' and spaces
    kept, everything else dropped; each space becomes '-'."""
    out = []
    for ch in inline_text(heading).strip().lower():
        if ch in ' -_' or unicodedata.category(ch)[0] in 'LMN':
            out.append(ch)
    return ''.join(out).replace(' ', '-')


def headings(lines):
    """[(line_no, text)] of the ATX and setext headings of LINES, outside code blocks."""
    found = []
    for piece in blocks(lines):
        if piece[0] != 'text':
            continue
        start, text = piece[1], piece[2]
        for n, line in enumerate(text):
            m = re.match(r'^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$', line)
            if m:
                found.append((start + n, m.group(2) or ''))
                continue
            if (n > 0 and re.match(r'^ {0,3}(=+|-+)[ \t]*$', line) and text[n - 1].strip() and
                    not re.match(r'^ {0,3}(#|[-*+] |\d+[.)] |>|\|)', text[n - 1])):
                found.append((start + n - 1, text[n - 1].strip()))
    return found


_anchor_cache = {}


def anchors(path):
    """Every anchor of markdown file PATH: its headings' (the second of a name gets -1, the
    third -2, ...) and the ids and names of its HTML elements."""
    path = os.path.normpath(path)
    if path not in _anchor_cache:
        lines = read(path)
        seen = {}
        result = set()
        for _, text in headings(lines):
            base = slug(text)
            if base in seen:
                seen[base] += 1
                result.add(f'{base}-{seen[base]}')
            else:
                seen[base] = 0
                result.add(base)
        for m in re.finditer(r'<[a-zA-Z][^>]*\s(?:id|name)\s*=\s*["\']([^"\']+)["\']', '\n'.join(lines)):
            result.add(m.group(1))
        _anchor_cache[path] = result
    return _anchor_cache[path]


LINK_RE = re.compile(
    r'!?\[((?:[^\[\]]|\[[^\[\]]*\])*)\]'                  # [text], one level of nested []
    r'\(\s*(<[^<>\n]*>|(?:[^\s()]|\([^\s()]*\))*)'         # (destination
    r'(?:\s+(?:"[^"]*"|\'[^\']*\'|\([^()]*\)))?\s*\)')     #  "title")
REFDEF_RE = re.compile(r'^ {0,3}\[([^\]]+)\]:[ \t]*(<[^<>\n]*>|\S+)', re.M)


def links(path):
    """[(line_no, destination)] of the inline links, images and reference definitions of
    markdown file PATH, outside code blocks and code spans."""
    found = []
    for piece in blocks(read(path)):
        if piece[0] != 'text':
            continue
        start, text = piece[1], blank_code_spans('\n'.join(piece[2]))
        for regex in (LINK_RE, REFDEF_RE):
            for m in regex.finditer(text):
                dest = m.group(2).strip()
                if dest.startswith('<') and dest.endswith('>'):
                    dest = dest[1:-1]
                found.append((start + text.count('\n', 0, m.start()), dest))
    found.sort()
    return found


# ---------------------------------------------------------------- links

def check_links(files, pending, root='.'):
    problems, notes = [], []
    root = os.path.realpath(root)
    pending = {os.path.realpath(p) for p in pending}
    for md in files:
        for line_no, dest in links(md):
            where = f'{md}:{line_no}: {dest}'
            if re.match(r'^[A-Za-z][A-Za-z0-9+.-]*:', dest) or dest.startswith('//'):
                continue  # http:, https:, mailto:, ...: not checked
            if not dest:
                problems.append(f"{where} (empty link)")
                continue
            path, _, anchor = dest.partition('#')
            path = urllib.parse.unquote(path.split('?', 1)[0])
            anchor = urllib.parse.unquote(anchor)
            if not path:
                target = md
            elif path.startswith('/'):
                target = os.path.join(root, path.lstrip('/'))
            else:
                target = os.path.join(os.path.dirname(md), path)
            real = os.path.realpath(target)
            if real != root and not real.startswith(root + os.sep):
                problems.append(f'{where} (outside the repository)')
                continue
            if not os.path.exists(target):
                if real in pending:
                    notes.append(f'{where}: {path} does not exist yet; not checked')
                else:
                    problems.append(f'{where} (no such file or directory)')
                continue
            if (anchor and os.path.isfile(target) and target.lower().endswith(('.md', '.markdown'))
                    and anchor not in anchors(target)):
                problems.append(f'{where} (no heading with anchor #{anchor} in {os.path.normpath(target)})')
    return problems, notes


# ---------------------------------------------------------------- commands

SHELL_LANGS = {'sh', 'bash', 'shell', 'zsh', 'console', 'shell-session', 'sh-session', 'shellsession'}
BUILTINS = set('''. : [ alias bg bind break builtin caller cd command compgen complete continue
declare dirs disown echo enable eval exec exit export false fc fg getopts hash help history jobs
kill let local logout mapfile popd printf pushd pwd read readarray readonly return set shift
shopt source suspend test times trap true type typeset ulimit umask unalias unset wait'''.split())
# Words that start a compound command, or lead another command.
SKIP_SEGMENT = {'for', 'case', 'esac', 'done', 'fi', '{', '}', 'function', 'select', 'in', ';;'}
LEADERS = {'then', 'do', 'else', 'elif', 'if', 'while', 'until', '!', 'time', 'nohup', 'exec',
           'command', 'builtin', 'env'}
CONTROL = {';', '&', '&&', '||', '|', '|&', '(', ')', ';;', ';&'}
REDIRECT = {'<', '>', '>>', '<<', '<<<', '>&', '<&', '&>', '&>>', '>|', '<>'}
# Developer tools the docs may show that scripts/setup does not install (CI need not have
# them): when missing from PATH, a note instead of a failure.
OPTIONAL_TOOLS = {'clang-format', 'kubectl'}


def subcommands(main_c):
    """The names in the command table of loader/main.c: the first string of each entry of
    the array `commands[]`, e.g. {"load", cmd_load, "store event dumps ..."}."""
    with open(main_c, encoding='utf-8') as f:
        src = f.read()
    m = re.search(r'\bcommands\s*\[\s*\]\s*=\s*\{(.*?)\n\s*\};', src, re.S)
    table = m.group(1) if m else src
    return set(re.findall(r'\{\s*"([^"]+)"\s*,\s*\w+\s*,', table))


def tokens(line):
    lexer = shlex.shlex(line, posix=True, punctuation_chars=';&|()<>')
    lexer.commenters = '#'
    lexer.whitespace_split = True
    try:
        return list(lexer)
    except ValueError:  # an unbalanced quote: the words will do
        return line.split('#', 1)[0].split()


def segments(words):
    """The simple commands of a command line's words, split at control operators."""
    seg = []
    for w in words:
        if w in CONTROL:
            if seg:
                yield seg
            seg = []
        else:
            seg.append(w)
    if seg:
        yield seg


def command_word(seg):
    """(word, rest) of a simple command: past VAR=value assignments, sudo and its options,
    leading keywords and redirections; (None, []) when there is no command to check."""
    i = 0
    while i < len(seg):
        w = seg[i]
        if w in SKIP_SEGMENT:
            return None, []
        if re.match(r'^[A-Za-z_][A-Za-z0-9_]*=', w) or w in LEADERS:
            i += 1
        elif w == 'sudo':
            i += 1
            while i < len(seg) and seg[i].startswith('-'):
                i += 2 if seg[i] in ('-u', '-g', '-h', '-p', '-C') else 1
        elif w in REDIRECT or re.match(r'^\d+$', w) and i + 1 < len(seg) and seg[i + 1] in REDIRECT:
            i += 2 if w in REDIRECT else 3
        else:
            return w, seg[i + 1:]
    return None, []


def command_lines(body, start, console):
    """(line_no, command text) of a shell block: comments, blank lines, continuation lines
    (joined to their first line) and heredoc bodies skipped; in a console block only the
    lines after a '$ ' prompt. Lines that start with '[' or '|' continue a usage synopsis."""
    i = 0
    while i < len(body):
        line_no, line = start + i, body[i]
        i += 1
        stripped = line.strip()
        if console:
            if not stripped.startswith('$ '):
                continue
            stripped = stripped[2:]
        if not stripped or stripped.startswith(('#', '[', '|')):
            continue  # a comment, or the next line of a usage synopsis ([--opt] ...)
        text = stripped
        while text.endswith('\\') and i < len(body):
            text = text[:-1] + ' ' + body[i].strip()
            i += 1
        for m in re.finditer(r'<<(-?)\s*([\'"]?)([A-Za-z_][A-Za-z0-9_]*)\2', text):
            while i < len(body) and body[i].strip() != m.group(3):
                i += 1
            i += 1  # the delimiter line
        yield line_no, text


def looks_like_shell(body):
    """A bare ``` block holds shell unless its lines look like a configuration file."""
    return not any(re.match(r'^\s*[A-Za-z_][\w.]*\s*=\s', l) for l in body)


def check_commands(files, main_c):
    problems, notes = [], []
    subs = subcommands(main_c)
    if not subs:
        return [f'{main_c}: no command table found (an array commands[] of {{"name", cmd_..., "..."}})'], notes
    for md in files:
        for piece in blocks(read(md)):
            if piece[0] != 'code':
                continue
            _, start, body, info = piece
            lang = info.split()[0].strip('{}.').lower() if info else ''
            if lang and lang not in SHELL_LANGS:
                continue
            console = lang in ('console', 'shell-session', 'sh-session', 'shellsession') or \
                any(l.strip().startswith('$ ') for l in body)
            if not lang and not console and not looks_like_shell(body):
                continue
            for line_no, text in command_lines(body, start, console):
                segs = list(segments(tokens(text)))
                if re.search(r'\s\[-', text):
                    segs = segs[:1]  # a usage synopsis: [--a|--b] are alternatives, not pipes
                for seg in segs:
                    word, rest = command_word(seg)
                    if word is None or word.startswith(('$', '`', '[', '-')):
                        continue
                    where = f'{md}:{line_no}: {text}'
                    path = word[2:] if word.startswith('./') else word
                    if path in ('k8s-events', 'loader/k8s-events'):
                        sub = next((w for w in rest if not w.startswith('-')), None)
                        if rest and rest[0] in ('--help', '-h', 'help'):
                            continue
                        if sub is None or rest[0] != sub:
                            problems.append(f'{where} (no k8s-events command; loader/main.c has {", ".join(sorted(subs))})')
                        elif sub not in subs:
                            problems.append(f'{where} (k8s-events has no command "{sub}"; loader/main.c has {", ".join(sorted(subs))})')
                    elif '/' in path:
                        if not os.path.exists(path):
                            problems.append(f'{where} ({word}: no such file)')
                    elif not (word in BUILTINS or shutil.which(word) or os.path.isfile(word)):
                        if word in OPTIONAL_TOOLS:
                            notes.append(f'{where}: {word} is not installed here; not checked')
                        else:
                            problems.append(f'{where} ({word}: not a file of the repository, a builtin or a program on PATH)')
    return problems, notes


# ---------------------------------------------------------------- navigation

def check_nav(readme, docs):
    problems = []

    def targets(md, first=None):
        found = set()
        for line_no, dest in links(md):
            if first is None or line_no <= first:
                path = dest.partition('#')[0]
                if path and not re.match(r'^[A-Za-z][A-Za-z0-9+.-]*:', dest):
                    found.add(os.path.normpath(os.path.join(os.path.dirname(md), path)))
        return found

    readme_links = targets(readme)
    for d in docs:
        if os.path.normpath(d) not in readme_links:
            problems.append(f'{readme}: no link to {d}')
        head = targets(d, first=5)
        for want in [readme] + [o for o in docs if o != d]:
            if os.path.normpath(want) not in head:
                problems.append(f'{d}:1: no link to {want} in its first 5 lines')
    return problems, []


def main(argv):
    if len(argv) < 2 or argv[1] not in ('links', 'commands', 'nav'):
        print(__doc__, file=sys.stderr)
        return 2
    mode, args = argv[1], argv[2:]
    pending, main_c, root, files = [], 'loader/main.c', '.', []
    while args:
        a = args.pop(0)
        if a == '--pending' and args:
            pending.append(args.pop(0))
        elif a == '--root' and args:
            root = args.pop(0)
        elif a == '--main' and args:
            main_c = args.pop(0)
        else:
            files.append(a)
    if not files:
        print(__doc__, file=sys.stderr)
        return 2
    if mode == 'links':
        problems, notes = check_links(files, pending, root)
    elif mode == 'commands':
        problems, notes = check_commands(files, main_c)
    else:
        problems, notes = check_nav(files[0], files[1:])
    for n in notes:
        print('note: ' + n)
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
