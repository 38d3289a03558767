/*
 * Fuzz target: peer sync messages (proto/sync.h). A message the decoder
 * accepts must iterate cleanly, re-encode to the very same bytes (there is
 * one encoding of each message), and decode again to the same message.
 */
#include <stdlib.h>
#include <string.h>

#include "proto/sync.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool
entry_eq(const struct ssp_frontier_entry *a, const struct ssp_frontier_entry *b)
{
    return ssp_slice_eq(a->scope, b->scope) &&
           memcmp(a->origin, b->origin, SSP_SYNC_NODE_LEN) == 0 && a->epoch == b->epoch &&
           a->seq == b->seq && memcmp(a->head, b->head, SSP_SYNC_HEAD_LEN) == 0;
}

/* The frontier's streams, in order, into a new array (NULL if there are none). */
static struct ssp_frontier_entry *
frontier_of(const struct ssp_sync_msg *m)
{
    struct ssp_sync_iter it = SSP_SYNC_ITER_INIT;
    struct ssp_frontier_entry *e = calloc(m->nstreams == 0 ? 1 : m->nstreams, sizeof *e);
    if (e == NULL)
        __builtin_trap();
    for (uint32_t i = 0; i < m->nstreams; i++)
        if (ssp_sync_frontier_next(m, &it, &e[i]) != SSP_OK)
            __builtin_trap();
    struct ssp_frontier_entry end;
    if (ssp_sync_frontier_next(m, &it, &end) != SSP_ERR_NOTFOUND)
        __builtin_trap();
    return e;
}

static struct ssp_slice *
commits_of(const struct ssp_sync_msg *m)
{
    struct ssp_sync_iter it = SSP_SYNC_ITER_INIT;
    struct ssp_slice *c = calloc(m->ncommits == 0 ? 1 : m->ncommits, sizeof *c), end;
    if (c == NULL)
        __builtin_trap();
    for (uint32_t i = 0; i < m->ncommits; i++)
        if (ssp_sync_commit_next(m, &it, &c[i]) != SSP_OK)
            __builtin_trap();
    if (ssp_sync_commit_next(m, &it, &end) != SSP_ERR_NOTFOUND)
        __builtin_trap();
    return c;
}

/* Encodes m again into out. */
static ssp_err
encode(struct ssp_buf *out, const struct ssp_sync_msg *m)
{
    ssp_err rc = SSP_ERR_INVAL;
    switch (m->type) {
    case SSP_SYNC_HELLO: {
        struct ssp_frontier_entry *e = frontier_of(m);
        rc = ssp_sync_encode_hello(out, m->node, m->schema, m->clock_ms, e, m->nstreams);
        free(e);
        break;
    }
    case SSP_SYNC_COMMITS: {
        struct ssp_slice *c = commits_of(m);
        rc = ssp_sync_encode_commits(out, m->frame, c, m->ncommits);
        free(c);
        break;
    }
    case SSP_SYNC_ACK:
        rc = ssp_sync_encode_ack(out, m->frame);
        break;
    case SSP_SYNC_DONE:
        rc = ssp_sync_encode_done(out, m->frame);
        break;
    case SSP_SYNC_MARK:
        rc = ssp_sync_encode_mark(out, m->frame);
        break;
    case SSP_SYNC_NOTICE:
        rc = ssp_sync_encode_notice(out, m->code, m->text);
        break;
    }
    return rc;
}

static bool
msg_eq(const struct ssp_sync_msg *a, const struct ssp_sync_msg *b)
{
    if (a->type != b->type || a->frame != b->frame || a->proto != b->proto ||
        a->schema != b->schema || a->clock_ms != b->clock_ms || a->nscopes != b->nscopes ||
        a->norigins != b->norigins || a->nstreams != b->nstreams || a->ncommits != b->ncommits ||
        a->code != b->code || !ssp_slice_eq(a->text, b->text) ||
        (a->node == NULL) != (b->node == NULL) ||
        (a->node != NULL && memcmp(a->node, b->node, SSP_SYNC_NODE_LEN) != 0))
        return false;
    bool eq = true;
    if (a->type == SSP_SYNC_HELLO) {
        struct ssp_frontier_entry *x = frontier_of(a), *y = frontier_of(b);
        for (uint32_t i = 0; i < a->nstreams && eq; i++)
            eq = entry_eq(&x[i], &y[i]);
        free(x);
        free(y);
    } else if (a->type == SSP_SYNC_COMMITS) {
        struct ssp_slice *x = commits_of(a), *y = commits_of(b);
        for (uint32_t i = 0; i < a->ncommits && eq; i++)
            eq = ssp_slice_eq(x[i], y[i]);
        free(x);
        free(y);
    }
    return eq;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ssp_sync_msg m, again;
    struct ssp_buf b;
    if (ssp_sync_decode(SSP_SLICE(data, size), &m) != SSP_OK)
        return 0;
    ssp_buf_init(&b);
    if (encode(&b, &m) != SSP_OK || b.n != size || memcmp(b.p, data, size) != 0)
        __builtin_trap();
    if (ssp_sync_decode(SSP_BUF_SLICE(&b), &again) != SSP_OK || !msg_eq(&m, &again))
        __builtin_trap();
    ssp_buf_fini(&b);
    return 0;
}
