"""Text for generated timelines: the lines an editor, a terminal, web pages, chat, mail and
speech show, drawn from fixed word lists by a seeded ``random.Random`` (no files read, so
the same seed gives the same text on any machine).

Used by ``gen_timeline.py``. Lines are shaped like what OCR reads off those windows: code
with its indentation, shell prompts and command output, wrapped prose of ~60-100
characters, chat messages under a name and a time, mail headers and bodies; speech is one
Whisper segment of 6-30 words.
"""

from __future__ import annotations

import random
import string
from itertools import accumulate

COMMON = """
the of and to a in is it you that he was for on are with as I his they be at one have this from or had
by not word but what some we can out other were all there when up use your how said an each she which do
their time if will way about many then them write would like so these her long make thing see him two has
look more day could go come did number sound no most people my over know water than call first who may down
side been now find any new work part take get place made live where after back little only round man year
came show every good me give our under name very through just form sentence great think say help low line
differ turn cause much mean before move right boy old too same tell does set three want air well also play
small end put home read hand port large spell add even land here must big high such follow act why ask men
change went light kind off need house picture try us again animal point mother world near build self earth
father head stand own page should country found answer school grow study still learn plant cover food sun
four between state keep eye never last let thought city tree cross farm hard start might story saw far sea
draw left late run while press close night real life few north open seem together next white children begin
got walk example ease paper group always music those both mark often letter until mile river car feet care
second book carry took science eat room friend began idea fish mountain stop once base hear horse cut sure
watch color face wood main enough plain girl usual young ready above ever red list though feel talk bird
soon body dog family direct pose leave song measure door product black short numeral class wind question
happen complete ship area half rock order fire south problem piece told knew pass since top whole king space
heard best hour better true during hundred five remember step early hold west ground interest reach fast verb
sing listen six table travel less morning ten simple several vowel toward war lay against pattern slow center
love person money serve appear road map rain rule govern pull cold notice voice unit power town fine certain
fly fall lead cry dark machine note wait plan figure star box noun field rest correct able pound done beauty
drive stood contain front teach week final gave green oh quick develop ocean warm free minute strong special
mind behind clear tail produce fact street inch multiply nothing course stay wheel full force blue object
decide surface deep moon island foot system busy test record boat common gold possible plane stead dry wonder
laugh thousand ago ran check game shape equate hot miss brought heat snow tire bring yes distant fill east
paint language among
""".split()

TECH = """
server client request response cache query index table column schema migration deploy release build test
branch merge commit review config setting token budget window context model screen record timeline span
event transcript search result error warning exception timeout retry queue worker thread process memory disk
file folder path socket endpoint service database backup restore metric alert dashboard latency throughput
cluster node container image version update install package dependency module function method class object
value type string integer list dict field parameter argument return import export report invoice customer
account user password login session permission role team project issue ticket sprint roadmap estimate
""".split()

OFFICE = """
meeting moved staging production rotated wifi floor flight booking reference confirmed hotel train conference
talk slot room hall keynote workshop extension phone desk on-call rotation pager rate limit tier partner free
enterprise renewal renewed contract discount freeze window sprint review sync budget finance hiring design
Monday Tuesday Wednesday Thursday Friday morning afternoon next week schedule calendar invite agenda notes
password secret vault credentials printer guest visitors customer Acme Logistics Robotics Lisbon Berlin Porto
""".split()

NAMES = [
    "Dana Whitfield",
    "Marco Rossi",
    "Priya Natarajan",
    "Lena Fischer",
    "Omar Haddad",
    "Sofia Lindqvist",
    "Kenji Watanabe",
    "Aisha Bello",
    "Tom Gallagher",
    "Ines Carvalho",
    "Raj Mehta",
    "Hannah Kowalski",
]
PROJECTS = ["lifelog", "billing-api", "atlas-web", "ingest-worker", "ops-tools"]
MODULES = ["store", "replay", "capture", "api", "cli", "models", "utils", "config", "search", "jobs", "auth", "views"]
CHANNELS = ["#eng", "#ops", "#release", "#design", "#support", "#random", "#data", "#oncall"]
SITES = [
    ("docs.python.org", "Python documentation"),
    ("stackoverflow.com", "Stack Overflow"),
    ("github.com", "GitHub"),
    ("duckdb.org", "DuckDB"),
    ("developer.mozilla.org", "MDN Web Docs"),
    ("news.ycombinator.com", "Hacker News"),
    ("en.wikipedia.org", "Wikipedia"),
    ("arxiv.org", "arXiv"),
]
EXCEPTIONS = ["ValueError", "KeyError", "TimeoutError", "StoreError", "RuntimeError", "TypeError", "OSError"]
COMMANDS = [
    "git status",
    "git diff --stat",
    "git log --oneline -5",
    "pytest -q tests/{m}",
    "ls -la src/{p}/{m}",
    'grep -rn "{w}" src/',
    "python -m {p}.{m} --help",
    "make lint",
    "docker compose ps",
    "tail -n 20 logs/{m}.log",
    "du -sh data/",
    "git checkout -b {w}-{w2}",
    "ruff check src/{p}",
]
FILLERS = ["yeah", "so", "I think", "okay", "right", "um", "you know", "actually", "basically", "I mean"]
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


class TextSource:
    """Seeded line generators. Words are drawn with Zipf-like weights, so common words repeat
    as they do in real text while the tail keeps lines distinct."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self._common = list(accumulate(1.0 / (i + 8) for i in range(len(COMMON))))
        self._tech = list(accumulate(1.0 / (i + 4) for i in range(len(TECH))))
        self._office = list(accumulate(1.0 / (i + 4) for i in range(len(OFFICE))))

    # -- words -------------------------------------------------------------------------
    def word(self) -> str:
        return self.rng.choices(COMMON, cum_weights=self._common)[0]

    def tech(self) -> str:
        return self.rng.choices(TECH, cum_weights=self._tech)[0]

    def office(self) -> str:
        return self.rng.choices(OFFICE, cum_weights=self._office)[0]

    def words(self, n: int, tech_share: float = 0.15, office_share: float = 0.05) -> list[str]:
        """Common words, with a share of technical and of office words (meetings, travel,
        passwords, limits: the topics of the planted facts also come up in everyday text)."""
        out = []
        for _ in range(n):
            x = self.rng.random()
            out.append(
                self.tech() if x < tech_share else self.office() if x < tech_share + office_share else self.word()
            )
        return out

    def ident(self) -> str:
        return "_".join(self.tech() if i == 0 else self.word() for i in range(self.rng.randint(1, 3)))

    def camel(self) -> str:
        return "".join(w.capitalize() for w in (self.tech(), self.tech()))

    def sentence(self, lo: int = 6, hi: int = 18, tech_share: float = 0.15) -> str:
        ws = self.words(self.rng.randint(lo, hi), tech_share)
        if self.rng.random() < 0.15:
            ws.insert(self.rng.randrange(len(ws)), str(self.rng.randint(2, 9999)))
        return _upper_first(" ".join(ws)) + self.rng.choice(".....?!:")

    def number(self) -> str:
        return str(self.rng.choice([self.rng.randint(0, 99), self.rng.randint(100, 99999)]))

    def name(self) -> str:
        return self.rng.choice(NAMES)

    # -- windows -----------------------------------------------------------------------
    def code_line(self) -> str:
        r, i = self.rng, self.ident
        indent = " " * (4 * r.choice([0, 1, 1, 1, 2, 2, 2, 3]))
        kind = r.random()
        if kind < 0.08:
            arg, ret = r.choice(["int", "str", "Path", "bool"]), r.choice(["None", "int", "list[str]", "dict"])
            return f"def {i()}({i()}, {i()}: {arg}) -> {ret}:"
        if kind < 0.11:
            return f"class {self.camel()}({r.choice(['Base', 'Protocol', 'Exception', 'object'])}):"
        if kind < 0.40:
            return f"{indent}{i()} = {i()}({i()}, {self.number()})"
        if kind < 0.50:
            return f"{indent}if {i()} {r.choice(['is None', '> 0', '== ' + self.number(), 'in ' + i()])}:"
        if kind < 0.58:
            return f"{indent}return {i()}.{i()}({i()})"
        if kind < 0.64:
            return f"{indent}for {self.tech()} in {i()}:"
        if kind < 0.72:
            return f"{indent}# {self.sentence(4, 12, 0.3)}"
        if kind < 0.77:
            return f'{indent}raise {r.choice(EXCEPTIONS)}(f"{self.sentence(3, 8, 0.3)[:-1]}: {{{i()}}}")'
        if kind < 0.82:
            return f"from {r.choice(PROJECTS).replace('-', '_')}.{r.choice(MODULES)} import {i()}, {i()}"
        if kind < 0.88:
            return f"{indent}self.{i()} = {i()}"
        if kind < 0.93:
            return f'{indent}"""{self.sentence(5, 14, 0.3)}"""'
        return f"{indent}{i()}.{r.choice(['append', 'update', 'extend', 'add'])}({i()})"

    def command(self, project: str) -> str:
        return self.rng.choice(COMMANDS).format(
            p=project.replace("-", "_"), m=self.rng.choice(MODULES), w=self.tech(), w2=self.word()
        )

    def output_line(self, project: str) -> str:
        r = self.rng
        kind = r.random()
        if kind < 0.2:
            pct = r.randint(1, 100)
            return f"tests/{r.choice(MODULES)}/test_{self.ident()}.py {'.' * r.randint(3, 30)}{r.choice(['', 'F', 's'])} [{pct:3d}%]"
        if kind < 0.4:
            return (
                f"-rw-r--r-- 1 dana staff {r.randint(100, 99999):>6} {r.choice(MONTHS)} {r.randint(1, 28):2d} "
                f"{r.randint(8, 18):02d}:{r.randint(0, 59):02d} {self.ident()}.py"
            )
        if kind < 0.55:
            return f"{''.join(r.choices('0123456789abcdef', k=7))} {self.sentence(3, 9, 0.4)[:-1]}"
        if kind < 0.7:
            return f'  File "/home/dana/src/{project}/{r.choice(MODULES)}/{self.ident()}.py", line {r.randint(1, 900)}, in {self.ident()}'
        if kind < 0.85:
            return (
                f"2026-{r.randint(1, 12):02d}-{r.randint(1, 28):02d} {r.randint(8, 18):02d}:{r.randint(0, 59):02d}:"
                f"{r.randint(0, 59):02d},{r.randint(0, 999):03d} {r.choice(['INFO', 'INFO', 'WARNING', 'DEBUG', 'ERROR'])} "
                f"{project}.{r.choice(MODULES)}: {self.sentence(4, 12, 0.4)}"
            )
        diff = "+" * r.randint(1, 20) + "-" * r.randint(0, 10)
        return f" {r.choice(['M', 'A', '??', 'D'])} src/{project}/{r.choice(MODULES)}/{self.ident()}.py | {r.randint(1, 300)} {diff}"

    def prose_line(self) -> str:
        """One wrapped line of a web page: ~60-100 characters, or a heading."""
        if self.rng.random() < 0.08:
            return " ".join(self.words(self.rng.randint(2, 6), 0.4)).title()
        out, n = [], 0
        limit = self.rng.randint(60, 100)
        while n < limit:
            x = self.rng.random()
            w = self.tech() if x < 0.12 else self.office() if x < 0.16 else self.word()
            out.append(w)
            n += len(w) + 1
        line = " ".join(out)
        return _upper_first(line) + ("." if self.rng.random() < 0.3 else "")

    def chat_lines(self, name: str, hh: int, mm: int) -> list[str]:
        ampm = "AM" if hh < 12 else "PM"
        lines = [f"{name}  {(hh - 1) % 12 + 1}:{mm:02d} {ampm}", self.sentence(4, 22, 0.25)]
        if self.rng.random() < 0.3:
            lines.append(self.sentence(3, 14, 0.25))
        return lines

    def mail_row(self) -> str:
        r = self.rng
        return (
            f"{self.name()}  {self.sentence(3, 7, 0.4)[:-1]}  {self.sentence(4, 9)[:-1]}…  "
            f"{r.choice(MONTHS)} {r.randint(1, 28)}"
        )

    def speech(self) -> str:
        ws = self.words(self.rng.randint(6, 30), 0.12)
        if self.rng.random() < 0.5:
            ws.insert(0, self.rng.choice(FILLERS))
        return _upper_first(" ".join(ws)) + self.rng.choice("...?")

    def title_words(self) -> str:
        return " ".join(self.words(self.rng.randint(3, 7), 0.4)).title()

    def code(self, n: int) -> list[str]:
        return [self.code_line() for _ in range(n)]

    def token_hex(self, k: int = 6) -> str:
        return "".join(self.rng.choices(string.ascii_uppercase + string.digits, k=k))


def _upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]
