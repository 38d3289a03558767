/*
 * ssp import: JSON lines in, `import` requests out.
 *
 * Each line is converted to msgpack straight into the batch being built,
 * after HEAD_ROOM free bytes where the params head ({"records": [n]}) is
 * written when the batch is sent, so a batch of megabytes is never copied.
 *
 * Two batches may be in flight: batch k+1 is sent before batch k's answer is
 * read, so ssp reads and converts while sspd writes. sspd answers in order
 * and each batch is all or nothing, so after batch k fails everything up to
 * the end of batch k-1 is stored and batch k is not. Batch k+1 was already
 * sent and may have been stored; ssp reads its answer too, so that the
 * message says exactly which lines to import again.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cmd.h"
#include "cli/json.h"
#include "proto/frame.h"

#define BATCH_DEFAULT 5000
#define BATCH_MAX 10000 /* PROTOCOL.md: import takes 1..10000 records */
/* A batch is cut at this much msgpack, well under the frame limit. */
#define BATCH_BYTES (4u << 20)
/* The params head: fixmap(1), fixstr "records" (8 bytes), array32 header (5). */
#define HEAD_ROOM 14
/* The most record bytes one request carries: the frame less the heads. */
#define RECORDS_MAX (SSP_CTL_MAX_FRAME - 64)
/* Input is read this much at a time. A line may not be longer than a request. */
#define READ_CHUNK (1u << 20)
#define LINE_MAX_BYTES SSP_CTL_MAX_FRAME

struct batch {
    uint32_t id;  /* the request id, once sent */
    size_t n;     /* records */
    size_t *line; /* the input line of each record */
};

struct import {
    struct ssp_client *client; /* borrowed from the cli */
    const char *name;          /* the input, for messages */
    int fd;
    struct ssp_buf in; /* input; the unread part starts at pos */
    size_t pos;
    bool eof;
    size_t lineno, skip;
    size_t max;               /* records per batch */
    struct ssp_buf body;      /* HEAD_ROOM bytes, then the records of the batch being built */
    struct ssp_mpw w;         /* writes to body */
    struct ssp_buf head;      /* a params head being written */
    struct batch b[2];        /* the batches sent, oldest at first, then the one being built */
    size_t first, nsent;      /* nsent is 0 or 1 between calls; 2 only inside send_batch */
    size_t done_line;         /* every line up to here is stored (or was skipped) */
    unsigned long long count; /* records stored */
    bool tty;                 /* stderr is a terminal: progress overwrites one line */
    bool progress;            /* --progress: one line per batch when not on a terminal */
    bool shown;               /* a progress line without a newline is on stderr */
};

static struct batch *
building(struct import *im)
{
    return &im->b[(im->first + im->nsent) % 2];
}

static size_t
last_line(const struct batch *b)
{
    return b->line[b->n - 1];
}

/* What is stored after a failure, for the end of the message. */
static void
stored_text(const struct import *im, char *out, size_t cap)
{
    if (im->done_line == 0)
        snprintf(out, cap, "nothing was imported");
    else
        snprintf(out, cap, "nothing after line %zu was imported", im->done_line);
}

static void
show_progress(struct import *im)
{
    if (im->tty)
        fprintf(stderr, "\r%llu records acknowledged", im->count);
    else if (im->progress)
        fprintf(stderr, "%llu records acknowledged\n", im->count);
    im->shown = im->tty;
}

/* sspd refused batch b with message msg: "record K: why" names the record. */
static void
where_refused(const struct import *im, const struct batch *b, const char **msg, char *out,
              size_t cap)
{
    char *end;
    if (strncmp(*msg, "record ", 7) == 0) {
        unsigned long k = strtoul(*msg + 7, &end, 10);
        if (end != *msg + 7 && end[0] == ':' && end[1] == ' ' && k < b->n) {
            snprintf(out, cap, "%s:%zu", im->name, b->line[k]);
            *msg = end + 2;
            return;
        }
    }
    snprintf(out, cap, "%s: lines %zu..%zu", im->name, b->line[0], last_line(b));
}

/*
 * Batch b (the oldest in flight) was refused. The next batch, if one was
 * sent, is read too: if it was stored, lines are missing in the middle.
 */
static ssp_err
batch_refused(struct import *im, struct batch *b, ssp_err code, const struct ssp_diag *why,
              struct ssp_diag *d)
{
    struct batch *next = &im->b[(im->first + 1) % 2];
    struct ssp_rpc_resp resp;
    struct ssp_diag nd = {{0}};
    struct ssp_slice result;
    const char *msg = why->msg;
    char where[SSP_DIAG_MAX];
    bool next_stored = im->nsent == 2 &&
                       ssp_client_recv(im->client, next->id, &resp, &nd) == SSP_OK &&
                       ssp_client_result(&resp, "import", &result, &nd) == SSP_OK;
    where_refused(im, b, &msg, where, sizeof where);
    size_t m = im->done_line;
    if (next_stored) {
        char before[48] = "";
        if (m > 0)
            snprintf(before, sizeof before, "1..%zu and ", m);
        return ssp_diag_set(d, code,
                            "%s: %s; lines %s%zu..%zu were imported but lines %zu..%zu were not "
                            "(batches are all or nothing, and the next was already sent); fix "
                            "the line and import lines %zu..%zu again, e.g. sed -n '%zu,%zup' "
                            "%s | ssp import -",
                            where, msg, before, next->line[0], last_line(next), m + 1,
                            next->line[0] - 1, m + 1, next->line[0] - 1, m + 1, next->line[0] - 1,
                            im->fd == STDIN_FILENO ? "FILE" : im->name);
    }
    if (m == 0)
        return ssp_diag_set(d, code,
                            "%s: %s; nothing was imported (batches are all or nothing); fix the "
                            "line and run again",
                            where, msg);
    return ssp_diag_set(d, code,
                        "%s: %s; lines 1..%zu were imported (batches are all or nothing); fix "
                        "the line and run again with --skip %zu",
                        where, msg, m, m);
}

/* No answer came for the batches in flight: they may or may not be stored. */
static ssp_err
lost_answer(const struct import *im, ssp_err code, const struct ssp_diag *why, struct ssp_diag *d)
{
    size_t m = im->done_line;
    size_t sent = last_line(&im->b[(im->first + im->nsent - 1) % 2]);
    if (m == 0)
        return ssp_diag_set(d, code,
                            "%s; lines 1..%zu may or may not have been imported; check with 'ssp "
                            "list' before you run again",
                            why->msg, sent);
    return ssp_diag_set(d, code,
                        "%s; lines 1..%zu were imported and lines %zu..%zu may or may not have "
                        "been; check with 'ssp list' before you run again with --skip",
                        why->msg, m, m + 1, sent);
}

/* Reads the answer to the oldest batch in flight. */
static ssp_err
await_oldest(struct import *im, struct ssp_diag *d)
{
    struct batch *b = &im->b[im->first];
    struct ssp_rpc_resp resp;
    struct ssp_diag bd = {{0}};
    struct ssp_slice result;
    struct ssp_mp c;
    uint64_t count = 0;
    ssp_err rc = ssp_client_recv(im->client, b->id, &resp, &bd);
    if (rc != SSP_OK)
        return lost_answer(im, rc, &bd, d);
    rc = ssp_client_result(&resp, "import", &result, &bd);
    if (rc != SSP_OK)
        return batch_refused(im, b, rc, &bd, d);
    const struct ssp_mp_key keys[] = {{"count", SSP_AS_UINT, true, &count}};
    ssp_mp_init(&c, result);
    rc = ssp_mp_read_map(&c, keys, 1, false, NULL);
    if (rc != SSP_OK)
        return ssp_out_bad_result(rc, d);
    im->count += count;
    im->done_line = last_line(b);
    im->first = (im->first + 1) % 2;
    im->nsent--;
    show_progress(im);
    return SSP_OK;
}

/* Awaits every batch in flight. */
static ssp_err
settle(struct import *im, struct ssp_diag *d)
{
    ssp_err rc = SSP_OK;
    while (rc == SSP_OK && im->nsent > 0)
        rc = await_oldest(im, d);
    return rc;
}

/*
 * Sends the records of the batch being built that end at body offset upto;
 * bytes after upto (a record that did not fit) start the next batch.
 */
static ssp_err
send_batch(struct import *im, size_t upto, struct ssp_diag *d)
{
    struct batch *b = building(im);
    struct ssp_mpw hw;
    im->head.n = 0;
    ssp_mpw_init(&hw, &im->head);
    ssp_mpw_map(&hw, 1);
    ssp_mpw_cstr(&hw, "records");
    ssp_mpw_array(&hw, b->n);
    if (hw.err != SSP_OK || im->w.err != SSP_OK)
        return ssp_diag_set(d, SSP_ERR_NOMEM, "out of memory");
    size_t start = HEAD_ROOM - im->head.n;
    memcpy(im->body.p + start, im->head.p, im->head.n);
    ssp_err rc = ssp_client_send(im->client, "import", SSP_SLICE(im->body.p + start, upto - start),
                                 &b->id, d);
    if (rc != SSP_OK)
        return rc;
    /* send returned, so the kernel has the bytes and the buffer is free again. */
    memmove(im->body.p + HEAD_ROOM, im->body.p + upto, im->body.n - upto);
    im->body.n = HEAD_ROOM + (im->body.n - upto);
    im->nsent++;
    if (im->nsent == 2)
        rc = await_oldest(im, d);
    building(im)->n = 0;
    return rc;
}

/* Reports an error found in the input, once the batches in flight are settled. */
static ssp_err
input_error(struct import *im, ssp_err code, const struct ssp_diag *why, struct ssp_diag *d)
{
    char stored[80];
    ssp_err rc = settle(im, d);
    if (rc != SSP_OK)
        return rc;
    stored_text(im, stored, sizeof stored);
    return ssp_diag_set(d, code, "%s; %s", why->msg, stored);
}

/* Converts one line into the batch being built, sending batches as they fill. */
static ssp_err
add_line(struct import *im, const char *line, size_t len, struct ssp_diag *d)
{
    struct ssp_diag why = {{0}}, at = {{0}};
    size_t mark = im->body.n;
    ssp_err rc = ssp_json_to_mp(line, len, &im->w, &why);
    if (rc != SSP_OK) {
        (void)ssp_diag_set(&at, rc, "%s:%zu: %s", im->name, im->lineno,
                           rc == SSP_ERR_PROTO ? why.msg : "out of memory");
        return input_error(im, rc, &at, d);
    }
    if (im->body.n - mark > RECORDS_MAX) {
        (void)ssp_diag_set(&at, SSP_ERR_INVAL,
                           "%s:%zu: the record is %zu bytes, more than one request holds", im->name,
                           im->lineno, im->body.n - mark);
        return input_error(im, SSP_ERR_INVAL, &at, d);
    }
    if (im->body.n - HEAD_ROOM > RECORDS_MAX && (rc = send_batch(im, mark, d)) != SSP_OK)
        return rc;
    struct batch *b = building(im);
    b->line[b->n++] = im->lineno;
    if (b->n == im->max || im->body.n - HEAD_ROOM >= BATCH_BYTES)
        rc = send_batch(im, im->body.n, d);
    return rc;
}

/* The next line, without its newline; *line is NULL at the end of the input. */
static ssp_err
next_line(struct import *im, const char **line, size_t *len, struct ssp_diag *d)
{
    for (;;) {
        size_t avail = im->in.n - im->pos;
        const char *start = avail > 0 ? (const char *)im->in.p + im->pos : NULL;
        const char *nl = avail > 0 ? memchr(start, '\n', avail) : NULL;
        if (nl != NULL || (im->eof && avail > 0)) {
            *line = start;
            *len = nl != NULL ? (size_t)(nl - start) : avail;
            im->pos += *len + (nl != NULL ? 1 : 0);
            im->lineno++;
            return SSP_OK;
        }
        if (im->eof) {
            *line = NULL;
            return SSP_OK;
        }
        if (avail > LINE_MAX_BYTES)
            return ssp_diag_set(d, SSP_ERR_INVAL, "%s:%zu: the line is longer than %u bytes",
                                im->name, im->lineno + 1, LINE_MAX_BYTES);
        ssp_buf_consume(&im->in, im->pos);
        im->pos = 0;
        if (ssp_buf_reserve(&im->in, READ_CHUNK) != SSP_OK)
            return ssp_diag_set(d, SSP_ERR_NOMEM, "out of memory");
        ssize_t k = read(im->fd, im->in.p + im->in.n, im->in.cap - im->in.n);
        if (k < 0 && errno != EINTR)
            return ssp_diag_set(d, SSP_ERR_IO, "cannot read %s: %s", im->name, strerror(errno));
        im->in.n += k > 0 ? (size_t)k : 0;
        im->eof = k == 0;
    }
}

static bool
blank(const char *s, size_t n)
{
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        n--;
    return n == 0;
}

static ssp_err
import_all(struct import *im, struct ssp_diag *d)
{
    struct ssp_diag why = {{0}};
    const char *line = NULL;
    size_t len = 0;
    ssp_err rc;
    while ((rc = next_line(im, &line, &len, &why)) == SSP_OK && line != NULL) {
        if (im->lineno <= im->skip || blank(line, len))
            continue;
        rc = add_line(im, line, len, d);
        if (rc != SSP_OK)
            return rc;
    }
    if (rc != SSP_OK)
        return input_error(im, rc, &why, d);
    if (building(im)->n > 0)
        rc = send_batch(im, im->body.n, d);
    return rc == SSP_OK ? settle(im, d) : rc;
}

static ssp_err
import_open(struct import *im, struct ssp_cli *cli, const char *file, struct ssp_diag *d)
{
    im->fd = -1;
    ssp_buf_init(&im->in);
    ssp_buf_init(&im->body);
    ssp_buf_init(&im->head);
    ssp_mpw_init(&im->w, &im->body);
    for (size_t i = 0; i < 2; i++) {
        im->b[i].line = ssp_calloc(im->max, sizeof *im->b[i].line);
        if (im->b[i].line == NULL)
            return ssp_diag_set(d, SSP_ERR_NOMEM, "out of memory");
    }
    if (ssp_buf_append(&im->body, (const uint8_t[HEAD_ROOM]){0}, HEAD_ROOM) != SSP_OK)
        return ssp_diag_set(d, SSP_ERR_NOMEM, "out of memory");
    /* Connect first: when sspd is not running, say so before reading anything. */
    ssp_err rc = ssp_cli_connect(cli, d);
    if (rc != SSP_OK)
        return rc;
    im->client = cli->client;
    im->name = strcmp(file, "-") == 0 ? "stdin" : file;
    im->fd = strcmp(file, "-") == 0 ? STDIN_FILENO : open(file, O_RDONLY | O_CLOEXEC);
    if (im->fd < 0)
        return ssp_diag_set(d, SSP_ERR_IO, "cannot open %s: %s", file, strerror(errno));
    return SSP_OK;
}

static void
import_close(struct import *im)
{
    if (im->fd > STDIN_FILENO)
        close(im->fd);
    for (size_t i = 0; i < 2; i++)
        ssp_free(im->b[i].line);
    ssp_buf_fini(&im->head);
    ssp_buf_fini(&im->body);
    ssp_buf_fini(&im->in);
}

int
ssp_cmd_import(struct ssp_cli *cli, const struct ssp_args *a)
{
    struct import im = {0};
    struct ssp_diag d = {{0}};
    struct ssp_buf b;
    struct ssp_mpw w;
    char line[64];
    im.max = BATCH_DEFAULT;
    int status = ssp_args_size(a, "batch", 1, BATCH_MAX, &im.max);
    if (status == SSP_EXIT_OK)
        status = ssp_args_size(a, "skip", 0, SIZE_MAX, &im.skip);
    if (status != SSP_EXIT_OK)
        return status;
    im.done_line = im.skip;
    im.tty = isatty(STDERR_FILENO);
    im.progress = ssp_args_has(a, "progress");
    ssp_buf_init(&b);
    ssp_err rc = import_open(&im, cli, a->pos[0], &d);
    if (rc == SSP_OK)
        rc = import_all(&im, &d);
    if (im.shown)
        fputc('\n', stderr);
    if (rc != SSP_OK) {
        status = ssp_out_exit(rc, &d);
        goto out;
    }
    snprintf(line, sizeof line, "imported %llu record%s", im.count, im.count == 1 ? "" : "s");
    ssp_mpw_init(&w, &b);
    ssp_mpw_map(&w, 1);
    ssp_mpw_cstr(&w, "count");
    ssp_mpw_uint(&w, im.count);
    status = ssp_cli_print(cli, &w, line);
out:
    ssp_buf_fini(&b);
    import_close(&im);
    return status;
}
