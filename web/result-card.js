// result-card.js — one card per file: the frame with its Grad-CAM overlay (opacity, on/off,
// the original beside it), p(malignant) as a bar with the model's threshold marked, the engine's
// label and time, "save overlay as PNG"; a multi-frame DICOM file (a cine loop) gets a frame slider
// and opens on its most suspicious frame; a file the engine refuses gets an error card with its reason.
// Testing contract: [data-testid=result][data-file] with data-p-malignant + data-label (for a cine
// loop: its most suspicious frame, data-frame), or data-error; the overlay is canvas[data-testid=cam].
// The out-of-distribution check: data-ood = "flagged" | "ok" | "not-checked", data-ood-score; a
// flagged frame shows the warning [data-testid=ood-warning] on the card itself (role=alert).
// The lesion box: the button [data-testid=draw-box] ("Draw lesion box") puts the frame in drawing
// mode (drag with the mouse; or, on the focused frame, arrow keys move the box, Shift+arrows resize
// it, Enter applies, Escape cancels); the engine's p for the box is shown beside the whole frame's
// ([data-testid=p-box]; data-box = "x,y,w,h" in frame pixels, data-p-box on the card), the box drawn
// on the overlay. Boxes are kept per card and per frame of a cine loop. With a model trained on
// whole frames only the button is disabled and [data-testid=box-unavailable] says why.

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

/** A pending card for file name. opts: { defaultAlpha, onSave(alpha, button, frame), onFrame(frame) -> Promise<result>,
 * onBox(box, frame) -> Promise<{ pMalignant, label, box, region, margin }>, boxModes() -> 'whole' | 'box' | 'both' }.
 * Returns { node, done(result, checksum), fail(message), setStatus(text), onBoxResult(fn(frame, result | null)) }. */
export function createCard(name, { defaultAlpha, onSave, onFrame, onBox, boxModes }) {
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

  // ---- the lesion box: per frame { box, pMalignant, label, region, margin }; drawing state
  const boxes = new Map();
  let boxListeners = [];
  let drawing = null;       // { box } in frame pixels while drawing, else null
  let frameSize = { w: 1, h: 1 }, viewCanvas = null, boxText = null;
  const drawBtn = el('button', { type: 'button', class: 'small', text: 'Draw lesion box', 'data-testid': 'draw-box',
    'aria-describedby': `box-help-${id}` });
  controls.append(drawBtn);
  const boxHelp = el('p', { class: 'box-help', id: `box-help-${id}`, hidden: true,
    text: 'Drag on the frame around the lesion, or use the keyboard on the frame: arrow keys move the box, Shift+arrow keys resize it, Enter applies, Escape cancels.' });
  const boxUnavailable = el('p', { class: 'box-unavailable', 'data-testid': 'box-unavailable', hidden: true });
  const clampBox = (b) => {
    const w = Math.max(8, Math.min(frameSize.w, Math.round(b.w))), h = Math.max(8, Math.min(frameSize.h, Math.round(b.h)));
    return { x: Math.max(0, Math.min(frameSize.w - w, Math.round(b.x))), y: Math.max(0, Math.min(frameSize.h - h, Math.round(b.y))), w, h };
  };
  const stopDrawing = () => {
    drawing = null;
    node.classList.remove('drawing-box');
    boxHelp.hidden = true;
    drawBtn.textContent = 'Draw lesion box';
    drawBtn.setAttribute('aria-pressed', 'false');
    if (viewCanvas) viewCanvas.removeAttribute('tabindex');
    redraw();
  };
  const showBox = () => {
    const b = boxes.get(shownFrame);
    if (!boxText) return;
    if (b) {
      node.dataset.box = `${b.box.x},${b.box.y},${b.box.w},${b.box.h}`;
      node.dataset.pBox = String(b.pMalignant);
      boxText.textContent = `p(malignant) in the box = ${b.pMalignant.toFixed(3)} (${b.label}; box ${b.box.w}×${b.box.h} px at ${b.box.x}, ${b.box.y}, grown by ${Math.round(100 * b.margin)}% per side)`;
      boxText.hidden = false;
    } else {
      delete node.dataset.box;
      delete node.dataset.pBox;
      boxText.textContent = '';
      boxText.hidden = true;
    }
  };
  const applyBox = async () => {
    const box = clampBox(drawing.box), frame = shownFrame;
    stopDrawing();
    boxText.hidden = false;
    boxText.textContent = 'classifying the box…';
    try {
      const r = await onBox(box, frame);
      boxes.set(frame, { ...r, box });
      for (const f of boxListeners) f(frame, boxes.get(frame));
    } catch (e) {
      boxes.delete(frame);
      if (frame === shownFrame) { boxText.textContent = `The box was not classified: ${e.message}`; node.dataset.boxError = e.message; }
      return;
    }
    delete node.dataset.boxError;
    if (frame === shownFrame) { showBox(); redraw(); }
  };
  drawBtn.addEventListener('click', () => {
    if (drawing) { stopDrawing(); return; }
    const old = boxes.get(shownFrame);
    drawing = { box: old ? { ...old.box } : clampBox({ x: frameSize.w / 3, y: frameSize.h / 3, w: frameSize.w / 3, h: frameSize.h / 3 }) };
    node.classList.add('drawing-box');
    boxHelp.hidden = false;
    drawBtn.textContent = 'Cancel box';
    drawBtn.setAttribute('aria-pressed', 'true');
    if (viewCanvas) { viewCanvas.tabIndex = 0; viewCanvas.focus(); }
    redraw();
  });
  // where a pointer event falls on the frame, in frame pixels
  const toFrame = (ev) => {
    const rc = viewCanvas.getBoundingClientRect();
    return { x: (ev.clientX - rc.left) * frameSize.w / rc.width, y: (ev.clientY - rc.top) * frameSize.h / rc.height };
  };
  const wireCanvas = (c) => {
    let start = null;
    c.addEventListener('pointerdown', (ev) => {
      if (!drawing) return;
      ev.preventDefault();
      start = toFrame(ev);
      c.setPointerCapture?.(ev.pointerId);
    });
    c.addEventListener('pointermove', (ev) => {
      if (!drawing || !start) return;
      const p = toFrame(ev);
      drawing.box = { x: Math.min(start.x, p.x), y: Math.min(start.y, p.y), w: Math.abs(p.x - start.x), h: Math.abs(p.y - start.y) };
      redraw();
    });
    c.addEventListener('pointerup', (ev) => {
      if (!drawing || !start) return;
      const p = toFrame(ev);
      drawing.box = { x: Math.min(start.x, p.x), y: Math.min(start.y, p.y), w: Math.abs(p.x - start.x), h: Math.abs(p.y - start.y) };
      start = null;
      applyBox();
    });
    c.addEventListener('keydown', (ev) => {
      if (!drawing) return;
      const step = Math.max(1, Math.round(Math.max(frameSize.w, frameSize.h) / 50)), b = drawing.box;
      const d = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] }[ev.key];
      if (d) {
        if (ev.shiftKey) { b.w += d[0] * step; b.h += d[1] * step; } else { b.x += d[0] * step; b.y += d[1] * step; }
        drawing.box = clampBox(b);
      } else if (ev.key === 'Enter') applyBox();
      else if (ev.key === 'Escape') stopDrawing();
      else return;
      ev.preventDefault();
      redraw();
    });
  };
  // the box on the overlay: the applied one (solid), the one being drawn (dashed)
  const drawBoxOn = (g, scale) => {
    const shown = drawing ? drawing.box : boxes.get(shownFrame)?.box;
    if (!shown) return;
    g.save();
    g.lineWidth = Math.max(2, 2 / scale);
    g.strokeStyle = drawing ? '#ffeb3b' : '#00e5ff';
    if (drawing) g.setLineDash([6, 4]);
    g.strokeRect(shown.x * scale, shown.y * scale, shown.w * scale, shown.h * scale);
    g.restore();
  };

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
    frameSize = { w: r.width, h: r.height };
    viewCanvas = cam;
    wireCanvas(cam);
    redraw = () => {
      const g = cam.getContext('2d');
      g.globalAlpha = 1;
      g.drawImage(original, 0, 0);
      if (show.checked) {
        g.globalAlpha = Number(alpha.value) / 100;
        g.drawImage(full, 0, 0);
        g.globalAlpha = 1;
      }
      drawBoxOn(g, w / r.width);
    };
    if (drawing) stopDrawing(); // a new frame: a box being drawn is dropped
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
        el('span', { class: 'p', text: `p(malignant) = ${r.pMalignant.toFixed(3)}` }),
        (boxText = el('span', { class: 'p p-box', 'data-testid': 'p-box', 'aria-live': 'polite', hidden: true }))),
      bar,
      el('p', { class: 'meta', text: `threshold ${r.threshold.toFixed(3)} · ${r.width}×${r.height} px · ${Math.round(r.ms)} ms` +
        (ood.checked ? (ood.flag ? '' : ` · like the training frames (score ${ood.score.toFixed(2)})`) : ' · not checked against the training frames (an older model file)') }),
      r.dicom ? el('p', { class: 'meta', text: dicomLine(r.dicom, r.frame, nFrames, r.usRegion) }) : null,
      r.dicom && r.dicom.notes && r.dicom.notes.length
        ? el('p', { class: 'meta notes', 'data-testid': 'dicom-notes', text: `read despite ${r.dicom.notes.join('; ')}` }) : null);
    if (body) body.replaceWith(next);
    else status.replaceWith(next, controls, boxHelp, boxUnavailable);
    body = next;
    showBox();
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
          const res = await onFrame(k);
          shownFrame = k; // before render: the frame's own box is drawn
          render(res);
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
    const modes = boxModes ? boxModes() : 'whole';
    if (!onBox || modes === 'whole' || !modes) {
      drawBtn.disabled = true;
      boxUnavailable.hidden = false;
      boxUnavailable.textContent = 'Lesion box unavailable: this model was trained on whole frames only, so its p for a box would not mean anything. A model trained with boxes (train --boxes or --boxes-from-masks) can classify one.';
      drawBtn.setAttribute('aria-describedby', boxUnavailable.id = `box-unavailable-${id}`);
    }
    if (r.frames && r.frames.length > 1) node.insertBefore(frameSlider(r), controls);
  }

  return { node, done, fail, setStatus: (t) => { status.textContent = t; }, onBoxResult: (f) => { boxListeners.push(f); } };
}
