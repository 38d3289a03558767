/*
 * ssp: the command table, command-line parsing, help, and the request
 * helpers every command uses. See cli/cmd.h.
 */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd.h"

static const struct ssp_opt global_opts[] = {
    {"dir", "DIR",
     "the node directory (default: $SSP_DIR, else $XDG_DATA_HOME/ssp, else "
     "~/.local/share/ssp)",
     NULL},
    {"json", NULL, "print results as JSON (list: an array, one record per line)", NULL},
    {"help", NULL, "show this help", NULL},
    {NULL, NULL, NULL, NULL},
};

/* For the commands that read data about young people: the audit trail keeps it. */
#define PURPOSE_OPT                                                                                \
    {                                                                                              \
        "purpose", "TEXT", "why you read it; the audit trail keeps it", NULL                       \
    }

static const struct ssp_opt init_opts[] = {
    {"name", "NAME", "a name for this node, shown by status (required)", NULL},
    {"central", NULL,
     "create a network with this node as its central secretariat: it holds the admin key and "
     "every scope key",
     NULL},
    {"scope", "AREA[,AREA...]",
     "with --central: area scopes to create now (more later with 'ssp scope add')", NULL},
    {"kdf", "LEVEL",
     "how costly the passphrase is to guess: interactive, moderate (sspd's default) or "
     "sensitive",
     "interactive|moderate|sensitive"},
    {"passphrase-file", "FILE", "read the passphrase from FILE", NULL},
    {NULL, NULL, NULL, NULL},
};

static const struct ssp_opt start_opts[] = {
    {"passphrase-file", "FILE", "read the passphrase from FILE", NULL},
    {"log-level", "LEVEL", "what sspd writes to DIR/sspd.log: debug, info, warn or error",
     "debug|info|warn|error"},
    {"listen", "HOST:PORT", "take peer connections there (else [net] listen in ssp.conf)", NULL},
    {NULL, NULL, NULL, NULL},
};

static const struct ssp_opt add_opts[] = {
    {"scope", "S", "the scope of the new record (default: the node's first scope)", NULL},
    {"national-id", "ID",
     "a person's national id (CPR: 10 digits, a dash after the 6th allowed): stored only as "
     "its pid, a hash keyed by the network key",
     NULL},
    {NULL, NULL, NULL, NULL},
};

static const struct ssp_opt case_open_opts[] = {
    {"from", "CONCERN_ID", "the concern the case is opened from (required)", NULL},
    {NULL, NULL, NULL, NULL},
};

static const struct ssp_opt case_escalate_opts[] = {
    {"level", "N", "the level the case escalates to", "3|4"},
    {"ssp-plus", NULL, "move the case to the SSP+ track (ages 18-25)", NULL},
    {"group", "GROUP_ID", "the coordination group that takes the case over", NULL},
    {"date", "DATE", "the day of the decision (default: today)", NULL},
    {NULL, NULL, NULL, NULL},
};

static const struct ssp_opt read_opts[] = {
    PURPOSE_OPT,
    {NULL, NULL, NULL, NULL},
};

static const struct ssp_opt audit_show_opts[] = {
    {"record", "ID", "only entries that name record ID", NULL},
    {"user", "U", "only entries of OS user U", NULL},
    {"since", "DATE", "only entries from DATE (YYYY-MM-DD, UTC) on", NULL},
    {"scope", "S", "only entries of scope S", NULL},
    {"limit", "N", "show the newest N entries (default 100, at most 10000)", NULL},
    {NULL, NULL, NULL, NULL},
};

static const struct ssp_opt retention_hold_opts[] = {
    {"reason", "TEXT", "the record-keeping duty that requires it (required)", NULL},
    {"until", "DATE", "the day the hold ends, if known", NULL},
    {NULL, NULL, NULL, NULL},
};

static const struct ssp_opt list_opts[] = {
    PURPOSE_OPT,
    {"scope", "S", "only records of scope S", NULL},
    {"where", "FIELD=VALUE",
     "only records whose FIELD is VALUE (or, for a set or list, contains it); repeatable", NULL},
    {"limit", "N", "show at most N records", NULL},
    {NULL, NULL, NULL, NULL},
};

static const struct ssp_opt find_opts[] = {
    PURPOSE_OPT,
    {"scope", "S", "only records of scope S", NULL},
    {"type", "T", "only records of type T", NULL},
    {"limit", "N", "show at most N records (default 50)", NULL},
    {NULL, NULL, NULL, NULL},
};

static const struct ssp_opt person_find_opts[] = {
    PURPOSE_OPT,
    {"alias", "A", "persons whose alias starts with A (any case)", NULL},
    {"birth-year", "Y", "persons born in year Y", NULL},
    {"national-id", "ID",
     "the person with this national id (CPR: 10 digits, a dash after the 6th allowed), by its pid",
     NULL},
    {"scope", "S", "only persons of scope S", NULL},
    {NULL, NULL, NULL, NULL},
};

static const struct ssp_opt due_opts[] = {
    PURPOSE_OPT,
    {"scope", "AREA", "only follow-ups of records in scope AREA (default: every scope read)", NULL},
    {"before", "DATE", "due on or before DATE, YYYY-MM-DD (default: today + 14 days)", NULL},
    {"limit", "N", "show at most N, 1 to 1000 (default 200)", NULL},
    {NULL, NULL, NULL, NULL},
};

static const struct ssp_opt agenda_opts[] = {
    PURPOSE_OPT,
    {"date", "DATE", "the day of the meeting, YYYY-MM-DD (default: today)", NULL},
    {"scope", "AREA",
     "concerns, cases and follow-ups of scope AREA (default: the scopes of the group's earlier "
     "meetings, else every area scope read)",
     NULL},
    {NULL, NULL, NULL, NULL},
};

static const struct ssp_opt enrol_opts[] = {
    {"name", "NAME", "a name for the node, shown in the roster (required)", NULL},
    {"scope", "AREA[,AREA...]", "the scopes the node works in (required)", NULL},
    {"role", "ROLE",
     "member (default): reads and writes its scopes and 'network'; relay: carries its "
     "scopes' data without their keys",
     "member|relay"},
    {NULL, NULL, NULL, NULL},
};

static const struct ssp_opt peer_add_opts[] = {
    {"network", "CENTRAL_ID",
     "the network to join, by its central's id, when the peer is not the central (a relay); "
     "only before enrolment",
     NULL},
    {NULL, NULL, NULL, NULL},
};

static const struct ssp_opt revoke_opts[] = {
    {"reason", "TEXT",
     "why, for the logs of every node (it travels in clear in the roster: say what happened, "
     "not who)",
     NULL},
    {NULL, NULL, NULL, NULL},
};

static const struct ssp_opt purge_opts[] = {
    {"reason", "TEXT",
     "why (required; it travels in clear in the roster to every node: say what rule, not "
     "who)",
     NULL},
    {NULL, NULL, NULL, NULL},
};

static const struct ssp_opt sync_opts[] = {
    {"timeout", "SECONDS", "give up after this long (default 300)", NULL},
    {NULL, NULL, NULL, NULL},
};

static const struct ssp_opt bundle_export_opts[] = {
    {"for", "NODE_ID", "the node the bundle is for (its full id; required)", NULL},
    {"out", "FILE", "write the bundle to FILE, also spelled -o FILE (required)", NULL},
    {"all", NULL, "everything the node may receive, not only what it lacks as far as we know",
     NULL},
    {"via", "NODE_ID[,NODE_ID...]",
     "carriers (relays or members) that may import it too, to forward what they carry", NULL},
    {NULL, NULL, NULL, NULL},
};

static const struct ssp_opt bundle_import_opts[] = {
    {"central", "NODE_ID",
     "on a node not enrolled yet: the id of the central whose network it joins by this bundle",
     NULL},
    {NULL, NULL, NULL, NULL},
};

static const struct ssp_opt resolve_opts[] = {
    {"keep", NULL, "keep a record that was deleted while it was changed elsewhere", NULL},
    {NULL, NULL, NULL, NULL},
};

static const struct ssp_opt scope_opts[] = {
    {"scope", "S", "only scope S", NULL},
    {NULL, NULL, NULL, NULL},
};

static const struct ssp_opt import_opts[] = {
    {"batch", "N", "records per request, 1 to 10000 (default 5000)", NULL},
    {"skip", "N", "skip the first N lines (to resume after a failed import)", NULL},
    {"progress", NULL, "report each acknowledged batch on stderr even when it is not a terminal",
     NULL},
    {NULL, NULL, NULL, NULL},
};

#define FIELD_HELP                                                                                 \
    "Field arguments: field=text sets a field from text (sets and lists of refs are\n"             \
    "comma-separated: categories=absence,violence); field:=JSON sets it from a JSON\n"             \
    "value (actions:='[{\"what\":\"call school\",\"due\":\"2026-12-01\"}]'); field= removes "      \
    "it.\n"                                                                                        \
    "'ssp types TYPE' lists the fields of a type.\n"

static const struct ssp_cmd cmds[] = {
    {"init",
     "--name NAME [--central [--scope AREA[,AREA...]]] [--kdf LEVEL] [--passphrase-file FILE]",
     "create a new node in the node directory",
     "The passphrase that protects the node's keys comes from --passphrase-file,\n"
     "else from $SSP_PASSPHRASE, else it is asked for (twice) on the terminal.\n"
     "Prints the new node's id. With --central the node starts a network; else\n"
     "give its id to the central, which enrols it ('ssp enrol'), then add the\n"
     "central as a peer ('ssp peer add') and sync to receive its keys.\n",
     init_opts, 0, 0, ssp_cmd_init},
    {"start", "[--passphrase-file FILE] [--log-level LEVEL] [--listen HOST:PORT]",
     "start sspd for the node directory in the background",
     "The passphrase comes as for init. sspd logs to DIR/sspd.log.\n", start_opts, 0, 0,
     ssp_cmd_start},
    {"stop", "", "stop sspd and wait until it has stopped", NULL, NULL, 0, 0, ssp_cmd_stop},
    {"status", "", "show what the node holds, how it is set up and how its peers stand",
     "For each peer: its state, last contact and last error, what it lacks from us\n"
     "and we from it (as of its last hello), a warning when its clock is off, and\n"
     "while a sync crawls (under 64 KiB/s) the measured rates and the time left.\n"
     "A relay lists the scopes it carries (stores and forwards without their key).\n",
     NULL, 0, 0, ssp_cmd_status},
    {"scope add", "AREA", "create a scope (on the central)",
     "Creates the scope's key and announces the scope in the roster. Area scopes\n"
     "are named like areas: north, tirana-1, glostrup-school.\n",
     NULL, 1, 1, ssp_cmd_scope_add},
    {"enrol", "NODE_ID --name NAME --scope AREA[,AREA...] [--role member|relay]",
     "enrol a node in the network (on the central)",
     "Writes the node's roster entry and, for a member, its scope keys sealed to\n"
     "it. Every member also reads 'network', the directory of professionals.\n"
     "Enrolling a node again replaces its entry: scopes can be added, not taken\n"
     "away (that is revocation, which rotates keys).\n",
     enrol_opts, 1, 1, ssp_cmd_enrol},
    {"revoke", "NODE_ID [--reason TEXT]", "remove a node from the network (on the central)",
     "For a lost or stolen device. The node leaves the roster for good (its id\n"
     "cannot be enrolled again), and each scope it could read gets a new key,\n"
     "granted to every remaining member that reads it. Commits the node makes\n"
     "after now are refused by every node. Peers still tell it of its removal:\n"
     "when it learns of it, it deletes the data of its scopes and writes nothing\n"
     "more. A relay held no keys, so nothing is rotated for it.\n",
     revoke_opts, 1, 1, ssp_cmd_revoke},
    {"rotate", "SCOPE", "give a scope a new key (on the central)",
     "New records and changes of the scope are sealed with the new key, granted\n"
     "to every member that reads the scope; the old keys stay, to read what they\n"
     "sealed. 'ssp revoke' does this for a removed node's scopes.\n",
     NULL, 1, 1, ssp_cmd_rotate},
    {"roster", "", "list the nodes of the network and their scopes", NULL, NULL, 0, 0,
     ssp_cmd_roster},
    {"peer add", "NODE_ID HOST:PORT [--network CENTRAL_ID]", "sync with a node at an address",
     "sspd connects to the peer, keeps the connection open and pushes changes live;\n"
     "when it cannot reach it, it tries again, waiting up to a minute. A node that\n"
     "is not enrolled yet takes the peer given here for the central, unless told the\n"
     "central's id with --network: then it can join through a relay of the network.\n",
     peer_add_opts, 2, 2, ssp_cmd_peer_add},
    {"peer list", "", "list the peers and how they stand", NULL, NULL, 0, 0, ssp_cmd_peer_list},
    {"peer remove", "NODE_ID", "stop syncing with a peer (its first 8 characters will do)", NULL,
     NULL, 1, 1, ssp_cmd_peer_remove},
    {"sync", "[PEER] [--timeout SECONDS]", "sync with one peer or every peer now",
     "Connects now if need be, waits until both sides hold what the other may\n"
     "send, and prints what moved each way. Exits 1 if a peer did not sync.\n",
     sync_opts, 0, 1, ssp_cmd_sync},
    {"bundle export", "--for NODE_ID -o FILE [--all] [--via NODE_ID[,NODE_ID...]]",
     "write what a node lacks to a file, for a place with no link",
     "The bundle holds the commits the node lacks, as far as this node knows (from\n"
     "the last bundle or sync it had from it; --all: everything it may receive),\n"
     "and this node's own frontier, so the node can answer with a bundle back. It\n"
     "is encrypted to the node (and to each --via carrier, which may import it to\n"
     "store and forward the scopes it carries, as a relay does) and signed by this\n"
     "node. The file is written whole or not at all, readable only by its owner.\n",
     bundle_export_opts, 0, 0, ssp_cmd_bundle_export},
    {"bundle import", "FILE [--central NODE_ID]", "apply a bundle a node wrote for this one",
     "The whole file is checked first (its signature covers every byte); a cut or\n"
     "altered bundle is refused and nothing is applied. Its commits are then\n"
     "checked and applied as a sync applies them; importing a bundle again changes\n"
     "nothing. A node not enrolled yet joins its central's network by the first\n"
     "bundle the central wrote for it: name that central with --central.\n",
     bundle_import_opts, 1, 1, ssp_cmd_bundle_import},
    {"recover", "", "recover a node restored from an old backup or cloned",
     "When 'ssp status' lists a stream of this node's own as quarantined (its\n"
     "peers hold another history of it: the node was restored from an old backup\n"
     "and wrote again, or its directory was copied to a second machine), writes\n"
     "to that scope are refused. 'ssp recover' takes the peers' history of the\n"
     "stream at the next sync ('ssp sync'): this node's commits that differ are\n"
     "set aside and their changes written again on top, so nothing is lost. A\n"
     "cloned machine must then stop being used: give it a new identity ('ssp\n"
     "init' in a new directory, and enrol it).\n",
     NULL, 0, 0, ssp_cmd_recover},
    {"report",
     "activities|concerns|cases --by FIELD[,FIELD] --from DATE --to DATE [--format table|csv|json] "
     "[--min-cell N] [--scope AREA]",
     "counts for the board, small numbers hidden", ssp_report_help, ssp_report_opts, 1, 1,
     ssp_cmd_report},
    {"types", "[TYPE]", "describe the record types and their fields", NULL, NULL, 0, 1,
     ssp_cmd_types},
    {"add", "TYPE [--scope S] [field=value...]", "add a record and show it", FIELD_HELP, add_opts,
     1, SIZE_MAX, ssp_cmd_add},
    {"set", "ID field=value...", "change fields of a record and show it", FIELD_HELP, NULL, 2,
     SIZE_MAX, ssp_cmd_set},
    {"note", "ID TEXT...", "add a note about a record (the words are joined with spaces)", NULL,
     NULL, 2, SIZE_MAX, ssp_cmd_note},
    {"delete", "ID", "delete a record", NULL, NULL, 1, 1, ssp_cmd_delete},
    {"purge", "ID --reason TEXT", "delete a record and its history everywhere (on the central)",
     "For data whose purpose is gone (GDPR Art. 5). Every node, relays and nodes\n"
     "that get it later by bundle included, deletes the record, replaces each of\n"
     "its changes in the log by the change's hash (the log still verifies) and\n"
     "compacts its store, so nothing of it stays in its files. 'ssp show ID'\n"
     "then says when and why it was purged. This cannot be undone.\n",
     purge_opts, 1, 1, ssp_cmd_purge},
    {"show", "ID [--purpose TEXT]", "show a record", NULL, read_opts, 1, 1, ssp_cmd_show},
    {"list", "TYPE [--scope S] [--where FIELD=VALUE]... [--limit N] [--purpose TEXT]",
     "list the records of a type, in id order",
     "Shows each record's id, scope and the first three fields of the first record.\n"
     "--where takes field=value and field:=JSON as add does.\n",
     list_opts, 1, 1, ssp_cmd_list},
    {"find", "TEXT... [--scope S] [--type T] [--limit N] [--purpose TEXT]",
     "find the records whose text fields hold TEXT (any case)",
     "Searches the text fields (names, descriptions, minutes, plan actions...) of every\nrecord "
     "this node can read; the words are joined with spaces. Each record found is\nshown once: id, "
     "type, scope, the field and the text around the match. Nothing is\nindexed: the daemon reads "
     "the records as 'list' does. The audit trail is searched only with --type audit.\n",
     find_opts, 1, SIZE_MAX, ssp_cmd_find},
    {"person find", "[--alias A] [--birth-year Y] [--national-id ID] [--scope S] [--purpose TEXT]",
     "find the persons that match all the criteria given",
     "Lists each person this node can read whose alias starts with A (any case),\n"
     "born in Y, and whose pid is the one of the national id: the daemon makes\n"
     "it with the network key, so a person added on another area's node is found\n"
     "by the same id. The id itself is never stored, logged or printed. Shows\n"
     "id, scope, alias and birth year; at most 1000 persons.\n",
     person_find_opts, 0, 0, ssp_cmd_person_find},
    {"due", "[--scope AREA] [--before DATE] [--limit N] [--purpose TEXT]",
     "list the open follow-ups past or near due",
     "Lists plan actions (what, who) and meeting decisions (text, owner) that are\n"
     "not done or dropped and are due on or before --before (default: today and\n"
     "the next 14 days), overdue ones (due before today) marked, sorted by due\n"
     "date then record id. Items without a due date are not listed. Each row shows\n"
     "the owner (name and member id when this node reads the member) and the plan\n"
     "(its case) or the meeting (its group and date) it belongs to. --json prints\n"
     "an array. 'Today' is the node's day.\n",
     due_opts, 0, 0, ssp_cmd_due},
    {"agenda", "GROUP [--date DATE] [--scope AREA] [--purpose TEXT]",
     "print the agenda of a group's next meeting, fit to paste into minutes",
     "GROUP is the id of a group record ('ssp list group'). Sections: the decisions\n"
     "of the group's last meeting before DATE (with owner, due date and status);\n"
     "the concerns dated from that meeting's day to DATE (without an earlier\n"
     "meeting, the last 31 days), with a line of their description; the open\n"
     "cases by level; and the follow-ups due by DATE + 14 days, as 'ssp due'\n"
     "lists them (overdue: due before DATE). Scopes: --scope, else those of the\n"
     "group's earlier meetings, else every area scope this node reads. --json\n"
     "prints a map with last_meeting, concerns, cases and due.\n",
     agenda_opts, 1, 1, ssp_cmd_agenda},
    {"case open", "--from CONCERN_ID [field=value...]", "open a case from a concern and show it",
     "The case takes the concern's person, level, legal basis and consent, track\n"
     "ssp, opened today and status open, and lists the concern; field=value sets\n"
     "or replaces any of them (e.g. coordinator=MEMBER_ID track=ssp_plus). The\n"
     "concern is marked case_opened in the same write: both happen, or neither.\n",
     case_open_opts, 0, SIZE_MAX, ssp_cmd_case_open},
    {"case escalate", "ID (--level 3|4 | --ssp-plus) [--group GROUP_ID] [--date DATE]",
     "move a case to the coordination group (scope central)",
     "Levels 3-4 (repeated serious or violent crime) and SSP+ cases are handled by\n"
     "the coordination group. The case, its plans and the notes about them move\n"
     "to scope central with new ids, in one write; the area keeps an escalation\n"
     "record that says when, to whom and the case's new id, but none of its\n"
     "content. Run it on a node that holds both scopes (the central): an area\n"
     "node records the decision and the secretariat escalates.\n",
     case_escalate_opts, 1, 1, ssp_cmd_case_escalate},
    {"retention rules", "", "show how long each kind of record is kept",
     "The rules and their values on this node: concerns that never became a case,\n"
     "closed cases, minutes, incidents, escalation traces and persons, each counted\n"
     "from its last change, a date of its own or the person's birth year. Change a\n"
     "value in ssp.conf, section [retention]; 0 keeps those records.\n",
     NULL, 0, 0, ssp_cmd_retention_rules},
    {"retention list", "[--scope S]", "list the records whose retention has expired, and why",
     "Each record with the rule it expired by and the day. Plans and notes go with\n"
     "the record they belong to, concerns and cases with their person (\"with ID\").\n"
     "A record under a hold is listed as HELD, and so is what it belongs to.\n",
     scope_opts, 0, 0, ssp_cmd_retention_list},
    {"retention hold", "ID --reason TEXT [--until DATE]",
     "keep a record beyond its retention, for a record-keeping duty",
     "Writes a hold record in the record's scope. To release it, delete the hold\n"
     "('ssp delete HOLD_ID').\n",
     retention_hold_opts, 1, 1, ssp_cmd_retention_hold},
    {"retention run", "", "purge everywhere what has expired and is not held (on the central)",
     "Purges, as 'ssp purge' does, every record 'ssp retention list' shows that no\n"
     "hold keeps: every node, relays and nodes reached later by bundle included,\n"
     "deletes it and redacts it from its log. The reason each purge carries names\n"
     "the rule. There is no undo: run 'ssp retention list' first.\n",
     NULL, 0, 0, ssp_cmd_retention_run},
    {"history", "ID [--purpose TEXT]", "show every version of a record, oldest first", NULL,
     read_opts, 1, 1, ssp_cmd_history},
    {"audit show", "[--record ID] [--user U] [--since DATE] [--scope S] [--limit N]",
     "show who read or changed which records, and why, newest last",
     "Every read of data about young people (show, list, find, history, person\n"
     "find, conflicts, reports of concerns or cases, bundle export) and every\n"
     "change leaves an entry: when, the node, the OS user of the ssp process (as\n"
     "the kernel tells sspd), the action, the records and the --purpose given.\n"
     "Entries live in the scope of the records they are about and reach the\n"
     "central with the next sync, reads made offline too. Reading them leaves none.\n",
     audit_show_opts, 0, 0, ssp_cmd_audit_show},
    {"audit verify", "", "check the audit trail's hash chains and the log behind them",
     "Each node chains its entries of a scope: seq 1, 2, 3... each naming the hash\n"
     "of the one before. Every chain this node holds (its own and those received)\n"
     "is checked: an entry changed (altered), one added with a seq already taken\n"
     "(inserted) or taken away (removed: a gap, or a chain of this node shorter\n"
     "than its head). The log is verified too (as 'ssp verify'). Exits 1 if\n"
     "anything is broken, listing each break.\n",
     NULL, 0, 0, ssp_cmd_audit_verify},
    {"import", "FILE [--batch N] [--skip N] [--progress]", "add records from a JSON lines file",
     "FILE ('-' for standard input) holds one record per line:\n"
     "  {\"type\": \"person\", \"scope\": \"north\", \"id\": \"...\", \"fields\": {...}}\n"
     "where scope and id may be left out; empty lines are skipped. Records go in\n"
     "batches, each all or nothing; after a failure ssp says which lines were\n"
     "imported and what --skip resumes after them.\n",
     import_opts, 1, 1, ssp_cmd_import},
    {"verify", "", "check the whole store: signatures, chains and every record", NULL, NULL, 0, 0,
     ssp_cmd_verify},
    {"conflicts", "[--scope S]", "list the records with conflicting values, in id order",
     "When two nodes change the same field before they hear of each other, both\n"
     "values are kept: the later one is shown, the other is listed under it with\n"
     "the node that wrote it and when. A record deleted on one node while it was\n"
     "changed on another stays, and is listed too. 'ssp resolve' settles them.\n",
     scope_opts, 0, 0, ssp_cmd_conflicts},
    {"resolve", "ID [field=value...] [field...] [--keep]",
     "settle the conflicts of fields of a record and show it",
     "field=value (or field:=JSON, or field= to remove it) sets the field, as set\n"
     "does; a bare field keeps the value shown. Either way every value of the\n"
     "field that 'ssp show' lists is settled, on every node the change reaches.\n"
     "Only fields with conflicts can be named. --keep keeps a record that was\n"
     "deleted while it was changed elsewhere; 'ssp delete ID' deletes it instead.\n",
     resolve_opts, 1, SIZE_MAX, ssp_cmd_resolve},
    {"state", "[--scope S]", "print a hash of each scope's records, to compare nodes",
     "Two nodes that hold the same records with the same values print the same\n"
     "hash for a scope, whatever order the changes reached them in.\n",
     scope_opts, 0, 0, ssp_cmd_state},
    SSP_DIRECTORY_CMD,
};

#define NCMDS (sizeof cmds / sizeof cmds[0])

/* The outcome of parsing argv. */
struct cmdline {
    const struct ssp_cmd *cmd;
    const char *dir;
    bool json, help;
    struct ssp_args args;
};

/* The last occurrence of option name, or NULL. */
static const struct ssp_optval *
find_optval(const struct ssp_args *a, const char *name)
{
    const struct ssp_optval *v = NULL;
    for (size_t i = 0; i < a->nopts; i++) {
        if (strcmp(a->opts[i].opt->name, name) == 0)
            v = &a->opts[i];
    }
    return v;
}

bool
ssp_args_has(const struct ssp_args *a, const char *name)
{
    return find_optval(a, name) != NULL;
}

const char *
ssp_args_get(const struct ssp_args *a, const char *name)
{
    const struct ssp_optval *v = find_optval(a, name);
    return v != NULL ? v->val : NULL;
}

int
ssp_args_size(const struct ssp_args *a, const char *name, size_t min, size_t max, size_t *v)
{
    const char *s = ssp_args_get(a, name);
    char *end;
    if (s == NULL)
        return SSP_EXIT_OK;
    errno = 0;
    unsigned long long n = strtoull(s, &end, 10);
    if (!isdigit((unsigned char)s[0]) || *end != '\0' || errno != 0 || n < min || n > max) {
        if (max == SIZE_MAX)
            return ssp_out_usage("--%s takes a whole number from %zu, not '%s'", name, min, s);
        return ssp_out_usage("--%s takes a whole number from %zu to %zu, not '%s'", name, min, max,
                             s);
    }
    *v = (size_t)n;
    return SSP_EXIT_OK;
}

ssp_err
ssp_cli_connect(struct ssp_cli *cli, struct ssp_diag *d)
{
    if (cli->client != NULL)
        return SSP_OK;
    return ssp_client_open(cli->dir, &cli->client, d);
}

void
ssp_cli_disconnect(struct ssp_cli *cli)
{
    ssp_client_close(cli->client);
    cli->client = NULL;
}

ssp_err
ssp_cli_call(struct ssp_cli *cli, const char *op, const struct ssp_mpw *params,
             struct ssp_slice *result, struct ssp_diag *d)
{
    static const uint8_t empty_map = 0x80;
    struct ssp_slice p = SSP_SLICE(&empty_map, 1);
    if (params != NULL) {
        if (params->err != SSP_OK)
            return ssp_diag_set(d, params->err, "cannot build the '%s' request: %s", op,
                                ssp_strerror(params->err));
        p = SSP_BUF_SLICE(params->buf);
    }
    ssp_err rc = ssp_cli_connect(cli, d);
    if (rc != SSP_OK)
        return rc;
    return ssp_client_call(cli->client, op, p, result, d);
}

int
ssp_cli_run(struct ssp_cli *cli, const char *op, const struct ssp_mpw *params, ssp_out_fn print)
{
    struct ssp_diag d = {{0}};
    struct ssp_slice result = {0};
    struct ssp_mp c;
    ssp_err rc = ssp_cli_call(cli, op, params, &result, &d);
    if (rc == SSP_OK) {
        ssp_mp_init(&c, result);
        rc = cli->json ? ssp_out_json(&c, "\n", &d) : print(&c, &d);
    }
    return ssp_out_exit(rc, &d);
}

int
ssp_cli_print(const struct ssp_cli *cli, const struct ssp_mpw *w, const char *line)
{
    struct ssp_diag d = {{0}};
    struct ssp_mp c;
    ssp_err rc = w->err;
    if (rc == SSP_OK && cli->json) {
        ssp_mp_init(&c, SSP_BUF_SLICE(w->buf));
        rc = ssp_out_json(&c, "\n", &d);
    } else if (rc == SSP_OK) {
        printf("%s\n", line);
    }
    return ssp_out_exit(rc, &d);
}

void
ssp_cli_kv(struct ssp_mpw *w, const char *key, const char *value)
{
    ssp_mpw_cstr(w, key);
    ssp_mpw_cstr(w, value);
}

int
ssp_cli_run_kv(struct ssp_cli *cli, const char *op, const char *const kv[], size_t n,
               ssp_out_fn print)
{
    struct ssp_buf b;
    struct ssp_mpw w;
    uint32_t count = 0;
    for (size_t i = 0; i < n; i++)
        count += kv[2 * i + 1] != NULL;
    ssp_buf_init(&b);
    ssp_mpw_init(&w, &b);
    ssp_mpw_map(&w, count);
    for (size_t i = 0; i < n; i++)
        if (kv[2 * i + 1] != NULL)
            ssp_cli_kv(&w, kv[2 * i], kv[2 * i + 1]);
    int status = ssp_cli_run(cli, op, &w, print);
    ssp_buf_fini(&b);
    return status;
}

static void
print_opts(const char *title, const struct ssp_opt *opts)
{
    size_t width = 0;
    if (opts == NULL || opts[0].name == NULL)
        return;
    for (const struct ssp_opt *o = opts; o->name != NULL; o++) {
        size_t w = strlen(o->name) + (o->meta != NULL ? strlen(o->meta) + 1 : 0);
        width = w > width ? w : width;
    }
    printf("\n%s:\n", title);
    for (const struct ssp_opt *o = opts; o->name != NULL; o++) {
        size_t w = strlen(o->name) + (o->meta != NULL ? strlen(o->meta) + 1 : 0);
        printf("  --%s%s%s%*s  %s\n", o->name, o->meta != NULL ? " " : "",
               o->meta != NULL ? o->meta : "", (int)(width - w), "", o->help);
    }
}

static void
print_help(const struct ssp_cmd *cmd)
{
    if (cmd != NULL) {
        printf("usage: ssp %s%s%s\n\n%s\n", cmd->name, cmd->usage[0] != '\0' ? " " : "", cmd->usage,
               cmd->summary);
        print_opts("options", cmd->opts);
        print_opts("global options", global_opts);
        if (cmd->details != NULL)
            printf("\n%s", cmd->details);
        return;
    }
    printf("usage: ssp [--dir DIR] [--json] COMMAND [ARGS...]\n\n"
           "Records SSP work (schools, social services, police) in the node's encrypted\n"
           "store, through the node daemon sspd.\n\ncommands:\n");
    for (size_t i = 0; i < NCMDS; i++)
        printf("  %-9s %s\n", cmds[i].name, cmds[i].summary);
    print_opts("global options (before or after the command)", global_opts);
    printf("\nexit status:\n");
#define SSP_EXIT_HELP(name, code, text) printf("  %d  %s\n", code, text);
    SSP_EXITS(SSP_EXIT_HELP)
#undef SSP_EXIT_HELP
    printf("\nErrors are one line on standard error. 'ssp COMMAND --help' describes a "
           "command.\n");
}

static const struct ssp_opt *
find_opt(const struct ssp_opt *opts, const char *name, size_t len)
{
    for (const struct ssp_opt *o = opts; o != NULL && o->name != NULL; o++) {
        if (strlen(o->name) == len && memcmp(o->name, name, len) == 0)
            return o;
    }
    return NULL;
}

/* The command called name, or "name next" for a command of two words. */
static const struct ssp_cmd *
find_cmd(const char *name, const char *next)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < NCMDS; i++) {
        const char *c = cmds[i].name;
        if (strcmp(c, name) == 0)
            return &cmds[i];
        if (next != NULL && strncmp(c, name, n) == 0 && c[n] == ' ' && strcmp(c + n + 1, next) == 0)
            return &cmds[i];
    }
    return NULL;
}

static int
set_global(struct cmdline *cl, const struct ssp_opt *o, const char *val)
{
    if (strcmp(o->name, "dir") == 0) {
        if (val == NULL || val[0] == '\0')
            return ssp_out_usage("--dir needs a directory, not an empty string");
        cl->dir = val;
    } else if (strcmp(o->name, "json") == 0) {
        cl->json = true;
    } else {
        cl->help = true;
    }
    return SSP_EXIT_OK;
}

/* Whether val is one of choices ("a|b|c"). */
static bool
is_choice(const char *choices, const char *val)
{
    size_t n = strlen(val);
    for (const char *p = choices;; p++) {
        if (strncmp(p, val, n) == 0 && (p[n] == '|' || p[n] == '\0'))
            return true;
        p = strchr(p, '|');
        if (p == NULL)
            return false;
    }
}

/*
 * Parses the option at argv[*i], spelled name after its dashes ("name" or
 * "name=value"), taking its value.
 */
static int
parse_opt(int argc, char **argv, int *i, char *name, struct cmdline *cl)
{
    char *eq = strchr(name, '=');
    size_t len = eq != NULL ? (size_t)(eq - name) : strlen(name);
    const struct ssp_opt *o = find_opt(global_opts, name, len);
    bool global = o != NULL;
    char *val = NULL;
    if (o == NULL && cl->cmd != NULL)
        o = find_opt(cl->cmd->opts, name, len);
    if (o == NULL)
        return ssp_out_usage("unknown option --%.*s; see 'ssp %s%s--help'", (int)len, name,
                             cl->cmd != NULL ? cl->cmd->name : "", cl->cmd != NULL ? " " : "");
    if (o->meta == NULL && eq != NULL)
        return ssp_out_usage("--%s takes no value", o->name);
    if (o->meta != NULL) {
        if (eq == NULL && *i + 1 >= argc)
            return ssp_out_usage("--%s needs a value: --%s %s", o->name, o->name, o->meta);
        val = eq != NULL ? eq + 1 : argv[++*i];
    }
    if (o->choices != NULL && (val == NULL || !is_choice(o->choices, val)))
        return ssp_out_usage("--%s takes one of %s, not '%s'", o->name, o->choices, val);
    if (global)
        return set_global(cl, o, val);
    cl->args.opts[cl->args.nopts++] = (struct ssp_optval){o, val};
    return SSP_EXIT_OK;
}

/* Splits argv into global options, the command, its options and its operands. */
static int
parse(int argc, char **argv, struct cmdline *cl)
{
    bool operands_only = false;
    size_t n = argc > 0 ? (size_t)argc : 1;
    cl->args.pos = ssp_calloc(n, sizeof *cl->args.pos);
    cl->args.opts = ssp_calloc(n, sizeof *cl->args.opts);
    if (cl->args.pos == NULL || cl->args.opts == NULL)
        return ssp_out_exit(SSP_ERR_NOMEM, NULL);
    for (int i = 1; i < argc; i++) {
        char *arg = argv[i];
        int status = SSP_EXIT_OK;
        if (operands_only || arg[0] != '-' || arg[1] == '\0') {
            /* The first operand names the command; "-" is an operand (standard input). */
            if (cl->cmd != NULL)
                cl->args.pos[cl->args.npos++] = arg;
            else if ((cl->cmd = find_cmd(arg, i + 1 < argc ? argv[i + 1] : NULL)) == NULL)
                return ssp_out_usage("unknown command '%s'; 'ssp --help' lists the commands", arg);
            else if (strchr(cl->cmd->name, ' ') != NULL)
                i++; /* a command of two words: "peer add" */
        } else if (strcmp(arg, "--") == 0) {
            operands_only = true;
        } else if (strcmp(arg, "-h") == 0) {
            cl->help = true;
        } else if (arg[1] == '-') {
            status = parse_opt(argc, argv, &i, arg + 2, cl);
        } else if (strcmp(arg, "-o") == 0) {
            /* The one short option, as in cc and tar: -o FILE is --out FILE. */
            status = parse_opt(argc, argv, &i, "out", cl);
        } else {
            status = ssp_out_usage("unknown option %s; options are spelled --name", arg);
        }
        if (status != SSP_EXIT_OK)
            return status;
    }
    return SSP_EXIT_OK;
}

static int
check_operands(const struct cmdline *cl)
{
    const struct ssp_cmd *cmd = cl->cmd;
    if (cl->args.npos >= cmd->min_pos && cl->args.npos <= cmd->max_pos)
        return SSP_EXIT_OK;
    return ssp_out_usage("%s arguments; usage: ssp %s%s%s",
                         cl->args.npos < cmd->min_pos ? "missing" : "too many", cmd->name,
                         cmd->usage[0] != '\0' ? " " : "", cmd->usage);
}

/* The node directory: --dir, else $SSP_DIR, else the XDG data directory. */
static int
node_dir(const struct cmdline *cl, char **out)
{
    const char *env = getenv("SSP_DIR");
    const char *xdg = getenv("XDG_DATA_HOME");
    const char *home = getenv("HOME");
    const char *base = NULL, *leaf = "";
    if (cl->dir != NULL || (env != NULL && env[0] != '\0')) {
        base = cl->dir != NULL ? cl->dir : env;
    } else if (xdg != NULL && xdg[0] == '/') { /* the XDG spec ignores relative paths */
        base = xdg;
        leaf = "/ssp";
    } else if (home != NULL && home[0] != '\0') {
        base = home;
        leaf = "/.local/share/ssp";
    } else {
        return ssp_out_usage("no node directory: give --dir DIR or set SSP_DIR");
    }
    size_t n = strlen(base) + strlen(leaf) + 1;
    *out = ssp_alloc(n);
    if (*out == NULL)
        return ssp_out_exit(SSP_ERR_NOMEM, NULL);
    snprintf(*out, n, "%s%s", base, leaf);
    return SSP_EXIT_OK;
}

int
main(int argc, char **argv)
{
    struct cmdline cl = {0};
    struct ssp_cli cli = {0};
    struct ssp_diag d = {{0}};
    int status = parse(argc, argv, &cl);
    if (status != SSP_EXIT_OK)
        goto out;
    if (cl.help) {
        print_help(cl.cmd);
        goto out;
    }
    if (cl.cmd == NULL) {
        status = ssp_out_usage("no command given; 'ssp --help' lists the commands");
        goto out;
    }
    status = check_operands(&cl);
    if (status == SSP_EXIT_OK)
        status = node_dir(&cl, &cli.dir);
    if (status != SSP_EXIT_OK)
        goto out;
    cli.json = cl.json;
    status = cl.cmd->run(&cli, &cl.args);
out:
    /* Output goes through stdio; a full disk or closed pipe shows up here. */
    if ((fflush(stdout) != 0 || ferror(stdout)) && status == SSP_EXIT_OK)
        status = ssp_out_exit(
            ssp_diag_set(&d, SSP_ERR_IO, "cannot write the output: %s", strerror(errno)), &d);
    ssp_client_close(cli.client);
    ssp_free(cli.dir);
    ssp_free(cl.args.pos);
    ssp_free(cl.args.opts);
    return status;
}
