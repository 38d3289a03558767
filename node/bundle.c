#include "node/bundle.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "node/peers.h"
#include "node/say.h"
#include "node/sync/session.h"

_Static_assert(SSP_BUNDLE_NODE_LEN == SSP_PK_LEN, "bundle node id size");
_Static_assert(SSP_BUNDLE_SEALED_LEN == SSP_GRANT_LEN, "a bundle key is sealed as a grant is");
_Static_assert(SSP_BUNDLE_STREAM_LEN == SSP_SSTREAM_HEADER_LEN, "bundle stream header size");
_Static_assert(SSP_BUNDLE_SIG_LEN == SSP_SIG_LEN, "bundle signature size");
_Static_assert(SSP_BUNDLE_CHUNK_MIN == SSP_SSTREAM_ABYTES &&
                   SSP_BUNDLE_CHUNK_MAX == SSP_SYNC_MAX_FRAME + SSP_SSTREAM_ABYTES,
               "a body frame is one sync message, encrypted");

/* The context string in front of what the sender signs. */
#define SIGNED_CONTEXT "ssp-bundle-v1"
/* The verifying pass hashes the body in pieces of this size. */
#define READ_PIECE (64u << 10)
/* A file is named in messages by its last 60 characters at most. */
#define NAME_MAX_SHOWN 60

static struct ssp_slice
cstr(const char *s)
{
    return SSP_SLICE(s, strlen(s));
}

/* The end of path, for messages: the file's name, or its last characters. */
static const char *
shown(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *name = slash != NULL && slash[1] != '\0' ? slash + 1 : path;
    size_t n = strlen(name);
    return n > NAME_MAX_SHOWN ? name + n - NAME_MAX_SHOWN : name;
}

/* "NAME (ABCDEFGH)" for a node of our roster, "the central (...)", or the short id alone. */
static void
describe(struct ssp_node *n, struct ssp_txn *t, const uint8_t id[SSP_PK_LEN], char *out, size_t cap)
{
    char text[SSP_NODE_ID_TEXT + 1];
    struct ssp_roster_entry e;
    ssp_node_id_format(id, text);
    if (n->has_network && memcmp(id, n->network, SSP_PK_LEN) == 0)
        snprintf(out, cap, "the central (%.8s)", text);
    else if (t != NULL && ssp_roster_get(t, id, &e) == SSP_OK)
        snprintf(out, cap, "%.*s (%.8s)", (int)(e.name.n > 40 ? 40 : e.name.n),
                 (const char *)e.name.p, text);
    else
        snprintf(out, cap, "%.8s", text);
}

static ssp_err
io_error(int err, const char *what, const char *path, struct ssp_diag *d)
{
    ssp_err rc = err == ENOSPC || err == EDQUOT  ? SSP_ERR_FULL
                 : err == ENOENT                 ? SSP_ERR_NOTFOUND
                 : err == EACCES || err == EPERM ? SSP_ERR_DENIED
                                                 : SSP_ERR_IO;
    return ssp_diag_set(d, rc, "cannot %s %s: %s", what, shown(path), strerror(err));
}

/* ---- writing ---- */

/* A bundle being written: the body's stream, the signed hash so far, the file. */
struct out_file {
    int fd;
    const char *path;
    struct ssp_hasher h;
    struct ssp_sstream *ss;
    /* The last message the session sent: written when the next comes, the last tagged FINAL. */
    struct ssp_buf held;
    struct ssp_buf chunk;
    uint64_t written;
    struct ssp_diag d; /* why a write failed, in words better than the session's */
};

/* Writes all of b to fd: 0, or the errno of the failure. */
static int
write_fd(int fd, struct ssp_slice b)
{
    const uint8_t *p = b.p;
    size_t n = b.n;
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return errno;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static ssp_err
write_all(struct out_file *o, struct ssp_slice b)
{
    int err = write_fd(o->fd, b);
    if (err != 0)
        return io_error(err, "write", o->path, &o->d);
    o->written += b.n;
    return SSP_OK;
}

/* Writes bytes that the signature covers. */
static ssp_err
write_signed(struct out_file *o, struct ssp_slice b)
{
    ssp_hasher_update(&o->h, b);
    return write_all(o, b);
}

/* Encrypts msg as the body's next frame and writes it. */
static ssp_err
write_chunk(struct out_file *o, struct ssp_slice msg, bool last)
{
    o->chunk.n = 0;
    ssp_err rc = ssp_buf_append_be32(&o->chunk, (uint32_t)(msg.n + SSP_SSTREAM_ABYTES));
    if (rc == SSP_OK)
        rc = ssp_sstream_push_end(o->ss, msg, last, &o->chunk);
    if (rc != SSP_OK)
        return ssp_diag_set(&o->d, rc, "cannot encrypt the bundle: %s", ssp_strerror(rc));
    return write_signed(o, SSP_BUF_SLICE(&o->chunk));
}

/* The session's send: each message goes out once the next shows it was not the last. */
static ssp_err
out_send(void *arg, struct ssp_slice msg)
{
    struct out_file *o = arg;
    ssp_err rc = o->held.n > 0 ? write_chunk(o, SSP_BUF_SLICE(&o->held), false) : SSP_OK;
    o->held.n = 0;
    if (rc == SSP_OK && ssp_buf_append(&o->held, msg.p, msg.n) != SSP_OK)
        rc = ssp_diag_set(&o->d, SSP_ERR_NOMEM, "out of memory");
    return rc;
}

/* Whether id may read a bundle of ours: the central, or a node of the roster, and not us. */
static ssp_err
check_reader(struct ssp_node *n, struct ssp_txn *t, const uint8_t id[SSP_PK_LEN],
             struct ssp_diag *d)
{
    char text[SSP_NODE_ID_TEXT + 1];
    struct ssp_roster_entry e;
    ssp_node_id_format(id, text);
    if (memcmp(id, n->kr->pk, SSP_PK_LEN) == 0)
        return ssp_diag_set(d, SSP_ERR_INVAL, "%.8s is this node itself", text);
    if (memcmp(id, n->network, SSP_PK_LEN) == 0)
        return SSP_OK;
    ssp_err rc = ssp_roster_get(t, id, &e);
    if (rc == SSP_ERR_NOTFOUND)
        return ssp_diag_set(d, SSP_ERR_NOTFOUND,
                            "node %.8s is not in this node's roster; a bundle is only for nodes "
                            "the central enrolled (see 'ssp roster')",
                            text);
    return rc == SSP_OK ? SSP_OK
                        : ssp_diag_set(d, rc, "cannot read the roster: %s", ssp_strerror(rc));
}

/*
 * Checks the readers of x and puts in known what we know the recipient
 * holds, as a HELLO from it: the one kept in the peers table, else (or with
 * x->all) an empty frontier.
 */
static ssp_err
prepare_export(struct ssp_node *n, const struct ssp_bundle_export *x, struct ssp_buf *known,
               struct ssp_diag *d)
{
    struct ssp_txn *t = NULL;
    struct ssp_peer p;
    if (!n->has_network)
        return ssp_diag_set(d, SSP_ERR_DENIED,
                            "this node is not enrolled in a network yet, so it has nothing to "
                            "send; import the central's bundle first");
    ssp_err rc = ssp_store_read(n->store, &t);
    if (rc != SSP_OK)
        return ssp_diag_set(d, rc, "cannot read the store: %s", ssp_strerror(rc));
    rc = check_reader(n, t, x->to, d);
    for (size_t i = 0; i < x->nvia && rc == SSP_OK; i++) {
        rc = check_reader(n, t, x->via[i], d);
        for (size_t j = 0; j < i && rc == SSP_OK; j++)
            if (memcmp(x->via[i], x->via[j], SSP_PK_LEN) == 0)
                rc = ssp_diag_set(d, SSP_ERR_INVAL, "a carrier is named twice in --via");
        if (rc == SSP_OK && memcmp(x->via[i], x->to, SSP_PK_LEN) == 0)
            rc = ssp_diag_set(d, SSP_ERR_INVAL, "the recipient cannot also be a carrier (--via)");
    }
    struct ssp_sync_msg m;
    ssp_err prc = rc == SSP_OK && !x->all ? ssp_peer_get(t, x->to, &p) : SSP_ERR_NOTFOUND;
    if (prc == SSP_OK && p.hello.n > 0 &&
        (ssp_sync_decode(p.hello, &m) != SSP_OK || m.type != SSP_SYNC_HELLO))
        rc = ssp_diag_set(d, SSP_ERR_CORRUPT,
                          "what this node kept of what the recipient holds does not decode; "
                          "export with --all");
    else if (prc == SSP_OK && p.hello.n > 0 &&
             ssp_buf_append(known, p.hello.p, p.hello.n) != SSP_OK)
        rc = ssp_diag_set(d, SSP_ERR_NOMEM, "out of memory");
    else if (prc != SSP_OK && prc != SSP_ERR_NOTFOUND)
        rc = ssp_diag_set(d, prc, "cannot read what the recipient holds: %s", ssp_strerror(prc));
    ssp_txn_abort(t);
    /* Nothing known of it: it holds nothing. */
    if (rc == SSP_OK && known->n == 0 &&
        ssp_sync_encode_hello(known, x->to, SSP_SCHEMA_VERSION, ssp_wall_ms(), NULL, 0) != SSP_OK)
        rc = ssp_diag_set(d, SSP_ERR_NOMEM, "out of memory");
    return rc;
}

/* The header of a bundle of n for x, its body sealed under key (stream: its header). */
static ssp_err
encode_header(struct ssp_node *n, const struct ssp_bundle_export *x, const uint8_t *key,
              const uint8_t stream[SSP_SSTREAM_HEADER_LEN], struct ssp_buf *out,
              struct ssp_bundle_report *r, struct ssp_diag *d)
{
    uint8_t sealed[SSP_BUNDLE_MAX_READERS][SSP_GRANT_LEN];
    struct ssp_bundle_header h = {n->network, n->kr->pk, ssp_wall_ms(), 0, {{0}}, stream};
    for (size_t i = 0; i <= x->nvia; i++) {
        const uint8_t *node = i == 0 ? x->to : x->via[i - 1];
        if (ssp_grant_seal(node, key, sealed[i]) != SSP_OK)
            return ssp_diag_set(d, SSP_ERR_INVAL,
                                "cannot seal the bundle to a reader: its id is "
                                "not a usable key");
        h.readers[h.nreaders++] = (struct ssp_bundle_reader){node, sealed[i]};
    }
    r->created_ms = h.created_ms;
    r->nreaders = h.nreaders;
    ssp_err rc = ssp_bundle_header_encode(out, &h);
    return rc == SSP_OK ? SSP_OK : ssp_diag_set(d, rc, "cannot encode the bundle's header");
}

/* Makes the rename of path durable: fsync of the directory that holds it. */
static ssp_err
sync_dir(const char *path, struct ssp_diag *d)
{
    char dir[PATH_MAX];
    const char *slash = strrchr(path, '/');
    if (slash == NULL)
        snprintf(dir, sizeof dir, ".");
    else if (slash == path)
        snprintf(dir, sizeof dir, "/");
    else
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return io_error(errno, "open the directory of", path, d);
    int err = fsync(fd) == 0 ? 0 : errno;
    close(fd);
    return err == 0 ? SSP_OK : io_error(err, "sync the directory of", path, d);
}

ssp_err
ssp_bundle_write(struct ssp_node *n, const struct ssp_bundle_export *x, struct ssp_bundle_report *r,
                 struct ssp_diag *d)
{
    struct out_file o = {.fd = -1, .path = x->path};
    struct ssp_session *s = NULL;
    struct ssp_buf known, head;
    uint8_t *key = NULL;
    uint8_t stream[SSP_SSTREAM_HEADER_LEN], hash[SSP_HASH_LEN], sig[SSP_SIG_LEN];
    char tmp[PATH_MAX];
    bool made = false;
    int fd;
    ssp_buf_init(&known);
    ssp_buf_init(&head);
    ssp_buf_init(&o.held);
    ssp_buf_init(&o.chunk);
    memset(r, 0, sizeof *r);
    memcpy(r->sender, n->kr->pk, SSP_PK_LEN);
    memcpy(r->to, x->to, SSP_PK_LEN);

    ssp_err rc = prepare_export(n, x, &known, d);
    if (rc != SSP_OK)
        goto out;
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.XXXXXX", x->path) >= sizeof tmp) {
        rc = ssp_diag_set(d, SSP_ERR_INVAL, "the path of the bundle is too long");
        goto out;
    }
    /* The bundle key: random, in guarded memory, and only ever sealed to the readers. */
    if ((key = ssp_secret_alloc(SSP_KEY_LEN)) == NULL) {
        rc = ssp_diag_set(d, SSP_ERR_NOMEM, "out of memory");
        goto out;
    }
    ssp_random(key, SSP_KEY_LEN);
    rc = ssp_sstream_push_new(key, stream, &o.ss);
    if (rc != SSP_OK) {
        rc = ssp_diag_set(d, rc, "out of memory");
        goto out;
    }
    rc = encode_header(n, x, key, stream, &head, r, d);
    if (rc != SSP_OK)
        goto out;
    /* mkstemp makes it 0600: no one else may read even the ciphertext. */
    if ((o.fd = mkstemp(tmp)) < 0) {
        rc = io_error(errno, "create a file next to", x->path, d);
        goto out;
    }
    made = true;
    ssp_hasher_init(&o.h);
    ssp_hasher_update(&o.h, cstr(SIGNED_CONTEXT));
    rc = write_signed(&o, SSP_BUF_SLICE(&head));
    /* The session writes our HELLO; given the recipient's, all it lacks; then DONE. */
    if (rc == SSP_OK && (rc = ssp_session_new(n, x->to, out_send, &o, &s)) != SSP_OK)
        ssp_diag_set(d, rc, "out of memory");
    if (rc == SSP_OK) {
        ssp_session_set_mode(s, SSP_SESSION_BUNDLE_OUT);
        rc = ssp_session_start(s, d);
    }
    if (rc == SSP_OK)
        rc = ssp_session_input(s, SSP_BUF_SLICE(&known), d);
    if (rc == SSP_OK && o.held.n == 0)
        rc = ssp_diag_set(d, SSP_ERR_INTERNAL, "the session wrote no DONE");
    if (rc == SSP_OK)
        rc = write_chunk(&o, SSP_BUF_SLICE(&o.held), true);
    if (rc == SSP_OK) {
        ssp_hasher_final(&o.h, hash);
        ssp_sign(n->kr->sk, hash, sig);
        rc = write_all(&o, SSP_SLICE(sig, sizeof sig));
    }
    if (rc != SSP_OK) {
        /* A failed write says so better than the session's "cannot send to peer". */
        if (o.d.msg[0] != '\0')
            memcpy(d, &o.d, sizeof *d);
        goto out;
    }
    if (fsync(o.fd) != 0) {
        rc = io_error(errno, "write", x->path, d);
        goto out;
    }
    fd = o.fd;
    o.fd = -1;
    if (close(fd) != 0) {
        rc = io_error(errno, "write", x->path, d);
        goto out;
    }
    if (rename(tmp, x->path) != 0) {
        rc = io_error(errno, "write", x->path, d);
        goto out;
    }
    made = false;
    rc = sync_dir(x->path, d);
    r->commits = ssp_session_stats(s)->commits_out;
    r->bytes = ssp_session_stats(s)->bytes_out;
    r->file_bytes = o.written;
out:
    if (o.fd >= 0)
        close(o.fd);
    if (made)
        unlink(tmp);
    ssp_session_free(s);
    ssp_sstream_free(o.ss);
    ssp_secret_free(key);
    ssp_buf_fini(&o.chunk);
    ssp_buf_fini(&o.held);
    ssp_buf_fini(&head);
    ssp_buf_fini(&known);
    return rc;
}

/* ---- reading ---- */

/*
 * A bundle being read: the file, where we are in it, and the signed hash so
 * far. While it is verified, what is hashed is also written to copy (in the
 * node directory, unnamed), from which it is then applied.
 */
struct in_file {
    int fd, copy;
    const char *path;
    const char *dir; /* where the copy is */
    uint64_t size, at;
    struct ssp_hasher h;
};

/*
 * Reads exactly len bytes into p and (if hash) adds them to the hash and the
 * copy; the file ending first is a cut.
 */
static ssp_err
read_signed(struct in_file *f, uint8_t *p, size_t len, bool hash, struct ssp_diag *d)
{
    size_t got = 0;
    while (got < len) {
        ssize_t k = read(f->fd, p + got, len - got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return io_error(errno, "read", f->path, d);
        if (k == 0)
            return ssp_diag_set(d, SSP_ERR_PROTO,
                                "%s is cut short at byte %llu: copy the whole file again",
                                shown(f->path), (unsigned long long)(f->at + got));
        got += (size_t)k;
    }
    if (hash)
        ssp_hasher_update(&f->h, SSP_SLICE(p, len));
    int err = hash && f->copy >= 0 ? write_fd(f->copy, SSP_SLICE(p, len)) : 0;
    if (err != 0)
        return io_error(err, "copy the bundle into", f->dir, d);
    f->at += len;
    return SSP_OK;
}

/*
 * The copy the verifying pass writes and the applying pass reads: what is
 * applied is then what was verified, even when the file changes between the
 * two (a USB device can answer a second read with other bytes). Unlinked at
 * once, so that nothing is left behind whatever happens.
 */
static ssp_err
open_copy(struct in_file *f, struct ssp_diag *d)
{
    char tmp[PATH_MAX];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s/bundle-import.XXXXXX", f->dir) >= sizeof tmp)
        return ssp_diag_set(d, SSP_ERR_INVAL, "the node directory's path is too long");
    if ((f->copy = mkstemp(tmp)) < 0)
        return io_error(errno, "create a copy of the bundle in", f->dir, d);
    unlink(tmp);
    return SSP_OK;
}

static ssp_err
damaged(const struct in_file *f, const char *what, struct ssp_diag *d)
{
    return ssp_diag_set(d, SSP_ERR_PROTO,
                        "%s is cut short or damaged (%s at byte %llu); nothing was applied: "
                        "copy it again",
                        shown(f->path), what, (unsigned long long)f->at);
}

/* Reads the prefix and header into head and decodes the header into h (borrowing head). */
static ssp_err
read_header(struct in_file *f, struct ssp_buf *head, struct ssp_bundle_header *h,
            struct ssp_diag *d)
{
    uint32_t version = 0, hlen = 0;
    const char *name = shown(f->path);
    if (f->size < SSP_BUNDLE_PREFIX_LEN + SSP_SIG_LEN)
        return ssp_diag_set(d, SSP_ERR_PROTO,
                            "%s is too short to be an ssp bundle (%llu bytes): copy it again", name,
                            (unsigned long long)f->size);
    ssp_err rc = ssp_buf_reserve(head, SSP_BUNDLE_PREFIX_LEN + SSP_BUNDLE_HEADER_MAX);
    if (rc != SSP_OK)
        return ssp_diag_set(d, rc, "out of memory");
    rc = read_signed(f, head->p, SSP_BUNDLE_PREFIX_LEN, true, d);
    if (rc != SSP_OK)
        return rc;
    head->n = SSP_BUNDLE_PREFIX_LEN;
    rc = ssp_bundle_prefix_decode(SSP_BUF_SLICE(head), &version, &hlen);
    /* A later format is a small number; anything else there is damage. */
    if (rc == SSP_ERR_VERSION && version > SSP_BUNDLE_VERSION && version <= UINT8_MAX)
        return ssp_diag_set(d, rc,
                            "%s is a bundle of format %u; this sspd reads format %d: "
                            "upgrade it",
                            name, version, SSP_BUNDLE_VERSION);
    if (rc != SSP_OK && memcmp(head->p, SSP_BUNDLE_MAGIC, SSP_BUNDLE_MAGIC_LEN) != 0)
        return ssp_diag_set(d, rc, "%s is not an ssp bundle", name);
    if (rc != SSP_OK)
        return damaged(f, "an unknown format or a header length out of bounds", d);
    if (f->size < SSP_BUNDLE_PREFIX_LEN + (uint64_t)hlen + SSP_SIG_LEN)
        return ssp_diag_set(d, SSP_ERR_PROTO, "%s is cut short: copy the whole file again", name);
    rc = read_signed(f, head->p + head->n, hlen, true, d);
    if (rc != SSP_OK)
        return rc;
    head->n += hlen;
    if (ssp_bundle_header_decode(SSP_SLICE(head->p + SSP_BUNDLE_PREFIX_LEN, hlen), h) != SSP_OK)
        return damaged(f, "a header that does not decode", d);
    return SSP_OK;
}

/* Whether this node takes bundles of h's network and sender. */
static ssp_err
check_origin(struct ssp_node *n, const struct in_file *f, const struct ssp_bundle_header *h,
             const uint8_t *central, struct ssp_diag *d)
{
    char net[SSP_NODE_ID_TEXT + 1], ours[SSP_NODE_ID_TEXT + 1], who[SSP_NODE_ID_TEXT + 1];
    struct ssp_txn *t = NULL;
    struct ssp_roster_entry e;
    const char *name = shown(f->path);
    ssp_node_id_format(h->network, net);
    ssp_node_id_format(h->sender, who);
    if (!n->has_network) {
        /* Joining a network is the user's choice, as 'ssp peer add CENTRAL' is on a link. */
        if (memcmp(h->sender, h->network, SSP_PK_LEN) != 0)
            return ssp_diag_set(d, SSP_ERR_DENIED,
                                "this node is not enrolled yet and takes only a bundle its "
                                "central wrote; %s was written by %.8s",
                                name, who);
        if (central == NULL || memcmp(central, h->network, SSP_PK_LEN) != 0)
            return ssp_diag_set(d, SSP_ERR_DENIED,
                                "this node is not enrolled yet: to join the network of central "
                                "%s by %s, check that id with the central and run 'ssp bundle "
                                "import --central %s FILE'",
                                net, name, net);
        return SSP_OK;
    }
    ssp_node_id_format(n->network, ours);
    if (memcmp(h->network, n->network, SSP_PK_LEN) != 0)
        return ssp_diag_set(d, SSP_ERR_DENIED,
                            "%s is from network %.8s; this node is in network %.8s", name, net,
                            ours);
    if (central != NULL && memcmp(central, n->network, SSP_PK_LEN) != 0)
        return ssp_diag_set(d, SSP_ERR_INVAL,
                            "this node is already in the network of central %.8s, not of the one "
                            "--central names",
                            ours);
    if (memcmp(h->sender, n->network, SSP_PK_LEN) == 0)
        return SSP_OK;
    ssp_err rc = ssp_store_read(n->store, &t);
    if (rc == SSP_OK)
        rc = ssp_roster_get(t, h->sender, &e);
    ssp_txn_abort(t);
    if (rc == SSP_ERR_NOTFOUND)
        return ssp_diag_set(d, SSP_ERR_DENIED,
                            "%s was written by node %.8s, which is not in this node's roster "
                            "(see 'ssp roster')",
                            name, who);
    return rc == SSP_OK ? SSP_OK
                        : ssp_diag_set(d, rc, "cannot read the roster: %s", ssp_strerror(rc));
}

/* The index of this node among h's readers; a clear refusal naming them if it is not one. */
static ssp_err
find_reader(struct ssp_node *n, const struct in_file *f, const struct ssp_bundle_header *h,
            uint32_t *ix, struct ssp_diag *d)
{
    struct ssp_txn *t = NULL;
    char list[SSP_DIAG_MAX / 2] = "", one[80], self[SSP_NODE_ID_TEXT + 1];
    size_t len = 0;
    for (uint32_t i = 0; i < h->nreaders; i++) {
        if (memcmp(h->readers[i].node, n->kr->pk, SSP_PK_LEN) == 0) {
            *ix = i;
            return SSP_OK;
        }
    }
    if (ssp_store_read(n->store, &t) != SSP_OK)
        t = NULL;
    for (uint32_t i = 0; i < h->nreaders && len < sizeof list - 1; i++) {
        describe(n, t, h->readers[i].node, one, sizeof one);
        int w = snprintf(list + len, sizeof list - len, "%s%s", i > 0 ? ", " : "", one);
        len += w > 0 ? (size_t)w : 0;
    }
    ssp_txn_abort(t);
    ssp_node_id_format(n->kr->pk, self);
    return ssp_diag_set(d, SSP_ERR_DENIED,
                        "%s is sealed to %s, not to this node (%.8s): carry it to %s",
                        shown(f->path), list, self, h->nreaders > 1 ? "one of them" : "that node");
}

/*
 * The verifying pass: reads every frame of the body into the hash (bounded,
 * ending exactly at the signature) and checks the sender's signature.
 */
static ssp_err
verify_body(struct in_file *f, const struct ssp_bundle_header *h, uint8_t hash[SSP_HASH_LEN],
            struct ssp_diag *d)
{
    uint8_t *piece = ssp_alloc(READ_PIECE), len4[4], sig[SSP_SIG_LEN];
    uint64_t end = f->size - SSP_SIG_LEN, frames = 0;
    ssp_err rc = piece != NULL ? SSP_OK : ssp_diag_set(d, SSP_ERR_NOMEM, "out of memory");
    while (rc == SSP_OK && f->at < end) {
        if (end - f->at < sizeof len4) {
            rc = damaged(f, "a frame cut short", d);
            break;
        }
        rc = read_signed(f, len4, sizeof len4, true, d);
        uint32_t len = rc == SSP_OK ? ssp_get_be32(len4) : 0;
        if (rc == SSP_OK && (len < SSP_BUNDLE_CHUNK_MIN || len > SSP_BUNDLE_CHUNK_MAX))
            rc = damaged(f, "a frame of impossible length", d);
        else if (rc == SSP_OK && len > end - f->at)
            rc = damaged(f, "a frame longer than what is left", d);
        while (rc == SSP_OK && len > 0) {
            size_t k = len < READ_PIECE ? len : READ_PIECE;
            rc = read_signed(f, piece, k, true, d);
            len -= (uint32_t)k;
        }
        frames++;
    }
    if (rc == SSP_OK && frames == 0)
        rc = damaged(f, "no body", d);
    if (rc == SSP_OK)
        rc = read_signed(f, sig, sizeof sig, false, d);
    if (rc == SSP_OK) {
        ssp_hasher_final(&f->h, hash);
        if (ssp_verify(h->sender, hash, sig) != SSP_OK) {
            char who[SSP_NODE_ID_TEXT + 1];
            ssp_node_id_format(h->sender, who);
            rc = ssp_diag_set(d, SSP_ERR_PROTO,
                              "%s is damaged or was altered: its signature by %.8s does not "
                              "verify; nothing was applied",
                              shown(f->path), who);
        }
    }
    ssp_free(piece);
    return rc;
}

/* The applying pass: the session of this node with the sender, fed frame by frame. */
struct in_pass {
    struct ssp_node *n;
    struct ssp_session *s;
    struct in_file *f;
    struct ssp_sstream *ss;
    bool carrier;
    struct ssp_buf ct, msg, again;
    struct ssp_buf hello; /* the sender's HELLO, to learn what it holds */
    struct ssp_slice *list;
    uint32_t frames; /* COMMITS frames read */
    uint32_t fed;    /* COMMITS frames given to the session (a carrier's renumbered) */
    uint64_t commits, skipped;
};

/* Nothing goes back into a bundle: the ACKs and NOTICEs of the session are dropped. */
static ssp_err
in_send(void *arg, struct ssp_slice msg)
{
    (void)arg;
    (void)msg;
    return SSP_OK;
}

/*
 * What a carrier keeps: the scopes the roster lets it receive, as on a link
 * (the recipient reads the rest from the same file). Its entry is read once
 * per message, in a transaction the view holds.
 */
struct carrier_view {
    struct ssp_txn *t;
    struct ssp_roster_entry self;
    bool enrolled;
};

static ssp_err
view_open(struct ssp_node *n, struct carrier_view *v, struct ssp_diag *d)
{
    ssp_err rc = ssp_store_read(n->store, &v->t);
    if (rc != SSP_OK)
        return ssp_diag_set(d, rc, "cannot read the roster: %s", ssp_strerror(rc));
    v->enrolled = ssp_roster_get(v->t, n->kr->pk, &v->self) == SSP_OK;
    return SSP_OK;
}

static bool
view_keeps(struct ssp_node *n, const struct carrier_view *v, struct ssp_slice scope)
{
    return ssp_roster_may_receive(n->network, n->kr->pk, v->enrolled ? &v->self : NULL, scope);
}

/* m's commits of the scopes this carrier keeps, renumbered, in p->again; *empty if none. */
static ssp_err
carried_commits(struct in_pass *p, const struct ssp_sync_msg *m, bool *empty, struct ssp_diag *d)
{
    struct carrier_view v;
    struct ssp_sync_iter it = SSP_SYNC_ITER_INIT;
    struct ssp_slice c;
    size_t kept = 0;
    ssp_err rc = view_open(p->n, &v, d);
    if (rc != SSP_OK)
        return rc;
    while (ssp_sync_commit_next(m, &it, &c) == SSP_OK) {
        struct ssp_commit cm;
        /* One that does not parse goes on, for ssp_node_apply to refuse and say why. */
        if (ssp_commit_parse(c, &cm) == SSP_OK && !view_keeps(p->n, &v, cstr(cm.hdr.scope))) {
            p->skipped++;
            continue;
        }
        p->list[kept++] = c;
    }
    ssp_txn_abort(v.t);
    *empty = kept == 0;
    p->again.n = 0;
    if (kept > 0 && (rc = ssp_sync_encode_commits(&p->again, p->fed + 1, p->list, kept)) != SSP_OK)
        return ssp_diag_set(d, rc, "out of memory");
    return SSP_OK;
}

/*
 * The sender's HELLO, as the sender would say it on a link to this node:
 * only the streams this carrier keeps (else status would count as lacking
 * streams it may never hold). Into p->hello.
 */
static ssp_err
carried_hello(struct in_pass *p, const struct ssp_sync_msg *m, struct ssp_diag *d)
{
    struct carrier_view v;
    struct ssp_sync_iter it = SSP_SYNC_ITER_INIT;
    struct ssp_frontier_entry *e = ssp_calloc((size_t)m->nstreams + 1, sizeof *e);
    size_t kept = 0;
    if (e == NULL)
        return ssp_diag_set(d, SSP_ERR_NOMEM, "out of memory");
    ssp_err rc = view_open(p->n, &v, d);
    while (rc == SSP_OK && kept < m->nstreams && ssp_sync_frontier_next(m, &it, &e[kept]) == SSP_OK)
        kept += view_keeps(p->n, &v, e[kept].scope);
    if (rc == SSP_OK) {
        rc = ssp_sync_encode_hello(&p->hello, m->node, m->schema, m->clock_ms, e, kept);
        ssp_txn_abort(v.t);
        if (rc != SSP_OK)
            rc = ssp_diag_set(d, rc, "out of memory");
    }
    ssp_free(e);
    return rc;
}

/* Hands one message of the body to the session; index counts them from 0. */
static ssp_err
take(struct in_pass *p, struct ssp_slice msg, uint64_t index, bool last, struct ssp_diag *d)
{
    struct ssp_sync_msg m;
    const char *name = shown(p->f->path);
    if (ssp_sync_decode(msg, &m) != SSP_OK)
        return ssp_diag_set(d, SSP_ERR_PROTO, "%s holds a message that does not decode", name);
    /*
     * HELLO first, DONE last (and tagged so), COMMITS between, and NOTICEs
     * where the sender had something to tell: what a session over a file says.
     */
    enum ssp_sync_type want = index == 0 ? SSP_SYNC_HELLO : last ? SSP_SYNC_DONE : SSP_SYNC_COMMITS;
    if ((m.type != want && !(m.type == SSP_SYNC_NOTICE && index > 0 && !last)) ||
        (index == 0 && last))
        return ssp_diag_set(d, SSP_ERR_PROTO,
                            "%s holds its messages out of order (message %llu is not a %s)", name,
                            (unsigned long long)index,
                            want == SSP_SYNC_HELLO ? "HELLO"
                            : last                 ? "DONE"
                                                   : "COMMITS");
    if (m.type == SSP_SYNC_HELLO) {
        ssp_err rc = p->carrier ? carried_hello(p, &m, d)
                     : ssp_buf_append(&p->hello, msg.p, msg.n) != SSP_OK
                         ? ssp_diag_set(d, SSP_ERR_NOMEM, "out of memory")
                         : SSP_OK;
        if (rc != SSP_OK)
            return rc;
    }
    /* The session checks the frames it is given; a carrier's are renumbered, so check them here. */
    if (p->carrier && (m.type == SSP_SYNC_COMMITS || m.type == SSP_SYNC_DONE) &&
        m.frame != p->frames + (m.type == SSP_SYNC_COMMITS))
        return ssp_diag_set(d, SSP_ERR_PROTO, "%s holds frame %u out of order", name, m.frame);
    if (m.type == SSP_SYNC_COMMITS) {
        p->commits += m.ncommits;
        p->frames++;
    }
    if (p->carrier && m.type == SSP_SYNC_COMMITS) {
        bool empty;
        ssp_err rc = carried_commits(p, &m, &empty, d);
        if (rc != SSP_OK || empty)
            return rc;
        msg = SSP_BUF_SLICE(&p->again);
    } else if (p->carrier && m.type == SSP_SYNC_DONE) {
        p->again.n = 0;
        if (ssp_sync_encode_done(&p->again, p->fed) != SSP_OK)
            return ssp_diag_set(d, SSP_ERR_NOMEM, "out of memory");
        msg = SSP_BUF_SLICE(&p->again);
    }
    if (m.type == SSP_SYNC_COMMITS)
        p->fed++;
    return ssp_session_input(p->s, msg, d);
}

/* In the applying pass: the body, as signed, is not well-formed (the sender's fault). */
static ssp_err
malformed(const struct in_file *f, const char *what, struct ssp_diag *d)
{
    return ssp_diag_set(d, SSP_ERR_PROTO,
                        "%s is signed but its body is not well-formed (%s at byte %llu): have its "
                        "sender write it again",
                        shown(f->path), what, (unsigned long long)f->at);
}

/* Decrypts the body frame by frame and applies it; hash must come out as verified. */
static ssp_err
apply_body(struct in_pass *p, const uint8_t verified[SSP_HASH_LEN], struct ssp_diag *d)
{
    struct in_file *f = p->f;
    uint64_t end = f->size - SSP_SIG_LEN, index = 0;
    uint8_t len4[4], hash[SSP_HASH_LEN];
    bool last = false;
    ssp_err rc = SSP_OK;
    while (rc == SSP_OK && f->at < end) {
        if (last)
            return malformed(f, "data after the last frame", d);
        /* Bounds were checked by the verifying pass, on these very bytes. */
        rc = read_signed(f, len4, sizeof len4, true, d);
        uint32_t len = rc == SSP_OK ? ssp_get_be32(len4) : 0;
        if (rc == SSP_OK &&
            (len < SSP_BUNDLE_CHUNK_MIN || len > SSP_BUNDLE_CHUNK_MAX || len > end - f->at))
            return malformed(f, "a frame of another length", d);
        p->ct.n = 0;
        p->msg.n = 0;
        if (rc == SSP_OK && ssp_buf_reserve(&p->ct, len) != SSP_OK)
            rc = ssp_diag_set(d, SSP_ERR_NOMEM, "out of memory");
        if (rc == SSP_OK)
            rc = read_signed(f, p->ct.p, len, true, d);
        p->ct.n = len;
        if (rc == SSP_OK &&
            ssp_sstream_pull_end(p->ss, SSP_BUF_SLICE(&p->ct), &last, &p->msg) != SSP_OK)
            return malformed(f, "a frame that does not decrypt", d);
        if (rc == SSP_OK)
            rc = take(p, SSP_BUF_SLICE(&p->msg), index++, last, d);
    }
    if (rc == SSP_OK && !last)
        return malformed(f, "no last frame", d);
    if (rc == SSP_OK) {
        ssp_hasher_final(&f->h, hash);
        if (memcmp(hash, verified, SSP_HASH_LEN) != 0)
            return ssp_diag_set(d, SSP_ERR_IO,
                                "the copy of %s in the node directory changed while it was "
                                "imported: check that disk",
                                shown(f->path));
    }
    return rc;
}

/* What we know the sender holds, merged with its HELLO in the bundle. */
struct learn {
    const uint8_t *sender;
    struct ssp_slice hello;
    uint64_t created_ms;
};

static ssp_err
learn_hello(struct ssp_txn *t, void *arg, struct ssp_diag *d)
{
    struct learn *l = arg;
    struct ssp_peer p;
    struct ssp_buf merged;
    (void)d;
    ssp_buf_init(&merged);
    ssp_err rc = ssp_peer_get(t, l->sender, &p);
    if (rc == SSP_ERR_NOTFOUND) {
        memset(&p, 0, sizeof p);
        memcpy(p.id, l->sender, SSP_PK_LEN);
        p.hello = l->hello;
        rc = SSP_OK;
    } else if (rc == SSP_OK) {
        /* An older bundle never takes it back; one kept that does not decode is replaced. */
        ssp_err mrc =
            p.hello.n > 0 ? ssp_sync_merge_hello(&merged, p.hello, l->hello) : SSP_ERR_INVAL;
        if (mrc == SSP_ERR_NOMEM)
            rc = mrc;
        p.hello = mrc == SSP_OK ? SSP_BUF_SLICE(&merged) : l->hello;
    }
    /* What status says of it dates from when it wrote the bundle. */
    if (p.last_contact_ms < l->created_ms)
        p.last_contact_ms = l->created_ms;
    if (rc == SSP_OK)
        rc = ssp_peer_put(t, &p);
    ssp_buf_fini(&merged);
    return rc;
}

ssp_err
ssp_bundle_read(struct ssp_node *n, const char *path, const uint8_t *central,
                struct ssp_bundle_report *r, struct ssp_diag *d)
{
    struct in_file f = {.fd = -1, .copy = -1, .path = path, .dir = n->dir};
    struct in_pass p = {.n = n, .f = &f};
    struct ssp_bundle_header h;
    struct ssp_buf head;
    struct stat st;
    struct learn l;
    uint8_t *key = NULL, hash[SSP_HASH_LEN];
    uint32_t ix = 0;
    ssp_buf_init(&head);
    ssp_buf_init(&p.ct);
    ssp_buf_init(&p.msg);
    ssp_buf_init(&p.again);
    ssp_buf_init(&p.hello);
    memset(r, 0, sizeof *r);

    ssp_err rc = SSP_OK;
    /* O_NONBLOCK, until it is known to be a file: the open of a FIFO waits for a writer. */
    if ((f.fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) < 0 || fstat(f.fd, &st) != 0) {
        rc = io_error(errno, "open", path, d);
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = ssp_diag_set(d, SSP_ERR_INVAL, "%s is not a regular file", shown(path));
        goto out;
    }
    if (fcntl(f.fd, F_SETFL, 0) != 0) {
        rc = io_error(errno, "read", path, d);
        goto out;
    }
    f.size = (uint64_t)st.st_size;
    r->file_bytes = f.size;
    rc = open_copy(&f, d);
    if (rc != SSP_OK)
        goto out;
    ssp_hasher_init(&f.h);
    ssp_hasher_update(&f.h, cstr(SIGNED_CONTEXT));
    /* Everything is checked before anything is applied: form, network, sender, signature. */
    rc = read_header(&f, &head, &h, d);
    if (rc == SSP_OK)
        rc = check_origin(n, &f, &h, central, d);
    if (rc == SSP_OK)
        rc = find_reader(n, &f, &h, &ix, d);
    if (rc == SSP_OK)
        rc = verify_body(&f, &h, hash, d);
    if (rc != SSP_OK)
        goto out;
    memcpy(r->sender, h.sender, SSP_PK_LEN);
    memcpy(r->to, h.readers[0].node, SSP_PK_LEN);
    r->created_ms = h.created_ms;
    r->nreaders = h.nreaders;
    r->carrier = p.carrier = ix > 0;

    if ((key = ssp_secret_alloc(SSP_KEY_LEN)) == NULL) {
        rc = ssp_diag_set(d, SSP_ERR_NOMEM, "out of memory");
        goto out;
    }
    if (ssp_grant_open(n->kr->pk, n->kr->sk, h.readers[ix].key, key) != SSP_OK ||
        ssp_sstream_pull_new(key, h.stream, &p.ss) != SSP_OK) {
        rc = ssp_diag_set(d, SSP_ERR_PROTO,
                          "the key of %s does not open with this node's key, though it is "
                          "signed: its sender sealed it wrongly",
                          shown(path));
        goto out;
    }
    /* The second pass reads the copy, checking again that it holds the bytes verified. */
    close(f.fd);
    f.fd = f.copy;
    f.copy = -1;
    if (lseek(f.fd, (off_t)head.n, SEEK_SET) < 0) {
        rc = io_error(errno, "read the copy of the bundle in", n->dir, d);
        goto out;
    }
    f.at = head.n;
    ssp_hasher_init(&f.h);
    ssp_hasher_update(&f.h, cstr(SIGNED_CONTEXT));
    ssp_hasher_update(&f.h, SSP_BUF_SLICE(&head));
    if ((p.carrier && (p.list = ssp_alloc(SSP_SYNC_MAX_COMMITS * sizeof *p.list)) == NULL) ||
        ssp_session_new(n, h.sender, in_send, NULL, &p.s) != SSP_OK) {
        rc = ssp_diag_set(d, SSP_ERR_NOMEM, "out of memory");
        goto out;
    }
    ssp_session_set_mode(p.s, SSP_SESSION_BUNDLE_IN);
    rc = apply_body(&p, hash, d);
    r->commits = p.commits;
    r->skipped = p.skipped;
    r->applied = ssp_session_stats(p.s)->commits_in;
    r->bytes = ssp_session_stats(p.s)->bytes_in;
    r->duplicates = ssp_session_stats(p.s)->duplicates;
    r->refused = ssp_session_stats(p.s)->refused;
    if (rc != SSP_OK)
        goto out;
    l = (struct learn){h.sender, SSP_BUF_SLICE(&p.hello), h.created_ms};
    rc = ssp_store_write(n->store, learn_hello, &l, d);
    if (rc != SSP_OK && d->msg[0] == '\0')
        ssp_diag_set(d, rc, "cannot keep what the sender holds: %s", ssp_strerror(rc));
out:
    if (rc != SSP_OK && r->applied > 0) {
        char why[SSP_DIAG_MAX];
        snprintf(why, sizeof why, "%s", d->msg);
        d->msg[0] = '\0';
        ssp_diag_set(d, rc, "%s (%llu commits of it were applied first, each checked)", why,
                     (unsigned long long)r->applied);
    }
    if (rc == SSP_OK) {
        char who[SSP_NODE_ID_TEXT + 1];
        ssp_node_id_format(h.sender, who);
        ssp_say(SSP_INFO,
                "bundle from %.8s%s: %llu commits, %llu applied, %llu held already, %llu "
                "refused, %llu of scopes not carried here",
                who, p.carrier ? " (carried)" : "", (unsigned long long)r->commits,
                (unsigned long long)r->applied, (unsigned long long)r->duplicates,
                (unsigned long long)r->refused, (unsigned long long)r->skipped);
    }
    if (f.fd >= 0)
        close(f.fd);
    if (f.copy >= 0)
        close(f.copy);
    ssp_session_free(p.s);
    ssp_sstream_free(p.ss);
    ssp_secret_free(key);
    ssp_free(p.list);
    ssp_buf_fini(&p.hello);
    ssp_buf_fini(&p.again);
    ssp_buf_fini(&p.msg);
    ssp_buf_fini(&p.ct);
    ssp_buf_fini(&head);
    return rc;
}
