"""What the fuzzer draws: cases over every field, steered to the shape coincidences that hide bugs.

Layout and broadcasting bugs stay silent exactly where two axes have the same length: a bias added
along the wrong axis of an output whose last axis is as long as its channel count, a kernel read
HWIO as OIHW when in == out, a transposed H and W of a square input. Uniform sizes rarely line
up, so after the fields are drawn one coincidence (or none) is imposed on them where it can hold
without breaking the groups (a drawn case may still be invalid, as a kernel larger than its input
is: the frameworks should refuse those):

- `channels`: in_channels == out_channels
- `output-channels`: out_channels (or the depthwise channels) == the last axis of the output
- `input-channels`: the last input axis == in_channels
- `square`: every spatial axis of the input the same
- `kernel`: the last input axis == the kernel
- `stride`: the last input axis == the stride

Every op (conv, convolve, conv_transpose, separable) and rank, both layouts, bias on and off,
every dtype and padding form; groups 1 (half the cases), 2 or depthwise (groups = in_channels).
The common choices weigh more: dilation 1 (two thirds per axis), float32 (two fifths), zero
padding (half), so a bug in the ordinary path is not diluted by the rare ones. Sizes start at 1
(`allow_empty` starts them at 0); batch <= 2, channels <= 6, spatial sizes <= 10 (6 in 3-D).
Every choice lists its simplest value first, so shrinking heads there.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

from ..cases.loading import Case, stable_seed
from ..model import ops
from ..model.schema import Conv

COINCIDENCES = ("none", "channels", "output-channels", "input-channels", "square", "kernel", "stride")
MAX_CHANNELS = 6


@st.composite
def case_fields(draw: Any, allow_empty: bool = False) -> dict[str, Any]:
    """One case's fields, a coincidence imposed (module docstring)."""
    low = 0 if allow_empty else 1
    op = draw(st.sampled_from(["conv", "conv_transpose", "separable", "convolve"]))
    rank = draw(st.sampled_from([2, 1, 3]))
    top = 10 if rank < 3 else 6
    form = "plain" if op == "separable" else draw(st.sampled_from(["plain", "plain", "depthwise", "grouped"]))
    channels = draw(st.integers(low, 4))
    fields: dict[str, Any] = {
        "op": op, "batch": draw(st.integers(low, 2)), "in_channels": channels,
        "out_channels": draw(st.integers(low, 4)),
        "input_size": [draw(st.integers(low, top)) for _ in range(rank)],
        "kernel_size": [draw(st.integers(low, 4)) for _ in range(rank)],
        "stride": [draw(st.integers(max(low, 1) if draw(st.booleans()) else low, 3)) for _ in range(rank)],
        "dilation": [draw(st.sampled_from([1, 1, 2] if low else [1, 1, 2, 0])) for _ in range(rank)],
        "bias": draw(st.booleans()),
        "dtype": draw(st.sampled_from(["float32", "float32", "float64", "float16", "bfloat16"])),
        "layout": draw(st.sampled_from(["channels_last", "channels_first"])),
        "grad": draw(st.booleans()),
    }
    if form == "grouped":
        fields.update(groups=2, in_channels=2 * max(1, channels // 2), out_channels=2 * max(1, fields["out_channels"] // 2))
    multiplier = draw(st.integers(1, 2))
    if op == "separable":
        fields["depth_multiplier"] = multiplier
    words = ["valid", "same", "same_lower"] + (["full", "causal"] if op != "conv_transpose" else [])
    explicit = st.lists(st.lists(st.integers(0, 3), min_size=2, max_size=2), min_size=rank, max_size=rank)
    fields["padding"] = draw(st.one_of(st.sampled_from(words), explicit))
    if op == "conv_transpose":
        fields["output_padding"] = [draw(st.integers(0, max(0, s - 1))) for s in fields["stride"]]
    else:
        fields["padding_mode"] = draw(st.sampled_from(["zeros", "zeros", "zeros", "reflect", "replicate", "circular"]))
    if form == "depthwise":  # groups = in_channels, out_channels a multiple of it
        channels = max(1, min(channels, MAX_CHANNELS // multiplier))
        fields.update(groups=channels, in_channels=channels, out_channels=channels * multiplier)
    coincide(fields, draw(st.sampled_from(COINCIDENCES)), multiplier if form == "depthwise" else 1)
    return fields


def coincide(fields: dict[str, Any], coincidence: str, multiplier: int) -> None:
    """Impose one coincidence on drawn fields, in place; where it cannot hold, leave them as drawn.
    A depthwise case (`multiplier` > 1 or groups == in_channels) keeps out = in * multiplier."""
    groups = fields.get("groups", 1)
    depthwise = groups > 1 and groups == fields["in_channels"]
    if coincidence == "channels":
        if depthwise:
            fields["out_channels"] = fields["in_channels"] = fields["groups"] = fields["out_channels"] // multiplier
        else:
            fields["out_channels"] = fields["in_channels"]
    elif coincidence == "input-channels":
        fields["input_size"][-1] = fields["in_channels"]
    elif coincidence == "square":
        fields["input_size"] = [fields["input_size"][0]] * len(fields["input_size"])
    elif coincidence in ("kernel", "stride"):
        fields["input_size"][-1] = fields["kernel_size" if coincidence == "kernel" else "stride"][-1]
    elif coincidence == "output-channels":
        try:
            size = ops.output_spatial(Conv.model_validate({"id": "probe", **fields}))
        except ValueError:
            return
        if not size or not 1 <= size[-1] <= MAX_CHANNELS:
            return
        if depthwise and size[-1] % multiplier == 0:
            fields["in_channels"] = fields["groups"] = size[-1] // multiplier
            fields["out_channels"] = size[-1]
        elif not depthwise and size[-1] % groups == 0:
            fields["out_channels"] = size[-1]


MUTABLE = ("batch", "in_channels", "out_channels", "input_size", "kernel_size", "stride", "dilation", "padding",
           "layout", "bias", "dtype", "grad")


def base_fields(case: Conv) -> dict[str, Any]:
    """A case as the fields a mutation starts from (its own arrays dropped: a mutation changes shapes)."""
    return case.model_dump(mode="json", include=set(Conv.model_fields),
                           exclude={"id", "doc", "adapters", "tolerance", "seed", "data", "output_size"})


@st.composite
def mutations(draw: Any, bases: tuple[dict[str, Any], ...]) -> dict[str, Any]:
    """A neighbour of an existing case (`fuzz --from`): up to three fields changed a little, then a
    coincidence imposed, as for a drawn case. The unchanged case comes first, so shrinking heads back."""
    fields: dict[str, Any] = json.loads(json.dumps(draw(st.sampled_from(bases))))  # a deep copy
    for name in draw(st.lists(st.sampled_from(MUTABLE), max_size=3, unique=True)):
        value = fields.get(name)
        if name in ("layout", "bias", "grad"):
            flipped = {"channels_last": "channels_first", "channels_first": "channels_last"}
            fields[name] = flipped[str(value)] if name == "layout" else not value
        elif name == "dtype":
            fields[name] = draw(st.sampled_from(["float32", "float64", "float16", "bfloat16"]))
        elif name == "padding":
            fields[name] = draw(st.sampled_from(["valid", "same"]))
        elif isinstance(value, list) and value:
            axis = draw(st.integers(0, len(value) - 1))
            value[axis] = max(1, value[axis] + draw(st.sampled_from([1, -1, 2])))
        elif isinstance(value, int):
            fields[name] = max(1, value + draw(st.sampled_from([1, -1, 2])))
    coincide(fields, draw(st.sampled_from(COINCIDENCES)), 1)
    return fields


def make_case(fields: dict[str, Any]) -> Case:
    """The case of these fields; its seed depends on the fields alone, so a replay is the same case."""
    key = json.dumps(fields, sort_keys=True)
    conv = Conv.model_validate({"id": f"fuzz-{stable_seed(key):x}", **fields})
    return Case.model_construct(**{**dict(conv), "seed": stable_seed(key)}, file="fuzz", line=0, values={}, expect={})
