// From the API's histogram ({times, series: [{type, reason, values, total}]}) to the chart's
// series: by type (Warning, Normal), or by reason (the top ones, the rest as "Other").
import { seriesColor } from "./colors.js";

const TOP_REASONS = 8;

export function chartSeries(hist, by) {
  const n = hist.times.length;
  if (by === "type") {
    const byType = new Map();
    for (const s of hist.series) {
      const key = s.type || "(no type)";
      if (!byType.has(key)) byType.set(key, new Array(n).fill(0));
      const v = byType.get(key);
      s.values.forEach((x, i) => { v[i] += x; });
    }
    return [...byType.entries()]
      .map(([type, values]) => ({ label: type, type, values, total: values.reduce((a, b) => a + b, 0) }))
      .sort((a, b) => b.total - a.total)
      .map((s, i) => ({ ...s, color: seriesColor(s.type, i) }));
  }
  const top = hist.series.slice(0, TOP_REASONS);
  const rest = hist.series.slice(TOP_REASONS);
  let warm = 0;
  let cool = 0;
  const out = top.map((s) => ({
    label: `${s.reason || "(no reason)"}${s.type === "Warning" ? " ⚠" : ""}`,
    type: s.type, reason: s.reason, values: s.values, total: s.total,
    color: seriesColor(s.type, s.type === "Warning" ? warm++ : cool++),
  }));
  if (rest.length) {
    const values = new Array(n).fill(0);
    for (const s of rest) s.values.forEach((x, i) => { values[i] += x; });
    out.push({ label: `Other (${rest.length} reasons)`, type: null, values, total: values.reduce((a, b) => a + b, 0), color: "#adb5bd" });
  }
  return out;
}

// The sum of several histograms of the same range and bucket (an object and its relations).
export function sumHistograms(hists) {
  const [first] = hists;
  const map = new Map();
  for (const hist of hists) {
    for (const s of hist.series) {
      const key = `${s.type}\u0000${s.reason}`;
      if (!map.has(key)) map.set(key, { type: s.type, reason: s.reason, total: 0, values: new Array(first.times.length).fill(0) });
      const m = map.get(key);
      s.values.forEach((x, i) => { m.values[i] += x; });
      m.total += s.total;
    }
  }
  return { ...first, total: hists.reduce((a, x) => a + x.total, 0), series: [...map.values()].sort((a, b) => b.total - a.total) };
}
