/*
 * Fuzz target: the peer channel (node/sync/channel.h) fed a peer's frames.
 *
 *   input = side (1 byte) || frame ...      (frame = u32 BE length || payload)
 *
 * side % 3 picks what the frames are fed to: 0, a server (the first frame is
 * m1, and if m2 comes out, the next is m3, ...); 1, a client after start
 * (the first frame is m2); 2, a server that has completed a real handshake
 * (the first frame is the client's stream header, then messages). Frames are
 * decoded with the limit the channel states, as a connection would.
 *
 * Constants a seed can name: the network id is "fuzz-net" zero-padded, the
 * client dials FUZZ_SERVER_ID (32 bytes of 0x42), and the server refuses
 * any client whose id starts with 0xff.
 */
#include <stdlib.h>
#include <string.h>

#include "node/sync/channel.h"
#include "proto/frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t network[SSP_NETWORK_ID_LEN] = {'f', 'u', 'z', 'z', '-', 'n', 'e', 't'};

struct ident {
    uint8_t pk[SSP_PK_LEN];
    uint8_t sk[SSP_SK_LEN];
};

static struct ident server, client;
static uint8_t server_id[SSP_PK_LEN];

static ssp_err
allow(void *arg, const uint8_t peer[SSP_PK_LEN])
{
    (void)arg;
    return peer[0] == 0xff ? SSP_ERR_DENIED : SSP_OK;
}

static void
setup(void)
{
    static int ready;
    if (ready)
        return;
    if (ssp_crypto_init() != SSP_OK)
        abort();
    ssp_sign_keypair(server.pk, server.sk);
    /* allow() refuses keys starting with 0xff: the real client must not be one (1 run in 256). */
    do
        ssp_sign_keypair(client.pk, client.sk);
    while (client.pk[0] == 0xff);
    memset(server_id, 0x42, sizeof server_id);
    ready = 1;
}

/* Moves every frame of from into to; false if one is refused. */
static int
relay(struct ssp_chan *to, struct ssp_buf *from, struct ssp_buf *out, struct ssp_buf *msg)
{
    struct ssp_slice p;
    size_t used;
    bool got;
    while (ssp_frame_decode(SSP_BUF_SLICE(from), ssp_chan_max_frame(to), &p, &used) == SSP_OK) {
        ssp_err rc = ssp_chan_input(to, p, out, msg, &got, NULL);
        ssp_buf_consume(from, used);
        if (rc != SSP_OK)
            return 0;
    }
    return from->n == 0;
}

/* A server that has completed a handshake with a real client. */
static struct ssp_chan *
open_server(void)
{
    struct ssp_chan *c = NULL, *s = NULL;
    struct ssp_buf c_out, s_out, msg;
    int ok = 0;
    ssp_buf_init(&c_out);
    ssp_buf_init(&s_out);
    ssp_buf_init(&msg);
    if (ssp_chan_new(true, network, client.pk, client.sk, server.pk, NULL, NULL, &c) != SSP_OK ||
        ssp_chan_new(false, network, server.pk, server.sk, NULL, allow, NULL, &s) != SSP_OK ||
        ssp_chan_start(s, &s_out) != SSP_OK || ssp_chan_start(c, &c_out) != SSP_OK)
        goto out;
    /* m1, m2, then m3 without the client's header: the fuzzer sends that. */
    struct ssp_slice m3;
    size_t used;
    ok = relay(s, &c_out, &s_out, &msg) && relay(c, &s_out, &c_out, &msg) &&
         ssp_frame_decode(SSP_BUF_SLICE(&c_out), SSP_HS_MAX_FRAME, &m3, &used) == SSP_OK;
    if (ok) {
        bool got;
        ok = ssp_chan_input(s, m3, &s_out, &msg, &got, NULL) == SSP_OK && ssp_chan_ready(s);
    }
out:
    if (!ok)
        abort(); /* a real handshake must succeed */
    ssp_chan_free(c);
    ssp_buf_fini(&c_out);
    ssp_buf_fini(&s_out);
    ssp_buf_fini(&msg);
    return s;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ssp_chan *ch = NULL;
    struct ssp_buf out, msg;
    struct ssp_diag d;
    struct ssp_slice in, p;
    size_t used;
    bool got;
    if (size < 1)
        return 0;
    setup();
    ssp_buf_init(&out);
    ssp_buf_init(&msg);
    switch (data[0] % 3) {
    case 0:
        if (ssp_chan_new(false, network, server.pk, server.sk, NULL, allow, NULL, &ch) != SSP_OK ||
            ssp_chan_start(ch, &out) != SSP_OK)
            abort();
        break;
    case 1:
        if (ssp_chan_new(true, network, client.pk, client.sk, server_id, NULL, NULL, &ch) !=
                SSP_OK ||
            ssp_chan_start(ch, &out) != SSP_OK)
            abort();
        break;
    default:
        ch = open_server();
        break;
    }
    in = SSP_SLICE(data + 1, size - 1);
    while (ssp_frame_decode(in, ssp_chan_max_frame(ch), &p, &used) == SSP_OK) {
        size_t out_n = out.n, msg_n = msg.n;
        d.msg[0] = '\0';
        ssp_err rc = ssp_chan_input(ch, p, &out, &msg, &got, &d);
        in.p += used;
        in.n -= used;
        if (rc == SSP_OK)
            continue;
        /* A failed step sends nothing, says why, and leaves the channel dead. */
        if (out.n != out_n || msg.n != msg_n || got || d.msg[0] == '\0' || ssp_chan_ready(ch) ||
            ssp_chan_peer(ch) != NULL ||
            ssp_chan_input(ch, p, &out, &msg, &got, NULL) != SSP_ERR_PROTO)
            abort();
        break;
    }
    ssp_chan_free(ch);
    ssp_buf_fini(&out);
    ssp_buf_fini(&msg);
    return 0;
}
