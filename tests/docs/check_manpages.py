#!/usr/bin/env python3
"""check_manpages.py - the manuals in man/ say what the programs and the examples say.

    check_manpages.py SOURCE_DIR AGENT_BIN COLLECTOR_BIN CLI_BIN

Checked, each failure on its own line naming the page, the section and what to add:
  - every option in the OPTIONS of `faultline-agent --help`, `faultline-collector --help` and
    `faultline --help` is an item (.TP) of the page's OPTIONS section, and every option item of
    that section is in --help (a stale page fails too);
  - every command listed by `faultline --help` has a `.SS COMMAND` subsection under COMMANDS in
    faultline(1), holding the options of `faultline help COMMAND` (except -C/--control and
    -h/--help, documented once for all) and no option the command does not take;
  - every key of the example configs (deploy/*.example, commented-out keys included) and of
    the README's `[agent]` and `[collector]` key tables is documented in its .conf(5) /
    .expect(5) page, in the section for its INI section;
  - every page's .TH names the programs' version, and every page a SEE ALSO names exists.
Exit status 0 when all hold, 1 otherwise.
"""
import os
import re
import subprocess
import sys

OPT_RE = re.compile(r"(?<![\w-])(--?[A-Za-z][A-Za-z0-9-]*)")
errors = []


def fail(msg):
    errors.append(msg)


def run(*argv):
    out = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return out.stdout


def help_options(text):
    """Options of the OPTIONS / Options: block of a --help text (up to its first blank line)."""
    opts, inside = [], False
    for line in text.splitlines():
        if re.match(r"^\s*(OPTIONS|Options:)\s*$", line):
            inside = True
            continue
        if not inside:
            continue
        if not line.strip():
            break
        m = re.match(r"^\s+(-.*?)(\s{2,}|$)", line)
        if m:
            opts += [o for o in OPT_RE.findall(m.group(1)) if o not in opts]
    return opts


def plain(roff):
    """Roff text without escapes: \\- is -, fonts and special characters dropped."""
    s = roff.replace("\\-", "-").replace("\\e", "\\")
    s = re.sub(r"\\f[BIRP]", "", s)
    s = re.sub(r"\\\(..", "", s)
    return s


def region(lines, sh, ss=None):
    """Lines of section .SH sh (and of its subsection .SS ss when given)."""
    out, in_sh, in_ss = [], False, ss is None
    for line in lines:
        if line.startswith(".SH "):
            in_sh = plain(line[4:]).strip('" ') == sh
            in_ss = ss is None
            continue
        if in_sh and ss is not None and line.startswith(".SS "):
            in_ss = plain(line[4:]).strip('" ') == ss
            continue
        if in_sh and in_ss:
            out.append(line)
    return out


def items(lines):
    """The head line of every .TP item, as plain text without the macro name."""
    heads = []
    for i, line in enumerate(lines[:-1]):
        if line.startswith(".TP"):
            head = re.sub(r"^\.\w+\s*", "", lines[i + 1])
            heads.append(plain(head).replace('"', " "))
    return heads


def option_items(lines):
    opts = []
    for head in items(lines):
        if head.lstrip().startswith("-"):
            opts += OPT_RE.findall(head)
    return opts


def bold_words(lines):
    """Words set in bold (.B, .BR, .BI first argument, \\fB...): where keys are named."""
    words = set()
    for line in lines:
        m = re.match(r"^\.(B|BR|BI|IB|RB)\s+(.*)$", line)
        if m:
            args = re.findall(r'"[^"]*"|\S+', m.group(2))
            bold = args[0::2] if m.group(1) in ("B", "BR", "BI") else args[1::2]
            if m.group(1) == "B":
                bold = args
            for a in bold:
                words.update(re.findall(r"[a-z_][a-z0-9_]*", plain(a)))
        for b in re.findall(r"\\fB(.*?)\\f[RIP]", line):
            words.update(re.findall(r"[a-z_][a-z0-9_]*", plain(b)))
    return words


def check_options(page, lines, section, want, source, ignore=()):
    have = option_items(lines)
    where = f"{page}: section {section}"
    for o in want:
        if o not in have and o not in ignore:
            fail(f"{where} lacks option {o} (listed by `{source}`): add a .TP item for it")
    for o in have:
        if o not in want:
            fail(f"{where} documents option {o}, which `{source}` does not list")


def example_keys(path):
    """{section kind: [keys]} of an INI example, commented-out sections and keys included."""
    keys, kind = {}, None
    for line in open(path, encoding="utf-8"):
        m = re.match(r'^[;#]?\[([a-z_]+)', line)
        if m:
            kind = m.group(1)
            keys.setdefault(kind, [])
            continue
        m = re.match(r"^[;#]?([a-z_]+)\s*=", line)
        if m and kind is not None and m.group(1) not in keys[kind]:
            keys[kind].append(m.group(1))
    return keys


def readme_keys(path, section):
    """Keys of the README table whose header is "| `[section]` key |" (first column)."""
    keys, inside = [], False
    for line in open(path, encoding="utf-8"):
        if line.startswith(f"| `[{section}]` key |"):
            inside = True
            continue
        if inside and not line.startswith("|"):
            break
        if inside and not line.startswith("|---"):
            keys += [k for k in re.findall(r"`([a-z_]+)`", line.split("|")[1]) if k not in keys]
    return keys


def main():
    src, agent, collector, cli = sys.argv[1:5]
    man = os.path.join(src, "man")
    pages = {}
    for name in sorted(os.listdir(man)):
        if re.search(r"\.[1-8]$", name):
            with open(os.path.join(man, name), encoding="utf-8") as f:
                pages[name] = f.read().splitlines()
    for need in ("faultline.1", "faultline-agent.8", "faultline-collector.8",
                 "faultline-agent.conf.5", "faultline-collector.conf.5", "faultline.expect.5"):
        if need not in pages:
            fail(f"man/{need} is missing")
    if errors:
        return 1

    version = run(cli, "--version").split()[-1]
    for name, lines in pages.items():
        th = next((l for l in lines if l.startswith(".TH ")), "")
        if f'"faultline {version}"' not in th:
            fail(f"man/{name}: .TH should name \"faultline {version}\" (faultline --version): {th}")
        for ref, sec in re.findall(r"^\.BR ([\w.\\-]+) \((\d)\)", "\n".join(lines), re.M):
            ref = plain(ref)
            if ref.startswith("faultline") and f"{ref}.{sec}" not in pages:
                fail(f"man/{name}: SEE ALSO / reference {ref}({sec}) has no page in man/")

    # Programs: --help OPTIONS against the page's OPTIONS.
    for page, binary in (("faultline-agent.8", agent), ("faultline-collector.8", collector),
                         ("faultline.1", cli)):
        name = os.path.basename(binary)
        text = run(binary, "--help")
        want = help_options(text)
        if not want:
            fail(f"no OPTIONS found in `{name} --help` (has its layout changed?)")
        check_options(f"man/{page}", region(pages[page], "OPTIONS"), "OPTIONS", want,
                      f"{name} --help")

    # The CLI's commands.
    top = run(cli, "--help")
    globals_ = help_options(top)
    commands, inside = [], False
    for line in top.splitlines():
        if line.strip() == "COMMANDS":
            inside = True
            continue
        if inside and not line.strip():
            break
        m = re.match(r"^\s+([a-z][a-z-]*)\s{2,}", line)
        if inside and m:
            commands.append(m.group(1))
    if not commands:
        fail("no COMMANDS found in `faultline --help` (has its layout changed?)")
    subsections = [plain(l[4:]).strip('" ') for l in region(pages["faultline.1"], "COMMANDS")
                   if l.startswith(".SS ")]
    for cmd in commands:
        if cmd not in subsections:
            fail(f"man/faultline.1: section COMMANDS lacks a subsection for command '{cmd}' "
                 f"(listed by `faultline --help`): add `.SS {cmd}` with its options")
            continue
        if cmd == "help":
            continue
        # A command whose help has no OPTIONS block takes no option of its own.
        want = help_options(run(cli, "help", cmd))
        lines = region(pages["faultline.1"], "COMMANDS", cmd)
        check_options("man/faultline.1", lines, f"COMMANDS/{cmd}", want, f"faultline help {cmd}",
                      ignore=("-C", "--control", "-h", "--help"))
    for ss in subsections:
        if ss not in commands:
            fail(f"man/faultline.1: section COMMANDS has subsection '{ss}', "
                 "which `faultline --help` does not list")

    # Configuration keys of the examples.
    def check_keys(page, example, where_for):
        for kind, keys in example_keys(os.path.join(src, "deploy", example)).items():
            sh, ss, extra = where_for(kind)
            lines = region(pages[page], sh, ss) + (region(pages[page], sh) if extra else [])
            if not lines:
                fail(f"man/{page}: no section for [{kind}] of deploy/{example} "
                     f"(expected .SH {sh}{' / .SS ' + ss if ss else ''})")
                continue
            words = bold_words(lines)
            for k in keys:
                if k not in words:
                    fail(f"man/{page}: section {sh}{'/' + ss if ss else ''} lacks key '{k}' "
                         f"(of [{kind}] in deploy/{example}): add a .TP item `.B {k}`")

    readme = os.path.join(src, "README.md")
    for page, section in (("faultline-agent.conf.5", "agent"),
                          ("faultline-collector.conf.5", "collector")):
        keys = readme_keys(readme, section)
        if not keys:
            fail(f"README.md: no table headed | `[{section}]` key | (has it moved?)")
        words = bold_words(region(pages[page], f"THE [{section}] SECTION"))
        for k in keys:
            if k not in words:
                fail(f"man/{page}: section THE [{section}] SECTION lacks key '{k}' "
                     f"(in README.md's [{section}] table): add a .TP item `.B {k}`")
    # The notification sections' tables, in NOTIFICATIONS.
    words = bold_words(region(pages["faultline-collector.conf.5"], "NOTIFICATIONS"))
    for section in ("notify", 'webhook "NAME"', "alertmanager"):
        keys = readme_keys(readme, section)
        if not keys:
            fail(f"README.md: no table headed | `[{section}]` key | (has it moved?)")
        for k in keys:
            if k not in words:
                fail(f"man/faultline-collector.conf.5: section NOTIFICATIONS lacks key '{k}' "
                     f"(in README.md's [{section}] table): add a .TP item `.B {k}`")

    check_keys("faultline-agent.conf.5", "agent.conf.example",
               lambda k: ("THE [agent] SECTION", None, False) if k == "agent"
               else ("PROBE SECTIONS", f'[{k} "NAME"]', True))
    check_keys("faultline-collector.conf.5", "collector.conf.example",
               lambda k: ("THE [collector] SECTION", None, False) if k == "collector"
               else ("NOTIFICATIONS", None, False))
    check_keys("faultline.expect.5", "faultline.expect.example",
               lambda k: ("KEYS", None, False))

    for e in errors:
        print(e)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
