/* importers.h — converters from other frameworks' model files to a sialo_graph.
 *
 * Every importer returns a freshly allocated float graph (free with sialo_graph_free) or NULL
 * with a readable reason in sialo_error(). They never print and never exit, and they treat the
 * input bytes as hostile: every offset, length and index is checked against the file.
 */
#ifndef SIALO_IMPORTERS_H
#define SIALO_IMPORTERS_H

#include <stddef.h>

#include "engine/graph.h"

/* ---- TensorFlow Lite (import_tflite.c)
 *
 * Reads a .tflite flatbuffer (schema "TFL3", first subgraph) and builds a float graph:
 * quantised weights are dequantised (w = scale * (q - zero_point), per tensor or per output
 * channel), int32 biases with their own scale; activation quantisation is dropped, fused
 * activations are kept. RESHAPE / SQUEEZE / QUANTIZE / DEQUANTIZE become pass-throughs.
 *
 * Supported builtin operators: CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, ADD,
 * AVERAGE_POOL_2D, MAX_POOL_2D, MEAN (over H,W), PAD, RELU, RELU6, LOGISTIC, SOFTMAX,
 * RESHAPE, SQUEEZE, QUANTIZE, DEQUANTIZE. Input: one float/uint8/int8 tensor [1,H,W,3].
 *
 * Metadata of the result: arch "mobilenetv2" when the network looks like a MobileNetV2
 * (otherwise "tflite"), input H x W x 3, n_classes = width of the output, no class names (see
 * sialo_graph_set_labels_tflite and sialo_graph_set_labels_file). Normalisation (pixel * norm_scale + norm_bias) is exactly what the
 * file's integer input means: uint8 input with scale s, zero point z -> s * (pixel - z), e.g.
 * (p - 128) / 128 for mobilenet_v2_1.0_224_quant, (p - 127) / 127.5 for the tf2 PTQ file; a float
 * input gets the TFLite image-classifier convention p / 127.5 - 1. (Inputs in [-1, 1].) When the tail of the network is
 * conv(+ReLU6) -> global average pool -> 1x1 conv or dense -> softmax, those layers are named
 * "out_relu", "global_average_pooling2d", "Logits" and "Predictions" (the Keras MobileNetV2
 * names, so a trainer can cut the head there); a 1x1 conv on a 1x1 map becomes OP_DENSE.
 * Other layers are named after their TFLite output tensors (made unique). */
sialo_graph *sialo_import_tflite(const void *data, size_t size);

/* Read a labels text file (one class name per line, UTF-8, '\n' or "\r\n" line ends, a final
 * empty line ignored) into g's class names. The number of lines must equal g->n_classes.
 * Returns 0, or -1 with sialo_error() set (g unchanged). */
int sialo_graph_set_labels_file(sialo_graph *g, const char *path);

/* Class names embedded in a .tflite file: TFLite Metadata appends "associated files" as a ZIP
 * archive after the flatbuffer (both MobileNetV2 files in ../shared carry imagenet_labels.txt
 * that way). Reads the first stored "*label*.txt" entry (CRC-checked) into g's class names.
 * Returns 1 if set, 0 if the file has no such entry (g unchanged), -1 on a corrupt archive or a
 * line count different from g->n_classes (reason in sialo_error(), g unchanged). */
int sialo_graph_set_labels_tflite(sialo_graph *g, const void *data, size_t size);

/* ---- Keras HDF5 weights (import_keras.c; needs libhdf5: pkg-config hdf5)
 *
 * Reads a Keras weights file in the legacy HDF5 layout (keras.applications' *_notop.h5, or a
 * whole-model .h5 whose weights sit under /model_weights): root attribute layer_names, one group
 * per layer with attribute weight_names ("conv1_conv/kernel:0", ...), datasets at
 * <layer>/<weight_name>. Builds the backbone with sialo_arch_build(arch, input_size, input_size,
 * "none", 0) (output: the backbone's last feature map, e.g. "post_relu") and fills every tensor
 * "<layer>/<w>" from the matching dataset. Missing layers or weights, extra weighted layers,
 * shape or dtype mismatches, absurd dimensions, NaN/inf and truncated files give NULL with a
 * reason naming the layer and weight. arch: "resnet50v2" (also "mobilenetv2"). */
sialo_graph *sialo_import_keras_h5(const char *path, const char *arch, int input_size);

#endif
