#!/bin/sh
# maggr: key-wise aggregation of numeric columns, as Manta's in-job maggr:
#   maggr [-c#=op,op]... [-d delim] [-o delim] [-i delim] [-f file] [-l] [op,op]
# Columns count from 1. Ops: key nop count max min sum mean range variance
# ovariance stddev; the trailing list applies to columns without -c (default
# nop). Lines are grouped by their key columns; one line per key, in order of
# first appearance; a column's results are joined by -i (default ","),
# columns by -o (default: the input delimiter, itself default " ").
# -t/-T (printf formats) are accepted and not applied.
ops_all="key nop count max mean min range sum ovariance variance stddev"
d=' '
o=''
inner=','
file=''
cols=''
while getopts ':d:o:i:c:f:t:T:l' opt; do
  case $opt in
    d) d=$OPTARG ;;
    o) o=$OPTARG ;;
    i) inner=$OPTARG ;;
    f) file=$OPTARG ;;
    c) cols="$cols;$OPTARG" ;;
    t|T) ;;
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
exec awk -v D="$d" -v O="$o" -v I="$inner" -v COLS="$cols" -v G="$global" -v ALL="$ops_all" '
function lsplit(s, a, sep,    n, p) {
  n = 0
  while ((p = index(s, sep)) > 0) { a[++n] = substr(s, 1, p - 1); s = substr(s, p + length(sep)) }
  a[++n] = s
  return n
}
function check(list,    n, x, k, j, ok) {
  n = split(list, x, ",")
  for (k = 1; k <= n; k++) {
    ok = 0
    for (j in known) if (known[j] == x[k]) ok = 1
    if (!ok) { print "maggr: unsupported operation: " x[k] > "/dev/stderr"; bad = 1 }
    if ((x[k] == "key" || x[k] == "nop") && n > 1) { print "maggr: " x[k] " must be alone" > "/dev/stderr"; bad = 1 }
  }
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
function result(k, c, op,    m, s2, j, n) {
  n = cnt[k, c]
  if (op == "key") return last[k, c]
  if (op == "count") return n
  if (op == "sum") return num(sum[k, c])
  if (op == "min") return num(mn[k, c])
  if (op == "max") return num(mx[k, c])
  if (op == "mean") return num(sum[k, c] / n)
  if (op == "range") { m = mx[k, c] - mn[k, c]; return num(m < 0 ? -m : m) }
  if (n < 2) return "NaN"
  m = sum[k, c] / n
  s2 = 0
  for (j = 1; j <= n; j++) s2 += (val[k, c, j] - m) * (val[k, c, j] - m)
  if (op == "stddev") return num(root(s2 / (n - 1)))
  return num(s2 / (n - 1))
}
BEGIN {
  split(ALL, known, " ")
  nc = split(COLS, cs, ";")
  for (i = 1; i <= nc; i++) {
    if (cs[i] == "") continue
    p = index(cs[i], "=")
    col = substr(cs[i], 1, p - 1)
    if (p == 0 || col !~ /^[0-9]+$/ || col < 1) { print "maggr: invalid column: " cs[i] > "/dev/stderr"; exit 2 }
    spec[col] = substr(cs[i], p + 1)
    check(spec[col])
  }
  check(G)
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
      for (j = 1; j <= m; j++) cell = cell (j > 1 ? I : "") result(k, c, ops[j])
      line = line sep cell
      sep = O
    }
    print line
  }
  exit status
}' "$file"
