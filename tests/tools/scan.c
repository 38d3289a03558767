/*
 * ssp_scan: proves that deleted data is gone, for the integration tests.
 *
 *   ssp_scan [--expect-decrypt] DIR NEEDLE...
 *
 * DIR is a stopped node directory; the passphrase comes from SSP_PASSPHRASE.
 * Each NEEDLE is searched for (bytes, ASCII case ignored) in three passes:
 *
 *   raw        every regular file under DIR, recursively (data.mdb with its
 *              free pages, lock.mdb, ssp.conf, sspd.log, anything else), as
 *              the bytes on disk;
 *   store      every key and value of every database of the store as stored,
 *              and decrypted where the node's keys open it: each op body of
 *              each commit in the log, and each record state in the records
 *              database, tried with every key of every epoch the keyring
 *              holds (the key epoch a commit or record names is not trusted:
 *              each key is tried as if it were the one named);
 *   carved     in every file, anything shaped like a commit or a stored
 *              record at any byte offset, decrypted the same way. This is
 *              how deleted values left in LMDB's free pages are read. A
 *              commit is found by its msgpack head and ends where
 *              ssp_mp_skip says; a stored record by the LMDB leaf node in
 *              front of it (8-byte header holding the value's size and a
 *              16-byte key, the record id). Records too large for a leaf
 *              page (LMDB overflow pages) are covered by the raw pass only.
 *
 * Each hit is one line on stdout:
 *   FOUND NEEDLE in FILE (raw)
 *   FOUND NEEDLE in DB key|value KEYHEX (stored)
 *   FOUND NEEDLE in log SCOPE/ORIGIN/SEQ op N (decrypted with SCOPE epoch E)
 *   FOUND NEEDLE in record ID (decrypted with SCOPE epoch E)
 *   FOUND NEEDLE in FILE at offset O: commit ... / record ... (decrypted ...)
 * and one summary line goes to stderr: files and bytes read, blobs decrypted
 * per kind, blobs no key opened. Exit status: 0 nothing found, 1 something
 * found, 2 usage or error (one line on stderr, e.g. a wrong passphrase), or
 * with --expect-decrypt when nothing at all was decrypted (the scan would
 * prove nothing).
 *
 * The daemon must be stopped ('ssp stop'): the tool holds DIR/sspd.lock for
 * the whole scan, as sspd does, and refuses to run while an sspd holds it.
 * The store is opened the way sspd opens it, which writes nothing to
 * data.mdb; only LMDB's lock.mdb is touched. Plaintexts are wiped after
 * they are searched.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "node/log/commit.h"
#include "node/log/record.h"
#include "node/node.h"
#include "node/node_int.h"
#include "node/store/store.h"

#define MAX_NEEDLES 64
/* Bounds of the labels printed: a path, then where in it, then how it was opened. */
#define PATH_MAX_LEN 4096
#define AT_MAX (PATH_MAX_LEN + 256)
#define WHERE_MAX (AT_MAX + 256)
/* An LMDB leaf node: size lo (u16), size hi (u16), flags (u16), key size (u16), key, value. */
#define LEAF_HDR 8
#define LEAF_BIGDATA 0x01

static const char usage[] =
    "usage: ssp_scan [--expect-decrypt] DIR NEEDLE...\n"
    "Searches the stopped node in DIR (passphrase from SSP_PASSPHRASE) for each\n"
    "NEEDLE: raw in every file, and decrypted in every commit and record of the\n"
    "store and in anything commit- or record-shaped in the files' bytes.\n"
    "Exit status: 0 nothing found, 1 found, 2 usage or error.\n";

static const char *const db_label[SSP_DB_COUNT] = {"meta",  "streams", "log",  "records",
                                                   "index", "roster",  "peers"};

struct scan {
    char **needles;
    int nneedles;
    struct ssp_keyring *kr;    /* the node's keys */
    struct ssp_keyring *trial; /* one key at a time, labelled as a record names it */
    struct ssp_buf plain;
    struct ssp_record rec;
    bool found;
    uint64_t files, bytes;
    uint64_t ops, records, carved_commits, carved_ops, carved_records, unopened;
};

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void
die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("ssp_scan: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(2);
}

/* Whether needle occurs in hay, ASCII case ignored. */
static bool
contains_ci(struct ssp_slice hay, const char *needle)
{
    size_t m = strlen(needle);
    if (m == 0 || m > hay.n)
        return false;
    int first = tolower((unsigned char)needle[0]);
    for (size_t i = 0; i + m <= hay.n; i++) {
        if (tolower(hay.p[i]) != first)
            continue;
        size_t j = 1;
        while (j < m && tolower(hay.p[i + j]) == tolower((unsigned char)needle[j]))
            j++;
        if (j == m)
            return true;
    }
    return false;
}

/* Marks in hit each needle that hay holds. */
static void
mark(const struct scan *s, struct ssp_slice hay, bool *hit)
{
    for (int i = 0; i < s->nneedles; i++)
        hit[i] = hit[i] || contains_ci(hay, s->needles[i]);
}

/* Prints a FOUND line for each needle marked in hit, and clears hit. */
static void
report(struct scan *s, bool *hit, const char *where)
{
    for (int i = 0; i < s->nneedles; i++)
        if (hit[i]) {
            printf("FOUND %s in %s\n", s->needles[i], where);
            s->found = true;
            hit[i] = false;
        }
}

static void
search(struct scan *s, struct ssp_slice hay, const char *where)
{
    bool hit[MAX_NEEDLES] = {false};
    mark(s, hay, hit);
    report(s, hit, where);
}

static void
hex(struct ssp_slice b, char *out, size_t cap)
{
    size_t i = 0;
    for (; i < b.n && 2 * i + 2 < cap; i++)
        snprintf(out + 2 * i, 3, "%02x", b.p[i]);
    out[2 * i] = '\0';
}

static void
wipe_plain(struct scan *s)
{
    ssp_wipe(s->plain.p, s->plain.n);
    s->plain.n = 0;
}

/*
 * Decrypts one op with each key in turn, as if the commit named that key's
 * scope and epoch, and searches the plaintext; an op no key opens is
 * searched as stored (the roster's bodies are clear). at names the commit.
 */
static void
open_op(struct scan *s, const struct ssp_commit *c, const struct ssp_op *op, uint32_t n,
        const char *at, uint64_t *count)
{
    char where[WHERE_MAX];
    struct ssp_commit as = *c;
    for (uint32_t k = 0; k < s->kr->nkeys; k++) {
        const struct ssp_scope_key *key = &s->kr->keys[k];
        memcpy(as.hdr.scope, key->scope, sizeof as.hdr.scope);
        as.hdr.key_epoch = key->epoch;
        wipe_plain(s);
        if (ssp_op_open(&as, op, key->key, &s->plain) != SSP_OK)
            continue;
        (*count)++;
        snprintf(where, sizeof where, "%s op %u (decrypted with %s epoch %u)", at, n, key->scope,
                 key->epoch);
        search(s, SSP_BUF_SLICE(&s->plain), where);
        wipe_plain(s);
        return;
    }
    s->unopened++;
    snprintf(where, sizeof where, "%s op %u (not decrypted: as stored)", at, n);
    search(s, op->body, where);
}

static void
open_commit(struct scan *s, const struct ssp_commit *c, const char *prefix, uint64_t *count)
{
    char at[AT_MAX], origin[SSP_NODE_ID_TEXT + 1];
    ssp_node_id_format(c->hdr.origin, origin);
    snprintf(at, sizeof at, "%scommit %s/%s/%llu", prefix, c->hdr.scope, origin,
             (unsigned long long)c->hdr.seq);
    struct ssp_op op;
    size_t pos = 0;
    for (uint32_t n = 0; ssp_commit_next_op(c, &pos, &op) == SSP_OK; n++)
        open_op(s, c, &op, n, at, count);
}

/* Searches what an opened record holds: its type and its fields', conflicts' and pendings' names
 * and values. */
static void
search_record(struct scan *s, const char *where)
{
    const struct ssp_record *r = &s->rec;
    bool hit[MAX_NEEDLES] = {false};
    mark(s, SSP_SLICE_STR(r->type), hit);
    for (uint32_t i = 0; i < r->nfields; i++) {
        mark(s, r->fields[i].name, hit);
        mark(s, r->fields[i].value, hit);
    }
    for (uint32_t i = 0; i < r->nconflicts; i++) {
        mark(s, r->conflicts[i].name, hit);
        mark(s, r->conflicts[i].value, hit);
    }
    for (uint32_t i = 0; i < r->npending; i++)
        mark(s, r->pending[i].name, hit);
    report(s, hit, where);
}

/*
 * Opens a stored record with each key in turn, labelled with the scope and
 * epoch the record names (ssp_record_open picks its key by them). Returns
 * false if stored is not shaped like a record at all.
 */
static bool
open_record(struct scan *s, struct ssp_slice stored, const uint8_t id[SSP_RECORD_ID_LEN],
            const char *prefix, uint64_t *count)
{
    struct ssp_slice scope, type;
    bool deleted;
    char where[WHERE_MAX], text[SSP_RECORD_ID_TEXT + 1];
    if (ssp_record_peek(stored, &scope, &type, &deleted) != SSP_OK)
        return false;
    /* record.h: the key epoch (u32 BE) follows the type in the clear part. */
    uint32_t epoch = ssp_get_be32(type.p + type.n);
    ssp_record_id_format(id, text);
    struct ssp_scope_key *slot = &s->trial->keys[0];
    memcpy(slot->scope, scope.p, scope.n);
    slot->scope[scope.n] = '\0';
    slot->epoch = epoch;
    s->trial->nkeys = 1;
    for (uint32_t k = 0; k < s->kr->nkeys; k++) {
        const struct ssp_scope_key *key = &s->kr->keys[k];
        memcpy(slot->key, key->key, SSP_KEY_LEN);
        if (ssp_record_open(stored, id, s->trial, &s->rec) != SSP_OK)
            continue;
        (*count)++;
        snprintf(where, sizeof where, "%srecord %s (decrypted with %s epoch %u)", prefix, text,
                 key->scope, key->epoch);
        search_record(s, where);
        ssp_record_reset(&s->rec);
        return true;
    }
    s->unopened++;
    return true;
}

static uint32_t
le16(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

/* Decrypts anything commit- or record-shaped in the bytes of a file, at any offset. */
static void
carve(struct scan *s, const char *path, struct ssp_slice f)
{
    char prefix[PATH_MAX_LEN + 64];
    for (size_t o = 0; o + 2 <= f.n; o++) {
        const uint8_t *p = f.p + o;
        /* A commit: [header: bin, sig: bin, ops: [...]]. */
        if (p[0] == 0x93 && (p[1] == 0xc4 || p[1] == 0xc5 || p[1] == 0xc6)) {
            size_t n = f.n - o < SSP_COMMIT_MAX_BYTES ? f.n - o : SSP_COMMIT_MAX_BYTES;
            struct ssp_mp m;
            struct ssp_commit c;
            ssp_mp_init(&m, SSP_SLICE(p, n));
            if (ssp_mp_skip(&m) == SSP_OK &&
                ssp_commit_parse(SSP_SLICE(p, (size_t)(m.p - p)), &c) == SSP_OK) {
                snprintf(prefix, sizeof prefix, "%s at offset %zu: ", path, o);
                s->carved_commits++;
                open_commit(s, &c, prefix, &s->carved_ops);
            }
        }
        /* A stored record (format 1) as the value of an LMDB leaf node with a 16-byte key. */
        if (p[0] == 1 && o >= LEAF_HDR + SSP_RECORD_ID_LEN) {
            const uint8_t *node = p - SSP_RECORD_ID_LEN - LEAF_HDR;
            size_t size = le16(node) | (size_t)le16(node + 2) << 16;
            if (le16(node + 6) == SSP_RECORD_ID_LEN && (le16(node + 4) & LEAF_BIGDATA) == 0 &&
                size <= f.n - o) {
                snprintf(prefix, sizeof prefix, "%s at offset %zu: ", path, o);
                (void)open_record(s, SSP_SLICE(p, size), p - SSP_RECORD_ID_LEN, prefix,
                                  &s->carved_records);
            }
        }
    }
}

static void
scan_file(struct scan *s, const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0)
        die("cannot read %s: %s", path, strerror(errno));
    s->files++;
    if (st.st_size > 0) {
        size_t n = (size_t)st.st_size;
        void *map = mmap(NULL, n, PROT_READ, MAP_PRIVATE, fd, 0);
        if (map == MAP_FAILED)
            die("cannot map %s: %s", path, strerror(errno));
        char where[PATH_MAX_LEN + 16];
        snprintf(where, sizeof where, "%s (raw)", path);
        search(s, SSP_SLICE(map, n), where);
        carve(s, path, SSP_SLICE(map, n));
        s->bytes += n;
        munmap(map, n);
    }
    close(fd);
}

static void
walk(struct scan *s, const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        die("cannot list %s: %s", dir, strerror(errno));
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char path[PATH_MAX_LEN];
        struct stat st;
        if (snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= (int)sizeof path)
            die("path too long under %s", dir);
        if (lstat(path, &st) != 0)
            die("cannot stat %s: %s", path, strerror(errno));
        if (S_ISDIR(st.st_mode))
            walk(s, path);
        else if (S_ISREG(st.st_mode))
            scan_file(s, path);
    }
    closedir(d);
}

/* Every key and value of db as stored, then decrypted where db holds sealed blobs. */
static void
scan_db(struct scan *s, struct ssp_txn *t, enum ssp_db db)
{
    struct ssp_cursor *cur;
    struct ssp_slice k, v;
    char where[WHERE_MAX], kh[200];
    if (ssp_cursor_open(t, db, &cur) != SSP_OK)
        die("cannot read the %s database", db_label[db]);
    for (ssp_err rc = ssp_cursor_seek(cur, SSP_SLICE("", 0), &k, &v); rc == SSP_OK;
         rc = ssp_cursor_next(cur, &k, &v)) {
        hex(k, kh, sizeof kh);
        snprintf(where, sizeof where, "%s key %s (stored)", db_label[db], kh);
        search(s, k, where);
        snprintf(where, sizeof where, "%s value %s (stored)", db_label[db], kh);
        search(s, v, where);
        struct ssp_commit c;
        if (db == SSP_DB_LOG && ssp_commit_parse(v, &c) == SSP_OK)
            open_commit(s, &c, "log ", &s->ops);
        if (db == SSP_DB_RECORDS && k.n == SSP_RECORD_ID_LEN)
            (void)open_record(s, v, k.p, "", &s->records);
    }
    ssp_cursor_close(cur);
}

/* Opens the store and its keyring the way sspd does. */
static struct ssp_store *
open_node(struct scan *s, const char *dir)
{
    struct ssp_diag d = {{0}};
    struct ssp_store *st;
    struct ssp_txn *t;
    struct ssp_slice sealed;
    char *pass = NULL;
    size_t len = 0;
    if (ssp_passphrase_load(-1, NULL, &pass, &len, &d) != SSP_OK)
        die("%s", d.msg);
    if (ssp_store_open(dir, false, 0, &st, &d) != SSP_OK)
        die("%s", d.msg);
    if (ssp_store_read(st, &t) != SSP_OK)
        die("cannot read the store in %s", dir);
    if (ssp_txn_get(t, SSP_DB_META, SSP_META(SSP_META_KEYRING), &sealed) != SSP_OK)
        die("the store in %s has no keyring", dir);
    if (ssp_keyring_open(sealed, pass, len, &s->kr, &d) != SSP_OK)
        die("%s", d.msg);
    ssp_txn_abort(t);
    ssp_secret_free(pass);
    if (ssp_keyring_dup(s->kr, &s->trial) != SSP_OK)
        die("out of memory");
    return st;
}

/* Holds DIR/sspd.lock for the scan, refusing a running sspd (see node/main.c). */
static void
hold_lock(const char *dir)
{
    char path[PATH_MAX_LEN];
    snprintf(path, sizeof path, "%s/sspd.lock", dir);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno != ENOENT)
        die("cannot open %s: %s", path, strerror(errno));
    if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) != 0)
        die("sspd is running on %s; stop it with 'ssp stop' first", dir);
    /* The descriptor stays open, with its lock, until the process exits. */
}

int
main(int argc, char **argv)
{
    struct scan s = {0};
    bool expect = false;
    int i = 1;
    if (i < argc && strcmp(argv[i], "--expect-decrypt") == 0) {
        expect = true;
        i++;
    }
    if (i < argc && strcmp(argv[i], "--help") == 0) {
        fputs(usage, stdout);
        return 0;
    }
    if (argc - i < 2 || argv[i][0] == '-')
        die("usage: ssp_scan [--expect-decrypt] DIR NEEDLE... (see ssp_scan --help)");
    const char *dir = argv[i];
    s.needles = argv + i + 1;
    s.nneedles = argc - i - 1;
    if (s.nneedles > MAX_NEEDLES)
        die("at most %d needles", MAX_NEEDLES);
    for (int n = 0; n < s.nneedles; n++)
        if (s.needles[n][0] == '\0')
            die("an empty needle matches nothing; give words to search for");
    if (ssp_crypto_init() != SSP_OK)
        die("cannot initialise libsodium");
    hold_lock(dir);
    struct ssp_store *st = open_node(&s, dir);
    ssp_buf_init(&s.plain);
    ssp_record_init(&s.rec);

    walk(&s, dir);
    struct ssp_txn *t;
    if (ssp_store_read(st, &t) != SSP_OK)
        die("cannot read the store in %s", dir);
    for (int db = 0; db < SSP_DB_COUNT; db++)
        scan_db(&s, t, (enum ssp_db)db);
    ssp_txn_abort(t);

    uint64_t decrypted = s.ops + s.records + s.carved_ops + s.carved_records;
    fprintf(stderr,
            "ssp_scan: %llu files, %llu bytes raw; keyring opened (%u keys); decrypted %llu log "
            "ops, %llu records; carved %llu commits (%llu ops decrypted), %llu records decrypted; "
            "%llu blobs no key opened (the roster's ops are clear)\n",
            (unsigned long long)s.files, (unsigned long long)s.bytes, s.kr->nkeys,
            (unsigned long long)s.ops, (unsigned long long)s.records,
            (unsigned long long)s.carved_commits, (unsigned long long)s.carved_ops,
            (unsigned long long)s.carved_records, (unsigned long long)s.unopened);
    ssp_record_fini(&s.rec);
    ssp_buf_fini(&s.plain);
    ssp_keyring_free(s.trial);
    ssp_keyring_free(s.kr);
    ssp_store_close(st);
    if (expect && decrypted == 0)
        die("nothing was decrypted (--expect-decrypt): the scan proves nothing");
    return s.found ? 1 : 0;
}
