"""The README opens with the two commands, and CI runs the second one verbatim."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def readme_commands() -> list[str]:
    return re.findall(r"```sh\n(.+?)\n```", (ROOT / "README.md").read_text())


def test_readme_opens_with_install_run_and_test_commands() -> None:
    install_and_run, test = readme_commands()[:2]
    assert "pip install -c constraints.txt" in install_and_run and install_and_run.endswith("harness run")
    assert "pytest" in test


def test_ci_calls_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    assert readme_commands()[1] in ci.splitlines()


def test_constraints_pin_the_frameworks() -> None:
    pins = dict(line.split("==") for line in (ROOT / "constraints.txt").read_text().splitlines()
                if "==" in line and not line.startswith("#"))
    assert pins["torch"] == "2.13.0" and pins["tensorflow_cpu"] == "2.21.0" and pins["jax"] == "0.10.2"
    assert pins["keras"].startswith("3.")
    assert {"onnx", "onnxruntime", "scipy", "mypy", "ruff"} <= set(pins)


def test_readme_names_nothing_outside_the_repository() -> None:
    text = (ROOT / "README.md").read_text()
    assert "../" not in text and "SPEC.md" not in text and "shared folder" not in text
    for link in re.findall(r"\]\(([^)#:]+)\)", text):  # relative links point at files that exist
        assert (ROOT / link).exists(), link
    assert {"docs/cases.md", "docs/statuses.md", "docs/reports.md", "docs/adapters.md"} <= set(
        re.findall(r"\]\((docs/[^)]+)\)", text))
