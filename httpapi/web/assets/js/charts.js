// Two small SVG charts drawn by hand: a step line chart of chain height
// over time (one line per node) and a horizontal bar chart.

import { s } from './dom.js';

function niceStep(range, ticks) {
  const raw = range / Math.max(1, ticks);
  const mag = 10 ** Math.floor(Math.log10(raw || 1));
  for (const m of [1, 2, 5, 10]) if (m * mag >= raw) return m * mag;
  return 10 * mag;
}

/**
 * series: [{name, color, points: [[t ms, value|null]]}]. Draws into svg
 * (its viewBox sets the size).
 */
export function lineChart(svg, series, { width = 640, height = 260, windowMs = 5 * 60 * 1000, now = Date.now(), label = '' } = {}) {
  const m = { l: 52, r: 14, t: 12, b: 30 };
  const W = width - m.l - m.r;
  const H = height - m.t - m.b;
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  svg.replaceChildren();
  const pts = series.flatMap((x) => x.points.filter((p) => p[1] != null));
  const t0 = Math.max(now - windowMs, pts.length ? Math.min(...pts.map((p) => p[0])) : now - 60000);
  const t1 = Math.max(now, t0 + 1000);
  let lo = pts.length ? Math.min(...pts.map((p) => p[1])) : 0;
  let hi = pts.length ? Math.max(...pts.map((p) => p[1])) : 1;
  if (hi - lo < 4) {
    hi = lo + 4;
  }
  const step = niceStep(hi - lo, 4);
  lo = Math.floor(lo / step) * step;
  hi = Math.ceil(hi / step) * step;
  const x = (t) => m.l + ((t - t0) / (t1 - t0)) * W;
  const y = (v) => m.t + H - ((v - lo) / (hi - lo || 1)) * H;

  svg.append(s('title', { text: label }));
  const grid = s('g', { class: 'grid' });
  for (let v = lo; v <= hi + 1e-9; v += step) {
    grid.append(s('line', { x1: m.l, x2: m.l + W, y1: y(v), y2: y(v) }));
    grid.append(s('text', { x: m.l - 8, y: y(v) + 4, 'text-anchor': 'end', text: String(v) }));
  }
  const tstep = niceStep((t1 - t0) / 1000, 5) * 1000;
  for (let t = Math.ceil(t0 / tstep) * tstep; t <= t1; t += tstep) {
    const secs = Math.round((t - now) / 1000);
    grid.append(s('text', { x: x(t), y: m.t + H + 20, 'text-anchor': 'middle', text: secs === 0 ? 'now' : `${secs}s` }));
  }
  grid.append(s('line', { class: 'axis', x1: m.l, x2: m.l + W, y1: m.t + H, y2: m.t + H }));
  svg.append(grid);

  // Lines that overlap (nodes at the same height) stay visible: the
  // first drawn is the widest, each next one narrower on top of it.
  series.forEach((ser, i) => {
    const width = 2 + 2.5 * (series.length - 1 - i);
    let d = '';
    let prev = null;
    for (const [t, v] of ser.points) {
      if (v == null || t < t0) {
        prev = v == null ? null : [t, v];
        continue;
      }
      if (prev == null) d += `M${x(t).toFixed(1)},${y(v).toFixed(1)}`;
      else d += `H${x(t).toFixed(1)}V${y(v).toFixed(1)}`;
      prev = [t, v];
    }
    const last = ser.points.at(-1);
    if (last && last[1] != null && d) d += `H${x(Math.min(now, t1)).toFixed(1)}`;
    if (!d) return;
    svg.append(s('path', { d, fill: 'none', stroke: ser.color, 'stroke-width': width, 'stroke-linejoin': 'round', class: 'series', 'data-node': ser.name }));
    if (last && last[1] != null) {
      svg.append(s('circle', { cx: x(Math.min(now, t1)), cy: y(last[1]), r: width / 2 + 2, fill: ser.color }));
    }
  });
}

/** bars: [{name, color, value, note}] → horizontal bars with labels. */
export function barChart(svg, bars, { width = 480, label = '' } = {}) {
  const rowH = 40;
  const m = { l: 100, r: 50, t: 8, b: 8 };
  const height = m.t + m.b + Math.max(1, bars.length) * rowH;
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  svg.replaceChildren();
  svg.append(s('title', { text: label }));
  const max = Math.max(1, ...bars.map((b) => b.value));
  const W = width - m.l - m.r;
  bars.forEach((b, i) => {
    const yy = m.t + i * rowH;
    const w = (b.value / max) * W;
    svg.append(
      s('text', { x: m.l - 10, y: yy + rowH / 2 + 5, 'text-anchor': 'end', class: 'bar-label', text: b.name }),
      s('rect', { x: m.l, y: yy + 6, width: Math.max(w, 2), height: rowH - 12, rx: 3, fill: b.color }),
      s('text', { x: m.l + Math.max(w, 2) + 8, y: yy + rowH / 2 + 5, class: 'bar-value', text: String(b.value) }),
    );
  });
  if (!bars.length) svg.append(s('text', { x: width / 2, y: m.t + rowH / 2 + 5, 'text-anchor': 'middle', class: 'muted', text: 'No blocks yet' }));
}
