// model-panel.js — what model is answering: architecture, checksum, threshold, calibration, provenance (which
// says what it was trained on), and "load another model" (a clinic's retrained .sialo file,
// validated by the engine; its reason shown if refused).

/** One line on the engine's calibration of p (how it was fitted is in the provenance). */
export function calibrationLine(c) {
  if (!c || c.identity) return 'none: p is the network\'s own probability';
  const sign = c.b < 0 ? '−' : '+';
  return `p = σ(${c.a.toFixed(3)}·logit(p_raw) ${sign} ${Math.abs(c.b).toFixed(3)})` + (c.b === 0 ? ` (temperature T = ${(1 / c.a).toFixed(3)})` : ' (Platt scaling)');
}

/** "ensemble of 2" for a file of several networks (the engine averages their logits and their
    Grad-CAM maps), '' for one network. */
export function ensembleLabel(info) {
  return info.members > 1 ? `ensemble of ${info.members}` : '';
}

/** Fill the <dl> with the engine's info(). */
export function showModel(dl, info, source) {
  const ens = ensembleLabel(info);
  const rows = [
    ['Model', source],
    ['Architecture', ens ? `${ens} (${info.arch}; p from the mean of their logits), ${info.input.width}×${info.input.height} input`
      : `${info.arch}, ${info.input.width}×${info.input.height} input`],
    ['Parameters', `${info.parameters.toLocaleString('en')} (${info.storage}${ens ? `, all ${info.members} networks` : ''})`],
    ...(ens ? info.networks.map((n, k) => [`Network ${k + 1} of ${info.members}`,
      `${n.arch}, ${n.parameters.toLocaleString('en')} parameters: ${n.provenance || '—'}`]) : []),
    ['Classes', info.classes.join(' / ')],
    ['Decision threshold', `p(${info.positive_class || info.classes[1]}) ≥ ${info.threshold.toFixed(3)}`],
    ['Calibration', calibrationLine(info.calibration)],
    ['Checksum (CRC-32)', info.checksum],
    ['Provenance and training data', info.provenance || '—'],
  ];
  dl.replaceChildren();
  for (const [k, v] of rows) {
    const dt = document.createElement('dt');
    dt.textContent = k;
    const dd = document.createElement('dd');
    dd.textContent = v;
    dl.append(dt, dd);
  }
}

/** input: input[type=file] for .sialo files; load(bytes) -> Promise<info>; report(text, isError). */
export function setupModelInput(input, load, report) {
  input.addEventListener('change', async () => {
    const f = input.files && input.files[0];
    input.value = '';
    if (!f) return;
    report(`Checking ${f.name}…`, false);
    try {
      const bytes = new Uint8Array(await f.arrayBuffer());
      await load(bytes, f.name);
      report(`${f.name} loaded: the results below this line use it.`, false);
    } catch (e) {
      report(`${f.name} was refused, the previous model stays in use: ${e.message}`, true);
    }
  });
}
