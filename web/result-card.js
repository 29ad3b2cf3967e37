// result-card.js — one card per frame: the frame with its Grad-CAM overlay (opacity, on/off,
// the original beside it), p(malignant) as a bar with the model's threshold marked, the engine's
// label and time, "save overlay as PNG"; or an error card with the engine's reason.
// Testing contract: [data-testid=result][data-file] with data-p-malignant + data-label, or data-error;
// the overlay is canvas[data-testid=cam] inside the card.

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

/** A pending card for file name; returns { node, done(result), fail(message) }. */
export function createCard(name, { defaultAlpha, onSave }) {
  const id = ++uid;
  const node = el('article', { class: 'card pending', 'data-testid': 'result', 'data-file': name, 'aria-busy': 'true', 'aria-labelledby': `card-title-${id}` });
  const title = el('h3', { class: 'file', id: `card-title-${id}`, text: name, title: name });
  const status = el('p', { class: 'status', text: 'waiting…' });
  node.append(title, status);

  function fail(message) {
    node.classList.remove('pending');
    node.classList.add('error');
    node.setAttribute('aria-busy', 'false');
    node.dataset.error = message;
    status.replaceWith(el('p', { class: 'error-text', role: 'alert' }, el('strong', { text: 'Not classified: ' }), message));
  }

  function done(r, checksum) {
    node.classList.remove('pending');
    node.setAttribute('aria-busy', 'false');
    const malignant = r.label === 'malignant';
    node.classList.add(malignant ? 'malignant' : 'benign');

    const { frame, overlay: full } = r.view; // ImageBitmaps (display size); full = the overlay at opacity 1
    const w = frame.width, h = frame.height;
    const original = canvasOf(w, h, `${name}: the frame`);
    original.getContext('2d').drawImage(frame, 0, 0);
    frame.close();
    original.classList.add('original');
    const cam = canvasOf(w, h, `${name}: Grad-CAM heat map over the frame (where the network found evidence of malignancy)`);
    cam.dataset.testid = 'cam';
    const draw = () => {
      const g = cam.getContext('2d');
      g.globalAlpha = 1;
      g.drawImage(original, 0, 0);
      if (show.checked) {
        g.globalAlpha = Number(alpha.value) / 100;
        g.drawImage(full, 0, 0);
        g.globalAlpha = 1;
      }
    };

    const show = el('input', { type: 'checkbox', checked: true, id: `show-${id}` });
    const alpha = el('input', { type: 'range', min: 0, max: 100, step: 5, value: Math.round(defaultAlpha * 100), id: `alpha-${id}` });
    const beside = el('input', { type: 'checkbox', checked: false, id: `beside-${id}` });
    show.addEventListener('change', () => { alpha.disabled = !show.checked; draw(); });
    alpha.addEventListener('input', draw);
    beside.addEventListener('change', () => node.classList.toggle('with-original', beside.checked));
    const save = el('button', { type: 'button', class: 'small', text: 'Save overlay as PNG' });
    save.addEventListener('click', () => onSave(Number(alpha.value) / 100, save));
    draw();

    const pct = (x) => `${(100 * x).toFixed(1)}%`;
    const bar = el('div', { class: 'bar', role: 'img', 'aria-label': `p(malignant) ${r.pMalignant.toFixed(3)}, threshold ${r.threshold.toFixed(3)}` },
      el('div', { class: 'fill' }), el('div', { class: 'mark', title: `threshold ${r.threshold.toFixed(3)}` }));
    bar.firstChild.style.width = pct(r.pMalignant);
    bar.lastChild.style.left = pct(r.threshold);

    node.dataset.pMalignant = String(r.pMalignant);
    node.dataset.label = r.label;
    node.dataset.checksum = checksum;
    status.replaceWith(
      el('div', { class: 'pictures' }, el('figure', {}, cam), el('figure', { class: 'beside' }, original)),
      el('div', { class: 'verdict' },
        el('span', { class: `label ${malignant ? 'malignant' : 'benign'}`, text: r.label }),
        el('span', { class: 'p', text: `p(malignant) = ${r.pMalignant.toFixed(3)}` })),
      bar,
      el('p', { class: 'meta', text: `threshold ${r.threshold.toFixed(3)} · ${r.width}×${r.height} px · ${Math.round(r.ms)} ms` }),
      el('div', { class: 'controls' },
        el('label', { for: show.id }, show, ' heat map'),
        el('label', { for: alpha.id, class: 'alpha' }, 'opacity ', alpha),
        el('label', { for: beside.id }, beside, ' original beside'),
        save),
    );
  }

  return { node, done, fail, setStatus: (t) => { status.textContent = t; } };
}
