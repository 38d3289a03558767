/*
 * MessagePack reading and writing.
 *
 * Reading is a zero-copy cursor over untrusted bytes. Every read checks that
 * the bytes are there before touching them; a container's element count may
 * not exceed the bytes left (each element takes at least one), so a caller
 * that sizes an allocation by a count can never be made to allocate more than
 * the input's size (the failure of msgpack-c's unpacker in msgpack-c#1013).
 * Nesting is limited to SSP_MP_MAX_DEPTH in ssp_mp_skip(). Strings and bins
 * come back as slices into the input: they live as long as the input does.
 *
 * Writing goes through msgpack-c's packer into a struct ssp_buf. Errors are
 * sticky: check w->err once at the end.
 */
#ifndef SSP_PROTO_MP_H
#define SSP_PROTO_MP_H

#include <msgpack.h>
#include <stdbool.h>
#include <stdint.h>

#include "proto/buf.h"

#define SSP_MP_MAX_DEPTH 16

enum ssp_mp_type {
    SSP_MP_NIL,
    SSP_MP_BOOL,
    SSP_MP_UINT,
    SSP_MP_INT, /* negative integers */
    SSP_MP_FLOAT,
    SSP_MP_STR,
    SSP_MP_BIN,
    SSP_MP_ARRAY,
    SSP_MP_MAP,
    SSP_MP_EXT,
};

struct ssp_mp {
    const uint8_t *p;
    const uint8_t *end;
};

void ssp_mp_init(struct ssp_mp *c, struct ssp_slice s);
bool ssp_mp_done(const struct ssp_mp *c);
/* The type of the next value; SSP_ERR_PROTO at the end or on a reserved byte. */
SSP_MUST_CHECK ssp_err ssp_mp_peek(const struct ssp_mp *c, enum ssp_mp_type *t);
bool ssp_mp_is_nil(const struct ssp_mp *c);

SSP_MUST_CHECK ssp_err ssp_mp_nil(struct ssp_mp *c);
SSP_MUST_CHECK ssp_err ssp_mp_bool(struct ssp_mp *c, bool *v);
SSP_MUST_CHECK ssp_err ssp_mp_uint(struct ssp_mp *c, uint64_t *v);
/* Any integer that fits in int64_t. */
SSP_MUST_CHECK ssp_err ssp_mp_int(struct ssp_mp *c, int64_t *v);
SSP_MUST_CHECK ssp_err ssp_mp_float(struct ssp_mp *c, double *v);
SSP_MUST_CHECK ssp_err ssp_mp_str(struct ssp_mp *c, struct ssp_slice *s);
SSP_MUST_CHECK ssp_err ssp_mp_bin(struct ssp_mp *c, struct ssp_slice *s);
/* A bin of exactly n bytes. */
SSP_MUST_CHECK ssp_err ssp_mp_bin_n(struct ssp_mp *c, uint8_t *out, size_t n);
SSP_MUST_CHECK ssp_err ssp_mp_array(struct ssp_mp *c, uint32_t *n);
SSP_MUST_CHECK ssp_err ssp_mp_map(struct ssp_mp *c, uint32_t *n);
/* One decoded scalar, as ssp_mp_scalar reads it. */
struct ssp_mp_value {
    enum ssp_mp_type type;
    union {
        bool b;
        uint64_t u; /* SSP_MP_UINT */
        int64_t i;  /* SSP_MP_INT (negative) */
        double f;
        struct ssp_slice s; /* SSP_MP_STR, SSP_MP_BIN: borrowed from the input */
    } v;
};

/* Reads the next value if it is a scalar (nil, bool, integer, float, str, bin). */
SSP_MUST_CHECK ssp_err ssp_mp_scalar(struct ssp_mp *c, struct ssp_mp_value *out);
/* Skips one whole value (nested at most SSP_MP_MAX_DEPTH deep). */
SSP_MUST_CHECK ssp_err ssp_mp_skip(struct ssp_mp *c);
/* Skips one value and returns its encoded bytes. */
SSP_MUST_CHECK ssp_err ssp_mp_raw(struct ssp_mp *c, struct ssp_slice *raw);
/* The encoded value of key in the encoded map m; empty when it is absent or m is no map. */
struct ssp_slice ssp_mp_map_get(struct ssp_slice m, struct ssp_slice key);
/* Checks that s holds exactly one well-formed value within the depth limit. */
SSP_MUST_CHECK ssp_err ssp_mp_check(struct ssp_slice s);

/* How ssp_mp_read_map stores a value. */
enum ssp_mp_as {
    SSP_AS_STR,   /* out: struct ssp_slice, the string's bytes */
    SSP_AS_UINT,  /* out: uint64_t */
    SSP_AS_INT,   /* out: int64_t */
    SSP_AS_BOOL,  /* out: bool */
    SSP_AS_MAP,   /* out: struct ssp_slice, the map's encoding */
    SSP_AS_ARRAY, /* out: struct ssp_slice, the array's encoding */
    SSP_AS_RAW,   /* out: struct ssp_slice, the encoding of a value of any type */
};

struct ssp_mp_key {
    const char *key;
    enum ssp_mp_as as;
    bool required;
    void *out;
};

/*
 * Reads the map at c, storing the value of each key listed in keys as its
 * entry says. A nil value counts as absent; slices of absent keys are set
 * to {NULL, 0}, other outputs are left as they were. A key given twice is
 * refused. Errors, with *bad (if not NULL) set to the key at fault:
 * SSP_ERR_PROTO for malformed bytes or, with strict, a key not listed;
 * SSP_ERR_INVAL for a value of the wrong type; SSP_ERR_NOTFOUND for a
 * missing required key. On error c is left where it was.
 */
SSP_MUST_CHECK ssp_err ssp_mp_read_map(struct ssp_mp *c, const struct ssp_mp_key *keys, size_t n,
                                       bool strict, struct ssp_slice *bad);

struct ssp_mpw {
    msgpack_packer pk;
    struct ssp_buf *buf;
    ssp_err err;
};

/* Appends to buf (borrowed until the writer is no longer used). */
void ssp_mpw_init(struct ssp_mpw *w, struct ssp_buf *buf);
void ssp_mpw_nil(struct ssp_mpw *w);
void ssp_mpw_bool(struct ssp_mpw *w, bool v);
void ssp_mpw_uint(struct ssp_mpw *w, uint64_t v);
void ssp_mpw_int(struct ssp_mpw *w, int64_t v);
void ssp_mpw_float(struct ssp_mpw *w, double v);
void ssp_mpw_str(struct ssp_mpw *w, const void *s, size_t n);
void ssp_mpw_cstr(struct ssp_mpw *w, const char *s);
void ssp_mpw_bin(struct ssp_mpw *w, const void *p, size_t n);
/* Only the head of a str or bin of n bytes: the caller appends the bytes. */
void ssp_mpw_str_head(struct ssp_mpw *w, size_t n);
void ssp_mpw_bin_head(struct ssp_mpw *w, size_t n);
void ssp_mpw_array(struct ssp_mpw *w, size_t n);
void ssp_mpw_map(struct ssp_mpw *w, size_t n);
/* Appends bytes that already hold encoded values. */
void ssp_mpw_raw(struct ssp_mpw *w, struct ssp_slice raw);

#endif
