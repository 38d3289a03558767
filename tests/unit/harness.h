/*
 * A tiny test harness. A test file defines its cases in one table:
 *
 *   static const struct ssp_test tests[] = {{"name", fn}, ...};
 *   SSP_TEST_MAIN(tests)
 *
 * The executable runs the case named by argv[1] (ctest registers each case
 * as its own test, see tests/CMakeLists.txt) or all of them with no argument.
 * A failed check prints both values and aborts, so sanitizers and ctest see it.
 */
#ifndef SSP_TEST_HARNESS_H
#define SSP_TEST_HARNESS_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ssp_test {
    const char *name;
    void (*fn)(void);
};

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);               \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#define CHECK_INT(a, b)                                                                            \
    do {                                                                                           \
        long long va_ = (long long)(a), vb_ = (long long)(b);                                      \
        if (va_ != vb_) {                                                                          \
            fprintf(stderr, "%s:%d: %s == %s failed: %lld != %lld\n", __FILE__, __LINE__, #a, #b,  \
                    va_, vb_);                                                                     \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#define CHECK_STR(a, b)                                                                            \
    do {                                                                                           \
        const char *sa_ = (a), *sb_ = (b);                                                         \
        if (strcmp(sa_, sb_) != 0) {                                                               \
            fprintf(stderr, "%s:%d: %s == %s failed:\n  \"%s\"\n  \"%s\"\n", __FILE__, __LINE__,   \
                    #a, #b, sa_, sb_);                                                             \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* The ssp_err of an expression must be SSP_OK. */
#define CHECK_OK(expr)                                                                             \
    do {                                                                                           \
        int rc_ = (int)(expr);                                                                     \
        if (rc_ != 0) {                                                                            \
            fprintf(stderr, "%s:%d: %s failed: %d\n", __FILE__, __LINE__, #expr, rc_);             \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#define CHECK_CONTAINS(hay, needle)                                                                \
    do {                                                                                           \
        const char *h_ = (hay), *n_ = (needle);                                                    \
        if (strstr(h_, n_) == NULL) {                                                              \
            fprintf(stderr, "%s:%d: \"%s\" does not contain \"%s\"\n", __FILE__, __LINE__, h_,     \
                    n_);                                                                           \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#define SSP_TEST_MAIN(table)                                                                       \
    int main(int argc, char **argv)                                                                \
    {                                                                                              \
        size_t n_ = sizeof(table) / sizeof((table)[0]);                                            \
        int ran_ = 0;                                                                              \
        for (size_t i_ = 0; i_ < n_; i_++) {                                                       \
            if (argc > 1 && strcmp(argv[1], (table)[i_].name) != 0)                                \
                continue;                                                                          \
            (table)[i_].fn();                                                                      \
            ran_++;                                                                                \
        }                                                                                          \
        if (ran_ == 0) {                                                                           \
            fprintf(stderr, "no test named %s\n", argc > 1 ? argv[1] : "(any)");                   \
            return 1;                                                                              \
        }                                                                                          \
        return 0;                                                                                  \
    }

#endif
