/*
 * The cryptographic primitives of ssp-node, in the one module that includes
 * sodium.h (libsodium 1.0.18). Everything else sees fixed-size byte arrays.
 *
 *   identity   Ed25519; the public key is the node id
 *   hashes     BLAKE2b-256 (crypto_generichash), always with a context string
 *   encryption XChaCha20-Poly1305-IETF; a sealed blob is nonce(24) || ciphertext+tag
 *   transport  X25519 ephemeral key exchange, keyed BLAKE2b-512 for session keys,
 *              crypto_secretstream_xchacha20poly1305 per direction
 *   grants     a scope key sealed to a node (crypto_box_seal to the X25519 form
 *              of its Ed25519 key)
 *
 * Runs on any thread once ssp_crypto_init() has returned SSP_OK.
 */
#ifndef SSP_NODE_CRYPTO_H
#define SSP_NODE_CRYPTO_H

#include <stdbool.h>

#include "proto/buf.h"

#define SSP_PK_LEN 32
#define SSP_SK_LEN 64
#define SSP_SIG_LEN 64
#define SSP_HASH_LEN 32
#define SSP_KEY_LEN 32
#define SSP_NONCE_LEN 24
#define SSP_TAG_LEN 16
#define SSP_SEAL_OVERHEAD (SSP_NONCE_LEN + SSP_TAG_LEN)

SSP_MUST_CHECK ssp_err ssp_crypto_init(void);
/* Random bytes for secrets (keys, salts), straight from the system's CSPRNG. */
void ssp_random(void *p, size_t n);
/*
 * Random bytes for values that are public once used (nonces, record ids),
 * served from a pool refilled from the system's CSPRNG 4 KiB at a time: a
 * system call for every nonce was a tenth of the write path's time.
 */
void ssp_random_public(void *p, size_t n);
/* Wipes n bytes in a way the compiler may not remove. */
void ssp_wipe(void *p, size_t n);
/* Constant-time equality of two n-byte buffers. */
bool ssp_equal_ct(const void *a, const void *b, size_t n);

#define SSP_SHORTHASH_KEY_LEN 16

/*
 * SipHash-2-4 of in under key, for hash tables whose keys a peer chooses:
 * without the key (random, per table) it cannot aim them at one slot.
 */
uint64_t ssp_shorthash(const uint8_t key[SSP_SHORTHASH_KEY_LEN], struct ssp_slice in);

/* BLAKE2b-256 of the concatenation of n parts. */
void ssp_hash(const struct ssp_slice *parts, size_t n, uint8_t out[SSP_HASH_LEN]);

/*
 * The same over parts given one at a time, for inputs too large to gather
 * first (the state hash of a whole scope). The state is libsodium's, kept
 * opaque here so no other module sees sodium.h.
 */
struct ssp_hasher {
    _Alignas(64) uint8_t opaque[384];
};
void ssp_hasher_init(struct ssp_hasher *h);
void ssp_hasher_update(struct ssp_hasher *h, struct ssp_slice part);
void ssp_hasher_final(struct ssp_hasher *h, uint8_t out[SSP_HASH_LEN]);

#define SSP_NATIONAL_ID_MAX 11 /* DDMMYY-SSSS */
#define SSP_PID_HEX_LEN 64

/*
 * The pid of a person: BLAKE2b-256 of the national id (a Danish CPR number,
 * 10 digits, optionally with a dash after the 6th) keyed with a subkey that
 * BLAKE2b derives from the network scope key under a context string. Every
 * node of one network finds the same young person by the same pid; without
 * the network key a pid cannot be checked against the 10^10 possible ids.
 * The dash is normalised away; any other form is refused (SSP_ERR_SCHEMA,
 * with a message that never repeats the id). The subkey and the digits are
 * wiped; the caller wipes national_id. out is the hash as 64 lower-case
 * hex digits and a NUL, the form the schema's pid field holds.
 */
SSP_MUST_CHECK ssp_err ssp_pid_of(const uint8_t network_key[SSP_KEY_LEN],
                                  struct ssp_slice national_id, char out[SSP_PID_HEX_LEN + 1],
                                  struct ssp_diag *d);

void ssp_sign_keypair(uint8_t pk[SSP_PK_LEN], uint8_t sk[SSP_SK_LEN]);
void ssp_sign(const uint8_t sk[SSP_SK_LEN], const uint8_t msg[SSP_HASH_LEN],
              uint8_t sig[SSP_SIG_LEN]);
/* SSP_ERR_AUTH if sig is not pk's signature of msg. */
SSP_MUST_CHECK ssp_err ssp_verify(const uint8_t pk[SSP_PK_LEN], const uint8_t msg[SSP_HASH_LEN],
                                  const uint8_t sig[SSP_SIG_LEN]);

/*
 * Encrypts pt under key with additional data ad and appends
 * nonce || ciphertext || tag (pt.n + SSP_SEAL_OVERHEAD bytes) to out. The
 * nonce is random: 192 bits make collisions negligible without state.
 */
SSP_MUST_CHECK ssp_err ssp_seal(const uint8_t key[SSP_KEY_LEN], struct ssp_slice ad,
                                struct ssp_slice pt, struct ssp_buf *out);
/* The same into a caller-provided area of exactly pt.n + SSP_SEAL_OVERHEAD bytes. */
void ssp_seal_to(const uint8_t key[SSP_KEY_LEN], struct ssp_slice ad, struct ssp_slice pt,
                 uint8_t *out);
/* Opens a sealed blob and appends the plaintext to out; SSP_ERR_CORRUPT if it fails. */
SSP_MUST_CHECK ssp_err ssp_open(const uint8_t key[SSP_KEY_LEN], struct ssp_slice ad,
                                struct ssp_slice sealed, struct ssp_buf *out);

/*
 * Ephemeral key exchange (X25519) for the peer handshake. The secret key is
 * the caller's to wipe as soon as ssp_kx_shared has used it.
 */
#define SSP_KX_PK_LEN 32
#define SSP_KX_SK_LEN 32
#define SSP_KX_SHARED_LEN 32

void ssp_kx_keypair(uint8_t pk[SSP_KX_PK_LEN], uint8_t sk[SSP_KX_SK_LEN]);
/*
 * shared = X25519(sk, peer_pk). SSP_ERR_AUTH if the result is all zero (the
 * peer sent a low-order point to force a known secret); shared is then wiped.
 */
SSP_MUST_CHECK ssp_err ssp_kx_shared(const uint8_t sk[SSP_KX_SK_LEN],
                                     const uint8_t peer_pk[SSP_KX_PK_LEN],
                                     uint8_t shared[SSP_KX_SHARED_LEN]);
/*
 * Session keys from a key exchange: keyed BLAKE2b-512(key = shared, th), the
 * first 32 bytes in a, the last 32 in b. th binds the keys to the transcript.
 */
void ssp_kx_session_keys(const uint8_t shared[SSP_KX_SHARED_LEN], const uint8_t th[SSP_HASH_LEN],
                         uint8_t a[SSP_KEY_LEN], uint8_t b[SSP_KEY_LEN]);

/*
 * One direction of an encrypted stream (crypto_secretstream_xchacha20poly1305):
 * the sender makes a push stream and sends its header first; the receiver
 * makes a pull stream from that header. Each message is authenticated and
 * bound to its position, so a message that is altered, dropped, reordered or
 * replayed fails to pull. The state lives in ssp_secret_alloc memory.
 * On a link every message is tagged MESSAGE and the other tags are refused
 * when pulled; a stream with an end (a file) tags its last message FINAL.
 */
#define SSP_SSTREAM_HEADER_LEN 24
#define SSP_SSTREAM_ABYTES 17

struct ssp_sstream;

/* A push stream under key; its header goes to header_out. SSP_ERR_NOMEM. */
SSP_MUST_CHECK ssp_err ssp_sstream_push_new(const uint8_t key[SSP_KEY_LEN],
                                            uint8_t header_out[SSP_SSTREAM_HEADER_LEN],
                                            struct ssp_sstream **out);
/* A pull stream under key from the sender's header. SSP_ERR_AUTH, SSP_ERR_NOMEM. */
SSP_MUST_CHECK ssp_err ssp_sstream_pull_new(const uint8_t key[SSP_KEY_LEN],
                                            const uint8_t header[SSP_SSTREAM_HEADER_LEN],
                                            struct ssp_sstream **out);
/*
 * Encrypts pt as the stream's next message and appends it to out
 * (pt.n + SSP_SSTREAM_ABYTES bytes). SSP_ERR_INVAL on a pull stream; on
 * SSP_ERR_NOMEM the stream has not advanced.
 */
SSP_MUST_CHECK ssp_err ssp_sstream_push(struct ssp_sstream *st, struct ssp_slice pt,
                                        struct ssp_buf *out);
/*
 * Decrypts ct as the stream's next message and appends the plaintext to out.
 * SSP_ERR_AUTH if it does not authenticate at this position or is not tagged
 * MESSAGE (out is then unchanged); SSP_ERR_INVAL on a push stream.
 */
SSP_MUST_CHECK ssp_err ssp_sstream_pull(struct ssp_sstream *st, struct ssp_slice ct,
                                        struct ssp_buf *out);
/*
 * For a stream that has an end (a bundle's body, in a file): as
 * ssp_sstream_push, tagged FINAL when last, so that a reader can tell the
 * whole stream from one cut short.
 */
SSP_MUST_CHECK ssp_err ssp_sstream_push_end(struct ssp_sstream *st, struct ssp_slice pt, bool last,
                                            struct ssp_buf *out);
/* As ssp_sstream_pull, but a FINAL message is taken too: *last says whether it was one. */
SSP_MUST_CHECK ssp_err ssp_sstream_pull_end(struct ssp_sstream *st, struct ssp_slice ct, bool *last,
                                            struct ssp_buf *out);
/* Wipes and frees; NULL is ignored. */
void ssp_sstream_free(struct ssp_sstream *st);

/*
 * Grants: a scope key sealed to one node, so that only that node can read it
 * from the replicated roster. The node's Ed25519 public key is converted to
 * X25519 and the key sealed with crypto_box_seal (an ephemeral sender key,
 * 32 bytes, then the ciphertext and its 16-byte tag).
 */
#define SSP_GRANT_LEN (SSP_KEY_LEN + 48)

/* SSP_ERR_INVAL if ed_pk is not a usable Ed25519 public key. */
SSP_MUST_CHECK ssp_err ssp_grant_seal(const uint8_t ed_pk[SSP_PK_LEN],
                                      const uint8_t key[SSP_KEY_LEN], uint8_t out[SSP_GRANT_LEN]);
/*
 * Opens a grant with the node's own key pair. SSP_ERR_AUTH if it was not
 * sealed to this node or was altered (key is then zero); SSP_ERR_INVAL if
 * the key pair cannot be converted. The converted secret key is wiped.
 */
SSP_MUST_CHECK ssp_err ssp_grant_open(const uint8_t ed_pk[SSP_PK_LEN],
                                      const uint8_t ed_sk[SSP_SK_LEN],
                                      const uint8_t sealed[SSP_GRANT_LEN],
                                      uint8_t key[SSP_KEY_LEN]);

/* Strength of the passphrase key derivation (Argon2id), stored with the keyring. */
enum ssp_kdf_level {
    SSP_KDF_INTERACTIVE,
    SSP_KDF_MODERATE,
    SSP_KDF_SENSITIVE,
};

#define SSP_SALT_LEN 16

struct ssp_kdf_params {
    uint64_t ops;
    uint64_t mem;
    uint8_t salt[SSP_SALT_LEN];
};

void ssp_kdf_params_new(enum ssp_kdf_level level, struct ssp_kdf_params *p);
/* Derives a key from a passphrase; SSP_ERR_NOMEM if Argon2 cannot get its memory. */
SSP_MUST_CHECK ssp_err ssp_kdf(const char *pass, size_t len, const struct ssp_kdf_params *p,
                               uint8_t key[SSP_KEY_LEN]);
/* Whether stored parameters are within what libsodium accepts (they come from disk). */
bool ssp_kdf_params_valid(const struct ssp_kdf_params *p);

/* Memory for secrets: guarded, locked where possible, wiped on free. */
void *ssp_secret_alloc(size_t n);
void ssp_secret_free(void *p);

#endif
