/*
 * peerkit: a hostile peer for the integration tests (test_hostile_peers.sh).
 *
 * It acts as the node of a stopped node directory (--dir; passphrase from
 * SSP_PASSPHRASE) or as a throwaway identity, talks to a real sspd over a
 * plain blocking TCP socket, runs the real channel (node/sync/channel.h) and
 * speaks the sync messages (proto/sync.h) itself, so that it can say what a
 * well-behaved node never would. Each subcommand is one hostile case; it
 * prints one line per thing that happens, for the test to match:
 *
 *   as ID                 who peerkit is (first line)
 *   record ID             the id of the record a crafted commit creates
 *   sent WHAT             what was sent
 *   hello from SHORT      the peer's HELLO
 *   notice NAME: TEXT     a NOTICE (the peer refused something of ours)
 *   ack N                 the peer acknowledged our COMMITS frame N
 *   closed by the peer    the connection ended (a refused handshake: no reply at all)
 *   timeout               nothing came for WAIT_S seconds
 *   stalled after N ...   markflood: the peer stopped reading us (a write waited STALL_S s)
 *
 * Exit status: 0 when the exchange ran (whatever the peer answered), 2 for a
 * usage or setup error. It writes nothing to its node directory.
 */
#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "node/node.h"
#include "node/store/keys.h"
#include "node/sync/channel.h"
#include "proto/base32.h"
#include "proto/frame.h"
#include "proto/sync.h"

#define WAIT_S 5
#define MAX_REPLAY 1024

static const char usage[] =
    "usage: peerkit [--dir DIR] COMMAND ADDR NODE_ID [ARG]\n"
    "\n"
    "Dials the sspd at ADDR (HOST:PORT) whose node id is NODE_ID, acting as the\n"
    "node in DIR (stopped; passphrase from SSP_PASSPHRASE) or, without --dir, as\n"
    "a throwaway node that no roster knows.\n"
    "\n"
    "commands:\n"
    "  hello                 handshake and HELLO only; shows whether the peer talks to us\n"
    "  write SCOPE           a new commit in SCOPE, well formed and signed (DIR's next seq)\n"
    "  forge SCOPE           the same, signed by a key that is not the origin's\n"
    "  chain SCOPE           the same, with prev not the hash of the previous commit\n"
    "  epoch SCOPE           the same, sealed under a key epoch (1000) the scope never had\n"
    "  schema SCOPE          the same, written with a schema version (1000) no node knows\n"
    "  replay SCOPE          every commit of DIR's own stream in SCOPE, sent again\n"
    "  oversize hs|open      a frame header announcing one byte more than the bound,\n"
    "                        as the first frame or in the open channel\n"
    "  garbage hs|frame|msg  random bytes: framed as the first handshake message, as a\n"
    "                        frame of the open channel, or sealed as a sync message\n"
    "  claim ID              a handshake claiming to be node ID, whose key we do not hold\n"
    "  poison SCOPE          a commit of two ops on one new record, a person then a group:\n"
    "                        each fits the schema alone, together they cannot be merged\n"
    "  bloat SCOPE           a commit of a new person and 394 updates of it, each of 255\n"
    "                        fields no schema has (naming no base: 100,000 conflicts)\n"
    "  conflicts SCOPE       a new person and 4095 updates of its known fields, naming\n"
    "                        no base: 12,283 conflicts, in one commit\n"
    "  fatten SCOPE          a new concern and commits of updates of its description,\n"
    "                        16 KiB each, naming no base: a MiB of conflicts a commit\n"
    "  pending SCOPE         a new person and commits of updates of it, each naming\n"
    "                        some 5,800 made-up versions as the bases it overwrote\n"
    "                        (these two: one commit a frame, until one is refused or\n"
    "                        64 are sent)\n"
    "  junk [FRAMES]         FRAMES (8) COMMITS frames of 65535 one-byte commits each\n"
    "  markflood [N]         a sync, then N (1000000) MARKs, never reading the answers\n"
    "  bighello [collide]    a HELLO naming as many streams as a message holds (57,500);\n"
    "                        collide: one scope, origins alike but for their last bytes\n"
    "  serve                 listen at ADDR instead; answer the first node that dials, as\n"
    "                        ourselves whatever id it expects (NODE_ID: the network id)\n";

struct kit {
    struct ssp_node *n; /* --dir: the node we act as; NULL for a throwaway identity */
    uint8_t pk[SSP_PK_LEN], sk[SSP_SK_LEN];
    uint8_t network[SSP_NETWORK_ID_LEN];
    uint8_t peer[SSP_PK_LEN]; /* NODE_ID */
    int fd;
    struct ssp_chan *ch;
    struct ssp_buf in;    /* bytes read, not yet a whole frame */
    struct ssp_buf frame; /* the last frame's payload */
    struct ssp_buf out;   /* bytes to write */
    struct ssp_buf msg;   /* the last message decrypted, or one to send */
    uint32_t frame_out;   /* our COMMITS frames */
    uint32_t notices;     /* NOTICEs received */
    /* Crafted commits: where our stream stands after the last, and the record they made. */
    struct ssp_stream_pos pos;
    bool have_pos, have_rec;
    uint8_t rec[SSP_RECORD_ID_LEN];
};

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("peerkit: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(2);
}

static void
say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
}

static void
check(ssp_err rc, const char *what)
{
    if (rc != SSP_OK)
        die("%s: %s", what, ssp_strerror(rc));
}

static const char *
short_id(const uint8_t id[SSP_PK_LEN])
{
    static char text[SSP_NODE_ID_TEXT + 1];
    ssp_node_id_format(id, text);
    text[SSP_NODE_ID_SHORT] = '\0';
    return text;
}

static void
parse_id(const char *text, uint8_t id[SSP_PK_LEN])
{
    if (ssp_base32_decode(text, strlen(text), id, SSP_PK_LEN) != SSP_OK)
        die("'%s' is not a node id", text);
}

/* ---- the socket ---- */

static struct addrinfo *
resolve(const char *addr, bool passive)
{
    char host[SSP_ADDR_MAX + 1], port[8];
    int portnum;
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = passive ? AI_PASSIVE : 0};
    struct addrinfo *res = NULL;
    if (ssp_addr_split(addr, host, &portnum) != SSP_OK)
        die("'%s' is not HOST:PORT", addr);
    snprintf(port, sizeof port, "%d", portnum);
    if (getaddrinfo(host, port, &hints, &res) != 0 || res == NULL)
        die("cannot resolve %s", addr);
    return res;
}

/* Reads and writes give up after secs seconds: a peer that stops reading must not hang us. */
static void
set_timeout(int fd, time_t secs)
{
    struct timeval tv = {secs, 0};
    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) != 0)
        die("setsockopt: %s", strerror(errno));
}

static void
dial(struct kit *k, const char *addr)
{
    struct addrinfo *res = resolve(addr, false);
    k->fd = socket(res->ai_family, res->ai_socktype, res->ai_protocol);
    if (k->fd < 0 || connect(k->fd, res->ai_addr, res->ai_addrlen) != 0)
        die("cannot connect to %s: %s", addr, strerror(errno));
    freeaddrinfo(res);
    set_timeout(k->fd, WAIT_S);
}

static void
accept_one(struct kit *k, const char *addr)
{
    struct addrinfo *res = resolve(addr, true);
    int one = 1, lfd = socket(res->ai_family, res->ai_socktype, res->ai_protocol);
    if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(lfd, res->ai_addr, res->ai_addrlen) != 0 || listen(lfd, 1) != 0)
        die("cannot listen on %s: %s", addr, strerror(errno));
    freeaddrinfo(res);
    say("listening on %s", addr);
    k->fd = accept(lfd, NULL, NULL);
    if (k->fd < 0)
        die("accept: %s", strerror(errno));
    close(lfd);
    set_timeout(k->fd, WAIT_S);
}

enum put { PUT_DONE, PUT_CLOSED, PUT_STALLED };

/* Writes k->out, or what the peer takes of it before a write waits WAIT_S seconds. */
static enum put
put_out(struct kit *k)
{
    size_t done = 0;
    enum put p = PUT_DONE;
    while (done < k->out.n) {
        ssize_t w = write(k->fd, k->out.p + done, k->out.n - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            p = PUT_STALLED;
            break;
        }
        if (w < 0 && (errno == EPIPE || errno == ECONNRESET))
            return PUT_CLOSED;
        if (w < 0)
            die("write: %s", strerror(errno));
        done += (size_t)w;
    }
    ssp_buf_consume(&k->out, done);
    return p;
}

/* Writes k->out; false if the peer has closed the connection. */
static bool
flush_out(struct kit *k)
{
    enum put p = put_out(k);
    if (p == PUT_STALLED)
        die("the peer read nothing of ours for %d seconds", WAIT_S);
    return p == PUT_DONE;
}

static bool
write_raw(struct kit *k, const void *p, size_t n)
{
    check(ssp_buf_append(&k->out, p, n), "buffer");
    return flush_out(k);
}

enum got { GOT_FRAME, GOT_CLOSED, GOT_TIMEOUT };

/* Reads the next frame into k->frame. */
static enum got
read_frame(struct kit *k)
{
    for (;;) {
        struct ssp_slice payload;
        size_t used;
        ssp_err rc = ssp_frame_decode(SSP_BUF_SLICE(&k->in), SSP_CHAN_MAX_FRAME, &payload, &used);
        if (rc == SSP_OK) {
            k->frame.n = 0;
            check(ssp_buf_append(&k->frame, payload.p, payload.n), "buffer");
            ssp_buf_consume(&k->in, used);
            return GOT_FRAME;
        }
        if (rc != SSP_ERR_AGAIN)
            die("the peer sent a frame over the bound");
        check(ssp_buf_reserve(&k->in, 64u << 10), "buffer");
        ssize_t r = read(k->fd, k->in.p + k->in.n, k->in.cap - k->in.n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return GOT_TIMEOUT;
        if (r <= 0)
            return GOT_CLOSED;
        k->in.n += (size_t)r;
    }
}

/* Prints why nothing more came; returns false for the callers' convenience. */
static bool
ended(enum got g)
{
    say(g == GOT_TIMEOUT ? "timeout" : "closed by the peer");
    return false;
}

/* Before a handshake, a refusing peer must send no bytes at all. */
static bool
expect_silence(struct kit *k)
{
    enum got g = read_frame(k);
    if (g == GOT_FRAME)
        die("the peer answered with a frame of %zu bytes", k->frame.n);
    return ended(g);
}

/* ---- the channel and the session ---- */

/* Runs the client side of the handshake, claiming to be claim; false if the peer ended it. */
static bool
handshake(struct kit *k, const uint8_t claim[SSP_PK_LEN])
{
    struct ssp_diag d = {{0}};
    bool got;
    check(ssp_chan_new(true, k->network, claim, k->sk, k->peer, NULL, NULL, &k->ch), "channel");
    check(ssp_chan_start(k->ch, &k->out), "channel");
    if (!flush_out(k))
        return ended(GOT_CLOSED);
    enum got g = read_frame(k);
    if (g != GOT_FRAME)
        return ended(g);
    if (ssp_chan_input(k->ch, SSP_BUF_SLICE(&k->frame), &k->out, &k->msg, &got, &d) != SSP_OK) {
        say("handshake failed here: %s", d.msg);
        return false;
    }
    return flush_out(k) || ended(GOT_CLOSED);
}

static bool
send_msg(struct kit *k)
{
    check(ssp_chan_send(k->ch, SSP_BUF_SLICE(&k->msg), &k->out), "channel");
    return flush_out(k) || ended(GOT_CLOSED);
}

/* What converse waits for besides the ack of our frame N (1 and up). */
#define UNTIL_HELLO 0u
#define UNTIL_DONE (UINT32_MAX - 1)
#define UNTIL_END UINT32_MAX

/*
 * Reads what the peer says, printing it and acking its COMMITS, until it
 * acks our frame `until`, or sends what UNTIL_HELLO or UNTIL_DONE names
 * (UNTIL_END: until the connection ends). False if it ends first.
 */
static bool
converse(struct kit *k, uint32_t until)
{
    for (;;) {
        struct ssp_diag d = {{0}};
        struct ssp_sync_msg m;
        bool got = false;
        enum got g = read_frame(k);
        if (g != GOT_FRAME)
            return ended(g);
        k->msg.n = 0;
        if (ssp_chan_input(k->ch, SSP_BUF_SLICE(&k->frame), &k->out, &k->msg, &got, &d) != SSP_OK)
            die("the peer broke the channel: %s", d.msg);
        if (!got)
            continue;
        if (ssp_sync_decode(SSP_BUF_SLICE(&k->msg), &m) != SSP_OK)
            die("the peer sent a malformed sync message");
        switch (m.type) {
        case SSP_SYNC_HELLO:
            say("hello from %s", short_id(m.node));
            if (until == UNTIL_HELLO)
                return true;
            break;
        case SSP_SYNC_COMMITS:
            k->msg.n = 0;
            check(ssp_sync_encode_ack(&k->msg, m.frame), "ack");
            if (!send_msg(k))
                return false;
            break;
        case SSP_SYNC_ACK:
            say("ack %u", m.frame);
            if (m.frame == until)
                return true;
            break;
        case SSP_SYNC_DONE:
            if (until == UNTIL_DONE)
                return true;
            break;
        case SSP_SYNC_MARK:
            break;
        case SSP_SYNC_NOTICE:
            k->notices++;
            say("notice %s: %.*s", ssp_err_name(m.code), (int)m.text.n, (const char *)m.text.p);
            break;
        }
    }
}

/* Handshake, our HELLO (claiming no commits, so the peer may push) and the peer's. */
static bool
session(struct kit *k)
{
    if (!handshake(k, k->pk))
        return false;
    k->msg.n = 0;
    check(ssp_sync_encode_hello(&k->msg, k->pk, SSP_SCHEMA_VERSION, ssp_wall_ms(), NULL, 0),
          "hello");
    return send_msg(k) && converse(k, UNTIL_HELLO);
}

static bool
send_commits(struct kit *k, const struct ssp_slice *list, size_t n)
{
    k->msg.n = 0;
    check(ssp_sync_encode_commits(&k->msg, ++k->frame_out, list, n), "commits");
    say("sent %zu commit%s in frame %u", n, n == 1 ? "" : "s", k->frame_out);
    return send_msg(k);
}

/* ---- crafted commits ---- */

enum craft {
    CRAFT_GOOD,
    CRAFT_FORGE,
    CRAFT_CHAIN,
    CRAFT_EPOCH,
    CRAFT_SCHEMA,
    CRAFT_POISON,    /* a second op creates the same record as a group */
    CRAFT_BLOAT,     /* BLOAT_OPS updates of it, each of BLOAT_FIELDS fields no schema has */
    CRAFT_CONFLICTS, /* updates of k->rec, a person, in its short fields, as many as fit */
    CRAFT_FATTEN,    /* updates of k->rec, a concern, each of the longest text there is */
    CRAFT_PENDING    /* updates of k->rec, a person, each naming as bases ops that never were */
};

/* A key epoch no scope reaches, and a schema version no node knows yet. */
#define ODD_EPOCH 1000u
#define ODD_SCHEMA 1000u

/* 393 updates after the first that each lose 255 fields: 100,215 conflicts, past 100,000. */
#define BLOAT_OPS 394
#define BLOAT_FIELDS 255

static void
need_node(const struct kit *k, const char *what)
{
    if (k->n == NULL)
        die("%s needs --dir: it acts as a node that has a stream", what);
}

static struct ssp_slice
scope_arg(const char *scope)
{
    if (scope == NULL || scope[0] == '\0' || strlen(scope) > SSP_SCOPE_MAX)
        die("give a scope");
    return SSP_SLICE(scope, strlen(scope));
}

/* Adds an op on record id to b, naming no base (as if the writer had seen nothing of it). */
static void
add_op(struct ssp_commit_builder *b, const uint8_t id[SSP_RECORD_ID_LEN], enum ssp_action act,
       const char *type, const struct ssp_buf *fields)
{
    struct ssp_record empty;
    struct ssp_buf body;
    ssp_record_init(&empty);
    ssp_buf_init(&body);
    check(ssp_op_body_encode(&empty, act, SSP_SLICE_STR(type), SSP_BUF_SLICE(fields), &body, NULL),
          "op body");
    check(ssp_commit_add(b, id, SSP_BUF_SLICE(&body)), "op");
    ssp_buf_fini(&body);
    ssp_record_fini(&empty);
}

/* A fields map of one text field. */
static void
one_field(struct ssp_buf *out, const char *name, const char *value)
{
    struct ssp_mpw w;
    out->n = 0;
    ssp_mpw_init(&w, out);
    ssp_mpw_map(&w, 1);
    ssp_mpw_cstr(&w, name);
    ssp_mpw_cstr(&w, value);
    check(w.err, "fields");
}

/* BLOAT_FIELDS fields f000, f001, ... that no type of the schema has. */
static void
made_up_fields(struct ssp_buf *out)
{
    struct ssp_mpw w;
    out->n = 0;
    ssp_mpw_init(&w, out);
    ssp_mpw_map(&w, BLOAT_FIELDS);
    for (unsigned j = 0; j < BLOAT_FIELDS; j++) {
        char name[8];
        snprintf(name, sizeof name, "f%03u", j);
        ssp_mpw_cstr(&w, name);
        ssp_mpw_uint(&w, j);
    }
    check(w.err, "fields");
}

/* The fields of a person that take any value of their kind, so each update loses all three. */
static void
person_fields(struct ssp_buf *out, unsigned n)
{
    struct ssp_mpw w;
    char alias[16];
    snprintf(alias, sizeof alias, "P%u", n);
    out->n = 0;
    ssp_mpw_init(&w, out);
    ssp_mpw_map(&w, 3);
    ssp_mpw_cstr(&w, "alias");
    ssp_mpw_cstr(&w, alias);
    ssp_mpw_cstr(&w, "birth_year");
    ssp_mpw_uint(&w, 1900 + n % 200);
    ssp_mpw_cstr(&w, "school");
    ssp_mpw_cstr(&w, alias);
    check(w.err, "fields");
}

/* A concern's fields as ssp add would write them, with description as given. */
static void
concern_fields(struct ssp_buf *out, const char *description)
{
    struct ssp_mpw w;
    out->n = 0;
    ssp_mpw_init(&w, out);
    ssp_mpw_map(&w, 6);
    ssp_mpw_cstr(&w, "group_desc");
    ssp_mpw_cstr(&w, "peerkit fatten");
    ssp_mpw_cstr(&w, "date");
    ssp_mpw_cstr(&w, "2026-01-01");
    ssp_mpw_cstr(&w, "categories");
    ssp_mpw_cstr(&w, "absence");
    ssp_mpw_cstr(&w, "level");
    ssp_mpw_uint(&w, 1);
    ssp_mpw_cstr(&w, "status");
    ssp_mpw_cstr(&w, "new");
    ssp_mpw_cstr(&w, "description");
    ssp_mpw_cstr(&w, description);
    check(w.err, "fields");
}

/*
 * An update of alias naming n made-up versions as the bases it overwrote: a
 * receiver keeps each as pending until it comes, which it never will.
 */
static void
pending_body(struct ssp_buf *out, uint64_t *next, unsigned n)
{
    struct ssp_mpw w;
    uint8_t origin[SSP_PK_LEN];
    ssp_random(origin, sizeof origin);
    out->n = 0;
    ssp_mpw_init(&w, out);
    ssp_mpw_array(&w, 4);
    ssp_mpw_cstr(&w, "person");
    ssp_mpw_uint(&w, SSP_ACT_UPDATE);
    ssp_mpw_map(&w, 1);
    ssp_mpw_cstr(&w, "alias");
    ssp_mpw_cstr(&w, "peerkit pending");
    ssp_mpw_map(&w, 1);
    ssp_mpw_cstr(&w, "alias");
    ssp_mpw_array(&w, n);
    for (unsigned i = 0; i < n; i++) {
        ssp_mpw_array(&w, 4);
        ssp_mpw_uint(&w, ++*next);
        ssp_mpw_bin(&w, origin, SSP_PK_LEN);
        ssp_mpw_uint(&w, 1);
        ssp_mpw_uint(&w, 0);
    }
    check(w.err, "op body");
}

/* The longest a text field may be (LONG in node/domain/schema.c). */
#define LONG_TEXT 16384

/*
 * Adds to b, after the op that creates or first updates k->rec, the ops
 * that spoil the commit as asked, all on k->rec. fields is scratch.
 */
static void
add_spoilers(struct kit *k, struct ssp_commit_builder *b, enum craft how, struct ssp_buf *fields)
{
    static char text[LONG_TEXT + 1];
    static uint64_t made_up; /* the versions CRAFT_PENDING named so far */
    switch (how) {
    case CRAFT_POISON:
        /* Valid as a group on its own: only merging it into the person can fail. */
        one_field(fields, "name", "peerkit poison");
        add_op(b, k->rec, SSP_ACT_CREATE, "group", fields);
        break;
    case CRAFT_BLOAT:
        made_up_fields(fields);
        for (int i = 0; i < BLOAT_OPS; i++)
            add_op(b, k->rec, SSP_ACT_UPDATE, "person", fields);
        break;
    case CRAFT_CONFLICTS:
        /* The biggest of these bodies first, so that every op counted as fitting does fit. */
        person_fields(fields, 1000000);
        for (unsigned i = 0; ssp_commit_has_room(b, fields->n + 64); i++) {
            person_fields(fields, i);
            add_op(b, k->rec, SSP_ACT_UPDATE, "person", fields);
        }
        break;
    case CRAFT_FATTEN:
        memset(text, 'x', LONG_TEXT);
        for (unsigned i = 0;; i++) {
            snprintf(text, 16, "%-15u", i);
            text[15] = 'x';
            one_field(fields, "description", text);
            if (!ssp_commit_has_room(b, fields->n + 64))
                break;
            add_op(b, k->rec, SSP_ACT_UPDATE, "concern", fields);
        }
        break;
    case CRAFT_PENDING:
        for (;;) {
            pending_body(fields, &made_up, (SSP_OP_MAX_BODY - SSP_SEAL_OVERHEAD - 256) / 45);
            if (!ssp_commit_has_room(b, fields->n))
                break;
            check(ssp_commit_add(b, k->rec, SSP_BUF_SLICE(fields)), "op");
        }
        break;
    default:
        break;
    }
}

/*
 * Builds into out the commit that follows our own stream in scope (as the
 * store has it, or as the last crafted commit left it), as ssp's write path
 * would: one op, a new person record (k->rec), then spoils it as asked. A
 * scope we hold no key for gets a random key of epoch 1, and so does
 * `epoch`, with epoch ODD_EPOCH. CRAFT_FATTEN and CRAFT_PENDING create the
 * record only in the first commit, and then only update it.
 */
static void
craft(struct kit *k, const char *scope_name, enum craft how, struct ssp_buf *out)
{
    struct ssp_slice scope = scope_arg(scope_name);
    struct ssp_commit_hdr h;
    struct ssp_stream_pos *pos = &k->pos;
    struct ssp_scope_key spare = {"", 1, {0}};
    struct ssp_commit_builder b;
    struct ssp_buf fields;
    struct ssp_txn *t;
    struct ssp_slice v;
    uint8_t key[SSP_KEY_MAX];
    uint8_t other_pk[SSP_PK_LEN], other_sk[SSP_SK_LEN];
    char idtext[SSP_RECORD_ID_TEXT + 1];
    static const char *const alias[] = {"peerkit write",  "peerkit forge",     "peerkit chain",
                                        "peerkit epoch",  "peerkit schema",    "peerkit poison",
                                        "peerkit bloat",  "peerkit conflicts", "peerkit fatten",
                                        "peerkit pending"};

    need_node(k, "a crafted commit");
    if (!k->have_pos) {
        *pos = (struct ssp_stream_pos){1, 0, {0}};
        check(ssp_store_read(k->n->store, &t), "store");
        if (ssp_txn_get(t, SSP_DB_STREAMS, SSP_SLICE(key, ssp_key_stream(key, scope, k->pk)), &v) ==
                SSP_OK &&
            !ssp_stream_pos_decode(v, pos))
            die("the store holds a malformed stream entry");
        ssp_txn_abort(t);
        k->have_pos = true;
    }

    memset(&h, 0, sizeof h);
    memcpy(h.scope, scope.p, scope.n);
    memcpy(h.origin, k->pk, SSP_PK_LEN);
    h.epoch = pos->epoch;
    h.seq = pos->seq + 1;
    memcpy(h.prev, pos->head, SSP_HASH_LEN);
    if (how == CRAFT_CHAIN)
        ssp_random(h.prev, sizeof h.prev);
    h.hlc = ssp_hlc_tick(&k->n->hlc, ssp_wall_ms());
    const struct ssp_scope_key *sk = ssp_keyring_scope(k->n->kr, scope);
    if (sk == NULL || how == CRAFT_EPOCH) {
        spare.epoch = how == CRAFT_EPOCH ? ODD_EPOCH : 1;
        memcpy(spare.scope, scope.p, scope.n);
        ssp_random(spare.key, sizeof spare.key);
        sk = &spare;
    }

    ssp_buf_init(&fields);
    ssp_commit_builder_init(&b);
    ssp_commit_begin(&b, &h, sk);
    if (how == CRAFT_SCHEMA)
        b.hdr.schema = ODD_SCHEMA; /* signed as such: it is in the header */
    bool piles = how == CRAFT_FATTEN || how == CRAFT_PENDING;
    if (!k->have_rec || !piles) {
        /* A record id as ssp makes them: 6 bytes of the clock in ms, 10 random. */
        uint64_t ms = ssp_wall_ms();
        for (int i = 0; i < 6; i++)
            k->rec[i] = (uint8_t)(ms >> (8 * (5 - i)));
        ssp_random(k->rec + 6, SSP_RECORD_ID_LEN - 6);
        k->have_rec = true;
        if (how == CRAFT_FATTEN)
            concern_fields(&fields, alias[how]);
        else
            one_field(&fields, "alias", alias[how]);
        add_op(&b, k->rec, SSP_ACT_CREATE, how == CRAFT_FATTEN ? "concern" : "person", &fields);
        ssp_record_id_format(k->rec, idtext);
        say("record %s", idtext);
    }
    add_spoilers(k, &b, how, &fields);
    if (how == CRAFT_FORGE)
        ssp_sign_keypair(other_pk, other_sk);
    check(ssp_commit_finish(&b, how == CRAFT_FORGE ? other_sk : k->sk, out, pos->head), "commit");
    pos->seq = h.seq;
    ssp_commit_builder_fini(&b);
    ssp_buf_fini(&fields);
}

/* ---- the commands ---- */

static bool
is(const char *arg, const char *want)
{
    return arg != NULL && strcmp(arg, want) == 0;
}

static bool
cmd_hello(struct kit *k, const char *arg)
{
    (void)arg;
    return session(k);
}

static bool
send_crafted(struct kit *k, const char *scope, enum craft how)
{
    struct ssp_buf c;
    ssp_buf_init(&c);
    craft(k, scope, how, &c);
    struct ssp_slice one = SSP_BUF_SLICE(&c);
    bool ok = session(k) && send_commits(k, &one, 1) && converse(k, k->frame_out);
    ssp_buf_fini(&c);
    return ok;
}

static bool
cmd_write(struct kit *k, const char *arg)
{
    return send_crafted(k, arg, CRAFT_GOOD);
}

static bool
cmd_forge(struct kit *k, const char *arg)
{
    return send_crafted(k, arg, CRAFT_FORGE);
}

static bool
cmd_chain(struct kit *k, const char *arg)
{
    return send_crafted(k, arg, CRAFT_CHAIN);
}

static bool
cmd_epoch(struct kit *k, const char *arg)
{
    return send_crafted(k, arg, CRAFT_EPOCH);
}

static bool
cmd_schema(struct kit *k, const char *arg)
{
    return send_crafted(k, arg, CRAFT_SCHEMA);
}

static bool
cmd_poison(struct kit *k, const char *arg)
{
    return send_crafted(k, arg, CRAFT_POISON);
}

static bool
cmd_bloat(struct kit *k, const char *arg)
{
    return send_crafted(k, arg, CRAFT_BLOAT);
}

/* The most commits a pile sends: 64 MiB, if the peer never refuses one. */
#define PILE_MAX 64

/*
 * Commits that each pile more onto one record (k->rec, made by the first),
 * one per frame, until the peer refuses one.
 */
static bool
send_pile(struct kit *k, const char *scope, enum craft how)
{
    struct ssp_buf c;
    bool ok = session(k);
    uint32_t refused = k->notices;
    int i;
    ssp_buf_init(&c);
    for (i = 0; ok && i < PILE_MAX && k->notices == refused; i++) {
        c.n = 0;
        craft(k, scope, how, &c);
        struct ssp_slice one = SSP_BUF_SLICE(&c);
        ok = send_commits(k, &one, 1) && converse(k, k->frame_out);
    }
    ssp_buf_fini(&c);
    if (ok)
        say("sent %d commits, %u refused", i, k->notices - refused);
    return ok;
}

static bool
cmd_conflicts(struct kit *k, const char *arg)
{
    return send_crafted(k, arg, CRAFT_CONFLICTS);
}

static bool
cmd_fatten(struct kit *k, const char *arg)
{
    return send_pile(k, arg, CRAFT_FATTEN);
}

static bool
cmd_pending(struct kit *k, const char *arg)
{
    return send_pile(k, arg, CRAFT_PENDING);
}

/* Frames of SSP_SYNC_MAX_COMMITS one-byte "commits" each (arg: how many, 8): all refused. */
static bool
cmd_junk(struct kit *k, const char *arg)
{
    static const uint8_t nil = 0xc0;
    static struct ssp_slice list[SSP_SYNC_MAX_COMMITS];
    long frames = arg != NULL ? atol(arg) : 8;
    if (frames < 1 || frames > 1000)
        die("junk takes a number of frames, 1 to 1000");
    for (size_t i = 0; i < SSP_SYNC_MAX_COMMITS; i++)
        list[i] = SSP_SLICE(&nil, 1);
    if (!session(k))
        return false;
    for (long f = 0; f < frames; f++) {
        k->msg.n = 0;
        check(ssp_sync_encode_commits(&k->msg, ++k->frame_out, list, SSP_SYNC_MAX_COMMITS),
              "commits");
        check(ssp_chan_send(k->ch, SSP_BUF_SLICE(&k->msg), &k->out), "channel");
    }
    say("sent %ld frames of %u one-byte commits, %zu bytes", frames, SSP_SYNC_MAX_COMMITS,
        k->out.n);
    if (!flush_out(k))
        return ended(GOT_CLOSED);
    return converse(k, UNTIL_END);
}

/* How long a write waits before markflood calls the peer stalled, and holds on then. */
#define STALL_S 2

/*
 * Our HELLO and the peer's commits up to its DONE, then N MARKs (arg,
 * 1000000), never reading the DONE each one asks for. A peer that keeps reading has to queue those
 * answers without end; one that stops reading us leaves our writes waiting, and we say so. The
 * connection is held STALL_S seconds more, then closed.
 */
static bool
cmd_markflood(struct kit *k, const char *arg)
{
    long n = arg != NULL ? atol(arg) : 1000000, i;
    size_t sent = 0;
    enum put p = PUT_DONE;
    if (n < 1)
        die("markflood takes a number of MARKs");
    /* In sync first: a peer still sending us commits answers no MARK until we ack them. */
    if (!session(k) || !converse(k, UNTIL_DONE))
        return false;
    set_timeout(k->fd, STALL_S);
    for (i = 0; i < n && p == PUT_DONE; i++) {
        k->msg.n = 0;
        check(ssp_sync_encode_mark(&k->msg, 0), "mark");
        check(ssp_chan_send(k->ch, SSP_BUF_SLICE(&k->msg), &k->out), "channel");
        if (k->out.n >= (64u << 10) || i == n - 1) {
            size_t before = k->out.n;
            p = put_out(k);
            sent += before - k->out.n;
        }
    }
    if (p == PUT_CLOSED)
        return ended(GOT_CLOSED);
    if (p == PUT_STALLED)
        say("stalled after %ld marks, %zu bytes: the peer stopped reading", i, sent);
    else
        say("sent %ld marks, %zu bytes", n, sent);
    sleep(STALL_S);
    return true;
}

/*
 * Where sspd's session index (node/sync/session.c) puts stream (scope,
 * origin) among 2^SLOT_BITS slots: FNV-1a over the scope and the origin's
 * first 8 bytes. 57,500 streams make it 2^17 slots.
 */
#define SLOT_BITS 17

static uint64_t
fnv(uint64_t h, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ULL;
    return h;
}

#define FNV_BASIS 1469598103934665603ULL
#define SLOT_MASK ((1u << SLOT_BITS) - 1)

/*
 * Names n scopes s000-0, s001-1, ... or, to collide, scopes sNNN-T that each
 * put a stream of origin into the same slot as "a" does: each takes about
 * 2^17 tries of T.
 */
static void
scope_names(char (*names)[16], int n, const uint8_t *origin, bool collide)
{
    uint64_t want = fnv(fnv(FNV_BASIS, (const uint8_t *)"a", 1), origin, 8) & SLOT_MASK;
    unsigned long long tries = 0;
    for (int i = 0; i < n; i++) {
        char prefix[8], digits[24];
        int plen = snprintf(prefix, sizeof prefix, "s%03d-", i);
        uint64_t h, base = fnv(FNV_BASIS, (const uint8_t *)prefix, (size_t)plen);
        do {
            /* The digits of ++tries backwards (snprintf here took seconds). */
            size_t dlen = 0;
            for (unsigned long long t = ++tries; t > 0; t /= 10)
                digits[dlen++] = (char)('0' + t % 10);
            h = fnv(fnv(base, (const uint8_t *)digits, dlen), origin, 8);
        } while (collide && (h & SLOT_MASK) != want);
        size_t dlen = 0;
        for (unsigned long long t = tries; t > 0; t /= 10)
            digits[dlen++] = (char)('0' + t % 10);
        snprintf(names[i], 16, "%s%.*s", prefix, (int)dlen, digits);
    }
}

/*
 * A HELLO whose frontier names as many streams as a message holds: 250
 * scopes of the same 230 origins each. With `collide`, the origins share
 * their first 8 bytes and the scopes are chosen so that every stream lands
 * in one slot of an index that hashes only those (a hash an attacker can
 * compute). Then a MARK, and the time until the peer's DONE: how long the
 * HELLO held it up.
 */
static bool
cmd_bighello(struct kit *k, const char *arg)
{
    enum { NS = 250, NO = 230 };
    static char names[NS][16];
    static uint8_t origins[NO][SSP_PK_LEN];
    static struct ssp_frontier_entry e[NS * NO];
    bool collide = is(arg, "collide");
    size_t n = 0;
    if (arg != NULL && !collide)
        die("bighello takes nothing or collide");
    for (int j = 0; j < NO; j++) {
        ssp_random(origins[j], SSP_PK_LEN);
        if (collide)
            memcpy(origins[j], origins[0], 8);
    }
    scope_names(names, NS, origins[0], collide);
    for (int i = 0; i < NS; i++)
        for (int j = 0; j < NO; j++)
            e[n++] = (struct ssp_frontier_entry){
                SSP_SLICE(names[i], strlen(names[i])), origins[j], 1, 1, {0}};
    if (!handshake(k, k->pk))
        return false;
    k->msg.n = 0;
    check(ssp_sync_encode_hello(&k->msg, k->pk, SSP_SCHEMA_VERSION, ssp_wall_ms(), e, n), "hello");
    uint64_t start = ssp_wall_ms();
    say("sent a hello of %zu streams, %zu bytes", n, k->msg.n);
    if (!send_msg(k) || !converse(k, UNTIL_HELLO))
        return false;
    k->msg.n = 0;
    check(ssp_sync_encode_mark(&k->msg, 0), "mark");
    set_timeout(k->fd, 60); /* to measure a stall longer than WAIT_S */
    if (!send_msg(k) || !converse(k, UNTIL_DONE))
        return false;
    say("done after %llu ms", (unsigned long long)(ssp_wall_ms() - start));
    return true;
}

static bool
cmd_replay(struct kit *k, const char *arg)
{
    struct ssp_slice scope = scope_arg(arg), list[MAX_REPLAY], key, val;
    uint8_t prefix[SSP_KEY_MAX], start[SSP_KEY_MAX];
    struct ssp_txn *t;
    struct ssp_cursor *cur;
    size_t n = 0, plen = ssp_key_stream(prefix, scope, k->pk);
    need_node(k, "replay");
    if (!session(k))
        return false;
    /* The list borrows from the read transaction until the message is encoded. */
    check(ssp_store_read(k->n->store, &t), "store");
    check(ssp_cursor_open(t, SSP_DB_LOG, &cur), "store");
    ssp_err rc =
        ssp_cursor_seek(cur, SSP_SLICE(start, ssp_key_log(start, scope, k->pk, 1)), &key, &val);
    for (; rc == SSP_OK && n < MAX_REPLAY; rc = ssp_cursor_next(cur, &key, &val)) {
        if (key.n != plen + 8 || memcmp(key.p, prefix, plen) != 0)
            break;
        list[n++] = val;
    }
    if (n == 0)
        die("this node has no commits of its own in scope '%s'", arg);
    k->msg.n = 0;
    check(ssp_sync_encode_commits(&k->msg, ++k->frame_out, list, n), "commits");
    ssp_cursor_close(cur);
    ssp_txn_abort(t);
    say("sent %zu commits in frame %u, again", n, k->frame_out);
    return send_msg(k) && converse(k, k->frame_out);
}

static bool
cmd_oversize(struct kit *k, const char *arg)
{
    uint8_t hdr[SSP_FRAME_HDR];
    if (!is(arg, "hs") && !is(arg, "open"))
        die("oversize takes hs or open");
    bool hs = is(arg, "hs");
    if (!hs && !session(k))
        return false;
    uint32_t announced = (uint32_t)(hs ? SSP_HS_MAX_FRAME : SSP_CHAN_MAX_FRAME) + 1;
    ssp_put_be32(hdr, announced);
    say("sent a frame header announcing %u bytes", announced);
    if (!write_raw(k, hdr, sizeof hdr))
        return ended(GOT_CLOSED);
    return hs ? expect_silence(k) : converse(k, UNTIL_END);
}

static bool
cmd_garbage(struct kit *k, const char *arg)
{
    uint8_t junk[100];
    if (!is(arg, "hs") && !is(arg, "frame") && !is(arg, "msg"))
        die("garbage takes hs, frame or msg");
    ssp_random(junk, sizeof junk);
    if (is(arg, "hs")) {
        check(ssp_frame_encode(&k->out, SSP_SLICE(junk, sizeof junk)), "frame");
        say("sent %zu random bytes as the first handshake message", sizeof junk);
        return flush_out(k) ? expect_silence(k) : ended(GOT_CLOSED);
    }
    if (!session(k))
        return false;
    if (is(arg, "frame")) {
        check(ssp_frame_encode(&k->out, SSP_SLICE(junk, sizeof junk)), "frame");
        say("sent %zu random bytes as a frame of the channel", sizeof junk);
        if (!flush_out(k))
            return ended(GOT_CLOSED);
    } else {
        k->msg.n = 0;
        check(ssp_buf_append(&k->msg, junk, sizeof junk), "buffer");
        say("sent %zu random bytes sealed as a sync message", sizeof junk);
        if (!send_msg(k))
            return false;
    }
    return converse(k, UNTIL_END);
}

static bool
cmd_claim(struct kit *k, const char *arg)
{
    uint8_t claimed[SSP_PK_LEN];
    if (arg == NULL)
        die("claim takes a node id");
    parse_id(arg, claimed);
    say("claiming to be %s", short_id(claimed));
    if (!handshake(k, claimed))
        return false;
    k->msg.n = 0;
    check(ssp_sync_encode_hello(&k->msg, claimed, SSP_SCHEMA_VERSION, ssp_wall_ms(), NULL, 0),
          "hello");
    return send_msg(k) && converse(k, UNTIL_HELLO);
}

static ssp_err
allow_any(void *arg, const uint8_t peer[SSP_PK_LEN])
{
    (void)arg;
    (void)peer;
    return SSP_OK;
}

/* The handshake as a server (k->fd is the accepted connection); then it listens. */
static bool
cmd_serve(struct kit *k, const char *arg)
{
    bool got;
    (void)arg;
    check(ssp_chan_new(false, k->network, k->pk, k->sk, NULL, allow_any, NULL, &k->ch), "channel");
    check(ssp_chan_start(k->ch, &k->out), "channel");
    for (;;) {
        struct ssp_diag d = {{0}};
        enum got g = read_frame(k);
        if (g != GOT_FRAME)
            return ended(g);
        bool was_ready = ssp_chan_ready(k->ch);
        if (ssp_chan_input(k->ch, SSP_BUF_SLICE(&k->frame), &k->out, &k->msg, &got, &d) != SSP_OK) {
            say("handshake failed here: %s", d.msg);
            return false;
        }
        if (k->out.n > 0)
            say("answered as %s", short_id(k->pk));
        if (!flush_out(k))
            return ended(GOT_CLOSED);
        if (!was_ready && ssp_chan_ready(k->ch))
            say("handshake completed with %s", short_id(ssp_chan_peer(k->ch)));
    }
}

struct command {
    const char *name;
    bool (*run)(struct kit *k, const char *arg);
    bool listens; /* ADDR is ours to listen at, not the peer's */
};

static const struct command commands[] = {
    {"hello", cmd_hello, false},       {"write", cmd_write, false},
    {"forge", cmd_forge, false},       {"chain", cmd_chain, false},
    {"epoch", cmd_epoch, false},       {"schema", cmd_schema, false},
    {"replay", cmd_replay, false},     {"oversize", cmd_oversize, false},
    {"garbage", cmd_garbage, false},   {"claim", cmd_claim, false},
    {"serve", cmd_serve, true},        {"poison", cmd_poison, false},
    {"bloat", cmd_bloat, false},       {"conflicts", cmd_conflicts, false},
    {"junk", cmd_junk, false},         {"markflood", cmd_markflood, false},
    {"bighello", cmd_bighello, false}, {"fatten", cmd_fatten, false},
    {"pending", cmd_pending, false},
};

int
main(int argc, char **argv)
{
    struct kit k = {.fd = -1};
    struct ssp_diag d = {{0}};
    const char *dir = NULL;
    int i = 1;
    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(usage, stdout);
        return 0;
    }
    if (argc > 2 && strcmp(argv[1], "--dir") == 0) {
        dir = argv[2];
        i = 3;
    }
    if (argc - i < 3) {
        fputs(usage, stderr);
        return 2;
    }
    const char *name = argv[i], *addr = argv[i + 1], *arg = argc - i > 3 ? argv[i + 3] : NULL;
    const struct command *cmd = NULL;
    for (size_t c = 0; c < sizeof commands / sizeof commands[0]; c++)
        if (strcmp(commands[c].name, name) == 0)
            cmd = &commands[c];
    if (cmd == NULL)
        die("unknown command '%s'; see peerkit --help", name);
    parse_id(argv[i + 2], k.peer);
    check(ssp_crypto_init(), "libsodium");
    signal(SIGPIPE, SIG_IGN);

    if (dir != NULL) {
        const char *pass = getenv("SSP_PASSPHRASE");
        if (pass == NULL)
            die("set SSP_PASSPHRASE to open %s", dir);
        if (ssp_node_open(dir, pass, strlen(pass), 0, &k.n, &d) != SSP_OK)
            die("cannot open %s: %s", dir, d.msg);
        memcpy(k.pk, k.n->kr->pk, SSP_PK_LEN);
        memcpy(k.sk, k.n->kr->sk, SSP_SK_LEN);
    } else {
        ssp_sign_keypair(k.pk, k.sk);
    }
    /* A node that is not enrolled knows its network only as the central it dials. */
    memcpy(k.network, k.n != NULL && k.n->has_network ? k.n->network : k.peer, SSP_PK_LEN);
    char me[SSP_NODE_ID_TEXT + 1];
    ssp_node_id_format(k.pk, me);
    say("as %s", me);

    ssp_buf_init(&k.in);
    ssp_buf_init(&k.frame);
    ssp_buf_init(&k.out);
    ssp_buf_init(&k.msg);
    if (cmd->listens)
        accept_one(&k, addr);
    else
        dial(&k, addr);
    (void)cmd->run(&k, arg);
    close(k.fd);
    ssp_chan_free(k.ch);
    ssp_wipe(k.sk, sizeof k.sk);
    ssp_buf_fini(&k.in);
    ssp_buf_fini(&k.frame);
    ssp_buf_fini(&k.out);
    ssp_buf_fini(&k.msg);
    ssp_node_close(k.n);
    return 0;
}
