#include "node/net/peer.h"

#include <stdio.h>
#include <string.h>

#include "node/say.h"
#include "node/sync/channel.h"
#include "proto/frame.h"

#define READ_CHUNK (256u << 10)
#define HANDSHAKE_MS 10000u
/*
 * The silence watchdog: a session that hears nothing for [net] silence seconds probes the peer (a
 * MARK, which it must answer); one that hears nothing for as long again
 * while it waits for an answer gives up: the link is dead (cut without a
 * reset, a NAT that forgot it) and a new connection resumes where the
 * durable frontier stands. Paced frames (node/sync/pace.h) keep a live slow
 * link well inside it.
 */
#define RETRY_MIN_MS 1000u
#define RETRY_MAX_MS 60000u
/*
 * Memory held by writes to a peer not yet done beyond which we stop reading
 * it. Counted with each write's request and buffer, not its bytes alone: a
 * flood of MARKs is answered by DONEs of 27 bytes, each in a write holding
 * some 300, and 8 MiB of those bytes took 160 MiB.
 */
#define WRITE_QUEUE_MAX ((size_t)8 << 20)

struct conn;

/* One `ssp sync` request waiting on one peer. */
struct waiter {
    struct sync_req *req;
    size_t idx;
    struct ssp_session_stats base;
    uint64_t wire_out, wire_in, start_ms;
};

struct peer {
    struct peer *next;
    struct ssp_net *net;
    uint8_t id[SSP_PK_LEN];
    char who[SSP_NODE_ID_SHORT + 1];
    char addr[SSP_ADDR_MAX + 1]; /* "" when we do not dial it */
    bool removed;
    bool closed, timer_closed; /* the net is closing; the retry timer is closed */
    struct conn *conn;         /* the connection whose session is live, or the one dialling */
    uv_timer_t retry;
    uv_getaddrinfo_t resolve;
    bool resolving;
    uint32_t failures;
    uint64_t retry_at;
    struct waiter *waiters;
    size_t nwaiters, cap_waiters;
};

struct conn {
    struct conn *next;
    struct ssp_net *net;
    struct peer *peer; /* inbound: set once the handshake names it */
    bool outbound, closing;
    int open_handles;
    uv_tcp_t tcp;
    uv_connect_t connect;
    uv_timer_t timer; /* handshake deadline, then the silence watchdog */
    struct ssp_chan *chan;
    struct ssp_session *sess;
    struct ssp_buf in, out, msg;
    uint64_t wire_in, wire_out;
    bool noted_synced; /* the peers table has what the peer held when last in sync */
    bool throttled;    /* not reading: too much is waiting to be written to the peer */
    size_t queued;     /* memory held by writes not yet done (WRITE_QUEUE_MAX) */
};

struct sync_req {
    struct ssp_net *net;
    ssp_sync_done_fn done;
    void *arg;
    struct ssp_sync_report *reports;
    size_t n, pending;
    uv_timer_t timer;
    struct sync_req *next;
};

struct ssp_net {
    uv_loop_t *loop;
    struct ssp_node *n;
    uv_tcp_t listener;
    uv_check_t flush; /* applies what sessions queued, once per loop iteration */
    int open_handles; /* listener and flush: the net is freed when both are closed */
    bool listening, closing;
    struct peer *peers;
    struct conn *conns;
    struct sync_req *reqs;
};

struct wreq {
    uv_write_t req;
    struct ssp_buf buf;
    struct conn *c; /* lives until this callback: libuv calls it before the close callback */
    size_t held;    /* counted in c->queued */
};

static void conn_fail(struct conn *c, ssp_err rc, const char *msg);
static void dial(struct peer *p);
static void check_waiters(struct peer *p);

/* ---- writing ---- */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf);
static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);

static void
written(uv_write_t *req, int status)
{
    struct wreq *w = req->data;
    struct conn *c = w->c;
    (void)status; /* a failed write shows up as a read error too */
    c->queued -= w->held;
    ssp_buf_fini(&w->buf);
    ssp_free(w);
    /* Read again once the peer has taken most of what waited for it. */
    if (c->throttled && !c->closing && c->queued < WRITE_QUEUE_MAX / 2) {
        c->throttled = false;
        if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) != 0)
            conn_fail(c, SSP_ERR_IO, "cannot read from the peer");
    }
}

/* Queues c->out on the socket (taking its bytes) unless it is empty. */
static ssp_err
flush(struct conn *c)
{
    if (c->out.n == 0 || c->closing)
        return SSP_OK;
    struct wreq *w = ssp_calloc(1, sizeof *w);
    if (w == NULL)
        return SSP_ERR_NOMEM;
    w->buf = c->out;
    ssp_buf_init(&c->out);
    w->req.data = w;
    w->c = c;
    w->held = sizeof *w + w->buf.cap;
    c->wire_out += w->buf.n;
    uv_buf_t b = uv_buf_init((char *)w->buf.p, (unsigned)w->buf.n);
    if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, written) != 0) {
        ssp_buf_fini(&w->buf);
        ssp_free(w);
        return SSP_ERR_IO;
    }
    c->queued += w->held;
    /*
     * A peer that sends but does not read (acks, DONEs for MARKs) would make
     * us queue without end: stop reading it until it has caught up.
     */
    if (!c->throttled && c->queued > WRITE_QUEUE_MAX) {
        c->throttled = true;
        uv_read_stop((uv_stream_t *)&c->tcp);
    }
    return SSP_OK;
}

static ssp_err
session_send(void *arg, struct ssp_slice msg)
{
    struct conn *c = arg;
    ssp_err rc = ssp_chan_send(c->chan, msg, &c->out);
    return rc == SSP_OK ? flush(c) : rc;
}

/* ---- closing ---- */

static void
handle_closed(uv_handle_t *h)
{
    struct conn *c = h->data;
    if (--c->open_handles > 0)
        return;
    ssp_chan_free(c->chan);
    ssp_session_free(c->sess);
    ssp_buf_fini(&c->in);
    ssp_buf_fini(&c->out);
    ssp_buf_fini(&c->msg);
    ssp_free(c);
}

static void
unlink_conn(struct conn *c)
{
    for (struct conn **pp = &c->net->conns; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == c) {
            *pp = c->next;
            return;
        }
    }
}

static void
retry_fire(uv_timer_t *t)
{
    dial(t->data);
}

static uint64_t
backoff_ms(uint32_t failures)
{
    uint64_t ms = RETRY_MIN_MS << (failures > 6 ? 6 : failures);
    if (ms > RETRY_MAX_MS)
        ms = RETRY_MAX_MS;
    uint32_t r;
    ssp_random_public(&r, sizeof r);
    return ms * 3 / 4 + (uint64_t)r % (ms / 2 + 1);
}

static void
retry_later(struct peer *p)
{
    if (p->addr[0] == '\0' || p->removed || p->net->closing)
        return;
    uint64_t ms = backoff_ms(p->failures++);
    p->retry_at = uv_now(p->net->loop) + ms;
    uv_timer_start(&p->retry, retry_fire, ms, 0);
}

static void complete(struct peer *p, size_t i, ssp_err rc, const char *msg);

static void
conn_close(struct conn *c)
{
    if (c->closing)
        return;
    c->closing = true;
    unlink_conn(c);
    struct peer *p = c->peer;
    if (p != NULL && p->conn == c) {
        p->conn = NULL;
        while (p->nwaiters > 0)
            complete(p, p->nwaiters - 1, SSP_ERR_IO, "the connection closed before it synced");
        retry_later(p);
    }
    uv_close((uv_handle_t *)&c->tcp, handle_closed);
    uv_close((uv_handle_t *)&c->timer, handle_closed);
}

struct peer_note {
    const uint8_t *id;
    const char *error;
    struct ssp_slice known; /* what the peer holds, as a HELLO from it */
    int64_t skew_ms;
    bool contact;
};

static ssp_err
write_note(struct ssp_txn *t, void *vctx, struct ssp_diag *d)
{
    struct peer_note *pn = vctx;
    struct ssp_peer p;
    (void)d;
    ssp_err rc = ssp_peer_get(t, pn->id, &p);
    if (rc == SSP_ERR_NOTFOUND) {
        memset(&p, 0, sizeof p);
        memcpy(p.id, pn->id, SSP_PK_LEN);
        rc = SSP_OK;
    }
    if (rc != SSP_OK)
        return rc;
    if (pn->contact) {
        p.last_contact_ms = ssp_wall_ms();
        p.skew_ms = pn->skew_ms;
        p.hello = pn->known;
        p.last_error[0] = '\0';
    }
    if (pn->error != NULL)
        snprintf(p.last_error, sizeof p.last_error, "%s", pn->error);
    return ssp_peer_put(t, &p);
}

/*
 * Keeps what status shows of a peer across restarts: the error, or (s) that
 * we were in contact and what it holds as far as we know.
 */
static void
note_peer(struct ssp_net *net, const uint8_t *id, const char *error, const struct ssp_session *s)
{
    struct peer_note pn = {id, error, SSP_SLICE(NULL, 0), 0, false};
    struct ssp_diag d = {{0}};
    struct ssp_buf known;
    ssp_buf_init(&known);
    if (s != NULL && ssp_session_known(s, &known) == SSP_OK) {
        pn.contact = true;
        pn.known = SSP_BUF_SLICE(&known);
        pn.skew_ms = ssp_session_stats(s)->skew_ms;
    }
    if (ssp_store_write(net->n->store, write_note, &pn, &d) != SSP_OK)
        ssp_say(SSP_WARN, "cannot record the state of a peer: %s", d.msg);
    ssp_buf_fini(&known);
}

static void
conn_fail(struct conn *c, ssp_err rc, const char *msg)
{
    if (c->closing)
        return;
    char who[SSP_NODE_ID_SHORT + 1] = "?";
    if (c->peer != NULL)
        memcpy(who, c->peer->who, sizeof who);
    bool theirs =
        rc == SSP_ERR_PROTO || rc == SSP_ERR_AUTH || rc == SSP_ERR_VERSION || rc == SSP_ERR_DENIED;
    /* The channel's and session's sentences name the peer already. */
    bool named = strncmp(msg, "peer ", 5) == 0 || strncmp(msg, "unidentified peer", 17) == 0;
    if (named)
        ssp_say(theirs ? SSP_WARN : SSP_INFO, "connection %s: %s", theirs ? "refused" : "ended",
                msg);
    else
        ssp_say(theirs ? SSP_WARN : SSP_INFO, "peer %s: connection %s: %s", who,
                theirs ? "refused" : "ended", msg);
    if (c->peer != NULL && !c->peer->removed && !c->net->closing)
        note_peer(c->net, c->peer->id, msg, c->sess);
    if (c->peer != NULL && c->peer->conn == c) {
        struct peer *p = c->peer;
        while (p->nwaiters > 0)
            complete(p, p->nwaiters - 1, rc, msg);
    }
    conn_close(c);
}

/* ---- sync requests ---- */

static void
req_closed(uv_handle_t *h)
{
    struct sync_req *r = h->data;
    ssp_free(r->reports);
    ssp_free(r);
}

static void
req_finish(struct sync_req *r)
{
    for (struct sync_req **pp = &r->net->reqs; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == r) {
            *pp = r->next;
            break;
        }
    }
    r->done(r->arg, r->reports, r->n);
    uv_timer_stop(&r->timer);
    uv_close((uv_handle_t *)&r->timer, req_closed);
}

/* Ends waiter i of p with rc (SSP_OK: synced), and its request when it was the last. */
static void
complete(struct peer *p, size_t i, ssp_err rc, const char *msg)
{
    struct waiter w = p->waiters[i];
    struct ssp_sync_report *r = &w.req->reports[w.idx];
    p->waiters[i] = p->waiters[--p->nwaiters];
    r->rc = rc;
    if (msg != NULL)
        snprintf(r->error, sizeof r->error, "%s", msg);
    struct conn *c = p->conn;
    if (c != NULL && c->sess != NULL) {
        const struct ssp_session_stats *st = ssp_session_stats(c->sess);
        r->commits_out = st->commits_out - w.base.commits_out;
        r->bytes_out = st->bytes_out - w.base.bytes_out;
        r->commits_in = st->commits_in - w.base.commits_in;
        r->bytes_in = st->bytes_in - w.base.bytes_in;
        r->refused = st->refused - w.base.refused;
        r->wire_out = c->wire_out - w.wire_out;
        r->wire_in = c->wire_in - w.wire_in;
    }
    /* The loop's cached time is that of the iteration's start, and one iteration may
     * apply many frames: read the clock. */
    uv_update_time(p->net->loop);
    r->ms = uv_now(p->net->loop) - w.start_ms;
    if (--w.req->pending == 0)
        req_finish(w.req);
}

static void
check_waiters(struct peer *p)
{
    struct conn *c = p->conn;
    if (c == NULL || c->sess == NULL || !ssp_session_synced(c->sess)) {
        if (c != NULL)
            c->noted_synced = false;
        return;
    }
    if (!c->noted_synced) {
        c->noted_synced = true;
        note_peer(p->net, p->id, NULL, c->sess);
    }
    while (p->nwaiters > 0)
        complete(p, p->nwaiters - 1, SSP_OK, NULL);
}

static void
req_timeout(uv_timer_t *t)
{
    struct sync_req *r = t->data;
    for (struct peer *p = r->net->peers; p != NULL; p = p->next)
        for (size_t i = p->nwaiters; i-- > 0;)
            if (p->waiters[i].req == r)
                complete(p, i, SSP_ERR_AGAIN, "timed out before the peers were in sync");
}

static ssp_err
add_waiter(struct peer *p, struct sync_req *r, size_t idx)
{
    if (p->nwaiters == p->cap_waiters) {
        size_t cap = p->cap_waiters == 0 ? 4 : p->cap_waiters * 2;
        struct waiter *w = ssp_realloc(p->waiters, cap * sizeof *w);
        if (w == NULL)
            return SSP_ERR_NOMEM;
        p->waiters = w;
        p->cap_waiters = cap;
    }
    struct waiter *w = &p->waiters[p->nwaiters++];
    memset(w, 0, sizeof *w);
    w->req = r;
    w->idx = idx;
    uv_update_time(p->net->loop);
    w->start_ms = uv_now(p->net->loop);
    memcpy(r->reports[idx].peer, p->id, SSP_PK_LEN);
    if (p->conn != NULL && p->conn->sess != NULL) {
        w->base = *ssp_session_stats(p->conn->sess);
        w->wire_out = p->conn->wire_out;
        w->wire_in = p->conn->wire_in;
    }
    return SSP_OK;
}

ssp_err
ssp_net_sync(struct ssp_net *net, const uint8_t *peer, uint64_t timeout_ms, ssp_sync_done_fn done,
             void *arg, struct ssp_diag *d)
{
    size_t n = 0;
    for (struct peer *p = net->peers; p != NULL; p = p->next)
        if (!p->removed &&
            (peer != NULL ? memcmp(p->id, peer, SSP_PK_LEN) == 0 : p->addr[0] != '\0'))
            n++;
    if (n == 0)
        return ssp_diag_set(d, SSP_ERR_NOTFOUND,
                            peer != NULL ? "that node is not a peer; add it with 'ssp peer add'"
                                         : "this node has no peers; add one with 'ssp peer add'");
    struct sync_req *r = ssp_calloc(1, sizeof *r);
    if (r == NULL || (r->reports = ssp_calloc(n, sizeof *r->reports)) == NULL) {
        ssp_free(r);
        return ssp_diag_set(d, SSP_ERR_NOMEM, "out of memory");
    }
    r->net = net;
    r->done = done;
    r->arg = arg;
    r->n = n;
    r->pending = n + 1; /* one more while this sets it up, so it cannot finish early */
    uv_timer_init(net->loop, &r->timer);
    r->timer.data = r;
    r->next = net->reqs;
    net->reqs = r;
    size_t i = 0;
    for (struct peer *p = net->peers; p != NULL; p = p->next) {
        if (p->removed ||
            (peer != NULL ? memcmp(p->id, peer, SSP_PK_LEN) != 0 : p->addr[0] == '\0'))
            continue;
        if (add_waiter(p, r, i++) != SSP_OK) {
            r->reports[i - 1].rc = SSP_ERR_NOMEM;
            r->pending--;
            continue;
        }
        struct ssp_diag md = {{0}};
        if (p->conn != NULL && p->conn->sess != NULL &&
            ssp_session_mark(p->conn->sess, &md) != SSP_OK)
            conn_fail(p->conn, SSP_ERR_IO, md.msg);
        if (p->conn == NULL && p->addr[0] != '\0') {
            /* Now, not after the backoff. */
            uv_timer_stop(&p->retry);
            p->failures = 0;
            dial(p);
        } else if (p->conn == NULL) {
            complete(p, p->nwaiters - 1, SSP_ERR_NOTFOUND,
                     "the peer has no address and is not connected");
        }
    }
    /* Some may be in sync already; check after the loop so r stays valid while it runs. */
    uv_timer_start(&r->timer, req_timeout, timeout_ms, 0);
    if (--r->pending == 0) {
        req_finish(r);
        return SSP_OK;
    }
    for (struct peer *p = net->peers; p != NULL; p = p->next)
        check_waiters(p);
    return SSP_OK;
}

/* ---- reading ---- */

static void
on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct conn *c = h->data;
    (void)suggested;
    if (ssp_buf_reserve(&c->in, READ_CHUNK) != SSP_OK) {
        *buf = uv_buf_init(NULL, 0);
        return;
    }
    *buf = uv_buf_init((char *)c->in.p + c->in.n, (unsigned)(c->in.cap - c->in.n));
}

static struct peer *find_peer(struct ssp_net *net, const uint8_t id[SSP_PK_LEN]);
static struct peer *add_peer(struct ssp_net *net, const uint8_t id[SSP_PK_LEN], const char *addr);

/* The silence watchdog (see the top of the file): probe a quiet peer, give up on a dead link. */
static void
silence(uv_timer_t *t)
{
    struct conn *c = t->data;
    struct ssp_diag d = {{0}};
    /* Not reading (our writes are backed up) is not the peer's silence. */
    if (!c->throttled && ssp_session_waiting(c->sess)) {
        char why[96];
        snprintf(why, sizeof why,
                 "no word from the peer for %u s while waiting for it: the link is down",
                 c->net->n->cfg.silence_s);
        conn_fail(c, SSP_ERR_IO, why);
        return;
    }
    if (!c->throttled && ssp_session_mark(c->sess, &d) != SSP_OK) {
        conn_fail(c, SSP_ERR_IO, d.msg);
        return;
    }
}

/* The handshake is done: bind the connection to its peer and start the session. */
static ssp_err
on_ready(struct conn *c, struct ssp_diag *d)
{
    const uint8_t *id = ssp_chan_peer(c->chan);
    struct peer *p = c->outbound ? c->peer : find_peer(c->net, id);
    if (p == NULL && (p = add_peer(c->net, id, "")) == NULL)
        return ssp_diag_set(d, SSP_ERR_NOMEM, "out of memory");
    if (p->removed)
        return ssp_diag_set(d, SSP_ERR_DENIED,
                            "peer %s was removed here; 'ssp peer add' it to sync again", p->who);
    /* Repeating: every read restarts it (uv_timer_again). */
    uint64_t ms = (uint64_t)c->net->n->cfg.silence_s * 1000;
    uv_timer_start(&c->timer, silence, ms, ms);
    if (p->conn != NULL && p->conn != c) {
        /*
         * Dialled the same way again: the old connection is most likely dead
         * without our knowing (a cut link), so the new one wins. Dialled by
         * both: keep the one dialled by the smaller id, on both sides.
         */
        struct conn *other = p->conn;
        bool mine_wins =
            other->outbound == c->outbound
                ? true
                : (memcmp(c->net->n->kr->pk, id, SSP_PK_LEN) < 0 ? c->outbound : !c->outbound);
        if (!mine_wins) {
            c->peer = NULL;
            return ssp_diag_set(d, SSP_ERR_EXISTS, "peer %s is connected already", p->who);
        }
        other->peer = NULL;
        conn_close(other);
    }
    c->peer = p;
    p->conn = c;
    p->failures = 0;
    ssp_err rc = ssp_session_new(c->net->n, id, session_send, c, &c->sess);
    if (rc == SSP_OK)
        rc = ssp_session_start(c->sess, d);
    if (rc == SSP_OK)
        ssp_say(SSP_INFO, "peer %s: connected (%s)", p->who, c->outbound ? "dialled" : "accepted");
    /* Waiters added before the session existed count from its start. */
    return rc;
}

/* Handles one frame's payload. */
static ssp_err
on_frame(struct conn *c, struct ssp_slice payload, struct ssp_diag *d)
{
    bool got = false, was_ready = ssp_chan_ready(c->chan);
    c->msg.n = 0;
    ssp_err rc = ssp_chan_input(c->chan, payload, &c->out, &c->msg, &got, d);
    if (rc == SSP_OK)
        rc = flush(c);
    if (rc == SSP_OK && !was_ready && ssp_chan_ready(c->chan))
        rc = on_ready(c, d);
    if (rc == SSP_OK && got && c->sess != NULL) {
        bool had_hello = ssp_session_stats(c->sess)->hello;
        rc = ssp_session_input(c->sess, SSP_BUF_SLICE(&c->msg), d);
        if (rc == SSP_OK && !had_hello && ssp_session_stats(c->sess)->hello)
            note_peer(c->net, c->peer->id, NULL, c->sess);
    }
    return rc;
}

static void
on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct conn *c = s->data;
    struct ssp_diag d = {{0}};
    (void)buf;
    if (nread < 0) {
        conn_fail(c, SSP_ERR_IO,
                  nread == UV_EOF ? "the peer closed the connection" : uv_strerror((int)nread));
        return;
    }
    c->in.n += (size_t)nread;
    c->wire_in += (uint64_t)nread;
    if (c->sess != NULL)
        uv_timer_again(&c->timer);
    size_t done = 0;
    ssp_err rc = SSP_OK;
    while (!c->closing) {
        struct ssp_slice payload;
        size_t used;
        rc = ssp_frame_decode(SSP_SLICE(c->in.p + done, c->in.n - done),
                              ssp_chan_max_frame(c->chan), &payload, &used);
        if (rc == SSP_ERR_AGAIN) {
            rc = SSP_OK;
            break;
        }
        if (rc != SSP_OK) {
            ssp_diag_set(&d, rc, "a frame is larger than %zu bytes, the bound",
                         ssp_chan_max_frame(c->chan));
            break;
        }
        rc = on_frame(c, payload, &d);
        if (rc != SSP_OK)
            break;
        done += used;
    }
    if (rc != SSP_OK) {
        conn_fail(c, rc, d.msg[0] != '\0' ? d.msg : ssp_strerror(rc));
        return;
    }
    ssp_buf_consume(&c->in, done);
    if (c->peer != NULL)
        check_waiters(c->peer);
}

static void
handshake_timeout(uv_timer_t *t)
{
    conn_fail(t->data, SSP_ERR_AGAIN, "the handshake did not finish in time");
}

/* Whether a node that dials us may talk to us (the channel's allow callback). */
static ssp_err
allow_peer(void *arg, const uint8_t peer[SSP_PK_LEN])
{
    struct ssp_net *net = arg;
    struct ssp_node *n = net->n;
    struct ssp_txn *t;
    struct ssp_roster_entry e;
    if (!n->has_network)
        return SSP_ERR_DENIED;
    if (memcmp(peer, n->network, SSP_PK_LEN) == 0)
        return SSP_OK;
    ssp_err rc = ssp_store_read(n->store, &t);
    if (rc != SSP_OK)
        return rc;
    rc = ssp_roster_get(t, peer, &e);
    ssp_txn_abort(t);
    return rc == SSP_OK ? SSP_OK : SSP_ERR_DENIED;
}

static struct conn *
conn_new(struct ssp_net *net, bool outbound)
{
    struct conn *c = ssp_calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    c->net = net;
    c->outbound = outbound;
    ssp_buf_init(&c->in);
    ssp_buf_init(&c->out);
    ssp_buf_init(&c->msg);
    uv_tcp_init(net->loop, &c->tcp);
    uv_timer_init(net->loop, &c->timer);
    c->tcp.data = c->timer.data = c;
    c->open_handles = 2;
    c->next = net->conns;
    net->conns = c;
    uv_timer_start(&c->timer, handshake_timeout, HANDSHAKE_MS, 0);
    return c;
}

static void
on_connection(uv_stream_t *server, int status)
{
    struct ssp_net *net = server->data;
    struct ssp_node *n = net->n;
    if (status != 0)
        return;
    struct conn *c = conn_new(net, false);
    if (c == NULL)
        return;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
        conn_close(c);
        return;
    }
    /* As for dialled connections: without it the HELLO that follows our stream header
     * waits for the header's delayed ACK (40 ms on Linux). */
    uv_tcp_nodelay(&c->tcp, 1);
    uv_tcp_keepalive(&c->tcp, 1, 60);
    if (!n->has_network) {
        conn_fail(c, SSP_ERR_DENIED, "this node is not enrolled yet and takes no connections");
        return;
    }
    if (ssp_chan_new(false, n->network, n->kr->pk, n->kr->sk, NULL, allow_peer, net, &c->chan) !=
            SSP_OK ||
        ssp_chan_start(c->chan, &c->out) != SSP_OK ||
        uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) != 0)
        conn_fail(c, SSP_ERR_NOMEM, "cannot start the connection");
}

/* ---- dialling ---- */

static void
on_connect(uv_connect_t *req, int status)
{
    struct conn *c = req->data;
    if (c->closing)
        return;
    if (status != 0) {
        conn_fail(c, SSP_ERR_IO, uv_strerror(status));
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    uv_tcp_keepalive(&c->tcp, 1, 60);
    if (ssp_chan_start(c->chan, &c->out) != SSP_OK || flush(c) != SSP_OK ||
        uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) != 0)
        conn_fail(c, SSP_ERR_IO, "cannot start the handshake");
}

static void
on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    struct peer *p = req->data;
    struct ssp_node *n = p->net->n;
    p->resolving = false;
    if (p->closed) {
        uv_freeaddrinfo(res);
        if (p->timer_closed) {
            ssp_free(p->waiters);
            ssp_free(p);
        }
        return;
    }
    if (p->removed || p->conn != NULL) {
        uv_freeaddrinfo(res);
        return;
    }
    if (status != 0 || res == NULL) {
        ssp_say(SSP_INFO, "peer %s: cannot resolve %s: %s", p->who, p->addr, uv_strerror(status));
        note_peer(p->net, p->id, "its address does not resolve", NULL);
        uv_freeaddrinfo(res);
        retry_later(p);
        return;
    }
    struct conn *c = conn_new(p->net, true);
    if (c == NULL) {
        uv_freeaddrinfo(res);
        retry_later(p);
        return;
    }
    c->peer = p;
    p->conn = c;
    c->connect.data = c;
    if (ssp_chan_new(true, ssp_node_network_for(n, p->id), n->kr->pk, n->kr->sk, p->id, NULL, NULL,
                     &c->chan) != SSP_OK ||
        uv_tcp_connect(&c->connect, &c->tcp, res->ai_addr, on_connect) != 0)
        conn_fail(c, SSP_ERR_IO, "cannot connect");
    uv_freeaddrinfo(res);
}

static ssp_err allow_peer(void *arg, const uint8_t peer[SSP_PK_LEN]);

static void
dial(struct peer *p)
{
    char host[SSP_ADDR_MAX + 1], port[8];
    int portnum;
    if (p->conn != NULL || p->resolving || p->removed || p->net->closing || p->addr[0] == '\0')
        return;
    /* Once enrolled, only roster members; before, the central we were pointed at. */
    if (p->net->n->has_network && allow_peer(p->net, p->id) != SSP_OK) {
        note_peer(p->net, p->id, "it is not in the network's roster; not dialled", NULL);
        while (p->nwaiters > 0)
            complete(p, p->nwaiters - 1, SSP_ERR_DENIED, "the peer is not in the roster");
        return;
    }
    if (ssp_addr_split(p->addr, host, &portnum) != SSP_OK)
        return;
    snprintf(port, sizeof port, "%d", portnum);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    p->resolve.data = p;
    p->resolving = true;
    if (uv_getaddrinfo(p->net->loop, &p->resolve, on_resolved, host, port, &hints) != 0) {
        p->resolving = false;
        retry_later(p);
    }
}

/* ---- peers ---- */

static struct peer *
find_peer(struct ssp_net *net, const uint8_t id[SSP_PK_LEN])
{
    for (struct peer *p = net->peers; p != NULL; p = p->next)
        if (memcmp(p->id, id, SSP_PK_LEN) == 0)
            return p;
    return NULL;
}

static struct peer *
add_peer(struct ssp_net *net, const uint8_t id[SSP_PK_LEN], const char *addr)
{
    char text[SSP_NODE_ID_TEXT + 1];
    struct peer *p = ssp_calloc(1, sizeof *p);
    if (p == NULL)
        return NULL;
    p->net = net;
    memcpy(p->id, id, SSP_PK_LEN);
    ssp_node_id_format(id, text);
    memcpy(p->who, text, SSP_NODE_ID_SHORT);
    snprintf(p->addr, sizeof p->addr, "%s", addr);
    uv_timer_init(net->loop, &p->retry);
    p->retry.data = p;
    p->next = net->peers;
    net->peers = p;
    return p;
}

void
ssp_net_reload(struct ssp_net *net)
{
    struct ssp_txn *t;
    struct ssp_peer sp;
    bool started = false;
    for (struct peer *p = net->peers; p != NULL; p = p->next)
        p->removed = true;
    if (ssp_store_read(net->n->store, &t) != SSP_OK)
        return;
    while (ssp_peer_next(t, &started, &sp) == SSP_OK) {
        struct peer *p = find_peer(net, sp.id);
        if (p == NULL && (p = add_peer(net, sp.id, sp.addr)) == NULL)
            break;
        p->removed = false;
        if (strcmp(p->addr, sp.addr) != 0 && p->conn != NULL && p->conn->outbound)
            conn_fail(p->conn, SSP_ERR_AGAIN, "the peer's address changed"); /* redial there */
        snprintf(p->addr, sizeof p->addr, "%s", sp.addr);
    }
    ssp_txn_abort(t);
    for (struct peer *p = net->peers; p != NULL; p = p->next) {
        if (p->removed) {
            uv_timer_stop(&p->retry);
            if (p->conn != NULL)
                conn_fail(p->conn, SSP_ERR_AGAIN, "the peer was removed here");
        } else {
            dial(p);
        }
    }
}

void
ssp_net_restart(struct ssp_net *net, const char *why)
{
    for (struct conn *c = net->conns; c != NULL;) {
        struct conn *next = c->next;
        if (!c->closing)
            conn_fail(c, SSP_ERR_AGAIN, why);
        c = next;
    }
}

void
ssp_net_notify(void *arg)
{
    struct ssp_net *net = arg;
    for (struct conn *c = net->conns; c != NULL;) {
        struct conn *next = c->next;
        struct ssp_diag d = {{0}};
        if (c->sess != NULL && !c->closing && ssp_session_pump(c->sess, &d) != SSP_OK)
            conn_fail(c, SSP_ERR_IO, d.msg);
        else if (c->peer != NULL && !c->closing)
            check_waiters(c->peer);
        c = next;
    }
}

bool
ssp_net_live(struct ssp_net *net, const uint8_t peer[SSP_PK_LEN], struct ssp_peer_live *l)
{
    struct peer *p = find_peer(net, peer);
    memset(l, 0, sizeof *l);
    if (p == NULL || p->removed)
        return false;
    struct conn *c = p->conn;
    if (c != NULL && c->sess != NULL) {
        l->state = "connected";
        l->sess = c->sess;
        l->st = ssp_session_stats(c->sess);
        l->synced = ssp_session_synced(c->sess);
    } else if (c != NULL || p->resolving) {
        l->state = "connecting";
    } else if (uv_is_active((uv_handle_t *)&p->retry)) {
        l->state = "waiting";
        uint64_t now = uv_now(net->loop);
        l->retry_in_ms = p->retry_at > now ? p->retry_at - now : 0;
    } else {
        l->state = "idle";
    }
    return true;
}

/*
 * After each round of reading: the frames read in it are applied together
 * (ssp_session_flush), one transaction and one fdatasync for all of them.
 */
static void
flush_sessions(uv_check_t *h)
{
    struct ssp_net *net = h->data;
    for (struct conn *c = net->conns; c != NULL;) {
        struct conn *next = c->next;
        struct ssp_diag d = {{0}};
        if (c->sess != NULL && !c->closing) {
            ssp_err rc = ssp_session_flush(c->sess, &d);
            if (rc != SSP_OK)
                conn_fail(c, rc, d.msg);
            else if (c->peer != NULL)
                check_waiters(c->peer);
        }
        c = next;
    }
}

ssp_err
ssp_net_start(uv_loop_t *loop, struct ssp_node *n, const char *listen, struct ssp_net **out,
              struct ssp_diag *d)
{
    char host[SSP_ADDR_MAX + 1];
    int port;
    struct sockaddr_storage sa;
    struct ssp_net *net = ssp_calloc(1, sizeof *net);
    if (net == NULL)
        return ssp_diag_set(d, SSP_ERR_NOMEM, "out of memory");
    net->loop = loop;
    net->n = n;
    uv_tcp_init(loop, &net->listener);
    net->listener.data = net;
    uv_check_init(loop, &net->flush);
    net->flush.data = net;
    uv_check_start(&net->flush, flush_sessions);
    if (listen != NULL && listen[0] != '\0') {
        int rc = ssp_addr_split(listen, host, &port) != SSP_OK ? UV_EINVAL : 0;
        if (rc == 0 && uv_ip4_addr(host, port, (struct sockaddr_in *)&sa) != 0)
            rc = uv_ip6_addr(host, port, (struct sockaddr_in6 *)&sa);
        if (rc == 0)
            rc = uv_tcp_bind(&net->listener, (const struct sockaddr *)&sa, 0);
        if (rc == 0)
            rc = uv_listen((uv_stream_t *)&net->listener, 128, on_connection);
        if (rc != 0) {
            uv_close((uv_handle_t *)&net->listener, NULL);
            uv_close((uv_handle_t *)&net->flush, NULL);
            uv_run(loop, UV_RUN_NOWAIT);
            ssp_free(net);
            return ssp_diag_set(d, SSP_ERR_IO,
                                "cannot listen on %s: %s; give another --listen address (an IP "
                                "address and port)",
                                listen, uv_strerror(rc));
        }
        net->listening = true;
        ssp_say(SSP_INFO, "listening for peers on %s", listen);
    }
    n->on_commit = ssp_net_notify;
    n->on_commit_arg = net;
    ssp_net_reload(net);
    *out = net;
    return SSP_OK;
}

static void
net_closed(uv_handle_t *h)
{
    struct ssp_net *net = h->data;
    if (--net->open_handles == 0)
        ssp_free(net);
}

/* A peer's memory goes with its timer, or with its last address lookup if that ends later. */
static void
peer_closed(uv_handle_t *h)
{
    struct peer *p = h->data;
    p->timer_closed = true;
    if (p->resolving)
        return;
    ssp_free(p->waiters);
    ssp_free(p);
}

void
ssp_net_close(struct ssp_net *net)
{
    if (net == NULL)
        return;
    net->closing = true;
    net->n->on_commit = NULL;
    while (net->conns != NULL)
        conn_fail(net->conns, SSP_ERR_AGAIN, "the node is shutting down");
    while (net->reqs != NULL)
        req_timeout(&net->reqs->timer);
    net->open_handles = 2;
    uv_close((uv_handle_t *)&net->listener, net_closed);
    uv_close((uv_handle_t *)&net->flush, net_closed);
    for (struct peer *p = net->peers, *next; p != NULL; p = next) {
        next = p->next;
        p->closed = true;
        if (p->resolving)
            uv_cancel((uv_req_t *)&p->resolve);
        uv_close((uv_handle_t *)&p->retry, peer_closed);
    }
}
