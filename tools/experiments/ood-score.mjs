// ood-score.mjs OUT RANK...: the flag rates and AUROC of the out-of-distribution score (ood-busi.sh)
import { readFileSync } from 'node:fs';
const [out, ...ranks] = process.argv.slice(2);
// AUROC of "foreign scores above in-distribution scores" (Mann-Whitney, ties count one half)
function auroc(inS, outS) {
  let s = 0;
  for (const a of outS) for (const b of inS) s += a > b ? 1 : a === b ? 0.5 : 0;
  return s / (inS.length * outS.length);
}
for (const r of ranks) {
  const oof = readFileSync(`${out}/oof-r${r}.tsv`, 'utf8').trim().split('\n').slice(1).map((l) => l.split('\t'));
  const inScore = oof.map((c) => +c[4]), inFlag = oof.map((c) => +c[5]), inP = oof.map((c) => +c[3]);
  const fit = JSON.parse(readFileSync(`${out}/fit-r${r}.json`, 'utf8'));
  const rows = readFileSync(`${out}/foreign-r${r}.jsonl`, 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((j) => !j.error);
  const kinds = {};
  for (const j of rows) {
    const kind = j.file.split('/').slice(-2)[0];
    (kinds[kind] ??= []).push(j);
  }
  console.log(`rank ${r}: threshold ${fit.threshold}; BUSI out-of-fold frames flagged ${inFlag.reduce((a, b) => a + b, 0)}/${oof.length} ` +
    `(${(100 * fit.oof_flagged_rate).toFixed(1)}%)`);
  let all = [];
  for (const [kind, js] of Object.entries(kinds)) {
    const f = js.filter((j) => j.ood.flag).length;
    all = all.concat(js);
    console.log(`  ${kind.padEnd(8)} ${f}/${js.length} flagged (${(100 * f / js.length).toFixed(0)}%), score median ` +
      `${js.map((j) => j.ood.score).sort((a, b) => a - b)[js.length >> 1].toFixed(2)}, AUROC ${auroc(inScore, js.map((j) => j.ood.score)).toFixed(3)}`);
  }
  const f = all.filter((j) => j.ood.flag).length;
  const conf = (p) => 1 - Math.abs(2 * p - 1); // low confidence = foreign
  console.log(`  all      ${f}/${all.length} flagged (${(100 * f / all.length).toFixed(1)}%); AUROC Mahalanobis ` +
    `${auroc(inScore, all.map((j) => j.ood.score)).toFixed(3)}, confidence (max-logit / energy of one sigmoid) ` +
    `${auroc(inP.map(conf), all.map((j) => conf(j.p_malignant))).toFixed(3)}`);
}
