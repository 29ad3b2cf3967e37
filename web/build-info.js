// build-info.js — which release this page is, shown in its footer beside the model's checksum.
// SIALOSCAN_BUILD (tools/make-web.mjs) holds the page's version and the CRC-32 of the model it was
// built with (the .sialo header's, the engine's info().checksum). That the page, its engine and its
// model are of one build is checked in app.js (the build id make-web stamps into every file).
// Under it, the libraries that decode compressed DICOM frames, as `sialoscan --version` names them.

/** The footer's line: "sialoscan 0.1.0 · model sialoscan-busi.sialo, checksum 1a2b3c4d". */
export function buildLine(build, info, modelName) {
  const v = build.version ?? 'unversioned';
  return `sialoscan ${v} · model ${modelName ?? build.model?.name ?? '?'}, checksum ${info?.checksum ?? build.model?.checksum ?? '?'}`;
}

/** The footer's second line: "DICOM codecs: OpenJPEG 2.5.0, CharLS 2.4.2, IJG 6b (…)" (the engine's
 * info().engine.codecs, the `codecs:` line of `sialoscan --version`); empty for an engine without it. */
export function codecsLine(info) {
  const c = info?.engine?.codecs;
  return c ? `DICOM codecs: ${c}` : '';
}
