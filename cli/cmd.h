/*
 * The commands of ssp and what they share.
 *
 * main.c holds the command table, in the manner of WireGuard's wg: each
 * command's name, operands, options and one-line summary next to the
 * function that runs it. main.c parses the whole command line against the
 * table (global options may come before or after the command), so a command
 * function starts from operands and options already checked against its
 * entry. It returns the exit status (cli/out.h) and prints its own output
 * and its own one-line error.
 *
 * Requests go through ssp_cli_call / ssp_cli_run, which connect on first use
 * and turn an error response into the daemon's message.
 */
#ifndef SSP_CLI_CMD_H
#define SSP_CLI_CMD_H

#include "cli/assign.h"
#include "cli/client.h"
#include "cli/out.h"

/* An option, spelled --name VALUE or --name=VALUE, or --name for a flag. */
struct ssp_opt {
    const char *name;
    const char *meta; /* the value's placeholder in help; NULL for a flag */
    const char *help;
    const char *choices; /* the allowed values, separated by '|'; NULL for any */
};

struct ssp_optval {
    const struct ssp_opt *opt;
    char *val; /* NULL for a flag */
};

/* A command line split into operands and options; the strings are argv's. */
struct ssp_args {
    char **pos; /* the operands after the command name */
    size_t npos;
    struct ssp_optval *opts; /* the command's own options, in command-line order */
    size_t nopts;
};

/* One run of ssp; main owns it and everything it points to. */
struct ssp_cli {
    char *dir;                 /* the node directory */
    bool json;                 /* --json: results as JSON */
    struct ssp_client *client; /* connected by the first request */
};

struct ssp_cmd {
    const char *name;
    const char *usage;          /* what follows "ssp NAME" */
    const char *summary;        /* one line */
    const char *details;        /* more help, or NULL */
    const struct ssp_opt *opts; /* ends with a NULL name; NULL for none */
    size_t min_pos, max_pos;    /* how many operands */
    int (*run)(struct ssp_cli *cli, const struct ssp_args *a);
};

/* Whether option name was given. */
bool ssp_args_has(const struct ssp_args *a, const char *name);
/* The value of option name (the last given), or NULL. */
const char *ssp_args_get(const struct ssp_args *a, const char *name);
/*
 * Reads option name as a whole number in [min, max] into *v, leaving *v as
 * it is when the option is absent. Returns SSP_EXIT_OK, or SSP_EXIT_USAGE
 * after saying what is wrong.
 */
int ssp_args_size(const struct ssp_args *a, const char *name, size_t min, size_t max, size_t *v);

/* Connects cli->client unless it is connected. */
SSP_MUST_CHECK ssp_err ssp_cli_connect(struct ssp_cli *cli, struct ssp_diag *d);
/* Closes the connection (a later request connects again). */
void ssp_cli_disconnect(struct ssp_cli *cli);
/*
 * Sends op with the params written by w (NULL for {}), checking w's sticky
 * error first, and waits for the result (borrowed until the next request).
 */
SSP_MUST_CHECK ssp_err ssp_cli_call(struct ssp_cli *cli, const char *op,
                                    const struct ssp_mpw *params, struct ssp_slice *result,
                                    struct ssp_diag *d);
/*
 * ssp_cli_call, then prints the result as JSON (--json) or with print, and
 * returns the exit status after printing any error.
 */
int ssp_cli_run(struct ssp_cli *cli, const char *op, const struct ssp_mpw *params,
                ssp_out_fn print);
/*
 * Prints what ssp itself worked out (not a daemon result): the value written
 * by w as JSON with --json, else line. Returns the exit status.
 */
int ssp_cli_print(const struct ssp_cli *cli, const struct ssp_mpw *w, const char *line);
/* Clears a secret with stores the compiler may not drop as dead. */
void ssp_cli_wipe(void *p, size_t n);
/* Writes the map entry key: value (both strings). */
void ssp_cli_kv(struct ssp_mpw *w, const char *key, const char *value);
/* ssp_cli_run with params a map of the n pairs in kv (key, value, ...); NULL values are left out.
 */
int ssp_cli_run_kv(struct ssp_cli *cli, const char *op, const char *const kv[], size_t n,
                   ssp_out_fn print);

/* cmd_node.c: the node and its daemon. */
int ssp_cmd_init(struct ssp_cli *cli, const struct ssp_args *a);
int ssp_cmd_start(struct ssp_cli *cli, const struct ssp_args *a);
int ssp_cmd_stop(struct ssp_cli *cli, const struct ssp_args *a);
int ssp_cmd_verify(struct ssp_cli *cli, const struct ssp_args *a);
int ssp_cmd_status(struct ssp_cli *cli, const struct ssp_args *a); /* in cmd_net.c */

/*
 * Called with each page of a list: the type's summary field names and the
 * page's records, encoded arrays borrowed until the next request.
 */
typedef ssp_err (*ssp_cli_page_fn)(void *ctx, struct ssp_slice summary, struct ssp_slice records,
                                   struct ssp_diag *d);
/*
 * Lists the records of type (of scope if not NULL, matching where, an
 * encoded map or empty), page by page, until there are no more or limit
 * records have come, and hands each page to fn. purpose (may be NULL) is
 * why they are read, for the audit trail.
 */
SSP_MUST_CHECK ssp_err ssp_cli_list(struct ssp_cli *cli, const char *type, const char *scope,
                                    const char *purpose, struct ssp_slice where, size_t limit,
                                    ssp_cli_page_fn fn, void *ctx, struct ssp_diag *d);

/* cmd_audit.c: the audit trail. */
int ssp_cmd_audit_show(struct ssp_cli *cli, const struct ssp_args *a);
int ssp_cmd_audit_verify(struct ssp_cli *cli, const struct ssp_args *a);

/* cmd_record.c: records and the schema. */
int ssp_cmd_types(struct ssp_cli *cli, const struct ssp_args *a);
int ssp_cmd_add(struct ssp_cli *cli, const struct ssp_args *a);
int ssp_cmd_set(struct ssp_cli *cli, const struct ssp_args *a);
int ssp_cmd_note(struct ssp_cli *cli, const struct ssp_args *a);
int ssp_cmd_delete(struct ssp_cli *cli, const struct ssp_args *a);
int ssp_cmd_purge(struct ssp_cli *cli, const struct ssp_args *a);
int ssp_cmd_show(struct ssp_cli *cli, const struct ssp_args *a);
int ssp_cmd_list(struct ssp_cli *cli, const struct ssp_args *a);
int ssp_cmd_find(struct ssp_cli *cli, const struct ssp_args *a);        /* in cmd_find.c */
int ssp_cmd_person_find(struct ssp_cli *cli, const struct ssp_args *a); /* in cmd_person.c */
int ssp_cmd_history(struct ssp_cli *cli, const struct ssp_args *a);

/* cmd_work.c: the meeting work. */
int ssp_cmd_due(struct ssp_cli *cli, const struct ssp_args *a);
int ssp_cmd_agenda(struct ssp_cli *cli, const struct ssp_args *a);

/* cmd_retention.c: how long records are kept. */
int ssp_cmd_retention_rules(struct ssp_cli *cli, const struct ssp_args *a);
int ssp_cmd_retention_list(struct ssp_cli *cli, const struct ssp_args *a);
int ssp_cmd_retention_hold(struct ssp_cli *cli, const struct ssp_args *a);
int ssp_cmd_retention_run(struct ssp_cli *cli, const struct ssp_args *a);

/* cmd_case.c: cases. */
int ssp_cmd_case_open(struct ssp_cli *cli, const struct ssp_args *a);
int ssp_cmd_case_escalate(struct ssp_cli *cli, const struct ssp_args *a);

/* cmd_net.c: the network. */
int ssp_cmd_scope_add(struct ssp_cli *cli, const struct ssp_args *a);
int ssp_cmd_enrol(struct ssp_cli *cli, const struct ssp_args *a);
int ssp_cmd_revoke(struct ssp_cli *cli, const struct ssp_args *a);
int ssp_cmd_rotate(struct ssp_cli *cli, const struct ssp_args *a);
int ssp_cmd_roster(struct ssp_cli *cli, const struct ssp_args *a);
int ssp_cmd_peer_add(struct ssp_cli *cli, const struct ssp_args *a);
int ssp_cmd_peer_list(struct ssp_cli *cli, const struct ssp_args *a);
int ssp_cmd_peer_remove(struct ssp_cli *cli, const struct ssp_args *a);
int ssp_cmd_sync(struct ssp_cli *cli, const struct ssp_args *a);
int ssp_cmd_recover(struct ssp_cli *cli, const struct ssp_args *a);

/* cmd_conflicts.c: conflicts and agreement between nodes. */
int ssp_cmd_resolve(struct ssp_cli *cli, const struct ssp_args *a);
int ssp_cmd_conflicts(struct ssp_cli *cli, const struct ssp_args *a);
int ssp_cmd_state(struct ssp_cli *cli, const struct ssp_args *a);

/* cmd_bundle.c: sync carried in a file. */
int ssp_cmd_bundle_export(struct ssp_cli *cli, const struct ssp_args *a);
int ssp_cmd_bundle_import(struct ssp_cli *cli, const struct ssp_args *a);

/* cmd_report.c: board reports; main.c's table takes its options and help from there. */
extern const struct ssp_opt ssp_report_opts[];
extern const char ssp_report_help[];
int ssp_cmd_report(struct ssp_cli *cli, const struct ssp_args *a);

/* cmd_import.c */
int ssp_cmd_import(struct ssp_cli *cli, const struct ssp_args *a);

/* cmd_directory.c: the ActionCard, and its entry for the command table. */
int ssp_cmd_directory(struct ssp_cli *cli, const struct ssp_args *a);
extern const struct ssp_opt ssp_directory_opts[];
#define SSP_DIRECTORY_CMD                                                                          \
    {                                                                                              \
        "directory", "[--format md|html|csv] [--scope AREA]",                                      \
            "print the directory of professionals (the ActionCard)",                               \
            "Lists the members (professionals, scope 'network') by organisation, then\n"           \
            "each group with its members: a member is in a group when the group lists\n"           \
            "the member or the member lists the group. --scope AREA keeps only the\n"              \
            "groups of that scope and the members in them. md is Markdown; html one\n"             \
            "page to print, with nothing loaded from elsewhere; csv (RFC 4180) one row\n"          \
            "per member, their groups joined by '; '. A CSV cell that a spreadsheet\n"             \
            "would run as a formula starts with ' (a phone number such as +45 ... does\n"          \
            "not). Every value is escaped for the format.\n",                                      \
            ssp_directory_opts, 0, 0, ssp_cmd_directory                                            \
    }

#endif
