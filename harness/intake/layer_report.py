"""The run's rows, one line per layer of the model: kind, shape, padding, and per adapter what it did.

A layer whose configuration another layer already has was not run again: it gets that layer's
rows (`same as` names it). Per adapter a layer *computes the same* (its forward pass matched the
reference), *does not* (a mismatch, an error or a timeout: the verdict, the ratio to the bound,
the measured pads when they differ from the reference's, the diagnosis), or the adapter cannot
express it (*not applicable*, with the adapter's reason). Written as layers.csv and layers.md
beside the run's results.csv; the summary goes to the terminal first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ..atomic import atomic_write_all
from ..fuzz.kinds import Kind, kind_of
from ..model.geometry import sides
from ..results.rows import Row, pads_of
from .layer import Extraction

SAME, DIFFERENT, NOT_APPLICABLE, NOT_RUN = "same", "differs", "not applicable", "not run"


@dataclass(frozen=True)
class LayerRun:
    """A layer of the model as the report needs it: its case id and the case whose rows it has."""

    case_id: str
    name: str
    kind: str
    fields: dict[str, Any]
    ran_as: str  # its own id, or the first layer's with the same configuration


def outcome(status: str) -> str:
    if status == "match":
        return SAME
    if status in ("unsupported", "skipped"):
        return NOT_APPLICABLE
    return DIFFERENT


def _pads(row: Mapping[str, Any], rank: int) -> str:
    """'pads t,b,l,r 0,1,0,1 (reference 1,0,1,0)' when the measured pads differ from the reference's."""
    got, want = pads_of(dict(row)), pads_of(dict(row), "ref_pad_")
    if got is None or want is None or got == want:
        return ""
    return (f"pads {','.join(s[0] for s in sides(rank))} {','.join(map(str, got))} "
            f"(reference {','.join(map(str, want))})")


def _cell(row: Mapping[str, Any], rank: int) -> str:
    status = str(row["status"])
    if status == "match":
        ratio = row.get("err_bound_ratio")
        return "same" + (f" ({ratio:.2g} of the bound)" if isinstance(ratio, float) and not pd.isna(ratio) else "")
    parts = [status]
    ratio = row.get("err_bound_ratio")
    if isinstance(ratio, float) and not pd.isna(ratio) and status == "mismatch":
        parts.append(f"{ratio:.3g}x the bound")
    if row.get("mismatch_on") and not pd.isna(row["mismatch_on"]):
        parts.append(f"on {row['mismatch_on']}")
    pads = _pads(row, rank)
    if pads:
        parts.append(pads)
    for key in ("diagnosis", "reason", "error_message"):
        value = row.get(key)
        if isinstance(value, str) and value:
            parts.append(value if len(value) <= 160 else value[:157].rsplit(" ", 1)[0] + " ...")
            break
    return ": ".join([parts[0], ", ".join(parts[1:])]) if len(parts) > 1 else parts[0]


def _shape(fields: Mapping[str, Any]) -> str:
    return f"{fields['in_channels']}x{'x'.join(str(s) for s in fields['input_size'])} -> {fields['out_channels']}"


def _padding(fields: Mapping[str, Any]) -> str:
    padding = fields.get("padding", "valid")
    mode = fields.get("padding_mode")
    text = padding if isinstance(padding, str) else str(padding).replace(" ", "")
    return f"{text} {mode}" if mode else text


def _known(row: Mapping[str, Any], known: Mapping[Kind, str]) -> str:
    if row["status"] in ("match", "unsupported", "skipped"):
        return ""
    reason = known.get(kind_of(Row.from_record(dict(row))), "")
    return " ".join(reason.split())


def table(layers: Sequence[LayerRun], rows: pd.DataFrame, adapters: Sequence[str],
          known: Mapping[Kind, str] | None = None) -> pd.DataFrame:
    """One row per layer x adapter (forward pass), in model order; `known`: fuzz.kinds.recorded_reasons."""
    forward = rows[rows["pass"] == "forward"] if "pass" in rows else rows
    by_key = {(r["case_id"], r["adapter"]): r for r in forward.astype(object).where(forward.notna(), None)
              .to_dict("records")}
    records = []
    for index, layer in enumerate(layers, 1):
        rank = len(layer.fields["input_size"])
        for adapter in adapters:
            row = by_key.get((layer.ran_as, adapter))
            records.append({
                "index": index, "layer": layer.name, "case_id": layer.case_id, "kind": layer.kind,
                "shape": _shape(layer.fields), "padding": _padding(layer.fields),
                "same_as": "" if layer.ran_as == layer.case_id else layer.ran_as, "adapter": adapter,
                "outcome": outcome(str(row["status"])) if row else NOT_RUN,
                "status": row["status"] if row else "", "err_bound_ratio": row.get("err_bound_ratio") if row else None,
                "detail": _cell(row, rank) if row else "not run (the run was interrupted, or the case did not load)",
                "diagnosis": (row.get("diagnosis") or "") if row else "",
                "known": _known(row, known or {}) if row else ""})
    return pd.DataFrame.from_records(records)


def _first_sentence(text: str) -> str:
    head = text.split(". ")[0].rstrip(".")
    return head if len(head) <= 120 else head[:117].rsplit(" ", 1)[0] + " ..."


def summary(extraction: Extraction, df: pd.DataFrame, distinct: int, interrupted: bool = False) -> list[str]:
    """'MobileNetV2: 52 convolutions (38 distinct), 49 compute the same in keras, 3 do not: ...' per adapter;
    an interrupted run says so first."""
    count = df["index"].nunique() if not df.empty else len(extraction.layers)
    head = (f"{extraction.model}: {count} convolution{'s' if count != 1 else ''} ({distinct} distinct "
            f"configuration{'s' if distinct != 1 else ''})")
    if extraction.unexpressed:
        head += f"; {len(extraction.unexpressed)} more the harness cannot express (listed below)"
    lines = [head]
    if interrupted:
        lines.insert(0, f"INTERRUPTED: {int((df['outcome'] == NOT_RUN).sum())} layer x adapter pairs did not run; "
                        "the same command with --resume runs only those")
    for adapter, group in df.groupby("adapter", sort=False):
        same = group[group["outcome"] == SAME]
        bad = group[group["outcome"] == DIFFERENT]
        na, missing = group[group["outcome"] == NOT_APPLICABLE], group[group["outcome"] == NOT_RUN]
        text = f"  {adapter}: {len(same)} compute the same"
        if not bad.empty:
            names = ", ".join(f"{r.layer} ({r.status})" for r in bad.head(4).itertuples())
            text += f", {len(bad)} do not: {names}" + (" ..." if len(bad) > 4 else "")
            recorded = bad[bad["known"] != ""]
            if not recorded.empty:
                text += (f" ({'all' if len(recorded) == len(bad) else len(recorded)} as the case library records: "
                         f"{_first_sentence(recorded.iloc[0]['known'])})")
        if not na.empty:
            text += f", {len(na)} not applicable"
        if not missing.empty:
            text += f", {len(missing)} not run"
        lines.append(text)
    lines += [f"  cannot express {u.name} ({u.kind}): {u.why}" for u in extraction.unexpressed]
    return lines


def markdown(extraction: Extraction, df: pd.DataFrame, lines: Sequence[str]) -> str:
    """layers.md: the summary, then one table row per layer with a column per adapter."""
    out = [f"# {extraction.model}, layer by layer", "", *[f"    {line}" for line in lines], ""]
    adapters = list(dict.fromkeys(df["adapter"]))
    out.append("| # | layer | kind | shape | padding | " + " | ".join(adapters) + " |")
    out.append("|" + " --- |" * (5 + len(adapters)))
    for (_, layer), group in df.groupby(["index", "layer"], sort=True):
        first = group.iloc[0]
        name = f"{layer} (as {first['same_as']})" if first["same_as"] else str(layer)
        cells = [(f"{d} (known: {_first_sentence(k)})" if k else str(d)).replace("|", "\\|")
                 for d, k in zip(group["detail"], group["known"], strict=True)]
        out.append(f"| {first['index']} | {name} | {first['kind']} | {first['shape']} | {first['padding']} | "
                   + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"


def write(extraction: Extraction, df: pd.DataFrame, lines: Sequence[str], folder: Path) -> list[Path]:
    return atomic_write_all({folder / "layers.csv": df.to_csv(index=False),
                             folder / "layers.md": markdown(extraction, df, lines)})

