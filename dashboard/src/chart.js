// A stacked bar chart over time on uPlot: bars of occurrences per bucket, stacked by series
// (reasons or types), a tooltip listing the bucket's series and counts, drag to zoom, click
// a bar to pick its bucket, and overlays (rollouts, node trouble) on the same time axis.
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { h, clear, fmtCount } from "./dom.js";

// series: [{label, color, values}], biggest first; times: bucket starts (seconds).
export function stackedBars(container, { times, series, bucketSeconds, overlays = [], onPick, onZoom, height = 260 }) {
  clear(container);
  const tip = h("div", { class: "chart-tip", role: "status", hidden: true });
  const plotEl = h("div", { class: "chart-plot" });
  container.append(plotEl, tip);

  // Stack: each series drawn to the running total, the biggest at the bottom.
  const cum = [];
  const running = new Array(times.length).fill(0);
  for (const s of series) {
    for (let i = 0; i < times.length; i++) running[i] += s.values[i] || 0;
    cum.push(running.slice());
  }
  const data = [times, ...cum];
  const bars = uPlot.paths.bars({ size: [0.92, 64], align: 1, gap: 1 });
  const styles = getComputedStyle(document.documentElement);
  const axisColor = styles.getPropertyValue("--muted").trim() || "#888";
  const gridColor = styles.getPropertyValue("--grid").trim() || "#ddd";

  const opts = {
    width: Math.max(container.clientWidth, 280),
    height,
    legend: { show: false },
    padding: [8, 8, 0, 0],
    scales: {
      x: { time: true, range: () => [times[0], times[times.length - 1] + bucketSeconds] },
      y: { range: (u, min, max) => [0, Math.max(1, max) * 1.05] },
    },
    axes: [
      { stroke: axisColor, grid: { stroke: gridColor, width: 1 }, ticks: { stroke: gridColor } },
      { stroke: axisColor, grid: { stroke: gridColor, width: 1 }, ticks: { stroke: gridColor }, size: 52 },
    ],
    cursor: { drag: { x: true, y: false, setScale: false }, points: { show: false } },
    series: [
      { value: (u, v) => v },
      // Drawn last to first: the running totals from the top, each over the next.
      ...series.map((s) => ({ label: s.label, fill: s.color, stroke: s.color, width: 0, paths: bars, points: { show: false } })),
    ],
    hooks: {
      setCursor: [(u) => showTip(u)],
      setSelect: [(u) => {
        if (u.select.width > 2 && onZoom) {
          const a = u.posToVal(u.select.left, "x");
          const b = u.posToVal(u.select.left + u.select.width, "x");
          u.setSelect({ left: 0, width: 0 }, false);
          onZoom(a * 1000, b * 1000);
        }
      }],
      draw: [(u) => drawOverlays(u, overlays)],
    },
  };
  // uPlot paints series in order; the biggest totals first so each smaller one lands on top.
  opts.series = [opts.series[0], ...opts.series.slice(1).reverse()];
  const plotData = [data[0], ...data.slice(1).reverse()];
  const u = new uPlot(opts, plotData, plotEl);

  function bucketAt(idx) {
    if (idx === null || idx === undefined || idx < 0) return null;
    return times[idx];
  }

  function showTip(u2) {
    const idx = u2.cursor.idx;
    const t = bucketAt(idx);
    if (t === null || u2.cursor.left < 0) { tip.hidden = true; return; }
    clear(tip);
    const start = new Date(t * 1000).toISOString().replace(".000Z", "Z").replace("T", " ");
    tip.append(h("div", { class: "tip-time", text: `${start} (${bucketSeconds >= 3600 ? bucketSeconds / 3600 + " h" : bucketSeconds / 60 + " min"})` }));
    const rows = series.map((s) => [s, s.values[idx] || 0]).filter(([, v]) => v > 0).sort((a, b) => b[1] - a[1]);
    if (!rows.length) tip.append(h("div", { class: "tip-row", text: "no events" }));
    for (const [s, v] of rows) {
      tip.append(h("div", { class: "tip-row" }, h("span", { class: "swatch", style: { background: s.color } }),
        h("span", { class: "tip-label", text: s.label }), h("span", { class: "tip-count", text: fmtCount(v) })));
    }
    tip.hidden = false;
    const x = u2.cursor.left + u2.bbox.left / devicePixelRatio;
    tip.style.left = `${Math.min(x + 12, container.clientWidth - 220)}px`;
  }

  u.over.addEventListener("mouseleave", () => { tip.hidden = true; });
  u.over.addEventListener("click", () => {
    if (u.select.width > 2) return;
    const t = bucketAt(u.cursor.idx);
    if (t !== null && onPick) onPick(t);
  });

  const ro = new ResizeObserver(() => u.setSize({ width: Math.max(container.clientWidth, 280), height }));
  ro.observe(container);
  return { plot: u, destroy() { ro.disconnect(); u.destroy(); } };
}

// Vertical markers: rollouts (blue, dashed) and node trouble (red), with a short label.
function drawOverlays(u, overlays) {
  if (!overlays.length) return;
  const ctx = u.ctx;
  const { top, height } = u.bbox;
  ctx.save();
  ctx.font = `${11 * devicePixelRatio}px system-ui, sans-serif`;
  for (const o of overlays) {
    const x = Math.round(u.valToPos(o.time / 1000, "x", true));
    if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) continue;
    ctx.strokeStyle = o.color;
    ctx.lineWidth = 2 * devicePixelRatio;
    ctx.setLineDash(o.dashed ? [6 * devicePixelRatio, 4 * devicePixelRatio] : []);
    ctx.beginPath();
    ctx.moveTo(x, top);
    ctx.lineTo(x, top + height);
    ctx.stroke();
  }
  ctx.restore();
}
