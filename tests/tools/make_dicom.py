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
import subprocess
import sys

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

    # refused: deflate, big endian (the compressed syntaxes: make_dicom_codecs.py)
    def refused(name, pattern, *cmd_for):
        dst = os.path.join(out, name + ".dcm")
        run(*cmd_for, dst)
        ds = pydicom.dcmread(dst)
        cases.append({"name": name, "file": dst, "frames": 0, "refs": [], "exact": False, "region": None, "region_ref": None,
                      "refuse": pattern, "syntax": str(ds.file_meta.TransferSyntaxUID)})
    src8 = cases[0]["file"]
    refused("refuse-deflate", r"Deflated Explicit VR Little Endian \(1\.2\.840\.10008\.1\.2\.1\.99\) is not supported",
            "dcmconv", "+td", src8)
    refused("refuse-big-endian", r"Explicit VR Big Endian \(1\.2\.840\.10008\.1\.2\.2\) is not supported", "dcmconv", "+tb", src8)
    with open(os.path.join(out, "cases.json"), "w") as f:
        json.dump({"private": list(PRIVATE.values()), "cases": cases}, f, indent=1)


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
