/*
 * Tests of node/sync/channel (the peer handshake and encrypted channel) and
 * the primitives it and grants rest on (crypto.h). Two channels talk through
 * buffers of frames, exactly as they would through a socket.
 */
#include <stdbool.h>

#include "harness.h"
#include "node/sync/channel.h"
#include "proto/base32.h"
#include "proto/frame.h"
#include "proto/mp.h"

struct ident {
    uint8_t pk[SSP_PK_LEN];
    uint8_t sk[SSP_SK_LEN];
};

static struct ident A, B, C;
static const uint8_t net[SSP_NETWORK_ID_LEN] = {'n', 'e', 't', '-', '1'};
static const uint8_t other_net[SSP_NETWORK_ID_LEN] = {'n', 'e', 't', '-', '2'};

static void
init(void)
{
    CHECK_OK(ssp_crypto_init());
    ssp_sign_keypair(A.pk, A.sk);
    ssp_sign_keypair(B.pk, B.sk);
    ssp_sign_keypair(C.pk, C.sk);
}

/* What the server's allow callback saw, and whom it refuses. */
struct gate {
    int calls;
    uint8_t last[SSP_PK_LEN];
    const uint8_t *refuse;
};

static ssp_err
gate_allow(void *arg, const uint8_t peer[SSP_PK_LEN])
{
    struct gate *g = arg;
    g->calls++;
    memcpy(g->last, peer, SSP_PK_LEN);
    return g->refuse != NULL && memcmp(g->refuse, peer, SSP_PK_LEN) == 0 ? SSP_ERR_DENIED : SSP_OK;
}

static void
short_id(const uint8_t id[SSP_PK_LEN], char out[9])
{
    char text[SSP_BASE32_LEN(SSP_PK_LEN) + 1];
    ssp_base32_encode(id, SSP_PK_LEN, text);
    memcpy(out, text, 8);
    out[8] = '\0';
}

/* Takes the first frame out of q into p (reset first); false if q holds none. */
static bool
pop(struct ssp_buf *q, struct ssp_buf *p)
{
    struct ssp_slice payload;
    size_t used;
    if (ssp_frame_decode(SSP_BUF_SLICE(q), SSP_CHAN_MAX_FRAME, &payload, &used) != SSP_OK)
        return false;
    p->n = 0;
    CHECK_OK(ssp_buf_append(p, payload.p, payload.n));
    ssp_buf_consume(q, used);
    return true;
}

static int
count_frames(struct ssp_buf *q)
{
    struct ssp_slice s = SSP_BUF_SLICE(q), payload;
    size_t used;
    int n = 0;
    while (ssp_frame_decode(s, SSP_CHAN_MAX_FRAME, &payload, &used) == SSP_OK) {
        s.p += used;
        s.n -= used;
        n++;
    }
    CHECK_INT(s.n, 0);
    return n;
}

/* One client and one server channel with their output queues. */
struct pair {
    struct ssp_chan *c, *s;
    struct ssp_buf c_out, s_out, msg, m1, m2, m3;
    struct gate gate;
    struct ssp_diag d;
};

static void
pair_new(struct pair *p, const struct ident *client, const uint8_t *dial,
         const struct ident *server, const uint8_t *server_net)
{
    memset(p, 0, sizeof *p);
    ssp_buf_init(&p->c_out);
    ssp_buf_init(&p->s_out);
    ssp_buf_init(&p->msg);
    ssp_buf_init(&p->m1);
    ssp_buf_init(&p->m2);
    ssp_buf_init(&p->m3);
    CHECK_OK(ssp_chan_new(true, net, client->pk, client->sk, dial, NULL, NULL, &p->c));
    CHECK_OK(
        ssp_chan_new(false, server_net, server->pk, server->sk, NULL, gate_allow, &p->gate, &p->s));
    CHECK_OK(ssp_chan_start(p->s, &p->s_out));
    CHECK_INT(p->s_out.n, 0);
    CHECK_OK(ssp_chan_start(p->c, &p->c_out));
    CHECK(pop(&p->c_out, &p->m1));
    CHECK_INT(p->c_out.n, 0);
}

static void
pair_free(struct pair *p)
{
    ssp_chan_free(p->c);
    ssp_chan_free(p->s);
    ssp_buf_fini(&p->c_out);
    ssp_buf_fini(&p->s_out);
    ssp_buf_fini(&p->msg);
    ssp_buf_fini(&p->m1);
    ssp_buf_fini(&p->m2);
    ssp_buf_fini(&p->m3);
}

static ssp_err
feed(struct ssp_chan *ch, struct ssp_slice payload, struct ssp_buf *out, struct ssp_buf *msg,
     struct ssp_diag *d)
{
    bool got;
    ssp_err rc = ssp_chan_input(ch, payload, out, msg, &got, d);
    CHECK(!got || rc == SSP_OK);
    return rc;
}

/* Feeds m1 to the server; m2 comes out. */
static void
step_m1(struct pair *p)
{
    CHECK_OK(feed(p->s, SSP_BUF_SLICE(&p->m1), &p->s_out, &p->msg, &p->d));
    CHECK(pop(&p->s_out, &p->m2));
    CHECK_INT(p->s_out.n, 0);
    CHECK(!ssp_chan_ready(p->s));
}

/* Feeds m2 to the client; m3 and its stream header come out. */
static void
step_m2(struct pair *p)
{
    CHECK_OK(feed(p->c, SSP_BUF_SLICE(&p->m2), &p->c_out, &p->msg, &p->d));
    CHECK(pop(&p->c_out, &p->m3));
    CHECK(ssp_chan_ready(p->c));
}

/* A whole handshake, and both headers delivered: both sides OPEN. */
static void
handshake(struct pair *p)
{
    struct ssp_buf f;
    ssp_buf_init(&f);
    step_m1(p);
    step_m2(p);
    CHECK_OK(feed(p->s, SSP_BUF_SLICE(&p->m3), &p->s_out, &p->msg, &p->d));
    CHECK(ssp_chan_ready(p->s));
    CHECK(pop(&p->c_out, &f)); /* the client's header */
    CHECK_OK(feed(p->s, SSP_BUF_SLICE(&f), &p->s_out, &p->msg, &p->d));
    CHECK(pop(&p->s_out, &f)); /* the server's header */
    CHECK_OK(feed(p->c, SSP_BUF_SLICE(&f), &p->c_out, &p->msg, &p->d));
    CHECK_INT(p->c_out.n + p->s_out.n + p->msg.n, 0);
    ssp_buf_fini(&f);
}

/* Receives the next frame of q on ch and checks that it decrypts to want. */
static void
expect_msg(struct ssp_chan *ch, struct ssp_buf *q, struct ssp_slice want)
{
    struct ssp_buf f, out, msg;
    bool got = false;
    ssp_buf_init(&f);
    ssp_buf_init(&out);
    ssp_buf_init(&msg);
    CHECK(pop(q, &f));
    CHECK_INT(f.n, want.n + SSP_SSTREAM_ABYTES);
    CHECK_OK(ssp_chan_input(ch, SSP_BUF_SLICE(&f), &out, &msg, &got, NULL));
    CHECK(got);
    CHECK_INT(out.n, 0);
    CHECK(ssp_slice_eq(SSP_BUF_SLICE(&msg), want));
    ssp_buf_fini(&f);
    ssp_buf_fini(&out);
    ssp_buf_fini(&msg);
}

/* ---- handshake and channel ---- */

static void
test_handshake_and_messages(void)
{
    struct pair p;
    struct ssp_buf f, big;
    init();
    ssp_buf_init(&f);
    ssp_buf_init(&big);
    pair_new(&p, &A, B.pk, &B, net);
    CHECK_INT(ssp_chan_max_frame(p.c), SSP_HS_MAX_FRAME);
    CHECK(ssp_chan_peer(p.c) == NULL);

    /* m1 is exactly the documented bytes: fixarray(5), "ssp", 1, then three bin8(32). */
    CHECK_INT(p.m1.n, 108);
    CHECK(memcmp(p.m1.p, "\x95\xa3ssp\x01\xc4\x20", 8) == 0);
    CHECK(memcmp(p.m1.p + 8, net, 32) == 0);
    CHECK(memcmp(p.m1.p + 42, A.pk, 32) == 0);

    step_m1(&p);
    CHECK_INT(p.gate.calls, 1);
    CHECK(memcmp(p.gate.last, A.pk, SSP_PK_LEN) == 0);
    CHECK_INT(p.m2.n, 135);
    CHECK(memcmp(p.m2.p, "\x93\xc4\x20", 3) == 0);
    CHECK(memcmp(p.m2.p + 3, B.pk, 32) == 0);
    CHECK(ssp_chan_peer(p.s) == NULL); /* claimed, not yet proven */

    /* The client answers with m3 and its stream header in one output. */
    CHECK_OK(feed(p.c, SSP_BUF_SLICE(&p.m2), &p.c_out, &p.msg, &p.d));
    CHECK_INT(count_frames(&p.c_out), 2);
    CHECK(pop(&p.c_out, &p.m3));
    CHECK_INT(p.m3.n, 67);
    CHECK(ssp_chan_ready(p.c));
    CHECK(memcmp(ssp_chan_peer(p.c), B.pk, SSP_PK_LEN) == 0);
    CHECK_INT(ssp_chan_max_frame(p.c), SSP_CHAN_MAX_FRAME);

    /* The client may send at once; the server reads m3, the header, then messages. */
    CHECK_OK(ssp_chan_send(p.c, SSP_SLICE_STR("hello"), &p.c_out));
    CHECK_OK(ssp_chan_send(p.c, SSP_SLICE(NULL, 0), &p.c_out));
    CHECK_OK(ssp_chan_send(p.c, SSP_SLICE_STR("third"), &p.c_out));
    CHECK_OK(feed(p.s, SSP_BUF_SLICE(&p.m3), &p.s_out, &p.msg, &p.d));
    CHECK(ssp_chan_ready(p.s));
    CHECK(memcmp(ssp_chan_peer(p.s), A.pk, SSP_PK_LEN) == 0);
    CHECK(pop(&p.c_out, &f));
    CHECK_INT(f.n, SSP_SSTREAM_HEADER_LEN);
    CHECK_OK(feed(p.s, SSP_BUF_SLICE(&f), &p.s_out, &p.msg, &p.d));
    expect_msg(p.s, &p.c_out, SSP_SLICE_STR("hello"));
    expect_msg(p.s, &p.c_out, SSP_SLICE(NULL, 0));
    expect_msg(p.s, &p.c_out, SSP_SLICE_STR("third"));

    /* The other way, up to the largest message. */
    CHECK_OK(ssp_buf_reserve(&big, SSP_CHAN_MAX_MSG));
    big.n = SSP_CHAN_MAX_MSG;
    for (size_t i = 0; i < big.n; i++)
        big.p[i] = (uint8_t)(i * 7);
    CHECK(pop(&p.s_out, &f));
    CHECK_INT(f.n, SSP_SSTREAM_HEADER_LEN);
    CHECK_OK(feed(p.c, SSP_BUF_SLICE(&f), &p.c_out, &p.msg, &p.d));
    CHECK_OK(ssp_chan_send(p.s, SSP_SLICE_STR("welcome"), &p.s_out));
    CHECK_OK(ssp_chan_send(p.s, SSP_BUF_SLICE(&big), &p.s_out));
    CHECK_OK(ssp_chan_send(p.s, SSP_SLICE_STR("bye"), &p.s_out));
    expect_msg(p.c, &p.s_out, SSP_SLICE_STR("welcome"));
    expect_msg(p.c, &p.s_out, SSP_BUF_SLICE(&big));
    expect_msg(p.c, &p.s_out, SSP_SLICE_STR("bye"));

    /* Messages are appended to msg; nothing was left over anywhere. */
    CHECK_INT(p.msg.n + p.c_out.n + p.s_out.n, 0);
    CHECK_OK(ssp_chan_send(p.c, SSP_SLICE_STR("x"), &p.c_out));
    CHECK(pop(&p.c_out, &f));
    CHECK_OK(ssp_buf_append(&p.msg, "pre:", 4));
    CHECK_OK(feed(p.s, SSP_BUF_SLICE(&f), &p.s_out, &p.msg, &p.d));
    CHECK(ssp_slice_eq_str(SSP_BUF_SLICE(&p.msg), "pre:x"));
    CHECK_STR(p.d.msg, "");
    ssp_buf_fini(&f);
    ssp_buf_fini(&big);
    pair_free(&p);
}

static void
test_wrong_network(void)
{
    struct pair p;
    char a[9];
    init();
    pair_new(&p, &A, B.pk, &B, other_net);
    CHECK_INT(feed(p.s, SSP_BUF_SLICE(&p.m1), &p.s_out, &p.msg, &p.d), SSP_ERR_AUTH);
    CHECK_INT(p.s_out.n, 0);
    CHECK_INT(p.gate.calls, 0); /* refused before allow() is asked */
    short_id(A.pk, a);
    CHECK_CONTAINS(p.d.msg, a);
    CHECK_CONTAINS(p.d.msg, "another network");
    pair_free(&p);
}

static void
test_server_claims_other_id(void)
{
    struct pair p;
    char b[9], c[9], want[64];
    init();
    /* A dials B, but the address answers as C (a node of the same network). */
    pair_new(&p, &A, B.pk, &C, net);
    step_m1(&p);
    CHECK_INT(feed(p.c, SSP_BUF_SLICE(&p.m2), &p.c_out, &p.msg, &p.d), SSP_ERR_AUTH);
    CHECK_INT(p.c_out.n, 0);
    CHECK(!ssp_chan_ready(p.c));
    short_id(B.pk, b);
    short_id(C.pk, c);
    snprintf(want, sizeof want, "peer claims to be %s, expected %s", c, b);
    CHECK_CONTAINS(p.d.msg, want);
    pair_free(&p);
}

static void
test_allow_refuses(void)
{
    struct pair p;
    char a[9];
    init();
    pair_new(&p, &A, B.pk, &B, net);
    p.gate.refuse = A.pk;
    CHECK_OK(ssp_buf_append(&p.s_out, "keep", 4));
    CHECK_INT(feed(p.s, SSP_BUF_SLICE(&p.m1), &p.s_out, &p.msg, &p.d), SSP_ERR_DENIED);
    CHECK_INT(p.gate.calls, 1);
    CHECK(memcmp(p.gate.last, A.pk, SSP_PK_LEN) == 0);
    /* Not a byte was added for the refused peer. */
    CHECK(ssp_slice_eq_str(SSP_BUF_SLICE(&p.s_out), "keep"));
    short_id(A.pk, a);
    CHECK_CONTAINS(p.d.msg, a);
    CHECK_CONTAINS(p.d.msg, "not allowed");
    pair_free(&p);
}

/* An m1 built by hand: "ssp", version, and n - 2 bins of 32 bytes (network, id, eph). */
static void
make_m1(struct ssp_buf *b, const char *magic, uint64_t version, uint32_t n, const uint8_t *network,
        const uint8_t *id)
{
    struct ssp_mpw w;
    uint8_t eph_pk[SSP_KX_PK_LEN], eph_sk[SSP_KX_SK_LEN];
    ssp_kx_keypair(eph_pk, eph_sk);
    b->n = 0;
    ssp_mpw_init(&w, b);
    ssp_mpw_array(&w, n);
    ssp_mpw_cstr(&w, magic);
    ssp_mpw_uint(&w, version);
    const uint8_t *bins[] = {network, id, eph_pk};
    for (uint32_t i = 0; i + 2 < n; i++)
        ssp_mpw_bin(&w, i < 3 ? bins[i] : eph_pk, 32);
    CHECK_OK(w.err);
}

static void
test_bad_version(void)
{
    struct ssp_chan *s = NULL;
    struct ssp_buf m1, out, msg;
    struct ssp_diag d = {{0}};
    struct gate g = {0};
    init();
    ssp_buf_init(&m1);
    ssp_buf_init(&out);
    ssp_buf_init(&msg);
    /* A hand-built m1 that is right is accepted, so the refusals below are about one thing. */
    make_m1(&m1, "ssp", 1, 5, net, A.pk);
    CHECK_OK(ssp_chan_new(false, net, B.pk, B.sk, NULL, gate_allow, &g, &s));
    CHECK_OK(ssp_chan_start(s, &out));
    CHECK_OK(feed(s, SSP_BUF_SLICE(&m1), &out, &msg, &d));
    CHECK_INT(count_frames(&out), 1);
    ssp_chan_free(s);

    /* Version 2, with the same shape or another one (a later version may change m1). */
    static const uint32_t shapes[] = {5, 2};
    for (size_t i = 0; i < 2; i++) {
        uint32_t n = shapes[i];
        out.n = 0;
        d.msg[0] = '\0';
        make_m1(&m1, "ssp", 2, n, net, A.pk);
        CHECK_OK(ssp_chan_new(false, net, B.pk, B.sk, NULL, gate_allow, &g, &s));
        CHECK_OK(ssp_chan_start(s, &out));
        CHECK_INT(feed(s, SSP_BUF_SLICE(&m1), &out, &msg, &d), SSP_ERR_VERSION);
        CHECK_INT(out.n, 0);
        CHECK_CONTAINS(d.msg, "version 2");
        ssp_chan_free(s);
    }
    CHECK_INT(g.calls, 1);
    ssp_buf_fini(&m1);
    ssp_buf_fini(&out);
    ssp_buf_fini(&msg);
}

/* Flips one bit at offset i of the server's m2 and checks the client refuses it. */
static void
tampered_m2(size_t i, ssp_err want)
{
    struct pair p;
    pair_new(&p, &A, B.pk, &B, net);
    step_m1(&p);
    p.m2.p[i] ^= 0x10;
    CHECK_INT(feed(p.c, SSP_BUF_SLICE(&p.m2), &p.c_out, &p.msg, &p.d), want);
    CHECK_INT(p.c_out.n, 0);
    CHECK(!ssp_chan_ready(p.c));
    pair_free(&p);
}

static void
test_tampered_m2(void)
{
    init();
    tampered_m2(135 - 1, SSP_ERR_AUTH);    /* last byte of the signature */
    tampered_m2(3 + 32 + 2, SSP_ERR_AUTH); /* the server's ephemeral key */
    tampered_m2(3, SSP_ERR_AUTH);          /* the server id: no longer the one dialled */
    tampered_m2(0, SSP_ERR_PROTO);         /* the array head */
}

static void
test_tampered_m3(void)
{
    struct pair p;
    init();
    for (size_t i = 3; i < 67; i += 21) {
        pair_new(&p, &A, B.pk, &B, net);
        step_m1(&p);
        step_m2(&p);
        p.m3.p[i] ^= 0x01;
        CHECK_INT(feed(p.s, SSP_BUF_SLICE(&p.m3), &p.s_out, &p.msg, &p.d), SSP_ERR_AUTH);
        CHECK_CONTAINS(p.d.msg, "signature does not verify");
        /* No header: the server never opens its stream to an unproven client. */
        CHECK_INT(p.s_out.n, 0);
        CHECK(!ssp_chan_ready(p.s));
        CHECK(ssp_chan_peer(p.s) == NULL);
        pair_free(&p);
    }
}

static void
test_replay_m1(void)
{
    struct pair old, p;
    init();
    pair_new(&old, &A, B.pk, &B, net);
    handshake(&old);
    /* Someone who recorded A's m1 and m3 replays them to B. */
    pair_new(&p, &A, B.pk, &B, net);
    CHECK_OK(feed(p.s, SSP_BUF_SLICE(&old.m1), &p.s_out, &p.msg, &p.d));
    CHECK_INT(count_frames(&p.s_out), 1); /* m2 goes out: m1 is public and proves nothing */
    p.s_out.n = 0;
    CHECK_INT(feed(p.s, SSP_BUF_SLICE(&old.m3), &p.s_out, &p.msg, &p.d), SSP_ERR_AUTH);
    CHECK_INT(p.s_out.n, 0);
    CHECK(!ssp_chan_ready(p.s));
    pair_free(&old);
    pair_free(&p);
}

static void
test_replay_m2(void)
{
    struct pair old, p;
    init();
    pair_new(&old, &A, B.pk, &B, net);
    handshake(&old);
    /* Someone who recorded B's m2 answers A's next dial to B with it. */
    pair_new(&p, &A, B.pk, &B, net);
    CHECK_INT(feed(p.c, SSP_BUF_SLICE(&old.m2), &p.c_out, &p.msg, &p.d), SSP_ERR_AUTH);
    CHECK_INT(p.c_out.n, 0);
    CHECK(!ssp_chan_ready(p.c));
    pair_free(&old);
    pair_free(&p);
}

static void
test_data_bitflip(void)
{
    struct pair p;
    struct ssp_buf f;
    init();
    ssp_buf_init(&f);
    for (size_t i = 0; i < 17 + 12; i += 4) {
        pair_new(&p, &A, B.pk, &B, net);
        handshake(&p);
        CHECK_OK(ssp_chan_send(p.c, SSP_SLICE_STR("twelve bytes"), &p.c_out));
        CHECK(pop(&p.c_out, &f));
        f.p[i] ^= 0x80;
        CHECK_INT(feed(p.s, SSP_BUF_SLICE(&f), &p.s_out, &p.msg, &p.d), SSP_ERR_AUTH);
        CHECK_INT(p.msg.n, 0);
        CHECK_CONTAINS(p.d.msg, "does not authenticate");
        pair_free(&p);
    }
    /* Cut short, or shorter than the tag. */
    for (size_t cut = 1; cut <= 20; cut += 19) {
        pair_new(&p, &A, B.pk, &B, net);
        handshake(&p);
        CHECK_OK(ssp_chan_send(p.s, SSP_SLICE_STR("twelve bytes"), &p.s_out));
        CHECK(pop(&p.s_out, &f));
        CHECK_INT(feed(p.c, SSP_SLICE(f.p, f.n - cut), &p.c_out, &p.msg, &p.d), SSP_ERR_AUTH);
        pair_free(&p);
    }
    ssp_buf_fini(&f);
}

static void
test_data_reorder_replay(void)
{
    struct pair p;
    struct ssp_buf f1, f2;
    init();
    ssp_buf_init(&f1);
    ssp_buf_init(&f2);
    /* Reordered: the second message first. */
    pair_new(&p, &A, B.pk, &B, net);
    handshake(&p);
    CHECK_OK(ssp_chan_send(p.c, SSP_SLICE_STR("one"), &p.c_out));
    CHECK_OK(ssp_chan_send(p.c, SSP_SLICE_STR("two"), &p.c_out));
    CHECK(pop(&p.c_out, &f1));
    CHECK(pop(&p.c_out, &f2));
    CHECK_INT(feed(p.s, SSP_BUF_SLICE(&f2), &p.s_out, &p.msg, &p.d), SSP_ERR_AUTH);
    pair_free(&p);

    /* Replayed: the first message twice; and a dropped one. */
    pair_new(&p, &A, B.pk, &B, net);
    handshake(&p);
    CHECK_OK(ssp_chan_send(p.s, SSP_SLICE_STR("one"), &p.s_out));
    CHECK_OK(ssp_chan_send(p.s, SSP_SLICE_STR("two"), &p.s_out));
    CHECK(pop(&p.s_out, &f1));
    CHECK_OK(feed(p.c, SSP_BUF_SLICE(&f1), &p.c_out, &p.msg, &p.d));
    CHECK(ssp_slice_eq_str(SSP_BUF_SLICE(&p.msg), "one"));
    CHECK_INT(feed(p.c, SSP_BUF_SLICE(&f1), &p.c_out, &p.msg, &p.d), SSP_ERR_AUTH);
    CHECK(ssp_slice_eq_str(SSP_BUF_SLICE(&p.msg), "one"));
    pair_free(&p);

    /* A message sent to the server, echoed back to the client: other key. */
    pair_new(&p, &A, B.pk, &B, net);
    handshake(&p);
    CHECK_OK(ssp_chan_send(p.c, SSP_SLICE_STR("one"), &p.c_out));
    CHECK(pop(&p.c_out, &f1));
    CHECK_INT(feed(p.c, SSP_BUF_SLICE(&f1), &p.c_out, &p.msg, &p.d), SSP_ERR_AUTH);
    pair_free(&p);
    ssp_buf_fini(&f1);
    ssp_buf_fini(&f2);
}

/* A fresh server, fed payload as its first message. */
static ssp_err
server_gets(struct ssp_slice payload, struct ssp_diag *d)
{
    struct ssp_chan *s = NULL;
    struct ssp_buf out, msg;
    struct gate g = {0};
    ssp_buf_init(&out);
    ssp_buf_init(&msg);
    CHECK_OK(ssp_chan_new(false, net, B.pk, B.sk, NULL, gate_allow, &g, &s));
    CHECK_OK(ssp_chan_start(s, &out));
    ssp_err rc = feed(s, payload, &out, &msg, d);
    if (rc != SSP_OK)
        CHECK_INT(out.n, 0);
    ssp_chan_free(s);
    ssp_buf_fini(&out);
    ssp_buf_fini(&msg);
    return rc;
}

static void
test_garbage_is_proto(void)
{
    static uint8_t zeros[SSP_HS_MAX_FRAME + 1];
    struct ssp_buf m1, f;
    struct ssp_diag d = {{0}};
    struct pair p;
    init();
    ssp_buf_init(&m1);
    ssp_buf_init(&f);

    make_m1(&m1, "ssp", 1, 5, net, A.pk);
    CHECK_OK(server_gets(SSP_BUF_SLICE(&m1), NULL));
    /* Oversized, empty, zeros, a trailing byte, one field more, a short id, another magic. */
    CHECK_INT(server_gets(SSP_SLICE(zeros, sizeof zeros), &d), SSP_ERR_PROTO);
    CHECK_CONTAINS(d.msg, "unidentified peer");
    CHECK_CONTAINS(d.msg, "257 bytes");
    CHECK_INT(server_gets(SSP_SLICE(NULL, 0), NULL), SSP_ERR_PROTO);
    CHECK_INT(server_gets(SSP_SLICE(zeros, 108), NULL), SSP_ERR_PROTO);
    CHECK_OK(ssp_buf_append_u8(&m1, 0xc0));
    CHECK_INT(server_gets(SSP_BUF_SLICE(&m1), NULL), SSP_ERR_PROTO);
    make_m1(&m1, "ssp", 1, 6, net, A.pk);
    CHECK_INT(server_gets(SSP_BUF_SLICE(&m1), NULL), SSP_ERR_PROTO);
    make_m1(&m1, "ssp", 1, 5, net, A.pk);
    m1.p[42 - 1] = 31; /* the id's bin8 length */
    CHECK_INT(server_gets(SSP_SLICE(m1.p, m1.n - 1), NULL), SSP_ERR_PROTO);
    make_m1(&m1, "ssq", 1, 5, net, A.pk);
    CHECK_INT(server_gets(SSP_BUF_SLICE(&m1), NULL), SSP_ERR_PROTO);

    /* The client: a garbage m2, and m2 before it started. */
    pair_new(&p, &A, B.pk, &B, net);
    CHECK_INT(feed(p.c, SSP_SLICE(zeros, 135), &p.c_out, &p.msg, &p.d), SSP_ERR_PROTO);
    CHECK_INT(p.c_out.n, 0);
    pair_free(&p);
    struct ssp_chan *c = NULL;
    CHECK_OK(ssp_chan_new(true, net, A.pk, A.sk, B.pk, NULL, NULL, &c));
    CHECK_INT(feed(c, SSP_SLICE(zeros, 135), &f, &f, NULL), SSP_ERR_PROTO);
    ssp_chan_free(c);

    /* A stream header of the wrong size; a data frame larger than the limit. */
    pair_new(&p, &A, B.pk, &B, net);
    step_m1(&p);
    step_m2(&p);
    CHECK(pop(&p.c_out, &f));
    CHECK_INT(feed(p.c, SSP_SLICE(f.p, f.n - 1), &p.c_out, &p.msg, &p.d), SSP_ERR_PROTO);
    CHECK_CONTAINS(p.d.msg, "stream header");
    pair_free(&p);
    pair_new(&p, &A, B.pk, &B, net);
    handshake(&p);
    uint8_t *huge = calloc(1, SSP_CHAN_MAX_FRAME + 1);
    CHECK(huge != NULL);
    CHECK_INT(feed(p.s, SSP_SLICE(huge, SSP_CHAN_MAX_FRAME + 1), &p.s_out, &p.msg, &p.d),
              SSP_ERR_PROTO);
    free(huge);
    pair_free(&p);
    ssp_buf_fini(&m1);
    ssp_buf_fini(&f);
}

static void
test_dead_after_error(void)
{
    struct pair p;
    struct ssp_buf f;
    init();
    ssp_buf_init(&f);
    pair_new(&p, &A, B.pk, &B, net);
    handshake(&p);
    CHECK_OK(ssp_chan_send(p.c, SSP_SLICE_STR("one"), &p.c_out));
    CHECK(pop(&p.c_out, &f));
    CHECK_INT(feed(p.s, SSP_SLICE_STR("not a ciphertext, long enough"), &p.s_out, &p.msg, &p.d),
              SSP_ERR_AUTH);
    /* The genuine message no longer opens, nor can the server send. */
    CHECK_INT(feed(p.s, SSP_BUF_SLICE(&f), &p.s_out, &p.msg, NULL), SSP_ERR_PROTO);
    CHECK_INT(ssp_chan_send(p.s, SSP_SLICE_STR("x"), &p.s_out), SSP_ERR_PROTO);
    CHECK(!ssp_chan_ready(p.s));
    CHECK(ssp_chan_peer(p.s) == NULL);
    CHECK_INT(p.s_out.n + p.msg.n, 0);
    pair_free(&p);

    /* During the handshake too. */
    pair_new(&p, &A, B.pk, &B, other_net);
    CHECK_INT(feed(p.s, SSP_BUF_SLICE(&p.m1), &p.s_out, &p.msg, NULL), SSP_ERR_AUTH);
    CHECK_INT(feed(p.s, SSP_BUF_SLICE(&p.m1), &p.s_out, &p.msg, NULL), SSP_ERR_PROTO);
    CHECK_INT(p.s_out.n, 0);
    pair_free(&p);
    ssp_buf_fini(&f);
}

static void
test_sessions_differ(void)
{
    struct pair p1, p2;
    struct ssp_buf f1, f2;
    init();
    ssp_buf_init(&f1);
    ssp_buf_init(&f2);
    pair_new(&p1, &A, B.pk, &B, net);
    pair_new(&p2, &A, B.pk, &B, net);
    handshake(&p1);
    handshake(&p2);
    CHECK(!ssp_slice_eq(SSP_BUF_SLICE(&p1.m1), SSP_BUF_SLICE(&p2.m1))); /* fresh ephs */
    CHECK_OK(ssp_chan_send(p1.c, SSP_SLICE_STR("same message"), &p1.c_out));
    CHECK_OK(ssp_chan_send(p2.c, SSP_SLICE_STR("same message"), &p2.c_out));
    CHECK(pop(&p1.c_out, &f1));
    CHECK(pop(&p2.c_out, &f2));
    CHECK_INT(f1.n, f2.n);
    CHECK(!ssp_slice_eq(SSP_BUF_SLICE(&f1), SSP_BUF_SLICE(&f2)));
    /* Neither opens in the other session: the keys are per session. */
    CHECK_INT(feed(p2.s, SSP_BUF_SLICE(&f1), &p2.s_out, &p2.msg, NULL), SSP_ERR_AUTH);
    CHECK_INT(feed(p1.s, SSP_BUF_SLICE(&f2), &p1.s_out, &p1.msg, NULL), SSP_ERR_AUTH);
    pair_free(&p1);
    pair_free(&p2);
    ssp_buf_fini(&f1);
    ssp_buf_fini(&f2);
}

static void
test_self_and_bad_args(void)
{
    struct ssp_chan *ch = NULL;
    struct ssp_buf m1;
    struct ssp_diag d = {{0}};
    struct gate g = {0};
    init();
    ssp_buf_init(&m1);
    CHECK_INT(ssp_chan_new(true, net, A.pk, A.sk, A.pk, NULL, NULL, &ch), SSP_ERR_INVAL);
    CHECK_INT(ssp_chan_new(true, net, A.pk, A.sk, NULL, NULL, NULL, &ch), SSP_ERR_INVAL);
    CHECK_INT(ssp_chan_new(false, net, A.pk, A.sk, NULL, NULL, NULL, &ch), SSP_ERR_INVAL);
    CHECK_INT(ssp_chan_new(false, net, A.pk, A.sk, B.pk, gate_allow, &g, &ch), SSP_ERR_INVAL);
    CHECK(ch == NULL);
    /* An m1 claiming the server's own id. */
    make_m1(&m1, "ssp", 1, 5, net, B.pk);
    CHECK_INT(server_gets(SSP_BUF_SLICE(&m1), &d), SSP_ERR_AUTH);
    CHECK_CONTAINS(d.msg, "own id");

    /* Sending before the handshake is done; starting twice. */
    struct ssp_buf out;
    ssp_buf_init(&out);
    CHECK_OK(ssp_chan_new(true, net, A.pk, A.sk, B.pk, NULL, NULL, &ch));
    CHECK_INT(ssp_chan_send(ch, SSP_SLICE_STR("early"), &out), SSP_ERR_INVAL);
    CHECK_INT(out.n, 0);
    ssp_chan_free(ch);
    CHECK_OK(ssp_chan_new(true, net, A.pk, A.sk, B.pk, NULL, NULL, &ch));
    CHECK_OK(ssp_chan_start(ch, &out));
    CHECK_INT(ssp_chan_start(ch, &out), SSP_ERR_INVAL);
    ssp_chan_free(ch);
    ssp_chan_free(NULL);
    ssp_buf_fini(&out);
    ssp_buf_fini(&m1);
}

static void
test_send_limit(void)
{
    struct pair p;
    init();
    pair_new(&p, &A, B.pk, &B, net);
    handshake(&p);
    uint8_t *big = calloc(1, SSP_CHAN_MAX_MSG + 1);
    CHECK(big != NULL);
    CHECK_OK(ssp_buf_append(&p.c_out, "keep", 4));
    CHECK_INT(ssp_chan_send(p.c, SSP_SLICE(big, SSP_CHAN_MAX_MSG + 1), &p.c_out), SSP_ERR_INVAL);
    CHECK(ssp_slice_eq_str(SSP_BUF_SLICE(&p.c_out), "keep"));
    free(big);
    pair_free(&p);
}

/*
 * Every step under a growing allocation budget: each either succeeds or
 * fails with SSP_ERR_NOMEM having sent nothing, and the channel is then dead.
 */
static void
test_out_of_memory(void)
{
    struct pair p;
    struct ssp_buf f;
    static const uint8_t zeros[40];
    bool done[3] = {false, false, false};
    init();
    ssp_buf_init(&f);
    for (long budget = 0; budget < 50 && !(done[0] && done[1] && done[2]); budget++) {
        for (int step = 0; step < 3; step++) {
            pair_new(&p, &A, B.pk, &B, net);
            if (step > 0)
                step_m1(&p);
            if (step > 1) {
                step_m2(&p);
                CHECK_OK(feed(p.s, SSP_BUF_SLICE(&p.m3), &p.s_out, &p.msg, &p.d));
            }
            /*
             * Fresh outputs holding 40 bytes: then a frame the step appends
             * first fits and the next one (the client's header) needs more.
             */
            ssp_buf_fini(&p.c_out);
            ssp_buf_fini(&p.s_out);
            CHECK_OK(ssp_buf_append(&p.c_out, zeros, 40));
            CHECK_OK(ssp_buf_append(&p.s_out, zeros, 40));
            ssp_alloc_fail_after(budget);
            ssp_err rc;
            if (step == 0)
                rc = feed(p.s, SSP_BUF_SLICE(&p.m1), &p.s_out, &p.msg, &p.d);
            else if (step == 1)
                rc = feed(p.c, SSP_BUF_SLICE(&p.m2), &p.c_out, &p.msg, &p.d);
            else
                rc = ssp_chan_send(p.s, SSP_SLICE_STR("message"), &p.s_out);
            ssp_alloc_fail_reset();
            if (rc == SSP_OK) {
                done[step] = true;
                struct ssp_buf *out = step == 1 ? &p.c_out : &p.s_out;
                ssp_buf_consume(out, 40);
                CHECK_INT(count_frames(out), step == 1 ? 2 : 1);
            } else {
                CHECK_INT(rc, SSP_ERR_NOMEM);
                CHECK_INT(p.c_out.n, 40);
                CHECK_INT(p.s_out.n, 40);
                CHECK_INT(feed(step == 1 ? p.c : p.s, SSP_BUF_SLICE(&p.m2), &f, &f, NULL),
                          SSP_ERR_PROTO);
            }
            pair_free(&p);
        }
    }
    CHECK(done[0] && done[1] && done[2]);
    ssp_buf_fini(&f);
}

/* ---- primitives ---- */

static void
test_kx_and_sstream(void)
{
    uint8_t apk[SSP_KX_PK_LEN], ask[SSP_KX_SK_LEN], bpk[SSP_KX_PK_LEN], bsk[SSP_KX_SK_LEN];
    uint8_t s1[SSP_KX_SHARED_LEN], s2[SSP_KX_SHARED_LEN], zero[SSP_KX_PK_LEN] = {0};
    uint8_t k1[SSP_KEY_LEN], k2[SSP_KEY_LEN], th[SSP_HASH_LEN] = {1};
    uint8_t hdr[SSP_SSTREAM_HEADER_LEN];
    struct ssp_sstream *tx = NULL, *rx = NULL;
    struct ssp_buf ct, pt;
    init();
    ssp_kx_keypair(apk, ask);
    ssp_kx_keypair(bpk, bsk);
    CHECK_OK(ssp_kx_shared(ask, bpk, s1));
    CHECK_OK(ssp_kx_shared(bsk, apk, s2));
    CHECK(memcmp(s1, s2, sizeof s1) == 0);
    /* A low-order point would force a known secret. */
    memset(s2, 0xaa, sizeof s2);
    CHECK_INT(ssp_kx_shared(ask, zero, s2), SSP_ERR_AUTH);
    CHECK(memcmp(s2, zero, sizeof s2) == 0);

    ssp_kx_session_keys(s1, th, k1, k2);
    CHECK(memcmp(k1, k2, sizeof k1) != 0);
    ssp_buf_init(&ct);
    ssp_buf_init(&pt);
    CHECK_OK(ssp_sstream_push_new(k1, hdr, &tx));
    CHECK_OK(ssp_sstream_pull_new(k1, hdr, &rx));
    CHECK_OK(ssp_sstream_push(tx, SSP_SLICE_STR("abc"), &ct));
    CHECK_INT(ct.n, 3 + SSP_SSTREAM_ABYTES);
    CHECK_INT(ssp_sstream_pull(tx, SSP_BUF_SLICE(&ct), &pt), SSP_ERR_INVAL);
    CHECK_INT(ssp_sstream_push(rx, SSP_SLICE_STR("abc"), &ct), SSP_ERR_INVAL);
    CHECK_OK(ssp_sstream_pull(rx, SSP_BUF_SLICE(&ct), &pt));
    CHECK(ssp_slice_eq_str(SSP_BUF_SLICE(&pt), "abc"));
    CHECK_INT(ssp_sstream_pull(rx, SSP_BUF_SLICE(&ct), &pt), SSP_ERR_AUTH); /* replayed */
    CHECK_INT(pt.n, 3);
    ssp_sstream_free(tx);
    ssp_sstream_free(rx);
    ssp_sstream_free(NULL);
    ssp_buf_fini(&ct);
    ssp_buf_fini(&pt);
}

static void
test_grant_seal_open(void)
{
    uint8_t key[SSP_KEY_LEN], got[SSP_KEY_LEN], zero[SSP_KEY_LEN] = {0};
    uint8_t g1[SSP_GRANT_LEN], g2[SSP_GRANT_LEN], bad_pk[SSP_PK_LEN] = {0};
    init();
    ssp_random(key, sizeof key);
    CHECK_OK(ssp_grant_seal(A.pk, key, g1));
    CHECK_OK(ssp_grant_seal(A.pk, key, g2));
    CHECK(memcmp(g1, g2, sizeof g1) != 0); /* an ephemeral sender key each time */
    CHECK_OK(ssp_grant_open(A.pk, A.sk, g1, got));
    CHECK(memcmp(got, key, sizeof key) == 0);
    CHECK_OK(ssp_grant_open(A.pk, A.sk, g2, got));
    CHECK(memcmp(got, key, sizeof key) == 0);

    /* Another node cannot open it, nor can anyone open an altered one. */
    memset(got, 0x55, sizeof got);
    CHECK_INT(ssp_grant_open(B.pk, B.sk, g1, got), SSP_ERR_AUTH);
    CHECK(memcmp(got, zero, sizeof got) == 0);
    g1[SSP_GRANT_LEN - 1] ^= 1;
    CHECK_INT(ssp_grant_open(A.pk, A.sk, g1, got), SSP_ERR_AUTH);
    g1[SSP_GRANT_LEN - 1] ^= 1;
    g1[0] ^= 1;
    CHECK_INT(ssp_grant_open(A.pk, A.sk, g1, got), SSP_ERR_AUTH);

    /* A public key that is not a usable Ed25519 point. */
    CHECK_INT(ssp_grant_seal(bad_pk, key, g1), SSP_ERR_INVAL);
}

static const struct ssp_test tests[] = {
    {"handshake_and_messages", test_handshake_and_messages},
    {"wrong_network", test_wrong_network},
    {"server_claims_other_id", test_server_claims_other_id},
    {"allow_refuses", test_allow_refuses},
    {"bad_version", test_bad_version},
    {"tampered_m2", test_tampered_m2},
    {"tampered_m3", test_tampered_m3},
    {"replay_m1", test_replay_m1},
    {"replay_m2", test_replay_m2},
    {"data_bitflip", test_data_bitflip},
    {"data_reorder_replay", test_data_reorder_replay},
    {"garbage_is_proto", test_garbage_is_proto},
    {"dead_after_error", test_dead_after_error},
    {"sessions_differ", test_sessions_differ},
    {"self_and_bad_args", test_self_and_bad_args},
    {"send_limit", test_send_limit},
    {"out_of_memory", test_out_of_memory},
    {"kx_and_sstream", test_kx_and_sstream},
    {"grant_seal_open", test_grant_seal_open},
};

SSP_TEST_MAIN(tests)
