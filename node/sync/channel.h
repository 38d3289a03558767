/*
 * The secure channel between two nodes (DESIGN §4 "Transport"): a mutually
 * authenticated handshake, then one encrypted stream per direction. It knows
 * nothing of sockets: the caller feeds it the payloads of the frames it
 * receives and sends the framed bytes it produces, so the same code serves
 * TCP, tests and fuzzing. One channel is used by one thread (the loop that
 * owns the connection).
 *
 * Every message is one frame (proto/frame.h: u32 BE length || payload).
 * m1 and m2 below name the payload bytes as sent; "||" is concatenation.
 *
 *   m1 C->S  array(5) [ "ssp", version: uint (= 1), network: bin(32),
 *                       client_id: bin(32), client_eph: bin(32) ]
 *   m2 S->C  array(3) [ server_id: bin(32), server_eph: bin(32), sig: bin(64) ]
 *              sig = Ed25519_server(BLAKE2b-256("ssp-hs-v1-server" || m1 ||
 *                                               server_id || server_eph))
 *   m3 C->S  array(1) [ sig: bin(64) ]
 *              sig = Ed25519_client(BLAKE2b-256("ssp-hs-v1-client" || m1 || m2))
 *
 * Ids are Ed25519 public keys (node ids); ephs are fresh X25519 public keys.
 * Each side computes
 *
 *   shared = X25519(own eph secret key, peer's eph)
 *   th     = BLAKE2b-256("ssp-hs-v1-keys" || m1 || m2)
 *   k      = BLAKE2b-512(key = shared, th): k[0..32) client->server,
 *                                           k[32..64) server->client
 *
 * and wipes the eph secret key and shared as soon as they are used. After the
 * handshake, each side's first frame is the 24-byte header of its
 * crypto_secretstream_xchacha20poly1305 stream under its sending key, and
 * every later frame's payload is one message of that stream (tag MESSAGE,
 * no additional data). The client sends m3 and its header frame together;
 * the server sends its header frame only once m3 has verified.
 *
 * The server checks m1 before it answers: "ssp", then the version (else
 * SSP_ERR_VERSION), then network == its own network id (else SSP_ERR_AUTH),
 * then that client_id is not its own id and that allow(arg, client_id)
 * accepts it. A refused client gets no bytes at all. The client checks that
 * server_id is the id it dialled and the signature of m2; the server checks
 * the signature of m3. Signatures cover both ephs and the network id, so a
 * replayed m1 or m2 from another handshake fails, and the ephemeral keys
 * give each session keys that later theft of identity keys cannot recover.
 *
 * Handshake frames are at most SSP_HS_MAX_FRAME bytes, later ones at most
 * SSP_CHAN_MAX_FRAME; ssp_chan_max_frame() says which applies now.
 */
#ifndef SSP_NODE_SYNC_CHANNEL_H
#define SSP_NODE_SYNC_CHANNEL_H

#include <stdbool.h>

#include "node/crypto/crypto.h"

#define SSP_HS_VERSION 1
#define SSP_NETWORK_ID_LEN 32
/* Largest handshake frame payload (m1 is 108 bytes, m2 135, m3 67 when encoded shortest). */
#define SSP_HS_MAX_FRAME 256u
/* Largest payload after the handshake: a 1 MiB commit, room for its envelope, the tag. */
#define SSP_CHAN_MAX_FRAME ((1u << 20) + (64u << 10) + SSP_SSTREAM_ABYTES)
/* Largest message ssp_chan_send takes. */
#define SSP_CHAN_MAX_MSG (SSP_CHAN_MAX_FRAME - SSP_SSTREAM_ABYTES)

/*
 * Whether the server talks to the node whose (still unproven) id is peer:
 * SSP_OK, or the error to fail the handshake with (SSP_ERR_DENIED for a
 * node it does not know). Called once, before the server sends anything;
 * peer is borrowed for the call.
 */
typedef ssp_err (*ssp_chan_allow_fn)(void *arg, const uint8_t peer[SSP_PK_LEN]);

struct ssp_chan;

/*
 * A channel for one connection. client says which side we are. network, pk
 * and sk (our identity) are copied; sk is wiped from the channel once its
 * handshake signature is made. A client gives in expect_peer the id it
 * dials (copied) and may pass allow = NULL; a server passes expect_peer =
 * NULL and an allow callback, called with arg (borrowed while the channel
 * lives). SSP_ERR_INVAL for a missing argument or a client dialling its own
 * id, SSP_ERR_NOMEM. Free with ssp_chan_free.
 */
SSP_MUST_CHECK ssp_err ssp_chan_new(bool client, const uint8_t network[SSP_NETWORK_ID_LEN],
                                    const uint8_t pk[SSP_PK_LEN], const uint8_t sk[SSP_SK_LEN],
                                    const uint8_t *expect_peer, ssp_chan_allow_fn allow, void *arg,
                                    struct ssp_chan **out);
/* Wipes and frees the channel and its keys; NULL is ignored. */
void ssp_chan_free(struct ssp_chan *ch);

/*
 * Starts the handshake: a client appends frame(m1) to out, a server appends
 * nothing (it speaks when m1 arrives). Call once, first.
 */
SSP_MUST_CHECK ssp_err ssp_chan_start(struct ssp_chan *ch, struct ssp_buf *out);

/*
 * Feeds the payload of one received frame (borrowed for the call). During
 * the handshake it advances the handshake and appends to out the framed
 * bytes to send (possibly none). Afterwards the first payload must be the
 * peer's stream header, and each later one is decrypted and appended to msg
 * with *got_msg set (it is false otherwise).
 *
 * Errors: SSP_ERR_PROTO (malformed or unexpected payload), SSP_ERR_AUTH (a
 * wrong network, peer id, signature, key or ciphertext), SSP_ERR_VERSION,
 * the allow callback's error, SSP_ERR_NOMEM; d gets one sentence naming the
 * peer (the first 8 characters of its node id) and the reason. On error out
 * and msg are left as they were, and the channel is dead: every later call
 * but ssp_chan_free returns SSP_ERR_PROTO.
 */
SSP_MUST_CHECK ssp_err ssp_chan_input(struct ssp_chan *ch, struct ssp_slice payload,
                                      struct ssp_buf *out, struct ssp_buf *msg, bool *got_msg,
                                      struct ssp_diag *d);

/* Whether the handshake is done on our side: ssp_chan_send may be called. */
bool ssp_chan_ready(const struct ssp_chan *ch);
/* The peer's id once it has proven it (ssp_chan_ready), else NULL. Lives with ch. */
const uint8_t *ssp_chan_peer(const struct ssp_chan *ch);
/* The largest frame payload to accept next: SSP_HS_MAX_FRAME, then SSP_CHAN_MAX_FRAME. */
size_t ssp_chan_max_frame(const struct ssp_chan *ch);

/*
 * Encrypts msg (borrowed, at most SSP_CHAN_MAX_MSG bytes) as the next
 * message and appends its frame to out. SSP_ERR_INVAL before the channel is
 * ready or for a message too large, SSP_ERR_NOMEM; on error out is unchanged
 * and, as for ssp_chan_input, the channel is dead.
 */
SSP_MUST_CHECK ssp_err ssp_chan_send(struct ssp_chan *ch, struct ssp_slice msg,
                                     struct ssp_buf *out);

#endif
