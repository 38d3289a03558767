/*
 * The keyring: the node's identity and the keys of the scopes it can read,
 * held in one block of guarded secret memory and stored sealed under a key
 * derived from the node passphrase.
 *
 * Sealed form (stored in the store's meta database, msgpack):
 *   [1, opslimit: uint, memlimit: uint, salt: bin16, sealed: bin]
 * where sealed = XChaCha20-Poly1305(nonce || ct) with additional data
 * "ssp-keyring-v1" of the plaintext
 *   [sk: bin64, keys: [[scope: str, epoch: uint, key: bin32] ...]]
 * The plaintext never leaves secret memory.
 */
#ifndef SSP_NODE_KEYRING_H
#define SSP_NODE_KEYRING_H

#include "node/crypto/crypto.h"

#define SSP_SCOPE_MAX 48
#define SSP_KEYRING_MAX_KEYS 256
#define SSP_PASSPHRASE_MAX 1024

struct ssp_scope_key {
    char scope[SSP_SCOPE_MAX + 1];
    uint32_t epoch;
    uint8_t key[SSP_KEY_LEN];
};

struct ssp_keyring {
    uint8_t pk[SSP_PK_LEN];
    uint8_t sk[SSP_SK_LEN];
    uint8_t seal_key[SSP_KEY_LEN]; /* derived from the passphrase, to seal again */
    struct ssp_kdf_params kdf;
    uint32_t nkeys;
    struct ssp_scope_key keys[SSP_KEYRING_MAX_KEYS];
};

/* A new keyring with a fresh identity, sealed under passphrase from now on. */
SSP_MUST_CHECK ssp_err ssp_keyring_new(const char *pass, size_t len, enum ssp_kdf_level level,
                                       struct ssp_keyring **out);
/* Opens a sealed keyring; SSP_ERR_AUTH (with d saying so) for a wrong passphrase. */
SSP_MUST_CHECK ssp_err ssp_keyring_open(struct ssp_slice sealed, const char *pass, size_t len,
                                        struct ssp_keyring **out, struct ssp_diag *d);
/* Wipes and frees; accepts NULL. */
void ssp_keyring_free(struct ssp_keyring *kr);
/* Appends the sealed form to out. */
SSP_MUST_CHECK ssp_err ssp_keyring_seal(const struct ssp_keyring *kr, struct ssp_buf *out);

/* The newest key of scope, or NULL if the node holds none. */
const struct ssp_scope_key *ssp_keyring_scope(const struct ssp_keyring *kr, struct ssp_slice scope);
/* The key of scope at epoch, or NULL. */
const struct ssp_scope_key *ssp_keyring_scope_epoch(const struct ssp_keyring *kr,
                                                    struct ssp_slice scope, uint32_t epoch);
/* A copy in secret memory (to change and swap in once the change is stored). */
SSP_MUST_CHECK ssp_err ssp_keyring_dup(const struct ssp_keyring *kr, struct ssp_keyring **out);
/* Adds the key of scope at epoch (a grant received); holding the same key already is fine. */
SSP_MUST_CHECK ssp_err ssp_keyring_add_key(struct ssp_keyring *kr, struct ssp_slice scope,
                                           uint32_t epoch, const uint8_t key[SSP_KEY_LEN],
                                           struct ssp_diag *d);
/* Creates a first key (epoch 1) for a new scope the node owns. */
SSP_MUST_CHECK ssp_err ssp_keyring_add_scope(struct ssp_keyring *kr, struct ssp_slice scope,
                                             struct ssp_diag *d);
/*
 * Adds a fresh key for scope at its newest epoch plus one (rotation: the old
 * keys stay, to read what they sealed). SSP_ERR_NOTFOUND if kr holds no key
 * of scope, SSP_ERR_FULL at SSP_KEYRING_MAX_KEYS; d says so.
 */
SSP_MUST_CHECK ssp_err ssp_keyring_rotate(struct ssp_keyring *kr, struct ssp_slice scope,
                                          struct ssp_diag *d);
/* Whether name is a valid scope name: 1-48 of [a-z0-9_-], starting with a letter. */
bool ssp_scope_name_valid(struct ssp_slice name);

/*
 * Reads a passphrase (first line, at most SSP_PASSPHRASE_MAX bytes) from the
 * file descriptor fd, or the file at path, or the environment variable
 * SSP_PASSPHRASE (which is then removed from the environment), in that order
 * of preference (fd < 0 and path NULL mean "not given"), into secret memory
 * the caller frees with ssp_secret_free.
 */
SSP_MUST_CHECK ssp_err ssp_passphrase_load(int fd, const char *path, char **pass, size_t *len,
                                           struct ssp_diag *d);

#endif
