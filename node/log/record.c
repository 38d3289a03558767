#include "node/log/record.h"

#include <string.h>

#define STORED_FORMAT 1
#define MAX_OPS_PER_RECORD 100000u
#define MAX_FIELDS 256u
/*
 * The most conflicts a merge takes a record to, and the most bytes their
 * names and values may take: a record with all of them still fits in one
 * `ssp show` answer (about 100 bytes more each, in a control frame of
 * 8 MiB) and costs little to open and seal again. The stored form may hold
 * up to MAX_OPS_PER_RECORD conflicts (a record stored by older code).
 */
#define MAX_CONFLICTS 10000u
#define MAX_CONFLICT_BYTES ((size_t)4 << 20)
/* The fewest bytes a version takes: array(4), uint, bin(32) with its 2-byte head, uint, uint. */
#define MIN_VERSION_BYTES 38u

static const char rec_ctx[] = "ssp-rec-v1";

int
ssp_version_cmp(const struct ssp_version *a, const struct ssp_version *b)
{
    if (a->hlc != b->hlc)
        return a->hlc < b->hlc ? -1 : 1;
    int c = memcmp(a->origin, b->origin, SSP_PK_LEN);
    if (c != 0)
        return c < 0 ? -1 : 1;
    if (a->seq != b->seq)
        return a->seq < b->seq ? -1 : 1;
    if (a->op != b->op)
        return a->op < b->op ? -1 : 1;
    return 0;
}

void
ssp_record_init(struct ssp_record *r)
{
    memset(r, 0, sizeof *r);
    ssp_arena_init(&r->arena);
}

void
ssp_record_reset(struct ssp_record *r)
{
    memset(r->id, 0, sizeof r->id);
    r->scope[0] = '\0';
    r->type[0] = '\0';
    r->key_epoch = 0;
    r->has_del = r->del_named = r->deleted = false;
    r->nops = r->nfields = r->nconflicts = r->npending = 0;
    r->conflict_bytes = 0;
    ssp_arena_reset(&r->arena);
}

void
ssp_record_fini(struct ssp_record *r)
{
    ssp_free(r->ops);
    ssp_free(r->fields);
    ssp_free(r->conflicts);
    ssp_free(r->pending);
    ssp_arena_fini(&r->arena);
    ssp_record_init(r);
}

/* Makes room for one more element in a growable array. */
static ssp_err
grow(void **p, uint32_t n, uint32_t *cap, size_t elem)
{
    if (n < *cap)
        return SSP_OK;
    uint32_t next = *cap == 0 ? 8 : *cap * 2;
    void *q = ssp_realloc(*p, (size_t)next * elem);
    if (q == NULL)
        return SSP_ERR_NOMEM;
    *p = q;
    *cap = next;
    return SSP_OK;
}

const struct ssp_rec_field *
ssp_record_field(const struct ssp_record *r, struct ssp_slice name)
{
    for (uint32_t i = 0; i < r->nfields; i++)
        if (ssp_slice_eq(r->fields[i].name, name))
            return &r->fields[i];
    return NULL;
}

/* Index of v in r->ops, or -1; *at is where it would go. */
static long
find_op(const struct ssp_record *r, const struct ssp_version *v, uint32_t *at)
{
    uint32_t lo = 0, hi = r->nops;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        int c = ssp_version_cmp(&r->ops[mid], v);
        if (c == 0) {
            *at = mid;
            return (long)mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *at = lo;
    return -1;
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

static ssp_err
read_version(struct ssp_mp *c, struct ssp_version *v)
{
    uint32_t n;
    uint64_t op;
    if (ssp_mp_array(c, &n) != SSP_OK || n != 4 || ssp_mp_uint(c, &v->hlc) != SSP_OK ||
        ssp_mp_bin_n(c, v->origin, SSP_PK_LEN) != SSP_OK || ssp_mp_uint(c, &v->seq) != SSP_OK ||
        ssp_mp_uint(c, &op) != SSP_OK || op > UINT32_MAX)
        return SSP_ERR_PROTO;
    v->op = (uint32_t)op;
    return SSP_OK;
}

/* The number of conflicts r keeps for the field called name. */
static uint32_t
count_conflicts(const struct ssp_record *r, struct ssp_slice name)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < r->nconflicts; i++)
        n += ssp_slice_eq(r->conflicts[i].name, name);
    return n;
}

/*
 * Writes one bases entry for field f: its version, or with all, its version
 * and every conflict of it as an array (one version stays a single version,
 * so ops that settle nothing more read as they always did).
 */
static void
write_field_bases(struct ssp_mpw *w, const struct ssp_record *r, const struct ssp_rec_field *f,
                  bool all)
{
    uint32_t n = all ? count_conflicts(r, f->name) : 0;
    ssp_mpw_str(w, f->name.p, f->name.n);
    if (n == 0) {
        write_version(w, &f->ver);
        return;
    }
    ssp_mpw_array(w, 1 + (size_t)n);
    write_version(w, &f->ver);
    for (uint32_t i = 0; i < r->nconflicts; i++)
        if (ssp_slice_eq(r->conflicts[i].name, f->name))
            write_version(w, &r->conflicts[i].ver);
}

/*
 * Writes the bases map. A delete names every field, and every version of it
 * the writer saw (conflicts too: the writer deleted them all). An update
 * names the current version of each field in fields that exists; a
 * resolving one (all) every version of it, and with keep_record the delete
 * that lost (under the name "").
 */
static ssp_err
write_bases(struct ssp_mpw *w, const struct ssp_record *r, enum ssp_action action,
            struct ssp_slice fields, bool all, bool keep_record)
{
    struct ssp_mp c, scan;
    struct ssp_slice name;
    uint32_t n, nbases = keep_record;
    if (action == SSP_ACT_DELETE) {
        ssp_mpw_map(w, r->nfields);
        for (uint32_t i = 0; i < r->nfields; i++)
            write_field_bases(w, r, &r->fields[i], true);
        return w->err;
    }
    ssp_mp_init(&c, fields);
    if (ssp_mp_map(&c, &n) != SSP_OK)
        return SSP_ERR_INVAL;
    /* Count the fields that have a current version first: the map head needs it. */
    scan = c;
    for (uint32_t i = 0; i < n; i++) {
        if (ssp_mp_str(&scan, &name) != SSP_OK || ssp_mp_skip(&scan) != SSP_OK)
            return SSP_ERR_INVAL;
        nbases += ssp_record_field(r, name) != NULL;
    }
    ssp_mpw_map(w, nbases);
    for (uint32_t i = 0; i < n; i++) {
        if (ssp_mp_str(&c, &name) != SSP_OK || ssp_mp_skip(&c) != SSP_OK)
            return SSP_ERR_INVAL;
        const struct ssp_rec_field *f = ssp_record_field(r, name);
        if (f != NULL)
            write_field_bases(w, r, f, all);
    }
    if (keep_record) {
        ssp_mpw_str(w, "", 0);
        write_version(w, &r->del_ver);
    }
    return w->err;
}

static ssp_err
encode_body(const struct ssp_record *r, enum ssp_action action, struct ssp_slice type,
            struct ssp_slice fields, bool all, bool keep_record, struct ssp_buf *out,
            struct ssp_op_body *view)
{
    struct ssp_mpw w;
    ssp_mpw_init(&w, out);
    ssp_mpw_array(&w, 4);
    ssp_mpw_str(&w, type.p, type.n);
    ssp_mpw_uint(&w, action);
    size_t fields_at = out->n;
    ssp_mpw_raw(&w, fields);
    size_t bases_at = out->n;
    ssp_err rc = write_bases(&w, r, action, fields, all, keep_record);
    if (rc == SSP_OK && view != NULL) {
        /* Offsets, not pointers, until here: out may have moved while growing. */
        /* The type's bytes end just before the action, a one-byte fixint. */
        view->type = SSP_SLICE(out->p + fields_at - 1 - type.n, type.n);
        view->action = action;
        view->fields = SSP_SLICE(out->p + fields_at, bases_at - fields_at);
        view->bases = SSP_SLICE(out->p + bases_at, out->n - bases_at);
    }
    return rc;
}

ssp_err
ssp_op_body_encode(const struct ssp_record *r, enum ssp_action action, struct ssp_slice type,
                   struct ssp_slice fields, struct ssp_buf *out, struct ssp_op_body *view)
{
    return encode_body(r, action, type, fields, false, false, out, view);
}

ssp_err
ssp_op_body_encode_resolve(const struct ssp_record *r, struct ssp_slice type,
                           struct ssp_slice fields, bool keep_record, struct ssp_buf *out,
                           struct ssp_op_body *view)
{
    if (keep_record && !ssp_record_lost_delete(r))
        return SSP_ERR_INVAL;
    return encode_body(r, SSP_ACT_UPDATE, type, fields, true, keep_record, out, view);
}

static ssp_err name_base(struct ssp_record *r, struct ssp_slice name,
                         const struct ssp_version *base);

/*
 * Reads one value of a bases map at c: a version, or a non-empty array of
 * them (the first element tells which: a version starts with its clock, an
 * array of versions with a version). Names each in r as a base of the field
 * called name, or with r NULL only checks them.
 */
static ssp_err
read_base_value(struct ssp_mp *c, struct ssp_record *r, struct ssp_slice name)
{
    struct ssp_mp probe = *c;
    struct ssp_version v;
    enum ssp_mp_type first;
    uint32_t n, count = 1;
    if (ssp_mp_array(&probe, &n) != SSP_OK || n == 0 || ssp_mp_peek(&probe, &first) != SSP_OK)
        return SSP_ERR_PROTO;
    if (first == SSP_MP_ARRAY) {
        /* Bounded by the bytes: no count can claim more versions than could be there. */
        if (n > (size_t)(probe.end - probe.p) / MIN_VERSION_BYTES)
            return SSP_ERR_PROTO;
        *c = probe;
        count = n;
    }
    for (uint32_t i = 0; i < count; i++) {
        if (read_version(c, &v) != SSP_OK)
            return SSP_ERR_PROTO;
        if (r != NULL) {
            ssp_err rc = name_base(r, name, &v);
            if (rc != SSP_OK)
                return rc;
        }
    }
    return SSP_OK;
}

/* Checks a bases map: at most limit entries of a name and a base value each. */
static ssp_err
check_bases(struct ssp_slice bases, uint32_t limit)
{
    struct ssp_mp c;
    struct ssp_slice name;
    uint32_t n;
    ssp_mp_init(&c, bases);
    if (ssp_mp_map(&c, &n) != SSP_OK || n > limit)
        return SSP_ERR_PROTO;
    for (uint32_t i = 0; i < n; i++)
        if (ssp_mp_str(&c, &name) != SSP_OK || read_base_value(&c, NULL, name) != SSP_OK)
            return SSP_ERR_PROTO;
    return SSP_OK;
}

ssp_err
ssp_op_body_decode(struct ssp_slice plain, struct ssp_op_body *b)
{
    struct ssp_mp c;
    uint32_t n;
    uint64_t action;
    ssp_mp_init(&c, plain);
    if (ssp_mp_array(&c, &n) != SSP_OK || n != 4 || ssp_mp_str(&c, &b->type) != SSP_OK ||
        b->type.n == 0 || b->type.n >= SSP_TYPE_NAME_MAX || ssp_mp_uint(&c, &action) != SSP_OK ||
        action > SSP_ACT_DELETE)
        return SSP_ERR_PROTO;
    b->action = (enum ssp_action)action;
    struct ssp_mp m = c;
    if (ssp_mp_map(&m, &n) != SSP_OK || n > MAX_FIELDS || ssp_mp_raw(&c, &b->fields) != SSP_OK)
        return SSP_ERR_PROTO;
    /* One more base than fields: an update may also name the delete it settles (""). */
    if (ssp_mp_raw(&c, &b->bases) != SSP_OK || !ssp_mp_done(&c) ||
        check_bases(b->bases, MAX_FIELDS + 1) != SSP_OK)
        return SSP_ERR_PROTO;
    return SSP_OK;
}

/* Orders conflicts by version, then by field name. */
static int
conflict_cmp(const struct ssp_rec_conflict *c, struct ssp_slice name, const struct ssp_version *v)
{
    int k = ssp_version_cmp(&c->ver, v);
    if (k != 0)
        return k;
    size_t n = c->name.n < name.n ? c->name.n : name.n;
    k = n > 0 ? memcmp(c->name.p, name.p, n) : 0;
    if (k != 0)
        return k < 0 ? -1 : 1;
    return c->name.n < name.n ? -1 : c->name.n > name.n;
}

/* Inserts a conflict in its place; the callers check their bounds. */
static ssp_err
insert_conflict(struct ssp_record *r, struct ssp_slice name, struct ssp_slice value,
                const struct ssp_version *v)
{
    ssp_err rc =
        grow((void **)&r->conflicts, r->nconflicts, &r->cap_conflicts, sizeof *r->conflicts);
    if (rc != SSP_OK)
        return rc;
    /*
     * Kept in order of version, then name (one op may lose several fields), so
     * the list is the same on every node whatever order the ops came in.
     */
    uint32_t at = r->nconflicts;
    while (at > 0 && conflict_cmp(&r->conflicts[at - 1], name, v) > 0)
        at--;
    memmove(&r->conflicts[at + 1], &r->conflicts[at], (r->nconflicts - at) * sizeof *r->conflicts);
    r->conflicts[at] = (struct ssp_rec_conflict){name, value, *v};
    r->nconflicts++;
    r->conflict_bytes += name.n + value.n;
    return SSP_OK;
}

/*
 * A conflict a merge adds: SSP_ERR_PROTO past MAX_CONFLICTS or
 * MAX_CONFLICT_BYTES, which no one edits into a record, but one member's
 * commits of updates that name no base could (a commit of 4096 of them
 * makes 12,000 conflicts, of 16 KiB texts a MiB of them).
 */
static ssp_err
add_conflict(struct ssp_record *r, struct ssp_slice name, struct ssp_slice value,
             const struct ssp_version *v)
{
    if (r->nconflicts >= MAX_CONFLICTS || r->conflict_bytes + name.n + value.n > MAX_CONFLICT_BYTES)
        return SSP_ERR_PROTO;
    return insert_conflict(r, name, value, v);
}

static void
drop_conflict(struct ssp_record *r, struct ssp_slice name, const struct ssp_version *v)
{
    for (uint32_t i = 0; i < r->nconflicts; i++) {
        if (ssp_slice_eq(r->conflicts[i].name, name) &&
            ssp_version_cmp(&r->conflicts[i].ver, v) == 0) {
            r->conflict_bytes -= r->conflicts[i].name.n + r->conflicts[i].value.n;
            memmove(&r->conflicts[i], &r->conflicts[i + 1],
                    (r->nconflicts - i - 1) * sizeof *r->conflicts);
            r->nconflicts--;
            return;
        }
    }
}

/*
 * Whether v is a pending base of the field called name; removes it if so (the
 * op has now come), every time it was named: several concurrent writes may
 * have named the same base.
 */
static bool
take_pending(struct ssp_record *r, struct ssp_slice name, const struct ssp_version *v)
{
    bool found = false;
    for (uint32_t i = 0; i < r->npending;) {
        if (ssp_slice_eq(r->pending[i].name, name) && ssp_version_cmp(&r->pending[i].ver, v) == 0) {
            r->pending[i] = r->pending[--r->npending];
            found = true;
        } else {
            i++;
        }
    }
    return found;
}

static struct ssp_rec_field *
find_field(struct ssp_record *r, struct ssp_slice name)
{
    for (uint32_t i = 0; i < r->nfields; i++)
        if (ssp_slice_eq(r->fields[i].name, name))
            return &r->fields[i];
    return NULL;
}

/*
 * An applied op named version base of field name as the one it overwrote:
 * base is superseded. If base is here already it stops being a conflict (or,
 * if it is the current value, it is marked named); if not, it is remembered
 * as pending until it comes. The name "" stands for the record's delete: an
 * op that names the newest delete settles it, and the record stays.
 */
static ssp_err
name_base(struct ssp_record *r, struct ssp_slice name, const struct ssp_version *base)
{
    uint32_t at;
    if (find_op(r, base, &at) >= 0) {
        if (name.n == 0) {
            /* An older delete is no longer the one that counts: nothing to settle. */
            if (r->has_del && ssp_version_cmp(&r->del_ver, base) == 0)
                r->del_named = true;
            return SSP_OK;
        }
        struct ssp_rec_field *f = find_field(r, name);
        drop_conflict(r, name, base);
        if (f != NULL && ssp_version_cmp(&f->ver, base) == 0)
            f->named = true;
        return SSP_OK;
    }
    for (uint32_t i = 0; i < r->npending; i++)
        if (ssp_slice_eq(r->pending[i].name, name) &&
            ssp_version_cmp(&r->pending[i].ver, base) == 0)
            return SSP_OK;
    ssp_err rc = grow((void **)&r->pending, r->npending, &r->cap_pending, sizeof *r->pending);
    if (rc == SSP_OK)
        rc = ssp_arena_copy(&r->arena, name, &name);
    if (rc == SSP_OK)
        r->pending[r->npending++] = (struct ssp_rec_pending){name, *base};
    return rc;
}

/*
 * Names every version of an encoded base value (empty: none), as the bases
 * of the field called name.
 */
static ssp_err
name_base_value(struct ssp_record *r, struct ssp_slice name, struct ssp_slice value)
{
    struct ssp_mp c;
    if (value.n == 0)
        return SSP_OK;
    ssp_mp_init(&c, value);
    return read_base_value(&c, r, name);
}

/*
 * Merges the write of value at version v into the field called name (the
 * rule in record.h); bases is the encoded base value the op gives for it, or
 * empty.
 */
static ssp_err
apply_field(struct ssp_record *r, struct ssp_slice name, struct ssp_slice value,
            const struct ssp_version *v, struct ssp_slice bases)
{
    ssp_err rc = ssp_arena_copy(&r->arena, value, &value);
    if (rc == SSP_OK)
        rc = name_base_value(r, name, bases);
    if (rc != SSP_OK)
        return rc;
    bool superseded = take_pending(r, name, v);
    struct ssp_rec_field *f = find_field(r, name);
    if (f == NULL) {
        if (r->nfields == MAX_FIELDS)
            return SSP_ERR_PROTO;
        rc = grow((void **)&r->fields, r->nfields, &r->cap_fields, sizeof *r->fields);
        if (rc == SSP_OK)
            rc = ssp_arena_copy(&r->arena, name, &name);
        if (rc == SSP_OK)
            r->fields[r->nfields++] = (struct ssp_rec_field){name, value, *v, superseded};
        return rc;
    }
    if (ssp_version_cmp(v, &f->ver) > 0) {
        /* The value it replaces is kept unless some op said it overwrote it. */
        if (!f->named) {
            rc = add_conflict(r, f->name, f->value, &f->ver);
            if (rc != SSP_OK)
                return rc;
            f = find_field(r, name);
        }
        *f = (struct ssp_rec_field){f->name, value, *v, superseded};
        return SSP_OK;
    }
    return superseded ? SSP_OK : add_conflict(r, f->name, value, v);
}

/* Names every base of a delete's bases map (every field; "" is not one). */
static ssp_err
name_bases(struct ssp_record *r, struct ssp_slice bases)
{
    struct ssp_mp c;
    uint32_t n;
    ssp_mp_init(&c, bases);
    if (ssp_mp_map(&c, &n) != SSP_OK)
        return SSP_ERR_PROTO;
    for (uint32_t i = 0; i < n; i++) {
        struct ssp_slice name;
        if (ssp_mp_str(&c, &name) != SSP_OK || name.n == 0)
            return SSP_ERR_PROTO;
        ssp_err rc = read_base_value(&c, r, name);
        if (rc != SSP_OK)
            return rc;
    }
    return SSP_OK;
}

/* The encoded base value an op gives for field name, or empty. */
static ssp_err
base_of(struct ssp_slice bases, struct ssp_slice name, struct ssp_slice *value)
{
    struct ssp_mp c;
    uint32_t n;
    *value = SSP_SLICE(NULL, 0);
    ssp_mp_init(&c, bases);
    if (ssp_mp_map(&c, &n) != SSP_OK)
        return SSP_ERR_PROTO;
    for (uint32_t j = 0; j < n; j++) {
        struct ssp_slice bname, raw;
        if (ssp_mp_str(&c, &bname) != SSP_OK || ssp_mp_raw(&c, &raw) != SSP_OK)
            return SSP_ERR_PROTO;
        if (ssp_slice_eq(bname, name)) {
            *value = raw;
            return SSP_OK;
        }
    }
    return SSP_OK;
}

static ssp_err
apply_fields(struct ssp_record *r, const struct ssp_version *v, const struct ssp_op_body *b)
{
    struct ssp_mp fields;
    struct ssp_slice bases;
    uint32_t n;
    ssp_mp_init(&fields, b->fields);
    if (ssp_mp_map(&fields, &n) != SSP_OK)
        return SSP_ERR_PROTO;
    for (uint32_t i = 0; i < n; i++) {
        struct ssp_slice name, value;
        if (ssp_mp_str(&fields, &name) != SSP_OK || name.n == 0 ||
            ssp_mp_raw(&fields, &value) != SSP_OK || base_of(b->bases, name, &bases) != SSP_OK)
            return SSP_ERR_PROTO;
        ssp_err rc = apply_field(r, name, value, v, bases);
        if (rc != SSP_OK)
            return rc;
    }
    /* The delete this op settles, if it names one. */
    if (base_of(b->bases, SSP_SLICE("", 0), &bases) != SSP_OK)
        return SSP_ERR_PROTO;
    return name_base_value(r, SSP_SLICE("", 0), bases);
}

/*
 * A delete holds while every field's value is one it (or another op) named
 * and no op settled it: a value written concurrently, which the delete did
 * not see, keeps the record alive, and the record is flagged (has_del without
 * deleted or del_named).
 */
static void
settle_delete(struct ssp_record *r)
{
    r->deleted = r->has_del && !r->del_named;
    for (uint32_t i = 0; i < r->nfields && r->deleted; i++)
        r->deleted = r->fields[i].named;
}

/*
 * Forgets every base still pending for v, which has now come: a base that
 * named v for a field v did not write (or, under "", when v is no delete)
 * supersedes nothing. So pending holds exactly the bases naming ops not
 * applied, whatever the order.
 */
static void
drop_pending(struct ssp_record *r, const struct ssp_version *v)
{
    for (uint32_t i = 0; i < r->npending;) {
        if (ssp_version_cmp(&r->pending[i].ver, v) == 0)
            r->pending[i] = r->pending[--r->npending];
        else
            i++;
    }
}

bool
ssp_record_lost_delete(const struct ssp_record *r)
{
    return r->has_del && !r->deleted && !r->del_named;
}

bool
ssp_record_has_conflicts(const struct ssp_record *r)
{
    return r->nconflicts > 0 || ssp_record_lost_delete(r);
}

ssp_err
ssp_record_apply(struct ssp_record *r, const struct ssp_version *v, const struct ssp_op_body *b)
{
    uint32_t at;
    if (r->type[0] == '\0') {
        memcpy(r->type, b->type.p, b->type.n);
        r->type[b->type.n] = '\0';
    } else if (!ssp_slice_eq_str(b->type, r->type)) {
        return SSP_ERR_PROTO;
    }
    if (find_op(r, v, &at) >= 0)
        return SSP_OK;
    if (r->nops == MAX_OPS_PER_RECORD)
        return SSP_ERR_FULL;
    ssp_err rc = grow((void **)&r->ops, r->nops, &r->cap_ops, sizeof *r->ops);
    if (rc != SSP_OK)
        return rc;
    memmove(&r->ops[at + 1], &r->ops[at], (r->nops - at) * sizeof *r->ops);
    r->ops[at] = *v;
    r->nops++;
    if (b->action == SSP_ACT_DELETE) {
        /* An op applied before this delete may have settled it already. */
        bool named = take_pending(r, SSP_SLICE("", 0), v);
        rc = name_bases(r, b->bases);
        if (!r->has_del || ssp_version_cmp(v, &r->del_ver) > 0) {
            r->del_ver = *v;
            r->del_named = named;
        }
        r->has_del = true;
    } else {
        rc = apply_fields(r, v, b);
    }
    drop_pending(r, v);
    settle_delete(r);
    return rc;
}

ssp_err
ssp_record_fields_map(const struct ssp_record *r, struct ssp_buf *out)
{
    struct ssp_mpw w;
    uint32_t n = 0;
    for (uint32_t i = 0; i < r->nfields; i++)
        n += !(r->fields[i].value.n == 1 && r->fields[i].value.p[0] == 0xc0);
    ssp_mpw_init(&w, out);
    ssp_mpw_map(&w, n);
    for (uint32_t i = 0; i < r->nfields; i++) {
        const struct ssp_rec_field *f = &r->fields[i];
        if (f->value.n == 1 && f->value.p[0] == 0xc0)
            continue;
        ssp_mpw_str(&w, f->name.p, f->name.n);
        ssp_mpw_raw(&w, f->value);
    }
    return w.err;
}

/* Length of the clear part of a stored record, or 0 if malformed. */
static size_t
clear_len(struct ssp_slice s, struct ssp_slice *scope, struct ssp_slice *type)
{
    if (s.n < 3 || s.p[0] != STORED_FORMAT)
        return 0;
    size_t slen = s.p[2];
    if (slen == 0 || slen > SSP_SCOPE_MAX || s.n < 3 + slen + 1)
        return 0;
    size_t tlen = s.p[3 + slen];
    size_t n = 3 + slen + 1 + tlen + 4;
    if (tlen == 0 || tlen >= SSP_TYPE_NAME_MAX || s.n < n + SSP_SEAL_OVERHEAD)
        return 0;
    *scope = SSP_SLICE(s.p + 3, slen);
    *type = SSP_SLICE(s.p + 4 + slen, tlen);
    return n;
}

ssp_err
ssp_record_peek(struct ssp_slice stored, struct ssp_slice *scope, struct ssp_slice *type,
                bool *deleted)
{
    if (clear_len(stored, scope, type) == 0)
        return SSP_ERR_CORRUPT;
    *deleted = (stored.p[1] & SSP_REC_FLAG_DELETED) != 0;
    return SSP_OK;
}

ssp_err
ssp_record_peek_flags(struct ssp_slice stored, uint8_t *flags)
{
    struct ssp_slice scope, type;
    if (clear_len(stored, &scope, &type) == 0)
        return SSP_ERR_CORRUPT;
    *flags = stored.p[1];
    return SSP_OK;
}

static ssp_err
encode_state(const struct ssp_record *r, struct ssp_buf *out)
{
    struct ssp_mpw w;
    uint32_t at;
    ssp_mpw_init(&w, out);
    ssp_mpw_array(&w, 6);
    ssp_mpw_cstr(&w, r->type);
    ssp_mpw_array(&w, r->nops);
    for (uint32_t i = 0; i < r->nops; i++)
        write_version(&w, &r->ops[i]);
    ssp_mpw_array(&w, r->nfields);
    for (uint32_t i = 0; i < r->nfields; i++) {
        ssp_mpw_array(&w, 4);
        ssp_mpw_str(&w, r->fields[i].name.p, r->fields[i].name.n);
        ssp_mpw_raw(&w, r->fields[i].value);
        ssp_mpw_uint(&w, (uint64_t)find_op(r, &r->fields[i].ver, &at));
        ssp_mpw_bool(&w, r->fields[i].named);
    }
    ssp_mpw_array(&w, r->nconflicts);
    for (uint32_t i = 0; i < r->nconflicts; i++) {
        ssp_mpw_array(&w, 3);
        ssp_mpw_str(&w, r->conflicts[i].name.p, r->conflicts[i].name.n);
        ssp_mpw_raw(&w, r->conflicts[i].value);
        ssp_mpw_uint(&w, (uint64_t)find_op(r, &r->conflicts[i].ver, &at));
    }
    ssp_mpw_array(&w, r->npending);
    for (uint32_t i = 0; i < r->npending; i++) {
        ssp_mpw_array(&w, 2);
        ssp_mpw_str(&w, r->pending[i].name.p, r->pending[i].name.n);
        write_version(&w, &r->pending[i].ver);
    }
    /* A settled delete carries the mark; an unsettled one reads as it always did. */
    if (r->has_del && r->del_named)
        ssp_mpw_array(&w, 2);
    if (r->has_del)
        ssp_mpw_uint(&w, (uint64_t)find_op(r, &r->del_ver, &at));
    else
        ssp_mpw_nil(&w);
    if (r->has_del && r->del_named)
        ssp_mpw_bool(&w, true);
    return w.err;
}

static size_t
write_clear(const struct ssp_record *r, uint8_t *p)
{
    size_t slen = strlen(r->scope), tlen = strlen(r->type), n = 0;
    p[n++] = STORED_FORMAT;
    p[n++] = (uint8_t)((r->deleted ? SSP_REC_FLAG_DELETED : 0) |
                       (ssp_record_has_conflicts(r) ? SSP_REC_FLAG_CONFLICTS : 0));
    p[n++] = (uint8_t)slen;
    memcpy(p + n, r->scope, slen);
    n += slen;
    p[n++] = (uint8_t)tlen;
    memcpy(p + n, r->type, tlen);
    n += tlen;
    ssp_put_be32(p + n, r->key_epoch);
    return n + 4;
}

#define CLEAR_MAX (3 + SSP_SCOPE_MAX + 1 + SSP_TYPE_NAME_MAX + 4)
#define AD_MAX (sizeof rec_ctx + SSP_RECORD_ID_LEN + CLEAR_MAX)

static size_t
record_ad(const uint8_t id[SSP_RECORD_ID_LEN], const uint8_t *clear, size_t n, uint8_t *ad)
{
    memcpy(ad, rec_ctx, sizeof rec_ctx - 1);
    memcpy(ad + sizeof rec_ctx - 1, id, SSP_RECORD_ID_LEN);
    memcpy(ad + sizeof rec_ctx - 1 + SSP_RECORD_ID_LEN, clear, n);
    return sizeof rec_ctx - 1 + SSP_RECORD_ID_LEN + n;
}

ssp_err
ssp_record_seal(const struct ssp_record *r, const uint8_t key[SSP_KEY_LEN], struct ssp_buf *out)
{
    uint8_t clear[CLEAR_MAX], ad[AD_MAX];
    struct ssp_buf plain;
    size_t n = write_clear(r, clear);
    size_t adn = record_ad(r->id, clear, n, ad);
    ssp_buf_init(&plain);
    ssp_err rc = encode_state(r, &plain);
    out->n = 0;
    if (rc == SSP_OK)
        rc = ssp_buf_append(out, clear, n);
    if (rc == SSP_OK)
        rc = ssp_seal(key, SSP_SLICE(ad, adn), SSP_BUF_SLICE(&plain), out);
    ssp_wipe(plain.p, plain.n);
    ssp_buf_fini(&plain);
    return rc;
}

static ssp_err
read_index(struct ssp_mp *c, uint32_t limit, uint32_t *idx)
{
    uint64_t v;
    if (ssp_mp_uint(c, &v) != SSP_OK || v >= limit)
        return SSP_ERR_CORRUPT;
    *idx = (uint32_t)v;
    return SSP_OK;
}

/* Reads the fields ([[name, value, ver, named] ...]) or conflicts ([[name, value, ver] ...]). */
static ssp_err
decode_entries(struct ssp_mp *c, struct ssp_record *r, bool conflicts)
{
    uint32_t n, k, idx;
    if (ssp_mp_array(c, &n) != SSP_OK || n > (conflicts ? MAX_OPS_PER_RECORD : MAX_FIELDS))
        return SSP_ERR_CORRUPT;
    for (uint32_t i = 0; i < n; i++) {
        struct ssp_slice name, value;
        bool named = false;
        if (ssp_mp_array(c, &k) != SSP_OK || k != (conflicts ? 3 : 4) ||
            ssp_mp_str(c, &name) != SSP_OK || ssp_mp_raw(c, &value) != SSP_OK ||
            read_index(c, r->nops, &idx) != SSP_OK ||
            (!conflicts && ssp_mp_bool(c, &named) != SSP_OK))
            return SSP_ERR_CORRUPT;
        ssp_err rc;
        if (conflicts) {
            rc = insert_conflict(r, name, value, &r->ops[idx]);
        } else {
            rc = grow((void **)&r->fields, r->nfields, &r->cap_fields, sizeof *r->fields);
            if (rc == SSP_OK)
                r->fields[r->nfields++] = (struct ssp_rec_field){name, value, r->ops[idx], named};
        }
        if (rc != SSP_OK)
            return rc;
    }
    return SSP_OK;
}

static ssp_err
decode_pending(struct ssp_mp *c, struct ssp_record *r)
{
    uint32_t n, k;
    if (ssp_mp_array(c, &n) != SSP_OK)
        return SSP_ERR_CORRUPT;
    for (uint32_t i = 0; i < n; i++) {
        struct ssp_slice name;
        struct ssp_version v;
        if (ssp_mp_array(c, &k) != SSP_OK || k != 2 || ssp_mp_str(c, &name) != SSP_OK ||
            read_version(c, &v) != SSP_OK)
            return SSP_ERR_CORRUPT;
        ssp_err rc = grow((void **)&r->pending, r->npending, &r->cap_pending, sizeof *r->pending);
        if (rc != SSP_OK)
            return rc;
        r->pending[r->npending++] = (struct ssp_rec_pending){name, v};
    }
    return SSP_OK;
}

static ssp_err
decode_state(struct ssp_slice plain, struct ssp_record *r)
{
    struct ssp_mp c;
    struct ssp_slice type;
    uint32_t n, idx;
    ssp_mp_init(&c, plain);
    if (ssp_mp_array(&c, &n) != SSP_OK || n != 6 || ssp_mp_str(&c, &type) != SSP_OK ||
        !ssp_slice_eq_str(type, r->type) || ssp_mp_array(&c, &n) != SSP_OK ||
        n > MAX_OPS_PER_RECORD)
        return SSP_ERR_CORRUPT;
    /* Into a temporary: on failure r keeps its old block and capacity. */
    struct ssp_version *ops = ssp_realloc(r->ops, (size_t)(n == 0 ? 1 : n) * sizeof *r->ops);
    if (ops == NULL)
        return SSP_ERR_NOMEM;
    r->ops = ops;
    r->cap_ops = n == 0 ? 1 : n;
    for (r->nops = 0; r->nops < n; r->nops++)
        if (read_version(&c, &r->ops[r->nops]) != SSP_OK)
            return SSP_ERR_CORRUPT;
    ssp_err rc = decode_entries(&c, r, false);
    if (rc == SSP_OK)
        rc = decode_entries(&c, r, true);
    if (rc == SSP_OK)
        rc = decode_pending(&c, r);
    if (rc != SSP_OK)
        return rc;
    r->has_del = !ssp_mp_is_nil(&c);
    enum ssp_mp_type t;
    if (r->has_del && ssp_mp_peek(&c, &t) == SSP_OK && t == SSP_MP_ARRAY) {
        /* [ver, settled]: the delete an op settled. */
        if (ssp_mp_array(&c, &n) != SSP_OK || n != 2 || read_index(&c, r->nops, &idx) != SSP_OK ||
            ssp_mp_bool(&c, &r->del_named) != SSP_OK)
            return SSP_ERR_CORRUPT;
        r->del_ver = r->ops[idx];
    } else if (r->has_del) {
        if (read_index(&c, r->nops, &idx) != SSP_OK)
            return SSP_ERR_CORRUPT;
        r->del_ver = r->ops[idx];
    } else if (ssp_mp_nil(&c) != SSP_OK) {
        return SSP_ERR_CORRUPT;
    }
    settle_delete(r);
    return ssp_mp_done(&c) ? SSP_OK : SSP_ERR_CORRUPT;
}

ssp_err
ssp_record_open(struct ssp_slice stored, const uint8_t id[SSP_RECORD_ID_LEN],
                const struct ssp_keyring *kr, struct ssp_record *r)
{
    struct ssp_slice scope, type, plain;
    uint8_t ad[AD_MAX];
    struct ssp_buf buf;
    size_t n = clear_len(stored, &scope, &type);
    if (n == 0)
        return SSP_ERR_CORRUPT;
    ssp_record_reset(r);
    memcpy(r->id, id, SSP_RECORD_ID_LEN);
    memcpy(r->scope, scope.p, scope.n);
    r->scope[scope.n] = '\0';
    memcpy(r->type, type.p, type.n);
    r->type[type.n] = '\0';
    r->key_epoch = ssp_get_be32(stored.p + n - 4);
    const struct ssp_scope_key *key = ssp_keyring_scope_epoch(kr, scope, r->key_epoch);
    /* A scope we hold with a key epoch we never had means the clear part was altered. */
    if (key == NULL)
        return ssp_keyring_scope(kr, scope) != NULL ? SSP_ERR_CORRUPT : SSP_ERR_DENIED;
    size_t adn = record_ad(id, stored.p, n, ad);
    ssp_buf_init(&buf);
    ssp_err rc =
        ssp_open(key->key, SSP_SLICE(ad, adn), SSP_SLICE(stored.p + n, stored.n - n), &buf);
    if (rc == SSP_OK) {
        /* The state's slices must outlive buf: keep one copy of it in the arena. */
        rc = ssp_arena_copy(&r->arena, SSP_BUF_SLICE(&buf), &plain);
        if (rc == SSP_OK)
            rc = decode_state(plain, r);
        ssp_wipe(buf.p, buf.n);
    }
    ssp_buf_fini(&buf);
    /* The clear flags are authenticated; they must also say what the state says. */
    if (rc == SSP_OK &&
        (r->deleted != ((stored.p[1] & SSP_REC_FLAG_DELETED) != 0) ||
         ssp_record_has_conflicts(r) != ((stored.p[1] & SSP_REC_FLAG_CONFLICTS) != 0)))
        rc = SSP_ERR_CORRUPT;
    return rc;
}
