/*
 * Board reports (node/domain/report.c): counting, and the small-cell
 * suppression checked by brute force: every assignment of the hidden cells
 * that agrees with everything printed (shown cells, printed totals, counts
 * not negative) is enumerated, and each hidden cell must take at least two
 * values among them, so no one can work it out from the table.
 */
#include "node/domain/report.h"

#include "harness.h"

/* A report built from a grid of counts (rows x cols, labels r0.. / c0..). */
static void
build(struct ssp_report *r, bool two, const uint64_t *cells, size_t rows, size_t cols)
{
    ssp_report_init(r, two);
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < cols; j++) {
            char rl[24], cl[24];
            snprintf(rl, sizeof rl, "r%zu", i);
            snprintf(cl, sizeof cl, "c%zu", j);
            const char *rp = rl, *cp = cl;
            /* A cell of 0 still makes its row and column exist. */
            if (cells[i * cols + j] == 0)
                CHECK_OK(ssp_report_add(r, &rp, 1, &cp, 1, 0));
            for (uint64_t k = 0; k < cells[i * cols + j]; k++)
                CHECK_OK(ssp_report_add(r, &rp, 1, &cp, 1, 1));
            if (cells[i * cols + j] == 0)
                r->count[i * r->cap_cols + j]--;
        }
    CHECK_OK(ssp_report_sort(r));
}

/* What an onlooker sees, and the search over the hidden cells. */
struct solve {
    const struct ssp_report *r;
    size_t hidden[64], nhidden;
    uint64_t value[64], lo[64], hi[64], bound[64];
    uint64_t solutions;
};

static bool
printed_row(const struct ssp_report *r, size_t i)
{
    return r->two && !r->row_hidden[i];
}

/* Whether the values assigned agree with every printed total. */
static bool
consistent(const struct solve *s)
{
    const struct ssp_report *r = s->r;
    uint64_t grid[64] = {0}, total = 0;
    for (size_t c = 0; c < r->nrows * r->ncols; c++)
        grid[c] = r->hidden[c] ? 0 : r->count[c];
    for (size_t h = 0; h < s->nhidden; h++)
        grid[s->hidden[h]] = s->value[h];
    for (size_t i = 0; i < r->nrows; i++) {
        uint64_t sum = 0;
        for (size_t j = 0; j < r->ncols; j++)
            sum += grid[i * r->ncols + j];
        total += sum;
        if (printed_row(r, i) && sum != ssp_report_row_total(r, i, false))
            return false;
    }
    for (size_t j = 0; j < r->ncols; j++) {
        uint64_t sum = 0;
        for (size_t i = 0; i < r->nrows; i++)
            sum += grid[i * r->ncols + j];
        if (!r->col_hidden[j] && sum != ssp_report_col_total(r, j, false))
            return false;
    }
    return r->total_hidden || total == ssp_report_total(r, false);
}

static void
search(struct solve *s, size_t h)
{
    if (h == s->nhidden) {
        if (!consistent(s))
            return;
        s->solutions++;
        for (size_t k = 0; k < s->nhidden; k++) {
            s->lo[k] = s->value[k] < s->lo[k] ? s->value[k] : s->lo[k];
            s->hi[k] = s->value[k] > s->hi[k] ? s->value[k] : s->hi[k];
        }
        return;
    }
    for (uint64_t v = 0; v <= s->bound[h]; v++) {
        s->value[h] = v;
        search(s, h + 1);
    }
}

/*
 * Checks that no hidden cell of r can be derived: each one's bound is what
 * a printed total leaves for the hidden cells of its line once its shown
 * cells are taken off (4 * min_cell when no total covers it).
 */
static void
check_safe(const struct ssp_report *r, uint64_t min_cell)
{
    struct solve s = {.r = r};
    CHECK(r->nrows * r->ncols <= 64);
    for (size_t c = 0; c < r->nrows * r->ncols; c++) {
        if (!r->hidden[c])
            continue;
        size_t i = c / r->ncols, j = c % r->ncols;
        uint64_t bound = min_cell * 4, shown = 0;
        if (printed_row(r, i)) {
            for (size_t k = 0; k < r->ncols; k++)
                shown += r->hidden[i * r->ncols + k] ? 0 : r->count[i * r->ncols + k];
            bound = ssp_report_row_total(r, i, false) - shown;
        }
        if (!r->col_hidden[j]) {
            shown = 0;
            for (size_t k = 0; k < r->nrows; k++)
                shown += r->hidden[k * r->ncols + j] ? 0 : r->count[k * r->ncols + j];
            if (ssp_report_col_total(r, j, false) - shown < bound)
                bound = ssp_report_col_total(r, j, false) - shown;
        }
        s.bound[s.nhidden] = bound;
        s.lo[s.nhidden] = UINT64_MAX;
        s.hidden[s.nhidden++] = c;
    }
    search(&s, 0);
    CHECK(s.nhidden == 0 || s.solutions >= 2);
    for (size_t h = 0; h < s.nhidden; h++) {
        if (s.lo[h] == s.hi[h])
            fprintf(stderr, "hidden cell %zu can be derived: it is %llu\n", s.hidden[h],
                    (unsigned long long)s.lo[h]);
        CHECK(s.lo[h] < s.hi[h]);
    }
}

static size_t
count_hidden(const struct ssp_report *r)
{
    size_t n = 0;
    for (size_t c = 0; c < r->nrows * r->ncols; c++)
        n += r->hidden[c];
    return n;
}

/* By area: one small area alone would be the total minus the rest; the next smallest hides too. */
static void
test_one_dim_complement(void)
{
    const uint64_t cells[] = {3, 12, 8, 20};
    struct ssp_report r;
    build(&r, false, cells, 4, 1);
    ssp_report_suppress(&r, SSP_REPORT_MIN_CELL);
    CHECK(r.hidden[0]);
    CHECK(r.hidden[2]); /* 8: the next smallest */
    CHECK_INT(count_hidden(&r), 2);
    CHECK(!r.col_hidden[0] && !r.total_hidden);
    CHECK_INT(ssp_report_total(&r, false), 43);
    check_safe(&r, SSP_REPORT_MIN_CELL);
    ssp_report_fini(&r);
}

/* A cell of 3 in a 2-D table: its row and column each get a second hidden cell, and so on. */
static void
test_two_dim_cell_of_3(void)
{
    const uint64_t cells[] = {
        3,  10, 12, /* r0 */
        9,  7,  15, /* r1 */
        11, 20, 6,  /* r2 */
    };
    struct ssp_report r;
    build(&r, true, cells, 3, 3);
    ssp_report_suppress(&r, SSP_REPORT_MIN_CELL);
    CHECK(r.hidden[0]);
    CHECK(r.hidden[1]); /* 10, the smallest other in r0 */
    CHECK(r.hidden[3]); /* 9, the smallest other in c0 */
    CHECK(r.hidden[4]); /* 7: r1 and c1 had one hidden each */
    CHECK_INT(count_hidden(&r), 4);
    for (size_t k = 0; k < 3; k++)
        CHECK(!r.row_hidden[k] && !r.col_hidden[k]);
    CHECK(!r.total_hidden);
    check_safe(&r, SSP_REPORT_MIN_CELL);
    ssp_report_fini(&r);
}

/* A hidden 0 beside a small cell would bound it; complements prefer cells that are not 0. */
static void
test_zero_not_complement(void)
{
    const uint64_t cells[] = {
        3, 0, 8, /* r0 */
        6, 9, 7, /* r1 */
    };
    struct ssp_report r;
    build(&r, true, cells, 2, 3);
    ssp_report_suppress(&r, SSP_REPORT_MIN_CELL);
    CHECK(r.hidden[0]);
    CHECK(!r.hidden[1]);
    CHECK(r.hidden[2]);
    check_safe(&r, SSP_REPORT_MIN_CELL);
    ssp_report_fini(&r);
}

/* A line of one cell cannot be complemented: its total (the cell itself) is hidden. */
static void
test_single_cell_lines(void)
{
    const uint64_t one[] = {4};
    struct ssp_report r;
    build(&r, false, one, 1, 1);
    ssp_report_suppress(&r, SSP_REPORT_MIN_CELL);
    CHECK(r.hidden[0] && r.col_hidden[0] && r.total_hidden);
    check_safe(&r, SSP_REPORT_MIN_CELL);
    ssp_report_fini(&r);

    const uint64_t column[] = {2, 9, 30};
    build(&r, true, column, 3, 1);
    ssp_report_suppress(&r, SSP_REPORT_MIN_CELL);
    CHECK(r.hidden[0] && r.hidden[1] && !r.hidden[2]);
    CHECK(r.row_hidden[0] && r.row_hidden[1] && !r.row_hidden[2]);
    CHECK(!r.col_hidden[0] && !r.total_hidden);
    check_safe(&r, SSP_REPORT_MIN_CELL);
    ssp_report_fini(&r);
}

/* Nothing is hidden with --min-cell 0 or 1, and counts of 5 and more never are. */
static void
test_no_suppression(void)
{
    const uint64_t cells[] = {1, 5, 0, 7};
    struct ssp_report r;
    build(&r, true, cells, 2, 2);
    ssp_report_suppress(&r, 1);
    CHECK_INT(count_hidden(&r), 0);
    ssp_report_suppress(&r, 0);
    CHECK_INT(count_hidden(&r), 0);
    const uint64_t big[] = {5, 6, 9, 70};
    ssp_report_fini(&r);
    build(&r, true, big, 2, 2);
    ssp_report_suppress(&r, SSP_REPORT_MIN_CELL);
    CHECK_INT(count_hidden(&r), 0);
    ssp_report_fini(&r);
}

/* Random small tables: whatever is hidden cannot be derived from what is printed. */
static void
test_random_tables_safe(void)
{
    uint64_t seed = 0x5eed;
    for (size_t round = 0; round < 150; round++) {
        size_t rows = 1 + round % 4, cols = 1 + (round / 4) % 3;
        uint64_t cells[12];
        for (size_t c = 0; c < rows * cols; c++) {
            seed = seed * 6364136223846793005u + 1442695040888963407u;
            cells[c] = (seed >> 33) % 9;
        }
        struct ssp_report r;
        build(&r, cols > 1 || round % 2 == 0, cells, rows, cols);
        ssp_report_suppress(&r, 3);
        check_safe(&r, 3);
        ssp_report_fini(&r);
    }
}

/* A record with several values counts under each; labels come out sorted, reach is summed. */
static void
test_add_sets_and_sort(void)
{
    struct ssp_report r;
    const char *bands[] = {"13-17", "7-12"}, *months[] = {"2026-02"}, *jan[] = {"2026-01"};
    ssp_report_init(&r, true);
    CHECK_OK(ssp_report_add(&r, bands, 2, months, 1, 40));
    CHECK_OK(ssp_report_add(&r, bands + 1, 1, jan, 1, 15));
    CHECK_OK(ssp_report_sort(&r));
    CHECK_INT(r.nrows, 2);
    CHECK_INT(r.ncols, 2);
    CHECK_STR(r.rows[0], "13-17");
    CHECK_STR(r.rows[1], "7-12");
    CHECK_STR(r.cols[0], "2026-01");
    CHECK_INT(r.count[0 * 2 + 1], 1);
    CHECK_INT(r.count[1 * 2 + 0], 1);
    CHECK_INT(r.count[1 * 2 + 1], 1);
    CHECK_INT(r.reach[1 * 2 + 1], 40);
    CHECK_INT(ssp_report_total(&r, true), 95);
    CHECK_INT(ssp_report_row_total(&r, 1, false), 2);
    ssp_report_fini(&r);
}

/* More distinct labels than a report holds is refused, not grown without end. */
static void
test_too_many_lines(void)
{
    struct ssp_report r;
    ssp_report_init(&r, false);
    ssp_err rc = SSP_OK;
    for (int i = 0; i <= SSP_REPORT_LINES_MAX && rc == SSP_OK; i++) {
        char l[16];
        snprintf(l, sizeof l, "l%d", i);
        const char *p = l;
        rc = ssp_report_add(&r, &p, 1, NULL, 0, 0);
    }
    CHECK_INT(rc, SSP_ERR_FULL);
    CHECK_INT(r.nrows, SSP_REPORT_LINES_MAX);
    ssp_report_fini(&r);
}

// clang-format off
static const struct ssp_test tests[] = {
    {"one_dim_complement", test_one_dim_complement},
    {"two_dim_cell_of_3", test_two_dim_cell_of_3},
    {"zero_not_complement", test_zero_not_complement},
    {"single_cell_lines", test_single_cell_lines},
    {"no_suppression", test_no_suppression},
    {"random_tables_safe", test_random_tables_safe},
    {"add_sets_and_sort", test_add_sets_and_sort},
    {"too_many_lines", test_too_many_lines},
};
// clang-format on

SSP_TEST_MAIN(tests)
