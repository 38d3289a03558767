/*
 * The state hash of a scope: one BLAKE2b-256 that two nodes compare to learn
 * whether they hold the same records with the same values. Loop thread only.
 *
 *   hash = BLAKE2b-256("ssp-state-v1" || len(scope) (u8) || scope || rec ...)
 *   rec  = array(4) [ id: bin(16), deleted: bool,
 *                     fields:    [[name: str, value] ...],
 *                     conflicts: [[name: str, value, version] ...] ]   (msgpack)
 *   version = [hlc, origin: bin(32), seq, op], as in op bodies
 *
 * with a rec for every record of the scope, in id order (the records
 * database's key order), deleted ones too. fields holds the present fields
 * (a removed field, nil, is left out, as results leave it out) sorted by
 * name; conflicts holds the kept values sorted by name then version, and a
 * delete that lost to an update as ["", nil, the delete's version]. Names
 * sort as bytes, shorter first on a tie. Values are the encoded bytes the
 * ops carried, which every node keeps as they came.
 *
 * Each part is a function of the set of ops applied (the merge rule in
 * record.h), and its order is fixed here rather than taken from the record,
 * whose field order follows arrival. So the same ops give the same hash in
 * any order of arrival, duplication or relaying.
 *
 * Left out on purpose:
 * - the ops list. It is canonical (kept sorted), but it says which ops a
 *   node holds, which the frontier already compares; the hash answers what
 *   people see, and two nodes that show the same values should agree even
 *   when one holds an op the other has not needed yet.
 * - pending bases. They are a set whose stored order follows arrival, and
 *   they describe ops that have not arrived, which again the frontier covers.
 * - whether each winner was named, and whether a delete was settled. These
 *   matter only through what they decide, which is in the hash already:
 *   the deleted flag and the conflicts.
 */
#include <stdlib.h>
#include <string.h>

#include "node/node.h"

static const char state_ctx[] = "ssp-state-v1";

/* Hash input is gathered up to this size between calls into the hasher. */
#define FEED_BYTES ((size_t)64 * 1024)

static int
name_cmp(struct ssp_slice a, struct ssp_slice b)
{
    size_t n = a.n < b.n ? a.n : b.n;
    int c = n > 0 ? memcmp(a.p, b.p, n) : 0;
    if (c != 0)
        return c;
    return a.n < b.n ? -1 : a.n > b.n;
}

static int
field_cmp(const void *a, const void *b)
{
    const struct ssp_rec_field *fa = *(const struct ssp_rec_field *const *)a;
    const struct ssp_rec_field *fb = *(const struct ssp_rec_field *const *)b;
    return name_cmp(fa->name, fb->name);
}

static int
conflict_cmp(const void *a, const void *b)
{
    const struct ssp_rec_conflict *ca = *(const struct ssp_rec_conflict *const *)a;
    const struct ssp_rec_conflict *cb = *(const struct ssp_rec_conflict *const *)b;
    int c = name_cmp(ca->name, cb->name);
    return c != 0 ? c : ssp_version_cmp(&ca->ver, &cb->ver);
}

static bool
is_nil(struct ssp_slice value)
{
    return value.n == 1 && value.p[0] == 0xc0;
}

static void
write_version(struct ssp_mpw *w, const struct ssp_version *v)
{
    ssp_mpw_array(w, 4);
    ssp_mpw_uint(w, v->hlc);
    ssp_mpw_bin(w, v->origin, SSP_PK_LEN);
    ssp_mpw_uint(w, v->seq);
    ssp_mpw_uint(w, v->op);
}

/* What hashing a scope needs between records: the hasher, the input gathered, sort space. */
struct state {
    struct ssp_hasher h;
    struct ssp_buf feed;
    const void **sorted;
    size_t cap;
};

static ssp_err
sort_space(struct state *st, size_t n)
{
    if (n <= st->cap)
        return SSP_OK;
    const void **p = ssp_realloc(st->sorted, n * sizeof *p);
    if (p == NULL)
        return SSP_ERR_NOMEM;
    st->sorted = p;
    st->cap = n;
    return SSP_OK;
}

/* Appends r's rec (the layout above) to the hash input. */
static ssp_err
add_record(struct state *st, const struct ssp_record *r)
{
    static const uint8_t nil = 0xc0;
    struct ssp_mpw w;
    bool lost = ssp_record_lost_delete(r);
    uint32_t present = 0;
    size_t most = r->nfields > r->nconflicts ? r->nfields : r->nconflicts;
    ssp_err rc = sort_space(st, most);
    if (rc != SSP_OK)
        return rc;
    ssp_mpw_init(&w, &st->feed);
    ssp_mpw_array(&w, 4);
    ssp_mpw_bin(&w, r->id, SSP_RECORD_ID_LEN);
    ssp_mpw_bool(&w, r->deleted);
    for (uint32_t i = 0; i < r->nfields; i++)
        if (!is_nil(r->fields[i].value))
            st->sorted[present++] = &r->fields[i];
    qsort(st->sorted, present, sizeof *st->sorted, field_cmp);
    ssp_mpw_array(&w, present);
    for (uint32_t i = 0; i < present; i++) {
        const struct ssp_rec_field *f = st->sorted[i];
        ssp_mpw_array(&w, 2);
        ssp_mpw_str(&w, f->name.p, f->name.n);
        ssp_mpw_raw(&w, f->value);
    }
    for (uint32_t i = 0; i < r->nconflicts; i++)
        st->sorted[i] = &r->conflicts[i];
    qsort(st->sorted, r->nconflicts, sizeof *st->sorted, conflict_cmp);
    /* The lost delete's name, "", sorts before every field's. */
    ssp_mpw_array(&w, (size_t)r->nconflicts + lost);
    if (lost) {
        ssp_mpw_array(&w, 3);
        ssp_mpw_str(&w, "", 0);
        ssp_mpw_raw(&w, SSP_SLICE(&nil, 1));
        write_version(&w, &r->del_ver);
    }
    for (uint32_t i = 0; i < r->nconflicts; i++) {
        const struct ssp_rec_conflict *c = st->sorted[i];
        ssp_mpw_array(&w, 3);
        ssp_mpw_str(&w, c->name.p, c->name.n);
        ssp_mpw_raw(&w, c->value);
        write_version(&w, &c->ver);
    }
    if (w.err == SSP_OK && st->feed.n >= FEED_BYTES) {
        ssp_hasher_update(&st->h, SSP_BUF_SLICE(&st->feed));
        st->feed.n = 0;
    }
    return w.err;
}

/* Hashes the records of scope, read in t, into st; *records counts them. */
static ssp_err
hash_records(struct ssp_node *n, struct ssp_txn *t, struct ssp_slice scope, struct state *st,
             uint64_t *records, struct ssp_diag *d)
{
    struct ssp_cursor *cur = NULL;
    struct ssp_record r;
    struct ssp_slice k, v, rscope, rtype;
    char idtext[SSP_RECORD_ID_TEXT + 1];
    bool deleted;
    ssp_record_init(&r);
    ssp_err rc = ssp_cursor_open(t, SSP_DB_RECORDS, &cur);
    if (rc == SSP_OK)
        rc = ssp_cursor_seek(cur, SSP_SLICE(NULL, 0), &k, &v);
    for (; rc == SSP_OK; rc = ssp_cursor_next(cur, &k, &v)) {
        if (k.n != SSP_RECORD_ID_LEN || ssp_record_peek(v, &rscope, &rtype, &deleted) != SSP_OK) {
            rc = ssp_diag_set(d, SSP_ERR_CORRUPT, "a stored record is malformed; run 'ssp verify'");
            break;
        }
        if (!ssp_slice_eq(rscope, scope))
            continue;
        rc = ssp_record_open(v, k.p, n->kr, &r);
        if (rc != SSP_OK) {
            ssp_record_id_format(k.p, idtext);
            rc = ssp_diag_set(d, rc,
                              "record %s cannot be read (%s); run 'ssp verify' and restore from a "
                              "peer or a backup",
                              idtext, ssp_strerror(rc));
            break;
        }
        rc = add_record(st, &r);
        if (rc != SSP_OK)
            break;
        (*records)++;
    }
    if (rc == SSP_ERR_NOTFOUND)
        rc = SSP_OK;
    ssp_cursor_close(cur);
    ssp_record_fini(&r);
    return rc;
}

ssp_err
ssp_node_state_hash(struct ssp_node *n, struct ssp_slice scope, uint8_t out[SSP_HASH_LEN],
                    uint64_t *records, struct ssp_diag *d)
{
    struct ssp_txn *t = NULL;
    struct state st = {.sorted = NULL, .cap = 0};
    uint8_t slen = (uint8_t)scope.n;
    *records = 0;
    if (!ssp_scope_name_valid(scope))
        return ssp_diag_set(d, SSP_ERR_INVAL,
                            "not a scope to hash; scopes are 1-48 of a-z 0-9 - _");
    if (ssp_keyring_scope(n->kr, scope) == NULL)
        return ssp_diag_set(d, SSP_ERR_DENIED,
                            "this node holds no key for scope '%.*s'; see 'ssp status' for its "
                            "scopes",
                            (int)scope.n, (const char *)scope.p);
    ssp_hasher_init(&st.h);
    ssp_hasher_update(&st.h, SSP_SLICE(state_ctx, sizeof state_ctx - 1));
    ssp_hasher_update(&st.h, SSP_SLICE(&slen, 1));
    ssp_hasher_update(&st.h, scope);
    ssp_buf_init(&st.feed);
    ssp_err rc = ssp_store_read(n->store, &t);
    if (rc == SSP_OK)
        rc = hash_records(n, t, scope, &st, records, d);
    ssp_txn_abort(t);
    if (rc == SSP_OK)
        ssp_hasher_update(&st.h, SSP_BUF_SLICE(&st.feed));
    ssp_hasher_final(&st.h, out);
    /* The input held record values in clear. */
    if (st.feed.p != NULL)
        ssp_wipe(st.feed.p, st.feed.cap);
    ssp_buf_fini(&st.feed);
    ssp_free(st.sorted);
    if (rc != SSP_OK) {
        memset(out, 0, SSP_HASH_LEN);
        ssp_diag_set(d, rc, "cannot hash scope %.*s: %s", (int)scope.n, (const char *)scope.p,
                     ssp_strerror(rc));
    }
    return rc;
}
