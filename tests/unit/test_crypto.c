/*
 * Tests of node/crypto: the primitives (crypto.h) and the keyring and
 * passphrase loading (keyring.h). Keyrings use SSP_KDF_INTERACTIVE.
 */
#define _GNU_SOURCE /* memmem */
#include <fcntl.h>
#include <stdbool.h>
#include <unistd.h>

#include "harness.h"
#include "node/crypto/keyring.h"
#include "proto/mp.h"

#define PASS "correct horse battery staple"
#define PASS_SLICE PASS, sizeof PASS - 1

static void
init(void)
{
    CHECK_OK(ssp_crypto_init());
}

/* ---- primitives ---- */

static void
test_seal_open_roundtrip(void)
{
    static const char pt[] = "the young person was seen at the station";
    uint8_t key[SSP_KEY_LEN];
    struct ssp_buf sealed, out;
    init();
    ssp_random(key, sizeof key);
    ssp_buf_init(&sealed);
    ssp_buf_init(&out);
    CHECK_OK(ssp_buf_append(&sealed, "pre", 3)); /* seal appends */
    CHECK_OK(ssp_seal(key, SSP_SLICE_STR("ad"), SSP_SLICE_STR(pt), &sealed));
    CHECK_INT(sealed.n, 3 + strlen(pt) + SSP_SEAL_OVERHEAD);
    CHECK(memmem(sealed.p, sealed.n, pt, 8) == NULL);
    CHECK_OK(ssp_buf_append(&out, "x", 1)); /* open appends */
    CHECK_OK(ssp_open(key, SSP_SLICE_STR("ad"), SSP_SLICE(sealed.p + 3, sealed.n - 3), &out));
    CHECK_INT(out.n, 1 + strlen(pt));
    CHECK(memcmp(out.p + 1, pt, strlen(pt)) == 0);

    /* Empty plaintext, and two seals of the same text differ (random nonce). */
    struct ssp_buf a, b;
    ssp_buf_init(&a);
    ssp_buf_init(&b);
    CHECK_OK(ssp_seal(key, SSP_SLICE(NULL, 0), SSP_SLICE(NULL, 0), &a));
    CHECK_INT(a.n, SSP_SEAL_OVERHEAD);
    out.n = 0;
    CHECK_OK(ssp_open(key, SSP_SLICE(NULL, 0), SSP_BUF_SLICE(&a), &out));
    CHECK_INT(out.n, 0);
    a.n = 0;
    CHECK_OK(ssp_seal(key, SSP_SLICE(NULL, 0), SSP_SLICE_STR(pt), &a));
    CHECK_OK(ssp_seal(key, SSP_SLICE(NULL, 0), SSP_SLICE_STR(pt), &b));
    CHECK(!ssp_slice_eq(SSP_BUF_SLICE(&a), SSP_BUF_SLICE(&b)));

    /* ssp_seal_to writes the same format into a given area. */
    uint8_t to[sizeof pt - 1 + SSP_SEAL_OVERHEAD];
    ssp_seal_to(key, SSP_SLICE_STR("ad"), SSP_SLICE_STR(pt), to);
    out.n = 0;
    CHECK_OK(ssp_open(key, SSP_SLICE_STR("ad"), SSP_SLICE(to, sizeof to), &out));
    CHECK(ssp_slice_eq(SSP_BUF_SLICE(&out), SSP_SLICE_STR(pt)));
    ssp_buf_fini(&a);
    ssp_buf_fini(&b);
    ssp_buf_fini(&sealed);
    ssp_buf_fini(&out);
}

static void
test_seal_tamper(void)
{
    static const char pt[] = "forty-two bytes of sensitive plaintext..";
    uint8_t key[SSP_KEY_LEN], other[SSP_KEY_LEN];
    struct ssp_buf sealed, out;
    init();
    ssp_random(key, sizeof key);
    ssp_random(other, sizeof other);
    ssp_buf_init(&sealed);
    ssp_buf_init(&out);
    CHECK_OK(ssp_seal(key, SSP_SLICE_STR("ad"), SSP_SLICE_STR(pt), &sealed));

    /* A flipped bit or byte anywhere: nonce, ciphertext or tag. */
    static const uint8_t masks[] = {0x01, 0x80, 0xff};
    for (size_t i = 0; i < sealed.n; i++) {
        for (size_t m = 0; m < sizeof masks; m++) {
            sealed.p[i] ^= masks[m];
            CHECK_INT(ssp_open(key, SSP_SLICE_STR("ad"), SSP_BUF_SLICE(&sealed), &out),
                      SSP_ERR_CORRUPT);
            CHECK_INT(out.n, 0);
            sealed.p[i] ^= masks[m];
        }
    }
    CHECK_INT(ssp_open(key, SSP_SLICE_STR("aD"), SSP_BUF_SLICE(&sealed), &out), SSP_ERR_CORRUPT);
    CHECK_INT(ssp_open(key, SSP_SLICE_STR("ad "), SSP_BUF_SLICE(&sealed), &out), SSP_ERR_CORRUPT);
    CHECK_INT(ssp_open(key, SSP_SLICE(NULL, 0), SSP_BUF_SLICE(&sealed), &out), SSP_ERR_CORRUPT);
    CHECK_INT(ssp_open(other, SSP_SLICE_STR("ad"), SSP_BUF_SLICE(&sealed), &out), SSP_ERR_CORRUPT);
    for (size_t n = 0; n < sealed.n; n++)
        CHECK_INT(ssp_open(key, SSP_SLICE_STR("ad"), SSP_SLICE(sealed.p, n), &out),
                  SSP_ERR_CORRUPT);
    CHECK_INT(out.n, 0);
    CHECK_OK(ssp_open(key, SSP_SLICE_STR("ad"), SSP_BUF_SLICE(&sealed), &out));
    ssp_buf_fini(&sealed);
    ssp_buf_fini(&out);
}

static void
test_sign_verify(void)
{
    uint8_t pk[SSP_PK_LEN], sk[SSP_SK_LEN], pk2[SSP_PK_LEN], sk2[SSP_SK_LEN];
    uint8_t msg[SSP_HASH_LEN], sig[SSP_SIG_LEN];
    init();
    ssp_sign_keypair(pk, sk);
    ssp_sign_keypair(pk2, sk2);
    ssp_hash(&SSP_SLICE_STR("a commit header"), 1, msg);
    ssp_sign(sk, msg, sig);
    CHECK_OK(ssp_verify(pk, msg, sig));
    CHECK_INT(ssp_verify(pk2, msg, sig), SSP_ERR_AUTH);
    for (size_t bit = 0; bit < SSP_SIG_LEN * 8; bit++) {
        sig[bit / 8] ^= (uint8_t)(1u << bit % 8);
        CHECK_INT(ssp_verify(pk, msg, sig), SSP_ERR_AUTH);
        sig[bit / 8] ^= (uint8_t)(1u << bit % 8);
    }
    for (size_t bit = 0; bit < SSP_HASH_LEN * 8; bit++) {
        msg[bit / 8] ^= (uint8_t)(1u << bit % 8);
        CHECK_INT(ssp_verify(pk, msg, sig), SSP_ERR_AUTH);
        msg[bit / 8] ^= (uint8_t)(1u << bit % 8);
    }
    CHECK_OK(ssp_verify(pk, msg, sig));

    /* Hashes: the parts are concatenated, so the split does not matter but every byte does. */
    uint8_t h1[SSP_HASH_LEN], h2[SSP_HASH_LEN];
    const struct ssp_slice parts[] = {SSP_SLICE_STR("a commit"), SSP_SLICE_STR(" header")};
    ssp_hash(parts, 2, h1);
    CHECK(memcmp(h1, msg, SSP_HASH_LEN) == 0);
    ssp_hash(&SSP_SLICE_STR("a commit headeR"), 1, h2);
    CHECK(memcmp(h1, h2, SSP_HASH_LEN) != 0);
}

static void
test_equal_ct(void)
{
    uint8_t a[64], b[64];
    init();
    ssp_random(a, sizeof a);
    memcpy(b, a, sizeof b);
    CHECK(ssp_equal_ct(a, b, sizeof a));
    CHECK(ssp_equal_ct(a, b, 0));
    for (size_t i = 0; i < sizeof a; i++) {
        b[i] ^= 0x40;
        CHECK(!ssp_equal_ct(a, b, sizeof a));
        CHECK(ssp_equal_ct(a, b, i)); /* only the first i bytes compared */
        b[i] ^= 0x40;
    }
    uint8_t z[8] = {0};
    ssp_wipe(a, 8);
    CHECK(ssp_equal_ct(a, z, 8));
}

/* ---- the keyring ---- */

/* A new keyring with scopes north and south, sealed into *sealed. */
static struct ssp_keyring *
new_keyring(struct ssp_buf *sealed)
{
    struct ssp_keyring *kr = NULL;
    struct ssp_diag d = {{0}};
    init();
    CHECK_OK(ssp_keyring_new(PASS_SLICE, SSP_KDF_INTERACTIVE, &kr));
    CHECK(kr != NULL);
    CHECK_INT(kr->nkeys, 0);
    CHECK_OK(ssp_keyring_add_scope(kr, SSP_SLICE_STR("north"), &d));
    CHECK_OK(ssp_keyring_add_scope(kr, SSP_SLICE_STR("south"), &d));
    CHECK_INT(d.msg[0], '\0');
    ssp_buf_init(sealed);
    CHECK_OK(ssp_keyring_seal(kr, sealed));
    return kr;
}

static void
test_keyring_roundtrip(void)
{
    struct ssp_buf sealed;
    struct ssp_keyring *kr = new_keyring(&sealed), *back = NULL;
    struct ssp_diag d = {{0}};
    CHECK_OK(ssp_keyring_open(SSP_BUF_SLICE(&sealed), PASS_SLICE, &back, &d));
    CHECK(memcmp(back->pk, kr->pk, SSP_PK_LEN) == 0);
    CHECK(memcmp(back->sk, kr->sk, SSP_SK_LEN) == 0);
    CHECK(memcmp(back->seal_key, kr->seal_key, SSP_KEY_LEN) == 0);
    CHECK_INT(back->nkeys, 2);
    for (uint32_t i = 0; i < 2; i++) {
        CHECK_STR(back->keys[i].scope, kr->keys[i].scope);
        CHECK_INT(back->keys[i].epoch, 1);
        CHECK(memcmp(back->keys[i].key, kr->keys[i].key, SSP_KEY_LEN) == 0);
    }
    CHECK(memcmp(kr->keys[0].key, kr->keys[1].key, SSP_KEY_LEN) != 0);
    const struct ssp_scope_key *north = ssp_keyring_scope(back, SSP_SLICE_STR("north"));
    CHECK(north != NULL);
    CHECK_STR(north->scope, "north");
    CHECK(ssp_keyring_scope_epoch(back, SSP_SLICE_STR("south"), 1) == &back->keys[1]);
    CHECK(ssp_keyring_scope_epoch(back, SSP_SLICE_STR("south"), 2) == NULL);
    CHECK(ssp_keyring_scope(back, SSP_SLICE_STR("nort")) == NULL);
    CHECK(ssp_keyring_scope(back, SSP_SLICE_STR("network")) == NULL);

    /* The identity signs, and what it signs verifies under the public key. */
    uint8_t msg[SSP_HASH_LEN] = {1}, sig[SSP_SIG_LEN];
    ssp_sign(back->sk, msg, sig);
    CHECK_OK(ssp_verify(kr->pk, msg, sig));

    /* A reopened keyring seals to something the passphrase opens again. */
    struct ssp_buf again;
    struct ssp_keyring *third = NULL;
    ssp_buf_init(&again);
    CHECK_OK(ssp_keyring_seal(back, &again));
    CHECK_OK(ssp_keyring_open(SSP_BUF_SLICE(&again), PASS_SLICE, &third, &d));
    CHECK(memcmp(third->sk, kr->sk, SSP_SK_LEN) == 0);
    CHECK(memmem(sealed.p, sealed.n, kr->sk, 16) == NULL);
    ssp_keyring_free(third);
    ssp_keyring_free(back);
    ssp_keyring_free(kr);
    ssp_keyring_free(NULL);
    ssp_buf_fini(&again);
    ssp_buf_fini(&sealed);
}

static void
test_keyring_wrong_passphrase(void)
{
    struct ssp_buf sealed;
    struct ssp_keyring *kr = new_keyring(&sealed), *back = NULL;
    struct ssp_diag d = {{0}};
    CHECK_INT(ssp_keyring_open(SSP_BUF_SLICE(&sealed), "correct horse battery stapl",
                               sizeof PASS - 2, &back, &d),
              SSP_ERR_AUTH);
    CHECK(back == NULL);
    CHECK_CONTAINS(d.msg, "wrong passphrase");
    memset(&d, 0, sizeof d);
    CHECK_INT(ssp_keyring_open(SSP_BUF_SLICE(&sealed), "", 0, &back, &d), SSP_ERR_AUTH);
    CHECK_CONTAINS(d.msg, "wrong passphrase");
    CHECK(back == NULL);
    ssp_keyring_free(kr);
    ssp_buf_fini(&sealed);
}

/* Opens sealed with the right passphrase and expects err. */
static void
check_open_fails(struct ssp_slice sealed, ssp_err err)
{
    struct ssp_keyring *back = NULL;
    struct ssp_diag d = {{0}};
    uint8_t *p = malloc(sealed.n + 1);
    CHECK(p != NULL);
    memcpy(p, sealed.p, sealed.n);
    CHECK_INT(ssp_keyring_open(SSP_SLICE(p, sealed.n), PASS_SLICE, &back, &d), err);
    CHECK(back == NULL);
    CHECK(d.msg[0] != '\0');
    free(p);
}

static void
test_keyring_damaged(void)
{
    struct ssp_buf sealed, forged, plain;
    struct ssp_keyring *kr = new_keyring(&sealed);
    struct ssp_mpw w;

    /* Every cut of the outer structure, and a byte too many. */
    for (size_t cut = 0; cut < sealed.n; cut++)
        check_open_fails(SSP_SLICE(sealed.p, cut), SSP_ERR_CORRUPT);
    CHECK_OK(ssp_buf_append_u8(&sealed, 0xc0));
    check_open_fails(SSP_BUF_SLICE(&sealed), SSP_ERR_CORRUPT);
    sealed.n--;

    /* The documented outer form with bad parameters, and a newer format. */
    struct {
        uint64_t format, ops, mem;
        ssp_err err;
    } outer[] = {
        {1, 0, kr->kdf.mem, SSP_ERR_CORRUPT},
        {1, kr->kdf.ops, 1, SSP_ERR_CORRUPT},
        {1, UINT64_MAX, kr->kdf.mem, SSP_ERR_CORRUPT},
        {2, kr->kdf.ops, kr->kdf.mem, SSP_ERR_VERSION},
    };
    ssp_buf_init(&forged);
    for (size_t k = 0; k < sizeof outer / sizeof outer[0]; k++) {
        forged.n = 0;
        ssp_mpw_init(&w, &forged);
        ssp_mpw_array(&w, 5);
        ssp_mpw_uint(&w, outer[k].format);
        ssp_mpw_uint(&w, outer[k].ops);
        ssp_mpw_uint(&w, outer[k].mem);
        ssp_mpw_bin(&w, kr->kdf.salt, SSP_SALT_LEN);
        ssp_mpw_bin(&w, "x", 1);
        CHECK_OK(w.err);
        check_open_fails(SSP_BUF_SLICE(&forged), outer[k].err);
    }

    /*
     * A keyring that opens under the right passphrase but whose plaintext is not
     * [sk: bin64, keys]: authenticated, yet damaged.
     */
    static const uint8_t bad_plain[][4] = {
        {0x92, 0xc4, 0x01, 0x00}, /* sk of one byte */
        {0x91, 0xc0, 0xc0, 0xc0}, /* wrong arity, trailing bytes */
    };
    ssp_buf_init(&plain);
    for (size_t k = 0; k < 2; k++) {
        forged.n = 0;
        plain.n = 0;
        CHECK_OK(ssp_seal(kr->seal_key, SSP_SLICE_STR("ssp-keyring-v1"), SSP_SLICE(bad_plain[k], 4),
                          &plain));
        ssp_mpw_init(&w, &forged);
        ssp_mpw_array(&w, 5);
        ssp_mpw_uint(&w, 1);
        ssp_mpw_uint(&w, kr->kdf.ops);
        ssp_mpw_uint(&w, kr->kdf.mem);
        ssp_mpw_bin(&w, kr->kdf.salt, SSP_SALT_LEN);
        ssp_mpw_bin(&w, plain.p, plain.n);
        CHECK_OK(w.err);
        check_open_fails(SSP_BUF_SLICE(&forged), SSP_ERR_CORRUPT);
    }
    ssp_keyring_free(kr);
    ssp_buf_fini(&plain);
    ssp_buf_fini(&forged);
    ssp_buf_fini(&sealed);
}

static void
test_scope_names(void)
{
    static const char *const good[] = {"a", "north", "a-b_c9", "z0",
                                       "abcdefghijabcdefghijabcdefghijabcdefghijabcdefgh"};
    static const char *const bad[] = {"",
                                      "9north",
                                      "North",
                                      "-x",
                                      "_x",
                                      "no rth",
                                      "n\xc3\xb6rth",
                                      "a.b",
                                      "a/b",
                                      "nor\n",
                                      "A",
                                      "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghi"};
    struct ssp_keyring *kr = NULL;
    init();
    CHECK_INT(strlen(good[4]), SSP_SCOPE_MAX);
    CHECK_INT(strlen(bad[11]), SSP_SCOPE_MAX + 1);
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        CHECK(ssp_scope_name_valid(SSP_SLICE_STR(good[i])));
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK(!ssp_scope_name_valid(SSP_SLICE_STR(bad[i])));
    /* A NUL inside the slice is not part of a name. */
    CHECK(!ssp_scope_name_valid(SSP_SLICE("ab\0c", 4)));

    CHECK_OK(ssp_keyring_new(PASS_SLICE, SSP_KDF_INTERACTIVE, &kr));
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct ssp_diag d = {{0}};
        CHECK_INT(ssp_keyring_add_scope(kr, SSP_SLICE_STR(bad[i]), &d), SSP_ERR_INVAL);
        CHECK_CONTAINS(d.msg, "not a valid name");
    }
    CHECK_INT(kr->nkeys, 0);
    ssp_keyring_free(kr);
}

static void
test_scope_duplicate(void)
{
    struct ssp_buf sealed;
    struct ssp_keyring *kr = new_keyring(&sealed);
    struct ssp_diag d = {{0}};
    uint8_t before[SSP_KEY_LEN];
    memcpy(before, kr->keys[0].key, SSP_KEY_LEN);
    CHECK_INT(ssp_keyring_add_scope(kr, SSP_SLICE_STR("north"), &d), SSP_ERR_EXISTS);
    CHECK_CONTAINS(d.msg, "north");
    CHECK_INT(kr->nkeys, 2);
    CHECK(memcmp(before, kr->keys[0].key, SSP_KEY_LEN) == 0);
    CHECK(ssp_keyring_scope(kr, SSP_SLICE_STR("north")) == &kr->keys[0]);
    /* A name that only shares a prefix is another scope. */
    CHECK_OK(ssp_keyring_add_scope(kr, SSP_SLICE_STR("north2"), &d));
    CHECK_INT(kr->nkeys, 3);
    ssp_keyring_free(kr);
    ssp_buf_fini(&sealed);
}

/* ---- passphrases ---- */

struct tmp {
    char dir[64];
    char path[96];
};

/* A temp dir holding a file "pass" with the given bytes. */
static void
tmp_file(struct tmp *t, const void *bytes, size_t n)
{
    snprintf(t->dir, sizeof t->dir, "/tmp/ssp-crypto-XXXXXX");
    CHECK(mkdtemp(t->dir) != NULL);
    snprintf(t->path, sizeof t->path, "%s/pass", t->dir);
    int fd = open(t->path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    CHECK(fd >= 0);
    CHECK_INT(write(fd, bytes, n), n);
    CHECK_INT(close(fd), 0);
}

static void
tmp_remove(struct tmp *t)
{
    CHECK_INT(unlink(t->path), 0);
    CHECK_INT(rmdir(t->dir), 0);
}

/* Loads a passphrase from (fd, path or the environment) and checks what came back. */
static void
check_load(int fd, const char *path, const char *want)
{
    char *pass = NULL;
    size_t len = 0;
    struct ssp_diag d = {{0}};
    CHECK_OK(ssp_passphrase_load(fd, path, &pass, &len, &d));
    CHECK_INT(len, strlen(want));
    CHECK_STR(pass, want);
    ssp_secret_free(pass);
}

static void
check_load_fails(int fd, const char *path, ssp_err err, const char *says)
{
    char *pass = NULL;
    size_t len = 0;
    struct ssp_diag d = {{0}};
    CHECK_INT(ssp_passphrase_load(fd, path, &pass, &len, &d), err);
    CHECK(pass == NULL);
    CHECK_CONTAINS(d.msg, says);
}

static void
test_passphrase_file(void)
{
    static const char *const files[][2] = {
        {"secret pass\nsecond line\n", "secret pass"},
        {"crlf pass\r\n", "crlf pass"},
        {"no newline", "no newline"},
        {"  spaces kept \n", "  spaces kept "},
    };
    init();
    CHECK_INT(unsetenv("SSP_PASSPHRASE"), 0);
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        struct tmp t;
        tmp_file(&t, files[i][0], strlen(files[i][0]));
        check_load(-1, t.path, files[i][1]);
        /* The file wins over the environment. */
        CHECK_INT(setenv("SSP_PASSPHRASE", "from env", 1), 0);
        check_load(-1, t.path, files[i][1]);
        CHECK_INT(unsetenv("SSP_PASSPHRASE"), 0);
        tmp_remove(&t);
    }
    check_load_fails(-1, "/nonexistent/ssp/pass", SSP_ERR_IO, "/nonexistent/ssp/pass");

    /* Exactly the limit is fine; one byte more is refused. */
    static char longest[SSP_PASSPHRASE_MAX + 2];
    memset(longest, 'p', SSP_PASSPHRASE_MAX + 1);
    struct tmp t;
    tmp_file(&t, longest, SSP_PASSPHRASE_MAX + 1);
    check_load_fails(-1, t.path, SSP_ERR_INVAL, "longer than");
    tmp_remove(&t);
    longest[SSP_PASSPHRASE_MAX] = '\n';
    tmp_file(&t, longest, SSP_PASSPHRASE_MAX + 1);
    longest[SSP_PASSPHRASE_MAX] = '\0';
    check_load(-1, t.path, longest);
    tmp_remove(&t);
}

static void
test_passphrase_pipe(void)
{
    int fds[2];
    init();
    CHECK_INT(pipe(fds), 0);
    CHECK_INT(write(fds[1], "piped secret\nrest", 17), 17);
    CHECK_INT(close(fds[1]), 0);
    /* The descriptor wins over a file and the environment. */
    CHECK_INT(setenv("SSP_PASSPHRASE", "from env", 1), 0);
    check_load(fds[0], "/nonexistent/ssp/pass", "piped secret");
    CHECK_INT(close(fds[0]), 0);
    CHECK_INT(unsetenv("SSP_PASSPHRASE"), 0);

    /* A pipe closed without a byte: an empty passphrase. */
    CHECK_INT(pipe(fds), 0);
    CHECK_INT(close(fds[1]), 0);
    check_load_fails(fds[0], NULL, SSP_ERR_INVAL, "empty");
    CHECK_INT(close(fds[0]), 0);
}

static void
test_passphrase_env(void)
{
    init();
    CHECK_INT(setenv("SSP_PASSPHRASE", "env secret", 1), 0);
    check_load(-1, NULL, "env secret");
    CHECK_INT(setenv("SSP_PASSPHRASE", "", 1), 0);
    check_load_fails(-1, NULL, SSP_ERR_INVAL, "empty");
    CHECK_INT(unsetenv("SSP_PASSPHRASE"), 0);
    check_load_fails(-1, NULL, SSP_ERR_INVAL, "SSP_PASSPHRASE");
}

static void
test_passphrase_empty(void)
{
    static const char *const empties[] = {"\n", "\r\n", "", "\nsecond line\n"};
    init();
    CHECK_INT(unsetenv("SSP_PASSPHRASE"), 0);
    for (size_t i = 0; i < sizeof empties / sizeof empties[0]; i++) {
        struct tmp t;
        tmp_file(&t, empties[i], strlen(empties[i]));
        check_load_fails(-1, t.path, SSP_ERR_INVAL, "empty");
        tmp_remove(&t);
    }
}

/* SipHash-2-4 (the paper's vector: key 00..0f, message 00..0e), and another key, another hash. */
static void
test_shorthash(void)
{
    uint8_t key[SSP_SHORTHASH_KEY_LEN], msg[15];
    init();
    for (size_t i = 0; i < sizeof key; i++)
        key[i] = (uint8_t)i;
    for (size_t i = 0; i < sizeof msg; i++)
        msg[i] = (uint8_t)i;
    /* The paper gives it as the little-endian 0xa129ca6149be45e5; we read the bytes in order. */
    CHECK(ssp_shorthash(key, SSP_SLICE(msg, sizeof msg)) == 0xe545be4961ca29a1ULL);
    CHECK(ssp_shorthash(key, SSP_SLICE(msg, sizeof msg - 1)) !=
          ssp_shorthash(key, SSP_SLICE(msg, sizeof msg)));
    key[0] ^= 1;
    CHECK(ssp_shorthash(key, SSP_SLICE(msg, sizeof msg)) != 0xe545be4961ca29a1ULL);
}

/* The pid: keyed by the network key, the dash normalised, bad forms refused without echo. */
static void
test_pid_of(void)
{
    static const char plain[] = "0101051234", dashed[] = "010105-1234";
    uint8_t key[SSP_KEY_LEN], other_key[SSP_KEY_LEN], bare[SSP_HASH_LEN];
    char a[SSP_PID_HEX_LEN + 1], b[SSP_PID_HEX_LEN + 1], bare_hex[2 * SSP_HASH_LEN + 1];
    struct ssp_diag d = {0};
    ssp_random(key, sizeof key);
    memcpy(other_key, key, sizeof key);
    other_key[0] ^= 1;
    CHECK_OK(ssp_pid_of(key, SSP_SLICE(plain, sizeof plain - 1), a, NULL));
    CHECK_OK(ssp_pid_of(key, SSP_SLICE(plain, sizeof plain - 1), b, NULL));
    CHECK(memcmp(a, b, sizeof a) == 0);
    CHECK_OK(ssp_pid_of(key, SSP_SLICE(dashed, sizeof dashed - 1), b, NULL));
    CHECK(memcmp(a, b, sizeof a) == 0);
    CHECK_OK(ssp_pid_of(other_key, SSP_SLICE(plain, sizeof plain - 1), b, NULL));
    CHECK(memcmp(a, b, sizeof a) != 0);
    CHECK_OK(ssp_pid_of(key, SSP_SLICE("0101051235", 10), b, NULL));
    CHECK(memcmp(a, b, sizeof a) != 0);
    /* Not a hash of the bare id: without the key the 10^10 ids cannot be tried. */
    struct ssp_slice part = SSP_SLICE(plain, sizeof plain - 1);
    ssp_hash(&part, 1, bare);
    for (size_t i = 0; i < sizeof bare; i++)
        snprintf(bare_hex + 2 * i, 3, "%02x", bare[i]);
    CHECK(strcmp(a, bare_hex) != 0);
    CHECK_INT(strlen(a), SSP_PID_HEX_LEN);
    CHECK(strspn(a, "0123456789abcdef") == SSP_PID_HEX_LEN);
    static const char *const bad[] = {
        "",           "010105123",   "01010512345", "0101-051234", "010105 1234",
        "01010a1234", "010105--234", "010105-12345"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        d.msg[0] = '\0';
        CHECK(ssp_pid_of(key, SSP_SLICE(bad[i], strlen(bad[i])), b, &d) == SSP_ERR_SCHEMA);
        CHECK_CONTAINS(d.msg, "national id");
        if (strlen(bad[i]) >= 6)
            CHECK(strstr(d.msg, bad[i]) == NULL);
    }
}

static const struct ssp_test tests[] = {
    {"seal_open_roundtrip", test_seal_open_roundtrip},
    {"seal_tamper", test_seal_tamper},
    {"sign_verify", test_sign_verify},
    {"equal_ct", test_equal_ct},
    {"shorthash", test_shorthash},
    {"pid_of", test_pid_of},
    {"keyring_roundtrip", test_keyring_roundtrip},
    {"keyring_wrong_passphrase", test_keyring_wrong_passphrase},
    {"keyring_damaged", test_keyring_damaged},
    {"scope_names", test_scope_names},
    {"scope_duplicate", test_scope_duplicate},
    {"passphrase_file", test_passphrase_file},
    {"passphrase_pipe", test_passphrase_pipe},
    {"passphrase_env", test_passphrase_env},
    {"passphrase_empty", test_passphrase_empty},
};

SSP_TEST_MAIN(tests)
