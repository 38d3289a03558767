#include "node/crypto/crypto.h"

#include <sodium.h>
#include <string.h>

ssp_err
ssp_crypto_init(void)
{
    return sodium_init() < 0 ? SSP_ERR_INTERNAL : SSP_OK;
}

void
ssp_random(void *p, size_t n)
{
    randombytes_buf(p, n);
}

#define POOL_SIZE 4096

void
ssp_random_public(void *p, size_t n)
{
    static uint8_t pool[POOL_SIZE];
    static size_t used = POOL_SIZE;
    uint8_t *out = p;
    while (n > 0) {
        if (used == POOL_SIZE) {
            randombytes_buf(pool, sizeof pool);
            used = 0;
        }
        size_t k = n < POOL_SIZE - used ? n : POOL_SIZE - used;
        memcpy(out, pool + used, k);
        /* Bytes handed out are not kept: nothing here can repeat a nonce. */
        sodium_memzero(pool + used, k);
        used += k;
        out += k;
        n -= k;
    }
}

void
ssp_wipe(void *p, size_t n)
{
    sodium_memzero(p, n);
}

bool
ssp_equal_ct(const void *a, const void *b, size_t n)
{
    return sodium_memcmp(a, b, n) == 0;
}

void
ssp_hash(const struct ssp_slice *parts, size_t n, uint8_t out[SSP_HASH_LEN])
{
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, SSP_HASH_LEN);
    for (size_t i = 0; i < n; i++)
        crypto_generichash_update(&st, parts[i].p, parts[i].n);
    crypto_generichash_final(&st, out, SSP_HASH_LEN);
}

_Static_assert(sizeof(crypto_generichash_state) <= sizeof(((struct ssp_hasher *)0)->opaque) &&
                   _Alignof(crypto_generichash_state) <= 64,
               "struct ssp_hasher cannot hold libsodium's crypto_generichash_state");

/* The state goes through a local copy: the opaque bytes are never accessed as another type. */
void
ssp_hasher_init(struct ssp_hasher *h)
{
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, SSP_HASH_LEN);
    memcpy(h->opaque, &st, sizeof st);
}

void
ssp_hasher_update(struct ssp_hasher *h, struct ssp_slice part)
{
    crypto_generichash_state st;
    memcpy(&st, h->opaque, sizeof st);
    crypto_generichash_update(&st, part.p, part.n);
    memcpy(h->opaque, &st, sizeof st);
}

void
ssp_hasher_final(struct ssp_hasher *h, uint8_t out[SSP_HASH_LEN])
{
    crypto_generichash_state st;
    memcpy(&st, h->opaque, sizeof st);
    crypto_generichash_final(&st, out, SSP_HASH_LEN);
    sodium_memzero(h->opaque, sizeof h->opaque);
}

void
ssp_sign_keypair(uint8_t pk[SSP_PK_LEN], uint8_t sk[SSP_SK_LEN])
{
    crypto_sign_keypair(pk, sk);
}

void
ssp_sign(const uint8_t sk[SSP_SK_LEN], const uint8_t msg[SSP_HASH_LEN], uint8_t sig[SSP_SIG_LEN])
{
    crypto_sign_detached(sig, NULL, msg, SSP_HASH_LEN, sk);
}

ssp_err
ssp_verify(const uint8_t pk[SSP_PK_LEN], const uint8_t msg[SSP_HASH_LEN],
           const uint8_t sig[SSP_SIG_LEN])
{
    return crypto_sign_verify_detached(sig, msg, SSP_HASH_LEN, pk) == 0 ? SSP_OK : SSP_ERR_AUTH;
}

void
ssp_seal_to(const uint8_t key[SSP_KEY_LEN], struct ssp_slice ad, struct ssp_slice pt, uint8_t *out)
{
    ssp_random_public(out, SSP_NONCE_LEN);
    crypto_aead_xchacha20poly1305_ietf_encrypt(out + SSP_NONCE_LEN, NULL, pt.p, pt.n, ad.p, ad.n,
                                               NULL, out, key);
}

ssp_err
ssp_seal(const uint8_t key[SSP_KEY_LEN], struct ssp_slice ad, struct ssp_slice pt,
         struct ssp_buf *out)
{
    ssp_err rc = ssp_buf_reserve(out, pt.n + SSP_SEAL_OVERHEAD);
    if (rc != SSP_OK)
        return rc;
    ssp_seal_to(key, ad, pt, out->p + out->n);
    out->n += pt.n + SSP_SEAL_OVERHEAD;
    return SSP_OK;
}

ssp_err
ssp_open(const uint8_t key[SSP_KEY_LEN], struct ssp_slice ad, struct ssp_slice sealed,
         struct ssp_buf *out)
{
    if (sealed.n < SSP_SEAL_OVERHEAD)
        return SSP_ERR_CORRUPT;
    size_t n = sealed.n - SSP_SEAL_OVERHEAD;
    ssp_err rc = ssp_buf_reserve(out, n);
    if (rc != SSP_OK)
        return rc;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(
            out->p + out->n, NULL, NULL, sealed.p + SSP_NONCE_LEN, sealed.n - SSP_NONCE_LEN, ad.p,
            ad.n, sealed.p, key) != 0)
        return SSP_ERR_CORRUPT;
    out->n += n;
    return SSP_OK;
}

void
ssp_kdf_params_new(enum ssp_kdf_level level, struct ssp_kdf_params *p)
{
    switch (level) {
    case SSP_KDF_INTERACTIVE:
        p->ops = crypto_pwhash_OPSLIMIT_INTERACTIVE;
        p->mem = crypto_pwhash_MEMLIMIT_INTERACTIVE;
        break;
    case SSP_KDF_MODERATE:
        p->ops = crypto_pwhash_OPSLIMIT_MODERATE;
        p->mem = crypto_pwhash_MEMLIMIT_MODERATE;
        break;
    case SSP_KDF_SENSITIVE:
        p->ops = crypto_pwhash_OPSLIMIT_SENSITIVE;
        p->mem = crypto_pwhash_MEMLIMIT_SENSITIVE;
        break;
    }
    randombytes_buf(p->salt, sizeof p->salt);
}

bool
ssp_kdf_params_valid(const struct ssp_kdf_params *p)
{
    return p->ops >= crypto_pwhash_OPSLIMIT_MIN && p->ops <= crypto_pwhash_OPSLIMIT_SENSITIVE &&
           p->mem >= crypto_pwhash_MEMLIMIT_MIN && p->mem <= crypto_pwhash_MEMLIMIT_SENSITIVE;
}

ssp_err
ssp_kdf(const char *pass, size_t len, const struct ssp_kdf_params *p, uint8_t key[SSP_KEY_LEN])
{
    if (!ssp_kdf_params_valid(p))
        return SSP_ERR_CORRUPT;
    if (crypto_pwhash(key, SSP_KEY_LEN, pass, len, p->salt, p->ops, (size_t)p->mem,
                      crypto_pwhash_ALG_ARGON2ID13) != 0)
        return SSP_ERR_NOMEM;
    return SSP_OK;
}

void *
ssp_secret_alloc(size_t n)
{
    void *p = sodium_malloc(n);
    if (p != NULL)
        sodium_memzero(p, n);
    return p;
}

void
ssp_secret_free(void *p)
{
    sodium_free(p);
}
