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
/* The possible duplicates an added person is shown. */
#define TWINS_MAX 10
/* The pid key is the network key of the first epoch: a rotation must not change every pid. */
#define PID_KEY_EPOCH 1

struct person_ctx {
    struct ssp_ops_ctx *ops;
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

bool
ssp_ops_field_int(const struct ssp_record *r, const char *name, int64_t *i)
{
    const struct ssp_rec_field *v = ssp_record_field(r, SSP_SLICE(name, strlen(name)));
    struct ssp_mp c;
    if (v == NULL)
        return false;
    ssp_mp_init(&c, v->value);
    return ssp_mp_int(&c, i) == SSP_OK;
}

/* Writes person r as {id, scope, alias, birth_year} and, if match is not NULL, how it matched. */
static void
write_person(struct ssp_mpw *w, const struct ssp_record *r, const char *match)
{
    struct ssp_slice alias = {NULL, 0};
    int64_t year = 0;
    bool has_year = ssp_ops_field_int(r, "birth_year", &year);
    (void)ssp_ops_field_str(r, "alias", &alias);
    ssp_mpw_map(w, match != NULL ? 5 : 4);
    ssp_mpw_cstr(w, "id");
    ssp_record_id_write(w, r->id);
    ssp_mpw_cstr(w, "scope");
    ssp_mpw_cstr(w, r->scope);
    ssp_mpw_cstr(w, "alias");
    ssp_mpw_str(w, alias.p, alias.n);
    ssp_mpw_cstr(w, "birth_year");
    if (has_year)
        ssp_mpw_int(w, year);
    else
        ssp_mpw_nil(w);
    if (match != NULL) {
        ssp_mpw_cstr(w, "match");
        ssp_mpw_cstr(w, match);
    }
}

static ssp_err
person_one(void *vctx, const struct ssp_record *r, bool *taken)
{
    struct person_ctx *pc = vctx;
    struct ssp_slice alias, pid;
    int64_t year = 0;
    *taken = (pc->alias.n == 0 ||
              (ssp_ops_field_str(r, "alias", &alias) && starts_folded(alias, pc->alias))) &&
             (!pc->has_year || (ssp_ops_field_int(r, "birth_year", &year) && year == pc->year)) &&
             (!pc->has_pid || (ssp_ops_field_str(r, "pid", &pid) && pid.n == SSP_PID_HEX_LEN &&
                               ssp_equal_ct(pid.p, pc->pid, SSP_PID_HEX_LEN)));
    if (*taken) {
        write_person(pc->w, r, NULL);
        pc->count++;
    }
    return pc->w->err == SSP_OK && *taken ? ssp_ops_read(pc->ops, r) : pc->w->err;
}

/*
 * Who a new person probably is already: another person with the same pid,
 * or with the same alias (letters in any case) and the same birth year, or
 * no birth year on one side.
 */
struct twin_ctx {
    struct ssp_ops_ctx *ops;
    const struct ssp_record *added;
    struct ssp_mpw *w;
    uint32_t count;
};

static ssp_err
twin_one(void *vctx, const struct ssp_record *r, bool *taken)
{
    struct twin_ctx *tc = vctx;
    const struct ssp_record *a = tc->added;
    struct ssp_slice x, y;
    int64_t xy = 0, yy = 0;
    const char *match = NULL;
    if (memcmp(r->id, a->id, SSP_RECORD_ID_LEN) == 0)
        return SSP_OK;
    if (ssp_ops_field_str(a, "pid", &x) && ssp_ops_field_str(r, "pid", &y) && x.n == y.n &&
        ssp_equal_ct(x.p, y.p, x.n))
        match = "national id";
    else if (ssp_ops_field_str(a, "alias", &x) && ssp_ops_field_str(r, "alias", &y) && x.n == y.n &&
             starts_folded(x, y) &&
             (!ssp_ops_field_int(a, "birth_year", &xy) ||
              !ssp_ops_field_int(r, "birth_year", &yy) || xy == yy))
        match = "alias and birth year";
    *taken = match != NULL;
    if (*taken) {
        write_person(tc->w, r, match);
        tc->count++;
    }
    /* The answer shows the match: a lookup of that person, whatever the op. */
    if (*taken && tc->w->err == SSP_OK)
        return ssp_audit_set_add_read(&tc->ops->reads, r, "person_find");
    return tc->w->err;
}

ssp_err
ssp_ops_add_person(struct ssp_ops_ctx *ctx, const struct ssp_write *w, struct ssp_mpw *out,
                   struct ssp_diag *d)
{
    uint8_t id[1][SSP_RECORD_ID_LEN], next[SSP_RECORD_ID_LEN];
    struct ssp_record added;
    struct ssp_buf twins;
    struct ssp_mpw tw;
    struct twin_ctx tc = {.ops = ctx, .added = &added, .w = &tw};
    bool more = false;
    size_t failed;
    ssp_record_init(&added);
    ssp_buf_init(&twins);
    ssp_mpw_init(&tw, &twins);
    ssp_err rc = ssp_node_write(ctx->node, w, 1, id, &failed, d);
    if (rc == SSP_OK)
        rc = ssp_node_get(ctx->node, id[0], &added, d);
    if (rc == SSP_OK)
        rc = ssp_node_list(ctx->node, SSP_SLICE("person", 6), SSP_SLICE(NULL, 0), NULL, TWINS_MAX,
                           twin_one, &tc, &more, next, d);
    if (rc == SSP_OK) {
        struct ssp_buf all;
        struct ssp_mpw aw;
        ssp_buf_init(&all);
        ssp_mpw_init(&aw, &all);
        ssp_mpw_cstr(&aw, "possible_duplicates");
        ssp_mpw_array(&aw, tc.count);
        ssp_mpw_raw(&aw, SSP_BUF_SLICE(&twins));
        rc = aw.err != SSP_OK ? ssp_diag_set(d, aw.err, "out of memory")
                              : ssp_ops_result_record(ctx, id[0], SSP_BUF_SLICE(&all), 1, out, d);
        ssp_buf_fini(&all);
    }
    ssp_buf_fini(&twins);
    ssp_record_fini(&added);
    return rc;
}

ssp_err
ssp_op_person_find(struct ssp_ops_ctx *ctx, struct ssp_slice params, struct ssp_mpw *out,
                   struct ssp_diag *d)
{
    struct person_ctx pc = {.ops = ctx};
    struct ssp_slice scope = {NULL, 0}, nid = {NULL, 0};
    uint64_t limit = PERSON_PAGE_MAX;
    int64_t year = INT64_MIN;
    const struct ssp_mp_key table[] = {
        {"alias", SSP_AS_STR, false, &pc.alias},  {"birth_year", SSP_AS_INT, false, &year},
        {"national_id", SSP_AS_STR, false, &nid}, {"scope", SSP_AS_STR, false, &scope},
        {"limit", SSP_AS_UINT, false, &limit},    PURPOSE(ctx),
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
