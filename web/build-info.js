// build-info.js — which release this page is, shown in its footer beside the model's checksum, and
// the check that the page, the engine and the shipped model are of one build (a stale cached file
// or a half-copied folder would otherwise mix them silently). SIALOSCAN_BUILD (tools/make-web.mjs)
// holds the page's version and the CRC-32 of the model it was built with (the .sialo header's,
// the engine's info().checksum); the engine reports its own version (info().version).

/** The footer's line: "sialoscan 0.1.0 · model sialoscan-busi.sialo, checksum 1a2b3c4d". */
export function buildLine(build, info, modelName) {
  const v = build.version ?? 'unversioned';
  return `sialoscan ${v} · model ${modelName ?? build.model?.name ?? '?'}, checksum ${info?.checksum ?? build.model?.checksum ?? '?'}`;
}

/** null when page, engine and shipped model agree; else the sentence that says how they differ */
export function versionMismatch(build, info) {
  const parts = [];
  if (build.version && info.version !== build.version) parts.push(`the engine is ${info.version ?? 'of an unknown version'}`);
  if (build.model?.checksum && info.checksum !== build.model.checksum)
    parts.push(`the model's checksum is ${info.checksum}, not ${build.model.checksum}`);
  if (!parts.length) return null;
  return `This page's files are not of one version: the page is ${build.version}, ${parts.join(' and ')}. ` +
    'Reload the page; if this stays, copy or download the whole folder again.';
}
