#!/bin/sh
# Every CLI case we know of, run with one binary: one file per case (rc,
# stdout, stderr, written reports), so two binaries can be compared with
# diff -r (the "no behaviour change" check of a refactor):
#   sh bench/compare_cli.sh OLD/driftd /tmp/a; sh bench/compare_cli.sh NEW/driftd /tmp/b
#   diff -r /tmp/a /tmp/b
# S is the source tree whose test and bench data are read (default: this one).
D=$1; O=$2; S=${S:-$(cd "$(dirname "$0")/.." && pwd)}; G=$S/tests/golden/reports; B=$S/bench/data; ex=$S/examples/iris
rm -rf "$O"; mkdir -p "$O/w"; W=$O/w
n=0
run() { # name args...
    name=$1; shift
    ( cd "$W" && "$D" "$@" >"$O/$name.out" 2>"$O/$name.err" ; echo $? >"$O/$name.rc" )
    # stderr mentions W path: normalise
    sed -i "s|$W|W|g" "$O/$name.err" "$O/$name.out"
}
runin() { # name stdin-file args...
    name=$1; f=$2; shift 2
    ( cd "$W" && "$D" "$@" <"$f" >"$O/$name.out" 2>"$O/$name.err" ; echo $? >"$O/$name.rc" )
    sed -i "s|$W|W|g" "$O/$name.err" "$O/$name.out"
}
cp -r $G "$W/g"
for d in $(ls $G); do
    run base_$d baseline -i g/$d/reference.csv -o g/$d/base.json
    run basen_$d baseline -i g/$d/reference.csv -n 7 --seed 3 -o -
    for f in csv ndjson; do
        run c_${d}_$f check -b g/$d/base.json -i g/$d/current.$f
        run cj_${d}_$f check -b g/$d/base.json -i g/$d/current.$f --json
        run ca_${d}_$f check -b g/$d/base.json -i g/$d/current.$f --all-metrics
        run cja_${d}_$f check -b g/$d/base.json -i g/$d/current.$f -j -a
        run co_${d}_$f check -b g/$d/base.json -i g/$d/current.$f -a -o g/$d/rep_$f.json
        cp "$W/g/$d/rep_$f.json" "$O/co_${d}_$f.file" 2>/dev/null
        run cod_${d}_$f check -b g/$d/base.json -i g/$d/current.$f --json -o -
        runin cs_${d}_$f "$W/g/$d/current.$f" check -b g/$d/base.json -i - -f $f
    done
done
# bench
if [ -z "$NOBENCH" ]; then
run bb baseline --input $B/ref.csv --max-sample 100000 --output bench_base.json
cp "$W/bench_base.json" "$O/bb.file"
run bc check -b bench_base.json -i $B/cur.csv
run bcja check -b bench_base.json -i $B/cur.csv --all-metrics --json
run bca check -b bench_base.json -i $B/cur.csv --all-metrics
fi
# config
cat >"$W/cfg.json" <<J
{"baseline": "g/iris_drift/base.json", "drift": {"features": {"sepal_length": {"test": "psi", "threshold": 0.05}}}}
J
run cfg1 check -b g/iris_drift/base.json -i g/iris_drift/current.csv -c cfg.json
run cfg2 check -b g/iris_drift/base.json -i g/iris_drift/current.csv -c nope.json
echo '{"drift": {"features": {"nope": {"test": "psi"}}}}' >"$W/cfg3.json"
run cfg3 check -b g/iris_drift/base.json -i g/iris_drift/current.csv -c cfg3.json
echo '{bad' >"$W/cfg4.json"
run cfg4 check -b g/iris_drift/base.json -i g/iris_drift/current.csv -c cfg4.json
# bad input (from test_bad_input)
run eb baseline -i $ex/train.csv -o base.json
printf 'sepal_length,sepal_width,petal_length,petal_width,species\n5.1,3.5,1.4,0.2,setosa\n4.9,3.0,1.4\n4.7,3.2,1.3,0.2,setosa,extra\n5.0,3.6,1.4,0.2,setosa\n' >"$W/ragged.csv"
run e1 check -b base.json -i ragged.csv --json
run e1t check -b base.json -i ragged.csv
printf 'sepal_length,sepal_width,petal_length,petal_width,species\n5.1,3.5,1.4,0.2,setosa\n4.9,3.0,1.4,0.2,"setosa\n4.7,3.2,1.3,0.2,setosa\n' >"$W/quote.csv"
run e2 check -b base.json -i quote.csv
printf 'sepal_length,sepal_width,petal_length,petal_width,species\r\n"5.1",3.5,1.4,0.2,"se""to,sa"\r\n' >"$W/crlf.csv"
run e3 check -b base.json -i crlf.csv --json
cat >"$W/bad.ndjson" <<'J'
{"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2, "species": "setosa"}
{"sepal_length": 4.9, "sepal_width": 
[1, 2, 3]
{"sepal_length": 4.7} trailing
{"sepal_length": {"nested": 1}, "sepal_width": 3.2, "petal_length": 1.3, "petal_width": 0.2, "species": "setosa"}
J
run e4 check -b base.json -i bad.ndjson --json
run e4t check -b base.json -i bad.ndjson
printf 'sepal_length,sepal_width,petal_length,petal_width,species\nabc,3.5,1.4,0.2,setosa\n5.0,3.6,1.4,0.2,setosa\nxyz,q,1,1,setosa\n' >"$W/types.csv"
run e5 check -b base.json -i types.csv --json
: >"$W/empty.csv"; : >"$W/empty.ndjson"
run e6 check -b base.json -i empty.csv
run e6n check -b base.json -i empty.ndjson
printf 'sepal_length,sepal_width,petal_length,petal_width,species\n' >"$W/header.csv"
run e7 check -b base.json -i header.csv
run e7b baseline -i header.csv -o x.json
run e7c baseline -i empty.csv -o x.json
printf 'a,b\n1,2\n' >"$W/other.csv"
run e8 check -b base.json -i other.csv
printf 'petal_length,a,species\n1,2,setosa\n' >"$W/some.csv"
run e8b check -b base.json -i some.csv
run e8c check -b base.json -i some.csv --json -a
printf '{"a":1}\n{"petal_width":2,"b":3}\n' >"$W/some.ndjson"
run e8d check -b base.json -i some.ndjson
printf '{"features": {"petal_length": "numerical", "colour": "categorical", "species": "categorical"}}' >"$W/schema.json"
run e9 baseline -i $ex/train.csv --schema schema.json -o b2.json
printf '{"features": {"petal_length": "numeric"}}' >"$W/badschema.json"
run e10 baseline -i $ex/train.csv --schema badschema.json -o b3.json
head -c 300 "$W/base.json" >"$W/trunc.json"
run e11 check -b trunc.json -i $ex/production_clean.csv
sed 's/"rows": 150/"rows": 151/' "$W/base.json" >"$W/rows.json"
run e12 check -b rows.json -i $ex/production_clean.csv
run e13 check -b missing.json -i $ex/production_clean.csv
run e14 check -b base.json -i missing.csv
run e14b check -b missing.json -i missing.csv; sort -o "$O/e14b.err" "$O/e14b.err"
run u1 check -b base.json
run u2 check -b base.json -i data.txt
run u3 check -b base.json -i x.csv -f xml
run u4 check --bogus
run u5 check -b base.json -i x.csv extra
run u6 check --help
run u7 check -b
run u8 baseline
run u9 baseline --bogus
run u10 baseline -i x.csv -o y.json extra
run u11 baseline -i x.csv -o y.json -n 0
run u12 baseline -i x.csv -o y.json --seed -1
run u13 baseline -h
run u14 frobnicate
# the same 64 KiB of bytes for every binary compared
awk 'BEGIN { srand(7); for (i = 0; i < 65536; i++) printf "%c", 1 + int(rand() * 255) }' >"$W/garbage.csv"
run e15 check -b base.json -i garbage.csv
cp "$W/garbage.csv" "$W/garbage.ndjson"
run e16 check -b base.json -i garbage.ndjson
run e17 check -b base.json -i $ex/production_clean.csv -o /nonexistent/dir/r.json
run e18 baseline -i $ex/train.csv -o /nonexistent/dir/b.json
for f in $ex/*.csv $ex/*.ndjson; do
    [ -f "$f" ] || continue; b=$(basename $f)
    run ex_$b check -b base.json -i $f -a
    run exj_$b check -b base.json -i $f -j
done
# run usage
run r1 run
run r2 run --help
run r3 run -h
run r4 run --bogus
run r5 run extra
run r6 run -c nope.json
run r7 run --config=nope.json
run r8 run --config nope.json
run r9 run -c
run r10 run --config
run r11 run --config= 
run r12 run -c nope.json extra
run r13 validate --bogus
run r14 validate
rm -rf "$W"
