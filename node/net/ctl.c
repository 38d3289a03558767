/* struct ucred and SO_PEERCRED are Linux extensions. */
#define _GNU_SOURCE
#include "node/net/ctl.h"

#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "node/say.h"
#include "proto/frame.h"
#include "proto/rpc.h"

#define READ_CHUNK (64u << 10)

struct conn {
    uv_pipe_t pipe;
    struct ssp_ctl *ctl;
    struct ssp_buf in;
    struct conn *prev, *next;
    bool import_refused;               /* later imports on this connection are refused too */
    struct pending *waiting;           /* a request answered later: nothing is read until then */
    bool paused;                       /* reading stopped: too much arrived while waiting */
    char user[SSP_AUDIT_USER_MAX + 1]; /* the client's OS user, from the socket (SO_PEERCRED) */
};

/* A request whose operation answers later (ssp_ops_ctx.deferred). */
struct pending {
    struct conn *c; /* NULL once the connection is gone */
    uint32_t id;
    bool in_call;  /* the operation is still running */
    bool answered; /* it answered while it ran */
};

struct ssp_ctl {
    uv_pipe_t server;
    struct ssp_ops_ctx *ops;
    ssp_ctl_stop_fn on_stop;
    void *arg;
    struct conn *conns;
    char *path;
};

struct reply {
    uv_write_t req;
    struct ssp_buf buf;
    struct ssp_ctl *ctl;
    bool stop;
};

static void
conn_closed(uv_handle_t *h)
{
    struct conn *c = h->data;
    ssp_buf_fini(&c->in);
    ssp_free(c);
}

static void
conn_close(struct conn *c)
{
    if (uv_is_closing((uv_handle_t *)&c->pipe))
        return;
    if (c->waiting != NULL)
        c->waiting->c = NULL;
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        c->ctl->conns = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    uv_close((uv_handle_t *)&c->pipe, conn_closed);
}

static void
reply_written(uv_write_t *req, int status)
{
    struct reply *r = req->data;
    (void)status;
    if (r->stop)
        r->ctl->on_stop(r->ctl->arg);
    ssp_buf_fini(&r->buf);
    ssp_free(r);
}

/* Queues the response to request id: rc and msg, or the encoded result. */
static ssp_err
respond(struct conn *c, uint32_t id, ssp_err rc, const char *msg, struct ssp_slice result,
        bool stopping)
{
    struct ssp_buf out;
    struct ssp_mpw mw;
    struct reply *r;
    ssp_buf_init(&out);
    ssp_mpw_init(&mw, &out);
    ssp_rpc_resp_begin(&mw, id, rc, rc == SSP_OK ? NULL : msg);
    if (rc == SSP_OK)
        ssp_mpw_raw(&mw, result);
    else
        ssp_mpw_nil(&mw);
    r = ssp_calloc(1, sizeof *r);
    ssp_err wrc = mw.err;
    if (r == NULL)
        wrc = SSP_ERR_NOMEM;
    if (wrc == SSP_OK)
        wrc = ssp_frame_encode(&r->buf, SSP_BUF_SLICE(&out));
    ssp_buf_fini(&out);
    if (wrc != SSP_OK) {
        if (r != NULL)
            ssp_buf_fini(&r->buf);
        ssp_free(r);
        return wrc;
    }
    r->ctl = c->ctl;
    /* Only the reply to the request that asked to stop triggers the shutdown. */
    r->stop = !stopping && c->ctl->ops->stop;
    r->req.data = r;
    uv_buf_t b = uv_buf_init((char *)r->buf.p, (unsigned)r->buf.n);
    if (uv_write(&r->req, (uv_stream_t *)&c->pipe, &b, 1, reply_written) != 0) {
        ssp_buf_fini(&r->buf);
        ssp_free(r);
        return SSP_ERR_IO;
    }
    return SSP_OK;
}

static void process(struct conn *c);

/* The answer of a deferred operation (ssp_ops_reply_fn). */
static void
answer_later(void *token, ssp_err rc, struct ssp_slice result, const char *msg)
{
    struct pending *p = token;
    struct conn *c = p->c;
    if (c != NULL && respond(c, p->id, rc, msg != NULL ? msg : ssp_strerror(rc), result,
                             c->ctl->ops->stop) != SSP_OK)
        conn_close(c);
    if (p->in_call) {
        p->answered = true;
        return;
    }
    if (c != NULL && !uv_is_closing((uv_handle_t *)&c->pipe)) {
        c->waiting = NULL;
        process(c);
    }
    ssp_free(p);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf);
static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);

/* Runs one request and queues its response. */
static ssp_err
serve(struct conn *c, struct ssp_slice payload)
{
    struct ssp_rpc_req req;
    struct ssp_buf result;
    struct ssp_mpw rw;
    struct ssp_diag d = {{0}};
    struct ssp_ops_ctx *ops = c->ctl->ops;

    if (ssp_rpc_req_decode(payload, &req) != SSP_OK)
        return SSP_ERR_PROTO;
    struct pending *p = ssp_calloc(1, sizeof *p);
    if (p == NULL)
        return SSP_ERR_NOMEM;
    *p = (struct pending){c, req.id, true, false};
    ops->reply = answer_later;
    ops->token = p;
    ops->user = c->user;
    ops->deferred = false;
    ssp_buf_init(&result);
    ssp_mpw_init(&rw, &result);
    bool stopping = c->ctl->ops->stop;
    bool import = ssp_slice_eq_str(req.op, "import");
    ssp_err rc;
    /*
     * A client pipelines import batches. Once one is refused, the batches
     * behind it are refused as well, so the store never has a gap in the
     * middle of a file: what is stored is exactly the lines before the batch.
     */
    if (import && c->import_refused)
        rc = ssp_diag_set(&d, SSP_ERR_AGAIN,
                          "not imported: an earlier batch on this connection was refused");
    else
        rc = ssp_ops_call(c->ctl->ops, req.op, req.params, &rw, &d);
    p->in_call = false;
    if (rc == SSP_OK && ops->deferred) {
        ssp_buf_fini(&result);
        if (p->answered) {
            ssp_free(p);
            return SSP_OK;
        }
        /*
         * Reading goes on, so a client that gives up is noticed (its request
         * is then answered to no one); what it sends meanwhile waits.
         */
        c->waiting = p;
        return SSP_OK;
    }
    ssp_free(p);
    if (import && rc != SSP_OK)
        c->import_refused = true;
    if (rc != SSP_OK) {
        ssp_say(SSP_DEBUG, "op %.*s refused: %s", (int)req.op.n, (const char *)req.op.p,
                ssp_err_name(rc));
        if (d.msg[0] == '\0')
            ssp_diag_set(&d, rc, "%s", ssp_strerror(rc));
    }
    if (rc == SSP_OK && result.n > SSP_CTL_MAX_FRAME - 64)
        rc = ssp_diag_set(&d, SSP_ERR_FULL,
                          "the answer (%zu bytes) is larger than a control frame; ask for less",
                          result.n);
    ssp_err wrc = respond(c, req.id, rc, d.msg, SSP_BUF_SLICE(&result), stopping);
    ssp_buf_fini(&result);
    return wrc;
}

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

static void
on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct conn *c = s->data;
    (void)buf;
    if (nread < 0) {
        conn_close(c);
        return;
    }
    c->in.n += (size_t)nread;
    if (c->waiting != NULL && c->in.n > SSP_CTL_MAX_FRAME) {
        /* A client that keeps sending while its request waits: hold it back. */
        c->paused = true;
        uv_read_stop(s);
    }
    process(c);
}

/* Serves the complete requests read, until one is answered later. */
static void
process(struct conn *c)
{
    size_t done = 0;
    while (!c->ctl->ops->stop && c->waiting == NULL) {
        struct ssp_slice payload;
        size_t used;
        ssp_err rc = ssp_frame_decode(SSP_SLICE(c->in.p + done, c->in.n - done), SSP_CTL_MAX_FRAME,
                                      &payload, &used);
        if (rc == SSP_ERR_AGAIN)
            break;
        if (rc == SSP_OK)
            rc = serve(c, payload);
        if (rc != SSP_OK) {
            ssp_say(SSP_WARN, "control client dropped: %s", ssp_strerror(rc));
            conn_close(c);
            return;
        }
        done += used;
    }
    ssp_buf_consume(&c->in, done);
    if (c->waiting == NULL && c->paused) {
        c->paused = false;
        if (uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read) != 0)
            conn_close(c);
    }
}

/*
 * Whether the peer of a connected Unix socket runs as our uid; if so, names
 * it in user: the kernel says who the client is (SO_PEERCRED), so audit
 * entries do not depend on a name the client sends. A uid with no passwd
 * entry is named by its number.
 */
static bool
peer_is_us(uv_pipe_t *p, char user[SSP_AUDIT_USER_MAX + 1])
{
    uv_os_fd_t fd;
    struct ucred cred;
    socklen_t len = sizeof cred;
    struct passwd pw, *found = NULL;
    char buf[1024];
    if (uv_fileno((uv_handle_t *)p, &fd) != 0 ||
        getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || cred.uid != getuid())
        return false;
    if (getpwuid_r(cred.uid, &pw, buf, sizeof buf, &found) == 0 && found != NULL &&
        strlen(pw.pw_name) <= SSP_AUDIT_USER_MAX)
        snprintf(user, SSP_AUDIT_USER_MAX + 1, "%s", pw.pw_name);
    else
        snprintf(user, SSP_AUDIT_USER_MAX + 1, "uid %lu", (unsigned long)cred.uid);
    return true;
}

static void
on_connection(uv_stream_t *server, int status)
{
    struct ssp_ctl *ctl = server->data;
    if (status != 0)
        return;
    struct conn *c = ssp_calloc(1, sizeof *c);
    if (c == NULL)
        return;
    c->ctl = ctl;
    ssp_buf_init(&c->in);
    uv_pipe_init(server->loop, &c->pipe, 0);
    c->pipe.data = c;
    c->next = ctl->conns;
    if (ctl->conns != NULL)
        ctl->conns->prev = c;
    ctl->conns = c;
    if (uv_accept(server, (uv_stream_t *)&c->pipe) != 0) {
        conn_close(c);
        return;
    }
    if (!peer_is_us(&c->pipe, c->user)) {
        ssp_say(SSP_WARN, "refused a control connection from another user");
        conn_close(c);
        return;
    }
    if (uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read) != 0)
        conn_close(c);
}

static void
server_closed(uv_handle_t *h)
{
    struct ssp_ctl *ctl = h->data;
    ssp_free(ctl->path);
    ssp_free(ctl);
}

ssp_err
ssp_ctl_start(uv_loop_t *loop, const char *path, struct ssp_ops_ctx *ops, ssp_ctl_stop_fn on_stop,
              void *arg, struct ssp_ctl **out, struct ssp_diag *d)
{
    struct ssp_ctl *ctl = ssp_calloc(1, sizeof *ctl);
    if (ctl == NULL || (ctl->path = ssp_strndup(path, strlen(path))) == NULL) {
        ssp_free(ctl);
        return SSP_ERR_NOMEM;
    }
    ctl->ops = ops;
    ctl->on_stop = on_stop;
    ctl->arg = arg;
    uv_pipe_init(loop, &ctl->server, 0);
    ctl->server.data = ctl;
    /* We hold the directory's lock, so a socket file left here is from a crashed sspd. */
    unlink(path);
    mode_t old = umask(0177);
    int rc = uv_pipe_bind(&ctl->server, path);
    umask(old);
    if (rc == 0)
        rc = chmod(path, 0600) == 0 ? 0 : UV_EPERM;
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&ctl->server, 64, on_connection);
    if (rc != 0) {
        ssp_diag_set(d, SSP_ERR_IO, "cannot listen on %s: %s", path, uv_strerror(rc));
        uv_close((uv_handle_t *)&ctl->server, server_closed);
        return SSP_ERR_IO;
    }
    *out = ctl;
    return SSP_OK;
}

void
ssp_ctl_close(struct ssp_ctl *ctl)
{
    if (ctl == NULL)
        return;
    while (ctl->conns != NULL)
        conn_close(ctl->conns);
    unlink(ctl->path);
    uv_close((uv_handle_t *)&ctl->server, server_closed);
}
