/* Fuzz target: JSON as the CLI reads it; anything accepted must round-trip. */
#include "cli/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ssp_buf mp, json, mp2;
    struct ssp_mpw w;
    struct ssp_diag d = {{0}};
    ssp_buf_init(&mp);
    ssp_buf_init(&json);
    ssp_buf_init(&mp2);
    ssp_mpw_init(&w, &mp);
    if (ssp_json_to_mp((const char *)data, size, &w, &d) == SSP_OK) {
        struct ssp_mp c;
        ssp_mp_init(&c, SSP_BUF_SLICE(&mp));
        if (ssp_json_from_mp(&c, 0, &json) != SSP_OK)
            __builtin_trap();
        ssp_mpw_init(&w, &mp2);
        if (ssp_json_to_mp((const char *)json.p, json.n, &w, &d) != SSP_OK ||
            !ssp_slice_eq(SSP_BUF_SLICE(&mp), SSP_BUF_SLICE(&mp2)))
            __builtin_trap();
    }
    ssp_buf_fini(&mp);
    ssp_buf_fini(&json);
    ssp_buf_fini(&mp2);
    return 0;
}
