/* The field arguments: see cli/assign.h. */
#include "cli/assign.h"

#include <string.h>

#include "cli/json.h"

static bool
is_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

static size_t
name_len(const char *s)
{
    size_t n = 0;
    while (is_name_char(s[n]))
        n++;
    return n;
}

bool
ssp_cli_field_name(const char *s)
{
    size_t n = name_len(s);
    return n > 0 && n <= SSP_CLI_FIELD_MAX && s[n] == '\0' && !(s[0] >= '0' && s[0] <= '9');
}

ssp_err
ssp_cli_parse_assign(const char *arg, struct ssp_mpw *w, struct ssp_diag *d)
{
    struct ssp_diag jd = {{0}};
    const char *eq = strchr(arg, '=');
    if (eq == NULL)
        return ssp_diag_set(d, SSP_ERR_INVAL,
                            "'%s' is not field=value (nor field:=JSON, nor field= to remove one)",
                            arg);
    bool json = eq > arg && eq[-1] == ':';
    size_t n = (size_t)(eq - arg) - json;
    if (n == 0 || n > SSP_CLI_FIELD_MAX || name_len(arg) != n || (arg[0] >= '0' && arg[0] <= '9'))
        return ssp_diag_set(d, SSP_ERR_INVAL,
                            "'%.*s' is not a field name: names are lower-case letters, digits "
                            "and '_', at most %d, not starting with a digit",
                            (int)n, arg, SSP_CLI_FIELD_MAX);
    const char *val = eq + 1;
    size_t mark = w->buf->n;
    ssp_mpw_str(w, arg, n);
    if (!json) {
        if (val[0] == '\0')
            ssp_mpw_nil(w);
        else
            ssp_mpw_cstr(w, val);
        return w->err;
    }
    ssp_err rc = ssp_json_to_mp(val, strlen(val), w, &jd);
    if (rc == SSP_OK)
        return SSP_OK;
    w->buf->n = mark;
    if (rc != SSP_ERR_PROTO)
        return ssp_diag_set(d, rc, "out of memory");
    return ssp_diag_set(d, SSP_ERR_INVAL, "%.*s:= is not followed by valid JSON: %s", (int)n, arg,
                        jd.msg);
}

ssp_err
ssp_cli_write_assigns(char *const *args, size_t n, struct ssp_mpw *w, struct ssp_diag *d)
{
    ssp_mpw_map(w, n);
    for (size_t i = 0; i < n; i++) {
        ssp_err rc = ssp_cli_parse_assign(args[i], w, d);
        if (rc != SSP_OK)
            return rc;
        /* A handful of fields are given at a time: comparing with each earlier one will do. */
        size_t len = name_len(args[i]);
        for (size_t j = 0; j < i; j++) {
            if (name_len(args[j]) == len && memcmp(args[j], args[i], len) == 0)
                return ssp_diag_set(d, SSP_ERR_INVAL, "field '%.*s' is given twice", (int)len,
                                    args[i]);
        }
    }
    return w->err;
}
