// Small, dependency-free statistics helpers.

/** Sorted copy of the finite numbers in `values`. */
function sorted(values) {
  return Array.from(values)
    .filter((v) => Number.isFinite(v))
    .sort((a, b) => a - b);
}

/** Percentile `p` (0-100) with linear interpolation between closest ranks; NaN for no data. */
export function percentile(values, p) {
  const s = sorted(values);
  if (s.length === 0) return Number.NaN;
  const rank = (p / 100) * (s.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return s[lo] + (s[hi] - s[lo]) * (rank - lo);
}

export function median(values) {
  return percentile(values, 50);
}

export function max(values) {
  const s = sorted(values);
  return s.length === 0 ? Number.NaN : s[s.length - 1];
}

export function sum(values) {
  let total = 0;
  for (const v of values) total += v;
  return total;
}

/** Least-squares slope of ys over xs; NaN with fewer than two points. */
export function slope(xs, ys) {
  const n = Math.min(xs.length, ys.length);
  if (n < 2) return Number.NaN;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += xs[i];
    my += ys[i];
  }
  mx /= n;
  my /= n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i] - mx) * (ys[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  return den === 0 ? Number.NaN : num / den;
}

/** Rotates `items` left by `by`, so each round starts with a different logger (round-robin order). */
export function rotate(items, by) {
  if (items.length === 0) return [];
  const k = ((by % items.length) + items.length) % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}
