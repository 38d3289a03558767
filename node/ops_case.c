/*
 * Cases: `case_open` opens a case from a concern, `case_escalate` moves a
 * case to the coordination group's scope. Each is one ssp_node_write batch
 * (one LMDB transaction, one commit per scope), so it happens whole or not
 * at all, and the schema's rules check every record it writes. An escalation
 * then purges the moved records (node/purge.c), so the area keeps none of
 * their content, not even in its log.
 */
#include <string.h>

#include "node/crypto/keyring.h"
#include "node/domain/schema.h"
#include "node/node.h"
#include "node/ops_int.h"

/* The scope of the coordination group, where escalated cases go. */
#define CENTRAL "central"
/* The plans, and the notes, that can move with one case. */
#define MOVE_MAX 256

/* Writes to out base's fields with over's on top: a key over has replaces base's. */
static ssp_err
merge_fields(struct ssp_slice over, struct ssp_slice base, struct ssp_buf *out)
{
    struct ssp_mp o, b;
    struct ssp_mpw w;
    struct ssp_slice key, v;
    uint32_t nover, nbase, kept = 0;
    ssp_mp_init(&b, base);
    if (ssp_mp_map(&b, &nbase) != SSP_OK)
        return SSP_ERR_PROTO;
    for (uint32_t i = 0; i < nbase; i++) {
        if (ssp_mp_str(&b, &key) != SSP_OK || ssp_mp_raw(&b, &v) != SSP_OK)
            return SSP_ERR_PROTO;
        kept += ssp_mp_map_get(over, key).n == 0;
    }
    ssp_mp_init(&o, over);
    if (ssp_mp_map(&o, &nover) != SSP_OK)
        return SSP_ERR_PROTO;
    out->n = 0;
    ssp_mpw_init(&w, out);
    ssp_mpw_map(&w, nover + kept);
    for (uint32_t i = 0; i < nover; i++) {
        if (ssp_mp_str(&o, &key) != SSP_OK || ssp_mp_raw(&o, &v) != SSP_OK)
            return SSP_ERR_PROTO;
        ssp_mpw_str(&w, key.p, key.n);
        ssp_mpw_raw(&w, v);
    }
    ssp_mp_init(&b, base);
    if (ssp_mp_map(&b, &nbase) != SSP_OK)
        return SSP_ERR_PROTO;
    for (uint32_t i = 0; i < nbase; i++) {
        if (ssp_mp_str(&b, &key) != SSP_OK || ssp_mp_raw(&b, &v) != SSP_OK)
            return SSP_ERR_PROTO;
        if (ssp_mp_map_get(over, key).n == 0) {
            ssp_mpw_str(&w, key.p, key.n);
            ssp_mpw_raw(&w, v);
        }
    }
    return w.err;
}

/* Reads record id of type `type` into r, or says why it cannot be used. */
static ssp_err
get_typed(struct ssp_ops_ctx *ctx, const uint8_t id[SSP_RECORD_ID_LEN], const char *type,
          struct ssp_record *r, struct ssp_diag *d)
{
    char text[SSP_RECORD_ID_TEXT + 1];
    ssp_record_id_format(id, text);
    ssp_err rc = ssp_node_get(ctx->node, id, r, d);
    if (rc == SSP_OK && r->deleted)
        rc = ssp_diag_set(d, SSP_ERR_NOTFOUND, "%s %s was deleted", type, text);
    if (rc == SSP_OK && strcmp(r->type, type) != 0)
        rc = ssp_diag_set(d, SSP_ERR_INVAL, "%s is a %s, not a %s", text, r->type, type);
    if (rc == SSP_OK && (r->nconflicts > 0 || ssp_record_lost_delete(r)))
        rc = ssp_diag_set(d, SSP_ERR_BUSY,
                          "%s %s has conflicting changes; settle them first ('ssp conflicts', "
                          "'ssp resolve')",
                          type, text);
    return rc;
}

/* ---- case_open ---- */

/*
 * The fields a case opened from concern c starts with: the concern's person,
 * level, legal basis and consent, track ssp, opened today, status open.
 */
static ssp_err
case_from(const struct ssp_record *c, struct ssp_buf *out)
{
    static const char *const copied[] = {"person", "level", "legal_basis", "consent",
                                         "consent_reason"};
    char today[SSP_DATE_LEN + 1];
    struct ssp_mpw w;
    uint32_t n = 4;
    for (size_t i = 0; i < sizeof copied / sizeof copied[0]; i++)
        n += ssp_record_field(c, SSP_SLICE_STR(copied[i])) != NULL;
    ssp_node_today(today);
    ssp_mpw_init(&w, out);
    ssp_mpw_map(&w, n);
    for (size_t i = 0; i < sizeof copied / sizeof copied[0]; i++) {
        const struct ssp_rec_field *f = ssp_record_field(c, SSP_SLICE_STR(copied[i]));
        if (f != NULL) {
            ssp_mpw_cstr(&w, copied[i]);
            ssp_mpw_raw(&w, f->value);
        }
    }
    ssp_mpw_cstr(&w, "track");
    ssp_mpw_cstr(&w, "ssp");
    ssp_mpw_cstr(&w, "opened");
    ssp_mpw_cstr(&w, today);
    ssp_mpw_cstr(&w, "status");
    ssp_mpw_cstr(&w, "open");
    ssp_mpw_cstr(&w, "concerns");
    ssp_mpw_array(&w, 1);
    ssp_record_id_write(&w, c->id);
    return w.err;
}

/* Whether concern c can become a case; d says why not. */
static ssp_err
check_concern_open(const struct ssp_record *c, struct ssp_diag *d)
{
    char text[SSP_RECORD_ID_TEXT + 1];
    struct ssp_slice status = {NULL, 0}, person;
    ssp_record_id_format(c->id, text);
    (void)ssp_ops_field_str(c, "status", &status);
    if (!ssp_ops_field_str(c, "person", &person))
        return ssp_diag_set(d, SSP_ERR_INVAL,
                            "concern %s is about no one person; a case is about one: set its "
                            "person first ('ssp set %s person=PERSON_ID')",
                            text, text);
    if (ssp_slice_eq_str(status, "case_opened"))
        return ssp_diag_set(d, SSP_ERR_EXISTS,
                            "concern %s has a case already (status case_opened); find it with "
                            "'ssp list case'",
                            text);
    if (ssp_slice_eq_str(status, "closed"))
        return ssp_diag_set(d, SSP_ERR_INVAL,
                            "concern %s is closed; to open a case from it, reopen it first ('ssp "
                            "set %s status=assessed')",
                            text, text);
    return SSP_OK;
}

ssp_err
ssp_op_case_open(struct ssp_ops_ctx *ctx, struct ssp_slice params, struct ssp_mpw *out,
                 struct ssp_diag *d)
{
    static const uint8_t empty_map = 0x80;
    /* {"status": "case_opened"} */
    static const uint8_t opened[] = {0x81, 0xa6, 's', 't', 'a', 't', 'u', 's', 0xab, 'c',
                                     'a',  's',  'e', '_', 'o', 'p', 'e', 'n', 'e',  'd'};
    struct ssp_slice from, fields = {NULL, 0};
    const struct ssp_mp_key table[] = {
        {"from", SSP_AS_STR, true, &from},
        {"fields", SSP_AS_MAP, false, &fields},
    };
    uint8_t ids[2][SSP_RECORD_ID_LEN];
    struct ssp_write w[2] = {
        {.action = SSP_ACT_CREATE, .type = SSP_SLICE_STR("case")},
        {.action = SSP_ACT_UPDATE, .has_id = true, .fields = SSP_SLICE(opened, sizeof opened)},
    };
    struct ssp_record c;
    struct ssp_buf base, merged;
    size_t failed;
    ssp_record_init(&c);
    ssp_buf_init(&base);
    ssp_buf_init(&merged);
    ssp_err rc = PARAMS(params, table, d);
    if (rc == SSP_OK)
        rc = ssp_ops_parse_id(from, w[1].id, d);
    if (rc == SSP_OK)
        rc = get_typed(ctx, w[1].id, "concern", &c, d);
    if (rc == SSP_OK)
        rc = check_concern_open(&c, d);
    if (rc == SSP_OK && (rc = case_from(&c, &base)) == SSP_OK)
        rc = merge_fields(fields.p != NULL ? fields : SSP_SLICE(&empty_map, 1),
                          SSP_BUF_SLICE(&base), &merged);
    if (rc == SSP_ERR_NOMEM || rc == SSP_ERR_PROTO)
        rc = ssp_diag_set(d, rc, rc == SSP_ERR_NOMEM ? "out of memory" : "'fields' is not a map");
    if (rc == SSP_OK) {
        w[0].scope = SSP_SLICE_STR(c.scope);
        w[0].fields = SSP_BUF_SLICE(&merged);
        rc = ssp_node_write(ctx->node, w, 2, ids, &failed, d);
    }
    if (rc == SSP_OK)
        rc = ssp_ops_result_record(ctx, ids[0], SSP_SLICE(NULL, 0), 0, out, d);
    ssp_buf_fini(&merged);
    ssp_buf_fini(&base);
    ssp_record_fini(&c);
    return rc;
}

/* ---- case_escalate ---- */

/*
 * The records that move with a case, in the order they are written: the
 * case, its plans, then the notes about either. to[i] is the new id of
 * from[i]; over[i] the fields that change on the way.
 */
struct move {
    size_t n, nplans;
    bool full;
    const char *field; /* while collecting: the ref that ties a record to the moved ones */
    size_t ntie;       /* while collecting: ties are from[0..ntie) */
    uint8_t from[1 + 2 * MOVE_MAX][SSP_RECORD_ID_LEN];
    uint8_t to[1 + 2 * MOVE_MAX][SSP_RECORD_ID_LEN];
    size_t about[1 + 2 * MOVE_MAX]; /* the index of the record a plan or note refers to */
};

static ssp_err
tie_one(void *vctx, const struct ssp_record *r, bool *taken)
{
    struct move *m = vctx;
    struct ssp_slice ref;
    uint8_t id[SSP_RECORD_ID_LEN];
    *taken = false;
    if (!ssp_ops_field_str(r, m->field, &ref) || ssp_record_id_parse(ref, id) != SSP_OK)
        return SSP_OK;
    for (size_t i = 0; i < m->ntie && !*taken; i++) {
        if (memcmp(id, m->from[i], SSP_RECORD_ID_LEN) != 0)
            continue;
        if (m->n - m->ntie == MOVE_MAX) {
            m->full = true;
            return SSP_ERR_AGAIN;
        }
        memcpy(m->from[m->n], r->id, SSP_RECORD_ID_LEN);
        m->about[m->n++] = i;
        *taken = true;
    }
    return SSP_OK;
}

/* Adds to m the records of type in scope whose field refers to one of m's first ntie. */
static ssp_err
collect(struct ssp_ops_ctx *ctx, struct move *m, const char *scope, const char *type,
        const char *field, struct ssp_diag *d)
{
    uint8_t after[SSP_RECORD_ID_LEN], next[SSP_RECORD_ID_LEN];
    bool more = true, first = true;
    ssp_err rc = SSP_OK;
    m->field = field;
    m->ntie = m->n;
    while (rc == SSP_OK && more && !m->full) {
        rc = ssp_node_list(ctx->node, SSP_SLICE_STR(type), SSP_SLICE_STR(scope),
                           first ? NULL : after, MOVE_MAX, tie_one, m, &more, next, d);
        memcpy(after, next, sizeof after);
        first = false;
    }
    if (rc == SSP_OK && m->full)
        rc = ssp_diag_set(d, SSP_ERR_FULL,
                          "the case has more than %d %ss; a case this large cannot be moved in "
                          "one step",
                          MOVE_MAX, type);
    return rc;
}

struct escalation {
    struct ssp_slice level, track, group, date; /* encoded values or empty */
    char from_scope[SSP_SCOPE_MAX + 1];
    uint8_t trace[SSP_RECORD_ID_LEN];
};

/* The fields that change when moved record i goes: the case's level and track, refs to new ids. */
static ssp_err
moved_over(const struct move *m, const struct escalation *e, size_t i, struct ssp_buf *out)
{
    struct ssp_mpw w;
    out->n = 0;
    ssp_mpw_init(&w, out);
    if (i == 0) {
        ssp_mpw_map(&w, (e->level.n > 0 ? 1u : 0u) + (e->track.n > 0 ? 1u : 0u));
        if (e->level.n > 0) {
            ssp_mpw_cstr(&w, "level");
            ssp_mpw_raw(&w, e->level);
        }
        if (e->track.n > 0) {
            ssp_mpw_cstr(&w, "track");
            ssp_mpw_raw(&w, e->track);
        }
    } else {
        ssp_mpw_map(&w, 1);
        ssp_mpw_cstr(&w, i <= m->nplans ? "case" : "about");
        ssp_record_id_write(&w, m->to[m->about[i]]);
    }
    return w.err;
}

/* The trace the area keeps: escalated, when, to whom, the new id; none of the content. */
static ssp_err
trace_fields(const struct move *m, const struct escalation *e, struct ssp_slice moved_case,
             struct ssp_buf *out)
{
    static const char *const kept[] = {"person", "level", "track"};
    struct ssp_mpw w;
    uint32_t n = e->group.n > 0 ? 5 : 4;
    for (size_t i = 0; i < sizeof kept / sizeof kept[0]; i++)
        n += ssp_mp_map_get(moved_case, SSP_SLICE_STR(kept[i])).n > 0;
    ssp_mpw_init(&w, out);
    ssp_mpw_map(&w, n);
    ssp_mpw_cstr(&w, "case");
    ssp_record_id_write(&w, m->to[0]);
    ssp_mpw_cstr(&w, "former");
    ssp_record_id_write(&w, m->from[0]);
    ssp_mpw_cstr(&w, "to");
    ssp_mpw_cstr(&w, CENTRAL);
    ssp_mpw_cstr(&w, "date");
    ssp_mpw_raw(&w, e->date);
    for (size_t i = 0; i < sizeof kept / sizeof kept[0]; i++) {
        struct ssp_slice v = ssp_mp_map_get(moved_case, SSP_SLICE_STR(kept[i]));
        if (v.n > 0) {
            ssp_mpw_cstr(&w, kept[i]);
            ssp_mpw_raw(&w, v);
        }
    }
    if (e->group.n > 0) {
        ssp_mpw_cstr(&w, "group");
        ssp_mpw_raw(&w, e->group);
    }
    return w.err;
}

/*
 * The writes of an escalation: each moved record created in central with a
 * new id, the trace created in the area, then the moved records deleted
 * there (notes first, the case last). bufs[i] holds write i's fields.
 */
static ssp_err
escalation_writes(struct ssp_ops_ctx *ctx, const struct move *m, const struct escalation *e,
                  struct ssp_write *w, struct ssp_buf *bufs, struct ssp_diag *d)
{
    struct ssp_record r;
    struct ssp_buf over, fields;
    ssp_record_init(&r);
    ssp_buf_init(&over);
    ssp_buf_init(&fields);
    ssp_err rc = SSP_OK;
    for (size_t i = 0; i < m->n && rc == SSP_OK; i++) {
        const char *type = i == 0 ? "case" : i <= m->nplans ? "plan" : "note";
        rc = get_typed(ctx, m->from[i], type, &r, d);
        fields.n = 0;
        if (rc == SSP_OK && (rc = ssp_record_fields_map(&r, &fields)) == SSP_OK &&
            (rc = moved_over(m, e, i, &over)) == SSP_OK)
            rc = merge_fields(SSP_BUF_SLICE(&over), SSP_BUF_SLICE(&fields), &bufs[i]);
        w[i] = (struct ssp_write){.action = SSP_ACT_CREATE,
                                  .has_id = true,
                                  .type = SSP_SLICE_STR(type),
                                  .scope = SSP_SLICE_STR(CENTRAL)};
        memcpy(w[i].id, m->to[i], SSP_RECORD_ID_LEN);
        struct ssp_write *del = &w[2 * m->n - i];
        *del = (struct ssp_write){.action = SSP_ACT_DELETE, .has_id = true, .move = true};
        memcpy(del->id, m->from[i], SSP_RECORD_ID_LEN);
    }
    if (rc == SSP_OK)
        rc = trace_fields(m, e, SSP_BUF_SLICE(&bufs[0]), &bufs[m->n]);
    if (rc == SSP_ERR_NOMEM || rc == SSP_ERR_PROTO)
        rc = ssp_diag_set(d, rc, "cannot copy the case: %s", ssp_strerror(rc));
    for (size_t i = 0; i <= m->n; i++)
        w[i].fields = SSP_BUF_SLICE(&bufs[i]);
    w[m->n] = (struct ssp_write){.action = SSP_ACT_CREATE,
                                 .has_id = true,
                                 .type = SSP_SLICE_STR("escalation"),
                                 .scope = SSP_SLICE_STR(e->from_scope),
                                 .fields = SSP_BUF_SLICE(&bufs[m->n])};
    memcpy(w[m->n].id, e->trace, SSP_RECORD_ID_LEN);
    ssp_buf_fini(&fields);
    ssp_buf_fini(&over);
    ssp_record_fini(&r);
    return rc;
}

/* Reads and checks the params of case_escalate into e and m->from[0]. */
static ssp_err
escalate_params(struct ssp_slice params, struct move *m, struct escalation *e,
                struct ssp_buf *scratch, struct ssp_diag *d)
{
    struct ssp_slice id, track = {NULL, 0}, group = {NULL, 0}, date = {NULL, 0};
    uint64_t level = 0;
    char today[SSP_DATE_LEN + 1];
    const struct ssp_mp_key table[] = {
        {"id", SSP_AS_STR, true, &id},        {"level", SSP_AS_UINT, false, &level},
        {"track", SSP_AS_STR, false, &track}, {"group", SSP_AS_STR, false, &group},
        {"date", SSP_AS_STR, false, &date},
    };
    struct ssp_mpw w;
    ssp_err rc = PARAMS(params, table, d);
    if (rc == SSP_OK)
        rc = ssp_ops_parse_id(id, m->from[0], d);
    if (rc == SSP_OK && level == 0 && track.p == NULL)
        rc = ssp_diag_set(d, SSP_ERR_INVAL,
                          "give the level the case escalates to (3 or 4), or "
                          "the SSP+ track, or both");
    if (rc == SSP_OK && level != 0 && level != 3 && level != 4)
        rc = ssp_diag_set(d, SSP_ERR_INVAL,
                          "a case escalates to level 3 or 4 (levels 1-2 stay with the local "
                          "committee); to change the level otherwise use 'ssp set'");
    if (rc == SSP_OK && track.p != NULL && !ssp_slice_eq_str(track, "ssp_plus"))
        rc = ssp_diag_set(d, SSP_ERR_INVAL, "a case escalates to track ssp_plus only");
    if (rc == SSP_OK && date.p != NULL && !ssp_schema_date_valid(date))
        rc = ssp_diag_set(d, SSP_ERR_INVAL, "'date' must be a real date as YYYY-MM-DD");
    if (rc != SSP_OK)
        return rc;
    ssp_node_today(today);
    /* The values, encoded one after the other in scratch; slices are taken once it is full. */
    ssp_mpw_init(&w, scratch);
    size_t at[4];
    if (level != 0)
        ssp_mpw_uint(&w, level);
    at[0] = scratch->n;
    if (track.p != NULL)
        ssp_mpw_str(&w, track.p, track.n);
    at[1] = scratch->n;
    if (group.p != NULL)
        ssp_mpw_str(&w, group.p, group.n);
    at[2] = scratch->n;
    if (date.p != NULL)
        ssp_mpw_str(&w, date.p, date.n);
    else
        ssp_mpw_cstr(&w, today);
    at[3] = scratch->n;
    if (w.err != SSP_OK)
        return ssp_diag_set(d, w.err, "out of memory");
    e->level = SSP_SLICE(scratch->p, at[0]);
    e->track = SSP_SLICE(scratch->p + at[0], at[1] - at[0]);
    e->group = SSP_SLICE(scratch->p + at[1], at[2] - at[1]);
    e->date = SSP_SLICE(scratch->p + at[2], at[3] - at[2]);
    return SSP_OK;
}

ssp_err
ssp_op_case_escalate(struct ssp_ops_ctx *ctx, struct ssp_slice params, struct ssp_mpw *out,
                     struct ssp_diag *d)
{
    struct move *m = ssp_calloc(1, sizeof *m);
    struct escalation e = {0};
    struct ssp_record c;
    struct ssp_buf scratch, extra, *bufs = NULL;
    struct ssp_write *w = NULL;
    char text[SSP_RECORD_ID_TEXT + 1];
    size_t failed, nw = 0;
    if (m == NULL)
        return ssp_diag_set(d, SSP_ERR_NOMEM, "out of memory");
    ssp_record_init(&c);
    ssp_buf_init(&scratch);
    ssp_buf_init(&extra);
    ssp_err rc = escalate_params(params, m, &e, &scratch, d);
    ssp_record_id_format(m->from[0], text);
    if (rc == SSP_OK)
        rc = get_typed(ctx, m->from[0], "case", &c, d);
    if (rc == SSP_OK && strcmp(c.scope, CENTRAL) == 0)
        rc = ssp_diag_set(d, SSP_ERR_INVAL,
                          "case %s is with the coordination group already (scope %s); change its "
                          "level with 'ssp set %s level=N'",
                          text, CENTRAL, text);
    if (rc == SSP_OK && (!ssp_node_is_central(ctx->node) ||
                         ssp_keyring_scope(ctx->node->kr, SSP_SLICE_STR(CENTRAL)) == NULL))
        rc = ssp_diag_set(d, SSP_ERR_DENIED,
                          "escalation moves the case into scope %s and purges it here, which only "
                          "the central does; the secretariat runs 'ssp case escalate %s' there "
                          "(record the decision here with 'ssp note %s TEXT')",
                          CENTRAL, text, text);
    if (rc == SSP_OK) {
        memcpy(e.from_scope, c.scope, sizeof e.from_scope);
        m->n = 1;
        rc = collect(ctx, m, c.scope, "plan", "case", d);
    }
    if (rc == SSP_OK) {
        m->nplans = m->n - 1;
        rc = collect(ctx, m, c.scope, "note", "about", d);
    }
    if (rc == SSP_OK) {
        for (size_t i = 0; i < m->n; i++)
            ssp_node_new_id(ctx->node, m->to[i]);
        ssp_node_new_id(ctx->node, e.trace);
        nw = 2 * m->n + 1;
        w = ssp_calloc(nw, sizeof *w);
        bufs = ssp_calloc(m->n + 1, sizeof *bufs);
        if (w == NULL || bufs == NULL)
            rc = ssp_diag_set(d, SSP_ERR_NOMEM, "out of memory");
    }
    if (rc == SSP_OK)
        rc = escalation_writes(ctx, m, &e, w, bufs, d);
    if (rc == SSP_OK)
        rc = ssp_node_write(ctx->node, w, nw, NULL, &failed, d);
    /* The area keeps no content: the moved records' versions are purged from every log. */
    if (rc == SSP_OK) {
        struct ssp_diag why = {{0}};
        if (ssp_node_purge_records(ctx->node, (const uint8_t(*)[SSP_RECORD_ID_LEN])m->from, m->n,
                                   "escalated to the coordination group", &why) != SSP_OK)
            rc = ssp_diag_set(d, SSP_ERR_IO,
                              "case %s moved to scope %s, but its old versions were not purged "
                              "(%s); purge them with 'ssp purge %s --reason escalated'",
                              text, CENTRAL, why.msg, text);
    }
    if (rc == SSP_OK) {
        struct ssp_mpw x;
        ssp_mpw_init(&x, &extra);
        ssp_mpw_cstr(&x, "escalation");
        ssp_record_id_write(&x, e.trace);
        ssp_mpw_cstr(&x, "plans");
        ssp_mpw_uint(&x, m->nplans);
        ssp_mpw_cstr(&x, "notes");
        ssp_mpw_uint(&x, m->n - 1 - m->nplans);
        rc = x.err != SSP_OK
                 ? ssp_diag_set(d, x.err, "out of memory")
                 : ssp_ops_result_record(ctx, m->to[0], SSP_BUF_SLICE(&extra), 3, out, d);
    }
    for (size_t i = 0; bufs != NULL && i <= m->n; i++)
        ssp_buf_fini(&bufs[i]);
    ssp_free(bufs);
    ssp_free(w);
    ssp_buf_fini(&extra);
    ssp_buf_fini(&scratch);
    ssp_record_fini(&c);
    ssp_free(m);
    return rc;
}
