/*
 * Commands on the node and its daemon: init, start, stop, status, verify.
 *
 * init and start run sspd: the one next to this ssp (an installed pair, or
 * a build tree), else $SSP_SSPD, else the first on PATH. They hand it the
 * passphrase in one of three ways: --passphrase-file is passed through;
 * SSP_PASSPHRASE is left for sspd to read from its environment; otherwise
 * ssp asks on the terminal and gives sspd the typed passphrase through a
 * pipe (--passphrase-fd), so that it is never in an argv or an environment
 * other processes can read.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "cli/cmd.h"

/* start and stop poll the socket this often, for at most this long. */
#define POLL_MS 20
#define START_WAIT_MS 60000
#define STOP_WAIT_MS 30000
/* What init keeps of sspd's output: a node id or an error fits many times over. */
#define CAPTURE_MAX (64u << 10)
/* How much of the end of sspd.log start reads for sspd's last words. */
#define LOG_TAIL 4096
/*
 * The longest typed passphrase: what sspd accepts (SSP_PASSPHRASE_MAX in
 * node/crypto/keyring.h). With its newline it fits in PIPE_BUF, which an
 * empty pipe always has room for, so handing it over cannot block.
 */
#define PASS_MAX 1024

/* sspd's exit status when another sspd already serves the directory. */
#define SSPD_EXIT_RUNNING 3

#define NO_PASSPHRASE "no passphrase: set SSP_PASSPHRASE or give --passphrase-file"

/* An sspd command line; the strings are borrowed. */
struct sspd_argv {
    char *v[20];
    size_t n;
};

/* A typed passphrase on its way to sspd: the read end of its pipe, or -1. */
struct handover {
    int fd;
    char fd_text[16];
};

static void
arg_push(struct sspd_argv *l, const char *opt, const char *val)
{
    /* An option whose value was not given is left out. execvp does not write to argv. */
    if (val == NULL)
        return;
    l->v[l->n++] = (char *)opt;
    l->v[l->n++] = (char *)val;
}

static void
arg_flag(struct sspd_argv *l, const char *opt, bool on)
{
    if (on)
        l->v[l->n++] = (char *)opt;
}

static long long
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

void
ssp_cli_wipe(void *p, size_t n)
{
    volatile unsigned char *v = p;
    while (n-- > 0)
        *v++ = 0;
}

/* The terminal as it was before a prompt turned echo off. */
static struct termios saved_tty;
static const int tty_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
#define NSIGNALS (sizeof tty_signals / sizeof tty_signals[0])

/* Gives the terminal its echo back when a signal ends ssp during a prompt. */
static void
restore_tty(int sig)
{
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tty);
    signal(sig, SIG_DFL);
    raise(sig);
}

/* Reads one line from the terminal with echo off into buf (PASS_MAX bytes). */
static ssp_err
read_secret(const char *prompt, char *buf, size_t *len, struct ssp_diag *d)
{
    struct termios quiet;
    struct sigaction sa, old[NSIGNALS];
    ssp_err rc = SSP_OK;
    size_t n = 0;
    char ch = 0;
    if (tcgetattr(STDIN_FILENO, &saved_tty) != 0)
        return ssp_diag_set(d, SSP_ERR_IO, "cannot prompt for the passphrase: %s", strerror(errno));
    quiet = saved_tty;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    quiet.c_lflag |= ECHONL; /* Enter still moves to the next line */
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = restore_tty;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < NSIGNALS; i++)
        sigaction(tty_signals[i], &sa, &old[i]);
    /* Echo goes off before the prompt shows: TCSAFLUSH drops what was typed before it. */
    if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) != 0)
        rc = ssp_diag_set(d, SSP_ERR_IO, "cannot turn off echo: %s", strerror(errno));
    fputs(prompt, stderr);
    fflush(stderr);
    while (rc == SSP_OK) {
        ssize_t k = read(STDIN_FILENO, &ch, 1);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            rc = ssp_diag_set(d, SSP_ERR_IO, "cannot read the passphrase: %s", strerror(errno));
        else if (k == 0 || ch == '\n')
            break;
        else if (n == PASS_MAX)
            rc = ssp_diag_set(d, SSP_ERR_INVAL, "the passphrase is longer than %d bytes", PASS_MAX);
        else
            buf[n++] = ch;
    }
    ssp_cli_wipe(&ch, sizeof ch);
    /* TCSAFLUSH also drops the rest of a passphrase that was too long. */
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tty);
    for (size_t i = 0; i < NSIGNALS; i++)
        sigaction(tty_signals[i], &old[i], NULL);
    *len = n;
    return rc;
}

static ssp_err
prompt_passphrase(const char *dir, bool confirm, char *pass, size_t *len, struct ssp_diag *d)
{
    char prompt[256], again[PASS_MAX];
    size_t n = 0;
    snprintf(prompt, sizeof prompt, "%spassphrase for %s: ", confirm ? "new " : "", dir);
    ssp_err rc = read_secret(prompt, pass, len, d);
    if (rc == SSP_OK && *len == 0)
        rc = ssp_diag_set(d, SSP_ERR_INVAL, "the passphrase is empty");
    if (rc == SSP_OK && confirm)
        rc = read_secret("the same passphrase again: ", again, &n, d);
    if (rc == SSP_OK && confirm && (n != *len || memcmp(again, pass, n) != 0))
        rc = ssp_diag_set(d, SSP_ERR_INVAL, "the two passphrases differ");
    ssp_cli_wipe(again, sizeof again);
    return rc;
}

static bool
have_passphrase(const char *file)
{
    return file != NULL || getenv("SSP_PASSPHRASE") != NULL || isatty(STDIN_FILENO);
}

/*
 * Arranges for sspd to get the passphrase and adds the arguments that say
 * how. confirm asks twice (a new passphrase). h->fd must be closed after
 * sspd has started.
 */
static ssp_err
hand_over(const char *file, const char *dir, bool confirm, struct sspd_argv *l, struct handover *h,
          struct ssp_diag *d)
{
    char pass[PASS_MAX + 1];
    size_t len = 0;
    int fds[2] = {-1, -1};
    if (file != NULL) {
        arg_push(l, "--passphrase-file", file);
        return SSP_OK;
    }
    if (getenv("SSP_PASSPHRASE") != NULL)
        return SSP_OK;
    ssp_err rc = prompt_passphrase(dir, confirm, pass, &len, d);
    if (rc == SSP_OK && pipe(fds) != 0)
        rc = ssp_diag_set(d, SSP_ERR_IO, "cannot create a pipe: %s", strerror(errno));
    if (rc == SSP_OK) {
        pass[len] = '\n';
        if (write(fds[1], pass, len + 1) != (ssize_t)(len + 1))
            rc = ssp_diag_set(d, SSP_ERR_IO, "cannot hand the passphrase to sspd: %s",
                              strerror(errno));
    }
    ssp_cli_wipe(pass, sizeof pass);
    if (fds[1] >= 0)
        close(fds[1]);
    if (rc != SSP_OK) {
        if (fds[0] >= 0)
            close(fds[0]);
        return rc;
    }
    h->fd = fds[0];
    snprintf(h->fd_text, sizeof h->fd_text, "%d", h->fd);
    arg_push(l, "--passphrase-fd", h->fd_text);
    return SSP_OK;
}

/* sspd's path; see the top of this file. */
static char *
find_sspd(void)
{
    static const char name[] = "/sspd";
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - sizeof name);
    char *slash = NULL;
    if (n > 0 && (size_t)n < sizeof self - sizeof name) {
        self[n] = '\0';
        slash = strrchr(self, '/');
    }
    if (slash != NULL) {
        memcpy(slash, name, sizeof name);
        if (access(self, X_OK) == 0)
            return ssp_strndup(self, strlen(self));
    }
    const char *env = getenv("SSP_SSPD");
    const char *path = env != NULL && env[0] != '\0' ? env : name + 1;
    return ssp_strndup(path, strlen(path));
}

/* Starts an sspd command line: SSPD SUBCOMMAND --dir DIR. *path is to be freed. */
static ssp_err
sspd_argv(struct sspd_argv *l, char **path, const char *sub, const char *dir, struct ssp_diag *d)
{
    *path = find_sspd();
    if (*path == NULL)
        return ssp_diag_set(d, SSP_ERR_NOMEM, "out of memory");
    l->v[0] = *path;
    l->v[1] = (char *)sub;
    l->n = 2;
    arg_push(l, "--dir", dir);
    return SSP_OK;
}

static _Noreturn void
exec_child(char *const *argv, const int fds[3], bool detach, int report)
{
    if (detach)
        setsid();
    for (int i = 0; i < 3; i++) {
        if (fds[i] >= 0 && fds[i] != i)
            dup2(fds[i], i);
    }
    execvp(argv[0], argv);
    int err = errno;
    ssize_t k = write(report, &err, sizeof err);
    (void)k;
    _exit(127);
}

static int
reap(pid_t pid)
{
    int ws = 0;
    while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
        ;
    return ws;
}

static void
cloexec(int fd)
{
    fcntl(fd, F_SETFD, FD_CLOEXEC);
}

/*
 * Runs argv with its standard descriptors replaced by fds[0..2] (-1 keeps
 * ssp's); detach gives it a session of its own, so that it outlives ssp and
 * the terminal. A failed exec comes back through a close-on-exec pipe, so
 * that ssp can say what went wrong instead of reporting a mystery status.
 */
static ssp_err
spawn(char *const *argv, const int fds[3], bool detach, pid_t *pid, struct ssp_diag *d)
{
    int report[2], err = 0;
    ssize_t k = 0;
    if (pipe(report) != 0)
        return ssp_diag_set(d, SSP_ERR_IO, "cannot create a pipe: %s", strerror(errno));
    cloexec(report[0]);
    cloexec(report[1]);
    *pid = fork();
    if (*pid == 0)
        exec_child(argv, fds, detach, report[1]);
    if (*pid < 0)
        err = errno;
    close(report[1]);
    while (*pid > 0 && (k = read(report[0], &err, sizeof err)) < 0 && errno == EINTR)
        ;
    close(report[0]);
    if (*pid < 0)
        return ssp_diag_set(d, SSP_ERR_IO, "cannot start %s: %s", argv[0], strerror(err));
    if (k == (ssize_t)sizeof err) {
        reap(*pid);
        return ssp_diag_set(d, SSP_ERR_INTERNAL,
                            "cannot run %s: %s; install sspd next to ssp or set SSP_SSPD", argv[0],
                            strerror(err));
    }
    return SSP_OK;
}

/* Reads fds[0] and fds[1] to their ends, keeping CAPTURE_MAX bytes of each in out[]. */
static ssp_err
drain(const int fds[2], struct ssp_buf out[2], struct ssp_diag *d)
{
    struct pollfd pfd[2] = {{fds[0], POLLIN, 0}, {fds[1], POLLIN, 0}};
    char chunk[4096];
    int open = 2;
    while (open > 0) {
        if (poll(pfd, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            return ssp_diag_set(d, SSP_ERR_IO, "cannot read sspd's output: %s", strerror(errno));
        }
        for (int i = 0; i < 2; i++) {
            if (pfd[i].fd < 0 || pfd[i].revents == 0)
                continue;
            ssize_t k = read(pfd[i].fd, chunk, sizeof chunk);
            if (k < 0 && errno == EINTR)
                continue;
            if (k <= 0) {
                pfd[i].fd = -1; /* poll skips negative descriptors */
                open--;
                continue;
            }
            size_t room = CAPTURE_MAX - out[i].n;
            if (ssp_buf_append(&out[i], chunk, (size_t)k < room ? (size_t)k : room) != SSP_OK)
                return ssp_diag_set(d, SSP_ERR_NOMEM, "out of memory");
        }
    }
    return SSP_OK;
}

/* Runs argv to its end, collecting its stdout in out[0] and its stderr in out[1]. */
static ssp_err
run_captured(char *const *argv, struct ssp_buf out[2], int *wstatus, struct ssp_diag *d)
{
    int p[2][2] = {{-1, -1}, {-1, -1}};
    pid_t pid = -1;
    ssp_err rc = SSP_OK;
    for (int i = 0; i < 2 && rc == SSP_OK; i++) {
        if (pipe(p[i]) != 0)
            rc = ssp_diag_set(d, SSP_ERR_IO, "cannot create a pipe: %s", strerror(errno));
        for (int j = 0; j < 2 && rc == SSP_OK; j++)
            cloexec(p[i][j]);
    }
    if (rc == SSP_OK)
        rc = spawn(argv, (const int[3]){-1, p[0][1], p[1][1]}, false, &pid, d);
    for (int i = 0; i < 2; i++) {
        if (p[i][1] >= 0)
            close(p[i][1]);
    }
    if (rc == SSP_OK)
        rc = drain((const int[2]){p[0][0], p[1][0]}, out, d);
    for (int i = 0; i < 2; i++) {
        if (p[i][0] >= 0)
            close(p[i][0]);
    }
    if (pid > 0)
        *wstatus = reap(pid);
    return rc;
}

/*
 * Reports how sspd failed: the last line it wrote (text), else how it
 * ended. sspd's "already running" is a refusal for ssp; its other statuses
 * mean what ssp's do (cli/out.h). Returns ssp's exit status.
 */
static int
sspd_failed(struct ssp_slice text, int wstatus)
{
    char line[SSP_DIAG_MAX];
    size_t end = text.n, start;
    while (end > 0 &&
           (text.p[end - 1] == '\n' || text.p[end - 1] == '\r' || text.p[end - 1] == ' '))
        end--;
    for (start = end; start > 0 && text.p[start - 1] != '\n'; start--)
        ;
    ssp_out_safe_copy(line, sizeof line, SSP_SLICE(end > 0 ? text.p + start : text.p, end - start));
    int code = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1;
    int status = code == SSPD_EXIT_RUNNING                               ? SSP_EXIT_REFUSED
                 : code >= SSP_EXIT_REFUSED && code <= SSP_EXIT_INTERNAL ? code
                                                                         : SSP_EXIT_INTERNAL;
    if (line[0] != '\0')
        return ssp_out_fail(status, "%s", line);
    if (WIFSIGNALED(wstatus))
        return ssp_out_fail(status, "sspd was killed by signal %d", WTERMSIG(wstatus));
    return ssp_out_fail(status, "sspd exited with status %d", code);
}

/* mkdir -p, each new directory private to its owner: records are about children. */
static ssp_err
make_dirs(const char *dir, struct ssp_diag *d)
{
    char *p = ssp_strndup(dir, strlen(dir));
    ssp_err rc = SSP_OK;
    if (p == NULL)
        return ssp_diag_set(d, SSP_ERR_NOMEM, "out of memory");
    for (char *s = p + 1; rc == SSP_OK; s++) {
        if (*s != '/' && *s != '\0')
            continue;
        char c = *s;
        *s = '\0';
        if (mkdir(p, 0700) != 0 && errno != EEXIST)
            rc = ssp_diag_set(d, SSP_ERR_IO, "cannot create %s: %s", p, strerror(errno));
        *s = c;
        if (c == '\0')
            break;
    }
    ssp_free(p);
    return rc;
}

int
ssp_cmd_init(struct ssp_cli *cli, const struct ssp_args *a)
{
    const char *name = ssp_args_get(a, "name");
    const char *file = ssp_args_get(a, "passphrase-file");
    struct ssp_diag d = {{0}};
    struct sspd_argv l = {0};
    struct handover h = {-1, ""};
    struct ssp_buf out[2], b;
    struct ssp_mpw w;
    char *sspd = NULL, id[SSP_DIAG_MAX];
    int wstatus = 0, status;
    if (name == NULL)
        return ssp_out_usage("init needs --name NAME, a name for this node");
    if (!have_passphrase(file))
        return ssp_out_usage(NO_PASSPHRASE);
    ssp_buf_init(&out[0]);
    ssp_buf_init(&out[1]);
    ssp_buf_init(&b);
    ssp_err rc = sspd_argv(&l, &sspd, "init", cli->dir, &d);
    arg_push(&l, "--name", name);
    arg_flag(&l, "--central", ssp_args_has(a, "central"));
    arg_push(&l, "--scope", ssp_args_get(a, "scope"));
    arg_push(&l, "--kdf", ssp_args_get(a, "kdf"));
    /* Ask first: a mistyped passphrase leaves no empty directory behind. */
    if (rc == SSP_OK)
        rc = hand_over(file, cli->dir, true, &l, &h, &d);
    if (rc == SSP_OK)
        rc = make_dirs(cli->dir, &d);
    if (rc == SSP_OK)
        rc = run_captured(l.v, out, &wstatus, &d);
    if (rc != SSP_OK) {
        status = ssp_out_exit(rc, &d);
        goto out;
    }
    if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0) {
        status = sspd_failed(SSP_BUF_SLICE(&out[1]), wstatus);
        goto out;
    }
    /* sspd init prints the node id; ssp_out_safe_copy keeps its one line. */
    ssp_out_safe_copy(id, sizeof id, SSP_BUF_SLICE(&out[0]));
    id[strcspn(id, " ")] = '\0';
    if (id[0] == '\0') {
        status = ssp_out_fail(SSP_EXIT_INTERNAL, "sspd init succeeded but printed no node id");
        goto out;
    }
    ssp_mpw_init(&w, &b);
    ssp_mpw_map(&w, 1);
    ssp_cli_kv(&w, "node_id", id);
    status = ssp_cli_print(cli, &w, id);
out:
    if (h.fd >= 0)
        close(h.fd);
    ssp_free(sspd);
    ssp_buf_fini(&b);
    ssp_buf_fini(&out[1]);
    ssp_buf_fini(&out[0]);
    return status;
}

/* Asks the daemon on dir whether it answers; SSP_ERR_AGAIN when it does not. */
static ssp_err
ping(const char *dir, struct ssp_diag *d)
{
    static const uint8_t no_params = 0x80; /* {} */
    struct ssp_client *c = NULL;
    struct ssp_slice result;
    ssp_err rc = ssp_client_open(dir, &c, d);
    if (rc == SSP_OK)
        rc = ssp_client_call(c, "ping", SSP_SLICE(&no_params, 1), &result, d);
    ssp_client_close(c);
    return rc;
}

/* Opens what sspd run gets as stdin (/dev/null) and stdout/stderr (DIR/sspd.log). */
static ssp_err
open_std(const char *dir, int *null_fd, int *log_fd, off_t *log_start, struct ssp_diag *d)
{
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/sspd.log", dir) >= sizeof path)
        return ssp_diag_set(d, SSP_ERR_INVAL, "the node directory's path is too long");
    *log_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (*log_fd < 0 && errno == ENOENT)
        return ssp_diag_set(d, SSP_ERR_NOTFOUND,
                            "there is no node in %s; create one with 'ssp init'", dir);
    if (*log_fd < 0)
        return ssp_diag_set(d, SSP_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    /* This run's lines start here: an older run's last words are not this one's. */
    *log_start = lseek(*log_fd, 0, SEEK_END);
    *null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (*null_fd < 0)
        return ssp_diag_set(d, SSP_ERR_IO, "cannot open /dev/null: %s", strerror(errno));
    return SSP_OK;
}

/* Reports the exit of sspd run from what it wrote to the log after log_start. */
static int
log_failed(const char *dir, off_t log_start, int wstatus)
{
    char path[4096], tail[LOG_TAIL];
    struct stat st;
    ssize_t n = 0;
    snprintf(path, sizeof path, "%s/sspd.log", dir);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0 && fstat(fd, &st) == 0 && st.st_size > log_start) {
        off_t from = st.st_size - log_start > LOG_TAIL ? st.st_size - LOG_TAIL : log_start;
        n = pread(fd, tail, sizeof tail, from);
    }
    if (fd >= 0)
        close(fd);
    return sspd_failed(SSP_SLICE(tail, n > 0 ? (size_t)n : 0), wstatus);
}

static int
print_started(const struct ssp_cli *cli, pid_t pid)
{
    struct ssp_buf b;
    struct ssp_mpw w;
    char line[64];
    snprintf(line, sizeof line, "sspd started (pid %ld)", (long)pid);
    ssp_buf_init(&b);
    ssp_mpw_init(&w, &b);
    ssp_mpw_map(&w, 1);
    ssp_mpw_cstr(&w, "pid");
    ssp_mpw_int(&w, pid);
    int status = ssp_cli_print(cli, &w, line);
    ssp_buf_fini(&b);
    return status;
}

/* Waits until sspd answers, or exits, or START_WAIT_MS have passed. */
static int
wait_started(const struct ssp_cli *cli, pid_t pid, off_t log_start)
{
    long long deadline = now_ms() + START_WAIT_MS;
    int ws;
    do {
        struct ssp_diag d = {{0}};
        if (waitpid(pid, &ws, WNOHANG) == pid)
            return log_failed(cli->dir, log_start, ws);
        ssp_err rc = ping(cli->dir, &d);
        if (rc == SSP_OK)
            return print_started(cli, pid);
        if (rc != SSP_ERR_AGAIN)
            return ssp_out_exit(rc, &d);
        sleep_ms(POLL_MS);
    } while (now_ms() < deadline);
    return ssp_out_fail(SSP_EXIT_DOWN,
                        "sspd (pid %ld) did not answer on %s within %d s; see %s/sspd.log",
                        (long)pid, cli->dir, START_WAIT_MS / 1000, cli->dir);
}

int
ssp_cmd_start(struct ssp_cli *cli, const struct ssp_args *a)
{
    const char *file = ssp_args_get(a, "passphrase-file");
    struct ssp_diag d = {{0}};
    struct sspd_argv l = {0};
    struct handover h = {-1, ""};
    int null_fd = -1, log_fd = -1, status;
    off_t log_start = 0;
    char *sspd = NULL;
    pid_t pid = -1;
    if (!have_passphrase(file))
        return ssp_out_usage(NO_PASSPHRASE);
    if (ping(cli->dir, &d) == SSP_OK)
        return ssp_out_fail(SSP_EXIT_REFUSED, "sspd is already running on %s", cli->dir);
    memset(&d, 0, sizeof d);
    ssp_err rc = open_std(cli->dir, &null_fd, &log_fd, &log_start, &d);
    if (rc == SSP_OK)
        rc = sspd_argv(&l, &sspd, "run", cli->dir, &d);
    arg_push(&l, "--log-level", ssp_args_get(a, "log-level"));
    arg_push(&l, "--listen", ssp_args_get(a, "listen"));
    if (rc == SSP_OK)
        rc = hand_over(file, cli->dir, false, &l, &h, &d);
    if (rc == SSP_OK)
        rc = spawn(l.v, (const int[3]){null_fd, log_fd, log_fd}, true, &pid, &d);
    status = rc == SSP_OK ? wait_started(cli, pid, log_start) : ssp_out_exit(rc, &d);
    if (h.fd >= 0)
        close(h.fd);
    if (log_fd >= 0)
        close(log_fd);
    if (null_fd >= 0)
        close(null_fd);
    ssp_free(sspd);
    return status;
}

/* Waits until the daemon on dir no longer answers. */
static ssp_err
wait_stopped(const char *dir, struct ssp_diag *d)
{
    long long deadline = now_ms() + STOP_WAIT_MS;
    do {
        struct ssp_diag pd = {{0}};
        if (ping(dir, &pd) == SSP_ERR_AGAIN)
            return SSP_OK;
        sleep_ms(POLL_MS);
    } while (now_ms() < deadline);
    return ssp_diag_set(d, SSP_ERR_INTERNAL,
                        "sspd on %s still answers %d s after it was asked to stop; see "
                        "%s/sspd.log",
                        dir, STOP_WAIT_MS / 1000, dir);
}

int
ssp_cmd_stop(struct ssp_cli *cli, const struct ssp_args *a)
{
    struct ssp_diag d = {{0}};
    struct ssp_slice result;
    (void)a;
    ssp_err rc = ssp_cli_call(cli, "stop", NULL, &result, &d);
    /* Our connection must not be what keeps sspd from finishing. */
    ssp_cli_disconnect(cli);
    if (rc == SSP_OK)
        rc = wait_stopped(cli->dir, &d);
    if (rc == SSP_OK)
        puts(cli->json ? "{}" : "sspd stopped");
    return ssp_out_exit(rc, &d);
}

static ssp_err
print_verified(struct ssp_mp *c, struct ssp_diag *d)
{
    puts("the store is consistent: every commit verifies and every record matches its log");
    return ssp_out_facts(c, d);
}

int
ssp_cmd_verify(struct ssp_cli *cli, const struct ssp_args *a)
{
    (void)a;
    return ssp_cli_run(cli, "verify", NULL, print_verified);
}
