// Draws the report's case list from the JSON block #data: filters, collapsed cases whose
// details (adapters side by side, pads or crops to scale, heat maps) are built when opened.
(function () {
  "use strict";
  const D = JSON.parse(document.getElementById("data").textContent);
  function decode(fields, values, into) {
    fields.forEach(function (f, i) {
      const v = i < values.length ? values[i] : null;  // trailing empty fields are left out
      into[f] = v !== null && D.strings_in.indexOf(f) >= 0 ? D.strings[v] : v;
    });
    return into;
  }
  const caseInfo = D.cases.map(function (c) { return decode(D.case_fields, c, {}); });
  const rows = D.rows.map(function (r) { return decode(D.row_fields, r.slice(1), Object.assign({}, caseInfo[r[0]])); });
  const cases = new Map();
  rows.forEach(function (r) {
    if (!cases.has(r.case_id)) cases.set(r.case_id, []);
    cases.get(r.case_id).push(r);
  });
  const ORDER = {forward: 0, backward: 1, init: 2};
  function isForward(r) { return !r.pass || r.pass === "forward"; }
  cases.forEach(function (list) {  // forward rows first, then the backward rows of a grad case, then init rows
    list.sort(function (a, b) { return (ORDER[a.pass] || 0) - (ORDER[b.pass] || 0); });
  });
  function label(r) { return r.pass === "backward" ? r.adapter + " ∇" : r.pass === "init" ? r.adapter + " init" : r.adapter; }
  const SIDES = {1: [["left", "right"]], 2: [["top", "bottom"], ["left", "right"]],
    3: [["front", "back"], ["top", "bottom"], ["left", "right"]]};
  const NS = "http://www.w3.org/2000/svg";

  function el(tag, attrs, text) {
    const e = tag.startsWith("svg:") ? document.createElementNS(NS, tag.slice(4)) : document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function anchor(id) { return "case-" + id.replace(/[^a-zA-Z0-9_.-]/g, "_"); }
  function pads(r, prefix) {
    const out = [];
    for (const pair of SIDES[r.rank || 2]) {
      const lo = r[prefix + pair[0]], hi = r[prefix + pair[1]];
      if (lo === null || hi === null || lo === undefined || hi === undefined) return null;
      out.push([lo, hi]);
    }
    return out;
  }
  function fmt(v) { return v === null || v === undefined ? "" : typeof v === "number" ? String(+v.toPrecision(4)) : String(v); }
  function sizeOf(r) { const m = / in=(\d+(?:x\d+)*) /.exec(r.case || ""); return m ? m[1].split("x").map(Number) : null; }
  function spatial(shape) { return shape ? shape.split("x").slice(2).map(Number) : null; }

  // One picture: the input (conv) or the produced output (conv_transpose) as a box drawn to scale,
  // pads or crops as bands beside it; hatched inside where a negative pad/crop falls.
  function picture(label, p, ref, box, transposed) {
    const W = 150, H = p && p.length === 1 ? 44 : 118, svg = el("svg:svg", {width: W, height: H + 30, role: "img", "aria-label": "pads of " + label});
    svg.appendChild(el("svg:text", {x: W / 2, y: 11, "text-anchor": "middle"}, label));
    if (!p || !box) {
      svg.appendChild(el("svg:text", {x: W / 2, y: 60, "text-anchor": "middle", fill: "#777"}, "not measured"));
      return svg;
    }
    const axes = p.length === 1 ? [null, p[0]] : p.slice(-2), dims = box.length === 1 ? [1, box[0]] : box.slice(-2);
    const rAxes = ref ? (ref.length === 1 ? [null, ref[0]] : ref.slice(-2)) : [null, null];
    const ext = dims.map(function (d, i) { const a = axes[i] || [0, 0]; return d + Math.max(a[0], 0) + Math.max(a[1], 0); });
    const unit = Math.min(8, (W - 40) / ext[1], (H - 30) / Math.max(ext[0], 1));
    const bw = dims[1] * unit, bh = Math.max(dims[0] * unit, 6);
    const x0 = (W - bw) / 2 + ((axes[1][0] > 0 ? axes[1][0] : 0) - (axes[1][1] > 0 ? axes[1][1] : 0)) * unit / 2;
    const y0 = 18 + (H - 18 - bh) / 2 + (axes[0] ? ((axes[0][0] > 0 ? axes[0][0] : 0) - (axes[0][1] > 0 ? axes[0][1] : 0)) * unit / 2 : 0);
    svg.appendChild(el("svg:rect", {x: x0, y: y0, width: bw, height: bh, fill: "#e5e7e9", stroke: "#666"}));
    svg.appendChild(el("svg:text", {x: x0 + bw / 2, y: y0 + bh / 2 + 4, "text-anchor": "middle", fill: "#555"}, box.join("x")));
    const sides = [[0, 0, "top"], [0, 1, "bottom"], [1, 0, "left"], [1, 1, "right"]];
    sides.forEach(function (s) {
      const a = axes[s[0]];
      if (!a) return;
      const v = a[s[1]], refV = rAxes[s[0]] ? rAxes[s[0]][s[1]] : v;
      const differs = ref && v !== refV, asym = a[0] !== a[1];
      const colour = differs ? "#e74c3c" : asym ? "#f5b041" : "#7fb3d5";
      const t = Math.abs(v) * unit, inside = v < 0;
      let x, y, w, h;
      if (s[0] === 0) { w = bw; h = t; x = x0; y = s[1] === 0 ? (inside ? y0 : y0 - t) : (inside ? y0 + bh - t : y0 + bh); }
      else { w = t; h = bh; y = y0; x = s[1] === 0 ? (inside ? x0 : x0 - t) : (inside ? x0 + bw - t : x0 + bw); }
      if (t > 0) {
        const band = el("svg:rect", {x: x, y: y, width: w, height: h, fill: inside ? "url(#hatch)" : colour,
          stroke: colour, "stroke-width": differs ? 2 : 1});
        band.appendChild(el("svg:title", {}, s[2] + ": " + v));
        svg.appendChild(band);
      }
      const tx = s[0] === 1 ? (s[1] === 0 ? x0 - Math.max(t, 0) - 3 : x0 + bw + Math.max(t, 0) + 3) : x0 + bw / 2;
      const ty = s[0] === 0 ? (s[1] === 0 ? y0 - (inside ? 0 : t) - 3 : y0 + bh + (inside ? 0 : t) + 11) : y0 + bh / 2 + 4;
      svg.appendChild(el("svg:text", {x: tx, y: ty, "text-anchor": s[0] === 1 ? (s[1] === 0 ? "end" : "start") : "middle",
        fill: differs ? "#c0392b" : "#222", "font-weight": differs ? "bold" : "normal"}, v));
    });
    if (p.length === 3) svg.appendChild(el("svg:text", {x: W / 2, y: H + 24, "text-anchor": "middle", fill: "#555"},
      "depth: " + (transposed ? "crops " : "pads ") + p[0][0] + ", " + p[0][1]));
    return svg;
  }

  function heat(grid, label) {  // log scale over the map's own range; within the bound (<= 1) stays pale
    const cells = grid.split("/").map(function (line) { return line.trim().split(/\s+/).map(Number); });
    const c = Math.max(6, Math.min(16, Math.floor(160 / Math.max(cells.length, cells[0].length))));
    const finite = [].concat.apply([], cells).filter(function (v) { return v > 0 && isFinite(v); });
    const lo = Math.log10(finite.length ? Math.min.apply(null, finite) : 1), hi = Math.log10(finite.length ? Math.max.apply(null, finite) : 1);
    function colour(v) {
      if (!v) return "#ffffff";
      const level = v === Infinity ? 1 : hi > lo ? (Math.log10(v) - lo) / (hi - lo) : 1;
      if (v <= 1) return "rgb(" + Math.round(235 - 60 * level) + "," + Math.round(240 - 40 * level) + ",250)";
      return "rgb(255," + Math.round(230 - 200 * level) + "," + Math.round(210 - 200 * level) + ")";
    }
    const width = Math.max(c * cells[0].length + 2, 230), top = 16, bottom = top + c * cells.length;
    const svg = el("svg:svg", {width: width, height: bottom + 46, role: "img", "aria-label": "value differences of " + label});
    svg.appendChild(el("svg:text", {x: 0, y: 11}, label + ": |y - ref| / bound"));
    cells.forEach(function (line, i) {
      line.forEach(function (v, j) {
        const r = el("svg:rect", {x: 1 + j * c, y: top + i * c, width: c, height: c, fill: colour(v)});
        r.appendChild(el("svg:title", {}, fmt(v)));
        svg.appendChild(r);
      });
    });
    const steps = 24, barW = 150;  // the legend: the same log scale, its ends labelled
    for (let k = 0; k < steps; k++) {
      const v = Math.pow(10, lo + (hi - lo) * (k + 0.5) / steps);
      svg.appendChild(el("svg:rect", {x: 1 + k * barW / steps, y: bottom + 6, width: barW / steps + 0.5, height: 8, fill: colour(v)}));
    }
    svg.appendChild(el("svg:text", {x: 1, y: bottom + 26}, fmt(Math.pow(10, lo))));
    svg.appendChild(el("svg:text", {x: barW + 1, y: bottom + 26, "text-anchor": "end"}, fmt(Math.pow(10, hi))));
    svg.appendChild(el("svg:text", {x: 1, y: bottom + 40}, "log scale; blue: within the bound, red: beyond it"));
    return svg;
  }

  function index(text) {  // "0x2x2x6" (or "dx 0x1x2x2") is an index, not a shape
    const parts = text.split(" "), place = parts.pop();
    return (parts.length ? parts.join(" ") + " " : "") + "index [" + place.split("x").join(", ") + "]";
  }

  function details(list) {
    const first = list[0], frag = document.createDocumentFragment(), transposed = first.op === "conv_transpose";
    frag.appendChild(el("p", {class: "meta"}, (first.case || "") + "  (" + (first.file || "") + ":" + fmt(first.line) + ")"));
    if (first.doc) frag.appendChild(el("p", {}, first.doc));
    const labels = [["status", function (r) { return r.status + (r.mismatch_on ? " on " + r.mismatch_on : "") + (r.expected && r.status !== r.expected ? " (expected " + r.expected + ")" : ""); }],
      ["realization", function (r) { return r.realization; }], ["version", function (r) { return r.framework_version; }],
      ["device, precision", function (r) { return r.device ? r.device + ", " + r.precision : ""; }],
      ["shape (N C spatial)", function (r) { return r.out_shape; }],
      [transposed ? "crops (low high per axis)" : "pads (low high per axis)", function (r) { const p = pads(r, "pad_"); return p ? p.map(function (a) { return a.join(" "); }).join(", ") : ""; }],
      ["parameters", function (r) { return r.param_count; }],
      ["dx, dw, (dpw,) db err_bound_ratio", function (r) { const v = [r.dx_err_bound_ratio, r.dw_err_bound_ratio].concat(r.dpw_err_bound_ratio != null ? [r.dpw_err_bound_ratio] : []).concat([r.db_err_bound_ratio]); return r.pass === "backward" && v.some(function (x) { return x !== null; }) ? v.map(fmt).join(", ") : ""; }],
      ["err_bound_ratio", function (r) { return fmt(r.err_bound_ratio) + (r.strict_err_bound_ratio !== null && r.strict_err_bound_ratio !== r.err_bound_ratio ? " (float32 bound: " + fmt(r.strict_err_bound_ratio) + ")" : ""); }],
      ["worst element", function (r) { return r.worst_index ? index(r.worst_index) + " (N, C, spatial...): " + fmt(r.worst_value) + " vs " + fmt(r.worst_reference) + " (bound " + fmt(r.worst_bound) + ")" : ""; }],
      ["error", function (r) { return r.error_message ? (r.error_type ? r.error_type + ": " : "") + r.error_message : ""; }],
      ["pinned error", function (r) { return r.expected_error; }],
      ["diagnosis", function (r) { return r.diagnosis ? r.diagnosis + (r.diagnosis_detail ? ": " + r.diagnosis_detail : "") : ""; }]];
    const refPads = pads(first, "ref_pad_");
    const reference = {status: "", expected: "", realization: "", framework_version: "float64 NumPy", out_shape: first.ref_shape || "(invalid: no output)",
      param_count: first.expected_param_count};
    function side(rows, withReference) {  // one table: a column per row, a line per label that has a value
      const table = el("table", {class: "side"}), head = el("tr");
      head.appendChild(el("th"));
      if (withReference) head.appendChild(el("th", {}, "reference"));
      rows.forEach(function (r) { head.appendChild(el("th", {}, label(r))); });
      table.appendChild(head);
      labels.forEach(function (lab) {
        const values = rows.map(function (r) { return lab[1](r); });
        const refValue = !withReference ? "" : lab[0].indexOf("pads") === 0 || lab[0].indexOf("crops") === 0
          ? (refPads ? refPads.map(function (a) { return a.join(" "); }).join(", ") : "") : lab[1](reference);
        if (!values.some(function (v) { return v !== null && v !== undefined && v !== ""; }) && !refValue) return;
        const tr = el("tr");
        tr.appendChild(el("th", {}, lab[0]));
        if (withReference) tr.appendChild(el("td", {}, fmt(refValue)));
        rows.forEach(function (r, i) {
          const td = el("td", {}, fmt(values[i]));
          if (lab[0] === "status") { td.className = "st " + r.status + (r.passed === false ? " bad" : ""); }
          tr.appendChild(td);
        });
        table.appendChild(tr);
      });
      return table;
    }
    const forward = list.filter(isForward);
    const backward = list.filter(function (r) { return r.pass === "backward"; });
    frag.appendChild(side(forward, true));
    if (backward.length) {
      frag.appendChild(el("p", {class: "meta"}, "Gradients of sum(y * g): dL/dx, dL/dw, dL/db against float64 reference gradients"));
      frag.appendChild(side(backward, false));
    }
    const init = list.filter(function (r) { return r.pass === "init" && r.init_kernel; });
    if (init.length) {  // the histograms are in the Default initialisers section
      frag.appendChild(el("p", {class: "meta"}, "Default initialisers, measured (KS p against torch's default):"));
      const ul = el("ul", {class: "init"});
      init.forEach(function (r) {
        ul.appendChild(el("li", {}, r.adapter + " " + r.status + ": kernel " + r.init_kernel + " (p " + fmt(r.init_kernel_p) + ")"
          + (r.init_bias ? "; bias " + r.init_bias + " (p " + fmt(r.init_bias_p) + ")" : "")));
      });
      frag.appendChild(ul);
    }
    const reasons = new Map();  // one line per recorded reason, naming the adapters it covers
    list.forEach(function (r) { if (r.reason) reasons.set(r.reason, (reasons.get(r.reason) || []).concat([r.adapter])); });
    if (reasons.size) {
      const ul = el("ul", {class: "reasons"});
      reasons.forEach(function (names, reason) {
        const li = el("li"); li.appendChild(el("b", {}, names.join(", ") + ": ")); li.appendChild(document.createTextNode(reason));
        ul.appendChild(li);
      });
      frag.appendChild(ul);
    }
    const pics = el("div", {class: "pictures"});
    const refBox = transposed ? spatial(first.ref_shape) : sizeOf(first);
    pics.appendChild(picture("reference", refPads, null, refBox, transposed));
    list.filter(isForward).forEach(function (r) {
      pics.appendChild(picture(r.adapter, pads(r, "pad_"), refPads, transposed ? spatial(r.out_shape) : sizeOf(r), transposed));
    });
    frag.appendChild(pics);
    const port = el("p", {class: "meta"}, "Port it (prints verified code for this case): ");
    forward.filter(function (r) { return r.status !== "unsupported"; }).forEach(function (r, i) {  // port refuses those
      if (i) port.appendChild(document.createTextNode(" · "));
      port.appendChild(el("code", {title: "the code computes the reference result in " + r.adapter},
        "python -m harness port '" + first.case_id + "' --to " + r.adapter));
    });
    port.appendChild(document.createTextNode(" — and a repro bundle: python -m harness repro '" + first.case_id + "'"));
    frag.appendChild(port);
    const legend = el("p", {class: "legend"}, transposed ? "Box: the produced output; bands: crops cut from the full output." : "Box: the input; bands: pads.");
    [["#7fb3d5", "as the reference"], ["#f5b041", "asymmetric"], ["#e74c3c", "differs from the reference"]].forEach(function (l) {
      const i = el("i"); i.style.background = l[0]; legend.appendChild(i); legend.appendChild(document.createTextNode(l[1]));
    });
    const h = el("i"); h.style.background = "repeating-linear-gradient(45deg,#fdecea 0 2px,#e74c3c 2px 3px)";
    legend.appendChild(h);
    legend.appendChild(document.createTextNode(transposed ? "negative crop: appended" : "negative pad: input never read"));
    frag.appendChild(legend);
    const maps = list.filter(function (r) { return r.diff_map; });
    if (maps.length) {
      const div = el("div", {class: "heat"});
      maps.forEach(function (r) { div.appendChild(heat(r.diff_map, label(r))); });
      frag.appendChild(div);
    }
    return frag;
  }

  const listEl = document.getElementById("case-list"), entries = [];
  const defs = el("svg:svg", {width: 0, height: 0, style: "position:absolute"});
  defs.innerHTML = '<defs><pattern id="hatch" width="4" height="4" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">' +
    '<rect width="4" height="4" fill="#fdecea"/><line x1="0" y1="0" x2="0" y2="4" stroke="#e74c3c" stroke-width="1.5"/></pattern></defs>';
  document.body.appendChild(defs);
  cases.forEach(function (list, id) {
    const failing = list.some(function (r) { return r.passed === false; });
    const d = el("details", {class: "case" + (failing ? " failing" : ""), id: anchor(id)});
    const s = el("summary");
    s.appendChild(el("span", {class: "id"}, id));
    list.forEach(function (r) {
      s.appendChild(el("span", {class: "chip st " + r.status + (r.passed === false ? " bad" : ""), title: label(r) + ": " + r.status},
        label(r) + (r.passed === false ? " ✗" : "")));
    });
    d.appendChild(s);
    d.addEventListener("toggle", function () { if (d.open && d.childNodes.length === 1) d.appendChild(details(list)); });
    listEl.appendChild(d);
    entries.push({el: d, id: id, list: list, failing: failing});
  });

  const filters = document.getElementById("filters");
  const text = el("input", {type: "text", id: "f-text", placeholder: "case id contains"});
  function select(id, label, values) {
    const s = el("select", {id: id});
    s.appendChild(el("option", {value: ""}, "any " + label));
    values.forEach(function (v) { s.appendChild(el("option", {value: v}, v)); });
    return s;
  }
  const statuses = select("f-status", "status", Array.from(new Set(rows.map(function (r) { return r.status; }))).sort());
  const adapters = select("f-adapter", "adapter", Array.from(new Set(rows.map(function (r) { return r.adapter; }))));
  const onlyFailing = el("input", {type: "checkbox", id: "f-failing"});
  const shown = el("span", {id: "f-count"});
  [text, statuses, adapters].forEach(function (c) { filters.appendChild(c); filters.appendChild(document.createTextNode(" ")); });
  const lab = el("label"); lab.appendChild(onlyFailing); lab.appendChild(document.createTextNode(" failing only"));
  filters.appendChild(lab);
  filters.appendChild(shown);
  function apply() {
    let n = 0;
    entries.forEach(function (e) {
      const ok = (!text.value || e.id.indexOf(text.value) >= 0) && (!onlyFailing.checked || e.failing) &&
        e.list.some(function (r) { return (!statuses.value || r.status === statuses.value) && (!adapters.value || r.adapter === adapters.value); });
      e.el.style.display = ok ? "" : "none";
      n += ok ? 1 : 0;
    });
    shown.textContent = n + " of " + entries.length + " cases";
  }
  [text, statuses, adapters, onlyFailing].forEach(function (c) { c.addEventListener("input", apply); c.addEventListener("change", apply); });
  apply();
  function openHash() {
    const target = location.hash && document.getElementById(decodeURIComponent(location.hash.slice(1)));
    if (target && target.tagName === "DETAILS") { target.style.display = ""; target.open = true; target.scrollIntoView(); }
  }
  window.addEventListener("hashchange", openHash);
  openHash();
})();
