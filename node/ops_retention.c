/*
 * Retention: `retention_rules`, `retention_list`, `retention_hold` and
 * `retention_run` (PROTOCOL.md). The rules are in node/domain/retention.c,
 * their values in the node's config.
 *
 * A record is due when its own rule has expired, or when the record it
 * belongs to is due: a plan goes with its case, a note with what it is about,
 * a concern or case with its person. A live hold on a record keeps it, and
 * keeps what it belongs to (a held case keeps its person), so no kept record
 * is left pointing at a purged one. The records are read as `list` reads
 * them, in memory; only ids, types, scopes and dates are kept while it runs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/crypto/crypto.h"
#include "node/domain/retention.h"
#include "node/domain/schema.h"
#include "node/node.h"
#include "node/ops_int.h"

/* The rows `retention_list` returns at most; the count says how many there are. */
#define LIST_MAX 5000
#define REASON_SHOWN 120
/* Rounds of retention_run: a person purged with its last concern takes two. */
#define RUN_ROUNDS 4

/* The types retention reads, and the ref that ties each to what it belongs to. */
static const struct {
    const char *type, *owner;
} kinds[] = {
    {"concern", "person"}, {"case", "person"}, {"person", NULL},   {"plan", "case"},
    {"note", "about"},     {"meeting", NULL},  {"incident", NULL}, {"escalation", "person"},
};

enum { UNKNOWN, VISITING, DUE, NOT_DUE };

struct item {
    uint8_t id[SSP_RECORD_ID_LEN], owner[SSP_RECORD_ID_LEN];
    bool has_owner, held, keep;
    uint8_t state;
    int rule;                       /* its own expired rule, or -1 */
    char expires[SSP_DATE_LEN + 1]; /* by its own rule; "" if never */
    char due_on[SSP_DATE_LEN + 1];  /* when it became due */
    size_t via;                     /* the item it follows, or SIZE_MAX */
    size_t hold;                    /* the hold that keeps it, or SIZE_MAX */
    const char *type;               /* a kinds[] string */
    char scope[SSP_SCOPE_MAX + 1];
};

struct hold {
    uint8_t id[SSP_RECORD_ID_LEN], record[SSP_RECORD_ID_LEN];
    char until[SSP_DATE_LEN + 1];
    char reason[REASON_SHOWN + 1];
};

struct scan {
    const struct ssp_config *cfg;
    char today[SSP_DATE_LEN + 1];
    struct item *items;
    size_t n, cap;
    struct hold *holds;
    size_t nholds, capholds;
    uint8_t (*named)[SSP_RECORD_ID_LEN]; /* persons a live concern or case is about */
    size_t nnamed, capnamed;
    const char *type, *owner; /* the kind being read */
    struct ssp_buf fields;
    ssp_err err;
};

static int
cmp_id(const void *a, const void *b)
{
    return memcmp(a, b, SSP_RECORD_ID_LEN);
}

/* Grows *p (of *cap elements of size) to hold one more; false when out of memory. */
static bool
grow(void **p, size_t n, size_t *cap, size_t size)
{
    if (n < *cap)
        return true;
    size_t ncap = *cap == 0 ? 256 : *cap * 2;
    void *q = ssp_realloc(*p, ncap * size);
    if (q == NULL)
        return false;
    *p = q;
    *cap = ncap;
    return true;
}

static bool
str_field(struct ssp_slice fields, const char *name, struct ssp_slice *s)
{
    struct ssp_mp c;
    ssp_mp_init(&c, ssp_mp_map_get(fields, SSP_SLICE_STR(name)));
    return ssp_mp_str(&c, s) == SSP_OK;
}

static bool
ref_field(struct ssp_slice fields, const char *name, uint8_t id[SSP_RECORD_ID_LEN])
{
    struct ssp_slice s;
    return str_field(fields, name, &s) && ssp_record_id_parse(s, id) == SSP_OK;
}

static bool
is_named(const struct scan *sc, const uint8_t id[SSP_RECORD_ID_LEN])
{
    return sc->nnamed > 0 && bsearch(id, sc->named, sc->nnamed, SSP_RECORD_ID_LEN, cmp_id) != NULL;
}

/* Its own rule: the earliest expiry of the rules of its type that cover it. */
static void
own_rule(const struct scan *sc, struct item *it, struct ssp_slice fields,
         const char changed[SSP_DATE_LEN + 1])
{
    char when[SSP_DATE_LEN + 1];
    it->rule = -1;
    it->expires[0] = '\0';
    for (size_t i = 0; i < ssp_retention_nrules; i++) {
        const struct ssp_retention_rule *r = &ssp_retention_rules[i];
        if (strcmp(r->type, it->type) != 0 ||
            !ssp_retention_covers(r, fields, is_named(sc, it->id)) ||
            !ssp_retention_expires(r, sc->cfg->retention[i], fields, changed, when))
            continue;
        if (it->rule < 0 || strcmp(when, it->expires) < 0) {
            it->rule = (int)i;
            memcpy(it->expires, when, sizeof when);
        }
    }
}

static ssp_err
read_hold(struct scan *sc, const struct ssp_record *r, struct ssp_slice fields)
{
    struct ssp_slice s;
    if (!grow((void **)&sc->holds, sc->nholds, &sc->capholds, sizeof *sc->holds))
        return SSP_ERR_NOMEM;
    struct hold *h = &sc->holds[sc->nholds];
    memset(h, 0, sizeof *h);
    memcpy(h->id, r->id, SSP_RECORD_ID_LEN);
    if (!ref_field(fields, "record", h->record))
        return SSP_OK;
    if (str_field(fields, "until", &s) && s.n == SSP_DATE_LEN) {
        memcpy(h->until, s.p, SSP_DATE_LEN);
        /* A hold that ended keeps nothing. */
        if (strcmp(h->until, sc->today) < 0)
            return SSP_OK;
    }
    if (str_field(fields, "reason", &s)) {
        size_t n = s.n < REASON_SHOWN ? s.n : REASON_SHOWN;
        memcpy(h->reason, s.p, n);
    }
    sc->nholds++;
    return SSP_OK;
}

static ssp_err
read_one(void *vctx, const struct ssp_record *r, bool *taken)
{
    struct scan *sc = vctx;
    char changed[SSP_TIME_TEXT];
    *taken = false;
    sc->fields.n = 0;
    ssp_err rc = ssp_record_fields_map(r, &sc->fields);
    if (rc != SSP_OK)
        return rc;
    struct ssp_slice fields = SSP_BUF_SLICE(&sc->fields);
    if (strcmp(sc->type, "hold") == 0)
        return read_hold(sc, r, fields);
    if (!grow((void **)&sc->items, sc->n, &sc->cap, sizeof *sc->items))
        return SSP_ERR_NOMEM;
    struct item *it = &sc->items[sc->n];
    memset(it, 0, sizeof *it);
    memcpy(it->id, r->id, SSP_RECORD_ID_LEN);
    memcpy(it->scope, r->scope, sizeof it->scope);
    it->type = sc->type;
    it->via = it->hold = SIZE_MAX;
    it->has_owner = sc->owner != NULL && ref_field(fields, sc->owner, it->owner);
    ssp_time_text(ssp_hlc_ms(r->ops[r->nops - 1].hlc), changed);
    changed[SSP_DATE_LEN] = '\0';
    own_rule(sc, it, fields, changed);
    /* The persons live concerns and cases are about: read before the persons. */
    if (it->has_owner && strcmp(sc->owner, "person") == 0 && strcmp(sc->type, "escalation") != 0) {
        if (!grow((void **)&sc->named, sc->nnamed, &sc->capnamed, SSP_RECORD_ID_LEN))
            return SSP_ERR_NOMEM;
        memcpy(sc->named[sc->nnamed++], it->owner, SSP_RECORD_ID_LEN);
    }
    sc->n++;
    return SSP_OK;
}

static struct item *
find_item(struct scan *sc, const uint8_t id[SSP_RECORD_ID_LEN])
{
    return sc->n == 0 ? NULL : bsearch(id, sc->items, sc->n, sizeof *sc->items, cmp_id);
}

/* Whether item i is due: its own rule expired, or what it belongs to is due; since the earlier. */
static bool
due(struct scan *sc, size_t i)
{
    struct item *it = &sc->items[i];
    if (it->state == DUE || it->state == NOT_DUE || it->state == VISITING)
        return it->state == DUE;
    it->state = VISITING; /* a cycle of refs makes nothing due */
    bool own = it->rule >= 0 && strcmp(it->expires, sc->today) <= 0;
    struct item *o = it->has_owner ? find_item(sc, it->owner) : NULL;
    /* What a hold keeps takes nothing with it. */
    bool with = o != NULL && !o->keep && due(sc, (size_t)(o - sc->items));
    if (!own && !with) {
        it->state = NOT_DUE;
        return false;
    }
    /* Due since the earlier of the two. */
    if (with && (!own || strcmp(o->due_on, it->expires) < 0)) {
        it->via = (size_t)(o - sc->items);
        memcpy(it->due_on, o->due_on, sizeof it->due_on);
    } else {
        memcpy(it->due_on, it->expires, sizeof it->due_on);
    }
    it->state = DUE;
    return true;
}

/* Reads every record retention looks at (of scope, or all) and works out what is due. */
static ssp_err
scan_all(struct ssp_ops_ctx *ctx, struct scan *sc, struct ssp_slice scope, struct ssp_diag *d)
{
    uint8_t after[SSP_RECORD_ID_LEN], next[SSP_RECORD_ID_LEN];
    ssp_err rc = SSP_OK;
    sc->cfg = &ctx->node->cfg;
    ssp_node_today(sc->today);
    for (size_t k = 0; k <= sizeof kinds / sizeof kinds[0] && rc == SSP_OK; k++) {
        bool more = true, first = true;
        sc->type = k < sizeof kinds / sizeof kinds[0] ? kinds[k].type : "hold";
        sc->owner = k < sizeof kinds / sizeof kinds[0] ? kinds[k].owner : NULL;
        if (strcmp(sc->type, "person") == 0)
            qsort(sc->named, sc->nnamed, SSP_RECORD_ID_LEN, cmp_id);
        while (rc == SSP_OK && more) {
            rc = ssp_node_list(ctx->node, SSP_SLICE_STR(sc->type), scope, first ? NULL : after,
                               SIZE_MAX, read_one, sc, &more, next, d);
            memcpy(after, next, sizeof after);
            first = false;
        }
    }
    if (rc == SSP_ERR_NOMEM)
        return ssp_diag_set(d, rc, "out of memory while reading the records");
    if (rc != SSP_OK)
        return rc;
    qsort(sc->items, sc->n, sizeof *sc->items, cmp_id);
    /* A live hold keeps its record and, up the chain, what that belongs to. */
    for (size_t h = 0; h < sc->nholds; h++) {
        struct item *it = find_item(sc, sc->holds[h].record);
        if (it != NULL)
            it->held = true, it->hold = h;
        for (int depth = 0; it != NULL && !it->keep && depth < 8; depth++) {
            it->keep = true;
            it = it->has_owner ? find_item(sc, it->owner) : NULL;
        }
    }
    for (size_t i = 0; i < sc->n; i++)
        (void)due(sc, i);
    return SSP_OK;
}

static void
scan_fini(struct scan *sc)
{
    ssp_free(sc->items);
    ssp_free(sc->holds);
    ssp_free(sc->named);
    if (sc->fields.p != NULL)
        ssp_wipe(sc->fields.p, sc->fields.cap);
    ssp_buf_fini(&sc->fields);
}

/* The name of the rule item it is due by: its own, or that of the item it follows. */
static const char *
rule_of(const struct scan *sc, const struct item *it)
{
    for (int depth = 0; it->via != SIZE_MAX && depth < 16; depth++)
        it = &sc->items[it->via];
    return it->rule >= 0 ? ssp_retention_rules[it->rule].name : "";
}

static void
write_row(struct ssp_mpw *w, const struct scan *sc, const struct item *it)
{
    ssp_mpw_map(w, 8);
    ssp_mpw_cstr(w, "id");
    ssp_record_id_write(w, it->id);
    ssp_mpw_cstr(w, "type");
    ssp_mpw_cstr(w, it->type);
    ssp_mpw_cstr(w, "scope");
    ssp_mpw_cstr(w, it->scope);
    ssp_mpw_cstr(w, "rule");
    ssp_mpw_cstr(w, rule_of(sc, it));
    ssp_mpw_cstr(w, "expired");
    ssp_mpw_cstr(w, it->due_on);
    ssp_mpw_cstr(w, "follows");
    if (it->via != SIZE_MAX)
        ssp_record_id_write(w, sc->items[it->via].id);
    else
        ssp_mpw_nil(w);
    ssp_mpw_cstr(w, "kept");
    ssp_mpw_bool(w, it->keep);
    ssp_mpw_cstr(w, "hold");
    if (it->hold != SIZE_MAX) {
        const struct hold *h = &sc->holds[it->hold];
        ssp_mpw_map(w, 3);
        ssp_mpw_cstr(w, "id");
        ssp_record_id_write(w, h->id);
        ssp_mpw_cstr(w, "reason");
        ssp_mpw_cstr(w, h->reason);
        ssp_mpw_cstr(w, "until");
        if (h->until[0] != '\0')
            ssp_mpw_cstr(w, h->until);
        else
            ssp_mpw_nil(w);
    } else {
        ssp_mpw_nil(w);
    }
}

ssp_err
ssp_op_retention_list(struct ssp_ops_ctx *ctx, struct ssp_slice params, struct ssp_mpw *out,
                      struct ssp_diag *d)
{
    struct ssp_slice scope = {NULL, 0};
    const struct ssp_mp_key table[] = {{"scope", SSP_AS_STR, false, &scope}};
    struct scan sc = {0};
    ssp_err rc = PARAMS(params, table, d);
    if (rc == SSP_OK)
        rc = scan_all(ctx, &sc, scope, d);
    if (rc == SSP_OK) {
        uint32_t count = 0, shown;
        for (size_t i = 0; i < sc.n; i++)
            count += sc.items[i].state == DUE;
        shown = count < LIST_MAX ? count : LIST_MAX;
        ssp_mpw_map(out, 3);
        ssp_mpw_cstr(out, "today");
        ssp_mpw_cstr(out, sc.today);
        ssp_mpw_cstr(out, "count");
        ssp_mpw_uint(out, count);
        ssp_mpw_cstr(out, "records");
        ssp_mpw_array(out, shown);
        for (size_t i = 0, k = 0; i < sc.n && k < shown; i++)
            if (sc.items[i].state == DUE)
                write_row(out, &sc, &sc.items[i]), k++;
    }
    scan_fini(&sc);
    return rc;
}

ssp_err
ssp_op_retention_rules(struct ssp_ops_ctx *ctx, struct ssp_slice params, struct ssp_mpw *out,
                       struct ssp_diag *d)
{
    (void)params;
    (void)d;
    ssp_mpw_array(out, (uint32_t)ssp_retention_nrules);
    for (size_t i = 0; i < ssp_retention_nrules; i++) {
        const struct ssp_retention_rule *r = &ssp_retention_rules[i];
        ssp_mpw_map(out, 6);
        ssp_mpw_cstr(out, "name");
        ssp_mpw_cstr(out, r->name);
        ssp_mpw_cstr(out, "type");
        ssp_mpw_cstr(out, r->type);
        ssp_mpw_cstr(out, "value");
        ssp_mpw_uint(out, ctx->node->cfg.retention[i]);
        ssp_mpw_cstr(out, "default");
        ssp_mpw_uint(out, r->default_value);
        ssp_mpw_cstr(out, "unit");
        ssp_mpw_cstr(out, r->from == SSP_FROM_BIRTH_YEAR ? "years" : "months");
        ssp_mpw_cstr(out, "help");
        ssp_mpw_cstr(out, r->help);
    }
    return SSP_OK;
}

ssp_err
ssp_op_retention_hold(struct ssp_ops_ctx *ctx, struct ssp_slice params, struct ssp_mpw *out,
                      struct ssp_diag *d)
{
    struct ssp_slice id, reason, until = {NULL, 0};
    const struct ssp_mp_key table[] = {
        {"id", SSP_AS_STR, true, &id},
        {"reason", SSP_AS_STR, true, &reason},
        {"until", SSP_AS_STR, false, &until},
    };
    struct ssp_write w = {.action = SSP_ACT_CREATE, .type = SSP_SLICE_STR("hold")};
    uint8_t rid[SSP_RECORD_ID_LEN], hid[1][SSP_RECORD_ID_LEN];
    struct ssp_record r;
    struct ssp_buf fields;
    struct ssp_mpw fw;
    size_t failed;
    ssp_record_init(&r);
    ssp_buf_init(&fields);
    ssp_err rc = PARAMS(params, table, d);
    if (rc == SSP_OK)
        rc = ssp_ops_parse_id(id, rid, d);
    if (rc == SSP_OK)
        rc = ssp_node_get(ctx->node, rid, &r, d);
    if (rc == SSP_OK && r.deleted)
        rc = ssp_diag_set(d, SSP_ERR_NOTFOUND, "record %.*s was deleted; there is nothing to hold",
                          (int)id.n, (const char *)id.p);
    if (rc == SSP_OK) {
        ssp_mpw_init(&fw, &fields);
        ssp_mpw_map(&fw, until.p != NULL ? 3 : 2);
        ssp_mpw_cstr(&fw, "record");
        ssp_mpw_str(&fw, id.p, id.n);
        ssp_mpw_cstr(&fw, "reason");
        ssp_mpw_str(&fw, reason.p, reason.n);
        if (until.p != NULL) {
            ssp_mpw_cstr(&fw, "until");
            ssp_mpw_str(&fw, until.p, until.n);
        }
        w.scope = SSP_SLICE_STR(r.scope);
        w.fields = SSP_BUF_SLICE(&fields);
        rc = fw.err != SSP_OK ? ssp_diag_set(d, fw.err, "out of memory")
                              : ssp_node_write(ctx->node, &w, 1, hid, &failed, d);
    }
    if (rc == SSP_OK)
        rc = ssp_ops_result_record(ctx, hid[0], SSP_SLICE(NULL, 0), 0, out, d);
    ssp_buf_fini(&fields);
    ssp_record_fini(&r);
    return rc;
}

/* Purges the due records of rule r that nothing keeps, at most SSP_PURGE_MAX a commit. */
static ssp_err
purge_rule(struct ssp_ops_ctx *ctx, const struct scan *sc, size_t r,
           uint8_t (*ids)[SSP_RECORD_ID_LEN], uint32_t *count, struct ssp_diag *d)
{
    const struct ssp_retention_rule *rule = &ssp_retention_rules[r];
    char reason[96];
    size_t n = 0;
    ssp_err rc = SSP_OK;
    snprintf(reason, sizeof reason, "retention: rule %s, %u %s", rule->name,
             (unsigned)sc->cfg->retention[r],
             rule->from == SSP_FROM_BIRTH_YEAR ? "years of age" : "months");
    *count = 0;
    for (size_t i = 0; i <= sc->n && rc == SSP_OK; i++) {
        const struct item *it = i < sc->n ? &sc->items[i] : NULL;
        if (it != NULL && it->state == DUE && !it->keep && strcmp(rule_of(sc, it), rule->name) == 0)
            memcpy(ids[n++], it->id, SSP_RECORD_ID_LEN);
        if (n > 0 && (n == SSP_PURGE_MAX || it == NULL)) {
            rc = ssp_node_purge_records(ctx->node, (const uint8_t(*)[SSP_RECORD_ID_LEN])ids, n,
                                        reason, d);
            *count += rc == SSP_OK ? (uint32_t)n : 0;
            n = 0;
        }
    }
    return rc;
}

ssp_err
ssp_op_retention_run(struct ssp_ops_ctx *ctx, struct ssp_slice params, struct ssp_mpw *out,
                     struct ssp_diag *d)
{
    struct scan sc = {0};
    uint8_t(*ids)[SSP_RECORD_ID_LEN] = NULL;
    uint32_t counts[SSP_RETENTION_RULES_MAX] = {0}, kept = 0, total = 0;
    (void)params;
    if (!ssp_node_is_central(ctx->node))
        return ssp_diag_set(d, SSP_ERR_DENIED,
                            "a purge reaches every node, so retention runs on the central; "
                            "'ssp retention list' shows what has expired here");
    ssp_err rc = (ids = ssp_calloc(SSP_PURGE_MAX, sizeof *ids)) == NULL
                     ? ssp_diag_set(d, SSP_ERR_NOMEM, "out of memory")
                     : SSP_OK;
    /*
     * A purge can make more expire (a person no concern names any more), so
     * again until a round purges nothing; each round's scan is from scratch.
     */
    for (int round = 0, more = 1; rc == SSP_OK && more && round < RUN_ROUNDS; round++) {
        uint32_t before = total;
        scan_fini(&sc);
        memset(&sc, 0, sizeof sc);
        rc = scan_all(ctx, &sc, SSP_SLICE(NULL, 0), d);
        for (size_t r = 0; r < ssp_retention_nrules && rc == SSP_OK; r++) {
            uint32_t n = 0;
            rc = purge_rule(ctx, &sc, r, ids, &n, d);
            counts[r] += n;
            total += n;
        }
        more = total > before;
    }
    for (size_t i = 0; i < sc.n; i++)
        kept += sc.items[i].state == DUE && sc.items[i].keep;
    if (rc == SSP_OK) {
        ssp_mpw_map(out, 3);
        ssp_mpw_cstr(out, "purged");
        ssp_mpw_uint(out, total);
        ssp_mpw_cstr(out, "kept");
        ssp_mpw_uint(out, kept);
        ssp_mpw_cstr(out, "rules");
        ssp_mpw_map(out, (uint32_t)ssp_retention_nrules);
        for (size_t r = 0; r < ssp_retention_nrules; r++) {
            ssp_mpw_cstr(out, ssp_retention_rules[r].name);
            ssp_mpw_uint(out, counts[r]);
        }
    }
    ssp_free(ids);
    scan_fini(&sc);
    return rc;
}

/* Finds a live hold on one record (hold_one): the first match ends the scan. */
struct hold_find {
    const uint8_t *id;
    char today[SSP_DATE_LEN + 1];
    struct ssp_buf fields;
    bool found;
    uint8_t hold[SSP_RECORD_ID_LEN];
};

static ssp_err
hold_one(void *vctx, const struct ssp_record *r, bool *taken)
{
    struct hold_find *hf = vctx;
    uint8_t rec[SSP_RECORD_ID_LEN];
    struct ssp_slice until;
    *taken = false;
    hf->fields.n = 0;
    ssp_err rc = ssp_record_fields_map(r, &hf->fields);
    struct ssp_slice f = SSP_BUF_SLICE(&hf->fields);
    if (rc != SSP_OK || !ref_field(f, "record", rec) ||
        memcmp(rec, hf->id, SSP_RECORD_ID_LEN) != 0 ||
        (str_field(f, "until", &until) && until.n == SSP_DATE_LEN &&
         memcmp(until.p, hf->today, SSP_DATE_LEN) < 0))
        return rc;
    hf->found = true;
    memcpy(hf->hold, r->id, SSP_RECORD_ID_LEN);
    return SSP_ERR_AGAIN;
}

ssp_err
ssp_ops_check_not_held(struct ssp_ops_ctx *ctx, const uint8_t id[SSP_RECORD_ID_LEN],
                       struct ssp_diag *d)
{
    struct hold_find hf = {.id = id};
    uint8_t next[SSP_RECORD_ID_LEN];
    char text[SSP_RECORD_ID_TEXT + 1], hold[SSP_RECORD_ID_TEXT + 1];
    bool more = false;
    ssp_node_today(hf.today);
    ssp_err rc = ssp_node_list(ctx->node, SSP_SLICE_STR("hold"), SSP_SLICE(NULL, 0), NULL, SIZE_MAX,
                               hold_one, &hf, &more, next, d);
    ssp_buf_fini(&hf.fields);
    if (rc == SSP_ERR_AGAIN)
        rc = SSP_OK;
    if (rc == SSP_OK && hf.found) {
        ssp_record_id_format(id, text);
        ssp_record_id_format(hf.hold, hold);
        rc = ssp_diag_set(d, SSP_ERR_DENIED,
                          "record %s is on hold for a record-keeping duty ('ssp show %s'); "
                          "release the hold first ('ssp delete %s')",
                          text, hold, hold);
    }
    return rc;
}
