#!/usr/bin/env python3
"""make_image_corpus.py OUT_DIR — the image corpus of tests/c/test_image_corpus.c and
tests/node/image-refusals.test.mjs, generated at test time from synthetic pixel arrays.

OUT_DIR/good/NAME.{png,bmp,gif} + NAME.rgb: valid files and the RGB bytes an independent decoder
    (PIL) reads from them; good.tsv: name, width, height, what.
    PNGs are written by the small encoder below (every colour type and bit depth, every row
    filter, Adam7 interlacing); for 16-bit samples the reference is the rounding
    (v * 255 + 32767) // 65535 of the 16-bit values PIL reads (grey) or of the written samples,
    after checking that PIL reads their high bytes (grey+alpha, RGB, RGBA: PIL keeps 8 bits).
OUT_DIR/bad/NAME: damaged files; bad.tsv: name, the exact sentence expected, what was done.

Needs numpy and PIL (Debian: python3-numpy, python3-pil).
"""
import io
import os
import struct
import sys
import zlib

import numpy as np
from PIL import Image

OUT = sys.argv[1]
os.makedirs(os.path.join(OUT, 'good'), exist_ok=True)
os.makedirs(os.path.join(OUT, 'bad'), exist_ok=True)
good_rows, bad_rows = [], []
W, H = 37, 35  # odd sizes: partial bytes at low bit depths, partial Adam7 blocks


# ------------------------------------------------------------------ a PNG encoder
def chunk(ctype, data):
    return struct.pack('>I', len(data)) + ctype + data + struct.pack('>I', zlib.crc32(ctype + data))


def serialise(chunks, sig=b'\x89PNG\r\n\x1a\n'):
    return sig + b''.join(chunk(t, d) for t, d in chunks)


def pack_rows(samples, depth):
    """samples: [h, w*channels] ints -> list of row bytes"""
    rows = []
    for r in samples:
        if depth == 16:
            rows.append(r.astype('>u2').tobytes())
        elif depth == 8:
            rows.append(r.astype(np.uint8).tobytes())
        else:
            per = 8 // depth
            n = (len(r) + per - 1) // per
            b = bytearray(n)
            for i, v in enumerate(r):
                b[i // per] |= int(v) << (8 - depth * (i % per + 1))
            rows.append(bytes(b))
    return rows


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else b if pb <= pc else c


def filter_rows(rows, bpp, first_filter):
    out, prev = bytearray(), bytes(len(rows[0])) if rows else b''
    for i, row in enumerate(rows):
        ft = (first_filter + i) % 5
        f = bytearray(len(row))
        for x in range(len(row)):
            a = row[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            pred = [0, a, b, (a + b) // 2, paeth(a, b, c)][ft]
            f[x] = (row[x] - pred) & 255
        out += bytes([ft]) + f
        prev = row
    return bytes(out)


ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def png_chunks(px, ctype, depth, interlace=0, palette=None, extra=()):
    """px: [h, w, channels] sample values -> list of (type, data) chunks"""
    h, w, ch = px.shape
    bpp = max(1, ch * depth // 8)
    if interlace:
        raw = b''
        for p, (x0, y0, dx, dy) in enumerate(ADAM7):
            sub = px[y0::dy, x0::dx]
            if sub.shape[0] and sub.shape[1]:
                raw += filter_rows(pack_rows(sub.reshape(sub.shape[0], -1), depth), bpp, p)
    else:
        raw = filter_rows(pack_rows(px.reshape(h, -1), depth), bpp, 0)
    z = zlib.compress(raw, 9)
    chunks = [(b'IHDR', struct.pack('>IIBBBBB', w, h, depth, ctype, 0, 0, interlace))]
    chunks += list(extra)
    if palette is not None:
        chunks.append((b'PLTE', bytes(np.asarray(palette, np.uint8).ravel())))
    half = len(z) // 2  # two IDAT chunks: the stream may be split anywhere
    chunks += [(b'IDAT', z[:half]), (b'IDAT', z[half:]), (b'IEND', b'')]
    return chunks


rng = np.random.default_rng(12)


def samples(ch, depth):
    top = (1 << depth) - 1
    y, x = np.mgrid[0:H, 0:W]
    base = np.stack([(x * 7 + y * 13 + c * 29) for c in range(ch)], -1)
    noise = rng.integers(0, top + 1, size=(H, W, ch))
    return np.where((x + y)[..., None] % 3 == 0, noise, base % (top + 1)).astype(np.int64)


def round16(v):
    return ((np.asarray(v, np.int64) * 255 + 32767) // 65535).astype(np.uint8)


def add_good(name, data, ref_rgb, what):
    ext = 'png' if data[:4] == b'\x89PNG' else 'bmp' if data[:2] == b'BM' else 'gif'
    with open(os.path.join(OUT, 'good', f'{name}.{ext}'), 'wb') as f:
        f.write(data)
    ref_rgb = np.ascontiguousarray(ref_rgb, np.uint8)
    assert ref_rgb.shape[2] == 3
    with open(os.path.join(OUT, 'good', f'{name}.rgb'), 'wb') as f:
        f.write(ref_rgb.tobytes())
    good_rows.append(f'{name}.{ext}\t{ref_rgb.shape[1]}\t{ref_rgb.shape[0]}\t{what}')


def pil_rgb(data):
    return np.asarray(Image.open(io.BytesIO(data)).convert('RGB'))


# ------------------------------------------------------------------ valid PNGs: every colour type and depth
TYPE_NAME = {0: 'grey', 2: 'RGB', 3: 'palette', 4: 'grey+alpha', 6: 'RGBA'}
CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
for ctype, depths in [(0, [1, 2, 4, 8, 16]), (2, [8, 16]), (3, [1, 2, 4, 8]), (4, [8, 16]), (6, [8, 16])]:
    for depth in depths:
        for interlace in (0, 1):
            px = samples(CHANNELS[ctype], depth)
            pal = None
            if ctype == 3:
                n = 1 << depth
                pal = rng.integers(0, 256, size=(n, 3))
            data = serialise(png_chunks(px, ctype, depth, interlace, pal))
            name = f'png-{TYPE_NAME[ctype].replace("+", "")}-{depth}bit{"-adam7" if interlace else ""}'
            im = Image.open(io.BytesIO(data))
            im.load()
            if depth < 16:
                ref = pil_rgb(data)
            elif ctype == 0:  # PIL reads 16-bit grey at 16 bits
                v = np.asarray(im).astype(np.int64)
                assert (v == px[..., 0]).all(), f'{name}: PIL reads other samples than were written'
                ref = np.repeat(round16(v)[..., None], 3, -1)
            else:  # PIL keeps the high byte: check it, then round the written samples
                assert (np.asarray(im.convert('RGBA' if ctype == 6 else 'RGB' if ctype == 2 else 'LA'))
                        == (px >> 8)).all(), f'{name}: PIL reads other samples than were written'
                r = round16(px)
                ref = r[..., :3] if ctype in (2, 6) else np.repeat(r[..., :1], 3, -1)
            add_good(name, data, ref, f'{TYPE_NAME[ctype]}, {depth}-bit{", Adam7" if interlace else ""}')

# the same 16-bit RGB image written by PIL's own encoder is not possible (PIL writes 8-bit RGB);
# a PIL-written 8-bit RGB and grey PNG, BMP (24-bit, 8-bit palette) and GIF
base_rgb = samples(3, 8).astype(np.uint8)
for mode in ('RGB', 'L', 'P'):
    im = Image.fromarray(base_rgb).convert(mode) if mode != 'P' else Image.fromarray(base_rgb).quantize(64)
    for fmt in ('PNG', 'BMP') + (('GIF',) if mode == 'P' else ()):
        b = io.BytesIO()
        im.save(b, fmt)
        add_good(f'pil-{mode.lower()}-{fmt.lower()}', b.getvalue(), pil_rgb(b.getvalue()), f'written by PIL: {mode} {fmt}')

# ------------------------------------------------------------------ damaged PNGs
def bad(name, data, sentence, what):
    with open(os.path.join(OUT, 'bad', name), 'wb') as f:
        f.write(data)
    bad_rows.append(f'{name}\t{sentence}\t{what}')


px = samples(3, 8)
text = (b'tEXt', b'Comment\x00made for the damaged-image tests')
chunks = png_chunks(px, 2, 8, 0, None, extra=[text])
good_png = serialise(chunks)
add_good('png-base', good_png, pil_rgb(good_png), 'the base of the damaged PNGs')
names = [t.decode() for t, _ in chunks]

# every chunk's CRC flipped (one bit)
pos = 8
offsets = []
for i, (t, d) in enumerate(chunks):
    offsets.append(pos)
    b = bytearray(good_png)
    b[pos + 8 + len(d)] ^= 0x01
    bad(f'png-crc-{i}-{t.decode()}.png', bytes(b), f'the PNG file is damaged: checksum of chunk {t.decode()} is wrong',
        f'checksum of chunk {i} ({t.decode()}) with one bit flipped')
    # one bit of the chunk's data (or type, for the empty IEND) flipped, checksum left as it was
    b = bytearray(good_png)
    b[pos + 8 + (len(d) // 2 if d else -1)] ^= 0x10 if d else 0x00
    if d:
        bad(f'png-databit-{i}-{t.decode()}.png', bytes(b), f'the PNG file is damaged: checksum of chunk {t.decode()} is wrong',
            f'one bit of chunk {i} ({t.decode()}) flipped')
    pos += 12 + len(d)
offsets.append(pos)

# truncation at every chunk boundary and inside every chunk
bad('png-cut-8.png', good_png[:8], 'the PNG file is truncated after the signature', 'only the signature')
for i, (t, d) in enumerate(chunks):
    start, end = offsets[i], offsets[i + 1]
    prev = f'the PNG file is truncated after chunk {names[i - 1]}' if i else 'the PNG file is truncated after the signature'
    inside = f'the PNG file is truncated inside chunk {t.decode()}'
    cuts = {start + 4: prev, start + 8: inside, start + 8 + len(d) // 2: inside, end - 1: inside}
    if i + 1 < len(chunks):
        cuts[end] = f'the PNG file is truncated after chunk {t.decode()}'
    for cut, sentence in sorted(cuts.items()):
        bad(f'png-cut-{cut}.png', good_png[:cut], sentence, f'cut to {cut} bytes ({"inside" if cut < end else "after"} chunk {i}, {t.decode()})')

# every invalid IHDR field (checksum recomputed)
def with_ihdr(w=W, h=H, depth=8, ctype=2, comp=0, filt=0, inter=0, raw=None):
    c = list(chunks)
    c[0] = (b'IHDR', raw if raw is not None else struct.pack('>IIBBBBB', w, h, depth, ctype, comp, filt, inter))
    return serialise(c)


ihdr_cases = [
    ('width0', dict(w=0), 'PNG header: the width is 0'),
    ('height0', dict(h=0), 'PNG header: the height is 0'),
    ('width2g', dict(w=0x80000000), 'PNG header: width 2147483648 is over the PNG maximum of 2147483647'),
    ('height4g', dict(h=0xFFFFFFFF), 'PNG header: height 4294967295 is over the PNG maximum of 2147483647'),
    ('ctype1', dict(ctype=1), 'PNG header: colour type 1 does not exist'),
    ('ctype5', dict(ctype=5), 'PNG header: colour type 5 does not exist'),
    ('ctype7', dict(ctype=7), 'PNG header: colour type 7 does not exist'),
    ('depth0', dict(depth=0), 'PNG header: bit depth 0 does not exist'),
    ('depth3', dict(depth=3), 'PNG header: bit depth 3 does not exist'),
    ('depth32', dict(depth=32), 'PNG header: bit depth 32 does not exist'),
    ('rgb-depth4', dict(ctype=2, depth=4), 'PNG header: bit depth 4 is not allowed for colour type 2 (RGB)'),
    ('palette-depth16', dict(ctype=3, depth=16), 'PNG header: bit depth 16 is not allowed for colour type 3 (palette)'),
    ('greyalpha-depth2', dict(ctype=4, depth=2), 'PNG header: bit depth 2 is not allowed for colour type 4 (grey+alpha)'),
    ('rgba-depth1', dict(ctype=6, depth=1), 'PNG header: bit depth 1 is not allowed for colour type 6 (RGBA)'),
    ('compression1', dict(comp=1), 'PNG header: compression method 1 does not exist'),
    ('filter1', dict(filt=1), 'PNG header: filter method 1 does not exist'),
    ('interlace2', dict(inter=2), 'PNG header: interlace method 2 does not exist'),
    ('length12', dict(raw=struct.pack('>IIBBBBB', W, H, 8, 2, 0, 0, 0)[:12]), 'PNG header: its length is 12 bytes instead of 13'),
    ('length14', dict(raw=struct.pack('>IIBBBBB', W, H, 8, 2, 0, 0, 0) + b'\0'), 'PNG header: its length is 14 bytes instead of 13'),
    ('small', dict(w=20, h=20), 'the image is 20x20 pixels; at least 32x32 is needed'),
    ('huge', dict(w=10000, h=10000), 'the image is 10000x10000 pixels, more than the 64 megapixel limit'),
]
for tag, kw, sentence in ihdr_cases:
    bad(f'png-ihdr-{tag}.png', with_ihdr(**kw), sentence, f'IHDR: {tag}')

# damaged signatures
bad('png-sig-crlf-to-lf.png', good_png.replace(b'\r\n', b'\n'),
    'the PNG signature was altered by a text-mode transfer (line endings converted)', 'CR LF -> LF over the whole file (dos2unix)')
bad('png-sig-lf-to-crlf.png', good_png.replace(b'\n', b'\r\n'),
    'the PNG signature was altered by a text-mode transfer (line endings converted)', 'LF -> CR LF over the whole file (unix2dos)')
bad('png-sig-7bit.png', bytes([good_png[0] & 0x7F]) + good_png[1:], 'the PNG signature is damaged', 'high bit of byte 0 cleared (7-bit transfer)')
bad('png-sig-byte6.png', good_png[:6] + b'\x00' + good_png[7:], 'the PNG signature is damaged', 'signature byte 6 zeroed')
bad('png-sig-cut5.png', good_png[:5], 'the PNG file is truncated inside the signature', 'cut to 5 bytes')

# chunk structure
no_idat = [c for c in chunks if c[0] != b'IDAT']
bad('png-no-idat.png', serialise(no_idat), 'the PNG file has no image data (no IDAT chunk)', 'every IDAT chunk removed')
bad('png-text-first.png', serialise([chunks[1], chunks[0]] + chunks[2:]),
    'the PNG file is damaged: it does not begin with its header chunk (IHDR)', 'tEXt before IHDR')
bad('png-two-ihdr.png', serialise(chunks[:1] + chunks[:1] + chunks[1:]), 'the PNG file is damaged: it has a second header chunk (IHDR)', 'IHDR twice')
bad('png-critical-xyzw.png', serialise(chunks[:2] + [(b'XYZW', b'1234')] + chunks[2:]),
    'the PNG file needs chunk XYZW, which is not part of the PNG standard', 'an unknown critical chunk')
bad('png-name-digit.png', serialise(chunks[:1] + [(b'ab1d', b'')] + chunks[1:]),
    'the PNG file is damaged: unreadable chunk name after chunk IHDR', 'a chunk named "ab1d"')
b = bytearray(good_png)
b[offsets[1]:offsets[1] + 4] = struct.pack('>I', 0x80000000)
bad('png-length-2g.png', bytes(b), 'the PNG file is damaged: length of chunk tEXt is impossible', 'tEXt length 2^31')
b = bytearray(good_png)
b[offsets[1]:offsets[1] + 4] = struct.pack('>I', len(chunks[1][1]) + 3)
bad('png-length-plus3.png', bytes(b), 'the PNG file is damaged: checksum of chunk tEXt is wrong', 'tEXt length 3 too large')
# palette images: PLTE missing, PLTE of a bad length
pal = rng.integers(0, 256, size=(16, 3))
pchunks = png_chunks(samples(1, 4), 3, 4, 0, pal)
bad('png-palette-missing.png', serialise([c for c in pchunks if c[0] != b'PLTE']),
    'the PNG file is damaged: its palette (PLTE) is missing', 'colour type 3 without PLTE')
bad('png-palette-length.png', serialise([(t, d + b'\0' if t == b'PLTE' else d) for t, d in pchunks]),
    'the PNG file is damaged: its palette (PLTE) has an invalid length', 'PLTE of 49 bytes')
bad('png-trns-length.png', serialise(chunks[:2] + [(b'tRNS', b'\0\0')] + chunks[2:]),
    'the PNG file is damaged: its transparency chunk (tRNS) is invalid', 'RGB with a 2-byte tRNS (6 needed)')
# image data damaged, checksums recomputed (as a buggy writer would): the decoder's sentences
zdata = chunks[2][1] + chunks[3][1]
raw = zlib.decompress(zdata)
def with_idat(z):
    return serialise(chunks[:2] + [(b'IDAT', z), (b'IEND', b'')])
bad('png-zlib-header.png', with_idat(b'\x00' + zdata[1:]), 'the PNG file is damaged: its image data cannot be decompressed',
    'zlib header byte zeroed, checksums recomputed')
bad('png-data-short.png', with_idat(zlib.compress(raw[: len(raw) // 2])), 'the PNG file is damaged: its image data is shorter than its header says',
    'half the rows, checksums recomputed')
bad('png-row-filter.png', with_idat(zlib.compress(b'\x07' + raw[1:])), 'the PNG file is damaged: a row of its image data has an invalid filter type',
    'row filter type 7, checksums recomputed')

# ------------------------------------------------------------------ damaged JPEGs
def jpeg_bytes(**kw):
    b = io.BytesIO()
    Image.fromarray(base_rgb).save(b, 'JPEG', quality=90, **kw)
    return b.getvalue()


jpg = jpeg_bytes()
add_good('jpeg-base', jpg, pil_rgb(jpg), 'baseline JPEG written by PIL (not compared: JPEG decoders may differ by rounding)')


def segments(j):
    """(marker, position of the FF, segment length incl. the 2 length bytes) up to SOS"""
    out, pos = [], 2
    while pos < len(j):
        m = j[pos + 1]
        ln = j[pos + 2] << 8 | j[pos + 3]
        out.append((m, pos, ln))
        if m == 0xDA:
            break
        pos += 2 + ln
    return out


seg = segments(jpg)
def find(m):
    return next(s for s in seg if s[0] == m)
sos = find(0xDA)
scan_start = sos[1] + 2 + sos[2]
T = 'cannot read the image: the JPEG file is truncated (no end-of-image marker)'
for cut, what in [(4, 'inside the first segment'), (find(0xDB)[1] + 10, 'inside the quantisation table'),
                  (find(0xC4)[1] + 10, 'inside a Huffman table'), (scan_start + 5, 'at the start of the scan data'),
                  (len(jpg) // 2 + scan_start // 2, 'in the middle of the scan data'), (len(jpg) - 2, 'without its end-of-image marker')]:
    bad(f'jpeg-cut-{cut}.jpg', jpg[:cut], T, f'cut to {cut} bytes ({what})')
def patch(j, at, new):
    b = bytearray(j)
    b[at:at + len(new)] = new
    return bytes(b)
sof = find(0xC0)
bad('jpeg-sof-12bit.jpg', patch(jpg, sof[1] + 4, b'\x0c'), 'the JPEG file uses a sample precision other than 8 bits, which is not supported', 'SOF precision 12')
bad('jpeg-sof-height0.jpg', patch(jpg, sof[1] + 5, b'\0\0'), 'the JPEG file does not state its height in its header, which is not supported', 'SOF height 0')
bad('jpeg-sof-width0.jpg', patch(jpg, sof[1] + 7, b'\0\0'), 'the JPEG file is damaged: its frame header (SOF) is invalid', 'SOF width 0')
bad('jpeg-sof-components5.jpg', patch(jpg, sof[1] + 9, b'\x05'), 'the JPEG file is damaged: its frame header (SOF) is invalid', 'SOF component count 5')
bad('jpeg-sof-lossless.jpg', patch(jpg, sof[1] + 1, b'\xc3'), 'the JPEG file uses lossless, hierarchical or arithmetic coding, which is not supported', 'SOF0 marker changed to SOF3')
bad('jpeg-sof-arithmetic.jpg', patch(jpg, sof[1] + 1, b'\xc9'), 'the JPEG file uses lossless, hierarchical or arithmetic coding, which is not supported', 'SOF0 marker changed to SOF9')
bad('jpeg-sof-removed.jpg', patch(jpg, sof[1] + 1, b'\xef'), 'the JPEG file is damaged: it has no frame header (SOF)', 'SOF0 marker changed to APP15')
dht = find(0xC4)
bad('jpeg-dht-counts.jpg', patch(jpg, dht[1] + 5, b'\xff'), 'the JPEG file is damaged: a Huffman table is invalid', 'first Huffman code count 255')
big = b'\xff\xc4' + struct.pack('>H', 2 + 17 + 16 * 255) + b'\x00' + b'\xff' * 16 + b'\x41' * (16 * 255)
bad('jpeg-dht-4080-symbols.jpg', jpg[:2] + big + jpg[2:], 'the JPEG file is damaged: a Huffman table is invalid', 'a Huffman table of 4080 symbols')
dqt = find(0xDB)
bad('jpeg-dqt-id.jpg', patch(jpg, dqt[1] + 4, b'\x05'), 'the JPEG file is damaged: a quantisation table is invalid', 'quantisation table id 5')
bad('jpeg-sos-count0.jpg', patch(jpg, sos[1] + 4, b'\x00'), 'the JPEG file is damaged: a scan header (SOS) is invalid', 'SOS component count 0')
bad('jpeg-sos-table.jpg', patch(jpg, sos[1] + 6, b'\x50'), 'the JPEG file is damaged: a scan header (SOS) is invalid', 'SOS DC table 5')
app = seg[0]
bad('jpeg-app-length1.jpg', patch(jpg, app[1] + 2, b'\x00\x01'), 'the JPEG file is damaged: a segment has an invalid length', 'APP0 length 1')
bad('jpeg-dqt-marker.jpg', patch(jpg, dqt[1] + 1, b'\x02'), 'the JPEG file is damaged: a marker is missing or invalid', 'DQT marker changed to the reserved 0x02')
bad('jpeg-entropy-ones.jpg', patch(jpg, scan_start + 8, b'\xff\x00' * 24), 'the JPEG file is damaged: its compressed image data is corrupt',
    '48 bytes of scan data overwritten with stuffed 0xFF (all-ones codes)')

# ------------------------------------------------------------------ damaged BMPs
b = io.BytesIO()
Image.fromarray(base_rgb).save(b, 'BMP')
bmp = b.getvalue()
def bmp_patch(off, fmt, v):
    return patch(bmp, off, struct.pack(fmt, v))
bad('bmp-cut-header.bmp', bmp[:30], 'the BMP file is truncated', 'cut inside the header')
bad('bmp-cut-pixels.bmp', bmp[: len(bmp) - 100], 'the BMP file is truncated', 'last 100 bytes of pixels missing')
bad('bmp-header-size.bmp', bmp_patch(14, '<I', 99), 'BMP header: header size 99 does not exist', 'header size 99')
bad('bmp-planes.bmp', bmp_patch(26, '<H', 2), 'BMP header: 2 colour planes instead of 1', 'planes 2')
bad('bmp-depth7.bmp', bmp_patch(28, '<H', 7), 'BMP header: bit depth 7 does not exist', 'bit depth 7')
bad('bmp-rle.bmp', bmp_patch(30, '<I', 1), 'the BMP file is RLE-compressed, which is not supported', 'compression 1 (RLE8)')
bad('bmp-jpeg.bmp', bmp_patch(30, '<I', 4), 'the BMP file holds an embedded JPEG or PNG, which is not supported', 'compression 4 (JPEG)')
bad('bmp-compression9.bmp', bmp_patch(30, '<I', 9), 'BMP header: compression method 9 does not exist', 'compression 9')
bad('bmp-width0.bmp', bmp_patch(18, '<i', 0), 'BMP header: the width is 0', 'width 0')
bad('bmp-width-neg.bmp', bmp_patch(18, '<i', -5), 'BMP header: the width is -5', 'width -5')
bad('bmp-height0.bmp', bmp_patch(22, '<i', 0), 'BMP header: the height is 0', 'height 0')
bad('bmp-offset.bmp', bmp_patch(10, '<I', 1 << 24), 'BMP header: the pixel data would start outside the file', 'pixel data offset 16 MB')

# ------------------------------------------------------------------ damaged GIFs
b = io.BytesIO()
Image.fromarray(base_rgb).quantize(64).save(b, 'GIF')
gif = b.getvalue()
gct = 3 << ((gif[10] & 7) + 1) if gif[10] & 0x80 else 0
first = 13 + gct  # PIL writes the image (or an extension) right after the global colour table
while gif[first] == 0x21:  # skip extensions to the image descriptor
    p = first + 2
    while gif[p]:
        p += gif[p] + 1
    first = p + 1
assert gif[first] == 0x2C
bad('gif-version.gif', patch(gif, 4, b'8'), 'the GIF file is damaged: its signature is not GIF87a or GIF89a', 'signature GIF88a')
bad('gif-cut-header.gif', gif[:10], 'the GIF file is truncated', 'cut inside the header')
bad('gif-cut-data.gif', gif[: first + 30], 'the GIF file is truncated', 'cut inside the image data')
bad('gif-width0.gif', patch(gif, 6, b'\0\0'), 'GIF header: the width is 0', 'width 0')
bad('gif-height0.gif', patch(gif, 8, b'\0\0'), 'GIF header: the height is 0', 'height 0')
bad('gif-no-image.gif', gif[:13 + gct] + b'\x3b', 'the GIF file has no image in it', 'header, colour table, trailer')
bad('gif-block.gif', gif[:13 + gct] + b'\x99' + gif[13 + gct:], 'the GIF file is damaged: its block structure is broken', 'an unknown block type')
bad('gif-no-palette.gif', patch(gif[:13] + gif[13 + gct:], 10, bytes([gif[10] & 0x7F])),
    'the GIF file is damaged: it has no colour table', 'global colour table removed')
bad('gif-frame-outside.gif', patch(gif, first + 5, struct.pack('<H', W + 1)), 'the GIF file is damaged: its first image lies outside the size in its header',
    'image one pixel wider than the screen')
bad('gif-lzw-size.gif', patch(gif, first + 10 + ((3 << ((gif[first + 9] & 7) + 1)) if gif[first + 9] & 0x80 else 0), b'\x0c'),
    'the GIF file is damaged: its compressed image data is corrupt', 'LZW code size 12')

# ------------------------------------------------------------------ any format
bad('empty.png', b'', 'the image is empty (0 bytes)', 'zero bytes')
bad('text.png', b'this is not a PNG at all, only text pretending to be one\n' * 20,
    'cannot read the image: not a PNG, JPEG, BMP or GIF file', 'text')
bad('random.bin', b'\x00' + bytes(np.random.default_rng(3).integers(0, 256, 4095, dtype=np.uint8)),
    'cannot read the image: not a PNG, JPEG, BMP or GIF file', '4 KB of random bytes')

with open(os.path.join(OUT, 'good.tsv'), 'w') as f:
    f.write('\n'.join(good_rows) + '\n')
with open(os.path.join(OUT, 'bad.tsv'), 'w') as f:
    f.write('\n'.join(bad_rows) + '\n')
print(f'{len(good_rows)} good, {len(bad_rows)} damaged files in {OUT}')
