/*
 * Tests of node/store: the LMDB store (store.h), on real LMDB in a fresh
 * temp directory per case.
 */
#include <dirent.h>
#include <stdbool.h>
#include <unistd.h>

#include "harness.h"
#include "node/store/keys.h"
#include "node/store/store.h"

/* ---- temp dirs ---- */

static char tmp_dir[64];

static const char *
tmp_new(void)
{
    snprintf(tmp_dir, sizeof tmp_dir, "/tmp/ssp-store-XXXXXX");
    CHECK(mkdtemp(tmp_dir) != NULL);
    return tmp_dir;
}

/* Removes the temp dir and the files in it (LMDB makes no subdirectories). */
static void
tmp_remove(void)
{
    char path[sizeof tmp_dir + 256 + 1];
    DIR *dir = opendir(tmp_dir);
    struct dirent *e;
    CHECK(dir != NULL);
    while ((e = readdir(dir)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", tmp_dir, e->d_name);
        CHECK_INT(unlink(path), 0);
    }
    closedir(dir);
    CHECK_INT(rmdir(tmp_dir), 0);
}

static struct ssp_store *
open_store(bool create, size_t map_size)
{
    struct ssp_store *s = NULL;
    struct ssp_diag d = {{0}};
    CHECK_OK(ssp_store_open(tmp_dir, create, map_size, &s, &d));
    CHECK(s != NULL);
    return s;
}

/* ---- write functions ---- */

struct kv {
    enum ssp_db db;
    const char *key;
    const char *val; /* NULL: delete key */
};

struct kv_batch {
    const struct kv *kv;
    size_t n;
    ssp_err fail_with; /* returned after the puts, if not SSP_OK */
    int calls;
};

static ssp_err
put_batch(struct ssp_txn *t, void *vctx, struct ssp_diag *d)
{
    struct kv_batch *b = vctx;
    b->calls++;
    for (size_t i = 0; i < b->n; i++) {
        const struct kv *e = &b->kv[i];
        ssp_err rc = e->val != NULL
                         ? ssp_txn_put(t, e->db, SSP_SLICE_STR(e->key), SSP_SLICE_STR(e->val))
                         : ssp_txn_del(t, e->db, SSP_SLICE_STR(e->key));
        if (rc != SSP_OK)
            return rc;
    }
    if (b->fail_with != SSP_OK)
        return ssp_diag_set(d, b->fail_with, "the write fn refused after %zu puts", b->n);
    return SSP_OK;
}

static void
write_kv(struct ssp_store *s, const struct kv *kv, size_t n)
{
    struct kv_batch b = {kv, n, SSP_OK, 0};
    struct ssp_diag d = {{0}};
    CHECK_OK(ssp_store_write(s, put_batch, &b, &d));
    CHECK_INT(b.calls, 1);
}

/* The value of key in db, as a C string in out, or "" when absent. */
static void
get_str(struct ssp_store *s, enum ssp_db db, const char *key, char *out, size_t cap)
{
    struct ssp_txn *t = NULL;
    struct ssp_slice v;
    CHECK_OK(ssp_store_read(s, &t));
    ssp_err rc = ssp_txn_get(t, db, SSP_SLICE_STR(key), &v);
    if (rc == SSP_ERR_NOTFOUND) {
        out[0] = '\0';
    } else {
        CHECK_OK(rc);
        CHECK(v.n < cap);
        memcpy(out, v.p, v.n);
        out[v.n] = '\0';
    }
    ssp_txn_abort(t);
}

#define CHECK_VALUE(s, db, key, want)                                                              \
    do {                                                                                           \
        char got_[256];                                                                            \
        get_str((s), (db), (key), got_, sizeof got_);                                              \
        CHECK_STR(got_, (want));                                                                   \
    } while (0)

static uint64_t
count(struct ssp_store *s, enum ssp_db db)
{
    struct ssp_txn *t = NULL;
    uint64_t n = 0;
    CHECK_OK(ssp_store_read(s, &t));
    CHECK_OK(ssp_txn_count(t, db, &n));
    ssp_txn_abort(t);
    return n;
}

/* ---- cases ---- */

static void
test_put_get_del(void)
{
    static const struct kv first[] = {
        {SSP_DB_RECORDS, "alpha", "1"},
        {SSP_DB_RECORDS, "beta", "2"},
        {SSP_DB_INDEX, "alpha", "in another db"},
        {SSP_DB_RECORDS, "alpha", "overwritten"},
    };
    static const struct kv second[] = {
        {SSP_DB_RECORDS, "beta", NULL},
        {SSP_DB_RECORDS, "never there", NULL}, /* deleting an absent key is fine */
    };
    tmp_new();
    struct ssp_store *s = open_store(true, 0);
    write_kv(s, first, 4);
    CHECK_VALUE(s, SSP_DB_RECORDS, "alpha", "overwritten");
    CHECK_VALUE(s, SSP_DB_RECORDS, "beta", "2");
    CHECK_VALUE(s, SSP_DB_INDEX, "alpha", "in another db");
    CHECK_VALUE(s, SSP_DB_LOG, "alpha", "");
    write_kv(s, second, 2);
    CHECK_VALUE(s, SSP_DB_RECORDS, "beta", "");
    CHECK_VALUE(s, SSP_DB_RECORDS, "alpha", "overwritten");

    struct ssp_txn *t = NULL;
    struct ssp_slice v = SSP_SLICE("untouched", 9);
    CHECK_OK(ssp_store_read(s, &t));
    CHECK_INT(ssp_txn_get(t, SSP_DB_RECORDS, SSP_SLICE_STR("beta"), &v), SSP_ERR_NOTFOUND);
    CHECK(ssp_slice_eq_str(v, "untouched"));
    ssp_txn_abort(t);
    ssp_txn_abort(NULL);
    ssp_store_close(s);
    ssp_store_close(NULL);
    tmp_remove();
}

/* put_last appends when the key is the greatest and falls back to a plain put when not. */
static ssp_err
put_last_values(struct ssp_txn *t, void *ctx, struct ssp_diag *d)
{
    static const char *const kv[] = {"b", "1", "c", "2", "a", "3", "b", "4"};
    (void)ctx;
    (void)d;
    ssp_err rc = SSP_OK;
    for (size_t i = 0; i < 8 && rc == SSP_OK; i += 2)
        rc = ssp_txn_put_last(t, SSP_DB_LOG, SSP_SLICE_STR(kv[i]), SSP_SLICE_STR(kv[i + 1]));
    return rc;
}

static void
test_put_last(void)
{
    struct ssp_diag d = {{0}};
    tmp_new();
    struct ssp_store *s = open_store(true, 0);
    CHECK_OK(ssp_store_write(s, put_last_values, NULL, &d));
    CHECK_VALUE(s, SSP_DB_LOG, "a", "3");
    CHECK_VALUE(s, SSP_DB_LOG, "b", "4");
    CHECK_VALUE(s, SSP_DB_LOG, "c", "2");
    CHECK_INT(count(s, SSP_DB_LOG), 3);
    ssp_store_close(s);
    tmp_remove();
}

static void
test_cursor_order(void)
{
    /* Written out of order; keys sort bytewise, shorter first on a common prefix. */
    static const struct kv kv[] = {
        {SSP_DB_INDEX, "m", "3"},   {SSP_DB_INDEX, "b", "1"},  {SSP_DB_INDEX, "zz", "6"},
        {SSP_DB_INDEX, "mm", "4"},  {SSP_DB_INDEX, "ba", "2"}, {SSP_DB_INDEX, "n", "5"},
        {SSP_DB_RECORDS, "a", "x"},
    };
    static const char *const sorted[] = {"b", "ba", "m", "mm", "n", "zz"};
    struct ssp_txn *t = NULL;
    struct ssp_cursor *c = NULL;
    struct ssp_slice k, v;
    tmp_new();
    struct ssp_store *s = open_store(true, 0);
    write_kv(s, kv, sizeof kv / sizeof kv[0]);
    CHECK_OK(ssp_store_read(s, &t));
    CHECK_OK(ssp_cursor_open(t, SSP_DB_INDEX, &c));
    /* An empty key seeks to the first entry. */
    CHECK_OK(ssp_cursor_seek(c, SSP_SLICE(NULL, 0), &k, &v));
    for (size_t i = 0; i < 6; i++) {
        if (i > 0)
            CHECK_OK(ssp_cursor_next(c, &k, &v));
        CHECK(ssp_slice_eq_str(k, sorted[i]));
        CHECK_INT(v.n, 1);
        CHECK_INT(v.p[0], '1' + (int)i);
    }
    CHECK_INT(ssp_cursor_next(c, &k, &v), SSP_ERR_NOTFOUND);
    /* Seeking lands on the first key >= the one given. */
    CHECK_OK(ssp_cursor_seek(c, SSP_SLICE_STR("ba"), &k, &v));
    CHECK(ssp_slice_eq_str(k, "ba"));
    CHECK_OK(ssp_cursor_seek(c, SSP_SLICE_STR("c"), &k, &v));
    CHECK(ssp_slice_eq_str(k, "m"));
    CHECK_OK(ssp_cursor_next(c, &k, &v));
    CHECK(ssp_slice_eq_str(k, "mm"));
    CHECK_OK(ssp_cursor_seek(c, SSP_SLICE_STR("a"), &k, &v));
    CHECK(ssp_slice_eq_str(k, "b"));
    CHECK_INT(ssp_cursor_seek(c, SSP_SLICE_STR("zzz"), &k, &v), SSP_ERR_NOTFOUND);
    ssp_cursor_close(c);
    ssp_cursor_close(NULL);
    ssp_txn_abort(t);
    ssp_store_close(s);
    tmp_remove();
}

/* Log keys of scope "ab" for each seq, and one of scope "abc", whose name "ab" prefixes. */
static const uint64_t log_seqs[] = {256, 1, 65536, 2, 255, UINT64_MAX};

static ssp_err
put_log_keys(struct ssp_txn *t, void *ctx, struct ssp_diag *d)
{
    const uint8_t *origin = ctx;
    uint8_t k[SSP_KEY_MAX];
    ssp_err rc = SSP_OK;
    (void)d;
    for (size_t i = 0; i < 6 && rc == SSP_OK; i++)
        rc = ssp_txn_put(t, SSP_DB_LOG,
                         SSP_SLICE(k, ssp_key_log(k, SSP_SLICE_STR("ab"), origin, log_seqs[i])),
                         SSP_SLICE_STR("commit"));
    if (rc == SSP_OK)
        rc = ssp_txn_put(t, SSP_DB_LOG,
                         SSP_SLICE(k, ssp_key_log(k, SSP_SLICE_STR("abc"), origin, 0)),
                         SSP_SLICE_STR("other stream"));
    return rc;
}

/* Big-endian seqs sort numerically, and one stream's keys never mix into another's. */
static void
test_log_keys_order(void)
{
    static const uint64_t sorted[] = {1, 2, 255, 256, 65536, UINT64_MAX};
    uint8_t origin[SSP_PK_LEN], k[SSP_KEY_MAX];
    struct ssp_txn *t = NULL;
    struct ssp_cursor *c = NULL;
    struct ssp_slice key, v, scope;
    const uint8_t *o;
    struct ssp_diag d = {{0}};
    for (size_t i = 0; i < SSP_PK_LEN; i++)
        origin[i] = (uint8_t)(0xa0 + i);
    tmp_new();
    struct ssp_store *s = open_store(true, 0);
    CHECK_OK(ssp_store_write(s, put_log_keys, origin, &d));
    CHECK_OK(ssp_store_read(s, &t));
    CHECK_OK(ssp_cursor_open(t, SSP_DB_LOG, &c));
    size_t plen = ssp_key_stream(k, SSP_SLICE_STR("ab"), origin);
    CHECK_INT(plen, 1 + 2 + SSP_PK_LEN);
    CHECK_OK(ssp_cursor_seek(c, SSP_SLICE(k, plen), &key, &v));
    for (size_t i = 0; i < 6; i++) {
        if (i > 0)
            CHECK_OK(ssp_cursor_next(c, &key, &v));
        CHECK_INT(key.n, plen + 8);
        CHECK(memcmp(key.p, k, plen) == 0);
        CHECK(ssp_get_be64(key.p + plen) == sorted[i]);
    }
    CHECK_OK(ssp_cursor_next(c, &key, &v));
    CHECK(ssp_slice_eq_str(v, "other stream"));
    CHECK_INT(ssp_cursor_next(c, &key, &v), SSP_ERR_NOTFOUND);
    ssp_cursor_close(c);
    ssp_txn_abort(t);

    /* A streams key parses back into its scope and origin; anything else does not. */
    CHECK(ssp_key_stream_parse(SSP_SLICE(k, plen), &scope, &o));
    CHECK(ssp_slice_eq_str(scope, "ab"));
    CHECK(memcmp(o, origin, SSP_PK_LEN) == 0);
    CHECK(!ssp_key_stream_parse(SSP_SLICE(k, plen - 1), &scope, &o));
    CHECK(!ssp_key_stream_parse(SSP_SLICE(k, plen + 1), &scope, &o));
    k[0] = 0;
    CHECK(!ssp_key_stream_parse(SSP_SLICE(k, plen), &scope, &o));
    ssp_store_close(s);
    tmp_remove();
}

static void
test_reopen(void)
{
    static const struct kv kv[] = {{SSP_DB_RECORDS, "kept", "across a reopen"}};
    struct ssp_store *s = NULL;
    struct ssp_diag d = {{0}};
    tmp_new();
    /* No store here yet: opening without create says so. */
    CHECK_INT(ssp_store_open(tmp_dir, false, 0, &s, &d), SSP_ERR_NOTFOUND);
    CHECK(s == NULL);
    CHECK_CONTAINS(d.msg, "no ssp node");
    s = open_store(true, 0);
    write_kv(s, kv, 1);
    ssp_store_close(s);
    for (int create = 0; create <= 1; create++) {
        s = open_store(create, 0);
        CHECK_VALUE(s, SSP_DB_RECORDS, "kept", "across a reopen");
        CHECK_INT(count(s, SSP_DB_RECORDS), 1);
        /* And it can be written again. */
        static const struct kv more[] = {{SSP_DB_LOG, "again", "yes"}};
        write_kv(s, more, 1);
        CHECK_VALUE(s, SSP_DB_LOG, "again", "yes");
        ssp_store_close(s);
    }
    tmp_remove();
}

static ssp_err
put_format(struct ssp_txn *t, void *ctx, struct ssp_diag *d)
{
    uint8_t v[4];
    (void)d;
    ssp_put_be32(v, *(const uint32_t *)ctx);
    return ssp_txn_put(t, SSP_DB_META, SSP_SLICE_STR("format"), SSP_SLICE(v, 4));
}

static void
test_newer_format(void)
{
    struct ssp_store *s = NULL;
    struct ssp_diag d = {{0}};
    tmp_new();
    s = open_store(true, 0);
    /* A new store records the format it was made with. */
    struct ssp_txn *t = NULL;
    struct ssp_slice v;
    CHECK_OK(ssp_store_read(s, &t));
    CHECK_OK(ssp_txn_get(t, SSP_DB_META, SSP_SLICE_STR("format"), &v));
    CHECK_INT(v.n, 4);
    CHECK_INT(ssp_get_be32(v.p), SSP_STORE_FORMAT);
    ssp_txn_abort(t);

    uint32_t newer = SSP_STORE_FORMAT + 1;
    CHECK_OK(ssp_store_write(s, put_format, &newer, &d));
    ssp_store_close(s);
    for (int create = 0; create <= 1; create++) {
        s = NULL;
        memset(&d, 0, sizeof d);
        CHECK_INT(ssp_store_open(tmp_dir, create, 0, &s, &d), SSP_ERR_VERSION);
        CHECK(s == NULL);
        CHECK_CONTAINS(d.msg, "newer");
    }

    /* A format of 0 is damage, not a version. */
    tmp_remove();
    tmp_new();
    uint32_t zero = 0;
    s = open_store(true, 0);
    CHECK_OK(ssp_store_write(s, put_format, &zero, &d));
    ssp_store_close(s);
    s = NULL;
    CHECK_INT(ssp_store_open(tmp_dir, false, 0, &s, &d), SSP_ERR_CORRUPT);
    CHECK(s == NULL);
    tmp_remove();
}

/* Puts n values of size bytes each (keys "v0000"...), each filled with its index. */
struct big_write {
    size_t n, size;
    uint8_t *buf;
    int calls;
};

static ssp_err
put_big(struct ssp_txn *t, void *vctx, struct ssp_diag *d)
{
    struct big_write *b = vctx;
    char key[32];
    (void)d;
    b->calls++;
    for (size_t i = 0; i < b->n; i++) {
        snprintf(key, sizeof key, "v%04zu", i);
        memset(b->buf, (int)i, b->size);
        ssp_err rc = ssp_txn_put(t, SSP_DB_RECORDS, SSP_SLICE_STR(key), SSP_SLICE(b->buf, b->size));
        if (rc != SSP_OK)
            return rc;
    }
    return SSP_OK;
}

static void
test_map_growth(void)
{
    const size_t mib = (size_t)1 << 20;
    struct big_write b = {64, 128 << 10, NULL, 0}; /* 8 MiB in one write */
    struct ssp_diag d = {{0}};
    tmp_new();
    b.buf = malloc(b.size);
    CHECK(b.buf != NULL);
    struct ssp_store *s = open_store(true, mib);
    CHECK_INT(ssp_store_map_size(s), mib);
    CHECK_OK(ssp_store_write(s, put_big, &b, &d));
    CHECK(b.calls > 1); /* it filled the map and was run again */
    CHECK(ssp_store_map_size(s) >= 8 * mib);
    CHECK_INT(count(s, SSP_DB_RECORDS), b.n);

    struct ssp_txn *t = NULL;
    struct ssp_slice v;
    CHECK_OK(ssp_store_read(s, &t));
    CHECK_OK(ssp_txn_get(t, SSP_DB_RECORDS, SSP_SLICE_STR("v0063"), &v));
    CHECK_INT(v.n, b.size);
    CHECK_INT(v.p[0], 63);
    CHECK_INT(v.p[b.size - 1], 63);
    ssp_txn_abort(t);
    ssp_store_close(s);

    /* Reopened with the small map asked for: the store keeps what it has grown to. */
    s = open_store(false, mib);
    CHECK(ssp_store_map_size(s) >= 8 * mib);
    CHECK_INT(count(s, SSP_DB_RECORDS), b.n);
    ssp_store_close(s);
    free(b.buf);
    tmp_remove();
}

static void
test_write_fn_fails(void)
{
    static const struct kv kept[] = {{SSP_DB_RECORDS, "kept", "1"}};
    static const struct kv doomed[] = {
        {SSP_DB_RECORDS, "doomed", "2"},
        {SSP_DB_RECORDS, "kept", "changed"},
        {SSP_DB_INDEX, "doomed", "3"},
    };
    struct kv_batch b = {doomed, 3, SSP_ERR_SCHEMA, 0};
    struct ssp_diag d = {{0}};
    tmp_new();
    struct ssp_store *s = open_store(true, 0);
    write_kv(s, kept, 1);
    CHECK_INT(ssp_store_write(s, put_batch, &b, &d), SSP_ERR_SCHEMA);
    CHECK_INT(b.calls, 1);
    CHECK_CONTAINS(d.msg, "the write fn refused after 3 puts");
    CHECK_VALUE(s, SSP_DB_RECORDS, "doomed", "");
    CHECK_VALUE(s, SSP_DB_INDEX, "doomed", "");
    CHECK_VALUE(s, SSP_DB_RECORDS, "kept", "1");
    CHECK_INT(count(s, SSP_DB_RECORDS), 1);
    CHECK_INT(count(s, SSP_DB_INDEX), 0);
    /* The store still takes writes afterwards. */
    b.fail_with = SSP_OK;
    CHECK_OK(ssp_store_write(s, put_batch, &b, &d));
    CHECK_VALUE(s, SSP_DB_RECORDS, "kept", "changed");
    ssp_store_close(s);
    tmp_remove();
}

static void
test_txn_count(void)
{
    static const struct kv kv[] = {
        {SSP_DB_LOG, "a", "1"},     {SSP_DB_LOG, "b", "1"},     {SSP_DB_LOG, "c", "1"},
        {SSP_DB_STREAMS, "s", "1"}, {SSP_DB_LOG, "a", "again"}, /* an overwrite adds nothing */
    };
    static const struct kv del[] = {{SSP_DB_LOG, "b", NULL}};
    tmp_new();
    struct ssp_store *s = open_store(true, 0);
    CHECK_INT(count(s, SSP_DB_META), 1); /* the format */
    for (int db = SSP_DB_STREAMS; db < SSP_DB_COUNT; db++)
        CHECK_INT(count(s, (enum ssp_db)db), 0);
    write_kv(s, kv, 5);
    CHECK_INT(count(s, SSP_DB_LOG), 3);
    CHECK_INT(count(s, SSP_DB_STREAMS), 1);
    CHECK_INT(count(s, SSP_DB_RECORDS), 0);
    write_kv(s, del, 1);
    CHECK_INT(count(s, SSP_DB_LOG), 2);
    ssp_store_close(s);
    tmp_remove();
}

/* Puts 3 x 1000 keys "a0000".."c0999" (values of 200 bytes, so they span many pages). */
static ssp_err
put_many(struct ssp_txn *t, void *vctx, struct ssp_diag *d)
{
    char key[16], val[201];
    (void)vctx;
    (void)d;
    for (int p = 0; p < 3; p++) {
        for (int i = 0; i < 1000; i++) {
            snprintf(key, sizeof key, "%c%04d", 'a' + p, i);
            snprintf(val, sizeof val, "%s-%0180d", i == 500 && p == 1 ? "PurgedCanary" : "kept", i);
            ssp_err rc = ssp_txn_put(t, SSP_DB_LOG, SSP_SLICE_STR(key), SSP_SLICE_STR(val));
            if (rc != SSP_OK)
                return rc;
        }
    }
    return SSP_OK;
}

static ssp_err
del_b(struct ssp_txn *t, void *vctx, struct ssp_diag *d)
{
    (void)d;
    return ssp_txn_del_prefix(t, SSP_DB_LOG, SSP_SLICE_STR("b"), vctx);
}

/* Whether data.mdb holds the text. */
static bool
file_holds(const char *text)
{
    char path[sizeof tmp_dir + 16];
    snprintf(path, sizeof path, "%s/data.mdb", tmp_dir);
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL);
    size_t n = strlen(text), have = 0;
    bool found = false;
    int c;
    /* A naive scan: the text has no repeated prefix that would need backtracking. */
    while (!found && (c = fgetc(f)) != EOF) {
        have = (char)c == text[have] ? have + 1 : ((char)c == text[0] ? 1 : 0);
        found = have == n;
    }
    fclose(f);
    return found;
}

/* A prefix is deleted across page boundaries; compaction leaves none of it in the file. */
static void
test_del_prefix_compact(void)
{
    struct ssp_diag d = {{0}};
    uint64_t deleted = 0;
    tmp_new();
    struct ssp_store *s = open_store(true, 0);
    CHECK_OK(ssp_store_write(s, put_many, NULL, &d));
    CHECK_OK(ssp_store_write(s, del_b, &deleted, &d));
    CHECK_INT(deleted, 1000);
    CHECK_INT(count(s, SSP_DB_LOG), 2000);
    CHECK_VALUE(s, SSP_DB_LOG, "b0000", "");
    CHECK_VALUE(s, SSP_DB_LOG, "b0999", "");
    char got[256];
    get_str(s, SSP_DB_LOG, "a0999", got, sizeof got);
    CHECK(strncmp(got, "kept-", 5) == 0);
    get_str(s, SSP_DB_LOG, "c0000", got, sizeof got);
    CHECK(strncmp(got, "kept-", 5) == 0);
    /* Deleted, but still in a free page: what compaction is for. */
    CHECK(file_holds("PurgedCanary"));
    CHECK_OK(ssp_store_compact(s, tmp_dir, &d));
    CHECK(!file_holds("PurgedCanary"));
    CHECK(file_holds("kept-"));
    CHECK_INT(count(s, SSP_DB_LOG), 2000);
    get_str(s, SSP_DB_LOG, "c0999", got, sizeof got);
    CHECK(strncmp(got, "kept-", 5) == 0);
    /* The store goes on: writes, and a reopen. */
    static const struct kv more[] = {{SSP_DB_RECORDS, "after", "compaction"}};
    write_kv(s, more, 1);
    ssp_store_close(s);
    s = open_store(false, 0);
    CHECK_VALUE(s, SSP_DB_RECORDS, "after", "compaction");
    CHECK_INT(count(s, SSP_DB_LOG), 2000);
    ssp_store_close(s);
    tmp_remove();
}

static const struct ssp_test tests[] = {
    {"put_get_del", test_put_get_del},
    {"put_last", test_put_last},
    {"cursor_order", test_cursor_order},
    {"log_keys_order", test_log_keys_order},
    {"reopen", test_reopen},
    {"newer_format", test_newer_format},
    {"map_growth", test_map_growth},
    {"write_fn_fails", test_write_fn_fails},
    {"txn_count", test_txn_count},
    {"del_prefix_compact", test_del_prefix_compact},
};

SSP_TEST_MAIN(tests)
