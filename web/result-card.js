// result-card.js — one card per file: the frame with its Grad-CAM overlay (opacity, on/off,
// the original beside it), p(malignant) as a bar with the model's threshold marked, the engine's
// label and time, "save overlay as PNG"; a multi-frame DICOM file (a cine loop) gets a frame slider
// and opens on its most suspicious frame; a file the engine refuses gets an error card with its reason.
// Testing contract: [data-testid=result][data-file] with data-p-malignant + data-label (for a cine
// loop: its most suspicious frame, data-frame), or data-error; the overlay is canvas[data-testid=cam].
// The out-of-distribution check: data-ood = "flagged" | "ok" | "not-checked", data-ood-score; a
// flagged frame shows the warning [data-testid=ood-warning] on the card itself (role=alert).

const el = (tag, props = {}, ...children) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k.startsWith('data-') || k.startsWith('aria-') || k === 'role' || k === 'for') e.setAttribute(k, v);
    else e[k] = v;
  }
  for (const c of children) if (c) e.append(c);
  return e;
};
let uid = 0;

const canvasOf = (w, h, label) => el('canvas', { width: w, height: h, role: 'img', 'aria-label': label });

function dicomLine(d, frame, nFrames, cropped) {
  const parts = ['DICOM', d.modality, [d.manufacturer, d.model].filter(Boolean).join(' '), d.transferSyntax];
  if (nFrames > 1) parts.push(`frame ${frame + 1} of ${nFrames}`);
  if (cropped) parts.push('cropped to the scan area');
  return parts.filter(Boolean).join(' · ');
}

/** A pending card for file name. opts: { defaultAlpha, onSave(alpha, button, frame), onFrame(frame) -> Promise<result> }.
 * Returns { node, done(result, checksum), fail(message), setStatus(text) }. */
export function createCard(name, { defaultAlpha, onSave, onFrame }) {
  const id = ++uid;
  const node = el('article', { class: 'card pending', 'data-testid': 'result', 'data-file': name, 'aria-busy': 'true', 'aria-labelledby': `card-title-${id}` });
  const title = el('h3', { class: 'file', id: `card-title-${id}`, text: name, title: name });
  const status = el('p', { class: 'status', text: 'waiting…' });
  node.append(title, status);
  // the viewer's settings survive a change of frame
  const show = el('input', { type: 'checkbox', checked: true, id: `show-${id}` });
  const alpha = el('input', { type: 'range', min: 0, max: 100, step: 5, value: Math.round(defaultAlpha * 100), id: `alpha-${id}` });
  const beside = el('input', { type: 'checkbox', checked: false, id: `beside-${id}` });
  beside.addEventListener('change', () => node.classList.toggle('with-original', beside.checked));
  let redraw = () => {};
  show.addEventListener('change', () => { alpha.disabled = !show.checked; redraw(); });
  alpha.addEventListener('input', () => redraw());
  let shownFrame = 0;
  const save = el('button', { type: 'button', class: 'small', text: 'Save overlay as PNG' });
  save.addEventListener('click', () => onSave(Number(alpha.value) / 100, save, shownFrame));
  const controls = el('div', { class: 'controls' },
    el('label', { for: show.id }, show, ' heat map'),
    el('label', { for: alpha.id, class: 'alpha' }, 'opacity ', alpha),
    el('label', { for: beside.id }, beside, ' original beside'),
    save);
  let body = null;

  function fail(message) {
    node.classList.remove('pending');
    node.classList.add('error');
    node.setAttribute('aria-busy', 'false');
    node.dataset.error = message;
    status.replaceWith(el('p', { class: 'error-text', role: 'alert' }, el('strong', { text: 'Not classified: ' }), message));
  }

  // the pictures, verdict and bar of one classified frame
  function render(r) {
    const malignant = r.label === 'malignant';
    const { frame, overlay: full } = r.view; // ImageBitmaps (display size); full = the overlay at opacity 1
    const w = frame.width, h = frame.height;
    const original = canvasOf(w, h, `${name}: the frame`);
    original.getContext('2d').drawImage(frame, 0, 0);
    frame.close();
    original.classList.add('original');
    const cam = canvasOf(w, h, `${name}: Grad-CAM heat map over the frame (where the network found evidence of malignancy)`);
    cam.dataset.testid = 'cam';
    redraw = () => {
      const g = cam.getContext('2d');
      g.globalAlpha = 1;
      g.drawImage(original, 0, 0);
      if (show.checked) {
        g.globalAlpha = Number(alpha.value) / 100;
        g.drawImage(full, 0, 0);
        g.globalAlpha = 1;
      }
    };
    redraw();
    const pct = (x) => `${(100 * x).toFixed(1)}%`;
    const bar = el('div', { class: 'bar', role: 'img', 'aria-label': `p(malignant) ${r.pMalignant.toFixed(3)}, threshold ${r.threshold.toFixed(3)}` },
      el('div', { class: 'fill' }), el('div', { class: 'mark', title: `threshold ${r.threshold.toFixed(3)}` }));
    bar.firstChild.style.width = pct(r.pMalignant);
    bar.lastChild.style.left = pct(r.threshold);
    const nFrames = r.frames ? r.frames.length : 1;
    const ood = r.ood || { checked: false };
    node.dataset.ood = !ood.checked ? 'not-checked' : ood.flag ? 'flagged' : 'ok';
    if (ood.checked) node.dataset.oodScore = String(ood.score); else delete node.dataset.oodScore;
    node.classList.toggle('ood', !!ood.flag);
    const warning = ood.flag
      ? el('p', { class: 'ood-warning', role: 'alert', 'data-testid': 'ood-warning' },
        el('strong', { text: '⚠ ' }), ood.warning || 'This does not look like the ultrasound frames the model was trained on — the probability is not meaningful',
        el('span', { class: 'ood-score', text: ` (score ${ood.score.toFixed(2)}, threshold ${ood.threshold.toFixed(2)})` }))
      : null;
    const next = el('div', { class: 'frame-view' },
      warning,
      el('div', { class: 'pictures' }, el('figure', {}, cam), el('figure', { class: 'beside' }, original)),
      el('div', { class: 'verdict' },
        el('span', { class: `label ${malignant ? 'malignant' : 'benign'}`, text: r.label }),
        el('span', { class: 'p', text: `p(malignant) = ${r.pMalignant.toFixed(3)}` })),
      bar,
      el('p', { class: 'meta', text: `threshold ${r.threshold.toFixed(3)} · ${r.width}×${r.height} px · ${Math.round(r.ms)} ms` +
        (ood.checked ? (ood.flag ? '' : ` · like the training frames (score ${ood.score.toFixed(2)})`) : ' · not checked against the training frames (an older model file)') }),
      r.dicom ? el('p', { class: 'meta', text: dicomLine(r.dicom, r.frame, nFrames, r.usRegion) }) : null,
      r.dicom && r.dicom.notes && r.dicom.notes.length
        ? el('p', { class: 'meta notes', 'data-testid': 'dicom-notes', text: `read despite ${r.dicom.notes.join('; ')}` }) : null);
    if (body) body.replaceWith(next);
    else status.replaceWith(next, controls);
    body = next;
  }

  // a cine loop: a slider over its frames, each frame's p from the engine
  function frameSlider(r) {
    const n = r.frames.length;
    const best = r.frame;
    const slider = el('input', { type: 'range', min: 0, max: n - 1, step: 1, value: best, id: `frame-${id}` });
    const text = el('span', {});
    const describe = (k) => {
      text.textContent = `frame ${k + 1} of ${n}: p = ${r.frames[k].pMalignant.toFixed(3)} (most suspicious: frame ${best + 1}, p = ${r.frames[best].pMalignant.toFixed(3)})`;
      slider.setAttribute('aria-valuetext', `frame ${k + 1} of ${n}`);
    };
    describe(best);
    let want = best, busy = false;
    const show = async () => {
      if (busy) return;
      busy = true;
      while (want !== shownFrame) {
        const k = want;
        try {
          render(await onFrame(k));
          shownFrame = k;
        } catch (e) {
          text.textContent = `frame ${k + 1}: ${e.message}`;
          break;
        }
      }
      busy = false;
    };
    slider.addEventListener('input', () => { want = Number(slider.value); describe(want); show(); });
    return el('div', { class: 'frames' }, el('label', { for: slider.id }, 'frame '), slider, text);
  }

  function done(r, checksum) {
    node.classList.remove('pending');
    node.setAttribute('aria-busy', 'false');
    node.classList.add(r.label === 'malignant' ? 'malignant' : 'benign');
    node.dataset.pMalignant = String(r.pMalignant);
    node.dataset.label = r.label;
    node.dataset.checksum = checksum;
    if (r.dicom) node.dataset.frame = String(r.frame);
    shownFrame = r.frame || 0;
    render(r);
    if (r.frames && r.frames.length > 1) node.insertBefore(frameSlider(r), controls);
  }

  return { node, done, fail, setStatus: (t) => { status.textContent = t; } };
}
