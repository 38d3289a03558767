#include "node/sync/session.h"

#include <stdio.h>
#include <string.h>

#include "node/quarantine.h"
#include "node/recover.h"
#include "node/say.h"
#include "node/store/keys.h"

/* A frame in flight took stream `out` up to `seq`. */
struct sent_mark {
    size_t out;
    uint64_t seq;
};

/* A stream as this session sends it: the peer has (or was sent) everything up to `sent`. */
struct out_stream {
    char scope[SSP_SCOPE_MAX + 1];
    uint8_t origin[SSP_PK_LEN];
    uint64_t sent;
    uint64_t known; /* the peer holds up to here: its HELLO, or frames it acked */
    bool blocked;   /* the peer's history differs from ours: nothing is sent */
    bool noticed;   /* a refusal of the peer's commits in this stream was logged */
    uint64_t lost;  /* the peer's own stream: it was restored and lacks up to here */
};

struct ssp_session {
    struct ssp_node *n;
    enum ssp_session_mode mode;
    uint8_t peer[SSP_PK_LEN];
    char who[SSP_NODE_ID_SHORT + 1];
    ssp_session_send_fn send;
    void *arg;
    struct ssp_session_stats st;
    struct out_stream *out;
    size_t nout, cap_out;
    uint32_t *slots; /* hash index of out: 1 + index, 0 for empty; cap_slots a power of 2 */
    size_t cap_slots;
    uint8_t slot_key[SSP_SHORTHASH_KEY_LEN]; /* random: the peer names the streams */
    /*
     * The commits of the frame being filled (SSP_SYNC_MAX_COMMITS), made at
     * the first pump and kept: a pump for each MARK of a flood allocated
     * and freed a MiB (7 s of the loop for 200,000 MARKs under ASan).
     */
    struct ssp_slice *list;
    uint32_t frame_out, acked; /* frames sent and acknowledged */
    uint32_t frame_in;         /* frames received */
    uint32_t peer_done;        /* the frame of the peer's last DONE, if any */
    bool got_done, sent_done;
    uint64_t inflight_commits[SSP_SESSION_WINDOW], inflight_bytes[SSP_SESSION_WINDOW];
    struct sent_mark *marks[SSP_SESSION_WINDOW]; /* per frame in flight: where each stream got to */
    size_t nmarks[SSP_SESSION_WINDOW], cap_marks[SSP_SESSION_WINDOW];
    uint64_t since_unmap; /* bytes of commits read or applied since the map was last dropped */
    struct ssp_pace pace; /* the link's rates and the size of our frames */
    struct ssp_buf queued[SSP_SESSION_QUEUE]; /* COMMITS received, applied by the next flush */
    uint32_t nqueued;
    struct ssp_buf msg;
    char notice[SSP_SYNC_NOTICE_MAX + 1];
    /* Our own streams in recovery (node/recover.h) that the peer holds. */
    char recover[SSP_ROSTER_MAX_SCOPES][SSP_SCOPE_MAX + 1];
    uint32_t nrecover;
};

static struct ssp_slice
cstr(const char *s)
{
    return SSP_SLICE(s, strlen(s));
}

ssp_err
ssp_session_new(struct ssp_node *n, const uint8_t peer[SSP_PK_LEN], ssp_session_send_fn send,
                void *arg, struct ssp_session **out)
{
    char id[SSP_NODE_ID_TEXT + 1];
    struct ssp_session *s = ssp_calloc(1, sizeof *s);
    if (s == NULL)
        return SSP_ERR_NOMEM;
    s->n = n;
    memcpy(s->peer, peer, SSP_PK_LEN);
    ssp_node_id_format(peer, id);
    memcpy(s->who, id, SSP_NODE_ID_SHORT);
    s->send = send;
    s->arg = arg;
    ssp_random(s->slot_key, sizeof s->slot_key);
    ssp_buf_init(&s->msg);
    for (int i = 0; i < SSP_SESSION_QUEUE; i++)
        ssp_buf_init(&s->queued[i]);
    *out = s;
    return SSP_OK;
}

void
ssp_session_free(struct ssp_session *s)
{
    if (s == NULL)
        return;
    for (int i = 0; i < SSP_SESSION_WINDOW; i++)
        ssp_free(s->marks[i]);
    for (int i = 0; i < SSP_SESSION_QUEUE; i++)
        ssp_buf_fini(&s->queued[i]);
    ssp_free(s->out);
    ssp_free(s->slots);
    ssp_free(s->list);
    ssp_buf_fini(&s->msg);
    ssp_free(s);
}

void
ssp_session_set_mode(struct ssp_session *s, enum ssp_session_mode mode)
{
    s->mode = mode;
}

const struct ssp_session_stats *
ssp_session_stats(const struct ssp_session *s)
{
    return &s->st;
}

const char *
ssp_session_notice(const struct ssp_session *s)
{
    return s->notice;
}

bool
ssp_session_waiting(const struct ssp_session *s)
{
    return !s->st.hello || s->acked < s->frame_out || !s->got_done;
}

bool
ssp_session_synced(const struct ssp_session *s)
{
    return s->st.hello && s->sent_done && s->acked == s->frame_out && s->got_done &&
           s->peer_done == s->frame_in;
}

/*
 * Where (scope, origin) hashes to: a keyed hash of both, whole, because the
 * peer chooses them. With one it could compute (FNV-1a of the scope and 8
 * bytes of the origin), a HELLO of 57,500 streams aimed at one slot held the
 * loop for 11 s.
 */
static size_t
slot_of(const struct ssp_session *s, struct ssp_slice scope, const uint8_t *origin, size_t cap)
{
    uint8_t in[SSP_SCOPE_MAX + SSP_PK_LEN];
    size_t n = scope.n < SSP_SCOPE_MAX ? scope.n : SSP_SCOPE_MAX;
    memcpy(in, scope.p, n);
    memcpy(in + n, origin, SSP_PK_LEN);
    return (size_t)ssp_shorthash(s->slot_key, SSP_SLICE(in, n + SSP_PK_LEN)) & (cap - 1);
}

/* Rebuilds the hash index for cap slots (a power of 2, more than twice nout). */
static ssp_err
reindex(struct ssp_session *s, size_t cap)
{
    uint32_t *slots = ssp_calloc(cap, sizeof *slots);
    if (slots == NULL)
        return SSP_ERR_NOMEM;
    for (size_t i = 0; i < s->nout; i++) {
        size_t at = slot_of(s, cstr(s->out[i].scope), s->out[i].origin, cap);
        while (slots[at] != 0)
            at = (at + 1) & (cap - 1);
        slots[at] = (uint32_t)(i + 1);
    }
    ssp_free(s->slots);
    s->slots = slots;
    s->cap_slots = cap;
    return SSP_OK;
}

/*
 * The stream (scope, origin) of this session, added if add. Found through a
 * hash index: a peer's HELLO may name tens of thousands of streams.
 */
static struct out_stream *
find_out(struct ssp_session *s, struct ssp_slice scope, const uint8_t *origin, bool add)
{
    size_t at = 0;
    if (s->cap_slots > 0) {
        for (at = slot_of(s, scope, origin, s->cap_slots); s->slots[at] != 0;
             at = (at + 1) & (s->cap_slots - 1)) {
            struct out_stream *o = &s->out[s->slots[at] - 1];
            if (ssp_slice_eq_str(scope, o->scope) && memcmp(o->origin, origin, SSP_PK_LEN) == 0)
                return o;
        }
    }
    if (!add || scope.n > SSP_SCOPE_MAX)
        return NULL;
    if (s->nout == s->cap_out) {
        size_t cap = s->cap_out == 0 ? 16 : s->cap_out * 2;
        struct out_stream *p = ssp_realloc(s->out, cap * sizeof *p);
        if (p == NULL)
            return NULL;
        s->out = p;
        s->cap_out = cap;
    }
    struct out_stream *o = &s->out[s->nout++];
    memset(o, 0, sizeof *o);
    memcpy(o->scope, scope.p, scope.n);
    memcpy(o->origin, origin, SSP_PK_LEN);
    if (s->nout * 2 > s->cap_slots) {
        if (reindex(s, s->cap_slots == 0 ? 64 : s->cap_slots * 2) != SSP_OK) {
            s->nout--;
            return NULL;
        }
    } else {
        s->slots[at] = (uint32_t)s->nout;
    }
    return o;
}

/* Whether the peer may see scope, by the roster as this node knows it. */
static bool
peer_may_receive(struct ssp_session *s, struct ssp_txn *t, struct ssp_slice scope)
{
    struct ssp_roster_entry e;
    bool enrolled = ssp_roster_get(t, s->peer, &e) == SSP_OK;
    return ssp_roster_may_receive(ssp_node_network_for(s->n, s->peer), s->peer,
                                  enrolled ? &e : NULL, scope);
}

/* Keeps the store's mapped pages from piling up in our RSS during a large sync. */
static void
count_mapped(struct ssp_session *s, uint64_t bytes)
{
    s->since_unmap += bytes;
    if (s->since_unmap >= SSP_SESSION_UNMAP_BYTES) {
        ssp_store_unmap_pages(s->n->store);
        s->since_unmap = 0;
    }
}

static ssp_err
send_msg(struct ssp_session *s, struct ssp_diag *d)
{
    ssp_err rc = s->send(s->arg, SSP_BUF_SLICE(&s->msg));
    if (rc != SSP_OK)
        return ssp_diag_set(d, rc, "cannot send to peer %s: %s", s->who, ssp_strerror(rc));
    return SSP_OK;
}

/* ---- HELLO ---- */

ssp_err
ssp_session_start(struct ssp_session *s, struct ssp_diag *d)
{
    struct ssp_txn *t = NULL;
    struct ssp_cursor *cur = NULL;
    struct ssp_slice k, v, scope;
    const uint8_t *origin;
    struct ssp_frontier_entry *e = NULL;
    size_t n = 0, cap = 0;
    ssp_err rc = ssp_store_read(s->n->store, &t);
    if (rc == SSP_OK)
        rc = ssp_cursor_open(t, SSP_DB_STREAMS, &cur);
    if (rc == SSP_OK)
        rc = ssp_cursor_seek(cur, SSP_SLICE(NULL, 0), &k, &v);
    for (; rc == SSP_OK; rc = ssp_cursor_next(cur, &k, &v)) {
        struct ssp_stream_pos pos;
        if (!ssp_key_stream_parse(k, &scope, &origin) || !ssp_stream_pos_decode(v, &pos)) {
            rc = SSP_ERR_CORRUPT;
            break;
        }
        if (!peer_may_receive(s, t, scope))
            continue;
        /* A stream in recovery is left out: the peer sends all it holds of it. */
        if (memcmp(origin, s->n->kr->pk, SSP_PK_LEN) == 0 && ssp_recover_active(s->n, t, scope))
            continue;
        if (n == cap) {
            cap = cap == 0 ? 64 : cap * 2;
            struct ssp_frontier_entry *p = ssp_realloc(e, cap * sizeof *p);
            if (p == NULL) {
                rc = SSP_ERR_NOMEM;
                break;
            }
            e = p;
        }
        /* Slices into the map stay valid while t is open. */
        e[n] = (struct ssp_frontier_entry){scope, origin, pos.epoch, pos.seq, {0}};
        memcpy(e[n].head, pos.head, SSP_SYNC_HEAD_LEN);
        n++;
    }
    if (rc == SSP_ERR_NOTFOUND)
        rc = SSP_OK;
    s->msg.n = 0;
    if (rc == SSP_OK)
        rc = ssp_sync_encode_hello(&s->msg, s->n->kr->pk, SSP_SCHEMA_VERSION, ssp_wall_ms(), e, n);
    ssp_cursor_close(cur);
    ssp_txn_abort(t);
    ssp_free(e);
    if (rc != SSP_OK)
        return ssp_diag_set(d, rc, "cannot say hello to %s: %s", s->who, ssp_strerror(rc));
    return send_msg(s, d);
}

/*
 * Whether our commit seq of a stream has the hash whose prefix the peer
 * named: if not, the two have different histories of that stream.
 */
static ssp_err
same_history(struct ssp_txn *t, const struct ssp_frontier_entry *e, bool *same)
{
    uint8_t k[SSP_KEY_MAX], hash[SSP_HASH_LEN];
    struct ssp_slice bytes;
    struct ssp_commit c;
    *same = true;
    ssp_err rc = ssp_txn_get(t, SSP_DB_LOG,
                             SSP_SLICE(k, ssp_key_log(k, e->scope, e->origin, e->seq)), &bytes);
    if (rc == SSP_ERR_NOTFOUND)
        return SSP_OK; /* we do not have it (yet) */
    if (rc == SSP_OK && ssp_commit_parse(bytes, &c) != SSP_OK)
        rc = SSP_ERR_CORRUPT;
    if (rc != SSP_OK)
        return rc;
    ssp_commit_hash(&c, hash);
    *same = memcmp(hash, e->head, SSP_SYNC_HEAD_LEN) == 0 && c.hdr.epoch == e->epoch;
    return SSP_OK;
}

/* What a HELLO showed about restored or cloned nodes, to be kept (node/quarantine.h). */
struct findings {
    struct ssp_quarantine *q;
    size_t n, cap;
    struct ssp_session *s;
};

static ssp_err
add_finding(struct findings *f, const struct ssp_frontier_entry *e, enum ssp_quarantine_kind kind,
            uint64_t seq)
{
    if (f->n == f->cap) {
        size_t cap = f->cap == 0 ? 4 : f->cap * 2;
        struct ssp_quarantine *p = ssp_realloc(f->q, cap * sizeof *p);
        if (p == NULL)
            return SSP_ERR_NOMEM;
        f->q = p;
        f->cap = cap;
    }
    struct ssp_quarantine *q = &f->q[f->n++];
    *q = (struct ssp_quarantine){.kind = kind, .seq = seq, .at_ms = ssp_wall_ms()};
    memcpy(q->scope, e->scope.p, e->scope.n);
    q->scope[e->scope.n] = '\0';
    memcpy(q->origin, e->origin, SSP_PK_LEN);
    memcpy(q->peer, f->s->peer, SSP_PK_LEN);
    return SSP_OK;
}

/*
 * Compares the peer's view of a stream whose origin is one of the two of us
 * with ours: a node restored from an older copy holds less of its own stream
 * than its peers have seen.
 */
static ssp_err
check_own(struct findings *f, struct ssp_txn *t, const struct ssp_frontier_entry *e)
{
    const uint8_t *self = f->s->n->kr->pk;
    bool mine = memcmp(e->origin, self, SSP_PK_LEN) == 0;
    if (!mine && memcmp(e->origin, f->s->peer, SSP_PK_LEN) != 0)
        return SSP_OK;
    uint8_t k[SSP_KEY_MAX];
    struct ssp_slice v;
    struct ssp_stream_pos pos = {0, 0, {0}};
    struct ssp_quarantine q;
    ssp_err rc =
        ssp_txn_get(t, SSP_DB_STREAMS, SSP_SLICE(k, ssp_key_stream(k, e->scope, e->origin)), &v);
    if (rc == SSP_OK && !ssp_stream_pos_decode(v, &pos))
        rc = SSP_ERR_CORRUPT;
    if (rc != SSP_OK && rc != SSP_ERR_NOTFOUND)
        return rc;
    if (mine && e->seq > pos.seq)
        return add_finding(f, e, SSP_QUARANTINE_BEHIND, e->seq);
    if (!mine && e->seq < pos.seq)
        return add_finding(f, e, SSP_QUARANTINE_PEER_BEHIND, pos.seq);
    /*
     * The peer's own stream agrees with ours again (it caught up with what it
     * had lost, or recovered from a second history): a finding of 0 clears it.
     */
    rc = mine ? SSP_ERR_NOTFOUND : ssp_quarantine_get(t, e->scope, e->origin, &q);
    if (rc == SSP_OK && (q.kind == SSP_QUARANTINE_PEER_BEHIND || q.kind == SSP_QUARANTINE_DIVERGED))
        return add_finding(f, e, SSP_QUARANTINE_PEER_BEHIND, 0);
    return rc == SSP_ERR_NOTFOUND ? SSP_OK : rc;
}

static ssp_err
keep_findings(struct ssp_txn *t, void *vf, struct ssp_diag *d)
{
    struct findings *f = vf;
    (void)d;
    for (size_t i = 0; i < f->n; i++) {
        const struct ssp_quarantine *q = &f->q[i];
        ssp_err rc = q->seq != 0 ? ssp_quarantine_note(t, q, f->s->n->kr->pk)
                                 : ssp_quarantine_del(t, cstr(q->scope), q->origin);
        if (rc != SSP_OK)
            return rc;
        if (q->seq == 0)
            ssp_say(SSP_INFO,
                    "peer %s: its own stream %s agrees with ours again; quarantine lifted",
                    f->s->who, q->scope);
    }
    return SSP_OK;
}

static ssp_err
clear_lost(struct ssp_txn *t, void *vo, struct ssp_diag *d)
{
    const struct out_stream *o = vo;
    (void)d;
    return ssp_quarantine_del(t, cstr(o->scope), o->origin);
}

/* A restored peer has acknowledged all it had lost of its own stream. */
static ssp_err
given_back(struct ssp_session *s, struct out_stream *o, struct ssp_diag *d)
{
    ssp_err rc = ssp_store_write(s->n->store, clear_lost, o, d);
    if (rc != SSP_OK)
        return rc;
    ssp_say(SSP_INFO, "peer %s has its own stream %s back up to seq %llu", s->who, o->scope,
            (unsigned long long)o->lost);
    o->lost = 0;
    return SSP_OK;
}

/* The peer itself signed what we hold of its stream: it should know it was restored or cloned. */
static ssp_err
tell_diverged(struct ssp_session *s, const struct ssp_quarantine *q, struct ssp_diag *d)
{
    char text[SSP_SYNC_NOTICE_MAX + 1];
    snprintf(text, sizeof text,
             "this node holds another history of your own stream %s at seq %llu: your node was "
             "restored from an old backup or cloned; see 'ssp recover --help'",
             q->scope, (unsigned long long)q->seq);
    s->msg.n = 0;
    ssp_err rc = ssp_sync_encode_notice(&s->msg, SSP_ERR_AUTH, cstr(text));
    return rc == SSP_OK ? send_msg(s, d) : ssp_diag_set(d, rc, "cannot encode a notice");
}

static ssp_err
on_hello(struct ssp_session *s, const struct ssp_sync_msg *m, struct ssp_diag *d)
{
    struct ssp_txn *t = NULL;
    struct ssp_sync_iter it = SSP_SYNC_ITER_INIT;
    struct ssp_frontier_entry e;
    struct findings f = {NULL, 0, 0, s};
    if (s->st.hello)
        return ssp_diag_set(d, SSP_ERR_PROTO, "peer %s said hello twice", s->who);
    if (memcmp(m->node, s->peer, SSP_PK_LEN) != 0)
        return ssp_diag_set(d, SSP_ERR_AUTH, "peer %s says hello as another node", s->who);
    s->st.hello = true;
    if (s->mode == SSP_SESSION_LINK)
        s->st.skew_ms = (int64_t)m->clock_ms - (int64_t)ssp_wall_ms();
    if (s->st.skew_ms > 5 * 60 * 1000 || s->st.skew_ms < -5 * 60 * 1000)
        ssp_say(
            SSP_WARN, "peer %s: its clock is %lld s %s ours; check the clocks", s->who,
            (long long)(s->st.skew_ms / 1000 < 0 ? -s->st.skew_ms / 1000 : s->st.skew_ms / 1000),
            s->st.skew_ms > 0 ? "ahead of" : "behind");
    struct ssp_roster_entry pe;
    ssp_err rc = ssp_store_read(s->n->store, &t);
    bool enrolled = rc == SSP_OK && ssp_roster_get(t, s->peer, &pe) == SSP_OK;
    while (rc == SSP_OK && (rc = ssp_sync_frontier_next(m, &it, &e)) == SSP_OK) {
        struct out_stream *o = find_out(s, e.scope, e.origin, true);
        bool same = true;
        if (o == NULL) {
            rc = SSP_ERR_NOMEM;
            break;
        }
        o->sent = o->known = e.seq;
        rc = same_history(t, &e, &same);
        if (rc == SSP_OK && !same)
            o->blocked = true;
        /*
         * A frontier is the peer's word, not signed: it says something of a
         * stream only from a peer we would take that scope from. A removed
         * node, or one of another area, could otherwise stop our writes (or
         * the central's roster) with a made-up seq or head.
         */
        if (rc != SSP_OK || !ssp_roster_may_send(ssp_node_network_for(s->n, s->peer), s->peer,
                                                 enrolled ? &pe : NULL, e.scope))
            continue;
        if (memcmp(e.origin, s->n->kr->pk, SSP_PK_LEN) == 0 &&
            s->nrecover < SSP_ROSTER_MAX_SCOPES && ssp_recover_active(s->n, t, e.scope)) {
            memcpy(s->recover[s->nrecover], e.scope.p, e.scope.n);
            s->recover[s->nrecover++][e.scope.n] = '\0';
        }
        if (!same) {
            rc = add_finding(&f, &e, SSP_QUARANTINE_DIVERGED, e.seq);
        } else {
            size_t before = f.n;
            rc = check_own(&f, t, &e);
            if (rc == SSP_OK && f.n > before && f.q[before].kind == SSP_QUARANTINE_PEER_BEHIND)
                o->lost = f.q[before].seq;
        }
    }
    ssp_txn_abort(t);
    if (rc == SSP_ERR_NOTFOUND)
        rc = SSP_OK;
    if (rc == SSP_OK && f.n > 0)
        rc = ssp_store_write(s->n->store, keep_findings, &f, d);
    for (size_t i = 0; rc == SSP_OK && i < f.n; i++)
        if (f.q[i].kind == SSP_QUARANTINE_DIVERGED &&
            memcmp(f.q[i].origin, s->peer, SSP_PK_LEN) == 0)
            rc = tell_diverged(s, &f.q[i], d);
    ssp_free(f.q);
    if (rc != SSP_OK)
        return ssp_diag_set(d, rc, "cannot take the hello of %s: %s", s->who, ssp_strerror(rc));
    return ssp_session_pump(s, d);
}

/* ---- sending commits ---- */

/* Adds the commits of stream o after o->sent to the frame, as far as it has room. */
/* Notes that the frame being filled (number frame) takes stream o up to o->sent. */
static ssp_err
mark_sent(struct ssp_session *s, uint32_t frame, const struct out_stream *o)
{
    int w = (int)(frame % SSP_SESSION_WINDOW);
    if (s->nmarks[w] == s->cap_marks[w]) {
        size_t cap = s->cap_marks[w] == 0 ? 8 : s->cap_marks[w] * 2;
        struct sent_mark *p = ssp_realloc(s->marks[w], cap * sizeof *p);
        if (p == NULL)
            return SSP_ERR_NOMEM;
        s->marks[w] = p;
        s->cap_marks[w] = cap;
    }
    s->marks[w][s->nmarks[w]++] = (struct sent_mark){(size_t)(o - s->out), o->sent};
    return SSP_OK;
}

static ssp_err
fill_from(struct ssp_txn *t, struct out_stream *o, uint64_t seq, size_t target,
          struct ssp_slice *list, size_t *count, size_t *size, uint64_t *bytes)
{
    struct ssp_cursor *cur = NULL;
    uint8_t k[SSP_KEY_MAX];
    struct ssp_slice key, val;
    struct ssp_slice scope = cstr(o->scope);
    size_t plen = ssp_key_stream(k, scope, o->origin);
    ssp_err rc = ssp_cursor_open(t, SSP_DB_LOG, &cur);
    if (rc == SSP_OK)
        rc = ssp_cursor_seek(cur, SSP_SLICE(k, ssp_key_log(k, scope, o->origin, o->sent + 1)), &key,
                             &val);
    while (rc == SSP_OK && o->sent < seq) {
        if (key.n != plen + 8 || memcmp(key.p, k, plen) != 0 ||
            ssp_get_be64(key.p + plen) != o->sent + 1) {
            rc = SSP_ERR_CORRUPT;
            break;
        }
        size_t cost = ssp_sync_commit_cost(val.n);
        if (*count > 0 && (*size + cost > target || *count == SSP_SYNC_MAX_COMMITS))
            break;
        list[(*count)++] = val;
        *size += cost;
        *bytes += val.n;
        o->sent++;
        rc = ssp_cursor_next(cur, &key, &val);
    }
    ssp_cursor_close(cur);
    /* Running off the end of the log before the stream's last commit means one is missing. */
    if (rc == SSP_ERR_NOTFOUND)
        rc = o->sent == seq ? SSP_OK : SSP_ERR_CORRUPT;
    return rc;
}

/*
 * Fills one COMMITS frame of about target bytes with what the peer lacks,
 * the roster's streams first; *count is 0 when there is nothing to send,
 * *full says there is more.
 */
static ssp_err
fill_frame(struct ssp_session *s, struct ssp_txn *t, size_t target, struct ssp_slice *list,
           size_t *count, uint64_t *bytes, bool *full)
{
    struct ssp_cursor *cur = NULL;
    struct ssp_slice k, v, scope;
    const uint8_t *origin;
    size_t size = SSP_SYNC_COMMITS_HEAD_MAX;
    ssp_err rc = SSP_OK;
    *count = 0;
    *bytes = 0;
    *full = false;
    for (int pass = 0; pass < 2 && rc == SSP_OK; pass++) {
        rc = ssp_cursor_open(t, SSP_DB_STREAMS, &cur);
        if (rc == SSP_OK)
            rc = ssp_cursor_seek(cur, SSP_SLICE(NULL, 0), &k, &v);
        for (; rc == SSP_OK && size < target; rc = ssp_cursor_next(cur, &k, &v)) {
            struct ssp_stream_pos pos;
            if (!ssp_key_stream_parse(k, &scope, &origin) || !ssp_stream_pos_decode(v, &pos)) {
                rc = SSP_ERR_CORRUPT;
                break;
            }
            if (ssp_slice_eq_str(scope, SSP_ROSTER_SCOPE) != (pass == 0))
                continue;
            struct out_stream *o = find_out(s, scope, origin, false);
            if ((o != NULL && (o->blocked || o->sent >= pos.seq)) || !peer_may_receive(s, t, scope))
                continue;
            if (o == NULL && (o = find_out(s, scope, origin, true)) == NULL) {
                rc = SSP_ERR_NOMEM;
                break;
            }
            uint64_t before = o->sent;
            rc = fill_from(t, o, pos.seq, target, list, count, &size, bytes);
            if (rc == SSP_OK && o->sent > before)
                rc = mark_sent(s, s->frame_out + 1, o);
            if (rc != SSP_OK)
                break;
            if (o->sent < pos.seq) {
                *full = true;
                break;
            }
        }
        *full = *full || size >= target;
        if (rc == SSP_ERR_NOTFOUND || (rc == SSP_OK && *full))
            rc = SSP_OK;
        ssp_cursor_close(cur);
        cur = NULL;
        if (*count > 0 && *full)
            break;
    }
    return rc;
}

ssp_err
ssp_session_pump(struct ssp_session *s, struct ssp_diag *d)
{
    ssp_err rc = SSP_OK;
    if (!s->st.hello || s->mode == SSP_SESSION_BUNDLE_IN)
        return SSP_OK; /* we push from the peer's frontier, and never back into a bundle */
    if (s->list == NULL && (s->list = ssp_alloc(SSP_SYNC_MAX_COMMITS * sizeof *s->list)) == NULL)
        return ssp_diag_set(d, SSP_ERR_NOMEM, "out of memory");
    struct ssp_slice *list = s->list;
    /* A file is not a link: nothing paces it, and fewer frames are fewer transactions to apply. */
    size_t target =
        s->mode == SSP_SESSION_BUNDLE_OUT ? SSP_PACE_FRAME_MAX : ssp_pace_frame_target(&s->pace);
    while (rc == SSP_OK &&
           (s->mode == SSP_SESSION_BUNDLE_OUT || s->frame_out - s->acked < SSP_SESSION_WINDOW)) {
        struct ssp_txn *t = NULL;
        size_t count = 0;
        uint64_t bytes = 0;
        bool full = false;
        s->nmarks[(s->frame_out + 1) % SSP_SESSION_WINDOW] = 0;
        rc = ssp_store_read(s->n->store, &t);
        if (rc == SSP_OK)
            rc = fill_frame(s, t, target, list, &count, &bytes, &full);
        s->msg.n = 0;
        if (rc == SSP_OK && count > 0)
            rc = ssp_sync_encode_commits(&s->msg, s->frame_out + 1, list, count);
        ssp_txn_abort(t);
        if (rc != SSP_OK) {
            rc = ssp_diag_set(d, rc, "cannot read commits to send to %s: %s", s->who,
                              ssp_strerror(rc));
            break;
        }
        if (count == 0) {
            if (!s->sent_done) {
                rc = ssp_sync_encode_done(&s->msg, s->frame_out);
                s->sent_done = rc == SSP_OK;
                if (rc == SSP_OK)
                    rc = send_msg(s, d);
            }
            break;
        }
        s->frame_out++;
        s->sent_done = false;
        count_mapped(s, bytes);
        s->inflight_commits[s->frame_out % SSP_SESSION_WINDOW] = count;
        s->inflight_bytes[s->frame_out % SSP_SESSION_WINDOW] = bytes;
        ssp_pace_sent(&s->pace, s->frame_out, s->msg.n, full, ssp_pace_now_ms());
        rc = send_msg(s, d);
        if (rc == SSP_OK && s->mode == SSP_SESSION_BUNDLE_OUT) {
            s->st.commits_out += count; /* written: no ACK will come */
            s->st.bytes_out += bytes;
        }
    }
    return rc;
}

ssp_err
ssp_session_mark(struct ssp_session *s, struct ssp_diag *d)
{
    if (!s->st.hello)
        return SSP_OK; /* the peer's first DONE is still to come */
    s->got_done = false;
    s->msg.n = 0;
    ssp_err rc = ssp_sync_encode_mark(&s->msg, s->frame_in);
    return rc == SSP_OK ? send_msg(s, d) : ssp_diag_set(d, rc, "cannot mark: %s", ssp_strerror(rc));
}

ssp_err
ssp_session_known(const struct ssp_session *s, struct ssp_buf *out)
{
    struct ssp_txn *t = NULL;
    struct ssp_frontier_entry *e = NULL;
    size_t n = 0;
    if (!s->st.hello)
        return SSP_ERR_NOTFOUND;
    ssp_err rc = ssp_store_read(s->n->store, &t);
    if (rc == SSP_OK && s->nout > 0 && (e = ssp_alloc(s->nout * sizeof *e)) == NULL)
        rc = SSP_ERR_NOMEM;
    for (size_t i = 0; i < s->nout && rc == SSP_OK; i++) {
        const struct out_stream *o = &s->out[i];
        uint8_t k[SSP_KEY_MAX], hash[SSP_HASH_LEN];
        struct ssp_slice scope = cstr(o->scope), bytes;
        struct ssp_commit c;
        if (o->known == 0)
            continue;
        /* The head the peer holds: our commit at that seq, if we have it. */
        memset(hash, 0, sizeof hash);
        uint32_t epoch = 1;
        if (ssp_txn_get(t, SSP_DB_LOG, SSP_SLICE(k, ssp_key_log(k, scope, o->origin, o->known)),
                        &bytes) == SSP_OK &&
            ssp_commit_parse(bytes, &c) == SSP_OK) {
            ssp_commit_hash(&c, hash);
            epoch = c.hdr.epoch;
        }
        e[n] = (struct ssp_frontier_entry){scope, o->origin, epoch, o->known, {0}};
        memcpy(e[n].head, hash, SSP_SYNC_HEAD_LEN);
        n++;
    }
    if (rc == SSP_OK)
        rc = ssp_sync_encode_hello(out, s->peer, SSP_SCHEMA_VERSION,
                                   (uint64_t)((int64_t)ssp_wall_ms() + s->st.skew_ms), e, n);
    ssp_txn_abort(t);
    ssp_free(e);
    return rc;
}

/* ---- receiving ---- */

static void
on_refuse(void *arg, const struct ssp_commit_hdr *h, ssp_err why, const char *msg)
{
    struct ssp_session *s = arg;
    /* Past the bound the session ends (ssp_session_flush): nothing more to tell. */
    if (s->st.refused > SSP_SESSION_MAX_REFUSED)
        return;
    struct out_stream *o = h != NULL ? find_out(s, cstr(h->scope), h->origin, true) : NULL;
    (void)why;
    /* Once per stream and session: the rest of a refused stream refuses the same way. */
    if (o != NULL && o->noticed)
        return;
    if (o != NULL)
        o->noticed = true;
    ssp_say(SSP_WARN, "peer %s: %s", s->who, msg);
    s->msg.n = 0;
    if (ssp_sync_encode_notice(&s->msg, why, cstr(msg)) == SSP_OK)
        (void)s->send(s->arg, SSP_BUF_SLICE(&s->msg));
}

/*
 * Applies the queued COMMITS frames in one transaction, then acks each: one
 * fdatasync for several frames, which is most of what a large sync waits for.
 */
ssp_err
ssp_session_flush(struct ssp_session *s, struct ssp_diag *d)
{
    struct ssp_slice *list = NULL;
    struct ssp_apply_result res;
    struct ssp_sync_msg m;
    size_t total = 0, n = 0;
    if (s->nqueued == 0)
        return SSP_OK;
    for (uint32_t i = 0; i < s->nqueued; i++) {
        if (ssp_sync_decode(SSP_BUF_SLICE(&s->queued[i]), &m) != SSP_OK)
            return ssp_diag_set(d, SSP_ERR_INTERNAL, "a queued frame no longer decodes");
        total += m.ncommits;
    }
    list = ssp_alloc(total * sizeof *list);
    if (list == NULL)
        return ssp_diag_set(d, SSP_ERR_NOMEM, "out of memory");
    for (uint32_t i = 0; i < s->nqueued; i++) {
        struct ssp_sync_iter it = SSP_SYNC_ITER_INIT;
        if (ssp_sync_decode(SSP_BUF_SLICE(&s->queued[i]), &m) != SSP_OK)
            continue; /* decoded above */
        while (n < total && ssp_sync_commit_next(&m, &it, &list[n]) == SSP_OK)
            n++;
    }
    ssp_err rc = ssp_node_apply(s->n, s->peer, list, n, on_refuse, s, &res, d);
    ssp_free(list);
    if (rc != SSP_OK)
        return rc;
    uint32_t frames = s->nqueued;
    s->nqueued = 0;
    /*
     * A peer that keeps sending what we refuse costs memory and log lines:
     * drop it. Counted from res, not on_refuse: an apply reports only the
     * first 64 of its refusals, and 8 frames of junk are 524,280.
     */
    s->st.refused += res.refused;
    if (s->st.refused > SSP_SESSION_MAX_REFUSED)
        return ssp_diag_set(d, SSP_ERR_PROTO,
                            "peer %s sent more than %u commits this node refused; dropping it",
                            s->who, SSP_SESSION_MAX_REFUSED);
    count_mapped(s, res.bytes);
    s->st.commits_in += res.applied;
    s->st.bytes_in += res.bytes;
    s->st.duplicates += res.duplicates;
    /* Harmless (they are not applied twice), but a peer that keeps doing it wastes the link. */
    if (res.duplicates > 0)
        ssp_say(SSP_INFO, "peer %s: %u commits already held were ignored", s->who, res.duplicates);
    s->st.ahead += res.ahead;
    for (uint32_t i = 0; i < frames && rc == SSP_OK; i++) {
        s->frame_in++;
        s->msg.n = 0;
        rc = ssp_sync_encode_ack(&s->msg, s->frame_in);
        rc =
            rc == SSP_OK ? send_msg(s, d) : ssp_diag_set(d, rc, "cannot ack: %s", ssp_strerror(rc));
    }
    return rc;
}

/* Queues a COMMITS frame (a copy of raw); a full queue is applied at once. */
static ssp_err
on_commits(struct ssp_session *s, const struct ssp_sync_msg *m, struct ssp_slice raw,
           struct ssp_diag *d)
{
    if (!s->st.hello || m->frame != s->frame_in + s->nqueued + 1)
        return ssp_diag_set(d, SSP_ERR_PROTO, "peer %s sent frame %u out of order (expected %u)",
                            s->who, m->frame, s->frame_in + s->nqueued + 1);
    struct ssp_buf *q = &s->queued[s->nqueued];
    ssp_pace_received(&s->pace, raw.n, ssp_pace_now_ms());
    s->st.rate_in = s->pace.rate_in;
    q->n = 0;
    if (ssp_buf_append(q, raw.p, raw.n) != SSP_OK)
        return ssp_diag_set(d, SSP_ERR_NOMEM, "out of memory");
    s->nqueued++;
    return s->nqueued == SSP_SESSION_QUEUE ? ssp_session_flush(s, d) : SSP_OK;
}

static ssp_err
input_one(struct ssp_session *s, struct ssp_slice raw, struct ssp_diag *d)
{
    struct ssp_sync_msg m;
    ssp_err rc = ssp_sync_decode(raw, &m);
    if (rc == SSP_ERR_VERSION)
        return ssp_diag_set(d, rc, "peer %s speaks sync protocol %llu, not %d; upgrade the older",
                            s->who, (unsigned long long)m.proto, SSP_SYNC_PROTO);
    if (rc != SSP_OK)
        return ssp_diag_set(d, SSP_ERR_PROTO, "peer %s sent a malformed message", s->who);
    /* Whatever follows COMMITS speaks of them as applied (DONE names the last frame). */
    if (m.type != SSP_SYNC_COMMITS && (rc = ssp_session_flush(s, d)) != SSP_OK)
        return rc;
    switch (m.type) {
    case SSP_SYNC_HELLO:
        return on_hello(s, &m, d);
    case SSP_SYNC_COMMITS:
        return on_commits(s, &m, raw, d);
    case SSP_SYNC_ACK:
        if (m.frame != s->acked + 1 || m.frame > s->frame_out)
            return ssp_diag_set(d, SSP_ERR_PROTO, "peer %s acked frame %u out of order", s->who,
                                m.frame);
        s->acked = m.frame;
        for (size_t i = 0; i < s->nmarks[m.frame % SSP_SESSION_WINDOW]; i++) {
            const struct sent_mark *mk = &s->marks[m.frame % SSP_SESSION_WINDOW][i];
            struct out_stream *o = &s->out[mk->out];
            if (o->known < mk->seq)
                o->known = mk->seq;
            if (o->lost != 0 && o->known >= o->lost && (rc = given_back(s, o, d)) != SSP_OK)
                return rc;
        }
        s->st.commits_out += s->inflight_commits[m.frame % SSP_SESSION_WINDOW];
        s->st.bytes_out += s->inflight_bytes[m.frame % SSP_SESSION_WINDOW];
        ssp_pace_acked(&s->pace, m.frame, ssp_pace_now_ms());
        s->st.rate_out = s->pace.rate_out;
        return ssp_session_pump(s, d);
    case SSP_SYNC_DONE:
        if (!s->st.hello || m.frame != s->frame_in)
            return ssp_diag_set(d, SSP_ERR_PROTO, "peer %s said done at frame %u, not %u", s->who,
                                m.frame, s->frame_in);
        s->got_done = true;
        s->peer_done = m.frame;
        return SSP_OK;
    case SSP_SYNC_MARK:
        if (!s->st.hello || m.frame > s->frame_out)
            return ssp_diag_set(d, SSP_ERR_PROTO, "peer %s marked frame %u, beyond %u", s->who,
                                m.frame, s->frame_out);
        /* Answer with a DONE once all we have now is sent (pump sends it). */
        s->sent_done = false;
        return ssp_session_pump(s, d);
    case SSP_SYNC_NOTICE:
        snprintf(s->notice, sizeof s->notice, "%.*s", (int)m.text.n, (const char *)m.text.p);
        ssp_say(SSP_WARN, "peer %s refused: %s", s->who, s->notice);
        return SSP_OK;
    }
    return ssp_diag_set(d, SSP_ERR_PROTO, "peer %s sent an unknown message", s->who);
}

/*
 * Our own streams in recovery that the peer holds are whole once the session
 * is synced: the changes set aside are written again on top, and a new
 * session starts, whose HELLOs show the streams again.
 */
static ssp_err
finish_recovery(struct ssp_session *s, struct ssp_diag *d)
{
    uint32_t changes = 0, all = 0;
    for (uint32_t i = 0; i < s->nrecover; i++) {
        ssp_err rc = ssp_recover_finish(s->n, cstr(s->recover[i]), &changes, d);
        if (rc != SSP_OK)
            return rc;
        all += changes;
    }
    s->nrecover = 0;
    return ssp_diag_set(d, SSP_ERR_AGAIN,
                        "this node's own streams are recovered (%u changes written again); a new "
                        "session starts",
                        all);
}

ssp_err
ssp_session_input(struct ssp_session *s, struct ssp_slice raw, struct ssp_diag *d)
{
    ssp_err rc = input_one(s, raw, d);
    if (rc == SSP_OK && s->nrecover > 0 && ssp_session_synced(s))
        rc = finish_recovery(s, d);
    return rc;
}
