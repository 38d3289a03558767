/*
 * JSON <-> msgpack, see cli/json.h.
 *
 * The parser is a recursive descent over the input bytes (recursion is
 * bounded by SSP_MP_MAX_DEPTH) that writes msgpack as it goes, with no tree
 * in between. Two things in msgpack need a length before the bytes it
 * counts:
 *
 * - Arrays and maps. We write a one-byte fixarray/fixmap header as a
 *   placeholder, write the elements after it, and when the container closes
 *   patch in the count. Only a container of 16 or more elements needs a
 *   wider header, and then its body is moved up by 2 or 4 bytes. A counting
 *   pre-pass would read every byte twice (and nested containers more often);
 *   patching reads each byte once and only moves bytes for big containers,
 *   which are rare inside records. A top-level array of 100,000 records is
 *   moved once, by 4 bytes. The result is the same smallest encoding that
 *   msgpack-c's packer would choose, so the output is canonical.
 *
 * - Strings. A first scan over the string validates it and measures its
 *   decoded length; strings without escapes (nearly all of them) are then
 *   copied in one piece, the others decoded straight into the output buffer.
 *
 * Positions in error messages count bytes from 1, as editors count columns.
 */
#include "cli/json.h"

#include <assert.h>
#include <inttypes.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STRINGIFY_(x) #x
#define STRINGIFY(x) STRINGIFY_(x)

/*
 * 1 for the bytes that stand for themselves inside a JSON string in both
 * directions: printable ASCII except '"' and '\\'. DEL is left out so that
 * the writer escapes it; the parser accepts it on its slower path, as it
 * does the bytes from 0x80 up (UTF-8), which the table leaves at 0.
 */
/* clang-format off */
static const uint8_t plain[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x00 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x10 */
    1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x20, '"' */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x30 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x40 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, /* 0x50, '\\' */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x60 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, /* 0x70, DEL */
};
/* clang-format on */

static bool
is_digit(uint8_t c)
{
    return (unsigned)(c - '0') < 10;
}

static bool
is_cont(uint8_t c)
{
    return (c & 0xc0) == 0x80;
}

/*
 * The length of the well-formed UTF-8 sequence at p, or 0 if there is none.
 * The ranges are those of Unicode's table 3-7, which excludes overlong forms,
 * encoded surrogates and code points above U+10FFFF.
 */
static size_t
utf8_seq(const uint8_t *p, const uint8_t *end)
{
    size_t left = (size_t)(end - p);
    uint8_t c = p[0];
    if (c < 0x80)
        return 1;
    if (c < 0xc2)
        return 0;
    if (c < 0xe0)
        return left >= 2 && is_cont(p[1]) ? 2 : 0;
    if (c < 0xf0) {
        uint8_t lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
        return left >= 3 && p[1] >= lo && p[1] <= hi && is_cont(p[2]) ? 3 : 0;
    }
    if (c < 0xf5) {
        uint8_t lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
        return left >= 4 && p[1] >= lo && p[1] <= hi && is_cont(p[2]) && is_cont(p[3]) ? 4 : 0;
    }
    return 0;
}

static size_t
utf8_len(uint32_t cp)
{
    return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}

static size_t
utf8_put(uint8_t *dst, uint32_t cp)
{
    size_t n = utf8_len(cp);
    static const uint8_t lead[5] = {0, 0, 0xc0, 0xe0, 0xf0};
    for (size_t i = n - 1; i > 0; i--) {
        dst[i] = (uint8_t)(0x80 | (cp & 0x3f));
        cp >>= 6;
    }
    dst[0] = (uint8_t)(lead[n] | cp);
    return n;
}

/* JSON -> msgpack */

struct parser {
    const uint8_t *start;
    const uint8_t *p;
    const uint8_t *end;
    struct ssp_mpw *w;
    struct ssp_diag *d;
};

static ssp_err
fail(const struct parser *ps, const uint8_t *at, const char *what)
{
    ssp_diag_set(ps->d, SSP_ERR_PROTO, "byte %zu: expected %s", (size_t)(at - ps->start) + 1, what);
    return SSP_ERR_PROTO;
}

static void
skip_ws(struct parser *ps)
{
    const uint8_t *p = ps->p;
    while (p < ps->end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
        p++;
    ps->p = p;
}

static bool
hex4(const uint8_t *p, const uint8_t *end, uint32_t *v)
{
    uint32_t x = 0;
    if (end - p < 4)
        return false;
    for (int i = 0; i < 4; i++) {
        uint8_t c = p[i];
        uint8_t lc = (uint8_t)(c | 0x20);
        if (is_digit(c))
            x = x << 4 | (uint32_t)(c - '0');
        else if (lc >= 'a' && lc <= 'f')
            x = x << 4 | (uint32_t)(lc - 'a' + 10);
        else
            return false;
    }
    *v = x;
    return true;
}

/*
 * Decodes the escape at p (*p == '\\') into a code point, joining a
 * surrogate pair. Returns the bytes it took, or 0 with *what saying what was
 * expected instead.
 */
static size_t
read_escape(const uint8_t *p, const uint8_t *end, uint32_t *cp, const char **what)
{
    static const char simple[] = "\"\\/bfnrt";
    static const char decoded[] = "\"\\/\b\f\n\r\t";
    const char *hit = end - p >= 2 && p[1] != '\0' ? strchr(simple, p[1]) : NULL;
    uint32_t hi, lo;
    if (hit != NULL) {
        *cp = (uint8_t)decoded[hit - simple];
        return 2;
    }
    if (end - p < 2 || p[1] != 'u') {
        *what = "one of \"\\/bfnrtu after a backslash";
        return 0;
    }
    if (!hex4(p + 2, end, &hi)) {
        *what = "four hex digits after \\u";
        return 0;
    }
    if (hi < 0xd800 || hi > 0xdfff) {
        *cp = hi;
        return 6;
    }
    if (hi >= 0xdc00) {
        *what = "a high surrogate \\ud800-\\udbff before a low surrogate";
        return 0;
    }
    if (end - p < 12 || p[6] != '\\' || p[7] != 'u' || !hex4(p + 8, end, &lo) || lo < 0xdc00 ||
        lo > 0xdfff) {
        *what = "a low surrogate \\udc00-\\udfff after a high surrogate";
        return 0;
    }
    *cp = 0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00);
    return 12;
}

struct str_scan {
    const uint8_t *close; /* the closing quote */
    size_t n;             /* decoded length */
    bool escaped;
};

/* Validates the string whose opening quote is at ps->p and measures it. */
static ssp_err
scan_string(const struct parser *ps, struct str_scan *s)
{
    const uint8_t *q = ps->p + 1, *end = ps->end;
    uint32_t cp;
    const char *what;
    s->n = 0;
    s->escaped = false;
    for (;;) {
        const uint8_t *run = q;
        while (q < end && plain[*q])
            q++;
        s->n += (size_t)(q - run);
        if (q == end)
            return fail(ps, q, "'\"' to close the string");
        if (*q == '"')
            break;
        size_t k;
        if (*q == '\\') {
            k = read_escape(q, end, &cp, &what);
            if (k == 0)
                return fail(ps, q, what);
            s->n += utf8_len(cp);
            s->escaped = true;
        } else if (*q < 0x20) {
            return fail(ps, q, "an escape instead of a raw control character");
        } else {
            k = utf8_seq(q, end);
            if (k == 0)
                return fail(ps, q, "valid UTF-8");
            s->n += k;
        }
        q += k;
    }
    s->close = q;
    return SSP_OK;
}

/* Decodes the validated string body [p, close) into dst. */
static uint8_t *
decode_string(uint8_t *dst, const uint8_t *p, const uint8_t *close)
{
    uint32_t cp = 0; /* always set: the string was validated by scan_string */
    const char *what;
    while (p < close) {
        const uint8_t *bs = memchr(p, '\\', (size_t)(close - p));
        size_t run = (size_t)((bs != NULL ? bs : close) - p);
        memcpy(dst, p, run);
        dst += run;
        p += run;
        if (p < close) {
            p += read_escape(p, close, &cp, &what);
            dst += utf8_put(dst, cp);
        }
    }
    return dst;
}

static ssp_err
parse_string(struct parser *ps)
{
    struct str_scan s;
    struct ssp_mpw *w = ps->w;
    ssp_err rc = scan_string(ps, &s);
    if (rc != SSP_OK)
        return rc;
    if (s.n > UINT32_MAX)
        return fail(ps, ps->p, "a string shorter than 4 GiB");
    if (!s.escaped) {
        ssp_mpw_str(w, ps->p + 1, s.n);
    } else {
        /* The head first; the body is decoded into place below. */
        ssp_mpw_str_head(w, s.n);
        if (w->err == SSP_OK)
            w->err = ssp_buf_reserve(w->buf, s.n);
        if (w->err != SSP_OK)
            return w->err;
        uint8_t *dst = w->buf->p + w->buf->n;
        uint8_t *stop = decode_string(dst, ps->p + 1, s.close);
        assert((size_t)(stop - dst) == s.n);
        w->buf->n += (size_t)(stop - dst);
    }
    ps->p = s.close + 1;
    return SSP_OK;
}

/*
 * strtod reads the decimal point of LC_NUMERIC, which is ',' in many
 * locales once the program calls setlocale(). Copies the number [s, s+n)
 * NUL-terminated into tmp (of size n + strlen(dp) + 1) with '.' spelled dp.
 */
static void
copy_for_strtod(char *tmp, const uint8_t *s, size_t n, const char *dp)
{
    size_t dpn = strlen(dp);
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '.') {
            memcpy(tmp, dp, dpn);
            tmp += dpn;
        } else {
            *tmp++ = (char)s[i];
        }
    }
    *tmp = '\0';
}

static ssp_err
write_double(struct parser *ps, const uint8_t *s, size_t n)
{
    char stack[64];
    const char *dp = localeconv()->decimal_point;
    size_t cap = n + strlen(dp) + 1;
    /* JSON does not bound a number's length; only absurd ones go to the heap. */
    char *tmp = cap <= sizeof stack ? stack : ssp_alloc(cap);
    if (tmp == NULL)
        return SSP_ERR_NOMEM;
    copy_for_strtod(tmp, s, n, dp);
    double v = strtod(tmp, NULL);
    if (tmp != stack)
        ssp_free(tmp);
    /* Underflow to zero is a fine reading of 1e-999; overflow has no value. */
    if (isinf(v))
        return fail(ps, s, "a number within the range of a double");
    ssp_mpw_float(ps->w, v);
    return SSP_OK;
}

/* Scans digits from *q; the first must be there. */
static bool
scan_digits(const uint8_t **q, const uint8_t *end)
{
    const uint8_t *p = *q;
    if (p == end || !is_digit(*p))
        return false;
    while (p < end && is_digit(*p))
        p++;
    *q = p;
    return true;
}

static ssp_err
parse_number(struct parser *ps)
{
    const uint8_t *s = ps->p, *q = s, *end = ps->end;
    bool neg = *q == '-';
    bool integral = true, big = false;
    uint64_t mag = 0;
    if (neg)
        q++;
    if (q == end || !is_digit(*q))
        return fail(ps, q, "a digit");
    if (*q == '0' && end - q > 1 && is_digit(q[1]))
        return fail(ps, q, "a number without leading zeros");
    /* The integer part is accumulated on the way, for the common case. */
    for (; q < end && is_digit(*q); q++) {
        unsigned dgt = (unsigned)(*q - '0');
        if (mag > (UINT64_MAX - dgt) / 10)
            big = true;
        else
            mag = mag * 10 + dgt;
    }
    if (q < end && *q == '.') {
        q++;
        if (!scan_digits(&q, end))
            return fail(ps, q, "a digit after the decimal point");
        integral = false;
    }
    if (q < end && (*q == 'e' || *q == 'E')) {
        q++;
        if (q < end && (*q == '+' || *q == '-'))
            q++;
        if (!scan_digits(&q, end))
            return fail(ps, q, "a digit in the exponent");
        integral = false;
    }
    ps->p = q;
    if (integral && !big && mag <= (uint64_t)INT64_MAX + neg) {
        /* -2^63 has no positive int64 counterpart, so it is named directly. */
        int64_t v = mag > (uint64_t)INT64_MAX ? INT64_MIN : neg ? -(int64_t)mag : (int64_t)mag;
        ssp_mpw_int(ps->w, v);
        return SSP_OK;
    }
    return write_double(ps, s, (size_t)(q - s));
}

static bool
take_word(struct parser *ps, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
        return false;
    ps->p += n;
    return true;
}

static ssp_err
parse_literal(struct parser *ps)
{
    if (take_word(ps, "true"))
        ssp_mpw_bool(ps->w, true);
    else if (take_word(ps, "false"))
        ssp_mpw_bool(ps->w, false);
    else if (take_word(ps, "null"))
        ssp_mpw_nil(ps->w);
    else
        return fail(ps, ps->p, "a JSON value");
    return SSP_OK;
}

/*
 * Sets the header of the container whose one-byte placeholder is at `at` in
 * the output, widening it (and moving the body up) when n needs more than a
 * fix* header. fix is 0x90 (array) or 0x80 (map); the 16- and 32-bit forms
 * follow at wide and wide + 1.
 */
static void
patch_header(struct ssp_mpw *w, size_t at, uint8_t fix, uint8_t wide, size_t n)
{
    struct ssp_buf *b = w->buf;
    if (w->err != SSP_OK)
        return;
    if (n < 16) {
        b->p[at] = (uint8_t)(fix | n);
        return;
    }
    size_t width = n <= UINT16_MAX ? 2 : 4;
    w->err = ssp_buf_reserve(b, width);
    if (w->err != SSP_OK)
        return;
    memmove(b->p + at + 1 + width, b->p + at + 1, b->n - at - 1);
    b->n += width;
    b->p[at] = (uint8_t)(width == 2 ? wide : wide + 1);
    for (size_t i = width; i > 0; i--) {
        b->p[at + i] = (uint8_t)n;
        n >>= 8;
    }
}

static ssp_err parse_value(struct parser *ps, unsigned depth);

/* Parses the members of an object or the elements of an array after its opener. */
static ssp_err
parse_members(struct parser *ps, unsigned depth, bool is_map)
{
    const uint8_t closer = is_map ? '}' : ']';
    const char *next = is_map ? "',' or '}'" : "',' or ']'";
    size_t at = ps->w->buf->n, n = 0;
    ssp_err rc;
    if (is_map)
        ssp_mpw_map(ps->w, 0);
    else
        ssp_mpw_array(ps->w, 0);
    ps->p++;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == closer) {
        ps->p++;
        return SSP_OK;
    }
    for (;;) {
        if (is_map) {
            if (ps->p == ps->end || *ps->p != '"')
                return fail(ps, ps->p, "a string as the member name");
            rc = parse_string(ps);
            if (rc != SSP_OK)
                return rc;
            skip_ws(ps);
            if (ps->p == ps->end || *ps->p != ':')
                return fail(ps, ps->p, "':' after the member name");
            ps->p++;
            skip_ws(ps);
        }
        rc = parse_value(ps, depth + 1);
        if (rc != SSP_OK)
            return rc;
        n++;
        skip_ws(ps);
        if (ps->p == ps->end || (*ps->p != ',' && *ps->p != closer))
            return fail(ps, ps->p, next);
        if (*ps->p++ == closer)
            break;
        skip_ws(ps);
    }
    if (n > UINT32_MAX)
        return fail(ps, ps->p, "at most 4294967295 elements in an array or object");
    patch_header(ps->w, at, is_map ? 0x80 : 0x90, is_map ? 0xde : 0xdc, n);
    return SSP_OK;
}

static ssp_err
parse_value(struct parser *ps, unsigned depth)
{
    if (ps->p == ps->end)
        return fail(ps, ps->p, "a JSON value");
    switch (*ps->p) {
    case '{':
    case '[':
        /* The same bound as ssp_mp_skip(), so our output always passes it. */
        if (depth >= SSP_MP_MAX_DEPTH)
            return fail(ps, ps->p,
                        "at most " STRINGIFY(SSP_MP_MAX_DEPTH) " nested arrays and objects");
        return parse_members(ps, depth, *ps->p == '{');
    case '"':
        return parse_string(ps);
    case 't':
    case 'f':
    case 'n':
        return parse_literal(ps);
    default:
        if (*ps->p == '-' || is_digit(*ps->p))
            return parse_number(ps);
        return fail(ps, ps->p, "a JSON value");
    }
}

ssp_err
ssp_json_to_mp(const char *in, size_t len, struct ssp_mpw *w, struct ssp_diag *d)
{
    const uint8_t *p = (const uint8_t *)in;
    struct parser ps = {p, p, p + len, w, d};
    /* Patching needs the buffer to hold everything the packer was given. */
    if (w->err != SSP_OK)
        return w->err;
    size_t mark = w->buf->n;
    skip_ws(&ps);
    ssp_err rc = parse_value(&ps, 0);
    if (rc == SSP_OK) {
        skip_ws(&ps);
        if (ps.p != ps.end)
            rc = fail(&ps, ps.p, "the end of the input after the JSON value");
    }
    if (rc == SSP_OK)
        rc = w->err;
    /* A refused input leaves nothing behind, so a caller may go on to the next. */
    if (rc != SSP_OK)
        w->buf->n = mark;
    return rc;
}

/* msgpack -> JSON */

struct writer {
    struct ssp_buf *out;
    size_t indent;
    ssp_err err; /* sticky, like struct ssp_mpw */
};

static void
put(struct writer *wr, const void *p, size_t n)
{
    if (wr->err == SSP_OK)
        wr->err = ssp_buf_append(wr->out, p, n);
}

static void
put_byte(struct writer *wr, char c)
{
    put(wr, &c, 1);
}

static void
put_cstr(struct writer *wr, const char *s)
{
    put(wr, s, strlen(s));
}

/* Starts a new line at the given depth when pretty-printing. */
static void
newline(struct writer *wr, unsigned depth)
{
    size_t n = wr->indent * depth;
    if (wr->indent == 0 || wr->err != SSP_OK)
        return;
    wr->err = ssp_buf_reserve(wr->out, n + 1);
    if (wr->err != SSP_OK)
        return;
    wr->out->p[wr->out->n] = '\n';
    memset(wr->out->p + wr->out->n + 1, ' ', n);
    wr->out->n += n + 1;
}

static void
put_u00(struct writer *wr, uint8_t c)
{
    static const char hex[] = "0123456789abcdef";
    char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
    put(wr, e, sizeof e);
}

/*
 * Writes the byte or sequence at p that plain[] does not pass through and
 * returns its length. Control characters (C0, DEL and C1, all below U+0100)
 * are escaped so that output from a peer cannot drive the terminal. Bytes
 * that are not UTF-8 become U+FFFD: a string from a peer is not trusted to
 * be valid, and the output must stay valid JSON.
 */
static size_t
put_special(struct writer *wr, const uint8_t *p, const uint8_t *end)
{
    if (*p == '"' || *p == '\\') {
        char e[2] = {'\\', (char)*p};
        put(wr, e, sizeof e);
        return 1;
    }
    if (*p < 0x80) {
        put_u00(wr, *p);
        return 1;
    }
    size_t k = utf8_seq(p, end);
    if (k == 0) {
        put(wr, "\xef\xbf\xbd", 3);
        return 1;
    }
    if (p[0] == 0xc2 && p[1] < 0xa0) {
        put_u00(wr, p[1]);
        return 2;
    }
    put(wr, p, k);
    return k;
}

static void
put_string(struct writer *wr, struct ssp_slice s)
{
    const uint8_t *p = s.p, *end = s.p + s.n;
    put_byte(wr, '"');
    while (p < end) {
        const uint8_t *run = p;
        while (p < end && plain[*p])
            p++;
        put(wr, run, (size_t)(p - run));
        if (p < end)
            p += put_special(wr, p, end);
    }
    put_byte(wr, '"');
}

static void
put_hex(struct writer *wr, struct ssp_slice s)
{
    static const char hex[] = "0123456789abcdef";
    if (wr->err != SSP_OK)
        return;
    wr->err = ssp_buf_reserve(wr->out, 2 * s.n + 2);
    if (wr->err != SSP_OK)
        return;
    char *dst = (char *)wr->out->p + wr->out->n;
    *dst++ = '"';
    for (size_t i = 0; i < s.n; i++) {
        *dst++ = hex[s.p[i] >> 4];
        *dst++ = hex[s.p[i] & 15];
    }
    *dst = '"';
    wr->out->n += 2 * s.n + 2;
}

/* snprintf writes LC_NUMERIC's decimal point; JSON's is always '.'. */
static void
dot_from_locale(char *s)
{
    const char *dp = localeconv()->decimal_point;
    size_t dpn = strlen(dp);
    char *at = strstr(s, dp);
    if (at == NULL || (dpn == 1 && *dp == '.'))
        return;
    *at = '.';
    memmove(at + 1, at + dpn, strlen(at + dpn) + 1);
}

/*
 * Writes the fewest of 15, 16 or 17 significant digits that read back as
 * the same double: 0.1 stays "0.1" where %.17g would say 0.10000000000000001.
 * A float that prints like an integer gets ".0" so that it reads back as a
 * float. NaN and infinities have no JSON form and become null.
 */
static void
put_double(struct writer *wr, double v)
{
    char s[64];
    if (!isfinite(v)) {
        put_cstr(wr, "null");
        return;
    }
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(s, sizeof s, "%.*g", prec, v);
        if (strtod(s, NULL) == v)
            break;
    }
    dot_from_locale(s);
    if (strpbrk(s, ".e") == NULL)
        memcpy(s + strlen(s), ".0", 3);
    put_cstr(wr, s);
}

static ssp_err write_value(struct writer *wr, struct ssp_mp *c, unsigned depth);

static ssp_err
write_array(struct writer *wr, struct ssp_mp *c, unsigned depth)
{
    uint32_t n;
    if (ssp_mp_array(c, &n) != SSP_OK)
        return SSP_ERR_PROTO;
    put_byte(wr, '[');
    for (uint32_t i = 0; i < n; i++) {
        if (i > 0)
            put_byte(wr, ',');
        newline(wr, depth + 1);
        ssp_err rc = write_value(wr, c, depth + 1);
        if (rc != SSP_OK)
            return rc;
    }
    if (n > 0)
        newline(wr, depth);
    put_byte(wr, ']');
    return SSP_OK;
}

static ssp_err
write_map(struct writer *wr, struct ssp_mp *c, unsigned depth)
{
    uint32_t n;
    struct ssp_slice key;
    if (ssp_mp_map(c, &n) != SSP_OK)
        return SSP_ERR_PROTO;
    put_byte(wr, '{');
    for (uint32_t i = 0; i < n; i++) {
        if (i > 0)
            put_byte(wr, ',');
        newline(wr, depth + 1);
        /* JSON names are strings; anything else would need an invented spelling. */
        if (ssp_mp_str(c, &key) != SSP_OK)
            return SSP_ERR_PROTO;
        put_string(wr, key);
        put(wr, ": ", wr->indent > 0 ? 2 : 1);
        ssp_err rc = write_value(wr, c, depth + 1);
        if (rc != SSP_OK)
            return rc;
    }
    if (n > 0)
        newline(wr, depth);
    put_byte(wr, '}');
    return SSP_OK;
}

static ssp_err
write_scalar(struct writer *wr, struct ssp_mp *c)
{
    char num[32];
    struct ssp_mp_value x;
    if (ssp_mp_scalar(c, &x) != SSP_OK)
        return SSP_ERR_PROTO;
    switch (x.type) {
    case SSP_MP_NIL:
        put_cstr(wr, "null");
        break;
    case SSP_MP_BOOL:
        put_cstr(wr, x.v.b ? "true" : "false");
        break;
    case SSP_MP_UINT:
        snprintf(num, sizeof num, "%" PRIu64, x.v.u);
        put_cstr(wr, num);
        break;
    case SSP_MP_INT:
        snprintf(num, sizeof num, "%" PRId64, x.v.i);
        put_cstr(wr, num);
        break;
    case SSP_MP_FLOAT:
        put_double(wr, x.v.f);
        break;
    case SSP_MP_STR:
        put_string(wr, x.v.s);
        break;
    default: /* SSP_MP_BIN */
        put_hex(wr, x.v.s);
        break;
    }
    return SSP_OK;
}

static ssp_err
write_value(struct writer *wr, struct ssp_mp *c, unsigned depth)
{
    enum ssp_mp_type t;
    if (ssp_mp_peek(c, &t) != SSP_OK)
        return SSP_ERR_PROTO;
    if (t != SSP_MP_ARRAY && t != SSP_MP_MAP)
        return write_scalar(wr, c);
    if (depth >= SSP_MP_MAX_DEPTH)
        return SSP_ERR_PROTO;
    return t == SSP_MP_ARRAY ? write_array(wr, c, depth) : write_map(wr, c, depth);
}

ssp_err
ssp_json_from_mp(struct ssp_mp *c, int indent, struct ssp_buf *out)
{
    if (indent < 0)
        return SSP_ERR_INVAL;
    struct writer wr = {out, (size_t)indent, SSP_OK};
    struct ssp_mp save = *c;
    size_t mark = out->n;
    ssp_err rc = write_value(&wr, c, 0);
    if (rc == SSP_OK)
        rc = wr.err;
    /* On failure the cursor and the buffer are as they were. */
    if (rc != SSP_OK) {
        *c = save;
        out->n = mark;
    }
    return rc;
}
