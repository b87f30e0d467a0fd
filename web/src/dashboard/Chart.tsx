import { money } from './format';

interface Point {
  date: string;
  nav: string;
}

/** The NAV series as a small SVG line chart: no charting library, nothing from a CDN. */
export function NavChart({ points, currency }: { points: Point[]; currency: string }) {
  if (points.length < 2) return <p className="muted">Not enough history for a chart yet.</p>;
  const width = 1000;
  const height = 240;
  const pad = { left: 8, right: 8, top: 12, bottom: 22 };
  const values = points.map((p) => Number(p.nav));
  const min = Math.min(...values);
  const max = Math.max(...values);
  const span = max - min || 1;
  const x = (i: number) => pad.left + (i / (points.length - 1)) * (width - pad.left - pad.right);
  const y = (v: number) => pad.top + (1 - (v - min) / span) * (height - pad.top - pad.bottom);
  const line = values.map((v, i) => `${i ? 'L' : 'M'}${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
  const area = `${line} L${x(values.length - 1).toFixed(1)},${height - pad.bottom} L${x(0).toFixed(1)},${height - pad.bottom} Z`;
  const first = points[0]!;
  const last = points[points.length - 1]!;
  const up = values[values.length - 1]! >= values[0]!;
  return (
    <svg className="chart" viewBox={`0 0 ${width} ${height}`} role="img" aria-label={`NAV from ${first.date} to ${last.date}`} data-testid="nav-chart">
      <path d={area} className={up ? 'area up' : 'area down'} />
      <path d={line} className={up ? 'line up' : 'line down'} fill="none" />
      <text x={pad.left} y={height - 6} className="axis">{first.date}</text>
      <text x={width - pad.right} y={height - 6} className="axis" textAnchor="end">{last.date}</text>
      <text x={width - pad.right} y={pad.top + 2} className="axis" textAnchor="end">{money(max, currency)}</text>
      <text x={width - pad.right} y={height - pad.bottom - 4} className="axis" textAnchor="end">{money(min, currency)}</text>
    </svg>
  );
}

/** Horizontal bars for exposure buckets (weights are fractions of NAV). */
export function Bars({ buckets, currency }: { buckets: { key: string; net: string; weight: string }[]; currency: string }) {
  if (!buckets.length) return <p className="muted">Nothing held.</p>;
  const top = Math.max(...buckets.map((b) => Math.abs(Number(b.weight))), 0.0001);
  return (
    <table className="bars">
      <tbody>
        {[...buckets]
          .sort((a, b) => Number(b.net) - Number(a.net))
          .map((b) => (
            <tr key={b.key}>
              <td>{b.key}</td>
              <td className="bar-cell">
                <span className={Number(b.net) < 0 ? 'bar short' : 'bar'} style={{ width: `${(Math.abs(Number(b.weight)) / top) * 100}%` }} />
              </td>
              <td className="num">{(Number(b.weight) * 100).toFixed(1)}%</td>
              <td className="num muted">{money(b.net, currency)}</td>
            </tr>
          ))}
      </tbody>
    </table>
  );
}
