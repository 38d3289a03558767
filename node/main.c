/*
 * sspd: the node daemon. This file only reads arguments and wires the parts
 * together; see node/node.h for what a node does.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>
#include <uv.h>

#include "node/net/ctl.h"
#include "node/net/peer.h"
#include "node/say.h"

/* Exit codes; ssp maps them to its own (cli/main.c). */
enum {
    EXIT_OK = 0,
    EXIT_FAIL = 1,
    EXIT_USAGE = 2,
    EXIT_RUNNING = 3,
    EXIT_PASSPHRASE = 4,
    EXIT_STORAGE = 5,
};

static const char usage[] =
    "usage: sspd init --dir DIR --name NAME [--central [--scope AREA[,AREA...]]]\n"
    "                 [--kdf LEVEL] [--passphrase-fd N | --passphrase-file FILE]\n"
    "       sspd run  --dir DIR [--passphrase-fd N | --passphrase-file FILE]\n"
    "                 [--listen HOST:PORT] [--log-level debug|info|warn|error]\n"
    "                 [--map-size MIB]\n"
    "\n"
    "The ssp-node daemon. 'init' creates a node in DIR and prints its node id;\n"
    "'run' serves the node on DIR/sspd.sock until SIGINT, SIGTERM or 'ssp stop',\n"
    "and syncs with its peers. Use the 'ssp' command rather than calling sspd.\n"
    "\n"
    "  --central   create a network with this node as its central: it holds the\n"
    "              admin key and the keys of every scope ('network', 'central'\n"
    "              and the areas named by --scope)\n"
    "  --listen    take peer connections on HOST:PORT (else [net] listen in\n"
    "              ssp.conf; none if neither)\n"
    "  --kdf       passphrase hardening: interactive, moderate (default), sensitive\n"
    "  --passphrase-fd N, --passphrase-file FILE\n"
    "              where to read the passphrase; else SSP_PASSPHRASE\n"
    "\n"
    "Exit codes: 0 ok, 1 failure, 2 usage, 3 another sspd runs on DIR,\n"
    "4 wrong passphrase, 5 storage problem (damaged, full, newer format).\n";

struct args {
    const char *cmd, *dir, *name, *scopes, *pass_file, *log_level, *listen;
    bool central;
    int pass_fd;
    enum ssp_kdf_level kdf;
    size_t map_size;
};

static int
parse_args(int argc, char **argv, struct args *a)
{
    *a = (struct args){.scopes = "", .pass_fd = -1, .kdf = SSP_KDF_MODERATE};
    if (argc < 2)
        return -1;
    a->cmd = argv[1];
    for (int i = 2; i < argc; i++) {
        const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(opt, "--help") == 0)
            return -1;
        if (strcmp(opt, "--central") == 0) {
            a->central = true;
            continue;
        }
        if (val == NULL)
            return -1;
        i++;
        if (strcmp(opt, "--dir") == 0) {
            a->dir = val;
        } else if (strcmp(opt, "--name") == 0) {
            a->name = val;
        } else if (strcmp(opt, "--scope") == 0) {
            a->scopes = val;
        } else if (strcmp(opt, "--listen") == 0 && ssp_addr_valid(val)) {
            a->listen = val;
        } else if (strcmp(opt, "--passphrase-file") == 0) {
            a->pass_file = val;
        } else if (strcmp(opt, "--passphrase-fd") == 0) {
            char *end;
            long fd = strtol(val, &end, 10);
            if (*end != '\0' || fd < 0 || fd > 1024)
                return -1;
            a->pass_fd = (int)fd;
        } else if (strcmp(opt, "--log-level") == 0 && ssp_say_parse_level(val) >= 0) {
            a->log_level = val;
        } else if (strcmp(opt, "--map-size") == 0) {
            char *end;
            unsigned long mib = strtoul(val, &end, 10);
            if (*end != '\0' || mib == 0 || mib > (1ul << 20))
                return -1;
            a->map_size = (size_t)mib << 20;
        } else if (strcmp(opt, "--kdf") == 0) {
            if (strcmp(val, "interactive") == 0)
                a->kdf = SSP_KDF_INTERACTIVE;
            else if (strcmp(val, "moderate") == 0)
                a->kdf = SSP_KDF_MODERATE;
            else if (strcmp(val, "sensitive") == 0)
                a->kdf = SSP_KDF_SENSITIVE;
            else
                return -1;
        } else {
            return -1;
        }
    }
    if (a->dir == NULL || (strcmp(a->cmd, "init") == 0 && a->name == NULL))
        return -1;
    return 0;
}

static int
exit_code(ssp_err rc)
{
    switch (rc) {
    case SSP_OK:
        return EXIT_OK;
    case SSP_ERR_AUTH:
        return EXIT_PASSPHRASE;
    case SSP_ERR_BUSY:
        return EXIT_RUNNING;
    case SSP_ERR_IO:
    case SSP_ERR_FULL:
    case SSP_ERR_CORRUPT:
    case SSP_ERR_NOMEM:
    case SSP_ERR_VERSION:
        return EXIT_STORAGE;
    default:
        return EXIT_FAIL;
    }
}

static void
fail(struct ssp_diag *d, ssp_err rc)
{
    fprintf(stderr, "sspd: %s\n", d->msg[0] != '\0' ? d->msg : ssp_strerror(rc));
}

static int
cmd_init(const struct args *a)
{
    struct ssp_diag d = {{0}};
    struct ssp_node_init init = {a->name, a->central, a->scopes, a->kdf, a->map_size};
    char *pass = NULL;
    size_t len = 0;
    uint8_t id[SSP_PK_LEN];
    char text[SSP_NODE_ID_TEXT + 1];
    ssp_err rc = ssp_passphrase_load(a->pass_fd, a->pass_file, &pass, &len, &d);
    if (rc == SSP_OK)
        rc = ssp_node_create(a->dir, &init, pass, len, id, &d);
    ssp_secret_free(pass);
    if (rc != SSP_OK) {
        fail(&d, rc);
        return exit_code(rc);
    }
    ssp_node_id_format(id, text);
    printf("%s\n", text);
    return EXIT_OK;
}

/*
 * Takes the directory's lock file, so a second sspd on the same directory is
 * refused; the lock goes with the process, even on kill -9.
 */
static ssp_err
take_lock(const char *dir, int *fd_out, struct ssp_diag *d)
{
    char path[4096], pid[32] = {0};
    snprintf(path, sizeof path, "%s/sspd.lock", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return ssp_diag_set(d, SSP_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        ssize_t n = read(fd, pid, sizeof pid - 1);
        close(fd);
        pid[n > 0 ? n : 0] = '\0';
        pid[strcspn(pid, "\n")] = '\0';
        return ssp_diag_set(d, SSP_ERR_BUSY,
                            "another sspd (pid %s) is running on %s; stop it with 'ssp stop'",
                            pid[0] != '\0' ? pid : "?", dir);
    }
    snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, strlen(pid), 0) < 0) {
        close(fd);
        return ssp_diag_set(d, SSP_ERR_IO, "cannot write %s: %s", path, strerror(errno));
    }
    *fd_out = fd;
    return SSP_OK;
}

struct daemon {
    uv_loop_t *loop;
    uv_signal_t sigint, sigterm;
    struct ssp_ctl *ctl;
    struct ssp_net *net;
    bool stopping;
};

static void
shutdown_daemon(void *arg)
{
    struct daemon *dm = arg;
    if (dm->stopping)
        return;
    dm->stopping = true;
    ssp_say(SSP_INFO, "shutting down");
    /* Peers first: a pending 'ssp sync' is answered before its connection closes. */
    ssp_net_close(dm->net);
    ssp_ctl_close(dm->ctl);
    uv_close((uv_handle_t *)&dm->sigint, NULL);
    uv_close((uv_handle_t *)&dm->sigterm, NULL);
}

static void
on_signal(uv_signal_t *h, int signum)
{
    (void)signum;
    shutdown_daemon(h->data);
}

static ssp_err
serve(struct ssp_node *n, const char *listen, struct ssp_diag *d)
{
    struct ssp_ops_ctx ops = {.node = n};
    struct daemon dm = {.loop = uv_default_loop()};
    char path[4096], id[SSP_NODE_ID_TEXT + 1];
    ssp_err rc = ssp_node_socket_path(n->dir, path, sizeof path, d);
    if (rc == SSP_OK)
        rc = ssp_net_start(dm.loop, n, listen != NULL ? listen : n->cfg.listen, &dm.net, d);
    ops.net = dm.net;
    if (rc == SSP_OK)
        rc = ssp_ctl_start(dm.loop, path, &ops, shutdown_daemon, &dm, &dm.ctl, d);
    if (rc != SSP_OK) {
        ssp_net_close(dm.net);
        uv_run(dm.loop, UV_RUN_NOWAIT);
        ssp_ops_ctx_fini(&ops);
        return rc;
    }
    uv_signal_init(dm.loop, &dm.sigint);
    uv_signal_init(dm.loop, &dm.sigterm);
    dm.sigint.data = dm.sigterm.data = &dm;
    uv_signal_start(&dm.sigint, on_signal, SIGINT);
    uv_signal_start(&dm.sigterm, on_signal, SIGTERM);
    ssp_node_id_format(n->kr->pk, id);
    if (getenv("SSP_TEST_CLOCK_MS") != NULL)
        ssp_say(SSP_WARN,
                "SSP_TEST_CLOCK_MS is set: every write gets that fixed time (tests only)");
    ssp_say(SSP_INFO, "sspd ready on %s (node %.8s, pid %ld)", path, id, (long)getpid());
    uv_run(dm.loop, UV_RUN_DEFAULT);
    uv_loop_close(dm.loop);
    ssp_ops_ctx_fini(&ops);
    return SSP_OK;
}

static int
cmd_run(const struct args *a)
{
    struct ssp_diag d = {{0}};
    struct ssp_node *n = NULL;
    char *pass = NULL;
    size_t len = 0;
    int lock = -1;

    ssp_err rc = take_lock(a->dir, &lock, &d);
    if (rc == SSP_OK)
        rc = ssp_passphrase_load(a->pass_fd, a->pass_file, &pass, &len, &d);
    if (rc == SSP_OK)
        rc = ssp_node_open(a->dir, pass, len, a->map_size, &n, &d);
    ssp_secret_free(pass);
    if (rc == SSP_OK) {
        ssp_say_level(a->log_level != NULL ? (enum ssp_level)ssp_say_parse_level(a->log_level)
                                           : n->cfg.log_level);
        rc = serve(n, a->listen, &d);
    }
    ssp_node_close(n);
    if (lock >= 0)
        close(lock);
    if (rc != SSP_OK) {
        ssp_say(SSP_ERROR, "%s", d.msg[0] != '\0' ? d.msg : ssp_strerror(rc));
        return exit_code(rc);
    }
    ssp_say(SSP_INFO, "stopped cleanly");
    return EXIT_OK;
}

int
main(int argc, char **argv)
{
    struct args a;
    if (parse_args(argc, argv, &a) != 0) {
        fputs(usage, argc > 1 && strcmp(argv[argc - 1], "--help") == 0 ? stdout : stderr);
        return argc > 1 && strcmp(argv[argc - 1], "--help") == 0 ? EXIT_OK : EXIT_USAGE;
    }
    signal(SIGPIPE, SIG_IGN);
    if (ssp_crypto_init() != SSP_OK) {
        fputs("sspd: libsodium failed to initialise\n", stderr);
        return EXIT_FAIL;
    }
    if (strcmp(a.cmd, "init") == 0)
        return cmd_init(&a);
    if (strcmp(a.cmd, "run") == 0)
        return cmd_run(&a);
    fputs(usage, stderr);
    return EXIT_USAGE;
}
