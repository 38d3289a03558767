#!/usr/bin/env bash
# ssp directory, the ActionCard: members by organisation and by group as
# Markdown, CSV (parsed with Python's csv module and compared) and HTML
# (parsed by Python's html.parser with a strict checker), with values that
# must come out escaped: markup, quotes, ampersands, commas, a formula.
. "$(dirname "$0")/lib.sh"
port=$(free_port)
central node "$port" north,south # the node in $SSP_DIR: plain `ssp` drives it

pro() { add_id member --scope network "$@"; }
anna=$(pro name="Anna Holm" org=police title="Prevention officer" phone="+45 1234 5678" \
    email=anna@example.dk)
xss=$(pro name='<script>alert("x")</script>' org=school title="O'Brien & Sons" \
    phone='=HYPERLINK("http://evil.example","call")' email='a"b,c@example.dk')
soren=$(pro name="Søren Ærø" org=social title='Case worker | *lead* \ [1]' phone="-" \
    email=soren@example.dk)
bo=$(pro name="Bo Berg" title="Volunteer")
gone=$(pro name="Gone Member" org=police)

# North lists its members; the south group is named by its members; the
# board both ways (Anna must still come once).
north=$(add_id group --scope north name="Local group North" level=implementation \
    members="$anna,$xss,$gone" meets="first Tuesday, monthly")
ssp delete "$gone" >/dev/null
south=$(add_id group --scope south name="South & <Harbour>" level=ad_hoc)
board=$(add_id group --scope network name="Board" level=strategic members="$anna")
ssp set "$anna" groups="$board" >/dev/null
ssp set "$xss" groups="$south" >/dev/null
ssp set "$soren" groups="$south" >/dev/null

# ---- Markdown ----
md=$(ssp directory)
[ "$md" = "$(ssp directory --format md)" ] || fail "md is the default"
contains "$md" "# SSP directory"
contains "$md" "## By organisation"
contains "$md" "## By group"
# Organisations in order, members without one last.
order=$(printf '%s\n' "$md" | grep '^### ' | tr '\n' '/')
[ "$order" = "### police/### school/### social/### no organisation/### Board/### Local group North/### South \\& \\<Harbour\\>/" ] \
    || fail "md headings: $order"
contains "$md" '| \<script\>alert("x")\</script\> | O'"'"'Brien \& Sons |'
contains "$md" '| Søren Ærø | Case worker \| \*lead\* \\ \[1\] | - |'
contains "$md" "Level: implementation. Scope: north. Meets: first Tuesday, monthly."
case "$md" in *"<script>"*) fail "raw markup in md" ;; esac
case "$md" in *"Gone Member"*) fail "a deleted member is listed" ;; esac
[ "$(printf '%s\n' "$md" | grep -c 'Anna Holm')" -eq 3 ] || fail "Anna: police, Board, North"

# ---- CSV ----
ssp directory --format csv >"$T/dir.csv"
python3 - "$T/dir.csv" <<'EOF' || fail "csv differs"
import csv, sys
raw = open(sys.argv[1], "rb").read()
assert raw.count(b"\r\n") == raw.count(b"\n") == 5, raw  # RFC 4180: CRLF after every record
rows = list(csv.reader(open(sys.argv[1], newline="", encoding="utf-8"), strict=True))
want = [
    ["name", "org", "title", "phone", "email", "groups"],
    ["Anna Holm", "police", "Prevention officer", "+45 1234 5678", "anna@example.dk",
     "Board; Local group North"],
    ['<script>alert("x")</script>', "school", "O'Brien & Sons",
     "'=HYPERLINK(\"http://evil.example\",\"call\")", 'a"b,c@example.dk',
     "Local group North; South & <Harbour>"],
    ["Søren Ærø", "social", "Case worker | *lead* \\ [1]", "-", "soren@example.dk",
     "South & <Harbour>"],
    ["Bo Berg", "", "Volunteer", "", "", ""],
]
if rows != want:
    print("got ", rows, "\nwant", want, file=sys.stderr)
    sys.exit(1)
EOF

# ---- HTML ----
ssp directory --format html >"$T/dir.html"
python3 - "$T/dir.html" <<'EOF' || fail "html is not valid"
import html, sys
from html.parser import HTMLParser

VOID = {"meta"}
ALLOWED = {"html", "head", "meta", "title", "style", "body", "h1", "h2", "h3", "p", "section",
           "table", "thead", "tbody", "tr", "th", "td"}

class Strict(HTMLParser):
    """Every tag known, opened ones closed in order; no raw '<' or '>' in text."""
    def __init__(self):
        # References come one by one: data must hold no raw '<' or '>' at all.
        super().__init__(convert_charrefs=False)
        self.stack, self.rows, self.doctype = [], [], None
    def handle_decl(self, decl):
        self.doctype = decl
    def handle_starttag(self, tag, attrs):
        assert tag in ALLOWED, f"unexpected <{tag}> at {self.getpos()}"
        for k, v in attrs:
            assert k in ("lang", "charset", "name", "content", "class"), f"attribute {k}"
        if tag == "tr":
            self.rows.append([])
        if tag in ("td", "th"):
            self.rows[-1].append("")
        if tag not in VOID:
            self.stack.append(tag)
    def handle_startendtag(self, tag, attrs):
        raise AssertionError(f"self-closing <{tag}/>")
    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, \
            f"</{tag}> closes {self.stack[-1:]} at {self.getpos()}"
        self.stack.pop()
    def handle_data(self, data):
        if self.stack and self.stack[-1] == "style":
            return
        assert "<" not in data and ">" not in data, f"raw markup in text: {data!r}"
        self.text(data)
    def handle_entityref(self, name):
        assert name in ("amp", "lt", "gt", "quot"), f"&{name};"
        self.text(html.unescape(f"&{name};"))
    def handle_charref(self, name):
        self.text(html.unescape(f"&#{name};"))
    def text(self, s):
        if self.stack and self.stack[-1] in ("td", "th"):
            self.rows[-1][-1] += s
    def handle_comment(self, data):
        raise AssertionError("comment")
    def unknown_decl(self, data):
        raise AssertionError(f"declaration {data}")

text = open(sys.argv[1], encoding="utf-8").read()
p = Strict()
p.feed(text)
p.close()
assert p.doctype == "DOCTYPE html", p.doctype
assert p.stack == [], f"left open: {p.stack}"
# Self-contained and fit to print: inline style only, no script, nothing fetched.
low = text.lower()
for bad in ("<script", "<link", "<img", "src=", "href=", "url(", "@import"):
    assert bad not in low, f"{bad} in the page"
assert "@media print" in text and "<style>" in text
rows = p.rows
xss = ['<script>alert("x")</script>', "O'Brien & Sons",
       '=HYPERLINK("http://evil.example","call")', 'a"b,c@example.dk']
assert xss in rows, rows  # by organisation: name, title, phone, email
assert [xss[0], "school"] + xss[1:] in rows, rows  # in a group, with the organisation
assert ["Søren Ærø", "Case worker | *lead* \\ [1]", "-", "soren@example.dk"] in rows, rows
assert ["Bo Berg", "Volunteer", "", ""] in rows, rows
assert "South &amp; &lt;Harbour&gt;" in text and "&lt;script&gt;" in text
EOF

# ---- --scope: only that area's groups and the members in them ----
md=$(ssp directory --scope south)
contains "$md" "# SSP directory: south"
contains "$md" "### South \\& \\<Harbour\\>"
contains "$md" "Søren Ærø"
case "$md" in *"Anna Holm"* | *"Local group North"* | *"Board"* | *"Bo Berg"*) fail "--scope south: $md" ;; esac
csv=$(ssp directory --scope north --format csv | tr -d '\r')
[ "$csv" = 'name,org,title,phone,email,groups
Anna Holm,police,Prevention officer,+45 1234 5678,anna@example.dk,Local group North
"<script>alert(""x"")</script>",school,O'"'"'Brien & Sons,"'"'"'=HYPERLINK(""http://evil.example"",""call"")","a""b,c@example.dk",Local group North' ] \
    || fail "--scope north csv: $csv"
ssp directory --format html --scope north | grep -q '<h1>SSP directory: north</h1>' || fail "html title"

# ---- a node of the north area: what it reads, synced from the central ----
member north1 node north "127.0.0.1:$port"
md=$(on north1 directory)
contains "$md" "### Local group North"
contains "$md" "### Board"
contains "$md" '| \<script\>alert("x")\</script\> | school | O'"'"'Brien \& Sons |'
case "$md" in *"Harbour"*) fail "north1 shows a south group: $md" ;; esac
[ "$(on north1 directory --format csv | tr -d '\r' | grep '^Søren')" = \
    "Søren Ærø,social,Case worker | *lead* \\ [1],-,soren@example.dk," ] \
    || fail "north1 csv: Søren's south group is not readable there"
expect_fail 1 on north1 directory --scope south
contains "$LAST_ERR" "no scope 'south'"

# ---- refusals ----
expect_fail 2 ssp directory --format pdf
contains "$LAST_ERR" "md|html|csv"
expect_fail 2 ssp --json directory
expect_fail 2 ssp directory extra
expect_fail 1 ssp directory --scope nowhere
contains "$LAST_ERR" "nowhere"
ssp directory --help | grep -q 'usage: ssp directory' || fail "help"

echo "directory: ok"
