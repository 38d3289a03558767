/*
 * Commits: the signed, hash-chained unit of the change log. One commit holds
 * one local write transaction's changes in one scope. The bytes are stored
 * and shipped exactly as the origin signed them; PROTOCOL.md specifies them.
 *
 *   commit = [header: bin, sig: bin(64), ops: [op ...]]
 *   header = [1, scope: str, origin: bin(32), epoch: uint, seq: uint,
 *             prev: bin(32), hlc: uint, key_epoch: uint, schema: uint,
 *             nops: uint, digest: bin(32)]          (msgpack, inside the bin)
 *   op     = [id: bin(16), body: bin]               body = nonce(24) || ciphertext
 *          | [id: bin(16), nil, op_hash: bin(32)]  redacted: a purged record's op
 *
 *   op_hash     = BLAKE2b-256("ssp-op-v1" || id || body)
 *   digest      = BLAKE2b-256("ssp-ops-v1" || op_hash[0] || ... || op_hash[n-1])
 *   commit_hash = BLAKE2b-256("ssp-commit-v1" || header bytes)
 *   sig         = Ed25519(origin, commit_hash)
 *   prev        = commit_hash of seq - 1 in the same stream; zeros for seq 1
 *
 * The body is XChaCha20-Poly1305 under the scope key of key_epoch with
 * additional data "ssp-op-v1" || len(scope) || scope || key_epoch (u32 BE) || id.
 * Because the digest covers per-op hashes, anyone can check a commit without
 * the scope key (a relay), and a purged op can later be replaced by its hash.
 * A redacted op is checked through the hash it carries: the commit, its hash
 * and its signature stay the same (node/purge.c redacts).
 */
#ifndef SSP_NODE_COMMIT_H
#define SSP_NODE_COMMIT_H

#include "node/crypto/crypto.h"
#include "node/crypto/keyring.h"
#include "node/domain/schema.h"

#define SSP_COMMIT_FORMAT 1
/* The one scope whose op bodies are clear (key epoch 0): see node/roster.h. */
#define SSP_ROSTER_SCOPE "roster"
#define SSP_COMMIT_MAX_OPS 4096
#define SSP_COMMIT_MAX_BYTES (1u << 20)
#define SSP_OP_MAX_BODY (256u << 10)

struct ssp_commit_hdr {
    char scope[SSP_SCOPE_MAX + 1];
    uint8_t origin[SSP_PK_LEN];
    uint32_t epoch;
    uint64_t seq;
    uint8_t prev[SSP_HASH_LEN];
    uint64_t hlc;
    uint32_t key_epoch;
    uint32_t schema;
    uint32_t nops;
    uint8_t digest[SSP_HASH_LEN];
};

/* Collects the ops of one commit. The caller provides the storage. */
struct ssp_commit_builder {
    struct ssp_commit_hdr hdr;
    const struct ssp_scope_key *key;
    struct ssp_buf ops;    /* encoded ops */
    struct ssp_buf hashes; /* op hashes, for the digest */
};

void ssp_commit_builder_init(struct ssp_commit_builder *b);
void ssp_commit_builder_fini(struct ssp_commit_builder *b);
/*
 * Starts a commit: hdr's scope, origin, epoch, seq, prev, hlc; key seals the
 * ops (borrowed). key NULL writes the bodies in clear with key epoch 0: the
 * roster (node/roster.h), which a node must read before it holds any key.
 */
void ssp_commit_begin(struct ssp_commit_builder *b, const struct ssp_commit_hdr *hdr,
                      const struct ssp_scope_key *key);
/* Whether another op with a body of n bytes still fits. */
bool ssp_commit_has_room(const struct ssp_commit_builder *b, size_t n);
/* Encrypts plain (or not: see ssp_commit_begin) as the body of an op on record id and adds it. */
SSP_MUST_CHECK ssp_err ssp_commit_add(struct ssp_commit_builder *b,
                                      const uint8_t id[SSP_RECORD_ID_LEN], struct ssp_slice plain);
/* Signs with sk and writes the commit to out; its hash to hash. */
SSP_MUST_CHECK ssp_err ssp_commit_finish(struct ssp_commit_builder *b, const uint8_t sk[SSP_SK_LEN],
                                         struct ssp_buf *out, uint8_t hash[SSP_HASH_LEN]);

/* A parsed commit; slices borrow from the bytes it was parsed from. */
struct ssp_commit {
    struct ssp_commit_hdr hdr;
    struct ssp_slice header; /* the signed header bytes */
    uint8_t sig[SSP_SIG_LEN];
    struct ssp_slice ops; /* the encoded ops, after the array head */
};

struct ssp_op {
    uint8_t id[SSP_RECORD_ID_LEN];
    struct ssp_slice body;      /* empty when redacted */
    bool redacted;              /* its body was replaced by its hash */
    uint8_t hash[SSP_HASH_LEN]; /* redacted: the op_hash it carries */
};

/* Parses and bounds-checks a commit (no signature check). SSP_ERR_PROTO if malformed. */
SSP_MUST_CHECK ssp_err ssp_commit_parse(struct ssp_slice bytes, struct ssp_commit *c);
/*
 * Checks the ops digest against the ops and the signature against origin's
 * key: SSP_ERR_AUTH if either fails. Writes the commit hash.
 */
SSP_MUST_CHECK ssp_err ssp_commit_verify(const struct ssp_commit *c, uint8_t hash[SSP_HASH_LEN]);
/* The commit's hash (no check of anything). */
void ssp_commit_hash(const struct ssp_commit *c, uint8_t hash[SSP_HASH_LEN]);
/* Iterates over ops: call with *pos = 0 first; SSP_ERR_NOTFOUND after the last. */
SSP_MUST_CHECK ssp_err ssp_commit_next_op(const struct ssp_commit *c, size_t *pos,
                                          struct ssp_op *op);
/* Whether c holds a redacted op. */
bool ssp_commit_has_redacted(const struct ssp_commit *c);
/* Picks the ops to redact: true for an op on record id. */
typedef bool (*ssp_redact_fn)(void *arg, const uint8_t id[SSP_RECORD_ID_LEN]);
/*
 * Writes c to out with every op pick chooses (and not redacted yet) replaced
 * by its redacted form; the header, signature and other ops are unchanged,
 * so the commit keeps its hash and still verifies. *count says how many ops
 * were redacted (0: out holds c as it was).
 */
SSP_MUST_CHECK ssp_err ssp_commit_redact(const struct ssp_commit *c, ssp_redact_fn pick, void *arg,
                                         struct ssp_buf *out, uint32_t *count);
/* Decrypts an op's body with the scope key and appends the plaintext to out; DENIED if redacted. */
SSP_MUST_CHECK ssp_err ssp_op_open(const struct ssp_commit *c, const struct ssp_op *op,
                                   const uint8_t key[SSP_KEY_LEN], struct ssp_buf *out);

#endif
