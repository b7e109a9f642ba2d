#!/bin/sh
# The instantiation benchmarks of issue 4 item 9 (`make bench-instantiate`): every module under
# every configuration, with 1 and 2 threads, then the resident memory of 1,000 live instances of
# the 1 MiB-image module. Prints a table of medians and spreads. Figures only: nothing here passes
# or fails on a time. BENCH_SECONDS (default 1) bounds each run's timed part, and the iteration cap
# is far above what a second allows, so fast rows are not cut to a few milliseconds in which
# thread start-up would decide the scaling; every row is run
# BENCH_ROUNDS times (default 3) and the round with the median throughput is shown, so a burst of
# other load on the machine moves one round, not the row.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
wafer=${WAFER:-$here/build/wafer}
dir=$here/build/bench
seconds=${BENCH_SECONDS:-1}
rounds=${BENCH_ROUNDS:-3}
# 1 and 2 threads; 1..16 where 16 cores are there (issue 4 item 9).
if [ "$(nproc)" -ge 16 ]; then default_threads="1 2 4 8 16"; else default_threads="1 2"; fi
threads_list=${BENCH_THREADS:-$default_threads}

"$here/bench/make_modules.sh"
"$here/bench/fetch_realworld.sh" || true

modules="$dir/empty.wasm $dir/image1m.wasm $dir/funcs100k.wasm"
for m in fastly starlingmonkey_embedding; do
    if [ -f "$dir/realworld/$m.wasm" ]; then
        modules="$modules $dir/realworld/$m.wasm"
    else
        echo "note: $m.wasm not fetched; its rows are left out" >&2
    fi
done

# config name | flags | precompiled?
configs="on-demand|--no-memory-image|no
on-demand+images||no
pooling|--pooling --no-memory-image|no
pooling+images|--pooling|no
precompiled|--pooling|yes"

echo "machine: $(nproc) cores, $(uname -r); load average $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-26s %-17s %3s %11s %11s %11s %8s %14s\n' module config thr 'median us' 'p10 us' \
    'p90 us' iters 'instances/s'
table=$dir/instantiate_table.txt
for module in $modules; do
    name=$(basename "$module" .wasm)
    cwasm=$dir/$name.cwasm
    "$wafer" compile --pooling "$module" -o "$cwasm"
    printf '%s\n' "$configs" | while IFS='|' read -r config flags pre; do
        input=$module
        [ "$pre" = yes ] && input=$cwasm
        for threads in $threads_list; do
            rows=""
            for _ in $(seq "$rounds"); do
                # shellcheck disable=SC2086 # flags are words
                out=$("$wafer" bench instantiate "$input" $flags --threads "$threads" \
                      --iterations 5000000 --max-seconds "$seconds" 2>&1) || {
                    rows="FAILED: $(printf '%s' "$out" | tail -1)"
                    break
                }
                rows="$rows$(printf '%s\n' "$out" | awk '
                    /^throughput:/ { tp = $2 }
                    /^instantiate:/ { gsub(",", ""); med = $3; p10 = $6; p90 = $9; it = $11 }
                    END { print tp, med, p10, p90, it }')
"
            done
            case $rows in
            FAILED*)
                printf '%-26s %-17s %3s  %s\n' "$name" "$config" "$threads" "$rows"
                continue ;;
            esac
            # the round with the median throughput
            printf '%s' "$rows" | sort -n | awk -v n="$name" -v c="$config" -v t="$threads" '
                { line[NR] = $0 }
                END { split(line[int((NR + 1) / 2)], f, " ")
                      printf "%-26s %-17s %3s %11s %11s %11s %8s %14s\n",
                             n, c, t, f[2], f[3], f[4], f[5], f[1] }'
        done
    done
done | tee "$table"

echo
echo "scaling: throughput with N threads / with 1 thread"
awk '$3 ~ /^[0-9]+$/ && $8 ~ /^[0-9.]+$/ {
        key = $1 " " $2
        if ($3 == 1) one[key] = $8
        else if (one[key] > 0) printf "  %-26s %-17s %2s threads: %.2fx\n", $1, $2, $3, $8 / one[key] }
    ' "$table"

echo
echo "where the time goes, pooling+images, 1 thread (median us of each part):"
for module in $modules; do
    out=$("$wafer" bench instantiate "$module" --pooling --phases --iterations 100000 \
          --max-seconds "$seconds" 2>&1) || continue
    printf '%s\n' "$out" | awk -v n="$(basename "$module" .wasm)" '
        /^store\+instantiate:/ { a = $3 } /^export\+call:/ { b = $3 } /^drop store:/ { c = $4 }
        END { printf "  %-26s store+instantiate %10s   export+call %8s   drop store %10s\n",
              n, a, b, c }'
done

echo
echo "resident memory of 1000 live instances of image1m.wasm (1 MiB image):"
for flags in "--pooling" "" "--pooling --no-memory-image"; do
    # shellcheck disable=SC2086
    printf '  %-28s %s\n' "${flags:-on-demand+images}" \
        "$("$wafer" bench instantiate "$dir/image1m.wasm" $flags --rss 1000 2>&1 | tail -1)"
done
printf '  %-28s %s\n' "precompiled (--pooling)" \
    "$("$wafer" bench instantiate "$dir/image1m.cwasm" --pooling --rss 1000 2>&1 | tail -1)"
