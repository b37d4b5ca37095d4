"""The README opens with the two set-up commands, .ci/run calls the test one, and the command
reference is generated from --help (regenerate with scripts/cli_reference.py); the README stays
short and no link in it or in docs/ points nowhere."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_readme_starts_with_run_and_test_commands_and_ci_calls_the_test_one():
    readme = (ROOT / "README.md").read_text()
    first_block = readme.split("```bash\n", 1)[1].split("```", 1)[0].strip().splitlines()
    commands = [line.split("#")[0].strip() for line in first_block]
    assert commands == ["bash scripts/run.sh", "bash scripts/test.sh"]
    ci = [l for l in (ROOT / ".ci" / "run").read_text().splitlines() if l and not l.startswith(("#", "set ", "cd "))]
    assert ci[-1] == "bash scripts/test.sh"


def test_cli_reference_is_current():
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "cli_reference.py"), "--check"])
    assert proc.returncode == 0, "docs/cli.md is stale: run .venv/bin/python scripts/cli_reference.py"


def test_readme_stays_short_and_every_relative_link_in_it_and_docs_resolves():
    assert len((ROOT / "README.md").read_text().splitlines()) <= 250, "README.md: move detail into docs/"
    broken = []
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text()):
            if "://" not in target and not (page.parent / target).exists():
                broken.append(f"{page.relative_to(ROOT)} -> {target}")
    assert broken == []
