/** Minimal inline SVG charts (no external assets): polylines and a scatter with axes. */
export interface Series {
  name: string;
  xs: readonly number[];
  ys: readonly number[];
  color: string;
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function lineChart(title: string, series: readonly Series[], xLabel: string, yLabel: string, scatter = false): string {
  const W = 640;
  const H = 260;
  const L = 56;
  const B = 36;
  const xs = series.flatMap((s) => s.xs);
  const ys = series.flatMap((s) => s.ys);
  const [x0, x1] = [Math.min(...xs, 0), Math.max(...xs, 1e-9)];
  let [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  if (y0 === y1) [y0, y1] = [y0 - 1, y1 + 1];
  const px = (x: number): number => L + ((x - x0) / (x1 - x0 || 1)) * (W - L - 10);
  const py = (y: number): number => H - B - ((y - y0) / (y1 - y0)) * (H - B - 24);
  const parts = series.map((s, k) => {
    const pts = s.xs.map((x, i) => `${px(x).toFixed(1)},${py(s.ys[i]!).toFixed(1)}`);
    const legend = `<text x="${L + 8 + k * 150}" y="16" fill="${s.color}" font-size="11">${esc(s.name)}</text>`;
    if (scatter) return legend + pts.map((p) => `<circle cx="${p.split(',')[0]}" cy="${p.split(',')[1]}" r="4" fill="${s.color}"/>`).join('');
    return `${legend}<polyline fill="none" stroke="${s.color}" stroke-width="1.5" points="${pts.join(' ')}"/>`;
  });
  const axes = [
    `<line x1="${L}" y1="${H - B}" x2="${W - 10}" y2="${H - B}" stroke="#888"/>`,
    `<line x1="${L}" y1="24" x2="${L}" y2="${H - B}" stroke="#888"/>`,
    `<text x="${L}" y="${H - 8}" font-size="11">${x0.toFixed(2)}</text>`,
    `<text x="${W - 60}" y="${H - 8}" font-size="11">${x1.toFixed(2)}</text>`,
    `<text x="${W / 2 - 30}" y="${H - 8}" font-size="11">${esc(xLabel)}</text>`,
    `<text x="4" y="${py(y1) + 4}" font-size="11">${y1.toFixed(3)}</text>`,
    `<text x="4" y="${py(y0)}" font-size="11">${y0.toFixed(3)}</text>`,
    `<text x="4" y="${H / 2}" font-size="11">${esc(yLabel)}</text>`,
  ];
  return `<figure><figcaption>${esc(title)}</figcaption><svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">${axes.join('')}${parts.join('')}</svg></figure>`;
}
