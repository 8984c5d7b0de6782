// Number formatting shared by console tables and the generated docs.

const isNum = (v) => typeof v === "number" && Number.isFinite(v);

export function fmtNs(ns) {
  if (!isNum(ns)) return "n/a";
  if (ns < 10) return `${ns.toFixed(2)} ns`;
  if (ns < 1000) return `${ns.toFixed(1)} ns`;
  if (ns < 1e6) return `${(ns / 1e3).toFixed(2)} µs`;
  return `${(ns / 1e6).toFixed(2)} ms`;
}

export function fmtMs(ms) {
  if (!isNum(ms)) return "n/a";
  return ms < 10 ? `${ms.toFixed(2)} ms` : ms < 1000 ? `${ms.toFixed(1)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

export function fmtRate(perSecond) {
  if (!isNum(perSecond)) return "n/a";
  if (perSecond >= 1e6) return `${(perSecond / 1e6).toFixed(2)} M/s`;
  if (perSecond >= 1e3) return `${(perSecond / 1e3).toFixed(0)} k/s`;
  return `${perSecond.toFixed(0)} /s`;
}

export function fmtMB(bytes) {
  return isNum(bytes) ? `${(bytes / 1048576).toFixed(1)} MB` : "n/a";
}

export function fmtRatio(ratio) {
  if (!isNum(ratio)) return "n/a";
  return ratio >= 10
    ? `${ratio.toFixed(0)}x`
    : ratio >= 0.1
      ? `${ratio.toFixed(2)}x`
      : `${ratio.toFixed(3)}x`;
}

export function fmtInt(n) {
  return isNum(n) ? Math.round(n).toLocaleString("en-US") : "n/a";
}

export function fmtPct(fraction) {
  return isNum(fraction) ? `${(fraction * 100).toFixed(0)}%` : "n/a";
}

export function fmtSeconds(s) {
  return isNum(s) ? `${s.toFixed(2)} s` : "n/a";
}
