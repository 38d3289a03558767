/*
 * The cryptographic primitives of ssp-node, in the one module that includes
 * sodium.h (libsodium 1.0.18). Everything else sees fixed-size byte arrays.
 *
 *   identity   Ed25519; the public key is the node id
 *   hashes     BLAKE2b-256 (crypto_generichash), always with a context string
 *   encryption XChaCha20-Poly1305-IETF; a sealed blob is nonce(24) || ciphertext+tag
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
