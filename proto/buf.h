/*
 * Byte slices, growable buffers and the one allocator hook.
 *
 * A struct ssp_slice borrows bytes owned by someone else: its lifetime is
 * stated wherever one is returned (for LMDB values, until the transaction
 * ends). A struct ssp_buf owns its bytes. All heap use in ssp-node goes
 * through ssp_alloc/ssp_realloc/ssp_free so tests can inject failures.
 */
#ifndef SSP_PROTO_BUF_H
#define SSP_PROTO_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/err.h"

struct ssp_slice {
    const uint8_t *p;
    size_t n;
};

struct ssp_buf {
    uint8_t *p;
    size_t n;
    size_t cap;
};

#define SSP_SLICE(ptr, len) ((struct ssp_slice){(const uint8_t *)(ptr), (len)})
#define SSP_SLICE_STR(s) SSP_SLICE((s), strlen(s))
#define SSP_BUF_SLICE(b) SSP_SLICE((b)->p, (b)->n)

void *ssp_alloc(size_t n);
void *ssp_calloc(size_t count, size_t size);
void *ssp_realloc(void *p, size_t n);
void ssp_free(void *p);
char *ssp_strndup(const char *s, size_t n);

/*
 * Test seam: after `n` more successful allocations, every allocation fails
 * until ssp_alloc_fail_reset(). Negative n disables injection.
 */
void ssp_alloc_fail_after(long n);
void ssp_alloc_fail_reset(void);

void ssp_buf_init(struct ssp_buf *b);
void ssp_buf_fini(struct ssp_buf *b);
/* Ensures room for `extra` more bytes. */
SSP_MUST_CHECK ssp_err ssp_buf_reserve(struct ssp_buf *b, size_t extra);
SSP_MUST_CHECK ssp_err ssp_buf_append(struct ssp_buf *b, const void *p, size_t n);
SSP_MUST_CHECK ssp_err ssp_buf_append_u8(struct ssp_buf *b, uint8_t v);
SSP_MUST_CHECK ssp_err ssp_buf_append_be32(struct ssp_buf *b, uint32_t v);
SSP_MUST_CHECK ssp_err ssp_buf_append_be64(struct ssp_buf *b, uint64_t v);
/* Drops the first n bytes, moving the rest to the front. */
void ssp_buf_consume(struct ssp_buf *b, size_t n);

bool ssp_slice_eq(struct ssp_slice a, struct ssp_slice b);
bool ssp_slice_eq_str(struct ssp_slice a, const char *s);

void ssp_put_be32(uint8_t *p, uint32_t v);
void ssp_put_be64(uint8_t *p, uint64_t v);
uint32_t ssp_get_be32(const uint8_t *p);
uint64_t ssp_get_be64(const uint8_t *p);

/*
 * An arena: many small copies freed at once. Returned pointers stay valid
 * until ssp_arena_reset or ssp_arena_fini (blocks never move).
 */
struct ssp_arena {
    struct ssp_arena_block *head;
};

void ssp_arena_init(struct ssp_arena *a);
void ssp_arena_fini(struct ssp_arena *a);
/* Frees all but the newest block, which is kept for reuse. */
void ssp_arena_reset(struct ssp_arena *a);
/* Copies s into the arena; NULL slice p on allocation failure. */
SSP_MUST_CHECK ssp_err ssp_arena_copy(struct ssp_arena *a, struct ssp_slice s,
                                      struct ssp_slice *out);
#endif
