/*
 * The node's configuration file, <dir>/ssp.conf (INI, read with libinih):
 *
 *   [node]
 *   name  = north-laptop     ; a name for people, shown in status
 *   scope = north            ; where writes go without --scope (optional)
 *   [net]
 *   listen = 0.0.0.0:7407    ; where sspd takes peer connections (optional)
 *   silence = 60             ; seconds a peer may say nothing before it is probed,
 *                            ; and as long again before the link counts as dead (5-3600)
 *   [log]
 *   level = info             ; debug, info, warn or error
 *   [retention]
 *   concern = 12             ; how long each kind of record is kept: the rules
 *                            ; and their defaults are in node/domain/retention.c
 *                            ; (`ssp retention rules`); 0 keeps them
 *
 * Unknown sections or keys are refused, so a typo does not pass silently.
 */
#ifndef SSP_NODE_CONFIG_H
#define SSP_NODE_CONFIG_H

#include "node/crypto/keyring.h"
#include "node/domain/retention.h"
#include "node/say.h"

#define SSP_NAME_MAX 64
#define SSP_ADDR_MAX 127
#define SSP_SILENCE_DEFAULT_S 60u

struct ssp_config {
    char name[SSP_NAME_MAX + 1];
    char scope[SSP_SCOPE_MAX + 1];
    char listen[SSP_ADDR_MAX + 1];
    uint32_t silence_s; /* [net] silence, 60 by default */
    enum ssp_level log_level;
    uint32_t retention[SSP_RETENTION_RULES_MAX]; /* by rule (ssp_retention_rules) */
};

SSP_MUST_CHECK ssp_err ssp_config_load(const char *dir, struct ssp_config *cfg, struct ssp_diag *d);
/* Writes a new configuration file; refuses to overwrite one. */
SSP_MUST_CHECK ssp_err ssp_config_create(const char *dir, const struct ssp_config *cfg,
                                         struct ssp_diag *d);
/* Splits HOST:PORT ([v6]:PORT too); SSP_ERR_INVAL if it is not one. */
SSP_MUST_CHECK ssp_err ssp_addr_split(const char *addr, char host[SSP_ADDR_MAX + 1], int *port);
bool ssp_addr_valid(const char *addr);
/* Whether name is usable as a node name: 1-64 printable characters, no '=' or ';'. */
bool ssp_node_name_valid(const char *name);

#endif
