/*
 * Persons: the `person_find` operation, and the national id `add` takes for
 * a person. A national id (a CPR number) is never stored: it becomes the
 * person's pid, a hash keyed by the network key (ssp_pid_of), so the same
 * young person has the same pid on every node of the network. The raw id
 * reaches the daemon only over the local socket and is wiped here once used.
 */
#include <string.h>

#include "node/crypto/crypto.h"
#include "node/crypto/keyring.h"
#include "node/domain/schema.h"
#include "node/node.h"
#include "node/ops_int.h"

#define PERSON_PAGE_MAX 1000
#define ALIAS_MAX 200
/* The pid key is the network key of the first epoch: a rotation must not change every pid. */
#define PID_KEY_EPOCH 1

struct person_ctx {
    struct ssp_slice alias; /* a prefix, any case (ASCII); empty: any */
    bool has_year, has_pid;
    int64_t year;
    char pid[SSP_PID_HEX_LEN + 1];
    struct ssp_mpw *w;
    uint32_t count;
};

ssp_err
ssp_ops_person_pid(struct ssp_ops_ctx *ctx, struct ssp_slice national_id,
                   char pid[SSP_PID_HEX_LEN + 1], struct ssp_diag *d)
{
    const struct ssp_scope_key *k =
        ssp_keyring_scope_epoch(ctx->node->kr, SSP_SLICE("network", 7), PID_KEY_EPOCH);
    ssp_err rc = k == NULL ? ssp_diag_set(d, SSP_ERR_DENIED,
                                          "national id: this node holds no network key to make "
                                          "the pid with; enrol it in a network first")
                           : ssp_pid_of(k->key, national_id, pid, d);
    /* The request's buffer is the daemon's own and writable: the id does not outlive its use. */
    if (national_id.n > 0)
        ssp_wipe((void *)national_id.p, national_id.n);
    return rc;
}

ssp_err
ssp_ops_person_fields(struct ssp_ops_ctx *ctx, struct ssp_slice type, struct ssp_slice fields,
                      struct ssp_slice national_id, struct ssp_buf *out, struct ssp_diag *d)
{
    char pid[SSP_PID_HEX_LEN + 1];
    struct ssp_mp c;
    struct ssp_mpw w;
    struct ssp_slice key;
    uint32_t n = 0;
    ssp_err rc = ssp_ops_person_pid(ctx, national_id, pid, d);
    if (rc == SSP_OK && !ssp_slice_eq_str(type, "person"))
        rc = ssp_diag_set(d, SSP_ERR_INVAL, "a national id is given only for a person");
    ssp_mp_init(&c, fields);
    if (rc == SSP_OK && ssp_mp_map(&c, &n) != SSP_OK)
        rc = ssp_diag_set(d, SSP_ERR_PROTO, "'fields' is not a map");
    ssp_mpw_init(&w, out);
    ssp_mpw_map(&w, n + 1);
    for (uint32_t i = 0; i < n && rc == SSP_OK; i++) {
        struct ssp_slice v;
        if (ssp_mp_str(&c, &key) != SSP_OK || ssp_mp_raw(&c, &v) != SSP_OK)
            rc = ssp_diag_set(d, SSP_ERR_PROTO, "'fields' is not a map of names to values");
        else if (ssp_slice_eq_str(key, "pid"))
            rc = ssp_diag_set(d, SSP_ERR_INVAL, "give the national id or pid=, not both");
        if (rc == SSP_OK) {
            ssp_mpw_str(&w, key.p, key.n);
            ssp_mpw_raw(&w, v);
        }
    }
    ssp_mpw_cstr(&w, "pid");
    ssp_mpw_str(&w, pid, SSP_PID_HEX_LEN);
    if (rc == SSP_OK && w.err != SSP_OK)
        rc = ssp_diag_set(d, w.err, "out of memory");
    return rc;
}

/* Whether text s starts with prefix p, letters in any case (ssp_text_fold). */
static bool
starts_folded(struct ssp_slice s, struct ssp_slice p)
{
    if (s.n < p.n)
        return false;
    for (size_t i = 0; i < p.n; i++)
        if (ssp_text_fold(s, i) != ssp_text_fold(p, i))
            return false;
    return true;
}

bool
ssp_ops_field_str(const struct ssp_record *r, const char *name, struct ssp_slice *s)
{
    const struct ssp_rec_field *v = ssp_record_field(r, SSP_SLICE(name, strlen(name)));
    struct ssp_mp c;
    if (v == NULL)
        return false;
    ssp_mp_init(&c, v->value);
    return ssp_mp_str(&c, s) == SSP_OK;
}

/* Field name of r as an integer; false when absent. */
static bool
field_int(const struct ssp_record *r, const char *name, int64_t *i)
{
    const struct ssp_rec_field *v = ssp_record_field(r, SSP_SLICE(name, strlen(name)));
    struct ssp_mp c;
    if (v == NULL)
        return false;
    ssp_mp_init(&c, v->value);
    return ssp_mp_int(&c, i) == SSP_OK;
}

static ssp_err
person_one(void *vctx, const struct ssp_record *r, bool *taken)
{
    struct person_ctx *pc = vctx;
    struct ssp_slice alias = {NULL, 0}, pid;
    int64_t year = 0;
    bool has_alias = ssp_ops_field_str(r, "alias", &alias),
         has_year = field_int(r, "birth_year", &year);
    *taken = (pc->alias.n == 0 || (has_alias && starts_folded(alias, pc->alias))) &&
             (!pc->has_year || (has_year && year == pc->year)) &&
             (!pc->has_pid || (ssp_ops_field_str(r, "pid", &pid) && pid.n == SSP_PID_HEX_LEN &&
                               ssp_equal_ct(pid.p, pc->pid, SSP_PID_HEX_LEN)));
    if (!*taken)
        return SSP_OK;
    ssp_mpw_map(pc->w, 4);
    ssp_mpw_cstr(pc->w, "id");
    ssp_record_id_write(pc->w, r->id);
    ssp_mpw_cstr(pc->w, "scope");
    ssp_mpw_cstr(pc->w, r->scope);
    ssp_mpw_cstr(pc->w, "alias");
    ssp_mpw_str(pc->w, alias.p, alias.n);
    ssp_mpw_cstr(pc->w, "birth_year");
    if (has_year)
        ssp_mpw_int(pc->w, year);
    else
        ssp_mpw_nil(pc->w);
    pc->count++;
    return pc->w->err;
}

ssp_err
ssp_op_person_find(struct ssp_ops_ctx *ctx, struct ssp_slice params, struct ssp_mpw *out,
                   struct ssp_diag *d)
{
    struct person_ctx pc = {0};
    struct ssp_slice scope = {NULL, 0}, nid = {NULL, 0};
    uint64_t limit = PERSON_PAGE_MAX;
    int64_t year = INT64_MIN;
    const struct ssp_mp_key table[] = {
        {"alias", SSP_AS_STR, false, &pc.alias},  {"birth_year", SSP_AS_INT, false, &year},
        {"national_id", SSP_AS_STR, false, &nid}, {"scope", SSP_AS_STR, false, &scope},
        {"limit", SSP_AS_UINT, false, &limit},
    };
    struct ssp_buf items;
    struct ssp_mpw iw;
    uint8_t next[SSP_RECORD_ID_LEN];
    bool more = false;
    ssp_err rc = PARAMS(params, table, d);
    pc.has_year = year != INT64_MIN;
    pc.year = year;
    if (rc == SSP_OK && nid.p != NULL) {
        pc.has_pid = true;
        rc = ssp_ops_person_pid(ctx, nid, pc.pid, d);
    } else if (nid.n > 0) {
        ssp_wipe((void *)nid.p, nid.n);
    }
    if (rc == SSP_OK && pc.alias.n > ALIAS_MAX)
        rc = ssp_diag_set(d, SSP_ERR_INVAL, "give an alias of at most %d bytes", ALIAS_MAX);
    if (rc == SSP_OK && pc.alias.n == 0 && !pc.has_year && !pc.has_pid)
        rc = ssp_diag_set(d, SSP_ERR_INVAL, "give an alias, a birth year or a national id");
    if (rc == SSP_OK && (limit == 0 || limit > PERSON_PAGE_MAX))
        rc = ssp_diag_set(d, SSP_ERR_INVAL, "'limit' must be from 1 to %d", PERSON_PAGE_MAX);
    if (rc != SSP_OK)
        return rc;
    ssp_buf_init(&items);
    ssp_mpw_init(&iw, &items);
    pc.w = &iw;
    rc = ssp_node_list(ctx->node, SSP_SLICE("person", 6), scope, NULL, (size_t)limit, person_one,
                       &pc, &more, next, d);
    if (rc == SSP_OK) {
        ssp_mpw_map(out, 2);
        ssp_mpw_cstr(out, "records");
        ssp_mpw_array(out, pc.count);
        ssp_mpw_raw(out, SSP_BUF_SLICE(&items));
        ssp_mpw_cstr(out, "more");
        ssp_mpw_bool(out, more);
    }
    ssp_wipe(pc.pid, sizeof pc.pid);
    if (items.p != NULL)
        ssp_wipe(items.p, items.cap);
    ssp_buf_fini(&items);
    return rc;
}
