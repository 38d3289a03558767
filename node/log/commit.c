#include "node/log/commit.h"

#include <string.h>

/* Context strings in front of what is hashed or sealed: bytes, not C strings. */
static const uint8_t op_ctx[] = "ssp-op-v1";
static const uint8_t ops_ctx[] = "ssp-ops-v1";
static const uint8_t commit_ctx[] = "ssp-commit-v1";

#define CTX(s) SSP_SLICE((s), sizeof(s) - 1)
/* Encoded size bound of an op besides its body: array, id bin, body bin head. */
#define OP_OVERHEAD 32
#define AD_MAX (sizeof op_ctx + 1 + SSP_SCOPE_MAX + 4 + SSP_RECORD_ID_LEN)

void
ssp_commit_builder_init(struct ssp_commit_builder *b)
{
    memset(&b->hdr, 0, sizeof b->hdr);
    b->key = NULL;
    ssp_buf_init(&b->ops);
    ssp_buf_init(&b->hashes);
}

void
ssp_commit_builder_fini(struct ssp_commit_builder *b)
{
    ssp_buf_fini(&b->ops);
    ssp_buf_fini(&b->hashes);
}

void
ssp_commit_begin(struct ssp_commit_builder *b, const struct ssp_commit_hdr *hdr,
                 const struct ssp_scope_key *key)
{
    b->hdr = *hdr;
    b->hdr.key_epoch = key != NULL ? key->epoch : 0;
    b->hdr.schema = SSP_SCHEMA_VERSION;
    b->hdr.nops = 0;
    b->key = key;
    b->ops.n = 0;
    b->hashes.n = 0;
}

bool
ssp_commit_has_room(const struct ssp_commit_builder *b, size_t n)
{
    return b->hdr.nops < SSP_COMMIT_MAX_OPS &&
           b->ops.n + n + SSP_SEAL_OVERHEAD + OP_OVERHEAD + 512 <= SSP_COMMIT_MAX_BYTES &&
           n + SSP_SEAL_OVERHEAD <= SSP_OP_MAX_BODY;
}

static size_t
op_ad(const char *scope, uint32_t key_epoch, const uint8_t id[SSP_RECORD_ID_LEN], uint8_t *ad)
{
    size_t slen = strlen(scope), n = 0;
    memcpy(ad, op_ctx, sizeof op_ctx - 1);
    n += sizeof op_ctx - 1;
    ad[n++] = (uint8_t)slen;
    memcpy(ad + n, scope, slen);
    n += slen;
    ssp_put_be32(ad + n, key_epoch);
    n += 4;
    memcpy(ad + n, id, SSP_RECORD_ID_LEN);
    return n + SSP_RECORD_ID_LEN;
}

static void
op_hash(const uint8_t id[SSP_RECORD_ID_LEN], struct ssp_slice body, uint8_t out[SSP_HASH_LEN])
{
    struct ssp_slice parts[] = {CTX(op_ctx), SSP_SLICE(id, SSP_RECORD_ID_LEN), body};
    ssp_hash(parts, 3, out);
}

ssp_err
ssp_commit_add(struct ssp_commit_builder *b, const uint8_t id[SSP_RECORD_ID_LEN],
               struct ssp_slice plain)
{
    uint8_t ad[AD_MAX], hash[SSP_HASH_LEN];
    size_t body_len = plain.n + (b->key != NULL ? SSP_SEAL_OVERHEAD : 0);
    struct ssp_mpw w;
    if (!ssp_commit_has_room(b, plain.n))
        return SSP_ERR_INVAL;
    ssp_mpw_init(&w, &b->ops);
    ssp_mpw_array(&w, 2);
    ssp_mpw_bin(&w, id, SSP_RECORD_ID_LEN);
    ssp_mpw_bin_head(&w, body_len);
    if (w.err != SSP_OK)
        return w.err;
    ssp_err rc = ssp_buf_reserve(&b->ops, body_len);
    if (rc != SSP_OK)
        return rc;
    uint8_t *body = b->ops.p + b->ops.n;
    if (b->key != NULL)
        ssp_seal_to(b->key->key, SSP_SLICE(ad, op_ad(b->hdr.scope, b->key->epoch, id, ad)), plain,
                    body);
    else
        memcpy(body, plain.p, plain.n);
    b->ops.n += body_len;
    op_hash(id, SSP_SLICE(body, body_len), hash);
    rc = ssp_buf_append(&b->hashes, hash, sizeof hash);
    if (rc == SSP_OK)
        b->hdr.nops++;
    return rc;
}

static void
encode_header(struct ssp_mpw *w, const struct ssp_commit_hdr *h)
{
    ssp_mpw_array(w, 11);
    ssp_mpw_uint(w, SSP_COMMIT_FORMAT);
    ssp_mpw_cstr(w, h->scope);
    ssp_mpw_bin(w, h->origin, SSP_PK_LEN);
    ssp_mpw_uint(w, h->epoch);
    ssp_mpw_uint(w, h->seq);
    ssp_mpw_bin(w, h->prev, SSP_HASH_LEN);
    ssp_mpw_uint(w, h->hlc);
    ssp_mpw_uint(w, h->key_epoch);
    ssp_mpw_uint(w, h->schema);
    ssp_mpw_uint(w, h->nops);
    ssp_mpw_bin(w, h->digest, SSP_HASH_LEN);
}

static void
digest_of(struct ssp_slice hashes, uint8_t out[SSP_HASH_LEN])
{
    struct ssp_slice parts[] = {CTX(ops_ctx), hashes};
    ssp_hash(parts, 2, out);
}

static void
commit_hash(struct ssp_slice header, uint8_t out[SSP_HASH_LEN])
{
    struct ssp_slice parts[] = {CTX(commit_ctx), header};
    ssp_hash(parts, 2, out);
}

void
ssp_commit_hash(const struct ssp_commit *c, uint8_t hash[SSP_HASH_LEN])
{
    commit_hash(c->header, hash);
}

ssp_err
ssp_commit_finish(struct ssp_commit_builder *b, const uint8_t sk[SSP_SK_LEN], struct ssp_buf *out,
                  uint8_t hash[SSP_HASH_LEN])
{
    struct ssp_buf header;
    struct ssp_mpw w;
    uint8_t sig[SSP_SIG_LEN];
    ssp_err rc;

    digest_of(SSP_BUF_SLICE(&b->hashes), b->hdr.digest);
    ssp_buf_init(&header);
    ssp_mpw_init(&w, &header);
    encode_header(&w, &b->hdr);
    rc = w.err;
    if (rc != SSP_OK)
        goto out;
    commit_hash(SSP_BUF_SLICE(&header), hash);
    ssp_sign(sk, hash, sig);
    out->n = 0;
    rc = ssp_buf_reserve(out, header.n + b->ops.n + 128);
    if (rc != SSP_OK)
        goto out;
    ssp_mpw_init(&w, out);
    ssp_mpw_array(&w, 3);
    ssp_mpw_bin(&w, header.p, header.n);
    ssp_mpw_bin(&w, sig, sizeof sig);
    ssp_mpw_array(&w, b->hdr.nops);
    ssp_mpw_raw(&w, SSP_BUF_SLICE(&b->ops));
    rc = w.err;
out:
    ssp_buf_fini(&header);
    return rc;
}

static ssp_err
parse_header(struct ssp_slice bytes, struct ssp_commit_hdr *h)
{
    struct ssp_mp c;
    struct ssp_slice scope;
    uint32_t n;
    uint64_t format, epoch, key_epoch, schema, nops;
    ssp_mp_init(&c, bytes);
    if (ssp_mp_array(&c, &n) != SSP_OK || n != 11 || ssp_mp_uint(&c, &format) != SSP_OK ||
        format != SSP_COMMIT_FORMAT || ssp_mp_str(&c, &scope) != SSP_OK ||
        !ssp_scope_name_valid(scope) || ssp_mp_bin_n(&c, h->origin, SSP_PK_LEN) != SSP_OK ||
        ssp_mp_uint(&c, &epoch) != SSP_OK || epoch > UINT32_MAX ||
        ssp_mp_uint(&c, &h->seq) != SSP_OK || h->seq == 0 ||
        ssp_mp_bin_n(&c, h->prev, SSP_HASH_LEN) != SSP_OK || ssp_mp_uint(&c, &h->hlc) != SSP_OK ||
        ssp_mp_uint(&c, &key_epoch) != SSP_OK || key_epoch > UINT32_MAX ||
        ssp_mp_uint(&c, &schema) != SSP_OK || schema > UINT32_MAX ||
        ssp_mp_uint(&c, &nops) != SSP_OK || nops == 0 || nops > SSP_COMMIT_MAX_OPS ||
        ssp_mp_bin_n(&c, h->digest, SSP_HASH_LEN) != SSP_OK || !ssp_mp_done(&c))
        return SSP_ERR_PROTO;
    memcpy(h->scope, scope.p, scope.n);
    h->scope[scope.n] = '\0';
    h->epoch = (uint32_t)epoch;
    h->key_epoch = (uint32_t)key_epoch;
    /* Only the roster is in clear, and it always is. */
    if ((key_epoch == 0) != (strcmp(h->scope, SSP_ROSTER_SCOPE) == 0))
        return SSP_ERR_PROTO;
    h->schema = (uint32_t)schema;
    h->nops = (uint32_t)nops;
    return SSP_OK;
}

ssp_err
ssp_commit_parse(struct ssp_slice bytes, struct ssp_commit *c)
{
    struct ssp_mp m;
    uint32_t n, nops;
    if (bytes.n > SSP_COMMIT_MAX_BYTES)
        return SSP_ERR_PROTO;
    ssp_mp_init(&m, bytes);
    if (ssp_mp_array(&m, &n) != SSP_OK || n != 3 || ssp_mp_bin(&m, &c->header) != SSP_OK ||
        parse_header(c->header, &c->hdr) != SSP_OK ||
        ssp_mp_bin_n(&m, c->sig, SSP_SIG_LEN) != SSP_OK || ssp_mp_array(&m, &nops) != SSP_OK ||
        nops != c->hdr.nops)
        return SSP_ERR_PROTO;
    c->ops = SSP_SLICE(m.p, (size_t)(m.end - m.p));
    /* Walk the ops once so later iteration cannot fail on structure. */
    size_t pos = 0;
    struct ssp_op op;
    for (uint32_t i = 0; i < nops; i++)
        if (ssp_commit_next_op(c, &pos, &op) != SSP_OK)
            return SSP_ERR_PROTO;
    return pos == c->ops.n ? SSP_OK : SSP_ERR_PROTO;
}

ssp_err
ssp_commit_next_op(const struct ssp_commit *c, size_t *pos, struct ssp_op *op)
{
    struct ssp_mp m;
    uint32_t n;
    if (*pos >= c->ops.n)
        return SSP_ERR_NOTFOUND;
    ssp_mp_init(&m, SSP_SLICE(c->ops.p + *pos, c->ops.n - *pos));
    if (ssp_mp_array(&m, &n) != SSP_OK || n < 2 || n > 3 ||
        ssp_mp_bin_n(&m, op->id, SSP_RECORD_ID_LEN) != SSP_OK)
        return SSP_ERR_PROTO;
    op->redacted = n == 3;
    /* The roster is never redacted: every node must read all of it. */
    if (op->redacted && c->hdr.key_epoch == 0)
        return SSP_ERR_PROTO;
    if (op->redacted) {
        op->body = SSP_SLICE(NULL, 0);
        if (ssp_mp_nil(&m) != SSP_OK || ssp_mp_bin_n(&m, op->hash, SSP_HASH_LEN) != SSP_OK)
            return SSP_ERR_PROTO;
    } else if (ssp_mp_bin(&m, &op->body) != SSP_OK ||
               op->body.n < (c->hdr.key_epoch != 0 ? SSP_SEAL_OVERHEAD : 1) ||
               op->body.n > SSP_OP_MAX_BODY) {
        return SSP_ERR_PROTO;
    }
    *pos = (size_t)(m.p - c->ops.p);
    return SSP_OK;
}

ssp_err
ssp_commit_verify(const struct ssp_commit *c, uint8_t hash[SSP_HASH_LEN])
{
    struct ssp_buf hashes;
    uint8_t digest[SSP_HASH_LEN], h[SSP_HASH_LEN];
    struct ssp_op op;
    size_t pos = 0;
    ssp_err rc = SSP_OK;

    ssp_buf_init(&hashes);
    rc = ssp_buf_reserve(&hashes, (size_t)c->hdr.nops * SSP_HASH_LEN);
    while (rc == SSP_OK && ssp_commit_next_op(c, &pos, &op) == SSP_OK) {
        if (op.redacted)
            memcpy(h, op.hash, SSP_HASH_LEN);
        else
            op_hash(op.id, op.body, h);
        rc = ssp_buf_append(&hashes, h, sizeof h);
    }
    if (rc == SSP_OK) {
        digest_of(SSP_BUF_SLICE(&hashes), digest);
        commit_hash(c->header, hash);
        if (!ssp_equal_ct(digest, c->hdr.digest, SSP_HASH_LEN) ||
            ssp_verify(c->hdr.origin, hash, c->sig) != SSP_OK)
            rc = SSP_ERR_AUTH;
    }
    ssp_buf_fini(&hashes);
    return rc;
}

bool
ssp_commit_has_redacted(const struct ssp_commit *c)
{
    struct ssp_op op;
    size_t pos = 0;
    while (ssp_commit_next_op(c, &pos, &op) == SSP_OK)
        if (op.redacted)
            return true;
    return false;
}

ssp_err
ssp_commit_redact(const struct ssp_commit *c, ssp_redact_fn pick, void *arg, struct ssp_buf *out,
                  uint32_t *count)
{
    struct ssp_mpw w;
    struct ssp_op op;
    size_t pos = 0, start = 0;
    uint8_t h[SSP_HASH_LEN];
    *count = 0;
    out->n = 0;
    ssp_mpw_init(&w, out);
    ssp_mpw_array(&w, 3);
    ssp_mpw_bin(&w, c->header.p, c->header.n);
    ssp_mpw_bin(&w, c->sig, SSP_SIG_LEN);
    ssp_mpw_array(&w, c->hdr.nops);
    while (w.err == SSP_OK && ssp_commit_next_op(c, &pos, &op) == SSP_OK) {
        if (op.redacted || !pick(arg, op.id)) {
            ssp_mpw_raw(&w, SSP_SLICE(c->ops.p + start, pos - start));
        } else {
            op_hash(op.id, op.body, h);
            ssp_mpw_array(&w, 3);
            ssp_mpw_bin(&w, op.id, SSP_RECORD_ID_LEN);
            ssp_mpw_nil(&w);
            ssp_mpw_bin(&w, h, SSP_HASH_LEN);
            (*count)++;
        }
        start = pos;
    }
    return w.err;
}

ssp_err
ssp_op_open(const struct ssp_commit *c, const struct ssp_op *op, const uint8_t key[SSP_KEY_LEN],
            struct ssp_buf *out)
{
    uint8_t ad[AD_MAX];
    if (op->redacted)
        return SSP_ERR_DENIED;
    size_t adn = op_ad(c->hdr.scope, c->hdr.key_epoch, op->id, ad);
    return ssp_open(key, SSP_SLICE(ad, adn), op->body, out);
}
