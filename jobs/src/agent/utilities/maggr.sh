#!/bin/sh
# maggr: key-wise aggregation of numeric columns, as Manta's in-job maggr:
#   maggr [-c#=op,op]... [-t#=fmt,fmt]... [-T fmt,fmt] [-d delim] [-o delim]
#         [-i delim] [-f file] [-l] [op,op]
# Columns count from 1. Ops: key nop count max min sum mean range variance
# ovariance stddev; the trailing list applies to columns without -c (default
# nop). Lines are grouped by their key columns; one line per key, in order of
# first appearance; a column's results are joined by -i (default ","),
# columns by -o (default: the input delimiter, itself default " ").
# -t#= gives printf formats to column #'s results, in the order of its ops
# (an empty one skips: -t2=,%.2f); -T gives them to the columns without -t
# and, taken whole, to any result left without a format. A format is text
# with at most one conversion %[-+ #0][width][.precision](d i o u x X e E f g
# G s), width and precision up to 3 digits, and %% for a percent sign, so no
# format can make awk read a missing argument.
# User strings reach awk through the environment, never as awk text or -v
# (which would interpret backslashes).
ops_all="key nop count max mean min range sum ovariance variance stddev"
d=' '
o=''
inner=','
file=''
cols=''
fmts=''
gfmt=''
gset=''
nl='
'
while getopts ':d:o:i:c:f:t:T:l' opt; do
  case $opt in
    d) d=$OPTARG ;;
    o) o=$OPTARG ;;
    i) inner=$OPTARG ;;
    f) file=$OPTARG ;;
    c) cols="$cols$nl$OPTARG" ;;
    t|T)
      case $OPTARG in
        *"$nl"*) echo "maggr: a format must not contain a newline" >&2; exit 2 ;;
      esac
      if [ "$opt" = t ]; then fmts="$fmts$nl$OPTARG"; else gfmt=$OPTARG gset=1; fi
      ;;
    l) echo "$ops_all" >&2; exit 0 ;;
    *) echo "maggr: bad option -$OPTARG" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
if [ -z "$cols" ] && [ $# -eq 0 ]; then
  echo "maggr: no operations specified" >&2
  exit 2
fi
global=${1:-nop}
[ -n "$o" ] || o=$d
[ -n "$file" ] || file=-
MAGGR_D=$d MAGGR_O=$o MAGGR_I=$inner MAGGR_COLS=$cols MAGGR_G=$global
MAGGR_ALL=$ops_all MAGGR_FMTS=$fmts MAGGR_T=$gfmt MAGGR_TSET=$gset
export MAGGR_D MAGGR_O MAGGR_I MAGGR_COLS MAGGR_G MAGGR_ALL MAGGR_FMTS MAGGR_T MAGGR_TSET
exec awk '
function lsplit(s, a, sep,    n, p) {
  n = 0
  while ((p = index(s, sep)) > 0) { a[++n] = substr(s, 1, p - 1); s = substr(s, p + length(sep)) }
  a[++n] = s
  return n
}
function usage(msg) { print "maggr: " msg > "/dev/stderr"; bad = 1 }
# The list checked, without repeats (Manta keeps each op once, in order).
function check(list,    n, x, k, j, ok, seen, out) {
  n = split(list, x, ",")
  out = ""
  for (k = 1; k <= n; k++) {
    ok = 0
    for (j in known) if (known[j] == x[k]) ok = 1
    if (!ok) usage("unsupported operation: " x[k])
    if ((x[k] == "key" || x[k] == "nop") && n > 1) usage(x[k] " must be alone")
    if (!(x[k] in seen)) { seen[x[k]] = 1; out = out (out == "" ? "" : ",") x[k] }
  }
  return out
}
# The conversion of a printf format: its letter, "-" for none, "" when
# the format is refused (two conversions, *, a length modifier...).
function fmtkind(f,    rest, p, n, conv) {
  n = 0
  conv = "-"
  rest = f
  while ((p = index(rest, "%")) > 0) {
    rest = substr(rest, p + 1)
    if (substr(rest, 1, 1) == "%") { rest = substr(rest, 2); continue }
    if (!match(rest, /^[-+ #0]*[0-9]?[0-9]?[0-9]?(\.[0-9]?[0-9]?[0-9]?)?[diouxXeEfgGs]/)) return ""
    n++
    conv = substr(rest, RLENGTH, 1)
    rest = substr(rest, RLENGTH + 1)
  }
  return n > 1 ? "" : conv
}
function checkfmts(list, what,    n, x, k) {
  n = split(list, x, ",")
  for (k = 1; k <= n; k++)
    if (x[k] != "" && fmtkind(x[k]) == "") usage(what ": not one printf format: " x[k])
}
# Whether some result of a column with ops `ops` and formats `list` has no
# format of its own (so takes -T whole).
function unformatted(ops, list,    m, n, x, y, k) {
  if (ops == "key" || ops == "nop") return 0
  m = split(ops, x, ",")
  n = split(list, y, ",")
  for (k = 1; k <= m; k++) if (k > n || y[k] == "") return 1
  return 0
}
# sqrt by Newton (some busybox builds lack awk math)
function root(x,    r, i) {
  if (x <= 0) return 0
  r = x > 1 ? x : 1
  for (i = 0; i < 200; i++) r = (r + x / r) / 2
  return r
}
function opsof(c) { return (c in spec) ? spec[c] : G }
function num(v) {
  if (v == int(v) && v < 1e16 && v > -1e16) return sprintf("%d", v)
  return sprintf("%.16g", v)
}
# A result as text; its number is left in RAW ("" when NaN).
function result(k, c, op,    m, s2, j, n) {
  n = cnt[k, c]
  RAW = ""
  if (op == "key") return last[k, c]
  if (op == "count") RAW = n
  else if (op == "sum") RAW = sum[k, c]
  else if (op == "min") RAW = mn[k, c]
  else if (op == "max") RAW = mx[k, c]
  else if (op == "mean") RAW = sum[k, c] / n
  else if (op == "range") { m = mx[k, c] - mn[k, c]; RAW = m < 0 ? -m : m }
  else {
    if (n < 2) return "NaN"
    m = sum[k, c] / n
    s2 = 0
    for (j = 1; j <= n; j++) s2 += (val[k, c, j] - m) * (val[k, c, j] - m)
    RAW = op == "stddev" ? root(s2 / (n - 1)) : s2 / (n - 1)
  }
  return num(RAW)
}
# The format of result j of column c ("" for none), as Manta picks it.
function fmtof(c, j,    list, n, x) {
  if (c in tf) list = tf[c]
  else if (TSET) list = T
  else return ""
  n = split(list, x, ",")
  if (j <= n && x[j] != "") return x[j]
  return TSET ? T : ""
}
function format(f, shown,    kind, w, at, len, left) {
  kind = fmtkind(f)
  if (kind == "-") return sprintf(f)
  if (kind == "s") return sprintf(f, shown)
  if (RAW == "") return shown
  # Manta'"'"'s printf writes 0 as 0x0 under %#x (C writes 0): the same
  # width and side, as text.
  if ((kind == "x" || kind == "X") && int(RAW) == 0 && match(f, /%[-+ 0]*#[-+ #0]*[0-9]*(\.[0-9]*)?[xX]/)) {
    at = RSTART
    len = RLENGTH
    w = substr(f, at + 1, len - 1)
    match(w, /^[-+ #0]*/)
    left = index(substr(w, 1, RLENGTH), "-") > 0
    w = substr(w, RLENGTH + 1)
    match(w, /^[0-9]*/)
    w = "%" (left ? "-" : "") substr(w, 1, RLENGTH) "s"
    return substr(f, 1, at - 1) sprintf(w, kind == "x" ? "0x0" : "0X0") substr(f, at + len)
  }
  return sprintf(f, RAW)
}
BEGIN {
  D = ENVIRON["MAGGR_D"]; O = ENVIRON["MAGGR_O"]; I = ENVIRON["MAGGR_I"]
  T = ENVIRON["MAGGR_T"]; TSET = ENVIRON["MAGGR_TSET"] != ""
  split(ENVIRON["MAGGR_ALL"], known, " ")
  nc = split(ENVIRON["MAGGR_COLS"], cs, "\n")
  for (i = 1; i <= nc; i++) {
    if (cs[i] == "") continue
    p = index(cs[i], "=")
    col = substr(cs[i], 1, p - 1)
    if (p == 0 || col !~ /^[0-9]+$/ || col < 1) { usage("invalid column: " cs[i]); continue }
    spec[col + 0] = check(substr(cs[i], p + 1))
  }
  G = check(ENVIRON["MAGGR_G"])
  nf = split(ENVIRON["MAGGR_FMTS"], fs, "\n")
  for (i = 1; i <= nf; i++) {
    if (fs[i] == "") continue
    p = index(fs[i], "=")
    col = substr(fs[i], 1, p - 1)
    if (p == 0 || col !~ /^[0-9]+$/ || col < 1) { usage("invalid column: " fs[i]); continue }
    # As Manta: the text after a second = is dropped.
    list = substr(fs[i], p + 1)
    if ((q = index(list, "=")) > 0) list = substr(list, 1, q - 1)
    checkfmts(list, "-t" col)
    tf[col + 0] = list
  }
  if (TSET) {
    checkfmts(T, "-T")
    whole = 0
    for (c in tf) if (unformatted(opsof(c), tf[c])) whole = 1
    for (c in spec) if (!(c in tf) && unformatted(spec[c], T)) whole = 1
    if (unformatted(G, T)) whole = 1
    if (whole && fmtkind(T) == "") usage("-T: \"" T "\" formats results without their own format, so must be one printf format")
  }
  if (bad) exit 2
  status = 0
}
{
  n = lsplit($0, f, D)
  key = ""
  for (c = 1; c <= n; c++) if (opsof(c) == "key") key = key f[c]
  invalid = 0
  for (c = 1; c <= n; c++) {
    o2 = opsof(c)
    if (o2 == "key" || o2 == "nop") continue
    if (!match(f[c], /^[ \t]*[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?/)) { invalid = c; break }
    v[c] = substr(f[c], RSTART, RLENGTH) + 0
  }
  if (invalid) {
    print "Non-number in non-key column " invalid ". line: " $0 > "/dev/stderr"
    status = 1
    next
  }
  if (!(key in seen)) { seen[key] = 1; order[++nk] = key; width[key] = 0 }
  if (n > width[key]) width[key] = n
  for (c = 1; c <= n; c++) {
    o2 = opsof(c)
    last[key, c] = f[c]
    if (o2 == "key" || o2 == "nop") continue
    x = v[c]
    j = ++cnt[key, c]
    val[key, c, j] = x
    sum[key, c] += x
    if (j == 1 || x < mn[key, c]) mn[key, c] = x
    if (j == 1 || x > mx[key, c]) mx[key, c] = x
  }
}
END {
  if (bad) exit 2
  for (i = 1; i <= nk; i++) {
    k = order[i]
    line = ""
    sep = ""
    for (c = 1; c <= width[k]; c++) {
      o2 = opsof(c)
      if (o2 == "nop") continue
      m = split(o2, ops, ",")
      cell = ""
      for (j = 1; j <= m; j++) {
        r = result(k, c, ops[j])
        fm = ops[j] == "key" ? "" : fmtof(c, j)
        if (fm != "") r = format(fm, r)
        cell = cell (j > 1 ? I : "") r
      }
      line = line sep cell
      sep = O
    }
    print line
  }
  exit status
}' "$file"
