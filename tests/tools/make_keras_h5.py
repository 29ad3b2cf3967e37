#!/usr/bin/env python3
"""make_keras_h5.py — write a Keras-layout HDF5 weights file for ResNet50V2 (no top) with seeded
random weights, plus the same weights as a JSON manifest + raw float32 .bin for TensorFlow.js.

The HDF5 layout is the one of resnet50v2_weights_tf_dim_ordering_tf_kernels_notop.h5 (Keras
legacy `save_weights` format):
  /                       attrs: layer_names (fixed-length byte strings, every layer, in order),
                                 backend, keras_version
  /<layer>                group per layer, attr weight_names (b"<layer>/kernel:0", ...; an empty
                                 float64 array for layers without weights)
  /<layer>/<layer>/<w>:0  float32 datasets (h5py makes the nested group from the '/')

The layer list below is written from keras/applications/resnet.py (ResNet, stack2, block2), on
its own, so that it cross-checks the C architecture builder.

Usage: make_keras_h5.py OUT_DIR [--seed N] [--break KIND]
  writes OUT_DIR/resnet50v2_notop.h5, OUT_DIR/weights.json, OUT_DIR/weights.bin
  --break: missing_dataset | wrong_shape | wrong_dtype | missing_layer | absurd_dims
           | string_dataset  (deliberately malformed files for the importer's error paths)
"""
import argparse
import json
import os
import sys

import h5py
import numpy as np


def resnet50v2_layers():
    """[(layer_name, [(weight_name, shape), ...])] in Keras layer order (include_top=False)."""
    L = []

    def conv(name, k, cin, cout, bias):
        w = [("kernel", (k, k, cin, cout))]
        if bias:
            w.append(("bias", (cout,)))
        L.append((name, w))

    def bn(name, c):
        L.append((name, [(w, (c,)) for w in ("gamma", "beta", "moving_mean", "moving_variance")]))

    def plain(name):
        L.append((name, []))

    plain("input_1")
    plain("conv1_pad")
    conv("conv1_conv", 7, 3, 64, True)
    plain("pool1_pad")
    plain("pool1_pool")
    maxpools = [0]

    def block2(cin, filters, stride, conv_shortcut, name):
        # Keras adds layers in the order the functional graph calls them.
        bn(name + "_preact_bn", cin)
        plain(name + "_preact_relu")
        if conv_shortcut:
            conv(name + "_0_conv", 1, cin, 4 * filters, True)
        elif stride > 1:
            plain("max_pooling2d" + ("_%d" % maxpools[0] if maxpools[0] else ""))
            maxpools[0] += 1
        conv(name + "_1_conv", 1, cin, filters, False)
        bn(name + "_1_bn", filters)
        plain(name + "_1_relu")
        plain(name + "_2_pad")
        conv(name + "_2_conv", 3, filters, filters, False)
        bn(name + "_2_bn", filters)
        plain(name + "_2_relu")
        conv(name + "_3_conv", 1, filters, 4 * filters, True)
        plain(name + "_out")
        return 4 * filters

    def stack2(cin, filters, blocks, stride1, name):
        c = block2(cin, filters, 1, True, name + "_block1")
        for i in range(2, blocks):
            c = block2(c, filters, 1, False, name + "_block%d" % i)
        return block2(c, filters, stride1, False, name + "_block%d" % blocks)

    c = stack2(64, 64, 3, 2, "conv2")
    c = stack2(c, 128, 4, 2, "conv3")
    c = stack2(c, 256, 6, 2, "conv4")
    c = stack2(c, 512, 3, 1, "conv5")
    bn("post_bn", c)
    plain("post_relu")
    return L


def random_weight(rng, layer, wname, shape):
    if wname == "kernel":
        fan_in = int(np.prod(shape[:-1]))
        std = np.sqrt(2.0 / fan_in)
        if layer.endswith("_3_conv"):
            std *= 0.25  # keep the residual stream from growing block after block
        return rng.normal(0.0, std, size=shape)
    if wname == "bias":
        return rng.normal(0.0, 0.05, size=shape)
    if wname == "gamma":
        return rng.uniform(0.6, 1.2, size=shape)
    if wname == "beta":
        return rng.normal(0.0, 0.1, size=shape)
    if wname == "moving_mean":
        return rng.normal(0.0, 0.2, size=shape)
    if wname == "moving_variance":
        return rng.uniform(0.5, 2.0, size=shape)
    raise ValueError(wname)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out_dir")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--break", dest="brk", default=None,
                    choices=["missing_dataset", "wrong_shape", "wrong_dtype", "missing_layer",
                             "absurd_dims", "string_dataset"])
    ap.add_argument("--no-manifest", action="store_true", help="write only the .h5 file")
    args = ap.parse_args()

    os.makedirs(args.out_dir, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    layers = resnet50v2_layers()
    n_params = sum(int(np.prod(s)) for _, ws in layers for _, s in ws)
    if n_params != 23564800:
        sys.exit("internal error: ResNet50V2 backbone has %d parameters, expected 23564800" % n_params)

    # the layer picked for the deliberate faults
    victim = "conv3_block2_2_conv"

    h5_path = os.path.join(args.out_dir, "resnet50v2_notop.h5")
    manifest = {"arch": "resnet50v2", "seed": args.seed, "n_params": n_params, "weights": []}
    blobs = []
    offset = 0
    with h5py.File(h5_path, "w") as f:
        names = [n for n, _ in layers]
        if args.brk == "missing_layer":
            names = [n for n in names if n != victim]
        f.attrs["layer_names"] = np.array([n.encode("utf8") for n in names])
        f.attrs["backend"] = b"tensorflow"
        f.attrs["keras_version"] = b"2.13.1"
        for lname, ws in layers:
            if args.brk == "missing_layer" and lname == victim:
                continue
            g = f.create_group(lname)
            g.attrs["weight_names"] = np.array([("%s/%s:0" % (lname, w)).encode("utf8") for w, _ in ws]) if ws else np.asarray([])
            for wname, shape in ws:
                val = random_weight(rng, lname, wname, shape).astype(np.float32)
                manifest["weights"].append({"name": "%s/%s" % (lname, wname), "shape": list(shape),
                                            "offset": offset, "count": int(val.size)})
                if not args.no_manifest:
                    blobs.append(val.astype("<f4").tobytes())
                offset += val.size * 4
                dname = "%s/%s:0" % (lname, wname)
                if lname == victim and wname == "kernel":
                    if args.brk == "missing_dataset":
                        continue
                    if args.brk == "wrong_shape":
                        val = val[:, :, :, :-1]
                    if args.brk == "wrong_dtype":
                        g.create_dataset(dname, data=(val * 100).astype(np.int32))
                        continue
                    if args.brk == "absurd_dims":
                        # a 1-D dataset announcing 2^31 elements, stored sparsely (no data written)
                        g.create_dataset(dname, shape=(1 << 31,), dtype=np.float32)
                        continue
                    if args.brk == "string_dataset":
                        g.create_dataset(dname, data=np.array([b"not a tensor"]))
                        continue
                g.create_dataset(dname, data=val)

    if not args.no_manifest:
        with open(os.path.join(args.out_dir, "weights.bin"), "wb") as fb:
            for b in blobs:
                fb.write(b)
        with open(os.path.join(args.out_dir, "weights.json"), "w") as fj:
            json.dump(manifest, fj)
    print(json.dumps({"h5": h5_path, "n_params": n_params, "n_layers": len(layers), "break": args.brk}))


if __name__ == "__main__":
    main()
