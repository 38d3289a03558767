#include "node/audit.h"

#include <stdlib.h>
#include <string.h>

#include "proto/mp.h"

#define HEAD_PREFIX "audit:"
#define HEAD_LEN (8 + SSP_HASH_LEN)

static const char *const chain_fields[] = {"seq",     "prev",    "user",        "action",
                                           "purpose", "records", "legal_basis", "consent"};
/* The fields of a change's entry that say on what basis it was made (values of concern's). */
static const char *const basis_fields[] = {"legal_basis", "consent"};

void
ssp_audit_set_init(struct ssp_audit_set *s)
{
    *s = (struct ssp_audit_set){NULL, 0, 0};
}

void
ssp_audit_set_clear(struct ssp_audit_set *s)
{
    for (size_t i = 0; i < s->n; i++)
        s->g[i].n = 0;
    s->n = 0;
}

void
ssp_audit_set_fini(struct ssp_audit_set *s)
{
    /* Groups beyond n keep their id arrays for reuse: free up to cap. */
    for (size_t i = 0; i < s->cap; i++)
        ssp_free(s->g[i].ids);
    ssp_free(s->g);
    ssp_audit_set_init(s);
}

/* The last group of (scope, action), or NULL. */
static struct ssp_audit_group *
last_group(struct ssp_audit_set *s, struct ssp_slice scope, const char *action)
{
    for (size_t i = s->n; i-- > 0;)
        if (s->g[i].action == action && ssp_slice_eq_str(scope, s->g[i].scope))
            return &s->g[i];
    return NULL;
}

static ssp_err
new_group(struct ssp_audit_set *s, struct ssp_slice scope, const char *action,
          struct ssp_audit_group **out)
{
    if (scope.n > SSP_SCOPE_MAX)
        return SSP_ERR_INVAL;
    if (s->n == s->cap) {
        size_t cap = s->cap == 0 ? 4 : 2 * s->cap;
        struct ssp_audit_group *p = ssp_realloc(s->g, cap * sizeof *p);
        if (p == NULL)
            return SSP_ERR_NOMEM;
        memset(p + s->cap, 0, (cap - s->cap) * sizeof *p);
        s->g = p;
        s->cap = cap;
    }
    struct ssp_audit_group *g = &s->g[s->n++];
    memcpy(g->scope, scope.p, scope.n);
    g->scope[scope.n] = '\0';
    g->action = action;
    g->n = 0;
    g->bases = g->consents = 0;
    *out = g;
    return SSP_OK;
}

/*
 * An id already in the last entry of its (scope, action) is not added again;
 * ids read or written in turn (the usual case) are caught so, at no cost
 * for a large batch.
 */
ssp_err
ssp_audit_set_add(struct ssp_audit_set *s, struct ssp_slice scope, const char *action,
                  const uint8_t *id)
{
    struct ssp_audit_group *g = last_group(s, scope, action);
    ssp_err rc = SSP_OK;
    for (size_t i = 0; g != NULL && id != NULL && i < g->n; i++)
        if (memcmp(g->ids[i], id, SSP_RECORD_ID_LEN) == 0)
            return SSP_OK;
    if (g == NULL || (id != NULL && g->n == SSP_AUDIT_IDS_MAX))
        rc = new_group(s, scope, action, &g);
    if (rc != SSP_OK || id == NULL)
        return rc;
    if (g->n == g->cap) {
        size_t cap = g->cap == 0 ? 16 : 2 * g->cap;
        uint8_t(*p)[SSP_RECORD_ID_LEN] = ssp_realloc(g->ids, cap * sizeof *p);
        if (p == NULL)
            return SSP_ERR_NOMEM;
        g->ids = p;
        g->cap = cap;
    }
    memcpy(g->ids[g->n++], id, SSP_RECORD_ID_LEN);
    return SSP_OK;
}

/* The allowed values of basis field i (of the concern type, which case shares). */
static const char *const *
basis_values(size_t i)
{
    const struct ssp_type_def *t = ssp_schema_find(SSP_SLICE("concern", 7));
    for (size_t f = 0; t != NULL && f < t->nfields; f++)
        if (strcmp(t->fields[f].name, basis_fields[i]) == 0)
            return t->fields[f].values;
    return NULL;
}

void
ssp_audit_set_basis(struct ssp_audit_set *s, const struct ssp_record *r, const char *action)
{
    struct ssp_audit_group *g = last_group(s, SSP_SLICE(r->scope, strlen(r->scope)), action);
    for (size_t i = 0; g != NULL && i < sizeof basis_fields / sizeof basis_fields[0]; i++) {
        const struct ssp_rec_field *f =
            ssp_record_field(r, SSP_SLICE(basis_fields[i], strlen(basis_fields[i])));
        const char *const *values = basis_values(i);
        struct ssp_slice v;
        struct ssp_mp c;
        if (f == NULL || values == NULL)
            continue;
        ssp_mp_init(&c, f->value);
        if (ssp_mp_str(&c, &v) != SSP_OK)
            continue;
        for (uint32_t k = 0; values[k] != NULL && k < 32; k++)
            if (ssp_slice_eq_str(v, values[k]))
                *(i == 0 ? &g->bases : &g->consents) |= 1u << k;
    }
}

bool
ssp_audit_about_person(const struct ssp_record *r)
{
    const struct ssp_type_def *t = ssp_schema_find(SSP_SLICE(r->type, strlen(r->type)));
    if (t == NULL)
        return false;
    if (t->person_data)
        return true;
    /* An activity of a case tells what was done with a young person. */
    return strcmp(t->name, "activity") == 0 && ssp_record_field(r, SSP_SLICE("case", 4)) != NULL;
}

ssp_err
ssp_audit_set_add_read(struct ssp_audit_set *s, const struct ssp_record *r, const char *action)
{
    if (!ssp_audit_about_person(r))
        return SSP_OK;
    return ssp_audit_set_add(s, SSP_SLICE(r->scope, strlen(r->scope)), action, r->id);
}

static void
hex_of(const uint8_t h[SSP_HASH_LEN], char out[2 * SSP_HASH_LEN])
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < SSP_HASH_LEN; i++) {
        out[2 * i] = hex[h[i] >> 4];
        out[2 * i + 1] = hex[h[i] & 15];
    }
}

bool
ssp_audit_prev_parse(struct ssp_slice hex, uint8_t out[SSP_HASH_LEN])
{
    memset(out, 0, SSP_HASH_LEN);
    if (hex.n != 2 * (size_t)SSP_HASH_LEN)
        return false;
    for (size_t i = 0; i < hex.n; i++) {
        uint8_t c = hex.p[i];
        int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (v < 0) {
            memset(out, 0, SSP_HASH_LEN);
            return false;
        }
        out[i / 2] = (uint8_t)(out[i / 2] | (v << (i % 2 == 0 ? 4 : 0)));
    }
    return true;
}

ssp_err
ssp_audit_fields(const struct ssp_audit_group *g, struct ssp_slice user, struct ssp_slice purpose,
                 uint64_t seq, const uint8_t prev[SSP_HASH_LEN], struct ssp_buf *out)
{
    char hex[2 * SSP_HASH_LEN];
    struct ssp_mpw w;
    out->n = 0;
    hex_of(prev, hex);
    ssp_mpw_init(&w, out);
    uint32_t bits[] = {g->bases, g->consents};
    ssp_mpw_map(&w, 5u + (purpose.n > 0 ? 1u : 0u) + (bits[0] != 0 ? 1u : 0u) +
                        (bits[1] != 0 ? 1u : 0u));
    for (size_t i = 0; i < sizeof bits / sizeof bits[0]; i++) {
        const char *const *values = basis_values(i);
        if (bits[i] == 0 || values == NULL)
            continue;
        ssp_mpw_cstr(&w, basis_fields[i]);
        ssp_mpw_array(&w, (uint32_t)__builtin_popcount(bits[i]));
        for (uint32_t k = 0; values[k] != NULL && k < 32; k++)
            if (bits[i] & (1u << k))
                ssp_mpw_cstr(&w, values[k]);
    }
    ssp_mpw_cstr(&w, "user");
    ssp_mpw_str(&w, user.p, user.n);
    ssp_mpw_cstr(&w, "action");
    ssp_mpw_cstr(&w, g->action);
    ssp_mpw_cstr(&w, "records");
    ssp_mpw_array(&w, (uint32_t)g->n);
    for (size_t i = 0; i < g->n; i++)
        ssp_record_id_write(&w, g->ids[i]);
    if (purpose.n > 0) {
        ssp_mpw_cstr(&w, "purpose");
        ssp_mpw_str(&w, purpose.p, purpose.n);
    }
    ssp_mpw_cstr(&w, "seq");
    ssp_mpw_uint(&w, seq);
    ssp_mpw_cstr(&w, "prev");
    ssp_mpw_str(&w, hex, sizeof hex);
    return w.err;
}

void
ssp_audit_hash(const uint8_t node[SSP_PK_LEN], const struct ssp_record *r,
               uint8_t out[SSP_HASH_LEN])
{
    static const uint8_t nil = 0xc0;
    static const char context[] = "ssp-audit-1";
    size_t nscope = strlen(r->scope);
    uint8_t len = (uint8_t)nscope;
    struct ssp_hasher h;
    ssp_hasher_init(&h);
    ssp_hasher_update(&h, SSP_SLICE(context, sizeof context - 1));
    ssp_hasher_update(&h, SSP_SLICE(node, SSP_PK_LEN));
    ssp_hasher_update(&h, SSP_SLICE(&len, 1));
    ssp_hasher_update(&h, SSP_SLICE(r->scope, nscope));
    for (size_t i = 0; i < sizeof chain_fields / sizeof chain_fields[0]; i++) {
        const struct ssp_rec_field *f =
            ssp_record_field(r, SSP_SLICE(chain_fields[i], strlen(chain_fields[i])));
        ssp_hasher_update(&h, f != NULL ? f->value : SSP_SLICE(&nil, 1));
    }
    ssp_hasher_final(&h, out);
}

static size_t
head_key(struct ssp_slice scope, uint8_t k[sizeof HEAD_PREFIX + SSP_SCOPE_MAX])
{
    size_t n = scope.n > SSP_SCOPE_MAX ? SSP_SCOPE_MAX : scope.n;
    memcpy(k, HEAD_PREFIX, sizeof HEAD_PREFIX - 1);
    memcpy(k + sizeof HEAD_PREFIX - 1, scope.p, n);
    return sizeof HEAD_PREFIX - 1 + n;
}

ssp_err
ssp_audit_head_get(struct ssp_txn *t, struct ssp_slice scope, uint64_t *seq,
                   uint8_t hash[SSP_HASH_LEN])
{
    uint8_t k[sizeof HEAD_PREFIX + SSP_SCOPE_MAX];
    struct ssp_slice v;
    *seq = 0;
    memset(hash, 0, SSP_HASH_LEN);
    ssp_err rc = ssp_txn_get(t, SSP_DB_META, SSP_SLICE(k, head_key(scope, k)), &v);
    if (rc == SSP_ERR_NOTFOUND)
        return SSP_OK;
    if (rc != SSP_OK)
        return rc;
    if (v.n != HEAD_LEN)
        return SSP_ERR_CORRUPT;
    *seq = ssp_get_be64(v.p);
    memcpy(hash, v.p + 8, SSP_HASH_LEN);
    return SSP_OK;
}

ssp_err
ssp_audit_head_put(struct ssp_txn *t, struct ssp_slice scope, uint64_t seq,
                   const uint8_t hash[SSP_HASH_LEN])
{
    uint8_t k[sizeof HEAD_PREFIX + SSP_SCOPE_MAX], v[HEAD_LEN];
    ssp_put_be64(v, seq);
    memcpy(v + 8, hash, SSP_HASH_LEN);
    return ssp_txn_put(t, SSP_DB_META, SSP_SLICE(k, head_key(scope, k)), SSP_SLICE(v, sizeof v));
}

/* ---- checking chains ---- */

static int
link_cmp(const void *va, const void *vb)
{
    const struct ssp_audit_link *a = va, *b = vb;
    int c = memcmp(a->node, b->node, SSP_PK_LEN);
    if (c == 0)
        c = strcmp(a->scope, b->scope);
    if (c == 0)
        c = a->seq < b->seq ? -1 : a->seq > b->seq;
    if (c == 0)
        c = memcmp(a->id, b->id, SSP_RECORD_ID_LEN);
    return c;
}

static bool
same_chain(const struct ssp_audit_link *a, const struct ssp_audit_link *b)
{
    return memcmp(a->node, b->node, SSP_PK_LEN) == 0 && strcmp(a->scope, b->scope) == 0;
}

/* This node's head of the chain last belongs to, or NULL. */
static const struct ssp_audit_link *
head_of(const struct ssp_audit_link *last, const uint8_t self[SSP_PK_LEN],
        const struct ssp_audit_link *heads, size_t nheads)
{
    if (memcmp(last->node, self, SSP_PK_LEN) != 0)
        return NULL;
    for (size_t i = 0; i < nheads; i++)
        if (strcmp(heads[i].scope, last->scope) == 0)
            return &heads[i];
    return NULL;
}

/* Checks the end of a chain of this node against the head its meta keeps. */
static void
check_head(const struct ssp_audit_link *last, const struct ssp_audit_link *head,
           ssp_audit_break_fn fn, void *arg)
{
    if (head->seq > last->seq)
        fn(arg, last, SSP_AUDIT_REMOVED, head->seq - last->seq);
    else if (head->seq == last->seq && memcmp(head->hash, last->hash, SSP_HASH_LEN) != 0)
        fn(arg, last, SSP_AUDIT_ALTERED, 0);
    else if (head->seq < last->seq)
        fn(arg, last, SSP_AUDIT_INSERTED, 0);
}

size_t
ssp_audit_check(struct ssp_audit_link *links, size_t n, const uint8_t self[SSP_PK_LEN],
                const struct ssp_audit_link *heads, size_t nheads, ssp_audit_break_fn fn, void *arg)
{
    static const uint8_t zeros[SSP_HASH_LEN];
    size_t chains = 0;
    if (n > 0)
        qsort(links, n, sizeof *links, link_cmp);
    for (size_t i = 0; i < n; i++) {
        const struct ssp_audit_link *l = &links[i];
        const struct ssp_audit_link *before = i > 0 && same_chain(&links[i - 1], l) ? l - 1 : NULL;
        uint64_t want = before != NULL ? before->seq + 1 : 1;
        if (before == NULL)
            chains++;
        if (before != NULL && l->seq == before->seq)
            fn(arg, l, SSP_AUDIT_INSERTED, 0);
        else if (l->seq > want)
            fn(arg, l, SSP_AUDIT_REMOVED, l->seq - want);
        else if (before != NULL && memcmp(l->prev, before->hash, SSP_HASH_LEN) != 0)
            fn(arg, before, SSP_AUDIT_ALTERED, 0);
        else if (before == NULL && memcmp(l->prev, zeros, SSP_HASH_LEN) != 0)
            fn(arg, l, SSP_AUDIT_ALTERED, 0);
        bool last = i + 1 == n || !same_chain(&links[i + 1], l);
        const struct ssp_audit_link *head = last ? head_of(l, self, heads, nheads) : NULL;
        if (head != NULL)
            check_head(l, head, fn, arg);
    }
    /* A scope whose head says entries exist where none are left: all removed. */
    for (size_t h = 0; h < nheads; h++) {
        bool found = false;
        for (size_t i = 0; i < n && !found; i++)
            found = memcmp(links[i].node, self, SSP_PK_LEN) == 0 &&
                    strcmp(links[i].scope, heads[h].scope) == 0;
        if (!found && heads[h].seq > 0) {
            fn(arg, &heads[h], SSP_AUDIT_REMOVED, heads[h].seq);
            chains++;
        }
    }
    return chains;
}
