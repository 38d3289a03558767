/*
 * Bundles (DESIGN §7): a sync session carried in a file, for a local area
 * with no link. The file format is proto/bundle.h's (PROTOCOL.md,
 * "Bundles"); this module writes and reads it, with the session of
 * node/sync/session.h in a bundle mode doing what a link's session does:
 *
 *   write   what the recipient lacks (judged by the last HELLO we know of it,
 *           kept in the peers table; none: it holds nothing), our own HELLO
 *           first so it can answer with a bundle back; only streams it may
 *           receive. The body is encrypted under a random bundle key sealed
 *           to each reader, and signed by this node. The file appears
 *           whole or not at all (a temporary file, fsync, rename), mode 0600.
 *   read    the whole file is checked first (form, bounds, network, sender,
 *           signature over every byte) while it is copied to an unnamed file
 *           in the node directory, and only then is that copy (what was
 *           checked, whatever the file does meanwhile) decrypted and applied
 *           frame by frame through ssp_node_apply, as from the sender. The
 *           sender's HELLO is merged into what we know of it. A reader that
 *           is a carrier (not the recipient) keeps only the streams of the
 *           scopes it holds, to forward them.
 *
 * Memory stays bounded by one frame (about 1 MiB) whatever the bundle's
 * size. Both run on the loop thread and block it while they work.
 */
#ifndef SSP_NODE_BUNDLE_H
#define SSP_NODE_BUNDLE_H

#include "node/node.h"
#include "proto/bundle.h"

#define SSP_BUNDLE_MAX_VIA (SSP_BUNDLE_MAX_READERS - 1)

struct ssp_bundle_export {
    uint8_t to[SSP_PK_LEN]; /* the recipient */
    uint8_t via[SSP_BUNDLE_MAX_VIA][SSP_PK_LEN];
    size_t nvia;      /* carriers that may import it to forward what they carry */
    bool all;         /* everything the recipient may receive, not only what it lacks */
    const char *path; /* the file to write (replaced if it exists) */
};

/* What a bundle held and what became of it. */
struct ssp_bundle_report {
    uint8_t sender[SSP_PK_LEN];
    uint8_t to[SSP_PK_LEN]; /* the recipient */
    uint64_t created_ms;
    uint32_t nreaders;
    bool carrier;            /* read by a carrier, not by the recipient */
    uint64_t commits, bytes; /* written, or found in the bundle (commits' bytes) */
    uint64_t applied, duplicates, refused;
    uint64_t skipped;    /* a carrier's: of scopes it does not hold */
    uint64_t file_bytes; /* the file's size */
};

/* Writes a bundle for x->to; d says what went wrong (nothing is left behind then). */
SSP_MUST_CHECK ssp_err ssp_bundle_write(struct ssp_node *n, const struct ssp_bundle_export *x,
                                        struct ssp_bundle_report *r, struct ssp_diag *d);
/*
 * Verifies the bundle at path whole, then applies it. A node not enrolled
 * yet takes only a bundle its central wrote, and only when central (NULL:
 * not given) names that central: the user confirms which network to join.
 * A refused bundle changes nothing; d says why and what to do.
 */
SSP_MUST_CHECK ssp_err ssp_bundle_read(struct ssp_node *n, const char *path, const uint8_t *central,
                                       struct ssp_bundle_report *r, struct ssp_diag *d);

#endif
