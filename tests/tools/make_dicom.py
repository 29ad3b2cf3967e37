#!/usr/bin/env python3
"""make_dicom.py — DICOM test files, made at test time by independent encoders.

    make_dicom.py OUTDIR          writes OUTDIR/*.dcm, their reference frames OUTDIR/*.png and
                                  OUTDIR/cases.json (one entry per case, see below)
    make_dicom.py compare A B     prints the largest absolute pixel difference of two images (RGB)
    make_dicom.py compare -       the same for a JSON list of [A, B] pairs on stdin: a JSON list out

Frames are generated here (numpy; speckle over a dark blob, like tests/node/lib/png.mjs). Files
come from pydicom (every photometric interpretation, planar configurations, 16 bits, palettes,
multi-frame, Implicit VR, ultrasound regions) and from Debian's dcmtk (img2dcm from BMP and JPEG,
dcmcrle for RLE Lossless, dcmcjpeg for JPEG Baseline and the lossless JPEG syntaxes we refuse,
dcmconv for deflate). Every file carries a patient name, ID and birth date that must reach no
output (PRIVATE below).

A case: {"name", "file", "frames", "refs": [png per frame], "exact": lossless?, "region": [x0,y0,x1,y1]
or null, "region_ref": png or null, "refuse": regex of the expected error or null,
"syntax": transfer syntax UID}. For JPEG Baseline the reference frames are dcmj2pnm's decode.
"""
import json
import os
import shutil
import subprocess
import sys
import warnings

import numpy as np
from PIL import Image

PRIVATE = {"PatientName": "Doe^Jane^SECRETNAME", "PatientID": "PID-SECRET-12345", "PatientBirthDate": "19700101",
           "ReferringPhysicianName": "Smith^SECRETDOCTOR", "InstitutionName": "SECRET HOSPITAL"}


def frame(seed, w=96, h=80, colour=False):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    cx, cy = w * (0.3 + 0.4 * rng.random()), h * (0.3 + 0.4 * rng.random())
    r = min(w, h) * (0.15 + 0.2 * rng.random())
    d = np.hypot(xx - cx, yy - cy) / r
    v = np.where(d < 1, 40, 150) + 60 * (rng.random((h, w)) - 0.5) + 20 * np.sin(xx / 7 + seed)
    g = np.clip(np.round(v), 0, 255).astype(np.uint8)
    if not colour:
        return g
    if colour == "tint":  # a grey scan with a smooth colour overlay (as a Doppler box): JPEG's 4:2:0 keeps it
        t = np.exp(-(((xx - w * 0.6) / (w * 0.15)) ** 2 + ((yy - h * 0.4) / (h * 0.15)) ** 2))
        rgb = np.stack([g + 60 * t, g.astype(float), g - 60 * t], axis=-1)
        return np.clip(np.round(rgb), 0, 255).astype(np.uint8)
    rgb = np.stack([g, np.clip(g.astype(int) + 30 * np.sin(yy / 5), 0, 255), 255 - g], axis=-1)
    return rgb.astype(np.uint8)


def save_png(path, arr):
    Image.fromarray(arr).save(path)


def main(out):
    import pydicom
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.sequence import Sequence
    from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian, generate_uid
    from pydicom.pixel_data_handlers.util import convert_color_space

    os.makedirs(out, exist_ok=True)
    cases = []

    def dataset(arr_frames, photometric, syntax=ExplicitVRLittleEndian, bits=8, signed=False, planar=None,
                sop="1.2.840.10008.5.1.4.1.1.6.1", pixel_bytes=None, extra=None):
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = sop
        meta.MediaStorageSOPInstanceUID = generate_uid()
        meta.TransferSyntaxUID = syntax
        ds = Dataset()
        ds.file_meta = meta
        ds.is_little_endian = True
        ds.is_implicit_VR = syntax == ImplicitVRLittleEndian
        ds.SOPClassUID = sop
        ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
        for k, v in PRIVATE.items():
            setattr(ds, k, v)
        ds.Modality = "US"
        ds.Manufacturer = "sialoscan test generator"
        ds.ManufacturerModelName = "make_dicom.py"
        f0 = arr_frames[0]
        ds.Rows, ds.Columns = f0.shape[0], f0.shape[1]
        ds.SamplesPerPixel = 3 if f0.ndim == 3 else 1
        ds.PhotometricInterpretation = photometric
        ds.BitsAllocated = bits
        ds.BitsStored = bits
        ds.HighBit = bits - 1
        ds.PixelRepresentation = 1 if signed else 0
        if ds.SamplesPerPixel == 3:
            ds.PlanarConfiguration = planar or 0
        if len(arr_frames) > 1:
            ds.NumberOfFrames = len(arr_frames)
        if extra:
            extra(ds)
        if pixel_bytes is None:
            parts = []
            for a in arr_frames:
                if a.ndim == 3 and planar == 1:
                    a = np.ascontiguousarray(a.transpose(2, 0, 1))
                parts.append(a.astype("<i2" if signed else ("<u2" if bits == 16 else np.uint8)).tobytes())
            pixel_bytes = b"".join(parts)
        ds.PixelData = pixel_bytes
        ds["PixelData"].VR = "OW" if bits == 16 else "OB"
        return ds

    def add(name, ds, refs, exact=True, region=None, region_ref=None, frames=None):
        path = os.path.join(out, name + ".dcm")
        ds.save_as(path, write_like_original=False)
        ref_paths = []
        for k, r in enumerate(refs):
            rp = os.path.join(out, f"{name}-ref{k}.png")
            save_png(rp, r)
            ref_paths.append(rp)
        rr = None
        if region_ref is not None:
            rr = os.path.join(out, f"{name}-region.png")
            save_png(rr, region_ref)
        cases.append({"name": name, "file": path, "frames": frames or len(refs), "refs": ref_paths, "exact": exact,
                      "region": region, "region_ref": rr, "refuse": None,
                      "syntax": str(ds.file_meta.TransferSyntaxUID)})
        return path

    g = frame(1)
    add("mono2-8-explicit", dataset([g], "MONOCHROME2"), [g])
    add("mono2-8-implicit", dataset([g], "MONOCHROME2", syntax=ImplicitVRLittleEndian), [g])
    add("mono1-8", dataset([g], "MONOCHROME1"), [255 - g])
    c = frame(2, 100, 72, colour=True)
    add("rgb-planar0", dataset([c], "RGB"), [c])
    add("rgb-planar1", dataset([c], "RGB", planar=1), [c])
    add("rgb-planar1-implicit", dataset([c], "RGB", planar=1, syntax=ImplicitVRLittleEndian), [c])
    ybr = convert_color_space(c, "RGB", "YBR_FULL")
    add("ybr-full", dataset([ybr], "YBR_FULL"), [convert_color_space(ybr, "YBR_FULL", "RGB")])
    add("ybr-full-planar1", dataset([ybr], "YBR_FULL", planar=1), [convert_color_space(ybr, "YBR_FULL", "RGB")])
    # YBR_FULL_422 native: Y0 Y1 Cb Cr per pair of pixels (chroma of the pair's first pixel)
    sub = ybr.copy()
    sub[:, 1::2, 1:] = sub[:, 0::2, 1:]
    packed = np.empty((ybr.shape[0], ybr.shape[1] // 2, 4), np.uint8)
    packed[..., 0], packed[..., 1] = ybr[:, 0::2, 0], ybr[:, 1::2, 0]
    packed[..., 2], packed[..., 3] = ybr[:, 0::2, 1], ybr[:, 0::2, 2]
    add("ybr-full-422", dataset([sub], "YBR_FULL_422", pixel_bytes=packed.tobytes()),
        [convert_color_space(sub, "YBR_FULL", "RGB")])
    # multi-frame cine loop (3 frames)
    fr = [frame(10 + k, 80, 64) for k in range(3)]
    add("multiframe-8", dataset(fr, "MONOCHROME2", sop="1.2.840.10008.5.1.4.1.1.3.1"), fr)
    frc = [frame(20 + k, 64, 48, colour=True) for k in range(3)]
    add("multiframe-rgb-planar1", dataset(frc, "RGB", planar=1, sop="1.2.840.10008.5.1.4.1.1.3.1"), frc)
    # (scan-sized: the network sees a frame reduced to its input, as a real scan; a tiny frame blown
    # up to 224 px magnifies the decoders' one-level differences)
    ct = frame(7, 320, 240, colour="tint")
    add("rgb-tint", dataset([ct], "RGB"), [ct])
    frt = [frame(30 + k, 256, 192, colour="tint") for k in range(3)]
    add("multiframe-rgb-tint", dataset(frt, "RGB", planar=1, sop="1.2.840.10008.5.1.4.1.1.3.1"), frt)

    # 16-bit greyscale: stored s, rescaled x = s + intercept, window mapping x = L + 16 p to grey p exactly
    p = frame(3).astype(np.int64)
    L = 300

    def win16(intercept, center, width):
        def f(ds):
            ds.RescaleIntercept = str(intercept)
            ds.RescaleSlope = "1"
            ds.WindowCenter = center
            ds.WindowWidth = width
        return f
    s = L + 16 * p + 1024
    add("mono2-16-window", dataset([s.astype(np.uint16)], "MONOCHROME2", bits=16, extra=win16(-1024, f"{L + 2040.5}", "4081")),
        [p.astype(np.uint8)])
    ss = -2000 + 16 * p  # signed, no rescale
    add("mono2-16-signed", dataset([ss.astype(np.int16)], "MONOCHROME2", bits=16, signed=True, extra=win16(0, f"{-2000 + 2040.5}", "4081")),
        [p.astype(np.uint8)])
    add("mono1-16-window", dataset([s.astype(np.uint16)], "MONOCHROME1", bits=16, extra=win16(-1024, f"{L + 2040.5}", "4081")),
        [(255 - p).astype(np.uint8)])

    # palette colour: 8-bit indices, 16-bit lookup table entries (c * 257)
    lut = np.stack([np.arange(256), (np.arange(256) * 7) % 256, 255 - np.arange(256)], axis=-1).astype(np.uint16)

    def palette(ds):
        for i, col in enumerate(["Red", "Green", "Blue"]):
            setattr(ds, f"{col}PaletteColorLookupTableDescriptor", [256, 0, 16])
            setattr(ds, f"{col}PaletteColorLookupTableData", (lut[:, i] * 257).astype("<u2").tobytes())
    add("palette-8", dataset([g], "PALETTE COLOR", extra=palette), [lut[g].astype(np.uint8)])

    # ultrasound regions: the first region is the crop
    big = frame(4, 160, 120)
    rg = [20, 10, 139, 99]

    def regions(ds):
        items = []
        for (x0, y0, x1, y1) in [rg, [0, 100, 40, 119]]:
            it = Dataset()
            it.RegionSpatialFormat = 1
            it.RegionDataType = 1
            it.RegionFlags = 0
            it.RegionLocationMinX0, it.RegionLocationMinY0 = x0, y0
            it.RegionLocationMaxX1, it.RegionLocationMaxY1 = x1, y1
            it.PhysicalUnitsXDirection = it.PhysicalUnitsYDirection = 3
            it.PhysicalDeltaX = it.PhysicalDeltaY = 0.0125
            items.append(it)
        ds.SequenceOfUltrasoundRegions = Sequence(items)
    add("us-regions", dataset([big], "MONOCHROME2", extra=regions), [big], region=rg,
        region_ref=big[rg[1]:rg[3] + 1, rg[0]:rg[2] + 1])

    # ---- dcmtk: native from BMP, RLE, JPEG Baseline, refused syntaxes
    def run(*args):
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def dcmtk_case(name, path, refs, exact, frames=None, region=None, region_ref=None):
        ds = pydicom.dcmread(path)
        cases.append({"name": name, "file": path, "frames": frames or len(refs), "refs": refs, "exact": exact,
                      "region": region, "region_ref": region_ref, "refuse": None, "syntax": str(ds.file_meta.TransferSyntaxUID)})

    def privatize(path):  # dcmtk's img2dcm writes no patient attributes of ours: add them
        args = ["dcmodify", "-nb", "-q"]
        for k, v in [("0010,0010", PRIVATE["PatientName"]), ("0010,0020", PRIVATE["PatientID"]), ("0010,0030", PRIVATE["PatientBirthDate"])]:
            args += ["-i", f"({k})={v}"]
        run(*args, path)

    bmp = os.path.join(out, "dcmtk-src.bmp")
    cb = frame(5, 256, 192, colour="tint")
    Image.fromarray(cb).save(bmp)
    ref = os.path.join(out, "dcmtk-bmp-ref0.png")
    save_png(ref, cb)
    p_bmp = os.path.join(out, "dcmtk-bmp.dcm")
    run("img2dcm", "-i", "BMP", bmp, p_bmp)
    privatize(p_bmp)
    dcmtk_case("dcmtk-bmp", p_bmp, [ref], True)

    def rle(src_name):
        src = next(c for c in cases if c["name"] == src_name)
        dst = os.path.join(out, f"rle-{src_name}.dcm")
        run("dcmcrle", src["file"], dst)
        dcmtk_case(f"rle-{src_name}", dst, src["refs"], True, frames=src["frames"], region=src["region"], region_ref=src["region_ref"])
    for n in ["mono2-8-explicit", "mono1-8", "rgb-planar0", "rgb-planar1", "ybr-full", "multiframe-8", "multiframe-rgb-planar1",
              "mono2-16-window", "mono2-16-signed", "palette-8", "us-regions", "dcmtk-bmp"]:
        rle(n)

    def jpeg(src_name, *opts, tag="", refs_from=None):
        src = next(c for c in cases if c["name"] == src_name)
        name = f"jpeg{tag}-{src_name}"
        dst = os.path.join(out, name + ".dcm")
        run("dcmcjpeg", "+eb", *opts, src["file"], dst)
        refs = []
        if refs_from:  # dcmj2pnm cannot find frames without an offset table: the same encoding with one
            refs = next(c for c in cases if c["name"] == refs_from)["refs"]
        for k in range(0 if refs_from else src["frames"]):
            r = os.path.join(out, f"{name}-ref{k}.png")
            run("dcmj2pnm", "+on", "+F", str(k + 1), dst, r)
            refs.append(r)
        dcmtk_case(name, dst, refs, False, frames=src["frames"])
    # JPEG Baseline subsamples the chroma (4:2:0): colour sources are grey scans with a smooth colour
    # overlay; on speckle with independent noise per channel stb_image and libjpeg part by up to 48 levels
    for n in ["mono2-8-explicit", "rgb-tint", "multiframe-8", "multiframe-rgb-tint", "dcmtk-bmp"]:
        jpeg(n)
    jpeg("multiframe-8", "+fs", "1", tag="-frag")           # several fragments per frame, offset table
    jpeg("multiframe-8", "+fs", "1", "-ot", tag="-frag-nobot", refs_from="jpeg-frag-multiframe-8")  # ... none
    # img2dcm straight from a JPEG file (encapsulated as it is)
    jp = os.path.join(out, "dcmtk-src.jpg")
    Image.fromarray(frame(6, 320, 240, colour="tint")).save(jp, quality=90)
    p_jpg = os.path.join(out, "dcmtk-jpg.dcm")
    run("img2dcm", jp, p_jpg)
    privatize(p_jpg)
    r = os.path.join(out, "dcmtk-jpg-ref0.png")
    run("dcmj2pnm", "+on", p_jpg, r)
    dcmtk_case("dcmtk-jpg", p_jpg, [r], False)

    read_cases(out, cases, dataset, add, run, dcmtk_case, privatize)

    # refused: the video syntaxes (the compressed still-image syntaxes are read: make_dicom_codecs.py)
    # an H.264 label on JPEG data: refused by name before any pixel is read
    h264 = os.path.join(out, "refuse-h264.dcm")
    ds = pydicom.dcmread(next(c for c in cases if c["name"] == "jpeg-mono2-8-explicit")["file"])
    ds.file_meta.TransferSyntaxUID = "1.2.840.10008.1.2.4.102"
    ds.save_as(h264)
    cases.append({"name": "refuse-h264", "file": h264, "frames": 0, "refs": [], "exact": False, "region": None, "region_ref": None,
                  "refuse": r"MPEG-4 AVC/H\.264 High Profile / Level 4\.1 \(1\.2\.840\.10008\.1\.2\.4\.102\) is not supported",
                  "syntax": "1.2.840.10008.1.2.4.102"})
    with open(os.path.join(out, "cases.json"), "w") as f:
        json.dump({"private": list(PRIVATE.values()), "cases": cases}, f, indent=1)


def jpeg_segments(f):
    """the marker segments of a JPEG stream up to its first scan: [(marker, start, end)]"""
    segs, i = [], 2
    while i + 4 <= len(f) and f[i] == 0xFF:
        m, n = f[i + 1], f[i + 2] << 8 | f[i + 3]
        segs.append((m, i, i + 2 + n))
        if m == 0xDA:
            break
        i += 2 + n
    return segs


def jpeg_edit(f, drop=(), ids=None):
    """a JPEG stream without the segments of markers `drop`, its component IDs (frame and scan headers) set to `ids`"""
    f = bytearray(f)
    for m, a, b in reversed(jpeg_segments(f)):
        if m in drop:
            del f[a:b]
    if ids:
        segs = {m: a for m, a, _ in jpeg_segments(f)}
        sof, sos = segs[0xC0], segs[0xDA]
        old = [f[sof + 10 + 3 * c] for c in range(3)]
        for c in range(3):
            f[sof + 10 + 3 * c] = ids[c]
        for c in range(f[sos + 4]):
            f[sos + 5 + 2 * c] = ids[old.index(f[sos + 5 + 2 * c])]
    return bytes(f)


def read_cases(out, cases, dataset, add, run, dcmtk_case, privatize):
    """what this reader reads beyond the plain syntaxes: JPEG colour decided from the codestream
    (checked against dcmdjpeg, told which interpretation to use), tolerated departures from the
    standard (implicit VR under an explicit meta, an odd length in a private sequence, no preamble /
    file meta; each read by pydicom too), deflate and big endian (dcmconv), 16-bit colour (pydicom;
    RLE by dcmcrle), a DICOMDIR and objects without pixel data (skipped)"""
    import pydicom
    from pydicom.encaps import encapsulate, generate_pixel_data_frame
    from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian

    def by(name):
        return next(c for c in cases if c["name"] == name)

    def note(name, pattern):
        by(name)["note"] = pattern

    # ---- JPEG colour: the data set and the codestream disagree, both ways; and an RGB JPEG without markers
    def djpeg(name, src_path, opt):
        """reference: dcmdjpeg's decode (opt +cn: no colour conversion, +ca: YCbCr -> RGB), as pydicom reads it"""
        dec = os.path.join(out, f"{name}-dcmdjpeg.dcm")
        run("dcmdjpeg", opt, src_path, dec)
        ds = pydicom.dcmread(dec)
        r = os.path.join(out, f"{name}-ref0.png")
        save_png(r, ds.pixel_array.astype(np.uint8))
        os.remove(dec)
        return r

    def recode(name, src_path, photometric, **edit):
        ds = pydicom.dcmread(src_path)
        f = next(generate_pixel_data_frame(ds.PixelData, 1))
        ds.PixelData = encapsulate([jpeg_edit(f, **edit)])
        ds.PhotometricInterpretation = photometric
        path = os.path.join(out, name + ".dcm")
        ds.save_as(path)
        return path

    white = frame(8, 160, 120, colour="tint")
    white[8:40, 8:48] = 255  # a white label: it stays white only if no YCbCr transform is made on RGB samples
    add("white-src", dataset([white], "RGB"), [white])
    cases.pop()  # (a source, not a case of its own)
    rgb_jpeg = os.path.join(out, "jpeg-rgb-cr.dcm")
    run("dcmcjpeg", "+eb", "+cr", os.path.join(out, "white-src.dcm"), rgb_jpeg)  # RGB samples: Adobe (transform 0), IDs R G B
    ycc_jpeg = by("jpeg-rgb-tint")["file"]                                       # YCbCr 4:2:2 with JFIF
    colour = [  # name, source, data set says, edit, dcmdjpeg option, white at (row, col) or None, what the note says
        ("jpeg-colour-rgb-nomarker", rgb_jpeg, "RGB", dict(drop=(0xEE,), ids=(1, 2, 3)), "+cn", (20, 20), None),
        ("jpeg-colour-adobe-rgb-says-ybr", rgb_jpeg, "YBR_FULL_422", {}, "+cn", (20, 20), r"holding RGB \(Adobe marker, transform 0\)"),
        ("jpeg-colour-ids-rgb-says-ybr", rgb_jpeg, "YBR_FULL_422", dict(drop=(0xEE,)), "+cn", (20, 20), r"holding RGB \(component IDs R, G, B\)"),
        ("jpeg-colour-jfif-says-rgb", ycc_jpeg, "RGB", {}, "+ca", None, r"holding YCbCr \(JFIF marker\) under PhotometricInterpretation RGB"),
        ("jpeg-colour-subsampled-says-rgb", ycc_jpeg, "RGB", dict(drop=(0xE0,)), "+ca", None, r"holding YCbCr \(subsampled chroma\)"),
    ]
    for name, src, pi, edit, opt, wpos, pattern in colour:
        path = recode(name, src, pi, **edit)
        dcmtk_case(name, path, [djpeg(name, path, opt)], False)
        by(name)["white"] = wpos
        if pattern:
            note(name, pattern)
    for f in [rgb_jpeg, os.path.join(out, "white-src.dcm"), os.path.join(out, "white-src-ref0.png")]:
        os.remove(f)

    # ---- tolerated: each file is read by pydicom too (its pixels are the reference's)
    src = dataset([frame(40)], "MONOCHROME2")

    def tolerated(name, data, pattern):
        path = os.path.join(out, name + ".dcm")
        with open(path, "wb") as f:
            f.write(data)
        with warnings.catch_warnings():  # (pydicom says what it tolerates)
            warnings.simplefilter("ignore")
            ds = pydicom.dcmread(path, force=True)
        if "TransferSyntaxUID" not in ds.file_meta:  # pydicom read the bare data set; its pixels want the syntax it found
            ds.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian if ds.is_implicit_VR else ExplicitVRLittleEndian
        px = ds.pixel_array
        assert (px == src.pixel_array).all(), name
        r = os.path.join(out, f"{name}-ref0.png")
        save_png(r, px.astype(np.uint8))
        cases.append({"name": name, "file": path, "frames": 1, "refs": [r], "exact": True, "region": None, "region_ref": None,
                      "refuse": None, "syntax": syntax_of(data), "note": pattern})

    def syntax_of(data):
        return "1.2.840.10008.1.2.1" if b"1.2.840.10008.1.2.1\0" in data[:400] else "1.2.840.10008.1.2"

    def encoded(ds, implicit):
        import io
        ds = ds.copy()
        ds.file_meta = pydicom.dataset.FileMetaDataset(ds.file_meta)
        ds.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian if implicit else ExplicitVRLittleEndian
        ds.is_implicit_VR = implicit
        b = io.BytesIO()
        ds.save_as(b, write_like_original=False)
        return b.getvalue()

    def meta_end(data):
        return 132 + 12 + int.from_bytes(data[140:144], "little")  # (0002,0000) UL: the group's length

    imp, exp = encoded(src, True), encoded(src, False)
    tolerated("tolerate-implicit-under-explicit", exp[:meta_end(exp)] + imp[meta_end(imp):],
              r"an Implicit VR data set under a file meta that says Explicit VR Little Endian")
    tolerated("tolerate-no-meta", imp[meta_end(imp):], r"no preamble, DICM marker or file meta \(Implicit VR Little Endian assumed\)")
    # an odd length inside a private sequence (undefined lengths, as pydicom writes sequences)
    ds = src.copy()
    ds.add_new(0x00090010, "LO", "ACME 1.0")
    item = pydicom.dataset.Dataset()
    item.add_new(0x00091002, "LO", "ABCDEF")
    item.add_new(0x00091003, "US", 7)
    ds.add_new(0x00091001, "SQ", pydicom.sequence.Sequence([item]))
    ds[0x00091001].is_undefined_length = True
    item.is_undefined_length_sequence_item = True
    data = encoded(ds, False)
    even = b"\x09\x00\x02\x10LO\x06\x00ABCDEF"
    assert data.count(even) == 1 and b"\x09\x00\x01\x10SQ\x00\x00\xff\xff\xff\xff" in data
    tolerated("tolerate-odd-length", data.replace(even, b"\x09\x00\x02\x10LO\x05\x00ABCDE"), r"an element of odd length \(\(0009,1002\), 5 bytes\)")

    # ---- deflate and big endian (dcmconv), lossless: the source's pixels
    def convert(name, src_name, opt):
        s = by(src_name)
        dst = os.path.join(out, name + ".dcm")
        run("dcmconv", opt, s["file"], dst)
        dcmtk_case(name, dst, s["refs"], True, frames=s["frames"], region=s["region"], region_ref=s["region_ref"])
    for n in ["mono2-8-explicit", "rgb-planar1", "multiframe-8", "mono2-16-window"]:
        convert(f"deflate-{n}", n, "+td")
    for n in ["mono2-8-explicit", "mono2-16-window", "mono2-16-signed", "rgb-planar0", "palette-8", "us-regions", "multiframe-rgb-planar1"]:
        convert(f"big-endian-{n}", n, "+tb")

    # ---- 16-bit colour: v to 8 bits as (v * 255 + m / 2) // m, m = 2^bits stored - 1 (as a 16-bit PNG is rounded)
    rng = np.random.default_rng(16)
    base = frame(41, 96, 80, colour="tint").astype(np.int64)
    for bits, planar in [(16, 0), (12, 1)]:
        m = (1 << bits) - 1
        v = np.clip(base * m // 255 + rng.integers(0, m // 255 + 1, base.shape), 0, m)
        ref = ((v * 255 + m // 2) // m).astype(np.uint8)

        def stored(ds, bits=bits):
            ds.BitsStored = bits
            ds.HighBit = bits - 1
        add(f"rgb16-{bits}bit-planar{planar}", dataset([v.astype(np.uint16)], "RGB", bits=16, planar=planar, extra=stored), [ref])
    dst = os.path.join(out, "rle-rgb16.dcm")
    run("dcmcrle", by("rgb16-16bit-planar0")["file"], dst)
    dcmtk_case("rle-rgb16", dst, by("rgb16-16bit-planar0")["refs"], True)
    convert("big-endian-rgb16", "rgb16-16bit-planar0", "+tb")
    convert("deflate-rgb16", "rgb16-12bit-planar1", "+td")

    # ---- not images: a DICOMDIR (dcmmkdir over a few files), a structured report, a PDF; skipped with a reason
    media = os.path.abspath(os.path.join(out, "media"))
    os.makedirs(media, exist_ok=True)
    study = pydicom.uid.generate_uid()
    for k, n in enumerate(["mono2-8-explicit", "rgb-planar0"]):
        ds = pydicom.dcmread(by(n)["file"])
        ds.StudyInstanceUID, ds.SeriesInstanceUID = study, pydicom.uid.generate_uid()
        ds.save_as(os.path.join(media, f"IM{k:06d}"))
    subprocess.run(["dcmmkdir", "-q", "+I", "+D", os.path.abspath(os.path.join(out, "DICOMDIR")), "IM000000", "IM000001"], check=True,
                   cwd=media, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    shutil.rmtree(media)
    sr = pydicom.dataset.Dataset()
    sr.file_meta = pydicom.dataset.FileMetaDataset()
    sr.file_meta.MediaStorageSOPClassUID = sr.SOPClassUID = "1.2.840.10008.5.1.4.1.1.88.11"
    sr.file_meta.MediaStorageSOPInstanceUID = sr.SOPInstanceUID = pydicom.uid.generate_uid()
    sr.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    sr.is_implicit_VR, sr.is_little_endian = False, True
    sr.Modality = "SR"
    for k, v in PRIVATE.items():
        setattr(sr, k, v)
    sr.save_as(os.path.join(out, "not-image-sr.dcm"), write_like_original=False)
    pdf = sr.copy()
    pdf.file_meta = pydicom.dataset.FileMetaDataset(sr.file_meta)
    pdf.file_meta.MediaStorageSOPClassUID = pdf.SOPClassUID = "1.2.840.10008.5.1.4.1.1.104.1"
    pdf.Modality = "DOC"
    pdf.MIMETypeOfEncapsulatedDocument = "application/pdf"
    pdf.EncapsulatedDocument = b"%PDF-1.4\n%%EOF\n"
    pdf.save_as(os.path.join(out, "not-image-pdf.dcm"), write_like_original=False)


def max_diff(a, b):
    x = np.asarray(Image.open(a).convert("RGB"), dtype=np.int32)
    y = np.asarray(Image.open(b).convert("RGB"), dtype=np.int32)
    if x.shape != y.shape:
        return f"shape {x.shape} != {y.shape}"
    return int(np.abs(x - y).max())


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "compare":
        print(max_diff(sys.argv[2], sys.argv[3]))
        sys.exit(0)
    if len(sys.argv) == 3 and sys.argv[1:] == ["compare", "-"]:
        print(json.dumps([max_diff(a, b) for a, b in json.load(sys.stdin)]))
        sys.exit(0)
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
