"""The README opens with the two set-up commands, .ci/run calls the test one, and the command
reference is generated from --help (regenerate with scripts/cli_reference.py)."""

from __future__ import annotations

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
    assert proc.returncode == 0, "docs/commands.md is stale: run .venv/bin/python scripts/cli_reference.py"
