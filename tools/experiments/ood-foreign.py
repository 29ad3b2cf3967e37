#!/usr/bin/python3
"""The foreign images of the out-of-distribution measurement (tools/experiments/ood-busi.sh): written
to OUT/<kind>/; nothing here is committed. PIL only (no numpy).

  photo/    the ImageNet test photographs of the importer tests (../shared/samples/imagenet) and
            crops of them (8 per photograph: corners, centre, halves, at several scales)
  text/     screenshots of text: lines of prose and code in the fonts Debian ships (DejaVu), dark on
            light and light on dark
  noise/    uniform RGB noise, grey noise, and blurred noise
  grey/     uniform frames (grey levels 0..255 and a mid grey)
  doppler/  BUSI frames with a colour-Doppler-like red / blue blob painted into the lesion's box
            (from its mask), as a colour-flow box would appear
  (CT / MR slices: DICOM files of pydicom's test data, linked by ood-busi.sh, not here)
"""
import glob, os, random, sys
from PIL import Image, ImageDraw, ImageFont, ImageFilter

out = sys.argv[1]
shared = sys.argv[2] if len(sys.argv) > 2 else "../shared"
rng = random.Random(24)
def save(kind, name, im):
    os.makedirs(os.path.join(out, kind), exist_ok=True)
    im.save(os.path.join(out, kind, name + ".png"))

# photographs and crops
for p in sorted(glob.glob(os.path.join(shared, "samples/imagenet/*.jpg"))):
    im = Image.open(p).convert("RGB")
    stem = os.path.splitext(os.path.basename(p))[0]
    save("photo", stem, im)
    w, h = im.size
    boxes = [(0, 0, w // 2, h // 2), (w // 2, 0, w, h // 2), (0, h // 2, w // 2, h), (w // 2, h // 2, w, h),
             (w // 4, h // 4, 3 * w // 4, 3 * h // 4), (0, 0, w // 2, h), (w // 2, 0, w, h), (w // 8, h // 8, 7 * w // 8, 7 * h // 8)]
    for k, b in enumerate(boxes):
        save("photo", "%s-crop%d" % (stem, k), im.crop(b))

# screenshots of text
fonts = [f for f in ["/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf",
                     "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf"] if os.path.exists(f)]
words = ("the model was trained on breast ultrasound frames and says whether a lesion looks benign or malignant "
         "int main(void) { return sialo_classify(m, bytes, n, &r); } error warning patient report page table").split()
for k in range(24):
    W, H = rng.choice([(640, 480), (800, 600), (1024, 768), (500, 500)])
    dark = k % 3 == 2
    im = Image.new("RGB", (W, H), (30, 30, 30) if dark else (rng.randint(235, 255),) * 3)
    d = ImageDraw.Draw(im)
    size = rng.choice([12, 14, 16, 20, 28])
    font = ImageFont.truetype(fonts[k % len(fonts)], size) if fonts else ImageFont.load_default()
    y = 10
    while y < H - size:
        line = " ".join(rng.choice(words) for _ in range(rng.randint(3, 12)))
        d.text((10, y), line, fill=(220, 220, 220) if dark else (0, 0, 0), font=font)
        y += int(size * 1.5)
    save("text", "text%02d" % k, im)

# noise
for k in range(12):
    W, H = 400 + 40 * k, 300 + 30 * k
    if k % 3 == 0:
        im = Image.frombytes("RGB", (W, H), bytes(rng.getrandbits(8) for _ in range(W * H * 3)))
    else:
        g = Image.frombytes("L", (W, H), bytes(rng.getrandbits(8) for _ in range(W * H)))
        if k % 3 == 2: g = g.filter(ImageFilter.GaussianBlur(3))
        im = g.convert("RGB")
    save("noise", "noise%02d" % k, im)

# uniform frames
for k, v in enumerate([0, 64, 128, 192, 255]):
    save("grey", "grey%d" % v, Image.new("RGB", (560, 420), (v, v, v)))

# colour-Doppler-like frames: a red / blue blob over the lesion (mask bounding box)
masks = sorted(glob.glob(os.path.join(shared, "data/busi/masks/*/*-mask.png")))
rng.shuffle(masks)
for k, mp in enumerate(masks[:24]):
    cls = os.path.basename(os.path.dirname(mp))
    fp = os.path.join(shared, "data/busi", cls, os.path.basename(mp).replace("-mask.png", ".png"))
    if not os.path.exists(fp): continue
    im = Image.open(fp).convert("RGB")
    bbox = Image.open(mp).convert("L").getbbox() or (im.width // 3, im.height // 3, 2 * im.width // 3, 2 * im.height // 3)
    x0, y0, x1, y1 = bbox
    d = ImageDraw.Draw(im)
    # the colour box outline, then flow: a red and a blue lobe
    d.rectangle((x0 - 10, y0 - 10, x1 + 10, y1 + 10), outline=(200, 200, 200), width=2)
    cx, cy, rx, ry = (x0 + x1) // 2, (y0 + y1) // 2, max(6, (x1 - x0) // 3), max(6, (y1 - y0) // 3)
    d.ellipse((cx - rx, cy - ry, cx, cy + ry // 2), fill=(220, 30, 20))
    d.ellipse((cx, cy - ry // 2, cx + rx, cy + ry), fill=(20, 60, 230))
    im = im.filter(ImageFilter.GaussianBlur(0.7))
    save("doppler", "doppler-%s" % os.path.splitext(os.path.basename(fp))[0], im)
