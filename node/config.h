/*
 * The node's configuration file, <dir>/ssp.conf (INI, read with libinih):
 *
 *   [node]
 *   name  = north-laptop     ; a name for people, shown in status
 *   scope = north            ; where writes go without --scope
 *   [log]
 *   level = info             ; debug, info, warn or error
 *
 * Unknown sections or keys are refused, so a typo does not pass silently.
 */
#ifndef SSP_NODE_CONFIG_H
#define SSP_NODE_CONFIG_H

#include "node/crypto/keyring.h"
#include "node/say.h"

#define SSP_NAME_MAX 64

struct ssp_config {
    char name[SSP_NAME_MAX + 1];
    char scope[SSP_SCOPE_MAX + 1];
    enum ssp_level log_level;
};

SSP_MUST_CHECK ssp_err ssp_config_load(const char *dir, struct ssp_config *cfg, struct ssp_diag *d);
/* Writes a new configuration file; refuses to overwrite one. */
SSP_MUST_CHECK ssp_err ssp_config_create(const char *dir, const struct ssp_config *cfg,
                                         struct ssp_diag *d);
/* Whether name is usable as a node name: 1-64 printable characters, no '=' or ';'. */
bool ssp_node_name_valid(const char *name);

#endif
