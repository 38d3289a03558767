/*
 * The roster: which nodes belong to the network, in which role and for which
 * scopes; which scopes exist; and the scope keys granted to member nodes.
 * "Roster" and "node" name machines; the `member` record type names people.
 *
 * The roster is the stream of scope "roster" whose only writer is the
 * network's admin: the central node, whose node id is the network id. Its op
 * bodies are clear msgpack (each grant inside is already sealed to its
 * recipient), so a new node reads its grants before it holds any key:
 *
 *   ["node", node: bin(32), name: str, role: "member" | "relay", scopes: [str ...]]
 *   ["grant", node: bin(32), scope: str, epoch: uint32, key: bin(SSP_GRANT_LEN)]
 *   ["scope", scope: str, epoch: uint32]
 *   ["remove", node: bin(32), reason: str (0..SSP_ROSTER_REASON_MAX)]
 *   ["purge", record: bin(16), scope: str, reason: str (0..SSP_ROSTER_REASON_MAX)]
 *
 * The admin's stream is applied in seq order, so the roster needs no merge
 * rule: a "node" op replaces that node's entry. A "remove" op (revocation,
 * node/network.c) keeps the entry, with role "removed", the role it had and
 * the hlc of its removal as since: the node's identity is burnt for good (no
 * "node" op brings it back), and its commits up to its removal still count.
 * A "purge" op deletes a record everywhere (node/purge.c): it travels in the
 * roster so that every node, relays included, has it before the record's
 * commits.
 *
 * Stored in the roster database:
 *   'n' node(32)          -> [name: str, role: uint, scopes: [str ...], since: hlc]
 *                            or, removed, [name, 2, scopes, since: hlc of removal, was: uint]
 *   's' len(1) scope      -> epoch (u32 BE), the newest key epoch of the scope
 *
 * Access (DESIGN §8), decided here and nowhere else:
 *   the central reads and writes every scope and alone writes the roster;
 *   a member reads and writes its scopes and `network`, and reads the roster;
 *   a relay carries (stores and forwards) its scopes and the roster, writes nothing;
 *   a removed node is sent the roster only (so it learns of its removal), and
 *   nothing is taken from it; its commits count if their hlc is not after
 *   its removal and it could write them before.
 */
#ifndef SSP_NODE_ROSTER_H
#define SSP_NODE_ROSTER_H

#include "node/log/commit.h"
#include "node/store/store.h"

#define SSP_ROSTER_MAX_SCOPES 32
#define SSP_ROSTER_NAME_MAX 64
#define SSP_ROSTER_REASON_MAX 200

enum ssp_role {
    SSP_ROLE_MEMBER,
    SSP_ROLE_RELAY,
    SSP_ROLE_REMOVED, /* revoked: see "remove" above */
    SSP_ROLE_CENTRAL, /* never stored: the node whose id is the network id */
};

/* A roster entry; slices borrow from the bytes it was read from. */
struct ssp_roster_entry {
    uint8_t node[SSP_PK_LEN];
    struct ssp_slice name;
    enum ssp_role role;
    uint32_t nscopes;
    struct ssp_slice scopes[SSP_ROSTER_MAX_SCOPES];
    uint64_t since;    /* hlc of the commit that wrote it: for a removed node, its removal */
    enum ssp_role was; /* removed: the role it had (member or relay) */
};

const char *ssp_role_name(enum ssp_role role);
/* SSP_ERR_INVAL for a name that is not "member" or "relay". */
SSP_MUST_CHECK ssp_err ssp_role_parse(struct ssp_slice name, enum ssp_role *role);

/* Roster op bodies. */
SSP_MUST_CHECK ssp_err ssp_roster_encode_node(struct ssp_buf *out,
                                              const struct ssp_roster_entry *e);
SSP_MUST_CHECK ssp_err ssp_roster_encode_grant(struct ssp_buf *out, const uint8_t node[SSP_PK_LEN],
                                               struct ssp_slice scope, uint32_t epoch,
                                               const uint8_t sealed[SSP_GRANT_LEN]);
SSP_MUST_CHECK ssp_err ssp_roster_encode_scope(struct ssp_buf *out, struct ssp_slice scope,
                                               uint32_t epoch);
SSP_MUST_CHECK ssp_err ssp_roster_encode_remove(struct ssp_buf *out, const uint8_t node[SSP_PK_LEN],
                                                struct ssp_slice reason);
SSP_MUST_CHECK ssp_err ssp_roster_encode_purge(struct ssp_buf *out,
                                               const uint8_t record[SSP_RECORD_ID_LEN],
                                               struct ssp_slice scope, struct ssp_slice reason);
/* Whether reason may go in a "remove" or "purge" op: at most SSP_ROSTER_REASON_MAX bytes, no
 * controls. */
bool ssp_roster_reason_valid(struct ssp_slice reason);

/* What applying one roster op did that its caller must act on. */
struct ssp_roster_applied {
    bool keys_added;          /* a grant to this node added a key to kr */
    bool removed;             /* a "remove" op: node was removed */
    uint8_t node[SSP_PK_LEN]; /* removed */
    struct ssp_slice reason;  /* removed, purged: borrows from the body */
    bool purged;              /* a "purge" op: record of scope is to be purged */
    uint8_t record[SSP_RECORD_ID_LEN];
    struct ssp_slice scope; /* purged: borrows from the body */
};

/*
 * Applies one roster op body written at hlc. A grant to self (pk, sk of this
 * node) is opened and its key added to kr; grants to other nodes are only
 * checked for form. *out (may be NULL) says what happened. SSP_ERR_PROTO for
 * a body that is not a roster op; nothing is written then. SSP_ERR_EXISTS
 * (d says why) for an op the roster cannot take (a node enrolled again after
 * its removal, or removed twice); nothing is written then either. With t
 * NULL it only checks the form.
 */
SSP_MUST_CHECK ssp_err ssp_roster_apply(struct ssp_txn *t, struct ssp_slice body, uint64_t hlc,
                                        const uint8_t pk[SSP_PK_LEN], const uint8_t sk[SSP_SK_LEN],
                                        struct ssp_keyring *kr, struct ssp_roster_applied *out,
                                        struct ssp_diag *d);

/* Whether body is a "node" op (an enrolment) of node. */
bool ssp_roster_names(struct ssp_slice body, const uint8_t node[SSP_PK_LEN]);
/* The entry of node; SSP_ERR_NOTFOUND if it is not enrolled. Borrows from t. */
SSP_MUST_CHECK ssp_err ssp_roster_get(struct ssp_txn *t, const uint8_t node[SSP_PK_LEN],
                                      struct ssp_roster_entry *e);
/* The newest key epoch of scope; SSP_ERR_NOTFOUND if the roster does not name it. */
SSP_MUST_CHECK ssp_err ssp_roster_scope_epoch(struct ssp_txn *t, struct ssp_slice scope,
                                              uint32_t *epoch);
/* Iterates entries (*pos empty first); SSP_ERR_NOTFOUND after the last. Borrows from t. */
SSP_MUST_CHECK ssp_err ssp_roster_next(struct ssp_txn *t, uint8_t pos[SSP_PK_LEN], bool *started,
                                       struct ssp_roster_entry *e);
/* Iterates the scopes the roster names; SSP_ERR_NOTFOUND after the last. */
SSP_MUST_CHECK ssp_err ssp_roster_next_scope(struct ssp_txn *t, char scope[SSP_SCOPE_MAX + 1],
                                             uint32_t *epoch);

bool ssp_roster_has_scope(const struct ssp_roster_entry *e, struct ssp_slice scope);

/* Whether e reads scope with a key: a member with the scope, or any member for `network`. */
bool ssp_roster_reads(const struct ssp_roster_entry *e, struct ssp_slice scope);

/*
 * Access. node's entry is e (NULL when not enrolled), network the network id.
 * may_receive: whether node may be sent the streams of scope.
 * may_send:    whether commits of scope may be taken from node (the sender).
 * may_write:   whether a commit of origin in scope written at hlc may be accepted.
 */
bool ssp_roster_may_receive(const uint8_t network[SSP_PK_LEN], const uint8_t node[SSP_PK_LEN],
                            const struct ssp_roster_entry *e, struct ssp_slice scope);
bool ssp_roster_may_send(const uint8_t network[SSP_PK_LEN], const uint8_t node[SSP_PK_LEN],
                         const struct ssp_roster_entry *e, struct ssp_slice scope);
bool ssp_roster_may_write(const uint8_t network[SSP_PK_LEN], const uint8_t origin[SSP_PK_LEN],
                          const struct ssp_roster_entry *e, struct ssp_slice scope, uint64_t hlc);

#endif
