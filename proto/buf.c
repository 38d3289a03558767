#include "proto/buf.h"

#include <stdlib.h>
#include <string.h>

static long fail_after = -1;

static bool
alloc_allowed(void)
{
    if (fail_after < 0)
        return true;
    if (fail_after == 0)
        return false;
    fail_after--;
    return true;
}

void
ssp_alloc_fail_after(long n)
{
    fail_after = n;
}

void
ssp_alloc_fail_reset(void)
{
    fail_after = -1;
}

void *
ssp_alloc(size_t n)
{
    return alloc_allowed() ? malloc(n == 0 ? 1 : n) : NULL;
}

void *
ssp_calloc(size_t count, size_t size)
{
    return alloc_allowed() ? calloc(count == 0 ? 1 : count, size == 0 ? 1 : size) : NULL;
}

void *
ssp_realloc(void *p, size_t n)
{
    return alloc_allowed() ? realloc(p, n == 0 ? 1 : n) : NULL;
}

void
ssp_free(void *p)
{
    free(p);
}

char *
ssp_strndup(const char *s, size_t n)
{
    char *d = ssp_alloc(n + 1);
    if (d != NULL) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

void
ssp_buf_init(struct ssp_buf *b)
{
    b->p = NULL;
    b->n = 0;
    b->cap = 0;
}

void
ssp_buf_fini(struct ssp_buf *b)
{
    if (b == NULL)
        return;
    ssp_free(b->p);
    ssp_buf_init(b);
}

ssp_err
ssp_buf_reserve(struct ssp_buf *b, size_t extra)
{
    if (extra <= b->cap - b->n)
        return SSP_OK;
    if (extra > SIZE_MAX / 2 - b->n)
        return SSP_ERR_NOMEM;
    size_t cap = b->cap < 64 ? 64 : b->cap;
    while (cap - b->n < extra)
        cap *= 2;
    uint8_t *p = ssp_realloc(b->p, cap);
    if (p == NULL)
        return SSP_ERR_NOMEM;
    b->p = p;
    b->cap = cap;
    return SSP_OK;
}

ssp_err
ssp_buf_append(struct ssp_buf *b, const void *p, size_t n)
{
    ssp_err rc = ssp_buf_reserve(b, n);
    if (rc != SSP_OK)
        return rc;
    if (n > 0)
        memcpy(b->p + b->n, p, n);
    b->n += n;
    return SSP_OK;
}

ssp_err
ssp_buf_append_u8(struct ssp_buf *b, uint8_t v)
{
    return ssp_buf_append(b, &v, 1);
}

ssp_err
ssp_buf_append_be32(struct ssp_buf *b, uint32_t v)
{
    uint8_t t[4];
    ssp_put_be32(t, v);
    return ssp_buf_append(b, t, sizeof t);
}

ssp_err
ssp_buf_append_be64(struct ssp_buf *b, uint64_t v)
{
    uint8_t t[8];
    ssp_put_be64(t, v);
    return ssp_buf_append(b, t, sizeof t);
}

void
ssp_buf_consume(struct ssp_buf *b, size_t n)
{
    if (n >= b->n) {
        b->n = 0;
        return;
    }
    memmove(b->p, b->p + n, b->n - n);
    b->n -= n;
}

bool
ssp_slice_eq(struct ssp_slice a, struct ssp_slice b)
{
    return a.n == b.n && (a.n == 0 || memcmp(a.p, b.p, a.n) == 0);
}

bool
ssp_slice_eq_str(struct ssp_slice a, const char *s)
{
    /* No strlen first: most compares (map keys against a table) fail on the first byte. */
    for (size_t i = 0; i < a.n; i++)
        if (s[i] == '\0' || (uint8_t)s[i] != a.p[i])
            return false;
    return s[a.n] == '\0';
}

void
ssp_put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

void
ssp_put_be64(uint8_t *p, uint64_t v)
{
    ssp_put_be32(p, (uint32_t)(v >> 32));
    ssp_put_be32(p + 4, (uint32_t)v);
}

uint32_t
ssp_get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

uint64_t
ssp_get_be64(const uint8_t *p)
{
    return (uint64_t)ssp_get_be32(p) << 32 | ssp_get_be32(p + 4);
}

#define ARENA_BLOCK 4096

struct ssp_arena_block {
    struct ssp_arena_block *next;
    size_t used, cap;
    uint8_t data[];
};

void
ssp_arena_init(struct ssp_arena *a)
{
    a->head = NULL;
}

void
ssp_arena_fini(struct ssp_arena *a)
{
    while (a->head != NULL) {
        struct ssp_arena_block *next = a->head->next;
        ssp_free(a->head);
        a->head = next;
    }
}

void
ssp_arena_reset(struct ssp_arena *a)
{
    if (a->head == NULL)
        return;
    struct ssp_arena_block *keep = a->head;
    a->head = keep->next;
    ssp_arena_fini(a);
    keep->next = NULL;
    keep->used = 0;
    a->head = keep;
}

ssp_err
ssp_arena_copy(struct ssp_arena *a, struct ssp_slice s, struct ssp_slice *out)
{
    struct ssp_arena_block *b = a->head;
    if (b == NULL || b->cap - b->used < s.n) {
        size_t cap = s.n > ARENA_BLOCK ? s.n : ARENA_BLOCK;
        b = ssp_alloc(sizeof *b + cap);
        if (b == NULL)
            return SSP_ERR_NOMEM;
        b->used = 0;
        b->cap = cap;
        b->next = a->head;
        a->head = b;
    }
    uint8_t *p = b->data + b->used;
    if (s.n > 0)
        memcpy(p, s.p, s.n);
    b->used += s.n;
    *out = SSP_SLICE(p, s.n);
    return SSP_OK;
}
