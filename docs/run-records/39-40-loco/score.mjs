// node score.mjs RUN_DIR [classes-to-score comma list] : per-epoch accuracy/UAR restricted to the given classes
import { readFileSync } from 'node:fs';
const dir = process.argv[2]; // a run folder: model.json + val-logits.jsonl (gunzip the .gz of the records first)
const meta = JSON.parse(readFileSync(`${dir}/model.json`, 'utf8'));
const classes = meta.classes;
const subset = (process.argv[3] ?? 'neutral,happy,sad,angry,fearful,disgust').split(',').map((c) => classes.indexOf(c));
const adj = meta.logitAdjustment ?? classes.map(() => 0);
const byEpoch = new Map();
for (const line of readFileSync(`${dir}/val-logits.jsonl`, 'utf8').split('\n')) { if (line.trim()) { try { const r = JSON.parse(line); byEpoch.set(r.epoch, r); } catch {} } }
const rows = [];
for (const [epoch, r] of [...byEpoch].sort((a, b) => a[0] - b[0])) {
  const K = r.classes; const n = r.val.length;
  const conf = new Map(subset.map((k) => [k, { n: 0, ok: 0 }]));
  let ok = 0, cnt = 0;
  for (let i = 0; i < n; i++) {
    const y = r.labels[i]; if (!conf.has(y)) continue;
    let best = -1, bv = -Infinity;
    for (const k of subset) { const v = r.logp[i * K + k] + adj[k]; if (v > bv) { bv = v; best = k; } }
    cnt++; conf.get(y).n++; if (best === y) { ok++; conf.get(y).ok++; }
  }
  const rec = subset.map((k) => conf.get(k).n ? conf.get(k).ok / conf.get(k).n : NaN);
  const uar = rec.filter((x) => !isNaN(x)).reduce((a, b) => a + b, 0) / rec.filter((x) => !isNaN(x)).length;
  rows.push({ epoch, acc: ok / cnt, uar, rec });
}
for (const r of rows) console.log(`epoch ${r.epoch}: acc ${(100 * r.acc).toFixed(1)} UAR ${(100 * r.uar).toFixed(1)} | ${r.rec.map((x, j) => `${classes[subset[j]]} ${(100 * x).toFixed(0)}`).join(' ')}`);
const last = rows.slice(-5);
if (rows.length) console.log(`last epoch ${rows.at(-1).epoch}: acc ${(100 * rows.at(-1).acc).toFixed(1)} UAR ${(100 * rows.at(-1).uar).toFixed(1)}; mean of last ${last.length}: acc ${(100 * last.reduce((a, r) => a + r.acc, 0) / last.length).toFixed(1)} UAR ${(100 * last.reduce((a, r) => a + r.uar, 0) / last.length).toFixed(1)}`);
