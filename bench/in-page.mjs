// in-page.mjs — what the peers' page functions of bench/chromium.mjs share, imported inside the
// benchmark page: loading classic scripts, and the timed loop (2 warm-up calls, then `runs` timed).

/** load classic scripts one after another (they define globals: tf, tflite) */
export async function loadScripts(srcs) {
  for (const src of srcs)
    await new Promise((ok, err) => {
      const e = document.createElement('script');
      e.src = src;
      e.onload = ok;
      e.onerror = () => err(new Error(`cannot load ${src}`));
      document.head.append(e);
    });
}

/** forward() (sync, or async as ORT's) twice untimed, then `runs` times timed: { times, out } */
export async function timeRuns(forward, runs) {
  let out;
  for (let i = 0; i < 2; i++) out = await forward();
  const times = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    const r = forward();
    out = r instanceof Promise ? await r : r;
    times.push(performance.now() - t);
  }
  return { times, out };
}
