/*
 * Board reports: counts of records in a table of one or two dimensions
 * (rows, and columns when a report is by two fields), and the small-cell
 * suppression that keeps a board from learning about a single child.
 * Pure: no I/O; the daemon (node/ops_report.c) feeds it labels.
 *
 * A record adds 1 (and its reach) to every (row, column) pair of its labels:
 * a record with several values of a set field (an activity's age bands, a
 * concern's categories) counts once under each. Totals are therefore sums of
 * the cells, not numbers of distinct records; that keeps each printed total
 * a linear equation over the cells, which is what the suppression reasons
 * about.
 *
 * Suppression (ssp_report_suppress), for counts about persons:
 *  1. primary: a cell with 0 < count < min_cell is hidden (a 0 is shown:
 *     there is nobody to protect in it);
 *  2. complementary, repeated until nothing changes: every line whose total
 *     is printed (each column; and each row when there are two dimensions)
 *     that holds exactly one hidden cell also hides its smallest shown cell,
 *     preferring one that is not 0 (a hidden 0 next to a hidden cell bounds
 *     it from below, and can pin it);
 *  3. a line of a single cell that is hidden cannot be complemented: its
 *     total (which equals the cell) is hidden;
 *  4. the grand total is hidden when exactly one cell of the table is.
 * So every line total printed covers no hidden cell or at least two, and no
 * hidden cell equals a printed total.
 */
#ifndef SSP_NODE_DOMAIN_REPORT_H
#define SSP_NODE_DOMAIN_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/err.h"

#define SSP_REPORT_LABEL_MAX 64  /* bytes of a label, with its NUL: a scope name fits */
#define SSP_REPORT_LINES_MAX 512 /* distinct labels of one dimension */
#define SSP_REPORT_MIN_CELL 5

struct ssp_report {
    size_t nrows, ncols; /* ncols is 1 for a report by one field */
    bool two;            /* by two fields */
    char (*rows)[SSP_REPORT_LABEL_MAX];
    char (*cols)[SSP_REPORT_LABEL_MAX];
    /* Cell (i, j) is at i * cap_cols + j: row-major, dense once sorted. */
    uint64_t *count, *reach;
    bool *hidden; /* set by ssp_report_suppress */
    bool *row_hidden, *col_hidden, total_hidden;
    size_t cap_rows, cap_cols; /* labels the arrays have room for */
};

/* An empty report by one field, or by two (two). */
void ssp_report_init(struct ssp_report *r, bool two);
void ssp_report_fini(struct ssp_report *r);

/*
 * Counts one record: 1 and reach in each cell (rows[i], cols[j]); cols is
 * ignored for a report by one field. Labels are copied (truncated to fit).
 * SSP_ERR_FULL past SSP_REPORT_LINES_MAX labels of a dimension, SSP_ERR_NOMEM.
 */
SSP_MUST_CHECK ssp_err ssp_report_add(struct ssp_report *r, const char *const *rows, size_t nrows,
                                      const char *const *cols, size_t ncols, uint64_t reach);

/*
 * Puts rows and columns in label order (dates and numbers sort as they read)
 * and makes the cells dense (cap_cols == ncols). Call it once every record is
 * added, before the functions below.
 */
SSP_MUST_CHECK ssp_err ssp_report_sort(struct ssp_report *r);

/* Applies the suppression above with min_cell (0 or 1: nothing is hidden). */
void ssp_report_suppress(struct ssp_report *r, uint64_t min_cell);

uint64_t ssp_report_row_total(const struct ssp_report *r, size_t row, bool reach);
uint64_t ssp_report_col_total(const struct ssp_report *r, size_t col, bool reach);
uint64_t ssp_report_total(const struct ssp_report *r, bool reach);

#endif
