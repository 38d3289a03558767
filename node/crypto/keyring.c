#include "node/crypto/keyring.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proto/mp.h"

#define KEYRING_FORMAT 1
/* Upper bound of the plaintext: sk plus every key with its longest scope name. */
#define PLAIN_MAX (128 + SSP_KEYRING_MAX_KEYS * (SSP_SCOPE_MAX + 64))

static const char keyring_ad[] = "ssp-keyring-v1";

ssp_err
ssp_keyring_new(const char *pass, size_t len, enum ssp_kdf_level level, struct ssp_keyring **out)
{
    struct ssp_keyring *kr = ssp_secret_alloc(sizeof *kr);
    if (kr == NULL)
        return SSP_ERR_NOMEM;
    ssp_sign_keypair(kr->pk, kr->sk);
    ssp_kdf_params_new(level, &kr->kdf);
    ssp_err rc = ssp_kdf(pass, len, &kr->kdf, kr->seal_key);
    if (rc != SSP_OK) {
        ssp_keyring_free(kr);
        return rc;
    }
    *out = kr;
    return SSP_OK;
}

void
ssp_keyring_free(struct ssp_keyring *kr)
{
    if (kr != NULL)
        ssp_secret_free(kr);
}

/* A buffer for plaintext secrets: allocated once in secret memory, never grown. */
struct secret_buf {
    struct ssp_buf b;
};

static ssp_err
secret_buf_init(struct secret_buf *s)
{
    s->b.p = ssp_secret_alloc(PLAIN_MAX);
    s->b.n = 0;
    s->b.cap = PLAIN_MAX;
    return s->b.p == NULL ? SSP_ERR_NOMEM : SSP_OK;
}

static void
secret_buf_fini(struct secret_buf *s)
{
    if (s->b.p != NULL)
        ssp_secret_free(s->b.p);
    s->b.p = NULL;
}

ssp_err
ssp_keyring_seal(const struct ssp_keyring *kr, struct ssp_buf *out)
{
    struct secret_buf plain;
    struct ssp_mpw w;
    ssp_err rc = secret_buf_init(&plain);
    if (rc != SSP_OK)
        return rc;
    ssp_mpw_init(&w, &plain.b);
    ssp_mpw_array(&w, 2);
    ssp_mpw_bin(&w, kr->sk, SSP_SK_LEN);
    ssp_mpw_array(&w, kr->nkeys);
    for (uint32_t i = 0; i < kr->nkeys; i++) {
        ssp_mpw_array(&w, 3);
        ssp_mpw_cstr(&w, kr->keys[i].scope);
        ssp_mpw_uint(&w, kr->keys[i].epoch);
        ssp_mpw_bin(&w, kr->keys[i].key, SSP_KEY_LEN);
    }
    /* PLAIN_MAX bounds this plaintext, so the secret buffer never needs to grow. */
    rc = w.err;
    if (rc == SSP_OK) {
        struct ssp_mpw o;
        struct ssp_buf sealed;
        ssp_buf_init(&sealed);
        rc = ssp_seal(kr->seal_key, SSP_SLICE(keyring_ad, sizeof keyring_ad - 1),
                      SSP_BUF_SLICE(&plain.b), &sealed);
        ssp_mpw_init(&o, out);
        ssp_mpw_array(&o, 5);
        ssp_mpw_uint(&o, KEYRING_FORMAT);
        ssp_mpw_uint(&o, kr->kdf.ops);
        ssp_mpw_uint(&o, kr->kdf.mem);
        ssp_mpw_bin(&o, kr->kdf.salt, SSP_SALT_LEN);
        ssp_mpw_bin(&o, sealed.p, sealed.n);
        ssp_buf_fini(&sealed);
        if (rc == SSP_OK)
            rc = o.err;
    }
    secret_buf_fini(&plain);
    return rc;
}

static ssp_err
decode_plain(struct ssp_keyring *kr, struct ssp_slice plain)
{
    struct ssp_mp c;
    uint32_t n, nkeys;
    ssp_mp_init(&c, plain);
    if (ssp_mp_array(&c, &n) != SSP_OK || n != 2 ||
        ssp_mp_bin_n(&c, kr->sk, SSP_SK_LEN) != SSP_OK || ssp_mp_array(&c, &nkeys) != SSP_OK ||
        nkeys > SSP_KEYRING_MAX_KEYS)
        return SSP_ERR_CORRUPT;
    for (uint32_t i = 0; i < nkeys; i++) {
        struct ssp_scope_key *k = &kr->keys[i];
        struct ssp_slice scope;
        uint64_t epoch;
        if (ssp_mp_array(&c, &n) != SSP_OK || n != 3 || ssp_mp_str(&c, &scope) != SSP_OK ||
            !ssp_scope_name_valid(scope) || ssp_mp_uint(&c, &epoch) != SSP_OK ||
            epoch > UINT32_MAX || ssp_mp_bin_n(&c, k->key, SSP_KEY_LEN) != SSP_OK)
            return SSP_ERR_CORRUPT;
        memcpy(k->scope, scope.p, scope.n);
        k->scope[scope.n] = '\0';
        k->epoch = (uint32_t)epoch;
    }
    kr->nkeys = nkeys;
    /* The public key is the second half of an Ed25519 secret key in libsodium's layout. */
    memcpy(kr->pk, kr->sk + 32, SSP_PK_LEN);
    return ssp_mp_done(&c) ? SSP_OK : SSP_ERR_CORRUPT;
}

ssp_err
ssp_keyring_open(struct ssp_slice sealed, const char *pass, size_t len, struct ssp_keyring **out,
                 struct ssp_diag *d)
{
    struct ssp_keyring *kr = NULL;
    struct secret_buf plain = {{0}};
    struct ssp_slice blob;
    struct ssp_mp c;
    uint32_t n;
    uint64_t format;
    ssp_err rc;

    kr = ssp_secret_alloc(sizeof *kr);
    if (kr == NULL)
        return SSP_ERR_NOMEM;
    ssp_mp_init(&c, sealed);
    if (ssp_mp_array(&c, &n) != SSP_OK || n != 5 || ssp_mp_uint(&c, &format) != SSP_OK) {
        rc = ssp_diag_set(d, SSP_ERR_CORRUPT, "the stored keyring is damaged");
        goto out;
    }
    if (format != KEYRING_FORMAT) {
        rc = ssp_diag_set(d, SSP_ERR_VERSION,
                          "the keyring has format %llu, this ssp-node reads %d; upgrade ssp-node",
                          (unsigned long long)format, KEYRING_FORMAT);
        goto out;
    }
    if (ssp_mp_uint(&c, &kr->kdf.ops) != SSP_OK || ssp_mp_uint(&c, &kr->kdf.mem) != SSP_OK ||
        ssp_mp_bin_n(&c, kr->kdf.salt, SSP_SALT_LEN) != SSP_OK || ssp_mp_bin(&c, &blob) != SSP_OK ||
        !ssp_mp_done(&c) || !ssp_kdf_params_valid(&kr->kdf) || blob.n > PLAIN_MAX) {
        rc = ssp_diag_set(d, SSP_ERR_CORRUPT, "the stored keyring is damaged");
        goto out;
    }
    rc = ssp_kdf(pass, len, &kr->kdf, kr->seal_key);
    if (rc != SSP_OK) {
        ssp_diag_set(d, rc, "cannot derive the keyring key: %s", ssp_strerror(rc));
        goto out;
    }
    rc = secret_buf_init(&plain);
    if (rc != SSP_OK)
        goto out;
    if (ssp_open(kr->seal_key, SSP_SLICE(keyring_ad, sizeof keyring_ad - 1), blob, &plain.b) !=
        SSP_OK) {
        rc = ssp_diag_set(d, SSP_ERR_AUTH,
                          "wrong passphrase: the keyring did not open; nothing was changed");
        goto out;
    }
    rc = decode_plain(kr, SSP_BUF_SLICE(&plain.b));
    if (rc != SSP_OK)
        ssp_diag_set(d, rc, "the stored keyring is damaged");
out:
    secret_buf_fini(&plain);
    if (rc != SSP_OK)
        ssp_keyring_free(kr);
    else
        *out = kr;
    return rc;
}

const struct ssp_scope_key *
ssp_keyring_scope_epoch(const struct ssp_keyring *kr, struct ssp_slice scope, uint32_t epoch)
{
    for (uint32_t i = 0; i < kr->nkeys; i++)
        if (kr->keys[i].epoch == epoch && ssp_slice_eq_str(scope, kr->keys[i].scope))
            return &kr->keys[i];
    return NULL;
}

const struct ssp_scope_key *
ssp_keyring_scope(const struct ssp_keyring *kr, struct ssp_slice scope)
{
    const struct ssp_scope_key *best = NULL;
    for (uint32_t i = 0; i < kr->nkeys; i++)
        if (ssp_slice_eq_str(scope, kr->keys[i].scope) &&
            (best == NULL || kr->keys[i].epoch > best->epoch))
            best = &kr->keys[i];
    return best;
}

bool
ssp_scope_name_valid(struct ssp_slice name)
{
    if (name.n == 0 || name.n > SSP_SCOPE_MAX || name.p[0] < 'a' || name.p[0] > 'z')
        return false;
    for (size_t i = 0; i < name.n; i++) {
        uint8_t ch = name.p[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '-'))
            return false;
    }
    return true;
}

ssp_err
ssp_keyring_dup(const struct ssp_keyring *kr, struct ssp_keyring **out)
{
    struct ssp_keyring *copy = ssp_secret_alloc(sizeof *copy);
    if (copy == NULL)
        return SSP_ERR_NOMEM;
    memcpy(copy, kr, sizeof *copy);
    *out = copy;
    return SSP_OK;
}

ssp_err
ssp_keyring_add_key(struct ssp_keyring *kr, struct ssp_slice scope, uint32_t epoch,
                    const uint8_t key[SSP_KEY_LEN], struct ssp_diag *d)
{
    if (!ssp_scope_name_valid(scope))
        return ssp_diag_set(d, SSP_ERR_INVAL,
                            "scope '%.*s' is not a valid name; use 1-48 lower-case letters, "
                            "digits, '-' or '_', starting with a letter",
                            (int)(scope.n > 64 ? 64 : scope.n), (const char *)scope.p);
    const struct ssp_scope_key *have = ssp_keyring_scope_epoch(kr, scope, epoch);
    if (have != NULL)
        return ssp_equal_ct(have->key, key, SSP_KEY_LEN)
                   ? SSP_OK
                   : ssp_diag_set(d, SSP_ERR_EXISTS, "scope '%.*s' has another key for epoch %u",
                                  (int)scope.n, (const char *)scope.p, epoch);
    if (kr->nkeys == SSP_KEYRING_MAX_KEYS)
        return ssp_diag_set(d, SSP_ERR_FULL, "the keyring holds %d keys, its limit",
                            SSP_KEYRING_MAX_KEYS);
    struct ssp_scope_key *k = &kr->keys[kr->nkeys++];
    memcpy(k->scope, scope.p, scope.n);
    k->scope[scope.n] = '\0';
    k->epoch = epoch;
    memcpy(k->key, key, SSP_KEY_LEN);
    return SSP_OK;
}

ssp_err
ssp_keyring_add_scope(struct ssp_keyring *kr, struct ssp_slice scope, struct ssp_diag *d)
{
    uint8_t key[SSP_KEY_LEN];
    if (ssp_keyring_scope(kr, scope) != NULL)
        return ssp_diag_set(d, SSP_ERR_EXISTS, "scope '%.*s' exists already", (int)scope.n,
                            (const char *)scope.p);
    ssp_random(key, sizeof key);
    ssp_err rc = ssp_keyring_add_key(kr, scope, 1, key, d);
    ssp_wipe(key, sizeof key);
    return rc;
}

ssp_err
ssp_keyring_rotate(struct ssp_keyring *kr, struct ssp_slice scope, struct ssp_diag *d)
{
    uint8_t key[SSP_KEY_LEN];
    const struct ssp_scope_key *now = ssp_keyring_scope(kr, scope);
    if (now == NULL)
        return ssp_diag_set(d, SSP_ERR_NOTFOUND, "there is no scope '%.*s'",
                            (int)(scope.n > 64 ? 64 : scope.n), (const char *)scope.p);
    if (now->epoch == UINT32_MAX)
        return ssp_diag_set(d, SSP_ERR_FULL, "scope '%s' has used up its key epochs", now->scope);
    uint32_t epoch = now->epoch + 1;
    ssp_random(key, sizeof key);
    ssp_err rc = ssp_keyring_add_key(kr, scope, epoch, key, d);
    ssp_wipe(key, sizeof key);
    return rc;
}

/* Reads at most SSP_PASSPHRASE_MAX bytes up to the first newline from fd. */
static ssp_err
read_line_fd(int fd, char *pass, size_t *len)
{
    size_t n = 0;
    for (;;) {
        ssize_t r = read(fd, pass + n, SSP_PASSPHRASE_MAX + 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return SSP_ERR_IO;
        if (r == 0)
            break;
        n += (size_t)r;
        if (memchr(pass, '\n', n) != NULL || n > SSP_PASSPHRASE_MAX)
            break;
    }
    char *nl = memchr(pass, '\n', n);
    if (nl != NULL)
        n = (size_t)(nl - pass);
    else if (n > SSP_PASSPHRASE_MAX)
        return SSP_ERR_INVAL;
    if (n > 0 && pass[n - 1] == '\r')
        n--;
    pass[n] = '\0';
    *len = n;
    return SSP_OK;
}

ssp_err
ssp_passphrase_load(int fd, const char *path, char **out, size_t *len, struct ssp_diag *d)
{
    char *pass = ssp_secret_alloc(SSP_PASSPHRASE_MAX + 2);
    ssp_err rc = SSP_OK;
    if (pass == NULL)
        return SSP_ERR_NOMEM;
    if (fd >= 0) {
        rc = read_line_fd(fd, pass, len);
    } else if (path != NULL) {
        int f = open(path, O_RDONLY | O_CLOEXEC);
        if (f < 0) {
            rc = ssp_diag_set(d, SSP_ERR_IO, "cannot read the passphrase file %s: %s", path,
                              strerror(errno));
        } else {
            rc = read_line_fd(f, pass, len);
            close(f);
        }
    } else {
        char *env = getenv("SSP_PASSPHRASE");
        if (env == NULL) {
            rc = ssp_diag_set(d, SSP_ERR_INVAL,
                              "no passphrase: give --passphrase-file FILE or set SSP_PASSPHRASE");
        } else if (strlen(env) > SSP_PASSPHRASE_MAX) {
            rc = SSP_ERR_INVAL;
        } else {
            *len = strlen(env);
            memcpy(pass, env, *len + 1);
            /*
             * Not left where a child or /proc/PID/environ would show it: unsetenv
             * alone unlinks the string but leaves its bytes in the environment block.
             */
            ssp_wipe(env, *len);
            unsetenv("SSP_PASSPHRASE");
        }
    }
    if (rc == SSP_OK && *len == 0)
        rc = ssp_diag_set(d, SSP_ERR_INVAL, "the passphrase is empty; give a passphrase");
    if (rc != SSP_OK) {
        ssp_diag_set(d, rc, "cannot read the passphrase: longer than %d bytes or unreadable",
                     SSP_PASSPHRASE_MAX);
        ssp_secret_free(pass);
        return rc;
    }
    *out = pass;
    return SSP_OK;
}
