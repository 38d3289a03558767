/* Fuzz target: a commit as read from the store (and later from a peer or a bundle). */
#include "node/log/commit.h"
#include "node/log/record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t key[SSP_KEY_LEN] = {1};
    static int ready;
    if (!ready)
        ready = ssp_crypto_init() == SSP_OK;
    struct ssp_commit c;
    uint8_t hash[SSP_HASH_LEN];
    if (ssp_commit_parse(SSP_SLICE(data, size), &c) != SSP_OK)
        return 0;
    bool signed_ok = ssp_commit_verify(&c, hash) == SSP_OK;
    struct ssp_op op;
    struct ssp_buf plain;
    size_t pos = 0;
    ssp_buf_init(&plain);
    while (ssp_commit_next_op(&c, &pos, &op) == SSP_OK) {
        struct ssp_op_body body;
        plain.n = 0;
        /* Bodies are decoded as if they had opened: the fuzzer cannot forge the tag. */
        bool opened = ssp_op_open(&c, &op, key, &plain) == SSP_OK;
        bool decoded =
            ssp_op_body_decode(opened ? SSP_BUF_SLICE(&plain) : op.body, &body) == SSP_OK;
        if (signed_ok && opened && !decoded)
            break;
    }
    ssp_buf_fini(&plain);
    return 0;
}
