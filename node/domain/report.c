/* Board reports: counting and small-cell suppression (report.h). */
#include "node/domain/report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/buf.h"

#define AT(r, i, j) ((i) * (r)->cap_cols + (j))

void
ssp_report_init(struct ssp_report *r, bool two)
{
    memset(r, 0, sizeof *r);
    r->two = two;
}

void
ssp_report_fini(struct ssp_report *r)
{
    if (r == NULL)
        return;
    ssp_free(r->rows);
    ssp_free(r->cols);
    ssp_free(r->count);
    ssp_free(r->reach);
    ssp_free(r->hidden);
    ssp_free(r->row_hidden);
    ssp_free(r->col_hidden);
    memset(r, 0, sizeof *r);
}

/* Moves the cells to a grid of cap_rows x cap_cols (each at least what is used). */
static ssp_err
regrid(struct ssp_report *r, size_t cap_rows, size_t cap_cols)
{
    size_t cells = cap_rows * cap_cols;
    uint64_t *count = ssp_alloc(cells * sizeof *count), *reach = ssp_alloc(cells * sizeof *reach);
    bool *hidden = ssp_alloc(cells * sizeof *hidden);
    char(*rows)[SSP_REPORT_LABEL_MAX] = ssp_realloc(r->rows, cap_rows * sizeof *rows);
    if (rows != NULL)
        r->rows = rows;
    char(*cols)[SSP_REPORT_LABEL_MAX] = ssp_realloc(r->cols, cap_cols * sizeof *cols);
    if (cols != NULL)
        r->cols = cols;
    if (count == NULL || reach == NULL || hidden == NULL || rows == NULL || cols == NULL) {
        ssp_free(count);
        ssp_free(reach);
        ssp_free(hidden);
        return SSP_ERR_NOMEM;
    }
    memset(count, 0, cells * sizeof *count);
    memset(reach, 0, cells * sizeof *reach);
    memset(hidden, 0, cells * sizeof *hidden);
    for (size_t i = 0; i < r->nrows; i++)
        for (size_t j = 0; j < r->ncols; j++) {
            count[i * cap_cols + j] = r->count[AT(r, i, j)];
            reach[i * cap_cols + j] = r->reach[AT(r, i, j)];
        }
    ssp_free(r->count);
    ssp_free(r->reach);
    ssp_free(r->hidden);
    r->count = count;
    r->reach = reach;
    r->hidden = hidden;
    r->cap_rows = cap_rows;
    r->cap_cols = cap_cols;
    return SSP_OK;
}

/* The index of label in labels (n of them), adding it if it is new. */
static ssp_err
line(struct ssp_report *r, bool col, const char *label, size_t *index)
{
    char(*labels)[SSP_REPORT_LABEL_MAX] = col ? r->cols : r->rows;
    size_t *n = col ? &r->ncols : &r->nrows;
    for (size_t i = 0; i < *n; i++)
        if (strncmp(labels[i], label, SSP_REPORT_LABEL_MAX - 1) == 0) {
            *index = i;
            return SSP_OK;
        }
    if (*n == SSP_REPORT_LINES_MAX)
        return SSP_ERR_FULL;
    size_t cap = col ? r->cap_cols : r->cap_rows;
    if (*n == cap) {
        size_t grown = cap == 0 ? 8 : cap * 2;
        ssp_err rc = col ? regrid(r, r->cap_rows == 0 ? 8 : r->cap_rows, grown)
                         : regrid(r, grown, r->cap_cols == 0 ? 8 : r->cap_cols);
        if (rc != SSP_OK)
            return rc;
        labels = col ? r->cols : r->rows;
    }
    snprintf(labels[*n], SSP_REPORT_LABEL_MAX, "%s", label);
    *index = (*n)++;
    return SSP_OK;
}

ssp_err
ssp_report_add(struct ssp_report *r, const char *const *rows, size_t nrows, const char *const *cols,
               size_t ncols, uint64_t reach)
{
    static const char *const one[] = {""};
    if (!r->two) {
        cols = one;
        ncols = 1;
    }
    for (size_t a = 0; a < nrows; a++) {
        for (size_t b = 0; b < ncols; b++) {
            size_t i, j;
            ssp_err rc = line(r, false, rows[a], &i);
            if (rc == SSP_OK)
                rc = line(r, true, cols[b], &j);
            if (rc != SSP_OK)
                return rc;
            r->count[AT(r, i, j)]++;
            r->reach[AT(r, i, j)] += reach;
        }
    }
    return SSP_OK;
}

struct labelled {
    const char *label;
    size_t index;
};

static int
by_label(const void *a, const void *b)
{
    return strcmp(((const struct labelled *)a)->label, ((const struct labelled *)b)->label);
}

/* The order of labels (n): order[k] is the index of the k-th smallest. */
static ssp_err
label_order(char (*labels)[SSP_REPORT_LABEL_MAX], size_t n, size_t **order)
{
    struct labelled *p = ssp_alloc((n > 0 ? n : 1) * sizeof *p);
    *order = ssp_alloc((n > 0 ? n : 1) * sizeof **order);
    if (p == NULL || *order == NULL) {
        ssp_free(p);
        return SSP_ERR_NOMEM;
    }
    for (size_t i = 0; i < n; i++)
        p[i] = (struct labelled){labels[i], i};
    qsort(p, n, sizeof *p, by_label);
    for (size_t k = 0; k < n; k++)
        (*order)[k] = p[k].index;
    ssp_free(p);
    return SSP_OK;
}

ssp_err
ssp_report_sort(struct ssp_report *r)
{
    size_t *ro = NULL, *co = NULL;
    struct ssp_report s;
    ssp_report_init(&s, r->two);
    ssp_err rc = label_order(r->rows, r->nrows, &ro);
    if (rc == SSP_OK)
        rc = label_order(r->cols, r->ncols, &co);
    if (rc == SSP_OK)
        rc = regrid(&s, r->nrows > 0 ? r->nrows : 1, r->ncols > 0 ? r->ncols : 1);
    if (rc == SSP_OK) {
        s.row_hidden = ssp_alloc(s.cap_rows * sizeof *s.row_hidden);
        s.col_hidden = ssp_alloc(s.cap_cols * sizeof *s.col_hidden);
        if (s.row_hidden == NULL || s.col_hidden == NULL)
            rc = SSP_ERR_NOMEM;
    }
    if (rc == SSP_OK) {
        s.nrows = r->nrows;
        s.ncols = r->ncols;
        memset(s.row_hidden, 0, s.cap_rows * sizeof *s.row_hidden);
        memset(s.col_hidden, 0, s.cap_cols * sizeof *s.col_hidden);
        for (size_t i = 0; i < s.nrows; i++) {
            memcpy(s.rows[i], r->rows[ro[i]], SSP_REPORT_LABEL_MAX);
            for (size_t j = 0; j < s.ncols; j++) {
                s.count[AT(&s, i, j)] = r->count[AT(r, ro[i], co[j])];
                s.reach[AT(&s, i, j)] = r->reach[AT(r, ro[i], co[j])];
            }
        }
        for (size_t j = 0; j < s.ncols; j++)
            memcpy(s.cols[j], r->cols[co[j]], SSP_REPORT_LABEL_MAX);
        ssp_report_fini(r);
        *r = s;
    } else {
        ssp_report_fini(&s);
    }
    ssp_free(ro);
    ssp_free(co);
    return rc;
}

/*
 * Line k (a row, or a column with col) for complementary suppression: when it
 * holds exactly one hidden cell, hides its smallest shown cell, a non-zero
 * one if there is any; a line of one cell has its total hidden instead.
 * Returns whether anything changed.
 */
static bool
complement(struct ssp_report *r, bool col, size_t k)
{
    size_t n = col ? r->nrows : r->ncols, hidden = 0, best = n;
    for (size_t m = 0; m < n; m++) {
        size_t c = col ? AT(r, m, k) : AT(r, k, m);
        if (r->hidden[c]) {
            hidden++;
            continue;
        }
        if (best == n) {
            best = m;
            continue;
        }
        size_t b = col ? AT(r, best, k) : AT(r, k, best);
        bool zero = r->count[c] == 0, bzero = r->count[b] == 0;
        if ((bzero && !zero) || (zero == bzero && r->count[c] < r->count[b]))
            best = m;
    }
    if (hidden != 1)
        return false;
    if (best == n) {
        bool *total = col ? &r->col_hidden[k] : &r->row_hidden[k];
        bool changed = !*total;
        *total = true;
        return changed;
    }
    r->hidden[col ? AT(r, best, k) : AT(r, k, best)] = true;
    return true;
}

void
ssp_report_suppress(struct ssp_report *r, uint64_t min_cell)
{
    size_t nhidden = 0;
    for (size_t i = 0; i < r->nrows; i++)
        for (size_t j = 0; j < r->ncols; j++) {
            uint64_t v = r->count[AT(r, i, j)];
            r->hidden[AT(r, i, j)] = v > 0 && v < min_cell;
        }
    /* Each pass hides at least one more cell or total, so this ends. */
    for (bool changed = true; changed;) {
        changed = false;
        for (size_t j = 0; j < r->ncols; j++)
            changed |= complement(r, true, j);
        for (size_t i = 0; r->two && i < r->nrows; i++)
            changed |= complement(r, false, i);
    }
    for (size_t c = 0; c < r->nrows * r->ncols; c++)
        nhidden += r->hidden[c];
    r->total_hidden = nhidden == 1;
}

uint64_t
ssp_report_row_total(const struct ssp_report *r, size_t row, bool reach)
{
    uint64_t sum = 0;
    for (size_t j = 0; j < r->ncols; j++)
        sum += (reach ? r->reach : r->count)[AT(r, row, j)];
    return sum;
}

uint64_t
ssp_report_col_total(const struct ssp_report *r, size_t col, bool reach)
{
    uint64_t sum = 0;
    for (size_t i = 0; i < r->nrows; i++)
        sum += (reach ? r->reach : r->count)[AT(r, i, col)];
    return sum;
}

uint64_t
ssp_report_total(const struct ssp_report *r, bool reach)
{
    uint64_t sum = 0;
    for (size_t i = 0; i < r->nrows; i++)
        sum += ssp_report_row_total(r, i, reach);
    return sum;
}
