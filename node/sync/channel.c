#include "node/sync/channel.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "proto/base32.h"
#include "proto/frame.h"
#include "proto/mp.h"

/* Context strings in front of what is hashed: bytes, not C strings. */
static const uint8_t server_ctx[] = "ssp-hs-v1-server";
static const uint8_t client_ctx[] = "ssp-hs-v1-client";
static const uint8_t keys_ctx[] = "ssp-hs-v1-keys";
static const char magic[] = "ssp";

#define CTX(s) SSP_SLICE((s), sizeof(s) - 1)
#define M1_LEN 5
#define M2_LEN 3
#define M3_LEN 1

enum chan_state {
    START,          /* ssp_chan_start not yet called */
    SERVER_WAIT_M1, /* server: nothing sent */
    SERVER_WAIT_M3, /* server: m2 sent, keys derived, m3_hash holds what the client must sign */
    CLIENT_WAIT_M2, /* client: m1 sent and kept in m1 */
    WAIT_HEADER,    /* our stream is open; the peer's header comes next */
    OPEN,           /* both streams open */
    DEAD,           /* after an error: holds no secrets */
};

/* Lives in ssp_secret_alloc memory: it holds the identity and session keys. */
struct ssp_chan {
    enum chan_state state;
    bool client;
    /* Whether peer holds an id to name in messages: dialled, claimed in m1 or proven. */
    bool peer_named;
    uint8_t network[SSP_NETWORK_ID_LEN];
    uint8_t id[SSP_PK_LEN];
    uint8_t sk[SSP_SK_LEN]; /* wiped once our handshake signature is made */
    uint8_t peer[SSP_PK_LEN];
    uint8_t eph_pk[SSP_KX_PK_LEN];
    uint8_t eph_sk[SSP_KX_SK_LEN]; /* wiped once the shared secret is made */
    uint8_t m1[SSP_HS_MAX_FRAME];  /* client: our m1, needed again when m2 arrives */
    size_t m1_n;
    uint8_t m3_hash[SSP_HASH_LEN];
    uint8_t send_key[SSP_KEY_LEN]; /* until our stream is opened */
    uint8_t recv_key[SSP_KEY_LEN]; /* until the peer's header arrives */
    struct ssp_sstream *tx, *rx;
    ssp_chan_allow_fn allow;
    void *arg;
};

ssp_err
ssp_chan_new(bool client, const uint8_t network[SSP_NETWORK_ID_LEN], const uint8_t pk[SSP_PK_LEN],
             const uint8_t sk[SSP_SK_LEN], const uint8_t *expect_peer, ssp_chan_allow_fn allow,
             void *arg, struct ssp_chan **out)
{
    *out = NULL;
    if (network == NULL || pk == NULL || sk == NULL)
        return SSP_ERR_INVAL;
    if (client ? expect_peer == NULL || memcmp(expect_peer, pk, SSP_PK_LEN) == 0
               : expect_peer != NULL || allow == NULL)
        return SSP_ERR_INVAL;
    struct ssp_chan *ch = ssp_secret_alloc(sizeof *ch);
    if (ch == NULL)
        return SSP_ERR_NOMEM;
    ch->state = START;
    ch->client = client;
    memcpy(ch->network, network, SSP_NETWORK_ID_LEN);
    memcpy(ch->id, pk, SSP_PK_LEN);
    memcpy(ch->sk, sk, SSP_SK_LEN);
    if (client) {
        memcpy(ch->peer, expect_peer, SSP_PK_LEN);
        ch->peer_named = true;
    }
    ch->allow = allow;
    ch->arg = arg;
    *out = ch;
    return SSP_OK;
}

/* Drops every secret the channel holds; what is left is public. */
static void
wipe_secrets(struct ssp_chan *ch)
{
    ssp_sstream_free(ch->tx);
    ssp_sstream_free(ch->rx);
    ch->tx = ch->rx = NULL;
    ssp_wipe(ch->sk, sizeof ch->sk);
    ssp_wipe(ch->eph_sk, sizeof ch->eph_sk);
    ssp_wipe(ch->send_key, sizeof ch->send_key);
    ssp_wipe(ch->recv_key, sizeof ch->recv_key);
}

void
ssp_chan_free(struct ssp_chan *ch)
{
    if (ch == NULL)
        return;
    wipe_secrets(ch);
    ssp_secret_free(ch);
}

/* Marks the channel dead and writes "peer XXXXXXXX: <reason>" into d. */
static ssp_err fail(struct ssp_chan *ch, struct ssp_diag *d, ssp_err rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static ssp_err
fail(struct ssp_chan *ch, struct ssp_diag *d, ssp_err rc, const char *fmt, ...)
{
    char reason[SSP_DIAG_MAX], id[SSP_BASE32_LEN(SSP_PK_LEN) + 1];
    va_list ap;
    wipe_secrets(ch);
    ch->state = DEAD;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    if (!ch->peer_named)
        return ssp_diag_set(d, rc, "unidentified peer: %s", reason);
    ssp_base32_encode(ch->peer, SSP_PK_LEN, id);
    return ssp_diag_set(d, rc, "peer %.8s: %s", id, reason);
}

static ssp_err
fail_nomem(struct ssp_chan *ch, struct ssp_diag *d, ssp_err rc)
{
    return fail(ch, d, rc, "%s on its channel; dropping the connection", ssp_strerror(rc));
}

ssp_err
ssp_chan_start(struct ssp_chan *ch, struct ssp_buf *out)
{
    struct ssp_buf m1;
    struct ssp_mpw w;
    ssp_err rc;
    if (ch->state == DEAD)
        return SSP_ERR_PROTO;
    if (ch->state != START)
        return fail(ch, NULL, SSP_ERR_INVAL, "handshake started twice");
    if (!ch->client) {
        ch->state = SERVER_WAIT_M1;
        return SSP_OK;
    }
    ssp_kx_keypair(ch->eph_pk, ch->eph_sk);
    ssp_buf_init(&m1);
    ssp_mpw_init(&w, &m1);
    ssp_mpw_array(&w, M1_LEN);
    ssp_mpw_str(&w, magic, sizeof magic - 1);
    ssp_mpw_uint(&w, SSP_HS_VERSION);
    ssp_mpw_bin(&w, ch->network, SSP_NETWORK_ID_LEN);
    ssp_mpw_bin(&w, ch->id, SSP_PK_LEN);
    ssp_mpw_bin(&w, ch->eph_pk, SSP_KX_PK_LEN);
    rc = w.err;
    if (rc == SSP_OK)
        rc = m1.n <= sizeof ch->m1 ? ssp_frame_encode(out, SSP_BUF_SLICE(&m1)) : SSP_ERR_INTERNAL;
    if (rc == SSP_OK) {
        /* Kept: both signatures and the keys cover m1 as sent. */
        memcpy(ch->m1, m1.p, m1.n);
        ch->m1_n = m1.n;
        ch->state = CLIENT_WAIT_M2;
    }
    ssp_buf_fini(&m1);
    return rc == SSP_OK ? SSP_OK : fail_nomem(ch, NULL, rc);
}

/*
 * Parses m1. The version is read before the array length is checked, so a
 * later version may change the message and still be refused as a version.
 */
static ssp_err
parse_m1(struct ssp_slice p, uint64_t *version, uint8_t network[SSP_NETWORK_ID_LEN],
         uint8_t client[SSP_PK_LEN], uint8_t eph[SSP_KX_PK_LEN])
{
    struct ssp_mp c;
    struct ssp_slice s;
    uint32_t n;
    ssp_mp_init(&c, p);
    if (ssp_mp_array(&c, &n) != SSP_OK || n < 2 || ssp_mp_str(&c, &s) != SSP_OK ||
        !ssp_slice_eq_str(s, magic) || ssp_mp_uint(&c, version) != SSP_OK)
        return SSP_ERR_PROTO;
    if (*version != SSP_HS_VERSION)
        return SSP_ERR_VERSION;
    if (n != M1_LEN || ssp_mp_bin_n(&c, network, SSP_NETWORK_ID_LEN) != SSP_OK ||
        ssp_mp_bin_n(&c, client, SSP_PK_LEN) != SSP_OK ||
        ssp_mp_bin_n(&c, eph, SSP_KX_PK_LEN) != SSP_OK || !ssp_mp_done(&c))
        return SSP_ERR_PROTO;
    return SSP_OK;
}

/* Server: checks m1, then answers with m2 and derives the session keys. */
static ssp_err
server_m1(struct ssp_chan *ch, struct ssp_slice m1, struct ssp_buf *out, struct ssp_diag *d)
{
    uint8_t network[SSP_NETWORK_ID_LEN], client[SSP_PK_LEN], eph[SSP_KX_PK_LEN];
    uint8_t shared[SSP_KX_SHARED_LEN], h[SSP_HASH_LEN], th[SSP_HASH_LEN], sig[SSP_SIG_LEN];
    struct ssp_buf m2;
    struct ssp_mpw w;
    uint64_t version = 0;
    ssp_err rc;

    ssp_buf_init(&m2);
    rc = parse_m1(m1, &version, network, client, eph);
    if (rc == SSP_ERR_VERSION) {
        rc = fail(ch, d, rc,
                  "it speaks protocol version %llu, this node speaks %d; upgrade the older one",
                  (unsigned long long)version, SSP_HS_VERSION);
        goto out;
    }
    if (rc != SSP_OK) {
        rc = fail(ch, d, rc, "its first handshake message is malformed; is it an ssp node?");
        goto out;
    }
    memcpy(ch->peer, client, SSP_PK_LEN);
    ch->peer_named = true;
    if (memcmp(network, ch->network, SSP_NETWORK_ID_LEN) != 0) {
        rc = fail(ch, d, SSP_ERR_AUTH, "it belongs to another network");
        goto out;
    }
    if (memcmp(client, ch->id, SSP_PK_LEN) == 0) {
        rc = fail(ch, d, SSP_ERR_AUTH, "it claims this node's own id; refusing to talk to itself");
        goto out;
    }
    rc = ch->allow(ch->arg, ch->peer);
    if (rc != SSP_OK) {
        rc = fail(ch, d, rc < 0 ? rc : SSP_ERR_INTERNAL,
                  "it may not connect to this node (%s); enrol it if it should", ssp_strerror(rc));
        goto out;
    }

    ssp_kx_keypair(ch->eph_pk, ch->eph_sk);
    rc = ssp_kx_shared(ch->eph_sk, eph, shared);
    ssp_wipe(ch->eph_sk, sizeof ch->eph_sk);
    if (rc != SSP_OK) {
        rc = fail(ch, d, rc, "its ephemeral key is invalid");
        goto out;
    }
    struct ssp_slice sparts[] = {CTX(server_ctx), m1, SSP_SLICE(ch->id, SSP_PK_LEN),
                                 SSP_SLICE(ch->eph_pk, SSP_KX_PK_LEN)};
    ssp_hash(sparts, 4, h);
    ssp_sign(ch->sk, h, sig);
    ssp_wipe(ch->sk, sizeof ch->sk);

    ssp_mpw_init(&w, &m2);
    ssp_mpw_array(&w, M2_LEN);
    ssp_mpw_bin(&w, ch->id, SSP_PK_LEN);
    ssp_mpw_bin(&w, ch->eph_pk, SSP_KX_PK_LEN);
    ssp_mpw_bin(&w, sig, SSP_SIG_LEN);
    rc = w.err;
    if (rc == SSP_OK)
        rc = ssp_frame_encode(out, SSP_BUF_SLICE(&m2));
    if (rc != SSP_OK) {
        rc = fail_nomem(ch, d, rc);
        goto out;
    }
    struct ssp_slice cparts[] = {CTX(client_ctx), m1, SSP_BUF_SLICE(&m2)};
    ssp_hash(cparts, 3, ch->m3_hash);
    struct ssp_slice kparts[] = {CTX(keys_ctx), m1, SSP_BUF_SLICE(&m2)};
    ssp_hash(kparts, 3, th);
    ssp_kx_session_keys(shared, th, ch->recv_key, ch->send_key);
    ch->state = SERVER_WAIT_M3;
out:
    ssp_wipe(shared, sizeof shared);
    ssp_buf_fini(&m2);
    return rc;
}

/* Opens our sending stream and appends the frame of its header to out. */
static ssp_err
open_tx(struct ssp_chan *ch, struct ssp_buf *out)
{
    uint8_t header[SSP_SSTREAM_HEADER_LEN];
    ssp_err rc = ssp_sstream_push_new(ch->send_key, header, &ch->tx);
    ssp_wipe(ch->send_key, sizeof ch->send_key);
    if (rc != SSP_OK)
        return rc;
    return ssp_frame_encode(out, SSP_SLICE(header, sizeof header));
}

/* Client: checks m2, then answers with m3 and the header of its stream. */
static ssp_err
client_m2(struct ssp_chan *ch, struct ssp_slice m2, struct ssp_buf *out, struct ssp_diag *d)
{
    uint8_t server[SSP_PK_LEN], eph[SSP_KX_PK_LEN], sig[SSP_SIG_LEN];
    uint8_t shared[SSP_KX_SHARED_LEN], h[SSP_HASH_LEN], th[SSP_HASH_LEN];
    struct ssp_buf m3;
    struct ssp_slice m1 = SSP_SLICE(ch->m1, ch->m1_n);
    struct ssp_mp c;
    struct ssp_mpw w;
    uint32_t n;
    ssp_err rc;

    ssp_mp_init(&c, m2);
    if (ssp_mp_array(&c, &n) != SSP_OK || n != M2_LEN ||
        ssp_mp_bin_n(&c, server, SSP_PK_LEN) != SSP_OK ||
        ssp_mp_bin_n(&c, eph, SSP_KX_PK_LEN) != SSP_OK ||
        ssp_mp_bin_n(&c, sig, SSP_SIG_LEN) != SSP_OK || !ssp_mp_done(&c))
        return fail(ch, d, SSP_ERR_PROTO, "its handshake reply is malformed");
    if (memcmp(server, ch->peer, SSP_PK_LEN) != 0) {
        char claimed[SSP_BASE32_LEN(SSP_PK_LEN) + 1], expected[SSP_BASE32_LEN(SSP_PK_LEN) + 1];
        ssp_base32_encode(server, SSP_PK_LEN, claimed);
        ssp_base32_encode(ch->peer, SSP_PK_LEN, expected);
        (void)fail(ch, NULL, SSP_ERR_AUTH, "wrong id");
        return ssp_diag_set(d, SSP_ERR_AUTH,
                            "peer claims to be %.8s, expected %.8s; check the address dialled",
                            claimed, expected);
    }
    struct ssp_slice sparts[] = {CTX(server_ctx), m1, SSP_SLICE(server, SSP_PK_LEN),
                                 SSP_SLICE(eph, SSP_KX_PK_LEN)};
    ssp_hash(sparts, 4, h);
    if (ssp_verify(server, h, sig) != SSP_OK)
        return fail(ch, d, SSP_ERR_AUTH, "its handshake signature does not verify");
    rc = ssp_kx_shared(ch->eph_sk, eph, shared);
    ssp_wipe(ch->eph_sk, sizeof ch->eph_sk);
    if (rc != SSP_OK)
        return fail(ch, d, rc, "its ephemeral key is invalid");

    struct ssp_slice cparts[] = {CTX(client_ctx), m1, m2};
    ssp_hash(cparts, 3, h);
    ssp_sign(ch->sk, h, sig);
    ssp_wipe(ch->sk, sizeof ch->sk);
    struct ssp_slice kparts[] = {CTX(keys_ctx), m1, m2};
    ssp_hash(kparts, 3, th);
    ssp_kx_session_keys(shared, th, ch->send_key, ch->recv_key);
    ssp_wipe(shared, sizeof shared);

    ssp_buf_init(&m3);
    ssp_mpw_init(&w, &m3);
    ssp_mpw_array(&w, M3_LEN);
    ssp_mpw_bin(&w, sig, SSP_SIG_LEN);
    rc = w.err;
    if (rc == SSP_OK)
        rc = ssp_frame_encode(out, SSP_BUF_SLICE(&m3));
    ssp_buf_fini(&m3);
    if (rc == SSP_OK)
        rc = open_tx(ch, out);
    if (rc != SSP_OK)
        return fail_nomem(ch, d, rc);
    ch->state = WAIT_HEADER;
    return SSP_OK;
}

/* Server: checks m3; the client is then proven and our stream opens. */
static ssp_err
server_m3(struct ssp_chan *ch, struct ssp_slice m3, struct ssp_buf *out, struct ssp_diag *d)
{
    uint8_t sig[SSP_SIG_LEN];
    struct ssp_mp c;
    uint32_t n;
    ssp_mp_init(&c, m3);
    if (ssp_mp_array(&c, &n) != SSP_OK || n != M3_LEN ||
        ssp_mp_bin_n(&c, sig, SSP_SIG_LEN) != SSP_OK || !ssp_mp_done(&c))
        return fail(ch, d, SSP_ERR_PROTO, "its last handshake message is malformed");
    if (ssp_verify(ch->peer, ch->m3_hash, sig) != SSP_OK)
        return fail(ch, d, SSP_ERR_AUTH, "its handshake signature does not verify");
    ssp_err rc = open_tx(ch, out);
    if (rc != SSP_OK)
        return fail_nomem(ch, d, rc);
    ch->state = WAIT_HEADER;
    return SSP_OK;
}

static ssp_err
open_rx(struct ssp_chan *ch, struct ssp_slice header, struct ssp_diag *d)
{
    if (header.n != SSP_SSTREAM_HEADER_LEN)
        return fail(ch, d, SSP_ERR_PROTO, "its stream header is %zu bytes, not %d", header.n,
                    SSP_SSTREAM_HEADER_LEN);
    ssp_err rc = ssp_sstream_pull_new(ch->recv_key, header.p, &ch->rx);
    ssp_wipe(ch->recv_key, sizeof ch->recv_key);
    if (rc == SSP_ERR_AUTH)
        return fail(ch, d, rc, "its stream header is invalid");
    if (rc != SSP_OK)
        return fail_nomem(ch, d, rc);
    ch->state = OPEN;
    return SSP_OK;
}

static ssp_err
input(struct ssp_chan *ch, struct ssp_slice payload, struct ssp_buf *out, struct ssp_buf *msg,
      bool *got_msg, struct ssp_diag *d)
{
    if (ch->state == DEAD)
        return ssp_diag_set(d, SSP_ERR_PROTO, "the channel was closed after an earlier error");
    if (payload.n > ssp_chan_max_frame(ch))
        return fail(ch, d, SSP_ERR_PROTO, "it sent a frame of %zu bytes, more than the %zu allowed",
                    payload.n, ssp_chan_max_frame(ch));
    switch (ch->state) {
    case SERVER_WAIT_M1:
        return server_m1(ch, payload, out, d);
    case CLIENT_WAIT_M2:
        return client_m2(ch, payload, out, d);
    case SERVER_WAIT_M3:
        return server_m3(ch, payload, out, d);
    case WAIT_HEADER:
        return open_rx(ch, payload, d);
    case OPEN: {
        ssp_err rc = ssp_sstream_pull(ch->rx, payload, msg);
        if (rc == SSP_ERR_AUTH)
            return fail(ch, d, rc,
                        "a message does not authenticate (altered, reordered or replayed); "
                        "dropping the connection");
        if (rc != SSP_OK)
            return fail_nomem(ch, d, rc);
        *got_msg = true;
        return SSP_OK;
    }
    case START:
        return fail(ch, d, SSP_ERR_PROTO, "it sent data before the handshake started");
    case DEAD:
        break;
    }
    return SSP_ERR_INTERNAL; /* DEAD was handled above */
}

ssp_err
ssp_chan_input(struct ssp_chan *ch, struct ssp_slice payload, struct ssp_buf *out,
               struct ssp_buf *msg, bool *got_msg, struct ssp_diag *d)
{
    size_t out_n = out->n, msg_n = msg->n;
    *got_msg = false;
    ssp_err rc = input(ch, payload, out, msg, got_msg, d);
    if (rc != SSP_OK) {
        /* Nothing of a failed step is sent: a refused peer gets no bytes at all. */
        out->n = out_n;
        msg->n = msg_n;
        *got_msg = false;
    }
    return rc;
}

bool
ssp_chan_ready(const struct ssp_chan *ch)
{
    return ch->state == WAIT_HEADER || ch->state == OPEN;
}

const uint8_t *
ssp_chan_peer(const struct ssp_chan *ch)
{
    return ssp_chan_ready(ch) ? ch->peer : NULL;
}

size_t
ssp_chan_max_frame(const struct ssp_chan *ch)
{
    return ssp_chan_ready(ch) ? SSP_CHAN_MAX_FRAME : SSP_HS_MAX_FRAME;
}

ssp_err
ssp_chan_send(struct ssp_chan *ch, struct ssp_slice msg, struct ssp_buf *out)
{
    size_t out_n = out->n;
    ssp_err rc;
    if (ch->state == DEAD)
        return SSP_ERR_PROTO;
    if (!ssp_chan_ready(ch) || msg.n > SSP_CHAN_MAX_MSG) {
        rc = SSP_ERR_INVAL;
        goto out;
    }
    rc = ssp_buf_reserve(out, SSP_FRAME_HDR + msg.n + SSP_SSTREAM_ABYTES);
    if (rc == SSP_OK)
        rc = ssp_buf_append_be32(out, (uint32_t)(msg.n + SSP_SSTREAM_ABYTES));
    if (rc == SSP_OK)
        rc = ssp_sstream_push(ch->tx, msg, out);
    if (rc == SSP_OK)
        return SSP_OK;
out:
    out->n = out_n;
    return fail(ch, NULL, rc, "sending failed");
}
