// load-script.js — add a classic script of this page's own folder (allowed by the page's CSP:
// script-src 'self'; a page opened from disk can load nothing else: no fetch, no ES module).
export function loadScript(src) {
  return new Promise((ok, fail) => {
    const s = document.createElement('script');
    s.src = src;
    s.onload = ok;
    s.onerror = () => fail(new Error(`the page's file ${src} is missing`));
    document.head.appendChild(s);
  });
}
