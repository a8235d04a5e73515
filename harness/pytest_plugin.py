"""pytest over the case matrix: one test per (case, adapter) (SPEC section 6).

Node ids are `cases/<file>.yaml::<case id>::<adapter>`. Only the folders named by the
`harness_cases` ini option (this repository: `cases`) or `--harness-cases PATH` are
collected, and case files named on the command line, so installing the package changes no other
project's run. Collection reads YAML only and
imports no framework. Items carry no fixtures. A case's data and reference are computed
once per process. Each item's results row travels in `user_properties`, so under
pytest-xdist the controller alone writes `--harness-report DIR`, with the same rows as a
serial run. Items are grouped by adapter (`--dist loadgroup`): each worker then imports
one framework.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .cases.loading import Case, adapters_for, load_file
from .results.rows import Row

ROW_KEY = "harness_row"
ENV_KEY = "harness_env"  # an adapter's version and precision switches, sent once per process
_ENV_SENT: set[str] = set()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("harness", "convolution comparison harness")
    group.addoption("--harness-report", metavar="DIR", default=None,
                    help="write results.csv and report.html for the case items that ran")
    group.addoption("--harness-cases", metavar="PATH", action="append", default=[],
                    help="collect the case files under PATH (repeatable; adds to the harness_cases ini option)")
    parser.addini("harness_cases", "folders (or files) whose *.yaml case files pytest collects, relative to the "
                  "rootdir; none by default, so other projects' YAML files are left alone", type="paths", default=[])


def _case_roots(config: pytest.Config) -> list[Path]:
    """Where this project keeps case files: the ini option and --harness-cases, nothing else."""
    given = [Path(p).resolve() for p in config.getoption("--harness-cases")]
    return [Path(p).resolve() for p in config.getini("harness_cases")] + given


def _named_files(config: pytest.Config) -> list[Path]:
    """Case files named on the command line (`pytest path/to/my_cases.yaml`): always collected."""
    base = Path(str(config.invocation_params.dir))
    named = [base / str(arg).split("::", 1)[0] for arg in config.invocation_params.args if not str(arg).startswith("-")]
    return [p.resolve() for p in named if p.suffix in (".yaml", ".yml") and p.is_file()]


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.suffix not in (".yaml", ".yml"):
        return None
    path = file_path.resolve()
    if path in _named_files(parent.config) or any(path == root or root in path.parents
                                                  for root in _case_roots(parent.config)):
        return CaseFile.from_parent(parent, path=file_path)
    return None


class CaseFile(pytest.File):
    def collect(self) -> Iterator[pytest.Collector]:
        cases, problems = load_file(self.path)
        if problems:
            raise pytest.Collector.CollectError("\n".join(str(p) for p in sorted(set(problems))))
        for case in cases:
            yield CaseNode.from_parent(self, name=case.id, case=case)


class CaseNode(pytest.Collector):
    def __init__(self, *, case: Case, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.case = case

    def collect(self) -> Iterator[pytest.Item]:
        for pass_ in self.case.passes:  # ids ...::<case>::<adapter>, then ::backward and ::init
            for adapter in adapters_for(self.case):
                name = adapter if pass_ == "forward" else f"{adapter}::{pass_}"
                yield CaseItem.from_parent(self, name=name, case=self.case, adapter=adapter, pass_=pass_)

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, self.case.line - 1, self.case.id


class CaseFailure(Exception):
    """A pair whose status is not the expected one; carries its results row."""

    def __init__(self, row: Row) -> None:
        super().__init__(row.case_id)
        self.row = row


_ROWS: dict[tuple[str, str, str, str], Row] = {}
_RUN: dict[str, Any] = {}  # this process's workers and prepared references, made on first use


def _row(case: Case, adapter: str, pass_: str = "forward") -> Row:
    """One pair through the same workers as `run`, so a crash is one failed item, not a dead process."""
    from .run.loop import pair_rows
    from .run.prepared import Prepared
    from .run.workers import Executor

    key = (case.file, case.id, adapter, pass_)
    if key not in _ROWS:
        if not _RUN:
            executor = Executor()
            _RUN.update(executor=executor, prepared=Prepared(retain=4, timeout=executor.timeout))
        for row in pair_rows(case, adapter, _RUN["executor"], _RUN["prepared"]):
            _ROWS[(case.file, case.id, adapter, row.pass_)] = row
    return _ROWS[key]


class CaseItem(pytest.Item):
    def __init__(self, *, case: Case, adapter: str, pass_: str = "forward", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.case, self.adapter, self.pass_ = case, adapter, pass_
        self.add_marker(pytest.mark.xdist_group(adapter))

    def runtest(self) -> None:
        row = _row(self.case, self.adapter, self.pass_)
        self.user_properties.append((ROW_KEY, json.dumps(row.record(), default=_plain)))
        env = _RUN["executor"].environment if _RUN else {}
        if env and self.adapter not in _ENV_SENT and any(k.startswith(self.adapter) for k in env):
            _ENV_SENT.add(self.adapter)  # the workers told their versions and switches; the controller writes
            self.user_properties.append((ENV_KEY, json.dumps(env)))
        if row.status == "skipped":
            raise pytest.skip.Exception(row.error_message or f"{self.adapter} is not installed",
                                        _use_item_location=True)
        if not row.passed:
            raise CaseFailure(row)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, CaseFailure):
            from .report.failure import failure_text

            # only rows this process already has: computing the others would start their workers here
            others = {a: _ROWS[key].record() for a in adapters_for(self.case)
                      if (key := (self.case.file, self.case.id, a, "forward")) in _ROWS}
            return failure_text(self.case, excinfo.value.row.record(), others)
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, self.case.line - 1, f"{self.case.id}::{self.name}"


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else str(value)


class _ReportWriter:
    """Collects rows from every item (local or from xdist workers); writes once at the end."""

    def __init__(self, folder: str) -> None:
        self.folder = folder
        self.rows: list[Row] = []
        self.env: dict[str, str] = {}

    @pytest.hookimpl
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        for key, value in report.user_properties:
            if key == ROW_KEY and report.when == "call":
                self.rows.append(Row.from_record(json.loads(str(value))))
            elif key == ENV_KEY and report.when == "call":
                self.env.update(json.loads(str(value)))

    @pytest.hookimpl
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        from .report.write import write_reports
        from .results.environment import environment

        rows = sorted(self.rows, key=lambda r: (r.file, r.line or 0, r.case_id, r.adapter))
        args = ["pytest", *session.config.invocation_params.args]
        write_reports(rows, self.folder, {**environment(args), **self.env})


def pytest_sessionstart(session: pytest.Session) -> None:
    _ROWS.clear()  # a new session (pytester runs several in one process) computes afresh
    _ENV_SENT.clear()


def pytest_sessionfinish(session: pytest.Session) -> None:
    if _RUN:
        _RUN.pop("executor").close()
        _RUN.clear()


def pytest_configure(config: pytest.Config) -> None:
    from .quiet import prepare_environment

    config.addinivalue_line("markers", "xdist_group(name): run in the same xdist worker as its group")
    if not _case_roots(config) and not _named_files(config):
        return  # installed but not configured here, no case file named: some other project's business
    from .problems import BadInput
    from .run.options import environment_options

    try:
        environment_options()  # a typo in HARNESS_FRAMEWORKS or HARNESS_TIMEOUT: one line, no test runs
    except BadInput as exc:
        raise pytest.UsageError(str(exc)) from None
    prepare_environment()  # before any item imports a framework
    from .run.threads import share_cores

    share_cores()  # the framework workers this process starts inherit their share of the cores
    # A broken case file is one collection error; the other files still run (exit stays non-zero).
    config.option.continue_on_collection_errors = True
    folder = config.getoption("--harness-report")
    if folder and not hasattr(config, "workerinput"):  # the controller (or a serial run) writes
        config.pluginmanager.register(_ReportWriter(os.path.abspath(folder)), "harness-report-writer")
