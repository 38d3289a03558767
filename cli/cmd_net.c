/*
 * The network: scopes, enrolment, the roster, peers and sync.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cmd.h"

#define S(x) (int)(x).n, (const char *)(x).p

/* The short form of a node id: its first 8 characters. */
static struct ssp_slice
short_id(struct ssp_slice id)
{
    return SSP_SLICE(id.p, id.n > 8 ? 8 : id.n);
}

/* Reads an array of maps, calling row for each with the map's reader. */
static ssp_err
each(struct ssp_mp *c, ssp_err (*row)(struct ssp_mp *m, void *arg), void *arg)
{
    uint32_t n;
    ssp_err rc = ssp_mp_array(c, &n);
    for (uint32_t i = 0; i < n && rc == SSP_OK; i++)
        rc = row(c, arg);
    return rc;
}

/* Joins an encoded array of strings with commas into out. */
static void
join(struct ssp_slice arr, char *out, size_t cap)
{
    struct ssp_mp c;
    struct ssp_slice s;
    uint32_t n;
    size_t len = 0;
    out[0] = '\0';
    ssp_mp_init(&c, arr);
    if (ssp_mp_array(&c, &n) != SSP_OK)
        return;
    for (uint32_t i = 0; i < n && ssp_mp_str(&c, &s) == SSP_OK; i++) {
        int w = snprintf(out + len, cap - len, "%s%.*s", i > 0 ? "," : "", S(s));
        if (w < 0 || (size_t)w >= cap - len)
            break;
        len += (size_t)w;
    }
}

int
ssp_cmd_scope_add(struct ssp_cli *cli, const struct ssp_args *a)
{
    const char *kv[] = {"scope", a->pos[0]};
    return ssp_cli_run_kv(cli, "scope_add", kv, 1, ssp_out_facts);
}

static ssp_err
print_entry(struct ssp_mp *c, void *arg)
{
    struct ssp_slice node = {0}, name = {0}, role = {0}, scopes = {0}, since = {0};
    const struct ssp_mp_key keys[] = {
        {"node", SSP_AS_STR, true, &node},    {"name", SSP_AS_STR, true, &name},
        {"role", SSP_AS_STR, true, &role},    {"scopes", SSP_AS_RAW, true, &scopes},
        {"since", SSP_AS_STR, false, &since},
    };
    char list[256];
    (void)arg;
    ssp_err rc = ssp_mp_read_map(c, keys, sizeof keys / sizeof keys[0], false, NULL);
    if (rc != SSP_OK)
        return rc;
    join(scopes, list, sizeof list);
    printf("%.*s  %-8.*s %-24.*s %s\n", S(short_id(node)), S(role), S(name),
           list[0] != '\0' ? list : "(every scope)");
    return SSP_OK;
}

static ssp_err
print_enrolled(struct ssp_mp *c, struct ssp_diag *d)
{
    ssp_err rc = print_entry(c, NULL);
    if (rc == SSP_OK)
        puts("enrolled: the node receives the roster and its keys at its next sync with this "
             "central");
    return rc == SSP_OK ? SSP_OK : ssp_out_bad_result(rc, d);
}

int
ssp_cmd_enrol(struct ssp_cli *cli, const struct ssp_args *a)
{
    const char *name = ssp_args_get(a, "name"), *scopes = ssp_args_get(a, "scope");
    const char *role = ssp_args_get(a, "role");
    struct ssp_buf b;
    struct ssp_mpw w;
    if (name == NULL || scopes == NULL)
        return ssp_out_usage("enrol needs --name NAME and --scope AREA[,AREA...]");
    ssp_buf_init(&b);
    ssp_mpw_init(&w, &b);
    ssp_mpw_map(&w, role != NULL ? 4 : 3);
    ssp_cli_kv(&w, "node", a->pos[0]);
    ssp_cli_kv(&w, "name", name);
    ssp_cli_kv(&w, "scopes", scopes);
    if (role != NULL)
        ssp_cli_kv(&w, "role", role);
    int status = ssp_cli_run(cli, "enrol", &w, print_enrolled);
    ssp_buf_fini(&b);
    return status;
}

/* "SCOPE now at key epoch N" for each scope a revocation or rotation rotated. */
static ssp_err
print_rotated(struct ssp_mp *c, void *arg)
{
    struct ssp_slice scope = {0};
    uint64_t epoch = 0;
    const struct ssp_mp_key keys[] = {
        {"scope", SSP_AS_STR, true, &scope},
        {"epoch", SSP_AS_UINT, true, &epoch},
    };
    (void)arg;
    ssp_err rc = ssp_mp_read_map(c, keys, sizeof keys / sizeof keys[0], false, NULL);
    if (rc == SSP_OK)
        printf("scope %.*s: new key epoch %llu\n", S(scope), (unsigned long long)epoch);
    return rc;
}

static ssp_err
print_rotation(struct ssp_mp *c, struct ssp_diag *d)
{
    struct ssp_slice node = {0}, at = {0}, rotated = {0};
    uint64_t grants = 0;
    const struct ssp_mp_key keys[] = {
        {"node", SSP_AS_STR, false, &node},
        {"removed_at", SSP_AS_STR, false, &at},
        {"rotated", SSP_AS_RAW, true, &rotated},
        {"grants", SSP_AS_UINT, true, &grants},
    };
    struct ssp_mp m;
    ssp_err rc = ssp_mp_read_map(c, keys, sizeof keys / sizeof keys[0], false, NULL);
    if (rc == SSP_OK && node.n > 0)
        printf("node %.*s removed from the network at %.*s\n", S(node), S(at));
    ssp_mp_init(&m, rotated);
    if (rc == SSP_OK)
        rc = each(&m, print_rotated, NULL);
    if (rc == SSP_OK)
        printf("%llu grants of the new keys to the members that read them; they take them at "
               "their next sync\n",
               (unsigned long long)grants);
    return rc == SSP_OK ? SSP_OK : ssp_out_bad_result(rc, d);
}

int
ssp_cmd_revoke(struct ssp_cli *cli, const struct ssp_args *a)
{
    const char *kv[] = {"node", a->pos[0], "reason", ssp_args_get(a, "reason")};
    return ssp_cli_run_kv(cli, "revoke", kv, 2, print_rotation);
}

int
ssp_cmd_rotate(struct ssp_cli *cli, const struct ssp_args *a)
{
    const char *kv[] = {"scope", a->pos[0]};
    return ssp_cli_run_kv(cli, "rotate", kv, 1, print_rotation);
}

static ssp_err
print_roster(struct ssp_mp *c, struct ssp_diag *d)
{
    struct ssp_slice network = {0}, scopes = {0}, nodes = {0};
    const struct ssp_mp_key keys[] = {
        {"network", SSP_AS_STR, false, &network},
        {"scopes", SSP_AS_RAW, true, &scopes},
        {"nodes", SSP_AS_RAW, true, &nodes},
    };
    struct ssp_mp m;
    ssp_err rc = ssp_mp_read_map(c, keys, sizeof keys / sizeof keys[0], false, NULL);
    if (rc == SSP_OK && network.n == 0) {
        puts("this node is not enrolled in a network yet");
        return SSP_OK;
    }
    if (rc == SSP_OK)
        printf("network %.*s\n", S(network));
    ssp_mp_init(&m, nodes);
    if (rc == SSP_OK)
        rc = each(&m, print_entry, NULL);
    return rc == SSP_OK ? SSP_OK : ssp_out_bad_result(rc, d);
}

int
ssp_cmd_roster(struct ssp_cli *cli, const struct ssp_args *a)
{
    (void)a;
    return ssp_cli_run(cli, "roster", NULL, print_roster);
}

int
ssp_cmd_peer_add(struct ssp_cli *cli, const struct ssp_args *a)
{
    const char *network = ssp_args_get(a, "network");
    const char *kv[] = {"node", a->pos[0], "addr", a->pos[1], "network", network};
    return ssp_cli_run_kv(cli, "peer_add", kv, 3, ssp_out_facts);
}

int
ssp_cmd_peer_remove(struct ssp_cli *cli, const struct ssp_args *a)
{
    const char *kv[] = {"node", a->pos[0]};
    return ssp_cli_run_kv(cli, "peer_remove", kv, 1, ssp_out_facts);
}

static ssp_err
print_peer(struct ssp_mp *c, void *arg)
{
    struct ssp_slice node = {0}, name = {0}, role = {0}, addr = {0}, state = {0}, contact = {0},
                     error = {0}, warning = {0};
    uint64_t they = 0, we = 0, refused = 0, ahead = 0, send_rate = 0, receive_rate = 0, left = 0;
    bool synced = false, slow = false;
    int64_t skew = 0;
    const struct ssp_mp_key keys[] = {
        {"node", SSP_AS_STR, true, &node},
        {"name", SSP_AS_STR, true, &name},
        {"role", SSP_AS_STR, true, &role},
        {"addr", SSP_AS_STR, true, &addr},
        {"state", SSP_AS_STR, true, &state},
        {"synced", SSP_AS_BOOL, true, &synced},
        {"last_contact", SSP_AS_STR, false, &contact},
        {"last_error", SSP_AS_STR, false, &error},
        {"they_lack", SSP_AS_UINT, true, &they},
        {"we_lack", SSP_AS_UINT, true, &we},
        {"clock_skew_ms", SSP_AS_INT, true, &skew},
        {"clock_warning", SSP_AS_STR, false, &warning},
        {"refused", SSP_AS_UINT, true, &refused},
        {"clock_ahead", SSP_AS_UINT, true, &ahead},
        {"send_rate", SSP_AS_UINT, false, &send_rate},
        {"receive_rate", SSP_AS_UINT, false, &receive_rate},
        {"slow", SSP_AS_BOOL, true, &slow},
        {"time_left_s", SSP_AS_UINT, false, &left},
    };
    (void)arg;
    ssp_err rc = ssp_mp_read_map(c, keys, sizeof keys / sizeof keys[0], false, NULL);
    if (rc != SSP_OK)
        return rc;
    printf("  %.*s %.*s (%.*s) %.*s\n", S(short_id(node)), S(name), S(role),
           addr.n > 0 ? (int)addr.n : 26,
           addr.n > 0 ? (const char *)addr.p : "dials us or sends bundles");
    printf("    %.*s%s, last contact %.*s\n", S(state), synced ? ", in sync" : "",
           contact.n > 0 ? (int)contact.n : 5, contact.n > 0 ? (const char *)contact.p : "never");
    if (!synced)
        printf("    they lack %llu commits of ours, we lack %llu of theirs (as of their last "
               "hello)\n",
               (unsigned long long)they, (unsigned long long)we);
    if (slow && left > 0)
        printf("    slow link: sending %.1f KiB/s, receiving %.1f KiB/s; about %llu s left at "
               "that rate\n",
               (double)send_rate / 1024.0, (double)receive_rate / 1024.0, (unsigned long long)left);
    else if (slow)
        printf("    slow link: sending %.1f KiB/s, receiving %.1f KiB/s\n",
               (double)send_rate / 1024.0, (double)receive_rate / 1024.0);
    if (refused > 0)
        printf("    refused %llu of their commits (see sspd.log)\n", (unsigned long long)refused);
    if (error.n > 0)
        printf("    last error: %.*s\n", S(error));
    if (warning.n > 0)
        printf("    warning: %.*s\n", S(warning));
    if (ahead > 0)
        printf("    %llu of its commits carry a clock too far ahead; ours did not follow it\n",
               (unsigned long long)ahead);
    return SSP_OK;
}

static ssp_err
print_peers(struct ssp_mp *c, struct ssp_diag *d)
{
    struct ssp_mp probe = *c;
    uint32_t n = 0;
    if (ssp_mp_array(&probe, &n) == SSP_OK && n == 0)
        puts("no peers; add one with 'ssp peer add NODE_ID HOST:PORT'");
    ssp_err rc = each(c, print_peer, NULL);
    return rc == SSP_OK ? SSP_OK : ssp_out_bad_result(rc, d);
}

int
ssp_cmd_peer_list(struct ssp_cli *cli, const struct ssp_args *a)
{
    (void)a;
    return ssp_cli_run(cli, "peers", NULL, print_peers);
}

static ssp_err
print_quarantined(struct ssp_mp *c, void *arg)
{
    struct ssp_slice scope = {0}, origin = {0}, kind = {0}, peer = {0}, since = {0};
    uint64_t seq = 0;
    const struct ssp_mp_key keys[] = {
        {"scope", SSP_AS_STR, true, &scope}, {"origin", SSP_AS_STR, true, &origin},
        {"kind", SSP_AS_STR, true, &kind},   {"seq", SSP_AS_UINT, true, &seq},
        {"peer", SSP_AS_STR, true, &peer},   {"since", SSP_AS_STR, true, &since},
    };
    (void)arg;
    ssp_err rc = ssp_mp_read_map(c, keys, sizeof keys / sizeof keys[0], false, NULL);
    if (rc != SSP_OK)
        return rc;
    printf("  stream %.*s/%.*s: ", S(scope), S(short_id(origin)));
    if (ssp_slice_eq_str(kind, "diverged"))
        printf("two histories at seq %llu (peer %.*s holds the other); nothing of it is "
               "merged\n",
               (unsigned long long)seq, S(short_id(peer)));
    else if (ssp_slice_eq_str(kind, "behind"))
        printf("this node was restored from an older copy: peer %.*s has seen seq %llu; writes "
               "wait until it is back\n",
               S(short_id(peer)), (unsigned long long)seq);
    else if (ssp_slice_eq_str(kind, "recovering"))
        printf("being recovered ('ssp recover'); it finishes at the next sync with a peer that "
               "holds it\n");
    else
        printf("peer %.*s was restored from an older copy (we hold seq %llu of its stream); "
               "it is being sent back\n",
               S(short_id(peer)), (unsigned long long)seq);
    printf("    since %.*s\n", S(since));
    return SSP_OK;
}

/* status: the facts, then the quarantined streams and the peers. */
static ssp_err
print_status(struct ssp_mp *c, struct ssp_diag *d)
{
    struct ssp_mp m = *c;
    struct ssp_buf facts;
    struct ssp_mpw w;
    struct ssp_slice key, peers = {0}, quarantine = {0}, removed = {0};
    uint32_t n, nq = 0;
    ssp_buf_init(&facts);
    ssp_mpw_init(&w, &facts);
    ssp_err rc = ssp_mp_map(&m, &n);
    ssp_mpw_map(&w, n > 1 ? n - 2 : 0);
    for (uint32_t i = 0; i < n && rc == SSP_OK; i++) {
        struct ssp_slice raw;
        rc = ssp_mp_str(&m, &key);
        if (rc == SSP_OK)
            rc = ssp_mp_raw(&m, &raw);
        if (rc != SSP_OK)
            break;
        if (ssp_slice_eq_str(key, "peers")) {
            peers = raw;
            continue;
        }
        if (ssp_slice_eq_str(key, "quarantine")) {
            quarantine = raw;
            continue;
        }
        if (ssp_slice_eq_str(key, "removed_at")) {
            struct ssp_mp r;
            ssp_mp_init(&r, raw);
            if (ssp_mp_str(&r, &removed) != SSP_OK)
                removed.n = 0; /* nil: not removed */
        }
        ssp_mpw_str(&w, key.p, key.n);
        ssp_mpw_raw(&w, raw);
    }
    if (rc == SSP_OK && (peers.p == NULL || quarantine.p == NULL))
        rc = SSP_ERR_PROTO;
    if (rc == SSP_OK)
        rc = w.err;
    if (rc == SSP_OK && removed.n > 0)
        printf("this node was removed from the network at %.*s: its data of the network was "
               "purged and it writes nothing more\n",
               S(removed));
    if (rc == SSP_OK)
        rc = ssp_out_map(SSP_BUF_SLICE(&facts), 0, ":", 0);
    ssp_buf_fini(&facts);
    if (rc == SSP_OK && quarantine.p != NULL) {
        ssp_mp_init(&m, quarantine);
        struct ssp_mp probe = m;
        if (ssp_mp_array(&probe, &nq) == SSP_OK && nq > 0) {
            puts("quarantined streams (see 'Restored or cloned nodes' in the README):");
            rc = each(&m, print_quarantined, NULL);
        }
    }
    if (rc == SSP_OK) {
        puts("peers:");
        ssp_mp_init(&m, peers);
        rc = print_peers(&m, d);
    }
    return rc == SSP_OK ? SSP_OK : ssp_out_bad_result(rc, d);
}

int
ssp_cmd_status(struct ssp_cli *cli, const struct ssp_args *a)
{
    struct ssp_buf b;
    struct ssp_mpw w;
    (void)a;
    ssp_buf_init(&b);
    ssp_mpw_init(&w, &b);
    ssp_mpw_map(&w, cli->json ? 1 : 0);
    if (cli->json) {
        /* Scripts compare nodes by their state hash per scope. */
        ssp_mpw_cstr(&w, "state");
        ssp_mpw_bool(&w, true);
    }
    int status = ssp_cli_run(cli, "status", &w, print_status);
    ssp_buf_fini(&b);
    return status;
}

static ssp_err
print_report(struct ssp_mp *c, void *arg)
{
    struct ssp_slice node = {0}, error = {0};
    bool ok = false;
    uint64_t co = 0, bo = 0, ci = 0, bi = 0, wo = 0, wi = 0, refused = 0;
    double secs = 0;
    const struct ssp_mp_key keys[] = {
        {"node", SSP_AS_STR, true, &node},     {"ok", SSP_AS_BOOL, true, &ok},
        {"error", SSP_AS_STR, false, &error},  {"commits_out", SSP_AS_UINT, true, &co},
        {"bytes_out", SSP_AS_UINT, true, &bo}, {"commits_in", SSP_AS_UINT, true, &ci},
        {"bytes_in", SSP_AS_UINT, true, &bi},  {"wire_out", SSP_AS_UINT, true, &wo},
        {"wire_in", SSP_AS_UINT, true, &wi},   {"refused", SSP_AS_UINT, true, &refused},
        {"seconds", SSP_AS_RAW, true, NULL},
    };
    struct ssp_slice raw = {0};
    struct ssp_mp_key k2[sizeof keys / sizeof keys[0]];
    memcpy(k2, keys, sizeof keys);
    k2[10].out = &raw;
    int *failed = arg;
    ssp_err rc = ssp_mp_read_map(c, k2, sizeof k2 / sizeof k2[0], false, NULL);
    if (rc != SSP_OK)
        return rc;
    struct ssp_mp f;
    ssp_mp_init(&f, raw);
    if (ssp_mp_float(&f, &secs) != SSP_OK)
        secs = 0;
    if (!ok) {
        printf("%.*s: not in sync: %.*s\n", S(short_id(node)), S(error));
        *failed = 1;
        return SSP_OK;
    }
    printf("%.*s: sent %llu commits (%llu bytes), received %llu commits (%llu bytes); %llu+%llu "
           "bytes on the wire; %.2f s\n",
           S(short_id(node)), (unsigned long long)co, (unsigned long long)bo,
           (unsigned long long)ci, (unsigned long long)bi, (unsigned long long)wo,
           (unsigned long long)wi, secs);
    if (refused > 0)
        printf("  refused %llu of its commits: see sspd.log\n", (unsigned long long)refused);
    return SSP_OK;
}

static int sync_failed;

static ssp_err
print_sync(struct ssp_mp *c, struct ssp_diag *d)
{
    struct ssp_slice peers = {0};
    const struct ssp_mp_key keys[] = {{"peers", SSP_AS_RAW, true, &peers}};
    struct ssp_mp m;
    ssp_err rc = ssp_mp_read_map(c, keys, 1, false, NULL);
    ssp_mp_init(&m, peers);
    if (rc == SSP_OK)
        rc = each(&m, print_report, &sync_failed);
    return rc == SSP_OK ? SSP_OK : ssp_out_bad_result(rc, d);
}

static ssp_err
note_failed(struct ssp_mp *c, void *arg)
{
    bool ok = false;
    const struct ssp_mp_key keys[] = {{"ok", SSP_AS_BOOL, true, &ok}};
    ssp_err rc = ssp_mp_read_map(c, keys, 1, false, NULL);
    if (rc == SSP_OK && !ok)
        *(int *)arg = 1;
    return rc;
}

/* --json: the reports as they came; the exit status as without it. */
static ssp_err
print_sync_json(struct ssp_mp *c, struct ssp_diag *d)
{
    struct ssp_slice peers = {0};
    const struct ssp_mp_key keys[] = {{"peers", SSP_AS_RAW, true, &peers}};
    struct ssp_mp m = *c;
    ssp_err rc = ssp_out_json(c, "\n", d);
    if (rc != SSP_OK)
        return rc;
    rc = ssp_mp_read_map(&m, keys, 1, false, NULL);
    ssp_mp_init(&m, peers);
    if (rc == SSP_OK)
        rc = each(&m, note_failed, &sync_failed);
    return rc == SSP_OK ? SSP_OK : ssp_out_bad_result(rc, d);
}

int
ssp_cmd_sync(struct ssp_cli *cli, const struct ssp_args *a)
{
    size_t timeout = 300;
    struct ssp_buf b;
    struct ssp_mpw w;
    int status = ssp_args_size(a, "timeout", 1, 86400, &timeout);
    if (status != SSP_EXIT_OK)
        return status;
    ssp_buf_init(&b);
    ssp_mpw_init(&w, &b);
    ssp_mpw_map(&w, a->npos > 0 ? 2 : 1);
    ssp_mpw_cstr(&w, "timeout_ms");
    ssp_mpw_uint(&w, (uint64_t)timeout * 1000);
    if (a->npos > 0)
        ssp_cli_kv(&w, "peer", a->pos[0]);
    if (cli->json) {
        /* ssp_cli_run prints JSON without looking at it: the failures are counted here. */
        cli->json = false;
        status = ssp_cli_run(cli, "sync", &w, print_sync_json);
        cli->json = true;
    } else {
        status = ssp_cli_run(cli, "sync", &w, print_sync);
    }
    ssp_buf_fini(&b);
    /* A peer that did not sync makes the command fail, for scripts. */
    if (status == SSP_EXIT_OK && sync_failed)
        status = SSP_EXIT_REFUSED;
    return status;
}

static ssp_err
print_recover(struct ssp_mp *c, struct ssp_diag *d)
{
    uint64_t streams = 0;
    const struct ssp_mp_key keys[] = {{"streams", SSP_AS_UINT, true, &streams}};
    ssp_err rc = ssp_mp_read_map(c, keys, 1, false, NULL);
    if (rc != SSP_OK)
        return ssp_out_bad_result(rc, d);
    if (streams == 0)
        puts("nothing to recover: no stream of this node's own is quarantined");
    else
        printf("%llu of this node's own streams are in recovery; they are taken again at the "
               "next sync with a peer that holds them ('ssp sync'), and what this node wrote "
               "that its peers lack is written again on top; 'ssp status' shows the progress\n",
               (unsigned long long)streams);
    return SSP_OK;
}

int
ssp_cmd_recover(struct ssp_cli *cli, const struct ssp_args *a)
{
    (void)a;
    return ssp_cli_run(cli, "recover", NULL, print_recover);
}
