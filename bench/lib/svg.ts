/**
 * A small hand-written SVG bar chart of the bench's ratios: one horizontal bar
 * per figure, a tick at 1 (the baseline or ceiling), the target as a marker,
 * bars past the right edge cut with their value written on them.
 */

export interface Bar {
  label: string;
  ratio: number;
  /** What the ratio is of ("baseline", "ceiling ..."). */
  of: string;
  /** e.g. "≥ 0.6", "≤ 3"; empty when there is none. */
  target: string;
  met?: boolean;
}

const escape = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

export function renderChart(bars: Bar[], title: string): string {
  const labelWidth = 470;
  const plotWidth = 380;
  const rowHeight = 34;
  const top = 46;
  const width = labelWidth + plotWidth + 70;
  const height = top + bars.length * rowHeight + 34;
  const max = 3;
  const x = (ratio: number) => labelWidth + (Math.min(ratio, max) / max) * plotWidth;

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, Segoe UI, sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="12" y="22" font-size="14" font-weight="600">${escape(title)}</text>`,
  );
  // Grid: 0, 0.5, ..., 3.
  for (let g = 0; g <= max; g += 0.5) {
    const gx = x(g);
    out.push(
      `<line x1="${gx}" y1="${top - 6}" x2="${gx}" y2="${top + bars.length * rowHeight}" stroke="${g === 1 ? "#555" : "#e3e3e3"}" stroke-width="${g === 1 ? 1.5 : 1}"/>`,
      `<text x="${gx}" y="${top + bars.length * rowHeight + 16}" text-anchor="middle" fill="#666">${g}${g === max ? "+" : ""}</text>`,
    );
  }
  bars.forEach((bar, i) => {
    const y = top + i * rowHeight;
    const colour = bar.met === undefined ? "#7a8ca5" : bar.met ? "#2e8b57" : "#c0392b";
    const end = x(bar.ratio);
    const target = /([≥≤<>])\s*([\d.]+)/.exec(bar.target);
    const targetX = target ? x(Number(target[2])) : 0;
    // The value sits right of the bar, and right of the target marker when that is close.
    const labelX = Math.min(Math.max(end, Math.abs(targetX - end) < 40 ? targetX : 0), labelWidth + plotWidth) + 6;
    out.push(
      `<text x="${labelWidth - 10}" y="${y + 13}" text-anchor="end">${escape(bar.label.length > 72 ? `${bar.label.slice(0, 71)}…` : bar.label)}</text>`,
      `<text x="${labelWidth - 10}" y="${y + 26}" text-anchor="end" fill="#777" font-size="10.5">ratio of ${escape(bar.of.length > 64 ? `${bar.of.slice(0, 63)}…` : bar.of)}${bar.target ? `; target ${escape(bar.target)}` : ""}</text>`,
      `<rect x="${labelWidth}" y="${y + 5}" width="${Math.max(1, end - labelWidth)}" height="18" fill="${colour}" rx="2"/>`,
      `<text x="${labelX}" y="${y + 18}" fill="#222">${bar.ratio.toFixed(2)}${bar.ratio > max ? " →" : ""}</text>`,
    );
    if (target) {
      out.push(`<line x1="${targetX}" y1="${y + 2}" x2="${targetX}" y2="${y + 26}" stroke="#111" stroke-width="2" stroke-dasharray="3 2"/>`);
    }
  });
  out.push(
    `<text x="12" y="${height - 8}" fill="#777" font-size="10.5">green: target met, red: missed, grey: no target; dashed line: target; bars stop at 3.</text>`,
    `</svg>`,
  );
  return `${out.join("\n")}\n`;
}
