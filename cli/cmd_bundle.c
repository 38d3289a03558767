/*
 * Bundles: sync carried in a file (on a USB stick) where there is no link.
 * sspd reads and writes the file; ssp gives it an absolute path.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cmd.h"

#define S(x) (int)(x).n, (const char *)(x).p

/*
 * The absolute path of file (sspd runs elsewhere): file itself, or under the
 * current directory. sspd says if it cannot be read or written.
 */
static int
absolute(const char *file, char abs[PATH_MAX])
{
    char cwd[PATH_MAX];
    if (file[0] == '\0')
        return ssp_out_usage("a bundle needs a file name");
    if (file[0] != '/' && getcwd(cwd, sizeof cwd) == NULL)
        return ssp_out_fail(SSP_EXIT_REFUSED, "cannot tell the current directory: %s",
                            strerror(errno));
    int n = file[0] == '/' ? snprintf(abs, PATH_MAX, "%s", file)
                           : snprintf(abs, PATH_MAX, "%s/%s", cwd, file);
    if (n < 0 || n >= PATH_MAX)
        return ssp_out_usage("the path '%s' is too long", file);
    return SSP_EXIT_OK;
}

/* Writes the comma-separated node ids of list as an array of strings. */
static void
write_ids(struct ssp_mpw *w, const char *list)
{
    size_t n = 0;
    for (const char *p = list; *p != '\0'; p++)
        n += (p == list || p[-1] == ',') && *p != ',';
    ssp_mpw_array(w, n);
    for (const char *p = list; *p != '\0';) {
        size_t len = strcspn(p, ",");
        if (len > 0)
            ssp_mpw_str(w, p, len);
        p += len + (p[len] == ',');
    }
}

static ssp_err
print_export(struct ssp_mp *c, struct ssp_diag *d)
{
    struct ssp_slice path = {0}, to = {0}, via = {0}, created = {0};
    uint64_t commits = 0, bytes = 0, file_bytes = 0;
    const struct ssp_mp_key keys[] = {
        {"path", SSP_AS_STR, true, &path},
        {"for", SSP_AS_STR, true, &to},
        {"via", SSP_AS_ARRAY, true, &via},
        {"created", SSP_AS_STR, true, &created},
        {"commits", SSP_AS_UINT, true, &commits},
        {"bytes", SSP_AS_UINT, true, &bytes},
        {"file_bytes", SSP_AS_UINT, true, &file_bytes},
    };
    struct ssp_mp m;
    struct ssp_slice id;
    uint32_t n = 0;
    ssp_err rc = ssp_mp_read_map(c, keys, sizeof keys / sizeof keys[0], false, NULL);
    if (rc != SSP_OK)
        return ssp_out_bad_result(rc, d);
    printf("wrote %.*s for %.*s: %llu commits (%llu bytes), %llu bytes in all\n", S(path),
           S(ssp_out_short_author(to)), (unsigned long long)commits, (unsigned long long)bytes,
           (unsigned long long)file_bytes);
    ssp_mp_init(&m, via);
    if (ssp_mp_array(&m, &n) == SSP_OK && n > 0) {
        printf("carriers that may import it to forward it:");
        for (uint32_t i = 0; i < n && ssp_mp_str(&m, &id) == SSP_OK; i++)
            printf(" %.*s", S(ssp_out_short_author(id)));
        printf("\n");
    }
    return SSP_OK;
}

int
ssp_cmd_bundle_export(struct ssp_cli *cli, const struct ssp_args *a)
{
    const char *to = ssp_args_get(a, "for"), *file = ssp_args_get(a, "out");
    const char *via = ssp_args_get(a, "via");
    char abs[PATH_MAX];
    struct ssp_buf b;
    struct ssp_mpw w;
    if (to == NULL || file == NULL)
        return ssp_out_usage("bundle export needs --for NODE_ID and -o FILE");
    int status = absolute(file, abs);
    if (status != SSP_EXIT_OK)
        return status;
    ssp_buf_init(&b);
    ssp_mpw_init(&w, &b);
    ssp_mpw_map(&w, 2u + (ssp_args_has(a, "all") ? 1u : 0u) + (via != NULL ? 1u : 0u));
    ssp_cli_kv(&w, "for", to);
    ssp_cli_kv(&w, "path", abs);
    if (ssp_args_has(a, "all")) {
        ssp_mpw_cstr(&w, "all");
        ssp_mpw_bool(&w, true);
    }
    if (via != NULL) {
        ssp_mpw_cstr(&w, "via");
        write_ids(&w, via);
    }
    status = ssp_cli_run(cli, "bundle_export", &w, print_export);
    ssp_buf_fini(&b);
    return status;
}

static ssp_err
print_import(struct ssp_mp *c, struct ssp_diag *d)
{
    struct ssp_slice path = {0}, sender = {0}, to = {0}, created = {0};
    uint64_t commits = 0, applied = 0, dups = 0, refused = 0, skipped = 0, bytes = 0, fbytes = 0;
    bool carrier = false, enrolled = false;
    const struct ssp_mp_key keys[] = {
        {"path", SSP_AS_STR, true, &path},
        {"sender", SSP_AS_STR, true, &sender},
        {"for", SSP_AS_STR, true, &to},
        {"created", SSP_AS_STR, true, &created},
        {"carrier", SSP_AS_BOOL, true, &carrier},
        {"commits", SSP_AS_UINT, true, &commits},
        {"applied", SSP_AS_UINT, true, &applied},
        {"duplicates", SSP_AS_UINT, true, &dups},
        {"refused", SSP_AS_UINT, true, &refused},
        {"skipped", SSP_AS_UINT, true, &skipped},
        {"bytes", SSP_AS_UINT, true, &bytes},
        {"file_bytes", SSP_AS_UINT, true, &fbytes},
        {"enrolled", SSP_AS_BOOL, true, &enrolled},
    };
    ssp_err rc = ssp_mp_read_map(c, keys, sizeof keys / sizeof keys[0], false, NULL);
    if (rc != SSP_OK)
        return ssp_out_bad_result(rc, d);
    printf("bundle from %.*s for %.*s, written %.*s: %llu commits\n",
           S(ssp_out_short_author(sender)), S(ssp_out_short_author(to)), S(created),
           (unsigned long long)commits);
    printf("  applied %llu (%llu bytes), already held %llu, refused %llu\n",
           (unsigned long long)applied, (unsigned long long)bytes, (unsigned long long)dups,
           (unsigned long long)refused);
    if (refused > 0)
        printf("  the refusals are explained in sspd.log\n");
    if (carrier)
        printf("  carried: this node keeps the scopes it carries (%llu commits of other scopes "
               "skipped) and forwards them; %.*s reads the rest from the same file\n",
               (unsigned long long)skipped, S(ssp_out_short_author(to)));
    if (!enrolled)
        printf("  this node is still not enrolled: the central must enrol it ('ssp enrol') before "
               "it writes the bundle\n");
    return SSP_OK;
}

int
ssp_cmd_bundle_import(struct ssp_cli *cli, const struct ssp_args *a)
{
    char abs[PATH_MAX];
    int status = absolute(a->pos[0], abs);
    if (status != SSP_EXIT_OK)
        return status;
    const char *kv[] = {"path", abs, "central", ssp_args_get(a, "central")};
    return ssp_cli_run_kv(cli, "bundle_import", kv, 2, print_import);
}
