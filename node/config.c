#include "node/config.h"

#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define CONF_NAME "ssp.conf"

struct parse_state {
    struct ssp_config *cfg;
    struct ssp_diag *d;
    int bad_line;
};

/* A whole number of seconds in [min, max], digits only. */
static bool
parse_uint(const char *text, uint32_t min, uint32_t max, uint32_t *out)
{
    uint64_t v = 0;
    if (*text == '\0' || strlen(text) > 10)
        return false;
    for (const char *p = text; *p != '\0'; p++) {
        if (*p < '0' || *p > '9')
            return false;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    if (v < min || v > max)
        return false;
    *out = (uint32_t)v;
    return true;
}

static int
on_value(void *user, const char *section, const char *key, const char *value)
{
    struct parse_state *st = user;
    struct ssp_config *cfg = st->cfg;
    int level;
    if (strcmp(section, "node") == 0 && strcmp(key, "name") == 0 && ssp_node_name_valid(value)) {
        snprintf(cfg->name, sizeof cfg->name, "%s", value);
        return 1;
    }
    if (strcmp(section, "node") == 0 && strcmp(key, "scope") == 0 &&
        ssp_scope_name_valid(SSP_SLICE(value, strlen(value)))) {
        snprintf(cfg->scope, sizeof cfg->scope, "%s", value);
        return 1;
    }
    if (strcmp(section, "net") == 0 && strcmp(key, "listen") == 0 && ssp_addr_valid(value)) {
        snprintf(cfg->listen, sizeof cfg->listen, "%s", value);
        return 1;
    }
    if (strcmp(section, "net") == 0 && strcmp(key, "silence") == 0 &&
        parse_uint(value, 5, 3600, &cfg->silence_s))
        return 1;
    if (strcmp(section, "log") == 0 && strcmp(key, "level") == 0 &&
        (level = ssp_say_parse_level(value)) >= 0) {
        cfg->log_level = (enum ssp_level)level;
        return 1;
    }
    int rule = strcmp(section, "retention") == 0 ? ssp_retention_find(key) : -1;
    if (rule >= 0 &&
        parse_uint(value, 0, ssp_retention_rules[rule].max_value, &cfg->retention[rule]))
        return 1;
    ssp_diag_set(st->d, SSP_ERR_INVAL, "[%s] %s = %s is not a valid setting", section, key, value);
    return 0;
}

ssp_err
ssp_config_load(const char *dir, struct ssp_config *cfg, struct ssp_diag *d)
{
    char path[4096];
    struct ssp_diag why = {{0}};
    struct parse_state st = {cfg, &why, 0};
    memset(cfg, 0, sizeof *cfg);
    cfg->log_level = SSP_INFO;
    cfg->silence_s = SSP_SILENCE_DEFAULT_S;
    for (size_t i = 0; i < ssp_retention_nrules; i++)
        cfg->retention[i] = ssp_retention_rules[i].default_value;
    snprintf(path, sizeof path, "%s/%s", dir, CONF_NAME);
    int rc = ini_parse(path, on_value, &st);
    if (rc < 0)
        return ssp_diag_set(d, SSP_ERR_IO, "cannot read %s: %s", path,
                            rc == -1 ? strerror(errno) : "out of memory");
    if (rc > 0)
        return ssp_diag_set(d, SSP_ERR_INVAL, "%s line %d: %s; fix the file", path, rc,
                            why.msg[0] != '\0' ? why.msg : "not a key = value line");
    return SSP_OK;
}

bool
ssp_addr_valid(const char *addr)
{
    char host[SSP_ADDR_MAX + 1];
    int port;
    return ssp_addr_split(addr, host, &port) == SSP_OK;
}

ssp_err
ssp_addr_split(const char *addr, char host[SSP_ADDR_MAX + 1], int *port)
{
    size_t n = strlen(addr);
    const char *colon = strrchr(addr, ':');
    if (n == 0 || n > SSP_ADDR_MAX || colon == NULL || colon == addr || colon[1] == '\0')
        return SSP_ERR_INVAL;
    long p = 0;
    for (const char *c = colon + 1; *c != '\0'; c++) {
        if (*c < '0' || *c > '9' || (p = p * 10 + (*c - '0')) > 65535)
            return SSP_ERR_INVAL;
    }
    const char *h = addr;
    size_t hn = (size_t)(colon - addr);
    if (h[0] == '[' && hn >= 2 && h[hn - 1] == ']') {
        h++;
        hn -= 2;
    }
    for (size_t i = 0; i < hn; i++)
        if ((unsigned char)h[i] <= 0x20 || h[i] == '/' || h[i] == '[' || h[i] == ']')
            return SSP_ERR_INVAL;
    if (hn == 0 || p == 0)
        return SSP_ERR_INVAL;
    memcpy(host, h, hn);
    host[hn] = '\0';
    *port = (int)p;
    return SSP_OK;
}

bool
ssp_node_name_valid(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > SSP_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)name[i];
        if (ch < 0x20 || ch == 0x7f || ch == '=' || ch == ';' || ch == '#')
            return false;
    }
    return true;
}

ssp_err
ssp_config_create(const char *dir, const struct ssp_config *cfg, struct ssp_diag *d)
{
    static const char *const levels[] = {"debug", "info", "warn", "error"};
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, CONF_NAME);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return ssp_diag_set(d, errno == EEXIST ? SSP_ERR_EXISTS : SSP_ERR_IO,
                            "cannot create %s: %s", path, strerror(errno));
    FILE *f = fdopen(fd, "w");
    if (f == NULL) {
        close(fd);
        return ssp_diag_set(d, SSP_ERR_IO, "cannot write %s: %s", path, strerror(errno));
    }
    fprintf(f,
            "# ssp-node configuration (see ssp --help)\n"
            "[node]\n"
            "name = %s\n"
            "# where records go when a command names no --scope (default: the first\n"
            "# area scope this node was enrolled for)\n"
            "%sscope = %s\n"
            "\n[net]\n"
            "# where sspd listens for peers, HOST:PORT (or sspd --listen)\n"
            "%slisten = %s\n"
            "# seconds a silent peer is given before it is probed, and again before the\n"
            "# link counts as dead and is dialled anew (5-3600)\n"
            "# silence = 60\n"
            "\n[log]\n"
            "level = %s\n",
            cfg->name, cfg->scope[0] != '\0' ? "" : "# ", cfg->scope,
            cfg->listen[0] != '\0' ? "" : "# ",
            cfg->listen[0] != '\0' ? cfg->listen : "0.0.0.0:7407", levels[cfg->log_level]);
    bool ok = fflush(f) == 0 && fsync(fileno(f)) == 0;
    if (fclose(f) != 0 || !ok)
        return ssp_diag_set(d, SSP_ERR_IO, "cannot write %s: %s", path, strerror(errno));
    return SSP_OK;
}
