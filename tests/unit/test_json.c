/* Tests for cli/json.c: JSON -> msgpack, msgpack -> JSON and the round trip. */
#include "cli/json.h"

#include <float.h>
#include <locale.h>
#include <math.h>

#include "harness.h"

/* Parses json (len bytes) into b, which must accept it. */
static void
parse_n(const char *json, size_t len, struct ssp_buf *b)
{
    struct ssp_mpw w;
    struct ssp_diag d = {{0}};
    ssp_mpw_init(&w, b);
    ssp_err rc = ssp_json_to_mp(json, len, &w, &d);
    if (rc != SSP_OK)
        fprintf(stderr, "refused %s: %s\n", json, d.msg);
    CHECK_OK(rc);
}

static void
parse(const char *json, struct ssp_buf *b)
{
    parse_n(json, strlen(json), b);
}

/* The JSON text of the one msgpack value in mp; free with ssp_free. */
static char *
json_of(struct ssp_slice mp, int indent)
{
    struct ssp_mp c;
    struct ssp_buf out;
    ssp_mp_init(&c, mp);
    ssp_buf_init(&out);
    CHECK_OK(ssp_json_from_mp(&c, indent, &out));
    CHECK(ssp_mp_done(&c));
    CHECK_OK(ssp_buf_append_u8(&out, 0));
    return (char *)out.p;
}

/* json must parse to exactly the bytes in want. */
static void
check_mp(const char *json, const struct ssp_buf *want)
{
    struct ssp_buf got;
    ssp_buf_init(&got);
    parse(json, &got);
    if (!ssp_slice_eq(SSP_BUF_SLICE(&got), SSP_BUF_SLICE(want)))
        fprintf(stderr, "msgpack of %s differs (%zu bytes, want %zu)\n", json, got.n, want->n);
    CHECK(ssp_slice_eq(SSP_BUF_SLICE(&got), SSP_BUF_SLICE(want)));
    ssp_buf_fini(&got);
}

/* json (len bytes) must be refused with a message containing what, writing nothing. */
static void
check_refused_n(const char *json, size_t len, const char *what)
{
    struct ssp_buf b;
    struct ssp_mpw w;
    struct ssp_diag d = {{0}};
    ssp_buf_init(&b);
    CHECK_OK(ssp_buf_append(&b, "prefix", 6));
    ssp_mpw_init(&w, &b);
    CHECK_INT(ssp_json_to_mp(json, len, &w, &d), SSP_ERR_PROTO);
    CHECK_CONTAINS(d.msg, what);
    CHECK(strncmp(d.msg, "byte ", 5) == 0);
    CHECK(strchr(d.msg, '\n') == NULL);
    CHECK_INT(b.n, 6);
    CHECK(memcmp(b.p, "prefix", 6) == 0);
    ssp_buf_fini(&b);
}

static void
check_refused(const char *json, const char *what)
{
    check_refused_n(json, strlen(json), what);
}

/* json must parse and come back as exactly the same text. */
static void
check_round_trip(const char *json, int indent)
{
    struct ssp_buf b;
    ssp_buf_init(&b);
    parse(json, &b);
    char *out = json_of(SSP_BUF_SLICE(&b), indent);
    CHECK_STR(out, json);
    ssp_free(out);
    ssp_buf_fini(&b);
}

/* The msgpack built by fill() must print as want. */
static void
check_json(void (*fill)(struct ssp_mpw *), int indent, const char *want)
{
    struct ssp_buf b;
    struct ssp_mpw w;
    ssp_buf_init(&b);
    ssp_mpw_init(&w, &b);
    fill(&w);
    CHECK_OK(w.err);
    char *out = json_of(SSP_BUF_SLICE(&b), indent);
    CHECK_STR(out, want);
    ssp_free(out);
    ssp_buf_fini(&b);
}

static void
check_float(const char *json, double want)
{
    struct ssp_buf b;
    struct ssp_mp c;
    double v;
    ssp_buf_init(&b);
    parse(json, &b);
    ssp_mp_init(&c, SSP_BUF_SLICE(&b));
    CHECK_OK(ssp_mp_float(&c, &v));
    CHECK(ssp_mp_done(&c));
    if (v != want || signbit(v) != signbit(want))
        fprintf(stderr, "%s read as %.17g, want %.17g\n", json, v, want);
    CHECK(v == want && signbit(v) == signbit(want));
    ssp_buf_fini(&b);
}

static void
check_int(const char *json, int64_t want)
{
    struct ssp_buf b;
    struct ssp_mp c;
    int64_t v;
    ssp_buf_init(&b);
    parse(json, &b);
    ssp_mp_init(&c, SSP_BUF_SLICE(&b));
    CHECK_OK(ssp_mp_int(&c, &v));
    CHECK(ssp_mp_done(&c));
    CHECK_INT(v, want);
    ssp_buf_fini(&b);
}

/* A string of n bytes: "ab\"" repeated, so that it needs escapes in JSON. */
static char *
escaped_json_string(size_t n, char **raw)
{
    char *json = ssp_alloc(2 * n + 3), *r = ssp_alloc(n + 1), *p = json;
    CHECK(json != NULL && r != NULL);
    *p++ = '"';
    for (size_t i = 0; i < n; i++) {
        r[i] = "ab\""[i % 3];
        if (r[i] == '"')
            *p++ = '\\';
        *p++ = r[i];
    }
    *p++ = '"';
    *p = '\0';
    r[n] = '\0';
    *raw = r;
    return json;
}

/* "[0,1,...,n-1]" or {"0":0,...}. */
static char *
container_json(size_t n, bool is_map)
{
    char *json = ssp_alloc(n * 20 + 3), *p = json;
    CHECK(json != NULL);
    *p++ = is_map ? '{' : '[';
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            *p++ = ',';
        if (is_map)
            p += sprintf(p, "\"%zu\":", i);
        p += sprintf(p, "%zu", i);
    }
    *p++ = is_map ? '}' : ']';
    *p = '\0';
    return json;
}

static void
add_container(struct ssp_mpw *w, size_t n, bool is_map)
{
    char key[24];
    if (is_map)
        ssp_mpw_map(w, n);
    else
        ssp_mpw_array(w, n);
    for (size_t i = 0; i < n; i++) {
        if (is_map) {
            snprintf(key, sizeof key, "%zu", i);
            ssp_mpw_cstr(w, key);
        }
        ssp_mpw_uint(w, i);
    }
}

static void
test_scalars(void)
{
    struct ssp_buf want;
    struct ssp_mpw w;
    ssp_buf_init(&want);
    ssp_mpw_init(&w, &want);
    ssp_mpw_nil(&w);
    check_mp("null", &want);
    check_mp(" \t\r\nnull \n", &want);
    want.n = 0;
    ssp_mpw_bool(&w, true);
    check_mp("true", &want);
    want.n = 0;
    ssp_mpw_bool(&w, false);
    check_mp("false", &want);
    want.n = 0;
    ssp_mpw_int(&w, 0);
    check_mp("0", &want);
    check_mp("-0", &want);
    want.n = 0;
    ssp_mpw_int(&w, -1);
    check_mp("-1", &want);
    want.n = 0;
    ssp_mpw_float(&w, 1.5);
    check_mp("1.5", &want);
    want.n = 0;
    ssp_mpw_cstr(&w, "");
    check_mp("\"\"", &want);
    want.n = 0;
    ssp_mpw_cstr(&w, "north");
    check_mp("\"north\"", &want);
    ssp_buf_fini(&want);
}

static void
test_utf8_passes_through(void)
{
    const char *s = "\xc3\xa6\xe2\x82\xac\xf0\x9f\x98\x80\x7f";
    char json[32];
    struct ssp_buf want;
    struct ssp_mpw w;
    snprintf(json, sizeof json, "\"%s\"", s);
    ssp_buf_init(&want);
    ssp_mpw_init(&w, &want);
    ssp_mpw_cstr(&w, s);
    check_mp(json, &want);
    ssp_buf_fini(&want);
}

static void
test_escapes(void)
{
    struct ssp_buf want;
    struct ssp_mpw w;
    ssp_buf_init(&want);
    ssp_mpw_init(&w, &want);
    ssp_mpw_cstr(&w, "\"\\/\b\f\n\r\t");
    check_mp("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", &want);
    want.n = 0;
    ssp_mpw_cstr(&w, "bl\xc3\xa6r");
    check_mp("\"bl\\u00e6r\"", &want);
    check_mp("\"bl\\u00E6r\"", &want);
    want.n = 0;
    ssp_mpw_cstr(&w, "\xf0\x9f\x98\x80!");
    check_mp("\"\\ud83d\\ude00!\"", &want);
    want.n = 0;
    ssp_mpw_cstr(&w, "A\xe2\x82\xac\xef\xbf\xbf");
    check_mp("\"\\u0041\\u20ac\\uffff\"", &want);
    want.n = 0;
    ssp_mpw_str(&w, "a\0b", 3);
    check_mp("\"a\\u0000b\"", &want);
    ssp_buf_fini(&want);
}

static void
test_nested(void)
{
    struct ssp_buf want;
    struct ssp_mpw w;
    ssp_buf_init(&want);
    ssp_mpw_init(&w, &want);
    ssp_mpw_map(&w, 3);
    ssp_mpw_cstr(&w, "a");
    ssp_mpw_array(&w, 3);
    ssp_mpw_int(&w, 1);
    ssp_mpw_map(&w, 1);
    ssp_mpw_cstr(&w, "b");
    ssp_mpw_array(&w, 0);
    ssp_mpw_nil(&w);
    ssp_mpw_cstr(&w, "c");
    ssp_mpw_map(&w, 0);
    ssp_mpw_cstr(&w, "");
    ssp_mpw_bool(&w, false);
    check_mp("{\"a\":[1,{\"b\":[]},null],\"c\":{},\"\":false}", &want);
    check_mp(" { \"a\" : [ 1 , { \"b\" : [ ] } , null ] , \"c\" : { } , \"\" : false } ", &want);
    ssp_buf_fini(&want);
}

/* Headers are patched to the smallest form, also for containers inside others. */
static void
test_container_headers(void)
{
    static const size_t sizes[] = {0, 1, 15, 16, 17, 65535, 65536, 70000};
    for (int m = 0; m < 2; m++) {
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
            struct ssp_buf want;
            struct ssp_mpw w;
            char *inner = container_json(sizes[i], m == 1);
            char *json = ssp_alloc(2 * strlen(inner) + 16);
            CHECK(json != NULL);
            sprintf(json, "[%s,[%s],7]", inner, inner);
            ssp_buf_init(&want);
            ssp_mpw_init(&w, &want);
            ssp_mpw_array(&w, 3);
            add_container(&w, sizes[i], m == 1);
            ssp_mpw_array(&w, 1);
            add_container(&w, sizes[i], m == 1);
            ssp_mpw_int(&w, 7);
            check_mp(json, &want);
            CHECK_OK(ssp_mp_check(SSP_BUF_SLICE(&want)));
            ssp_free(json);
            ssp_free(inner);
            ssp_buf_fini(&want);
        }
    }
}

/* Escaped strings are decoded in place behind a header sized for them. */
static void
test_string_headers(void)
{
    static const size_t sizes[] = {1, 31, 32, 255, 256, 65535, 65536, 100000};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        struct ssp_buf want;
        struct ssp_mpw w;
        char *raw;
        char *json = escaped_json_string(sizes[i], &raw);
        ssp_buf_init(&want);
        ssp_mpw_init(&w, &want);
        ssp_mpw_cstr(&w, raw);
        check_mp(json, &want);
        check_round_trip(json, 0);
        ssp_free(json);
        ssp_free(raw);
        ssp_buf_fini(&want);
    }
}

static void
test_integers(void)
{
    check_int("9223372036854775807", INT64_MAX);
    check_int("-9223372036854775808", INT64_MIN);
    check_int("-9223372036854775807", -INT64_MAX);
    check_int("4294967296", 4294967296);
    check_int("-129", -129);
    check_int("1234567890123", 1234567890123);
    /* Integers outside int64 become float64. */
    check_float("9223372036854775808", 9223372036854775808.0);
    check_float("-9223372036854775809", -9223372036854775808.0);
    check_float("18446744073709551615", 18446744073709551615.0);
    check_float("18446744073709551616", 18446744073709551616.0);
    check_float("123456789012345678901234567890", 123456789012345678901234567890.0);
}

static void
test_floats(void)
{
    check_float("0.1", 0.1);
    check_float("-0.25", -0.25);
    check_float("-0.0", -0.0);
    check_float("1e3", 1000.0);
    check_float("1E-2", 0.01);
    check_float("2.5e+2", 250.0);
    check_float("1.7976931348623157e308", DBL_MAX);
    check_float("4.9406564584124654e-324", 4.9406564584124654e-324);
    check_float("1e-999", 0.0);
    /* Long numbers take the heap path. */
    check_float("0.0000000000000000000000000000000000000000000000000000000000000000000000001",
                1e-73);
    check_refused("1e999", "byte 1: expected a number within the range of a double");
    check_refused("-1e309", "within the range of a double");
}

static void
test_refuse_empty_input(void)
{
    check_refused("", "byte 1: expected a JSON value");
    check_refused(" \n\t", "byte 4: expected a JSON value");
}

static void
test_refuse_trailing_garbage(void)
{
    check_refused("1 2", "byte 3: expected the end of the input");
    check_refused("{}x", "byte 3: expected the end of the input");
    check_refused("[1]]", "byte 4: expected the end of the input");
    check_refused("truex", "byte 5: expected the end of the input");
    check_refused("\"a\"\"b\"", "byte 4: expected the end of the input");
    check_refused_n("0\0", 2, "byte 2: expected the end of the input");
}

static void
test_refuse_bad_literals(void)
{
    check_refused("nul", "byte 1: expected a JSON value");
    check_refused("True", "byte 1: expected a JSON value");
    check_refused("[nan]", "byte 2: expected a JSON value");
    check_refused("Infinity", "byte 1: expected a JSON value");
    check_refused("'a'", "byte 1: expected a JSON value");
    check_refused("\xef\xbb\xbf{}", "byte 1: expected a JSON value");
}

static void
test_refuse_bad_escapes(void)
{
    check_refused("\"\\x\"", "byte 2: expected one of \"\\/bfnrtu after a backslash");
    check_refused("\"\\U00e6\"", "byte 2: expected one of");
    check_refused("\"ab\\u12g4\"", "byte 4: expected four hex digits after \\u");
    check_refused("\"\\u12\"", "expected four hex digits");
    check_refused("\"\\", "byte 2: expected one of");
    check_refused_n("\"\\\0\"", 4, "byte 2: expected one of");
}

static void
test_refuse_lone_surrogates(void)
{
    check_refused("\"\\ud83d\"", "byte 2: expected a low surrogate");
    check_refused("\"\\ud83dx\"", "expected a low surrogate");
    check_refused("\"\\ud83d\\u0041\"", "expected a low surrogate");
    check_refused("\"\\ud83d\\ud83d\"", "expected a low surrogate");
    check_refused("\"\\ud83d\\n\"", "expected a low surrogate");
    check_refused("\"\\ude00\"", "byte 2: expected a high surrogate");
    check_refused("\"x\\ude00\\ud83d\"", "byte 3: expected a high surrogate");
}

static void
test_refuse_invalid_utf8(void)
{
    check_refused("\"\xff\"", "byte 2: expected valid UTF-8");
    check_refused("\"\x80\"", "expected valid UTF-8");
    check_refused("\"\xc0\xaf\"", "expected valid UTF-8");         /* overlong '/' */
    check_refused("\"\xe0\x80\xaf\"", "expected valid UTF-8");     /* overlong '/' */
    check_refused("\"\xed\xa0\x80\"", "expected valid UTF-8");     /* encoded surrogate */
    check_refused("\"\xf4\x90\x80\x80\"", "expected valid UTF-8"); /* above U+10FFFF */
    check_refused("\"ab\xe6\x97\"", "byte 4: expected valid UTF-8");
    check_refused("\"\xe6\x97", "expected valid UTF-8");
    check_refused("\xc3\xa6", "byte 1: expected a JSON value");
}

static void
test_refuse_unterminated_string(void)
{
    check_refused("\"abc", "byte 5: expected '\"' to close the string");
    check_refused("{\"a", "byte 4: expected '\"' to close the string");
    check_refused("[\"a\\\"]", "byte 7: expected '\"' to close the string");
}

static void
test_refuse_control_chars(void)
{
    check_refused("\"a\nb\"", "byte 3: expected an escape instead of a raw control character");
    check_refused("\"\t\"", "expected an escape instead of a raw control character");
    check_refused("\"\x1f\"", "expected an escape instead of a raw control character");
    check_refused_n("\"a\0\"", 4, "byte 3: expected an escape instead of a raw control");
}

static void
test_refuse_bad_numbers(void)
{
    check_refused("01", "byte 1: expected a number without leading zeros");
    check_refused("-01", "byte 2: expected a number without leading zeros");
    check_refused("[00]", "byte 2: expected a number without leading zeros");
    check_refused("-", "byte 2: expected a digit");
    check_refused("-a", "byte 2: expected a digit");
    check_refused("+1", "byte 1: expected a JSON value");
    check_refused(".5", "byte 1: expected a JSON value");
    check_refused("1.", "byte 3: expected a digit after the decimal point");
    check_refused("1.e5", "byte 3: expected a digit after the decimal point");
    check_refused("1e", "byte 3: expected a digit in the exponent");
    check_refused("1e+", "byte 4: expected a digit in the exponent");
    check_refused("0x10", "byte 2: expected the end of the input");
    check_refused("1.5.2", "byte 4: expected the end of the input");
}

static void
test_refuse_bad_structure(void)
{
    check_refused("[1,]", "byte 4: expected a JSON value");
    check_refused("[1 2]", "byte 4: expected ',' or ']'");
    check_refused("[", "byte 2: expected a JSON value");
    check_refused("[1", "byte 3: expected ',' or ']'");
    check_refused("]", "byte 1: expected a JSON value");
    check_refused("{\"a\":1,}", "byte 8: expected a string as the member name");
    check_refused("{\"a\" 1}", "byte 6: expected ':' after the member name");
    check_refused("{\"a\":}", "byte 6: expected a JSON value");
    check_refused("{1:2}", "byte 2: expected a string as the member name");
    check_refused("{\"a\":1 \"b\":2}", "byte 8: expected ',' or '}'");
    check_refused("{", "byte 2: expected a string as the member name");
    check_refused("[1}", "byte 3: expected ',' or ']'");
}

static char *
nested_json(int depth)
{
    char *json = ssp_alloc((size_t)depth * 6 + 2), *p = json;
    CHECK(json != NULL);
    for (int i = 0; i < depth; i++) {
        const char *open = i % 2 ? "{\"k\":" : "[";
        memcpy(p, open, strlen(open));
        p += strlen(open);
    }
    *p++ = '1';
    for (int i = depth - 1; i >= 0; i--)
        *p++ = i % 2 ? '}' : ']';
    *p = '\0';
    return json;
}

static void
test_depth_limit(void)
{
    struct ssp_buf b;
    char *ok = nested_json(SSP_MP_MAX_DEPTH);
    char *deep = nested_json(SSP_MP_MAX_DEPTH + 1);
    ssp_buf_init(&b);
    parse(ok, &b);
    CHECK_OK(ssp_mp_check(SSP_BUF_SLICE(&b)));
    check_round_trip(ok, 0);
    check_refused(deep, "expected at most 16 nested arrays and objects");

    /* The writer refuses what its reader could not have produced. */
    struct ssp_buf mp;
    struct ssp_buf out;
    struct ssp_mp c;
    ssp_buf_init(&mp);
    ssp_buf_init(&out);
    for (int i = 0; i <= SSP_MP_MAX_DEPTH; i++)
        CHECK_OK(ssp_buf_append_u8(&mp, 0x91));
    CHECK_OK(ssp_buf_append_u8(&mp, 0xc0));
    ssp_mp_init(&c, SSP_BUF_SLICE(&mp));
    CHECK_INT(ssp_json_from_mp(&c, 0, &out), SSP_ERR_PROTO);
    CHECK_INT(out.n, 0);
    CHECK(c.p == mp.p);
    ssp_mp_init(&c, SSP_SLICE(mp.p + 1, mp.n - 1));
    CHECK_OK(ssp_json_from_mp(&c, 0, &out));

    ssp_buf_fini(&out);
    ssp_buf_fini(&mp);
    ssp_buf_fini(&b);
    ssp_free(deep);
    ssp_free(ok);
}

/* Output is appended after what the buffer holds; a refusal leaves it alone. */
static void
test_appends_to_buffer(void)
{
    struct ssp_buf b;
    struct ssp_mpw w;
    struct ssp_diag d = {{0}};
    ssp_buf_init(&b);
    ssp_mpw_init(&w, &b);
    ssp_mpw_cstr(&w, "first");
    const char *sixteen = "[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16]";
    CHECK_OK(ssp_json_to_mp(sixteen, strlen(sixteen), &w, &d));
    CHECK_INT(ssp_json_to_mp("{\"a\":[1,2,", 10, &w, &d), SSP_ERR_PROTO);
    CHECK_OK(ssp_json_to_mp("true", 4, &w, &d));
    struct ssp_mp c;
    struct ssp_slice s;
    uint32_t n;
    bool v;
    ssp_mp_init(&c, SSP_BUF_SLICE(&b));
    CHECK_OK(ssp_mp_str(&c, &s));
    CHECK(ssp_slice_eq_str(s, "first"));
    CHECK_OK(ssp_mp_array(&c, &n));
    CHECK_INT(n, 16);
    for (uint32_t i = 0; i < n; i++)
        CHECK_OK(ssp_mp_skip(&c));
    CHECK_OK(ssp_mp_bool(&c, &v));
    CHECK(v);
    CHECK(ssp_mp_done(&c));
    ssp_buf_fini(&b);
}

static void
fill_scalars(struct ssp_mpw *w)
{
    ssp_mpw_array(w, 8);
    ssp_mpw_nil(w);
    ssp_mpw_bool(w, true);
    ssp_mpw_bool(w, false);
    ssp_mpw_uint(w, UINT64_MAX);
    ssp_mpw_int(w, INT64_MIN);
    ssp_mpw_int(w, -1);
    ssp_mpw_bin(w, "\x00\xab\xff", 3);
    ssp_mpw_bin(w, "", 0);
}

static void
fill_floats(struct ssp_mpw *w)
{
    ssp_mpw_array(w, 11);
    ssp_mpw_float(w, 0.1);
    ssp_mpw_float(w, 1.0);
    ssp_mpw_float(w, -0.0);
    ssp_mpw_float(w, 1e300);
    ssp_mpw_float(w, 1.0 / 3.0);
    ssp_mpw_float(w, 0.1 + 0.2);
    ssp_mpw_float(w, 1e15);
    ssp_mpw_float(w, 123456.75);
    ssp_mpw_float(w, NAN);
    ssp_mpw_float(w, -INFINITY);
    msgpack_pack_float(&w->pk, 0.5F);
}

static void
fill_escapes(struct ssp_mpw *w)
{
    /* '"', '\\', '/', newline, 0x01, DEL, U+0085 (C1), U+009F, U+00A0, æ, U+1F600. */
    ssp_mpw_cstr(w, "\"\\/\n\x01\x7f\xc2\x85\xc2\x9f\xc2\xa0\xc3\xa6\xf0\x9f\x98\x80");
}

static void
fill_invalid_utf8(struct ssp_mpw *w)
{
    ssp_mpw_array(w, 3);
    ssp_mpw_cstr(w, "a\xff"
                    "b");
    ssp_mpw_cstr(w, "\xed\xa0\x80");
    ssp_mpw_cstr(w, "x\xc3");
}

static void
test_from_mp_scalars(void)
{
    check_json(fill_scalars, 0,
               "[null,true,false,18446744073709551615,-9223372036854775808,-1,\"00abff\",\"\"]");
}

static void
test_from_mp_floats(void)
{
    check_json(fill_floats, 0,
               "[0.1,1.0,-0.0,1e+300,0.3333333333333333,0.30000000000000004,1e+15,123456.75,"
               "null,null,0.5]");
}

static void
test_from_mp_escapes(void)
{
    check_json(fill_escapes, 0,
               "\"\\\"\\\\/\\u000a\\u0001\\u007f\\u0085\\u009f\xc2\xa0\xc3\xa6\xf0\x9f\x98\x80\"");
}

static void
test_from_mp_invalid_utf8(void)
{
    check_json(fill_invalid_utf8, 0,
               "[\"a\xef\xbf\xbd"
               "b\",\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\",\"x\xef\xbf\xbd\"]");
}

static void
check_from_mp_refused(const char *mp, size_t n, int indent, ssp_err want)
{
    struct ssp_buf out;
    struct ssp_mp c;
    ssp_buf_init(&out);
    CHECK_OK(ssp_buf_append(&out, "x", 1));
    ssp_mp_init(&c, SSP_SLICE(mp, n));
    CHECK_INT(ssp_json_from_mp(&c, indent, &out), want);
    CHECK_INT(out.n, 1);
    CHECK(c.p == (const uint8_t *)mp);
    ssp_buf_fini(&out);
}

static void
test_from_mp_refuses(void)
{
    check_from_mp_refused("\x81\x01\x02", 3, 0, SSP_ERR_PROTO);         /* {1: 2} */
    check_from_mp_refused("\x81\xc0\x02", 3, 2, SSP_ERR_PROTO);         /* {nil: 2} */
    check_from_mp_refused("\x92\x01\xd4\x01\x00", 5, 0, SSP_ERR_PROTO); /* fixext */
    check_from_mp_refused("\x92\x01", 2, 0, SSP_ERR_PROTO);             /* truncated */
    check_from_mp_refused("\xa5"
                          "abc",
                          4, 0, SSP_ERR_PROTO);         /* short str */
    check_from_mp_refused("\xc1", 1, 0, SSP_ERR_PROTO); /* reserved */
    check_from_mp_refused("", 0, 0, SSP_ERR_PROTO);
    check_from_mp_refused("\xc0", 1, -1, SSP_ERR_INVAL);
}

/* The import record shape: compact JSON comes back byte for byte. */
static void
test_round_trip_compact(void)
{
    check_round_trip(
        "{\"type\":\"concern\",\"scope\":\"north\",\"fields\":{\"date\":\"2026-11-02\","
        "\"level\":2,\"categories\":[\"absence\",\"conflict\"],\"description\":"
        "\"Bl\xc3\xa5 \\\"quoted\\\" \\\\ line\\u000abreak \xf0\x9f\x98\x80\"},"
        "\"n\":[0,-1,9223372036854775807,-9223372036854775808,1.5,-0.001,1e+100],"
        "\"e\":[{},[]],\"t\":true,\"f\":false,\"z\":null}",
        0);
    check_round_trip("[]", 0);
    check_round_trip("\"\"", 0);
}

/* Doubles survive msgpack -> JSON -> msgpack exactly. */
static void
test_float_round_trip(void)
{
    uint64_t x = UINT64_C(0x9e3779b97f4a7c15);
    static const double fixed[] = {0.1,
                                   1e23,
                                   DBL_MAX,
                                   DBL_MIN,
                                   4.9406564584124654e-324,
                                   -2.2250738585072009e-308,
                                   9007199254740993.0,
                                   1e21};
    for (int i = 0; i < 10000; i++) {
        double v;
        if (i < (int)(sizeof fixed / sizeof fixed[0])) {
            v = fixed[i];
        } else {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            memcpy(&v, &x, sizeof v);
            if (!isfinite(v))
                continue;
        }
        struct ssp_buf b;
        struct ssp_mpw w;
        ssp_buf_init(&b);
        ssp_mpw_init(&w, &b);
        ssp_mpw_float(&w, v);
        char *json = json_of(SSP_BUF_SLICE(&b), 0);
        check_float(json, v);
        ssp_free(json);
        ssp_buf_fini(&b);
    }
}

static void
test_indented_output(void)
{
    struct ssp_buf b;
    ssp_buf_init(&b);
    parse("{\"a\":[1,{\"b\":[]}],\"c\":{},\"d\":{\"e\":\"f\"}}", &b);
    char *two = json_of(SSP_BUF_SLICE(&b), 2);
    CHECK_STR(two, "{\n"
                   "  \"a\": [\n"
                   "    1,\n"
                   "    {\n"
                   "      \"b\": []\n"
                   "    }\n"
                   "  ],\n"
                   "  \"c\": {},\n"
                   "  \"d\": {\n"
                   "    \"e\": \"f\"\n"
                   "  }\n"
                   "}");
    ssp_free(two);
    char *four = json_of(SSP_BUF_SLICE(&b), 4);
    CHECK_CONTAINS(four, "\n            \"b\": []\n        }\n    ],\n");
    ssp_free(four);
    ssp_buf_fini(&b);
    check_round_trip("[\n   1,\n   \"x\"\n]", 3);
    check_round_trip("7", 2);
}

/* Every allocation failure is reported as NOMEM, leaks nothing and writes nothing. */
static void
test_alloc_failures(void)
{
    char *raw;
    char *str = escaped_json_string(300, &raw);
    char *arr = container_json(20, false);
    char *json = ssp_alloc(strlen(str) + strlen(arr) + 200);
    CHECK(json != NULL);
    sprintf(json, "{\"s\":%s,\"a\":%s,\"x\":0.%0100d1,\"b\":[[[[1]]]]}", str, arr, 0);
    for (long budget = 0;; budget++) {
        struct ssp_buf b;
        struct ssp_buf out;
        struct ssp_mpw w;
        struct ssp_mp c;
        struct ssp_diag d = {{0}};
        ssp_buf_init(&b);
        ssp_buf_init(&out);
        ssp_mpw_init(&w, &b);
        ssp_alloc_fail_after(budget);
        ssp_err rc = ssp_json_to_mp(json, strlen(json), &w, &d);
        if (rc == SSP_OK) {
            ssp_mp_init(&c, SSP_BUF_SLICE(&b));
            rc = ssp_json_from_mp(&c, 2, &out);
        }
        ssp_alloc_fail_reset();
        if (rc == SSP_OK) {
            ssp_buf_fini(&out);
            ssp_buf_fini(&b);
            break;
        }
        CHECK_INT(rc, SSP_ERR_NOMEM);
        CHECK_INT(out.n, 0);
        ssp_buf_fini(&out);
        ssp_buf_fini(&b);
    }
    ssp_free(json);
    ssp_free(arr);
    ssp_free(str);
    ssp_free(raw);
}

/* JSON's decimal point is '.' whatever LC_NUMERIC says. */
static void
test_locale_decimal_point(void)
{
    static const char *const names[] = {"de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "nb_NO.UTF-8"};
    const char *used = NULL;
    for (size_t i = 0; i < sizeof names / sizeof names[0] && used == NULL; i++)
        used = setlocale(LC_NUMERIC, names[i]);
    if (used == NULL || strcmp(localeconv()->decimal_point, ".") == 0)
        fprintf(stderr, "no locale with a decimal comma installed; checking the C locale only\n");
    check_float("1.5", 1.5);
    check_float("-12.25e1", -122.5);
    check_round_trip("[1.5,0.1,2.0]", 0);
    setlocale(LC_NUMERIC, "C");
}

static const struct ssp_test tests[] = {
    {"scalars", test_scalars},
    {"utf8_passes_through", test_utf8_passes_through},
    {"escapes", test_escapes},
    {"nested", test_nested},
    {"container_headers", test_container_headers},
    {"string_headers", test_string_headers},
    {"integers", test_integers},
    {"floats", test_floats},
    {"refuse_empty_input", test_refuse_empty_input},
    {"refuse_trailing_garbage", test_refuse_trailing_garbage},
    {"refuse_bad_literals", test_refuse_bad_literals},
    {"refuse_bad_escapes", test_refuse_bad_escapes},
    {"refuse_lone_surrogates", test_refuse_lone_surrogates},
    {"refuse_invalid_utf8", test_refuse_invalid_utf8},
    {"refuse_unterminated_string", test_refuse_unterminated_string},
    {"refuse_control_chars", test_refuse_control_chars},
    {"refuse_bad_numbers", test_refuse_bad_numbers},
    {"refuse_bad_structure", test_refuse_bad_structure},
    {"depth_limit", test_depth_limit},
    {"appends_to_buffer", test_appends_to_buffer},
    {"from_mp_scalars", test_from_mp_scalars},
    {"from_mp_floats", test_from_mp_floats},
    {"from_mp_escapes", test_from_mp_escapes},
    {"from_mp_invalid_utf8", test_from_mp_invalid_utf8},
    {"from_mp_refuses", test_from_mp_refuses},
    {"round_trip_compact", test_round_trip_compact},
    {"float_round_trip", test_float_round_trip},
    {"indented_output", test_indented_output},
    {"alloc_failures", test_alloc_failures},
    {"locale_decimal_point", test_locale_decimal_point},
};

SSP_TEST_MAIN(tests)
