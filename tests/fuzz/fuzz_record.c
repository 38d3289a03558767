/* Fuzz target: op bodies merged into a record, as a node applies them. */
#include <string.h>

#include "node/log/record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ssp_record r;
    struct ssp_buf out;
    struct ssp_op_body body;
    ssp_record_init(&r);
    ssp_buf_init(&out);
    /* The input is a sequence of op bodies, each preceded by a 1-byte length. */
    uint32_t i = 0;
    while (size > 0) {
        size_t n = data[0] < size - 1 ? data[0] : size - 1;
        struct ssp_version v = {.hlc = (uint64_t)(i % 3), .seq = i, .op = 0};
        v.origin[0] = (uint8_t)i;
        if (ssp_op_body_decode(SSP_SLICE(data + 1, n), &body) == SSP_OK &&
            ssp_record_apply(&r, &v, &body) == SSP_OK) {
            out.n = 0;
            if (ssp_record_fields_map(&r, &out) != SSP_OK ||
                ssp_mp_check(SSP_BUF_SLICE(&out)) != SSP_OK)
                __builtin_trap();
        }
        data += 1 + n;
        size -= 1 + n;
        i++;
    }
    ssp_buf_fini(&out);
    ssp_record_fini(&r);
    return 0;
}
