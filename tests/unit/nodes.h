/*
 * Real nodes for unit tests, each in its own temporary directory: create,
 * enrol, check. Included by the test files that join nodes in memory; inline,
 * so that a file may use only some of them.
 */
#ifndef SSP_TEST_NODES_H
#define SSP_TEST_NODES_H

#include <stdlib.h>

#include "harness.h"
#include "node/node.h"

#define PASS "unit test passphrase"

struct fx {
    char dir[64];
    uint8_t id[SSP_PK_LEN];
    struct ssp_node *n;
};

static inline void
fx_new(struct fx *f, const char *name, bool central, const char *scopes)
{
    const struct ssp_node_init init = {name, central, scopes, SSP_KDF_INTERACTIVE, 0};
    struct ssp_diag d = {{0}};
    CHECK_OK(ssp_crypto_init());
    snprintf(f->dir, sizeof f->dir, "/tmp/ssp-unit-XXXXXX");
    CHECK(mkdtemp(f->dir) != NULL);
    CHECK_OK(ssp_node_create(f->dir, &init, PASS, strlen(PASS), f->id, &d));
    CHECK_OK(ssp_node_open(f->dir, PASS, strlen(PASS), 0, &f->n, &d));
}

static inline void
fx_free(struct fx *f)
{
    char cmd[128];
    ssp_node_close(f->n);
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    CHECK(system(cmd) == 0);
}

/* The central c enrols a for one scope. */
static inline void
enrol(struct fx *c, struct fx *a, const char *scope, enum ssp_role role)
{
    struct ssp_roster_entry e = {.name = SSP_SLICE_STR("area"), .role = role, .nscopes = 1};
    struct ssp_diag d = {{0}};
    memcpy(e.node, a->id, SSP_PK_LEN);
    e.scopes[0] = SSP_SLICE_STR(scope);
    CHECK_OK(ssp_node_enrol(c->n, &e, &d));
}

static inline void
verify_ok(struct fx *f)
{
    struct ssp_node_stats st;
    struct ssp_diag d = {{0}};
    ssp_err rc = ssp_node_verify(f->n, &st, &d);
    if (rc != SSP_OK)
        fprintf(stderr, "verify: %s\n", d.msg);
    CHECK_OK(rc);
}

/* The state hash of scope on f. */
static inline void
state_of(struct fx *f, const char *scope, uint8_t out[SSP_HASH_LEN])
{
    uint64_t records;
    struct ssp_diag d = {{0}};
    CHECK_OK(ssp_node_state_hash(f->n, SSP_SLICE_STR(scope), out, &records, &d));
}

#endif
