#!/bin/sh
# Finite but extreme values never crash the binned metrics: a numerical
# feature with more than 20 distinct reference values (Sturges bins) checked
# against current values whose range overflows a double (1e308 and -1e308,
# +-DBL_MAX), against a subnormal range, and against one repeated value.
# `driftd check --all-metrics` answers 0 or 1 with every metric a number.
. "$(dirname "$0")/lib.sh"

{ echo x,c; i=0; while [ $i -lt 30 ]; do echo "$i,a"; i=$((i + 1)); done; } >"$T/train.csv"
expect_rc 0 "$DRIFTD" baseline -i "$T/train.csv" -o "$T/base.json"

# check_values NAME VALUE...: a current sample of the values and 0..9.
check_values() {
    name=$1; shift
    { echo x,c; for v in "$@" 0 1 2 3 4 5 6 7 8 9; do echo "$v,a"; done; } >"$T/$name.csv"
    "$DRIFTD" check -b "$T/base.json" -i "$T/$name.csv" --all-metrics --json >"$T/out" 2>"$T/err"
    rc=$?
    [ "$rc" -le 1 ] && ok || fail "$name: exit $rc, want 0 or 1"
    expect_no_crash "$name"
    # the numerical feature x: each metric a number >= 0 (not null, not NaN)
    for m in psi kl_div jensen_shannon hellinger; do
        json_is "$T/out" "features[name=x].metrics.$m>=0" && ok ||
            fail "$name: $m is not a number >= 0: $(json "$T/out" 'features[name=x].metrics' 2>&1)"
    done

}
check_values overflow 1e308 -1e308
check_values dbl_max 1.7976931348623157e308 -1.7976931348623157e308
check_values one_sided_max 1.7976931348623157e308 1e300
check_values subnormal 1e-310 2e-310 4.9e-324

# A reference of subnormal values and a current sample of one repeated value.
{ echo x,c; i=1; while [ $i -le 30 ]; do echo "${i}e-320,a"; i=$((i + 1)); done; } >"$T/tiny.csv"
expect_rc 0 "$DRIFTD" baseline -i "$T/tiny.csv" -o "$T/base.json"
check_values tiny_vs_equal 1e-320 1e-320

finish
