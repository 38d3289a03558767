/*
 * Fuzz target: one field=value / field:=JSON argument, as ssp reads it from
 * argv. Whatever is accepted appends exactly one well-formed map entry (a str
 * name, then a value); whatever is refused says why and leaves the buffer as
 * it was.
 */
#include <string.h>

#include "cli/assign.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* argv strings end at their first NUL. */
    char *arg = ssp_alloc(size + 1);
    if (arg == NULL)
        return 0;
    memcpy(arg, data, size);
    arg[size] = '\0';
    struct ssp_buf b;
    struct ssp_mpw w;
    struct ssp_diag d = {{0}};
    ssp_buf_init(&b);
    ssp_mpw_init(&w, &b);
    /* Something already in the buffer, as when it follows other fields. */
    ssp_mpw_map(&w, 1);
    size_t before = b.n;
    ssp_err rc = ssp_cli_parse_assign(arg, &w, &d);
    if (rc == SSP_OK) {
        struct ssp_mp c;
        struct ssp_slice name;
        ssp_mp_init(&c, SSP_SLICE(b.p + before, b.n - before));
        if (ssp_mp_str(&c, &name) != SSP_OK || name.n == 0 || name.n > SSP_CLI_FIELD_MAX ||
            memcmp(name.p, arg, name.n) != 0 || ssp_mp_skip(&c) != SSP_OK || !ssp_mp_done(&c))
            __builtin_trap();
    } else if (rc == SSP_ERR_INVAL && (b.n != before || d.msg[0] == '\0')) {
        __builtin_trap();
    }
    ssp_buf_fini(&b);
    ssp_free(arg);
    return 0;
}
