/* tflite_fuzz.c — libFuzzer target for the TensorFlow Lite importer (src/import/tflite.c: the
 * bounds-checked flatbuffer reader, dequantisation, graph building): import from memory; a refusal
 * must come with a reason. Seeds: the synthetic models of tests/c/test_import_tflite.c
 * (`test_import_tflite --seeds DIR`, make fuzz), never the ../shared files.
 */
#include "engine/graph.h"
#include "import/importers.h"
#include "sialoscan.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    sialo_graph *g = sialo_import_tflite(data, size);
    if (!g) {
        if (!*sialo_error()) abort(); /* every refusal says why */
        return 0;
    }
    sialo_graph_free(g);
    return 0;
}
