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

_Static_assert(SSP_SHORTHASH_KEY_LEN == crypto_shorthash_KEYBYTES, "shorthash key length");

uint64_t
ssp_shorthash(const uint8_t key[SSP_SHORTHASH_KEY_LEN], struct ssp_slice in)
{
    uint8_t out[crypto_shorthash_BYTES];
    crypto_shorthash(out, in.p, in.n, key);
    uint64_t h = 0;
    for (size_t i = 0; i < sizeof out; i++)
        h = h << 8 | out[i];
    return h;
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

/* The context of the pid subkey: a new scheme gets a new string, never a reuse of this one. */
static const char pid_context[] = "ssp-node person pid v1";

ssp_err
ssp_pid_of(const uint8_t network_key[SSP_KEY_LEN], struct ssp_slice national_id,
           char out[SSP_PID_HEX_LEN + 1], struct ssp_diag *d)
{
    uint8_t digits[10], subkey[crypto_generichash_KEYBYTES], hash[SSP_HASH_LEN];
    size_t n = 0;
    ssp_err rc = SSP_OK;
    bool dashed = national_id.n == 11 && national_id.p[6] == '-';
    if (national_id.n != 10 && !dashed) {
        rc = ssp_diag_set(d, SSP_ERR_SCHEMA,
                          "national id: give 10 digits, optionally with a dash after the 6th "
                          "(DDMMYY-SSSS)");
        goto out;
    }
    for (size_t i = 0; i < national_id.n; i++) {
        if (dashed && i == 6)
            continue;
        uint8_t c = national_id.p[i];
        if (c < '0' || c > '9') {
            rc = ssp_diag_set(d, SSP_ERR_SCHEMA,
                              "national id: only digits are allowed, with at most one dash "
                              "after the 6th (DDMMYY-SSSS)");
            goto out;
        }
        digits[n++] = c;
    }
    crypto_generichash(subkey, sizeof subkey, (const uint8_t *)pid_context, sizeof pid_context - 1,
                       network_key, SSP_KEY_LEN);
    crypto_generichash(hash, sizeof hash, digits, sizeof digits, subkey, sizeof subkey);
    sodium_bin2hex(out, SSP_PID_HEX_LEN + 1, hash, sizeof hash);
out:
    sodium_memzero(digits, sizeof digits);
    sodium_memzero(subkey, sizeof subkey);
    sodium_memzero(hash, sizeof hash);
    return rc;
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

_Static_assert(SSP_KX_PK_LEN == crypto_scalarmult_BYTES, "X25519 public key size");
_Static_assert(SSP_KX_SK_LEN == crypto_scalarmult_SCALARBYTES, "X25519 secret key size");
_Static_assert(SSP_KX_SHARED_LEN == crypto_scalarmult_BYTES, "X25519 result size");
_Static_assert(2 * SSP_KEY_LEN <= crypto_generichash_BYTES_MAX, "session key output");
_Static_assert(SSP_KX_SHARED_LEN >= crypto_generichash_KEYBYTES_MIN, "session key input");
_Static_assert(SSP_SSTREAM_HEADER_LEN == crypto_secretstream_xchacha20poly1305_HEADERBYTES,
               "secretstream header size");
_Static_assert(SSP_SSTREAM_ABYTES == crypto_secretstream_xchacha20poly1305_ABYTES,
               "secretstream overhead");
_Static_assert(SSP_KEY_LEN == crypto_secretstream_xchacha20poly1305_KEYBYTES,
               "secretstream key size");
_Static_assert(SSP_GRANT_LEN == SSP_KEY_LEN + crypto_box_SEALBYTES, "grant size");
_Static_assert(SSP_PK_LEN == crypto_sign_PUBLICKEYBYTES, "Ed25519 public key size");
_Static_assert(SSP_SK_LEN == crypto_sign_SECRETKEYBYTES, "Ed25519 secret key size");

void
ssp_kx_keypair(uint8_t pk[SSP_KX_PK_LEN], uint8_t sk[SSP_KX_SK_LEN])
{
    randombytes_buf(sk, SSP_KX_SK_LEN);
    crypto_scalarmult_base(pk, sk);
}

ssp_err
ssp_kx_shared(const uint8_t sk[SSP_KX_SK_LEN], const uint8_t peer_pk[SSP_KX_PK_LEN],
              uint8_t shared[SSP_KX_SHARED_LEN])
{
    /* libsodium refuses an all-zero result; check again so the contract never rests on that. */
    if (crypto_scalarmult(shared, sk, peer_pk) != 0 || sodium_is_zero(shared, SSP_KX_SHARED_LEN)) {
        sodium_memzero(shared, SSP_KX_SHARED_LEN);
        return SSP_ERR_AUTH;
    }
    return SSP_OK;
}

void
ssp_kx_session_keys(const uint8_t shared[SSP_KX_SHARED_LEN], const uint8_t th[SSP_HASH_LEN],
                    uint8_t a[SSP_KEY_LEN], uint8_t b[SSP_KEY_LEN])
{
    uint8_t out[2 * SSP_KEY_LEN];
    crypto_generichash(out, sizeof out, th, SSP_HASH_LEN, shared, SSP_KX_SHARED_LEN);
    memcpy(a, out, SSP_KEY_LEN);
    memcpy(b, out + SSP_KEY_LEN, SSP_KEY_LEN);
    sodium_memzero(out, sizeof out);
}

struct ssp_sstream {
    crypto_secretstream_xchacha20poly1305_state st;
    bool push;
};

static ssp_err
sstream_alloc(bool push, struct ssp_sstream **out)
{
    *out = ssp_secret_alloc(sizeof **out);
    if (*out == NULL)
        return SSP_ERR_NOMEM;
    (*out)->push = push;
    return SSP_OK;
}

ssp_err
ssp_sstream_push_new(const uint8_t key[SSP_KEY_LEN], uint8_t header_out[SSP_SSTREAM_HEADER_LEN],
                     struct ssp_sstream **out)
{
    ssp_err rc = sstream_alloc(true, out);
    if (rc != SSP_OK)
        return rc;
    crypto_secretstream_xchacha20poly1305_init_push(&(*out)->st, header_out, key);
    return SSP_OK;
}

ssp_err
ssp_sstream_pull_new(const uint8_t key[SSP_KEY_LEN], const uint8_t header[SSP_SSTREAM_HEADER_LEN],
                     struct ssp_sstream **out)
{
    ssp_err rc = sstream_alloc(false, out);
    if (rc != SSP_OK)
        return rc;
    if (crypto_secretstream_xchacha20poly1305_init_pull(&(*out)->st, header, key) != 0) {
        ssp_sstream_free(*out);
        *out = NULL;
        return SSP_ERR_AUTH;
    }
    return SSP_OK;
}

static ssp_err
sstream_push(struct ssp_sstream *st, struct ssp_slice pt, unsigned char tag, struct ssp_buf *out)
{
    if (!st->push || pt.n > crypto_secretstream_xchacha20poly1305_MESSAGEBYTES_MAX)
        return SSP_ERR_INVAL;
    /* Room first: once pushed, a message that is not sent would desynchronise the stream. */
    ssp_err rc = ssp_buf_reserve(out, pt.n + SSP_SSTREAM_ABYTES);
    if (rc != SSP_OK)
        return rc;
    if (crypto_secretstream_xchacha20poly1305_push(&st->st, out->p + out->n, NULL, pt.p, pt.n, NULL,
                                                   0, tag) != 0)
        return SSP_ERR_INTERNAL;
    out->n += pt.n + SSP_SSTREAM_ABYTES;
    return SSP_OK;
}

ssp_err
ssp_sstream_push(struct ssp_sstream *st, struct ssp_slice pt, struct ssp_buf *out)
{
    return sstream_push(st, pt, crypto_secretstream_xchacha20poly1305_TAG_MESSAGE, out);
}

ssp_err
ssp_sstream_push_end(struct ssp_sstream *st, struct ssp_slice pt, bool last, struct ssp_buf *out)
{
    return sstream_push(st, pt,
                        last ? crypto_secretstream_xchacha20poly1305_TAG_FINAL
                             : crypto_secretstream_xchacha20poly1305_TAG_MESSAGE,
                        out);
}

/* Pulls one message; *last (if not NULL) takes FINAL, else only MESSAGE is accepted. */
static ssp_err
sstream_pull(struct ssp_sstream *st, struct ssp_slice ct, bool *last, struct ssp_buf *out)
{
    unsigned char tag;
    if (st->push)
        return SSP_ERR_INVAL;
    if (ct.n < SSP_SSTREAM_ABYTES)
        return SSP_ERR_AUTH;
    size_t n = ct.n - SSP_SSTREAM_ABYTES;
    ssp_err rc = ssp_buf_reserve(out, n);
    if (rc != SSP_OK)
        return rc;
    if (crypto_secretstream_xchacha20poly1305_pull(&st->st, out->p + out->n, NULL, &tag, ct.p, ct.n,
                                                   NULL, 0) != 0)
        return SSP_ERR_AUTH;
    /*
     * PUSH and REKEY have no meaning in our protocol, nor FINAL on a link:
     * a peer sending one is misbehaving.
     */
    bool final = tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL && last != NULL;
    if (tag != crypto_secretstream_xchacha20poly1305_TAG_MESSAGE && !final) {
        sodium_memzero(out->p + out->n, n);
        return SSP_ERR_AUTH;
    }
    if (last != NULL)
        *last = final;
    out->n += n;
    return SSP_OK;
}

ssp_err
ssp_sstream_pull(struct ssp_sstream *st, struct ssp_slice ct, struct ssp_buf *out)
{
    return sstream_pull(st, ct, NULL, out);
}

ssp_err
ssp_sstream_pull_end(struct ssp_sstream *st, struct ssp_slice ct, bool *last, struct ssp_buf *out)
{
    return sstream_pull(st, ct, last, out);
}

void
ssp_sstream_free(struct ssp_sstream *st)
{
    if (st != NULL)
        sodium_free(st); /* sodium_free wipes */
}

ssp_err
ssp_grant_seal(const uint8_t ed_pk[SSP_PK_LEN], const uint8_t key[SSP_KEY_LEN],
               uint8_t out[SSP_GRANT_LEN])
{
    uint8_t x_pk[crypto_box_PUBLICKEYBYTES];
    if (crypto_sign_ed25519_pk_to_curve25519(x_pk, ed_pk) != 0)
        return SSP_ERR_INVAL;
    if (crypto_box_seal(out, key, SSP_KEY_LEN, x_pk) != 0)
        return SSP_ERR_INVAL;
    return SSP_OK;
}

ssp_err
ssp_grant_open(const uint8_t ed_pk[SSP_PK_LEN], const uint8_t ed_sk[SSP_SK_LEN],
               const uint8_t sealed[SSP_GRANT_LEN], uint8_t key[SSP_KEY_LEN])
{
    uint8_t x_pk[crypto_box_PUBLICKEYBYTES], x_sk[crypto_box_SECRETKEYBYTES];
    ssp_err rc = SSP_OK;
    if (crypto_sign_ed25519_pk_to_curve25519(x_pk, ed_pk) != 0 ||
        crypto_sign_ed25519_sk_to_curve25519(x_sk, ed_sk) != 0) {
        rc = SSP_ERR_INVAL;
        goto out;
    }
    if (crypto_box_seal_open(key, sealed, SSP_GRANT_LEN, x_pk, x_sk) != 0) {
        sodium_memzero(key, SSP_KEY_LEN);
        rc = SSP_ERR_AUTH;
    }
out:
    sodium_memzero(x_sk, sizeof x_sk);
    return rc;
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
