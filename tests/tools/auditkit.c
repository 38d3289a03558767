/*
 * auditkit: tampers with the audit trail of a stopped node directory, for
 * test_audit.sh. It plays someone who can write the store file and holds the
 * passphrase (so the scope keys), but does not re-sign anything: what it
 * changes is only the stored state of audit entries, never the signed log.
 *
 *   alter ID    changes entry ID's user to "mallory" (re-sealed with the scope key)
 *   remove ID   takes entry ID out of the store (record and index)
 *   insert ID   adds a copy of entry ID under a new id: its seq is then taken twice
 *
 * Prints the id it wrote (insert) or nothing; exit 0, or 2 with a message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/node_int.h"
#include "node/store/keys.h"

static const char usage[] = "usage: auditkit DIR alter|remove|insert ENTRY_ID\n";

struct job {
    struct ssp_node *n;
    const char *cmd;
    uint8_t id[SSP_RECORD_ID_LEN];
    uint8_t made[SSP_RECORD_ID_LEN];
};

static ssp_err
tamper(struct ssp_txn *t, void *arg, struct ssp_diag *d)
{
    static const uint8_t mallory[] = {0xa7, 'm', 'a', 'l', 'l', 'o', 'r', 'y'};
    struct job *j = arg;
    struct ssp_record r;
    struct ssp_buf scratch;
    uint8_t k[SSP_KEY_MAX];
    ssp_record_init(&r);
    ssp_buf_init(&scratch);
    ssp_err rc = ssp_node_open_record(j->n->kr, t, j->id, &r, d);
    if (rc == SSP_OK && strcmp(r.type, "audit") != 0)
        rc = ssp_diag_set(d, SSP_ERR_INVAL, "that record is not an audit entry");
    const struct ssp_scope_key *key =
        rc == SSP_OK ? ssp_keyring_scope(j->n->kr, SSP_SLICE(r.scope, strlen(r.scope))) : NULL;
    if (rc == SSP_OK && strcmp(j->cmd, "alter") == 0) {
        for (uint32_t i = 0; i < r.nfields; i++)
            if (ssp_slice_eq_str(r.fields[i].name, "user"))
                r.fields[i].value = SSP_SLICE(mallory, sizeof mallory);
        rc = ssp_node_store_record(t, &r, key->key, false, true, &scratch);
    } else if (rc == SSP_OK && strcmp(j->cmd, "remove") == 0) {
        rc = ssp_txn_del(t, SSP_DB_RECORDS, SSP_SLICE(j->id, SSP_RECORD_ID_LEN));
        if (rc == SSP_OK)
            rc = ssp_txn_del(
                t, SSP_DB_INDEX,
                SSP_SLICE(k, ssp_key_index(k, SSP_SLICE(r.type, strlen(r.type)),
                                           SSP_SLICE(r.scope, strlen(r.scope)), j->id)));
    } else if (rc == SSP_OK && strcmp(j->cmd, "insert") == 0) {
        ssp_node_new_id(j->n, j->made);
        memcpy(r.id, j->made, SSP_RECORD_ID_LEN);
        rc = ssp_node_store_record(t, &r, key->key, false, false, &scratch);
    } else if (rc == SSP_OK) {
        rc = ssp_diag_set(d, SSP_ERR_INVAL, "unknown command '%s'", j->cmd);
    }
    ssp_buf_fini(&scratch);
    ssp_record_fini(&r);
    return rc;
}

int
main(int argc, char **argv)
{
    struct ssp_diag d = {{0}};
    struct job j = {0};
    const char *pass = getenv("SSP_PASSPHRASE");
    if (argc != 4 || pass == NULL) {
        fputs(usage, stderr);
        return 2;
    }
    j.cmd = argv[2];
    ssp_err rc = ssp_crypto_init();
    if (rc == SSP_OK &&
        (rc = ssp_record_id_parse(SSP_SLICE(argv[3], strlen(argv[3])), j.id)) != SSP_OK)
        ssp_diag_set(&d, rc, "'%s' is not a record id", argv[3]);
    if (rc == SSP_OK)
        rc = ssp_node_open(argv[1], pass, strlen(pass), 0, &j.n, &d);
    if (rc == SSP_OK)
        rc = ssp_store_write(j.n->store, tamper, &j, &d);
    if (rc == SSP_OK && strcmp(j.cmd, "insert") == 0) {
        char text[SSP_RECORD_ID_TEXT + 1];
        ssp_record_id_format(j.made, text);
        printf("%s\n", text);
    }
    ssp_node_close(j.n);
    if (rc != SSP_OK) {
        fprintf(stderr, "auditkit: %s\n", d.msg[0] != '\0' ? d.msg : ssp_strerror(rc));
        return 2;
    }
    return 0;
}
