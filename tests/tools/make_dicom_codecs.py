#!/usr/bin/env python3
"""make_dicom_codecs.py — DICOM files of the compressed syntaxes, made at test time by independent
encoders, with their reference frames.

    make_dicom_codecs.py OUTDIR    writes OUTDIR/*.dcm, the reference frames OUTDIR/*-ref<k>.png and
                                   OUTDIR/cases.json ({"cases": [...]}, the fields of make_dicom.py's
                                   cases, plus "tol": the largest pixel difference allowed;
                                   "skipped": the 16-bit colour cases whose encoder is absent)

Encoders: dcmtk's dcmcjpls (JPEG-LS lossless and near-lossless, line- and non-interleaved) and
dcmcjpeg (JPEG Lossless process 14 and SV1, JPEG Extended 12-bit and 8-bit); OpenJPEG's
opj_compress and Pillow (JPEG 2000, reversible and irreversible, with and without the colour
transform), OpenJPH's ojph_compress (HTJ2K), each codestream wrapped with pydicom. References:
the source pixels for lossless syntaxes (exact; the generator checks that dcmtk's own decode,
dcmdjpls / dcmdjpeg, agrees); for lossy ones the decode of an independent tool: dcmdjpls / dcmdjpeg
(dcmtk), opj_decompress (OpenJPEG's tool) or ojph_expand (OpenJPH), then the same window as the
reader (PS3.3 C.11.2.1.2.1) for 16-bit frames.
"""
import json
import os
import shutil
import subprocess
import sys

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_dicom import PRIVATE, frame, save_png  # noqa: E402

J2K_LOSSLESS, J2K, HTJ2K_LOSSLESS, HTJ2K = "1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.4.91", "1.2.840.10008.1.2.4.201", "1.2.840.10008.1.2.4.203"


def run(*args):
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def rgb8(v, bits):
    """16-bit colour to 8 bits as the reader scales it (as a 16-bit PNG is): (v * 255 + m / 2) // m, m = 2^bits - 1"""
    m = (1 << bits) - 1
    return ((v.astype(np.int64) * 255 + m // 2) // m).astype(np.uint8)


def window8(x, center, width):
    """the reader's linear VOI window of 16-bit values to 8 bits"""
    x = x.astype(np.float64)
    lo, hi = center - 0.5 - (width - 1) / 2, center - 0.5 + (width - 1) / 2
    y = ((x - (center - 0.5)) / (width - 1) + 0.5) * 255
    y = np.where(x <= lo, 0, np.where(x > hi, 255, y))
    return np.clip(np.floor(y + 0.5), 0, 255).astype(np.uint8)


def main(out):
    import pydicom
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.encaps import encapsulate
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid
    from pydicom.pixel_data_handlers.util import convert_color_space

    from pydicom._uid_dict import UID_dictionary
    for uid, nm in [(HTJ2K_LOSSLESS, "High-Throughput JPEG 2000 Image Compression (Lossless Only)"),
                    (HTJ2K, "High-Throughput JPEG 2000 Image Compression")]:  # newer than pydicom 2.3
        UID_dictionary.setdefault(uid, (nm, "Transfer Syntax", "", "", ""))
    os.makedirs(out, exist_ok=True)
    cases = []

    def dataset(frames, photometric, syntax=ExplicitVRLittleEndian, bits=8, stored=None, window=None, encapsulated=None):
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.6.1"
        meta.MediaStorageSOPInstanceUID = generate_uid()
        meta.TransferSyntaxUID = syntax
        ds = Dataset()
        ds.file_meta = meta
        ds.is_little_endian, ds.is_implicit_VR = True, False
        ds.SOPClassUID, ds.SOPInstanceUID = meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID
        for k, v in PRIVATE.items():
            setattr(ds, k, v)
        ds.Modality, ds.Manufacturer, ds.ManufacturerModelName = "US", "sialoscan test generator", "make_dicom_codecs.py"
        f0 = frames[0]
        ds.Rows, ds.Columns = f0.shape[0], f0.shape[1]
        ds.SamplesPerPixel = 3 if f0.ndim == 3 else 1
        ds.PhotometricInterpretation = photometric
        ds.BitsAllocated, ds.BitsStored = bits, stored or bits
        ds.HighBit, ds.PixelRepresentation = (stored or bits) - 1, 0
        if ds.SamplesPerPixel == 3:
            ds.PlanarConfiguration = 0
        if len(frames) > 1:
            ds.NumberOfFrames = len(frames)
        if window:
            ds.WindowCenter, ds.WindowWidth = str(window[0]), str(window[1])
        if encapsulated is None:
            ds.PixelData = b"".join(a.astype("<u2" if bits == 16 else np.uint8).tobytes() for a in frames)
            ds["PixelData"].VR = "OW" if bits == 16 else "OB"
        else:
            ds.PixelData = encapsulate(encapsulated, has_bot=len(encapsulated) > 1)
            ds["PixelData"].VR = "OB"
            ds["PixelData"].is_undefined_length = True
        return ds

    def add(name, path, refs, tol, frames=None, syntax=None):
        ref_paths = []
        for k, r in enumerate(refs):
            rp = os.path.join(out, f"{name}-ref{k}.png")
            save_png(rp, r)
            ref_paths.append(rp)
        cases.append({"name": name, "file": path, "frames": frames or len(refs), "refs": ref_paths, "exact": tol == 0, "tol": tol,
                      "region": None, "region_ref": None, "refuse": None, "syntax": syntax or str(pydicom.dcmread(path).file_meta.TransferSyntaxUID)})

    def save(name, ds):
        path = os.path.join(out, name + ".dcm")
        ds.save_as(path, write_like_original=False)
        return path

    def native_pixels(path):  # a dcmtk-decoded (native) file's frames, as numpy arrays
        a = pydicom.dcmread(path).pixel_array
        return list(a) if pydicom.dcmread(path).get("NumberOfFrames", 1) > 1 else [a]

    # the sources: 8-bit grey, 8-bit RGB, 16-bit grey (window: grey p exactly), multi-frame grey and RGB
    g8 = frame(1)
    c8 = frame(2, 100, 72, colour=True)
    ct = frame(7, 160, 120, colour="tint")
    p = frame(3).astype(np.int64)
    g16 = (300 + 16 * p + 1024).astype(np.uint16)
    w16 = (300 + 1024 + 2040.5, 4081)
    g12 = (16 * p).astype(np.uint16)
    w12 = (2040.5, 4081)
    mg = [frame(10 + k, 80, 64) for k in range(3)]
    mc = [frame(20 + k, 64, 48, colour=True) for k in range(3)]
    src = {
        "g8": (save("src-g8", dataset([g8], "MONOCHROME2")), [g8]),
        "c8": (save("src-c8", dataset([c8], "RGB")), [c8]),
        "ct": (save("src-ct", dataset([ct], "RGB")), [ct]),
        "g16": (save("src-g16", dataset([g16], "MONOCHROME2", bits=16, window=w16)), [p.astype(np.uint8)]),
        "g12": (save("src-g12", dataset([g12], "MONOCHROME2", bits=16, stored=12, window=w12)), [p.astype(np.uint8)]),
        "mg": (save("src-mg", dataset(mg, "MONOCHROME2")), mg),
        "mc": (save("src-mc", dataset(mc, "RGB")), mc),
    }
    win = {"g16": w16, "g12": w12}
    # 16-bit colour, 16 and 12 bits stored: to 8 bits by the rule of uncompressed 16-bit colour (make_dicom.py's
    # rgb16 cases), v * 255 / (2^bits stored - 1), rounded; the low bits vary inside each 8-bit step
    raw = {}  # the source's own 16-bit frames: dcmtk's lossless decode must give them back exactly
    rng16 = np.random.default_rng(16)
    base16 = frame(42, 96, 80, colour="tint").astype(np.int64)
    for bits in (16, 12):
        m = (1 << bits) - 1
        v = np.clip(base16 * m // 255 + rng16.integers(0, m // 255 + 1, base16.shape), 0, m).astype(np.uint16)
        s = f"c{bits}"
        raw[s] = [v]
        src[s] = (save("src-" + s, dataset([v], "RGB", bits=16, stored=bits)), [rgb8(v, bits)])

    def dcmtk(tool, dec, opts, s, tag, lossless):
        """encode source s with a dcmtk tool, check dcmtk's own decode (lossless: equal to the source)"""
        path, refs = src[s]
        name = f"{tag}-{s}"
        dst = os.path.join(out, name + ".dcm")
        run(tool, *opts, path, dst)
        dec_path = os.path.join(out, name + "-dcmtk.dcm")
        run(dec, dst, dec_path)
        got = native_pixels(dec_path)
        if lossless and s in raw:
            for a, b in zip(got, raw[s]):
                assert np.array_equal(a, b), f"{name}: dcmtk's decode differs from the 16-bit source"
        if s in raw:
            got = [rgb8(a, int(pydicom.dcmread(path).BitsStored)) for a in got]
        if s in win:
            got = [window8(a, *win[s]) for a in got]
        if lossless:
            for a, b in zip(got, refs):
                assert np.array_equal(a, b), f"{name}: dcmtk's decode differs from the source"
            add(name, dst, refs, 0)
        else:
            add(name, dst, got, 2)

    # ---- JPEG-LS (dcmtk: dcmcjpls; its own CharLS decodes the references)
    for s in ["g8", "c8", "g16", "mg", "mc"]:
        dcmtk("dcmcjpls", "dcmdjpls", [], s, "jls", True)
    dcmtk("dcmcjpls", "dcmdjpls", ["+in"], "c8", "jls-planes", True)     # one scan per component
    dcmtk("dcmcjpls", "dcmdjpls", ["+is"], "c8", "jls-sample", True)     # sample-interleaved
    for s in ["g8", "ct", "g16"]:
        dcmtk("dcmcjpls", "dcmdjpls", ["+en", "+md", "2"], s, "jls-near", False)
    # ---- JPEG Lossless process 14 (selection value 1 and the default predictor) and JPEG Extended
    for s in ["g8", "c8", "g16", "mg", "mc"]:
        dcmtk("dcmcjpeg", "dcmdjpeg", ["+e1"], s, "jpeg-sv1", True)
    for s in ["g8", "g16"]:
        dcmtk("dcmcjpeg", "dcmdjpeg", ["+el"], s, "jpeg-p14", True)
    # ---- 16-bit colour (16 and 12 bits stored): JPEG-LS, JPEG Lossless (SV1 and the default predictor), RLE
    # (skipped, and listed in cases.json's "skipped", when an encoder or its decoder is absent)
    skipped = []

    def have(name, *tools):
        gone = [t for t in tools if not shutil.which(t)]
        if gone:
            skipped.append(f"{name}: {' and '.join(gone)} absent")
        return not gone
    for s in ["c16", "c12"]:
        for tool, dec, opts, tag in [("dcmcjpls", "dcmdjpls", [], "jls"), ("dcmcjpeg", "dcmdjpeg", ["+e1"], "jpeg-sv1"),
                                     ("dcmcjpeg", "dcmdjpeg", ["+el"], "jpeg-p14"), ("dcmcrle", "dcmdrle", [], "rle")]:
            if have(f"{tag}-{s}", tool, dec):
                dcmtk(tool, dec, opts, s, tag, True)
    dcmtk("dcmcjpeg", "dcmdjpeg", ["+ee"], "g12", "jpeg-ext12", False)
    dcmtk("dcmcjpeg", "dcmdjpeg", ["+ee"], "g8", "jpeg-ext8", False)
    dcmtk("dcmcjpeg", "dcmdjpeg", ["+ee"], "ct", "jpeg-ext8", False)

    # ---- JPEG 2000 and HTJ2K: raw codestreams from OpenJPEG's, Pillow's and OpenJPH's encoders
    def pnm(a, path, maxval=65535):  # 16-bit: maxval 2^bits - 1 gives the codestream that precision
        if a.dtype == np.uint16:
            with open(path, "wb") as f:
                f.write(b"P%d\n%d %d\n%d\n" % (6 if a.ndim == 3 else 5, a.shape[1], a.shape[0], maxval) + a.astype(">u2").tobytes())
        else:
            Image.fromarray(a).save(path)
        return path

    def read_pnm(path):
        with open(path, "rb") as f:
            data = f.read()
        fields, pos = [], 0
        while len(fields) < 4:  # magic, width, height, maxval; comments (opj_decompress writes one) skipped
            while data[pos:pos + 1].isspace():
                pos += 1
            if data[pos:pos + 1] == b"#":
                pos = data.index(b"\n", pos)
                continue
            end = pos
            while not data[end:end + 1].isspace():
                end += 1
            fields.append(data[pos:end])
            pos = end
        if int(fields[3]) > 255:  # 16 bits (Pillow 9.4 reads no 16-bit PPM)
            w, h, c = int(fields[1]), int(fields[2]), 3 if fields[0] == b"P6" else 1
            a = np.frombuffer(data[pos + 1:pos + 1 + 2 * w * h * c], ">u2").astype(np.uint16)
            return a.reshape((h, w, c) if c == 3 else (h, w))
        im = Image.open(path)
        a = np.asarray(im)
        return a.astype(np.uint16) if im.mode.startswith("I") else a.astype(np.uint8)

    def j2k_case(name, frames, photometric, syntax, encode, decode, lossless, bits=8, window=None, expect=None, stored=None):
        """encode each frame to a codestream, wrap it; refs = the expected frames (lossless) or the decoder tool's.
        16-bit colour (stored: its bits stored): a lossless codestream is also decoded by the tool (decode), which
        must give the source back; the refs are the source scaled to 8 bits as the reader scales 16-bit colour"""
        streams, refs = [], []
        for k, a in enumerate(frames):
            cs = encode(a, os.path.join(out, f"{name}-{k}"), (1 << (stored or 16)) - 1)
            streams.append(cs)
            ref = expect[k] if expect is not None else a
            if not lossless or stored:
                ref = decode(os.path.join(out, f"{name}-{k}"))
                if lossless:
                    assert np.array_equal(ref, a), f"{name}: the tool's decode differs from the 16-bit source"
            if window:
                ref = window8(ref, *window)
            if stored:
                ref = rgb8(ref, stored)
            refs.append(ref)
        ds = dataset(frames, photometric, syntax=syntax, bits=bits, window=window, encapsulated=streams, stored=stored)
        add(name, save(name, ds), refs, 0 if lossless else 2)

    def opj(*opts):
        def enc(a, base, maxval):
            run("opj_compress", "-i", pnm(a, base + (".ppm" if a.ndim == 3 else ".pgm"), maxval), "-o", base + ".j2k", *opts)
            with open(base + ".j2k", "rb") as f:
                return f.read()
        return enc

    def opj_dec(base):
        out_pnm = base + "-dec" + ".pnm"
        run("opj_decompress", "-i", base + ".j2k", "-o", out_pnm)
        return read_pnm(out_pnm)

    def pil(**kw):
        def enc(a, base, maxval):
            Image.fromarray(a).save(base + ".j2k", "JPEG2000", **kw)
            with open(base + ".j2k", "rb") as f:
                return f.read()
        return enc

    def ojph(*opts):
        def enc(a, base, maxval):
            run("ojph_compress", "-i", pnm(a, base + (".ppm" if a.ndim == 3 else ".pgm"), maxval), "-o", base + ".j2c", *opts)
            with open(base + ".j2c", "rb") as f:
                return f.read()
        return enc

    def ojph_dec(base):
        out_pnm = base + "-dec" + ".ppm"
        try:
            run("ojph_expand", "-i", base + ".j2c", "-o", out_pnm)
        except subprocess.CalledProcessError:
            out_pnm = base + "-dec" + ".pgm"
            run("ojph_expand", "-i", base + ".j2c", "-o", out_pnm)
        return read_pnm(out_pnm)

    j2k_case("j2k-g8", [g8], "MONOCHROME2", J2K_LOSSLESS, opj(), None, True)
    j2k_case("j2k-rct-c8", [c8], "YBR_RCT", J2K_LOSSLESS, opj(), None, True)          # opj_compress: MCT on for 3 components
    j2k_case("j2k-g16", [g16], "MONOCHROME2", J2K_LOSSLESS, opj(), None, True, bits=16, window=w16)
    j2k_case("j2k-mg", mg, "MONOCHROME2", J2K_LOSSLESS, opj(), None, True)
    j2k_case("j2k-rct-mc", mc, "YBR_RCT", J2K_LOSSLESS, pil(), None, True)           # Pillow, MCT on
    j2k_case("j2k-pil-g8", [g8], "MONOCHROME2", J2K_LOSSLESS, pil(), None, True)
    j2k_case("j2k-ict-ct", [ct], "YBR_ICT", J2K, opj("-I", "-r", "8"), opj_dec, False)
    j2k_case("j2k-lossy-g8", [g8], "MONOCHROME2", J2K, pil(irreversible=True, quality_mode="rates", quality_layers=[6]), opj_dec, False)
    j2k_case("j2k-lossy-g16", [g16], "MONOCHROME2", J2K, opj("-I", "-r", "10"), opj_dec, False, bits=16, window=w16)
    # 16-bit colour, 16 and 12 bits stored (the codestream's precision): with the colour transform (YBR_RCT) and without (RGB)
    for s in ["c16", "c12"]:
        b = int(s[1:])
        if have(f"j2k-{s}", "opj_compress", "opj_decompress"):
            j2k_case(f"j2k-rct-{s}", raw[s], "YBR_RCT", J2K_LOSSLESS, opj(), opj_dec, True, bits=16, stored=b)
            j2k_case(f"j2k-rgb-{s}", raw[s], "RGB", J2K_LOSSLESS, opj("-mct", "0"), opj_dec, True, bits=16, stored=b)
        if have(f"htj2k-{s}", "ojph_compress", "ojph_expand"):
            j2k_case(f"htj2k-rct-{s}", raw[s], "YBR_RCT", HTJ2K_LOSSLESS, ojph("-reversible", "true", "-colour_trans", "true"), ojph_dec,
                     True, bits=16, stored=b)
    # the data set and the codestream disagree: the codestream's transform flag decides
    j2k_case("j2k-says-rgb-mct1", [c8], "RGB", J2K_LOSSLESS, opj("-mct", "1"), None, True)      # RGB over a transformed codestream
    j2k_case("j2k-says-rct-mct0", [c8], "YBR_RCT", J2K_LOSSLESS, opj("-mct", "0"), None, True)  # YBR_RCT over an untransformed one
    ybr = convert_color_space(c8, "RGB", "YBR_FULL")
    j2k_case("j2k-ybr-full-mct0", [ybr], "YBR_FULL", J2K_LOSSLESS, opj("-mct", "0"), None, True,
             expect=[convert_color_space(ybr, "YBR_FULL", "RGB")])
    # HTJ2K (OpenJPH's encoder, its ojph_expand decodes the lossy references)
    j2k_case("htj2k-g8", [g8], "MONOCHROME2", HTJ2K_LOSSLESS, ojph("-reversible", "true"), None, True)
    j2k_case("htj2k-rct-c8", [c8], "YBR_RCT", HTJ2K_LOSSLESS, ojph("-reversible", "true", "-colour_trans", "true"), None, True)
    j2k_case("htj2k-g16", [g16], "MONOCHROME2", HTJ2K_LOSSLESS, ojph("-reversible", "true"), None, True, bits=16, window=w16)
    j2k_case("htj2k-mg", mg, "MONOCHROME2", HTJ2K_LOSSLESS, ojph("-reversible", "true"), None, True)
    j2k_case("htj2k-lossy-ct", [ct], "YBR_ICT", HTJ2K, ojph("-qstep", "0.005", "-colour_trans", "true"), ojph_dec, False)

    # ---- hostile files: each refused with its sentence ("refuse"), in bounded memory and time
    from pydicom.encaps import generate_pixel_data_frame

    def hostile(name, base, pattern, edit_ds=None, edit_frame=None):
        ds = pydicom.dcmread(next(c for c in cases if c["name"] == base)["file"])
        frames = list(generate_pixel_data_frame(ds.PixelData, int(ds.get("NumberOfFrames", 1))))
        if edit_frame:
            frames = [edit_frame(bytearray(f)) for f in frames]
        ds.PixelData = encapsulate([bytes(f) for f in frames], has_bot=len(frames) > 1)
        if edit_ds:
            edit_ds(ds)
        path = save(name, ds)
        cases.append({"name": name, "file": path, "frames": 0, "refs": [], "exact": False, "tol": 0, "region": None, "region_ref": None,
                      "refuse": pattern, "syntax": str(ds.file_meta.TransferSyntaxUID)})

    def rows(n):
        def f(ds):
            ds.Rows = n
        return f

    def cut(frac):
        return lambda f: f[:int(len(f) * frac)]

    def siz(off, value):  # a 32-bit field of the SIZ marker segment (after SOC, SIZ, Lsiz, Rsiz)
        def f(b):
            o = 4 + 4 + off
            b[o:o + 4] = value.to_bytes(4, "big")
            return b
        return f

    def both(*fs):
        def f(x):
            for g in fs:
                x = g(x)
            return x
        return f

    def lse_bad_preset(b):  # an LSE preset-parameters segment after SOF55: T1 above MAXVAL
        i = b.index(b"\xff\xf7")
        j = i + 2 + int.from_bytes(b[i + 2:i + 4], "big")
        seg = b"\xff\xf8" + (13).to_bytes(2, "big") + b"\x01" + b"".join(v.to_bytes(2, "big") for v in [255, 300, 7, 21, 64])
        return b[:j] + seg + b[j:]

    def big_dims(ds):
        ds.Rows = ds.Columns = 65535
    hostile("hostile-j2k-size", "j2k-g8", r"the JPEG 2000 codestream is 96x80 pixels but the DICOM file says 96x70", edit_ds=rows(70))
    hostile("hostile-jls-size", "jls-g8", r"the JPEG-LS frame is 96x80 pixels but the DICOM file says 96x70", edit_ds=rows(70))
    hostile("hostile-ljpeg-size", "jpeg-sv1-g8", r"the JPEG frame is 96x80 pixels but the DICOM file says 96x70", edit_ds=rows(70))
    hostile("hostile-j2k-samples", "j2k-rct-c8", r"the JPEG 2000 codestream has 3 components but the DICOM file says 1 samples per pixel",
            edit_ds=lambda ds: (setattr(ds, "SamplesPerPixel", 1), setattr(ds, "PhotometricInterpretation", "MONOCHROME2")))
    hostile("hostile-j2k-truncated", "j2k-g8", r"the JPEG 2000 codestream cannot be decoded", edit_frame=cut(0.6))
    hostile("hostile-htj2k-truncated", "htj2k-g8", r"the JPEG 2000 codestream cannot be decoded", edit_frame=cut(0.6))
    hostile("hostile-jls-truncated", "jls-g8", r"the JPEG-LS frame cannot be decoded", edit_frame=cut(0.6))
    hostile("hostile-ljpeg-truncated", "jpeg-sv1-g8", r"the JPEG frame is truncated", edit_frame=cut(0.6))
    hostile("hostile-j2k-65535", "j2k-g8", r"the JPEG 2000 codestream is 65535x65535 pixels but the DICOM file says 96x80",
            edit_frame=both(siz(0, 65535), siz(4, 65535)))
    hostile("hostile-j2k-65535-both", "j2k-g8", r"the DICOM frames are 65535x65535 pixels, more than the 64 megapixel limit",
            edit_frame=both(siz(0, 65535), siz(4, 65535)), edit_ds=big_dims)
    hostile("hostile-j2k-tiles", "j2k-g8", r"the JPEG 2000 codestream has 7680 tiles, more than the 4096 read",
            edit_frame=both(siz(16, 1), siz(20, 1)))
    hostile("hostile-jls-preset", "jls-g8", r"the JPEG-LS frame cannot be decoded \(.*preset parameters segment contains invalid values", edit_frame=lse_bad_preset)

    def hostile_regress(name, regress, syntax, pattern):
        """a fuzz/regress input (fuzz/codec_fuzz.h: an 8-byte header of what the data set declares, then the
        codestream) as a DICOM file of those rows, columns, samples and bits"""
        with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "fuzz", "regress", regress), "rb") as f:
            b = f.read()
        cols, nrows = 1 + (b[0] | b[1] << 8) % 1024, 1 + (b[2] | b[3] << 8) % 1024
        spp, bits = 3 if b[4] & 1 else 1, 16 if b[5] & 1 else 8
        shape = (nrows, cols, 3) if spp == 3 else (nrows, cols)
        photometric = ("YBR_FULL" if b[7] & 2 else "RGB") if spp == 3 else "MONOCHROME2"
        ds = dataset([np.zeros(shape, np.uint8)], photometric, syntax=syntax, bits=bits, stored=1 + b[6] % bits, encapsulated=[b[8:]])
        ds.PixelRepresentation = b[7] & 1
        path = save(name, ds)
        cases.append({"name": name, "file": path, "frames": 0, "refs": [], "exact": False, "tol": 0, "region": None, "region_ref": None,
                      "refuse": pattern, "syntax": syntax})
    # an HT code-block whose MEL segment OpenJPEG 2.5.0 asserted on (tools/codecs/patches/openjpeg-ht-mel-init.patch)
    hostile_regress("hostile-htj2k-mel", "j2k/openjpeg-ht-mel-init-assert", HTJ2K_LOSSLESS,
                    r"the JPEG 2000 codestream cannot be decoded \(Malformed HT codeblock\. Incorrect MEL segment sequence\)")
    hostile_regress("hostile-htj2k-mel-2", "j2k/openjpeg-ht-mel-init-assert-2", HTJ2K_LOSSLESS,
                    r"the JPEG 2000 codestream cannot be decoded \(Malformed HT codeblock\. Incorrect MEL segment sequence\)")

    with open(os.path.join(out, "cases.json"), "w") as f:
        json.dump({"private": list(PRIVATE.values()), "cases": cases, "skipped": skipped}, f, indent=1)


def seeds(gen, out):
    """the first frame of each generated file, behind the fuzz targets' 8-byte header (fuzz/codec_fuzz.h)"""
    import pydicom
    from pydicom.encaps import generate_pixel_data_frame
    family = {"1.2.840.10008.1.2.4.8": "jls", "1.2.840.10008.1.2.4.9": "j2k", "1.2.840.10008.1.2.4.20": "j2k",
              "1.2.840.10008.1.2.4.5": "ljpeg", "1.2.840.10008.1.2.4.7": "ljpeg"}
    with open(os.path.join(gen, "cases.json")) as f:
        cases = json.load(f)["cases"]
    for c in cases:
        if c["refuse"] and "size" in c["name"]:
            continue
        fam = next((v for k, v in family.items() if c["syntax"].startswith(k)), None)
        ds = pydicom.dcmread(c["file"])
        if fam is None or ds.Rows > 1024 or ds.Columns > 1024:
            continue
        f0 = next(generate_pixel_data_frame(ds.PixelData, int(ds.get("NumberOfFrames", 1))))
        hdr = bytes([(ds.Columns - 1) & 255, (ds.Columns - 1) >> 8, (ds.Rows - 1) & 255, (ds.Rows - 1) >> 8,
                     1 if ds.SamplesPerPixel == 3 else 0, 1 if ds.BitsAllocated == 16 else 0, ds.BitsStored - 1,
                     (2 if ds.PhotometricInterpretation == "YBR_FULL" else 0)])
        d = os.path.join(out, fam)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, c["name"] + ".bin"), "wb") as f:
            f.write(hdr + f0)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "seeds":
        seeds(sys.argv[2], sys.argv[3])
        sys.exit(0)
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
