#include "node/quarantine.h"

#include <string.h>

#include "node/node.h"
#include "node/say.h"
#include "node/store/keys.h"
#include "proto/mp.h"

#define PREFIX "quarantine/"
#define PREFIX_LEN (sizeof PREFIX - 1)

static const char *const kind_names[] = {"", "diverged", "behind", "peer_behind", "recovering"};
static const int kind_weight[] = {0, 2, 1, 1, 3};

const char *
ssp_quarantine_kind_name(enum ssp_quarantine_kind kind)
{
    return kind_names[kind];
}

static size_t
key_of(uint8_t *k, struct ssp_slice scope, const uint8_t origin[SSP_PK_LEN])
{
    memcpy(k, PREFIX, PREFIX_LEN);
    return PREFIX_LEN + ssp_key_stream(k + PREFIX_LEN, scope, origin);
}

static ssp_err
decode(struct ssp_slice k, struct ssp_slice v, struct ssp_quarantine *q)
{
    struct ssp_slice scope;
    const uint8_t *origin;
    struct ssp_mp c;
    uint32_t n;
    uint64_t kind;
    if (k.n < PREFIX_LEN || memcmp(k.p, PREFIX, PREFIX_LEN) != 0 ||
        !ssp_key_stream_parse(SSP_SLICE(k.p + PREFIX_LEN, k.n - PREFIX_LEN), &scope, &origin))
        return SSP_ERR_CORRUPT;
    ssp_mp_init(&c, v);
    if (ssp_mp_array(&c, &n) != SSP_OK || n != 4 || ssp_mp_uint(&c, &kind) != SSP_OK ||
        kind < SSP_QUARANTINE_DIVERGED || kind > SSP_QUARANTINE_RECOVERING ||
        ssp_mp_uint(&c, &q->seq) != SSP_OK || ssp_mp_bin_n(&c, q->peer, SSP_PK_LEN) != SSP_OK ||
        ssp_mp_uint(&c, &q->at_ms) != SSP_OK || !ssp_mp_done(&c))
        return SSP_ERR_CORRUPT;
    memcpy(q->scope, scope.p, scope.n);
    q->scope[scope.n] = '\0';
    memcpy(q->origin, origin, SSP_PK_LEN);
    q->kind = (enum ssp_quarantine_kind)kind;
    return SSP_OK;
}

ssp_err
ssp_quarantine_get(struct ssp_txn *t, struct ssp_slice scope, const uint8_t origin[SSP_PK_LEN],
                   struct ssp_quarantine *q)
{
    uint8_t k[PREFIX_LEN + SSP_KEY_MAX];
    struct ssp_slice key = SSP_SLICE(k, key_of(k, scope, origin)), v;
    ssp_err rc = ssp_txn_get(t, SSP_DB_META, key, &v);
    return rc == SSP_OK ? decode(key, v, q) : rc;
}

ssp_err
ssp_quarantine_put(struct ssp_txn *t, const struct ssp_quarantine *q, bool *added)
{
    struct ssp_slice scope = SSP_SLICE(q->scope, strlen(q->scope));
    struct ssp_quarantine held;
    *added = false;
    ssp_err rc = ssp_quarantine_get(t, scope, q->origin, &held);
    if (rc == SSP_OK && kind_weight[held.kind] >= kind_weight[q->kind])
        return SSP_OK;
    if (rc != SSP_OK && rc != SSP_ERR_NOTFOUND)
        return rc;
    uint8_t k[PREFIX_LEN + SSP_KEY_MAX];
    struct ssp_buf v;
    struct ssp_mpw w;
    ssp_buf_init(&v);
    ssp_mpw_init(&w, &v);
    ssp_mpw_array(&w, 4);
    ssp_mpw_uint(&w, q->kind);
    ssp_mpw_uint(&w, q->seq);
    ssp_mpw_bin(&w, q->peer, SSP_PK_LEN);
    ssp_mpw_uint(&w, q->at_ms);
    rc = w.err;
    if (rc == SSP_OK)
        rc = ssp_txn_put(t, SSP_DB_META, SSP_SLICE(k, key_of(k, scope, q->origin)),
                         SSP_BUF_SLICE(&v));
    ssp_buf_fini(&v);
    *added = rc == SSP_OK;
    return rc;
}

ssp_err
ssp_quarantine_note(struct ssp_txn *t, const struct ssp_quarantine *q,
                    const uint8_t self[SSP_PK_LEN])
{
    char origin[SSP_NODE_ID_TEXT + 1], peer[SSP_NODE_ID_TEXT + 1];
    bool added;
    ssp_err rc = ssp_quarantine_put(t, q, &added);
    if (rc != SSP_OK || !added)
        return rc;
    ssp_node_id_format(q->origin, origin);
    ssp_node_id_format(q->peer, peer);
    bool own = memcmp(q->origin, self, SSP_PK_LEN) == 0;
    if (q->kind == SSP_QUARANTINE_DIVERGED)
        ssp_say(SSP_WARN,
                "stream %s/%.8s quarantined at seq %llu: peer %.8s holds another history of it "
                "(%s); nothing of it is merged; see 'Restored or cloned nodes' in the README",
                q->scope, origin, (unsigned long long)q->seq, peer,
                own ? "this node was restored from an old backup, or cloned"
                    : "its origin was restored from an old backup, or cloned");
    else if (q->kind == SSP_QUARANTINE_BEHIND)
        ssp_say(SSP_WARN,
                "peer %.8s has seen seq %llu of this node's own stream %s, more than this node "
                "holds: it was restored from an older copy; writes to scope '%s' wait until the "
                "lost commits are back",
                peer, (unsigned long long)q->seq, q->scope, q->scope);
    else if (q->kind == SSP_QUARANTINE_PEER_BEHIND)
        ssp_say(SSP_WARN,
                "peer %.8s holds less of its own stream %s than this node (seq %llu): it was "
                "restored from an older copy; sending it back what it lost",
                peer, q->scope, (unsigned long long)q->seq);
    return SSP_OK;
}

ssp_err
ssp_quarantine_del(struct ssp_txn *t, struct ssp_slice scope, const uint8_t origin[SSP_PK_LEN])
{
    uint8_t k[PREFIX_LEN + SSP_KEY_MAX];
    ssp_err rc = ssp_txn_del(t, SSP_DB_META, SSP_SLICE(k, key_of(k, scope, origin)));
    return rc == SSP_ERR_NOTFOUND ? SSP_OK : rc;
}

ssp_err
ssp_quarantine_next(struct ssp_txn *t, bool *started, struct ssp_quarantine *q)
{
    struct ssp_cursor *cur = NULL;
    struct ssp_slice k, v;
    uint8_t after[PREFIX_LEN + SSP_KEY_MAX];
    size_t n = *started ? key_of(after, SSP_SLICE(q->scope, strlen(q->scope)), q->origin)
                        : (memcpy(after, PREFIX, PREFIX_LEN), PREFIX_LEN);
    ssp_err rc = ssp_cursor_open(t, SSP_DB_META, &cur);
    if (rc == SSP_OK)
        rc = ssp_cursor_seek(cur, SSP_SLICE(after, n), &k, &v);
    if (rc == SSP_OK && *started && ssp_slice_eq(k, SSP_SLICE(after, n)))
        rc = ssp_cursor_next(cur, &k, &v);
    if (rc == SSP_OK && (k.n < PREFIX_LEN || memcmp(k.p, PREFIX, PREFIX_LEN) != 0))
        rc = SSP_ERR_NOTFOUND;
    if (rc == SSP_OK)
        rc = decode(k, v, q);
    ssp_cursor_close(cur);
    if (rc == SSP_OK)
        *started = true;
    return rc;
}
