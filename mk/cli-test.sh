#!/bin/sh
# cli-test.sh LOOM - the loom command on the saved MLP fixture: its summary, predict to
# the terminal and to a file, and clear failures for a missing file and bad arguments.
loom=$1
dir=tests/fixtures/models
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
fail() { echo "FAIL loom command: $*"; exit 1; }
"$loom" summary $dir/mlp.safetensors > "$out/summary" || fail "summary exited $?"
grep -q '^Total params: 3,466$' "$out/summary" || fail "summary lacks the parameter count"
"$loom" predict $dir/mlp.safetensors $dir/mlp_input.safetensors > "$out/pred" || fail "predict exited $?"
head -1 "$out/pred" | grep -q '^dense_2 \[5, 10\]$' || fail "predict: $(head -1 "$out/pred")"
[ "$(wc -l < "$out/pred")" -eq 6 ] || fail "predict printed $(wc -l < "$out/pred") lines, not 6"
"$loom" predict $dir/mlp.safetensors $dir/mlp_input.safetensors "$out/y.safetensors" || fail "predict to a file"
[ -s "$out/y.safetensors" ] || fail "predict wrote no file"
"$loom" summary "$out/none.safetensors" 2> "$out/err" && fail "a missing file loaded"
grep -q 'cannot open' "$out/err" || fail "missing file: $(cat "$out/err")"
"$loom" predict $dir/mlp.safetensors $dir/inputs.safetensors 2> "$out/err" && fail "wrong data accepted"
grep -q 'no tensor named "input_1"' "$out/err" || fail "wrong data: $(cat "$out/err")"
"$loom" frobnicate 2> /dev/null; [ $? -eq 2 ] || fail "bad arguments did not exit 2"
echo "ok   loom command: summary, predict (terminal and file), errors"
