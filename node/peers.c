#include "node/peers.h"

#include <string.h>

#include "proto/mp.h"

static ssp_err
decode(struct ssp_slice k, struct ssp_slice v, struct ssp_peer *p)
{
    struct ssp_mp c;
    struct ssp_slice addr, err;
    uint32_t n;
    if (k.n != SSP_PK_LEN)
        return SSP_ERR_CORRUPT;
    memcpy(p->id, k.p, SSP_PK_LEN);
    ssp_mp_init(&c, v);
    if (ssp_mp_array(&c, &n) != SSP_OK || n != 5 || ssp_mp_str(&c, &addr) != SSP_OK ||
        addr.n > SSP_ADDR_MAX || ssp_mp_uint(&c, &p->last_contact_ms) != SSP_OK ||
        ssp_mp_str(&c, &err) != SSP_OK || err.n > SSP_PEER_ERROR_MAX ||
        ssp_mp_int(&c, &p->skew_ms) != SSP_OK || ssp_mp_bin(&c, &p->hello) != SSP_OK ||
        !ssp_mp_done(&c))
        return SSP_ERR_CORRUPT;
    memcpy(p->addr, addr.p, addr.n);
    p->addr[addr.n] = '\0';
    memcpy(p->last_error, err.p, err.n);
    p->last_error[err.n] = '\0';
    return SSP_OK;
}

ssp_err
ssp_peer_get(struct ssp_txn *t, const uint8_t id[SSP_PK_LEN], struct ssp_peer *p)
{
    struct ssp_slice v;
    ssp_err rc = ssp_txn_get(t, SSP_DB_PEERS, SSP_SLICE(id, SSP_PK_LEN), &v);
    return rc == SSP_OK ? decode(SSP_SLICE(id, SSP_PK_LEN), v, p) : rc;
}

ssp_err
ssp_peer_put(struct ssp_txn *t, const struct ssp_peer *p)
{
    struct ssp_buf v;
    struct ssp_mpw w;
    ssp_buf_init(&v);
    ssp_mpw_init(&w, &v);
    ssp_mpw_array(&w, 5);
    ssp_mpw_cstr(&w, p->addr);
    ssp_mpw_uint(&w, p->last_contact_ms);
    ssp_mpw_cstr(&w, p->last_error);
    ssp_mpw_int(&w, p->skew_ms);
    ssp_mpw_bin(&w, p->hello.p, p->hello.n);
    ssp_err rc = w.err;
    if (rc == SSP_OK)
        rc = ssp_txn_put(t, SSP_DB_PEERS, SSP_SLICE(p->id, SSP_PK_LEN), SSP_BUF_SLICE(&v));
    ssp_buf_fini(&v);
    return rc;
}

ssp_err
ssp_peer_del(struct ssp_txn *t, const uint8_t id[SSP_PK_LEN])
{
    return ssp_txn_del(t, SSP_DB_PEERS, SSP_SLICE(id, SSP_PK_LEN));
}

ssp_err
ssp_peer_next(struct ssp_txn *t, bool *started, struct ssp_peer *p)
{
    struct ssp_cursor *cur = NULL;
    struct ssp_slice k, v;
    uint8_t after[SSP_PK_LEN];
    memcpy(after, p->id, SSP_PK_LEN);
    ssp_err rc = ssp_cursor_open(t, SSP_DB_PEERS, &cur);
    if (rc == SSP_OK)
        rc = ssp_cursor_seek(cur, *started ? SSP_SLICE(after, SSP_PK_LEN) : SSP_SLICE(NULL, 0), &k,
                             &v);
    if (rc == SSP_OK && *started && ssp_slice_eq(k, SSP_SLICE(after, SSP_PK_LEN)))
        rc = ssp_cursor_next(cur, &k, &v);
    if (rc == SSP_OK)
        rc = decode(k, v, p);
    ssp_cursor_close(cur);
    if (rc == SSP_OK)
        *started = true;
    return rc;
}
