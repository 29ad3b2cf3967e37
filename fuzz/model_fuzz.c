/* model_fuzz.c — libFuzzer target for the .sialo model loader (src/engine/model_file.c, graph building
 * and the load-time optimiser): load from memory, and when that succeeds read the info JSON and
 * free. The payload size and CRC-32 in the header are set to match the (mutated) input, so the
 * mutations reach the parser instead of the checksum. Seeds: small models written by
 * `sialoscan init` and an ensemble of two by `sialoscan ensemble` (format version 3; make fuzz).
 */
#include "sialoscan.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

uint32_t sialo_crc32(const void *data, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    sialo_options opt = {SIALO_BACKEND_OWN, 1, 0, 0};
    uint8_t *b = malloc(size ? size : 1);
    if (!b) return 0;
    memcpy(b, data, size);
    if (size >= 32) {
        uint64_t payload = size - 32;
        uint32_t crc = sialo_crc32(b + 32, size - 32);
        for (int i = 0; i < 8; i++) b[16 + i] = (uint8_t)(payload >> 8 * i);
        for (int i = 0; i < 4; i++) b[24 + i] = (uint8_t)(crc >> 8 * i);
    }
    sialo_model *m = sialo_model_load(b, size, &opt);
    free(b);
    if (!m) {
        if (!*sialo_error()) abort();
        return 0;
    }
    char *js = sialo_model_info_json(m);
    free(js);
    sialo_model_free(m);
    return 0;
}
