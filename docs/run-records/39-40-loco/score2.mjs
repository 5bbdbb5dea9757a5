// node score2.mjs RUN_DIR : per-epoch per-corpus scores for the rc.csv manifest order (index < 1200 RAVDESS, else CREMA-D)
import { readFileSync } from 'node:fs';
const dir = process.argv[2]; // a run folder: model.json + val-logits.jsonl (gunzip the .gz of the records first)
const meta = JSON.parse(readFileSync(`${dir}/model.json`, 'utf8'));
const classes = meta.classes;
const adj = meta.logitAdjustment ?? classes.map(() => 0);
const sets = { ravdess: { pick: (i) => i < 1200, cls: classes }, crema: { pick: (i) => i >= 1200, cls: ['neutral', 'happy', 'sad', 'angry', 'fearful', 'disgust'] } };
const byEpoch = new Map();
for (const line of readFileSync(`${dir}/val-logits.jsonl`, 'utf8').split('\n')) { if (line.trim()) { try { const r = JSON.parse(line); byEpoch.set(r.epoch, r); } catch {} } }
const res = {};
for (const [name, s] of Object.entries(sets)) {
  const subset = s.cls.map((c) => classes.indexOf(c));
  res[name] = [];
  for (const [epoch, r] of [...byEpoch].sort((a, b) => a[0] - b[0])) {
    const K = r.classes; const conf = new Map(subset.map((k) => [k, { n: 0, ok: 0 }])); let ok = 0, cnt = 0;
    r.val.forEach((ix, i) => {
      if (!s.pick(ix)) return; const y = r.labels[i]; if (!conf.has(y)) return;
      let best = -1, bv = -Infinity; for (const k of subset) { const v = r.logp[i * K + k] + adj[k]; if (v > bv) { bv = v; best = k; } }
      cnt++; conf.get(y).n++; if (best === y) { ok++; conf.get(y).ok++; }
    });
    if (!cnt) continue;
    const rec = subset.map((k) => (conf.get(k).n ? conf.get(k).ok / conf.get(k).n : NaN));
    const v = rec.filter((x) => !isNaN(x));
    res[name].push({ epoch, n: cnt, acc: ok / cnt, uar: v.reduce((a, b) => a + b, 0) / v.length, rec: Object.fromEntries(subset.map((k, j) => [classes[k], rec[j]])) });
  }
}
for (const [name, rows] of Object.entries(res)) {
  if (!rows.length) continue;
  console.log(`${name} (${rows[0].n} clips):`);
  for (const r of rows) console.log(`  epoch ${r.epoch}: acc ${(100 * r.acc).toFixed(1)} UAR ${(100 * r.uar).toFixed(1)} | ${Object.entries(r.rec).map(([c, x]) => `${c} ${(100 * x).toFixed(0)}`).join(' ')}`);
  const last = rows.slice(-5);
  console.log(`  last epoch ${rows.at(-1).epoch}: acc ${(100 * rows.at(-1).acc).toFixed(1)} UAR ${(100 * rows.at(-1).uar).toFixed(1)}; mean of last ${last.length}: acc ${(100 * last.reduce((a, r) => a + r.acc, 0) / last.length).toFixed(1)} UAR ${(100 * last.reduce((a, r) => a + r.uar, 0) / last.length).toFixed(1)}`);
}
if (process.argv[3] === '--json') console.log(JSON.stringify(res));
