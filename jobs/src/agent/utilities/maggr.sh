#!/bin/sh
# maggr: key-wise aggregation of numeric columns, as Manta's in-job maggr:
#   maggr [-c#=op,op]... [-t#=fmt,fmt]... [-T fmt,fmt] [-d delim] [-o delim]
#         [-i delim] [-f file] [-l] [op,op]
# Columns count from 1. Ops: key nop count max min sum mean range variance
# ovariance stddev; the trailing list applies to columns without -c (default
# nop). Lines are grouped by their key columns; one line per key, in Manta's
# order (integer keys ascending, then the rest as first seen); numbers print
# as JavaScript prints them; a column's results are joined by -i (default
# ","), columns by -o (default: the input delimiter, itself default " ").
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
# A correctly rounded square root, as JavaScript'"'"'s Math.sqrt, without awk'"'"'s
# math library (busybox builds lack it): scale into [1,4) by powers of 4
# (exact), Newton from 1.5, then whichever neighbour squares nearest x.
function root(x,    s, r, i, u, best, bd, c, d) {
  # Infinity and NaN are their own roots (and would never scale down).
  if (sprintf("%e", x) ~ /n/) return x
  if (x <= 0) return 0
  s = 1
  while (x >= 4) { x /= 4; s *= 2 }
  while (x < 1) { x *= 4; s /= 2 }
  r = 1.5
  for (i = 0; i < 8; i++) r = (r + x / r) / 2
  u = 1 / 4503599627370496
  best = r
  bd = resid(r, x)
  for (i = -1; i <= 1; i += 2) {
    c = r + i * u
    d = resid(c, x)
    if (d < bd) { best = c; bd = d }
  }
  return best * s
}
# |c*c - x| computed with Dekker'"'"'s exact product, precise enough to tell
# neighbouring doubles apart.
function resid(c, x,    t, h, l, d) {
  t = c * 134217729
  h = t - (t - c)
  l = c - h
  d = ((h * h - x) + 2 * h * l) + l * l
  return d < 0 ? -d : d
}
function zeros(n,    z) { z = ""; while (n-- > 0) z = z "0"; return z }
# A number as JavaScript'"'"'s Number#toString prints it: the fewest digits
# that read back as the same double (printf rounds correctly, so the first
# precision that reads back is the shortest and nearest), plain between
# 1e-7 and 1e21, else in exponent form.
function jsnum(v,    s, p, i, e, digits, k, n, sign) {
  s = sprintf("%e", v)
  if (s ~ /nan/) return "NaN"
  if (s ~ /inf/) return v < 0 ? "-Infinity" : "Infinity"
  if (v == 0) return "0"
  sign = ""
  if (v < 0) { sign = "-"; v = -v }
  for (p = 0; p < 17; p++) {
    s = sprintf("%." p "e", v)
    if (s + 0 == v) break
  }
  i = index(s, "e")
  e = substr(s, i + 1) + 0
  digits = substr(s, 1, 1) substr(s, 3, i - 3)
  sub(/0+$/, "", digits)
  k = length(digits)
  n = e + 1
  if (k <= n && n <= 21) return sign digits zeros(n - k)
  if (0 < n && n <= 21) return sign substr(digits, 1, n) "." substr(digits, n + 1)
  if (-6 < n && n <= 0) return sign "0." zeros(-n) digits
  e = n - 1
  return sign substr(digits, 1, 1) (k > 1 ? "." substr(digits, 2) : "") "e" (e < 0 ? "-" : "+") (e < 0 ? -e : e)
}
# Keys in the order JavaScript'"'"'s Object.keys gives them, which Manta
# printed in: array-index keys ("0" to "4294967294") first, ascending, then
# the others in order of first appearance.
function keyorder(    i, k, ni, nt, idx, txt) {
  ni = 0
  nt = 0
  for (i = 1; i <= nk; i++) {
    k = order[i]
    if (k ~ /^(0|[1-9][0-9]*)$/ && length(k) <= 10 && k + 0 < 4294967295) idx[++ni] = k
    else txt[++nt] = k
  }
  hsort(idx, ni)
  for (i = 1; i <= ni; i++) order[i] = idx[i]
  for (i = 1; i <= nt; i++) order[ni + i] = txt[i]
}
# Heapsort by numeric value (keys are distinct, so stability is moot).
function hsort(a, n,    i, t) {
  for (i = int(n / 2); i >= 1; i--) sift(a, i, n)
  for (i = n; i > 1; i--) { t = a[1]; a[1] = a[i]; a[i] = t; sift(a, 1, i - 1) }
}
function sift(a, i, n,    c, t) {
  while ((c = 2 * i) <= n) {
    if (c < n && a[c + 1] + 0 > a[c] + 0) c++
    if (a[i] + 0 >= a[c] + 0) return
    t = a[i]; a[i] = a[c]; a[c] = t
    i = c
  }
}
function opsof(c) { return (c in spec) ? spec[c] : G }
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
  else if (op == "ovariance") {
    # Manta'"'"'s online (Welford) variance, which rounds differently.
    if (n < 2) return "NaN"
    RAW = om2[k, c] / (n - 1)
  }
  else {
    if (n < 2) return "NaN"
    m = sum[k, c] / n
    s2 = 0
    for (j = 1; j <= n; j++) s2 += (val[k, c, j] - m) * (val[k, c, j] - m)
    RAW = op == "stddev" ? root(s2 / (n - 1)) : s2 / (n - 1)
  }
  return jsnum(RAW)
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
  INF = 1e308 * 10
}
{
  n = lsplit($0, f, D)
  key = ""
  for (c = 1; c <= n; c++) if (opsof(c) == "key") key = key f[c]
  invalid = 0
  for (c = 1; c <= n; c++) {
    o2 = opsof(c)
    if (o2 == "key" || o2 == "nop") continue
    # As JavaScript'"'"'s parseFloat: leading blanks, a number, then anything.
    if (match(f[c], /^[ \t]*[-+]?Infinity/)) {
      v[c] = index(f[c], "-") ? -INF : INF
      continue
    }
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
    dl = x - omean[key, c]
    omean[key, c] += dl / j
    om2[key, c] += dl * (x - omean[key, c])
  }
}
END {
  if (bad) exit 2
  keyorder()
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
