/* madvise(MADV_DONTNEED) is not POSIX; glibc's posix_madvise ignores its DONTNEED. */
#define _DEFAULT_SOURCE
#include "node/store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_MAP_SIZE ((size_t)256 << 20)
#define MAX_MAP_GROWTHS 16

struct ssp_store {
    MDB_env *env;
    MDB_dbi dbi[SSP_DB_COUNT];
    size_t map_size;
};

struct ssp_txn {
    struct ssp_store *s;
    MDB_txn *txn;
    bool map_full; /* a write hit MDB_MAP_FULL: grow the map and retry */
};

struct ssp_cursor {
    MDB_cursor *cur;
};

static const char *const db_names[SSP_DB_COUNT] = {"meta",  "streams", "log",  "records",
                                                   "index", "roster",  "peers"};

/* The one place LMDB's codes become ours. */
static ssp_err
from_mdb(int rc)
{
    switch (rc) {
    case MDB_SUCCESS:
        return SSP_OK;
    case MDB_NOTFOUND:
        return SSP_ERR_NOTFOUND;
    case MDB_MAP_FULL:
    case ENOSPC:
        return SSP_ERR_FULL;
    case ENOMEM:
        return SSP_ERR_NOMEM;
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND:
    case MDB_INVALID:
        return SSP_ERR_CORRUPT;
    case MDB_VERSION_MISMATCH:
        return SSP_ERR_VERSION;
    case EACCES:
        return SSP_ERR_DENIED;
    default:
        return SSP_ERR_IO;
    }
}

static MDB_val
val_of(struct ssp_slice s)
{
    /* LMDB takes keys and values as non-const; it does not write through them. */
    return (MDB_val){.mv_size = s.n, .mv_data = (void *)s.p};
}

static struct ssp_slice
slice_of(MDB_val v)
{
    return SSP_SLICE(v.mv_data, v.mv_size);
}

static ssp_err
check_format(struct ssp_store *s, bool create, struct ssp_diag *d)
{
    MDB_txn *txn;
    MDB_val key = {.mv_size = 6, .mv_data = "format"}, val;
    uint8_t mine[4];
    int rc = mdb_txn_begin(s->env, NULL, 0, &txn);
    if (rc != 0)
        return ssp_diag_set(d, from_mdb(rc), "cannot open the store: %s", mdb_strerror(rc));
    for (int i = 0; i < SSP_DB_COUNT && rc == 0; i++)
        rc = mdb_dbi_open(txn, db_names[i], create ? MDB_CREATE : 0, &s->dbi[i]);
    if (rc == MDB_NOTFOUND) {
        mdb_txn_abort(txn);
        return ssp_diag_set(d, SSP_ERR_NOTFOUND, "no ssp store here; run 'ssp init' first");
    }
    if (rc == 0)
        rc = mdb_get(txn, s->dbi[SSP_DB_META], &key, &val);
    if (rc == MDB_NOTFOUND && create) {
        ssp_put_be32(mine, SSP_STORE_FORMAT);
        val = (MDB_val){.mv_size = 4, .mv_data = mine};
        rc = mdb_put(txn, s->dbi[SSP_DB_META], &key, &val, 0);
        if (rc == 0)
            return (rc = mdb_txn_commit(txn)) == 0
                       ? SSP_OK
                       : ssp_diag_set(d, from_mdb(rc), "cannot create the store: %s",
                                      mdb_strerror(rc));
    }
    if (rc != 0) {
        mdb_txn_abort(txn);
        return ssp_diag_set(d, rc == MDB_NOTFOUND ? SSP_ERR_CORRUPT : from_mdb(rc),
                            "cannot read the store format: %s", mdb_strerror(rc));
    }
    uint32_t format = val.mv_size == 4 ? ssp_get_be32(val.mv_data) : 0;
    /* Commit, not abort: database handles opened in an aborted transaction are closed. */
    rc = mdb_txn_commit(txn);
    if (rc != 0)
        return ssp_diag_set(d, from_mdb(rc), "cannot open the store: %s", mdb_strerror(rc));
    if (val.mv_size != 4 || format == 0)
        return ssp_diag_set(d, SSP_ERR_CORRUPT, "the store format record is damaged");
    if (format > SSP_STORE_FORMAT)
        return ssp_diag_set(d, SSP_ERR_VERSION,
                            "the store has format %u, newer than this ssp-node reads (%u); "
                            "upgrade ssp-node to open it",
                            format, SSP_STORE_FORMAT);
    return SSP_OK;
}

/* Opens the environment in dir into s (s->env NULL on failure). */
static ssp_err
open_env(struct ssp_store *s, const char *dir, bool create, struct ssp_diag *d)
{
    int rc = mdb_env_create(&s->env);
    if (rc == 0)
        rc = mdb_env_set_maxdbs(s->env, SSP_DB_COUNT);
    if (rc == 0)
        rc = mdb_env_set_mapsize(s->env, s->map_size);
    /* MDB_NOTLS: read transactions are not tied to threads (the loop owns them all). */
    if (rc == 0)
        rc = mdb_env_open(s->env, dir, MDB_NOTLS, 0600);
    ssp_err err = SSP_OK;
    if (rc != 0) {
        err =
            ssp_diag_set(d, from_mdb(rc), "cannot open the store in %s: %s", dir, mdb_strerror(rc));
    } else {
        /* Another process may have grown the map: adopt its size. */
        MDB_envinfo info;
        if (mdb_env_info(s->env, &info) == 0 && info.me_mapsize > s->map_size)
            s->map_size = info.me_mapsize;
        err = check_format(s, create, d);
    }
    if (err != SSP_OK && s->env != NULL) {
        mdb_env_close(s->env);
        s->env = NULL;
    }
    return err;
}

ssp_err
ssp_store_open(const char *dir, bool create, size_t map_size, struct ssp_store **out,
               struct ssp_diag *d)
{
    struct ssp_store *s = ssp_calloc(1, sizeof *s);
    if (s == NULL)
        return SSP_ERR_NOMEM;
    s->map_size = map_size != 0 ? map_size : DEFAULT_MAP_SIZE;
    if (!create) {
        /* Opening must not leave an empty store behind in a directory that has none. */
        char path[4096];
        struct stat st;
        snprintf(path, sizeof path, "%s/data.mdb", dir);
        if (stat(path, &st) != 0) {
            ssp_free(s);
            return ssp_diag_set(d, SSP_ERR_NOTFOUND, "no ssp node in %s; run 'ssp init' first",
                                dir);
        }
    }
    ssp_err err = open_env(s, dir, create, d);
    if (err != SSP_OK) {
        ssp_store_close(s);
        return err;
    }
    *out = s;
    return SSP_OK;
}

/* Writes a compacted copy of the store to path and makes it durable. */
static ssp_err
copy_compact(struct ssp_store *s, const char *path, struct ssp_diag *d)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return ssp_diag_set(d, SSP_ERR_IO, "cannot create %s: %s", path, strerror(errno));
    int rc = mdb_env_copyfd2(s->env, fd, MDB_CP_COMPACT);
    if (rc == 0 && fsync(fd) != 0)
        rc = errno;
    if (close(fd) != 0 && rc == 0)
        rc = errno;
    if (rc != 0) {
        (void)unlink(path);
        return ssp_diag_set(d, from_mdb(rc), "cannot write a compacted store to %s: %s", path,
                            mdb_strerror(rc));
    }
    return SSP_OK;
}

ssp_err
ssp_store_compact(struct ssp_store *s, const char *dir, struct ssp_diag *d)
{
    char tmp[4096], path[4096];
    if (s->env == NULL)
        return ssp_diag_set(d, SSP_ERR_IO, "the store is closed; restart sspd");
    if (snprintf(tmp, sizeof tmp, "%s/data.mdb.compact", dir) >= (int)sizeof tmp)
        return ssp_diag_set(d, SSP_ERR_INVAL, "the node directory's path is too long");
    snprintf(path, sizeof path, "%s/data.mdb", dir);
    ssp_err err = copy_compact(s, tmp, d);
    if (err != SSP_OK)
        return err;
    mdb_env_close(s->env);
    s->env = NULL;
    /* The rename is atomic: data.mdb is the old store or the new, never a mix. */
    if (rename(tmp, path) != 0) {
        err = ssp_diag_set(d, SSP_ERR_IO, "cannot replace %s: %s", path, strerror(errno));
        (void)unlink(tmp);
    } else {
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            (void)fsync(dfd);
            close(dfd);
        }
    }
    struct ssp_diag why = {{0}};
    ssp_err oerr = open_env(s, dir, false, &why);
    if (oerr != SSP_OK)
        return ssp_diag_set(d, oerr, "%s; restart sspd", why.msg);
    return err;
}

void
ssp_store_close(struct ssp_store *s)
{
    if (s == NULL)
        return;
    if (s->env != NULL)
        mdb_env_close(s->env);
    ssp_free(s);
}

size_t
ssp_store_map_size(const struct ssp_store *s)
{
    return s->map_size;
}

/* The mapping of /proc/self/maps that holds address p: [*lo, *hi). */
static bool
mapping_of(uintptr_t p, uintptr_t *lo, uintptr_t *hi)
{
    FILE *f = fopen("/proc/self/maps", "r");
    char line[512];
    bool found = false;
    if (f == NULL)
        return false;
    while (!found && fgets(line, sizeof line, f) != NULL) {
        unsigned long a, b;
        if (sscanf(line, "%lx-%lx", &a, &b) == 2 && p >= a && p < b) {
            *lo = a;
            *hi = b;
            found = true;
        }
    }
    fclose(f);
    return found;
}

void
ssp_store_unmap_pages(struct ssp_store *s)
{
    /*
     * LMDB tells the map's address only for a fixed map (me_mapaddr), so find
     * it from a value it returns, which points into the map.
     */
    MDB_txn *txn;
    MDB_val key = {.mv_size = 6, .mv_data = "format"}, val;
    uintptr_t lo, hi;
    if (s->env == NULL || mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn) != 0)
        return;
    int rc = mdb_get(txn, s->dbi[SSP_DB_META], &key, &val);
    mdb_txn_abort(txn);
    if (rc == 0 && mapping_of((uintptr_t)val.mv_data, &lo, &hi))
        (void)madvise((void *)lo, hi - lo, MADV_DONTNEED);
}

static ssp_err
txn_begin(struct ssp_store *s, unsigned flags, struct ssp_txn **out)
{
    if (s->env == NULL)
        return SSP_ERR_IO; /* a compaction could not reopen the store */
    struct ssp_txn *t = ssp_alloc(sizeof *t);
    if (t == NULL)
        return SSP_ERR_NOMEM;
    t->s = s;
    t->map_full = false;
    int rc = mdb_txn_begin(s->env, NULL, flags, &t->txn);
    if (rc != 0) {
        ssp_free(t);
        return from_mdb(rc);
    }
    *out = t;
    return SSP_OK;
}

ssp_err
ssp_store_read(struct ssp_store *s, struct ssp_txn **out)
{
    return txn_begin(s, MDB_RDONLY, out);
}

void
ssp_txn_abort(struct ssp_txn *t)
{
    if (t == NULL)
        return;
    mdb_txn_abort(t->txn);
    ssp_free(t);
}

static ssp_err
grow(struct ssp_store *s, struct ssp_diag *d)
{
    size_t next = s->map_size * 2;
    int rc = mdb_env_set_mapsize(s->env, next);
    if (rc != 0)
        return ssp_diag_set(d, from_mdb(rc), "cannot grow the store map to %zu MiB: %s", next >> 20,
                            mdb_strerror(rc));
    s->map_size = next;
    return SSP_OK;
}

ssp_err
ssp_store_write(struct ssp_store *s, ssp_write_fn fn, void *ctx, struct ssp_diag *d)
{
    for (int attempt = 0; attempt <= MAX_MAP_GROWTHS; attempt++) {
        struct ssp_txn *t = NULL;
        ssp_err rc = txn_begin(s, 0, &t);
        if (rc != SSP_OK || t == NULL)
            return ssp_diag_set(d, rc, "cannot start a store transaction: %s", ssp_strerror(rc));
        struct ssp_diag mine = {{0}};
        rc = fn(t, ctx, &mine);
        bool map_full = t->map_full;
        if (rc == SSP_OK) {
            int mrc = mdb_txn_commit(t->txn);
            ssp_free(t);
            if (mrc == MDB_MAP_FULL) {
                map_full = true;
                rc = SSP_ERR_FULL;
            } else if (mrc != 0) {
                return ssp_diag_set(d, from_mdb(mrc),
                                    mrc == ENOSPC ? "the disk is full; nothing was written: "
                                                    "free some space and retry (%s)"
                                                  : "cannot commit to the store: %s",
                                    mdb_strerror(mrc));
            } else {
                return SSP_OK;
            }
        } else {
            ssp_txn_abort(t);
        }
        if (!map_full) {
            if (d != NULL && d->msg[0] == '\0')
                memcpy(d->msg, mine.msg, sizeof mine.msg);
            return rc;
        }
        rc = grow(s, d);
        if (rc != SSP_OK)
            return rc;
    }
    return ssp_diag_set(d, SSP_ERR_FULL, "the store map cannot grow any further");
}

static ssp_err
note(struct ssp_txn *t, int rc)
{
    if (rc == MDB_MAP_FULL)
        t->map_full = true;
    return from_mdb(rc);
}

ssp_err
ssp_txn_nested(struct ssp_txn *t, ssp_write_fn fn, void *ctx, struct ssp_diag *d)
{
    struct ssp_txn child = {t->s, NULL, false};
    ssp_err rc = note(t, mdb_txn_begin(t->s->env, t->txn, 0, &child.txn));
    if (rc != SSP_OK)
        return rc;
    rc = fn(&child, ctx, d);
    if (rc == SSP_OK) {
        rc = note(t, mdb_txn_commit(child.txn));
    } else {
        mdb_txn_abort(child.txn);
    }
    /* A full map anywhere makes ssp_store_write grow it and run everything again. */
    if (child.map_full)
        t->map_full = true;
    return rc;
}

ssp_err
ssp_txn_get(struct ssp_txn *t, enum ssp_db db, struct ssp_slice key, struct ssp_slice *val)
{
    MDB_val k = val_of(key), v;
    int rc = mdb_get(t->txn, t->s->dbi[db], &k, &v);
    if (rc == 0)
        *val = slice_of(v);
    return from_mdb(rc);
}

ssp_err
ssp_txn_put(struct ssp_txn *t, enum ssp_db db, struct ssp_slice key, struct ssp_slice val)
{
    MDB_val k = val_of(key), v = val_of(val);
    return note(t, mdb_put(t->txn, t->s->dbi[db], &k, &v, 0));
}

ssp_err
ssp_txn_put_last(struct ssp_txn *t, enum ssp_db db, struct ssp_slice key, struct ssp_slice val)
{
    MDB_val k = val_of(key), v = val_of(val);
    int rc = mdb_put(t->txn, t->s->dbi[db], &k, &v, MDB_APPEND);
    if (rc == MDB_KEYEXIST)
        rc = mdb_put(t->txn, t->s->dbi[db], &k, &v, 0);
    return note(t, rc);
}

ssp_err
ssp_txn_del(struct ssp_txn *t, enum ssp_db db, struct ssp_slice key)
{
    MDB_val k = val_of(key);
    int rc = mdb_del(t->txn, t->s->dbi[db], &k, NULL);
    return rc == MDB_NOTFOUND ? SSP_OK : note(t, rc);
}

ssp_err
ssp_txn_del_prefix(struct ssp_txn *t, enum ssp_db db, struct ssp_slice prefix, uint64_t *count)
{
    MDB_cursor *cur;
    MDB_val k = val_of(prefix), v;
    uint64_t n = 0;
    int rc = mdb_cursor_open(t->txn, t->s->dbi[db], &cur);
    if (rc != 0)
        return note(t, rc);
    rc = mdb_cursor_get(cur, &k, &v, prefix.n == 0 ? MDB_FIRST : MDB_SET_RANGE);
    while (rc == 0 && k.mv_size >= prefix.n &&
           (prefix.n == 0 || memcmp(k.mv_data, prefix.p, prefix.n) == 0)) {
        rc = mdb_cursor_del(cur, 0);
        n += rc == 0;
        /* After a delete the cursor stands on the next key: MDB_NEXT reads it, not the one after.
         */
        if (rc == 0)
            rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    mdb_cursor_close(cur);
    if (count != NULL)
        *count = n;
    return rc == MDB_NOTFOUND ? SSP_OK : note(t, rc);
}

ssp_err
ssp_txn_count(struct ssp_txn *t, enum ssp_db db, uint64_t *n)
{
    MDB_stat st;
    int rc = mdb_stat(t->txn, t->s->dbi[db], &st);
    if (rc == 0)
        *n = st.ms_entries;
    return from_mdb(rc);
}

ssp_err
ssp_cursor_open(struct ssp_txn *t, enum ssp_db db, struct ssp_cursor **out)
{
    struct ssp_cursor *c = ssp_alloc(sizeof *c);
    if (c == NULL)
        return SSP_ERR_NOMEM;
    int rc = mdb_cursor_open(t->txn, t->s->dbi[db], &c->cur);
    if (rc != 0) {
        ssp_free(c);
        return from_mdb(rc);
    }
    *out = c;
    return SSP_OK;
}

void
ssp_cursor_close(struct ssp_cursor *c)
{
    if (c == NULL)
        return;
    mdb_cursor_close(c->cur);
    ssp_free(c);
}

static ssp_err
cursor_get(struct ssp_cursor *c, MDB_val *k, MDB_cursor_op op, struct ssp_slice *ks,
           struct ssp_slice *vs)
{
    MDB_val v;
    int rc = mdb_cursor_get(c->cur, k, &v, op);
    if (rc == 0) {
        *ks = slice_of(*k);
        *vs = slice_of(v);
    }
    return from_mdb(rc);
}

ssp_err
ssp_cursor_seek(struct ssp_cursor *c, struct ssp_slice key, struct ssp_slice *k,
                struct ssp_slice *v)
{
    MDB_val mk = val_of(key);
    return cursor_get(c, &mk, key.n == 0 ? MDB_FIRST : MDB_SET_RANGE, k, v);
}

ssp_err
ssp_cursor_next(struct ssp_cursor *c, struct ssp_slice *k, struct ssp_slice *v)
{
    MDB_val mk;
    return cursor_get(c, &mk, MDB_NEXT, k, v);
}
