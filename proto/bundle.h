/*
 * Bundles: a sync session written to a file, for places with no link at all
 * (DESIGN §7; PROTOCOL.md, "Bundles", is the normative text). A bundle is
 *
 *   prefix  = magic "SSP-BNDL" (8) || version u32 (= 1) || header_len u32 (1..4096)
 *   header  = array(5) [ network: bin(32), sender: bin(32), created_ms: uint64,
 *                        readers: array(1..16) [ array(2) [ node: bin(32), key: bin(80) ] ],
 *                        stream: bin(24) ]
 *   body    = frame ...   (proto/frame.h: u32 length || ciphertext of 17..CHUNK_MAX bytes)
 *   trailer = sig (64)
 *
 * all integers big-endian. The body is one crypto_secretstream under a
 * random bundle key (stream is its header): each frame is one sync message
 * (proto/sync.h) — HELLO, COMMITS 1..n, DONE n — the last tagged FINAL. key
 * is the bundle key sealed to the reader node (as a grant is); readers[0]
 * is the node the bundle is for, the others carriers that may import it to
 * forward what they carry. sig is the sender's Ed25519 signature of
 * BLAKE2b-256("ssp-bundle-v1" || prefix || header || body).
 *
 * This module only encodes and decodes the clear prefix and header; the
 * cryptography and the file are node/bundle.c's. Decoding is strict (one
 * encoding per header, the shortest msgpack forms) and zero-copy: a decoded
 * header borrows from its input. No state; any thread.
 */
#ifndef SSP_PROTO_BUNDLE_H
#define SSP_PROTO_BUNDLE_H

#include "proto/buf.h"
#include "proto/sync.h"

#define SSP_BUNDLE_MAGIC "SSP-BNDL"
#define SSP_BUNDLE_MAGIC_LEN 8
#define SSP_BUNDLE_VERSION 1
#define SSP_BUNDLE_PREFIX_LEN 16
#define SSP_BUNDLE_HEADER_MAX 4096u
#define SSP_BUNDLE_NODE_LEN 32
#define SSP_BUNDLE_SEALED_LEN 80 /* a 32-byte key sealed with crypto_box_seal */
#define SSP_BUNDLE_STREAM_LEN 24 /* a crypto_secretstream header */
#define SSP_BUNDLE_SIG_LEN 64
#define SSP_BUNDLE_MAX_READERS 16
/* The largest body frame: the largest sync message and the secretstream's 17 bytes. */
#define SSP_BUNDLE_CHUNK_MAX (SSP_SYNC_MAX_FRAME + 17u)
#define SSP_BUNDLE_CHUNK_MIN 17u

struct ssp_bundle_reader {
    const uint8_t *node; /* SSP_BUNDLE_NODE_LEN bytes */
    const uint8_t *key;  /* SSP_BUNDLE_SEALED_LEN bytes */
};

struct ssp_bundle_header {
    const uint8_t *network; /* SSP_BUNDLE_NODE_LEN bytes: the central's node id */
    const uint8_t *sender;  /* SSP_BUNDLE_NODE_LEN bytes */
    uint64_t created_ms;
    uint32_t nreaders; /* readers[0] is the recipient */
    struct ssp_bundle_reader readers[SSP_BUNDLE_MAX_READERS];
    const uint8_t *stream; /* SSP_BUNDLE_STREAM_LEN bytes */
};

/*
 * Reads the prefix (the first SSP_BUNDLE_PREFIX_LEN bytes of in). SSP_ERR_PROTO
 * when the magic is not there (not a bundle) or the header length is not
 * 1..SSP_BUNDLE_HEADER_MAX; SSP_ERR_VERSION, with *version set, for another
 * format version (whose header length is not read).
 */
SSP_MUST_CHECK ssp_err ssp_bundle_prefix_decode(struct ssp_slice in, uint32_t *version,
                                                uint32_t *header_len);
/*
 * Decodes a header (exactly the header_len bytes after the prefix): every
 * field of its size, 1..16 readers, none twice and none the sender, the
 * shortest msgpack forms and no trailing bytes. SSP_ERR_PROTO otherwise. h
 * borrows from in.
 */
SSP_MUST_CHECK ssp_err ssp_bundle_header_decode(struct ssp_slice in, struct ssp_bundle_header *h);
/*
 * Appends the prefix and the header. SSP_ERR_INVAL when h breaks a rule
 * above (it would not decode); on failure out->n is as it was.
 */
SSP_MUST_CHECK ssp_err ssp_bundle_header_encode(struct ssp_buf *out,
                                                const struct ssp_bundle_header *h);

#endif
