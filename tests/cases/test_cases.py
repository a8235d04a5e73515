"""Case files: loading, defaults, aliases, matrices, expectations, and every error kind with its line."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from harness.adapters.registry import adapter_names
from harness.cases.loading import format_value, load_cases, load_file, stable_seed

BASE = """\
cases:
  - id: base
    in_channels: 3
    input_size: [8, 6]
    out_channels: 4
    kernel_size: 3
"""


def write(tmp_path: Path, text: str, name: str = "c.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def problems_of(tmp_path: Path, text: str) -> list[str]:
    _, problems = load_file(write(tmp_path, text))
    return [f"{p.line}: {p.message}" for p in sorted(problems)]


def test_defaults_and_canonical_forms(tmp_path: Path) -> None:
    cases, problems = load_file(write(tmp_path, BASE))
    assert problems == []
    (case,) = cases
    assert case.input_size == (8, 6) and case.kernel_size == (3, 3) and case.stride == (1, 1)
    assert case.padding == "valid" and case.padding_mode == "zeros" and case.dilation == (1, 1)
    assert case.groups == 1 and case.bias is True and case.dtype == "float32" and case.batch == 1
    assert case.layout == "channels_last" and case.data.input == "normal" and case.data.weights == "normal"
    assert case.adapters is None and case.tolerance is None and case.expect == {}
    assert case.seed == stable_seed("base") and case.line == 2


def test_file_defaults_are_merged_under_every_case(tmp_path: Path) -> None:
    cases, problems = load_file(write(tmp_path, "defaults:\n  dtype: float16\n  stride: 2\n" + BASE
                                      + "    stride: 1\n"))
    assert problems == []
    assert cases[0].dtype == "float16" and cases[0].stride == (1, 1)


def test_keras_aliases(tmp_path: Path) -> None:
    text = """\
    cases:
      - id: k
        in_channels: 2
        input_size: 5
        filters: 7
        kernel_size: [1, 2]
        strides: [2, 1]
        dilation_rate: 2
        use_bias: false
    """
    (case,), problems = load_file(write(tmp_path, text))
    assert problems == []
    assert (case.out_channels, case.stride, case.dilation, case.bias) == (7, (2, 1), (2, 2), False)


@pytest.mark.parametrize(("written", "padding"), [
    ("valid", "valid"), ("0", "valid"), ("same", "same"), ("same_lower", "same_lower"),
    ("2", ((2, 2), (2, 2))), ("[1, 3]", ((1, 1), (3, 3))), ("[[1, 2], [0, 3]]", ((1, 2), (0, 3))),
    ("[0, 0]", "valid"),
])
def test_padding_forms(tmp_path: Path, written: str, padding: object) -> None:
    (case,), problems = load_file(write(tmp_path, BASE + f"    padding: {written}\n"))
    assert problems == [] and case.padding == padding


def test_data_as_name_or_mapping(tmp_path: Path) -> None:
    (one,), _ = load_file(write(tmp_path, BASE + "    data: ones\n"))
    (two,), _ = load_file(write(tmp_path, BASE + "    data: {input: arange, weights: integers}\n"))
    assert (one.data.input, one.data.weights) == ("ones", "ones")
    assert (two.data.input, two.data.weights) == ("arange", "integers")


def test_matrix_expands_in_written_order_with_exclude(tmp_path: Path) -> None:
    text = BASE + """\
    matrix:
      kernel_size: [2, 3]
      stride: [1, [2, 1]]
      bias: [true, false]
    exclude:
      - {kernel_size: 2, stride: [2, 1]}
"""
    text = text.replace("    kernel_size: 3\n", "")
    cases, problems = load_file(write(tmp_path, text))
    assert problems == []
    assert [c.id for c in cases] == [
        "base[kernel_size=2,stride=1,bias=true]", "base[kernel_size=2,stride=1,bias=false]",
        "base[kernel_size=3,stride=1,bias=true]", "base[kernel_size=3,stride=1,bias=false]",
        "base[kernel_size=3,stride=2x1,bias=true]", "base[kernel_size=3,stride=2x1,bias=false]",
    ]
    assert cases[4].stride == (2, 1) and cases[4].values == {"kernel_size": 3, "stride": [2, 1], "bias": True}
    assert len({c.seed for c in cases}) == len(cases)


def test_matrix_keys_keep_their_spelling_in_ids(tmp_path: Path) -> None:
    text = BASE + "    matrix:\n      strides: [1, 2]\n"
    cases, problems = load_file(write(tmp_path, text))
    assert problems == [] and [c.id for c in cases] == ["base[strides=1]", "base[strides=2]"]
    assert cases[1].stride == (2, 2)


def test_expect_short_form_and_rules(tmp_path: Path) -> None:
    text = BASE.replace("    kernel_size: 3\n", "") + """\
    matrix:
      kernel_size: [1, 3]
      stride: [1, 2]
    expect:
      - torch: error
      - when: {stride: 2}
        torch: {status: mismatch, reason: "later rules win"}
        keras: unsupported
      - when: {stride: 2, kernel_size: 1}
        jax: {status: error}
"""
    cases, problems = load_file(write(tmp_path, text))
    assert problems == []
    by_id = {c.id: c.expect for c in cases}
    assert {k: v.status for k, v in by_id["base[kernel_size=1,stride=1]"].items()} == {"torch": "error"}
    stride2 = by_id["base[kernel_size=3,stride=2]"]
    assert stride2["torch"].status == "mismatch" and stride2["torch"].reason == "later rules win"
    assert stride2["keras"].status == "unsupported" and "jax" not in stride2
    assert by_id["base[kernel_size=1,stride=2]"]["jax"].status == "error"

    (case,), _ = load_file(write(tmp_path, BASE + "    expect: {keras: {status: error, reason: r}}\n"))
    assert case.expect["keras"].status == "error" and case.expect["keras"].reason == "r"


def test_expect_can_target_one_pass_of_a_grad_case(tmp_path: Path) -> None:
    text = BASE + """\
    grad: true
    expect:
      - torch: {status: error, error_type: ValueError}
        jax: {status: mismatch, pass: backward}
        keras: {status: unsupported, pass: forward}
"""
    (case,), problems = load_file(write(tmp_path, text))
    assert problems == []
    assert {k: v.status for k, v in case.expect.items()} == {
        "torch": "error", "torch:backward": "error", "jax:backward": "mismatch", "keras": "unsupported"}
    assert case.grad is True
    _, problems = load_file(write(tmp_path, BASE + "    expect: {jax: {status: error, pass: sideways}}\n"))
    assert [p.message for p in problems] == [
        "case 'base': expect.jax.pass: Input should be 'forward', 'backward' or 'init' (got 'sideways')"]


def test_only_pass_init_rules_cover_the_init_pass(tmp_path: Path) -> None:
    text = BASE + """\
    grad: true
    init: true
    expect:
      - torch: {status: error, error_type: ValueError}
        keras: {status: mismatch, pass: init}
"""
    (case,), problems = load_file(write(tmp_path, text))
    assert problems == [] and case.passes == ("forward", "backward", "init")
    assert {k: v.status for k, v in case.expect.items()} == {
        "torch": "error", "torch:backward": "error", "keras:init": "mismatch"}


@pytest.mark.parametrize(("extra", "message"), [
    ("    dtype: float16\n", "init measures float32 or float64 parameters, not float16"),
    ("    op: separable\n", "init measures one kernel"),
])
def test_init_refuses_what_it_cannot_measure(tmp_path: Path, extra: str, message: str) -> None:
    _, problems = load_file(write(tmp_path, BASE + extra + "    init: true\n"))
    assert len(problems) == 1 and message in problems[0].message


def test_init_refuses_a_layer_without_parameters(tmp_path: Path) -> None:
    text = BASE.replace("in_channels: 3", "in_channels: 0") + "    init: true\n"
    _, problems = load_file(write(tmp_path, text))
    assert len(problems) == 1 and "in_channels, out_channels and kernel_size of at least 1" in problems[0].message


def test_explicit_seed_is_kept(tmp_path: Path) -> None:
    (case,), _ = load_file(write(tmp_path, BASE + "    seed: 7\n"))
    assert case.seed == 7


def test_stable_seed_is_stable() -> None:
    assert stable_seed("base") == stable_seed("base") != stable_seed("base2")
    assert stable_seed("torch-docs-square-stride2") == 2004592936  # pinned: reruns see the same data


def test_format_value() -> None:
    assert [format_value(v) for v in (2, [2, 3], True, "same", [[1, 2], [0, 1]], 1.5)] == [
        "2", "2x3", "true", "same", "1x2x0x1", "1.5"]


# --- broken files: every kind, with the exact line --------------------------------------

BROKEN_FIELDS: list[tuple[str, ...]] = [
    ("    stride: two\n", "7: case 'base': stride: expected a non-negative integer or a list with one per spatial axis ([L], [H, W] or [D, H, W]), got 'two'"),
    ("    padding: sometimes\n", "7: case 'base': padding: expected valid, same, same_lower, full, causal, or for "
                               "this 2-D case p, [ph, pw] or [[top, bottom], [left, right]] of non-negative "
                               "integers, got 'sometimes'"),
    ("    padding: [1, 2]\n", "7: case 'base': padding: expected valid, same, same_lower, full, "
                               "causal, or for this 1-D case p, [p] or [[left, right]] of non-negative integers, "
                               "got [1, 2]", "[9]"),
    ("    stride: [1, 2]\n", "7: case 'base': stride: this case is 3-D (input_size has 3 "
                               "values): write one non-negative integer or a list of 3, got [1, 2]", "[4, 5, 6]"),
    ("    output_padding: 1\n", "7: case 'base': output_padding: output_padding applies to op: conv_transpose only"
                               " (got 1)"),
    ("    op: conv_transpose\n    padding: causal\n", "8: case 'base': padding: 'causal' pads a forward convolution; "
                               "conv_transpose takes valid, same, same_lower or explicit crops"),
    ("    op: conv_transpose\n    padding_mode: reflect\n", "8: case 'base': padding_mode: conv_transpose crops its "
                               "output; padding_mode applies to conv and convolve only (got 'reflect')"),
    ("    depth_multiplier: 2\n", "7: case 'base': depth_multiplier: depth_multiplier applies to op: separable only (a "
                                 "depthwise conv is groups: in_channels with out_channels = depth_multiplier * "
                                 "in_channels) (got 2)"),
    ("    op: separable\n    groups: 2\n", "8: case 'base': groups: separable has no groups: its depthwise part groups "
                                         "by input channel, its 1x1 part not at all (Keras' SeparableConv has no groups "
                                         "argument) (got 2)"),
    ("    op: separable\n    depth_multiplier: 0\n", "8: case 'base': depth_multiplier: Input should be greater than or "
                                                   "equal to 1 (got 0)"),
    ("    op: deconv\n", "7: case 'base': op: Input should be 'conv', 'conv_transpose', 'convolve' or 'separable' (got 'deconv')"),
    ("    expect: {torch: {status: error, message: '(unclosed'}}\n", "7: case 'base': expect.torch.message: not a "
                               "valid regular expression: missing ), unterminated subpattern at position 0 "
                               "(got '(unclosed')"),
    ("    kernal_size: 3\n", "7: case 'base': unknown field 'kernal_size' (did you mean 'kernel_size'?)"),
    ("    padding_mode: mirror\n", "7: case 'base': padding_mode: Input should be 'zeros', 'reflect', "
                                 "'replicate' or 'circular' (got 'mirror')"),
    ("    dtype: float8\n", "7: case 'base': dtype: Input should be 'float16', 'bfloat16', 'float32' or "
                          "'float64' (got 'float8')"),
    ("    batch: -1\n", "7: case 'base': batch: Input should be greater than or equal to 0 (got -1)"),
    ("    bias: maybe\n", "7: case 'base': bias: Input should be a valid boolean (got 'maybe')"),
    ("    filters: 4\n", "7: case 'base': 'out_channels' and 'filters' are the same field; give one"),
    ("    data: {input: ones, weight: ones}\n", "7: case 'base': data: unknown key 'weight' (did you mean 'weights'?)"),
    ("    adapters: [torch, tf]\n", "7: case 'base': adapters.1: unknown adapter 'tf' "
                                     f"(registered: {', '.join(adapter_names())})"),
    ("    tolerance: {rtol: -1}\n", "7: case 'base': tolerance.rtol: Input should be greater than or equal to 0 (got -1)"),
    ("    expect: {torch: broken}\n", "7: case 'base': expect.torch.status: Input should be 'match', 'mismatch', "
                                    "'error', 'unsupported' or 'skipped' (got 'broken')"),
    ("    expect: {pytorch: error}\n", "7: case 'base': expect: unknown adapter 'pytorch' (did you mean 'torch'?) "
                                  f"(registered: {', '.join(adapter_names())})"),
]


@pytest.mark.parametrize(("addition", "expected", "size"), [(*t, "[8, 6]")[:3] for t in BROKEN_FIELDS])
def test_broken_field(tmp_path: Path, addition: str, expected: str, size: str) -> None:
    assert problems_of(tmp_path, BASE.replace("[8, 6]", size) + addition) == [expected]


def test_nested_list_items_point_at_their_own_line(tmp_path: Path) -> None:
    text = BASE + "    stride:\n      - 1\n      - -2\n"
    assert problems_of(tmp_path, text) == [
        "7: case 'base': stride: expected a non-negative integer or a list with one per spatial axis ([L], [H, W] or [D, H, W]), got [1, -2]"]
    rules = BASE + "    expect:\n      - when: {stride: 1}\n        torch: error\n      - when: {strid: 2}\n        jax: nope\n"
    assert problems_of(tmp_path, rules) == [
        "10: case 'base': expect[1].when: unknown field 'strid' (did you mean 'stride'?)",
        "11: case 'base': expect[1].jax.status: Input should be 'match', 'mismatch', 'error', 'unsupported' "
        "or 'skipped' (got 'nope')",
    ]
    rules = BASE + "    expect:\n      - when: {strid: 2}\n        jax: error\n"
    assert problems_of(tmp_path, rules) == [
        "8: case 'base': expect[0].when: unknown field 'strid' (did you mean 'stride'?)"]


def test_missing_required_field_points_at_the_case(tmp_path: Path) -> None:
    text = "cases:\n  - id: a\n    in_channels: 1\n    input_size: 4\n    out_channels: 1\n"
    assert problems_of(tmp_path, text) == ["2: case 'a': missing required field 'kernel_size'"]
    assert problems_of(tmp_path, "cases:\n  - in_channels: 1\n") == [
        f"2: case at line 2: missing required field '{f}'" for f in ("id", "input_size", "kernel_size", "out_channels")]


def test_all_errors_of_a_file_at_once(tmp_path: Path) -> None:
    text = BASE + "    stride: two\n  - id: second\n    in_channels: x\n    input_size: 1\n    out_channels: 1\n    kernel_size: 1\n"
    assert problems_of(tmp_path, text) == [
        "7: case 'base': stride: expected a non-negative integer or a list with one per spatial axis ([L], [H, W] or [D, H, W]), got 'two'",
        "9: case 'second': in_channels: Input should be a valid integer (got 'x')",
    ]


def test_bad_id(tmp_path: Path) -> None:
    assert problems_of(tmp_path, BASE.replace("id: base", "id: Base Case")) == [
        "2: case 'Base Case': id: String should match pattern '^[a-z0-9][a-z0-9._-]*$' (got 'Base Case')"]


def test_matrix_problems(tmp_path: Path) -> None:
    text = BASE + "    matrix:\n      stride: []\n      strid: [1]\n      kernel_size: [1]\n      id: [x]\n"
    assert problems_of(tmp_path, text) == [
        "8: case 'base': matrix.stride: expected a non-empty list of values",
        "9: case 'base': matrix: unknown field 'strid' (did you mean 'stride'?)",
        "10: case 'base': matrix: 'kernel_size' is also given directly in the case; give it once",
        "11: case 'base': matrix: 'id' cannot vary in a matrix",
    ]


def test_bad_matrix_value_points_at_its_item(tmp_path: Path) -> None:
    text = BASE + "    matrix:\n      stride:\n        - 1\n        - three\n"
    assert problems_of(tmp_path, text) == [
        "10: case 'base': stride: expected a non-negative integer or a list with one per spatial axis ([L], [H, W] or [D, H, W]), got 'three'"]


def test_exclude_must_name_matrix_keys(tmp_path: Path) -> None:
    text = BASE + "    matrix:\n      stride: [1, 2]\n    exclude:\n      - {strides: 1}\n      - {dilation: 2}\n"
    assert problems_of(tmp_path, text) == [
        "11: case 'base': exclude: unknown matrix key 'dilation'"]


@pytest.mark.parametrize(("text", "expected"), [
    ("", "1: the file is empty: expected a mapping with 'cases:'"),
    ("# only a comment\n", "1: the file is empty: expected a mapping with 'cases:'"),
    ("- a\n- b\n", "1: expected a mapping with 'cases:' (a list of cases)"),
    ("just text\n", "1: expected a mapping with 'cases:' (a list of cases)"),
    ("defaults: {}\n", "1: expected a mapping with 'cases:' (a list of cases)"),
    ("cases: 3\n", "1: cases: expected a list of cases"),
    ("cases:\n  - 3\n", "2: cases[0]: expected a mapping with 'id:'"),
    ("case:\n  - id: x\ncases: []\n", "1: unknown top-level key 'case' (did you mean 'cases'?)"),
    ("defaults: [1]\ncases: []\n", "1: defaults: expected a mapping of case fields"),
    ("defaults:\n  id: x\ncases: []\n", "2: defaults: 'id' cannot be given here"),
    ("cases:\n  - id: a\n    in_channels: [1\n", "3: YAML syntax: "),
    ("cases:\n  - id: a\n  id: b\n", "3: YAML syntax: "),
    ("cases:\n  - id: a\n    id: b\n", "3: key 'id' is written twice (first at line 2)"),
    ("cases: !!python/object:os.system {}\n", "1: YAML syntax: could not determine a constructor for the tag "
                                              "'tag:yaml.org,2002:python/object:os.system'"),
])
def test_broken_documents(tmp_path: Path, text: str, expected: str) -> None:
    (problem,) = problems_of(tmp_path, text)
    # YAML syntax messages differ between libyaml and pure-Python PyYAML; the line does not
    assert problem == expected if not expected.endswith(": ") else problem.startswith(expected)


def test_duplicate_ids_across_files_name_both_places(tmp_path: Path) -> None:
    write(tmp_path, BASE, "a.yaml")
    write(tmp_path, "# another file\n" + BASE, "b.yaml")
    result = load_cases([tmp_path])
    assert len(result.cases) == 1
    (problem,) = result.problems
    assert problem.line == 3 and problem.path.endswith("b.yaml")
    assert problem.message.startswith("id: duplicate case id 'base' (first at ") and "a.yaml:2)" in problem.message


def test_a_bad_file_does_not_stop_the_others(tmp_path: Path) -> None:
    write(tmp_path, "cases: [\n", "a.yaml")
    write(tmp_path, BASE, "b.yaml")
    sub = tmp_path / "deeper"
    sub.mkdir()
    write(sub, BASE.replace("id: base", "id: other"), "c.yaml")
    result = load_cases([tmp_path])
    assert [c.id for c in result.cases] == ["base", "other"]
    assert len(result.problems) == 1 and result.problems[0].path.endswith("a.yaml")


def test_missing_path_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    result = load_cases([tmp_path / "nope.yaml"])
    assert result.cases == [] and "cannot read the file" in result.problems[0].message


def test_shipped_cases_load() -> None:
    result = load_cases([Path(__file__).parents[2] / "cases"])
    assert result.problems == []
    assert len(result.cases) >= 18
