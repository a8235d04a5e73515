"""Porting code and repro scripts: the printed text is what runs here, and it computes what it says."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from helpers import make_case

from harness.adapters.errors import Unsupported
from harness.adapters.registry import adapter_names, get_adapter
from harness.export.script import load, port_program, repro_script
from harness.model.data import make_tensors
from harness.model.machine import cpu_flags
from harness.truth.bounds import error_bound
from harness.truth.reference import reference

sys.path.insert(0, str(Path(__file__).parents[1] / "adapters"))
from battery import VALID_CONFIGS

# Framework refusals and SciPy's missing ops (recorded in the case library), not hint errors
CANNOT = {
    "scipy": {"float16", "bfloat16", "channels-first-bfloat16"},
    "onnxruntime": {"float64", "bfloat16", "channels-first-bfloat16", "in-channels-0"},
    "keras": {"replicate", "circular", "batch-0", "in-channels-0"},
    "keras-jax": {"in-channels-0", "float64"},
    "keras-torch": {"replicate", "circular", "in-channels-0"},
    "torch": {"in-channels-0"}, "torch-functional": {"in-channels-0"}, "torch-unfold": {"in-channels-0"},
    "equinox": {"in-channels-0"},
}
BUILT_IN = ("torch", "torch-functional", "torch-unfold", "jax", "equinox", "keras", "scipy", "onnxruntime")
if "avx512f" not in cpu_flags():  # TensorFlow's bfloat16 falls back to Eigen, which takes NHWC only (harness/quiet.py)
    CANNOT["keras"] = CANNOT["keras"] | {"channels-first-bfloat16"}


def operands(case):
    """The operands as a script gets them from data.npz: bfloat16 as float32, separable's w as its pair."""
    t = make_tensors(case, case.seed)
    plain = [None if a is None else (a.astype(np.float32) if a.dtype.name == "bfloat16" else a)
             for a in (t.input, t.weights, t.bias, t.pointwise)]
    return t, plain[:3] if t.pointwise is None else [plain[0], (plain[1], plain[3]), plain[2]]


@pytest.mark.parametrize("adapter", [a for a in BUILT_IN if get_adapter(a).available()])
def test_every_port_program_computes_the_reference(adapter: str) -> None:
    checked = 0
    for name, fields in VALID_CONFIGS.items():
        case = make_case(**fields)
        if name in CANNOT.get(adapter, ()):
            continue
        try:
            text = port_program(case, get_adapter(adapter))
        except Unsupported:
            assert (adapter, case.op) in {("scipy", "conv_transpose"), ("scipy", "separable"), ("equinox", "separable"),
                                          ("torch-unfold", "separable")} or (adapter, case.rank) == ("torch-unfold", 3), name
            continue
        t, plain = operands(case)
        ref = reference(case, t)
        with np.errstate(divide="ignore", invalid="ignore"):  # scipy's method choice takes log(0) on empty batches
            y = load(text)(*plain)
        assert y.shape == ref.out.shape and np.all(np.abs(y - ref.out) <= error_bound(case, ref)), (adapter, name)
        checked += 1
    assert checked >= 30


@pytest.mark.parametrize("adapter", [a for a in BUILT_IN if get_adapter(a).available()])
def test_every_repro_program_is_the_code_that_ran(adapter: str, tmp_path: Path) -> None:
    """The repro script of each battery configuration holds the very program the worker compiles
    (`Adapter.program` for the case's own plan), and run as a script it computes exactly what the
    harness's run of the pair computed, or raises the error that run recorded."""
    from harness.run.pair import run_adapter

    chosen, checked = get_adapter(adapter), 0
    for name, fields in VALID_CONFIGS.items():
        case = make_case(**fields)
        try:
            plan = chosen.plan(case)
        except Unsupported:
            continue
        text = repro_script(case, chosen, plan, "a version")
        assert chosen.program(case, plan) in text
        t, plain = operands(case)
        outcome = run_adapter(adapter, case, t)
        with np.errstate(divide="ignore", invalid="ignore"):
            if outcome.status == "error":
                with pytest.raises(Exception) as raised:
                    load(text, str(tmp_path / f"{adapter}.py"))(*plain)
                assert type(raised.value).__name__ == outcome.error_type, (adapter, name)
                continue
            y = load(text, str(tmp_path / f"{adapter}.py"))(*plain)
        assert outcome.output is not None and np.array_equal(y, outcome.output.values, equal_nan=True), (adapter, name)
        checked += 1
    assert checked >= 30


@pytest.mark.parametrize(("case_fields", "to", "needles"), [
    ({"padding": "same", "stride": 2, "input_size": 8}, "torch", ["functional.pad(x, [0, 1, 0, 1]",
                                                               "padding=0"]),
    ({"op": "conv_transpose", "stride": 2, "padding": 1, "output_padding": 1, "input_size": 4}, "keras",
     ["Conv2DTranspose", "output_padding=(1, 1)", "padding='valid'", "y[:, :, 1:y.shape[2] - 1, 1:y.shape[3] - 1]",
      "w.transpose(2, 3, 1, 0)"]),
])
def test_port_hints_read_as_promised(case_fields: dict, to: str, needles: list[str]) -> None:
    """Keras Conv2D(strides=2, padding='same') in torch; torch ConvTranspose2d(padding=1, output_padding=1) in Keras."""
    if not get_adapter(to).available():
        pytest.skip(f"{to} is not installed")
    case = make_case(**case_fields)
    text = port_program(case, get_adapter(to))
    for needle in needles:
        assert needle in text, (needle, text)
    t, plain = operands(case)
    ref = reference(case, t)
    assert np.all(np.abs(load(text)(*plain) - ref.out) <= error_bound(case, ref))


def run_blocking_harness(script: Path) -> subprocess.CompletedProcess[str]:
    """Run a script as `python script.py` would, with any import of the harness failing."""
    code = (f"import sys; sys.modules['harness'] = None; sys.argv = [{str(script)!r}]; "
            f"exec(compile(open({str(script)!r}).read(), {str(script)!r}, 'exec'), "
            f"{{'__name__': '__main__', '__file__': {str(script)!r}}})")
    return subprocess.run([sys.executable, "-c", code], cwd=script.parent, capture_output=True, text=True, timeout=300)


def test_repro_bundle_scripts_exit_1_only_for_the_diverging_framework(tmp_path: Path) -> None:
    pytest.importorskip("scipy")
    pytest.importorskip("torch")
    (tmp_path / "cases").mkdir()
    (tmp_path / "cases" / "c.yaml").write_text(
        "cases:\n  - id: even-same\n    in_channels: 2\n    input_size: [6, 7]\n    out_channels: 3\n"
        "    kernel_size: 4\n    padding: same\n")
    out = subprocess.run([sys.executable, "-m", "harness", "repro", "even-same", "-a", "torch, scipy, jax", "-o", "b"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    bundle = tmp_path / "b" / "even-same"
    assert sorted(p.name for p in bundle.iterdir()) == ["case.yaml", "data.npz", "jax.py", "scipy.py", "torch.py"]
    results = {name: run_blocking_harness(bundle / f"{name}.py") for name in ("torch", "scipy", "jax")}
    assert {n: r.returncode for n, r in results.items()} == {"torch": 0, "scipy": 1, "jax": 0}, results
    assert "OUT OF BOUND" in results["scipy"].stdout and "within the bound" in results["torch"].stdout
    validate = subprocess.run([sys.executable, "-m", "harness", "validate", str(bundle / "case.yaml")],
                              capture_output=True, text=True, timeout=60)
    assert validate.returncode == 0, validate.stderr  # the bundle's case is a valid case file


def test_bundle_scripts_check_the_gradients_and_a_configuration_with_no_output(tmp_path: Path) -> None:
    """The bias-axis bug of Keras on TensorFlow (cases/separable.yaml): its script exits 1 on the forward
    output and on db, torch's exits 0; an invalid case's script exits 0 when the framework refuses it."""
    pytest.importorskip("keras")
    pytest.importorskip("torch")
    (tmp_path / "cases").mkdir()
    (tmp_path / "cases" / "c.yaml").write_text(
        "cases:\n  - id: bias-axis\n    op: separable\n    layout: channels_first\n    in_channels: 5\n"
        "    out_channels: 5\n    input_size: [7]\n    kernel_size: 3\n    grad: true\n"
        "  - id: no-output\n    in_channels: 1\n    input_size: [2, 2]\n    out_channels: 1\n    kernel_size: 3\n")
    for case_id in ("bias-axis", "no-output"):
        out = subprocess.run([sys.executable, "-m", "harness", "repro", case_id, "-a", "keras,torch", "-o", "b"],
                             cwd=tmp_path, capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, out.stderr
    results = {name: run_blocking_harness(tmp_path / "b" / "bias-axis" / f"{name}.py") for name in ("keras", "torch")}
    assert {n: r.returncode for n, r in results.items()} == {"keras": 1, "torch": 0}, results
    keras_lines = dict(line.split(":", 1) for line in results["keras"].stdout.splitlines() if ":" in line)
    assert "OUT OF BOUND" in keras_lines["output"] and "OUT OF BOUND" in keras_lines["db"]
    assert "within the bound" in keras_lines["dx"] and "within the bound" in keras_lines["dpw"]
    refused = run_blocking_harness(tmp_path / "b" / "no-output" / "torch.py")
    assert refused.returncode == 0 and "as it should" in refused.stdout, refused


def test_run_repro_bundles_failing_pairs_and_port_refuses_clearly(tmp_path: Path) -> None:
    pytest.importorskip("scipy")
    (tmp_path / "cases").mkdir()
    (tmp_path / "cases" / "c.yaml").write_text(
        "cases:\n  - id: even-same\n    in_channels: 1\n    input_size: 6\n    out_channels: 1\n"
        "    kernel_size: 2\n    padding: same\n    adapters: [scipy]\n")
    out = subprocess.run([sys.executable, "-m", "harness", "run", "--repro"], cwd=tmp_path, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 1 and (tmp_path / "reports" / "repro" / "even-same" / "scipy.py").exists()
    port = subprocess.run([sys.executable, "-m", "harness", "port", "even-same", "--to", "tensorflow"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert port.returncode == 2 and port.stderr.startswith("error: --to: unknown adapter 'tensorflow' (did you mean 'keras'?)")
    assert set(adapter_names()) >= set(BUILT_IN)


def test_a_bundle_for_an_id_longer_than_a_file_name_is_written(tmp_path: Path) -> None:
    """Ids over 255 characters validate; their bundle folder is cut to a name the file system takes."""
    from harness.export.repro import bundle_folder, write_bundle

    case = make_case(id="x" * 300, adapters=["scipy"])
    folder = bundle_folder(tmp_path, case)
    assert len(folder.name) <= 120 and folder != bundle_folder(tmp_path, make_case(id="x" * 299))
    write_bundle(case, ["scipy"], folder)
    assert (folder / "scipy.py").is_file() and (folder / "case.yaml").is_file()


@pytest.mark.parametrize("name", BUILT_IN)
def test_port_programs_import_only_what_they_use(name: str) -> None:
    text = port_program(make_case(dtype="float64"), get_adapter(name))
    assert "import sys" not in text and "sys." not in text


def test_the_jax_port_keeps_x64_to_its_own_call() -> None:
    jax = pytest.importorskip("jax")
    case = make_case(dtype="float64")
    text = port_program(case, get_adapter("jax"))
    assert "jax_enable_x64" not in text and "jax.enable_x64(True)" in text
    t, (x, w, b) = operands(case)
    before = bool(jax.config.jax_enable_x64)
    y = load(text)(x, w, b)
    assert bool(jax.config.jax_enable_x64) == before  # the program did not flip it for everyone
    ref = reference(case, t)
    assert y.dtype == np.float64 and np.all(np.abs(y - ref.out) <= error_bound(case, ref))
