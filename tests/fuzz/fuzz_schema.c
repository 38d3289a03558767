/* Fuzz target: the fields of a write (untrusted, from a client or an import) against every type. */
#include "node/domain/schema.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static ssp_err
lookup(void *ctx, const uint8_t id[SSP_RECORD_ID_LEN], char type[SSP_TYPE_NAME_MAX])
{
    (void)ctx;
    /* Ids name a type by their first byte, so refs of every kind get exercised. */
    const struct ssp_type_def *t = ssp_schema_types[id[0] % ssp_schema_ntypes];
    if (id[1] == 0)
        return SSP_ERR_NOTFOUND;
    for (size_t i = 0; (type[i] = t->name[i]) != '\0'; i++)
        ;
    return SSP_OK;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ssp_buf out;
    struct ssp_slice in = SSP_SLICE(data, size);
    if (ssp_mp_check(in) != SSP_OK)
        return 0;
    ssp_buf_init(&out);
    for (size_t i = 0; i < ssp_schema_ntypes; i++) {
        struct ssp_diag d = {{0}};
        out.n = 0;
        if (ssp_schema_normalize(ssp_schema_types[i], in, lookup, NULL, &out, &d) == SSP_OK &&
            ssp_mp_check(SSP_BUF_SLICE(&out)) != SSP_OK)
            __builtin_trap();
        if (ssp_schema_check_record(ssp_schema_types[i], in, &d) != SSP_OK && d.msg[0] == '\0')
            __builtin_trap();
    }
    ssp_buf_fini(&out);
    return 0;
}
